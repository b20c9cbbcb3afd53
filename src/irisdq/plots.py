"""Pictures of DQ arrays: where each flag is on the detector, and how often.

A picture shows the DQ array as an image at its own extent, in detector
coordinates (1-based, as FITS and SUBSTRT1/2 count: a subarray's axes are
where it lies on the detector), a full frame with the detector's outline
drawn. Left: every
flag but DO_NOT_USE, one colour per flag; middle: DO_NOT_USE alone; right:
the number of pixels with each flag, in the same colours.

A 4096 x 4096 frame has more pixels than a picture: it is binned for display
so that no flagged pixel disappears (a picture pixel has a flag when any
detector pixel under it has it, see :func:`bin_flags`), and flags with few
pixels are also circled, so that a single hot pixel can be found.

matplotlib is an optional dependency (``pip install "irisdq[plot]"``) and is
imported only when a picture is drawn.
"""

import errno
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from irisdq import dqflags
from irisdq.datamodels.atomic import atomic_output
from irisdq.datamodels.mask import TMTMaskModel
from irisdq.errors import IrisDQError
from irisdq.layouts import detector_shape

__all__ = [
    "IMAGE_FORMATS",
    "MATPLOTLIB_MISSING",
    "bin_flags",
    "check_output",
    "draw_dq",
    "placement",
    "plot_dq",
    "plot_mask",
    "require_matplotlib",
    "save_figure",
]

#: The file name suffixes (formats) a picture can be saved as.
IMAGE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "eps", "ps")

#: What to do when matplotlib is not installed.
MATPLOTLIB_MISSING = 'drawing needs matplotlib: pip install "irisdq[plot]"'

# The figure is laid out by hand, in pixels at _DPI, so that the size of an
# image panel on the screen is known before drawing: the binning factor is
# chosen from it so that every picture pixel is at least one screen pixel.
_DPI = 100
_FIGURE = (1700, 720)
_PANEL = 560
_FLAGS_LEFT, _DNU_LEFT, _BOTTOM = 80, 720, 70
_BARS = (1390, 70, 270, 560)

# Flags with at most this many pixels are circled as well: at one screen
# pixel per picture pixel a lone hot pixel is there, but hard to find.
_RARE = 100
# ... unless a detector pixel is drawn at least this many screen pixels
# wide: then it is seen as it is, and circles would only hide it.
_SEEN = 4

_BACKGROUND = (0.93, 0.93, 0.93, 1.0)
_DO_NOT_USE_COLOUR = (0.1, 0.1, 0.1, 1.0)


def bin_flags(dq: np.ndarray, factor: int) -> np.ndarray:
    """Combine ``factor`` x ``factor`` blocks of a DQ array into one pixel.

    A binned pixel has every flag that any pixel of its block has (a
    bitwise OR), so that binning for display never hides a flagged pixel.
    Blocks at the right and top edges may be smaller.

    Parameters
    ----------
    dq : numpy.ndarray
        A 2-D integer DQ array.
    factor : int
        The block size, at least 1.

    Returns
    -------
    numpy.ndarray
        ``(ceil(ny / factor), ceil(nx / factor))``, of ``dq``'s dtype.

    Examples
    --------
    >>> dq = np.zeros((5, 5), dtype=np.uint32)
    >>> dq[4, 0], dq[1, 1], dq[0, 0] = 2048, 1024, 1
    >>> bin_flags(dq, 2)
    array([[1025,    0,    0],
           [   0,    0,    0],
           [2048,    0,    0]], dtype=uint32)
    """
    if factor < 1:
        raise ValueError(f"factor = {factor}; a binning factor is at least 1")
    dq = np.asarray(dq)
    if factor == 1:
        return dq.copy()
    rows = np.bitwise_or.reduceat(dq, np.arange(0, dq.shape[0], factor), axis=0)
    return np.bitwise_or.reduceat(rows, np.arange(0, dq.shape[1], factor), axis=1)


