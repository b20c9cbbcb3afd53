"""The rules of an rmap that a delivery adds, and the keys they are filed under.

A mask's header gives its rule's keys: at a ``Match`` level its values of
that level's parameters (a full-frame mask under the key that matches any
subarray, a value that CRDS would read as a pattern refused), at a
``UseAfter`` level its ``USEAFTER``, converted exactly
(:func:`useafter_key`). :func:`insert_rule` puts the rule into a copy of the
rmap's selector tree, in order; :func:`rules_naming` reads back the rules
that select a file, and :func:`rule_mismatch` says what in a reference's
header contradicts them (``irisdq crds check``).
"""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from irisdq.crds.admin.new_context import DeliveryError
from irisdq.crds.dataset import KEYWORDS
from irisdq.crds.mapping import ReferenceMapping
from irisdq.crds.parser import SelectorCall, parse_mapping
from irisdq.crds.selectors import DEFAULT_SUBSTITUTIONS
from irisdq.crds.values import condition_value
from irisdq.errors import MappingError
from irisdq.profiles import PROFILES, Profile

__all__ = ["insert_rule", "rule_mismatch", "rules_naming", "useafter_key"]

_DATE_PARAMETERS = frozenset({"META.OBSERVATION.DATE", "DATE-OBS"})


def useafter_key(value: Any, where: str) -> str:
    """Return a ``USEAFTER`` value as a UseAfter key, ``'YYYY-MM-DD HH:MM:SS'``.

    Converted exactly: a time zone offset is applied (the key is in UTC,
    as ``DATE-OBS`` and ``TIME-OBS`` are), and fractional seconds are kept
    (``'...:07.9'``, which both irisdq and the stock client compare as
    written), never truncated.

    Raises
    ------
    DeliveryError
        If the value is not an ISO date, with or without a time, or has
        more fractional digits than microseconds hold.

    Examples
    --------
    >>> useafter_key("2021-01-01T00:00:00", "m.fits")
    '2021-01-01 00:00:00'
    >>> useafter_key("2021-01-01", "m.fits")
    '2021-01-01 00:00:00'
    >>> useafter_key("2026-03-14T12:00:00+14:00", "m.fits")
    '2026-03-13 22:00:00'
    >>> useafter_key("2021-01-01T05:06:07.900", "m.fits")
    '2021-01-01 05:06:07.9'
    """
    text = str(value).strip()
    fraction = _FRACTION.search(text)
    if fraction and fraction[1][6:].strip("0"):
        raise DeliveryError(
            f"{where}: USEAFTER {text!r} has more fractional digits than a "
            "microsecond; give at most six"
        )
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise DeliveryError(
            f"{where}: USEAFTER {text!r} is not a date; write it as "
            "YYYY-MM-DDTHH:MM:SS, e.g. 2021-01-01T00:00:00"
        ) from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise DeliveryError(
                f"{where}: USEAFTER {text!r} falls outside the years 1-9999 in "
                "UTC; give a date in range"
            ) from None
    if moment.year < 1000:
        # CRDS writes and compares four-digit years; strftime would write
        # '999-...', a key no reader takes for a date.
        raise DeliveryError(
            f"{where}: USEAFTER {text!r} is before the year 1000; give the "
            "date the mask applies from, e.g. 2021-01-01T00:00:00"
        )
    key = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        key += f".{moment.microsecond:06d}".rstrip("0")
    return key


_FRACTION = re.compile(r"T?\d\d:\d\d:\d\d[.,](\d+)")


def _same_moment(key: Any, wanted: str) -> bool:
    try:
        return useafter_key(key, "") == wanted
    except DeliveryError:
        return False


def selector_names(header: dict, depth: int) -> tuple[str, ...]:
    classes = header.get("classes")
    if isinstance(classes, tuple | list) and len(classes) == depth:
        return tuple(str(name) for name in classes)
    return tuple(
        "UseAfter" if set(level) & _DATE_PARAMETERS else "Match"
        for level in parkey_levels(header)
    )


def parkey_levels(header: dict) -> tuple[tuple[str, ...], ...]:
    parkey = header.get("parkey", ())
    if parkey and all(isinstance(item, str) for item in parkey):
        parkey = (tuple(parkey),)
    return tuple(tuple(str(name).upper() for name in level) for level in parkey)


