"""The local CRDS cache: where it is, which context to use, where files are.

Layout (``<obs>`` is ``tmt``)::

    $CRDS_PATH/mappings/<obs>/*.pmap, *.imap, *.rmap
    $CRDS_PATH/references/<obs>/<instrument>/<file>   (TMT's layout)
    $CRDS_PATH/references/<obs>/<file>                (flat layout)
    $CRDS_PATH/config/<obs>/server_config             ('operational_context')

Mappings are looked up in the cache first, then among the mappings shipped
with irisdq, so a fresh machine works with no cache at all.

A mapping or reference file in the cache whose real path (symbolic links
resolved) lies outside the cache is refused: a link must not turn
``crds://<file>`` into a file from anywhere. A cache that deliberately links
to a shared read-only store names that store's folders in
``IRISDQ_CRDS_LINK_ROOTS`` (separated by ``:``, as in ``PATH``).
"""

import ast
import functools
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irisdq.crds.mapping import check_name
from irisdq.crds.parser import MAX_NESTING, signed_number
from irisdq.errors import MappingError, ReferenceFileError

__all__ = [
    "LINK_ROOTS_VARIABLE",
    "OBSERVATORY_VARIABLE",
    "CacheRoot",
    "cache_observatories",
    "cache_root",
    "check_real_path",
    "default_context",
    "find_mapping",
    "locate_reference",
    "read_server_config",
    "resolve_observatory",
    "shipped_mapping_folder",
]

OBSERVATORY = "tmt"
DEFAULT_ROOT = "~/crds_cache"

#: Folders outside the cache that its links may point into (``:``-separated).
LINK_ROOTS_VARIABLE = "IRISDQ_CRDS_LINK_ROOTS"


@dataclass(slots=True, eq=False)
class CacheRoot:
    """The cache folder and what chose it.

    Attributes
    ----------
    path : pathlib.Path
        The absolute cache folder.
    source : str
        ``'CRDS_PATH'`` or ``'default'``.
    """

    path: Path
    source: str

    @property
    def exists(self) -> bool:
        """True if the folder exists."""
        return self.path.is_dir()

    def describe(self) -> str:
        """Say where the folder comes from, for messages."""
        if self.source == "CRDS_PATH":
            return f"set by CRDS_PATH={os.environ.get('CRDS_PATH', '')}"
        return f"the default {DEFAULT_ROOT}, as CRDS_PATH is not set"

    def __repr__(self) -> str:
        return f"CacheRoot({str(self.path)!r}, source={self.source!r})"


def cache_root() -> CacheRoot:
    """Return the cache folder: ``CRDS_PATH``, else ``~/crds_cache``.

    The folder need not exist: the shipped context still selects files,
    and the paths it gives show where the files are expected.

    Examples
    --------
    >>> import os
    >>> root = cache_root()
    >>> root.source in ("CRDS_PATH", "default"), root.path.is_absolute()
    (True, True)
    """
    value = os.environ.get("CRDS_PATH", "").strip()
    if value:
        return CacheRoot(Path(os.path.abspath(os.path.expanduser(value))), "CRDS_PATH")
    return CacheRoot(Path(os.path.expanduser(DEFAULT_ROOT)).absolute(), "default")


@functools.lru_cache(maxsize=16)
def _real_folder(path: str) -> str:
    # Resolved once per folder: every selection checks its file against it.
    return os.path.join(os.path.realpath(path), "")


def _link_roots() -> list[str]:
    value = os.environ.get(LINK_ROOTS_VARIABLE, "")
    return [
        os.path.join(os.path.realpath(os.path.expanduser(folder)), "")
        for folder in value.split(os.pathsep)
        if folder.strip()
    ]


def check_real_path(path: Path, root: CacheRoot, what: str, error: type) -> None:
    """Raise `error` if `path`, links resolved, leaves the cache.

    A real path inside the cache folder (itself resolved) or inside a folder
    named by ``IRISDQ_CRDS_LINK_ROOTS`` is accepted.

    Parameters
    ----------
    path : pathlib.Path
        A file found in the cache.
    root : CacheRoot
        The cache.
    what : str
        What the file is, for the message (``'reference'``, ``'mapping'``).
    error : type
        The exception class to raise.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "cache").mkdir()
    >>> (folder / "elsewhere.fits").write_bytes(b"")
    0
    >>> (folder / "cache" / "mask.fits").symlink_to(folder / "elsewhere.fits")
    >>> root = CacheRoot(folder / "cache", "CRDS_PATH")
    >>> check_real_path(folder / "cache" / "mask.fits", root, "reference", OSError)
    Traceback (most recent call last):
    ...
    OSError: reference .../cache/mask.fits is a link to .../elsewhere.fits, outside ...
    """
    real = os.path.realpath(path)
    if real.startswith(_real_folder(str(root.path))) or any(
        real.startswith(folder) for folder in _link_roots()
    ):
        return
    raise error(
        f"{what} {path} is a link to {real}, outside the CRDS cache {root.path}; "
        f"refused so that crds:// names only cached files: replace the link by "
        f"the file, or name the folder it points into in {LINK_ROOTS_VARIABLE}"
    )