def placement(keywords: Mapping[str, Any]) -> tuple[tuple[int, int], tuple | None]:
    """Where an array lies on its detector, from its header keywords.

    Parameters
    ----------
    keywords : mapping
        Primary-header keywords (``SUBSTRT1``, ``SUBSTRT2``, ``DETECTOR``).

    Returns
    -------
    start : tuple of int
        (SUBSTRT1, SUBSTRT2): the 1-based detector column and row of the
        array's first pixel; (1, 1) without SUBSTRT keywords.
    detector : tuple of int or None
        The detector's full-frame (ny, nx), None when unknown.

    Raises
    ------
    DataModelError
        If SUBSTRT1 or SUBSTRT2 is not an integer.

    Examples
    --------
    >>> placement({"DETECTOR": "IRIS1", "SUBSTRT1": 1025, "SUBSTRT2": 2049})
    ((1025, 2049), (4096, 4096))
    >>> placement({})
    ((1, 1), None)
    """
    from irisdq.dq_init.plan import science_subarray

    sub = science_subarray(keywords)
    start = (1, 1) if sub is None else (sub.xstart, sub.ystart)
    detector = keywords.get("DETECTOR")
    return start, detector_shape(detector if isinstance(detector, str) else None)


def _flag_value(flag_map, name: str) -> int:
    """The value of a flag named by :func:`irisdq.dqflags.count_flags`: a
    name of the map, or the decimal value of a bit it does not name."""
    return int(name) if name.isdigit() else int(getattr(flag_map, name))


def _pixels(count: int) -> str:
    return f"{count:,} pixel" + ("" if count == 1 else "s")


def require_matplotlib() -> None:
    """Check that matplotlib can be imported, before any data is read.

    Raises
    ------
    IrisDQError
        If it cannot: :data:`MATPLOTLIB_MISSING`.
    """
    _pyplot()


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise IrisDQError(MATPLOTLIB_MISSING) from None
    return plt


