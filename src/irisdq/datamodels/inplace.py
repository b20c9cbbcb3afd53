"""Changing a file in place so that an interruption never loses it.

:func:`update_in_place` is how a FITS file is rewritten where it lies (a
header made longer by a keyword, DQ extensions rewritten or appended). It
keeps an *undo journal* beside the file: before the first byte changes, the
bytes of every region that will be overwritten, and the file's size, are
saved to ``.<name>.irisdq-undo`` (written under a temporary name and renamed,
so a journal under its final name is always complete). A caller that must
read some of those bytes anyway (the flagged readings of a DQ array) uses
:func:`change_in_place`, reads them under the lock, and gives them to
:meth:`InPlaceChange.save`, which saves them without reading them again.
Then:

- the block ends normally: the journal is removed; the file is complete;
- the block raises (a full disk, an I/O error, Ctrl-C, SIGTERM turned into
  KeyboardInterrupt): the saved bytes are written back, the file is cut to
  its old size, the journal is removed, and the error goes on;
- the process is killed (SIGKILL, a lost machine): the journal stays, and
  :func:`recover` (which the DQ initialization step runs before any in-place
  run) puts the original bytes back.

SIGINT and SIGTERM that arrive while the file is being changed are held
until the change is complete (in the main thread, where Python delivers
them), so that Ctrl-C gives a complete file rather than a restored one.

The file keeps its inode, so its permissions, owner, hard links and
extended attributes are untouched. Two processes never change one file at
once: the writer holds an exclusive ``flock`` on it, which the kernel
releases when the writer dies.

These guarantees are about the irisdq process stopping at any instant. No
``fsync`` is done, for speed: after a power cut or a kernel crash, what
reached the disk is up to the filesystem.

Examples
--------
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "data.bin"
>>> _ = path.write_bytes(b"0123456789")
>>> with update_in_place(path, [(2, 4)]) as stream:
...     _ = stream.seek(2)
...     _ = stream.write(b"abcd")
>>> path.read_bytes()
b'01abcd6789'
>>> with update_in_place(path, [(0, 2)]) as stream:
...     _ = stream.write(b"XY")
...     raise RuntimeError("disk full")
Traceback (most recent call last):
...
RuntimeError: disk full
>>> path.read_bytes(), journal_path(path).exists()
(b'01abcd6789', False)
"""

import contextlib
import errno
import fcntl
import hashlib
import mmap
import os
import signal
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from irisdq.errors import DataModelError

__all__ = [
    "InPlaceChange",
    "change_in_place",
    "journal_path",
    "pending",
    "recover",
    "update_in_place",
]

# Version 2 lists the spans as a binary table, version 1 (irisdq 0.1's
# first releases) as text lines: both are read back.
_MAGIC = b"IRISDQ-UNDO 2\n"
_MAGIC_TEXT = b"IRISDQ-UNDO 1\n"
_SPAN_TABLE = np.dtype([("offset", "<i8"), ("length", "<i8")])
_SUFFIX = ".irisdq-undo"
# Room for the dot, the suffix and a temporary tag within the 255-byte limit
# on file names.
_MAX_NAME_BYTES = 200
_COPY_CHUNK = 1 << 22
_WINDOW = 1 << 26
_GATHERED = 1 << 23


def journal_path(path: str | os.PathLike) -> Path:
    """Return where the undo journal of ``path`` is kept (beside it, hidden).

    Examples
    --------
    >>> journal_path("/data/ramp_uncal.fits").name
    '.ramp_uncal.fits.irisdq-undo'
    >>> len(journal_path("/data/" + "x" * 250 + ".fits").name.encode()) < 240
    True
    """
    path = Path(path)
    name = path.name
    if len(name.encode()) > _MAX_NAME_BYTES:
        digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:12]
        name = name.encode()[:100].decode(errors="ignore") + "~" + digest
    return path.with_name(f".{name}{_SUFFIX}")


