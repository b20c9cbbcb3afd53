"""Each selector class on a table of cases worked out from CRDS.md and
checked against the stock CRDS client (see test_differential.py)."""

import re

import pytest

from irisdq.crds.selectors import SelectionFailed
from irisdq.errors import MappingError

DET = "META.INSTRUMENT.DETECTOR"
SUB = "META.SUBARRAY.NAME"
DATE = "META.OBSERVATION.DATE"
TIME = "META.OBSERVATION.TIME"
VER = "META.CALIBRATION_SOFTWARE_VERSION"
WAVE = "META.INSTRUMENT.WAVELENGTH"

RANKED = """Match({
    ('IRIS1', 'N/A') : 'generic.fits',
    ('IRIS1', 'FULL') : 'full.fits',
    ('IRIS*', 'SUB*') : 'sub.fits',
})"""


@pytest.mark.parametrize(
    ("detector", "subarray", "expected"),
    [
        ("IRIS1", "FULL", "full.fits"),  # rank 2 beats rank 1
        ("IRIS1", "SUB64", "sub.fits"),  # glob matches count as exact: rank 2
        ("IRIS1", "CUSTOM", "generic.fits"),
        ("iris1", "custom", "generic.fits"),
        ("IRIS1", "SUB1", "sub.fits"),
        ("IRIS1", "UNDEFINED", "generic.fits"),
    ],
)
def test_match_ranks_candidates_by_exact_matches(choose, detector, subarray, expected):
    params = {DET: detector, SUB: subarray}
    assert choose(RANKED, ((DET, SUB),), params) == expected


def test_match_without_candidate_names_values_and_rule_keys(choose):
    with pytest.raises(SelectionFailed) as error:
        choose(RANKED, ((DET, SUB),), {DET: "IRIS2", SUB: "FULL"})
    message = str(error.value)
    assert f"{DET}='IRIS2'" in message
    assert "('IRIS1', 'N/A'); ('IRIS1', 'FULL'); ('IRIS*', 'SUB*')" in message


def test_match_refuses_a_value_no_rule_names(choose):
    # CRDS checks each value against the values the keys name before it
    # matches: IRIS2 is not 'IRIS1' or 'IRIS*', though the glob would take it.
    with pytest.raises(SelectionFailed, match="is none of the values the rules name"):
        choose(RANKED, ((DET, SUB),), {DET: "IRIS2", SUB: "SUB1"})
    wildcard = "Match({'IRIS*' : 'a.fits', 'N/A' : 'b.fits'})"
    assert choose(wildcard, ((DET,),), {DET: "IRIS2"}) == "a.fits"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NOT IRIS2", "is none of the values the rules name"),  # IRIS2 is checked
        ("NOT IRIS1", "no rule matches"),  # IRIS1 is named: matching decides
        ("between IRIS1 IRIS3", "no rule matches"),  # bounds not checked
        ("between 1", "no rule matches"),
    ],
)
def test_match_checks_the_value_inside_not_only(choose, value, expected):
    # As the stock client: 'NOT X' is refused when X is no rule's value; a
    # BETWEEN value is not checked and, against plain keys, matches nothing.
    text = "Match({'IRIS1' : 'a.fits', 'IRIS3' : 'b.fits'})"
    with pytest.raises(SelectionFailed, match=expected):
        choose(text, ((DET,),), {DET: value})


def test_match_dataset_not_applicable_is_dont_care(choose):
    # A dataset value of N/A scores 0 against every key, N/A rules included.
    text = "Match({('IRIS1', 'FULL') : 'full.fits', ('IRIS2', 'N/A') : 'any.fits'})"
    params = {DET: "IRIS1", SUB: "N/A"}
    assert choose(text, ((DET, SUB),), params) == "full.fits"
    params = {DET: "N/A", SUB: "SUB64"}
    assert choose(text, ((DET, SUB),), params) == "any.fits"


