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
from dataclasses import dataclass

import numpy as np

from irisdq.dqflags import DQDefRow, dq_def_mapping, is_identity, pixel, remap_flags
from irisdq.errors import SubarrayError

__all__ = [
    "Subarray",
    "apply_mask",
    "cut_subarray",
    "group_flags",
    "or_group_flags",
    "remap_dq_def",
]

DO_NOT_USE = int(pixel.DO_NOT_USE)


@dataclass(frozen=True)
class Subarray:
    """Where an array lies on the detector, as FITS headers give it.

    ``xstart`` (SUBSTRT1) is the 1-based first column, numpy's last axis;
    ``ystart`` (SUBSTRT2) the 1-based first row. ``xsize``/``ysize``
    (SUBSIZE1/SUBSIZE2) are optional: the arrays' own shapes are what count.
    """

    xstart: int = 1
    ystart: int = 1
    xsize: int | None = None
    ysize: int | None = None

    def describe(self) -> str:
        size = (
            f", SUBSIZE1={self.xsize} SUBSIZE2={self.ysize}"
            if self.xsize is not None or self.ysize is not None
            else ""
        )
        return f"SUBSTRT1={self.xstart} SUBSTRT2={self.ystart}{size}"


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
            "where it lies; add them to its primary header"
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
    the convention does not know is dropped with a warning naming it. The
    mask is returned unchanged when its table already uses pipeline values.

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
    if not unknown and is_identity(mapping):
        return mask
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
