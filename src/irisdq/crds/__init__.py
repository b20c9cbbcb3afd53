"""Best-reference selection from a local CRDS cache, safely and fast.

CRDS mapping files are parsed, never executed; each is parsed once per
process. The main entry points:

- :func:`bestref`: the path of the reference file for a dataset, or
  ``'N/A'`` when the reference type does not apply;
- :func:`select_reference`: the full :class:`Selection` (file name, expected
  path, whether it exists, context, ``explain()``);
- :func:`explain_bestref`: why a file is chosen, as text;
- :func:`get_context`: the loaded context, for many lookups in a row.

Checking a cache and writing into it is :mod:`irisdq.crds.admin`, which a
selection never loads; :func:`update_checksum` is imported from it on
first use.

The cache is ``$CRDS_PATH`` (default ``~/crds_cache``); the context is
``$CRDS_CONTEXT``, else the cache's operational or newest pmap, else the TMT
context shipped with irisdq.

Safety limits:

- a mapping file larger than 4 MiB, or nesting brackets more than 32 deep,
  is refused before it is parsed (real mappings are under 1 MiB);
- a mapping or reference file in the cache that is a symbolic link to a
  file outside the cache is refused, naming the link and its target. A
  cache that deliberately links to a shared read-only store lists the
  store's folders in ``IRISDQ_CRDS_LINK_ROOTS`` (``:``-separated, like
  ``PATH``); links into them are accepted.
"""

from irisdq.crds.bestref import bestref, explain_bestref, select_reference
from irisdq.crds.cache import CacheRoot, cache_root, default_context
from irisdq.crds.checksum import mapping_checksum
from irisdq.crds.context import (
    Context,
    ContextItem,
    Selection,
    clear_cache,
    get_context,
)
from irisdq.crds.dataset import KEYWORDS, dataset_parameters
from irisdq.crds.mapping import load_mapping, mapping_from_text
from irisdq.crds.parser import parse_mapping
from irisdq.crds.values import UNDEFINED, condition_value

__all__ = [
    "KEYWORDS",
    "UNDEFINED",
    "CacheRoot",
    "Context",
    "ContextItem",
    "Selection",
    "bestref",
    "cache_root",
    "clear_cache",
    "condition_value",
    "dataset_parameters",
    "default_context",
    "explain_bestref",
    "get_context",
    "load_mapping",
    "mapping_checksum",
    "mapping_from_text",
    "parse_mapping",
    "select_reference",
    "update_checksum",
]


def __getattr__(name: str):
    # Administration stays unloaded until asked for.
    if name == "update_checksum":
        from irisdq.crds.admin.checksum import update_checksum

        globals()[name] = update_checksum
        return update_checksum
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
