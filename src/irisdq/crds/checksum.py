"""The ``sha1sum`` of a mapping file: computing, checking and rewriting it."""

import hashlib
import os
import re
import tempfile
from pathlib import Path

from irisdq.errors import MappingError

__all__ = ["checksum_ignored", "mapping_checksum", "update_checksum"]

#: Setting this variable (to anything but 0/false/no/off) skips the check.
IGNORE_VARIABLE = "CRDS_IGNORE_MAPPING_CHECKSUM"

_SUM_VALUE = re.compile(r"""(['"]sha1sum['"]\s*:\s*)(['"])([^'"\n]*)(['"])""")
_HEADER_OPEN = re.compile(r"^header\s*=\s*\{", re.MULTILINE)


def mapping_checksum(text: str) -> str:
    """Return the CRDS ``sha1sum`` of mapping `text`.

    It is the SHA-1 of the UTF-8 text after deleting every line that
    contains the word ``sha1sum``; line ends count as ``\\n`` whatever the
    file uses, as when CRDS reads the file.

    Parameters
    ----------
    text : str
        The whole mapping file.

    Returns
    -------
    str
        40 hexadecimal digits.

    Examples
    --------
    >>> a = mapping_checksum("header = {\\n  'sha1sum': 'old',\\n}\\n")
    >>> b = mapping_checksum("header = {\\r\\n  'sha1sum': 'new',\\r\\n}\\r\\n")
    >>> a == b == mapping_checksum("header = {\\n}\\n")
    True
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha1()
    for line in text.splitlines(keepends=True):
        if "sha1sum" not in line:
            digest.update(line.encode("utf-8"))
    return digest.hexdigest()


def checksum_ignored() -> bool:
    """Return True when ``CRDS_IGNORE_MAPPING_CHECKSUM`` turns the check off.

    Examples
    --------
    >>> import os
    >>> os.environ.get(IGNORE_VARIABLE) is None and checksum_ignored()
    False
    """
    value = os.environ.get(IGNORE_VARIABLE, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def verify_checksum(
    text: str | None, header: dict, filename: str, actual: str | None = None
) -> None:
    """Raise MappingError unless the header's ``sha1sum`` matches `text`.

    `actual`, when given, is the already computed checksum of the text.
    Nothing is checked while ``CRDS_IGNORE_MAPPING_CHECKSUM`` is set.

    Examples
    --------
    >>> text = "header = {'sha1sum': 'x'}\\nselector = {}\\n"
    >>> verify_checksum(text, {"sha1sum": mapping_checksum(text)}, "a.pmap")
    >>> verify_checksum(text, {"sha1sum": "0" * 40}, "a.pmap")
    Traceback (most recent call last):
    ...
    irisdq.errors.MappingError: a.pmap: sha1sum mismatch: the header says 000...
    """
    if checksum_ignored():
        return
    recorded = header.get("sha1sum")
    if actual is None:
        actual = mapping_checksum(text)
    if recorded is None:
        raise MappingError(
            f"{filename}: the header has no sha1sum; add it with "
            f"'irisdq crds checksum {filename}' or set {IGNORE_VARIABLE}=1"
        )
    if recorded != actual:
        raise MappingError(
            f"{filename}: sha1sum mismatch: the header says {recorded} but the "
            f"text sums to {actual}; the file was edited or damaged (after a "
            f"deliberate edit run 'irisdq crds checksum {filename}', or set "
            f"{IGNORE_VARIABLE}=1)"
        )


def update_checksum(path: str | os.PathLike) -> str:
    """Rewrite the ``sha1sum`` of a mapping file in place and return it.

    The file is checked to be a valid mapping, then replaced atomically
    (written to a temporary file beside it and renamed), keeping its line
    ends and permissions. A header without a ``sha1sum`` gets one.

    Parameters
    ----------
    path : str or os.PathLike
        The mapping file.

    Returns
    -------
    str
        The new checksum.

    Raises
    ------
    MappingError
        If the file is not UTF-8 or not a valid mapping.
    FileNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rmap = folder / "demo.rmap"
    >>> _ = rmap.write_text("header = {\\n    'sha1sum' : 'stale',\\n}\\n"
    ...                     "selector = Match({'IRIS1': 'a.fits'})\\n")
    >>> update_checksum(rmap) == mapping_checksum(rmap.read_text())
    True
    >>> "stale" in rmap.read_text()
    False
    """
    from irisdq.crds.parser import parse_mapping

    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not UTF-8 text ({exc})") from None
    parse_mapping(text, str(path))
    placeholder = "0" * 40
    if _SUM_VALUE.search(text):
        text = _SUM_VALUE.sub(lambda m: m[1] + m[2] + placeholder + m[4], text, count=1)
    else:
        opening = _HEADER_OPEN.search(text)
        if opening is None:
            raise MappingError(f"{path}: no 'header = {{' line to add a sha1sum to")
        newline = "\r\n" if "\r\n" in text else "\n"
        text = (
            text[: opening.end()]
            + f"{newline}    'sha1sum' : '{placeholder}',{newline}   "
            + text[opening.end() :]
        )
    checksum = mapping_checksum(text)
    text = text.replace(placeholder, checksum, 1)
    _replace_atomically(path, text.encode("utf-8"))
    return checksum


def _replace_atomically(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
