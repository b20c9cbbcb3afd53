"""DQInit with a damaged or invalid mask file: an error, not COMPLETE."""

import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels import DataModelWarning, read_hdu_layout
from irisdq.dq_init import DQInit
from irisdq.errors import DataModelError


def _corrupt(path):
    dq = read_hdu_layout(path)[1]
    with open(path, "r+b") as stream:
        stream.seek(dq.data_offset)
        stream.write(b"\x80\x00\x04\x00")  # a stored zero becomes 1024
    return path


def test_mask_failing_its_checksum_stops_the_step(tmp_path, build, monkeypatch):
    """Issue 15: the override mask's bad DATASUM is an error by default."""
    mask = _corrupt(build.small_mask(tmp_path / "m.fits", np.zeros((300, 300))))
    ramp = build.ramp(tmp_path / "r_uncal.fits")
    output = tmp_path / "r_dqinit.fits"
    with pytest.raises(DataModelError, match="IRISDQ_ACCEPT_BAD_CHECKSUMS=1"):
        DQInit.call(ramp, override_mask=mask, output_file=str(output))
    assert not output.exists()
    monkeypatch.setenv("IRISDQ_ACCEPT_BAD_CHECKSUMS", "1")
    with pytest.warns(DataModelWarning) as record:
        done = DQInit.call(ramp, override_mask=mask, output_file=str(output))
    assert [str(w.message).split(": ")[2].split()[0] for w in record] == [
        "DATASUM",
        "CHECKSUM",
    ]
    with fits.open(done) as hdul:
        assert hdul[0].header["S_DQINIT"] == "COMPLETE"


def test_negative_mask_values_stop_the_step(tmp_path, build):
    """Issue 14: an int32 DQ of -1 is an error, not every flag and COMPLETE."""
    primary = fits.PrimaryHDU()
    primary.header.update(
        {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": "CUSTOM",
         "SUBSTRT1": 1, "SUBSTRT2": 1, "SUBSIZE1": 300, "SUBSIZE2": 300}
    )  # fmt: skip
    dq = np.zeros((300, 300), np.int32)
    dq[205, 107] = -1
    mask = tmp_path / "m.fits"
    fits.HDUList([primary, fits.ImageHDU(dq, name="DQ")]).writeto(mask, checksum=True)
    ramp = build.ramp(tmp_path / "r_uncal.fits")
    with pytest.raises(DataModelError, match=r"-1 at index \(205, 107\)"):
        DQInit.call(ramp, override_mask=mask)
