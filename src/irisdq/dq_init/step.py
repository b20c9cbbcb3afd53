"""``DQInitStep``: initialize the DQ arrays of an IRIS raw ramp from a mask.

For one exposure the step picks the MASK reference (``override_mask``, or
CRDS best reference), creates PIXELDQ/GROUPDQ when the input lacks them,
cuts the subarray the exposure covers out of the mask, ORs the flags in
(:mod:`irisdq.dq_init.core`) and records ``S_DQINIT``, ``R_MASK`` and
``CRDS_CTX``.

Given a file, the step streams: the extensions it does not change (SCI, ERR,
ASDF, ...) are copied byte for byte by the kernel, PIXELDQ is written from
one plane in memory and GROUPDQ plane by plane, into a temporary file that
is renamed into place. Memory is a few DQ planes whatever the number of
groups. With ``inplace=True`` only the primary header and the DQ extensions
of the input are rewritten.

Given a :class:`~irisdq.datamodels.RampModel`, the step works on a copy (or
on the model itself with ``inplace=True``) and returns it.
"""

import errno
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from irisdq import crds, dqflags
from irisdq.datamodels import RampModel, TMTMaskModel
from irisdq.datamodels.atomic import atomic_output
from irisdq.datamodels.hdu_io import (
    image_encoding,
    image_header_size,
    write_image_hdu,
    write_image_hdu_blocks,
)
from irisdq.datamodels.image import read_flag_image
from irisdq.datamodels.layout import copy_hdu
from irisdq.datamodels.model import _check_flags, _without
from irisdq.dq_init.core import (
    Subarray,
    apply_mask,
    cut_subarray,
    group_flags,
)
from irisdq.errors import DataModelError, IrisDQError, SubarrayError
from irisdq.step import NOT_APPLICABLE, Step

__all__ = ["DQInitStep", "DQInitSummary"]

COMPLETE = "COMPLETE"
SKIPPED = "SKIPPED"


@dataclass
class DQInitSummary:
    """What one run of the step did, for logs, the command line and reports.

    Attributes
    ----------
    input : str
        The input file (or ``'<model>'``).
    output : str or None
        The file written (the input itself in place), None if nothing was.
    status : str
        ``'COMPLETE'`` or ``'SKIPPED'``.
    mask : str
        What ``R_MASK`` records: ``crds://<file>``, a path, or ``'N/A'``.
    context : str or None
        The CRDS context used, when the mask came from CRDS.
    flagged : dict
        Pixels of the (cut) mask with each flag set, for flags present.
    seconds : float
        Wall time of the run.
    """

    input: str
    output: str | None
    status: str
    mask: str
    context: str | None = None
    flagged: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        """One line for the command line: output, mask, pixels per flag."""
        flags = " ".join(f"{name}={count}" for name, count in self.flagged.items())
        target = self.output or self.input
        text = f"{target}: {self.status} mask={self.mask}"
        return f"{text} {flags}" if flags else text


@dataclass
class _MaskChoice:
    """The mask to apply, or None when the step does not apply."""

    dq: np.ndarray | None
    reference: Subarray
    record: str
    context: str | None


