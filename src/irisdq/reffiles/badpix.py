"""Bad-pixel classification from flat fields and darks: pure numpy functions.

These functions take arrays and thresholds and return boolean maps, one per
kind of bad pixel; :func:`combine_flags` turns the maps into DQ flags with a
flag convention given as an argument (the IRIS flags by default). Nothing
here reads or writes files: :mod:`irisdq.reffiles.build` streams the inputs
through these functions. Each rule is a short function beside the
statistics it uses, which keeps the module (just over 600 lines) whole.

The rules follow the JWST reference-file working group's algorithm as
implemented in ``jwst_reffiles`` (``bad_pixel_mask/bad_pixel_mask.py`` for
flats, ``dark_current/badpix_from_darks.py`` for darks); each function says
where it departs from it. ``docs/mask_build.rst`` has the whole picture.

Examples
--------
>>> import numpy as np
>>> response = np.ones((5, 5), dtype=np.float32)
>>> response[1, 1], response[3, 3] = 0.01, 0.3
>>> classes = flat_flags(response)
>>> [name for name, where in classes.items() if where.any()]
['DEAD', 'LOW_QE']
>>> int(combine_flags(classes)[1, 1])          # DEAD + DO_NOT_USE
1025
"""

from collections.abc import Iterable, Mapping

import numpy as np

from irisdq import dqflags
from irisdq.errors import FlagError, IrisDQError
from irisdq.reffiles.thresholds import DEFAULT_DO_NOT_USE, Thresholds

__all__ = [
    "DEFAULT_DO_NOT_USE",
    "MAD_TO_SIGMA",
    "Thresholds",
    "combine_flags",
    "dark_flags",
    "flat_flags",
    "illumination",
    "lower_median",
    "noisy_threshold",
    "ols_weights",
    "reference_pixels",
    "robust_scatter",
    "typical_noise",
]

# The standard deviation of a normal distribution is 1.4826 times its
# median absolute deviation.
MAD_TO_SIGMA = 1.4826


def lower_median(stack: np.ndarray, axis: int = 0) -> np.ndarray:
    """Return the lower median of ``stack`` along ``axis``.

    For an odd number of values this is the median; for an even number, the
    lower of the two middle values. Unlike the mean of the two middle values
    it never depends on the largest value: with two or more frames, one
    frame's cosmic ray cannot raise the result (with two frames it is the
    minimum).

    Parameters
    ----------
    stack : numpy.ndarray
        The values, e.g. (nframes, rows, nx).
    axis : int, optional
        The axis to reduce.

    Returns
    -------
    numpy.ndarray
        ``stack`` without ``axis``. NaN if any value along the axis is NaN.

    Examples
    --------
    >>> lower_median(np.array([[1.0], [9000.0]]))      # a cosmic ray in frame 2
    array([1.])
    >>> lower_median(np.array([[1.0], [3.0], [2.0], [9000.0]]))
    array([2.])
    """
    count = stack.shape[axis]
    index = (count - 1) // 2
    chosen = np.take(np.partition(stack, index, axis=axis), index, axis=axis)
    nan = np.isnan(stack).any(axis=axis)
    if nan.any():
        chosen[nan] = np.nan
    return chosen


