"""Writing a file under its final name only once it is complete."""

import contextlib
import ctypes
import errno
import functools
import glob
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_output", "temporary_files"]


# The name of the file being written: hidden, beside the final one.
_TEMPORARY = ".{name}.{tag}.tmp"


def temporary_files(path: str | os.PathLike) -> list[Path]:
    """Return the temporary files of :func:`atomic_output` for ``path``.

    A writer that was killed (``kill -9``, a lost worker) leaves its
    temporary file behind; a caller that reruns the work can remove them.

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
    pattern = _TEMPORARY.format(name=glob.escape(path.name), tag="*")
    return sorted(path.parent.glob(pattern))


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, *, overwrite: bool = False, size_hint: int = 0
) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` and move it into place on success.

    Missing parent folders are created. If the block raises, the temporary
    file is removed and ``path`` is left as it was, so a failure never
    leaves a half-written file under the final name.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name.
    overwrite : bool, optional
        Replace an existing file. Without it an existing ``path`` is an
        error, raised before anything is written.
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
        If ``path`` exists and ``overwrite`` is false.

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
    if not overwrite and path.exists():
        raise _exists(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(
        _TEMPORARY.format(name=path.name, tag=secrets.token_hex(4))
    )
    # os.open with mode 0o666 honours the umask, as a plain open() would,
    # unlike tempfile's 0o600.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "wb", buffering=0) as stream:
            if size_hint > 0 and _reserve(descriptor, size_hint):
                yield stream
                stream.truncate(os.fstat(descriptor).st_size)
            else:
                yield stream
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_without_replacing(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


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