class DQInitStep(Step):
    """Initialize PIXELDQ and GROUPDQ of a raw ramp from the MASK reference.

    Parameters
    ----------
    override_mask : str, os.PathLike, TMTMaskModel or 'N/A', optional
        The mask to use instead of the CRDS best reference; ``'N/A'`` skips
        the step.
    user_supplied_dq : str, os.PathLike or array_like, optional
        Extra flags (a FITS image or an array of the cut mask's shape) ORed
        into the mask; the mask itself is never changed.
    output_file, output_dir : str or os.PathLike, optional
        Where the output goes; by default ``<base>_dqinit.fits`` beside the
        input (``_uncal``, ``_ramp``... replaced).
    inplace : bool, optional
        Change the input file (only its header and DQ extensions are
        rewritten) or the input model, instead of writing a new one.
    overwrite : bool, optional
        Replace an existing output file.

    Examples
    --------
    >>> import numpy as np
    >>> from irisdq.datamodels import RampModel, TMTMaskModel
    >>> ramp = RampModel()
    >>> ramp.data = np.zeros((1, 2, 4, 4), dtype=np.float32)
    >>> mask = TMTMaskModel()
    >>> mask.meta.instrument.detector = "IRIS1"
    >>> mask.meta.subarray.name = "CUSTOM"
    >>> mask.dq = np.zeros((4, 4), dtype=np.uint32)
    >>> mask.dq[1, 2] = 1025
    >>> result = DQInitStep.call(ramp, override_mask=mask)
    >>> int(result.pixeldq[1, 2]), int(result.groupdq[0, 1, 1, 2])
    (1025, 1)
    >>> result.meta.cal_step.dq_init, ramp.pixeldq is None
    ('COMPLETE', True)
    """

    class_alias = "dq_init"
    spec = {"user_supplied_dq": None}  # noqa: RUF012
    reference_file_types = ("mask",)
    output_suffix = "dqinit"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.summary: DQInitSummary | None = None

    def process(self, input: Any) -> Any:
        """Run on a path (returns the output path) or a RampModel (returns it)."""
        start = time.perf_counter()
        if isinstance(input, RampModel):
            result = self._process_model(input)
        elif isinstance(input, str | os.PathLike):
            try:
                result = self._process_file(Path(input))
            except IrisDQError as exc:
                # Every message names the input, whichever layer raised it.
                if os.fspath(input) in str(exc):
                    raise
                raise type(exc)(f"{os.fspath(input)}: {exc}") from None
        else:
            raise TypeError(
                f"DQInitStep takes a ramp file name or a RampModel, not "
                f"{type(input).__name__}"
            )
        self.summary.seconds = time.perf_counter() - start
        self.log.info(self.summary.line())
        return result

    # -- choosing and preparing the mask -----------------------------------

    def _choose_mask(self, dataset: Any, label: str) -> _MaskChoice:
        override = self.reference_override("mask")
        if override == NOT_APPLICABLE:
            return _MaskChoice(None, Subarray(), NOT_APPLICABLE, None)
        if override is None:
            context = crds.get_context()
            chosen = context.bestref(dataset, "mask")
            if chosen == NOT_APPLICABLE:
                return _MaskChoice(None, Subarray(), NOT_APPLICABLE, context.name)
            if isinstance(chosen, tuple):
                raise DataModelError(
                    f"{label}: CRDS chose several MASK files ({', '.join(chosen)}); "
                    "give one with override_mask (--override-mask)"
                )
            path = Path(chosen)
            record, ctx_name = f"crds://{path.name}", context.name
        elif isinstance(override, TMTMaskModel):
            record = _model_name(override)
            return _MaskChoice(*_mask_arrays(override, record), record, None)
        elif isinstance(override, str | os.PathLike):
            path = Path(override)
            record, ctx_name = str(path), None
        else:
            raise TypeError(
                "override_mask must be a path, a TMTMaskModel or 'N/A', not "
                f"{type(override).__name__}"
            )
        self.log.info("Using MASK reference file %s", path)
        return _MaskChoice(*_read_mask(path, record), record, ctx_name)

    def _cut_mask(
        self, choice: _MaskChoice, shape: tuple[int, int], keywords, label: str
    ) -> np.ndarray:
        """The mask's flags over the science array, user DQ ORed in."""
        science = _science_subarray(keywords)
        try:
            cut = cut_subarray(choice.dq, shape, science, choice.reference)
        except SubarrayError as exc:
            raise SubarrayError(f"{label}: {exc}") from None
        user = self._user_dq(cut.shape, label)
        if user is not None:
            cut = np.bitwise_or(cut, user)  # a new array: the mask is not touched
        return cut

    def _user_dq(self, shape: tuple[int, ...], label: str) -> np.ndarray | None:
        supplied = self.user_supplied_dq
        if supplied is None:
            return None
        if isinstance(supplied, str | os.PathLike):
            values, source = read_flag_image(supplied), str(supplied)
        else:
            source = "user_supplied_dq"
            values = _check_flags(np.asarray(supplied), np.dtype(np.uint32), source)
        if values.shape != tuple(shape):
            raise DataModelError(
                f"{label}: user DQ {source} has shape {values.shape}; it must "
                f"have the shape of the cut mask, {tuple(shape)}"
            )
        return values

    def _flagged(self, cut: np.ndarray) -> dict[str, int]:
        counts = dqflags.count_flags(cut)
        return {name: count for name, count in counts.items() if count}

    # -- a model in memory --------------------------------------------------

    def _process_model(self, model):
        model = model if self.inplace else model.copy()
        label = str(model.path) if model.path else "<model>"
        if model.shape is None:
            raise DataModelError(f"{label}: the RampModel has no SCI data")
        nints, ngroups, ny, nx = model.shape
        choice = self._choose_mask(model, label)
        model.meta.cal_step.dq_init = SKIPPED
        if choice.context:
            model.meta.ref_file.crds.context_used = choice.context
        model.meta.ref_file.mask.name = choice.record
        if choice.dq is None:
            self.log.warning("%s: no MASK applies (N/A); step skipped", label)
            self.summary = DQInitSummary(label, None, SKIPPED, NOT_APPLICABLE)
            return self._save_model(model)
        cut = self._cut_mask(choice, (ny, nx), model.get_fits_keywords(), label)
        pixeldq = model.pixeldq
        if pixeldq is None or pixeldq.shape != (ny, nx):
            self._warn_created("PIXELDQ", label, pixeldq, (ny, nx))
            pixeldq = np.zeros((ny, nx), dtype=np.uint32)
        groupdq = model.groupdq
        if groupdq is None or groupdq.shape != (nints, ngroups, ny, nx):
            self._warn_created("GROUPDQ", label, groupdq, (nints, ngroups, ny, nx))
            groupdq = np.zeros((nints, ngroups, ny, nx), dtype=np.uint8)
        apply_mask(pixeldq, groupdq, cut)
        model.pixeldq = pixeldq
        model.groupdq = groupdq
        model.meta.cal_step.dq_init = COMPLETE
        self.summary = DQInitSummary(
            label, None, COMPLETE, choice.record, choice.context, self._flagged(cut)
        )
        return self._save_model(model)

    def _save_model(self, model):
        if self.output_file or self.output_dir:
            source = model.path or Path("ramp.fits")
            target = self.output_path(source)
            model.write(target, overwrite=self.overwrite)
            self.summary.output = str(target)
        return model

    def _warn_created(self, name: str, label: str, found, shape) -> None:
        if found is None:
            self.log.warning("%s: no %s; created as zeros %s", label, name, shape)
        else:
            self.log.warning(
                "%s: %s has shape %s, not %s; replaced by zeros",
                label,
                name,
                found.shape,
                shape,
            )

    # -- a file on disk ------------------------------------------------------

    def _process_file(self, path: Path) -> Path:
        label = str(path)
        target = path if self.inplace else self.output_path(path)
        if not self.inplace:
            if target.exists() and not self.overwrite:
                raise FileExistsError(
                    errno.EEXIST,
                    "output already exists; use --overwrite (overwrite=True) "
                    "to replace it",
                    str(target),
                )
            if target.exists() and target.resolve() == path.resolve():
                raise IrisDQError(
                    f"{label}: the output would replace the input; use "
                    "--in-place (inplace=True) or choose another output"
                )
        with RampModel(path, verify_checksums=False) as ramp:
            plan = _FilePlan.build(self, ramp, label)
            if self.inplace:
                plan.write_in_place(path)
            else:
                plan.write_copy(path, target, overwrite=self.overwrite)
        self.summary = plan.summary(label, str(target))
        return target


