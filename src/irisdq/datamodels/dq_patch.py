"""Changing in place only the bytes of a DQ array that flags change.

ORing a pixel's flags into a DQ array leaves every element of an unflagged
pixel as it was, so a DQ array updated in place needs only the elements of
its flagged pixels written (and saved first in the undo journal of
:mod:`irisdq.datamodels.inplace`): for a mask of 1 % bad pixels, about 1 %
of the array instead of all of it. :func:`changed_spans` says which
elements those are; :func:`patch_spans` ORs the flags into them, writes
them, and returns the FITS data sum of the whole array, so that the header
gets the ``DATASUM`` and ``CHECKSUM`` a full rewrite would give. Given the
array's stored ``DATASUM``, that sum is the stored one with the changed
words' old sum taken out and their new sum put in (the ones' complement
sum is a sum of words), not a sum over the whole array.

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

Given the sum stored before, only the changed words are summed again:

>>> with open(path, "r+b", buffering=0) as stream:
...     again = patch_spans(stream.fileno(), 0, (2, 3, 4), np.uint16, flags * 2,
...                         True, [[16, 20]], "DQ", path, datasum=total)
>>> again == word_sum(path.read_bytes())
True
"""

import math
import mmap
import os

import numpy as np

from irisdq.datamodels.checksum import ALL_ONES, add_sums, word_sum
from irisdq.datamodels.hdu_io import array_encoding
from irisdq.datamodels.inplace import range_indices
from irisdq.errors import DataModelError

__all__ = ["SpanPatch", "changed_spans", "patch_spans", "prepare_patch"]

