"""The ASDF extension: a file's metadata tree, as stdatamodels reads it.

stdatamodels (and so jwst and every stpipe pipeline built on it) keeps a
model's tree in an ``ASDF`` binary-table extension: one row, one column
``ASDF_METADATA`` of unsigned bytes holding a whole ASDF file. The tree's
arrays are not in it: each is an ``ndarray`` node whose ``source`` is
``fits:<EXTNAME>,<EXTVER>``, which the reader replaces with that
extension's data. This module builds such a tree for a ramp (``meta``
from the primary header through :data:`irisdq.datamodels.meta.KEYWORDS`,
``data``/``pixeldq``/``groupdq``/``err`` referencing SCI, PIXELDQ, GROUPDQ,
ERR), updates the tree a file already has, and encodes the extension as
bytes ready to be written, ``CHECKSUM`` and ``DATASUM`` included.

``_fits_hash`` tells stdatamodels that the headers and the tree agree, so
it takes the tree as it is instead of mapping every FITS keyword through
its schema (which Liger's schema cannot do). :func:`fits_hash` computes it
exactly as stdatamodels does; a tree irisdq writes carries one only when
the input's did and matched the input's headers (the writer then changes
both alike), else none: the headers stay the authority.

``asdf`` is imported on first use, not with irisdq, and works here with
its own extensions and the ASDF standard's schemas only. By default it
imports every package that registers ASDF plugins (stpipe, stdatamodels,
gwcs, asdf-astropy): seconds of imports for each ``irisdq dq-init``
process, and stpipe 0.8 configures logging when imported (a handler on the
root logger and :func:`logging.captureWarnings`), which printed each
warning of the command three times. Tags of those packages are kept as
raw tagged nodes, which is all a tree that is carried over needs.

Reading a tree, building one, updating it and encoding it (with the plain
YAML writer that spares new ramps asdf's import) are kept in one module,
over the project's usual 600 lines, because each must agree with the others
on the array references and the tags kept raw.

Examples
--------
>>> import io
>>> from astropy.io import fits
>>> header = fits.Header([("INSTRUME", "IRIS"), ("S_DQINIT", "COMPLETE")])
>>> arrays = [ArrayRef("SCI", 1, (1, 2, 4, 4), np.dtype("float32"))]
>>> tree = ramp_tree(header, arrays)
>>> tree["meta"]["cal_step"], tree["data"]["source"]
({'dq_init': 'COMPLETE'}, 'fits:SCI,1')
>>> hdu = asdf_hdu_bytes(tree)
>>> len(hdu) % 2880
0
>>> primary = fits.PrimaryHDU()
>>> out = io.BytesIO(primary.header.tostring().encode() + hdu)
>>> with fits.open(out, checksum=True) as hdul:
...     hdul["ASDF"].data["ASDF_METADATA"][0][:11].tobytes()
b'#ASDF 1.0.0'
"""

import contextlib
import functools
import hashlib
import io
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from irisdq.datamodels.checksum import ALL_ONES, add_sums, encode_checksum, word_sum
from irisdq.datamodels.hdu_io import DataModelWarning
from irisdq.datamodels.layout import BLOCK
from irisdq.datamodels.meta import KEYWORDS, from_keywords

__all__ = [
    "ASDF_EXTENSION",
    "FITS_HASH",
    "RAMP_ARRAYS",
    "ArrayRef",
    "asdf_hdu_bytes",
    "fits_hash",
    "ramp_tree",
    "read_tree",
]

ASDF_EXTENSION = "ASDF"
_COLUMN = "ASDF_METADATA"
_FITS_SOURCE = "fits:"
_STANDARD_TAG = "tag:stsci.edu:asdf/"
# stdatamodels compares this with a hash of the headers to skip reading
# them; a tree that irisdq rewrites must not claim the old headers.
FITS_HASH = "_fits_hash"

