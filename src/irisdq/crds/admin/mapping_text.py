"""Mapping text in CRDS's layout, generated without any file access.

Both irisdq's parser and the stock ``crds`` client load what
:func:`format_mapping` writes; its ``sha1sum`` is set.
"""

from typing import Any

from irisdq.crds.checksum import mapping_checksum
from irisdq.crds.parser import SelectorCall, comment_text, literal_text

__all__ = ["format_mapping"]


def format_mapping(header: dict, selector: Any, comment: str | None = None) -> str:
    """Return the text of a mapping in CRDS's layout, its ``sha1sum`` set.

    Parameters
    ----------
    header : dict
        The header; its ``sha1sum`` entry is replaced. Keys are written
        sorted, as CRDS writes them.
    selector : dict or SelectorCall
        A plain dict (pmap, imap) or a selector tree (rmap).
    comment : str, optional
        The ``comment`` block's text.

    Returns
    -------
    str

    Examples
    --------
    >>> text = format_mapping({"mapping": "PIPELINE", "name": "tmt_0009.pmap"},
    ...                       {"IRIS": "tmt_iris_0009.imap"})
    >>> print(text)  # doctest: +ELLIPSIS
    header = {
        'mapping' : 'PIPELINE',
        'name' : 'tmt_0009.pmap',
        'sha1sum' : '...',
    }
    <BLANKLINE>
    selector = {
        'IRIS' : 'tmt_iris_0009.imap',
    }
    <BLANKLINE>
    """
    header = {**header, "sha1sum": "0" * 40}
    parts = [f"header = {_format_value(dict(sorted(header.items())), 0)}\n\n"]
    if comment is not None:
        parts.append(f"comment = {comment_text(comment)}\n\n")
    parts.append(f"selector = {_format_value(selector, 0)}\n")
    text = "".join(parts)
    placeholder = f"'sha1sum' : '{'0' * 40}',"
    return text.replace(placeholder, f"'sha1sum' : '{mapping_checksum(text)}',", 1)


def _format_value(value: Any, indent: int) -> str:
    inner = " " * (indent + 4)
    if isinstance(value, SelectorCall):
        lines = [f"{value.name}({{"]
        for key, item, _ in value.entries:
            lines.append(
                f"{inner}{literal_text(key)} : {_format_value(item, indent + 4)},"
            )
        lines.append(" " * indent + "})")
        return "\n".join(lines)
    if isinstance(value, dict):
        lines = ["{"]
        for key, item in value.items():
            lines.append(
                f"{inner}{literal_text(key)} : {_format_value(item, indent + 4)},"
            )
        lines.append(" " * indent + "}")
        return "\n".join(lines)
    return literal_text(value)
