"""irisdq.profiles: the declared conventions, derived parameters, detection."""

import datetime

import pytest
from astropy.time import Time
from hypothesis import given
from hypothesis import strategies as st

from irisdq import profiles
from irisdq.profiles import (
    PROFILES,
    ProfileError,
    check_layout,
    date_from_expdtst,
    date_from_julian,
    detect_profile,
    get_profile,
)


class TestDeclared:
    def test_three_profiles_with_their_observatories(self):
        assert {name: p.observatory for name, p in PROFILES.items()} == {
            "tmt": "tmt",
            "jwst": "jwst",
            "liger": "ligeriri",
        }

    def test_recorded_keywords(self):
        assert [p.reference_keyword for p in PROFILES.values()] == [
            "R_MASK",
            "R_MASK",
            "R_DQ",
        ]
        assert {p.status_keyword for p in PROFILES.values()} == {"S_DQINIT"}

    def test_liger_dq_is_uint16_and_holds_16_bits(self):
        ramp = PROFILES["liger"].ramp
        assert (ramp.dq, ramp.dq_dtype, ramp.dq_bits) == ("DQ", "uint16", 16)
        assert ramp.plane_axes() == (0, 1)
        assert PROFILES["tmt"].ramp.dq_bits == 32
        assert PROFILES["tmt"].ramp.plane_axes() == (2, 3)

    def test_unknown_profile(self):
        with pytest.raises(ProfileError, match="unknown profile 'keck'; choose one"):
            get_profile("keck")


class TestParameters:
    def test_jwst_style_keywords_become_crds_names(self):
        params = PROFILES["jwst"].crds_parameters(
            {"INSTRUME": "NIRCAM", "DETECTOR": "NRCA1", "SUBARRAY": "FULL"}
        )
        assert params["META.INSTRUMENT.NAME"] == "NIRCAM"
        assert params["META.INSTRUMENT.DETECTOR"] == "NRCA1"
        assert params["META.SUBARRAY.NAME"] == "FULL"
        assert params["DETECTOR"] == "NRCA1"  # rmaps keyed by FITS keywords

    def test_liger_date_from_expdtst_first(self):
        params = PROFILES["liger"].crds_parameters(
            {"EXPDTST": "20250102030405", "EXPJDST": 2460000.5, "INSTERA": "1"}
        )
        assert params["META.DATE"] == "2025-01-02 03:04:05"
        assert params["META.INSTRUMENT.ERA"] == "1"

    def test_liger_date_from_expjdst_when_expdtst_is_unusable(self):
        params = PROFILES["liger"].crds_parameters(
            {"EXPDTST": "garbage", "EXPJDST": 2460000.5}
        )
        assert params["META.DATE"] == "2023-02-25 00:00:00"

    def test_liger_dates_serve_rmaps_keyed_either_way(self):
        params = PROFILES["liger"].crds_parameters(
            PROFILES["liger"].dated({"EXPJDST": 2460000.5}, "2025-01-02", "03:04:05")
        )
        assert params["META.DATE"] == "2025-01-02 03:04:05"
        assert params["META.OBSERVATION.DATE"] == "2025-01-02"
        assert params["META.OBSERVATION.TIME"] == "03:04:05"

    def test_no_date_keyword_leaves_the_date_undefined(self):
        assert "META.DATE" not in PROFILES["liger"].crds_parameters({"IMTYPE": "x"})

    def test_a_date_in_the_header_is_not_overridden(self):
        params = PROFILES["liger"].crds_parameters(
            {"META.DATE": "keep", "EXPDTST": "20250102030405"}
        )
        assert params["META.DATE"] == "keep"

    @pytest.mark.parametrize(
        "text", ["2025-01-02", "202501020304", "20251302030405", "2025010203040 "]
    )
    def test_expdtst_refuses_other_forms(self, text):
        assert date_from_expdtst(text) is None or text.strip() != text

    @given(st.floats(2300000.0, 2600000.0, allow_nan=False))
    def test_julian_dates_agree_with_astropy(self, jd):
        # A uniform time scale (TT): astropy's calendar without leap seconds,
        # rounded to the nearest second as irisdq does.
        moment = Time(jd, format="jd", scale="tt").to_datetime()
        moment += datetime.timedelta(microseconds=500_000)
        assert date_from_julian(jd) == moment.strftime("%Y-%m-%d %H:%M:%S")

    def test_julian_date_rejects_non_numbers(self):
        assert date_from_julian("soon") is None
        assert date_from_julian(1e20) is None
        assert date_from_julian(5373484.4999999) is None  # rounds into year 10000

    def test_julian_date_of_year_one_has_four_digits(self):
        assert date_from_julian(1721426.0) == "0001-01-01 12:00:00"