def insert_rule(
    header: dict,
    selector: SelectorCall,
    parameters: dict[str, Any],
    filename: str,
    where: str,
    replace: bool = False,
    source: str | None = None,
    profile: Profile = PROFILES["tmt"],
) -> SelectorCall:
    """Return a copy of an rmap's selector tree with a rule for `filename`.

    At a ``Match`` level the key is the reference's values of that level's
    parameters; at a ``UseAfter`` level it is its ``USEAFTER``. A new key
    is inserted in order; an existing rule for the same keys is a clash.

    Parameters
    ----------
    header : dict
        The rmap's header (``parkey``, ``classes``).
    selector : SelectorCall
        The rmap's selector tree; it is not modified.
    parameters : dict
        The reference's keywords, as ``Profile.crds_parameters`` gives them
        (CRDS names and FITS keywords), ``USEAFTER`` included.
    filename : str
        The reference file name the rule selects.
    where : str
        The reference's path, for messages.
    replace : bool, optional
        Replace a clashing rule instead of refusing it.
    source : str, optional
        The rmap the selector comes from, for messages (default: the
        header's ``name``).
    profile : Profile, optional
        Names the FITS keyword of a parameter the reference lacks.

    Returns
    -------
    SelectorCall

    Raises
    ------
    DeliveryError
        A clash without `replace`, a missing keyword, or a selector other
        than Match and UseAfter.
    """
    levels = parkey_levels(header)
    names = selector_names(header, len(levels))
    keys = [
        _level_key(level, name, parameters, where, profile)
        for level, name in zip(levels, names, strict=True)
    ]
    source = source or str(header.get("name"))
    return _insert(selector, 0, names, keys, filename, where, replace, source)


def _level_key(level, name, parameters, where, profile: Profile) -> Any:
    if name == "UseAfter":
        if "USEAFTER" not in parameters:
            raise DeliveryError(
                f"{where}: no USEAFTER keyword; the rmap selects by date: add "
                "USEAFTER (e.g. 2021-01-01T00:00:00)"
            )
        return useafter_key(parameters["USEAFTER"], where)
    if name != "Match":
        raise DeliveryError(
            f"{where}: the rmap selects with {name}; irisdq crds add inserts "
            "into Match and UseAfter selectors only: deliver it with CRDS"
        )
    values = []
    for parameter in level:
        if parameter not in parameters:
            keyword = profile.keyword_of(parameter) or parameter
            raise DeliveryError(
                f"{where}: no {keyword} keyword, which the rmap selects on "
                f"({parameter}); add it to the primary header"
            )
        values.append(condition_value(parameters[parameter]))
    return values[0] if len(values) == 1 else tuple(values)


def _key_matches(existing: Any, key: Any, name: str) -> bool:
    if name == "UseAfter":
        return _same_moment(existing, key)
    if isinstance(key, tuple):
        return (
            isinstance(existing, tuple)
            and len(existing) == len(key)
            and all(condition_value(a) == b for a, b in zip(existing, key, strict=True))
        )
    return not isinstance(existing, tuple) and condition_value(existing) == key


def _build(names, keys, filename) -> Any:
    if not names:
        return filename
    return SelectorCall(
        names[0], [(keys[0], _build(names[1:], keys[1:], filename), 0)], 0
    )


def _insert(node, depth, names, keys, filename, where, replace, source) -> Any:
    name, key = names[depth], keys[depth]
    if not isinstance(node, SelectorCall) or node.name != name:
        found = node.name if isinstance(node, SelectorCall) else repr(node)
        raise DeliveryError(
            f"{where}: the rmap's selector at level {depth + 1} is {found}, but "
            f"its header says {name}; fix the rmap's 'classes' or deliver with CRDS"
        )
    entries = list(node.entries)
    for number, (existing, value, line) in enumerate(entries):
        if not _key_matches(existing, key, name):
            continue
        if depth + 1 < len(names):
            inner = _insert(
                value, depth + 1, names, keys, filename, where, replace, source
            )
            entries[number] = (existing, inner, line)
            return SelectorCall(node.name, entries, node.line)
        if not replace:
            rule = " / ".join(str(item) for item in keys)
            raise DeliveryError(
                f"{where}: {source} already selects {value!r} for "
                f"{rule}; give --replace (replace=True) to replace that rule, or "
                "change the "
                "reference's keywords (e.g. USEAFTER)"
            )
        entries[number] = (existing, filename, line)
        return SelectorCall(node.name, entries, node.line)
    new = (key, _build(names[depth + 1 :], keys[depth + 1 :], filename), 0)
    order = _order(name)
    position = next(
        (
            number
            for number, (existing, _, _) in enumerate(entries)
            if order(existing) > order(key)
        ),
        len(entries),
    )
    entries.insert(position, new)
    return SelectorCall(node.name, entries, node.line)


def _order(name: str):
    if name == "UseAfter":
        return lambda key: (
            (0, useafter_key(key, ""), "") if _valid_date(key) else (1, "", str(key))
        )
    return lambda key: (0, repr(key if isinstance(key, tuple) else (key,)), "")


