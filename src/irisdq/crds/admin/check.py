"""Check a whole CRDS cache: mappings, checksums, names, config, references.

Hand-maintained caches go wrong in the same few ways: an imap whose header
names another file, a sha1sum never updated after an edit, a server_config
naming a context that is not there, an imap pointing at an rmap that is not
there, a reference file missing. :func:`check_cache` finds each of them and
returns one :class:`Finding` per problem, plus the files nothing uses.

What is checked:

- every mapping in ``mappings/<obs>/`` parses (``parse``), has a sha1sum
  that matches its text (``sha1sum``) and a header ``name`` equal to its
  file name (``name``); its ``observatory``, ``instrument`` and
  ``filekind`` agree with its file name (``header``);
- ``config/<obs>/server_config`` is a Python-literal dict, lists allowed,
  read as the stock client reads it but never executed
  (:func:`~irisdq.crds.cache.read_server_config`), whose
  ``operational_context`` exists (``config``);
- from the context down: every mapping and reference it names is present
  (``missing``), each child agrees with its parent (the pmap's instrument
  key, the imap's reference type key, the observatory: ``header``), and
  each reference passes its FITS checksums and carries the keywords its
  rmap selects on (``reference``).

Files in the cache that no context of the cache names are listed apart, in
``CacheCheck.unused``: they are not problems (an old reference may be kept
on purpose), so they do not count as findings.

FITS files are read through :mod:`irisdq.datamodels`, imported only when a
reference is inspected, so importing this module does not load astropy.
"""

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from irisdq.crds.cache import (
    CacheRoot,
    cache_observatories,
    cache_root,
    locate_reference,
    read_server_config,
    resolve_observatory,
    shipped_mapping_folder,
)
from irisdq.crds.checksum import mapping_checksum
from irisdq.crds.dataset import KEYWORDS
from irisdq.crds.mapping import (
    InstrumentMapping,
    Mapping,
    PipelineMapping,
    ReferenceMapping,
    check_name,
    mapping_from_text,
)
from irisdq.crds.parser import MAX_MAPPING_BYTES
from irisdq.crds.values import condition_value
from irisdq.errors import IrisDQError, MappingError, ReferenceFileError

__all__ = ["CacheCheck", "Finding", "check_cache"]

_DATE_PARAMETERS = ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME")
_MAPPING_SUFFIXES = (".pmap", ".imap", ".rmap")
# <obs>_<serial>.pmap, <obs>_<instr>_<serial>.imap, <obs>_<instr>_<kind>_<serial>.rmap
_NAME_PARTS = {
    ".pmap": re.compile(r"(?P<observatory>[a-z0-9]+)_\d+", re.IGNORECASE),
    ".imap": re.compile(
        r"(?P<observatory>[a-z0-9]+)_(?P<instrument>[a-z0-9]+)_\d+", re.IGNORECASE
    ),
    ".rmap": re.compile(
        r"(?P<observatory>[a-z0-9]+)_(?P<instrument>[a-z0-9]+)_"
        r"(?P<filekind>[a-z0-9_]+)_\d+",
        re.IGNORECASE,
    ),
}


class Finding(NamedTuple):
    """One problem found in a cache (or in a reference file).

    Attributes
    ----------
    kind : str
        A short category, e.g. ``'sha1sum'`` or ``'missing'``.
    message : str
        What is wrong, where, and what to do.
    """

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(slots=True, eq=False)
class CacheCheck:
    """The outcome of :func:`check_cache`.

    Attributes
    ----------
    root : CacheRoot
        The cache checked.
    context : str
        The context (pmap) whose tree was followed.
    source : str
        Why that context: ``'given'``, ``'CRDS_CONTEXT'``, ...
    findings : list of Finding
        The problems; empty for a sound cache.
    unused : list of pathlib.Path
        Mappings and references in the cache that no context of the cache
        names (not counted as problems).
    """

    root: CacheRoot
    context: str
    source: str
    findings: list[Finding] = field(default_factory=list)
    unused: list[Path] = field(default_factory=list)


ReferenceInspector = Callable[[Path], tuple[dict, list[str]]]


