"""``DQInit``: initialize the DQ arrays of a raw ramp from a mask.

For one exposure the step takes the file's profile (:mod:`irisdq.profiles`:
TMT IRIS, JWST or Liger/IRIS conventions, detected or given), picks the
bad-pixel reference (``override_mask``, or the CRDS best reference in that
profile's observatory), decides what to do
(:func:`irisdq.dq_init.plan.plan_dq_init`: the cut of the mask the exposure
covers, user flags ORed in, flags narrowed to the DQ array's width, the
status and what to record) and applies that plan:

- to a file, through :func:`irisdq.datamodels.ramp_dq.update_ramp_dq`, which
  streams a new file (or changes the input in place, crash-safe) in the
  profile's layout, without reading the science array into memory;
- to a :class:`~irisdq.datamodels.RampModel` in memory, with
  :func:`irisdq.dq_init.core.apply_mask`, on a copy (or on the model itself
  with ``inplace=True``);
- to a stdatamodels ramp in memory (jwst's ``RampModel``, the Liger/IRIS
  pipeline's), with :mod:`irisdq.dq_init.memory`, on a copy (or in place),
  recorded where that model's pipeline records it.

What the exposure is and what selects its mask comes from
:func:`irisdq.exposure.resolve`, for files and models alike.

Both record ``S_DQINIT``, ``R_MASK`` (``R_DQ`` for Liger) and ``CRDS_CTX``
from the same plan.

The module is one piece past 600 lines: :class:`DQInit` is a single
step read top to bottom (choose the reference, plan, then the file, model
or stdatamodel path), each method a screen or less; the helpers below it
serve only those methods.
"""

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from irisdq import crds, profiles
from irisdq.datamodels import RampModel, TMTMaskModel, inplace, open_ramp
from irisdq.datamodels.atomic import atomic_output
from irisdq.datamodels.hdu_io import image_encoding
from irisdq.datamodels.header import header_text
from irisdq.datamodels.image import read_flag_image
from irisdq.datamodels.mask_reader import mask_flags, read_mask_flags
from irisdq.datamodels.meta import set_keywords
from irisdq.datamodels.ramp_dq import check_output, update_ramp_dq
from irisdq.dq_init import memory
from irisdq.dq_init.core import Subarray, apply_mask
from irisdq.dq_init.plan import DQInitPlan, MaskChoice, Status, plan_dq_init
from irisdq.dq_init.result import DQInitResult
from irisdq.dqflags import flag_values
from irisdq.errors import DataModelError, IrisDQError, NoMatchError
from irisdq.exposure import Exposure, resolve
from irisdq.step import NOT_APPLICABLE, RESULT_RECORD, Step

__all__ = ["DQInit", "ReferenceChoice", "parse_substrt"]

