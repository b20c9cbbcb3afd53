"""Building a bad-pixel mask from flat-field and dark files, in row blocks.

:func:`build_mask` reads every input a block of rows at a time (all frames'
rows ``r0:r1`` together), so memory holds one block of every frame plus a
few full-size 2-D maps (the combined flat, the dark rate, its scatter, the
flags), whatever the number of inputs. The rules themselves are the pure
functions of :mod:`irisdq.reffiles.badpix`.

Inputs, flats and darks alike, may be:

- 2-D images (ny, nx): one count-rate frame each;
- 3-D cubes (nints, ny, nx): one count-rate frame per integration (a
  ``rateints`` product);
- 4-D ramps (nints, ngroups, ny, nx), e.g. a ``RampModel``'s ``SCI``: one
  frame per integration, its ordinary least-squares slope over all groups
  (``TGROUP`` seconds apart, from the primary header or ``group_time``),
  accumulated group by group in the same row blocks. Groups are not
  screened for saturation or jumps: a jump in one integration is rejected
  when the frames are combined, but a pixel that saturates in the darks
  should come as a rate image from ramp fitting instead.

The image read is the ``SCI`` extension when there is one, else the first
image with data.

The module is over the project's usual 600 lines because
:func:`build_mask` is one pass over the row blocks, read top to bottom in
the order the work happens; its helpers below are each a few lines.
"""

import datetime
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import irisdq
from irisdq import dqflags
from irisdq.datamodels.image_rows import ImagePlanes
from irisdq.datamodels.mask import TMTMaskModel
from irisdq.errors import IrisDQError
from irisdq.layouts import detector_shape
from irisdq.reffiles.badpix import (
    DEFAULT_DO_NOT_USE,
    Thresholds,
    combine_flags,
    dark_flags,
    flat_flags,
    illumination,
    lower_median,
    noisy_threshold,
    ols_weights,
    reference_pixels,
    robust_scatter,
    typical_noise,
)

__all__ = ["DEFAULT_BLOCK_ROWS", "MaskBuild", "build_mask"]

# 256 rows of ten 4096-wide frames are 40 MiB of float32: large enough for
# numpy to work efficiently, small enough to keep memory far below 1 GiB.
DEFAULT_BLOCK_ROWS = 256

# Rows sampled to find the level of each flat frame (spread over the frame).
_LEVEL_ROWS = 256


@dataclass
class MaskBuild:
    """What :func:`build_mask` made, and what it was made from.

    Attributes
    ----------
    mask : TMTMaskModel
        The mask, ready to :meth:`~TMTMaskModel.write`.
    thresholds : Thresholds
        The thresholds used.
    counts : dict of str to int
        Pixels per flag (every flag of the convention, zeros included).
    flats, darks : list of pathlib.Path
        The inputs.
    flat_frames, dark_frames : int
        Frames combined (an integration of a cube or ramp is one frame).
    response : numpy.ndarray or None
        The normalised flat response (NaN on reference pixels); None
        without flats.
    dark_rate : numpy.ndarray or None
        The combined dark rate (NaN on reference pixels); None without darks.
    dark_noise : float or None
        The detector's typical noise per dark frame (:func:`typical_noise`);
        None when the noisy search did not run.
    noisy_cut : float or None
        The scatter above which a pixel that kept every dark frame was
        called noisy; None when the noisy search did not run.
    notes : list of str
        Searches skipped and why.
    left_out : dict of str to int
        Pixels per flag left out because the DQ the mask is for has fewer
        bits (``dq_bits``); those pixels got DO_NOT_USE instead.
    """

    mask: TMTMaskModel
    thresholds: Thresholds
    counts: dict[str, int]
    flats: list[Path]
    darks: list[Path]
    flat_frames: int
    dark_frames: int
    response: np.ndarray | None
    dark_rate: np.ndarray | None
    dark_noise: float | None
    noisy_cut: float | None
    noisy_flag: str
    do_not_use: tuple[str, ...]
    refpix: int
    notes: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)


