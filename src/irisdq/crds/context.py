"""A loaded CRDS context: pmap -> imaps -> rmaps, and selection through it.

:func:`get_context` resolves and loads a context once per cache folder and
context name; its instrument and reference mappings are loaded the first
time they are needed and kept, so later lookups only compare values.

The module is one piece just past 600 lines: :class:`Context` is the
loaded tree and the lookups through it (:meth:`Context.select` is the
selection hot path, reading the loaded mappings' fields directly), and
:func:`get_context` below is the one place that builds and keeps it.
"""

import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irisdq.crds.cache import (
    CacheRoot,
    cache_root,
    check_real_path,
    default_context,
    find_mapping,
    locate_reference,
)
from irisdq.crds.dataset import parameter_lookup
from irisdq.crds.mapping import (
    InstrumentMapping,
    Mapping,
    PipelineMapping,
    ReferenceMapping,
    forget_loaded,
    load_mapping,
)
from irisdq.crds.selectors import SelectionFailed
from irisdq.crds.values import ABSENT, UNDEFINED, condition_value
from irisdq.errors import MappingError, NoMatchError, ReferenceFileError

__all__ = ["Context", "ContextItem", "Selection", "clear_cache", "get_context"]

_INSTRUMENT = "META.INSTRUMENT.NAME"
# The most choices a context remembers (see Context.select).
_CHOICES_MAX = 4096
_MISSING = object()


@dataclass(slots=True, eq=False)
class Selection:
    """The outcome of a best-reference selection, present on disk or not.

    Attributes
    ----------
    context : str
        The context (pmap) used, e.g. ``'tmt_0001.pmap'``.
    reftype : str
        The reference type, upper case (``'MASK'``).
    instrument : str
        The dataset's instrument, conditioned (``'IRIS'``).
    imap, rmap : str or None
        The instrument and reference mappings used (None when the type does
        not apply before reaching them).
    filename : str, tuple of str or dict
        The chosen file name, or ``'N/A'`` when the type does not apply; a
        rule may choose a pair (Bracket) or a table of names.
    path : pathlib.Path, tuple of Path, dict of Path, or None
        Where the file is, or is expected, in the cache; None for ``N/A``.
    exists : bool
        True if every chosen file is in the cache (False for ``N/A``).
    values : dict
        The conditioned dataset values the rmap compared.
    """

    context: str
    reftype: str
    instrument: str
    imap: str | None
    rmap: str | None
    filename: Any
    path: Any
    exists: bool
    values: dict[str, str] = field(default_factory=dict)
    _rmap_object: "ReferenceMapping | None" = None
    _owner: "Context | None" = None

    @property
    def not_applicable(self) -> bool:
        """True when the reference type does not apply to the dataset."""
        return self.filename == "N/A"

    @property
    def uri(self) -> str:
        """``crds://<filename>``, as recorded in headers (``R_MASK``)."""
        if isinstance(self.filename, tuple | dict):
            names = (
                self.filename.values()
                if isinstance(self.filename, dict)
                else self.filename
            )
            return " ".join(f"crds://{name}" for name in names)
        return "N/A" if self.not_applicable else f"crds://{self.filename}"

    def explain(self) -> str:
        """Return the reasons for this selection, one step a line."""
        lines = []
        if self._owner is not None:
            lines.append(self._owner._context_line())
        if self.imap is None:
            lines.append(f"instrument {self.instrument} -> N/A in {self.context}")
        else:
            lines.append(f"instrument {self.instrument} -> {self.imap}")
            target = self.rmap or f"N/A in {self.imap}"
            lines.append(f"reftype    {self.reftype} -> {target}")
        if self._rmap_object is not None:
            for number, (name, value) in enumerate(self.values.items()):
                label = "dataset" if number == 0 else ""
                lines.append(f"{label:<11}{name} = {value!r}")
            trace: list[str] = []
            with contextlib.suppress(SelectionFailed):
                self._rmap_object.selector.choose(self.values, trace)
            lines.extend(trace)
        lines.append(f"result     {self.filename}")
        if not self.not_applicable:
            paths = _paths(self.path)
            for path in paths:
                state = "present" if path.is_file() else "missing"
                lines.append(f"path       {path} ({state})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Selection(context={self.context!r}, reftype={self.reftype!r}, "
            f"filename={self.filename!r}, exists={self.exists})"
        )


