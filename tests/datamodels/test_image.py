"""User DQ images: flags of any integer type, checked before they are read."""

import numpy as np
import pytest
from astropy.io import fits

from builders import write_declared_mask
from irisdq.datamodels.image import read_flag_image
from irisdq.errors import DataModelError


def test_int16_primary_image_is_read_as_uint32(tmp_path):
    path = tmp_path / "user_dq.fits"
    fits.PrimaryHDU(np.array([[0, 1024]], dtype=np.int16)).writeto(path)
    values = read_flag_image(path)
    assert values.dtype == np.uint32
    assert values.tolist() == [[0, 1024]]


@pytest.mark.parametrize("shape", [(16385, 1), (1, 2, 2)])
def test_image_too_large_or_not_2d_is_refused_from_its_header(tmp_path, shape):
    """Issue 14: a user DQ is bounded like a mask, before it is allocated."""
    path = write_declared_mask(tmp_path / "user_dq.fits", shape)
    with pytest.raises(DataModelError) as error:
        read_flag_image(path)
    assert str(error.value).startswith(
        f"{path} (DQ): shape {shape}; user DQ flags are a 2-D image of at most "
        "16384 pixels per axis"
    )
