"""Check a bad-pixel mask before it is delivered: flags, table, placement, CRDS.

:func:`check_mask` is pure: it takes the mask's DQ array as stored, its
``DQ_DEF`` rows and its primary-header keywords, and returns a list of
:class:`Finding`. :func:`check_mask_file` reads a file and calls it; it
also reports what :class:`~irisdq.datamodels.TMTMaskModel` itself refuses
or warns about (checksums that do not match, a table it cannot read).

What is checked:

- ``dq_value``: DQ values that are not combinations of the flags the file
  names (its ``DQ_DEF`` table, else the pipeline's flags), or not
  non-negative integers;
- ``dq_def``: table rows whose VALUE is not one bit, whose BIT is not that
  bit's number, whose NAME is not a pipeline flag, that repeat a value or a
  name, or that give a pipeline flag another flag's bit (a row named DEAD
  with HOT's value);
- ``do_not_use``: pixels with a severe flag (DEAD, HOT, OPEN,
  REFERENCE_PIXEL by default: :data:`DEFAULT_SEVERE`)
  but not DO_NOT_USE: the pipeline would still use them, a known cause of
  bad science in JWST data;
- ``dq_bits``: flags the DQ of the ramps the mask is for cannot hold (a
  Liger ramp's uint16 DQ: bits 0-15), on which DQ initialization stops;
- ``placement``: the shape against SUBSIZE1/2, the detector size and
  SUBSTRT1/2;
- ``selection``: keywords the context's mask rmap selects on that are
  missing, and a mask that matches none of its rules;
- ``checksum``: DATASUM/CHECKSUM that do not match (from the file reader);
- ``refused``: anything else the DQ init step's reader refuses, when none
  of the checks above explains it.
"""

import datetime
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from irisdq import dqflags
from irisdq.crds.admin.check import Finding
from irisdq.dqflags import DQDefRow
from irisdq.errors import IrisDQError
from irisdq.layouts import detector_shape
from irisdq.reffiles.thresholds import DEFAULT_DO_NOT_USE

__all__ = ["DEFAULT_SEVERE", "Finding", "check_mask", "check_mask_file"]

#: Flags that make a pixel unusable on their own: a pixel with one of them
#: must also carry DO_NOT_USE, or later steps still use it. The one policy
#: of ``mask create``, ``mask build`` and the demo.
DEFAULT_SEVERE = DEFAULT_DO_NOT_USE

_DO_NOT_USE = int(dqflags.pixel["DO_NOT_USE"])
_DATE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2}))?")


_DATE_PARAMETERS = ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME")


def check_mask(
    dq: Any,
    dq_def: Iterable[DQDefRow] | None,
    keywords: Mapping[str, Any],
    *,
    context: Any = None,
    severe: Iterable[str] = DEFAULT_SEVERE,
    flag_map=dqflags.pixel,
    dq_bits: int = 32,
) -> list[Finding]:
    """Return the problems of a mask, from its arrays and keywords.

    Parameters
    ----------
    dq : array_like
        The DQ array as stored in the file (the file's own bit values).
    dq_def : iterable of DQDefRow or None
        The file's ``DQ_DEF`` rows, or None when it has no table (its values
        are then the pipeline's flags).
    keywords : Mapping
        The primary-header keywords (``DETECTOR``, ``SUBARRAY``,
        ``SUBSTRT1``, ``USEAFTER``, ...).
    context : irisdq.crds.Context, optional
        The CRDS context whose mask rmap must be able to select this mask;
        None skips the selection checks.
    severe : iterable of str, optional
        Flags that must come with DO_NOT_USE (default :data:`DEFAULT_SEVERE`:
        DEAD, HOT, OPEN, REFERENCE_PIXEL).
    flag_map : BitFlagNameMap, optional
        The pipeline flags (:data:`irisdq.dqflags.pixel`).
    dq_bits : int, optional
        The bits of the DQ array of the ramps the mask is for (16 for a
        Liger ramp's uint16 DQ); flags above them are reported.

    Returns
    -------
    list of Finding
        Empty when nothing is wrong.

    Raises
    ------
    FlagError
        If a name in `severe` is not a flag.

    Examples
    --------
    >>> import numpy as np
    >>> dq = np.zeros((4096, 4096), dtype=np.uint32)
    >>> dq[5, 5] = 1024                          # DEAD without DO_NOT_USE
    >>> keywords = {"DETECTOR": "IRIS1", "SUBARRAY": "FULL"}
    >>> for finding in check_mask(dq, None, keywords):
    ...     print(finding)
    do_not_use: 1 pixel(s) flagged DEAD without DO_NOT_USE, e.g. (x, y) = (5, 5)...
    >>> dq[5, 5] |= 1
    >>> check_mask(dq, None, keywords)
    []
    """
    severe_bits = {
        flag.strip().upper(): dqflags.encode_flags(flag, flag_map) for flag in severe
    }
    findings: list[Finding] = []
    array = np.asarray(dq)
    rows = None if dq_def is None else list(dq_def)
    stored = _flag_array(array, findings)
    if rows is not None:
        _check_dq_def(rows, flag_map, findings)
    if stored is not None:
        pipeline = _check_values(stored, rows, flag_map, findings)
        _check_do_not_use(pipeline, severe_bits, findings)
        _check_dq_bits(pipeline, dq_bits, flag_map, findings)
    _check_placement(array.shape, keywords, findings)
    if context is not None:
        _check_selection(keywords, context, findings)
    return findings