def pending(path: str | os.PathLike) -> bool:
    """True when ``path`` has an undo journal: a change in place was
    interrupted (or is running now in another process)."""
    return journal_path(os.path.realpath(path)).exists()


def recover(path: str | os.PathLike) -> bool:
    """Undo an interrupted change in place of ``path``; return True if one was.

    Raises
    ------
    DataModelError
        If another process is changing the file in place right now, or the
        journal does not belong to this file.
    """
    real = Path(os.path.realpath(path))
    journal = journal_path(real)
    if not journal.exists():
        return False
    with open(real, "r+b", buffering=0) as stream:
        _lock(stream, real)
        _restore(stream, journal, real)
    return True


@contextlib.contextmanager
def update_in_place(
    path: str | os.PathLike, regions: Sequence[tuple[int, int]] | np.ndarray
) -> Iterator[BinaryIO]:
    """Open ``path`` to change the byte ranges ``regions`` and append to it.

    Parameters
    ----------
    path : str or os.PathLike
        A regular, writable file. A symbolic link is followed: the file it
        points to is changed.
    regions : array-like of (start, stop)
        The byte ranges of the current file that the block may overwrite
        (a sequence of pairs, or an (n, 2) integer array).
        Bytes past the current end may be appended freely. Writing anywhere
        else is not undone on failure.

    Yields
    ------
    file object
        The file, unbuffered, opened for reading and writing.

    Raises
    ------
    DataModelError
        If the file is not a regular file, is read-only, is being changed by
        another process, or its journal cannot be written.
    """
    with change_in_place(path) as change:
        change.save(regions)
        yield change.stream


class InPlaceChange:
    """A file open to be changed in place, locked, with any interrupted
    change to it undone: :meth:`save` writes the undo journal, after which
    the regions it names may be overwritten through :attr:`stream`."""

    def __init__(self, stream: BinaryIO, journal: Path, real: Path) -> None:
        self.stream = stream
        self.saved = False
        self._journal, self._real = journal, real

    def save(self, regions, given=()) -> None:
        """Save the undo journal, once, before the first change.

        Parameters
        ----------
        regions : array-like of (start, stop)
            Byte ranges whose current bytes are read here and saved.
        given : iterable of (spans, bytes), optional
            Byte ranges ((n, 2) start, stop) whose current bytes the caller
            has read (under this lock) and gives, concatenated: saved as
            they are, without a second reading.
        """
        if self.saved:
            raise RuntimeError("the undo journal is already saved")
        _write_journal(self.stream, self._journal, self._real, regions, given)
        self.saved = True


@contextlib.contextmanager
def change_in_place(path: str | os.PathLike) -> Iterator[InPlaceChange]:
    """Open and lock ``path`` to change it in place, undoing first an
    interrupted change; the block calls :meth:`InPlaceChange.save` before
    it changes anything (:func:`update_in_place` is this, with the journal
    saved first).

    Raises
    ------
    DataModelError
        As :func:`update_in_place`.
    """
    real = Path(os.path.realpath(path))
    _check_changeable(real, Path(path))
    journal = journal_path(real)
    with open(real, "r+b", buffering=0) as stream:
        _lock(stream, real)
        with _signals_held():
            if journal.exists():
                _restore(stream, journal, real)
            change = InPlaceChange(stream, journal, real)
            try:
                yield change
            except BaseException:
                if change.saved:
                    _restore(stream, journal, real)
                raise
            if change.saved:
                journal.unlink()


def _check_changeable(real: Path, given: Path) -> None:
    try:
        status = real.stat()
    except FileNotFoundError:
        raise DataModelError(f"{given}: no such file") from None
    if not stat.S_ISREG(status.st_mode):
        raise DataModelError(
            f"{given}: not a regular file; only a regular file can be changed in place"
        )
    if not status.st_mode & 0o222:
        raise DataModelError(
            f"{given}: is read-only (mode {stat.filemode(status.st_mode)}); make "
            "it writable (chmod u+w) to change it in place, or write a new file"
        )


