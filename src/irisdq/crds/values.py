"""Value conditioning and the date and version syntaxes of CRDS mappings.

Dataset values and Match keys are compared only after both went through
:func:`condition_value`, the normalisation CRDS itself applies, so that
``1``, ``'1'`` and ``' 1.0 '`` are one value and ``'iris1'`` equals
``'IRIS1'``.
"""

import functools
import re

__all__ = [
    "ABSENT",
    "UNDEFINED",
    "condition_value",
    "dataset_date",
    "parse_date",
    "parse_version",
]

#: The value of a parameter the dataset does not have.
UNDEFINED = "UNDEFINED"


class _Absent(str):
    """``'UNDEFINED'`` for a parameter the dataset lacks altogether.

    It compares equal to ``'UNDEFINED'`` (the stock client matches a missing
    parameter as that value), but a selector can tell it from a dataset
    whose value is the text ``'UNDEFINED'`` by identity: the stock client
    refuses a missing parameter where no rule key of it is ``N/A``.
    """

    __slots__ = ()


#: The conditioned value of a parameter absent from the dataset (test it
#: with ``is``); equal to :data:`UNDEFINED`.
ABSENT = _Absent(UNDEFINED)

# The number syntax and don't-care values of CRDS's own conditioning
# (crds.core.utils): `[0-9]`, not `\d`, so other scripts' digits stay text;
# the don't-care pattern is anchored only at its start, as in CRDS, so
# 'N/A...' and '()...' are don't-care too.
_NUMBER = re.compile(r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|[+-]?[0-9]+\.")
_DONT_CARE = re.compile(r"^-2147483648.0|\(\)|N/A|NOT APPLICABLE|NOT_APPLICABLE$")
_SPECIAL = {
    "ANY": "*",
    "4294967295.0": "-1.0",
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
    (``'1'`` -> ``'1.0'``); ``ANY`` becomes ``*``; ``NOT APPLICABLE``,
    ``NOT_APPLICABLE``, ``()`` and -2147483648 (an undefined FITS integer)
    become ``N/A``; 4294967295 becomes ``-1.0``; ``TRUE``/``T`` become ``T``
    and ``FALSE``/``F`` become ``F``.

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
    >>> condition_value(-2147483648), condition_value("1.")
    ('N/A', '1.0')
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
        text = str(float(text))
    if _DONT_CARE.match(text):
        return "N/A"
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


_T_SEPARATED = re.compile(r"\d\d\d\d[-/]\d\d[-/]\d\dT\d\d(:\d\d){1,2}(\.\d{1,6})?")
_LETTERS = re.compile(r"[A-Za-z]{3,10}")
_DAY_FORMATS = (
    (re.compile(r"\d\d/\d\d/\d\d\d\d"), ("month", "day", "year"), ""),
    (re.compile(r"\d\d\d\d/\d\d/\d\d"), ("year", "month", "day"), ""),
    (re.compile(r"\d\d/\d\d/9\d"), ("day", "month", "year"), "19"),
    (re.compile(r"\d\d/\d\d/[0-3]\d"), ("day", "month", "year"), "20"),
)
_COMPACT = re.compile(r"\d\d\d\d\d\d\d\d:\d\d\d\d\d\d")


def dataset_date(*parts: str, iso_moment: bool = False) -> Timestamp:
    """Return the timestamp of a dataset's date parameters, as CRDS reads them.

    The conditioned values are joined with spaces and read the way the stock
    CRDS client reads a dataset's date (``crds.core.timestamp``): an ISO
    ``T`` between date and time, ``YYYY-MM-DD``, ``YYYY/MM/DD``,
    ``MM/DD/YYYY``, ``DD/MM/YY`` or ``YYYYMMDD:HHMMSS``, then
    ``HH:MM[:SS[.ffffff]]`` with an optional AM/PM; no time is midnight.
    Month names work too (``Feb 08 2006 01:02AM``, ``08 Feb 2006``).
    An ``UNDEFINED`` part is an error, as in CRDS; with `iso_moment`, a
    full ISO moment in the date (``2020-07-13T01:02:03``) needs no time
    parameter (IRIS and Liger files write ``DATE-OBS`` that way).

    Parameters
    ----------
    *parts : str
        The date, then the time, as conditioned strings.
    iso_moment : bool, optional
        Accept an undefined time after a full ISO moment (the TMT and Liger
        mappings' convention; the stock client refuses it).

    Returns
    -------
    tuple of int
        ``(year, month, day, hour, minute, second, nanosecond)``.

    Raises
    ------
    ValueError
        If a part is ``UNDEFINED`` or the text is not a date.

    Examples
    --------
    >>> dataset_date("2020-07-13", "01:02:03.5")
    (2020, 7, 13, 1, 2, 3, 500000000)
    >>> dataset_date("2020-07-13T01:02")
    (2020, 7, 13, 1, 2, 0, 0)
    >>> dataset_date("2020-07-13T01:02", "UNDEFINED", iso_moment=True)
    (2020, 7, 13, 1, 2, 0, 0)
    >>> dataset_date("2020-07-13", "UNDEFINED")
    Traceback (most recent call last):
    ...
    ValueError: a date parameter is UNDEFINED
    """
    # A batch reads the same few dates over and over: parse each once.
    return _dataset_date(parts, iso_moment)


@functools.lru_cache(maxsize=4096)
def _dataset_date(parts: tuple[str, ...], iso_moment: bool) -> Timestamp:
    import datetime

    if iso_moment:
        given = [part.strip() for part in parts if part.strip() != UNDEFINED]
        if len(given) == 1 < len(parts) and _T_SEPARATED.fullmatch(given[0]):
            # A full ISO moment in the date parameter needs no time parameter
            # in TMT and Liger mappings; CRDS refuses any UNDEFINED date
            # parameter (a documented difference, for those mappings only).
            parts = tuple(given)
    text = " ".join(part.strip() for part in parts).strip()
    if UNDEFINED in text:
        raise ValueError("a date parameter is UNDEFINED")
    if text.endswith(" UT"):
        text = text[:-3]
    if _T_SEPARATED.fullmatch(text):
        text = text.replace("T", " ")
    if _LETTERS.search(text):
        return _stamp(_named_month_date(text))
    words = text.replace("-", "/").split()
    if not words:
        raise ValueError("the date is empty")
    day = words[0]
    hour, minute, second, micro = _clock(" ".join(words[1:]) or "00:00:00")
    for pattern, order, century in _DAY_FORMATS:
        if pattern.fullmatch(day):
            fields = dict(zip(order, day.split("/"), strict=True))
            year = int(century + fields["year"])
            month, date = int(fields["month"]), int(fields["day"])
            break
    else:
        if not _COMPACT.fullmatch(day):
            raise ValueError(f"{text!r} is not a date in a known numerical format")
        year, month, date = int(day[:4]), int(day[4:6]), int(day[6:8])
        hour, minute, second = int(day[9:11]), int(day[11:13]), int(day[13:15])
        micro = 0
    return _stamp(datetime.datetime(year, month, date, hour, minute, second, micro))


def _stamp(moment) -> Timestamp:
    return (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond * 1000,
    )


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN",
           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]  # fmt: skip


def _month(text: str) -> int:
    try:
        return _MONTHS.index(text[:3].upper()) + 1
    except ValueError:
        raise ValueError(f"{text!r} is not a month") from None


def _named_month_date(text: str):
    """'Feb 08 2006 01:02AM', '08 Feb 2006', 'Feb-08-2006 01:02 pm'..."""
    import datetime

    while text.lower().endswith(" am"):
        text = text.lower().replace(" am", "am")
    while text.lower().endswith(" pm"):
        text = text.lower().replace(" pm", "pm")
    words = text.replace("-", " ").replace("/", " ").split()
    if len(words) == 4:
        month, day, year, clock = words
    elif len(words) == 3:
        (month, day, year), clock = words, "00:00AM"
    else:
        raise ValueError(f"{text!r} is not a date")
    day = day.removesuffix(",")
    try:
        number, date, year_number = _month(month), int(day), int(year)
    except ValueError:
        number, date, year_number = _month(day), int(month), int(year)
    return datetime.datetime(year_number, number, date, *_clock(clock))


def _clock(text: str) -> tuple[int, int, int, int]:
    text = text.strip()
    half = text[-2:].upper()
    if half in ("AM", "PM"):
        text = text[:-2]
    fields = text.split(":")
    if not 2 <= len(fields) <= 4:
        raise ValueError(f"{text!r} is not a time")
    hour, minute = int(fields[0]), int(fields[1])
    seconds = float(fields[2]) if len(fields) > 2 else 0.0
    whole = int(seconds)
    micro = int((seconds - whole) * 10**6)
    if half == "PM" and hour < 12:
        hour += 12
    elif half == "AM" and hour == 12:
        hour -= 12
    return hour, minute, whole, micro


def crds_date_text(stamp: Timestamp) -> str:
    """Return `stamp` as the stock client writes a dataset's date.

    ``datetime.isoformat(' ')``: ``YYYY-MM-DD HH:MM:SS``, then
    ``.ffffff`` when there are microseconds. UseAfter compares this text
    with its keys as written, character by character, as CRDS does.

    Examples
    --------
    >>> crds_date_text((2015, 10, 1, 0, 0, 0, 250000000))
    '2015-10-01 00:00:00.250000'
    >>> crds_date_text((999, 1, 2, 3, 4, 5, 0))
    '0999-01-02 03:04:05'
    """
    text = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*stamp[:6])
    micro = stamp[6] // 1000
    return f"{text}.{micro:06d}" if micro else text


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


_VERSION = re.compile(r"(\d{1,8}(?:\.\d{1,8}(?:\.\d{1,8})?)?)[a-zA-Z0-9_+\-.]{0,128}")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """Return a comparable (major, minor, point) tuple, or None.

    As CRDS reads versions: up to three numbers, then any suffix of letters,
    digits and ``_+-.`` (``0.13.2a.dev185`` is 0.13.2); missing parts are 0.

    Examples
    --------
    >>> parse_version("3.1.2"), parse_version("3.0"), parse_version("0.7.8rc1")
    ((3, 1, 2), (3, 0, 0), (0, 7, 8))
    >>> parse_version("beta") is None
    True
    """
    found = _VERSION.fullmatch(text)
    if found is None:
        return None
    parts = [int(part) for part in found[1].split(".")]
    return (*parts, *[0] * (3 - len(parts)))  # type: ignore[return-value]
