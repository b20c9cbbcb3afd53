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

import bisect
import datetime
import operator
import re
from collections.abc import Iterator
from typing import Any

from irisdq.crds.matchers import DONT_CARE, Matcher, condition_key, make_matcher
from irisdq.crds.parser import SelectorCall
from irisdq.crds.values import (
    Timestamp,
    condition_value,
    date_seconds,
    format_date,
    is_number,
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

#: Substitutions CRDS applies to every rmap's Match keys.
DEFAULT_SUBSTITUTIONS = {"META.SUBARRAY.NAME": {"GENERIC": "N/A"}}


class SelectionFailed(Exception):
    """A selector found nothing for the dataset; ``str()`` says why."""


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
    return choice


class _Candidate:
    __slots__ = ("choice", "key", "line", "matchers")

    def __init__(self, key, matchers, choice, line):
        self.key = key
        self.matchers = matchers
        self.choice = choice
        self.line = line


class MatchSelector(Selector):
    """Match: rank the rules whose keys all accept the dataset's values.

    Each key scores 1 (match), 0 (``N/A``) or eliminates its rule; rules are
    tried best total first, in file order among equals. When a rule's nested
    selector finds nothing, the next rule is tried. Equally ranked rules
    whose choices are all UseAfter selectors are merged into one.
    """

    kind = "Match"

    def __init__(self, parameters, filename, line, candidates: list[_Candidate]):
        super().__init__(parameters, filename, line)
        self.candidates = candidates
        self._merged: dict[tuple[int, ...], Choice] = {}

    def choices(self) -> Iterator[Choice]:
        for candidate in self.candidates:
            yield candidate.choice

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        dataset = self._values(values)
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
                keys = ", ".join(str(self.candidates[i].key) for i in indexes)
                merged = " (merged)" if len(indexes) > 1 else ""
                trace.append(f"  chose {keys}{merged}, rank {rank}")
            try:
                return _resolve(choice, values, trace)
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
        if all(isinstance(choice, UseAfterSelector) for choice in choices):
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
                trace.append(f"  {candidate.key} line {candidate.line}: -> rank 0")
                continue
            parts = []
            total = 0
            for matcher, value in zip(candidate.matchers, dataset, strict=False):
                score = matcher.score(value)
                if score > 0:
                    parts.append(f"{value!r} matches {matcher.key!r}")
                elif score == 0:
                    parts.append(f"{value!r} vs {matcher.key!r} don't care")
                else:
                    parts.append(f"{value!r} does not match {matcher.key!r}")
                if score < 0:
                    total = None
                    break
                total += score
            verdict = "eliminated" if total is None else f"rank {total}"
            trace.append(
                f"  {candidate.key} line {candidate.line}: "
                f"{', '.join(parts)} -> {verdict}"
            )


class _DatedSelector(Selector):
    """Selectors keyed by date and time: UseAfter and ClosestTime."""

    def __init__(
        self, parameters, filename, line, entries: list[tuple[Timestamp, Choice]]
    ):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: entry[0])
        self.stamps = [stamp for stamp, _ in entries]
        self.values = [choice for _, choice in entries]

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def _stamp(self, values: dict[str, str]) -> Timestamp:
        dataset = self._values(values)
        stamp = parse_date(*dataset)
        if stamp is None:
            joined = " ".join(dataset)
            raise SelectionFailed(f"{self._show(values)}: {joined!r} is not a date")
        return stamp


class UseAfterSelector(_DatedSelector):
    """UseAfter: the latest date on or before the dataset's date and time."""

    kind = "UseAfter"

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        stamp = self._stamp(values)
        index = bisect.bisect_right(self.stamps, stamp) - 1
        if index < 0:
            raise SelectionFailed(
                f"{self._show(values)}: {format_date(stamp)} is earlier than every "
                f"use-after date (earliest {format_date(self.stamps[0])})"
            )
        if trace is not None:
            trace.extend(
                (
                    f"{self._head()} {format_date(stamp)}",
                    f"  chose {format_date(self.stamps[index])}, the latest of "
                    f"{len(self.stamps)} use-after date(s) on or before it",
                )
            )
        return _resolve(self.values[index], values, trace)

    def merged(self, others: list["UseAfterSelector"]) -> "UseAfterSelector":
        """Return one UseAfter holding the dates of this and `others`."""
        table: dict[Timestamp, Choice] = dict(
            zip(self.stamps, self.values, strict=True)
        )
        for other in others:
            for stamp, choice in zip(other.stamps, other.values, strict=True):
                if stamp in table and table[stamp] != choice:
                    raise MappingError(
                        f"{self.filename}:{other.line}: equally ranked UseAfter rules "
                        f"(lines {self.line} and {other.line}) give different files "
                        f"for {format_date(stamp)}"
                    )
                table[stamp] = choice
        return UseAfterSelector(
            self.parameters, self.filename, self.line, list(table.items())
        )