def check_cache(
    context: str | None = None,
    *,
    inspect_reference: ReferenceInspector | None = None,
) -> CacheCheck:
    """Check the cache ``$CRDS_PATH`` (default ``~/crds_cache``).

    Parameters
    ----------
    context : str, optional
        The pmap whose mappings and references are followed. By default
        ``CRDS_CONTEXT``, else the server_config's ``operational_context``
        when it exists, else the highest-numbered pmap of the cache, else
        the context shipped with irisdq.
    inspect_reference : callable, optional
        ``f(path) -> (keywords, checksum problems)`` for a reference file;
        by default its primary header and FITS checksums, read through
        :mod:`irisdq.datamodels`.

    Returns
    -------
    CacheCheck

    Raises
    ------
    ReferenceFileError
        If the cache folder does not exist.
    MappingError
        If the context is not a pmap, or is neither in the cache nor
        shipped with irisdq.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["CRDS_PATH"] = tempfile.mkdtemp()
    >>> result = check_cache("tmt_0001.pmap")
    >>> result.context, result.source
    ('tmt_0001.pmap', 'given')
    >>> for finding in result.findings:
    ...     print(finding)
    missing: reference tmt_iris_mask_0001.fits (named by tmt_iris_mask_0001.rmap) ...
    >>> del os.environ["CRDS_PATH"]
    """
    root = cache_root()
    if not root.exists:
        raise ReferenceFileError(
            f"the CRDS cache folder {root.path} does not exist ({root.describe()}); "
            "set CRDS_PATH to the cache to check"
        )
    if context:
        context = check_name(str(context).strip(), "context", "mapping")
    observatory = (
        context.split("_", 1)[0].lower() if context else _default_observatory(root)
    )
    folder = root.path / "mappings" / observatory
    findings: list[Finding] = []
    mappings = _check_mapping_files(folder, findings)
    operational = _check_server_config(root, observatory, mappings, findings)
    name, source = _choose_context(context, operational, mappings, folder)
    check_name(name, source, "mapping")
    if not name.endswith(".pmap"):
        raise MappingError(
            f"context {name!r} ({source}) must be a pipeline mapping such as "
            "tmt_0001.pmap"
        )
    if (folder / name).is_file() and name not in mappings:
        prefix = f"{folder / name}: "
        reason = next(f.message for f in findings if f.message.startswith(prefix))
        raise MappingError(f"context {name} ({source}) cannot be used: {reason}")
    walker = _Walker(root, folder, mappings, findings, inspect_reference)
    pmap = walker.mapping(name, PipelineMapping, None)
    if pmap is None:
        raise MappingError(f"context {name} ({source}) cannot be used: {findings[-1]}")
    walker.walk(pmap, check=True)
    # Every other context of the cache counts as a user of the files it names.
    for other in sorted(mappings):
        if isinstance(mappings[other], PipelineMapping) and other != name:
            walker.walk(mappings[other], check=False)
    result = CacheCheck(root, name, source, findings)
    result.unused = _unused(root, observatory, folder, walker)
    return result


def _default_observatory(root: CacheRoot) -> str:
    """The observatory checked when no context is given: CRDS_CONTEXT's,
    else that of CRDS_OBSERVATORY or of the one observatory whose contexts
    the cache holds; a cache holding several is not guessed at."""
    value = os.environ.get("CRDS_CONTEXT", "").strip()
    if value:
        return check_name(value, "CRDS_CONTEXT", "mapping").split("_", 1)[0].lower()
    observatory = resolve_observatory(None, root)
    present = cache_observatories(root)
    if len(present) > 1 and observatory not in present:
        raise MappingError(
            f"the cache {root.path} holds contexts of {', '.join(present)}; "
            "name the one to check with --context (e.g. "
            f"{present[0]}_0001.pmap) or set CRDS_OBSERVATORY"
        )
    return observatory


def _read_text(path: Path, findings: list[Finding]) -> str | None:
    try:
        if path.stat().st_size > MAX_MAPPING_BYTES:
            findings.append(
                Finding(
                    "parse",
                    f"{path}: larger than {MAX_MAPPING_BYTES} bytes; not a mapping",
                )
            )
            return None
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(Finding("parse", f"{path}: not UTF-8 text ({exc})"))
    except OSError as exc:
        findings.append(Finding("parse", f"{path}: cannot be read ({exc.strerror})"))
    return None


def _check_mapping_files(folder: Path, findings: list[Finding]) -> dict[str, Mapping]:
    """Parse every mapping of the folder and check its own header."""
    mappings: dict[str, Mapping] = {}
    if not folder.is_dir():
        return mappings
    for path in sorted(folder.iterdir()):
        if path.suffix not in _MAPPING_SUFFIXES or not path.is_file():
            continue
        text = _read_text(path, findings)
        if text is None:
            continue
        try:
            mapping = mapping_from_text(text, path.name, path=path, verify=False)
        except IrisDQError as exc:
            message = " ".join(str(exc).split())
            findings.append(Finding("parse", f"{path}: does not parse: {message}"))
            continue
        mappings[path.name] = mapping
        _check_own_header(path, text, mapping, findings)
    return mappings