# Spans closer than this are written as one (the bytes between them written
# unchanged): fewer write calls, for about as many dirty pages. Joining
# spans up to a page apart dirtied half as many pages again (the pages
# between flagged pixels), which the kernel must write back.
_GAP_BYTES = 1024
# The array is read (and summed) in blocks of this many bytes, a multiple of
# the 4-byte FITS checksum word and of every element size.
_BLOCK_BYTES = 4 << 20
# At most this much of the file is mapped at once (mapped pages count in the
# process's resident size).
_WINDOW_BYTES = 1 << 26
# At most this many elements are read, ORed and written at once: the index
# and value arrays of a group take about 20 bytes per element.
_GROUP_ELEMENTS = 1 << 22
# Spans of at most this many elements are read before the undo journal is
# written (prepare_patch), so that it saves them without reading them again.
_PREPARED_ELEMENTS = 1 << 22


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
    # The runs of consecutive flagged pixels (of a plane in C order).
    flagged = np.flatnonzero(flags)
    if not flagged.size:
        return np.zeros((0, 2), dtype=np.int64)
    breaks = np.flatnonzero(np.diff(flagged) != 1) + 1
    starts = flagged[np.concatenate(([0], breaks))]
    stops = flagged[np.concatenate((breaks - 1, [flagged.size - 1]))] + 1
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
    *,
    datasum: int | None = None,
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
    datasum : int, optional
        The array's sum before the change, as its header records it (the
        caller knows the fill after it is zeros). Given, and the array a
        whole number of 4-byte words, only the changed words are summed.

    Returns
    -------
    int
        The ones' complement sum of the whole array as stored afterwards.

    Raises
    ------
    DataModelError
        If the file ends before the array does.
    """
    patch = _Patch(dtype, flags, shape, planes_first)
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    if datasum and patch.count * patch.itemsize % 4 == 0:
        if os.fstat(fd).st_size < offset + patch.count * patch.itemsize:
            raise DataModelError(f"{source}: {name} ends early; the file is truncated")
        try:
            change = _patch_mapped(fd, offset, patch, _pieces(spans, patch))
        except _Unmappable:
            change = None
        if change is not None and (datasum + change) % ALL_ONES:
            return (datasum + change) % ALL_ONES
        # The sum is 0 modulo 2**32 - 1: all ones, or 0 for an array now
        # all zero words. Reading the array says which (ORing the flags in
        # again changes nothing).
    return _patch_read(fd, offset, patch, spans, name, source)


class _Unmappable(Exception):
    """The file system cannot map the file (some network and FUSE ones):
    the array is read instead (ORing a flag in twice changes nothing, so
    spans already written are harmless)."""


class _Patch:
    """How a pixel's flags go into a DQ array's stored elements."""

    def __init__(self, dtype, flags: np.ndarray, shape, planes_first: bool) -> None:
        encoding = array_encoding(dtype)
        self.itemsize = encoding.stored.itemsize
        self.unsigned = np.dtype(f"u{self.itemsize}")
        self.stored = self.unsigned.newbyteorder(">")
        self.flip = self.unsigned.type(encoding.flip)
        bits = np.ascontiguousarray(flags, dtype=np.dtype(dtype)).view(self.unsigned)
        self.bits = bits.reshape(-1)
        self.per_pixel = math.prod(shape[2:]) if planes_first else 0
        self.count = math.prod(shape)

    def apply(self, stored: np.ndarray, spans: np.ndarray) -> np.ndarray:
        """The stored values (big-endian, BZERO-flipped) ``stored`` of the
        elements of ``spans`` with the flags ORed in, as native integers."""
        values = stored.astype(self.unsigned)
        values ^= self.flip
        values |= self._flags_of(spans)
        values ^= self.flip
        return values

    def _flags_of(self, spans: np.ndarray) -> np.ndarray:
        """The flags of the pixel of each element of ``spans``."""
        per_pixel = self.per_pixel
        if per_pixel and not (spans % per_pixel).any():
            # Whole pixels: each pixel's flags over its readings.
            pixels = range_indices(spans[:, 0] // per_pixel, spans[:, 1] // per_pixel)
            return np.repeat(self.bits[pixels], per_pixel)
        elements = range_indices(spans[:, 0], spans[:, 1])
        if per_pixel:
            return self.bits[elements // per_pixel]
        return self.bits[elements % self.bits.size]

    def sum_change(self, old: np.ndarray, new: np.ndarray, spans: np.ndarray) -> int:
        """How much the array's sum of 4-byte words changes, modulo
        2**32 - 1, when the stored values ``old`` (native integers) of the
        elements of ``spans`` become ``new``.

        Spans of whole words are summed as the words they are stored as;
        others by each value's place in its word (the array starts on a
        word), the changes summed exactly (at most 2**16 per element).
        """
        per_word = max(1, 4 // self.itemsize)
        if not (spans % per_word).any():
            before = word_sum(old.astype(self.stored, copy=False))
            after = word_sum(new.astype(self.stored, copy=False))
            return (after - before) % ALL_ONES
        changes = new.astype(np.int32)
        changes -= old
        place = range_indices(spans[:, 0], spans[:, 1]) % per_word
        sums = [
            int(np.add.reduce(changes * (place == k), dtype=np.int64))
            for k in range(1, per_word)
        ]
        sums.insert(0, int(np.add.reduce(changes, dtype=np.int64)) - sum(sums))
        total = sum(
            change << (8 * (4 - self.itemsize * (k + 1)))
            for k, change in enumerate(sums)
        )
        return total % ALL_ONES


class SpanPatch:
    """Spans of a DQ array as read, and with the flags ORed in.

    :attr:`old` is what the undo journal saves (the stored bytes of
    :attr:`byte_spans`, concatenated), :meth:`write` writes the new ones,
    and :attr:`change` is how much that changes the array's sum of words,
    modulo 2**32 - 1.
    """

    def __init__(self, offset: int, patch: _Patch, spans: np.ndarray, old) -> None:
        # As stored (numpy may have put them in native order on the way).
        self.old = old.astype(patch.stored, copy=False).tobytes()
        old = old.astype(patch.unsigned)
        new = patch.apply(old, spans)
        self.change = patch.sum_change(old, new, spans)
        self._new = new.astype(patch.stored).tobytes()
        self.byte_spans = offset + spans * patch.itemsize

    def write(self, fd: int) -> None:
        """Write the new bytes of every span."""
        written = memoryview(self._new)
        lengths = self.byte_spans[:, 1] - self.byte_spans[:, 0]
        ends = np.cumsum(lengths).tolist()
        done = 0
        for position, end in zip(self.byte_spans[:, 0].tolist(), ends, strict=True):
            os.pwrite(fd, written[done:end], position)
            done = end
        written.release()


def prepare_patch(
    fd: int,
    offset: int,
    shape: tuple[int, ...],
    dtype,
    flags: np.ndarray,
    planes_first: bool,
    spans,
) -> SpanPatch | None:
    """Read the ``spans`` of a DQ array (as :func:`patch_spans` takes them)
    and OR the flags in, writing nothing yet: their old bytes can go into
    the undo journal without a second reading.

    Returns
    -------
    SpanPatch or None
        None when the spans hold more than :data:`_PREPARED_ELEMENTS` (they
        are patched a window at a time by :func:`patch_spans` instead), or
        the file system cannot map the file.
    """
    patch = _Patch(dtype, flags, shape, planes_first)
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    if int((spans[:, 1] - spans[:, 0]).sum()) > _PREPARED_ELEMENTS:
        return None
    if os.fstat(fd).st_size < offset + patch.count * patch.itemsize:
        return None  # patch_spans names the truncated array
    pieces = _pieces(spans, patch)
    try:
        old = [values for _, values in _read_windows(fd, offset, patch, pieces)]
    except _Unmappable:
        return None
    return SpanPatch(offset, patch, pieces, np.concatenate(old))


def _read_windows(fd: int, offset: int, patch: _Patch, spans: np.ndarray):
    """Yield (spans, their stored values) for groups of ``spans`` read
    through a read-only mapping of at most a window each."""
    itemsize = patch.itemsize
    index = 0
    while index < len(spans):
        begin = offset + int(spans[index, 0]) * itemsize
        base = begin - begin % mmap.ALLOCATIONGRANULARITY
        # Within a window of the file from base, and a group's elements.
        reach = offset + spans[index:, 1] * itemsize - base
        within = np.searchsorted(reach, _WINDOW_BYTES, "right")
        counted = np.cumsum(spans[index:, 1] - spans[index:, 0])
        within = min(within, np.searchsorted(counted, _GROUP_ELEMENTS, "right"))
        last = index + max(1, int(within))
        group = spans[index:last]
        index = last
        first = int(group[0, 0])
        try:
            mapped = mmap.mmap(
                fd, offset + int(group[-1, 1]) * itemsize - base,
                access=mmap.ACCESS_READ, offset=base,
            )  # fmt: skip
        except (OSError, ValueError) as exc:
            raise _Unmappable from exc
        with mapped:
            stored = np.frombuffer(
                mapped, dtype=patch.stored, offset=begin - base,
                count=int(group[-1, 1]) - first,
            )  # fmt: skip
            values = stored[range_indices(group[:, 0], group[:, 1]) - first]
            del stored  # the mapping closes only without views
        yield group, values


def _patch_mapped(fd: int, offset: int, patch: _Patch, spans: np.ndarray) -> int:
    """Patch the spans a window at a time (read through a mapping, written
    with the flags ORed in) and return how much the array's sum changed,
    modulo 2**32 - 1."""
    change = 0
    for group, values in _read_windows(fd, offset, patch, spans):
        window = SpanPatch(offset, patch, group, values)
        window.write(fd)
        change += window.change
    return change % ALL_ONES


def _pieces(spans: np.ndarray, patch: _Patch) -> np.ndarray:
    """The spans cut to fit a window and a group (:func:`_split`)."""
    return _split(spans, min(_WINDOW_BYTES // 2 // patch.itemsize, _GROUP_ELEMENTS))


def _split(spans: np.ndarray, limit: int) -> np.ndarray:
    """The spans, those longer than ``limit`` elements cut into pieces of
    ``limit`` (a mask flagging whole regions would otherwise be read whole).

    Examples
    --------
    >>> _split(np.array([[0, 2], [5, 12]]), 3).tolist()
    [[0, 2], [5, 8], [8, 11], [11, 12]]
    """
    pieces = -(-(spans[:, 1] - spans[:, 0]) // limit)
    if (pieces <= 1).all():
        return spans
    starts = np.repeat(spans[:, 0], pieces) + limit * (
        np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    )
    stops = np.minimum(starts + limit, np.repeat(spans[:, 1], pieces))
    return np.stack((starts, stops), axis=1)


def _patch_read(
    fd: int, offset: int, patch: _Patch, spans: np.ndarray, name: str, source
) -> int:
    """Read the whole array a block at a time, write each block's spans with
    the flags ORed in, and return the array's sum."""
    itemsize = patch.itemsize
    step = _BLOCK_BYTES // itemsize
    buffer = np.empty(min(step, patch.count) * itemsize, dtype=np.uint8)
    total = 0
    for first in range(0, patch.count, step):
        last = min(patch.count, first + step)
        block = buffer[: (last - first) * itemsize]
        if os.preadv(fd, [memoryview(block)], offset + first * itemsize) != block.size:
            raise DataModelError(f"{source}: {name} ends early; the file is truncated")
        lo = np.searchsorted(spans[:, 1], first, side="right")
        hi = np.searchsorted(spans[:, 0], last, side="left")
        if lo < hi:
            starts = np.maximum(spans[lo:hi, 0], first)
            stops = np.minimum(spans[lo:hi, 1], last)
            elements = range_indices(starts, stops)
            stored = block.view(patch.stored)
            stored[elements - first] = patch.apply(
                stored[elements - first], np.stack((starts, stops), axis=1)
            )
            view = memoryview(block)
            begins = ((starts - first) * itemsize).tolist()
            ends = ((stops - first) * itemsize).tolist()
            at = offset + first * itemsize
            for begin, end in zip(begins, ends, strict=True):
                os.pwrite(fd, view[begin:end], at + begin)
            view.release()
        total = add_sums(total, word_sum(block))
    return total
