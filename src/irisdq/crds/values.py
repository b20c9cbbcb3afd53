"""Value conditioning and the date and version syntaxes of CRDS mappings.

Dataset values and Match keys are compared only after both went through
:func:`condition_value`, the normalisation CRDS itself applies, so that
``1``, ``'1'`` and ``' 1.0 '`` are one value and ``'iris1'`` equals
``'IRIS1'``.
"""

import re

__all__ = ["UNDEFINED", "condition_value", "parse_date", "parse_version"]

#: The value of a parameter the dataset does not have.
UNDEFINED = "UNDEFINED"

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?")
_SPECIAL = {
    "ANY": "*",
    "NOT APPLICABLE": "N/A",
    "NOT_APPLICABLE": "N/A",
    "TRUE": "T",
    "T": "T",
    "FALSE": "F",
    "F": "F",
}
# Datasets repeat the same few values; remembering them keeps a lookup cheap.
_CONDITIONED: dict[object, str] = {}
_CONDITIONED_MAX = 4096


def condition_value(value: object) -> str:
    """Return `value` normalised the way CRDS compares header values.

    The text is stripped and upper-cased; a number becomes a float string
    (``'1'`` -> ``'1.0'``); ``ANY`` becomes ``*``; ``NOT APPLICABLE`` and
    ``NOT_APPLICABLE`` become ``N/A``; ``TRUE``/``T`` become ``T`` and
    ``FALSE``/``F`` become ``F``.

    Parameters
    ----------
    value : object
        A header value or a Match key: str, int, float or bool.

    Returns
    -------
    str
        The conditioned value.

    Examples
    --------
    >>> condition_value(" iris1 ")
    'IRIS1'
    >>> condition_value(1), condition_value("2.50"), condition_value(True)
    ('1.0', '2.5', 'T')
    >>> condition_value("any"), condition_value("Not Applicable")
    ('*', 'N/A')
    """
    key = (type(value), value)
    try:
        return _CONDITIONED[key]
    except KeyError:
        pass
    except TypeError:
        return _condition(value)
    text = _condition(value)
    if len(_CONDITIONED) >= _CONDITIONED_MAX:
        _CONDITIONED.clear()
    _CONDITIONED[key] = text
    return text


def _condition(value: object) -> str:
    text = str(value).strip().upper()
    if _NUMBER.fullmatch(text):
        return str(float(text))
    return _SPECIAL.get(text, text)


def is_number(text: str) -> bool:
    """Return True if conditioned `text` is a decimal number.

    Examples
    --------
    >>> is_number("2.5"), is_number("-1E3"), is_number("NAN")
    (True, True, False)
    """
    return _NUMBER.fullmatch(text) is not None


_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?Z?")
_NOT_GIVEN = frozenset({"", UNDEFINED, "N/A", "*", "NONE"})

Timestamp = tuple[int, int, int, int, int, int, int]


def parse_date(*parts: str) -> Timestamp | None:
    """Return a sortable timestamp for a date and an optional time, or None.

    The date is ``YYYY-MM-DD`` or ``YYYY/MM/DD``, optionally followed by
    ``T`` or a space and ``HH:MM[:SS[.fff]]``. When the date carries no
    time, the next part is taken as the time; parts that are undefined
    (``UNDEFINED``, ``N/A``, empty) are left out, so a missing TIME-OBS
    means midnight.

    Parameters
    ----------
    *parts : str
        The date, then optionally the time, as conditioned strings.

    Returns
    -------
    tuple of int or None
        ``(year, month, day, hour, minute, second, nanosecond)``, or None if
        the text is not a date.

    Examples
    --------
    >>> parse_date("2020-07-13", "00:00:00")
    (2020, 7, 13, 0, 0, 0, 0)
    >>> parse_date("2020/07/13T12:30:01.5")
    (2020, 7, 13, 12, 30, 1, 500000000)
    >>> parse_date("2020-07-13", "UNDEFINED")
    (2020, 7, 13, 0, 0, 0, 0)
    >>> parse_date("yesterday") is None
    True
    """
    try:
        return _DATES[parts]
    except KeyError:
        pass
    stamp = _parse_date(parts)
    if len(_DATES) >= _CONDITIONED_MAX:
        _DATES.clear()
    _DATES[parts] = stamp
    return stamp


# Exposures of one batch share dates; parsing each once keeps lookups cheap.
_DATES: dict[tuple[str, ...], Timestamp | None] = {}


def _parse_date(parts: tuple[str, ...]) -> Timestamp | None:
    given = [part.strip() for part in parts if part.strip() not in _NOT_GIVEN]
    if not given:
        return None
    text = given[0]
    date = _DATE.match(text)
    if date is None:
        return None
    rest = text[date.end() :].lstrip(" T")
    if not rest and len(given) > 1:
        rest = " ".join(given[1:])
    elif len(given) > 2:
        return None
    hour = minute = second = fraction = 0
    if rest:
        time = _TIME.fullmatch(rest)
        if time is None:
            return None
        hour, minute = int(time[1]), int(time[2])
        second = int(time[3] or 0)
        fraction = int((time[4] or "0").ljust(9, "0"))
    year, month, day = int(date[1]), int(date[2]), int(date[3])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60):
        return None
    if second > 60:
        return None
    return (year, month, day, hour, minute, second, fraction)


def format_date(stamp: Timestamp) -> str:
    """Return `stamp` as ``YYYY-MM-DD HH:MM:SS[.fff]``.

    Examples
    --------
    >>> format_date((2015, 10, 1, 0, 0, 0, 250000000))
    '2015-10-01 00:00:00.25'
    """
    text = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*stamp[:6])
    if stamp[6]:
        text += "." + f"{stamp[6]:09d}".rstrip("0")
    return text


def date_seconds(stamp: Timestamp) -> float:
    """Return `stamp` as seconds since 0001-01-01, for time differences.

    Examples
    --------
    >>> date_seconds((2015, 1, 2, 0, 0, 0, 0)) - date_seconds((2015, 1, 1, 0, 0, 0, 0))
    86400.0
    """
    import datetime

    day = datetime.date(stamp[0], stamp[1], stamp[2]).toordinal()
    return day * 86400.0 + stamp[3] * 3600 + stamp[4] * 60 + stamp[5] + stamp[6] / 1e9


_VERSION = re.compile(r"\d+(?:\.\d+)*")


def parse_version(text: str) -> tuple[int, ...] | None:
    """Return a comparable version tuple, or None if `text` is not a version.

    Trailing zero components are dropped so that ``3``, ``3.0`` and
    ``3.0.0`` compare equal.

    Examples
    --------
    >>> parse_version("3.1.2"), parse_version("3.0"), parse_version("beta")
    ((3, 1, 2), (3,), None)
    """
    text = text.strip()
    if _VERSION.fullmatch(text) is None:
        return None
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)
