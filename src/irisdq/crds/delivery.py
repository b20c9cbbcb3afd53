"""Delivering a mask into a CRDS cache as a new context.

As CRDS's refactoring and new-context tools do, :func:`plan_delivery`
reads each reference's ``INSTRUME``, ``REFTYPE``, ``USEAFTER`` and the
selection keywords its rmap's ``parkey`` names (mapped from FITS keywords
by the profile of the mask's pipeline, :func:`irisdq.profiles.mask_profile`),
and writes new mappings: the
next-numbered rmap with the rule inserted, the next imap and pmap pointing
at it, each with ``derived_from`` naming the mapping it replaces and a
correct ``sha1sum``. Existing mappings are never edited.
:func:`write_delivery` installs the new files all or nothing.

The mapping text is generated without any file access
(:func:`format_mapping`), in CRDS's layout, so that both irisdq's parser
and the stock ``crds`` client load it.
"""

import contextlib
import difflib
import os
import pprint
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from irisdq.crds.cache import (
    CacheRoot,
    cache_root,
    default_context,
    find_mapping,
    locate_reference,
    observatory_of,
    read_server_config,
    shipped_mapping_folder,
)
from irisdq.crds.checksum import mapping_checksum
from irisdq.crds.mapping import (
    InstrumentMapping,
    PipelineMapping,
    ReferenceMapping,
    check_name,
    mapping_from_text,
)
from irisdq.crds.parser import (
    SelectorCall,
    comment_text,
    literal_text,
    parse_mapping,
)
from irisdq.crds.selectors import DEFAULT_SUBSTITUTIONS, SelectionFailed
from irisdq.crds.values import condition_value
from irisdq.errors import IrisDQError, MappingError
from irisdq.profiles import PROFILES, Profile, mask_profile

__all__ = [
    "Delivery",
    "DeliveryError",
    "NewMapping",
    "deliver",
    "format_mapping",
    "insert_rule",
    "plan_delivery",
    "rules_naming",
    "write_delivery",
]

#: The rmap layout given to a reference type that has no rmap yet.
NEW_RMAP_PARKEY = (
    ("META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME"),
    ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME"),
)
_DATE_PARAMETERS = frozenset({"META.OBSERVATION.DATE", "DATE-OBS"})
#: The REFTYPE values of a mask (compared in upper case): JWST and TMT say
#: MASK, Liger/IRIS (liger_iris_pipeline, observatory ligeriri) says dq.
#: Either is filed under whichever of the two the instrument's imap has.
_DELIVERABLE = ("MASK", "DQ")


class DeliveryError(IrisDQError, ValueError):
    """A reference cannot be delivered, or the new context cannot be written."""


@dataclass(slots=True, eq=False)
class NewMapping:
    """A mapping file that a delivery writes.

    Attributes
    ----------
    name : str
        Its file name, e.g. ``'tmt_0002.pmap'``.
    text : str
        Its whole text, ``sha1sum`` included.
    derived_from : str or None
        The mapping it replaces (None for a new rmap or a copied one).
    old_text : str
        The text of `derived_from` ('' when there is none).
    """

    name: str
    text: str
    derived_from: str | None = None
    old_text: str = ""

    def diff(self) -> str:
        """Return the unified diff from `derived_from` to this mapping."""
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.text.splitlines(keepends=True),
                fromfile=self.derived_from or "/dev/null",
                tofile=self.name,
            )
        )


