"""Dataset parameters from FITS files, headers, dicts and data models."""

import pathlib

import pytest
from astropy.io import fits

from builders import call_on_fifo, with_card
from irisdq.crds import KEYWORDS, dataset_parameters
from irisdq.datamodels import read_keywords
from irisdq.errors import DataModelError

HEADER = {
    "INSTRUME": "IRIS",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2020-07-13",
    "TIME-OBS": "00:00:00",
    "SUBSTRT1": 1,
    "TELESCOP": "TMT",
}


def _expect_crds_names(params):
    assert params["META.INSTRUMENT.NAME"] == "IRIS"
    assert params["META.INSTRUMENT.DETECTOR"] == "IRIS1"
    assert params["META.SUBARRAY.NAME"] == "FULL"
    assert params["META.OBSERVATION.DATE"] == "2020-07-13"
    assert params["META.OBSERVATION.TIME"] == "00:00:00"
    assert params["META.SUBARRAY.XSTART"] == 1
    assert params["META.TELESCOPE"] == "TMT"
    assert "META.EXPOSURE.TYPE" not in params


def test_keyword_table_is_the_one_of_crds_md():
    assert KEYWORDS["META.SUBARRAY.YSIZE"] == "SUBSIZE2"
    assert KEYWORDS["META.EXPOSURE.READPATT"] == "READPATT"
    assert len(KEYWORDS) == 14


def test_from_a_dict_of_fits_keywords():
    params = dataset_parameters(HEADER)
    _expect_crds_names(params)
    assert params["DETECTOR"] == "IRIS1"  # rmaps keyed by FITS keywords work


def test_from_lower_case_keywords():
    _expect_crds_names(dataset_parameters({k.lower(): v for k, v in HEADER.items()}))


def test_from_an_astropy_header_skips_commentary_and_undefined():
    header = fits.Header(HEADER)
    header["COMMENT"] = "a comment"
    header["EXP_TYPE"] = fits.card.UNDEFINED
    params = dataset_parameters(header)
    _expect_crds_names(params)
    assert "COMMENT" not in params


def test_from_crds_parameter_names_any_case():
    params = dataset_parameters(
        {"meta.instrument.name": "IRIS", "Meta.Subarray.Name": "X"}
    )
    assert params == {"META.INSTRUMENT.NAME": "IRIS", "META.SUBARRAY.NAME": "X"}


def test_from_a_model_with_get_fits_keywords():
    class Model:
        def get_fits_keywords(self):
            return dict(HEADER)

    _expect_crds_names(dataset_parameters(Model()))


@pytest.mark.parametrize("as_path", [str, pathlib.Path])
def test_from_a_fits_file_read_at_the_edge(tmp_path, as_path):
    """crds takes keywords: a file's are read by the data models first."""
    path = tmp_path / "raw_uncal.fits"
    fits.PrimaryHDU(header=fits.Header(HEADER)).writeto(path)
    _expect_crds_names(dataset_parameters(read_keywords(as_path(path))))
    with pytest.raises(TypeError, match=r"read_keywords\(path\)"):
        dataset_parameters(as_path(path))


def test_missing_file_and_wrong_type():
    with pytest.raises(FileNotFoundError):
        read_keywords("/nonexistent/raw.fits")
    with pytest.raises(TypeError, match="got int"):
        dataset_parameters(3)


def test_fifo_dataset_is_refused_without_blocking(tmp_path):
    """Issue 13: `irisdq crds bestref` of a FIFO does not block."""
    raised = call_on_fifo(read_keywords, tmp_path / "raw.fits")
    assert isinstance(raised, DataModelError)
    assert "raw.fits: is a FIFO; a dataset for best-reference selection must be" in (
        str(raised)
    )


def test_unreadable_card_is_one_error(tmp_path):
    """Issue 11: a control character in DETECTOR does not escape as VerifyError."""
    path = tmp_path / "raw.fits"
    fits.PrimaryHDU(header=fits.Header(HEADER)).writeto(path)
    with_card(path, 0, "DETECTOR", "'IR\x01S1'")
    with pytest.raises(DataModelError) as error:
        read_keywords(path)
    assert str(error.value).startswith(
        f"{path}: a primary header card is not valid FITS (Unparsable card (DETECTOR)"
    )


def _fits_headers(tmp_path):
    from astropy.io import fits

    header = fits.Header()
    header["INSTRUME"] = "IRIS"
    header["DETECTOR"] = "IRIS1   "
    header["SUBARRAY"] = None  # undefined: absent
    header["NGROUPS"] = 5
    header["EXPTIME"] = 1.5
    header["SUBSTRT1"] = True
    header["DETECTOR"] = "IRIS1"
    header.append(("DETECTOR", "IRIS2"))  # a second card: the first counts
    header["HIERARCH ESO DET CHIP"] = "CHIP1"
    header["COMMENT"] = "a comment"
    header["DP1"] = "AXIS.1: 1"  # a record-valued card
    path = tmp_path / "h.fits"
    fits.PrimaryHDU(header=header).writeto(path)
    read = fits.getheader(path)  # cards not parsed yet
    return [header, read]


NAMES = [
    "META.INSTRUMENT.NAME",
    "META.INSTRUMENT.DETECTOR",
    "META.SUBARRAY.NAME",
    "META.EXPOSURE.NGROUPS",
    "META.SUBARRAY.XSTART",
    "META.OBSERVATION.DATE",
    "NGROUPS",
    "EXPTIME",
    "ESO DET CHIP",
    "DP1",
    "DP1.AXIS.1",
    "COMMENT",
    "",
    "instrume",
]


def test_a_fits_header_lookup_gives_what_dataset_parameters_gives(tmp_path):
    from irisdq.crds.dataset import parameter_lookup

    for header in _fits_headers(tmp_path):
        full = dataset_parameters(header)
        # A record-valued card's keyword ('DP1.AXIS.1') holds a dot: the
        # header was taken for CRDS parameter names, and INSTRUME was lost.
        assert full["META.INSTRUMENT.NAME"] == "IRIS"
        assert full["META.INSTRUMENT.DETECTOR"] == "IRIS1"
        lookup = parameter_lookup(header)
        for name in NAMES:
            assert (name in lookup) is (name in full), name
            if name in full:
                assert lookup[name] == full[name], name
                assert lookup.get(name) == full[name]
            else:
                assert lookup.get(name, "none") == "none"
                with pytest.raises(KeyError):
                    lookup[name]


@pytest.mark.parametrize(
    "keywords",
    [
        {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": None},
        {"instrume": "IRIS", "Detector": "IRIS1"},
        {"INSTRUME": "IRIS", 7: "x"},
        {"META.INSTRUMENT.NAME": "IRIS", "meta.instrument.detector": "IRIS1"},
        {"INSTRUME": "IRIS", "COMMENT": "x", "": "y"},
    ],
)
def test_a_dict_lookup_gives_what_dataset_parameters_gives(keywords):
    from irisdq.crds.dataset import parameter_lookup

    full = dataset_parameters(keywords)
    lookup = parameter_lookup(keywords)
    for name in [*NAMES, "DETECTOR", "SUBARRAY"]:
        assert lookup.get(name, "none") == full.get(name, "none"), name
        assert (name in lookup) is (name in full)
    with pytest.raises(KeyError):
        lookup["META.OBSERVATION.TIME"]
