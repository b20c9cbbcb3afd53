"""The seven CRDS selectors, built once from a parsed rmap and then queried.

A selector works on one level of the rmap's ``parkey``; a choice is a file
name, ``N/A``, a tuple of names, or a selector for the next level. Building
checks everything that can be checked without a dataset (key syntax, dates,
versions, numbers, nesting depth), so a malformed rmap fails when it is
loaded, with its file and line, and a lookup only compares values.

Lookups take a dict of conditioned dataset values keyed by parameter name
and an optional ``trace`` list; when a list is given, each selector appends
lines telling what it compared and chose (the ``--explain`` text).
"""

import ast
import bisect
import datetime
import operator
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from irisdq.crds.matchers import (
    DONT_CARE,
    Matcher,
    _esoteric,
    condition_key,
    glob_parts,
    make_matcher,
)
from irisdq.crds.parser import SelectorCall
from irisdq.crds.values import (
    ABSENT,
    Timestamp,
    condition_value,
    crds_date_text,
    dataset_date,
    date_seconds,
    format_date,
    parse_date,
    parse_version,
)
from irisdq.errors import MappingError

__all__ = [
    "BracketSelector",
    "ClosestTimeSelector",
    "GeometricallyNearestSelector",
    "MatchSelector",
    "SelectVersionSelector",
    "SelectionFailed",
    "Selector",
    "UseAfterSelector",
    "VersionAfterSelector",
    "build_selector",
]

#: Substitutions CRDS applies to every rmap's Match keys; an rmap's own
#: substitutions for a parameter replace these.
DEFAULT_SUBSTITUTIONS = {
    "META.SUBARRAY.NAME": {"GENERIC": "N/A"},
    "SUBARRAY": {"GENERIC": "N/A"},
}


class SelectionFailed(Exception):
    """A selector found nothing for the dataset; ``str()`` says why.

    A Match tries its next rank of rules after a failure of a nested
    selector, unless the failure is :class:`InvalidDataset`.
    """


class InvalidDataset(SelectionFailed):
    """A dataset value the selector cannot use (not a date, a number, a
    version, or a value the rules never name): no other rule is tried, as
    in CRDS."""


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


Choice = Any  # str | tuple[str, ...] | Selector


class Selector:
    """Base of the selectors: one parkey level and the choices under it.

    Attributes
    ----------
    parameters : tuple of str
        The dataset parameters this level compares.
    filename : str
        The rmap the selector comes from.
    line : int
        The line of the selector call.
    """

    kind = "Selector"

    def __init__(self, parameters: tuple[str, ...], filename: str, line: int):
        self.parameters = parameters
        self.filename = filename
        self.line = line
        if len(parameters) == 1:
            (name,) = parameters
            self._values = lambda values: (values[name],)
        elif parameters:
            self._values = operator.itemgetter(*parameters)
        else:
            self._values = lambda values: ()

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        """Return the choice for conditioned dataset `values`.

        Raises
        ------
        SelectionFailed
            If nothing matches.
        """
        raise NotImplementedError

    def choices(self) -> Iterator[Choice]:
        """Yield every choice of this level."""
        raise NotImplementedError

    def leaves(self) -> Iterator[str]:
        """Yield every file name (and ``N/A``) reachable from this selector."""
        for choice in self.choices():
            if isinstance(choice, Selector):
                yield from choice.leaves()
            elif isinstance(choice, tuple):
                yield from choice
            elif isinstance(choice, dict):
                yield from choice.values()
            else:
                yield choice

    def _show(self, values: dict[str, str]) -> str:
        shown = ", ".join(f"{name}={values[name]!r}" for name in self.parameters)
        return f"{self.kind} at line {self.line} on {shown}"

    def _head(self) -> str:
        return f"{self.kind} (line {self.line}) on {', '.join(self.parameters)}:"


def _resolve(choice: Choice, values: dict[str, str], trace: list[str] | None) -> Any:
    """Return the final choice, descending into a nested selector."""
    if isinstance(choice, Selector):
        return choice.choose(values, trace)
    return "N/A" if choice == "N/A" else choice