@dataclass(slots=True, eq=False)
class Delivery:
    """What a delivery writes into a cache.

    Attributes
    ----------
    root : CacheRoot
        The cache.
    base : str
        The context the new one derives from.
    context : str
        The new context (pmap) name.
    mappings : list of NewMapping
        The new rmaps, imaps and pmap, in that order.
    copies : list of NewMapping
        Mappings shipped with irisdq that the old context uses, copied into
        the cache so that it holds both contexts whole.
    references : list of (pathlib.Path, pathlib.Path)
        Each reference file and where it goes in the cache.
    server_config : (pathlib.Path, str) or None
        The ``server_config`` file and its new text, with ``--set-operational``.
    left_behind : list of str
        One line per group of exposures that, from a new mask's USEAFTER
        on, the new context still gives an older mask (see
        :func:`plan_delivery`); empty when every exposure the new rule could
        serve gets it.
    """

    root: CacheRoot
    base: str
    context: str
    mappings: list[NewMapping] = field(default_factory=list)
    copies: list[NewMapping] = field(default_factory=list)
    references: list[tuple[Path, Path]] = field(default_factory=list)
    server_config: tuple[Path, str] | None = None
    left_behind: list[str] = field(default_factory=list)

    def diff(self) -> str:
        """Return the unified diffs of every new mapping, one after another."""
        return "".join(mapping.diff() for mapping in self.mappings)

    @property
    def mapping_folder(self) -> Path:
        """The cache folder of the context's observatory's mappings."""
        return self.root.path / "mappings" / observatory_of(self.base)

    def files(self) -> list[Path]:
        """Return the cache files the delivery writes, in writing order."""
        folder = self.mapping_folder
        paths = [folder / mapping.name for mapping in self.copies]
        paths += [target for _, target in self.references]
        paths += [folder / mapping.name for mapping in self.mappings]
        if self.server_config is not None:
            paths.append(self.server_config[0])
        return paths


# -- mapping text ------------------------------------------------------------


def format_mapping(header: dict, selector: Any, comment: str | None = None) -> str:
    """Return the text of a mapping in CRDS's layout, its ``sha1sum`` set.

    Parameters
    ----------
    header : dict
        The header; its ``sha1sum`` entry is replaced. Keys are written
        sorted, as CRDS writes them.
    selector : dict or SelectorCall
        A plain dict (pmap, imap) or a selector tree (rmap).
    comment : str, optional
        The ``comment`` block's text.

    Returns
    -------
    str

    Examples
    --------
    >>> text = format_mapping({"mapping": "PIPELINE", "name": "tmt_0009.pmap"},
    ...                       {"IRIS": "tmt_iris_0009.imap"})
    >>> print(text)  # doctest: +ELLIPSIS
    header = {
        'mapping' : 'PIPELINE',
        'name' : 'tmt_0009.pmap',
        'sha1sum' : '...',
    }
    <BLANKLINE>
    selector = {
        'IRIS' : 'tmt_iris_0009.imap',
    }
    <BLANKLINE>
    """
    header = {**header, "sha1sum": "0" * 40}
    parts = [f"header = {_format_value(dict(sorted(header.items())), 0)}\n\n"]
    if comment is not None:
        parts.append(f"comment = {comment_text(comment)}\n\n")
    parts.append(f"selector = {_format_value(selector, 0)}\n")
    text = "".join(parts)
    placeholder = f"'sha1sum' : '{'0' * 40}',"
    return text.replace(placeholder, f"'sha1sum' : '{mapping_checksum(text)}',", 1)


def _format_value(value: Any, indent: int) -> str:
    inner = " " * (indent + 4)
    if isinstance(value, SelectorCall):
        lines = [f"{value.name}({{"]
        for key, item, _ in value.entries:
            lines.append(
                f"{inner}{literal_text(key)} : {_format_value(item, indent + 4)},"
            )
        lines.append(" " * indent + "})")
        return "\n".join(lines)
    if isinstance(value, dict):
        lines = ["{"]
        for key, item in value.items():
            lines.append(
                f"{inner}{literal_text(key)} : {_format_value(item, indent + 4)},"
            )
        lines.append(" " * indent + "}")
        return "\n".join(lines)
    return literal_text(value)


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


def _selector_names(header: dict, depth: int) -> tuple[str, ...]:
    classes = header.get("classes")
    if isinstance(classes, tuple | list) and len(classes) == depth:
        return tuple(str(name) for name in classes)
    return tuple(
        "UseAfter" if set(level) & _DATE_PARAMETERS else "Match"
        for level in _levels(header)
    )


def _levels(header: dict) -> tuple[tuple[str, ...], ...]:
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
    levels = _levels(header)
    names = _selector_names(header, len(levels))
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


