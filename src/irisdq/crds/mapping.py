"""Mapping files as objects: pipeline (pmap), instrument (imap), reference (rmap).

:func:`load_mapping` reads a file, verifies its ``sha1sum``, parses it,
builds its selectors and checks every name it refers to; the result is kept
so each file is parsed once (again only if it changes on disk).
"""

import ast
import operator
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from irisdq.crds.checksum import mapping_checksum, verify_checksum
from irisdq.crds.parser import (
    ParsedMapping,
    SelectorCall,
    parse_mapping,
    read_mapping_bytes,
)
from irisdq.crds.selectors import Selector, build_selector
from irisdq.crds.values import ABSENT, condition_value
from irisdq.errors import MappingError

__all__ = [
    "InstrumentMapping",
    "Mapping",
    "PipelineMapping",
    "ReferenceMapping",
    "check_name",
    "load_mapping",
    "mapping_from_text",
]

#: Observatories whose mappings let a full ISO moment in the date parameter
#: stand without the time parameter (IRIS files write DATE-OBS that way
#: with no TIME-OBS); the stock client, and irisdq for every other
#: observatory, find no match.
ISO_MOMENT_OBSERVATORIES = frozenset({"tmt", "ligeriri"})

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_KINDS = {"PIPELINE": ".pmap", "INSTRUMENT": ".imap", "REFERENCE": ".rmap"}


def check_name(name: Any, where: str, what: str = "file") -> str:
    """Return `name` if it is a plain file name, else raise MappingError.

    A name with a path separator, ``..``, or characters outside letters,
    digits and ``_.+-`` could reach outside the cache, so it is refused.

    Examples
    --------
    >>> check_name("tmt_iris_mask_0001.fits", "demo.rmap")
    'tmt_iris_mask_0001.fits'
    >>> check_name("../../etc/passwd", "demo.rmap")
    Traceback (most recent call last):
    ...
    irisdq.errors.MappingError: demo.rmap: unsafe file name '../../etc/passwd'...
    """
    if (
        not isinstance(name, str)
        or not _SAFE_NAME.fullmatch(name)
        or ".." in name
        or os.sep in name
        or (os.altsep and os.altsep in name)
    ):
        raise MappingError(
            f"{where}: unsafe {what} name {name!r}; a mapping may only name files "
            "inside the cache, without folders or '..'"
        )
    return name


class Mapping:
    """What every mapping has: its name, header, file and origin.

    Attributes
    ----------
    name : str
        The file name, e.g. ``tmt_0001.pmap``.
    header : dict
        The header as written.
    path : pathlib.Path or None
        Where it was read from.
    shipped : bool
        True if it comes from the mappings shipped with irisdq.
    comment : str or None
        The ``comment`` block.
    """

    kind = "mapping"

    def __init__(
        self, name: str, parsed: ParsedMapping, path: Path | None, shipped: bool
    ):
        self.name = name
        self.header = parsed.header
        self.comment = parsed.comment
        self.path = path
        self.shipped = shipped
        self.observatory = str(
            parsed.header.get("observatory", name.split("_")[0])
        ).lower()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def children(self) -> list[str]:
        """Return the names this mapping refers to (``N/A`` excluded)."""
        raise NotImplementedError


class _TableMapping(Mapping):
    """A pmap or imap: a plain dict from a conditioned key to a file name."""

    child_suffix = ""

    def __init__(self, name, parsed, path, shipped):
        super().__init__(name, parsed, path, shipped)
        where = f"{name}:{parsed.selector_line}"
        if not isinstance(parsed.selector, dict):
            raise MappingError(
                f"{where}: the selector of a {self.kind} must be a plain dict"
            )
        self.table: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        for key, value, line in parsed.selector_entries:
            if not isinstance(key, str) or not isinstance(value, str):
                raise MappingError(
                    f"{name}:{line}: entries must map names to file names"
                )
            conditioned = condition_value(key)
            if conditioned in self.table:
                raise MappingError(f"{name}:{line}: {key!r} appears twice")
            if condition_value(value) == "N/A":
                value = "N/A"
            else:
                check_name(value, f"{name}:{line}", "mapping")
                if not value.endswith(self.child_suffix):
                    raise MappingError(
                        f"{name}:{line}: {key!r} must name a {self.child_suffix} "
                        f"file, not {value!r}"
                    )
            self.table[conditioned] = value
            self.keys[conditioned] = key

    def children(self) -> list[str]:
        return [value for value in self.table.values() if value != "N/A"]