def test_match_missing_parameter_is_undefined(choose):
    with pytest.raises(SelectionFailed, match=f"{DET}='UNDEFINED'"):
        choose(RANKED, ((DET, SUB),), {SUB: "FULL"})


FALLBACK = """Match({
    ('IRIS1', 'FULL') : UseAfter({'2020-01-01 00:00:00' : 'new_full.fits'}),
    ('IRIS1', 'N/A') : UseAfter({'2015-01-01 00:00:00' : 'old.fits'}),
})"""


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2021-01-01", "new_full.fits"),
        ("2016-01-01", "old.fits"),  # the rank-2 rule has no date early enough
    ],
)
def test_match_falls_back_to_next_rank_when_nested_selector_fails(
    choose, date, expected
):
    params = {DET: "IRIS1", SUB: "FULL", DATE: date, TIME: "00:00:00"}
    assert choose(FALLBACK, ((DET, SUB), (DATE, TIME)), params) == expected


def test_match_fails_when_every_rank_fails(choose):
    params = {DET: "IRIS1", SUB: "FULL", DATE: "2014-01-01", TIME: "00:00:00"}
    with pytest.raises(SelectionFailed) as error:
        choose(FALLBACK, ((DET, SUB), (DATE, TIME)), params)
    assert "earliest 2020-01-01 00:00:00" in str(error.value)
    assert "earliest 2015-01-01 00:00:00" in str(error.value)


MERGED = """Match({
    ('IRIS1', 'N/A') : UseAfter({
        '2015-01-01 00:00:00' : 'a.fits',
        '2018-01-01 00:00:00' : 'c.fits',
    }),
    ('IRIS*', 'N/A') : UseAfter({'2016-01-01 00:00:00' : 'b.fits'}),
})"""


@pytest.mark.parametrize(
    ("detector", "date", "expected"),
    [
        ("IRIS1", "2015-06-01", "a.fits"),
        ("IRIS1", "2017-01-01", "b.fits"),  # from the other, equally ranked rule
        ("IRIS1", "2019-01-01", "c.fits"),
    ],
)
def test_equally_ranked_use_after_rules_are_merged(choose, detector, date, expected):
    params = {DET: detector, SUB: "FULL", DATE: date, TIME: "00:00:00"}
    assert choose(MERGED, ((DET, SUB), (DATE, TIME)), params) == expected


@pytest.mark.parametrize("order", [("a.fits", "b.fits"), ("b.fits", "a.fits")])
def test_merged_use_afters_with_one_date_take_the_greater_file_name(choose, order):
    text = f"""Match({{
        'IRIS1' : UseAfter({{'2015-01-01 00:00:00' : {order[0]!r}}}),
        'IRIS*' : UseAfter({{'2015-01-01 00:00:00' : {order[1]!r}}}),
    }})"""
    params = {DET: "IRIS1", DATE: "2016-01-01", TIME: "00:00:00"}
    assert choose(text, ((DET,), (DATE, TIME)), params) == "b.fits"


def test_merging_different_selectors_for_one_date_is_a_mapping_error(choose):
    text = """Match({
        'IRIS1' : UseAfter({'2015-01-01 00:00:00' : Match({'A' : 'a.fits'})}),
        'IRIS*' : UseAfter({'2015-01-01 00:00:00' : Match({'A' : 'b.fits'})}),
    })"""
    params = {DET: "IRIS1", SUB: "A", DATE: "2016-01-01", TIME: "00:00:00"}
    with pytest.raises(MappingError, match="give different selectors"):
        choose(text, ((DET,), (DATE, TIME), (SUB,)), params)


def test_equally_ranked_files_are_ambiguous_unless_identical(choose):
    # The stock client returns such files as a tuple; irisdq refuses (a
    # documented difference, see test_differential.py).
    text = "Match({'IRIS1' : 'a.fits', 'IRIS*' : 'b.fits', 'IRIS?' : 'a.fits'})"
    with pytest.raises(MappingError, match=r"test\.rmap:2: .* lines 2, 2 equally well"):
        choose(text, ((DET,),), {DET: "IRIS1"})
    same = "Match({'IRIS1' : 'a.fits', 'IRIS*' : 'a.fits'})"
    assert choose(same, ((DET,),), {DET: "IRIS1"}) == "a.fits"