def robust_scatter(
    stack: np.ndarray, axis: int = 0, clip: float = 6.0, *, return_count: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Return the scatter of ``stack`` along ``axis``, outliers left out.

    The standard deviation of the values within ``clip`` robust standard
    deviations (:data:`MAD_TO_SIGMA` times the median absolute deviation)
    of their median. With three or more values a single outlier (a cosmic
    ray) is left out, which a plain standard deviation cannot do; and
    unlike the median absolute deviation itself, whose distribution over
    pixels has a long upper tail with few frames (many normal pixels would
    pass a noisy cut), the clipped standard deviation is as well behaved as
    a standard deviation.

    Parameters
    ----------
    stack : numpy.ndarray
        The values, e.g. (nframes, rows, nx).
    axis : int, optional
        The axis to reduce.
    clip : float, optional
        Values further than this many robust standard deviations from the
        median are left out.
    return_count : bool, optional
        Also return how many values each scatter comes from (what
        :func:`noisy_threshold` needs).

    Returns
    -------
    scatter : numpy.ndarray
        float32, ``stack`` without ``axis``; 0 where fewer than two values
        are kept.
    count : numpy.ndarray
        uint16, the values kept; only with ``return_count``.

    Examples
    --------
    >>> quiet = np.array([[10.0], [11.0], [9.0], [10.5], [5000.0]])
    >>> round(float(robust_scatter(quiet)[0]), 3)    # the std of the first 4
    0.854
    """
    stack = np.moveaxis(np.asarray(stack, dtype=np.float32), axis, 0)
    centre = np.median(stack, axis=0)
    deviation = np.abs(stack - centre)
    limit = np.median(deviation, axis=0)
    limit *= MAD_TO_SIGMA * clip
    keep = deviation <= limit
    del deviation
    count = keep.sum(axis=0)
    kept = np.where(keep, stack, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = kept.sum(axis=0) / count
        np.subtract(stack, mean, out=kept)
        np.square(kept, out=kept)
        kept[~keep] = 0
        variance = kept.sum(axis=0) / (count - 1)
    variance[count < 2] = 0
    scatter = np.sqrt(variance, dtype=np.float32)
    if return_count:
        return scatter, count.astype(np.uint16)
    return scatter


def ols_weights(ngroups: int, group_time: float) -> np.ndarray:
    """Return the weights that give an ordinary least-squares slope.

    The slope of a ramp read at times ``t_g = g * group_time`` is
    ``sum_g w_g * y_g`` with ``w_g = (t_g - mean(t)) / sum((t - mean(t))**2)``,
    so a ramp can be fitted one group at a time, in row blocks, without
    holding all its groups.

    Parameters
    ----------
    ngroups : int
        Groups per integration (at least 2).
    group_time : float
        Seconds between groups (``TGROUP``).

    Returns
    -------
    numpy.ndarray
        float64 (ngroups,).

    Examples
    --------
    >>> w = ols_weights(4, 10.0)
    >>> float(w @ np.array([5.0, 25.0, 45.0, 65.0]))     # 2 DN/s
    2.0
    """
    if ngroups < 2:
        raise IrisDQError(f"a slope needs at least 2 groups, not {ngroups}")
    if not np.isfinite(group_time) or group_time <= 0:
        raise IrisDQError(f"group time {group_time!r} must be a positive number")
    times = np.arange(ngroups, dtype=np.float64) * group_time
    centred = times - times.mean()
    return centred / np.sum(centred**2)


def illumination(image: np.ndarray, box: int = 32) -> np.ndarray:
    """Return a smooth model of the large-scale illumination of a flat.

    The image is cut into ``box`` x ``box`` blocks; the median of each block
    (NaN pixels, e.g. reference pixels, left out) sits at the block's
    centre, and the model is the bilinear interpolation of these medians
    (held constant beyond the outermost centres).

    jwst_reffiles smooths with a 15 x 15 box (mean or median) at every
    pixel. A block median needs only numpy and one pass: a sliding median
    of 225 values per pixel is too slow without scipy, and a sliding mean is
    pulled down around every dead pixel. The price: structure smaller than
    about ``box`` pixels stays in the normalised image, and a cluster of bad
    pixels wider than half a box drags its block's median (choose ``box``
    larger than twice the widest cluster to be found).

    Parameters
    ----------
    image : numpy.ndarray
        A 2-D flat field (any positive scale).
    box : int, optional
        The block side in pixels.

    Returns
    -------
    numpy.ndarray
        float32, the shape of ``image``.

    Raises
    ------
    IrisDQError
        If every pixel of the image is NaN.

    Examples
    --------
    >>> ramp = np.add.outer(np.arange(64.0), np.zeros(64)) + 100  # a gradient
    >>> ramp[20, 20] = 0                                          # a dead pixel
    >>> model = illumination(ramp, box=16)
    >>> round(float(model[20, 20]), 2), round(float(model[40, 7]), 2)
    (120.0, 140.0)
    """
    ny, nx = image.shape
    box = int(box)
    if box < 1:
        raise IrisDQError(f"illumination box {box} must be at least 1 pixel")
    nby, nbx = -(-ny // box), -(-nx // box)
    grid = np.empty((nby, nbx), dtype=np.float64)
    padded = np.full((box, nbx * box), np.nan, dtype=np.float32)
    for by in range(nby):
        rows = image[by * box : (by + 1) * box]
        padded[:] = np.nan
        padded[: rows.shape[0], :nx] = rows
        blocks = padded.reshape(box, nbx, box).transpose(1, 0, 2).reshape(nbx, -1)
        with np.errstate(all="ignore"):
            valid = ~np.isnan(blocks)
            counts = valid.sum(axis=1)
            # np.nanmedian is slow for many short rows: sort NaN to the end
            # and take the middle of the valid values instead.
            ordered = np.sort(blocks, axis=1)
            middle = np.maximum(counts - 1, 0)
            lower = np.take_along_axis(ordered, (middle // 2)[:, None], axis=1)[:, 0]
            upper = np.take_along_axis(ordered, (counts // 2)[:, None], axis=1)[:, 0]
        grid[by] = np.where(
            counts > 0, 0.5 * (lower + upper.astype(np.float64)), np.nan
        )
    grid = _fill_empty_blocks(grid)
    centres_y = np.minimum(np.arange(nby) * box + (box - 1) / 2, ny - 1)
    centres_x = np.minimum(np.arange(nbx) * box + (box - 1) / 2, nx - 1)
    along_x = np.empty((nby, nx), dtype=np.float64)
    for by in range(nby):
        along_x[by] = np.interp(np.arange(nx), centres_x, grid[by])
    # Along y, each row is a weighted sum of the two nearest block rows.
    position = np.interp(np.arange(ny), centres_y, np.arange(nby, dtype=np.float64))
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, nby - 1)
    weight = (position - below)[:, None]
    model = np.empty((ny, nx), dtype=np.float32)
    for start in range(0, ny, 256):
        rows = slice(start, min(start + 256, ny))
        model[rows] = (1 - weight[rows]) * along_x[below[rows]] + weight[
            rows
        ] * along_x[above[rows]]
    return model


def _fill_empty_blocks(grid: np.ndarray) -> np.ndarray:
    """Give blocks without a valid pixel the median of the valid blocks."""
    empty = np.isnan(grid)
    if empty.all():
        raise IrisDQError(
            "the combined flat has no valid pixel (all NaN, or all reference "
            "pixels); check the flat-field inputs and the reference-pixel border"
        )
    if empty.any():
        grid = grid.copy()
        grid[empty] = np.median(grid[~empty])
    return grid


def reference_pixels(shape: tuple[int, int], width: int = 4) -> np.ndarray:
    """Return where the reference-pixel border of a detector is.

    H2RG and H4RG detectors have 4 rows and columns of reference pixels
    (not light-sensitive) on each edge; ``width = 0`` means none.

    Examples
    --------
    >>> reference_pixels((6, 6), width=1).astype(int)
    array([[1, 1, 1, 1, 1, 1],
           [1, 0, 0, 0, 0, 1],
           [1, 0, 0, 0, 0, 1],
           [1, 0, 0, 0, 0, 1],
           [1, 0, 0, 0, 0, 1],
           [1, 1, 1, 1, 1, 1]])
    """
    ny, nx = shape
    if width < 0 or 2 * width >= min(ny, nx):
        raise IrisDQError(
            f"reference-pixel border {width} does not fit a {ny} x {nx} "
            "detector; give 0 (none) up to "
            f"{max((min(ny, nx) - 1) // 2, 0)}"
        )
    border = np.zeros(shape, dtype=bool)
    if width:
        border[:width] = border[-width:] = True
        border[:, :width] = border[:, -width:] = True
    return border


def flat_flags(
    response: np.ndarray,
    *,
    dead: float = Thresholds.dead,
    low_qe: float = Thresholds.low_qe,
    open_neighbour: float = Thresholds.open_neighbour,
    science: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Classify pixels by their normalised flat-field response.

    - DEAD: ``response < dead``. An absolute cut, as jwst_reffiles'
      ``absolute_rate`` search (its NIRSpec and MIRI choice): its default
      for NIRCam, a cut ``N`` sigma below the mean, would call LOW_QE pixels
      dead on a uniform detector and miss dead pixels on a noisy one.
    - OPEN: ``dead <= response < low_qe`` and each of its 4 side neighbours
      (those that exist: not off the detector, not reference pixels) above
      ``open_neighbour``: the charge of an open pixel is collected by its
      neighbours. ADJ_OPEN: the 8 neighbours of an OPEN pixel.
    - LOW_QE: ``dead <= response < low_qe`` and not OPEN.
    - NO_FLAT_FIELD: response NaN (a flat had no value there).

    This is jwst_reffiles' ``find_open_and_low_qe_pixels``, on whole arrays
    instead of pixel by pixel.

    Parameters
    ----------
    response : numpy.ndarray
        2-D flat response normalised to 1 (the combined flat divided by its
        :func:`illumination`).
    dead, low_qe, open_neighbour : float, optional
        See :class:`Thresholds`.
    science : numpy.ndarray of bool, optional
        Where the light-sensitive pixels are (default: everywhere); other
        pixels get no flag and count as absent neighbours.

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean maps ``DEAD``, ``LOW_QE``, ``OPEN``, ``ADJ_OPEN``,
        ``NO_FLAT_FIELD``.

    Examples
    --------
    >>> r = np.full((5, 5), 1.2, dtype=np.float32)
    >>> r[2, 2] = 0.2                     # low, and all its neighbours high
    >>> f = flat_flags(r)
    >>> bool(f["OPEN"][2, 2]), int(f["ADJ_OPEN"].sum()), bool(f["LOW_QE"].any())
    (True, 8, False)
    """
    if science is None:
        science = np.ones(response.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        dead_map = (response < dead) & science
        low = (response >= dead) & (response < low_qe) & science
        high = (response > open_neighbour) | ~science
    # Neighbours off the detector count as high, as in jwst_reffiles, which
    # looks only at the neighbours that exist.
    high = np.pad(high, 1, constant_values=True)
    sides_high = high[:-2, 1:-1] & high[2:, 1:-1] & high[1:-1, :-2] & high[1:-1, 2:]
    open_map = low & sides_high
    grown = np.pad(open_map, 1)
    adjacent = np.zeros_like(open_map)
    for dy in range(3):
        for dx in range(3):
            adjacent |= grown[dy : dy + open_map.shape[0], dx : dx + open_map.shape[1]]
    return {
        "DEAD": dead_map,
        "LOW_QE": low & ~open_map,
        "OPEN": open_map,
        "ADJ_OPEN": adjacent & ~open_map & science,
        "NO_FLAT_FIELD": np.isnan(response) & science,
    }


def dark_flags(
    rate: np.ndarray,
    scatter: np.ndarray | None = None,
    count: np.ndarray | int | None = None,
    *,
    hot: float = Thresholds.hot,
    warm: float = Thresholds.warm,
    noisy_sigma: float = Thresholds.noisy_sigma,
    noisy_flag: str = "UNRELIABLE_SLOPE",
    science: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Classify pixels by their dark rate and its scatter across darks.

    - HOT: ``rate > hot``; WARM: ``warm < rate <= hot``. ``rate`` should be
      a combination robust to cosmic rays (:func:`lower_median`).
      jwst_reffiles' dark search flags as HOT only pixels saturated in every
      group; thresholds on the rate find hot pixels that do not saturate.
    - noisy (``noisy_flag``): ``scatter`` above :func:`noisy_threshold` of
      the detector's :func:`typical_noise`, a chi-square test of each
      pixel's variance at ``noisy_sigma``. jwst_reffiles flags (as
      TELEGRAPH) standard deviations of the slopes above the sigma-clipped
      mean plus ``noisy_threshold`` (5) standard deviations of the map of
      standard deviations. Here the scatter should come from
      :func:`robust_scatter`, which leaves a cosmic ray out, and the test
      allows for the frames each pixel kept: a pixel that lost a frame to a
      cosmic ray has a less certain scatter, and a fixed cut would call
      more of them noisy. HOT pixels are not tested: their shot noise alone
      would pass the cut, and they are flagged already.
    - UNRELIABLE_DARK: ``rate`` NaN (a dark had no value there).

    Parameters
    ----------
    rate : numpy.ndarray
        2-D dark rate.
    scatter : numpy.ndarray, optional
        2-D scatter of each pixel across the darks; None skips the noisy
        search (it needs 3 darks or more to be robust to a cosmic ray).
    count : numpy.ndarray or int, optional
        The frames behind each scatter (required with ``scatter``).
    hot, warm, noisy_sigma : float, optional
        See :class:`Thresholds`.
    noisy_flag : str, optional
        The flag name of noisy pixels: ``UNRELIABLE_SLOPE`` (default) or
        ``TELEGRAPH`` when the noise is known to be random telegraph noise.
    science : numpy.ndarray of bool, optional
        Where the light-sensitive pixels are (default: everywhere).

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean maps ``HOT``, ``WARM``, ``UNRELIABLE_DARK`` and
        ``noisy_flag``.

    Examples
    --------
    >>> rate = np.full((3, 3), 0.01, dtype=np.float32)
    >>> rate[0, 0], rate[1, 1] = 5.0, 0.5
    >>> f = dark_flags(rate)
    >>> bool(f["HOT"][0, 0]), bool(f["WARM"][1, 1]), int(f["WARM"].sum())
    (True, True, 1)
    """
    if science is None:
        science = np.ones(rate.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        hot_map = (rate > hot) & science
        warm_map = (rate > warm) & (rate <= hot) & science
    flags = {
        "HOT": hot_map,
        "WARM": warm_map,
        "UNRELIABLE_DARK": np.isnan(rate) & science,
    }
    noisy = np.zeros(rate.shape, dtype=bool)
    if scatter is not None:
        if count is None:
            raise IrisDQError("dark_flags: give the frames behind each scatter (count)")
        tested = science & ~hot_map
        sigma = typical_noise(scatter, count, tested)
        if sigma is not None:
            counts = np.broadcast_to(np.asarray(count), rate.shape)
            for frames in _distinct_counts(counts):
                cut = float(noisy_threshold(frames, sigma, noisy_sigma))
                with np.errstate(invalid="ignore"):
                    noisy |= tested & (counts == frames) & (scatter > cut)
    flags[noisy_flag] = noisy
    return flags


def _chi2_quantile(dof: np.ndarray, z: float) -> np.ndarray:
    """Chi-square quantile at the normal deviate ``z`` (Wilson-Hilferty)."""
    scale = 2.0 / (9.0 * dof)
    return dof * np.maximum(1.0 - scale + z * np.sqrt(scale), 0.0) ** 3


def typical_noise(
    scatter: np.ndarray, count: np.ndarray | int, where: np.ndarray
) -> float | None:
    """Return the detector's typical noise per frame from per-pixel scatters.

    For normal noise of standard deviation ``sigma`` the sample variance
    ``s**2`` of ``k`` values has ``(k - 1) s**2 / sigma**2`` distributed as
    chi-square with ``k - 1`` degrees of freedom, so the median over pixels
    of ``(k - 1) s**2 / median(chi2_{k-1})`` estimates ``sigma**2``, even
    where noisy pixels and pixels with fewer frames are mixed in.

    Parameters
    ----------
    scatter : numpy.ndarray
        Per-pixel scatter (:func:`robust_scatter`).
    count : numpy.ndarray or int
        Values behind each scatter.
    where : numpy.ndarray of bool
        Pixels to use.

    Returns
    -------
    float or None
        ``sigma``; None when no pixel has two values or more.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = robust_scatter(rng.normal(0, 3.0, (6, 100, 100)))
    >>> round(typical_noise(s, 6, np.ones((100, 100), bool)))
    3
    """
    counts = np.broadcast_to(np.asarray(count), scatter.shape)
    pieces = []
    # One pass per distinct number of frames (a handful), in float32, so
    # that a 4096 x 4096 map costs no full-size float64 temporaries.
    for frames in _distinct_counts(counts):
        dof = frames - 1
        use = where & (counts == frames) & np.isfinite(scatter)
        values = np.square(scatter[use], dtype=np.float32)
        values *= np.float32(dof / _chi2_quantile(np.float64(dof), 0.0))
        pieces.append(values)
    if not pieces or not sum(piece.size for piece in pieces):
        return None
    return float(np.sqrt(np.median(np.concatenate(pieces))))


def _distinct_counts(counts: np.ndarray) -> list[int]:
    """The distinct counts of two or more in an array of frame counts."""
    if counts.dtype.kind not in "ui" or counts.size == 0:
        counts = counts.astype(np.int64)
    top = int(counts.max()) if counts.size else 0
    present = np.bincount(np.clip(counts, 0, top).ravel(), minlength=top + 1)
    return [int(k) for k in np.nonzero(present)[0] if k >= 2]


def noisy_threshold(
    count: np.ndarray | int, sigma: float, noisy_sigma: float = Thresholds.noisy_sigma
) -> np.ndarray:
    """Return the scatter above which a pixel is noisy.

    The scatter of ``k`` values whose variance is too large to come from
    noise of standard deviation ``sigma`` at the significance of
    ``noisy_sigma`` standard deviations of a normal distribution (5: about
    3 in 10 million normal pixels pass): ``sigma * sqrt(q / (k - 1))`` with
    ``q`` the chi-square quantile of ``k - 1`` degrees of freedom
    (Wilson-Hilferty approximation). Infinite where ``k < 2``.

    Examples
    --------
    >>> noisy_threshold(np.array([3, 7, 10]), 1.0).round(2)
    array([4.09, 2.67, 2.34])
    """
    dof = np.asarray(count, dtype=np.float64) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = sigma * np.sqrt(_chi2_quantile(np.maximum(dof, 1), noisy_sigma) / dof)
    return np.where(dof >= 1, cut, np.inf)


def combine_flags(
    classes: Mapping[str, np.ndarray],
    do_not_use: Iterable[str] = DEFAULT_DO_NOT_USE,
    flag_map=dqflags.pixel,
) -> np.ndarray:
    """Turn boolean maps of bad-pixel kinds into a DQ array.

    Parameters
    ----------
    classes : mapping of str to numpy.ndarray
        Flag name -> boolean map, all of one shape.
    do_not_use : iterable of str, optional
        Flag names whose pixels also get ``DO_NOT_USE``.
    flag_map : BitFlagNameMap, optional
        The flag convention (default: the IRIS flags).

    Returns
    -------
    numpy.ndarray
        uint32 flags.

    Raises
    ------
    FlagError
        If a name is not a flag of ``flag_map``.

    Examples
    --------
    >>> dead = np.array([[True, False]])
    >>> warm = np.array([[False, True]])
    >>> combine_flags({"DEAD": dead, "WARM": warm}).tolist()
    [[1025, 4096]]
    """
    names = list(classes)
    if not names:
        raise IrisDQError("no bad-pixel maps to combine")
    shape = classes[names[0]].shape
    dq = np.zeros(shape, dtype=np.uint32)
    severe = {_flag_value(name, flag_map) for name in do_not_use}
    do_not_use_value = np.uint32(_flag_value("DO_NOT_USE", flag_map))
    for name in names:
        value = _flag_value(name, flag_map)
        where = classes[name]
        dq[where] |= np.uint32(value)
        if value in severe:
            dq[where] |= do_not_use_value
    return dq


def _flag_value(name: str, flag_map) -> int:
    try:
        return int(flag_map[name])
    except (KeyError, AttributeError, ValueError):
        raise FlagError(
            f"unknown pixel flag name {name!r}; see 'irisdq flags table'"
        ) from None