class PipelineMapping(_TableMapping):
    """A context (pmap): instrument name -> instrument mapping."""

    kind = "pmap"
    child_suffix = ".imap"

    def instruments(self) -> list[str]:
        """Return the instrument names, as written."""
        return list(self.keys.values())


class InstrumentMapping(_TableMapping):
    """An imap: reference type -> reference mapping (or ``N/A``)."""

    kind = "imap"
    child_suffix = ".rmap"

    def __init__(self, name, parsed, path, shipped):
        super().__init__(name, parsed, path, shipped)
        self.instrument = str(parsed.header.get("instrument", "")).upper()

    def reftypes(self) -> list[str]:
        """Return the reference types, lower case."""
        return [key.lower() for key in self.table]


class ReferenceMapping(Mapping):
    """An rmap: dataset parameters -> reference file, through its selectors.

    Attributes
    ----------
    parkey : tuple of tuple of str
        The parameter names of each selector level, upper case.
    parameters : tuple of str
        Every parameter of `parkey`, in order, each once, then the header's
        ``extra_keys`` (parameters its conditions use).
    selector : Selector
        The root of the selector tree.
    reftype : str
        The header's ``filekind``, upper case.
    instrument : str
        The header's ``instrument``, upper case.
    """

    kind = "rmap"

    def __init__(self, name, parsed, path, shipped):
        super().__init__(name, parsed, path, shipped)
        header = parsed.header
        self.parkey = _parkey(header.get("parkey"), name, parsed.header_line)
        seen: dict[str, None] = {}
        for level in self.parkey:
            seen.update(dict.fromkeys(level))
        # 'extra_keys': parameters the header conditions use besides parkey.
        extra = header.get("extra_keys", ())
        if not isinstance(extra, tuple | list) or not all(
            isinstance(item, str) for item in extra
        ):
            raise MappingError(
                f"{name}:{parsed.header_line}: 'extra_keys' must be a tuple of "
                "parameter names"
            )
        seen.update(dict.fromkeys(item.upper() for item in extra))
        self.parameters = tuple(seen)
        self.reftype = str(header.get("filekind", "")).upper()
        self.instrument = str(header.get("instrument", "")).upper()
        if not isinstance(parsed.selector, SelectorCall):
            raise MappingError(
                f"{name}:{parsed.selector_line}: the selector of an rmap must be a "
                "selector call such as Match({...}) or UseAfter({...})"
            )
        self.selector: Selector = build_selector(
            parsed.selector,
            self.parkey,
            header.get("substitutions"),
            name,
            iso_moment=self.observatory in ISO_MOMENT_OBSERVATORIES,
        )
        relevance = _condition(header, "rmap_relevance", self.parameters, name)
        omit = _condition(header, "rmap_omit", self.parameters, name)
        if relevance is not None or omit is not None:
            self.selector = ConditionalSelector(self.selector, relevance, omit)
        self.files = sorted({leaf for leaf in self.selector.leaves() if leaf != "N/A"})
        for leaf in self.files:
            check_name(leaf, name, "reference file")

    def children(self) -> list[str]:
        return list(self.files)


class _EvaluationFailed(Exception):
    pass


_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Attribute,
    *_COMPARE,
)