# -- planning ------------------------------------------------------------------


def _next_name(prefix: str, extension: str, root: CacheRoot, taken: set[str]) -> str:
    pattern = re.compile(rf"{re.escape(prefix)}(\d+){re.escape(extension)}")
    numbers = [0]
    folders = [
        root.path / "mappings" / observatory_of(prefix),
        shipped_mapping_folder(),
    ]
    for folder in folders:
        if folder.is_dir():
            numbers += [
                int(found[1])
                for entry in os.scandir(folder)
                if (found := pattern.fullmatch(entry.name))
            ]
    numbers += [int(found[1]) for name in taken if (found := pattern.fullmatch(name))]
    return f"{prefix}{max(numbers) + 1:04d}{extension}"


def _read(name: str, root: CacheRoot) -> tuple[str, bool]:
    path, shipped = find_mapping(name, root)
    return path.read_text(encoding="utf-8"), shipped


def _check_reference(path: Path) -> dict[str, Any]:
    """Return the keywords of a deliverable mask, after opening it as one."""
    from irisdq.datamodels import TMTMaskModel, read_keywords

    keywords = read_keywords(path)
    reftype = str(keywords.get("REFTYPE", "")).strip().upper()
    if reftype not in _DELIVERABLE:
        found = f"REFTYPE {keywords['REFTYPE']!r}" if reftype else "no REFTYPE keyword"
        raise DeliveryError(
            f"{path}: {found}; irisdq crds add delivers masks (REFTYPE 'MASK', "
            "or 'dq' for Liger/IRIS) only"
        )
    for keyword in ("INSTRUME", "USEAFTER"):
        if not str(keywords.get(keyword, "")).strip():
            raise DeliveryError(
                f"{path}: no {keyword} keyword; add it to the primary header"
            )
    # Opening it checks the checksums, the DQ array and its flag values.
    with TMTMaskModel(path, accept_bad_checksums=False) as mask:
        _ = mask.dq
    return keywords


