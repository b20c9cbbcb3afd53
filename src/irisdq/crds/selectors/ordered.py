"""The selectors over ordered keys: dates, numbers and versions.

UseAfter and ClosestTime compare the dataset's date and time with theirs;
GeometricallyNearest and Bracket compare a number; VersionAfter and
SelectVersion a version. Equally ranked UseAfter, ClosestTime or
VersionAfter choices of a Match merge into one selector.
"""

import ast
import bisect
import re
import struct
from collections.abc import Iterator
from typing import Any

from irisdq.crds.matchers import glob_parts
from irisdq.crds.selectors.base import (
    Choice,
    InvalidDataset,
    SelectionFailed,
    Selector,
    resolve_choice,
)
from irisdq.crds.values import (
    Timestamp,
    condition_value,
    crds_date_text,
    dataset_date,
    date_seconds,
    format_date,
    parse_version,
)
from irisdq.errors import MappingError

__all__ = [
    "BracketSelector",
    "ClosestTimeSelector",
    "GeometricallyNearestSelector",
    "SelectVersionSelector",
    "UseAfterSelector",
    "VersionAfterSelector",
]


def _float32(number: float) -> float:
    # CRDS measures distances in numpy float32; nearly equal distances tie.
    try:
        return struct.unpack("f", struct.pack("f", number))[0]
    except OverflowError:
        return float("inf") if number > 0 else float("-inf")


def _argmin(distances: list[float]) -> int:
    # numpy.argmin: the first minimum, and a NaN is the minimum.
    for index, distance in enumerate(distances):
        if distance != distance:
            return index
    return distances.index(min(distances))


class _DatedSelector(Selector):
    """Selectors keyed by date and time: UseAfter and ClosestTime.

    As in CRDS, the keys are kept as written and sorted as text; `stamps`
    holds the moment each one names.
    """

    def __init__(
        self,
        parameters,
        filename,
        line,
        entries: list[tuple[str, Timestamp, Choice]],
        iso_moment: bool = False,
    ):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: entry[0])
        self.keys = [key for key, _, _ in entries]
        self.stamps = [stamp for _, stamp, _ in entries]
        self.values = [choice for _, _, choice in entries]
        self.iso_moment = iso_moment

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def _stamp(self, values: dict[str, str]) -> Timestamp:
        dataset = self._values(values)
        try:
            return dataset_date(*dataset, iso_moment=self.iso_moment)
        except ValueError as exc:
            joined = " ".join(dataset)
            raise InvalidDataset(
                f"{self._show(values)}: {joined!r} is not a date ({exc})"
            ) from None

    def merged(self, others: list["_DatedSelector"]) -> "_DatedSelector":
        """Return one selector of this kind holding the dates of this and
        `others`; where two write the same key, the greater file name wins
        (CRDS's rule: later files have greater names)."""
        stamps = dict(zip(self.keys, self.stamps, strict=True))
        for other in others:
            stamps.update(zip(other.keys, other.stamps, strict=True))
        merged = _merge_entries(self, self.keys, self.values, others)
        return type(self)(
            self.parameters,
            self.filename,
            self.line,
            [(key, stamps[key], choice) for key, choice in merged],
            self.iso_moment,
        )


class NotApplicable(str):
    """``'N/A'``, remembering how the rmap wrote it ('n/a', 'OMIT'...): a
    merge of equally ranked rules compares choices as written."""

    __slots__ = ("written",)

    def __new__(cls, written: str):
        self = super().__new__(cls, "N/A")
        self.written = written
        return self


def _as_written(choice: str) -> str:
    return getattr(choice, "written", choice)


def _merge_entries(first, keys, choices, others) -> list[tuple[Any, Choice]]:
    table: dict[Any, Choice] = dict(zip(keys, choices, strict=True))
    for other in others:
        other_keys = other.keys if hasattr(other, "stamps") else other.versions
        for key, choice in zip(other_keys, other.values, strict=True):
            if key in table and _as_written(table[key]) != _as_written(choice):
                if not isinstance(choice, str) or not isinstance(table[key], str):
                    raise MappingError(
                        f"{first.filename}:{other.line}: equally ranked "
                        f"{first.kind} rules (lines {first.line} and {other.line}) "
                        "give different selectors for the same key"
                    )
                choice = max(choice, table[key], key=_as_written)
            table[key] = choice
    return list(table.items())


