"""A mask file's flags and placement, read once per process.

A run over many exposures (a batch worker, a loop) applies the same mask
to each: :func:`read_mask_flags` reads and verifies the file once and then
hands out the same read-only array, as long as the file keeps its identity
(path, device, inode, size, times). A file replaced or rewritten is read
again. One entry is kept, so at most one mask stays in memory.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import numpy as np
>>> from irisdq.datamodels import TMTMaskModel
>>> mask = TMTMaskModel()
>>> mask.meta.instrument.detector = "IRIS1"
>>> mask.meta.subarray.name = "CUSTOM"
>>> mask.dq = np.zeros((4, 4), dtype=np.uint32)
>>> path = mask.write(Path(tempfile.mkdtemp()) / "mask.fits")
>>> first, second = read_mask_flags(path), read_mask_flags(path)
>>> first.dq is second.dq, first.dq.flags.writeable, (first.xstart, first.ystart)
(True, False, (1, 1))
"""

import os
from typing import NamedTuple

import numpy as np

from irisdq.datamodels.mask import ACCEPT_BAD_CHECKSUMS_VARIABLE, TMTMaskModel
from irisdq.errors import DataModelError

__all__ = ["MaskFlags", "mask_flags", "read_mask_flags"]


class MaskFlags(NamedTuple):
    """A mask's DQ array and where it lies on the detector (1-based starts;
    sizes None when the header does not give them)."""

    dq: np.ndarray
    xstart: int
    ystart: int
    xsize: int | None
    ysize: int | None


def mask_flags(mask: TMTMaskModel, label: str) -> MaskFlags:
    """The flags and placement of a mask model."""
    if mask.dq is None:
        raise DataModelError(f"{label}: the mask has no DQ array")
    where = mask.meta.subarray
    return MaskFlags(
        mask.dq, where.xstart or 1, where.ystart or 1, where.xsize, where.ysize
    )


_cache: dict[tuple, MaskFlags] = {}


def read_mask_flags(path: str | os.PathLike) -> MaskFlags:
    """Read a mask file's flags, or give those read last for the same file.

    The array is read-only: it is shared by every later call.
    """
    try:
        status = os.stat(path)
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
            # A mask accepted despite a bad checksum is not reused without it.
            os.environ.get(ACCEPT_BAD_CHECKSUMS_VARIABLE, ""),
        )
        if key in _cache:
            return _cache[key]
    with TMTMaskModel(path) as mask:
        flags = mask_flags(mask, os.fspath(path))
    flags.dq.flags.writeable = False
    _cache.clear()
    if key is not None:
        _cache[key] = flags
    return flags