def _flag_array(array: np.ndarray, findings: list[Finding]) -> np.ndarray | None:
    try:
        return dqflags.flag_values(array, np.uint32, "DQ")
    except IrisDQError as exc:
        findings.append(Finding("dq_value", f"{exc}; write uint32 flags"))
        return None


def _check_dq_def(rows: list[DQDefRow], flag_map, findings: list[Finding]) -> None:
    seen_values: dict[int, str] = {}
    seen_names: set[str] = set()
    for number, row in enumerate(rows, start=1):
        label = f"DQ_DEF row {number} ({row.name!r}, VALUE {row.value})"
        value, flag = int(row.value), str(row.name).strip().upper()
        if value == 0:
            if flag not in ("GOOD", ""):
                findings.append(
                    Finding(
                        "dq_def",
                        f"{label}: VALUE 0 is GOOD, not a flag; give it its bit",
                    )
                )
            continue
        if not 0 < value < 1 << 32 or value & (value - 1):
            findings.append(
                Finding(
                    "dq_def",
                    f"{label}: VALUE is not one bit (a power of two below 2**32); "
                    "the DQ init step refuses the mask: give each flag its own row",
                )
            )
            continue
        if row.bit >= 0 and row.bit != value.bit_length() - 1:
            findings.append(
                Finding(
                    "dq_def",
                    f"{label}: BIT is {row.bit} but VALUE is bit "
                    f"{value.bit_length() - 1}; fix BIT",
                )
            )
        if flag not in flag_map:
            findings.append(
                Finding(
                    "dq_def",
                    f"{label}: {row.name!r} is not a pipeline flag name, so its "
                    "pixels lose that flag when the mask is used; rename it to "
                    "a flag of 'irisdq flags list'",
                )
            )
        else:
            expected = int(flag_map[flag])
            owner = _flag_of(value, flag_map)
            if expected != value:
                findings.append(
                    Finding(
                        "dq_def",
                        f"{label}: the convention gives {flag} the value "
                        f"{expected}, and {value} is {owner}'s; write the mask in "
                        "the pipeline's flags, or check the name is right",
                    )
                )
        if value in seen_values:
            findings.append(
                Finding(
                    "dq_def",
                    f"{label}: VALUE {value} is also {seen_values[value]!r}; one "
                    "row per bit",
                )
            )
        if flag in seen_names:
            findings.append(
                Finding("dq_def", f"{label}: the name appears twice; one row a name")
            )
        seen_values.setdefault(value, str(row.name))
        seen_names.add(flag)


def _flag_of(value: int, flag_map) -> str:
    names = dqflags.decode_flags(value, flag_map)
    return names[0] if names else str(value)


