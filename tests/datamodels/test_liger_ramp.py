import numpy as np
import pytest
from astropy.io import fits

from builders import write_liger_ramp
from irisdq import datamodels
from irisdq.datamodels import LigerRampModel, read_hdu_layout
from irisdq.errors import DataModelError


def test_a_built_ramp_writes_the_liger_layout(tmp_path):
    ramp = LigerRampModel()
    ramp.meta.instrument.name = "Liger"
    ramp.data = np.arange(4 * 5 * 3 * 2, dtype=np.uint16).reshape(4, 5, 3, 2) * 1000
    ramp.dq = np.zeros((4, 5, 3, 2), dtype=np.uint16)
    ramp.dq[1, 2] = 0x8001
    ramp.times = np.linspace(0, 1, 6).reshape(3, 2)
    out = ramp.write(tmp_path / "ramp.fits")
    with fits.open(out, checksum=True) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "DATA", "DQ", "TIMES"]
        assert hdul[0].header["DATAMODL"] == "RampModel"
        # FITS NAXIS1 is the fastest numpy axis: nreads.
        assert (hdul["DATA"].header["NAXIS1"], hdul["DATA"].header["NAXIS4"]) == (2, 4)
        assert hdul["DQ"].header["BZERO"] == 32768
        np.testing.assert_array_equal(hdul["DATA"].data, ramp.data)
        assert hdul["DQ"].data[1, 2].tolist() == [[0x8001] * 2] * 3
        assert hdul["TIMES"].data.dtype == np.dtype(">f8")
        assert all(h.verify_checksum() == 1 for h in hdul)


def test_an_astropy_written_ramp_opens_and_round_trips(tmp_path):
    dq = np.zeros((6, 7, 2, 3), dtype=np.uint16)
    dq[3, 4, 1, 2] = 0xFFFF
    raw = write_liger_ramp(tmp_path / "raw.fits", 6, 7, 2, 3, dq=dq)
    with datamodels.open(raw) as ramp:
        assert isinstance(ramp, LigerRampModel)
        assert ramp.shape == (6, 7, 2, 3)
        assert ramp.get_fits_keywords()["INSTRUME"] == "Liger"
        np.testing.assert_array_equal(ramp.dq, dq)
        assert ramp.times.shape == (2, 3)
        out = ramp.write(tmp_path / "out.fits")
    # Nothing was changed: DATA, DQ, TIMES and the ASDF extension come out
    # byte for byte.
    source, written = raw.read_bytes(), out.read_bytes()
    for old, new in zip(
        read_hdu_layout(raw)[1:], read_hdu_layout(out)[1:], strict=True
    ):
        assert old.name == new.name
        assert (
            source[old.data_offset : old.data_offset + old.data_size]
            == written[new.data_offset : new.data_offset + new.data_size]
        )


def test_a_signed_dq_opens_with_its_bits(tmp_path):
    """The pipeline's own test files store DATA and DQ as int16."""
    dq = np.zeros((2, 2, 1, 2), dtype=np.int16)
    dq[0, 1, 0, 1] = -1
    raw = write_liger_ramp(tmp_path / "raw.fits", 2, 2, 1, 2, dq=dq)
    with LigerRampModel(raw) as ramp:
        assert ramp.dq.dtype == np.uint16
        assert int(ramp.dq[0, 1, 0, 1]) == 0xFFFF


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            np.zeros((3, 4, 2), np.uint16),
            r"DATA has shape \(3, 4, 2\); a LigerRampModel",
        ),
        (None, "no DATA extension; a LigerRampModel needs DATA uint16"),
    ],
)
def test_a_file_without_a_4d_data_is_refused_in_one_line(tmp_path, data, message):
    hdus = [fits.PrimaryHDU()]
    if data is not None:
        hdus.append(fits.ImageHDU(data, name="DATA"))
    fits.HDUList(hdus).writeto(tmp_path / "bad.fits")
    with pytest.raises(DataModelError, match=message) as caught:
        LigerRampModel(tmp_path / "bad.fits")
    assert "\n" not in str(caught.value)


def test_open_tells_a_liger_ramp_from_a_tmt_ramp(tmp_path):
    raw = write_liger_ramp(tmp_path / "raw.fits", 2, 2, 1, 1, header={"DATAMODL": ""})
    with datamodels.open(raw) as ramp:
        assert isinstance(ramp, LigerRampModel)
