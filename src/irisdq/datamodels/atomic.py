"""Writing a file under its final name only once it is complete."""

import contextlib
import ctypes
import errno
import fcntl
import functools
import glob
import hashlib
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "atomic_output",
    "check_replaceable",
    "remove_abandoned_temporaries",
    "temporary_files",
]


# The name of the file being written: hidden, beside the final one.
_TEMPORARY = ".{name}.{tag}.tmp"

# Bytes of the final name kept in a temporary name. With the dots, the tag
# and the suffix, a temporary name then stays well under the 255 bytes most
# filesystems allow in one name, however long the final name is.
_NAME_BYTES = 200


def _name_part(name: str) -> str:
    """The final name as it appears in a temporary name: the name itself
    when short, else its start and a hash of the whole (so that two long
    names with the same start still have temporaries of their own)."""
    if len(os.fsencode(name)) <= _NAME_BYTES:
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    start = name
    while len(os.fsencode(start)) > _NAME_BYTES - len(digest) - 1:
        start = start[:-1]
    return f"{start}~{digest}"


def temporary_files(path: str | os.PathLike) -> list[Path]:
    """Return the temporary files of :func:`atomic_output` for ``path``.

    A writer that was killed (``kill -9``, a lost worker) leaves its
    temporary file behind; a caller that reruns the work can remove them
    with :func:`remove_abandoned_temporaries`, which spares those of
    writers still at work.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.fits"
    >>> (target.parent / ".out.fits.1a2b3c4d.tmp").write_bytes(b"partial")
    7
    >>> [p.name for p in temporary_files(target)]
    ['.out.fits.1a2b3c4d.tmp']
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = _TEMPORARY.format(name=glob.escape(_name_part(path.name)), tag="*")
    return sorted(path.parent.glob(pattern))


def remove_abandoned_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files for ``path`` whose writer is gone.

    :func:`atomic_output` holds an exclusive ``flock`` on its temporary
    file while it writes; the kernel releases it when the writer ends, in
    whatever way. A temporary file that can be locked has no writer and is
    removed; one still locked belongs to a writer at work (another run, a
    worker writing the same output) and is left alone.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name.

    Returns
    -------
    list of pathlib.Path
        The temporary files removed.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.fits"
    >>> (target.parent / ".out.fits.1a2b3c4d.tmp").write_bytes(b"partial")
    7
    >>> [p.name for p in remove_abandoned_temporaries(target)]
    ['.out.fits.1a2b3c4d.tmp']
    >>> temporary_files(target)
    []
    """
    removed = []
    for temporary in temporary_files(path):
        try:
            # O_NONBLOCK: a FIFO of that name must not hang the cleanup.
            descriptor = os.open(temporary, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # gone meanwhile, or not a file of ours
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer is at work
            # Remove the very file locked, not one that took its name since.
            opened = os.fstat(descriptor)
            try:
                current = os.lstat(temporary)
            except FileNotFoundError:
                continue
            if (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino):
                os.unlink(temporary)
                removed.append(temporary)
        finally:
            os.close(descriptor)
    return removed


def check_replaceable(path: str | os.PathLike) -> os.stat_result | None:
    """Check that ``path`` is absent or a file :func:`atomic_output` may replace.

    Only regular files are replaced. A symbolic link is refused whatever
    it points to: replacing the link would cut it, and replacing its target
    would write outside the output folder when the link leads elsewhere
    (and, for a link inside it, to a file the user did not name).

    Returns
    -------
    os.stat_result or None
        The status of the existing file, or None when there is none.

    Raises
    ------
    FileExistsError
        If ``path`` is a directory, a device, a FIFO, a socket or a
        symbolic link.

    Examples
    --------
    >>> check_replaceable("/dev/null")
    Traceback (most recent call last):
    ...
    FileExistsError: [Errno 17] is a character device; irisdq only replaces
    regular files: '/dev/null'
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(status.st_mode):
        return status
    kind = _KINDS.get(stat.S_IFMT(status.st_mode), "not a regular file")
    if stat.S_ISLNK(status.st_mode):
        kind = f"{kind} (to {os.readlink(path)})"
    raise FileExistsError(
        errno.EEXIST, f"{kind}; irisdq only replaces regular files", os.fspath(path)
    )


_KINDS = {
    stat.S_IFDIR: "is a directory",
    stat.S_IFCHR: "is a character device",
    stat.S_IFBLK: "is a block device",
    stat.S_IFIFO: "is a FIFO (named pipe)",
    stat.S_IFSOCK: "is a socket",
    stat.S_IFLNK: "is a symbolic link",
}


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, *, overwrite: bool = False, size_hint: int = 0
) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` and move it into place on success.

    Missing parent folders are created. If the block raises, the temporary
    file is removed and ``path`` is left as it was, so a failure never
    leaves a half-written file under the final name.

    Only a regular file is ever replaced: a directory, a device, a FIFO, a
    socket or a symbolic link at ``path`` is refused (see
    :func:`check_replaceable`), with or without ``overwrite``, before
    anything is written. A replaced file's permission bits are kept and,
    where the process may set them, its owner and group, as ``cp`` does
    onto an existing file.

    While the block runs, the temporary file carries an exclusive
    ``flock``, which tells :func:`remove_abandoned_temporaries` that its
    writer is at work.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name.
    overwrite : bool, optional
        Replace an existing regular file. Without it an existing ``path``
        is an error, raised before anything is written.
    size_hint : int, optional
        The expected size in bytes. Where the filesystem can, the space is
        reserved up front, which makes writing a large file faster (and a
        full disk fail early); unused reserved space is released.

    Yields
    ------
    file object
        An unbuffered binary file, opened for writing and seeking.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false, or ``path`` is not a
        regular file.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "sub" / "out.bin"
    >>> with atomic_output(target) as stream:
    ...     _ = stream.write(b"done")
    >>> target.read_bytes()
    b'done'
    >>> with atomic_output(target) as stream:
    ...     pass
    Traceback (most recent call last):
    ...
    FileExistsError: [Errno 17] already exists; ...
    """
    path = Path(path)
    existing = check_replaceable(path)
    if not overwrite and existing is not None:
        raise _exists(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary, descriptor = _create_locked(path)
    try:
        with open(descriptor, "wb", buffering=0) as stream:
            if size_hint > 0 and _reserve(descriptor, size_hint):
                yield stream
                stream.truncate(os.fstat(descriptor).st_size)
            else:
                yield stream
            # Checked again: something may have taken the name meanwhile.
            existing = check_replaceable(path)
            if existing is not None and overwrite:
                _keep_mode_and_owner(descriptor, existing)
            if overwrite:
                os.replace(temporary, path)
            else:
                _link_without_replacing(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _create_locked(path: Path) -> tuple[Path, int]:
    """Create and lock a new temporary file for ``path``."""
    while True:
        temporary = path.with_name(
            _TEMPORARY.format(name=_name_part(path.name), tag=secrets.token_hex(4))
        )
        # os.open with mode 0o666 honours the umask, as a plain open() would,
        # unlike tempfile's 0o600.
        try:
            descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue  # the same random tag: draw another
        except OSError as exc:
            # Named after the file the user asked for, not the temporary.
            raise type(exc)(
                exc.errno,
                f"{exc.strerror} (while creating a temporary file beside it)",
                str(path),
            ) from None
        # Without locks on this filesystem there is nothing to announce.
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # A cleanup may have locked and removed the file between its
        # creation and the lock: then start again under a new name.
        if os.fstat(descriptor).st_nlink > 0:
            return temporary, descriptor
        os.close(descriptor)


def _keep_mode_and_owner(descriptor: int, existing: os.stat_result) -> None:
    # Owner first: changing it clears the set-user-ID and set-group-ID bits
    # that the mode then restores.
    for owner in ((existing.st_uid, existing.st_gid), (-1, existing.st_gid)):
        try:
            os.fchown(descriptor, *owner)
            break
        except PermissionError:
            continue
    os.fchmod(descriptor, stat.S_IMODE(existing.st_mode))


@functools.cache
def _fallocate():
    """Linux fallocate(2), or None: unlike posix_fallocate it never falls
    back to writing zeros on filesystems that cannot reserve space."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.fallocate64
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    function.restype = ctypes.c_int
    return function


_FALLOC_FL_KEEP_SIZE = 1


def _reserve(descriptor: int, size: int) -> bool:
    # Reserving blocks before writing saves ext4 and xfs from allocating
    # them write by write; KEEP_SIZE leaves the file size to the writes.
    function = _fallocate()
    return (
        function is not None
        and function(descriptor, _FALLOC_FL_KEEP_SIZE, 0, size) == 0
    )


def _link_without_replacing(temporary: Path, path: Path) -> None:
    # A hard link fails if the name was taken meanwhile, where a rename would
    # silently replace the file that appeared.
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError:
        # Filesystems without hard links: check, then rename.
        if path.exists():
            raise _exists(path) from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def _exists(path: Path) -> FileExistsError:
    return FileExistsError(
        errno.EEXIST,
        "already exists; pass overwrite=True (--overwrite on the command "
        "line) to replace it",
        str(path),
    )