def _check_values(
    dq: np.ndarray, rows: list[DQDefRow] | None, flag_map, findings
) -> np.ndarray:
    """Report bits the file does not name; return the flags in pipeline terms."""
    if rows is None:
        known = 0
        for flag in flag_map:
            known |= int(flag_map[flag])
        mapping = None
    else:
        valid = [
            row
            for row in rows
            if 0 < int(row.value) < 1 << 32
            and not int(row.value) & (int(row.value) - 1)
        ]
        known = 0
        for row in valid:
            known |= int(row.value)
        mapping, _ = dqflags.dq_def_mapping(valid, flag_map)
    unknown = np.uint32(~known & 0xFFFFFFFF)
    bad = (dq & unknown) != 0
    count = int(np.count_nonzero(bad))
    if count:
        present = int(np.bitwise_or.reduce(dq[bad], axis=None)) & ~known
        y, x = (int(i) for i in np.argwhere(bad)[0])
        source = "DQ_DEF" if rows is not None else "the flag convention"
        findings.append(
            Finding(
                "dq_value",
                f"{count} pixel(s) have bit value(s) "
                f"{dqflags.bit_values(present)} that {source} does not name, "
                f"e.g. {int(dq[y, x])} at (x, y) = "
                f"({x}, {y}); the DQ init step drops them: add the rows or "
                "clear the bits",
            )
        )
    if mapping is None or dqflags.is_identity(mapping):
        return dq
    return dqflags.remap_flags(dq, mapping)


def _check_do_not_use(
    dq: np.ndarray, severe_bits: dict[str, int], findings: list[Finding]
) -> None:
    usable = (dq & np.uint32(_DO_NOT_USE)) == 0
    for flag, bits in severe_bits.items():
        bad = usable & ((dq & np.uint32(bits)) != 0)
        count = int(np.count_nonzero(bad))
        if count:
            y, x = (int(i) for i in np.argwhere(bad)[0])
            findings.append(
                Finding(
                    "do_not_use",
                    f"{count} pixel(s) flagged {flag} without DO_NOT_USE, e.g. "
                    f"(x, y) = ({x}, {y}); later steps would still use them: add "
                    "DO_NOT_USE (irisdq mask build does by default)",
                )
            )


def _check_dq_bits(dq: np.ndarray, bits: int, flag_map, findings) -> None:
    if bits >= 32:
        return
    high = dq & ~np.uint32((1 << bits) - 1)
    if not high.any():
        return
    listed = ", ".join(
        f"{name} ({count} pixel{'s' if count != 1 else ''})"
        for name, count in dqflags.count_flags(high, flag_map).items()
        if count
    )
    findings.append(
        Finding(
            "dq_bits",
            f"the DQ of the ramps it is for holds bits 0-{bits - 1} only, not "
            f"{listed}; DQ initialization stops on them unless told to drop "
            "them (--narrow-dq): rebuild the mask without them (irisdq mask "
            "build --profile leaves them out)",
        )
    )


def _integer(keywords: Mapping[str, Any], keyword: str, findings) -> int | None:
    value = keywords.get(keyword)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        findings.append(
            Finding("placement", f"{keyword} = {value!r} is not an integer")
        )
        return None
    return int(value)