class _Frames:
    """The frames of one input file, read in row blocks as rates."""

    def __init__(self, path: Path, group_time: float | None) -> None:
        self.planes = ImagePlanes(path)
        self.path = path
        leading = self.planes.leading_shape
        self.count = leading[0] if leading else 1
        self.weights: np.ndarray | None = None
        if len(leading) == 2:
            tgroup = group_time
            if tgroup is None:
                tgroup = self.planes.primary_header.get("TGROUP")
            if isinstance(tgroup, bool) or not isinstance(tgroup, int | float):
                self.planes.close()
                raise IrisDQError(
                    f"{path}: a ramp without a usable TGROUP ({tgroup!r}) in its "
                    "primary header; give the seconds between groups "
                    "(--group-time)"
                )
            try:
                self.weights = ols_weights(leading[1], float(tgroup))
            except IrisDQError as exc:
                self.planes.close()
                raise IrisDQError(f"{path}: {exc}") from None

    def read(self, frame: int, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of a frame as float32 rates; ±inf is NaN, a
        value that cannot be measured, as NaN is."""
        leading = self.planes.leading_shape
        try:
            # A value beyond float32 (1e300 in a float64 image) is not a
            # rate: refused by name rather than silently made infinite.
            with np.errstate(over="raise", invalid="ignore"):
                if not leading:
                    values = self.planes.read((), start, stop)
                elif self.weights is None:
                    values = self.planes.read((frame,), start, stop)
                else:
                    slope = np.zeros(
                        (stop - start, self.planes.shape[1]), dtype=np.float64
                    )
                    for group, weight in enumerate(self.weights):
                        slope += weight * self.planes.read((frame, group), start, stop)
                    values = slope.astype(np.float32)
        except FloatingPointError:
            raise IrisDQError(
                f"{self.path}: frame {frame} has values beyond the float32 range "
                f"(rows {start}-{stop - 1}); count rates are far smaller: is it "
                "the right file?"
            ) from None
        infinite = np.isinf(values)
        if infinite.any():
            values = np.where(infinite, np.float32(np.nan), values)
        return values

    def close(self) -> None:
        self.planes.close()


def build_mask(
    flats: Sequence[str | os.PathLike] = (),
    darks: Sequence[str | os.PathLike] = (),
    *,
    detector: str = "IRIS1",
    thresholds: Thresholds | None = None,
    refpix: int = 4,
    do_not_use: Iterable[str] = DEFAULT_DO_NOT_USE,
    noisy_flag: str = "UNRELIABLE_SLOPE",
    useafter: str | None = None,
    author: str | None = None,
    description: str | None = None,
    pedigree: str = "GROUND",
    group_time: float | None = None,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    flag_map=dqflags.pixel,
    dq_bits: int = 32,
) -> MaskBuild:
    """Build a bad-pixel mask from flat-field and dark files.

    Flats: each frame is divided by its median level (from 256 rows spread
    over the frame), the frames are combined by their per-pixel median, the
    result divided by its :func:`~irisdq.reffiles.badpix.illumination`, and
    the response classified by :func:`~irisdq.reffiles.badpix.flat_flags`.
    Darks: the per-pixel :func:`~irisdq.reffiles.badpix.lower_median` of the
    frames is the dark rate, their
    :func:`~irisdq.reffiles.badpix.robust_scatter` the noise, classified by
    :func:`~irisdq.reffiles.badpix.dark_flags`. The reference-pixel border
    gets REFERENCE_PIXEL and nothing else; flags in ``do_not_use`` also get
    DO_NOT_USE.

    Parameters
    ----------
    flats, darks : sequence of str or os.PathLike
        Flat-field and dark files (2-D rates, 3-D rate cubes or 4-D ramps),
        all of one (ny, nx). At least one of the two; darks need at least 2
        frames, so that a cosmic ray in one cannot make a HOT pixel, and 3
        for the noisy search.
    detector : str, optional
        ``DETECTOR`` of the mask.
    thresholds : Thresholds, optional
        The rules' thresholds (default: :class:`Thresholds`' defaults).
    refpix : int, optional
        Width of the reference-pixel border on each edge of the detector;
        0 for none. For a subarray (inputs smaller than the detector, placed
        by their ``SUBSTRT1/2``) only the border inside it is flagged.
    do_not_use : iterable of str, optional
        Flags whose pixels also get DO_NOT_USE.
    noisy_flag : str, optional
        The flag of noisy pixels (``UNRELIABLE_SLOPE`` or ``TELEGRAPH``).
    useafter : str, optional
        ``USEAFTER`` (ISO date or date and time; default 2000-01-01).
    author, description, pedigree : str, optional
        ``AUTHOR``, ``DESCRIP``, ``PEDIGREE``.
    group_time : float, optional
        Seconds between groups of ramp inputs, instead of their ``TGROUP``.
    block_rows : int, optional
        Rows read from every frame at a time. The result does not depend on
        it; memory does.
    flag_map : BitFlagNameMap, optional
        The flag convention (default: the IRIS flags).
    dq_bits : int, optional
        The bits of the DQ array the mask is applied to (16 for a Liger
        ramp's uint16 DQ): flags above them (REFERENCE_PIXEL, bit 31;
        UNRELIABLE_SLOPE, bit 24) are left out and their pixels get
        DO_NOT_USE, as DQ initialization's ``do-not-use`` narrowing would
        do; :attr:`MaskBuild.left_out` and a note say which.

    Returns
    -------
    MaskBuild
        The mask and its report.

    Raises
    ------
    IrisDQError
        If an input is missing, unreadable, of another shape, or a
        parameter is out of range (the message names it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(1)
    >>> for i in range(3):
    ...     flat = rng.normal(1000, 5, (64, 64)).astype(np.float32)
    ...     flat[30, 30] = 3                                     # dead
    ...     fits.PrimaryHDU(flat).writeto(folder / f"flat{i}.fits")
    ...     dark = rng.normal(0.01, 0.002, (64, 64)).astype(np.float32)
    ...     dark[10, 50] = 40                                    # hot
    ...     fits.PrimaryHDU(dark).writeto(folder / f"dark{i}.fits")
    >>> result = build_mask(sorted(folder.glob("flat*")), sorted(folder.glob("dark*")),
    ...                     thresholds=Thresholds(illumination_box=16))
    >>> int(result.mask.dq[30, 30]), int(result.mask.dq[10, 50])
    (1025, 2049)
    >>> result.counts["DEAD"], result.counts["HOT"], result.counts["REFERENCE_PIXEL"]
    (1, 1, 496)
    """
    thresholds = thresholds or Thresholds()
    do_not_use = tuple(name.strip().upper() for name in do_not_use)
    noisy_flag = noisy_flag.strip().upper()
    for name in (*do_not_use, noisy_flag):
        if name not in flag_map:
            raise IrisDQError(
                f"unknown pixel flag name {name!r}; see 'irisdq flags table'"
            )
    if int(block_rows) != block_rows or block_rows < 1:
        raise IrisDQError(f"block_rows = {block_rows!r} must be a positive integer")
    flat_paths, dark_paths = _paths(flats), _paths(darks)
    if not flat_paths and not dark_paths:
        raise IrisDQError("give flat-field files, dark files, or both")
    useafter_value = _useafter(useafter)
    sources: list[_Frames] = []
    try:
        for path in (*flat_paths, *dark_paths):
            sources.append(_Frames(path, group_time))
        flat_sources = sources[: len(flat_paths)]
        dark_sources = sources[len(flat_paths) :]
        shape = _common_shape(sources)
        origin = _common_origin(sources)
        full = detector_shape(detector) or shape
        science = ~_reference_border(full, origin, shape, refpix)
        if not science.any():
            raise IrisDQError(
                f"{sources[0].path}: its {shape[0]} x {shape[1]} frames lie all "
                f"in the {refpix}-pixel reference border; no pixel is left to "
                "judge: give larger frames (or --refpix 0)"
            )
        dark_frames = sum(source.count for source in dark_sources)
        if dark_sources and dark_frames < 2:
            raise IrisDQError(
                f"{dark_paths[0]}: one dark frame cannot tell a hot pixel from "
                "a cosmic ray; give at least 2 dark frames (3 or more for the "
                "noisy-pixel search)"
            )
        levels = [
            (source, frame, _flat_level(source, frame, science))
            for source in flat_sources
            for frame in range(source.count)
        ]
        combined, rate, scatter, kept = _combine(
            shape, levels, dark_sources, dark_frames >= 3, int(block_rows)
        )
    finally:
        for source in sources:
            source.close()

    classes: dict[str, np.ndarray] = {}
    notes: list[str] = []
    response = None
    if combined is not None:
        combined[~science] = np.nan
        model = illumination(combined, thresholds.illumination_box)
        # Where no light reached (a whole block at or below zero), the
        # response cannot be measured: NaN, so NO_FLAT_FIELD.
        model[model <= 0] = np.nan
        # In place: the combined flat becomes the response, one full-size
        # array fewer.
        response = combined
        with np.errstate(invalid="ignore"):
            response /= model
        del model
        classes.update(
            flat_flags(
                response,
                dead=thresholds.dead,
                low_qe=thresholds.low_qe,
                open_neighbour=thresholds.open_neighbour,
                science=science,
            )
        )
    else:
        notes.append("no flats: DEAD, LOW_QE, OPEN and ADJ_OPEN were not searched")
    cut = noise = None
    if rate is not None:
        rate[~science] = np.nan
        if scatter is None:
            notes.append(
                f"only {dark_frames} dark frames: the noisy-pixel search needs 3 "
                f"or more and was not run, so no pixel has {noisy_flag} (noisy "
                "pixels look good); HOT and WARM come from the lower of the 2 "
                "frames (a pixel hot in one frame only is taken for a cosmic "
                "ray): give 3 or more darks"
            )
        else:
            scatter[~science] = np.nan
        dark = dark_flags(
            rate,
            scatter,
            kept,
            hot=thresholds.hot,
            warm=thresholds.warm,
            noisy_sigma=thresholds.noisy_sigma,
            noisy_flag=noisy_flag,
            science=science,
        )
        if scatter is not None:
            noise = typical_noise(scatter, kept, science & ~dark["HOT"])
            if noise is not None:
                cut = float(noisy_threshold(dark_frames, noise, thresholds.noisy_sigma))
        for name, where in dark.items():
            classes[name] = classes[name] | where if name in classes else where
    else:
        notes.append("no darks: HOT, WARM and noisy pixels were not searched")
    classes["REFERENCE_PIXEL"] = ~science
    dq = combine_flags(classes, do_not_use, flag_map)
    left_out = _fit_flags(dq, dq_bits, flag_map)
    if left_out:
        listed = ", ".join(f"{name} ({count})" for name, count in left_out.items())
        notes.append(
            f"the DQ this mask is for holds bits 0-{dq_bits - 1} only: {listed} "
            "left out, their pixels flagged DO_NOT_USE instead (--refpix 0: no "
            "border; --noisy-flag TELEGRAPH: noisy pixels keep a flag of their own)"
        )

    mask = TMTMaskModel()
    mask.meta.instrument.detector = detector
    _place(mask, full, origin, shape)
    mask.dq = dq
    mask.meta.useafter = useafter_value
    mask.meta.pedigree = pedigree
    if author:
        mask.meta.author = author
    mask.meta.description = description or (
        f"{detector} bad pixels: {len(flat_paths)} flats, {len(dark_paths)} darks"
    )
    result = MaskBuild(
        mask=mask,
        thresholds=thresholds,
        counts=dqflags.count_flags(dq, flag_map),
        flats=flat_paths,
        darks=dark_paths,
        flat_frames=len(levels),
        dark_frames=dark_frames,
        response=response,
        dark_rate=rate,
        dark_noise=noise,
        noisy_cut=cut,
        noisy_flag=noisy_flag,
        do_not_use=do_not_use,
        refpix=refpix,
        notes=notes,
        left_out=left_out,
    )
    _record_provenance(result)
    return result


def _fit_flags(dq: np.ndarray, bits: int, flag_map) -> dict[str, int]:
    """Leave out, in place, the flags of ``dq`` above ``bits`` bits, with
    DO_NOT_USE where they were; return the pixels per flag left out."""
    if not 1 <= int(bits) <= 32:
        raise IrisDQError(f"dq_bits = {bits!r} must be 1 to 32")
    if bits == 32:
        return {}
    keep = np.uint32((1 << int(bits)) - 1)
    high = dq & ~keep
    if not high.any():
        return {}
    left_out = {
        name: count
        for name, count in dqflags.count_flags(high, flag_map).items()
        if count
    }
    dq &= keep
    dq[high != 0] |= np.uint32(flag_map.DO_NOT_USE)
    return left_out


def _paths(value) -> list[Path]:
    # One file name alone is one input, not a sequence of characters.
    if isinstance(value, str | os.PathLike):
        return [Path(value)]
    return [Path(item) for item in value]


def _useafter(value: str | None) -> str:
    if value is None:
        from irisdq.datamodels.mask import DEFAULT_USEAFTER

        return DEFAULT_USEAFTER
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise IrisDQError(
            f"useafter {value!r} is not a date; give e.g. 2026-01-01 or "
            "2026-01-01T00:00:00"
        ) from None
    return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def _common_shape(sources: list[_Frames]) -> tuple[int, int]:
    shape = sources[0].planes.shape
    for source in sources[1:]:
        if source.planes.shape != shape:
            raise IrisDQError(
                f"{source.path}: images are {source.planes.shape} (ny, nx) but "
                f"{sources[0].path} has {shape}; give inputs of one detector "
                "and one subarray"
            )
    return shape


def _common_origin(sources: list[_Frames]) -> tuple[int, int]:
    origin = _origin(sources[0].planes.primary_header, sources[0].path)
    for source in sources[1:]:
        other = _origin(source.planes.primary_header, source.path)
        if other != origin:
            raise IrisDQError(
                f"{source.path}: starts at SUBSTRT2, SUBSTRT1 = {other[0] + 1}, "
                f"{other[1] + 1} but {sources[0].path} at {origin[0] + 1}, "
                f"{origin[1] + 1}; give inputs of one subarray"
            )
    return origin


def _origin(header, path: Path) -> tuple[int, int]:
    """The 0-based (row, column) of the inputs' first pixel on the detector."""
    values = []
    for keyword in ("SUBSTRT2", "SUBSTRT1"):
        value = header.get(keyword, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise IrisDQError(
                f"{path}: {keyword} = {value!r} is not a 1-based pixel index; "
                "fix the input's header"
            )
        values.append(value - 1)
    return values[0], values[1]


def _reference_border(
    full: tuple[int, int], origin: tuple[int, int], shape: tuple[int, int], width: int
) -> np.ndarray:
    if int(width) != width:
        raise IrisDQError(f"refpix = {width!r} must be a whole number of pixels")
    ys, xs = origin
    if ys + shape[0] > full[0] or xs + shape[1] > full[1]:
        raise IrisDQError(
            f"images of {shape} at SUBSTRT2, SUBSTRT1 = {ys + 1}, {xs + 1} do "
            f"not fit the {full} detector; check --detector and the inputs"
        )
    border = reference_pixels(full, int(width))
    return border[ys : ys + shape[0], xs : xs + shape[1]].copy()


def _place(
    mask: TMTMaskModel,
    full: tuple[int, int],
    origin: tuple[int, int],
    shape: tuple[int, int],
) -> None:
    if origin == (0, 0) and shape == full:
        mask.meta.subarray.name = "FULL"
        return
    mask.meta.subarray.name = "CUSTOM"
    mask.meta.subarray.ystart, mask.meta.subarray.xstart = origin[0] + 1, origin[1] + 1
    mask.meta.subarray.ysize, mask.meta.subarray.xsize = shape


def _flat_level(source: _Frames, frame: int, science: np.ndarray) -> float:
    """The median of a flat frame, from rows spread evenly over it."""
    ny = source.planes.shape[0]
    step = max(1, math.ceil(ny / _LEVEL_ROWS))
    samples = []
    for row in range(step // 2, ny, step):
        values = source.read(frame, row, row + 1)[0]
        samples.append(values[science[row] & np.isfinite(values)])
    values = np.concatenate(samples) if samples else np.empty(0, np.float32)
    if not values.size:
        raise IrisDQError(
            f"{source.path}: frame {frame} has no finite value (all NaN or "
            "infinite); give flat fields with light in them"
        )
    level = float(np.median(values))
    if not level > 0:
        raise IrisDQError(
            f"{source.path}: frame {frame} has a median level of {level:g}; a "
            "flat field must have a positive level (is it a flat?)"
        )
    return level


def _combine(
    shape: tuple[int, int],
    flats: list[tuple[_Frames, int, float]],
    darks: list[_Frames],
    with_scatter: bool,
    block_rows: int,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Stream every frame in row blocks into the combined flat and dark maps."""
    ny, nx = shape
    combined = np.empty(shape, dtype=np.float32) if flats else None
    dark_frames = [(source, frame) for source in darks for frame in range(source.count)]
    rate = np.empty(shape, dtype=np.float32) if dark_frames else None
    scatter = np.empty(shape, dtype=np.float32) if with_scatter else None
    kept = np.empty(shape, dtype=np.uint16) if with_scatter else None
    measured = [False] * len(dark_frames)
    for start in range(0, ny, block_rows):
        stop = min(start + block_rows, ny)
        if combined is not None:
            stack = np.empty((len(flats), stop - start, nx), dtype=np.float32)
            for index, (source, frame, level) in enumerate(flats):
                np.divide(source.read(frame, start, stop), level, out=stack[index])
            combined[start:stop] = np.median(stack, axis=0)
        if rate is not None:
            stack = np.empty((len(dark_frames), stop - start, nx), dtype=np.float32)
            for index, (source, frame) in enumerate(dark_frames):
                stack[index] = source.read(frame, start, stop)
                measured[index] |= bool(np.isfinite(stack[index]).any())
            rate[start:stop] = lower_median(stack)
            if scatter is not None:
                scatter[start:stop], kept[start:stop] = robust_scatter(
                    stack, return_count=True
                )
    for (source, frame), seen in zip(dark_frames, measured, strict=True):
        if not seen:
            raise IrisDQError(
                f"{source.path}: frame {frame} has no finite value (all NaN or "
                "infinite); give darks that were read out"
            )
    return combined, rate, scatter, kept


def _record_provenance(result: MaskBuild) -> None:
    """Thresholds as keywords (jwst_reffiles' names where they exist), inputs
    and software as HISTORY."""
    header = result.mask.extra_keywords
    t = result.thresholds
    cards = [
        ("IRISDQV", irisdq.__version__, "irisdq version that built it"),
        ("BPMNFLAT", result.flat_frames, "flat-field frames combined"),
        ("BPMNDARK", result.dark_frames, "dark frames combined"),
        ("BPMSMOTH", t.illumination_box, "illumination block median box, px"),
        ("BPMMXDED", t.dead, "DEAD below this flat response"),
        ("BPMMXLQE", t.low_qe, "LOW_QE/OPEN below this response"),
        ("BPMMXOAD", t.open_neighbour, "OPEN: 4 neighbours above this"),
        ("BPMHOT", t.hot, "HOT above this dark rate"),
        ("BPMWARM", t.warm, "WARM above this dark rate"),
        ("BPMNOISG", t.noisy_sigma, "noisy: robust sigmas above typical"),
        ("BPMNOISF", result.noisy_flag, "flag of noisy pixels"),
        ("BPMREFPX", result.refpix, "reference-pixel border, px"),
    ]
    if result.noisy_cut is not None:
        cards.append(("BPMNOISE", result.dark_noise, "typical dark noise per frame"))
        cards.append(
            ("BPMNOISC", result.noisy_cut, "noisy: scatter above (all frames)")
        )
    for keyword, value, comment in cards:
        header[keyword] = (value, comment)
    header.add_history(f"Built by irisdq {irisdq.__version__} (irisdq mask build)")
    header.add_history(
        "Rules: jwst_reffiles bad_pixel_mask (flats) and badpix_from_darks "
        "(darks), with the departures of irisdq docs/mask_build.rst"
    )
    header.add_history(f"DO_NOT_USE with: {', '.join(result.do_not_use) or 'none'}")
    for kind, paths in (("flat", result.flats), ("dark", result.darks)):
        for path in paths:
            header.add_history(f"{kind}: {path}")
    for note in result.notes:
        header.add_history(f"Note: {note}")
