"""irisdq.datamodels.ramp: the one ramp model, its TMT IRIS and Liger
layouts (RampModel, LigerRampModel), a model of any layout, and open_ramp."""

import dataclasses
import io

import numpy as np
import pytest
from astropy.io import fits

from builders import write_full_frame_ramp, write_liger_ramp
from irisdq import datamodels
from irisdq.datamodels import (
    LayoutRampModel,
    LigerRampModel,
    RampModel,
    open_ramp,
    read_hdu_layout,
)
from irisdq.datamodels.layout import _scan
from irisdq.errors import DataModelError
from irisdq.layouts import LIGER_RAMP, TMT_RAMP, RampLayout
from irisdq.profiles import PROFILES


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


# -- one model, its arrays from its layout ----------------------------------------


def test_each_named_model_has_the_arrays_of_its_layout():
    assert RampModel.layout is TMT_RAMP
    assert LigerRampModel.layout is LIGER_RAMP
    assert [(s.attr, s.extname, str(s.dtype)) for s in RampModel.arrays] == [
        ("data", "SCI", "float32"),
        ("pixeldq", "PIXELDQ", "uint32"),
        ("groupdq", "GROUPDQ", "uint8"),
        ("err", "ERR", "float32"),
    ]
    assert [(s.attr, s.extname, s.axes) for s in LigerRampModel.arrays] == [
        ("data", "DATA", "(ny, nx, ngroups, nreads)"),
        ("dq", "DQ", "(ny, nx, ngroups, nreads)"),
        ("times", "TIMES", "(ngroups, nreads)"),
    ]


def test_a_liger_ramp_is_not_a_tmt_ramp():
    """The step and the stpipe step tell them apart by class."""
    liger = LigerRampModel()
    assert isinstance(liger, LayoutRampModel)
    assert not isinstance(liger, RampModel)
    with pytest.raises(AttributeError, match="pixeldq"):
        liger.pixeldq  # noqa: B018 - the lookup is the check
    with pytest.raises(AttributeError, match="LigerRampModel has no array 'err'"):
        liger.array_shape("err")


def test_a_layout_s_err_and_times_are_attributes_written_in_its_order(tmp_path):
    layout = RampLayout(
        "raw", ("ngroups", "ny", "nx"), dq="flags", dq_dtype="uint8",
        science_dtype="float32", err="noise", times="clock",
    )  # fmt: skip
    ramp = LayoutRampModel(layout=layout)
    ramp.times = np.arange(3.0)
    ramp.err = np.ones((3, 4, 5))
    ramp.dq = np.full((3, 4, 5), 7)
    ramp.data = np.zeros((3, 4, 5), dtype=np.int32)
    assert (ramp.data.dtype, ramp.dq.dtype, ramp.err.dtype) == (
        np.float32,
        np.uint8,
        np.float32,
    )
    with pytest.raises(
        DataModelError, match=r"times \(CLOCK\) must be 1-D \(ngroups\)"
    ):
        ramp.times = np.zeros((3, 1))
    out = ramp.write(tmp_path / "ramp.fits")
    assert [h.name for h in read_hdu_layout(out)][1:] == [
        "RAW",
        "FLAGS",
        "NOISE",
        "CLOCK",
    ]
    with open_ramp(out, layout) as back:
        assert type(back) is LayoutRampModel
        assert back.layout is layout
        assert back.times.tolist() == [0.0, 1.0, 2.0]
        assert int(back.dq.sum()) == 7 * 60


def test_a_layout_model_needs_a_layout():
    with pytest.raises(TypeError, match="LayoutRampModel\\(\\) needs a layout"):
        LayoutRampModel()


def test_a_named_model_says_what_its_science_array_must_be(tmp_path):
    path = tmp_path / "flat.fits"
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((4, 4), np.float32), name="SCI")]
    ).writeto(path)
    with pytest.raises(
        DataModelError,
        match=r"SCI has shape \(4, 4\); a RampModel needs 4-D float32 SCI \(nints, ",
    ):
        RampModel(path)


def test_a_layout_that_stores_like_a_named_one_opens_as_that_model(tmp_path):
    raw = write_full_frame_ramp(tmp_path / "tmt.fits")
    same = dataclasses.replace(TMT_RAMP, science="sci", science_kinds="fi")
    with open_ramp(raw, same) as ramp:
        assert type(ramp) is RampModel


# -- Liger 2025 ----------------------------------------------------------------


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


# -- open_ramp: any layout --------------------------------------------------------

LIGER = PROFILES["liger"].ramp
# The later Liger pipeline: a split layout with its own names and axes.
LNEW = RampLayout("DATA", ("nreads", "ny", "nx"), pixel_dq="DQ", group_dq="DQ_RAW")


def write_lnew_ramp(path, nreads=3, ny=5, nx=4, *, dq=True):
    hdus = [
        fits.PrimaryHDU(),
        fits.ImageHDU(np.ones((nreads, ny, nx), np.uint16), name="DATA"),
    ]
    if dq:
        hdus.append(fits.ImageHDU(np.zeros((nreads, ny, nx), np.uint8), name="DQ_RAW"))
        hdus.append(fits.ImageHDU(np.zeros((ny, nx), np.uint32), name="DQ"))
    hdus[0].header["INSTRUME"] = "Liger"
    fits.HDUList(hdus).writeto(path)
    return path


