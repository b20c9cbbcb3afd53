import io

import numpy as np
import pytest
from astropy.io import fits

from irisdq import datamodels
from irisdq.datamodels import RampModel, read_hdu_layout
from irisdq.datamodels.layout import _scan
from irisdq.errors import DataModelError


def test_iris_ramp_opens_with_its_arrays(iris_ramp):
    with fits.open(iris_ramp) as hdul:
        sci = hdul["SCI"].data.copy()
        pixeldq = hdul["PIXELDQ"].data.copy()
    with datamodels.open(iris_ramp) as ramp:
        assert isinstance(ramp, RampModel)
        assert ramp.meta.model_type == "TMTRampModel"
        assert ramp.shape == (1, 4, 10, 10)
        np.testing.assert_array_equal(ramp.data, sci)
        assert ramp.pixeldq.dtype == np.uint32
        np.testing.assert_array_equal(ramp.pixeldq, pixeldq)
        assert int(ramp.pixeldq[0, 0]) == 2**31 + 1
        assert ramp.groupdq.dtype == np.uint8
        assert ramp.err is None


def test_iris_ramp_round_trips_keeping_asdf_byte_for_byte(iris_ramp, tmp_path):
    ramp = RampModel(iris_ramp)
    ramp.pixeldq[5, 5] |= 2048
    out = ramp.write(tmp_path / "out.fits")
    ramp.close()
    source = iris_ramp.read_bytes()
    written = out.read_bytes()
    src_asdf = next(h for h in read_hdu_layout(iris_ramp) if h.name == "ASDF")
    out_asdf = next(h for h in read_hdu_layout(out) if h.name == "ASDF")
    assert (
        written[out_asdf.header_offset : out_asdf.end]
        == source[src_asdf.header_offset : src_asdf.end]
    )
    with fits.open(out, checksum=True) as hdul:
        assert [h.name for h in hdul] == [
            "PRIMARY",
            "SCI",
            "PIXELDQ",
            "GROUPDQ",
            "ASDF",
        ]
        assert hdul["PIXELDQ"].header["BZERO"] == 2**31
        assert hdul["PIXELDQ"].data[5, 5] == 2048
        assert hdul["PIXELDQ"].data[0, 0] == 2**31 + 1
        assert hdul["SCI"].header["BUNIT"] == "DN"
        assert hdul[0].header["ORIGIN"] == "IRIS simulator"
        assert hdul[0].header["SUBSTRT1"] == 101
    back = RampModel(out)
    np.testing.assert_array_equal(back.data, RampModel(iris_ramp).data)


def test_untouched_arrays_are_copied_through_unchanged(iris_ramp, tmp_path):
    out = RampModel(iris_ramp).write(tmp_path / "copy.fits")
    src = {h.name: h for h in read_hdu_layout(iris_ramp)}
    dst = {h.name: h for h in read_hdu_layout(out)}
    source, written = iris_ramp.read_bytes(), out.read_bytes()
    for name in ("SCI", "PIXELDQ", "GROUPDQ", "ASDF"):
        assert (
            written[dst[name].header_offset : dst[name].end]
            == source[src[name].header_offset : src[name].end]
        )


def test_sci_is_a_lazy_memory_map(iris_ramp):
    ramp = RampModel(iris_ramp)
    assert all(isinstance(v, datamodels.HDULayout) for v in ramp._arrays.values())
    assert isinstance(ramp.data, np.memmap)
    assert isinstance(ramp.groupdq, np.memmap)
    ramp.data[0, 0, 0, 0] = -1.0  # copy-on-write: the file is not changed
    with fits.open(iris_ramp) as hdul:
        assert hdul["SCI"].data[0, 0, 0, 0] != -1.0


class CountingReader(io.RawIOBase):
    def __init__(self, path):
        self._file = open(path, "rb")  # noqa: SIM115
        self.bytes_read = 0
        self.name = str(path)

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()

    def readinto(self, buffer):
        count = self._file.readinto(buffer)
        self.bytes_read += count
        return count

    def close(self):
        self._file.close()
        super().close()