def plan_delivery(
    references: list[str | os.PathLike],
    context: str | None = None,
    *,
    replace: bool = False,
    set_operational: bool = False,
    subarray: str | None = None,
) -> Delivery:
    """Work out the new context that delivers `references`, writing nothing.

    A full-frame mask (``SUBARRAY`` ``FULL`` or ``GENERIC``) serves every
    subarray, as dq-init cuts any subarray out of it: where the rmap selects
    on the subarray it is filed under the key that matches any subarray
    (``GENERIC``, which CRDS reads as ``N/A``, as JWST files its full-frame
    masks), unless `subarray` names the one to file it under. Then every
    exposure the rule could serve is tried at the mask's USEAFTER against the
    new rmap; those that still get an older mask (a more specific rule, or
    other subarrays when a full-frame mask is filed for one) are listed in
    ``Delivery.left_behind``.

    Parameters
    ----------
    references : list of path
        Mask files (``REFTYPE = 'MASK'``) with ``INSTRUME``, ``USEAFTER``
        and the keywords the instrument's mask rmap selects on.
    context : str, optional
        The context to derive from; by default the one in use
        (see :func:`irisdq.crds.default_context`).
    replace : bool, optional
        Replace a rule that selects the same keys instead of refusing.
    set_operational : bool, optional
        Also make the new context the cache's ``operational_context``.
    subarray : str, optional
        The subarray the masks are filed under: ``'any'`` (every subarray,
        the default for a full-frame mask) or a name such as ``'FULL'``
        (the default for any other mask is its own ``SUBARRAY``).

    Returns
    -------
    Delivery

    Raises
    ------
    DeliveryError
        A reference cannot be delivered (not a mask, a keyword missing, a
        clash, a name already in the cache, `subarray` given for an rmap
        that does not select on the subarray).
    MappingError, DataModelError
        A mapping of the context, or a reference file, is unusable.
    """
    root = cache_root()
    if root.source == "CRDS_PATH" and not root.exists:
        # A mistyped CRDS_PATH must not grow a new cache.
        raise DeliveryError(
            f"the CRDS cache folder {root.path} does not exist "
            f"({root.describe()}); create it, or correct CRDS_PATH"
        )
    if context:
        base = str(context).strip()
    else:
        # The context of the references' own observatory (CRDS_OBSERVATORY
        # still wins): a Liger dq mask goes into the ligeriri context.
        first = _check_reference(Path(references[0])) if references else {}
        base = default_context(root, mask_profile(first).observatory)[0]
    pmap_text, _ = _read(base, root)
    pmap = mapping_from_text(pmap_text, base)
    if not isinstance(pmap, PipelineMapping):
        raise MappingError(f"{base}: the context must be a PIPELINE mapping")
    taken: set[str] = set()
    seen_names: set[str] = set()
    rmaps: dict[
        tuple[str, str], tuple[dict, SelectorCall, str | None, str, str | None]
    ] = {}
    imaps: dict[str, str] = {}
    filed: dict[tuple[str, str], list[_Filed]] = {}
    named: dict[str, str] | None = None
    delivery = Delivery(root, base, "")
    for reference in references:
        path = Path(reference)
        keywords = _check_reference(path)
        filename = check_name(path.name, str(path), "reference file")
        if filename.lower().endswith((".pmap", ".imap", ".rmap")):
            raise DeliveryError(
                f"{path}: a reference named like a mapping ({filename}) would be "
                "taken for one by CRDS tools; name it as a reference, e.g. "
                f"{Path(filename).stem}.fits"
            )
        if filename in seen_names:
            raise DeliveryError(f"{path}: {filename} is given twice; give it once")
        seen_names.add(filename)
        instrument = condition_value(keywords["INSTRUME"])
        imap_name = pmap.table.get(instrument)
        if imap_name in (None, "N/A"):
            raise DeliveryError(
                f"{path}: INSTRUME {instrument!r} has no instrument mapping in "
                f"{base} (instruments: {', '.join(pmap.instruments())}); "
                "deliver a reference of a known instrument"
            )
        imap = mapping_from_text(_read(imap_name, root)[0], imap_name)
        if not isinstance(imap, InstrumentMapping):
            raise MappingError(f"{base}: {imap_name} is not an instrument mapping")
        imaps[instrument] = imap_name
        reftype = _filed_reftype(condition_value(keywords["REFTYPE"]), imap)
        if named is None:
            named = _references_named(pmap, root)
        if filename in named:
            raise DeliveryError(
                f"{path}: {named[filename]} of {base} already names a reference "
                f"{filename}; delivered under that name, the mask would take "
                "over that rule's exposures too: rename the file"
            )
        target, present = locate_reference(filename, instrument, root, pmap.observatory)
        if present:
            raise DeliveryError(
                f"{path}: a reference named {filename} is already in the cache "
                f"({target}); reference names are unique: rename the file"
            )
        delivery.references.append((path, target))
        key = (instrument, reftype)
        if key in rmaps:
            source = "an earlier mask of this delivery"
        else:
            rmaps[key] = _rmap_start(imap, reftype, instrument, root, taken)
            source = rmaps[key][2]
        header, selector, old_name, old_text, comment = rmaps[key]
        profile = mask_profile(keywords)
        parameters = profile.crds_parameters(keywords)
        parameters["USEAFTER"] = keywords["USEAFTER"]
        _check_plain(header, parameters, profile, str(path))
        full_frame, second = _file_subarray(
            header, selector, parameters, subarray, profile, str(path)
        )
        for keyed in (parameters, second):
            if keyed is not None:
                selector = insert_rule(
                    header,
                    selector,
                    keyed,
                    filename,
                    str(path),
                    replace,
                    source,
                    profile,
                )
        rmaps[key] = (header, selector, old_name, old_text, comment)
        filed.setdefault(key, []).append(
            _Filed(filename, str(path), parameters, full_frame, profile)
        )
    # New rmaps, then the imaps that point at them, then the pmap.
    new_rmaps: dict[tuple[str, str], str] = {}
    for (instrument, reftype), (
        header,
        selector,
        old_name,
        old_text,
        comment,
    ) in rmaps.items():
        text = format_mapping(header, selector, comment)
        delivery.mappings.append(NewMapping(header["name"], text, old_name, old_text))
        new_rmaps[(instrument, reftype)] = header["name"]
        for rule in filed[(instrument, reftype)]:
            delivery.left_behind += _left_behind(header, selector, text, rule)
    new_imaps: dict[str, str] = {}
    for instrument, imap_name in imaps.items():
        changes = {
            reftype: name
            for (inst, reftype), name in new_rmaps.items()
            if inst == instrument
        }
        name = _next_name(
            f"{pmap.observatory}_{instrument.lower()}_", ".imap", root, taken
        )
        taken.add(name)
        delivery.mappings.append(_derive(imap_name, name, changes, root))
        new_imaps[instrument] = name
    delivery.context = _next_name(f"{pmap.observatory}_", ".pmap", root, taken)
    delivery.mappings.append(_derive(base, delivery.context, new_imaps, root))
    for mapping in delivery.mappings:
        # Both the new text and irisdq's reading of it must hold.
        mapping_from_text(mapping.text, mapping.name)
    delivery.copies = _shipped_copies(pmap, root)
    if set_operational:
        delivery.server_config = _server_config(root, delivery.context)
    _check_inside(delivery)
    return delivery


