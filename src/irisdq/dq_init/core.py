"""The DQ initialization algorithm on numpy arrays: no files, no CRDS.

These functions are the science of the step (DESIGN.md, "The DQ
initialization algorithm"); :mod:`irisdq.dq_init.step` feeds them arrays read
from FITS files and writes their results. Any other step or pipeline can call
them on arrays of its own.

Examples
--------
A 4x6 subarray starting at column 3, row 2 (1-based, as in FITS headers) of
a full-frame mask:

>>> import numpy as np
>>> from irisdq.dq_init.core import Subarray, cut_subarray, apply_mask
>>> mask = np.arange(100, dtype=np.uint32).reshape(10, 10)
>>> cut = cut_subarray(mask, (4, 6), Subarray(xstart=3, ystart=2))
>>> cut[0, 0], cut.shape
(np.uint32(12), (4, 6))
>>> pixeldq = np.zeros((4, 6), dtype=np.uint32)
>>> groupdq = np.zeros((1, 3, 4, 6), dtype=np.uint8)
>>> apply_mask(pixeldq, groupdq, cut)
>>> int(pixeldq[0, 1]), groupdq[:, :, 0, 1].tolist()
(13, [[1, 1, 1]])
"""

import warnings

import numpy as np

from irisdq.bitmask import count_bit_flags
from irisdq.dqflags import (
    DQDefRow,
    bit_values,
    dq_def_mapping,
    is_identity,
    pixel,
    remap_flags,
)
from irisdq.errors import DataModelError, SubarrayError
from irisdq.layouts import Subarray

__all__ = [
    "Subarray",
    "apply_mask",
    "cut_subarray",
    "group_flags",
    "or_group_flags",
    "remap_dq_def",
]

DO_NOT_USE = int(pixel.DO_NOT_USE)


def cut_subarray(
    mask: np.ndarray,
    science_shape: tuple[int, int],
    science: Subarray | None,
    reference: Subarray | None = None,
) -> np.ndarray:
    """Return the part of a mask that covers a science array (a view).

    The cut is relative to the mask's own start, so a subarray mask can serve
    a smaller subarray inside it:
    ``mask[ys - ysr : ys - ysr + ny, xs - xsr : xs - xsr + nx]``, with
    ``(ny, nx)`` the science array's shape.

    Parameters
    ----------
    mask : numpy.ndarray
        The 2-D mask (full frame or a subarray).
    science_shape : tuple of int
        ``(ny, nx)`` of the science array (its last two axes).
    science : Subarray or None
        Where the science array lies; None when its file has no SUBSTRT
        keywords, which is only valid when it has the mask's shape.
    reference : Subarray or None
        Where the mask lies; None means a full-frame mask at (1, 1).

    Returns
    -------
    numpy.ndarray
        A view of ``mask`` of shape ``science_shape``.

    Raises
    ------
    SubarrayError
        If a start is below 1, the science array has no position and a
        different shape, or the cut falls outside the mask. The message
        gives both SUBSTRT/SUBSIZE sets and the computed slice.

    Examples
    --------
    >>> mask = np.zeros((2048, 2048), dtype=np.uint32)
    >>> cut_subarray(mask, (64, 64), Subarray(1985, 1985)).shape
    (64, 64)
    >>> cut_subarray(mask, (64, 64), Subarray(2000, 1))
    Traceback (most recent call last):
    ...
    irisdq.errors.SubarrayError: the mask (2048x2048 at SUBSTRT1=1 SUBSTRT2=1) ...
    """
    ny, nx = (int(n) for n in science_shape)
    mask_ny, mask_nx = mask.shape
    reference = reference or Subarray()
    for label, sub in (("science", science), ("mask", reference)):
        if sub is not None and (sub.xstart < 1 or sub.ystart < 1):
            raise SubarrayError(
                f"{label} {sub.describe()}: SUBSTRT1/SUBSTRT2 are 1-based and "
                "must be at least 1; fix the header"
            )
    if science is None:
        if (ny, nx) == (mask_ny, mask_nx):
            return mask
        raise SubarrayError(
            f"the science array is {ny}x{nx} but the mask is {mask_ny}x{mask_nx}, "
            "and the science file has no SUBSTRT1/SUBSTRT2 keywords to say "
            "where it lies; give its 1-based first column and row with "
            "--substrt COL,ROW (substrt=(COL, ROW)), or add the keywords to its "
            "primary header"
        )
    y0 = science.ystart - reference.ystart
    x0 = science.xstart - reference.xstart
    if y0 < 0 or x0 < 0 or y0 + ny > mask_ny or x0 + nx > mask_nx:
        raise SubarrayError(
            f"the mask ({mask_ny}x{mask_nx} at {reference.describe()}) does not "
            f"cover the science array ({ny}x{nx} at {science.describe()}): "
            f"the cut would be mask[{y0}:{y0 + ny}, {x0}:{x0 + nx}]; use a mask "
            "that covers the subarray"
        )
    return mask[y0 : y0 + ny, x0 : x0 + nx]