# Errors of a write, which name the output rather than the input.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class DQInit(Step):
    """Initialize PIXELDQ and GROUPDQ of a raw ramp from the MASK reference.

    The DQ initialization of one exposure, with its parameters; the stpipe
    step that runs it is :class:`irisdq.stpipe.DQInitStep`.

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
    override_dq : str, os.PathLike, TMTMaskModel or 'N/A', optional
        The same as ``override_mask``, by the name of the Liger/IRIS
        pipeline's reference type (``dq``); give one of the two.
    profile : str, optional
        The file convention (``tmt``, ``jwst``, ``liger``: see
        :mod:`irisdq.profiles`); by default chosen from each file.
    narrow_dq : {None, 'drop', 'do-not-use'}, optional
        What to do with flags 16..31 when the DQ array is uint16 (Liger):
        by default they are refused with an error naming them; ``'drop'``
        leaves them out, ``'do-not-use'`` sets DO_NOT_USE where they were.
    substrt : (int, int) or str, optional
        Where a ramp without SUBSTRT1/SUBSTRT2 lies on the detector: the
        1-based column and row of its first pixel, as those keywords count
        (``(1025, 1)`` or ``"1025,1"``). Recorded in the output as
        SUBSTRT1/2 (and SUBSIZE1/2 when absent); a ramp that has SUBSTRT1/2
        must agree with it.
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
    >>> result = DQInit.call(ramp, override_mask=mask)
    >>> int(result.pixeldq[1, 2]), int(result.groupdq[0, 1, 1, 2])
    (1025, 1)
    >>> result.meta.cal_step.dq_init, ramp.pixeldq is None
    ('COMPLETE', True)
    """

    class_alias = "dq_init"
    spec = {  # noqa: RUF012
        "user_supplied_dq": None,
        "override_dq": None,
        "profile": None,
        "narrow_dq": None,
        "substrt": None,
    }
    reference_file_types = ("mask",)
    output_suffix = "dqinit"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.summary: DQInitResult | None = None
        # The reference chosen elsewhere (by a batch's client): when set,
        # the step reads it and records it, and selects nothing itself.
        self.reference: ReferenceChoice | None = None
        # The options to record, as the client that chose gave them (a
        # worker is sent absolute paths); by default from the parameters.
        self.recorded_options: dict[str, str] | None = None

    def process(self, input: Any) -> Any:
        """Run on a path (returns the output path) or a RampModel (returns it)."""
        start = time.perf_counter()
        if isinstance(input, RampModel):
            result = self._process_model(input)
        elif memory.is_stdatamodel(input):
            result = self._process_stdatamodel(input)
        elif isinstance(input, str | os.PathLike):
            try:
                result = self._process_file(Path(input))
            except IrisDQError as exc:
                raise _naming(exc, os.fspath(input)) from None
        else:
            raise TypeError(
                f"DQInit takes a ramp file name, an irisdq RampModel or a "
                f"stdatamodels ramp model, not {type(input).__name__}"
            )
        self.summary.seconds = time.perf_counter() - start
        self.log.info(self.summary.line(), extra={RESULT_RECORD: True})
        return result

    # -- the decision, shared by models and files ----------------------------

    def _plan(
        self, exposure: Exposure, shape: tuple[int, int], label: str, layout=None
    ) -> DQInitPlan:
        layout = layout or exposure.profile.ramp
        choice = self._choose_mask(exposure, label)
        plan = plan_dq_init(
            exposure.keywords,
            shape,
            choice,
            self._user_flags(),
            dq_bits=layout.dq_bits,
            narrow=self.narrow_dq,
            substrt=self.position(),
        )
        if plan.status is Status.SKIPPED:
            self.log.warning("%s: no MASK applies (N/A); step skipped", label)
        if plan.dropped:
            self.log.warning("%s: %s", label, _dropped_text(plan, layout))
        return plan

    def _keywords(self, plan: DQInitPlan, profile) -> dict[str, Any]:
        return plan.keywords(self.status_keyword, profile.reference_keyword)

    def position(self) -> tuple[int, int] | None:
        """The ``substrt`` parameter as ``(SUBSTRT1, SUBSTRT2)``, checked.

        Returns
        -------
        tuple of int or None
            The 1-based column and row; None when not given.

        Raises
        ------
        DataModelError
            If it is not two positive integers.

        Examples
        --------
        >>> DQInit(substrt="1025, 9").position()
        (1025, 9)
        >>> DQInit(substrt=(0, 9)).position()
        Traceback (most recent call last):
        ...
        irisdq.errors.DataModelError: --substrt (substrt) (0, 9): ...
        """
        return parse_substrt(self.substrt)

    def option_keywords(self) -> dict[str, str]:
        """The keywords that record the options which change the flags: the
        user DQ file (``R_USERDQ``, as given) and the narrow policy
        (``NARROWDQ``); only those given.

        ``--resume`` keeps an output only when they match this run's.

        Examples
        --------
        >>> step = DQInit(user_supplied_dq="extra.fits", narrow_dq="drop")
        >>> step.option_keywords()
        {'R_USERDQ': 'extra.fits', 'NARROWDQ': 'drop'}
        >>> DQInit().option_keywords()
        {}
        """
        options = {}
        if isinstance(self.user_supplied_dq, str | os.PathLike):
            options["R_USERDQ"] = os.fspath(self.user_supplied_dq)
        elif self.user_supplied_dq is not None:
            options["R_USERDQ"] = "<array>"
        if self.narrow_dq:
            options["NARROWDQ"] = str(self.narrow_dq)
        return options

    def recorded(self, keywords) -> DQInitPlan | None:
        """What an output's primary header says this step did (status,
        mask, context), or None when it has no record of the step."""
        if self.profile:
            reference = profiles.get_profile(self.profile).reference_keyword
        else:
            # The first reference keyword of any profile that the header has.
            names = [p.reference_keyword for p in profiles.PROFILES.values()]
            reference = next((n for n in names if n in keywords), names[0])
        return DQInitPlan.from_keywords(keywords, self.status_keyword, reference)

    def _override(self) -> Any:
        mask, dq = self.reference_override("mask"), self.reference_override("dq")
        if mask is not None and dq is not None:
            raise DataModelError(
                "override_mask and override_dq name the same reference (the "
                "bad-pixel mask); give one of them"
            )
        return dq if mask is None else mask

    def choose_reference(self, input: str | os.PathLike) -> "ReferenceChoice":
        """The mask this step would use for a ramp file, and what it would
        record, without reading the mask.

        A batch asks it once per file in the client, from the client's own
        settings (``CRDS_PATH``, ``CRDS_CONTEXT``), and hands the answer to
        the worker as :attr:`reference`: the worker then selects nothing.
        Only a CRDS choice reads the ramp's headers.

        Parameters
        ----------
        input : str or os.PathLike
            The raw ramp file.

        Returns
        -------
        ReferenceChoice

        Raises
        ------
        IrisDQError
            If the file cannot be read or CRDS chooses nothing for it; the
            message names the file.

        Examples
        --------
        >>> step = DQInit(override_mask="masks/m.fits")
        >>> step.choose_reference("raw/a_uncal.fits")
        ReferenceChoice(path='masks/m.fits', record='masks/m.fits', context=None)
        >>> DQInit(override_mask="n/a").choose_reference("a.fits").record
        'N/A'
        """
        override = self._override()
        if override is not None:
            return self._reference(override, None, str(input))
        path = Path(input)
        label = str(path)
        try:
            self._repair_interrupted(path, label)
            exposure = self._file_exposure(path, label)
            return self._reference(override, exposure, label)
        except IrisDQError as exc:
            raise _naming(exc, label) from None

    def _reference(
        self, override, exposure: Exposure | None, label: str
    ) -> "ReferenceChoice":
        """The reference an override names, or CRDS chooses for the file."""
        if override == NOT_APPLICABLE:
            return ReferenceChoice(None, NOT_APPLICABLE)
        if isinstance(override, str | os.PathLike):
            return ReferenceChoice(os.fspath(override), os.fspath(override))
        if override is not None:
            raise TypeError(
                "override_mask must be a path, a mask model or 'N/A', not "
                f"{type(override).__name__}"
            )
        context = exposure.context()
        reftype = exposure.reftype_in(context)
        try:
            chosen = context.bestref(exposure.parameters, reftype)
        except NoMatchError as exc:
            _explain_no_date(exposure, label, exc)
            raise
        if chosen == NOT_APPLICABLE:
            return ReferenceChoice(None, NOT_APPLICABLE, context.name)
        if isinstance(chosen, tuple):
            raise DataModelError(
                f"{label}: CRDS chose several {reftype.upper()} files "
                f"({', '.join(chosen)}); give one with override_mask "
                "(--override-mask)"
            )
        return ReferenceChoice(chosen, f"crds://{Path(chosen).name}", context.name)

    def _choose_mask(self, exposure: Exposure, label: str) -> MaskChoice:
        profile = exposure.profile
        override = self._override()
        if isinstance(override, TMTMaskModel) or _is_mask_model(override):
            record = _model_name(override)
            flags = mask_flags(override, record)
            self._check_detector(flags, exposure, label, record)
            return MaskChoice(*_placed(flags), record)
        chosen = self.reference
        if chosen is None:
            chosen = self._reference(override, exposure, label)
        if chosen.path is None:
            return MaskChoice.not_applicable(chosen.context)
        self.log.info("Using %s reference file %s", profile.mask.reftype, chosen.path)
        flags = read_mask_flags(Path(chosen.path))
        if override is not None:
            self._check_detector(flags, exposure, label, chosen.record)
        return MaskChoice(*_placed(flags), chosen.record, chosen.context)

    def _check_detector(self, flags, exposure: Exposure, label: str, mask) -> None:
        """Warn when a mask given by the user is another detector's (CRDS
        chooses by detector; an override is taken as given)."""
        ours = str(exposure.keywords.get("DETECTOR") or "").strip()
        theirs = str(flags.detector or "").strip()
        if ours and theirs and ours.upper() != theirs.upper():
            self.log.warning(
                "%s: the mask %s is for DETECTOR %s but the ramp's DETECTOR is "
                "%s; its flags are applied as given: check that it is the mask "
                "you meant",
                label,
                mask,
                theirs,
                ours,
            )

    def _user_flags(self) -> np.ndarray | None:
        supplied = self.user_supplied_dq
        if supplied is None:
            return None
        if isinstance(supplied, str | os.PathLike):
            return read_flag_image(supplied)
        return flag_values(supplied, np.uint32, "user_supplied_dq")

    # -- a model in memory --------------------------------------------------

    def _process_model(self, model):
        model = model if self.inplace else model.copy()
        label = str(model.path) if model.path else "<model>"
        if model.shape is None:
            raise DataModelError(f"{label}: the RampModel has no SCI data")
        nints, ngroups, ny, nx = model.shape
        # A RampModel has the SCI/PIXELDQ/GROUPDQ layout of tmt and jwst.
        exposure = resolve(model, self.profile)
        exposure.require_ramp()
        profile = exposure.profile
        plan = self._plan(exposure, (ny, nx), label)
        # As a FITS header can hold them, as the file path records them.
        set_keywords(
            model.meta,
            {
                keyword: header_text(value) if isinstance(value, str) else value
                for keyword, value in self._keywords(plan, profile).items()
            },
        )
        if plan.status is Status.COMPLETE:
            pixeldq = model.pixeldq
            if pixeldq is None or pixeldq.shape != (ny, nx):
                self._note_created("PIXELDQ", label, pixeldq, (ny, nx))
                pixeldq = np.zeros((ny, nx), dtype=np.uint32)
            groupdq = model.groupdq
            cube = (nints, ngroups, ny, nx)
            if groupdq is None or groupdq.shape != cube:
                self._note_created("GROUPDQ", label, groupdq, cube)
                groupdq = np.zeros(cube, dtype=np.uint8)
            apply_mask(pixeldq, groupdq, plan.pixel_flags)
            model.pixeldq = pixeldq
            model.groupdq = groupdq
        self.summary = DQInitResult.of(plan, label, None)
        if self.output_file or self.output_dir:
            target = self.output_path(model.path or Path("ramp.fits"))
            model.write(target, overwrite=self.overwrite)
            self.summary.output = str(target)
        return model

    def _process_stdatamodel(self, model):
        exposure = resolve(model, self.profile)
        label = exposure.source
        exposure.require_ramp()
        model = model if self.inplace else model.copy()
        shape = tuple(model.data.shape)
        plane = tuple(shape[axis] for axis in exposure.profile.ramp.plane_axes())
        plan = self._plan(exposure, plane, label)
        memory.record_plan(model, plan, exposure.profile)
        memory.apply_plan(
            model,
            plan,
            exposure.profile,
            lambda name, found, wanted: self._note_created(name, label, found, wanted),
        )
        self.summary = DQInitResult.of(plan, label, None)
        if self.output_file or self.output_dir:
            target = self.output_path(Path(exposure.source.strip("<>")))
            with atomic_output(target, overwrite=self.overwrite) as stream:
                model.to_fits(stream, overwrite=True)
            self.summary.output = str(target)
        return model

    def _note_created(self, name: str, label: str, found, shape) -> None:
        if found is None:
            # Raw ramps normally come without DQ arrays: nothing to warn about.
            self.log.info("%s: no %s; created as zeros %s", label, name, shape)
        else:
            self.log.warning(
                "%s: %s has shape %s, not %s; replaced by zeros",
                label,
                name,
                found,
                shape,
            )

    # -- a file on disk ------------------------------------------------------

    def _process_file(self, path: Path) -> Path:
        label = str(path)
        self.position()  # a bad parameter is said before anything else
        target = None if self.inplace else self.output_path(path)
        if target is not None:
            check_output(path, target, overwrite=self.overwrite)
        self._repair_interrupted(path, label)
        exposure = self._file_exposure(path, label)
        profile, keywords = exposure.profile, exposure.keywords
        refusal = profile.refusal(keywords)
        if refusal:
            raise DataModelError(f"{label}: {refusal}")
        layout = profile.ramp_for(keywords)
        with open_ramp(path, layout, verify_checksums=False) as ramp:
            shape = ramp.shape
            science = _science_dtype(ramp, layout)
        if shape is None:
            raise DataModelError(f"{label}: no {layout.science} extension")
        if layout.science_kinds and science.kind not in layout.science_kinds:
            raise DataModelError(
                f"{label}: {layout.science} is {science} (DATAMODL = "
                f"{keywords.get('DATAMODL')!r}); profile {profile.name} takes a "
                f"floating-point {layout.science}, as its pipeline's RampModel "
                "does: convert the ramp to a RampModel first"
            )
        plane = tuple(shape[axis] for axis in layout.plane_axes())
        plan = self._plan(exposure, plane, label, layout)
        options = self.recorded_options
        if options is None:
            options = self.option_keywords()
        try:
            update = update_ramp_dq(
                path,
                {**self._keywords(plan, profile), **options},
                plan.pixel_flags,
                plan.group_flags,
                target=target,
                overwrite=self.overwrite,
                layout=layout,
                records=profile.tree_records,
            )
        except OSError as exc:
            if exc.filename is not None or isinstance(exc, IrisDQError):
                raise
            # Name the file: the one written when the disk is full, else the input.
            where = target or path if exc.errno in _WRITE_ERRNOS else path
            raise OSError(exc.errno, exc.strerror or str(exc), str(where)) from None
        for change in update.created:
            self._note_created(change.name, label, change.found, change.shape)
        if update.rewritten:
            self.log.info("%s: headers grew; the whole file was rewritten", label)
        self.summary = DQInitResult.of(plan, label, str(target or path))
        return target or path

    def _file_exposure(self, path: Path, label: str) -> Exposure:
        """A ramp file as :func:`irisdq.exposure.resolve` sees it: in the
        profile asked for, checked against the file's extensions, or in the
        one its header and extensions fit."""
        exposure = resolve(path, self.profile, role="a raw ramp")
        if not exposure.is_ramp:
            if self.profile:
                exposure.require_ramp()
            # No science extension: detection says what is missing; one of
            # the wrong shape: reading it says so.
            profiles.detect_profile(exposure.keywords, exposure.shapes, label)
        self.log.debug("%s: profile %s", label, exposure.profile.name)
        return exposure

    def _repair_interrupted(self, path: Path, label: str) -> None:
        """Undo an in-place run that was killed, before reading the file."""
        if not inplace.pending(path):
            return
        if not self.inplace:
            raise DataModelError(
                f"{label}: an in-place run on this file was interrupted (or is "
                "running now); run it again with --in-place (inplace=True) to "
                "repair and complete it"
            )
        inplace.recover(path)
        self.log.warning(
            "%s: an interrupted in-place run was undone; the file is as it was "
            "before that run",
            label,
        )