def _mask_arrays(mask, record: str) -> tuple[np.ndarray, Subarray]:
    if mask.dq is None:
        raise DataModelError(f"{record}: the mask has no DQ array")
    where = mask.meta.subarray
    reference = Subarray(where.xstart or 1, where.ystart or 1, where.xsize, where.ysize)
    return mask.dq, reference


# The mask file read last, by file identity. A run over many exposures (one
# process of a batch) reads and verifies a mask once instead of per exposure;
# a mask file replaced or rewritten has a new identity and is read again.
# One entry, so at most one mask stays in memory between calls.
_mask_cache: dict[tuple, tuple[np.ndarray, Subarray]] = {}


def _read_mask(path: Path, record: str) -> tuple[np.ndarray, Subarray]:
    try:
        status = path.stat()
    except OSError:
        key = None  # not cached: TMTMaskModel says what is wrong with the path
    else:
        key = (
            os.path.realpath(path),
            status.st_dev,
            status.st_ino,
            status.st_size,
            status.st_mtime_ns,
            status.st_ctime_ns,
        )
        if key in _mask_cache:
            return _mask_cache[key]
    with TMTMaskModel(path) as mask:
        dq, reference = _mask_arrays(mask, record)
    dq.flags.writeable = False  # shared by every later call: never changed
    _mask_cache.clear()
    if key is not None:
        _mask_cache[key] = dq, reference
    return dq, reference