def remap_dq_def(
    mask: np.ndarray, dq_def: list[DQDefRow], *, source: str = "mask"
) -> np.ndarray:
    """Translate a mask from its own DQ_DEF bit values to the pipeline flags.

    Each row's VALUE is replaced by the pipeline value of its NAME; a name
    the convention does not know, and a bit the table does not name, are
    dropped with a warning naming them (as jwst's ``dynamic_mask`` does).
    The mask is returned unchanged when its table already uses pipeline
    values and names every bit it has.

    Examples
    --------
    >>> rows = [DQDefRow(0, 1, "DEAD", ""), DQDefRow(1, 2, "HOT", "")]
    >>> remap_dq_def(np.array([[0, 1], [2, 3]], dtype=np.uint32), rows)
    array([[   0, 1024],
           [2048, 3072]], dtype=uint32)
    """
    mapping, unknown = dq_def_mapping(dq_def)
    for row in unknown:
        warnings.warn(
            f"{source}: DQ_DEF flag name {row.name!r} (value {row.value}) is not "
            "a pipeline flag; its pixels are dropped",
            stacklevel=2,
        )
    named = 0
    for row in dq_def:
        named |= row.value
    unnamed = int(np.bitwise_or.reduce(mask, axis=None)) & ~named
    if unnamed:
        warnings.warn(
            f"{source}: bit value(s) {bit_values(unnamed)} are not in DQ_DEF; "
            "they are dropped",
            stacklevel=2,
        )
    if not unknown and is_identity(mapping):
        return mask & mask.dtype.type(named) if unnamed else mask
    return remap_flags(mask, mapping)


def group_flags(mask: np.ndarray) -> np.ndarray:
    """The GROUPDQ plane a mask implies: its DO_NOT_USE bit, as uint8.

    Examples
    --------
    >>> group_flags(np.array([0, 1, 1024, 1025], dtype=np.uint32))
    array([0, 1, 0, 1], dtype=uint8)
    """
    plane = np.empty(mask.shape, dtype=np.uint8)
    np.bitwise_and(mask, DO_NOT_USE, out=plane, casting="unsafe")
    return plane


def or_group_flags(groupdq: np.ndarray, plane: np.ndarray) -> None:
    """OR one (ny, nx) uint8 plane into every plane of a GROUPDQ, in place.

    Works plane by plane, so no temporary the size of GROUPDQ is made.
    ``groupdq`` may be 2-D (one plane) up to 4-D (nints, ngroups, ny, nx).
    """
    if groupdq.ndim == 2:
        np.bitwise_or(groupdq, plane, out=groupdq)
        return
    for index in np.ndindex(groupdq.shape[:-2]):
        target = groupdq[index]
        np.bitwise_or(target, plane, out=target)


