"""The report of a mask build: counts per flag, thresholds, pictures.

matplotlib is an optional dependency (``pip install 'irisdq[plot]'``),
imported only when a picture is drawn.
"""

import os
from pathlib import Path

import numpy as np

from irisdq import dqflags
from irisdq.errors import IrisDQError
from irisdq.reffiles.build import MaskBuild

__all__ = ["format_report", "plot_report"]

# Beyond this many pixels of one flag, a random subset is drawn.
_MAX_POINTS = 100_000
# Flags that cover areas rather than single pixels are not drawn as points.
_AREA_FLAGS = frozenset({"REFERENCE_PIXEL", "DO_NOT_USE"})


def format_report(result: MaskBuild) -> str:
    """Return the text report of a mask build.

    The frames used, the thresholds (response thresholds on the normalised
    flat, rate thresholds in the darks' units), the pixels per flag (flags
    with no pixel left out) and notes on searches not run.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from astropy.io import fits
    >>> from irisdq.reffiles.build import build_mask
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(2):
    ...     dark = np.full((32, 32), 0.01, dtype=np.float32)
    ...     dark[9, 9] = 3.0
    ...     fits.PrimaryHDU(dark).writeto(folder / f"dark{i}.fits")
    >>> print(format_report(build_mask(darks=sorted(folder.glob("*.fits")))))
    inputs      0 flat frames (0 files), 2 dark frames (2 files)
    flats       DEAD < 0.05, LOW_QE < 0.5, OPEN neighbours > 1.05; box 32 px
    darks       HOT > 1, WARM > 0.1; UNRELIABLE_SLOPE at 5 sigma
    border      4 px REFERENCE_PIXEL; DO_NOT_USE with DEAD, HOT, OPEN, REFERENCE_PIXEL
    pixels      DO_NOT_USE 241, HOT 1, REFERENCE_PIXEL 240
    note        no flats: DEAD, LOW_QE, OPEN and ADJ_OPEN were not searched
    note        only 2 dark frames: the noisy-pixel search needs 3 or more and...
    """
    t = result.thresholds
    lines = [
        f"inputs      {result.flat_frames} flat frames ({len(result.flats)} "
        f"files), {result.dark_frames} dark frames ({len(result.darks)} files)",
        f"flats       DEAD < {t.dead:g}, LOW_QE < {t.low_qe:g}, OPEN neighbours "
        f"> {t.open_neighbour:g}; box {t.illumination_box} px",
        f"darks       HOT > {t.hot:g}, WARM > {t.warm:g}; {result.noisy_flag} "
        f"at {t.noisy_sigma:g} sigma",
    ]
    if result.noisy_cut is not None:
        lines.append(
            f"noise       {result.dark_noise:.4g} per dark frame; noisy above a "
            f"scatter of {result.noisy_cut:.4g} ({result.dark_frames} frames)"
        )
    lines.append(
        f"border      {result.refpix} px REFERENCE_PIXEL; DO_NOT_USE with "
        f"{', '.join(result.do_not_use) or 'none'}"
    )
    counts = [f"{name} {count}" for name, count in result.counts.items() if count]
    lines.append(f"pixels      {', '.join(counts) or 'none flagged'}")
    lines.extend(f"note        {note}" for note in result.notes)
    return "\n".join(lines)