def _check_inside(delivery: Delivery) -> None:
    """Refuse a delivery any of whose files, links resolved, would be
    written outside the cache (a linked folder inside it). Folders named
    by IRISDQ_CRDS_LINK_ROOTS are shared stores to read, never written."""
    inside = os.path.join(os.path.realpath(delivery.root.path), "")
    for path in delivery.files():
        real = os.path.realpath(path)
        if not real.startswith(inside):
            raise DeliveryError(
                f"{path} leads to {real}, outside the CRDS cache "
                f"{delivery.root.path}, through a link; crds add writes only "
                "inside the cache: replace the link by a folder of the cache"
            )


#: SUBARRAY values of a mask that covers the whole detector.
_FULL_FRAME = frozenset({"FULL", "GENERIC", "N/A", "*"})
_PLAIN_NAME = re.compile(r"[A-Z0-9][A-Z0-9_.+-]{0,67}")


@dataclass(slots=True, eq=False)
class _Filed:
    """A rule a delivery adds: its file, the reference's path, the
    parameters it was keyed by, and whether the mask is full frame."""

    filename: str
    where: str
    parameters: dict[str, Any]
    full_frame: bool
    profile: Profile


def _subarray_parameter(header: dict, profile: Profile) -> str | None:
    for level in _levels(header):
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