@dataclass(slots=True, eq=False)
class ContextItem:
    """One line of a context's inventory (see :meth:`Context.inventory`).

    Attributes
    ----------
    kind : str
        ``'pmap'``, ``'imap'``, ``'rmap'`` or ``'reference'``.
    name : str
        The file name.
    status : str
        ``'cache'`` or ``'shipped'`` for mappings, ``'present'`` or
        ``'missing'`` for references, ``'error'`` for an unloadable mapping,
        ``'refused'`` for a reference linked from outside the cache,
        ``'n/a'`` for a type that does not apply.
    path : pathlib.Path or None
        Where it is or is expected.
    label : str
        The instrument or reference type it serves.
    detail : str
        The error message for status ``'error'`` or ``'refused'``.
    """

    kind: str
    name: str
    status: str
    path: Path | None = None
    label: str = ""
    detail: str = ""

    def __repr__(self) -> str:
        return f"ContextItem({self.kind!r}, {self.name!r}, {self.status!r})"


class Context:
    """A CRDS context ready for lookups.

    Build one with :func:`get_context`. Attributes: ``name`` (the pmap),
    ``source`` (how it was chosen), ``root`` (the :class:`CacheRoot`) and
    ``pmap`` (the loaded :class:`PipelineMapping`).

    Examples
    --------
    >>> ctx = get_context("tmt_0001.pmap")
    >>> header = {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": "FULL",
    ...           "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00"}
    >>> ctx.select(header, "mask").filename
    'tmt_iris_mask_0001.fits'
    >>> ctx.bestref(header, "dflat")
    'N/A'
    >>> [(item.kind, item.name) for item in ctx.inventory()][:2]
    [('pmap', 'tmt_0001.pmap'), ('imap', 'tmt_iris_0003.imap')]
    """

    def __init__(self, pmap: PipelineMapping, root: CacheRoot, source: str):
        self.pmap = pmap
        self.name = pmap.name
        self.root = root
        self.source = source
        self._mappings: dict[str, Mapping] = {}
        self._candidates: dict[tuple[str, str], list[tuple[str, Path]]] = {}
        self._inside_cache: set[tuple[str, int, int, str]] = set()
        self._choices: dict[tuple, Any] = {}

    def __repr__(self) -> str:
        return f"Context({self.name!r}, root={str(self.root.path)!r})"

    def instruments(self) -> list[str]:
        """Return the instruments of the context, upper case."""
        return [name.upper() for name in self.pmap.instruments()]

    def reftypes(self, instrument: str) -> list[str]:
        """Return the reference types of `instrument`, lower case."""
        imap = self._instrument_mapping(condition_value(instrument))
        return [] if imap is None else imap.reftypes()

    def _load(self, name: str) -> Mapping:
        mapping = self._mappings.get(name)
        if mapping is None:
            path, shipped = find_mapping(name, self.root)
            mapping = load_mapping(path, shipped=shipped)
            self._mappings[name] = mapping
        return mapping

    def _instrument_mapping(self, instrument: str) -> InstrumentMapping | None:
        name = self.pmap.table.get(instrument)
        if name is None:
            shown = (
                "UNDEFINED (no INSTRUME keyword)"
                if instrument == UNDEFINED
                else instrument
            )
            raise NoMatchError(
                f"instrument {shown} is not in context {self.name}; known instruments: "
                f"{', '.join(self.instruments())}"
            )
        if name == "N/A":
            return None
        mapping = self._load(name)
        if not isinstance(mapping, InstrumentMapping):
            raise MappingError(f"{self.name}: {name} is not an instrument mapping")
        return mapping

    def select(self, dataset: Any, reftype: str) -> Selection:
        """Choose the reference file of `reftype` for `dataset`.

        The file need not be in the cache: see ``Selection.exists`` and
        ``Selection.path``.

        Parameters
        ----------
        dataset : path, Mapping or data model
            See :func:`irisdq.crds.dataset_parameters`.
        reftype : str
            The reference type, any case (``'mask'``).

        Returns
        -------
        Selection

        Raises
        ------
        NoMatchError
            Unknown instrument or reference type, or no rule matches.
        MappingError
            A mapping is missing, malformed, unsafe or ambiguous.
        """
        parameters = parameter_lookup(dataset)
        wanted = str(reftype).strip().upper()
        instrument = condition_value(parameters.get(_INSTRUMENT, UNDEFINED))
        imap = self._instrument_mapping(instrument)
        if imap is None:
            return self._not_applicable(wanted, instrument, None, None)
        rmap_name = imap.table.get(wanted)
        if rmap_name is None:
            raise NoMatchError(
                f"reference type {reftype!r} is not in {imap.name} (context "
                f"{self.name}); known types: {', '.join(imap.reftypes())}"
            )
        if rmap_name == "N/A":
            return self._not_applicable(wanted, instrument, imap.name, None)
        rmap = self._load(rmap_name)
        if not isinstance(rmap, ReferenceMapping):
            raise MappingError(f"{imap.name}: {rmap_name} is not a reference mapping")
        # A choice depends only on the rmap and the values: a batch's
        # exposures share them, so each combination is chosen once.
        get = parameters.get
        values = {}
        remembered: list[Any] = [rmap]
        for name in rmap.parameters:
            value = get(name, _MISSING)
            if value is _MISSING:
                values[name] = ABSENT
                remembered.append(None)
            else:
                remembered.append(condition_value(value))
                values[name] = remembered[-1]
        key = tuple(remembered)
        try:
            choice = self._choices[key]
        except KeyError:
            choice = None
        try:
            if choice is None:
                choice = rmap.selector.choose(values)
                if len(self._choices) >= _CHOICES_MAX:
                    self._choices.clear()
                self._choices[key] = choice
        except SelectionFailed as exc:
            shown = ", ".join(f"{name}={value!r}" for name, value in values.items())
            raise NoMatchError(
                f"no {wanted} reference for this dataset in {rmap_name} (context "
                f"{self.name}); dataset: {shown}; {exc}"
            ) from None
        if choice == "N/A":
            path, exists = None, False
        elif isinstance(choice, tuple):
            choice = tuple(_flatten(choice))
            located = [self._locate(name, instrument) for name in choice]
            path = tuple(found for found, _ in located)
            exists = all(present for _, present in located)
        elif isinstance(choice, dict):
            choice = dict(choice)
            table = {
                key: self._locate(name, instrument) for key, name in choice.items()
            }
            path = {key: found for key, (found, _) in table.items()}
            exists = all(present for _, present in table.values())
        else:
            path, exists = self._locate(choice, instrument)
        selection = Selection(
            self.name, wanted, instrument, imap.name, rmap_name, choice, path, exists
        )
        selection.values = values
        selection._rmap_object = rmap
        selection._owner = self
        return selection

    def _locate(self, filename: str, instrument: str) -> tuple[Path, bool]:
        # The candidate paths are checked and built once; each lookup only
        # asks the file system whether the file is there now.
        key = (filename, instrument)
        candidates = self._candidates.get(key)
        if candidates is None:
            observatory = self.pmap.observatory
            expected, _ = locate_reference(filename, instrument, self.root, observatory)
            flat = self.root.path / "references" / observatory / filename
            paths = [expected] if flat == expected else [expected, flat]
            candidates = [(str(path), path) for path in paths]
            self._candidates[key] = candidates
        for text, path in candidates:
            try:
                status = os.stat(text)
            except OSError:
                continue
            if not stat.S_ISREG(status.st_mode):
                continue
            # Resolving the real path costs a system call per folder of the
            # path: done once per file (by identity), not on every lookup.
            identity = (
                text,
                status.st_dev,
                status.st_ino,
                os.environ.get("IRISDQ_CRDS_LINK_ROOTS", ""),
            )
            if identity not in self._inside_cache:
                check_real_path(path, self.root, "reference", ReferenceFileError)
                self._inside_cache.add(identity)
            return path, True
        return candidates[0][1], False

    def _not_applicable(self, reftype, instrument, imap, rmap) -> Selection:
        selection = Selection(
            self.name, reftype, instrument, imap, rmap, "N/A", None, False
        )
        selection._owner = self
        return selection

    def _context_line(self) -> str:
        return f"context    {self.name} ({self.source}); cache {self.root.path}"

    def bestref(
        self, dataset: Any, reftype: str
    ) -> str | tuple[str, ...] | dict[str, str]:
        """Return the path of the best reference file, or ``'N/A'``.

        Like :meth:`select`, and also raises
        :class:`~irisdq.errors.ReferenceFileError` when the chosen file is
        not in the cache.
        """
        selection = self.select(dataset, reftype)
        if selection.not_applicable:
            return "N/A"
        if not selection.exists:
            raise _missing_reference_error(selection, self.root)
        if isinstance(selection.path, tuple):
            return tuple(str(path) for path in selection.path)
        if isinstance(selection.path, dict):
            return {key: str(path) for key, path in selection.path.items()}
        return str(selection.path)

    def inventory(self) -> list[ContextItem]:
        """List the context's mappings and the reference files they name.

        A mapping that cannot be loaded is listed with status ``'error'``,
        and a reference linked from outside the cache with ``'refused'``,
        instead of stopping the listing.
        """
        items = [self._mapping_item(self.pmap, "")]
        for instrument, imap_name in self.pmap.table.items():
            if imap_name == "N/A":
                items.append(ContextItem("imap", "N/A", "n/a", label=instrument))
                continue
            imap = self._inventory_load(
                imap_name, "imap", instrument, items, InstrumentMapping
            )
            if imap is None:
                continue
            for reftype, rmap_name in imap.table.items():
                label = f"{instrument} {reftype.lower()}"
                if rmap_name == "N/A":
                    items.append(ContextItem("rmap", "N/A", "n/a", label=label))
                    continue
                rmap = self._inventory_load(
                    rmap_name, "rmap", label, items, ReferenceMapping
                )
                if rmap is None:
                    continue
                for filename in rmap.files:
                    items.append(self._reference_item(filename, instrument, label))
        return items

    def _reference_item(self, filename, instrument, label) -> ContextItem:
        try:
            path, present = self._locate(filename, instrument)
        except ReferenceFileError as exc:
            return ContextItem(
                "reference", filename, "refused", label=label, detail=str(exc)
            )
        status = "present" if present else "missing"
        return ContextItem("reference", filename, status, path, label)

    def _inventory_load(self, name, kind, label, items, cls) -> Mapping | None:
        try:
            mapping = self._load(name)
            if not isinstance(mapping, cls):
                # Named as an imap or rmap, but its header says another kind.
                raise MappingError(
                    f"{name}: its header says mapping "
                    f"{mapping.header.get('mapping')!r}, a {mapping.kind}, but "
                    f"it is used as an {kind}; fix the header's 'mapping'"
                )
        except MappingError as exc:
            items.append(ContextItem(kind, name, "error", label=label, detail=str(exc)))
            return None
        items.append(self._mapping_item(mapping, label))
        return mapping

    @staticmethod
    def _mapping_item(mapping: Mapping, label: str) -> ContextItem:
        status = "shipped" if mapping.shipped else "cache"
        return ContextItem(mapping.kind, mapping.name, status, mapping.path, label)


