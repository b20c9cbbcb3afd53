"""Changing in place only the bytes of a DQ array that flags change.

ORing a pixel's flags into a DQ array leaves every element of an unflagged
pixel as it was, so a DQ array updated in place needs only the elements of
its flagged pixels written (and saved first in the undo journal of
:mod:`irisdq.datamodels.inplace`): for a mask of 1 % bad pixels, about 1 %
of the array instead of all of it. :func:`changed_spans` says which
elements those are; :func:`patch_spans` ORs the flags into them, writes
them, and returns the FITS data sum of the whole array, read once, so that
the header gets the ``DATASUM`` and ``CHECKSUM`` a full rewrite would give.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> flags = np.zeros((2, 3), dtype=np.uint16)
>>> flags[1, 1] = 5
>>> changed_spans(flags, (2, 3, 4), planes_first=True, itemsize=2).tolist()
[[16, 20]]
>>> path = Path(tempfile.mkdtemp()) / "dq.bin"
>>> stored = np.uint16(0x8000) ^ np.arange(24, dtype=np.uint16)  # BZERO 32768
>>> _ = path.write_bytes(stored.astype(">u2").tobytes())
>>> with open(path, "r+b", buffering=0) as stream:
...     total = patch_spans(stream.fileno(), 0, (2, 3, 4), np.uint16, flags,
...                         True, [[16, 20]], "DQ", path)
>>> values = np.frombuffer(path.read_bytes(), dtype=">u2") ^ np.uint16(0x8000)
>>> values[14:22].tolist()
[14, 15, 21, 21, 23, 23, 20, 21]
>>> total == word_sum(path.read_bytes())
True
"""

import math
import os

import numpy as np

from irisdq.datamodels.checksum import add_sums, word_sum
from irisdq.datamodels.hdu_io import array_encoding
from irisdq.errors import DataModelError

__all__ = ["changed_spans", "patch_spans"]

# Spans closer than this are written as one (the bytes between them written
# unchanged): fewer write calls, for about as many dirty pages. Joining
# spans up to a page apart dirtied half as many pages again (the pages
# between flagged pixels), which the kernel must write back.
_GAP_BYTES = 1024
# The array is read (and summed) in blocks of this many bytes, a multiple of
# the 4-byte FITS checksum word and of every element size.
_BLOCK_BYTES = 4 << 20


def changed_spans(
    flags: np.ndarray,
    shape: tuple[int, ...],
    *,
    planes_first: bool,
    itemsize: int,
    gap: int = _GAP_BYTES,
) -> np.ndarray:
    """The elements of a DQ array that ORing ``flags`` may change.

    Parameters
    ----------
    flags : numpy.ndarray
        The flags of each pixel, (ny, nx).
    shape : tuple of int
        The DQ array's shape: (ny, nx, ...) when ``planes_first`` (each
        pixel's readings are consecutive), else (..., ny, nx) (one plane of
        pixels after another).
    planes_first : bool
        Which of the two layouts ``shape`` is.
    itemsize : int
        Bytes per element, for ``gap``.
    gap : int, optional
        Spans fewer than this many bytes apart are joined (touching ones
        always are).

    Returns
    -------
    numpy.ndarray
        (n, 2) int64: the [start, stop) of each span, in elements of the
        array in C order, sorted and apart.

    Examples
    --------
    >>> flags = np.array([[0, 1, 1, 0], [0, 0, 0, 8]], dtype=np.uint8)
    >>> changed_spans(flags, (2, 2, 4), planes_first=False, itemsize=1,
    ...               gap=0).tolist()
    [[1, 3], [7, 8], [9, 11], [15, 16]]
    >>> changed_spans(flags, (2, 2, 4), planes_first=False, itemsize=1,
    ...               gap=2).tolist()
    [[1, 3], [7, 11], [15, 16]]
    """
    ny, nx = flags.shape
    marked = np.zeros(ny * nx + 2, dtype=np.int8)
    marked[1:-1] = flags.reshape(-1) != 0
    edges = np.flatnonzero(np.diff(marked)).astype(np.int64)
    starts, stops = edges[0::2], edges[1::2]
    if planes_first:
        per_pixel = math.prod(shape[2:])
        starts, stops = starts * per_pixel, stops * per_pixel
    else:
        offsets = np.arange(math.prod(shape[:-2]), dtype=np.int64)[:, None] * (ny * nx)
        starts = (offsets + starts).reshape(-1)
        stops = (offsets + stops).reshape(-1)
    if starts.size > 1:
        apart = (starts[1:] - stops[:-1]) * itemsize >= max(gap, 1)
        starts = starts[np.concatenate(([True], apart))]
        stops = stops[np.concatenate((apart, [True]))]
    return np.stack((starts, stops), axis=1)