#: Tree attribute -> extension, as jwst's ``RampModel`` names them.
RAMP_ARRAYS = {"data": "SCI", "pixeldq": "PIXELDQ", "groupdq": "GROUPDQ", "err": "ERR"}


# The distributions whose ASDF plugins irisdq loads.
_CORE_PLUGINS = {"asdf", "asdf-standard"}


@functools.cache
def _core_plugins(group: str) -> list:
    """The plugins of one entry-point group that asdf and the ASDF standard
    register, loaded as asdf loads them."""
    from importlib.metadata import entry_points

    from asdf.extension import ExtensionProxy
    from asdf.resource import ResourceMappingProxy

    proxy = ExtensionProxy if group == "asdf.extensions" else ResourceMappingProxy
    found, seen = [], set()
    for point in entry_points(group=group):
        dist = point.dist
        name = dist.name.lower().replace("_", "-")
        # Python 3.11's importlib.metadata may list an entry point twice.
        if name not in _CORE_PLUGINS or (name, point.name) in seen:
            continue
        seen.add((name, point.name))
        elements = point.load()()
        for element in elements if isinstance(elements, list) else [elements]:
            found.append(
                proxy(element, package_name=dist.name, package_version=dist.version)
            )
    return found


@contextlib.contextmanager
def _core_asdf() -> Iterator[Any]:
    """The asdf module, configured with its core plugins only."""
    import asdf

    with asdf.config_context() as config:
        # asdf has no public way to set these lists without first loading
        # every entry point; a later asdf without these attributes gets
        # its default configuration, slower but equivalent.
        if all(
            hasattr(config, name)
            for name in ("_extensions", "_resource_mappings", "_resource_manager")
        ):
            # The schemas first: loading asdf's extensions reads their
            # manifests through this configuration.
            config._resource_mappings = list(_core_plugins("asdf.resource_mappings"))
            config._resource_manager = None
            config._extensions = list(_core_plugins("asdf.extensions"))
        yield asdf


class ArrayRef(NamedTuple):
    """An image extension of the output file that the tree may point to.

    Attributes
    ----------
    name : str
        ``EXTNAME``.
    ver : int
        ``EXTVER``.
    shape : tuple of int
        The numpy shape.
    dtype : numpy.dtype
        The dtype astropy reads the values as (uint32 for int32 with BZERO).
    """

    name: str
    ver: int
    shape: tuple[int, ...]
    dtype: np.dtype

    def node(self) -> Any:
        """The tagged ``ndarray`` node stdatamodels resolves to the data."""
        # The tag stdatamodels writes: the ndarray version of the ASDF
        # standard asdf writes by default (1.1.0 from standard 1.6.0).
        version = "1.1.0" if _asdf_writes_standard() > (1, 5) else "1.0.0"
        return _Tagged(
            {
                "source": f"{_FITS_SOURCE}{self.name},{self.ver}",
                "shape": [int(n) for n in self.shape],
                "datatype": np.dtype(self.dtype).name,
                # FITS stores every array big-endian.
                "byteorder": "big",
            },
            f"tag:stsci.edu:asdf/core/ndarray-{version}",
        )


class _Tagged(dict):
    """A tagged mapping made here (an ``ndarray`` node), without importing
    asdf: its ``_tag`` is what asdf's ``TaggedDict`` has."""

    def __init__(self, data: Mapping[str, Any], tag: str) -> None:
        super().__init__(data)
        self._tag = tag


@functools.cache
def _versions() -> tuple[str, str]:
    """The versions of the asdf and asdf-standard distributions installed."""
    from importlib.metadata import version

    return version("asdf"), version("asdf_standard")


def _asdf_writes_standard() -> tuple[int, int]:
    """The ASDF standard version asdf writes by default: 1.6 from asdf 4
    on, 1.5 before."""
    major = int(_versions()[0].split(".")[0])
    return (1, 6) if major >= 4 else (1, 5)


