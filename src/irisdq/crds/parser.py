"""Reading mapping text into a header and a selector tree, executing nothing.

A CRDS mapping looks like Python, and the stock CRDS client runs it. Here the
text is only parsed into an abstract syntax tree (``ast.parse`` builds no
code object) and every node is checked against a whitelist: string, number,
bool and None constants, tuples, dicts, a unary sign on a number, and calls
of the seven selector names with one dict argument. Anything else is a
:class:`~irisdq.errors.MappingError` that names the file and line.

Parsing costs memory in proportion to the text (a 100 MB file would take
gigabytes), so before anything is parsed a mapping larger than
:data:`MAX_MAPPING_BYTES` (4 MiB; real mappings are under 1 MiB) or nested
deeper than :data:`MAX_NESTING` brackets is refused.
"""

import ast
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from irisdq.errors import MappingError

__all__ = [
    "MAX_MAPPING_BYTES",
    "MAX_NESTING",
    "SELECTOR_NAMES",
    "ParsedMapping",
    "SelectorCall",
    "check_mapping_size",
    "comment_text",
    "literal_text",
    "parse_literal",
    "parse_mapping",
    "read_mapping_bytes",
    "signed_number",
]

#: The selector calls a mapping may contain.
SELECTOR_NAMES = frozenset(
    {
        "Match",
        "UseAfter",
        "ClosestTime",
        "VersionAfter",
        "SelectVersion",
        "GeometricallyNearest",
        "Bracket",
    }
)

_ASSIGNABLE = ("header", "comment", "selector")

#: The largest mapping file (or text) parsed, in bytes: 4 MiB.
MAX_MAPPING_BYTES = 4 * 1024 * 1024

#: The deepest nesting of brackets ``( [ {`` a mapping may have. Real ones
#: nest a selector in a selector with tuple keys: fewer than ten levels.
MAX_NESTING = 32

# Strings and comments (whose brackets do not count) or one bracket.
_BRACKET_TOKENS = re.compile(
    r"(?s:\'\'\'.*?\'\'\'|\"\"\".*?\"\"\")"  # triple-quoted strings
    r"|'(?:\\.|[^'\\\n])*'"  # single-quoted strings
    r'|"(?:\\.|[^"\\\n])*"'  # double-quoted strings
    r"|#[^\n]*"  # comments
    r"|[\[\](){}]"  # brackets
)


@dataclass(slots=True, eq=False)
class SelectorCall:
    """A selector call as written: its name, its entries and where it is.

    Attributes
    ----------
    name : str
        One of :data:`SELECTOR_NAMES`.
    entries : list of (key, value, line)
        The items of the dict argument in file order; a value is a literal
        or another :class:`SelectorCall`.
    line : int
        The line of the call in the mapping file.
    """

    name: str
    entries: list[tuple[Any, Any, int]]
    line: int

    def __repr__(self) -> str:
        return f"{self.name}(<{len(self.entries)} entries, line {self.line}>)"


@dataclass(slots=True, eq=False)
class ParsedMapping:
    """The parts of a mapping file.

    Attributes
    ----------
    filename : str
        The name used in error messages.
    header : dict
        The ``header`` dict, as plain Python literals.
    selector : dict or SelectorCall
        A plain dict for a pmap or imap, a selector call for an rmap.
    selector_entries : list of (key, value, line) or None
        The items of a plain-dict selector with their lines.
    comment : str or None
        The ``comment`` text if the file has one.
    header_line, selector_line : int
        Where ``header`` and ``selector`` are assigned.
    """

    filename: str
    header: dict
    header_line: int
    selector: Any
    selector_line: int
    comment: str | None
    selector_entries: Any = None


