"""Checking input paths: a regular file before opening it, and never the
file an output would replace.

Opening a FIFO for reading waits for a writer, and reading a character
device or ``/dev/stdin`` may never end: an input given by mistake as one of
those would hang a run. Every input irisdq opens by path (ramps, masks, user
DQ images, CSV pixel lists, CRDS mappings, bestref datasets) is checked
here first.
"""

import os
import stat
from collections.abc import Iterable

from irisdq.errors import DataModelError, IrisDQError

__all__ = ["file_identity", "refuse_output_over_input", "require_regular_file"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def require_regular_file(
    path: str | os.PathLike, role: str, *, error: type[IrisDQError] = DataModelError
) -> None:
    """Raise unless ``path`` (symbolic links followed) is a regular file.

    Only the file's status is read; the file is not opened, so a FIFO is
    refused without blocking.

    Parameters
    ----------
    path : str or os.PathLike
        The input file.
    role : str
        What the file is for, for the message (``'a mask'``).
    error : type, optional
        The :class:`~irisdq.errors.IrisDQError` subclass to raise
        (:class:`~irisdq.errors.MappingError` for a CRDS mapping).

    Raises
    ------
    FileNotFoundError
        If the path does not exist (as opening it would).
    DataModelError
        If it is a directory, FIFO, device or socket (or ``error``).

    Examples
    --------
    >>> import os, tempfile
    >>> fifo = os.path.join(tempfile.mkdtemp(), "pipe")
    >>> os.mkfifo(fifo)
    >>> require_regular_file(fifo, "a mask")
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: ...pipe: is a FIFO; a mask must be a regular file
    """
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise error(f"{os.fspath(path)}: is {kind}; {role} must be a regular file")


def file_identity(path: str | os.PathLike) -> tuple:
    """What a path names, so that two names of one file compare equal.

    An existing file is its device and inode: a hard link, a symbolic link
    to it and a path through a symbolically linked folder all give the
    same identity. A path that does not exist yet is its real path.

    Parameters
    ----------
    path : str or os.PathLike
        Any path.

    Returns
    -------
    tuple
        ``("file", device, inode)`` or ``("name", real path)``.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> dark = os.path.join(folder, "dark.fits")
    >>> open(dark, "w").close()
    >>> os.link(dark, os.path.join(folder, "also.fits"))
    >>> file_identity(dark) == file_identity(os.path.join(folder, "also.fits"))
    True
    """
    try:
        status = os.stat(path)
    except OSError:
        return ("name", os.path.realpath(path))
    return ("file", status.st_dev, status.st_ino)


def refuse_output_over_input(
    outputs: Iterable[tuple[str, str | os.PathLike | None]],
    inputs: Iterable[tuple[str, str | os.PathLike | None]],
) -> None:
    """Raise if an output would replace an input or another output.

    Checked before any work, for every command that writes: an output
    that is an input (the same name, a hard or symbolic link to it, a path
    through a linked folder) would destroy the input, even with
    ``--overwrite``; two outputs on one file would lose the first.

    Parameters
    ----------
    outputs : iterable of (str, path or None)
        What each output is for (``'-o'``, ``'--plot'``) and its path;
        None is skipped.
    inputs : iterable of (str, path or None)
        What each input is for (``'dark'``, ``'--from-csv'``) and its path;
        None is skipped.

    Raises
    ------
    IrisDQError
        Naming the output, the input it is, and what to do.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> dark = os.path.join(folder, "d2.fits")
    >>> open(dark, "w").close()
    >>> refuse_output_over_input([("-o", dark)], [("dark", dark)])
    Traceback (most recent call last):
    ...
    irisdq.errors.IrisDQError: -o ...d2.fits is the dark ...d2.fits of this run; ...
    """
    seen: dict[tuple, tuple[str, str]] = {}
    for role, path in inputs:
        if path is not None:
            seen.setdefault(file_identity(path), (role, os.fspath(path)))
    for role, path in outputs:
        if path is None:
            continue
        key = file_identity(path)
        if key in seen:
            what, name = seen[key]
            raise IrisDQError(
                f"{role} {os.fspath(path)} is the {what} {name} of this run; "
                "give the output a name of its own"
            )
        seen[key] = (f"output {role}", os.fspath(path))
