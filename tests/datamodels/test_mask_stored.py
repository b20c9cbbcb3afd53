import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels.mask_stored import read_stored_mask
from irisdq.errors import DataModelError


def test_stored_values_and_rows_are_not_remapped(tmp_path):
    dq = np.array([[8, -1]], dtype=np.int32)
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("VALUE", "K", array=[8, 3]),
            fits.Column("NAME", "10A", array=["DEAD", "TWO_BITS"]),
        ],
        name="DQ_DEF",
    )
    path = tmp_path / "m.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(dq, name="DQ"), table]).writeto(path)
    stored, rows = read_stored_mask(path)
    assert stored.tolist() == [[8, -1]]
    assert [(row.bit, row.value, row.name, row.description) for row in rows] == [
        (-1, 8, "DEAD", ""),
        (-1, 3, "TWO_BITS", ""),
    ]


def test_no_dq_extension(tmp_path):
    path = tmp_path / "m.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(path)
    with pytest.raises(DataModelError, match="no DQ image extension"):
        read_stored_mask(path)


def test_not_fits(tmp_path):
    path = tmp_path / "m.fits"
    path.write_text("plain text")
    with pytest.raises(DataModelError, match="cannot read the mask"):
        read_stored_mask(path)