@pytest.mark.parametrize(
    ("substitutions", "detector", "expected"),
    [
        ({DET: {"ALL": "IRIS1|IRIS2"}}, "IRIS2", "x.fits"),
        ({DET: {"ALL": "IRIS1|IRIS2"}}, "IRIS1", "x.fits"),
        ({DET: {"ALL": ("IRIS1", "IRIS3")}}, "IRIS3", "x.fits"),
    ],
)
def test_header_substitutions_apply_to_keys(choose, substitutions, detector, expected):
    text = "Match({('ALL',) : 'x.fits'})"
    assert choose(text, ((DET,),), {DET: detector}, substitutions) == expected


def test_substitutions_compare_keys_as_written(choose):
    # 'all' is not 'ALL' before conditioning, so the key stays 'ALL'.
    with pytest.raises(SelectionFailed):
        choose("Match({'ALL' : 'x.fits'})", ((DET,),), {DET: "IRIS1"},
               {DET: {"all": "IRIS1"}})  # fmt: skip


def test_substitution_does_not_widen_other_values(choose):
    text = "Match({'ALL' : 'x.fits'})"
    with pytest.raises(SelectionFailed):
        choose(text, ((DET,),), {DET: "IRIS4"}, {DET: {"ALL": "IRIS1|IRIS2"}})


def test_generic_subarray_is_always_dont_care(choose):
    text = "Match({('IRIS1', 'GENERIC') : 'x.fits', ('IRIS1', 'FULL') : 'full.fits'})"
    assert choose(text, ((DET, SUB),), {DET: "IRIS1", SUB: "SUB64"}) == "x.fits"
    assert choose(text, ((DET, SUB),), {DET: "IRIS1", SUB: "FULL"}) == "full.fits"


def test_match_key_forms(choose):
    # A bare string stands for a 1-tuple; () is the key of a level without
    # parameters only.
    text = "Match({'IRIS1' : 'one.fits', ('IRIS2',) : 'two.fits'})"
    assert choose(text, ((DET,),), {DET: "IRIS1"}) == "one.fits"
    assert choose(text, ((DET,),), {DET: "IRIS2"}) == "two.fits"
    with pytest.raises(MappingError, match="has 0 value"):
        choose("Match({() : 'any.fits'})", ((DET,),), {DET: "IRIS1"})
    empty_level = "Match({() : UseAfter({'2015-01-01 00:00:00' : 'x.fits'})})"
    params = {DATE: "2020-01-01", TIME: "00:00:00"}
    assert choose(empty_level, ((), (DATE, TIME)), params) == "x.fits"


def test_numeric_dataset_values_match_numeric_keys(choose):
    text = "Match({('1', 2048) : 'x.fits'})"
    params = {"META.SUBARRAY.XSTART": 1, "META.SUBARRAY.XSIZE": "2048"}
    parkey = (("META.SUBARRAY.XSTART", "META.SUBARRAY.XSIZE"),)
    assert choose(text, parkey, params) == "x.fits"


@pytest.mark.parametrize("written", ["N/A", "n/a", "TEMP_N/A", "OMIT", "omit"])
def test_not_applicable_choice(choose, written):
    text = f"Match({{'IRIS1' : {written!r}}})"
    assert choose(text, ((DET,),), {DET: "IRIS1"}) == "N/A"


