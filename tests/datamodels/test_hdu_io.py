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