def _check_own_header(path: Path, text: str, mapping: Mapping, findings) -> None:
    header = mapping.header
    recorded, actual = header.get("sha1sum"), mapping_checksum(text)
    if recorded is None:
        findings.append(
            Finding(
                "sha1sum",
                f"{path}: the header has no sha1sum; add it with "
                f"'irisdq crds checksum {path}'",
            )
        )
    elif recorded != actual:
        findings.append(
            Finding(
                "sha1sum",
                f"{path}: the header says {recorded} but the text sums to {actual}; "
                f"after a deliberate edit run 'irisdq crds checksum {path}'",
            )
        )
    if header.get("name") != path.name:
        findings.append(
            Finding(
                "name",
                f"{path}: the header's name is {header.get('name')!r}, not the file's "
                f"name {path.name!r}; a copy of another mapping? fix 'name'",
            )
        )
    if _KIND_SUFFIX[type(mapping)] != path.suffix:
        findings.append(
            Finding(
                "header",
                f"{path}: its header says mapping {header.get('mapping')!r}, a "
                f"{mapping.kind}, but the file is named as a {path.suffix[1:]}",
            )
        )
        return
    found = _NAME_PARTS[path.suffix].fullmatch(path.stem)
    if found is None:
        return  # a name outside the usual pattern: nothing to compare
    for part, value in found.groupdict().items():
        declared = header.get(part)
        if declared is not None and str(declared).lower() != value.lower():
            findings.append(
                Finding(
                    "header",
                    f"{path}: the header's {part} is {declared!r} but the file "
                    f"name says {value!r}",
                )
            )


_KIND_SUFFIX = {
    PipelineMapping: ".pmap",
    InstrumentMapping: ".imap",
    ReferenceMapping: ".rmap",
}


def _check_server_config(
    root: CacheRoot, observatory: str, mappings: dict[str, Mapping], findings
) -> str | None:
    """Check server_config; return its operational context if that exists."""
    config = root.path / "config" / observatory / "server_config"
    if not config.is_file():
        return None
    try:
        settings = read_server_config(config)
    except MappingError as exc:
        findings.append(Finding("config", str(exc)))
        return None
    if not settings.get("operational_context"):
        findings.append(
            Finding("config", f"{config}: has no 'operational_context'; add one")
        )
        return None
    operational = str(settings["operational_context"])
    shipped = (shipped_mapping_folder() / operational).is_file()
    if operational not in mappings and not shipped:
        findings.append(
            Finding(
                "config",
                f"{config}: operational_context {operational!r} is not in "
                f"{root.path / 'mappings' / observatory}; name an existing pmap",
            )
        )
        return None
    return operational


def _choose_context(context, operational, mappings, folder) -> tuple[str, str]:
    if context:
        return str(context).strip(), "given"
    value = os.environ.get("CRDS_CONTEXT", "").strip()
    if value:
        return value, "CRDS_CONTEXT"
    if operational:
        return operational, "operational_context of server_config"
    numbered = sorted(
        (int(found[1]), name)
        for name in mappings
        if (found := re.fullmatch(r"[a-z0-9]+_(\d+)\.pmap", name, re.IGNORECASE))
    )
    if numbered:
        return numbered[-1][1], f"the highest-numbered pmap in {folder}"
    shipped = sorted(path.name for path in shipped_mapping_folder().glob("*.pmap"))
    return shipped[-1], "shipped with irisdq"