def draw_dq(
    dq: np.ndarray,
    *,
    flag_map=dqflags.pixel,
    start: tuple[int, int] = (1, 1),
    detector: tuple[int, int] | None = None,
    title: str = "",
):
    """Draw a DQ array: the flags, DO_NOT_USE, and the pixels per flag.

    Parameters
    ----------
    dq : numpy.ndarray
        A 2-D integer DQ array (a mask's DQ, PIXELDQ, one GROUPDQ plane).
    flag_map : BitFlagNameMap, optional
        :data:`irisdq.dqflags.pixel` (default) or
        :data:`irisdq.dqflags.group` for GROUPDQ.
    start : tuple of int, optional
        (SUBSTRT1, SUBSTRT2): the 1-based detector column and row of
        ``dq[0, 0]``; see :func:`placement`.
    detector : tuple of int, optional
        The detector's (ny, nx), whose outline is drawn; None draws the
        array alone.
    title : str, optional
        The figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with three axes: flags, DO_NOT_USE, pixels per flag.
        Close it with ``matplotlib.pyplot.close`` when done.

    Raises
    ------
    IrisDQError
        If matplotlib is not installed.
    """
    plt = _pyplot()
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    dq = np.asarray(dq)
    if np.issubdtype(dq.dtype, np.signedinteger):
        # A DQ stored signed (Liger's int16 test files): the same bits.
        dq = dq.view(f"u{dq.dtype.itemsize}")
    ny, nx = dq.shape
    xstart, ystart = start
    # Pixel centres are at integer 1-based coordinates, so an array starting
    # at column xstart covers xstart - 0.5 .. xstart - 0.5 + nx.
    extent = (xstart - 0.5, xstart - 0.5 + nx, ystart - 0.5, ystart - 0.5 + ny)
    # The array at its own extent and scale: a 10 x 10 sample or a
    # subarray drawn in a frame the size of the detector would be a dot in
    # a corner. Where it lies on the detector is said below the picture.
    left, right, bottom, top = extent
    span = max(right - left, top - bottom)
    # A margin, so that flags on the edge (reference pixels) are not hidden
    # under the frame of the axes and the detector's outline shows.
    margin = 0.02 * span
    left, right, bottom, top = (
        left - margin,
        right + margin,
        bottom - margin,
        top + margin,
    )
    span += 2 * margin
    factor = max(1, math.ceil(span / _PANEL))
    binned = bin_flags(dq, factor)
    circled = _PANEL / span < _SEEN
    # The detector's outline where it is all in view (a full frame); a
    # part of it would be a stray line in the margin.
    outlined = detector is not None and (
        left <= 0.5
        and bottom <= 0.5
        and right >= detector[1] + 0.5
        and top >= detector[0] + 0.5
    )

    counts = {name: n for name, n in dqflags.count_flags(dq, flag_map).items() if n}
    # A set bit the map does not name (16 in GROUPDQ) is counted under its
    # value, and drawn as any flag.
    values = {name: _flag_value(flag_map, name) for name in counts}
    do_not_use = int(flag_map.DO_NOT_USE)
    others = [name for name in counts if values[name] != do_not_use]
    # One colour per flag: tab10's strong colours, tab20's when more flags.
    palette = plt.get_cmap("tab10" if len(others) <= 10 else "tab20")
    colours = {name: palette(i % palette.N) for i, name in enumerate(others)}
    colours.update({n: _DO_NOT_USE_COLOUR for n in counts if n not in colours})

    width, height = _FIGURE
    figure = plt.figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)

    def box(x, y, w, h):
        return (x / width, y / height, w / width, h / height)

    flags_axes = figure.add_axes(box(_FLAGS_LEFT, _BOTTOM, _PANEL, _PANEL))
    dnu_axes = figure.add_axes(
        box(_DNU_LEFT, _BOTTOM, _PANEL, _PANEL),
        sharex=flags_axes,
        sharey=flags_axes,
    )
    bars = figure.add_axes(box(*_BARS))
    thousands = FuncFormatter(lambda value, _: f"{value:,.0f}")

    panels = ((flags_axes, others), (dnu_axes, [n for n in counts if n not in others]))
    for axes, names in panels:
        rgba = np.empty((*binned.shape, 4))
        rgba[...] = _BACKGROUND
        # Common flags first, so that a rare one in the same picture pixel
        # is the one seen.
        for name in sorted(names, key=counts.get, reverse=True):
            rgba[(binned & binned.dtype.type(values[name])) != 0] = colours[name]
        axes.imshow(
            rgba, origin="lower", extent=extent, interpolation="nearest", zorder=1
        )
        for name in names:
            if circled and counts[name] <= _RARE:
                rows, columns = np.nonzero(dq & dq.dtype.type(values[name]))
                axes.scatter(
                    columns + xstart,
                    rows + ystart,
                    s=160,
                    facecolors="none",
                    edgecolors=[colours[name]],
                    linewidths=1.2,
                    zorder=3,
                )
        if outlined:
            axes.add_patch(
                Rectangle(
                    (0.5, 0.5),
                    detector[1],
                    detector[0],
                    fill=False,
                    edgecolor="black",
                    linewidth=1.0,
                    # Under the image: flags on the detector's edge (the
                    # reference pixels) stay visible.
                    zorder=0.5,
                )
            )
        axes.set_xlim(left, right)
        axes.set_ylim(bottom, top)
        axes.set_aspect("equal")
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            axis.set_major_formatter(thousands)
        axes.set_xlabel("detector column x (1-based, FITS)")
    flags_axes.set_ylabel("detector row y (1-based, FITS)")
    dnu_axes.tick_params(labelleft=False)
    flagged = int(np.count_nonzero(dq & ~dq.dtype.type(do_not_use)))
    flags_axes.set_title(
        f"flags other than DO_NOT_USE: {_pixels(flagged)}", fontsize="medium"
    )
    dnu_axes.set_title(
        f"DO_NOT_USE: {_pixels(counts.get('DO_NOT_USE', 0))}", fontsize="medium"
    )

    where = f"{nx:,} x {ny:,} pixels"
    if start != (1, 1) or detector is None or detector != (ny, nx):
        where += f" at SUBSTRT1={xstart}, SUBSTRT2={ystart}"
    if detector is not None:
        where += f" on a {detector[1]:,} x {detector[0]:,} detector"
        if outlined:
            where += " (outlined)"
    scale = (
        "each picture pixel is one detector pixel"
        if factor == 1
        else f"each picture pixel is {factor} x {factor} detector pixels, "
        "flagged if any of them is"
    )
    figure.text(
        _FLAGS_LEFT / width,
        12 / height,
        f"{where}; {scale}"
        + (f"; circles mark flags with at most {_RARE} pixels" if circled else ""),
        fontsize="small",
    )

    names = list(counts)
    if names:
        labels = [name if not name.isdigit() else f"{name} (unnamed)" for name in names]
        heights = [counts[name] for name in names]
        positions = np.arange(len(names))
        bars.barh(positions, heights, color=[colours[name] for name in names])
        bars.set_yticks(positions, labels)
        # Top to bottom in bit order; room for five bars, so one is not a slab.
        bars.set_ylim(max(len(names), 5) - 0.5, -0.5)
        for position, value in zip(positions, heights, strict=True):
            bars.annotate(
                f" {value:,}", (value, position), va="center", fontsize="small"
            )
        if max(heights) > 20 * min(heights):
            # Counts span orders of magnitude (a border of reference pixels,
            # three hot ones): a log axis keeps the small bars visible.
            bars.set_xscale("log")
            bars.set_xlim(0.8, max(heights) * 30)
            bars.xaxis.set_minor_formatter(NullFormatter())
        else:
            bars.set_xlim(0, max(heights) * 1.3)
            bars.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        bars.xaxis.set_major_formatter(thousands)
    else:
        bars.text(0.5, 0.5, "no flagged pixels", ha="center", va="center")
        bars.set_yticks([])
        bars.set_xticks([])
    bars.set_xlabel("pixels")
    bars.set_title("pixels per flag", fontsize="medium")
    if title:
        figure.suptitle(title)
    return figure


