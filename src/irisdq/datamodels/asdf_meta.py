"""Dataset parameters from the ``meta`` tree of a file's ASDF extension.

Files written through stdatamodels (JWST, the Liger/IRIS pipeline) carry
their metadata twice: as FITS keywords and as the ``meta`` tree of the
``ASDF`` extension, where a value may be present that no keyword holds.
:func:`read_meta_parameters` gives the tree's scalar values under their
CRDS names (``meta.instrument.detector`` -> ``META.INSTRUMENT.DETECTOR``),
for selection to use where the header is silent.

Examples
--------
>>> meta_parameters({"meta": {"instrument": {"name": "IRIS", "era": 1.0},
...                           "exposure": {"nreads": 4, "times": [1, 2]}}})
{'META.INSTRUMENT.NAME': 'IRIS', 'META.INSTRUMENT.ERA': 1.0, 'META.EXPOSURE.NREADS': 4}
"""

import os
import warnings
from collections.abc import Iterable
from typing import Any, BinaryIO

from irisdq.datamodels.asdf_tree import ASDF_EXTENSION, read_tree
from irisdq.datamodels.layout import HDULayout, read_hdu_layout

__all__ = ["meta_parameters", "read_meta_parameters", "stream_meta_parameters"]

# A metadata tree is kilobytes; a larger extension is not read for it.
_MAX_TREE_BYTES = 16 * 2**20
_MAX_DEPTH = 8
_MAX_VALUES = 10_000


def meta_parameters(tree: Any) -> dict[str, Any]:
    """The scalar values (str, int, float, bool) of ``tree['meta']``, keyed
    by their dotted path in upper case; lists and arrays are left out, and
    so is anything deeper than 8 levels."""
    found: dict[str, Any] = {}
    meta = tree.get("meta") if isinstance(tree, dict) else None
    stack = [("META", meta, 0)] if isinstance(meta, dict) else []
    while stack and len(found) < _MAX_VALUES:
        prefix, node, depth = stack.pop(0)
        for key, value in node.items():
            name = f"{prefix}.{str(key).upper()}"
            if isinstance(value, dict):
                if depth + 1 < _MAX_DEPTH:
                    stack.append((name, value, depth + 1))
            elif isinstance(value, str | int | float | bool):
                found[name] = value
    return found


def read_meta_parameters(path: str | os.PathLike) -> dict[str, Any]:
    """:func:`meta_parameters` of a FITS file's ASDF extension; empty when
    the file has none, or one that cannot be read."""
    with open(path, "rb", buffering=0) as stream:
        layout = read_hdu_layout(stream)
        return stream_meta_parameters(stream, layout[1:], os.fspath(path))


def stream_meta_parameters(
    stream: BinaryIO, hdus: Iterable[HDULayout], source: str = ""
) -> dict[str, Any]:
    """:func:`meta_parameters` of the ASDF extension among ``hdus``, read
    from ``stream`` (an open file, or the bytes a pickled model carries);
    empty when there is none, or one that cannot be read."""
    hdu = next((h for h in hdus if h.name == ASDF_EXTENSION), None)
    if hdu is None or not 0 < hdu.data_size <= _MAX_TREE_BYTES:
        return {}
    stream.seek(hdu.data_offset)
    data = stream.read(hdu.data_size)
    with warnings.catch_warnings():
        # A damaged tree only means the header is all there is to go by.
        warnings.simplefilter("ignore")
        tree = read_tree(data, source)
    return {} if tree is None else meta_parameters(tree)
