"""Planning a delivery: the new context that files masks, writing nothing.

As CRDS's refactoring and new-context tools do, :func:`plan_delivery`
reads each reference's ``INSTRUME``, ``REFTYPE``, ``USEAFTER`` and the
selection keywords its rmap's ``parkey`` names (mapped from FITS keywords
by the profile of the mask's pipeline, :func:`irisdq.profiles.mask_profile`),
and works out the new mappings: the next-numbered rmap with the rule
inserted (:mod:`irisdq.crds.admin.rules`), the next imap and pmap pointing
at it, each with ``derived_from`` naming the mapping it replaces and a
correct ``sha1sum`` (:mod:`irisdq.crds.admin.mapping_text`). Existing
mappings are never edited. Then every exposure a new rule could serve is
tried against the new rmap, to say which still get an older mask.
"""

import os
import pprint
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irisdq.crds.admin.mapping_text import format_mapping
from irisdq.crds.admin.new_context import (
    Delivery,
    DeliveryError,
    NewMapping,
    check_inside,
)
from irisdq.crds.admin.rules import (
    check_plain,
    file_subarray,
    insert_rule,
    key_values,
    parkey_levels,
    selector_names,
    subarray_parameter,
    useafter_key,
)
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
from irisdq.crds.mapping import (
    InstrumentMapping,
    PipelineMapping,
    ReferenceMapping,
    check_name,
    mapping_from_text,
)
from irisdq.crds.parser import SelectorCall, parse_mapping
from irisdq.crds.selectors import SelectionFailed
from irisdq.crds.values import condition_value
from irisdq.errors import IrisDQError, MappingError
from irisdq.profiles import Profile, mask_profile

__all__ = ["NEW_RMAP_PARKEY", "plan_delivery"]

#: The rmap layout given to a reference type that has no rmap yet.
NEW_RMAP_PARKEY = (
    ("META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME"),
    ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME"),
)
#: The REFTYPE values of a mask (compared in upper case): JWST and TMT say
#: MASK, Liger/IRIS (liger_iris_pipeline, observatory ligeriri) says dq.
#: Either is filed under whichever of the two the instrument's imap has.
_DELIVERABLE = ("MASK", "DQ")


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
        check_plain(header, parameters, profile, str(path))
        full_frame, second = file_subarray(
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
    check_inside(delivery)
    return delivery


@dataclass(slots=True, eq=False)
class _Filed:
    """A rule a delivery adds: its file, the reference's path, the
    parameters it was keyed by, and whether the mask is full frame."""

    filename: str
    where: str
    parameters: dict[str, Any]
    full_frame: bool
    profile: Profile


#: A value no rule names, standing for "any other value" in a probe.
_OTHER = "IRISDQ-OTHER-VALUE"


def _left_behind(header: dict, selector: SelectorCall, text: str, rule: _Filed):
    """Lines naming the exposures that the rule could serve but that the
    new rmap still gives an older mask at the rule's USEAFTER."""
    levels = parkey_levels(header)
    if selector_names(header, len(levels)) != ("Match", "UseAfter"):
        return []
    matched, dated = levels
    substitutions = header.get("substitutions") or {}
    new = key_values(
        tuple(rule.parameters[name] for name in matched), matched, substitutions
    )
    if new is None:
        return []
    keys = [
        (existing, key_values(existing, matched, substitutions))
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
    subarray = subarray_parameter(header, rule.profile)
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
