"""Match: the selector that ranks an rmap's rules by their keys."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from irisdq.crds.matchers import _esoteric, glob_parts
from irisdq.crds.selectors.base import (
    Choice,
    InvalidDataset,
    SelectionFailed,
    Selector,
    resolve_choice,
)
from irisdq.crds.selectors.ordered import MERGEABLE
from irisdq.crds.values import ABSENT, condition_value
from irisdq.errors import MappingError

__all__ = ["MatchSelector"]


# What a substituted key means, said in --explain.
_MEANING = {"'N/A'": ": any value"}


@dataclass(slots=True, eq=False)
class Candidate:
    """A rule of a Match: its conditioned key, a matcher per value, its
    choice and line."""

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
        candidates: list[Candidate],
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
            return resolve_choice(self.candidates[ranked[0][1]].choice, values, None)
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
                return resolve_choice(choice, values, trace)
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
        if kind in MERGEABLE and all(type(choice) is kind for choice in choices):
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
