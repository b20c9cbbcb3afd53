"""Rewriting the ``sha1sum`` of a mapping file in place.

The checksum itself is computed and checked by :mod:`irisdq.crds.checksum`,
which selection uses.
"""

import os
import re
from pathlib import Path

from irisdq.crds.checksum import mapping_checksum
from irisdq.errors import MappingError

__all__ = ["update_checksum"]

_HEADER_OPEN = re.compile(r"^header\s*=\s*\{", re.MULTILINE)
# Line ends as Python's parser counts lines.
_LINE_END = re.compile(r"\r\n|\r|\n")


def update_checksum(path: str | os.PathLike) -> str:
    """Rewrite the ``sha1sum`` of a mapping file in place and return it.

    The file is checked to be a valid mapping, then replaced atomically
    (written to a temporary file beside it and renamed), keeping its line
    ends and permissions. Only the value of the header's ``sha1sum`` entry
    changes; a header without one gets one. A symbolic link is followed:
    the file it points to is rewritten and the link stays a link.

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
        If the file is not a regular file, not UTF-8 or not a valid mapping,
        or its ``sha1sum`` value is not on the line of the key.
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
    from irisdq.crds.parser import parse_mapping, read_mapping_bytes
    from irisdq.datamodels.files import require_regular_file

    path = Path(path)
    require_regular_file(path, "a CRDS mapping", error=MappingError)
    # The link's target is rewritten, so that a link into a shared store
    # stays a link.
    target = Path(os.path.realpath(path))
    raw = read_mapping_bytes(target, str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not UTF-8 text ({exc})") from None
    parsed = parse_mapping(text, str(path))
    placeholder = "0" * 40
    start, end = _header_sum_span(text, str(path), parsed.header)
    if start is not None:
        text = text[:start] + placeholder + text[end:]
    else:
        opening = _HEADER_OPEN.search(text)
        if opening is None:
            raise MappingError(f"{path}: no 'header = {{' line to add a sha1sum to")
        newline = "\r\n" if "\r\n" in text else "\n"
        start = opening.end() + len(f"{newline}    'sha1sum' : '")
        text = (
            text[: opening.end()]
            + f"{newline}    'sha1sum' : '{placeholder}',{newline}   "
            + text[opening.end() :]
        )
    checksum = mapping_checksum(text)
    text = text[:start] + checksum + text[start + len(placeholder) :]
    _replace_atomically(target, text.encode("utf-8"))
    return checksum


def _header_sum_span(
    text: str, filename: str, header: dict
) -> tuple[int | None, int | None]:
    """Return where the header's ``sha1sum`` value lies in `text`, quotes excluded.

    (None, None) when the header has no ``sha1sum``. The value must be a
    plain string on the line of its key: that line is left out of the sum,
    so the value does not change the sum it records.
    """
    import ast

    if "sha1sum" not in header:
        return None, None
    module = ast.parse(text, filename=filename)
    header_node = next(
        statement.value
        for statement in module.body
        if isinstance(statement, ast.Assign)
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == "header"
    )
    key, value = next(
        (key, value)
        for key, value in zip(header_node.keys, header_node.values, strict=True)
        if isinstance(key, ast.Constant) and key.value == "sha1sum"
    )
    starts = [0, *(end.end() for end in _LINE_END.finditer(text))]
    line_start = starts[value.lineno - 1]
    line_end = starts[value.lineno] if value.lineno < len(starts) else len(text)
    line = text[line_start:line_end]
    # ast columns count UTF-8 bytes.
    encoded = line.encode("utf-8")
    literal = encoded[value.col_offset : value.end_col_offset].decode("utf-8")
    if (
        not isinstance(value, ast.Constant)
        or not isinstance(value.value, str)
        or value.lineno != key.lineno
        or value.end_lineno != value.lineno
        or "sha1sum" not in line
        or literal[:1] not in ("'", '"')
        or literal[1:-1] != value.value
    ):
        raise MappingError(
            f"{filename}:{value.lineno}: the header's sha1sum must be a plain "
            "quoted string on the line of its key, e.g. 'sha1sum' : '...'; "
            "fix the line by hand, then run the command again"
        )
    start = line_start + len(encoded[: value.col_offset].decode("utf-8")) + 1
    return start, start + len(value.value)


def _replace_atomically(path: Path, data: bytes) -> None:
    from irisdq.datamodels.atomic import atomic_output

    mode = path.stat().st_mode & 0o7777
    with atomic_output(path, overwrite=True, size_hint=len(data)) as stream:
        stream.write(data)
        os.fchmod(stream.fileno(), mode)
