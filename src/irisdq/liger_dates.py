"""The observation date of a Liger/IRIS exposure, from EXPDTST or EXPJDST.

The Liger/IRIS pipeline (2025) dates an exposure with ``EXPDTST``
(``'YYYYMMDDHHMMSS'``) and ``EXPJDST`` (the Julian date); its rmaps compare
``META.DATE`` (``'YYYY-MM-DD HH:MM:SS'``). These functions derive that
date, and say what is wrong with keywords that give none. They are the
derived parameters of the ``liger`` profile (:mod:`irisdq.profiles`).

Examples
--------
>>> liger_date({"EXPDTST": "2025-03-14", "EXPJDST": 2460748.89583333})
'2025-03-14 09:30:00'
"""

import datetime
import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "date_from_expdtst",
    "date_from_julian",
    "liger_date",
    "liger_date_problem",
    "liger_day",
    "liger_time",
]

_UNIX_EPOCH_JD = 2440587.5  # 1970-01-01T00:00:00 as a Julian date


def date_from_expdtst(value: Any) -> str | None:
    """'YYYY-MM-DD HH:MM:SS' from an EXPDTST value 'YYYYMMDDHHMMSS', or
    None when it is not one.

    Examples
    --------
    >>> date_from_expdtst("20250314093005")
    '2025-03-14 09:30:05'
    >>> date_from_expdtst("2025-03-14") is None
    True
    """
    text = str(value).strip()
    try:
        moment = datetime.datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    if len(text) != 14:
        return None
    return moment.isoformat(sep=" ")


def date_from_julian(value: Any) -> str | None:
    """'YYYY-MM-DD HH:MM:SS' (UTC, to the nearest second) from a Julian
    date, or None when the value is not a number in years 1..9999.

    Examples
    --------
    >>> date_from_julian(2460748.89583333)
    '2025-03-14 09:30:00'
    >>> date_from_julian("soon") is None, date_from_julian("nan") is None
    (True, True)
    """
    try:
        days = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(days):
        # 'nan' and 'inf' are numbers to float(), not to timedelta().
        return None
    try:
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(
            days=days - _UNIX_EPOCH_JD
        )
    except OverflowError:
        return None
    try:
        moment += datetime.timedelta(microseconds=500_000)
    except OverflowError:
        return None
    return moment.isoformat(sep=" ", timespec="seconds")


def liger_date(keywords: Mapping[str, Any]) -> str | None:
    """from EXPDTST, else EXPJDST (Julian date)"""
    for keyword, convert in (
        ("EXPDTST", date_from_expdtst),
        ("EXPJDST", date_from_julian),
    ):
        if keyword in keywords:
            value = convert(keywords[keyword])
            if value is not None:
                return value
    return None


# Modified Julian dates of years 1858..9999 (MJD 0 is 1858-11-17): a
# Julian date never is one of them, as it would be before 4713 BC + 6600 y.
_MJD_OFFSET = 2400000.5
_MJD_RANGE = (0.0, 3000000.0 - _MJD_OFFSET)


def liger_date_problem(keywords: Mapping[str, Any]) -> str | None:
    """EXPDTST or EXPJDST that is not a date"""
    if liger_date(keywords) is not None:
        return None
    problems = []
    if "EXPDTST" in keywords and keywords["EXPDTST"] is not None:
        problems.append(
            f"EXPDTST = {keywords['EXPDTST']!r} is not a date and time 'YYYYMMDDHHMMSS'"
        )
    value = keywords.get("EXPJDST")
    if value is not None:
        problem = f"EXPJDST = {value!r} is not a Julian date of years 1..9999"
        try:
            days = float(value)
        except (TypeError, ValueError):
            days = math.nan
        if _MJD_RANGE[0] < days < _MJD_RANGE[1]:
            problem += (
                "; it looks like a Modified Julian Date: the Julian date is "
                f"MJD + {_MJD_OFFSET} ({days + _MJD_OFFSET})"
            )
        problems.append(problem)
    if not problems:
        return "neither EXPDTST nor EXPJDST is in the primary header"
    return "; ".join(problems)


def liger_day(keywords: Mapping[str, Any]) -> str | None:
    """the date of META.DATE"""
    date = liger_date(keywords)
    return None if date is None else date.split(" ")[0]


def liger_time(keywords: Mapping[str, Any]) -> str | None:
    """the time of META.DATE"""
    date = liger_date(keywords)
    return None if date is None else date.split(" ")[1]