def _check_placement(shape, keywords: Mapping[str, Any], findings) -> None:
    if len(shape) != 2:
        findings.append(
            Finding(
                "placement",
                f"DQ has shape {shape}; a mask's DQ must be a 2-D image (ny, nx)",
            )
        )
        return
    ny, nx = shape
    xstart = _integer(keywords, "SUBSTRT1", findings)
    ystart = _integer(keywords, "SUBSTRT2", findings)
    xsize = _integer(keywords, "SUBSIZE1", findings)
    ysize = _integer(keywords, "SUBSIZE2", findings)
    for keyword, size, actual in (("SUBSIZE1", xsize, nx), ("SUBSIZE2", ysize, ny)):
        if size is not None and size != actual:
            axis = "columns (nx)" if keyword == "SUBSIZE1" else "rows (ny)"
            findings.append(
                Finding(
                    "placement",
                    f"{keyword} = {size} but DQ has {actual} {axis}; fix the "
                    "header or the array",
                )
            )
    for keyword, start in (("SUBSTRT1", xstart), ("SUBSTRT2", ystart)):
        if start is not None and start < 1:
            findings.append(
                Finding("placement", f"{keyword} = {start}; starts are 1-based (>= 1)")
            )
    subarray = str(keywords.get("SUBARRAY") or "FULL").strip().upper()
    detector = keywords.get("DETECTOR")
    full = detector_shape(str(detector) if detector else None)
    if subarray == "FULL":
        if full is not None and (ny, nx) != full:
            findings.append(
                Finding(
                    "placement",
                    f"SUBARRAY = FULL but DQ is {ny} x {nx} and a full frame of "
                    f"{detector} is {full[0]} x {full[1]}; give the whole "
                    "detector, or name the subarray and set SUBSTRT1/2, SUBSIZE1/2",
                )
            )
        for keyword, start in (("SUBSTRT1", xstart), ("SUBSTRT2", ystart)):
            if start not in (None, 1):
                findings.append(
                    Finding(
                        "placement",
                        f"SUBARRAY = FULL but {keyword} = {start}; a full frame "
                        "starts at 1",
                    )
                )
        return
    if xstart is None or ystart is None:
        findings.append(
            Finding(
                "placement",
                f"SUBARRAY = {subarray} but SUBSTRT1/SUBSTRT2 are not both set; "
                "without them the mask cannot be placed on the detector",
            )
        )
        return
    if full is not None and (ystart + ny - 1 > full[0] or xstart + nx - 1 > full[1]):
        findings.append(
            Finding(
                "placement",
                f"the subarray at SUBSTRT1, SUBSTRT2 = {xstart}, {ystart} with "
                f"{ny} x {nx} pixels reaches past the {full[0]} x {full[1]} "
                f"{detector} detector",
            )
        )


def _dataset_date(useafter: Any) -> tuple[str, str] | None:
    found = _DATE.match(str(useafter)) if useafter is not None else None
    if found is None:
        return None
    return found[1], found[2] or "00:00:00"


def _check_selection(keywords: Mapping[str, Any], context, findings) -> None:
    from irisdq.profiles import mask_profile

    profile = mask_profile(keywords)
    instrument = keywords.get("INSTRUME") or "IRIS"
    useafter = keywords.get("USEAFTER")
    date = _dataset_date(useafter)
    if useafter is None:
        findings.append(
            Finding(
                "selection",
                "USEAFTER is missing; CRDS selects a mask by date: set USEAFTER "
                "(e.g. 2025-01-01T00:00:00)",
            )
        )
    elif date is None:
        findings.append(
            Finding(
                "selection",
                f"USEAFTER = {useafter!r} is not a date YYYY-MM-DDTHH:MM:SS",
            )
        )
    found = _mask_rmap(context, instrument, _reftypes(keywords), findings)
    if found is None:
        return
    rmap, reftype = found
    for parameter in rmap.parameters:
        keyword = profile.keyword_of(parameter) or parameter
        if parameter in _DATE_PARAMETERS or parameter == profile.date_parameter:
            continue  # a mask gives its date as USEAFTER, checked above
        if keywords.get(keyword) in (None, ""):
            findings.append(
                Finding(
                    "selection",
                    f"{keyword} is missing; {rmap.name} selects on {parameter}: "
                    "set it in the primary header",
                )
            )
    dataset = {**keywords, "INSTRUME": instrument}
    # A dataset taken at the mask's USEAFTER, and one taken today: either
    # being given this mask, or at least matching a rule, makes it selectable.
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    failure = ""
    for day, time in ([date] if date else []) + [(today, "00:00:00")]:
        try:
            dated = profile.crds_parameters(profile.dated(dataset, day, time))
            selection = context.select(dated, reftype)
        except IrisDQError as exc:
            failure = " ".join(str(exc).split())
            continue
        if not selection.not_applicable:
            return
        failure = "the rule that matches gives N/A"
    findings.append(
        Finding(
            "selection",
            f"no rule of {rmap.name} (context {context.name}) selects a mask with "
            f"these keywords, at its USEAFTER or today: {failure}",
        )
    )


#: The names a bad-pixel mask's reference type has: JWST and TMT say MASK,
#: Liger/IRIS (observatory ligeriri) says dq.
_MASK_REFTYPES = ("MASK", "DQ")