def _model_name(model) -> str:
    return str(model.path) if getattr(model, "path", None) else "<TMTMaskModel>"


def _science_subarray(keywords) -> Subarray | None:
    xstart, ystart = keywords.get("SUBSTRT1"), keywords.get("SUBSTRT2")
    if xstart is None or ystart is None:
        return None
    xsize, ysize = keywords.get("SUBSIZE1"), keywords.get("SUBSIZE2")
    return Subarray(
        int(xstart),
        int(ystart),
        None if xsize is None else int(xsize),
        None if ysize is None else int(ysize),
    )


@dataclass
class _FilePlan:
    """Everything needed to write the output of one ramp file."""

    step: DQInitStep
    ramp: Any
    header: Any
    choice: _MaskChoice
    cut: np.ndarray | None = None
    pixeldq: np.ndarray | None = None
    group_plane: np.ndarray | None = None
    pixeldq_hdu: Any = None
    groupdq_hdu: Any = None
    cube: tuple[int, int, int, int] = (0, 0, 0, 0)

    @classmethod
    def build(cls, step: DQInitStep, ramp, label: str) -> "_FilePlan":
        layout = ramp.hdu_layout
        primary = layout[0]
        if primary.data_size:
            raise DataModelError(
                f"{label}: the primary HDU holds data; a ramp keeps its arrays "
                "in extensions (SCI, PIXELDQ, GROUPDQ)"
            )
        choice = step._choose_mask(primary.header, label)
        header = primary.header.copy()
        plan = cls(step, ramp, header, choice, cube=tuple(ramp.shape))
        if choice.context:
            header["CRDS_CTX"] = (choice.context, "CRDS context")
        # A path can be long: no comment, so that astropy need not cut one.
        header["R_MASK"] = choice.record
        if choice.dq is None:
            step.log.warning("%s: no MASK applies (N/A); step skipped", label)
            header["S_DQINIT"] = (SKIPPED, "DQ initialization")
            return plan
        header["S_DQINIT"] = (COMPLETE, "DQ initialization")
        ny, nx = plan.cube[-2:]
        plan.cut = step._cut_mask(choice, (ny, nx), primary.header, label)
        plan.group_plane = group_flags(plan.cut)

        by_name = {hdu.name: hdu for hdu in layout[1:]}
        found = by_name.get("PIXELDQ")
        if found is not None and found.shape == (ny, nx):
            plan.pixeldq_hdu = found
            plan.pixeldq = ramp.pixeldq
            np.bitwise_or(plan.pixeldq, plan.cut, out=plan.pixeldq)
        else:
            step._warn_created("PIXELDQ", label, found, (ny, nx))
            # Nothing to OR into: the cut mask is PIXELDQ (it is read-only
            # here, and a mask model passed in is only read).
            plan.pixeldq = plan.cut
        found = by_name.get("GROUPDQ")
        if found is not None and found.shape == plan.cube:
            plan.groupdq_hdu = found
        else:
            step._warn_created("GROUPDQ", label, found, plan.cube)
        return plan

    def summary(self, label: str, output: str) -> DQInitSummary:
        if self.cut is None:
            return DQInitSummary(
                label, output, SKIPPED, self.choice.record, self.choice.context
            )
        return DQInitSummary(
            label,
            output,
            COMPLETE,
            self.choice.record,
            self.choice.context,
            self.step._flagged(self.cut),
        )

    # -- the arrays as written ----------------------------------------------

    def _dq_header(self, name: str, existing):
        header = fits.Header([("EXTNAME", name, "extension name")])
        if existing is not None:
            for card in _without(existing.header, {"EXTNAME"}).cards:
                header.append(card)
        return header

    def _group_planes(self, stream) -> Iterator[np.ndarray]:
        """GROUPDQ plane by plane: the input's ORed with the mask's, or the
        mask's alone."""
        nplanes = self.cube[0] * self.cube[1]
        if self.groupdq_hdu is None:
            for _ in range(nplanes):
                yield self.group_plane
            return
        encoding = image_encoding(self.groupdq_hdu.header)
        plane = np.empty(self.group_plane.shape, dtype=np.uint8)
        for index in range(nplanes):
            offset = self.groupdq_hdu.data_offset + index * plane.nbytes
            # Read then write one plane at a time: in place, each read comes
            # before the write of the same bytes.
            count = os.preadv(stream.fileno(), [memoryview(plane)], offset)
            if count != plane.nbytes:
                raise DataModelError(
                    f"{self.ramp.path}: GROUPDQ ends early; the file is truncated"
                )
            if encoding.flip:
                np.bitwise_xor(plane, np.uint8(encoding.flip), out=plane)
            np.bitwise_or(plane, self.group_plane, out=plane)
            yield plane

    def _write_pixeldq(self, stream) -> None:
        header = self._dq_header("PIXELDQ", self.pixeldq_hdu)
        write_image_hdu(stream, np.asarray(self.pixeldq, dtype=np.uint32), header)

    def _write_groupdq(self, stream, source) -> None:
        header = self._dq_header("GROUPDQ", self.groupdq_hdu)
        write_image_hdu_blocks(
            stream, self._group_planes(source), self.cube, np.uint8, header
        )

    # -- a new file ------------------------------------------------------------

    def write_copy(self, source_path: Path, target: Path, *, overwrite: bool) -> None:
        layout = self.ramp.hdu_layout
        size_hint = layout[-1].end + self.pixeldq_bytes() + self.groupdq_bytes()
        with (
            open(source_path, "rb", buffering=0) as source,
            atomic_output(target, overwrite=overwrite, size_hint=size_hint) as out,
        ):
            write_image_hdu(out, None, self.header, primary=True)
            writers = {
                "PIXELDQ": lambda: self._write_pixeldq(out),
                "GROUPDQ": lambda: self._write_groupdq(out, source),
            }
            names = _names(layout)
            # Arrays the input lacks go right after SCI, as in jwst.
            missing = [] if self.cut is None else [n for n in writers if n not in names]
            for hdu in layout[1:]:
                if self.cut is not None and hdu.name in writers:
                    writers[hdu.name]()
                else:
                    copy_hdu(source, hdu, out)
                if hdu.name == "SCI":
                    for name in missing:
                        writers[name]()
                    missing = []

    def pixeldq_bytes(self) -> int:
        return 0 if self.cut is None else 4 * self.cut.size + 2 * 2880

    def groupdq_bytes(self) -> int:
        return 0 if self.cut is None else int(np.prod(self.cube)) + 2 * 2880

    # -- the input file itself ---------------------------------------------------

    def write_in_place(self, path: Path) -> None:
        """Rewrite the primary header and the DQ extensions of the input.

        When a rewritten header would not fit in the space of the old one,
        the whole file is rewritten to a temporary file and renamed over the
        input instead, which is just as safe and only slower.
        """
        layout = self.ramp.hdu_layout
        names = _names(layout)
        fits_in_place = (
            image_header_size((), np.uint8, self.header, primary=True)
            == layout[0].data_offset
            and names.count("PIXELDQ") <= 1
            and (names.count("GROUPDQ") <= 1)
        )
        if self.cut is not None:
            for hdu, name, shape, dtype in (
                (self.pixeldq_hdu, "PIXELDQ", self.cut.shape, np.uint32),
                (self.groupdq_hdu, "GROUPDQ", self.cube, np.uint8),
            ):
                if hdu is None and name in names:
                    fits_in_place = False  # a wrongly shaped array to replace
                elif hdu is not None:
                    size = image_header_size(shape, dtype, self._dq_header(name, hdu))
                    fits_in_place &= size == hdu.data_offset - hdu.header_offset
        if not fits_in_place:
            self.step.log.info(
                "%s: headers grow; rewriting the whole file in place", path
            )
            self.write_copy(path, path, overwrite=True)
            return
        with open(path, "r+b", buffering=0) as stream:
            end = layout[-1].end
            if self.cut is not None:
                if self.pixeldq_hdu is not None:
                    stream.seek(self.pixeldq_hdu.header_offset)
                    self._write_pixeldq(stream)
                if self.groupdq_hdu is not None:
                    stream.seek(self.groupdq_hdu.header_offset)
                    self._write_groupdq(stream, stream)
                stream.seek(end)
                stream.truncate(end)
                if self.pixeldq_hdu is None:
                    self._write_pixeldq(stream)
                if self.groupdq_hdu is None:
                    self._write_groupdq(stream, stream)
            # The primary header last: until it says COMPLETE, a crash leaves
            # a file that a rerun processes again.
            stream.seek(0)
            write_image_hdu(stream, None, self.header, primary=True)


def _names(layout) -> list[str]:
    return [hdu.name for hdu in layout[1:]]