class HeaderCondition:
    """An rmap header condition such as ``rmap_relevance``, read, never run.

    The stock client evaluates these as Python over the dataset's
    conditioned values, with dotted parameter names written with ``_``.
    irisdq reads the expression into a tree of comparisons, ``in``/``not
    in``, ``and``/``or``/``not``, names and literals, and evaluates that
    tree itself; any other syntax makes the rmap invalid. As in CRDS, a
    condition that cannot be evaluated (an unknown name, text compared
    with a number) counts as not given.

    Attributes
    ----------
    source : str
        The expression as written.
    """

    def __init__(self, source: str, parameters: tuple[str, ...], where: str):
        self.source = source
        names = {name.replace(".", "_"): name for name in parameters}
        text = source
        for name, evalable in ((n, n.replace(".", "_")) for n in parameters):
            text = text.replace(name, evalable)
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise MappingError(f"{where}: cannot read {source!r}: {exc}") from None
        for node in ast.walk(tree):
            if not isinstance(node, _NODES):
                raise MappingError(
                    f"{where}: {source!r} uses {type(node).__name__}; a condition "
                    "may only compare parameters with literals, with and/or/not"
                )
        self._tree = tree.body
        self._names = names

    def evaluate(self, values: dict[str, str]) -> Any:
        """Return the condition's value for conditioned `values`, or raise
        ``_EvaluationFailed`` where CRDS's own evaluation would fail."""
        return self._value(self._tree, values)

    def _value(self, node, values):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            parameter = self._names.get(node.id)
            if parameter is None or values.get(parameter, ABSENT) is ABSENT:
                raise _EvaluationFailed(f"name {node.id!r} is not defined")
            return values[parameter]
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(self._value(item, values) for item in node.elts)
        if isinstance(node, ast.BoolOp):
            result = None
            for operand in node.values:
                result = self._value(operand, values)
                if isinstance(node.op, ast.And) != bool(result):
                    return result
            return result
        if isinstance(node, ast.UnaryOp):
            return not self._value(node.operand, values)
        if isinstance(node, ast.Compare):
            left = self._value(node.left, values)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._value(right_node, values)
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError as exc:
                    raise _EvaluationFailed(str(exc)) from None
                left = right
            return True
        raise _EvaluationFailed(f"{ast.dump(node)} cannot be evaluated")

    def holds(self, values: dict[str, str], default: bool) -> bool:
        """Return the truth of the condition, or `default` if it cannot be
        evaluated."""
        try:
            return bool(self.evaluate(values))
        except _EvaluationFailed:
            return default


def _condition(header, field, parameters, name) -> HeaderCondition | None:
    source = header.get(field)
    if source is None:
        return None
    if not isinstance(source, str):
        raise MappingError(f"{name}: '{field}' must be an expression in a string")
    if field == "rmap_relevance":
        source = source.replace("always", "True")
    return HeaderCondition(source, parameters, f"{name}: {field}")


class ConditionalSelector(Selector):
    """An rmap's selector under its ``rmap_omit`` and ``rmap_relevance``.

    When ``rmap_omit`` holds, or ``rmap_relevance`` does not, the reference
    type does not apply to the dataset (``N/A``), as in CRDS.
    """

    kind = "Conditions"

    def __init__(self, inner: Selector, relevance, omit):
        super().__init__(inner.parameters, inner.filename, inner.line)
        self.inner = inner
        self.relevance = relevance
        self.omit = omit

    def choices(self) -> Iterator[Any]:
        yield self.inner

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        if self.omit is not None and self.omit.holds(values, default=False):
            if trace is not None:
                trace.append(f"rmap_omit {self.omit.source} holds: N/A")
            return "N/A"
        if self.relevance is not None and not self.relevance.holds(
            values, default=True
        ):
            if trace is not None:
                trace.append(f"rmap_relevance {self.relevance.source} is false: N/A")
            return "N/A"
        return self.inner.choose(values, trace)


def _parkey(value: Any, name: str, line: int) -> tuple[tuple[str, ...], ...]:
    if (
        isinstance(value, tuple)
        and value
        and all(isinstance(level, tuple) for level in value)
        and all(isinstance(item, str) for level in value for item in level)
    ):
        return tuple(tuple(item.upper() for item in level) for level in value)
    raise MappingError(
        f"{name}:{line}: 'parkey' must be a tuple of tuples of parameter names, "
        f"one per selector level; got {value!r}"
    )