def _valid_date(key: Any) -> bool:
    try:
        useafter_key(key, "")
    except DeliveryError:
        return False
    return True


#: SUBARRAY values of a mask that covers the whole detector.
_FULL_FRAME = frozenset({"FULL", "GENERIC", "N/A", "*"})
_PLAIN_NAME = re.compile(r"[A-Z0-9][A-Z0-9_.+-]{0,67}")


def subarray_parameter(header: dict, profile: Profile) -> str | None:
    for level in parkey_levels(header):
        for parameter in level:
            if parameter in ("META.SUBARRAY.NAME", "SUBARRAY") or (
                profile.keyword_of(parameter) == "SUBARRAY"
            ):
                return parameter
    return None


def _any_subarray_key(header: dict, parameter: str) -> str:
    """The Match key that matches every subarray: the value the rmap (or
    CRDS by default) substitutes N/A for, such as GENERIC, else N/A."""
    table = (header.get("substitutions") or {}).get(parameter)
    if not isinstance(table, dict):
        table = DEFAULT_SUBSTITUTIONS.get(parameter, {})
    return next(
        (str(key) for key, value in table.items() if value == "N/A"),
        "N/A",
    )


def file_subarray(
    header: dict,
    selector: SelectorCall,
    parameters: dict[str, Any],
    subarray: str | None,
    profile: Profile,
    where: str,
) -> tuple[bool, dict[str, Any] | None]:
    """Set the subarray key the mask is filed under in `parameters`.

    Returns whether the mask is full frame, and the parameters of a second
    rule when a full-frame mask filed for any subarray also replaces the
    rmap's rule for its own SUBARRAY (an rmap that keys full-frame masks by
    FULL keeps giving FULL exposures that rule's mask otherwise).
    """
    parameter = subarray_parameter(header, profile)
    if parameter is None:
        if subarray is not None:
            raise DeliveryError(
                f"{where}: {header.get('name')} does not select on the subarray; "
                "leave out --subarray"
            )
        return False, None
    own = condition_value(parameters.get(parameter, "UNDEFINED"))
    full_frame = own in _FULL_FRAME
    if subarray is not None:
        choice = str(subarray).strip().upper()
        if choice == "ANY" and not full_frame:
            raise DeliveryError(
                f"{where}: --subarray any files a mask for every subarray, but "
                f"this is a {own} mask, which covers only its own part of the "
                "detector; give --subarray with its own name, or deliver a "
                "full-frame mask"
            )
        if choice == "ANY":
            choice = _any_subarray_key(header, parameter)
        elif not _PLAIN_NAME.fullmatch(choice):
            raise DeliveryError(
                f"--subarray {subarray!r} is not a subarray name (letters, "
                "digits, '_', '.', '+', '-'); give a name such as FULL, or any"
            )
        parameters[parameter] = choice
        return full_frame, None
    if not full_frame:
        return False, None
    choice = _any_subarray_key(header, parameter)
    parameters[parameter] = choice
    second = None
    if own != choice and _PLAIN_NAME.fullmatch(own):
        keyed = {**parameters, parameter: own}
        level = parkey_levels(header)[0]
        try:
            key = _level_key(level, "Match", keyed, where, profile)
        except DeliveryError:
            key = None
        if key is not None and any(
            _key_matches(existing, key, "Match") for existing, _, _ in selector.entries
        ):
            second = keyed
    return full_frame, second


def check_plain(
    header: dict, parameters: dict[str, Any], profile: Profile, where: str
) -> None:
    """Refuse a header value that, as a Match key, would be a pattern.

    CRDS reads ``*``, ``A|B``, ``NOT A``, ``(regex)``, ``{x}``, ``N/A``,
    relations and ranges in a key as patterns: a mask whose DETECTOR is
    ``*`` would be selected for every detector. A key made from a header
    must be the one value the mask is for.
    """
    levels = parkey_levels(header)
    names = selector_names(header, len(levels))
    subarray = subarray_parameter(header, profile)
    substitutions = header.get("substitutions") or {}
    for level, name in zip(levels, names, strict=True):
        if name != "Match":
            continue
        for parameter in level:
            if parameter not in parameters:
                continue  # insert_rule names the missing keyword
            value = condition_value(parameters[parameter])
            table = substitutions.get(parameter)
            if not isinstance(table, dict):
                table = DEFAULT_SUBSTITUTIONS.get(parameter, {})
            substituted = value in table and parameter != subarray
            if _PLAIN_VALUE.fullmatch(value) and not substituted:
                continue
            keyword = profile.keyword_of(parameter) or parameter
            raise DeliveryError(
                f"{where}: {keyword} {parameters[parameter]!r} is not a plain "
                "value; as a rule key CRDS would read it as a pattern (wildcard, "
                "alternation, negation, regular expression or don't-care) and "
                f"select the mask for other values too: set {keyword} to the one "
                "value the mask is for"
            )