def test_nesting_three_levels(choose):
    text = """Match({
        'IRIS1' : Match({
            'FULL' : UseAfter({'2015-01-01 00:00:00' : 'full.fits'}),
            'N/A' : UseAfter({'2015-01-01 00:00:00' : 'other.fits',
                              '2019-01-01 00:00:00' : 'other2.fits'}),
        }),
    })"""
    parkey = ((DET,), (SUB,), (DATE, TIME))
    base = {DET: "IRIS1", DATE: "2020-01-01", TIME: "00:00:00"}
    assert choose(text, parkey, {**base, SUB: "FULL"}) == "full.fits"
    assert choose(text, parkey, {**base, SUB: "SUB64"}) == "other2.fits"
    assert (
        choose(text, parkey, {**base, SUB: "SUB64", DATE: "2016-01-01"}) == "other.fits"
    )


USE_AFTER = """UseAfter({
    '2015-10-01 00:00:00' : 'a.fits',
    '2018-01-01 12:00:00' : 'b.fits',
})"""


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("2015-10-01", "00:00:00", "a.fits"),  # equal to a key
        ("2018-01-01", "11:59:59", "a.fits"),
        ("2018-01-01", "12:00:00", "b.fits"),
        ("2030-01-01", "00:00:00", "b.fits"),
        ("2018/01/02", "00:00:00", "b.fits"),
        ("01/02/2018", "00:00:00", "b.fits"),
        ("2018-01-01", "12:00:00.5", "b.fits"),
        ("2018-01-01", "12:00", "b.fits"),
    ],
)
def test_use_after(choose, date, time, expected):
    params = {DATE: date, TIME: time}
    assert choose(USE_AFTER, ((DATE, TIME),), params) == expected


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("2015-09-30", "earlier than every use-after date (earliest 2015-10-01"),
        ("UNDEFINED", "is not a date"),
        ("SOON", "is not a date"),
        ("2018-1-1", "is not a date"),
    ],
)
def test_use_after_failures(choose, date, words):
    with pytest.raises(SelectionFailed, match=words.replace("(", r"\(")):
        choose(USE_AFTER, ((DATE, TIME),), {DATE: date, TIME: "23:59:59"})


def test_use_after_needs_the_time(choose):
    # As CRDS: an UNDEFINED date parameter is an error, not midnight.
    with pytest.raises(SelectionFailed, match="UNDEFINED"):
        choose(USE_AFTER, ((DATE, TIME),), {DATE: "2018-01-01"})


@pytest.mark.parametrize("time", ["UNDEFINED", None])
@pytest.mark.parametrize(
    ("observatory", "expected"),
    [("TMT", "b.fits"), ("LIGERIRI", "b.fits"), ("JWST", None), ("ROMAN", None)],
)
def test_iso_moment_without_time_only_in_tmt_and_liger(
    choose, observatory, expected, time
):
    # IRIS files write DATE-OBS as a full ISO moment with no TIME-OBS: TMT
    # and Liger mappings take it; for JWST and Roman irisdq refuses it, as
    # CRDS does for every observatory.
    params = {DATE: "2018-01-01T12:00:00"}
    if time is not None:
        params[TIME] = time
    if expected is None:
        with pytest.raises(SelectionFailed, match="UNDEFINED"):
            choose(USE_AFTER, ((DATE, TIME),), params, observatory=observatory)
    else:
        assert (
            choose(USE_AFTER, ((DATE, TIME),), params, observatory=observatory)
            == expected
        )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # The dataset's moment is written 'YYYY-MM-DD HH:MM:SS' and compared
        # with the keys as written: ' ' sorts before 'T', so the moment of a
        # 'T' key itself is before that key (roman_wfi_distortion_0001.rmap).
        ("2020-01-01", "a.fits"),
        ("2020-01-01T00:00:00", "a.fits"),
        ("2020-01-01 00:00:01", "a.fits"),
        ("2020-01-02", "b.fits"),
        ("2019-12-31T23:59:59", "a.fits"),
    ],
)
def test_use_after_compares_keys_as_written(choose, moment, expected):
    text = """UseAfter({
        '2019-01-01 00:00:00' : 'a.fits',
        '2020-01-01T00:00:00' : 'b.fits',
    })"""
    assert choose(text, ((DATE,),), {DATE: moment}) == expected


