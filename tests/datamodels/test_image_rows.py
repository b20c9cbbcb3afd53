import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels.image_rows import ImagePlanes
from irisdq.errors import DataModelError


@pytest.mark.parametrize(
    "dtype",
    [np.float32, np.float64, np.int16, np.uint16, np.int32, np.uint32, np.uint8],
)
def test_rows_of_every_encoding_read_as_float32(tmp_path, dtype):
    values = (np.arange(4 * 5 * 6) % 200).reshape(4, 5, 6).astype(dtype)
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(values).writeto(path)
    with ImagePlanes(path) as planes:
        assert planes.leading_shape == (4,)
        assert planes.shape == (5, 6)
        rows = planes.read((2,), 1, 4)
    assert rows.dtype == np.float32
    assert np.array_equal(rows, values[2, 1:4].astype(np.float32))


def test_scaled_integers_are_unscaled(tmp_path):
    path = tmp_path / "scaled.fits"
    hdu = fits.PrimaryHDU(np.array([[0, 10], [20, 30]], dtype=np.int16))
    hdu.header["BSCALE"] = 0.5
    hdu.header["BZERO"] = 100.0
    hdu.writeto(path)
    with ImagePlanes(path) as planes:
        assert planes.read((), 0, 2).tolist() == [[100.0, 105.0], [110.0, 115.0]]


def test_the_sci_extension_of_a_ramp_is_chosen(tmp_path):
    sci = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    path = tmp_path / "ramp.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(np.zeros((2, 2), dtype=np.float32)),
            fits.ImageHDU(np.zeros((4, 5), dtype=np.uint32), name="PIXELDQ"),
            fits.ImageHDU(sci, name="SCI"),
        ]
    ).writeto(path)
    with ImagePlanes(path) as planes:
        assert planes.extname == "SCI"
        assert planes.leading_shape == (2, 3)
        assert np.array_equal(planes.read((1, 2), 0, 4), sci[1, 2])


@pytest.mark.parametrize(
    ("plane", "start", "stop"), [((), 0, 1), ((3,), 0, 1), ((0,), 2, 9)]
)
def test_reads_outside_the_image_are_refused(tmp_path, plane, start, stop):
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.zeros((3, 4, 4), dtype=np.float32)).writeto(path)
    with ImagePlanes(path) as planes, pytest.raises(IndexError):
        planes.read(plane, start, stop)


@pytest.mark.parametrize(
    ("data", "message"),
    [(None, "no image data"), (np.zeros(5, dtype=np.float32), r"shape \(5,\)")],
)
def test_files_without_a_usable_image_are_one_error(tmp_path, data, message):
    path = tmp_path / "bad.fits"
    fits.PrimaryHDU(data).writeto(path)
    with pytest.raises(DataModelError, match=message):
        ImagePlanes(path)


def test_a_file_truncated_inside_the_data_is_an_error(tmp_path):
    path = tmp_path / "cut.fits"
    fits.PrimaryHDU(np.zeros((100, 100), dtype=np.float32)).writeto(path)
    path.write_bytes(path.read_bytes()[:20000])
    with pytest.raises(DataModelError, match="truncated"):
        ImagePlanes(path)