def _lock(stream: BinaryIO, real: Path) -> None:
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise DataModelError(
            f"{real}: another process is changing this file in place; wait for "
            "it to finish"
        ) from None


def _write_journal(
    stream: BinaryIO, journal: Path, real: Path, regions, given=()
) -> None:
    status = os.fstat(stream.fileno())
    size = status.st_size
    spans = np.asarray(regions, dtype=np.int64).reshape(-1, 2)
    spans = spans[spans[:, 0] < size].clip(0, size)
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    given = [(np.asarray(s, dtype=np.int64).reshape(-1, 2), b) for s, b in given]
    for given_spans, contents in given:
        if int((given_spans[:, 1] - given_spans[:, 0]).sum()) != len(contents):
            raise ValueError("the bytes given do not fill their spans")
    listed = np.concatenate([spans, *(s for s, _ in given)])
    table = np.empty(len(listed), dtype=_SPAN_TABLE)
    table["offset"], table["length"] = listed[:, 0], listed[:, 1] - listed[:, 0]
    header = [
        _MAGIC,
        f"{status.st_dev} {status.st_ino} {size} {len(listed)}\n".encode(),
        table.tobytes(),
    ]
    temporary = journal.with_name(journal.name + ".tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(b"".join(header))
            _save_spans(stream, spans, out)
            for _, contents in given:
                out.write(contents)
        os.replace(temporary, journal)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if not isinstance(exc, OSError):
            raise
        raise DataModelError(
            f"{journal}: cannot save the undo journal ({exc.strerror or exc}); "
            f"{real.name} was not changed. In-place mode needs a little free "
            "space and a writable folder"
        ) from None


def _save_spans(
    source: BinaryIO, spans: Sequence[tuple[int, int]], target: BinaryIO
) -> None:
    """Copy the bytes of ``spans`` (sorted, within the file) to ``target``.

    Short spans are gathered from read-only mappings of the file, a window
    of :data:`_WINDOW` bytes at a time, and written in pieces of at most
    :data:`_GATHERED` bytes: thousands of them then cost no system call
    each, and no more than a window is mapped at once (mapped pages count
    in the process's resident size), nor more than a piece (and its index,
    8 bytes a byte) gathered. Longer spans are read as they are.
    """
    fd = source.fileno()
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    index = 0
    while index < len(spans):
        start, stop = spans[index].tolist()
        base = start - start % mmap.ALLOCATIONGRANULARITY
        if stop - start > _GATHERED:  # a long span: read as it is
            _copy_range(source, start, stop - start, target)
            index += 1
            continue
        # Within a window from base (overlapping regions leave the stops
        # unsorted) and a gathering's bytes.
        reach = np.maximum.accumulate(spans[index:, 1]) - base
        gathered = np.cumsum(spans[index:, 1] - spans[index:, 0])
        last = index + max(
            1,
            min(
                int(np.searchsorted(reach, _WINDOW, "right")),
                int(np.searchsorted(gathered, _GATHERED, "right")),
            ),
        )
        group, index = spans[index:last], last
        try:
            mapped = mmap.mmap(
                fd, int(group[:, 1].max()) - base, access=mmap.ACCESS_READ, offset=base
            )
        except (OSError, ValueError):  # a file system without mmap
            for begin, end in group.tolist():
                _copy_range(source, begin, end - begin, target)
            continue
        with mapped:
            raw = np.frombuffer(mapped, dtype=np.uint8)
            target.write(raw[range_indices(group[:, 0] - base, group[:, 1] - base)])
            del raw  # the mapping closes only without views


def _copy_range(source: BinaryIO, offset: int, size: int, target: BinaryIO) -> None:
    done = 0
    while done < size:
        block = os.pread(source.fileno(), min(_COPY_CHUNK, size - done), offset + done)
        if not block:
            raise OSError(errno.EIO, "file ended early")
        target.write(block)
        done += len(block)


def range_indices(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Every index of the ranges [starts, stops), in order: int32 when the
    indices fit (half the memory to fill and to read), else int64.

    Examples
    --------
    >>> range_indices(np.array([1, 7, 9]), np.array([3, 7, 11])).tolist()
    [1, 2, 9, 10]
    """
    starts, stops = np.asarray(starts), np.asarray(stops)
    keep = stops > starts
    starts, stops = starts[keep], stops[keep]
    if not starts.size:
        return np.zeros(0, dtype=np.int64)
    dtype = np.int32 if int(stops.max()) <= np.iinfo(np.int32).max else np.int64
    lengths = stops - starts
    # Ones, and at each range's first index the jump from the last one's
    # end: their running sum is the indices.
    steps = np.ones(int(lengths.sum()), dtype=dtype)
    steps[0] = starts[0]
    steps[np.cumsum(lengths[:-1])] = starts[1:] - stops[:-1] + 1
    return np.cumsum(steps, out=steps)


def _restore(stream: BinaryIO, journal: Path, real: Path) -> None:
    """Write the journal's bytes back, cut the file to its old size, and
    remove the journal. Safe to repeat: a kill in here is undone again."""
    with open(journal, "rb") as saved:
        magic = saved.readline()
        if magic not in (_MAGIC, _MAGIC_TEXT):
            raise DataModelError(
                f"{journal}: not an irisdq undo journal; move it away and check "
                f"{real.name}"
            )
        try:
            device, inode, size, count = map(int, saved.readline().split())
            spans = _read_spans(saved, count, text=magic == _MAGIC_TEXT)
        except ValueError:
            raise DataModelError(
                f"{journal}: damaged undo journal; move it away and check {real.name}"
            ) from None
        status = os.fstat(stream.fileno())
        if (status.st_dev, status.st_ino) != (device, inode):
            raise DataModelError(
                f"{journal}: this undo journal belongs to another file that had "
                f"the name {real.name}; move it away if that file is gone"
            )
        for offset, length in spans:
            done = 0
            while done < length:
                block = saved.read(min(_COPY_CHUNK, length - done))
                if not block:
                    raise DataModelError(
                        f"{journal}: damaged undo journal (it ends early); move it "
                        f"away and check {real.name}"
                    )
                os.pwrite(stream.fileno(), block, offset + done)
                done += len(block)
    os.ftruncate(stream.fileno(), size)
    journal.unlink()


def _read_spans(saved: BinaryIO, count: int, *, text: bool) -> list[tuple[int, int]]:
    """The journal's (offset, length) spans; ValueError when it ends first
    (a crash of the machine before it reached the disk)."""
    if text:  # "offset length" lines
        spans = []
        for _ in range(count):
            offset, length = map(int, saved.readline().split())
            spans.append((offset, length))
        return spans
    left = os.fstat(saved.fileno()).st_size - saved.tell()
    if not 0 <= count * _SPAN_TABLE.itemsize <= left:
        raise ValueError("the span table ends early")
    raw = saved.read(count * _SPAN_TABLE.itemsize)
    if len(raw) != count * _SPAN_TABLE.itemsize:
        raise ValueError("short span table")
    table = np.frombuffer(raw, dtype=_SPAN_TABLE)
    if (table["length"] < 0).any() or (table["offset"] < 0).any():
        raise ValueError("negative span")
    return list(zip(table["offset"].tolist(), table["length"].tolist(), strict=True))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # Python delivers signals to the main thread only
        return
    received: list[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(number)
        if handler is not None:  # None: a handler Python cannot restore
            previous[number] = signal.signal(number, lambda n, _: received.append(n))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    for number in received[:1]:
        os.kill(os.getpid(), number)