def apply_mask(
    pixeldq: np.ndarray, groupdq: np.ndarray | None, mask: np.ndarray
) -> None:
    """OR a mask into PIXELDQ, and its DO_NOT_USE bit into every GROUPDQ plane.

    Both arrays are changed in place; bits already set are never cleared.

    Parameters
    ----------
    pixeldq : numpy.ndarray
        ``uint32`` (ny, nx).
    groupdq : numpy.ndarray or None
        ``uint8`` (nints, ngroups, ny, nx), or None to leave GROUPDQ alone.
    mask : numpy.ndarray
        The (cut) mask, (ny, nx), integer.
    """
    if mask.shape != pixeldq.shape[-2:]:
        raise SubarrayError(
            f"mask shape {mask.shape} does not match PIXELDQ shape {pixeldq.shape}"
        )
    np.bitwise_or(pixeldq, mask, out=pixeldq, casting="unsafe")
    if groupdq is not None:
        or_group_flags(groupdq, group_flags(mask))


#: What ``narrow`` may be: how flags that do not fit a narrow DQ array go.
NARROW_POLICIES = ("drop", "do-not-use")


class NarrowDQError(DataModelError):
    """Flags would be lost in a DQ array too narrow for them, and no
    policy says what to do."""


def narrow_flags(
    flags: np.ndarray,
    bits: int,
    policy: str | None = None,
    *,
    flag_map=pixel,
) -> tuple[np.ndarray, dict[str, int]]:
    """Fit pixel flags into a DQ array of `bits` bits, never silently.

    Parameters
    ----------
    flags : numpy.ndarray
        uint32 pixel flags (the cut mask).
    bits : int
        The width of the DQ array that receives them (16 for uint16).
    policy : {None, 'drop', 'do-not-use'}
        What to do with flags above the width: None refuses
        (:class:`NarrowDQError`, naming each flag and its pixel count);
        ``'drop'`` leaves them out; ``'do-not-use'`` leaves them out and
        sets DO_NOT_USE on every pixel that had one.
    flag_map : BitFlagNameMap, optional
        Names the dropped flags (the IRIS flags by default).

    Returns
    -------
    (numpy.ndarray, dict)
        The flags in the narrow unsigned type, and ``{name: pixels}`` of
        each flag that did not fit (empty when all fit).

    Raises
    ------
    NarrowDQError
        If flags do not fit and `policy` is None.

    Examples
    --------
    >>> flags = np.array([1, 1024, 65536, 2**31 + 2], dtype=np.uint32)
    >>> narrow, dropped = narrow_flags(flags, 16, "do-not-use")
    >>> narrow, dropped
    (array([   1, 1024,    1,    3], dtype=uint16), {'NONLINEAR': 1, ...})
    >>> narrow_flags(flags, 16)
    Traceback (most recent call last):
    ...
    irisdq.dq_init.core.NarrowDQError: the DQ array has 16 bits and cannot ...
    """
    dtype = np.dtype(f"uint{bits}")
    if bits >= 8 * flags.dtype.itemsize:
        return flags.astype(dtype, copy=False), {}
    if policy is not None and policy not in NARROW_POLICIES:
        raise ValueError(
            f"narrow policy must be one of {', '.join(NARROW_POLICIES)}, not {policy!r}"
        )
    limit = (1 << bits) - 1
    high = flags & ~flags.dtype.type(limit)
    if not high.any():
        return flags.astype(dtype), {}
    dropped = {
        name: count for name, count in count_bit_flags(high, flag_map).items() if count
    }
    named = sum(int(getattr(flag_map, name)) for name in dropped)
    unnamed = int(np.bitwise_or.reduce(high, axis=None)) & ~named
    for bit in range(bits, 8 * flags.dtype.itemsize):
        if unnamed >> bit & 1:
            dropped[f"bit {bit}"] = int(np.count_nonzero(flags >> bit & 1))
    if policy is None:
        listed = ", ".join(
            f"{name} ({count} pixel{'s' if count != 1 else ''})"
            for name, count in dropped.items()
        )
        raise NarrowDQError(
            f"the DQ array has {bits} bits and cannot hold flags {listed}; "
            "choose --narrow-dq=drop to leave them out, or --narrow-dq=do-not-use "
            "to set DO_NOT_USE where they were (narrow_dq='drop' or 'do-not-use')"
        )
    narrow = (flags & flags.dtype.type(limit)).astype(dtype)
    if policy == "do-not-use":
        narrow[high != 0] |= dtype.type(DO_NOT_USE)
    return narrow, dropped