def _reftypes(keywords: Mapping[str, Any]) -> tuple[str, ...]:
    """The reference types to look a mask up by: its own REFTYPE first
    (any case), when it is one of the mask's names, then the others."""
    own = str(keywords.get("REFTYPE", "")).strip().upper()
    if own in _MASK_REFTYPES:
        return (own, *(name for name in _MASK_REFTYPES if name != own))
    return _MASK_REFTYPES


def _mask_rmap(context, instrument: str, reftypes, findings: list[Finding]):
    """The context's mask rmap for `instrument` and the reference type it is
    filed under (the first of `reftypes` the imap has), or None (with a
    finding)."""
    from irisdq.crds import condition_value
    from irisdq.crds.cache import find_mapping
    from irisdq.crds.mapping import ReferenceMapping, load_mapping

    def load(name):
        path, shipped = find_mapping(name, context.root)
        return load_mapping(path, shipped=shipped)

    imap_name = context.pmap.table.get(condition_value(instrument))
    reason = None
    if imap_name is None:
        reason = f"instrument {instrument} is not in context {context.name}"
    elif imap_name == "N/A":
        reason = f"context {context.name} gives N/A for instrument {instrument}"
    else:
        try:
            imap = load(imap_name)
            reftype = next((n for n in reftypes if n in imap.table), reftypes[0])
            rmap_name = imap.table.get(reftype)
            if rmap_name in (None, "N/A"):
                reason = f"{imap_name} has no mask rmap ({' or '.join(reftypes)})"
            else:
                rmap = load(rmap_name)
                if isinstance(rmap, ReferenceMapping):
                    return rmap, reftype
                reason = f"{rmap_name} is not a reference mapping"
        except IrisDQError as exc:
            reason = " ".join(str(exc).split())
    findings.append(
        Finding(
            "selection", f"no rule of context {context.name} can select it: {reason}"
        )
    )
    return None


def check_mask_file(
    path: str | os.PathLike,
    *,
    context: Any = None,
    severe: Iterable[str] = DEFAULT_SEVERE,
) -> list[Finding]:
    """Read a mask file and return its problems (see :func:`check_mask`).

    Parameters
    ----------
    path : str or os.PathLike
        The mask file.
    context : irisdq.crds.Context, optional
        The context whose mask rmap must be able to select it.
    severe : iterable of str, optional
        Flags that must come with DO_NOT_USE.

    Returns
    -------
    list of Finding

    Raises
    ------
    DataModelError
        If the file is not a FITS file with a DQ image.
    FileNotFoundError
        If it does not exist.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from irisdq.datamodels import TMTMaskModel
    >>> mask = TMTMaskModel()
    >>> mask.meta.detector = "IRIS1"
    >>> mask.dq = np.zeros((4096, 4096), dtype=np.uint32)
    >>> mask.dq[0, 0] = 2048 | 1                 # HOT and DO_NOT_USE
    >>> out = mask.write(pathlib.Path(tempfile.mkdtemp()) / "mask.fits")
    >>> check_mask_file(out)
    []
    """
    from irisdq.datamodels import DataModelWarning, TMTMaskModel, read_keywords
    from irisdq.datamodels.files import require_regular_file
    from irisdq.datamodels.mask_stored import read_stored_mask
    from irisdq.profiles import mask_profile

    require_regular_file(path, "a mask")
    keywords = read_keywords(path)
    dq, rows = read_stored_mask(path)
    findings = check_mask(
        dq,
        rows,
        keywords,
        context=context,
        severe=severe,
        dq_bits=mask_profile(keywords).ramp.dq_bits,
    )
    # What the pipeline's reader says about the file: checksums, and
    # anything it refuses that the checks above did not already name.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataModelWarning)
        try:
            with TMTMaskModel(path, accept_bad_checksums=True) as mask:
                _ = mask.dq
                problems = list(mask.checksum_problems)
        except IrisDQError as exc:
            if not findings:
                findings.append(
                    Finding(
                        "refused",
                        f"the DQ init step refuses it: {' '.join(str(exc).split())}",
                    )
                )
            problems = []
    findings.extend(Finding("checksum", problem) for problem in problems)
    return findings