class UseAfterSelector(_DatedSelector):
    """UseAfter: the latest key on or before the dataset's date and time.

    As the stock client does, the dataset's moment is written
    ``YYYY-MM-DD HH:MM:SS[.ffffff]`` and compared with the keys as written,
    as text: a key ``'2020-01-01T00:00:00'`` sorts after
    ``'2020-01-01 00:00:00'``, so a dataset at that very moment is before
    it.
    """

    kind = "UseAfter"

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        stamp = self._stamp(values)
        text = crds_date_text(stamp)
        index = bisect.bisect_right(self.keys, text) - 1
        if index < 0:
            earliest = f" (earliest {self.keys[0]})" if self.keys else ""
            raise SelectionFailed(
                f"{self._show(values)}: {text} is earlier than every "
                f"use-after date{earliest}"
            )
        if trace is not None:
            trace.extend(
                (
                    f"{self._head()} {format_date(stamp)}",
                    f"  chose {self.keys[index]}, the latest of "
                    f"{len(self.keys)} use-after date(s) on or before it",
                )
            )
        return resolve_choice(self.values[index], values, trace)


class ClosestTimeSelector(_DatedSelector):
    """ClosestTime: the date nearest to the dataset's; on a tie, the key
    that sorts first as written.

    Distances are compared in single precision, as CRDS does, so dates a
    few seconds apart tie when the dataset is years away.
    """

    kind = "ClosestTime"

    def __init__(self, parameters, filename, line, entries, iso_moment=False):
        super().__init__(parameters, filename, line, entries, iso_moment)
        self._seconds = [date_seconds(stamp) for stamp in self.stamps]

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        stamp = self._stamp(values)
        if not self.stamps:
            raise InvalidDataset(f"{self._show(values)}: no dates")
        seconds = date_seconds(stamp)
        index = _argmin([_float32(abs(seconds - key)) for key in self._seconds])
        if trace is not None:
            trace.extend(
                (
                    f"{self._head()} {format_date(stamp)}",
                    f"  chose {self.keys[index]}, the closest of "
                    f"{len(self.stamps)} date(s)",
                )
            )
        return resolve_choice(self.values[index], values, trace)


def _dataset_number(selector: Selector, values: dict[str, str]) -> float:
    (value,) = selector._values(values)
    try:
        return float(value)
    except ValueError:
        raise InvalidDataset(
            f"{selector._show(values)}: {value!r} is not a number"
        ) from None


class GeometricallyNearestSelector(Selector):
    """GeometricallyNearest: the key nearest the value.

    As in CRDS, distances are single precision and a tie goes to the key
    that sorts first as text (``'10.0'`` before ``'2.5'``).
    """

    kind = "GeometricallyNearest"

    def __init__(self, parameters, filename, line, entries):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: condition_value(entry[0]))
        self.keys = [key for key, _ in entries]
        self.values = [choice for _, choice in entries]
        self._keys32 = [_float32(key) for key in self.keys]

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        number = _float32(_dataset_number(self, values))
        if not self.keys:
            raise InvalidDataset(f"{self._show(values)}: no keys")
        index = _argmin([_float32(abs(key - number)) for key in self._keys32])
        if trace is not None:
            trace.append(f"{self._head()} {number}: nearest key {self.keys[index]}")
        return resolve_choice(self.values[index], values, trace)