def test_use_after_fractions_compare_as_crds_writes_them(choose):
    # CRDS writes a dataset's microseconds as six digits: .5 s is
    # '.500000', after a key written '.25'... and before '.6'.
    text = """UseAfter({
        '2020-01-01 00:00:00.25' : 'a.fits',
        '2020-01-01 00:00:00.6' : 'b.fits',
    })"""
    assert choose(text, ((DATE, TIME),), {DATE: "2020-01-01", TIME: "00:00:00.5"}) == (
        "a.fits"
    )


def test_use_after_key_written_twice_keeps_the_last(choose):
    # As jwst_miri_flat_0022.rmap: the stock client runs the text, and a
    # dict keeps the last value of a repeated key.
    text = """UseAfter({
        '2015-01-01 00:00:00' : 'a.fits',
        '2015-01-01 00:00:00' : 'b.fits',
    })"""
    assert choose(text, ((DATE, TIME),), {DATE: "2016-01-01", TIME: "0:00"}) == "b.fits"


def test_match_key_written_twice_keeps_the_last(choose):
    # As roman_wfi_flat_0004_duplicate.rmap.
    text = "Match({('A1',) : 'a.fits', ('B1',) : 'x.fits', ('A1',) : 'b.fits'})"
    assert choose(text, ((DET,),), {DET: "A1"}) == "b.fits"


def test_table_choice_is_returned_whole(choose):
    # As tobs_tinstr_tfilekind.rmap, which the stock client's own tests use.
    text = """UseAfter({
        '2004-04-25 21:31:02' : {'foo' : 'foo_bia1.fits', 'bar' : 'bar_bia2.fits'},
    })"""
    assert choose(text, ((DATE, TIME),), {DATE: "2005-01-01", TIME: "0:00"}) == {
        "foo": "foo_bia1.fits",
        "bar": "bar_bia2.fits",
    }


@pytest.mark.parametrize(
    ("key", "present", "absent"),
    [
        # A parameter the dataset lacks is refused unless a rule key of it
        # is N/A (then it is 'UNDEFINED', which N/A does not care about);
        # the text 'UNDEFINED' is a value like any other.
        ("ANY", "a.fits", SelectionFailed),
        ("N/A", "a.fits", "a.fits"),
        ("NOT B1", "a.fits", SelectionFailed),
        ("(.*)", "a.fits", SelectionFailed),
    ],
)
def test_absent_parameter_is_not_undefined(choose, key, present, absent):
    text = f"Match({{({key!r}, 'X') : 'a.fits'}})"
    parkey = ((DET, SUB),)
    assert choose(text, parkey, {DET: "UNDEFINED", SUB: "X"}) == present
    if absent is SelectionFailed:
        with pytest.raises(SelectionFailed, match=r"has no META\.INSTRUMENT\.DETECTOR"):
            choose(text, parkey, {SUB: "X"})
    else:
        assert choose(text, parkey, {SUB: "X"}) == absent


@pytest.mark.parametrize(
    "selector",
    [
        "UseAfter({'2015-01-01 00:00:00' : 'a.fits'})",
        "ClosestTime({'2015-01-01 00:00:00' : 'a.fits'})",
        "VersionAfter({'1.0' : 'a.fits'})",
        "SelectVersion({'default' : 'a.fits'})",
        "GeometricallyNearest({1.0 : 'a.fits'})",
        "Bracket({1.0 : 'a.fits'})",
    ],
)
def test_absent_parameter_of_other_selectors_never_matches(choose, selector):
    with pytest.raises(SelectionFailed):
        choose(selector, ((DATE,),), {})


def test_empty_use_after_never_matches(choose):
    with pytest.raises(SelectionFailed, match="earlier than every use-after date"):
        choose("UseAfter({})", ((DATE, TIME),), {DATE: "2018-01-01", TIME: "0:00"})