def plot_report(
    result: MaskBuild, output: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Save a picture of a mask build: flagged pixels and histograms.

    Left: each flagged pixel at its column and row, one colour per flag
    (reference pixels left out). Middle: the histogram of the normalised
    flat response with the DEAD, LOW_QE and OPEN-neighbour thresholds.
    Right: the histogram of the dark rate with the WARM and HOT thresholds.
    The file appears complete or not at all.

    Parameters
    ----------
    result : MaskBuild
        What :func:`~irisdq.reffiles.build.build_mask` returned.
    output : str or os.PathLike
        The image; its suffix picks the format (``.png``, ``.pdf``).
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
    from irisdq.plots import check_output, save_figure

    output = check_output(output, overwrite=overwrite)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise IrisDQError(
            "pictures need matplotlib: pip install 'irisdq[plot]'"
        ) from None
    figure, (image, flat, dark) = plt.subplots(1, 3, figsize=(18, 6))
    try:
        _draw_pixels(image, result, plt.get_cmap("tab10"))
        _draw_flat(flat, result)
        _draw_dark(dark, result)
        figure.suptitle(
            f"{result.mask.meta.instrument.detector} bad-pixel mask: "
            f"{result.flat_frames} flat and {result.dark_frames} dark frames"
        )
        figure.tight_layout()
    except BaseException:
        plt.close(figure)
        raise
    return save_figure(figure, output, overwrite=overwrite)


def _draw_pixels(axes, result: MaskBuild, colours) -> None:
    dq = result.mask.dq
    rng = np.random.default_rng(0)
    shown = [
        name
        for name, count in result.counts.items()
        if count and name not in _AREA_FLAGS
    ]
    for number, name in enumerate(shown):
        rows, columns = np.nonzero(dq & np.uint32(dqflags.pixel[name]))
        if rows.size > _MAX_POINTS:
            keep = rng.choice(rows.size, _MAX_POINTS, replace=False)
            rows, columns = rows[keep], columns[keep]
        rare = rows.size < 1000
        # Rare flags are drawn large so that one pixel shows on a 4096 frame.
        axes.scatter(
            columns,
            rows,
            s=16 if rare else 1,
            color=colours(number % 10),
            label=f"{name} ({result.counts[name]})",
            rasterized=not rare,
        )
    ny, nx = dq.shape
    axes.set_xlim(-0.5, nx - 0.5)
    axes.set_ylim(-0.5, ny - 0.5)
    axes.set_aspect("equal")
    axes.set_xlabel("x (column, 0-based)")
    axes.set_ylabel("y (row, 0-based)")
    axes.set_title("flagged pixels (reference pixels not drawn)")
    if shown:
        axes.legend(loc="upper right", fontsize="small", markerscale=3)


def _histogram(axes, values: np.ndarray, bins, lines, xlabel: str) -> None:
    finite = values[np.isfinite(values)]
    axes.hist(finite, bins=bins, color="0.4", log=True)
    for value, label, colour in lines:
        axes.axvline(value, color=colour, linestyle="--", label=f"{label} {value:g}")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("pixels")
    axes.legend(fontsize="small")


def _draw_flat(axes, result: MaskBuild) -> None:
    if result.response is None:
        axes.text(0.5, 0.5, "no flats", ha="center", va="center")
        axes.set_axis_off()
        return
    t = result.thresholds
    top = max(1.5, t.open_neighbour * 1.2)
    _histogram(
        axes,
        np.clip(result.response, 0, top),
        np.linspace(0, top, 301),
        [
            (t.dead, "DEAD <", "tab:red"),
            (t.low_qe, "LOW_QE <", "tab:orange"),
            (t.open_neighbour, "OPEN neighbours >", "tab:blue"),
        ],
        f"normalised flat response (clipped to 0..{top:g})",
    )
    axes.set_title("flat response")


def _draw_dark(axes, result: MaskBuild) -> None:
    if result.dark_rate is None:
        axes.text(0.5, 0.5, "no darks", ha="center", va="center")
        axes.set_axis_off()
        return
    t = result.thresholds
    rate = result.dark_rate
    finite = rate[np.isfinite(rate)]
    low = float(min(finite.min(), 0)) if finite.size else 0.0
    high = float(max(finite.max(), t.hot * 2)) if finite.size else t.hot * 2
    # A symmetric log scale shows the bulk near zero and the hot tail at once.
    axes.set_xscale("symlog", linthresh=t.warm / 10)
    edges = np.unique(
        np.concatenate(
            [
                -np.geomspace(t.warm / 10, max(-low, t.warm / 10), 60)[::-1],
                np.linspace(-t.warm / 10, t.warm / 10, 41),
                np.geomspace(t.warm / 10, high, 200),
            ]
        )
    )
    _histogram(
        axes,
        rate,
        edges,
        [(t.warm, "WARM >", "tab:orange"), (t.hot, "HOT >", "tab:red")],
        "dark rate (symmetric log scale)",
    )
    axes.set_title("dark rate")