def parse_mapping(text: str, filename: str = "<mapping>") -> ParsedMapping:
    """Parse the text of a mapping file without executing any of it.

    Parameters
    ----------
    text : str
        The mapping text: ``header = {...}``, optionally
        ``comment = '''...'''``, then ``selector = ...``.
    filename : str, optional
        The name error messages give.

    Returns
    -------
    ParsedMapping

    Raises
    ------
    MappingError
        If the text is larger than :data:`MAX_MAPPING_BYTES` or nested
        deeper than :data:`MAX_NESTING`, is not valid mapping syntax, uses
        anything outside the whitelist, repeats an assignment, or lacks
        ``header`` or ``selector``. The message names `filename` and the
        line.

    Examples
    --------
    >>> parsed = parse_mapping('''
    ... header = {'mapping': 'REFERENCE', 'parkey': (('DETECTOR',),)}
    ... selector = Match({'IRIS1': 'a.fits'})  # one rule
    ... ''', "demo.rmap")
    >>> parsed.header["parkey"], parsed.selector
    ((('DETECTOR',),), Match(<1 entries, line 3>))
    >>> parse_mapping("header = {}\\nselector = __import__('os')", "bad.rmap")
    Traceback (most recent call last):
    ...
    irisdq.errors.MappingError: bad.rmap:2: a call of '__import__' is not allowed...
    """
    module = _parse(text, filename, "exec")
    found: dict[str, tuple[Any, int]] = {}
    selector_entries = None
    for statement in module.body:
        name = _assigned_name(statement, filename)
        if name in found:
            _fail(filename, statement, f"'{name}' is assigned twice")
        value_node = statement.value
        if name == "selector" and isinstance(value_node, ast.Dict):
            selector_entries = list(_dict_entries(value_node, filename, calls=False))
            value = {key: value for key, value, _ in selector_entries}
        else:
            value = _literal(value_node, filename, calls=name == "selector")
        found[name] = (value, statement.lineno)
    for required in ("header", "selector"):
        if required not in found:
            raise MappingError(f"{filename}: no '{required} = ...' assignment")
    header, header_line = found["header"]
    if not isinstance(header, dict):
        raise MappingError(f"{filename}:{header_line}: 'header' must be a dict")
    comment = found.get("comment", (None, 0))[0]
    if comment is not None and not isinstance(comment, str):
        raise MappingError(f"{filename}: 'comment' must be a string")
    selector, selector_line = found["selector"]
    parsed = ParsedMapping(
        filename, header, header_line, selector, selector_line, comment
    )
    parsed.selector_entries = selector_entries
    return parsed


def parse_literal(text: str, filename: str = "<text>") -> Any:
    """Parse one Python literal (such as a ``server_config`` dict) safely.

    Parameters
    ----------
    text : str
        A single expression made of the whitelisted literals; selector calls
        are not allowed.
    filename : str, optional
        The name error messages give.

    Returns
    -------
    object

    Raises
    ------
    MappingError
        If the text is anything but such a literal.

    Examples
    --------
    >>> parse_literal("{'operational_context': 'tmt_0001.pmap'}")
    {'operational_context': 'tmt_0001.pmap'}
    """
    expression = _parse(text, filename, "eval")
    return _literal(expression.body, filename, calls=False)