# What a substituted key means, said in --explain.
_MEANING = {"'N/A'": ": any value"}


@dataclass(slots=True, eq=False)
class _Candidate:
    key: Any
    matchers: Any
    choice: Any
    line: int
    # The key as the rmap writes it, before substitutions ('GENERIC').
    written: Any = None

    def shown(self) -> str:
        """The key as written, for a trace."""
        return str(self.key if self.written is None else self.written)


class MatchSelector(Selector):
    """Match: rank the rules whose keys all accept the dataset's values.

    As the stock CRDS client does: first each dataset value must be one the
    rules name (unless a key of that parameter is a wildcard, ``N/A`` or of
    an esoteric syntax), else :class:`InvalidDataset`. Then each key scores
    1 (match), 0 (``N/A``) or eliminates its rule; rules are tried best
    total first. When a rule's nested selector finds nothing, the next rank
    is tried (not after :class:`InvalidDataset`). Equally ranked rules whose
    choices are UseAfter (or ClosestTime, or VersionAfter) selectors of one
    kind are merged into one, the greater file name winning on a shared key.
    """

    kind = "Match"

    def __init__(
        self,
        parameters,
        filename,
        line,
        candidates: list[_Candidate],
        substitutions: dict | None = None,
    ):
        super().__init__(parameters, filename, line)
        self.candidates = candidates
        self._merged: dict[tuple[int, ...], Choice] = {}
        self._substitutions = substitutions or {}
        self._valid = self._valid_values()
        self._required = self._required_positions()

    def _required_positions(self) -> tuple[int, ...]:
        """The parameters a dataset must have: as in CRDS, those that no
        rule key names ``N/A`` (or that an esoteric key makes unchecked)."""
        return tuple(
            position
            for position in range(len(self.parameters))
            if "N/A" not in self._key_names(position)
        )

    def _key_names(self, position: int) -> set[str]:
        """The values the rule keys name for one parameter; empty when an
        esoteric key leaves the parameter unchecked."""
        names: set[str] = set()
        for candidate in self.candidates:
            key = candidate.key[position]
            if _esoteric(key):
                return set()
            names.update(glob_parts(key))
        return names

    def _valid_values(self) -> list[frozenset | None]:
        """Per parameter, the values the rules name, or None if any value
        may be looked up (a wildcard, ``N/A`` or an esoteric key)."""
        valid = []
        for position in range(len(self.parameters)):
            names = self._key_names(position)
            if not names or names & {"*", "ANY", "N/A"}:
                valid.append(None)
            else:
                valid.append(frozenset(names))
        return valid

    def _check_values(self, dataset, values) -> None:
        """Refuse a missing parameter or a value no rule names, as CRDS does
        before matching."""
        for position in self._required:
            if dataset[position] is ABSENT:
                keys = "; ".join(str(candidate.key) for candidate in self.candidates)
                raise InvalidDataset(
                    f"{self._show(values)}: the dataset has no "
                    f"{self.parameters[position]} and no rule key of it is N/A; "
                    f"rule keys: {keys}"
                )
        for name, allowed, value in zip(
            self.parameters, self._valid, dataset, strict=True
        ):
            if allowed is not None and value not in allowed:
                self._check_value(name, allowed, value, values)

    def _check_value(self, name, allowed, value, values) -> None:
        if value in allowed or condition_value(value) in allowed:
            return
        if value.startswith("NOT"):
            self._check_value(name, allowed, value[3:].strip(), values)
            return
        # BETWEEN values are esoteric too: the stock client does not check
        # their bounds either (a malformed one then matches nothing).
        if _esoteric(value) or value in ("*", "ANY", "N/A"):
            return
        table = self._substitutions.get(name, {})
        if value in table and isinstance(table[value], str):
            self._check_value(name, allowed, table[value], values)
            return
        keys = "; ".join(str(candidate.key) for candidate in self.candidates)
        raise InvalidDataset(
            f"{self._show(values)}: {name}={value!r} is none of the values the "
            f"rules name ({', '.join(sorted(allowed))}); rule keys: {keys}"
        )

    def choices(self) -> Iterator[Choice]:
        for candidate in self.candidates:
            yield candidate.choice

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        dataset = self._values(values)
        self._check_values(dataset, values)
        ranked = []
        for index, candidate in enumerate(self.candidates):
            total = 0
            for matcher, value in zip(candidate.matchers, dataset, strict=False):
                score = matcher.score(value)
                if score < 0:
                    break
                total += score
            else:
                ranked.append((-total, index))
        if trace is None and len(ranked) == 1:
            return _resolve(self.candidates[ranked[0][1]].choice, values, None)
        if trace is not None:
            self._trace_scores(dataset, values, trace)
        if not ranked:
            keys = "; ".join(str(candidate.key) for candidate in self.candidates)
            raise SelectionFailed(
                f"{self._show(values)}: no rule matches; rule keys: {keys}"
            )
        ranked.sort()
        failures = []
        start = 0
        while start < len(ranked):
            stop = start
            while stop < len(ranked) and ranked[stop][0] == ranked[start][0]:
                stop += 1
            indexes = tuple(index for _, index in ranked[start:stop])
            rank = -ranked[start][0]
            start = stop
            choice = self._group_choice(indexes, rank)
            if trace is not None:
                keys = ", ".join(self.candidates[i].shown() for i in indexes)
                merged = " (merged)" if len(indexes) > 1 else ""
                trace.append(f"  chose {keys}{merged}, rank {rank}")
            try:
                return _resolve(choice, values, trace)
            except InvalidDataset:
                raise
            except SelectionFailed as exc:
                if trace is not None:
                    trace.append(f"  it fails ({exc}); trying the next rank")
                failures.append(str(exc))
        raise SelectionFailed(" / ".join(failures))

    def _group_choice(self, indexes: tuple[int, ...], rank: int) -> Choice:
        if len(indexes) == 1:
            return self.candidates[indexes[0]].choice
        try:
            return self._merged[indexes]
        except KeyError:
            pass
        group = [self.candidates[index] for index in indexes]
        choices = [candidate.choice for candidate in group]
        lines = ", ".join(str(candidate.line) for candidate in group)
        kind = type(choices[0])
        if kind in _MERGEABLE and all(type(choice) is kind for choice in choices):
            merged = choices[0].merged(choices[1:])
        elif all(not isinstance(c, Selector) and c == choices[0] for c in choices):
            merged = choices[0]
        else:
            raise MappingError(
                f"{self.filename}:{group[0].line}: the dataset matches the rules at "
                f"lines {lines} equally well (rank {rank}) and their choices cannot "
                "be merged; make one rule more specific"
            )
        self._merged[indexes] = merged
        return merged

    def _trace_scores(self, dataset, values, trace: list[str]) -> None:
        trace.append(self._head())
        for candidate in self.candidates:
            if not candidate.matchers:
                trace.append(f"  {candidate.shown()} line {candidate.line}: -> rank 0")
                continue
            parts = []
            total = 0
            written = candidate.written or (None,) * len(candidate.matchers)
            for matcher, value, as_written in zip(
                candidate.matchers, dataset, written, strict=False
            ):
                score = matcher.score(value)
                key = repr(matcher.key)
                if as_written is not None and as_written != matcher.key:
                    # A substitution of the rmap's header: say what it means.
                    key = f"{as_written!r} (= {matcher.key!r}{_MEANING.get(key, '')})"
                if score > 0:
                    parts.append(f"{value!r} matches {key}")
                elif score == 0:
                    parts.append(f"{value!r} vs {key} don't care")
                else:
                    parts.append(f"{value!r} does not match {key}")
                if score < 0:
                    total = None
                    break
                total += score
            verdict = "eliminated" if total is None else f"rank {total}"
            trace.append(
                f"  {candidate.shown()} line {candidate.line}: "
                f"{', '.join(parts)} -> {verdict}"
            )


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


