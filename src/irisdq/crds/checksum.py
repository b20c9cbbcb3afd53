"""The ``sha1sum`` of a mapping file: computing and checking it.

Rewriting it is cache administration:
:func:`irisdq.crds.admin.checksum.update_checksum`.
"""

import hashlib
import os

from irisdq.errors import MappingError

__all__ = ["checksum_ignored", "mapping_checksum"]

#: Setting this variable (to anything but 0/false/no/off) skips the check.
IGNORE_VARIABLE = "CRDS_IGNORE_MAPPING_CHECKSUM"


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