def plot_dq(
    dq: np.ndarray,
    output: str | os.PathLike,
    *,
    flag_map=dqflags.pixel,
    start: tuple[int, int] = (1, 1),
    detector: tuple[int, int] | None = None,
    title: str = "",
    overwrite: bool = False,
) -> Path:
    """Save a picture of a DQ array (see :func:`draw_dq`).

    Parameters
    ----------
    dq : numpy.ndarray
        A 2-D integer DQ array.
    output : str or os.PathLike
        The image file; its suffix picks the format, one of
        :data:`IMAGE_FORMATS` (``.png``, ``.pdf``, ...). It is written under
        a temporary name and renamed into place when complete.
    flag_map, start, detector, title
        As for :func:`draw_dq`.
    overwrite : bool, optional
        Replace an existing file; without it an existing ``output`` is an
        error and nothing is drawn.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    IrisDQError
        If the suffix is not an image format, or matplotlib is not installed.
    FileExistsError
        If ``output`` exists and ``overwrite`` is false.
    """
    output = check_output(output, overwrite=overwrite)
    figure = draw_dq(dq, flag_map=flag_map, start=start, detector=detector, title=title)
    return save_figure(figure, output, overwrite=overwrite)


def save_figure(figure, output: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Save a matplotlib figure atomically (a temporary file renamed into
    place when complete), then close it; its suffix picks the format.

    Raises
    ------
    FileExistsError
        If ``output`` exists and ``overwrite`` is false.
    """
    import matplotlib.pyplot as plt

    output = Path(output)
    try:
        with atomic_output(output, overwrite=overwrite) as stream:
            figure.savefig(stream, dpi=_DPI, format=output.suffix.lower()[1:])
    finally:
        plt.close(figure)
    return output


def check_output(output: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check, before anything is read or drawn, that a picture can be saved.

    Parameters
    ----------
    output : str or os.PathLike
        The image file.
    overwrite : bool, optional
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    IrisDQError
        If the suffix is not one of :data:`IMAGE_FORMATS`.
    FileExistsError
        If ``output`` exists and ``overwrite`` is false.
    """
    output = Path(output)
    suffix = output.suffix.lower().lstrip(".")
    if suffix not in IMAGE_FORMATS:
        raise IrisDQError(
            f"{output}: {'.' + suffix if suffix else 'no suffix'} is not an image "
            f"format a plot can be saved as; end the name with one of "
            f"{', '.join('.' + name for name in IMAGE_FORMATS)}"
        )
    if output.exists() and not overwrite:
        # Said before the drawing; atomic_output checks again when writing.
        raise FileExistsError(
            errno.EEXIST,
            "already exists; pass overwrite=True (--overwrite on the command "
            "line) to replace it",
            str(output),
        )
    return output


def plot_mask(
    mask: TMTMaskModel,
    output: str | os.PathLike,
    *,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Save a picture of a mask's DQ array, placed on its detector.

    Parameters
    ----------
    mask : TMTMaskModel
        The mask; its SUBSTRT1/2 and DETECTOR place it (see
        :func:`placement`).
    output : str or os.PathLike
        The image file, as for :func:`plot_dq`.
    title : str, optional
        The figure title (default: the mask's file name and detector).
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    IrisDQError
        If the suffix is not an image format, or matplotlib is not installed.
    FileExistsError
        If ``output`` exists and ``overwrite`` is false.
    """
    output = check_output(output, overwrite=overwrite)
    keywords = mask.get_fits_keywords()
    start, detector = placement(keywords)
    name = mask.path.name if mask.path else "mask"
    if title is None:
        title = (
            f"{name}: DQ of {keywords.get('INSTRUME', '')} "
            f"{keywords.get('DETECTOR', '')}".rstrip()
        )
    return plot_dq(
        mask.dq,
        output,
        start=start,
        detector=detector,
        title=title,
        overwrite=overwrite,
    )
