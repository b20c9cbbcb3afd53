"""irisdq.datamodels.model: the checks the base model makes for every model."""

import numpy as np
import pytest
from astropy.io import fits

from builders import write_full_frame_ramp, write_mask
from irisdq import datamodels
from irisdq.datamodels import DataModelWarning, RampModel, TMTMaskModel
from irisdq.errors import DataModelError


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array([["a", "b"]]), "must hold integer flag values, not <U1 data"),
        (np.array([[2**40, 1]], dtype=np.uint64), r"e\.g\. 1099511627776 at index"),
    ],
    ids=["text", "uint64"],
)
def test_flags_must_be_integers_in_range(values, message):
    mask = TMTMaskModel()
    with pytest.raises(DataModelError, match=message):
        mask.dq = values
    assert mask.dq is None


def test_science_data_must_be_numeric():
    ramp = RampModel()
    with pytest.raises(DataModelError, match=r"RampModel.data \(SCI\) must be numeric"):
        ramp.data = np.full((1, 1, 2, 2), "x")


def test_an_array_set_to_none_is_dropped(tmp_path):
    ramp = RampModel()
    ramp.data = np.zeros((1, 1, 2, 2))
    ramp.pixeldq = np.ones((2, 2), dtype=np.uint32)
    ramp.pixeldq = None
    assert ramp.pixeldq is None
    with fits.open(ramp.write(tmp_path / "r.fits")) as hdus:
        assert [hdu.name for hdu in hdus] == ["PRIMARY", "SCI"]


def test_a_required_array_must_be_set_before_writing(tmp_path):
    with pytest.raises(DataModelError, match=r"RampModel.data \(SCI\) is not set"):
        RampModel().write(tmp_path / "r.fits")
    assert not (tmp_path / "r.fits").exists()


def test_primary_data_is_a_warning_and_not_written_back(tmp_path):
    path = tmp_path / "p.fits"
    primary = fits.PrimaryHDU(np.ones((2, 2), np.int16))
    primary.header["DATAMODL"] = "RampModel"
    sci = fits.ImageHDU(np.ones((1, 1, 2, 2), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(path)
    with pytest.warns(DataModelWarning, match="the primary HDU has data"):
        ramp = datamodels.open(path)
    with ramp:
        written = ramp.write(tmp_path / "copy.fits")
    with fits.open(written) as hdus:
        assert hdus[0].data is None
        np.testing.assert_array_equal(hdus["SCI"].data, 1)


def test_a_table_in_place_of_an_image_is_an_error(tmp_path):
    path = tmp_path / "t.fits"
    table = fits.BinTableHDU.from_columns(
        [fits.Column("X", "J", array=[1])], name="SCI"
    )
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    with pytest.raises(DataModelError, match=r"SCI is a BINTABLE extension; it must"):
        RampModel(path)


def test_a_closed_model_refuses_to_read_or_copy(tmp_path):
    path = write_full_frame_ramp(tmp_path / "r_uncal.fits")
    ramp = RampModel(path)
    ramp.close()
    with pytest.raises(DataModelError, match="the model is closed; SCI was never read"):
        ramp.data  # noqa: B018
    with pytest.raises(DataModelError, match="the model is closed"):
        ramp.verify_checksums()
    with pytest.raises(DataModelError, match="the model is closed; cannot copy"):
        ramp.write(tmp_path / "copy.fits")
    assert not (tmp_path / "copy.fits").exists()


def test_a_model_in_memory_has_no_checksums_to_fail():
    assert TMTMaskModel().verify_checksums()


def test_extension_keywords_are_kept(tmp_path):
    path = write_mask(tmp_path / "m.fits")
    with fits.open(path, mode="update") as hdus:
        hdus["DQ"].header["ORIGIN"] = ("bench", "where the flags came from")
    with TMTMaskModel(path) as mask:
        mask.dq = mask.dq | 4  # in memory: the extension header is built anew
        written = mask.write(tmp_path / "copy.fits")
    with fits.open(written) as hdus:
        assert hdus["DQ"].header["ORIGIN"] == "bench"
        assert hdus["DQ"].data[0, 0] == 4


@pytest.mark.parametrize("length", [40, 47, 48, 60, 68, 69, 70, 120])
def test_a_long_keyword_value_is_written_whole_without_a_warning(tmp_path, length):
    """A path in R_MASK that fits on its card only without the comment
    loses the comment, not characters, and astropy has nothing to warn
    about; a shorter one keeps it, a longer one continues."""
    import warnings

    from astropy.io.fits.verify import VerifyWarning

    name = "/data/" + "m" * (length - 11) + ".fits"
    assert len(name) == length
    ramp = datamodels.RampModel()
    ramp.data = np.zeros((1, 1, 2, 2), dtype=np.float32)
    ramp.meta.ref_file.mask.name = name
    with warnings.catch_warnings():
        warnings.simplefilter("error", VerifyWarning)
        path = ramp.write(tmp_path / "ramp.fits")
        header = fits.getheader(path)
    assert header["R_MASK"] == name
    fits_on_one_card = 10 + max(length + 2, 20) + 3 + len("MASK reference file")
    kept = fits_on_one_card <= 80 or length > 68
    assert (header.comments["R_MASK"] == "MASK reference file") == kept