def test_opening_a_large_ramp_reads_only_its_headers(tmp_path):
    path = tmp_path / "big.fits"
    shape = (2, 16, 4096, 4096)  # 2 GiB of float32, never written: a sparse file
    header = fits.Header([("EXTNAME", "SCI")])
    primary = fits.PrimaryHDU()
    primary.header["INSTRUME"] = "IRIS"
    with open(path, "wb") as stream:
        stream.write(primary.header.tostring().encode())
        sci = fits.ImageHDU(header=header)
        sci.header["BITPIX"] = -32
        sci.header["NAXIS"] = 4
        for axis, length in enumerate(reversed(shape), start=1):
            sci.header[f"NAXIS{axis}"] = length
        stream.write(sci.header.tostring().encode())
        stream.truncate(stream.tell() + 4 * int(np.prod(shape)))
    reader = CountingReader(path)
    layout = _scan(reader, str(path))
    assert reader.bytes_read < 20_000
    reader.close()
    with datamodels.open(path, verify_checksums=False) as ramp:
        assert ramp.shape == shape
        assert layout[1].data_size == 4 * int(np.prod(shape))
        assert isinstance(ramp.data, np.memmap)
        assert float(ramp.data[1, 15, 4095, 4095]) == 0.0


def test_hdu_layout_matches_astropy_fileinfo(iris_ramp):
    ramp = RampModel(iris_ramp)
    with fits.open(iris_ramp) as hdul:
        for hdu, info in zip(
            ramp.hdu_layout, (hdul.fileinfo(i) for i in range(5)), strict=True
        ):
            assert hdu.header_offset == info["hdrLoc"]
            assert hdu.data_offset == info["datLoc"]
            assert hdu.end - hdu.data_offset == info["datSpan"]


def test_set_arrays_are_checked():
    ramp = RampModel()
    with pytest.raises(
        DataModelError, match=r"4-D \(nints, ngroups, ny, nx\); got shape \(10, 10\)"
    ):
        ramp.data = np.zeros((10, 10))
    with pytest.raises(DataModelError, match="not integers"):
        ramp.groupdq = np.full((1, 1, 2, 2), 256)
    ramp.data = np.zeros((1, 2, 3, 3))
    assert ramp.data.dtype == np.float32
    ramp.groupdq = np.ones((1, 2, 3, 3))
    assert ramp.groupdq.dtype == np.uint8


def test_pixeldq_of_the_wrong_shape_still_opens(tmp_path):
    path = tmp_path / "odd.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(np.zeros((1, 2, 5, 5), np.float32), name="SCI"),
            fits.ImageHDU(np.zeros((3, 3), np.uint32), name="PIXELDQ", uint=True),
        ]
    ).writeto(path)
    with datamodels.open(path) as ramp:
        assert ramp.array_shape("pixeldq") == (3, 3)


@pytest.mark.parametrize(
    ("hdus", "message"),
    [
        ([fits.ImageHDU(np.zeros((5, 5), np.float32), name="SCI")], "SCI has shape"),
        (
            [
                fits.ImageHDU(np.zeros((1, 1, 2, 2), np.float32), name="SCI"),
                fits.ImageHDU(np.zeros((2, 2), np.float32), name="PIXELDQ"),
            ],
            "PIXELDQ holds float32 values",
        ),
        (
            [
                fits.ImageHDU(np.zeros((1, 1, 2, 2), np.float32), name="SCI"),
                fits.ImageHDU(np.zeros((1, 1, 2, 2), np.int16), name="GROUPDQ"),
            ],
            "wider than the uint8",
        ),
    ],
)
def test_bad_ramps_are_one_line_errors(tmp_path, hdus, message):
    path = tmp_path / "bad.fits"
    primary = fits.PrimaryHDU()
    primary.header["DATAMODL"] = "RampModel"
    fits.HDUList([primary, *hdus]).writeto(path)
    with pytest.raises(DataModelError, match=message) as info:
        datamodels.open(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_ramp_without_sci_is_an_error(tmp_path, make_ramp):
    path = make_ramp(tmp_path / "r.fits", datamodl="RampModel")
    with fits.open(path) as hdul:
        del hdul["SCI"]
        hdul.writeto(tmp_path / "nosci.fits")
    with pytest.raises(DataModelError, match="no SCI extension"):
        datamodels.open(tmp_path / "nosci.fits")