def _paths(path: Any) -> tuple:
    """The paths of a selection's one file, pair or table, as a tuple."""
    if isinstance(path, dict):
        return tuple(path.values())
    return path if isinstance(path, tuple) else (path,)


def _flatten(choice: Any):
    for item in choice:
        if isinstance(item, tuple):
            yield from _flatten(item)
        else:
            yield item


def _missing_reference_error(
    selection: Selection, root: CacheRoot
) -> ReferenceFileError:
    """Return the error for a chosen reference file that is not in the cache."""
    paths = _paths(selection.path)
    missing = [str(path) for path in paths if not Path(path).is_file()]
    message = (
        f"{selection.reftype} reference {selection.filename} (chosen by "
        f"{selection.rmap} in context {selection.context}) is not in the CRDS cache: "
        f"expected at {', '.join(missing)}"
    )
    if not root.exists:
        message += f"; the cache folder {root.path} does not exist ({root.describe()})"
    if selection.reftype == "MASK":
        message += (
            "; to create it, build a TMTMaskModel (meta.instrument.name, "
            "meta.instrument.detector and a uint32 dq array of 4096x4096 with your "
            "flags) and write it to that path"
        )
    else:
        message += "; put the reference file at that path"
    return ReferenceFileError(message)


# (cache folder, context name) -> Context
_CONTEXTS: dict[tuple[str, str], Context] = {}
# (cache folder, observatory, what the default depends on) -> (name, source)
_DEFAULTS: dict[tuple, tuple[str, str]] = {}
_DEFAULT_VARIABLES = ("CRDS_CONTEXT", "CRDS_OBSERVATORY")


