"""Drawing a mask: where the flagged pixels are, and how many per flag.

matplotlib is an optional dependency (``pip install irisdq[plot]``) and is
imported only when a plot is drawn.
"""

import errno
import os
from pathlib import Path

import numpy as np

from irisdq import dqflags
from irisdq.datamodels.atomic import atomic_output
from irisdq.datamodels.mask import TMTMaskModel
from irisdq.errors import IrisDQError

__all__ = ["IMAGE_FORMATS", "plot_mask"]

#: The file name suffixes (formats) a plot can be saved as.
IMAGE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "eps", "ps")

# Beyond this many pixels of one flag, a random subset is drawn: the picture
# looks the same and the file stays small.
_MAX_POINTS = 200_000


def plot_mask(
    mask: TMTMaskModel,
    output: str | os.PathLike,
    *,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Save a PNG of the flagged pixels, coloured by flag, with counts per flag.

    Left: each flagged pixel at its column (x) and row (y), one colour per
    flag (a pixel with several flags appears in each). Right: a bar chart of
    the number of pixels with each flag.

    Parameters
    ----------
    mask : TMTMaskModel
        The mask.
    output : str or os.PathLike
        The image file; its suffix picks the format, one of
        :data:`IMAGE_FORMATS` (``.png``, ``.pdf``, ...). It is written under
        a temporary name and renamed into place when complete.
    title : str, optional
        The figure title (default: the mask's file name and detector).
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
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise IrisDQError(
            "plotting needs matplotlib: pip install 'irisdq[plot]'"
        ) from None
    dq = mask.dq
    counts = {name: n for name, n in dqflags.count_flags(dq).items() if n}
    colours = plt.get_cmap("tab10")
    rng = np.random.default_rng(0)
    figure, (image, bars) = plt.subplots(
        1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [1.1, 1]}
    )
    for number, name in enumerate(counts):
        rows, columns = np.nonzero(dq & np.uint32(dqflags.pixel[name]))
        if rows.size > _MAX_POINTS:
            keep = rng.choice(rows.size, _MAX_POINTS, replace=False)
            rows, columns = rows[keep], columns[keep]
        rare = rows.size < 1000
        # Rare flags are drawn large, outlined and on top, so that a single
        # bad pixel stays visible on a 4096 x 4096 frame.
        image.scatter(
            columns,
            rows,
            s=36 if rare else 2,
            marker="o" if rare else "s",
            color=colours(number % 10),
            edgecolors="black" if rare else "none",
            linewidths=0.6 if rare else 0,
            zorder=3 + 1 / (1 + rows.size),
            label=f"{name} ({counts[name]})",
            rasterized=not rare,
        )
    # A margin keeps markers on the detector's edge fully visible.
    pad_x, pad_y = 0.02 * dq.shape[1] + 0.5, 0.02 * dq.shape[0] + 0.5
    image.set_xlim(-pad_x, dq.shape[1] - 1 + pad_x)
    image.set_ylim(-pad_y, dq.shape[0] - 1 + pad_y)
    image.set_aspect("equal")
    image.set_xlabel("x (column, 0-based)")
    image.set_ylabel("y (row, 0-based)")
    image.set_title(f"{int(np.count_nonzero(dq))} flagged of {dq.size} pixels")
    if counts:
        image.legend(loc="upper right", fontsize="small", markerscale=2)
        names = list(counts)
        values = [counts[name] for name in names]
        positions = np.arange(len(names))
        bars.barh(positions, values, color=[colours(i % 10) for i in positions])
        bars.set_yticks(positions, names)
        bars.invert_yaxis()
        for position, value in zip(positions, values, strict=True):
            bars.annotate(f" {value}", (value, position), va="center", fontsize="small")
        if max(values) > 100 * max(min(values), 1):
            bars.set_xscale("log")
            bars.set_xlim(left=0.8)
        bars.margins(x=0.15)
    else:
        bars.text(0.5, 0.5, "no flagged pixels", ha="center", va="center")
        bars.set_yticks([])
    bars.set_xlabel("pixels")
    bars.set_title("pixels per flag")
    keywords = mask.get_fits_keywords()
    name = mask.path.name if mask.path else "mask"
    figure.suptitle(
        title
        or f"{name}: {keywords.get('INSTRUME', '')} {keywords.get('DETECTOR', '')}"
    )
    figure.tight_layout()
    try:
        with atomic_output(output, overwrite=overwrite) as stream:
            figure.savefig(stream, dpi=110, format=suffix)
    finally:
        plt.close(figure)
    return output
