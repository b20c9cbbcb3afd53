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
from typing import Any, NamedTuple

import numpy as np

from irisdq.datamodels.mask import ACCEPT_BAD_CHECKSUMS_VARIABLE, TMTMaskModel
from irisdq.dqflags import flag_values
from irisdq.errors import DataModelError

__all__ = ["MaskFlags", "mask_flags", "read_mask_flags"]


class MaskFlags(NamedTuple):
    """A mask's DQ array and where it lies on the detector (1-based starts;
    sizes None when the header does not give them), and its DETECTOR (None
    when it names none)."""

    dq: np.ndarray
    xstart: int
    ystart: int
    xsize: int | None
    ysize: int | None
    detector: str | None = None


def mask_flags(mask: Any, label: str) -> MaskFlags:
    """The flags and placement of a mask model in memory.

    `mask` is a :class:`TMTMaskModel`, or another pipeline's mask model with
    ``dq`` in the pipeline's flags and ``meta.subarray`` (stdatamodels'
    ``MaskModel``, whose flags are remapped by its DQ_DEF when it is made).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> where = SimpleNamespace(xstart=3, ystart=None, xsize=2, ysize=1)
    >>> model = SimpleNamespace(dq=[[1024, 1]], meta=SimpleNamespace(subarray=where))
    >>> flags = mask_flags(model, "mask")
    >>> flags.dq.dtype, flags.dq.tolist(), (flags.xstart, flags.ystart)
    (dtype('uint32'), [[1024, 1]], (3, 1))
    """
    dq = getattr(mask, "dq", None)
    if dq is None:
        raise DataModelError(f"{label}: the mask has no DQ array")
    if not isinstance(mask, TMTMaskModel):
        dq = flag_values(dq, np.uint32, f"{label}: DQ")
        if dq.ndim != 2:
            raise DataModelError(
                f"{label}: DQ has shape {dq.shape}; a mask's DQ is 2-D (ny, nx)"
            )
    where = mask.meta.subarray
    return MaskFlags(
        dq,
        _start(where, "xstart", label),
        _start(where, "ystart", label),
        getattr(where, "xsize", None),
        getattr(where, "ysize", None),
        getattr(getattr(mask.meta, "instrument", None), "detector", None),
    )


def _start(where: Any, name: str, label: str) -> int:
    value = getattr(where, name, None)
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataModelError(
            f"{label}: meta.subarray.{name} = {value!r}; a mask's start is a "
            "1-based pixel number"
        )
    return int(value)


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