@dataclass(frozen=True)
class ReferenceChoice:
    """The bad-pixel reference chosen for one exposure, not yet read.

    Attributes
    ----------
    path : str or None
        The mask file to read; None when no mask applies (``N/A``).
    record : str
        What ``R_MASK`` records: ``crds://<file>``, the override as given,
        or ``'N/A'``.
    context : str or None
        The CRDS context that chose it (None for an override).

    Examples
    --------
    >>> ReferenceChoice("/cache/m.fits", "crds://m.fits", "tmt_0001.pmap").status
    <Status.COMPLETE: 'COMPLETE'>
    >>> ReferenceChoice(None, "N/A").status
    <Status.SKIPPED: 'SKIPPED'>
    """

    path: str | None
    record: str
    context: str | None = None

    @property
    def status(self) -> Status:
        """What the step records with this choice: COMPLETE, or SKIPPED."""
        return Status.SKIPPED if self.path is None else Status.COMPLETE


def parse_substrt(value: Any) -> tuple[int, int] | None:
    """``(SUBSTRT1, SUBSTRT2)`` from ``"COL,ROW"`` or a pair of integers.

    Parameters
    ----------
    value : str, sequence of int or None
        The 1-based column and row of an array's first pixel.

    Returns
    -------
    tuple of int or None
        None when `value` is None.

    Raises
    ------
    DataModelError
        If it is not two positive integers.

    Examples
    --------
    >>> parse_substrt("1025,1")
    (1025, 1)
    >>> parse_substrt("1.5,2")
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: --substrt (substrt) '1.5,2': ...
    """
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else value
    try:
        parts = list(parts)
        if len(parts) == 2 and not any(isinstance(p, bool | float) for p in parts):
            pair = tuple(int(str(part).strip()) for part in parts)
            if min(pair) >= 1:
                return pair
    except (TypeError, ValueError):
        pass
    raise DataModelError(
        f"--substrt (substrt) {value!r}: give the 1-based column and row of the "
        "array's first pixel as two positive integers, COL,ROW (SUBSTRT1, SUBSTRT2)"
    )