def test_each_layout_opens_as_its_model(tmp_path):
    tmt = write_full_frame_ramp(tmp_path / "tmt.fits")
    liger = write_liger_ramp(tmp_path / "liger.fits", 6, 5, 3, 2)
    lnew = write_lnew_ramp(tmp_path / "lnew.fits")
    for path, layout, cls, shape, instrument in (
        (tmt, None, RampModel, (1, 2, 16, 16), "IRIS"),
        (tmt, PROFILES["jwst"].ramp, RampModel, (1, 2, 16, 16), "IRIS"),
        (liger, LIGER, LigerRampModel, (6, 5, 3, 2), "Liger"),
        (lnew, LNEW, LayoutRampModel, (3, 5, 4), "Liger"),
    ):
        with open_ramp(path, layout) as ramp:
            assert type(ramp) is cls
            assert ramp.shape == shape
            assert ramp.get_fits_keywords()["INSTRUME"] == instrument
            assert [h.name for h in ramp.hdu_layout][1] in ("SCI", "DATA")
        assert ramp._stream.closed  # the context manager closed the file


def test_a_split_layout_model_reads_its_dq_arrays_by_role(tmp_path):
    with open_ramp(write_lnew_ramp(tmp_path / "lnew.fits"), LNEW) as ramp:
        assert ramp.pixeldq.dtype == np.uint32
        assert ramp.pixeldq.shape == (5, 4)
        assert ramp.groupdq.dtype == np.uint8
        assert ramp.groupdq.shape == (3, 5, 4)
        # Its arrays are the layout's: a split layout has no single dq.
        assert not hasattr(ramp, "dq")
        assert "pixeldq" in dir(ramp)
        # The science array keeps the dtype the file stores.
        assert ramp.data.dtype == np.uint16


@pytest.mark.parametrize(
    ("layout", "builder", "message"),
    [
        (
            LIGER,
            lambda p: write_full_frame_ramp(p),
            r"no DATA extension \(extensions: SCI\); a ramp laid out as DATA "
            r"\(ny, nx, ngroups, nreads\), DQ uint16 \(ny, nx, ngroups, nreads\) "
            "needs one",
        ),
        (
            None,
            lambda p: write_liger_ramp(p, 2, 2, 1, 1),
            r"no SCI extension \(extensions: DATA, TIMES, ASDF\); a ramp laid out as "
            r"SCI \(nints, ngroups, ny, nx\), PIXELDQ uint32",
        ),
        (
            LNEW,
            lambda p: write_liger_ramp(p, 2, 2, 1, 1),
            r"DATA has shape \(2, 2, 1, 1\); a ramp laid out as DATA \(nreads, ny, nx\)"
            r", DQ uint32 \(ny, nx\), DQ_RAW uint8 \(nreads, ny, nx\) needs a 3-D DATA",
        ),
    ],
)
def test_a_ramp_of_another_layout_is_refused_in_one_line(
    tmp_path, layout, builder, message
):
    path = builder(tmp_path / "ramp.fits")
    with pytest.raises(DataModelError, match=message) as caught:
        open_ramp(path, layout)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_dq_of_a_narrower_type_opens_to_be_converted(tmp_path):
    dq = np.zeros((2, 3, 1, 2), dtype=np.uint8)
    dq[1, 2, 0, 1] = 200
    path = write_liger_ramp(tmp_path / "ramp.fits", 2, 3, 1, 2, dq=dq)
    with open_ramp(path, LIGER) as ramp:
        assert ramp.dq.dtype == np.uint16
        assert int(ramp.dq[1, 2, 0, 1]) == 200


def test_a_dq_wider_than_the_layout_is_refused(tmp_path):
    path = write_liger_ramp(
        tmp_path / "ramp.fits", 2, 3, 1, 2, dq=np.zeros((2, 3, 1, 2), np.uint32)
    )
    with pytest.raises(DataModelError, match=r"DQ holds uint32 values .* wider than"):
        open_ramp(path, LIGER)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"axes": ("ngroups", "nreads", "nx", "ny")}, "nx must follow ny"),
        ({"axes": ("ny", "nx", "ngroups")}, None),
        ({"axes": ("ngroups", "ny", "nx", "nreads")}, "first or last two axes"),
        ({"dq_dtype": "int16"}, "not unsigned"),
        ({"pixel_dq": "PIXELDQ"}, "not both"),
        ({"dq": None}, "give dq, or pixel_dq"),
        ({"axes": ("nreads", "nx")}, "must include ny and nx"),
    ],
)
def test_a_layout_that_cannot_describe_a_ramp_is_refused(changes, problem):
    if problem is None:
        assert dataclasses.replace(LIGER, **changes).planes_first
        return
    with pytest.raises(ValueError, match=problem):
        dataclasses.replace(LIGER, **changes)
    with pytest.raises(ValueError, match="keeps ny, nx last"):
        dataclasses.replace(LNEW, axes=("ny", "nx", "nreads"))
