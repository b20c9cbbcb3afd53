"""Checking that an input path is a regular file before opening it.

Opening a FIFO for reading waits for a writer, and reading a character
device or ``/dev/stdin`` may never end: an input given by mistake as one of
those would hang a run. Every input irisdq opens by path (ramps, masks, user
DQ images, CSV pixel lists, CRDS mappings, bestref datasets) is checked
here first.
"""

import os
import stat

from irisdq.errors import DataModelError, IrisDQError

__all__ = ["require_regular_file"]

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