CLOSEST = """ClosestTime({
    '2015-01-01 00:00:00' : 'a.fits',
    '2016-01-01 00:00:00' : 'b.fits',
    '2017-01-01 00:00:00' : 'c.fits',
})"""


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("2010-01-01", "00:00:00", "a.fits"),
        ("2015-03-01", "00:00:00", "a.fits"),
        ("2015-09-01", "00:00:00", "b.fits"),
        ("2015-07-02", "12:00:00", "a.fits"),  # exactly between: the earlier
        ("2015-07-02", "12:00:01", "b.fits"),
        ("2020-01-01", "00:00:00", "c.fits"),
    ],
)
def test_closest_time(choose, date, time, expected):
    assert choose(CLOSEST, ((DATE, TIME),), {DATE: date, TIME: time}) == expected


VERSION_AFTER = "VersionAfter({'1.0' : 'a.fits', '2.1' : 'b.fits', '10' : 'c.fits'})"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0", "a.fits"),
        ("1.5", "a.fits"),
        ("2.1", "b.fits"),
        ("3.1.2", "b.fits"),
        ("9.9", "b.fits"),
        ("10", "c.fits"),
        ("11.0.1", "c.fits"),
    ],
)
def test_version_after(choose, version, expected):
    assert choose(VERSION_AFTER, ((VER,),), {VER: version}) == expected


@pytest.mark.parametrize("version", ["0.9", "beta", "UNDEFINED"])
def test_version_after_failures(choose, version):
    with pytest.raises(SelectionFailed):
        choose(VERSION_AFTER, ((VER,),), {VER: version})


SELECT_VERSION = (
    "SelectVersion({'<3.1' : 'a.fits', '<5' : 'b.fits', 'default' : 'c.fits'})"
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.0", "a.fits"),
        ("3.0", "a.fits"),
        ("3.1", "b.fits"),
        ("4.5", "b.fits"),
        ("5.5", "c.fits"),
    ],
)
def test_select_version(choose, version, expected):
    assert choose(SELECT_VERSION, ((VER,),), {VER: version}) == expected


@pytest.mark.parametrize("version", ["3.0.9", "beta"])
def test_select_version_needs_a_number(choose, version):
    with pytest.raises(SelectionFailed, match="not a number"):
        choose(SELECT_VERSION, ((VER,),), {VER: version})


@pytest.mark.parametrize(
    ("key", "version", "matches"),
    [
        ("==3", "3.0", True),
        ("3.0", "3", True),
        ("=3", "2", True),  # CRDS's order: the first key not below (2, '=')
        ("=3", "4", False),
        ("<=1", "0.5", True),
        ("<=1", "1", False),  # '<=' sorts before '=': not taken at 1
    ],
)
def test_select_version_relations(choose, key, version, matches):
    text = f"SelectVersion({{{key!r} : 'x.fits'}})"
    if matches:
        assert choose(text, ((VER,),), {VER: version}) == "x.fits"
    else:
        with pytest.raises(SelectionFailed, match="above every relation"):
            choose(text, ((VER,),), {VER: version})


NEAREST = "GeometricallyNearest({1.0 : 'a.fits', '2' : 'b.fits', 5 : 'c.fits'})"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.4, "a.fits"),
        (1.5, "a.fits"),
        (1.6, "b.fits"),
        (100, "c.fits"),
        (-3, "a.fits"),
    ],
)
def test_geometrically_nearest(choose, value, expected):
    assert choose(NEAREST, ((WAVE,),), {WAVE: value}) == expected


def test_geometrically_nearest_needs_a_number(choose):
    with pytest.raises(SelectionFailed, match="not a number"):
        choose(NEAREST, ((WAVE,),), {WAVE: "BLUE"})