class _NotApplicable(str):
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
        return _resolve(self.values[index], values, trace)


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
        return _resolve(self.values[index], values, trace)


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
        return _resolve(self.values[index], values, trace)


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
        first = _resolve(self.values[low], values, trace)
        second = first if low == high else _resolve(self.values[high], values, trace)
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
        return _resolve(self.values[index], values, trace)


_MERGEABLE = (UseAfterSelector, ClosestTimeSelector, VersionAfterSelector)

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
        number = _version_relation(value)
        if number is None or number is _DEFAULT:
            raise InvalidDataset(f"{self._show(values)}: {value!r} is not a version")
        for text, key, choice in self.relations:
            if not key < number:
                if trace is not None:
                    trace.append(f"{self._head()} {value} takes {text!r}")
                return _resolve(choice, values, trace)
        raise InvalidDataset(
            f"{self._show(values)}: {value!r} is above every relation of "
            f"{[text for text, *_ in self.relations]} and there is no 'default'"
        )


def build_selector(
    call: SelectorCall,
    parkey: tuple[tuple[str, ...], ...],
    substitutions: dict[str, dict[str, str]] | None = None,
    filename: str = "<rmap>",
    level: int = 0,
    iso_moment: bool = False,
) -> Selector:
    """Build the selector tree of an rmap from its parsed selector call.

    Parameters
    ----------
    call : SelectorCall
        The parsed ``selector`` of the rmap.
    parkey : tuple of tuple of str
        The rmap's ``parkey``, one tuple of parameter names per level.
    substitutions : dict, optional
        The rmap header's ``substitutions``: parameter -> {key: replacement}.
        :data:`DEFAULT_SUBSTITUTIONS` always apply as well.
    filename : str, optional
        The rmap name for error messages.
    level : int, optional
        The parkey level of `call` (nested selectors use the next one).
    iso_moment : bool, optional
        Let a full ISO moment in a date parameter stand without its time
        parameter (TMT and Liger mappings; the stock client refuses it).

    Returns
    -------
    Selector

    Raises
    ------
    MappingError
        If a key, date, version or number is malformed, a key has the wrong
        number of values, or selectors nest deeper than `parkey` allows.

    Examples
    --------
    >>> from irisdq.crds.parser import parse_mapping
    >>> parsed = parse_mapping('''
    ... header = {}
    ... selector = Match({('IRIS1', 'GENERIC'): UseAfter({
    ...     '2015-10-01 00:00:00': 'mask.fits'})})''')
    >>> parkey = (("DETECTOR", "SUBARRAY"), ("DATE", "TIME"))
    >>> tree = build_selector(parsed.selector, parkey, {"SUBARRAY": {"GENERIC": "N/A"}})
    >>> values = {"DETECTOR": "IRIS1", "SUBARRAY": "FULL",
    ...           "DATE": "2020-07-13", "TIME": "00:00:00"}
    >>> tree.choose(values)
    'mask.fits'
    >>> try:
    ...     tree.choose({**values, "DATE": "2015-09-13"})
    ... except SelectionFailed as exc:
    ...     print(exc)
    UseAfter at line 3 on DATE='2015-09-13', TIME='00:00:00': 2015-09-13 00:00:00
    is earlier than every use-after date (earliest 2015-10-01 00:00:00)
    """
    builder = _Builder(
        parkey, _merge_substitutions(substitutions), filename, iso_moment
    )
    return builder.build(call, level)