def read_tree(data: bytes, source: str = "") -> dict | None:
    """Return the tree of an ASDF extension's bytes, or None if unreadable.

    Tags of other libraries (the gwcs objects of a jwst file) are kept as
    raw tagged nodes, so writing the tree back keeps them.
    Arrays stored inside the ASDF bytes are read into memory.

    Parameters
    ----------
    data : bytes
        The extension's data: a whole ASDF file.
    source : str, optional
        The FITS file, for the warning.

    Returns
    -------
    dict or None
        None, with a :class:`~irisdq.datamodels.hdu_io.DataModelWarning`,
        when the bytes are not an ASDF file asdf can read.
    """
    try:
        _check_aliases(data)
        tree = _read_plain(data)
        if tree is not None:
            return tree
        with _core_asdf() as asdf, warnings.catch_warnings():
            # Missing extensions and unknown tags are expected: irisdq needs
            # neither gwcs nor jwst's schemas to carry the tree over.
            warnings.simplefilter("ignore")
            # Lazily: asdf 3 would try to open the fits: links as files.
            with asdf.open(
                io.BytesIO(data),
                ignore_unrecognized_tag=True,
                ignore_missing_extensions=True,
            ) as af:
                tree = {
                    key: value
                    for key, value in af.tree.items()
                    if key not in ("asdf_library", "history")
                }
                _load_arrays(tree)
    # asdf and its YAML parser raise many types for a damaged file; any of
    # them means the same here: the old tree cannot be carried over.
    except Exception as exc:
        warnings.warn(
            f"{source or 'file'}: its ASDF extension is not a readable ASDF file "
            f"({type(exc).__name__}: {exc}); it is replaced by a new tree",
            DataModelWarning,
            stacklevel=2,
        )
        return None
    return tree


# -- reading a plain tree without asdf -------------------------------------
#
# The tree of a raw ramp (stdatamodels' or irisdq's) is plain values and
# ndarray nodes that point to FITS extensions. Such a tree is read here with
# PyYAML as asdf's loader reads it, sparing each process asdf's import and
# its extensions' manifests (a third of a second); any other tree (other
# tags, arrays stored in the ASDF bytes, anything asdf would judge) is left
# to asdf. The tests compare the two on the trees read here.

_ROOT_TAGS = (f"{_STANDARD_TAG}core/asdf-1.0.0", f"{_STANDARD_TAG}core/asdf-1.1.0")
_NDARRAY_TAGS = (
    f"{_STANDARD_TAG}core/ndarray-1.0.0",
    f"{_STANDARD_TAG}core/ndarray-1.1.0",
)
# Dropped from every tree read (asdf rewrites them).
_LIBRARY_KEYS = ("asdf_library", "history")


class _NotPlain(Exception):
    """The tree holds something only asdf reads as asdf does."""


class _FitsArray:
    """An ndarray node read without asdf: a link to a FITS extension, which
    :func:`ramp_tree` points at the output's extension or drops."""

    def __init__(self, source: str) -> None:
        self._source = source


def _read_plain(data: bytes) -> dict | None:
    """The tree of an ASDF file of plain values and ``fits:`` ndarray
    nodes, as asdf reads it; None for any other file."""
    import yaml

    if not data.startswith(b"#ASDF 1.0.0\n"):
        return None
    end = data.find(b"\n...\n")
    if end < 0 or data[end + 5 :].strip(b"\0 \t\r\n"):
        return None  # binary blocks, a block index, or no end marker
    try:
        root = yaml.load(io.BytesIO(data[: end + 5]), Loader=_plain_loader())
    except (_NotPlain, yaml.YAMLError):
        return None
    if not isinstance(root, _TaggedRead) or root.tag not in _ROOT_TAGS:
        return None
    tree = {key: value for key, value in root.items() if key not in _LIBRARY_KEYS}
    return tree if _plain_node(tree) else None


class _TaggedRead(dict):
    """A tagged mapping as read, before :func:`_read_plain` checks it."""

    tag = ""