class TestDetection:
    @pytest.mark.parametrize(
        ("header", "extensions", "expected"),
        [
            ({"TELESCOP": "TMT", "INSTRUME": "IRIS"}, {"SCI": (1, 2, 4, 4)}, "tmt"),
            ({"TELESCOP": "JWST", "INSTRUME": "NIRCAM"}, {"SCI": (1, 2, 4, 4)}, "jwst"),
            ({}, {"SCI": (1, 2, 4, 4)}, "tmt"),
            # No TELESCOP: a JWST instrument outweighs the shared DATAMODL.
            ({"INSTRUME": "NIRCAM", "DATAMODL": "RampModel"}, {"SCI": None}, "jwst"),
            ({"INSTRUME": "IRIS", "DATAMODL": "RampModel"}, {"SCI": None}, "tmt"),
            (
                {"TELESCOP": "Keck-I", "INSTRUME": "Liger"},
                {"DATA": (4, 4, 2, 3)},
                "liger",
            ),
            ({"TELESCOP": "TMT", "INSTRUME": "IRIS"}, {"DATA": (4, 4, 2, 3)}, "liger"),
        ],
    )
    def test_chosen_from_header_and_extensions(self, header, extensions, expected):
        assert detect_profile(header, extensions).name == expected

    def test_a_science_array_of_other_axes_goes_to_its_profile(self):
        # So that reading the file says what is wrong with it.
        assert detect_profile({}, {"SCI": (4, 4)}).name == "tmt"

    def test_no_science_extension(self):
        with pytest.raises(ProfileError) as info:
            detect_profile({}, {"ERR": (2, 2)}, "r.fits")
        assert str(info.value) == (
            "r.fits: not a raw ramp of any profile: no SCI extension (tmt, jwst) "
            "and no DATA extension (liger); it has ERR (2, 2). Give --profile to "
            "say which layout it follows"
        )

    def test_a_wrong_profile_names_what_the_file_lacks(self):
        with pytest.raises(ProfileError) as info:
            check_layout(PROFILES["tmt"], {"DATA": (4, 4, 2, 3), "DQ": None}, "r.fits")
        assert str(info.value) == (
            "r.fits: profile tmt needs a 4-D SCI extension (nints, ngroups, ny, "
            "nx); the file has DATA (4, 4, 2, 3), DQ: it looks like profile liger"
        )

    def test_reftype_aliases(self):
        liger = PROFILES["liger"]
        assert liger.reftype_for(["dq", "dark"]) == "dq"
        assert liger.reftype_for(["mask"]) == "mask"
        assert liger.reftype_for([]) == "dq"  # CRDS then names the known types
        assert PROFILES["tmt"].reftype_for(["dq"], "MASK") == "dq"
        assert PROFILES["tmt"].reftype_for(["mask"], "dark") == "dark"


def test_describe_lists_what_each_profile_expects():
    text = PROFILES["liger"].describe()
    assert "observatory ligeriri, reference type dq (or mask)" in text
    assert "META.DATE = from EXPDTST, else EXPJDST (Julian date)" in text
    assert "DQ uint16 (ny, nx, ngroups, nreads)" in text
    assert "records       S_DQINIT, R_DQ, CRDS_CTX" in text


def test_profiles_module_loads_no_astropy():
    import subprocess
    import sys

    code = "import sys, irisdq.profiles; print('astropy' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
    assert profiles.__name__ == "irisdq.profiles"