# (CRDS_PATH, HOME) -> CacheRoot: the folder's path is built once.
_ROOTS: dict[tuple[str | None, str | None], CacheRoot] = {}


def _cache_root() -> CacheRoot:
    key = (os.environ.get("CRDS_PATH"), os.environ.get("HOME"))
    root = _ROOTS.get(key)
    if root is None:
        if len(_ROOTS) >= 64:
            _ROOTS.clear()
        root = _ROOTS[key] = cache_root()
    return root


def _default_stamp(root: CacheRoot) -> tuple:
    """What the default context depends on, cheaply: the variables, and the
    times the cache's mappings and config folders, each observatory's
    folder in them and its server_config last changed. Resolving the
    default reads and lists files; a pipeline asks for it per exposure."""
    marks: list[Any] = [os.environ.get(name) for name in _DEFAULT_VARIABLES]
    for part in ("mappings", "config"):
        top = os.path.join(root.path, part)
        try:
            marks.append(os.stat(top).st_mtime_ns)
            with os.scandir(top) as entries:
                for entry in entries:
                    marks.append((entry.name, entry.stat().st_mtime_ns))
                    if part == "config":
                        config = os.path.join(entry.path, "server_config")
                        with contextlib.suppress(OSError):
                            status = os.stat(config)
                            marks.append(
                                (status.st_mtime_ns, status.st_size, status.st_ino)
                            )
        except OSError:
            marks.append(None)
    return tuple(marks)


