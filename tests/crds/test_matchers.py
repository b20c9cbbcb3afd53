"""Every Match key syntax, scored against conditioned values as the stock
CRDS client scores them (crds.core.selectors.matcher)."""

import pytest

from irisdq.crds.matchers import condition_key, make_matcher
from irisdq.crds.values import condition_value


@pytest.mark.parametrize(
    ("key", "value", "score"),
    [
        # plain values: equality after conditioning
        ("IRIS1", "IRIS1", 1),
        ("IRIS1", "IRIS2", -1),
        ("iris1", " Iris1 ", 1),
        (1, "1", 1),
        ("1", 1.0, 1),
        ("2048", 2048, 1),
        (True, "T", 1),
        ("FALSE", "F", 1),
        # globs
        ("IRIS*", "IRIS1", 1),
        ("IRIS*", "IRIS", 1),
        ("IRIS*", "XIRIS1", -1),
        ("*1", "IRIS1", 1),
        ("*", "ANYTHING", 1),
        ("ANY", "ANYTHING", 1),
        ("I.IS", "IRIS", -1),
        ("IRIS?|X", "IRIS1", 1),  # globs are shell globs
        ("IRIS[12]|X", "IRIS3", -1),
        # alternatives, each a glob
        ("A|B|C", "B", 1),
        ("A|B|C", "D", -1),
        ("IR*|NIR", "IRX", 1),
        ("IR*|NIR", "NIR", 1),
        ("IR*|NIR", "NIRX", -1),
        ("1|2", 2, 1),
        ("1|2", 3, -1),
        # don't care
        ("N/A", "ANYTHING", 0),
        ("N/A", "*", 0),
        ("NOT APPLICABLE", "X", 0),
        # a dataset value of N/A does not care either
        ("IRIS1", "N/A", 0),
        ("IRIS*", "N/A", 0),
        ("(X+)", "N/A", 0),
        ("#>1#", "N/A", 0),
        ("NOT IRIS1", "N/A", 0),
        # a dataset value of '*' matches any key but N/A
        ("IRIS1", "*", 1),
        ("(X+)", "*", 1),
        ("ANY", "*", 1),
        ("NOT IRIS1", "*", -1),
        # regular expressions match at the start of the value, as written
        ("(IRIS[12])", "IRIS2", 1),
        ("(IRIS[12])", "IRIS3", -1),
        ("(IRIS)", "IRIS1", 1),
        ("(IRIS)", "XIRIS", -1),
        (r"(F\d+W)", "F200W", 1),
        (r"(f\d+w)", "F200W", -1),
        (r"(F\d+W)", "FXW", -1),
        # literals: no glob, no alternatives
        ("{A|B}", "A|B", 1),
        ("{A|B}", "A", -1),
        ("{IRIS*}", "IRIS*", 1),
        ("{IRIS*}", "IRIS1", -1),
        # between lo hi: lo <= x < hi
        ("between 1 5", 1, 1),
        ("between 1 5", "4.9", 1),
        ("between 1 5", 5, -1),
        ("between 1 5", "0.5", -1),
        ("between 1 5", "FULL", -1),
        ("BETWEEN -1.5 2e3", "0", 1),
        # relational expressions
        ("#>1 and <=20#", 20, 1),
        ("#>1 and <=20#", 1, -1),
        ("#>1 and <=20#", "1.5", 1),
        ("#>1 and <=20#", 21, -1),
        ("#<1 or >10#", 0, 1),
        ("#<1 or >10#", 5, -1),
        ("#<1 or >10#", 11, 1),
        ("#>1#", "FULL", -1),
        ("#FULL or SUB64#", "SUB64", 1),
        ("#>1 or FULL#", "FULL", 1),
        (">=2.5", "2.5", 1),  # a bare comparison
        ("<0", "1", -1),
        # negation
        ("NOT IRIS1", "IRIS2", 1),
        ("NOT IRIS1", "IRIS1", -1),
        ("NOT IRIS*", "NIRC", 1),
        ("NOT IRIS*", "IRIS9", -1),
        ("NOT between 1 5", 7, 1),
    ],
)
def test_key_syntax(key, value, score):
    matcher = make_matcher(condition_key(key))
    assert matcher.score(condition_value(value)) == score


@pytest.mark.parametrize(
    "key",
    [
        "([)",
        "between 1",
        "between A B",
        "between 5 1",
        "#>#",
        "#>1 and <3 or >5#",
        "#(>1 and <3) or ==10#",
        "#>1 and <2 and <3#",
        ">FULL",
    ],
)
def test_malformed_keys_raise_value_error(key):
    with pytest.raises(ValueError, match="'"):
        make_matcher(condition_key(key))


def test_condition_key_keeps_regexes_and_literals_as_written():
    assert condition_key(r"(f\d\s)") == r"(f\d\s)"
    assert condition_key("{a|b}") == "{a|b}"
    assert condition_key(" iris1 ") == "IRIS1"
    assert condition_key("b | a|") == "A|B"