BRACKET = "Bracket({1.2 : 'a.fits', 1.5 : 'b.fits', 5.0 : 'c.fits'})"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.3, ("a.fits", "b.fits")),
        (1.0, ("a.fits", "a.fits")),
        (1.5, ("b.fits", "b.fits")),
        (4.0, ("b.fits", "c.fits")),
        (5.1, ("c.fits", "c.fits")),
    ],
)
def test_bracket(choose, value, expected):
    assert choose(BRACKET, ((WAVE,),), {WAVE: value}) == expected


@pytest.mark.parametrize(
    ("text", "parkey", "words"),
    [
        ("UseAfter({'yesterday' : 'a.fits'})", ((DATE,),), "not a date and time"),
        (
            "UseAfter({'2015-02-30 00:00:00' : 'a.fits'})",
            ((DATE,),),
            "day is out of range",
        ),
        ("Match({('A', 'B') : 'a.fits'})", ((DET,),), "has 2 value(s)"),
        ("Match({'A' : 'a.fits'})", ((DET, SUB),), "has 1 value(s)"),
        ("Match({(('A',),) : 'a.fits'})", ((DET,),), "must be a string or number"),
        ("Match({'([)' : 'a.fits'})", ((DET,),), "bad regular expression"),
        ("Match({'A' : 3})", ((DET,),), "a choice must be"),
        ("Match({'A' : Match({'B' : 'x'})})", ((DET,),), "parkey has only 1 level"),
        ("GeometricallyNearest({'blue' : 'a.fits'})", ((WAVE,),), "is not a number"),
        ("Bracket({'1.0' : 'b'})", ((WAVE,),), "is not a number"),
        ("GeometricallyNearest({1 : 'a'})", ((WAVE, DET),), "exactly one parameter"),
        ("VersionAfter({'new' : 'a.fits'})", ((VER,),), "is not a version"),
        ("SelectVersion({'~3' : 'a.fits'})", ((VER,),), "is not 'default' or"),
        ("SelectVersion({'>=2' : 'a.fits'})", ((VER,),), "is not 'default' or"),
        ("SelectVersion({'=5' : 'a', '5.0' : 'b'})", ((VER,),), "appears twice"),
        ("VersionAfter({10 : 'a.fits'})", ((VER,),), "is not a version"),
        ("Match({'#>1 and <2 and <3#' : 'a.fits'})", ((DET,),), "no third term"),
        ("Match({'full' : 'a', ('FULL',) : 'b'})", ((DET,),), "once conditioned"),
        ("GeometricallyNearest({1 : 'a', '1.0' : 'b'})", ((WAVE,),), "appears twice"),
        ("VersionAfter({'1.0' : 'a', '1.00' : 'b'})", ((VER,),), "appears twice"),
        ("SelectVersion({'<True' : 'a.fits'})", ((VER,),), "is not 'default' or"),
        ("SelectVersion({'(1, 2)' : 'a.fits'})", ((VER,),), "is not 'default' or"),
        ("Match({'A' : UseAfter({})})", ((DET,), ()), "needs date parameters"),
    ],
)
def test_malformed_selectors_fail_at_load_with_line(choose, text, parkey, words):
    with pytest.raises(MappingError, match=r"^test\.rmap:2: ") as error:
        choose(text, parkey, {})
    assert words in str(error.value)


def test_merge_compares_not_applicable_as_written(choose):
    # 'n/a' > 'a.fits' > 'OMIT' as text: CRDS keeps the greatest as written.
    text = """Match({
        'IRIS1' : UseAfter({'2015-01-01 00:00:00' : 'a.fits'}),
        'IRIS*' : UseAfter({'2015-01-01 00:00:00' : 'n/a'}),
        'IRIS?' : UseAfter({'2015-01-01 00:00:00' : 'OMIT'}),
    })"""
    params = {DET: "IRIS1", DATE: "2016-01-01", TIME: "00:00:00"}
    assert choose(text, ((DET,), (DATE, TIME)), params) == "N/A"


