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
