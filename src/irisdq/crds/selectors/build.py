"""Building the selector tree of an rmap: :func:`build_selector`.

Everything that can be checked without a dataset is checked here (key
syntax, dates, versions, numbers, nesting depth), so a malformed rmap fails
when it is loaded, with its file and line.
"""

import datetime
from typing import Any

from irisdq.crds.matchers import DONT_CARE, Matcher, condition_key, make_matcher
from irisdq.crds.parser import SelectorCall
from irisdq.crds.selectors.base import (
    DEFAULT_SUBSTITUTIONS,
    Choice,
    Selector,
)
from irisdq.crds.selectors.match import Candidate, MatchSelector
from irisdq.crds.selectors.ordered import (
    BracketSelector,
    ClosestTimeSelector,
    GeometricallyNearestSelector,
    NotApplicable,
    SelectVersionSelector,
    UseAfterSelector,
    VersionAfterSelector,
    version_relation,
)
from irisdq.crds.values import condition_value, parse_date, parse_version
from irisdq.errors import MappingError

__all__ = ["build_selector"]


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
    >>> from irisdq.crds.selectors import SelectionFailed
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
                return NotApplicable(text)
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
                Candidate(
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
            relation = version_relation(text)
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