def _plain_node(node: Any, depth: int = 0) -> bool:
    """Check ``node`` (replacing its ``fits:`` ndarray nodes by
    :class:`_FitsArray`): True when asdf would read it as it is."""
    if depth > _MAX_NESTING:
        return False
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, _TaggedRead):
            source = value.get("source")
            if value.tag not in _NDARRAY_TAGS or not (
                isinstance(source, str) and source.startswith(_FITS_SOURCE)
            ):
                return False
            node[key] = _FitsArray(source)
        elif isinstance(value, dict | list) and not _plain_node(value, depth + 1):
            return False
    return True


@functools.cache
def _plain_loader() -> type:
    """libyaml's safe loader (as asdf's is) reading tagged mappings as
    :class:`_TaggedRead` and refusing every other tag it does not know."""
    import yaml

    base = (
        yaml.CSafeLoader
        if getattr(yaml, "__with_libyaml__", False)
        else yaml.SafeLoader
    )

    class Loader(base):
        pass

    def tagged(loader: Any, node: Any) -> Any:
        if not isinstance(node, yaml.MappingNode):
            raise _NotPlain(node.tag)
        mapping = _TaggedRead()
        mapping.tag = node.tag
        yield mapping
        mapping.update(loader.construct_mapping(node))

    def refused(loader: Any, node: Any) -> Any:
        raise _NotPlain(node.tag)

    Loader.add_constructor(None, tagged)
    # asdf reads an ordered map as an OrderedDict, PyYAML as pairs.
    Loader.add_constructor("tag:yaml.org,2002:omap", refused)
    return Loader


# How many nodes YAML aliases may add to a tree. asdf validates a tree by
# walking every node, an aliased one once per alias: nine lines of nested
# aliases make a billion nodes, hours of walking for a tree of 400 bytes.
_MAX_ALIASED_NODES = 100_000
# How deep a tree may nest. asdf reads a tree recursively: a few hundred
# levels exhaust Python's recursion limit, and the 100000 levels of
# 200 kB of brackets crashed the interpreter or took minutes to parse.
_MAX_NESTING = 200


def _check_aliases(data: bytes) -> None:
    """Raise ValueError if the YAML of an ASDF file's bytes, its aliases
    expanded, has more than :data:`_MAX_ALIASED_NODES` nodes beyond its own,
    or nests deeper than :data:`_MAX_NESTING` levels.

    Reads the parser's events only (nothing is built), in one pass: the
    size of each anchored node is kept for the aliases that follow it.
    """
    import yaml

    # The tree ends at the YAML end marker or the first binary block.
    ends = [n for n in (data.find(b"\n..."), data.find(b"\xd3BLK")) if n >= 0]
    stop = min(ends, default=len(data))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes before it)
    total = added = 0
    try:
        for event in yaml.parse(io.BytesIO(data[:stop]), Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                open_nodes.append((event.anchor, total))
                total += 1
                if len(open_nodes) > _MAX_NESTING:
                    raise ValueError(
                        f"its YAML nests more than {_MAX_NESTING} levels deep"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, before = open_nodes.pop()
                if anchor is not None:
                    sizes[anchor] = total - before
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                total += 1
            elif isinstance(event, yaml.AliasEvent):
                nodes = sizes.get(event.anchor, 1)
                total += nodes
                added += nodes - 1
                if added > _MAX_ALIASED_NODES:
                    raise ValueError(
                        "its YAML aliases expand the tree by more than "
                        f"{_MAX_ALIASED_NODES} nodes"
                    )
    except yaml.YAMLError:
        return  # not YAML: asdf says so in its own words


def _load_arrays(node: Any) -> None:
    """Turn lazily read arrays into numpy arrays before the file closes,
    leaving those that point to FITS extensions as they are."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, dict | list):
            _load_arrays(value)
        elif _fits_source(value) is None and hasattr(value, "__array__"):
            node[key] = np.array(value)


def _fits_source(node: Any) -> str | None:
    source = node.get("source") if isinstance(node, dict) else None
    if source is None:
        # asdf's own array type for a file-relative source.
        source = getattr(node, "_source", None)
    if isinstance(source, str) and source.startswith(_FITS_SOURCE):
        return source
    return None


def _relink(node: Any, refs: Mapping[str, ArrayRef]) -> None:
    """Point every ``fits:`` array of ``node`` at the output's extension,
    or drop it when the output has no such extension."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    drop = []
    for key, value in list(items):
        source = _fits_source(value)
        if source is None:
            if isinstance(value, dict | list):
                _relink(value, refs)
            continue
        name, _, ver = source[len(_FITS_SOURCE) :].rpartition(",")
        ref = refs.get(f"{name.upper()},{ver}")
        if ref is None:
            drop.append(key)
        else:
            node[key] = ref.node()
    for key in reversed(drop):
        del node[key]


def fits_hash(headers: Iterable[bytes]) -> str:
    """stdatamodels' ``_fits_hash`` of a FITS file: the SHA-256 of the
    header blocks of every HDU but ``ASDF``, in order, as stored.

    stdatamodels (``fits_support.fits_hash``) hashes ``str(hdu.header)``,
    which astropy gives as the stored 80-character cards, ``END`` and the
    blank fill to 2880 bytes; the stored bytes are hashed here, without
    parsing them.

    Parameters
    ----------
    headers : iterable of bytes
        The header blocks (from each HDU's first card to its data), ASDF's
        left out.

    Examples
    --------
    >>> from astropy.io import fits
    >>> block = fits.PrimaryHDU().header.tostring().encode()
    >>> fits_hash([block])[:16]
    '25b057a996b52aad'
    """
    digest = hashlib.sha256()
    for block in headers:
        digest.update(block)
    return digest.hexdigest()


def ramp_tree(
    header,
    arrays: Iterable[ArrayRef],
    previous: dict | None = None,
    attributes: Mapping[str, str] = RAMP_ARRAYS,
    *,
    records: Mapping[str, str] | None = None,
    filename: str | None = None,
) -> dict:
    """Return the ASDF tree of a ramp file.

    Parameters
    ----------
    header : astropy.io.fits.Header or mapping
        The primary header as written: ``meta`` is made from the keywords
        of :data:`irisdq.datamodels.meta.KEYWORDS`.
    arrays : iterable of ArrayRef
        The image extensions of the file as written.
    previous : dict, optional
        The tree the input had (:func:`read_tree`): kept, with its ``meta``
        updated from ``header``, its arrays pointed at the new file's
        extensions (dropped when gone) and its ``_fits_hash`` removed.
    attributes : mapping, optional
        Tree attribute -> extension name of the arrays the tree points to
        when the file has them: :data:`RAMP_ARRAYS` by default; a Liger
        ramp's are ``{'data': 'DATA', 'dq': 'DQ', 'times': 'TIMES'}``.
    records : mapping, optional
        FITS keyword -> where under ``meta`` its pipeline keeps it, for the
        keywords a profile records elsewhere than
        :data:`irisdq.datamodels.meta.KEYWORDS` says (Liger:
        ``{'S_DQINIT': 'drs_step.dq_init', 'R_DQ': 'ref_file.dq.name'}``).
    filename : str, optional
        ``meta.filename``: the name of the file the tree is written into.

    Returns
    -------
    dict

    Examples
    --------
    >>> old = {"meta": {"cal_step": {"assign_wcs": "COMPLETE"}}, "_fits_hash": "0"}
    >>> tree = ramp_tree({"S_DQINIT": "SKIPPED"}, [], old)
    >>> tree
    {'meta': {'cal_step': {'assign_wcs': 'COMPLETE', 'dq_init': 'SKIPPED'}}}
    >>> ramp_tree({"S_DQINIT": "COMPLETE", "R_DQ": "crds://d.fits"}, [],
    ...           records={"S_DQINIT": "drs_step.dq_init",
    ...                    "R_DQ": "ref_file.dq.name"}, filename="x_dqinit.fits")
    {'meta': {'drs_step': {'dq_init': 'COMPLETE'}, 'ref_file': {'dq': {'name': \
'crds://d.fits'}}, 'filename': 'x_dqinit.fits'}}
    """
    tree = dict(previous) if previous else {}
    tree.pop(FITS_HASH, None)
    refs = {f"{ref.name},{ref.ver}": ref for ref in arrays}
    _relink(tree, refs)
    meta = tree.get("meta")
    if not isinstance(meta, dict):
        meta = tree["meta"] = {}
    values = from_keywords(header).to_dict()
    records = records or {}
    # A keyword the profile records elsewhere goes only there.
    for entry in KEYWORDS:
        if entry.keyword in records:
            values.pop(entry.path, None)
    for keyword, path in records.items():
        if keyword in header:
            values[path] = header[keyword]
    if filename:
        values["filename"] = filename
    for path, value in values.items():
        node = meta
        *groups, leaf = path.split(".")
        for group in groups:
            if not isinstance(node.get(group), dict):
                node[group] = {}
            node = node[group]
        node[leaf] = value
    for attribute, name in attributes.items():
        ref = refs.get(f"{name},1")
        if ref is not None:
            tree[attribute] = ref.node()
    return tree


def asdf_hdu_bytes(tree: dict) -> bytes:
    """Encode ``tree`` as a complete ``ASDF`` BINTABLE HDU.

    Parameters
    ----------
    tree : dict
        An ASDF tree (:func:`ramp_tree`).

    Returns
    -------
    bytes
        Header and data, each filled to 2880 bytes, with ``CHECKSUM`` and
        ``DATASUM``: the layout stdatamodels writes.
    """
    from astropy.io import fits

    buffer = io.BytesIO()
    if not _write_plain(tree, buffer):
        with _core_asdf() as asdf:
            asdf.AsdfFile(_asdf_tagged(tree)).write_to(buffer)
    data = buffer.getvalue()
    data += b"\0" * (-len(data) % BLOCK)
    size = len(buffer.getvalue())
    header = fits.Header(
        [
            ("XTENSION", "BINTABLE", "binary table extension"),
            ("BITPIX", 8, "array data type"),
            ("NAXIS", 2, "number of array dimensions"),
            ("NAXIS1", size, "length of dimension 1"),
            ("NAXIS2", 1, "length of dimension 2"),
            ("PCOUNT", 0, "number of group parameters"),
            ("GCOUNT", 1, "number of groups"),
            ("TFIELDS", 1, "number of table fields"),
            ("TTYPE1", _COLUMN),
            ("TFORM1", f"{size}B"),
            ("EXTNAME", ASDF_EXTENSION, "extension name"),
            ("CHECKSUM", "0" * 16, "HDU checksum"),
        ]
    )
    datasum = word_sum(data)
    header["DATASUM"] = (str(datasum), "data unit checksum")
    header_sum = word_sum(header.tostring().encode("ascii"))
    header["CHECKSUM"] = encode_checksum(~add_sums(header_sum, datasum) & ALL_ONES)
    return header.tostring().encode("ascii") + data


# -- writing a plain tree without asdf ----------------------------------------
#
# Importing asdf, loading its core extensions and validating against the
# standard's schemas cost about a third of a second: as much as the rest of
# an `irisdq dq-init` process on a small ramp. A tree made of plain values
# and irisdq's own ndarray nodes (every new ramp's) is written here with
# PyYAML exactly as asdf writes it, byte for byte (the tests compare the
# two); any other tree (one carried over from the input, with other
# libraries' tags) is written by asdf.

# asdf's schemas put these keys first, in this order (``propertyOrder``).
_PROPERTY_ORDER = {
    "tag:stsci.edu:asdf/core/asdf-1.1.0": ("asdf_library", "history"),
    "tag:stsci.edu:asdf/core/ndarray-1.1.0": (
        "source",
        "data",
        "mask",
        "datatype",
        "byteorder",
        "shape",
        "offset",
        "strides",
    ),
}
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _is_plain(node: Any, depth: int = 0) -> bool:
    """Whether ``node`` holds only plain values and irisdq's ndarray nodes."""
    if depth > _MAX_NESTING:
        return False
    if isinstance(node, _Tagged):
        return node._tag in _PROPERTY_ORDER and _is_plain(dict(node), depth + 1)
    if type(node) is dict:
        return all(
            type(key) is str and _is_plain(value, depth + 1)
            for key, value in node.items()
        )
    if type(node) is list:
        return all(_is_plain(item, depth + 1) for item in node)
    if type(node) is int:
        # The integers asdf writes as literals (it refuses others).
        return -(2**63 - 2) <= node <= 2**63 - 1
    return type(node) in _PLAIN_SCALARS


def _write_plain(tree: dict, stream: io.BytesIO) -> bool:
    """Write a plain tree as asdf would, and return True; False (nothing
    written) for any other tree or an asdf that writes another standard."""
    if _asdf_writes_standard() != (1, 6) or not _is_plain(tree):
        return False
    import yaml

    asdf_version, standard_version = _versions()

    def software(name: str, version: str, **more: str) -> _Tagged:
        return _Tagged(
            {"name": name, "version": version, **more},
            f"{_STANDARD_TAG}core/software-1.0.0",
        )

    extension = _Tagged(
        {
            "extension_class": "asdf.extension._manifest.ManifestExtension",
            "extension_uri": "asdf://asdf-format.org/core/extensions/core-1.6.0",
            "manifest_software": software("asdf_standard", standard_version),
            "software": software("asdf", asdf_version),
        },
        f"{_STANDARD_TAG}core/extension_metadata-1.0.0",
    )
    root = _Tagged(
        {
            **tree,
            "asdf_library": software(
                "asdf",
                asdf_version,
                homepage="http://github.com/asdf-format/asdf",
                author="The ASDF Developers",
            ),
            "history": {"extensions": [extension]},
        },
        f"{_STANDARD_TAG}core/asdf-1.1.0",
    )
    stream.write(b"#ASDF 1.0.0\n#ASDF_STANDARD 1.6.0\n")
    yaml.dump_all(
        [root],
        stream=stream,
        Dumper=_dumper(),
        explicit_start=True,
        explicit_end=True,
        version=(1, 1),
        allow_unicode=True,
        encoding="utf-8",
        tags={"!": _STANDARD_TAG},
    )
    return True


@functools.cache
def _dumper() -> type:
    """asdf's YAML dumper for plain values and tagged mappings: libyaml's
    safe dumper, leaf collections in flow style, keys sorted except those
    a schema orders."""
    import yaml

    base = (
        yaml.CSafeDumper
        if getattr(yaml, "__with_libyaml__", False)
        else yaml.SafeDumper
    )

    class Dumper(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["default_flow_style"] = None
            super().__init__(*args, **kwargs)

    def represent_tagged(dumper: Any, node: _Tagged) -> Any:
        mapping = dumper.represent_mapping(node._tag, dict(node))
        first = _PROPERTY_ORDER.get(node._tag, ())
        rank = {key: index for index, key in enumerate(first)}
        mapping.value.sort(key=lambda item: rank.get(item[0].value, len(first)))
        return mapping

    Dumper.add_representer(_Tagged, represent_tagged)
    return Dumper


def _asdf_tagged(node: Any) -> Any:
    """The tree with irisdq's tagged nodes as asdf's ``TaggedDict``, also
    inside nodes carried over from the input (changed in place there)."""
    if isinstance(node, _Tagged):
        from asdf.tagged import TaggedDict

        return TaggedDict({k: _asdf_tagged(v) for k, v in node.items()}, node._tag)
    if type(node) is dict:
        return {key: _asdf_tagged(value) for key, value in node.items()}
    if type(node) is list:
        return [_asdf_tagged(item) for item in node]
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _asdf_tagged(value)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            node[index] = _asdf_tagged(item)
    return node
