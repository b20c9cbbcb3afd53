"""irisdq.datamodels.hdu_io and layout: streaming image writes, HDU copies."""

import warnings

import numpy as np
import pytest


class TestWriteImageHDUBlocks:
    """Streaming writes: planes in, a valid checksummed image out."""

    @pytest.mark.parametrize(
        ("dtype", "plane_shape"),
        [
            (np.uint8, (5, 5)),
            (np.uint8, (4, 8)),
            (np.uint32, (3, 7)),
            (np.float32, (2, 3)),
        ],
    )
    def test_planes_round_trip_with_valid_checksums(self, tmp_path, dtype, plane_shape):
        from astropy.io import fits

        from irisdq.datamodels.hdu_io import write_image_hdu, write_image_hdu_blocks

        rng = np.random.default_rng(1)
        cube = rng.integers(0, 250, size=(2, 3, *plane_shape)).astype(dtype)
        path = tmp_path / "planes.fits"
        with open(path, "wb") as stream:
            write_image_hdu(stream, None, primary=True)
            planes = (cube[i, g] for i in range(2) for g in range(3))
            write_image_hdu_blocks(
                stream, planes, cube.shape, dtype, fits.Header([("EXTNAME", "CUBE")])
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with fits.open(path, checksum=True) as hdul:
                np.testing.assert_array_equal(hdul["CUBE"].data, cube)
                assert hdul["CUBE"].data.dtype.newbyteorder("=") == np.dtype(dtype)

    def test_wrong_number_of_values(self, tmp_path):
        from irisdq.datamodels.hdu_io import write_image_hdu_blocks
        from irisdq.errors import DataModelError

        with (
            open(tmp_path / "x.fits", "wb") as stream,
            pytest.raises(DataModelError, match="needs 8 values; the blocks gave 4"),
        ):
            write_image_hdu_blocks(stream, [np.zeros(4, np.uint8)], (2, 4), np.uint8)


class TestCopyHDUInKernel:
    def test_real_files_copied_exactly(self, tmp_path, monkeypatch):
        from astropy.io import fits

        from irisdq.datamodels import copy_hdu, read_hdu_layout

        source = tmp_path / "in.fits"
        fits.HDUList(
            [fits.PrimaryHDU(), fits.ImageHDU(np.arange(5000, dtype=">f4"), name="SCI")]
        ).writeto(source)
        for kernel in (True, False):
            if not kernel:
                monkeypatch.delattr("os.copy_file_range", raising=False)
            target = tmp_path / f"out_{kernel}.fits"
            with open(source, "rb") as src, open(target, "wb", buffering=0) as dst:
                for hdu in read_hdu_layout(src):
                    copy_hdu(src, hdu, dst)
            assert target.read_bytes() == source.read_bytes()


@pytest.mark.parametrize(
    ("hdu_args", "dtype"),
    [
        ({"data": np.arange(6, dtype=">f4").reshape(2, 3)}, None),
        ({"data": np.arange(6, dtype=np.uint16).reshape(2, 3), "uint": True}, None),
        ({"data": np.arange(6, dtype=np.uint32).reshape(2, 3), "uint": True}, "f8"),
        ({"data": np.arange(6, dtype=np.int16).reshape(2, 3), "scaled": True}, None),
    ],
    ids=["float32", "uint16", "uint32-as-float64", "bscale"],
)
def test_read_image_from_a_stream_without_a_file(hdu_args, dtype):
    """Values read from an in-memory stream (no memory map) are astropy's,
    whatever the stored encoding, with their sums checked."""
    import io

    from astropy.io import fits

    from irisdq.datamodels.hdu_io import read_image
    from irisdq.datamodels.layout import read_hdu_layout

    scaled = hdu_args.pop("scaled", False)
    hdu = fits.ImageHDU(**hdu_args)
    if scaled:
        hdu.header["BSCALE"] = 0.5
        hdu.header["BZERO"] = 10.0
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer, checksum=True)
    expected = fits.open(io.BytesIO(buffer.getvalue()))[1].data
    buffer.seek(0)
    layout = read_hdu_layout(buffer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = read_image(buffer, layout[1], dtype=dtype, source="mem.fits")
    assert not isinstance(values, np.memmap)
    if dtype is not None:
        assert values.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(values, expected)


def test_read_image_of_a_truncated_stream_is_an_error():
    import io

    from astropy.io import fits

    from irisdq.datamodels.hdu_io import read_image
    from irisdq.datamodels.layout import read_hdu_layout
    from irisdq.errors import DataModelError

    buffer = io.BytesIO()
    data = np.arange(6, dtype=np.uint16).reshape(2, 3)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, uint=True)]).writeto(buffer)
    layout = read_hdu_layout(io.BytesIO(buffer.getvalue()))
    cut = io.BytesIO(buffer.getvalue()[: layout[1].data_offset + 4])
    cut.name = "cut.fits"
    with pytest.raises(DataModelError, match=r"cut\.fits: ends in the middle of an"):
        read_image(cut, layout[1])


def test_a_boolean_image_is_written_as_bytes(tmp_path):
    from astropy.io import fits

    from irisdq.datamodels.hdu_io import write_image_hdu

    flags = np.array([[True, False, True], [False, False, True]])
    path = tmp_path / "bool.fits"
    with open(path, "wb") as stream:
        write_image_hdu(stream, None, primary=True)
        write_image_hdu(stream, flags)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdus:
            assert hdus[1].header["BITPIX"] == 8
            np.testing.assert_array_equal(hdus[1].data, flags.astype(np.uint8))


def test_an_image_fits_cannot_hold_is_an_error(tmp_path):
    from irisdq.datamodels.hdu_io import write_image_hdu
    from irisdq.errors import DataModelError

    with (
        open(tmp_path / "c.fits", "wb") as stream,
        pytest.raises(DataModelError, match="cannot store a complex128 array"),
    ):
        write_image_hdu(stream, np.zeros((2, 2), dtype=complex))
    assert (tmp_path / "c.fits").read_bytes() == b""