_CLASSES = {
    "pmap": PipelineMapping,
    "imap": InstrumentMapping,
    "rmap": ReferenceMapping,
}


def mapping_from_text(
    text: str,
    filename: str,
    path: Path | None = None,
    shipped: bool = False,
    verify: bool = True,
) -> Mapping:
    """Build a mapping object from the text of a mapping file.

    Parameters
    ----------
    text : str
        The file's text.
    filename : str
        Its name; the extension (``.pmap``, ``.imap``, ``.rmap``) or the
        header's ``mapping`` field tells the kind.
    path : pathlib.Path, optional
        Where it was read from.
    shipped : bool, optional
        True for the mappings shipped with irisdq.
    verify : bool, optional
        Check the ``sha1sum`` (unless ``CRDS_IGNORE_MAPPING_CHECKSUM`` is set).

    Returns
    -------
    PipelineMapping, InstrumentMapping or ReferenceMapping

    Raises
    ------
    MappingError
        If the text is malformed, unsafe, or fails its checksum.

    Examples
    --------
    >>> rmap = mapping_from_text('''header = {
    ...     'mapping': 'REFERENCE', 'filekind': 'MASK', 'instrument': 'IRIS',
    ...     'parkey': (('META.INSTRUMENT.DETECTOR',),)}
    ... selector = Match({'IRIS1': 'mask1.fits', 'IRIS2': 'N/A'})
    ... ''', "demo.rmap", verify=False)
    >>> rmap.reftype, rmap.parameters, rmap.files
    ('MASK', ('META.INSTRUMENT.DETECTOR',), ['mask1.fits'])
    """
    parsed = parse_mapping(text, filename)
    declared = str(parsed.header.get("mapping", "")).upper()
    kind = _KINDS.get(declared, os.path.splitext(filename)[1])[1:]
    if kind not in _CLASSES:
        raise MappingError(
            f"{filename}: unknown mapping kind; the header's 'mapping' must be "
            "PIPELINE, INSTRUMENT or REFERENCE"
        )
    if verify:
        verify_checksum(text, parsed.header, filename)
    return _CLASSES[kind](os.path.basename(filename), parsed, path, shipped)


# path -> ((mtime_ns, size), mapping, checksum); parsed again only if it changes.
_LOADED: dict[str, tuple[tuple[int, int], Mapping, str]] = {}


def load_mapping(path: str | os.PathLike, shipped: bool = False) -> Mapping:
    """Load a mapping file, verifying its checksum; parse it only once.

    Parameters
    ----------
    path : str or os.PathLike
        The mapping file.
    shipped : bool, optional
        True for the mappings shipped with irisdq.

    Returns
    -------
    Mapping

    Raises
    ------
    MappingError
        If the file is missing, not UTF-8, malformed or fails its checksum.

    Examples
    --------
    >>> from irisdq.crds.cache import shipped_mapping_folder
    >>> pmap = load_mapping(shipped_mapping_folder() / "tmt_0001.pmap", shipped=True)
    >>> pmap.instruments(), pmap.children()
    (['IRIS'], ['tmt_iris_0003.imap'])
    """
    from irisdq.files import require_regular_file

    path = Path(path)
    try:
        require_regular_file(path, "a CRDS mapping", error=MappingError)
        stat = path.stat()
    except FileNotFoundError:
        raise MappingError(f"mapping {path} does not exist") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _LOADED.get(str(path))
    if cached is not None and cached[0] == stamp:
        mapping, actual = cached[1], cached[2]
        verify_checksum(None, mapping.header, mapping.name, actual=actual)
        return mapping
    try:
        text = read_mapping_bytes(path, str(path)).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not UTF-8 text ({exc})") from None
    mapping = mapping_from_text(text, path.name, path=path, shipped=shipped)
    _LOADED[str(path)] = (stamp, mapping, mapping_checksum(text))
    return mapping


def forget_loaded() -> None:
    """Drop every parsed mapping kept by :func:`load_mapping`.

    Examples
    --------
    >>> forget_loaded()
    """
    _LOADED.clear()