class _Walker:
    """Follows a context's tree, checking each child against its parent."""

    def __init__(self, root, folder, mappings, findings, inspect_reference):
        self.root = root
        self.folder = folder
        self.mappings = mappings
        self.findings = findings
        self.inspect = inspect_reference or _inspect_reference
        self.used: set[str] = set()
        self.references: set[Path] = set()

    def mapping(self, name: str, cls: type, parent: Mapping | None) -> Mapping | None:
        self.used.add(name)
        mapping = self.mappings.get(name)
        if mapping is None:
            mapping = self._shipped(name)
        if mapping is None:
            named = f" (named by {parent.name})" if parent is not None else ""
            self.findings.append(
                Finding(
                    "missing",
                    f"mapping {name}{named} is not in {self.folder} and not "
                    "shipped with irisdq; copy it there or fix the parent",
                )
            )
            return None
        if not isinstance(mapping, cls):
            self.findings.append(
                Finding(
                    "header",
                    f"{name} is used as a {_KIND_SUFFIX[cls][1:]} by "
                    f"{parent.name if parent else 'the context'} but is a "
                    f"{mapping.kind}",
                )
            )
            return None
        return mapping

    def _shipped(self, name: str) -> Mapping | None:
        path = shipped_mapping_folder() / name
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
        mapping = mapping_from_text(text, name, path=path, shipped=True)
        self.mappings[name] = mapping
        return mapping

    def _agree(self, child: Mapping, parent: Mapping, field_name, expected) -> None:
        declared = child.header.get(field_name)
        if declared is None:
            return
        if condition_value(declared) != condition_value(expected):
            self.findings.append(
                Finding(
                    "header",
                    f"{child.name}: the header's {field_name} is {declared!r} but "
                    f"{parent.name} uses it for {expected!r}",
                )
            )

    def walk(self, pmap: PipelineMapping, check: bool) -> None:
        self.used.add(pmap.name)
        findings = self.findings
        if not check:
            # Only collect what it uses; its problems are not this check's.
            self.findings = []
        try:
            self._walk(pmap, check)
        finally:
            self.findings = findings

    def _walk(self, pmap: PipelineMapping, check: bool) -> None:
        for instrument, imap_name in pmap.table.items():
            if imap_name == "N/A":
                continue
            imap = self.mapping(imap_name, InstrumentMapping, pmap)
            if imap is None:
                continue
            self._agree(imap, pmap, "instrument", instrument)
            self._agree(imap, pmap, "observatory", pmap.observatory)
            for reftype, rmap_name in imap.table.items():
                if rmap_name == "N/A":
                    continue
                rmap = self.mapping(rmap_name, ReferenceMapping, imap)
                if rmap is None:
                    continue
                self._agree(rmap, imap, "filekind", reftype)
                self._agree(rmap, imap, "instrument", imap.instrument or instrument)
                self._agree(rmap, imap, "observatory", pmap.observatory)
                for filename in rmap.files:
                    self._reference(filename, instrument, rmap, pmap, check)

    def _reference(self, filename, instrument, rmap, pmap, check) -> None:
        try:
            path, present = locate_reference(
                filename, instrument, self.root, pmap.observatory
            )
        except IrisDQError as exc:
            self.findings.append(Finding("reference", " ".join(str(exc).split())))
            return
        if not present:
            self.findings.append(
                Finding(
                    "missing",
                    f"reference {filename} (named by {rmap.name}) is not in the "
                    f"cache: expected at {path}",
                )
            )
            return
        self.references.add(path)
        if not check:
            return
        try:
            keywords, problems = self.inspect(path)
        except (IrisDQError, OSError) as exc:
            self.findings.append(
                Finding(
                    "reference",
                    f"{path}: cannot be read ({' '.join(str(exc).split())})",
                )
            )
            return
        for problem in problems:
            self.findings.append(Finding("reference", problem))
        for parameter in rmap.parameters:
            if parameter in _DATE_PARAMETERS:
                keyword = "USEAFTER"  # a reference gives its date as USEAFTER
            else:
                keyword = KEYWORDS.get(parameter)
            if keyword is not None and keywords.get(keyword) in (None, ""):
                self.findings.append(
                    Finding(
                        "reference",
                        f"{path}: has no {keyword}, which {rmap.name} selects on "
                        f"({parameter}); set it in the primary header",
                    )
                )
        # The delivery's rules (and the profiles) load only when a
        # reference is inspected.
        from irisdq.crds.admin.rules import rule_mismatch

        mismatch = rule_mismatch(rmap, filename, keywords)
        if mismatch:
            self.findings.append(
                Finding(
                    "reference",
                    f"{path}: {mismatch}; a file put in place of another? deliver "
                    "it under a name of its own with irisdq crds add",
                )
            )


def _inspect_reference(path: Path) -> tuple[dict, list[str]]:
    """A reference file's primary keywords and its FITS checksum problems."""
    from irisdq.datamodels import DataModelWarning, read_hdu_layout, read_keywords
    from irisdq.datamodels.hdu_io import verify_hdu

    keywords = read_keywords(path)
    problems: list[str] = []
    with open(path, "rb") as stream:
        for hdu in read_hdu_layout(stream):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataModelWarning)
                verify_hdu(stream, hdu, source=str(path))
            problems.extend(
                str(item.message)
                for item in caught
                if issubclass(item.category, DataModelWarning)
            )
    return keywords, problems


def _unused(root: CacheRoot, observatory: str, folder: Path, walker) -> list[Path]:
    unused = []
    if folder.is_dir():
        unused.extend(
            path
            for path in sorted(folder.iterdir())
            if path.suffix in _MAPPING_SUFFIXES and path.name not in walker.used
        )
    references = root.path / "references" / observatory
    if references.is_dir():
        used = {os.path.realpath(path) for path in walker.references}
        unused.extend(
            path
            for path in sorted(references.rglob("*"))
            if path.is_file() and os.path.realpath(path) not in used
        )
    return unused