def literal_text(value: Any) -> str:
    r"""Return mapping text that :func:`parse_literal` reads back as `value`.

    Strings, numbers, booleans, None, tuples and dicts of them, as
    :func:`parse_literal` returns them; an infinite float (the value of
    ``1e999`` in a header) is written ``1e999``, since ``inf`` is a name.

    Raises
    ------
    ValueError
        For a value no mapping text can hold (NaN, a list, an object).

    Examples
    --------
    >>> print(literal_text(("a", float("inf"), -float("inf"))), literal_text(("x",)))
    ('a', 1e999, -1e999) ('x',)
    >>> parse_literal(literal_text("C:\\temp \\N{x}")) == "C:\\temp \\N{x}"
    True
    """
    if isinstance(value, float) and value != value:
        raise ValueError("NaN cannot be written in a mapping")
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "1e999" if value > 0 else "-1e999"
    if isinstance(value, tuple):
        items = [literal_text(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        items = [f"{literal_text(k)}: {literal_text(v)}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if value is None or type(value) in (str, int, float, bool):
        return repr(value)
    raise ValueError(f"{type(value).__name__} values cannot be written in a mapping")


# Text a triple-quoted string keeps as it is: no backslash (an escape), no
# carriage return (read back as a newline), no other control character.
_PLAIN_COMMENT = re.compile(r"[^\\\r\x00-\x08\x0b-\x1f\x7f]*")


def comment_text(comment: str) -> str:
    r"""Return a ``comment`` string as mapping text that reads back the same.

    A triple-quoted block when the text allows one (the way CRDS writes
    comments), else the string's escaped form: a comment ending in a
    quote, or holding a backslash (``\N{...}``, ``C:\dir``), would
    otherwise end early or be read as an escape.

    Examples
    --------
    >>> comment_text("two\nlines") == '"' * 3 + "two\nlines" + '"' * 3
    True
    >>> comment_text('ends in "') == "'" * 3 + 'ends in "' + "'" * 3
    True
    >>> print(comment_text("a \\N{DEGREE SIGN}"))
    'a \\N{DEGREE SIGN}'
    """
    if _PLAIN_COMMENT.fullmatch(comment):
        if '"""' not in comment and not comment.endswith('"'):
            return f'"""{comment}"""'
        if "'''" not in comment and not comment.endswith("'"):
            return f"'''{comment}'''"
    return repr(comment)


def check_mapping_size(size: int, filename: str) -> None:
    """Raise MappingError if a mapping of `size` bytes is too large to parse.

    Called with the file's size before it is read, and with the text's
    length before it is parsed.

    Examples
    --------
    >>> check_mapping_size(10_000, "tmt_0001.pmap")
    >>> check_mapping_size(100 * 2**20, "huge.rmap")
    Traceback (most recent call last):
    ...
    irisdq.errors.MappingError: huge.rmap: 104857600 bytes; a mapping may have ...
    """
    if size > MAX_MAPPING_BYTES:
        raise MappingError(
            f"{filename}: {size} bytes; a mapping may have at most "
            f"{MAX_MAPPING_BYTES} bytes (4 MiB; real mappings are under 1 MiB), "
            "so it is not parsed: check that this is the mapping you meant"
        )


def read_mapping_bytes(path: str | os.PathLike, filename: str) -> bytes:
    """Return a mapping file's bytes, refusing it once it passes the limit.

    The file's size is checked before reading, and the read stops one byte
    past :data:`MAX_MAPPING_BYTES`, so a file that grows meanwhile, or
    reports no size (as files in ``/proc`` do), is never read whole.
    """
    size = os.stat(path).st_size
    check_mapping_size(size, filename)
    with open(path, "rb") as stream:
        raw = stream.read(MAX_MAPPING_BYTES + 1)
    check_mapping_size(max(size, len(raw)), filename)
    return raw


def _check_nesting(text: str, filename: str) -> None:
    """Refuse brackets nested deeper than MAX_NESTING, before parsing."""
    depth = 0
    for token in _BRACKET_TOKENS.finditer(text):
        char = token[0]
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, token.start()) + 1
                raise MappingError(
                    f"{filename}:{line}: brackets nested more than {MAX_NESTING} "
                    "deep; a mapping may nest at most that deep, so it is not "
                    "parsed: check that this is the mapping you meant"
                )
        elif char in ")]}":
            depth -= 1


def _parse(text: str, filename: str, mode: str) -> ast.AST:
    # A character takes one to four bytes in UTF-8: the text is encoded to
    # measure it only when its length leaves the answer open.
    size = len(text)
    if MAX_MAPPING_BYTES // 4 < size <= MAX_MAPPING_BYTES:
        size = len(text.encode("utf-8", "surrogatepass"))
    check_mapping_size(size, filename)
    _check_nesting(text, filename)
    try:
        # A stray backslash in a mapping string is the file's business, not a
        # warning about irisdq's own code.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=filename, mode=mode)
    except SyntaxError as exc:
        where = f"{filename}:{exc.lineno}" if exc.lineno else filename
        raise MappingError(f"{where}: invalid syntax ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise MappingError(
            f"{filename}: cannot parse ({type(exc).__name__}: {exc})"
        ) from None


def _assigned_name(statement: ast.stmt, filename: str) -> str:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id in _ASSIGNABLE
    ):
        return statement.targets[0].id
    _fail(
        filename,
        statement,
        f"a {type(statement).__name__} statement is not allowed; a mapping holds "
        "only 'header = {...}', 'comment = \"...\"' and 'selector = ...'",
    )


def _fail(filename: str, node: ast.AST, reason: str) -> NoReturn:
    raise MappingError(f"{filename}:{getattr(node, 'lineno', 0)}: {reason}")


def _literal(node: ast.AST, filename: str, calls: bool) -> Any:
    try:
        return _convert(node, filename, calls)
    except RecursionError:
        raise MappingError(
            f"{filename}:{node.lineno}: literal nested too deeply"
        ) from None


def signed_number(node: ast.AST) -> int | float | None:
    """The value of a literal ``-5`` or ``+2.5`` (Python parses the sign as an
    operator on a constant), or None when `node` is not one."""
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    return None


def _convert(node: ast.AST, filename: str, calls: bool) -> Any:
    if isinstance(node, ast.Constant):
        if type(node.value) in (str, int, float, bool) or node.value is None:
            return node.value
        _fail(filename, node, f"a {type(node.value).__name__} constant is not allowed")
    if isinstance(node, ast.Tuple):
        return tuple(_convert(item, filename, calls) for item in node.elts)
    if isinstance(node, ast.Dict):
        return {key: value for key, value, _ in _dict_entries(node, filename, calls)}
    number = signed_number(node)
    if number is not None:
        return number
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if not calls or name not in SELECTOR_NAMES:
            shown = name or type(node.func).__name__
            _fail(
                filename,
                node,
                f"a call of '{shown}' is not allowed; only the selectors "
                f"{', '.join(sorted(SELECTOR_NAMES))} may be called, in 'selector'",
            )
        if (
            node.keywords
            or len(node.args) != 1
            or not isinstance(node.args[0], ast.Dict)
        ):
            _fail(filename, node, f"{name}() takes exactly one dict argument")
        entries = list(_dict_entries(node.args[0], filename, calls))
        return SelectorCall(name, entries, node.lineno)
    _fail(filename, node, f"{_describe(node)} is not allowed in a mapping")


def _dict_entries(
    node: ast.Dict, filename: str, calls: bool
) -> Iterator[tuple[Any, Any, int]]:
    # A key written twice keeps its first place and its last value, as the
    # dict the stock client builds by running the text does (CRDS loads such
    # mappings: jwst_miri_flat_0022.rmap repeats a UseAfter date).
    entries: list[tuple[Any, Any, int]] = []
    seen: dict[Any, int] = {}
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        if key_node is None:
            _fail(filename, value_node, "'**' unpacking is not allowed in a mapping")
        key = _convert(key_node, filename, calls=False)
        if not _hashable(key):
            _fail(filename, key_node, "a dict key must be a string, number or tuple")
        value = _convert(value_node, filename, calls)
        if key in seen:
            entries[seen[key]] = (entries[seen[key]][0], value, key_node.lineno)
            continue
        seen[key] = len(entries)
        entries.append((key, value, key_node.lineno))
    return iter(entries)


def _hashable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_hashable(item) for item in value)
    return value is None or type(value) in (str, int, float, bool)


def _describe(node: ast.AST) -> str:
    names = {
        ast.Name: "a name",
        ast.Attribute: "attribute access",
        ast.Lambda: "a lambda",
        ast.JoinedStr: "an f-string",
        ast.List: "a list (use a tuple)",
        ast.Set: "a set",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.BinOp: "an operator",
        ast.BoolOp: "an operator",
        ast.Compare: "a comparison",
        ast.Subscript: "subscripting",
    }
    for kind, text in names.items():
        if isinstance(node, kind):
            if kind is ast.Name:
                return f"the name '{node.id}'"
            return text
    return f"a {type(node).__name__} expression"
