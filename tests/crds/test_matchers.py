"""Every Match key syntax of CRDS.md, scored against conditioned values."""

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
        # a dataset value of '*' matches any key but N/A
        ("IRIS1", "*", 1),
        ("(X+)", "*", 1),
        ("ANY", "*", 1),
        # regular expressions match the whole value
        ("(IRIS[12])", "IRIS2", 1),
        ("(IRIS[12])", "IRIS3", -1),
        ("(IRIS)", "IRIS1", -1),
        (r"(F\d+W)", "F200W", 1),
        (r"(f\d+w)", "F200W", 1),
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
        ("#(>1 and <3) or ==10#", 2, 1),
        ("#(>1 and <3) or ==10#", 10, 1),
        ("#(>1 and <3) or ==10#", 5, -1),
        ("# != 4 #", 4, -1),
        ("# != 4 #", 3, 1),
        ("#>1#", "FULL", -1),
        ("#=='FULL'#", "FULL", 1),
        ("#!=FULL#", "SUB64", 1),
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
    ["([)", "between 1", "between A B", "#>#", "#1#", "#>1 and#", "#(>1#", "#>1 >2#"],
)
def test_malformed_keys_raise_value_error(key):
    with pytest.raises(ValueError, match="'"):
        make_matcher(condition_key(key))


def test_condition_key_keeps_regex_escapes():
    assert condition_key(r"(f\d\s)") == r"(F\d\s)"
    assert condition_key(" iris1 ") == "IRIS1"