def _naming(exc: IrisDQError, name: str) -> IrisDQError:
    """The error, its message naming the input (whichever layer raised it)."""
    if name in str(exc):
        return exc
    return type(exc)(f"{name}: {exc}")


def _placed(flags) -> tuple[np.ndarray, Subarray]:
    return flags.dq, Subarray(flags.xstart, flags.ystart, flags.xsize, flags.ysize)


def _model_name(model) -> str:
    if getattr(model, "path", None):
        return str(model.path)
    # stdatamodels keeps the name of the file a model came from here.
    filename = getattr(getattr(model, "meta", None), "filename", None)
    return str(filename) if filename else f"<{type(model).__name__}>"


def _is_mask_model(value: Any) -> bool:
    """A mask model of another pipeline in memory (stdatamodels' MaskModel):
    ``dq`` and ``meta.subarray``."""
    meta = getattr(value, "meta", None)
    return hasattr(value, "dq") and hasattr(meta, "subarray")


def _dropped_text(plan: DQInitPlan, layout) -> str:
    listed = ", ".join(f"{name} ({count})" for name, count in plan.dropped.items())
    return (
        f"{layout.dq} is {layout.dq_dtype}: flags left out, with "
        f"their pixel counts: {listed}"
    )


def _science_dtype(ramp, layout) -> np.dtype:
    """The dtype of the values of a ramp file's science array."""
    hdu = next(h for h in ramp.hdu_layout[1:] if h.name == layout.science.upper())
    return image_encoding(hdu.header).values


