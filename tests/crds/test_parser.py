"""The mapping grammar: what parses, what is refused, and that nothing runs."""

import ast
import builtins

import pytest

from irisdq.crds.cache import shipped_mapping_folder
from irisdq.crds.parser import (
    MAX_MAPPING_BYTES,
    MAX_NESTING,
    SelectorCall,
    comment_text,
    literal_text,
    parse_literal,
    parse_mapping,
)
from irisdq.errors import MappingError

FULL_GRAMMAR = '''# A mapping with every piece of the grammar.
header = {
    'mapping' : 'REFERENCE',   # trailing comment
    'parkey' : (('META.INSTRUMENT.DETECTOR',), ('META.OBSERVATION.DATE',)),
    'numbers' : (1, -2, +3.5, 1e3),
    'flags' : (True, False, None),
    'nested' : {'a' : {'b' : ()}},
    'joined' : 'implicit ' 'concatenation',
}

comment = """
A comment block, with 'quotes' and selector = Match({}) inside.
"""

selector = Match({
    'IRIS1' : UseAfter({
        '2015-10-01 00:00:00' : 'a.fits',
    }),
    ('IRIS2',) : ClosestTime({'2015-10-01' : 'b.fits'}),
    'IRIS3' : VersionAfter({'1.0' : 'c.fits'}),
    'IRIS4' : SelectVersion({'<3.1' : 'd.fits', 'default' : 'e.fits'}),
    'IRIS5' : GeometricallyNearest({1.0 : 'f.fits', -2 : 'g.fits'}),
    'IRIS6' : Bracket({1.2 : 'h.fits', 1.5 : 'i.fits'}),
    'IRIS7' : ('j.fits', 'k.fits'),
    'IRIS8' : 'N/A',
})
'''


def test_the_whole_grammar_parses():
    parsed = parse_mapping(FULL_GRAMMAR, "full.rmap")
    assert parsed.header["numbers"] == (1, -2, 3.5, 1000.0)
    assert parsed.header["flags"] == (True, False, None)
    assert parsed.header["nested"] == {"a": {"b": ()}}
    assert parsed.header["joined"] == "implicit concatenation"
    assert "A comment block" in parsed.comment
    assert isinstance(parsed.selector, SelectorCall)
    assert parsed.selector.name == "Match"
    assert parsed.selector.line == 15
    names = [value.name for _, value, _ in parsed.selector.entries[:6]]
    assert names == [
        "UseAfter",
        "ClosestTime",
        "VersionAfter",
        "SelectVersion",
        "GeometricallyNearest",
        "Bracket",
    ]
    key, value, line = parsed.selector.entries[6]
    assert (key, value, line) == ("IRIS7", ("j.fits", "k.fits"), 24)


def test_plain_dict_selector_keeps_entries_and_lines():
    parsed = parse_mapping("header = {}\nselector = {\n  'IRIS' : 'x.imap',\n}\n")
    assert parsed.selector == {"IRIS": "x.imap"}
    assert parsed.selector_entries == [("IRIS", "x.imap", 3)]