class ClosestTimeSelector(_DatedSelector):
    """ClosestTime: the date nearest to the dataset's, earlier on a tie."""

    kind = "ClosestTime"

    def __init__(self, parameters, filename, line, entries):
        super().__init__(parameters, filename, line, entries)
        self._seconds = [date_seconds(stamp) for stamp in self.stamps]

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        stamp = self._stamp(values)
        try:
            seconds = date_seconds(stamp)
        except ValueError:
            raise SelectionFailed(
                f"{self._show(values)}: not a calendar date"
            ) from None
        distances = [abs(seconds - key) for key in self._seconds]
        index = distances.index(min(distances))
        if trace is not None:
            trace.extend(
                (
                    f"{self._head()} {format_date(stamp)}",
                    f"  chose {format_date(self.stamps[index])}, the closest of "
                    f"{len(self.stamps)} date(s)",
                )
            )
        return _resolve(self.values[index], values, trace)


class _NumericSelector(Selector):
    """Selectors keyed by numbers: GeometricallyNearest and Bracket."""

    def __init__(self, parameters, filename, line, entries: list[tuple[float, Choice]]):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: entry[0])
        self.keys = [key for key, _ in entries]
        self.values = [choice for _, choice in entries]

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def _number(self, values: dict[str, str]) -> float:
        (value,) = self._values(values)
        if not is_number(value):
            raise SelectionFailed(f"{self._show(values)}: {value!r} is not a number")
        return float(value)


class GeometricallyNearestSelector(_NumericSelector):
    """GeometricallyNearest: the key nearest the value, the lower on a tie."""

    kind = "GeometricallyNearest"

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        number = self._number(values)
        distances = [abs(number - key) for key in self.keys]
        index = distances.index(min(distances))
        if trace is not None:
            trace.append(f"{self._head()} {number}: nearest key {self.keys[index]}")
        return _resolve(self.values[index], values, trace)


class BracketSelector(_NumericSelector):
    """Bracket: the pair of choices whose keys surround the value.

    An exact key, or a value beyond either end, gives that choice twice.
    """

    kind = "Bracket"

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        number = self._number(values)
        high = bisect.bisect_left(self.keys, number)
        if high < len(self.keys) and self.keys[high] == number:
            low = high
        elif high == 0:
            low = 0
        elif high == len(self.keys):
            low = high = len(self.keys) - 1
        else:
            low = high - 1
        if trace is not None:
            trace.append(
                f"{self._head()} {number}: keys {self.keys[low]} and {self.keys[high]}"
            )
        return (
            _resolve(self.values[low], values, trace),
            _resolve(self.values[high], values, trace),
        )


class VersionAfterSelector(Selector):
    """VersionAfter: the greatest version key not above the dataset's."""

    kind = "VersionAfter"

    def __init__(self, parameters, filename, line, entries):
        super().__init__(parameters, filename, line)
        entries.sort(key=lambda entry: entry[0])
        self.versions = [version for version, _ in entries]
        self.values = [choice for _, choice in entries]

    def choices(self) -> Iterator[Choice]:
        yield from self.values

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        (value,) = self._values(values)
        version = parse_version(value)
        if version is None:
            raise SelectionFailed(f"{self._show(values)}: {value!r} is not a version")
        index = bisect.bisect_right(self.versions, version) - 1
        if index < 0:
            raise SelectionFailed(
                f"{self._show(values)}: version {value} is below every key"
            )
        if trace is not None:
            shown = ".".join(map(str, self.versions[index]))
            trace.append(f"{self._head()} {value}: chose version {shown}")
        return _resolve(self.values[index], values, trace)


_RELATION = re.compile(r"(<=|>=|==|!=|<|>|=)?\s*(\S+)")
_COMPARE = {
    "<": tuple.__lt__,
    "<=": tuple.__le__,
    ">": tuple.__gt__,
    ">=": tuple.__ge__,
    "==": tuple.__eq__,
    "=": tuple.__eq__,
    "!=": tuple.__ne__,
}


class SelectVersionSelector(Selector):
    """SelectVersion: the first relation (file order) the version satisfies.

    Keys are relations such as ``'<3.1'`` or ``'>=5'`` (a bare version means
    ``==``); ``'default'`` is taken when no relation holds.
    """

    kind = "SelectVersion"

    def __init__(self, parameters, filename, line, relations, default, has_default):
        super().__init__(parameters, filename, line)
        self.relations = relations  # [(text, operator, version, choice)]
        self.default = default
        self.has_default = has_default

    def choices(self) -> Iterator[Choice]:
        for *_, choice in self.relations:
            yield choice
        if self.has_default:
            yield self.default

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        (value,) = self._values(values)
        version = parse_version(value)
        if version is not None:
            for text, operator, key, choice in self.relations:
                if _COMPARE[operator](version, key):
                    if trace is not None:
                        trace.append(f"{self._head()} {value} satisfies {text!r}")
                    return _resolve(choice, values, trace)
        if self.has_default:
            if trace is not None:
                trace.append(f"{self._head()} {value}: no relation holds, 'default'")
            return _resolve(self.default, values, trace)
        raise SelectionFailed(
            f"{self._show(values)}: {value!r} satisfies none of "
            f"{[text for text, *_ in self.relations]}"
        )