def get_context(context: str | None = None, observatory: str | None = None) -> Context:
    """Return the loaded CRDS context, loading it on first use.

    Parameters
    ----------
    context : str, optional
        A pmap name such as ``'tmt_0001.pmap'``. By default ``CRDS_CONTEXT``,
        else the ``operational_context`` of the cache's
        ``config/<observatory>/server_config`` when that pmap is there, else
        the highest-numbered ``<observatory>_*.pmap`` in the cache, else (for
        tmt) the context shipped with irisdq.
    observatory : str, optional
        Whose context to use when `context` is not given: ``tmt`` by
        default; ``CRDS_OBSERVATORY`` overrides it.

    Returns
    -------
    Context

    Raises
    ------
    ReferenceFileError
        If ``CRDS_PATH`` names a folder that does not exist.
    MappingError
        If the context is not a pmap, or a mapping is missing or malformed.

    Examples
    --------
    >>> ctx = get_context("tmt_0001.pmap")
    >>> ctx.name, ctx.instruments(), ctx.reftypes("iris")
    ('tmt_0001.pmap', ['IRIS'], ['dflat', 'mask'])
    """
    root = _cache_root()
    if root.source == "CRDS_PATH" and not root.exists:
        raise ReferenceFileError(
            f"the CRDS cache folder {root.path} does not exist ({root.describe()}); "
            "create it with mappings/tmt and references/tmt/<instrument> inside, or "
            "unset CRDS_PATH to use ~/crds_cache"
        )
    if context is None:
        stamp = (str(root.path), observatory, *_default_stamp(root))
        remembered = _DEFAULTS.get(stamp)
        if remembered is None:
            remembered = default_context(root, observatory)
            if len(_DEFAULTS) >= 64:
                _DEFAULTS.clear()
            _DEFAULTS[stamp] = remembered
        name, source = remembered
    else:
        name, source = str(context).strip(), "given"
    key = (str(root.path), name)
    loaded = _CONTEXTS.get(key)
    if loaded is not None:
        return loaded
    if not name.endswith(".pmap"):
        raise MappingError(
            f"context {name!r} ({source}) must be a pipeline mapping name such as "
            "tmt_0001.pmap"
        )
    path, shipped = find_mapping(name, root)
    pmap = load_mapping(path, shipped=shipped)
    if not isinstance(pmap, PipelineMapping):
        raise MappingError(f"{name}: the context must be a PIPELINE mapping")
    loaded = Context(pmap, root, source)
    _CONTEXTS[key] = loaded
    return loaded


def clear_cache() -> None:
    """Forget every loaded context and parsed mapping.

    Needed only when mapping files change under a running program.

    Examples
    --------
    >>> first = get_context("tmt_0001.pmap")
    >>> clear_cache()
    >>> get_context("tmt_0001.pmap") is first
    False
    """
    _CONTEXTS.clear()
    _DEFAULTS.clear()
    forget_loaded()
