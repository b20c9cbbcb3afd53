"""The engine behind :func:`irisdq.bitmask.bitfield_to_boolean_mask`.

Large bit-field arrays are converted in cache-sized chunks, by the calling
thread and a small thread pool sharing the pieces; numpy releases the GIL
inside each call. Private: the public API is :mod:`irisdq.bitmask`.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SUPPORTED_FLAGS = (1 << 64) - 1

# Bytes of input converted per chunk: input, temporary and output of a chunk
# stay in the L2 cache, so the conversion is one pass over main memory, and
# chunks are large enough that the Python loop costs little.
CHUNK_BYTES = 1 << 20
# Arrays of at most this many elements are converted in one go.
CHUNK_ELEMENTS = 1 << 16
# Elements per block of numpy's ufunc buffer (numpy.setbufsize) when a bool
# output is filled in one buffered call: 1 MiB of uint32, which measured
# best for uint8 and uint32 alike (numpy's default is 8192).
BUFFER_ELEMENTS = 1 << 18
# Bytes of input a thread takes at a time when several share an array: few
# enough pieces that the GIL changes hands rarely, enough to share evenly.
PIECE_BYTES = 1 << 22
# Below this many bytes of input a second thread costs more than it saves.
PARALLEL_MIN_BYTES = 1 << 23


def keep_bits(ignore_mask: int, dtype: np.dtype):
    """The bits of ``dtype`` that are *not* ignored, as a ``dtype`` scalar."""
    nbits = dtype.itemsize * 8
    keep = ~(ignore_mask & SUPPORTED_FLAGS) & ((1 << nbits) - 1)
    if dtype.kind == "i" and keep >> (nbits - 1):
        keep -= 1 << nbits
    return dtype.type(keep)


_executor: ThreadPoolExecutor | None = None


def thread_pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=max(1, (os.cpu_count() or 1) - 1),
            thread_name_prefix="irisdq-bitmask",
        )
    return _executor


def _convert_span(src, dst, keep, all_bits: bool, good_mask_value) -> None:
    """Fill ``dst[i] = (src[i] & keep) != 0`` (or ``== 0``)."""
    if dst.dtype == np.bool_:
        _convert_span_to_bool(src, dst, keep, all_bits, good_mask_value)
    else:
        _convert_span_chunked(src, dst, keep, all_bits, good_mask_value)


def _convert_span_to_bool(src, dst, keep, all_bits: bool, good_mask_value) -> None:
    """A boolean output in one numpy call (two with ``good_mask_value``).

    numpy ANDs a block of ``BUFFER_ELEMENTS`` into its buffer and casts it
    to bool while it is still in cache, so the span is read once. One call
    takes the GIL once: threads that each re-take it for every chunk of a
    Python loop wait on each other, and a woken thread can take a
    millisecond to run on a busy or virtual machine.
    """
    if all_bits:
        (np.equal if good_mask_value else np.not_equal)(src, 0, out=dst)
        return
    with np.errstate():  # restores numpy's buffer size on exit
        np.setbufsize(BUFFER_ELEMENTS)
        np.bitwise_and(src, keep, out=dst, casting="unsafe")
    if good_mask_value:
        np.logical_not(dst, out=dst)


def _convert_span_chunked(src, dst, keep, all_bits: bool, good_mask_value) -> None:
    """Any numeric output, through a cache-sized temporary chunk by chunk."""
    compare = np.equal if good_mask_value else np.not_equal
    n = src.shape[0]
    step = chunk_elements(src.dtype)
    # One-byte input into a one-byte output: AND straight into the output and
    # compare in place, so a chunk touches two buffers instead of three.
    in_place = dst.dtype.itemsize == 1 and src.dtype.itemsize == 1
    tmp = None if all_bits or in_place else np.empty(min(n, step), src.dtype)
    for start in range(0, n, step):
        stop = min(start + step, n)
        piece = src[start:stop]
        if in_place and not all_bits:
            piece = np.bitwise_and(piece, keep, out=dst[start:stop].view(src.dtype))
        elif tmp is not None:
            piece = np.bitwise_and(piece, keep, out=tmp[: stop - start])
        compare(piece, 0, out=dst[start:stop])


def chunk_elements(dtype: np.dtype) -> int:
    return CHUNK_BYTES // dtype.itemsize


def convert_flat(src, dst, keep, all_bits: bool, good_mask_value) -> None:
    """Convert a large 1-D span in pieces, on this thread and the pool's.

    The calling thread works too and every thread takes the next piece as it
    becomes free, so a pool thread that wakes late (on a busy or virtual
    machine this can take milliseconds) costs its share, not the whole wait.
    """
    workers = min(os.cpu_count() or 1, src.nbytes // PARALLEL_MIN_BYTES)
    if workers < 2:
        _convert_span(src, dst, keep, all_bits, good_mask_value)
        return
    step = PIECE_BYTES // src.itemsize
    starts = iter(range(0, src.shape[0], step))
    lock = threading.Lock()

    def convert_pieces() -> None:
        while True:
            with lock:
                start = next(starts, None)
            if start is None:
                return
            piece = slice(start, start + step)
            _convert_span(src[piece], dst[piece], keep, all_bits, good_mask_value)

    helpers = [thread_pool().submit(convert_pieces) for _ in range(workers - 1)]
    try:
        convert_pieces()
    finally:
        # A helper still queued (the pool is busy with another call) has
        # nothing left to do: drop it rather than wait for the pool.
        for helper in helpers:
            if not helper.cancel():
                helper.result()


def flat_view(array: np.ndarray) -> np.ndarray | None:
    """A 1-D view of a contiguous array in memory order, else None."""
    if array.flags.c_contiguous:
        return array.reshape(-1)
    if array.flags.f_contiguous:
        return array.T.reshape(-1)
    return None
