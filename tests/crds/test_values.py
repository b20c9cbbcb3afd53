"""Value conditioning, dates and versions, against the rules of CRDS.md."""

import pytest

from irisdq.crds.values import (
    condition_value,
    dataset_date,
    format_date,
    parse_date,
    parse_version,
)


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
        # CRDS's own conditioning (crds.core.utils.condition_value)
        ("1.", "1.0"),
        ("1.E5", "1.E5"),
        (-2147483648, "N/A"),
        ("4294967295", "-1.0"),
        ("()", "N/A"),
        ("N/A and more", "N/A"),
        ("\u0661", "\u0661"),  # an Arabic-Indic digit is not a number
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
        (("2020-07-13", "23:59:60"), (2020, 7, 13, 23, 59, 60, 0)),  # leap second
        (("2020-07-13", "23:59:61"), None),
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
        ("3", (3, 0, 0)),
        ("3.0", (3, 0, 0)),
        ("3.0.0", (3, 0, 0)),
        ("3.1", (3, 1, 0)),
        ("3.10.2", (3, 10, 2)),
        ("0.7.8rc1.dev305", (0, 7, 8)),  # CRDS ignores the suffix
        ("3.x", (3, 0, 0)),
        ("beta", None),
        ("", None),
    ],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("2020-07-13", "00:00:00"), (2020, 7, 13, 0, 0, 0, 0)),
        (("2020/07/13", "12:30"), (2020, 7, 13, 12, 30, 0, 0)),
        (("07/13/2020", "12:30:01.25"), (2020, 7, 13, 12, 30, 1, 250000000)),
        (("13/07/20",), (2020, 7, 13, 0, 0, 0, 0)),
        (("13/07/95",), (1995, 7, 13, 0, 0, 0, 0)),
        (("20200713:123001",), (2020, 7, 13, 12, 30, 1, 0)),
        (("2020-07-13", "01:02 PM"), (2020, 7, 13, 13, 2, 0, 0)),
        (("2020-07-13T01:02:03",), (2020, 7, 13, 1, 2, 3, 0)),
        (("Jul 13 2020", "01:02 pm"), (2020, 7, 13, 13, 2, 0, 0)),
        (("13 July 2020",), (2020, 7, 13, 0, 0, 0, 0)),
        (("2020-07-13 01:02:03 UT",), (2020, 7, 13, 1, 2, 3, 0)),
        (("Jul 13 2020", "01:02 am"), (2020, 7, 13, 1, 2, 0, 0)),
    ],
)
def test_dataset_date(parts, expected):
    assert dataset_date(*parts) == expected


def test_dataset_date_iso_moment_without_time():
    # TMT and Liger mappings only: the moment stands without its time.
    assert dataset_date("2020-07-13T01:02:03", "UNDEFINED", iso_moment=True) == (
        2020, 7, 13, 1, 2, 3, 0,
    )  # fmt: skip
    with pytest.raises(ValueError, match="UNDEFINED"):
        dataset_date("2020-07-13", "UNDEFINED", iso_moment=True)


@pytest.mark.parametrize(
    "parts",
    [
        ("2020-07-13", "UNDEFINED"),
        ("2020-07-13T01:02:03", "UNDEFINED"),
        ("UNDEFINED", "00:00:00"),
        ("2020-7-13", "00:00:00"),
        ("2020-07-32",),
        ("2020-07-13", "NOON"),
        ("JULY 13",),
        ("SMARCH 13 2020",),
        ("",),
    ],
)
def test_dataset_date_refuses(parts):
    with pytest.raises(ValueError, match=r"\w"):
        dataset_date(*parts)


def test_memos_stay_bounded(monkeypatch):
    from irisdq.crds import values

    monkeypatch.setattr(values, "_CONDITIONED_MAX", 3)
    monkeypatch.setattr(values, "_CONDITIONED", {})
    monkeypatch.setattr(values, "_DATES", {})
    for number in range(10):
        assert condition_value(f"v{number}") == f"V{number}"
        assert parse_date(f"2020-07-1{number}") == (2020, 7, 10 + number, 0, 0, 0, 0)
        assert len(values._CONDITIONED) <= 3
        assert len(values._DATES) <= 3
    # A value that cannot be a memo key is conditioned all the same, as the
    # stock client does.
    assert condition_value(["iris1", 1]) == "['IRIS1', 1]"