def shipped_mapping_folder() -> Path:
    """Return the folder of the mappings shipped with irisdq.

    Examples
    --------
    >>> (shipped_mapping_folder() / "tmt_0001.pmap").is_file()
    True
    """
    return Path(__file__).parent / "mappings"


def observatory_of(name: str) -> str:
    """Return the observatory a mapping or reference name starts with.

    Examples
    --------
    >>> observatory_of("tmt_iris_mask_0001.fits")
    'tmt'
    """
    return name.split("_", 1)[0].lower()


def find_mapping(name: str, root: CacheRoot) -> tuple[Path, bool]:
    """Return the path of mapping `name` and whether it is a shipped one.

    Raises
    ------
    MappingError
        If the name is unsafe, the mapping is neither in the cache nor
        shipped with irisdq, or the cache's file is a link to a file outside
        the cache (see :func:`check_real_path`).

    Examples
    --------
    >>> path, shipped = find_mapping("tmt_0001.pmap", cache_root())
    >>> path.name
    'tmt_0001.pmap'
    """
    check_name(name, "context", "mapping")
    folder = root.path / "mappings" / observatory_of(name)
    candidate = folder / name
    if candidate.is_file():
        check_real_path(candidate, root, "mapping", MappingError)
        return candidate, False
    shipped = shipped_mapping_folder() / name
    if shipped.is_file():
        return shipped, True
    where = (
        f"{folder}"
        if root.exists
        else f"{folder} (the cache {root.path} does not exist)"
    )
    raise MappingError(
        f"mapping {name} not found: looked in {where} and among the mappings "
        f"shipped with irisdq ({', '.join(shipped_mapping_names())}); "
        f"copy it into {folder}"
    )


def shipped_mapping_names() -> list[str]:
    """Return the names of the mappings shipped with irisdq.

    Examples
    --------
    >>> shipped_mapping_names()
    ['tmt_0001.pmap', 'tmt_iris_0003.imap', 'tmt_iris_mask_0001.rmap']
    """
    return sorted(path.name for path in shipped_mapping_folder().glob("*.?map"))


#: Environment variable that forces the observatory whose context is used.
OBSERVATORY_VARIABLE = "CRDS_OBSERVATORY"


def resolve_observatory(
    wanted: str | None = None, root: CacheRoot | None = None
) -> str:
    """The observatory whose cache folders and context are used.

    ``CRDS_OBSERVATORY`` when set (the text ``None``, which importing the
    stock crds package puts there, counts as unset), else `wanted` (a
    dataset's profile), else the one observatory whose pmaps the cache
    `root` holds, else ``tmt``.

    Examples
    --------
    >>> import os
    >>> os.environ.pop("CRDS_OBSERVATORY", None) and None
    >>> resolve_observatory(), resolve_observatory("JWST")
    ('tmt', 'jwst')
    """
    forced = os.environ.get(OBSERVATORY_VARIABLE, "").strip()
    # Importing the stock crds package sets it to the text 'None'.
    if forced.lower() == "none":
        forced = ""
    if forced and not _OBSERVATORY_NAME.fullmatch(forced):
        # It names a folder of the cache: a path or '..' would leave it.
        shown = forced if len(forced) <= 40 else f"{forced[:40]}..."
        raise MappingError(
            f"{OBSERVATORY_VARIABLE}={shown!r} is not an observatory name "
            "(letters, digits and '_', at most 40); set it to one, such as "
            "tmt, jwst or ligeriri, or unset it"
        )
    name = forced or wanted or (_only_observatory(root) if root else None)
    return check_name((name or OBSERVATORY).lower(), "observatory")