@pytest.mark.parametrize("value", ["1e40", "-1e40", "nan"])
def test_geometrically_nearest_overflow_and_nan_take_the_first_key(choose, value):
    # Distances are float32, as in CRDS: beyond its range every distance is
    # infinite, and a NaN distance is the minimum (numpy.argmin).
    text = "GeometricallyNearest({1.0 : 'a.fits', 1e38 : 'b.fits'})"
    assert choose(text, ((WAVE,),), {WAVE: value}) == "a.fits"


def test_equally_ranked_version_afters_are_merged(choose):
    # As the stock client: one VersionAfter of both rules' versions.
    text = """Match({
        'IRIS1|IRIS2' : VersionAfter({'1.0' : 'a.fits', '3.0' : 'c.fits'}),
        'IRIS1' : VersionAfter({'2.0' : 'b.fits'}),
    })"""
    chosen = {
        (detector, version): choose(
            text, ((DET,), (VER,)), {DET: detector, VER: version}
        )
        for detector, version in [("IRIS1", "1.5"), ("IRIS1", "2.5"), ("IRIS1", "3.5")]
    }
    assert list(chosen.values()) == ["a.fits", "b.fits", "c.fits"]
    assert choose(text, ((DET,), (VER,)), {DET: "IRIS2", VER: "2.5"}) == "a.fits"


@pytest.mark.parametrize(
    ("substitutions", "words"),
    [
        ({DET: "IRIS1"}, "must map parameter names to dicts"),
        ({DET: {"A": None}}, f"'substitutions' of {DET} must map values"),
    ],
)
def test_malformed_substitutions_are_mapping_errors(choose, substitutions, words):
    with pytest.raises(MappingError, match=re.escape(words)):
        choose("Match({'IRIS1' : 'a.fits'})", ((DET,),), {}, substitutions)


@pytest.mark.parametrize(
    ("text", "parkey", "params", "words"),
    [
        (
            "ClosestTime({})",
            ((DATE, TIME),),
            {DATE: "2018-01-01", TIME: "0:00"},
            "no dates",
        ),
        ("GeometricallyNearest({})", ((WAVE,),), {WAVE: 1.5}, "no keys"),
        ("Bracket({})", ((WAVE,),), {WAVE: 1.5}, "no keys"),
    ],
)
def test_empty_selectors_choose_nothing(choose, text, parkey, params, words):
    with pytest.raises(SelectionFailed, match=words):
        choose(text, parkey, params)


@pytest.mark.parametrize("version", ["nan", "inf"])
def test_select_version_refuses_numbers_that_are_not_versions(choose, version):
    # float() reads them, a version relation cannot: as the stock client,
    # "Invalid version expression".
    with pytest.raises(SelectionFailed, match="is not a version"):
        choose(SELECT_VERSION, ((VER,),), {VER: version})


@pytest.mark.parametrize(
    ("text", "parkey", "params", "line"),
    [
        (CLOSEST, ((DATE, TIME),), {DATE: "2016-02-01", TIME: "0:00"}, "the closest"),
        (NEAREST, ((WAVE,),), {WAVE: 1.5}, "1.5: nearest key 1.0"),
        (VERSION_AFTER, ((VER,),), {VER: "3.1.2"}, "3.1.2: chose version"),
        (SELECT_VERSION, ((VER,),), {VER: "4.5"}, "4.5 takes '<5'"),
    ],
    ids=["closest", "nearest", "version-after", "select-version"],
)
def test_each_selector_says_why_in_a_trace(text, parkey, params, line):
    from irisdq.crds import condition_value, mapping_from_text

    header = {"mapping": "REFERENCE", "filekind": "TEST", "parkey": parkey}
    rmap = mapping_from_text(
        f"header = {header!r}\nselector = {text}\n", "test.rmap", verify=False
    )
    values = {name: condition_value(params.get(name)) for name in rmap.parameters}
    trace: list[str] = []
    chosen = rmap.selector.choose(values, trace)
    assert chosen == rmap.selector.choose(values)
    assert any(line in entry for entry in trace), trace