def _merge_substitutions(substitutions) -> dict[str, dict[Any, str]]:
    """Parameter -> {key as written: replacement}; as in CRDS, an rmap's
    table for a parameter replaces the default one, and keys are compared
    as written (before conditioning)."""
    merged: dict[str, dict[Any, str]] = {}
    for source in (DEFAULT_SUBSTITUTIONS, substitutions or {}):
        if not isinstance(source, dict):
            raise MappingError("'substitutions' must be a dict of dicts")
        for parameter, table in source.items():
            if not isinstance(parameter, str) or not isinstance(table, dict):
                raise MappingError("'substitutions' must map parameter names to dicts")
            target = merged[parameter.upper()] = {}
            for old, new in table.items():
                if isinstance(new, tuple | list):
                    new = "|".join(condition_value(item) for item in new)
                if not isinstance(old, str | int | float | bool) or not isinstance(
                    new, str | int | float | bool
                ):
                    raise MappingError(
                        f"'substitutions' of {parameter} must map values"
                    )
                target[old] = new
    return merged


_NOT_APPLICABLE = frozenset({"N/A", "TEMP_N/A", "n/a", "temp_n/a"})
_OMIT = frozenset({"OMIT", "TEMP_OMIT", "omit"})


class _Builder:
    def __init__(self, parkey, substitutions, filename, iso_moment=False):
        self.parkey = parkey
        self.substitutions = substitutions
        self.filename = filename
        self.iso_moment = iso_moment

    def fail(self, line: int, reason: str):
        raise MappingError(f"{self.filename}:{line}: {reason}")

    def build(self, call: SelectorCall, level: int) -> Selector:
        if level >= len(self.parkey):
            self.fail(
                call.line,
                f"{call.name} is nested at level {level + 1} but parkey has only "
                f"{len(self.parkey)} level(s)",
            )
        parameters = self.parkey[level]
        method = getattr(self, f"_build_{call.name}")
        return method(call, parameters, level)

    def choice(self, value: Any, line: int, level: int) -> Choice:
        if isinstance(value, SelectorCall):
            return self.build(value, level + 1)
        if isinstance(value, str):
            text = value.strip()
            # CRDS's not-applicable and omitted values; both mean that the
            # reference type does not apply.
            if text in _NOT_APPLICABLE or text in _OMIT:
                return _NotApplicable(text)
            return text
        if (
            isinstance(value, tuple)
            and value
            and all(isinstance(v, str) for v in value)
        ):
            return tuple(item.strip() for item in value)
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            # A table of files by name: the stock client returns it as is.
            return dict(value)
        self.fail(
            line,
            "a choice must be a file name, N/A, a tuple or table of file names, "
            f"or a selector, not {value!r}",
        )

    def _build_Match(self, call, parameters, level):
        # Substitutions replace key values as written; where a substituted
        # key equals another rule's key, the substituted rule stands (CRDS
        # rewrites its table in place).
        rules: list[tuple[tuple, Any, int, bool]] = []
        seen_written: dict[tuple, int] = {}
        for key, value, line in call.entries:
            key_tuple = key if isinstance(key, tuple) else (key,)
            if len(key_tuple) != len(parameters):
                self.fail(
                    line,
                    f"Match key {key!r} has {len(key_tuple)} value(s) but the level "
                    f"compares {len(parameters)}: {', '.join(parameters) or 'none'}",
                )
            items = []
            replaced = False
            for parameter, item in zip(parameters, key_tuple, strict=True):
                if type(item) not in (str, int, float, bool):
                    self.fail(
                        line, f"Match key value {item!r} must be a string or number"
                    )
                table = self.substitutions.get(parameter.upper(), {})
                if item in table:
                    item, replaced = table[item], True
                items.append(item)
            items = tuple(items)
            written = (isinstance(key, tuple), items)
            if written in seen_written and (
                replaced or rules[seen_written[written]][3]
            ):
                if replaced:
                    rules[seen_written[written]] = (items, value, line, True, key)
                continue
            seen_written[written] = len(rules)
            rules.append((items, value, line, replaced, key))
        candidates = []
        seen: dict[tuple[str, ...], int] = {}
        for items, value, line, replaced, key in rules:
            shown = tuple(condition_key(item) for item in items)
            if shown in seen:
                self.fail(
                    line,
                    f"Match key {shown!r} is the same as the key at line "
                    f"{seen[shown]} once conditioned",
                )
            seen[shown] = line
            matchers = tuple(self._matcher(item, line) for item in shown)
            as_written = (
                (key if isinstance(key, tuple) else (key,)) if replaced else None
            )
            candidates.append(
                _Candidate(
                    shown, matchers, self.choice(value, line, level), line, as_written
                )
            )
        return MatchSelector(
            parameters,
            self.filename,
            call.line,
            candidates,
            {name: self.substitutions.get(name.upper(), {}) for name in parameters},
        )

    def _matcher(self, key: str, line: int) -> Matcher:
        if key == "N/A":
            return DONT_CARE
        try:
            return make_matcher(key)
        except ValueError as exc:
            self.fail(line, str(exc))

    def _dated(self, call, parameters, level):
        if not parameters:
            self.fail(call.line, f"{call.name} needs date parameters in parkey")
        entries = []
        for key, value, line in call.entries:
            # Keys stay as written: CRDS compares them as text. One that is
            # not a date is refused (CRDS would compare it as text too).
            stamp = parse_date(condition_value(key)) if isinstance(key, str) else None
            if stamp is None:
                self.fail(line, f"{call.name} key {key!r} is not a date and time")
            try:
                datetime.date(*stamp[:3])
            except ValueError as exc:
                self.fail(line, f"{call.name} key {key!r}: {exc}")
            entries.append((key, stamp, self.choice(value, line, level)))
        return entries

    def _build_UseAfter(self, call, parameters, level):
        entries = self._dated(call, parameters, level)
        return UseAfterSelector(
            parameters, self.filename, call.line, entries, self.iso_moment
        )

    def _build_ClosestTime(self, call, parameters, level):
        entries = self._dated(call, parameters, level)
        return ClosestTimeSelector(
            parameters, self.filename, call.line, entries, self.iso_moment
        )

    def _single(self, call, parameters):
        if len(parameters) != 1:
            self.fail(call.line, f"{call.name} compares exactly one parameter")

    def _numeric(self, call, parameters, level):
        self._single(call, parameters)
        entries = {}
        for key, value, line in call.entries:
            # CRDS compares Bracket keys as written, so they must be numbers;
            # GeometricallyNearest keys may be numbers written as text.
            if call.name == "Bracket" and type(key) in (int, float):
                number = float(key)
            elif call.name == "GeometricallyNearest" and type(key) in (str, int, float):
                try:
                    number = float(condition_value(key))
                except ValueError:
                    number = None
            else:
                number = None
            if number is None:
                self.fail(line, f"{call.name} key {key!r} is not a number")
            if number in entries:
                self.fail(line, f"{call.name} key {key!r} appears twice")
            entries[number] = self.choice(value, line, level)
        return list(entries.items())

    def _build_GeometricallyNearest(self, call, parameters, level):
        entries = self._numeric(call, parameters, level)
        return GeometricallyNearestSelector(
            parameters, self.filename, call.line, entries
        )

    def _build_Bracket(self, call, parameters, level):
        entries = self._numeric(call, parameters, level)
        return BracketSelector(parameters, self.filename, call.line, entries)

    def _build_VersionAfter(self, call, parameters, level):
        self._single(call, parameters)
        entries = {}
        for key, value, line in call.entries:
            # Keys are versions as written, not conditioned ('1.10' is 1.10).
            version = parse_version(key) if isinstance(key, str) else None
            if version is None:
                self.fail(line, f"VersionAfter key {key!r} is not a version")
            if version in entries:
                self.fail(line, f"VersionAfter version {key!r} appears twice")
            entries[version] = self.choice(value, line, level)
        return VersionAfterSelector(
            parameters, self.filename, call.line, list(entries.items())
        )

    def _build_SelectVersion(self, call, parameters, level):
        self._single(call, parameters)
        relations = []
        for key, value, line in call.entries:
            choice = self.choice(value, line, level)
            text = str(key) if type(key) in (str, int, float) else ""
            relation = _version_relation(text)
            if relation is None:
                self.fail(
                    line,
                    f"SelectVersion key {key!r} is not 'default' or a relation "
                    "<N, <=N, =N or N with N a number",
                )
            if any(relation == other for _, other, _ in relations):
                self.fail(line, f"SelectVersion key {key!r} appears twice")
            relations.append((text, relation, choice))
        return SelectVersionSelector(parameters, self.filename, call.line, relations)


def _version_relation(text: str) -> tuple[float, str] | None:
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