@pytest.mark.parametrize(
    "name", ["tmt_0001.pmap", "tmt_iris_0003.imap", "tmt_iris_mask_0001.rmap"]
)
def test_shipped_mappings_parse(name):
    path = shipped_mapping_folder() / name
    parsed = parse_mapping(path.read_text(), name)
    assert parsed.header["name"] == name


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("header = {}\nselector = os.system('x')", 2, "call of 'Attribute'"),
        ("header = {}\nselector = open('x')", 2, "call of 'open'"),
        ("header = {'a': __import__('os')}\nselector = {}", 1, "call of '__import__'"),
        ("header = {'a': x}\nselector = {}", 1, "the name 'x'"),
        ("header = {'a': os.path}\nselector = {}", 1, "attribute access"),
        ("import os\nheader = {}\nselector = {}", 1, "Import statement"),
        ("from os import system\nheader = {}\nselector = {}", 1, "ImportFrom"),
        ("header = {}\nselector = (lambda: 1)()", 2, "call of 'Lambda'"),
        ("header = {'a': lambda: 1}\nselector = {}", 1, "a lambda"),
        ("header = {'a': [x for x in ()]}\nselector = {}", 1, "a comprehension"),
        ("header = {'a': {x: 1 for x in ()}}\nselector = {}", 1, "a comprehension"),
        ("header = {'a': f'{1}'}\nselector = {}", 1, "an f-string"),
        ("header = {'a': [1]}\nselector = {}", 1, "a list"),
        ("header = {'a': {1}}\nselector = {}", 1, "a set"),
        ("header = {'a': 1 + 1}\nselector = {}", 1, "an operator"),
        ("header = {'a': b'x'}\nselector = {}", 1, "bytes"),
        ("header = {'a': 1j}\nselector = {}", 1, "complex"),
        ("header = {'a': ...}\nselector = {}", 1, "ellipsis"),
        ("header = {}\nselector = {'A': 'x', **{}}", 2, "'**' unpacking"),
        (
            "header = {}\nselector = Match({'A': 'x'}, 1)",
            2,
            "exactly one dict argument",
        ),
        ("header = {}\nselector = Match(x={'A': 'x'})", 2, "exactly one dict argument"),
        ("header = {}\nselector = Match(('A', 'x'))", 2, "exactly one dict argument"),
        ("header = {'a': Match({})}\nselector = {}", 1, "call of 'Match'"),
        ("header = {}\nselector = {'A': UseAfter({})}", 2, "call of 'UseAfter'"),
        ("header = {}\nselector = {{}: 'x'}", 2, "dict key must be"),
        ("header = {}\nheader = {}\nselector = {}", 2, "'header' is assigned twice"),
        (
            "header = {}\nother = {}\nselector = {}",
            2,
            "Assign statement is not allowed",
        ),
        ("header = {}\nselector = {}\nprint(1)", 3, "Expr statement"),
        ("header = {}\nselector = {}\ndef f(): pass", 3, "FunctionDef"),
        ("header = {}\nselector = {'a': }", 2, "invalid syntax"),
        ("header = []\nselector = {}", 1, "a list"),
        ("header = 1\nselector = {}", 1, "'header' must be a dict"),
    ],
)
def test_refused_text_names_file_and_line(text, line, words):
    with pytest.raises(MappingError) as error:
        parse_mapping(text, "bad.rmap")
    message = str(error.value)
    assert message.startswith(f"bad.rmap:{line}:"), message
    assert words in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("selector = {}", "no 'header = ...'"),
        ("header = {}", "no 'selector = ...'"),
        ("header = {}\ncomment = 3\nselector = {}", "'comment' must be a string"),
        ("header = {}\nselector = {}\x00", "null bytes"),
        ("header = {}\nselector = " + "(" * 500 + ")" * 500, "bad.rmap"),
    ],
)
def test_other_refusals(text, words):
    with pytest.raises(MappingError, match=r"^bad\.rmap") as error:
        parse_mapping(text, "bad.rmap")
    assert words in str(error.value)


def test_parsing_never_executes_or_compiles_code(monkeypatch):
    compiled_flags = []
    real_compile = builtins.compile

    def watched_compile(source, filename, mode, flags=0, *args, **kwargs):
        compiled_flags.append(flags)
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("a mapping was executed")

    monkeypatch.setattr(builtins, "compile", watched_compile)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "eval", refuse)
    parse_mapping(FULL_GRAMMAR, "full.rmap")
    parse_literal("{'operational_context': 'tmt_0001.pmap'}")
    with pytest.raises(MappingError):
        parse_mapping("header = {}\nselector = exec('x = 1')", "bad.rmap")
    assert compiled_flags
    # Only an abstract syntax tree is built, never a code object.
    assert all(flags & ast.PyCF_ONLY_AST for flags in compiled_flags)


def test_parse_literal():
    assert parse_literal("{'a': (1, 'b')}") == {"a": (1, "b")}
    with pytest.raises(MappingError, match="config:1: a call of 'Match'"):
        parse_literal("Match({})", "config")
    with pytest.raises(MappingError, match="invalid syntax"):
        parse_literal("a = 1", "config")


