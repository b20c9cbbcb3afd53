"""Value conditioning, dates and versions, against the rules of CRDS.md."""

import pytest

from irisdq.crds.values import condition_value, format_date, parse_date, parse_version


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" iris1 ", "IRIS1"),
        ("Full", "FULL"),
        ("1", "1.0"),
        (1, "1.0"),
        (2048, "2048.0"),
        ("2.50", "2.5"),
        ("-3", "-3.0"),
        ("1e3", "1000.0"),
        (".5", "0.5"),
        ("ANY", "*"),
        ("any", "*"),
        ("NOT APPLICABLE", "N/A"),
        ("not_applicable", "N/A"),
        ("N/A", "N/A"),
        ("TRUE", "T"),
        ("true", "T"),
        (True, "T"),
        ("T", "T"),
        ("FALSE", "F"),
        (False, "F"),
        ("f", "F"),
        ("2020-07-13", "2020-07-13"),
        ("00:00:00", "00:00:00"),
        ("nan", "NAN"),
        ("1_000", "1_000"),
        ("", ""),
    ],
)
def test_condition_value(raw, expected):
    assert condition_value(raw) == expected


def test_condition_value_distinguishes_bool_from_int_in_its_memo():
    assert condition_value(1) == "1.0"
    assert condition_value(True) == "T"
    assert condition_value(1) == "1.0"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("2020-07-13", "00:00:00"), (2020, 7, 13, 0, 0, 0, 0)),
        (("2020-07-13 12:30:01",), (2020, 7, 13, 12, 30, 1, 0)),
        (("2020-07-13T12:30:01",), (2020, 7, 13, 12, 30, 1, 0)),
        (("2020/07/13", "12:30"), (2020, 7, 13, 12, 30, 0, 0)),
        (("2020-07-13", "12:30:01.25"), (2020, 7, 13, 12, 30, 1, 250000000)),
        (("2020-07-13", "UNDEFINED"), (2020, 7, 13, 0, 0, 0, 0)),
        (("2020-07-13T01:02:03", "UNDEFINED"), (2020, 7, 13, 1, 2, 3, 0)),
        (("UNDEFINED", "UNDEFINED"), None),
        (("2020-13-01",), None),
        (("2020-07-13", "25:00:00"), None),
        (("JULY 13",), None),
        (("2020-07-13", "NOON"), None),
        (("2020-07-13T01:00:00", "02:00:00", "X"), None),
    ],
)
def test_parse_date(parts, expected):
    assert parse_date(*parts) == expected


def test_format_date_round_trips():
    assert format_date(parse_date("2015-10-01 00:00:00")) == "2015-10-01 00:00:00"
    assert (
        format_date(parse_date("2015-10-01", "01:02:03.5")) == "2015-10-01 01:02:03.5"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", (3,)),
        ("3.0", (3,)),
        ("3.0.0", (3,)),
        ("3.1", (3, 1)),
        ("3.10.2", (3, 10, 2)),
        ("beta", None),
        ("3.x", None),
        ("", None),
    ],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected
