"""A Liger ramp whose date keywords are not a date: every message names the
file, the keyword and its value (an MJD written as EXPJDST says so)."""

import pytest
from astropy.io import fits

from builders import write_liger_ramp, write_ligeriri_cache
from irisdq.cli.main import main
from irisdq.profiles import PROFILES

LIGER = PROFILES["liger"]


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        (
            {"EXPJDST": 60857.0},
            "EXPJDST = 60857.0 is not a Julian date of years 1..9999; it looks "
            "like a Modified Julian Date: the Julian date is MJD + 2400000.5 "
            "(2460857.5)",
        ),
        ({"EXPJDST": 1e300}, "EXPJDST = 1e+300 is not a Julian date of years 1..9999"),
        ({"EXPJDST": "soon"}, "EXPJDST = 'soon' is not a Julian date of years 1..9999"),
        (
            {"EXPDTST": "2025-03-14", "EXPJDST": -5.0},
            "EXPDTST = '2025-03-14' is not a date and time 'YYYYMMDDHHMMSS'; "
            "EXPJDST = -5.0 is not a Julian date of years 1..9999",
        ),
        ({}, "neither EXPDTST nor EXPJDST is in the primary header"),
        ({"EXPDTST": "20250314093000", "EXPJDST": 60857.0}, None),
        ({"EXPJDST": 2460857.5}, None),
    ],
)
def test_the_date_problem_names_each_keyword(keywords, expected):
    assert LIGER.date_problem(keywords) == expected


def test_profiles_dated_by_one_keyword_have_no_date_check():
    assert PROFILES["tmt"].date_problem({"DATE-OBS": "soon"}) is None


@pytest.fixture
def ligeriri(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    write_ligeriri_cache(cache, "dq")
    monkeypatch.setenv("CRDS_PATH", str(cache))
    return cache


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (60857.0, "EXPJDST = 60857.0 is not a Julian date of years 1..9999; it "
         "looks like a Modified Julian Date"),
        (1e300, "EXPJDST = 1e+300 is not a Julian date of years 1..9999"),
    ],
)  # fmt: skip
def test_dq_init_and_bestref_name_the_file_and_the_keyword(
    tmp_path, ligeriri, capsys, value, said
):
    raw = tmp_path / "liger_raw.fits"
    header = {"INSTRUME": "IRIS", "TELESCOP": "TMT", "DETECTOR": "IMG1"}
    write_liger_ramp(raw, 8, 8, 1, 2, header={**header, "SUBARRAY": "FULL"})
    with fits.open(raw, mode="update") as hdus:
        del hdus[0].header["EXPDTST"]
        hdus[0].header["EXPJDST"] = value

    assert main(["dq-init", str(raw)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"irisdq: error: {raw}: no observation date ({said}")

    assert main(["crds", "bestref", str(raw), "--reftype", "dq"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"irisdq: error: {raw}: {said}")
    assert "no DQ reference for this dataset" in error