def _file_subarray(
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
    parameter = _subarray_parameter(header, profile)
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
        level = _levels(header)[0]
        try:
            key = _level_key(level, "Match", keyed, where, profile)
        except DeliveryError:
            key = None
        if key is not None and any(
            _key_matches(existing, key, "Match") for existing, _, _ in selector.entries
        ):
            second = keyed
    return full_frame, second


def _check_plain(
    header: dict, parameters: dict[str, Any], profile: Profile, where: str
) -> None:
    """Refuse a header value that, as a Match key, would be a pattern.

    CRDS reads ``*``, ``A|B``, ``NOT A``, ``(regex)``, ``{x}``, ``N/A``,
    relations and ranges in a key as patterns: a mask whose DETECTOR is
    ``*`` would be selected for every detector. A key made from a header
    must be the one value the mask is for.
    """
    levels = _levels(header)
    names = _selector_names(header, len(levels))
    subarray = _subarray_parameter(header, profile)
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

#: A value no rule names, standing for "any other value" in a probe.
_OTHER = "IRISDQ-OTHER-VALUE"


def _key_values(key: Any, parameters, substitutions) -> list[str | None] | None:
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


def _left_behind(header: dict, selector: SelectorCall, text: str, rule: _Filed):
    """Lines naming the exposures that the rule could serve but that the
    new rmap still gives an older mask at the rule's USEAFTER."""
    levels = _levels(header)
    if _selector_names(header, len(levels)) != ("Match", "UseAfter"):
        return []
    matched, dated = levels
    substitutions = header.get("substitutions") or {}
    new = _key_values(
        tuple(rule.parameters[name] for name in matched), matched, substitutions
    )
    if new is None:
        return []
    keys = [
        (existing, _key_values(existing, matched, substitutions))
        for existing, _, _ in selector.entries
    ]
    # (probe values, the rule it stands for or None, what it says)
    probes: list[tuple[list[str], Any, list[str]]] = []
    for existing, values in keys:
        if values is None:
            continue
        probe = []
        for value, wanted in zip(values, new, strict=True):
            if value is None:
                probe.append(_OTHER if wanted is None else wanted)
            elif wanted is None or wanted == value:
                probe.append(value)
            else:
                break
        else:
            shown = [
                f"{rule.profile.keyword_of(name) or name}={value}"
                for name, value in zip(matched, probe, strict=True)
                if value != _OTHER
            ]
            probes.append((probe, existing, shown))
    subarray = _subarray_parameter(header, rule.profile)
    if rule.full_frame and subarray in matched:
        index = matched.index(subarray)
        if new[index] is not None:
            # Filed for one subarray: the others could use it too.
            probe = [_OTHER if value is None else value for value in new]
            probe[index] = _OTHER
            named = sorted(
                {values[index] for _, values in keys if values and values[index]}
            )
            keyword = rule.profile.keyword_of(subarray) or subarray
            shown = [
                f"{rule.profile.keyword_of(name) or name}={value}"
                for name, value in zip(matched, probe, strict=True)
                if value != _OTHER
            ]
            shown.append(f"{keyword} other than {'/'.join(named)}")
            probes.append((probe, None, shown))
    rmap = mapping_from_text(text, header["name"])
    moment = useafter_key(rule.parameters["USEAFTER"], rule.where)
    dates = moment.split(" ") if len(dated) == 2 else [moment]
    lines = []
    for probe, existing, shown in probes:
        values = dict.fromkeys(rmap.parameters, "UNDEFINED")
        values.update(zip(matched, probe, strict=True))
        values.update(zip(dated, dates, strict=True))
        try:
            chosen = rmap.selector.choose(values)
        except (SelectionFailed, IrisDQError):
            continue
        if not isinstance(chosen, str) or chosen in (rule.filename, "N/A"):
            continue
        if existing is None:
            remedy = "give --subarray any to file it for every subarray"
        else:
            remedy = (
                f"its rule {existing!r} is more specific; deliver a mask for "
                "them too if they should not keep theirs"
            )
        lines.append(
            f"{rule.where}: exposures of {' '.join(shown) or 'any kind'} from "
            f"{moment} on still get {chosen}, not {rule.filename} "
            f"({header['name']}: {remedy})"
        )
    return lines


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
    levels = _levels(header)
    if len(levels) != 2 or _selector_names(header, 2) != ("Match", "UseAfter"):
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
        values = _key_values(key, levels[0], substitutions)
        if values is None or not isinstance(inner, SelectorCall):
            continue
        for date, leaf, _ in inner.entries:
            if leaf == filename and _valid_date(date):
                rules.append((tuple(values), useafter_key(date, "")))
    return rules


def _references_named(pmap: PipelineMapping, root: CacheRoot) -> dict[str, str]:
    """Every reference name the rules of the context name, with the rmap
    naming it; rmaps the cache lacks (and cannot be read) are passed over."""
    named: dict[str, str] = {}
    for imap_name in pmap.table.values():
        if imap_name == "N/A":
            continue
        try:
            imap = mapping_from_text(_read(imap_name, root)[0], imap_name)
        except (MappingError, OSError):
            continue
        for rmap_name in imap.children():
            try:
                rmap = mapping_from_text(_read(rmap_name, root)[0], rmap_name)
            except (MappingError, OSError):
                continue
            for filename in rmap.children():
                named.setdefault(filename, rmap_name)
    return named


def _filed_reftype(reftype: str, imap) -> str:
    """The reference type of `imap` a mask of REFTYPE `reftype` is filed
    under: its own when the imap has it, else its alias (a ``dq`` mask in a
    context that calls masks ``mask``, and the reverse), else its own."""
    if reftype in imap.table:
        return reftype
    alias = next(name for name in _DELIVERABLE if name != reftype)
    return alias if alias in imap.table else reftype


def _rmap_start(imap, reftype, instrument, root, taken):
    """Return (header, selector, derived_from, old text, comment) of a new rmap."""
    old_name = imap.table.get(reftype)
    prefix = f"{imap.observatory}_{instrument.lower()}_{reftype.lower()}_"
    name = _next_name(prefix, ".rmap", root, taken)
    taken.add(name)
    if old_name not in (None, "N/A"):
        old_text = _read(old_name, root)[0]
        old = mapping_from_text(old_text, old_name)
        if not isinstance(old, ReferenceMapping):
            raise MappingError(f"{imap.name}: {old_name} is not a reference mapping")
        parsed = parse_mapping(old_text, old_name)
        header = {**parsed.header, "name": name, "derived_from": old_name}
        return header, parsed.selector, old_name, old_text, parsed.comment
    header = {
        "classes": ("Match", "UseAfter"),
        "derived_from": "generated by irisdq crds add",
        "file_ext": ".fits",
        "filekind": reftype,
        "filetype": reftype,
        "instrument": instrument,
        "mapping": "REFERENCE",
        "name": name,
        "observatory": imap.observatory.upper(),
        "parkey": NEW_RMAP_PARKEY,
        "suffix": reftype.lower(),
        "text_descr": f"{reftype.title()} reference",
    }
    return header, SelectorCall("Match", [], 0), None, "", None


def _derive(old_name: str, name: str, changes: dict[str, str], root: CacheRoot):
    """Return the pmap or imap `name`: `old_name` with `changes` to its table."""
    old_text = _read(old_name, root)[0]
    parsed = parse_mapping(old_text, old_name)
    entries = {}
    for key, value, _ in parsed.selector_entries:
        entries[key] = changes.get(condition_value(key), value)
    written = {condition_value(key) for key in entries}
    for key, value in changes.items():
        if key not in written:
            entries[key.lower() if name.endswith(".imap") else key] = value
    header = {**parsed.header, "name": name, "derived_from": old_name}
    text = format_mapping(header, entries, parsed.comment)
    return NewMapping(name, text, old_name, old_text)


def _shipped_copies(pmap: PipelineMapping, root: CacheRoot) -> list[NewMapping]:
    """Return the shipped mappings of the old context, to copy into the cache.

    A mapping of another reference type that the cache never fetched (a
    synced cache holds only what its users asked for) is passed over: the
    delivery neither reads nor changes it, and the new imap names it as the
    old one did."""
    copies = []
    names = [pmap.name]
    for name in names:
        try:
            path, shipped = find_mapping(name, root)
        except MappingError:
            continue
        if name.endswith(".rmap"):
            if shipped:
                copies.append(NewMapping(name, path.read_text(encoding="utf-8")))
            continue
        text = path.read_text(encoding="utf-8")
        if shipped:
            copies.append(NewMapping(name, text))
        mapping = mapping_from_text(text, name)
        names += [child for child in mapping.children() if child not in names]
    return copies


def _server_config(root: CacheRoot, context: str) -> tuple[Path, str]:
    path = root.path / "config" / observatory_of(context) / "server_config"
    settings: dict = {}
    if path.exists():
        try:
            settings = read_server_config(path)
        except MappingError as exc:
            raise DeliveryError(
                f"{exc}, or deliver without --set-operational"
            ) from None
    settings = {**settings, "operational_context": context}
    return path, pprint.pformat(settings, sort_dicts=False) + "\n"


# -- writing -------------------------------------------------------------------


def write_delivery(delivery: Delivery) -> None:
    """Install a delivery's files in the cache, all of them or none.

    Every file is first written to a temporary file beside its final name;
    only when all are written are they moved in, new files by hard link
    (which never replaces a file that appeared meanwhile), ``server_config``
    last, by rename. On any failure the files already moved in, the
    temporary files and the folders made are removed, leaving the cache as
    it was.

    Raises
    ------
    DeliveryError
        If a file would be written outside the cache through a link, or
        writing or moving a file fails (the cache is left as it was).
    """
    _check_inside(delivery)
    created: list[Path] = []
    staged: list[tuple[Path, Path, bool]] = []
    installed: list[Path] = []
    folder = delivery.mapping_folder
    try:
        for mapping in delivery.copies:
            staged.append(_stage_text(folder / mapping.name, mapping.text, created))
        for source, target in delivery.references:
            staged.append(_stage_copy(source, target, created))
        for mapping in delivery.mappings:
            staged.append(_stage_text(folder / mapping.name, mapping.text, created))
        if delivery.server_config is not None:
            path, text = delivery.server_config
            temporary, _, _ = _stage_text(path, text, created)
            staged.append((temporary, path, True))
        for temporary, final, replace in staged:
            _install(temporary, final, replace)
            installed.append(final)
    except (OSError, IrisDQError) as exc:
        # server_config is moved in last: every file moved in is a new one.
        for final in reversed(installed):
            _remove(final)
        for temporary, _, _ in staged:
            _remove(temporary)
        for made in reversed(created):
            with contextlib.suppress(OSError):
                made.rmdir()
        if isinstance(exc, FileExistsError):
            # Names are chosen when planned: a delivery that ran meanwhile
            # took them (a hard link never replaces a file).
            raise DeliveryError(
                f"another delivery got there first: {exc.filename2 or exc.filename} "
                f"appeared in {delivery.root.path} after context "
                f"{delivery.context} was planned; nothing was changed: run the "
                "delivery again, to derive from the cache as it is now"
            ) from exc
        raise DeliveryError(
            f"writing context {delivery.context} into {delivery.root.path} "
            f"failed ({exc}); nothing was changed"
        ) from exc


def _make_folder(folder: Path, created: list[Path]) -> None:
    missing = []
    for parent in (folder, *folder.parents):
        if parent.is_dir():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)