def build_selector(
    call: SelectorCall,
    parkey: tuple[tuple[str, ...], ...],
    substitutions: dict[str, dict[str, str]] | None = None,
    filename: str = "<rmap>",
    level: int = 0,
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
    builder = _Builder(parkey, _merge_substitutions(substitutions), filename)
    return builder.build(call, level)


def _merge_substitutions(substitutions) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for source in (DEFAULT_SUBSTITUTIONS, substitutions or {}):
        if not isinstance(source, dict):
            raise MappingError("'substitutions' must be a dict of dicts")
        for parameter, table in source.items():
            if not isinstance(parameter, str) or not isinstance(table, dict):
                raise MappingError("'substitutions' must map parameter names to dicts")
            target = merged.setdefault(parameter.upper(), {})
            for old, new in table.items():
                if isinstance(new, tuple):
                    new = "|".join(str(item) for item in new)
                if not isinstance(old, str | int | float | bool) or not isinstance(
                    new, str | int | float | bool
                ):
                    raise MappingError(
                        f"'substitutions' of {parameter} must map values"
                    )
                target[condition_key(old)] = condition_key(new)
    return merged


class _Builder:
    def __init__(self, parkey, substitutions, filename):
        self.parkey = parkey
        self.substitutions = substitutions
        self.filename = filename

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
            return "N/A" if condition_value(text) == "N/A" else text
        if (
            isinstance(value, tuple)
            and value
            and all(isinstance(v, str) for v in value)
        ):
            return tuple(item.strip() for item in value)
        self.fail(
            line, f"a choice must be a file name, N/A or a selector, not {value!r}"
        )

    def _build_Match(self, call, parameters, level):
        candidates = []
        for key, value, line in call.entries:
            key_tuple = key if isinstance(key, tuple) else (key,)
            if key_tuple == ():
                matchers = ()
            elif len(key_tuple) != len(parameters):
                self.fail(
                    line,
                    f"Match key {key!r} has {len(key_tuple)} value(s) but the level "
                    f"compares {len(parameters)}: {', '.join(parameters)}",
                )
            else:
                matchers = tuple(
                    self._matcher(parameter, item, line)
                    for parameter, item in zip(parameters, key_tuple, strict=True)
                )
            shown = tuple(matcher.key for matcher in matchers)
            candidates.append(
                _Candidate(shown, matchers, self.choice(value, line, level), line)
            )
        return MatchSelector(parameters, self.filename, call.line, candidates)

    def _matcher(self, parameter: str, item: Any, line: int) -> Matcher:
        if type(item) not in (str, int, float, bool):
            self.fail(line, f"Match key value {item!r} must be a string or number")
        key = condition_key(item)
        key = self.substitutions.get(parameter.upper(), {}).get(key, key)
        if key == "N/A":
            return DONT_CARE
        try:
            return make_matcher(key)
        except ValueError as exc:
            self.fail(line, str(exc))

    def _dated(self, call, parameters, level):
        if not parameters:
            self.fail(call.line, f"{call.name} needs date parameters in parkey")
        entries = {}
        for key, value, line in call.entries:
            stamp = parse_date(condition_value(key)) if isinstance(key, str) else None
            if stamp is None:
                self.fail(line, f"{call.name} key {key!r} is not a date and time")
            try:
                datetime.date(*stamp[:3])
            except ValueError as exc:
                self.fail(line, f"{call.name} key {key!r}: {exc}")
            if stamp in entries:
                self.fail(line, f"{call.name} date {key!r} appears twice")
            entries[stamp] = self.choice(value, line, level)
        if not entries:
            self.fail(call.line, f"{call.name} has no dates")
        return list(entries.items())

    def _build_UseAfter(self, call, parameters, level):
        entries = self._dated(call, parameters, level)
        return UseAfterSelector(parameters, self.filename, call.line, entries)

    def _build_ClosestTime(self, call, parameters, level):
        entries = self._dated(call, parameters, level)
        return ClosestTimeSelector(parameters, self.filename, call.line, entries)

    def _single(self, call, parameters):
        if len(parameters) != 1:
            self.fail(call.line, f"{call.name} compares exactly one parameter")
        if not call.entries:
            self.fail(call.line, f"{call.name} has no entries")

    def _numeric(self, call, parameters, level):
        self._single(call, parameters)
        entries = {}
        for key, value, line in call.entries:
            text = condition_value(key) if type(key) in (str, int, float) else ""
            if not is_number(text):
                self.fail(line, f"{call.name} key {key!r} is not a number")
            number = float(text)
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
            version = (
                parse_version(condition_value(key))
                if type(key) in (str, int, float)
                else None
            )
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
        default = None
        has_default = False
        for key, value, line in call.entries:
            choice = self.choice(value, line, level)
            text = str(key).strip() if type(key) in (str, int, float) else ""
            if text.lower() == "default":
                default, has_default = choice, True
                continue
            found = _RELATION.fullmatch(text)
            version = parse_version(condition_value(found[2])) if found else None
            if version is None:
                self.fail(
                    line, f"SelectVersion key {key!r} is not a relation like '<3.1'"
                )
            relations.append((text, found[1] or "==", version, choice))
        return SelectVersionSelector(
            parameters, self.filename, call.line, relations, default, has_default
        )