def patch_spans(
    fd: int,
    offset: int,
    shape: tuple[int, ...],
    dtype,
    flags: np.ndarray,
    planes_first: bool,
    spans,
    name: str,
    source,
) -> int:
    """OR ``flags`` into the ``spans`` of a DQ array stored at ``offset`` of
    ``fd``, write those spans, and return the array's FITS data sum.

    Parameters
    ----------
    fd : int
        The file, open for reading and writing.
    offset : int
        Where the array's data start in the file.
    shape : tuple of int
        The array's shape (see :func:`changed_spans`).
    dtype : numpy dtype
        The values' dtype, stored as :func:`~irisdq.datamodels.hdu_io.write_image_hdu`
        stores it (uint16 as int16 with BZERO, ...); the caller checks that
        the file stores it so.
    flags : numpy.ndarray
        The flags of each pixel, (ny, nx), of ``dtype``.
    planes_first : bool
        The layout of ``shape``.
    spans : array-like
        (n, 2) sorted [start, stop) element ranges, from :func:`changed_spans`.
    name, source
        The extension and the file, for the error.

    Returns
    -------
    int
        The ones' complement sum of the whole array as stored afterwards.

    Raises
    ------
    DataModelError
        If the file ends before the array does.
    """
    encoding = array_encoding(dtype)
    itemsize = encoding.stored.itemsize
    unsigned = np.dtype(f"u{itemsize}")
    flip = unsigned.type(encoding.flip)
    bits = np.ascontiguousarray(flags, dtype=np.dtype(dtype)).view(unsigned)
    bits = bits.reshape(-1)
    plane = bits.size
    per_pixel = math.prod(shape[2:]) if planes_first else 1
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    count = math.prod(shape)
    step = _BLOCK_BYTES // itemsize
    buffer = np.empty(min(step, count) * itemsize, dtype=np.uint8)
    datasum = 0
    for first in range(0, count, step):
        last = min(count, first + step)
        block = buffer[: (last - first) * itemsize]
        if os.preadv(fd, [memoryview(block)], offset + first * itemsize) != block.size:
            raise DataModelError(f"{source}: {name} ends early; the file is truncated")
        lo = np.searchsorted(spans[:, 1], first, side="right")
        hi = np.searchsorted(spans[:, 0], last, side="left")
        if lo < hi:
            starts = np.maximum(spans[lo:hi, 0], first)
            stops = np.minimum(spans[lo:hi, 1], last)
            elements = _elements(starts, stops)
            pixels = elements // per_pixel if planes_first else elements % plane
            stored = block.view(unsigned.newbyteorder(">"))
            values = stored[elements - first].astype(unsigned)
            values ^= flip
            values |= bits[pixels]
            values ^= flip
            stored[elements - first] = values
            view = memoryview(block)
            begins = ((starts - first) * itemsize).tolist()
            ends = ((stops - first) * itemsize).tolist()
            at = offset + first * itemsize
            for begin, end in zip(begins, ends, strict=True):
                os.pwrite(fd, view[begin:end], at + begin)
            view.release()
        datasum = add_sums(datasum, word_sum(block))
    return datasum


def _elements(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Every index of the ranges [starts, stops), in order."""
    lengths = stops - starts
    before = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(
        starts - before, lengths
    )
