"""Writing a file under its final name only once it is complete."""

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_output"]


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, *, overwrite: bool = False
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
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with mode 0o666 honours the umask, as a plain open() would,
    # unlike tempfile's 0o600.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "wb", buffering=0) as stream:
            yield stream
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_without_replacing(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


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