class BracketSelector(Selector):
    """Bracket: the pair of choices whose keys surround the value.

    An exact key, or a value beyond either end, gives that choice twice.
    """

    kind = "Bracket"

    def __init__(self, parameters, filename, line, entries):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: entry[0])
        self.keys = [key for key, _ in entries]
        self.values = [choice for _, choice in entries]

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        number = _dataset_number(self, values)
        if not self.keys:
            raise InvalidDataset(f"{self._show(values)}: no keys")
        high = 0
        while high < len(self.keys) and number > self.keys[high]:
            high += 1
        if high == len(self.keys):
            low = high = len(self.keys) - 1
        elif high == 0 or self.keys[high] == number:
            low = high
        else:
            low = high - 1
        if trace is not None:
            trace.append(
                f"{self._head()} {number}: keys {self.keys[low]} and {self.keys[high]}"
            )
        first = resolve_choice(self.values[low], values, trace)
        second = (
            first if low == high else resolve_choice(self.values[high], values, trace)
        )
        return (first, second)


class VersionAfterSelector(Selector):
    """VersionAfter: the greatest version key not above the dataset's.

    Versions are compared as (major, minor, point), as CRDS does.
    """

    kind = "VersionAfter"

    def __init__(self, parameters, filename, line, entries):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: entry[0])
        self.versions = [version for version, _ in entries]
        self.values = [choice for _, choice in entries]

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def merged(self, others: list["VersionAfterSelector"]) -> "VersionAfterSelector":
        """Return one VersionAfter holding the versions of this and `others`."""
        return VersionAfterSelector(
            self.parameters,
            self.filename,
            self.line,
            _merge_entries(self, self.versions, self.values, others),
        )

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        value = ".".join(self._values(values))
        version = parse_version("|".join(glob_parts(value)))
        if version is None:
            raise InvalidDataset(f"{self._show(values)}: {value!r} is not a version")
        index = bisect.bisect_right(self.versions, version) - 1
        if index < 0:
            raise SelectionFailed(
                f"{self._show(values)}: version {value} is below every key"
            )
        if trace is not None:
            shown = ".".join(map(str, self.versions[index]))
            trace.append(f"{self._head()} {value}: chose version {shown}")
        return resolve_choice(self.values[index], values, trace)


MERGEABLE = (UseAfterSelector, ClosestTimeSelector, VersionAfterSelector)

_RELATION = re.compile(r"([<=]=?)(.*)")
_DEFAULT = (float("inf"), "=")


class SelectVersionSelector(Selector):
    """SelectVersion: the first relation, in CRDS's order, the version meets.

    Keys are ``'<N'``, ``'<=N'``, ``'=N'`` (a bare ``N`` means ``=N``) and
    ``'default'``, with N a number. As CRDS does, the keys are sorted by
    (N, relation), with ``<`` and ``<=`` before ``=``, and the first key not
    below (version, ``=``) wins: ``'=5'`` takes every version up to 5, and
    ``'<=2'`` does not take 2. ``'default'`` sorts last.
    """

    kind = "SelectVersion"

    def __init__(self, parameters, filename, line, relations):
        super().__init__(parameters, filename, line)
        relations.sort(key=lambda relation: relation[1])
        self.relations = relations  # [(text, (number, relation), choice)]

    def choices(self) -> Iterator[Choice]:
        for *_, choice in self.relations:
            yield choice

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        (value,) = self._values(values)
        _dataset_number(self, values)
        number = version_relation(value)
        if number is None or number is _DEFAULT:
            raise InvalidDataset(f"{self._show(values)}: {value!r} is not a version")
        for text, key, choice in self.relations:
            if not key < number:
                if trace is not None:
                    trace.append(f"{self._head()} {value} takes {text!r}")
                return resolve_choice(choice, values, trace)
        raise InvalidDataset(
            f"{self._show(values)}: {value!r} is above every relation of "
            f"{[text for text, *_ in self.relations]} and there is no 'default'"
        )


def version_relation(text: str) -> tuple[float, str] | None:
    """CRDS's (version, relation) of a SelectVersion key, or None."""
    if text.replace("=", "").strip() == "default":
        return _DEFAULT
    if not text.startswith(("<", "=")):
        text = "=" + text
    found = _RELATION.fullmatch(text)
    if found is None:
        return None
    try:
        number = ast.literal_eval(found[2].strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if type(number) not in (int, float):
        return None
    return (number, found[1].replace("==", "="))