def _stage_text(final: Path, text: str, created: list[Path]) -> tuple[Path, Path, bool]:
    _make_folder(final.parent, created)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    with os.fdopen(handle, "wb") as stream:
        stream.write(text.encode("utf-8"))
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(name, 0o644)
    return Path(name), final, False


def _stage_copy(
    source: Path, final: Path, created: list[Path]
) -> tuple[Path, Path, bool]:
    _make_folder(final.parent, created)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    with os.fdopen(handle, "wb") as stream, source.open("rb") as origin:
        shutil.copyfileobj(origin, stream, 1 << 20)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(name, 0o644)
    return Path(name), final, False


def _install(temporary: Path, final: Path, replace: bool) -> None:
    if replace:
        if final.is_symlink() or (final.exists() and not final.is_file()):
            raise DeliveryError(f"{final} is not a regular file; refused to replace it")
        os.replace(temporary, final)
        return
    # A hard link fails if the name exists: nothing is ever overwritten.
    os.link(temporary, final)
    os.unlink(temporary)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def deliver(
    references: list[str | os.PathLike],
    context: str | None = None,
    *,
    dry_run: bool = False,
    replace: bool = False,
    set_operational: bool = False,
    subarray: str | None = None,
) -> Delivery:
    """Deliver masks into the cache as a new context (see the module doc).

    Parameters
    ----------
    references : list of path
        The masks.
    context : str, optional
        The context to derive from (default: the one in use).
    dry_run : bool, optional
        Work out the delivery and write nothing.
    replace, set_operational : bool, optional
        See :func:`plan_delivery`.
    subarray : str, optional
        See :func:`plan_delivery`.

    Returns
    -------
    Delivery
        What was written (or would be, with `dry_run`).
    """
    delivery = plan_delivery(
        references,
        context,
        replace=replace,
        set_operational=set_operational,
        subarray=subarray,
    )
    if not dry_run:
        write_delivery(delivery)
    return delivery