def test_odd_escapes_in_strings_do_not_warn(recwarn):
    parsed = parse_mapping("header = {'a': '\\_x'}\nselector = {}", "odd.rmap")
    assert parsed.header["a"] == "\\_x"
    assert not [w for w in recwarn if "escape" in str(w.message)]


def test_text_over_the_size_limit_is_refused_before_parsing():
    """Issue 9: a valid but 4 MiB+ mapping text is not parsed."""
    text = "header = {}\nselector = {}\n" + "# padding\n" * (MAX_MAPPING_BYTES // 10)
    with pytest.raises(MappingError, match=r"^big\.rmap: \d+ bytes; a mapping may"):
        parse_mapping(text, "big.rmap")
    # Multi-byte characters count as bytes: fewer characters than the limit.
    wide = "header = {}\nselector = {}\n" + "# \u00e9\u00e9\u00e9\u00e9\n" * (
        MAX_MAPPING_BYTES // 10
    )
    assert len(wide) < MAX_MAPPING_BYTES
    with pytest.raises(MappingError, match="4 MiB"):
        parse_mapping(wide, "wide.rmap")


def test_nesting_beyond_the_limit_is_refused_before_parsing():
    """Issue 9: deep but valid nesting is refused with its line."""
    deep = "(" * (MAX_NESTING + 1) + ")" * (MAX_NESTING + 1)
    text = f"header = {{\n'x': {deep}}}\nselector = {{}}\n"
    with pytest.raises(MappingError) as error:
        parse_mapping(text, "deep.rmap")
    assert str(error.value).startswith(
        f"deep.rmap:2: brackets nested more than {MAX_NESTING} deep"
    )
    shallow = "(" * (MAX_NESTING - 1) + ")" * (MAX_NESTING - 1)
    parse_mapping(f"header = {{'x': {shallow}}}\nselector = {{}}\n")


def test_brackets_in_strings_and_comments_do_not_count_as_nesting():
    many = "(" * (2 * MAX_NESTING)
    text = (
        f"# {many}\nheader = {{'a': '{many}', 'b': \"{many}\", 'c': 'it\\'s {many}'}}\n"
        f'comment = """\n{many}\n"""\nselector = {{}}\n'
    )
    parsed = parse_mapping(text, "strings.rmap")
    assert parsed.header["a"] == many
    assert parsed.comment.strip() == many


def test_a_key_written_twice_keeps_its_place_and_last_value():
    # The stock client runs the text, and a Python dict keeps the first
    # place and the last value of a repeated key (1 and 1.0 are one key).
    parsed = parse_mapping(
        "header = {'a': 1, 'b': 2, 'a': 3}\n"
        "selector = Match({\n 'A': 'x',\n 'B': 'y',\n 'A': 'z',\n 1: 'p', 1.0: 'q'})"
    )
    assert parsed.header == {"a": 3, "b": 2}
    assert parsed.selector.entries == [("A", "z", 5), ("B", "y", 4), (1, "q", 6)]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'ends in "',
        "C:\\temp \\N{DEGREE SIGN}",
        float("inf"),
        -float("inf"),
        1e300,
        -3,
        True,
        None,
        ("x",),
        (),
        (("A", 1.5), {"GENERIC": "N/A", "k": (float("inf"),)}),
    ],
)
def test_literal_text_reads_back_as_the_value(value):
    assert parse_literal(literal_text(value)) == value


@pytest.mark.parametrize("value", [float("nan"), [1], object()])
def test_literal_text_refuses_what_a_mapping_cannot_hold(value):
    with pytest.raises(ValueError, match="cannot be written in a mapping"):
        literal_text(value)


@pytest.mark.parametrize(
    "comment",
    [
        "",
        "two\nlines",
        'ends in "',
        "ends in '",
        "both \"\"\" and ''' inside",
        "a \\N{DEGREE SIGN} and \\d",
        "ends in a backslash \\",
        "carriage\rreturn, tab\t, nul\x00",
        "degree \N{DEGREE SIGN}",
    ],
)
def test_comment_text_reads_back_as_the_comment(comment):
    text = f"header = {{}}\ncomment = {comment_text(comment)}\nselector = {{}}\n"
    assert parse_mapping(text).comment == comment
