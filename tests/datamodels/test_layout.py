import io

import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels import copy_hdu, read_hdu_layout, read_primary_header
from irisdq.errors import DataModelError


def _two_hdus(path):
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((30, 40), np.uint32), name="DQ")]
    ).writeto(path)
    return path


def test_layout_of_each_hdu(tmp_path):
    path = _two_hdus(tmp_path / "a.fits")
    primary, dq = read_hdu_layout(path)
    assert (primary.name, primary.kind, primary.data_size) == ("PRIMARY", "PRIMARY", 0)
    assert (dq.name, dq.kind, dq.ver, dq.shape) == ("DQ", "IMAGE", 1, (30, 40))
    assert dq.header_offset == primary.end == 2880
    assert dq.data_size == 30 * 40 * 4
    assert dq.end == path.stat().st_size


def test_not_fits(tmp_path):
    path = tmp_path / "notes.fits"
    path.write_text("hello\n" * 1000)
    with pytest.raises(DataModelError, match=r"notes\.fits: not a FITS file"):
        read_hdu_layout(path)


def test_truncated_data(tmp_path):
    path = _two_hdus(tmp_path / "cut.fits")
    path.write_bytes(path.read_bytes()[:-3000])
    with pytest.raises(DataModelError, match=r"cut\.fits: truncated: HDU 1 \(DQ\)"):
        read_hdu_layout(path)


def test_truncated_header(tmp_path):
    path = _two_hdus(tmp_path / "cut.fits")
    path.write_bytes(path.read_bytes()[: 2880 + 800])
    with pytest.raises(
        DataModelError, match=r"cut\.fits: cannot read the header of HDU 1"
    ):
        read_hdu_layout(path)


def test_header_without_naxis_keywords(tmp_path):
    header = fits.Header(
        [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 2), ("NAXIS1", 4)]
    )
    path = tmp_path / "bad.fits"
    path.write_bytes(header.tostring().encode() + b"\0" * 2880)
    with pytest.raises(DataModelError, match="missing required keyword NAXIS2"):
        read_hdu_layout(path)


def test_copy_hdu_is_byte_for_byte(tmp_path):
    path = _two_hdus(tmp_path / "a.fits")
    out = io.BytesIO()
    for hdu in read_hdu_layout(path):
        copy_hdu(path, hdu, out)
    assert out.getvalue() == path.read_bytes()


def test_read_primary_header_still_works(tmp_path):
    path = _two_hdus(tmp_path / "a.fits")
    assert read_primary_header(path)["NAXIS"] == 0