def _only_observatory(root: CacheRoot) -> str | None:
    """The observatory of a cache that holds pmaps of one only."""
    found = cache_observatories(root)
    return found[0] if len(found) == 1 else None


def cache_observatories(root: CacheRoot) -> list[str]:
    """The observatories whose contexts (pmaps) the cache holds, sorted.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "mappings" / "jwst").mkdir(parents=True)
    >>> _ = (folder / "mappings" / "jwst" / "jwst_1322.pmap").write_text("")
    >>> cache_observatories(CacheRoot(folder, "CRDS_PATH"))
    ['jwst']
    """
    folder = root.path / "mappings"
    try:
        return sorted(
            entry.name
            for entry in os.scandir(folder)
            if entry.is_dir() and any(Path(entry.path).glob(f"{entry.name}_*.pmap"))
        )
    except OSError:
        return []


_OBSERVATORY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def _numbered_pmaps(names, observatory: str) -> list[tuple[int, str]]:
    pattern = re.compile(rf"{re.escape(observatory)}_(\d+)\.pmap")
    return [
        (int(found[1]), name) for name in names if (found := pattern.fullmatch(name))
    ]


def default_context(root: CacheRoot, observatory: str | None = None) -> tuple[str, str]:
    """Return the context to use when none is given, and why.

    In order: ``CRDS_CONTEXT``; the ``operational_context`` of
    ``config/<observatory>/server_config`` when that pmap is in the cache;
    the highest-numbered ``<observatory>_*.pmap`` in the cache; for
    ``tmt``, the context shipped with irisdq. The observatory is
    :func:`resolve_observatory` of `observatory` and the cache.

    Returns
    -------
    (str, str)
        The pmap name and a phrase telling where it came from.

    Raises
    ------
    MappingError
        If ``CRDS_CONTEXT`` names another observatory's context, or the
        cache holds no context of the observatory (and none is shipped).

    Examples
    --------
    >>> name, source = default_context(cache_root())
    >>> name.endswith(".pmap")
    True
    """
    observatory = resolve_observatory(observatory, root)
    value = os.environ.get("CRDS_CONTEXT", "").strip()
    if value:
        if observatory_of(value) != observatory:
            raise MappingError(
                f"CRDS_CONTEXT={value} is a context of observatory "
                f"{observatory_of(value)}, but a {observatory} context is needed; "
                f"set CRDS_CONTEXT to a {observatory}_*.pmap or unset it"
            )
        return value, "CRDS_CONTEXT"
    folder = root.path / "mappings" / observatory
    config = root.path / "config" / observatory / "server_config"
    # An operational context the cache lacks (hand-kept caches have them)
    # is passed over for the newest one present, and the reason says so.
    passed_over = ""
    if config.is_file():
        operational = _operational_context(config)
        if operational and (
            (folder / operational).is_file()
            or (shipped_mapping_folder() / operational).is_file()
        ):
            return operational, f"operational_context of {config}"
        if operational:
            passed_over = f"; {config} names {operational}, which is not there"
    if folder.is_dir():
        numbered = _numbered_pmaps(
            (entry.name for entry in os.scandir(folder)), observatory
        )
        if numbered:
            return (
                max(numbered)[1],
                f"the highest-numbered pmap in {folder}{passed_over}",
            )
    shipped = _numbered_pmaps(shipped_mapping_names(), observatory)
    if shipped:
        return max(shipped)[1], f"shipped with irisdq{passed_over}"
    raise MappingError(
        f"no {observatory} context: {folder} holds no {observatory}_*.pmap"
        f"{'' if root.exists else f' (the cache {root.path} does not exist)'}; "
        f"copy the observatory's mappings there, or set CRDS_PATH to its cache"
    )


_MAX_SERVER_CONFIG = 2**20