def _explain_no_date(exposure: Exposure, label: str, exc: NoMatchError) -> None:
    """Raise a NoMatchError naming the FITS keywords to add when the mask
    could not be chosen because the ramp has no observation date, and the
    values it has that are not one."""
    dataset, profile, keywords = (
        exposure.parameters,
        exposure.profile,
        exposure.keywords,
    )
    if str(dataset.get(profile.date_parameter, "")).strip() not in _NO_DATE:
        return
    # A date derived from keywords (Liger's EXPDTST, EXPJDST) is missing
    # when none of them reads as one: name those the file has.
    given = []
    if profile.keyword_of(profile.date_parameter) is None:
        for name in profile.date_fields("2000-01-01", "00:00:00"):
            value = keywords.get(name)
            # A card without a value reads as neither text nor a number.
            if isinstance(value, str | int | float) and str(value).strip():
                given.append(f"{name} = {value!r}")
    unusable = f" ({' and '.join(given)}: not a date)" if given else ""
    problem = profile.date_problem(keywords)
    if problem and given:
        unusable = f" ({problem})"
    raise NoMatchError(
        f"{label}: no observation date{unusable}: CRDS chooses the mask by date; add "
        f"{profile.date_keywords} to the primary header, or give the mask "
        "with override_mask (--override-mask)"
    ) from exc


# What an absent or empty DATE-OBS reads as.
_NO_DATE = frozenset({"", "None", crds.UNDEFINED})