#: A header value usable as a Match key as it is (upper case, conditioned).
_PLAIN_VALUE = re.compile(r"-?[A-Z0-9][A-Z0-9_.+-]{0,67}")


def key_values(key: Any, parameters, substitutions) -> list[str | None] | None:
    """A Match key's values: a literal, None for a don't-care value, or
    None overall when a value is a pattern (a probe cannot stand for it)."""
    values = key if isinstance(key, tuple) else (key,)
    if len(values) != len(parameters):
        return None
    result: list[str | None] = []
    for parameter, value in zip(parameters, values, strict=True):
        text = condition_value(value)
        table = substitutions.get(parameter)
        if not isinstance(table, dict):
            table = DEFAULT_SUBSTITUTIONS.get(parameter, {})
        if text in ("N/A", "*", "ANY") or table.get(text) == "N/A":
            result.append(None)
        elif text in table or not _PLAIN_NAME.fullmatch(text):
            return None
        else:
            result.append(text)
    return result


def rules_naming(
    rmap: ReferenceMapping, filename: str
) -> list[tuple[tuple[str | None, ...], str]]:
    """The rules of a Match-over-UseAfter rmap that select `filename`.

    Returns
    -------
    list of (key, date)
        Each rule's Match values (None for a value matching anything, such
        as ``N/A`` or ``GENERIC``; a rule whose key is a pattern is left
        out) and its use-after date, ``'YYYY-MM-DD HH:MM:SS'``. Empty for an
        rmap of another shape, or one whose file cannot be read.

    Examples
    --------
    >>> from irisdq.crds import mapping_from_text
    >>> from irisdq.crds.cache import shipped_mapping_folder
    >>> path = shipped_mapping_folder() / "tmt_iris_mask_0001.rmap"
    >>> rmap = mapping_from_text(path.read_text(), path.name, path=path)
    >>> rules_naming(rmap, "tmt_iris_mask_0001.fits")
    [(('IRIS1', None), '2015-10-01 00:00:00')]
    """
    header = rmap.header
    levels = parkey_levels(header)
    if len(levels) != 2 or selector_names(header, 2) != ("Match", "UseAfter"):
        return []
    try:
        text = Path(rmap.path).read_text(encoding="utf-8") if rmap.path else ""
        parsed = parse_mapping(text, rmap.name)
    except (OSError, MappingError, UnicodeDecodeError):
        return []
    if not isinstance(parsed.selector, SelectorCall):
        return []
    substitutions = header.get("substitutions") or {}
    rules = []
    for key, inner, _ in parsed.selector.entries:
        values = key_values(key, levels[0], substitutions)
        if values is None or not isinstance(inner, SelectorCall):
            continue
        for date, leaf, _ in inner.entries:
            if leaf == filename and _valid_date(date):
                rules.append((tuple(values), useafter_key(date, "")))
    return rules


def rule_mismatch(rmap: ReferenceMapping, filename: str, keywords: dict) -> str:
    """What in a reference's header contradicts every rule naming it: a
    USEAFTER later than the rule's date, or a keyword a Match key names
    literally ('' when some rule agrees, or when the rmap is not Match over
    UseAfter and nothing can be told)."""
    rules = rules_naming(rmap, filename)
    if not rules:
        return ""
    try:
        useafter = useafter_key(keywords.get("USEAFTER", ""), "")
    except DeliveryError:
        useafter = None
    first = ""
    for key, date in rules:
        wanted, found = [], []
        for parameter, value in zip(rmap.parkey[0], key, strict=True):
            keyword = KEYWORDS.get(parameter)
            if keyword is None or value is None or keyword not in keywords:
                continue
            own = condition_value(keywords[keyword])
            # A full-frame mask serves any subarray rule: dq-init cuts it.
            full_frame = keyword == "SUBARRAY" and own in ("FULL", "GENERIC", "N/A")
            if own != value and not full_frame:
                wanted.append(f"{keyword} {value!r}")
                found.append(f"{keyword} {own!r}")
        # A USEAFTER before the rule's date is harmless: the file is valid
        # from earlier. One after it serves exposures it was not made for.
        if useafter is not None and useafter > date:
            wanted.append(f"USEAFTER {date} or earlier")
            found.append(f"USEAFTER {useafter}")
        if not wanted:
            return ""
        if not first:
            first = (
                f"{rmap.name} selects it from {date} for {', '.join(wanted)}, but "
                f"its header has {', '.join(found)}"
            )
    more = len(rules) - 1
    return first + (f" (and so for its {more} other rule(s))" if more else "")