def read_server_config(config: Path) -> dict:
    """The settings of a CRDS ``server_config`` file.

    The stock CRDS client writes the file as ``pprint.pformat`` of a dict
    holding lists (``bad_files_list``, ``mappings``, ``context_history``)
    and reads it back with :func:`ast.literal_eval`. Here it is parsed the
    same way and never executed: strings, numbers, True/False/None, lists,
    tuples and dicts only, nested at most :data:`~irisdq.crds.parser.MAX_NESTING`
    deep. JSON, which CRDS servers also serve, is read too.

    Raises
    ------
    MappingError
        If the file is not a regular file of at most 1 MiB, or its text is
        neither, or does not hold a dict.

    Examples
    --------
    >>> import pprint, tempfile
    >>> config = Path(tempfile.mkdtemp()) / "server_config"
    >>> _ = config.write_text(pprint.pformat(
    ...     {"operational_context": "jwst_1322.pmap", "mappings": ["jwst_1322.pmap"]}))
    >>> read_server_config(config)["operational_context"]
    'jwst_1322.pmap'
    """
    import stat

    # Non-blocking: a FIFO put there would wait for a writer forever.
    descriptor = os.open(config, os.O_RDONLY | os.O_NONBLOCK)
    with open(descriptor, "rb", closefd=True) as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise MappingError(f"{config}: not a regular file; replace or remove it")
        # A synced server_config is a few hundred KiB: more is not one.
        data = stream.read(_MAX_SERVER_CONFIG + 1)
    if len(data) > _MAX_SERVER_CONFIG:
        raise MappingError(
            f"{config}: larger than {_MAX_SERVER_CONFIG // 2**20} MiB, not a "
            "server_config; fix or remove it"
        )
    text = data.decode("utf-8", errors="replace")
    try:
        settings = _config_literal(text)
    except ValueError:
        try:
            settings = json.loads(text)
        except (ValueError, RecursionError):
            raise MappingError(
                f"{config}: not a Python-literal or JSON dict; fix or remove it"
            ) from None
    if not isinstance(settings, dict):
        raise MappingError(f"{config}: must hold a dict with 'operational_context'")
    return settings


def _config_literal(text: str) -> Any:
    """The literal `text` holds, as ``ast.literal_eval`` reads a server_config.

    Raises ValueError for anything else, for nesting deeper than
    MAX_NESTING, and for what the parser itself refuses (too many brackets,
    an integer of more than 4300 digits).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an invalid escape is the file's
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(str(exc)) from None
    return _config_value(tree.body, 0)


def _config_value(node: ast.AST, depth: int) -> Any:
    if depth > MAX_NESTING:
        raise ValueError(f"nested more than {MAX_NESTING} deep")
    if isinstance(node, ast.Constant) and (
        node.value is None or type(node.value) in (str, int, float, bool)
    ):
        return node.value
    number = signed_number(node)
    if number is not None:
        return number
    if isinstance(node, ast.List | ast.Tuple):
        items = [_config_value(item, depth + 1) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        result = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise ValueError("'**' in a dict")
            key = _config_value(key_node, depth + 1)
            try:
                hash(key)
            except TypeError:
                raise ValueError("a list or dict in a key") from None
            result[key] = _config_value(value_node, depth + 1)
        return result
    raise ValueError(f"a {type(node).__name__} is not a literal")


def _operational_context(config: Path) -> str | None:
    context = read_server_config(config).get("operational_context")
    return str(context) if context else None


def locate_reference(
    filename: str, instrument: str, root: CacheRoot, observatory: str = OBSERVATORY
) -> tuple[Path, bool]:
    """Return where a reference file is, or is expected, and if it exists.

    Looks in ``references/<obs>/<instrument>/`` then ``references/<obs>/``;
    a missing file is expected in the first (TMT's layout). ``<obs>`` is the
    context's observatory, not guessed from the file name, which need not
    start with it.

    Raises
    ------
    MappingError
        If the name is unsafe or would resolve outside the cache.
    ReferenceFileError
        If the file found is a link to a file outside the cache (see
        :func:`check_real_path`).

    Examples
    --------
    >>> name = "tmt_iris_mask_0001.fits"
    >>> path, present = locate_reference(name, "IRIS", cache_root())
    >>> path.parts[-4:]
    ('references', 'tmt', 'iris', 'tmt_iris_mask_0001.fits')
    """
    check_name(filename, "reference", "reference file")
    base = root.path / "references" / check_name(observatory.lower(), "observatory")
    candidates = []
    if instrument and instrument not in ("N/A", "UNDEFINED"):
        candidates.append(
            base / check_name(instrument.lower(), "instrument") / filename
        )
    candidates.append(base / filename)
    inside = os.path.join(os.path.abspath(root.path), "")
    for candidate in candidates:
        # Names are already checked; this guards the joined path itself.
        if not os.path.abspath(candidate).startswith(inside):
            raise MappingError(
                f"reference path {candidate} lies outside the cache {root.path}"
            )
    for candidate in candidates:
        if candidate.is_file():
            check_real_path(candidate, root, "reference", ReferenceFileError)
            return candidate, True
    return candidates[0], False
