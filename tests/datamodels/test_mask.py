import io
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from builders import write_declared_mask, write_foreign_mask
from irisdq import datamodels, dqflags
from irisdq.datamodels import DataModelWarning, TMTMaskModel
from irisdq.datamodels.mask_reader import read_mask_flags
from irisdq.datamodels.mask_stored import read_stored_mask
from irisdq.errors import DataModelError
from irisdq.layouts import TMT_MASK, MaskLayout


@pytest.mark.slow
def test_seed_recipe_runs_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    # The recipe, with only its import changed.
    from irisdq.datamodels import TMTMaskModel

    f = TMTMaskModel()
    f.meta.name = "IRIS"
    f.meta.detector = "IRIS1"
    f.dq = np.zeros((4096, 4096))
    f.dq[np.random.randint(0, 4096, size=(10, 2))] = 1024  # noqa: NPY002
    f.dq[np.random.randint(0, 4096, size=(10, 2))] = 2048  # noqa: NPY002
    counts, edges = np.histogram(f.dq, bins=3)
    f.write(Path.home() / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits")

    assert counts.sum() == 4096 * 4096
    assert edges[-1] == 2048
    target = tmp_path / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(target, checksum=True) as hdul:
            header = hdul[0].header
            assert header["INSTRUME"] == "IRIS"
            assert header["DETECTOR"] == "IRIS1"
            assert header["REFTYPE"] == "MASK"
            assert header["DATAMODL"] == "TMTMaskModel"
            assert header["TELESCOP"] == "TMT"
            assert (header["SUBARRAY"], header["SUBSTRT1"], header["SUBSTRT2"]) == (
                "FULL", 1, 1,
            )  # fmt: skip
            assert (header["SUBSIZE1"], header["SUBSIZE2"]) == (4096, 4096)
            for keyword in ("USEAFTER", "PEDIGREE", "AUTHOR", "DESCRIP"):
                assert header[keyword]
            np.testing.assert_array_equal(hdul["DQ"].data, f.dq)
            assert hdul["DQ"].data.dtype == np.uint32
            assert hdul["DQ_DEF"].data["NAME"][10] == "DEAD"


def test_meta_name_and_detector_are_instrument_keywords():
    f = TMTMaskModel()
    f.meta.name = "IRIS"
    f.meta.detector = "IRIS1"
    assert f.meta.instrument.name == "IRIS"
    assert f.meta.instrument.detector == "IRIS1"
    f.meta.instrument.detector = "IRIS2"
    assert f.meta.detector == "IRIS2"
    assert f.get_fits_keywords()["DETECTOR"] == "IRIS2"


def test_meta_overrides_write_defaults(tmp_path):
    f = TMTMaskModel()
    f.meta.detector = "IRIS1"
    f.meta.useafter = "2015-10-01T00:00:00"
    f.meta.pedigree = "INFLIGHT 2025-01-01 2025-02-01"
    f.meta.author = "A. Astronomer"
    f.meta.description = "hand-made"
    f.dq = np.zeros((4096, 4096), dtype=np.uint32)
    f.write(tmp_path / "m.fits")
    header = fits.getheader(tmp_path / "m.fits")
    assert header["USEAFTER"] == "2015-10-01T00:00:00"
    assert header["PEDIGREE"] == "INFLIGHT 2025-01-01 2025-02-01"
    assert header["AUTHOR"] == "A. Astronomer"
    assert header["DESCRIP"] == "hand-made"


@pytest.mark.parametrize(
    "values",
    [
        np.array([[0.0, 1024.0], [2.0**32 - 1, 3.0]]),
        np.array([[0, 1024], [2**32 - 1, 3]], dtype=np.int64),
        np.array([[0, 1024], [65535, 3]], dtype=np.uint16),
        np.array([[True, False], [False, True]]),
    ],
)
def test_dq_accepts_integral_values_as_uint32(values):
    f = TMTMaskModel()
    f.dq = values
    assert f.dq.dtype == np.uint32
    np.testing.assert_array_equal(f.dq, values.astype(np.uint64))


@pytest.mark.parametrize(
    ("values", "count", "example"),
    [
        (np.array([[0.5, 1.0], [-1.0, np.nan]]), 3, r"0\.5 at index \(0, 0\)"),
        (np.array([[0, -3], [2**32, 1]], dtype=np.int64), 2, r"-3 at index \(0, 1\)"),
    ],
)
def test_dq_rejects_bad_values_saying_how_many(values, count, example):
    f = TMTMaskModel()
    with pytest.raises(ValueError, match=rf"{count} value\(s\) .* e\.g\. .*{example}"):
        f.dq = values


def test_dq_rejects_wrong_ndim_and_detector_shape():
    f = TMTMaskModel()
    with pytest.raises(DataModelError, match=r"2-D \(ny, nx\); got shape \(4, 4, 4\)"):
        f.dq = np.zeros((4, 4, 4))
    f.meta.detector = "IRIS1"
    with pytest.raises(DataModelError, match=r"shape \(100, 200\).*\(4096, 4096\)"):
        f.dq = np.zeros((100, 200))


def test_subarray_mask_of_its_own_size(tmp_path):
    f = TMTMaskModel()
    f.meta.detector = "IRIS1"
    f.meta.subarray.name = "CUSTOM"
    f.meta.subarray.xsize, f.meta.subarray.ysize = 20, 10
    f.meta.subarray.xstart, f.meta.subarray.ystart = 101, 201
    f.dq = np.zeros((10, 20))
    f.write(tmp_path / "sub.fits")
    header = fits.getheader(tmp_path / "sub.fits")
    assert (header["SUBSTRT1"], header["SUBSIZE1"], header["SUBSIZE2"]) == (101, 20, 10)


def test_dq_set_before_detector_is_checked_at_write(tmp_path):
    f = TMTMaskModel()
    f.dq = np.zeros((8, 8))
    with pytest.raises(DataModelError, match="DETECTOR"):
        f.write(tmp_path / "m.fits")
    f.meta.detector = "IRIS1"
    with pytest.raises(DataModelError, match=r"\(8, 8\).*\(4096, 4096\)"):
        f.write(tmp_path / "m.fits")
    assert not (tmp_path / "m.fits").exists()


def test_write_refuses_to_overwrite_and_leaves_no_temporary(tmp_path):
    f = TMTMaskModel()
    f.meta.detector = "IRIS1"
    f.dq = np.zeros((4096, 4096), dtype=np.uint32)
    target = tmp_path / "m.fits"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        f.write(target)
    assert target.read_bytes() == b"precious"
    f.dq[1, 2] = 2048
    f.write(target, overwrite=True)
    assert TMTMaskModel(target).dq[1, 2] == 2048
    assert os.listdir(tmp_path) == ["m.fits"]
    # Space reserved while writing is released: the file ends with its last HDU.
    assert datamodels.read_hdu_layout(target)[-1].end == target.stat().st_size


def _foreign_mask(path, dq, rows):
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "REFTYPE": "MASK"})
    primary.header.update({"SUBARRAY": "GENERIC", "SUBSIZE1": dq.shape[1]})
    primary.header["SUBSIZE2"] = dq.shape[0]
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[r[0] for r in rows]),
            fits.Column("VALUE", "J", array=[r[1] for r in rows]),
            fits.Column("NAME", "20A", array=[r[2] for r in rows]),
            fits.Column("DESCRIPTION", "20A", array=["" for _ in rows]),
        ],
        name="DQ_DEF",
    )
    fits.HDUList([primary, fits.ImageHDU(dq, name="DQ", uint=True), table]).writeto(
        path, checksum=True
    )
    return path


def test_dq_def_remaps_bits_by_name(tmp_path):
    dq = np.array([[0, 1, 2, 3], [4, 5, 0, 0]], dtype=np.uint32)
    path = _foreign_mask(
        tmp_path / "foreign.fits",
        dq,
        [(0, 1, "DEAD"), (1, 2, "hot"), (2, 4, "DO_NOT_USE")],
    )
    mask = datamodels.open(path)
    expected = np.array([[0, 1024, 2048, 3072], [1, 1025, 0, 0]], dtype=np.uint32)
    np.testing.assert_array_equal(mask.dq, expected)
    assert dqflags.count_flags(mask.dq)["DEAD"] == 3
    out = mask.write(tmp_path / "pipeline.fits")
    np.testing.assert_array_equal(TMTMaskModel(out).dq, expected)


def test_dq_def_unknown_name_is_dropped_with_a_warning(tmp_path):
    dq = np.array([[1, 2, 3]], dtype=np.uint32)
    path = _foreign_mask(tmp_path / "f.fits", dq, [(0, 1, "DEAD"), (1, 2, "SPARKLY")])
    with pytest.warns(DataModelWarning, match="'SPARKLY'"):
        mask = TMTMaskModel(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(mask.dq, [[1024, 0, 1024]])


def test_dq_bits_that_dq_def_does_not_name_are_dropped_with_a_warning(tmp_path):
    dq = np.array([[1, 8]], dtype=np.uint32)
    path = _foreign_mask(tmp_path / "f.fits", dq, [(0, 1, "HOT")])
    mask = TMTMaskModel(path)
    with pytest.warns(DataModelWarning, match="bit value"):
        np.testing.assert_array_equal(mask.dq, [[2048, 0]])


def test_dq_def_of_pipeline_flags_keeps_the_named_flags(tmp_path):
    dq = np.array([[1024, 2048 | 1024]], dtype=np.uint32)
    path = _foreign_mask(
        tmp_path / "p.fits", dq, [(10, 1024, "DEAD"), (11, 2048, "HOT")]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(TMTMaskModel(path).dq, dq)


def test_bits_a_dq_def_of_pipeline_values_does_not_name_are_dropped(tmp_path):
    # As jwst's dynamic_mask does: the table defines every bit the mask has.
    dq = np.array([[1024, 2048 | 4096 | 1024]], dtype=np.uint32)
    path = _foreign_mask(tmp_path / "p.fits", dq, [(10, 1024, "DEAD")])
    with pytest.warns(DataModelWarning, match=r"bit value\(s\) 2048, 4096 that"):
        np.testing.assert_array_equal(TMTMaskModel(path).dq, [[1024, 1024]])


def _corrupt_mask(tmp_path):
    f = TMTMaskModel()
    f.meta.detector = "IRIS1"
    f.dq = np.zeros((4096, 4096), dtype=np.uint32)
    path = f.write(tmp_path / "m.fits")
    dq_hdu = datamodels.read_hdu_layout(path)[1]
    with open(path, "r+b") as stream:
        stream.seek(dq_hdu.data_offset + 4 * 1000)
        stream.write(b"\x80\x00\x04\x00")  # flips a stored zero to 1024
    return path


def test_checksum_mismatch_is_an_error(tmp_path):
    """Issue 15: a mask failing its checksum is refused, naming the way out."""
    path = _corrupt_mask(tmp_path)
    mask = TMTMaskModel(path)
    with pytest.raises(DataModelError) as error:
        mask.dq  # noqa: B018 - reading is the point
    message = str(error.value)
    assert message.startswith(f"{path}: HDU 1 (DQ): DATASUM is ")
    assert "IRISDQ_ACCEPT_BAD_CHECKSUMS=1" in message
    assert "accept_bad_checksums=True" in message
    with pytest.raises(DataModelError, match="IRISDQ_ACCEPT_BAD_CHECKSUMS"):
        datamodels.open(path).dq  # noqa: B018


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_checksum_mismatch_accepted_on_request_warns(tmp_path, monkeypatch, how):
    path = _corrupt_mask(tmp_path)
    if how == "keyword":
        mask = TMTMaskModel(path, accept_bad_checksums=True)
    else:
        monkeypatch.setenv("IRISDQ_ACCEPT_BAD_CHECKSUMS", "1")
        mask = TMTMaskModel(path)
    with pytest.warns(DataModelWarning) as record:
        assert mask.dq[0, 1000] == 1024
    messages = [str(w.message) for w in record]
    assert any("DATASUM" in m and "m.fits" in m for m in messages)
    assert any("CHECKSUM does not match" in m for m in messages)
    assert mask.checksum_problems == messages
    monkeypatch.setenv("IRISDQ_ACCEPT_BAD_CHECKSUMS", "1")
    with pytest.raises(DataModelError, match="DATASUM"):
        TMTMaskModel(path, accept_bad_checksums=False).dq  # noqa: B018


def test_primary_header_checksum_mismatch_is_an_error_at_open(tmp_path):
    """Issue 15: an edited primary header fails its CHECKSUM."""
    path = _corrupt_mask(tmp_path)
    data = bytearray(path.read_bytes())
    at = data.index(b"IRIS1   ")
    data[at : at + 8] = b"IRIS2   "
    path.write_bytes(bytes(data))
    with pytest.raises(DataModelError, match=r"HDU 0 \(PRIMARY\): CHECKSUM"):
        TMTMaskModel(path)


def test_checksums_of_a_good_file_do_not_warn(tmp_path):
    f = TMTMaskModel()
    f.meta.detector = "IRIS1"
    f.dq = np.zeros((4096, 4096), dtype=np.uint32)
    path = f.write(tmp_path / "m.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = TMTMaskModel(path)
        assert mask.dq.sum() == 0
        assert mask.verify_checksums()


def test_mask_without_detector_keyword_is_an_error(tmp_path):
    path = tmp_path / "m.fits"
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2), np.uint32), name="DQ")]
    ).writeto(path)
    with pytest.raises(DataModelError, match=r"m\.fits: .*no INSTRUME keyword"):
        datamodels.open(path)


def test_mask_with_float_dq_is_an_error(tmp_path):
    path = tmp_path / "m.fits"
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    fits.HDUList(
        [primary, fits.ImageHDU(np.zeros((2, 2), np.float32), name="DQ")]
    ).writeto(path)
    with pytest.raises(DataModelError, match="DQ holds float32 values"):
        TMTMaskModel(path)


def test_mask_without_dq_is_an_error(tmp_path):
    path = tmp_path / "m.fits"
    primary = fits.PrimaryHDU()
    primary.header.update({"DATAMODL": "TMTMaskModel", "INSTRUME": "IRIS"})
    primary.header["DETECTOR"] = "IRIS1"
    primary.writeto(path)
    with pytest.raises(DataModelError, match="no DQ extension"):
        datamodels.open(path)


def test_pipeline_dq_def_recognised_without_decoding(tmp_path, monkeypatch):
    """A mask irisdq wrote is read without building or decoding a table."""
    import irisdq.datamodels.mask as mask_module

    mask = TMTMaskModel()
    mask.meta.detector = "IRIS1"
    mask.meta.subarray.name = "CUSTOM"
    mask.dq = np.full((4, 4), 1024, dtype=np.uint32)
    path = mask.write(tmp_path / "m.fits")

    def refuse(*args, **kwargs):
        raise AssertionError("a DQ_DEF table was built or decoded")

    monkeypatch.setattr(fits.BinTableHDU, "fromstring", refuse)
    monkeypatch.setattr(mask_module, "_pipeline_dq_def_hdu", refuse)
    with TMTMaskModel(path) as back:
        assert back._mapping is None
        assert (back.dq == 1024).all()


def _mask_file(path, dq, *, header=None, dq_def=None, uint=True):
    """A mask file written by astropy: DQ as given, optional DQ_DEF HDU."""
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    primary.header.update({"SUBARRAY": "CUSTOM", "SUBSTRT1": 1, "SUBSTRT2": 1})
    if dq.ndim == 2:
        primary.header.update({"SUBSIZE1": dq.shape[1], "SUBSIZE2": dq.shape[0]})
    primary.header.update(header or {})
    hdus = [primary, fits.ImageHDU(dq, name="DQ", uint=uint)]
    if dq_def is not None:
        hdus.append(dq_def)
    fits.HDUList(hdus).writeto(path, checksum=True)
    return path


def test_negative_values_in_a_signed_dq_are_an_error(tmp_path):
    """Issue 14: int32 -1 is not read as 0xFFFFFFFF (every flag set)."""
    dq = np.array([[0, 1024], [-1, 2048]], dtype=np.int32)
    path = _mask_file(tmp_path / "m.fits", dq, uint=False)
    mask = TMTMaskModel(path)
    with pytest.raises(DataModelError) as error:
        mask.dq  # noqa: B018 - reading is the point
    message = str(error.value)
    assert message.startswith(f"{path}: DQ: 1 value(s) are not integers in 0..")
    assert "-1 at index (1, 0)" in message
    assert "non-negative flags" in message
    good = _mask_file(tmp_path / "g.fits", np.abs(dq), uint=False)
    np.testing.assert_array_equal(TMTMaskModel(good).dq, [[0, 1024], [1, 2048]])


@pytest.mark.parametrize("shape", [(2, 2, 2), (4,)])
def test_dq_that_is_not_2d_is_an_error(tmp_path, shape):
    """Issue 14: a 3-D or 1-D DQ is refused when the file is opened."""
    path = _mask_file(tmp_path / "m.fits", np.zeros(shape, np.uint32))
    with pytest.raises(DataModelError) as error:
        TMTMaskModel(path)
    assert str(error.value).startswith(
        f"{path}: DQ has {len(shape)} axes, shape {shape}; a mask's DQ must be"
    )


def test_shape_must_match_subsize(tmp_path):
    """Issue 14: SUBSIZE1/2 that disagree with the array are an error."""
    path = _mask_file(
        tmp_path / "m.fits",
        np.zeros((3, 4), np.uint32),
        header={"SUBSIZE1": 3, "SUBSIZE2": 4},
    )
    with pytest.raises(DataModelError) as error:
        TMTMaskModel(path)
    assert str(error.value).startswith(
        f"{path}: DQ has shape (3, 4) (ny, nx) but SUBSIZE2, SUBSIZE1 = 4, 3;"
    )


@pytest.mark.parametrize("keyword", ["SUBSTRT1", "SUBSTRT2"])
def test_subarray_start_below_one_is_an_error(tmp_path, keyword):
    """Issue 14: SUBSTRT1/2 are 1-based."""
    path = _mask_file(
        tmp_path / "m.fits", np.zeros((3, 4), np.uint32), header={keyword: 0}
    )
    with pytest.raises(DataModelError, match=f"m.fits: {keyword} = 0; the start"):
        TMTMaskModel(path)


def test_dq_def_that_is_not_a_table_is_an_error(tmp_path):
    """Issue 14: an IMAGE named DQ_DEF is refused, not decoded."""
    image = fits.ImageHDU(np.zeros((2, 2), np.int16), name="DQ_DEF")
    path = _mask_file(tmp_path / "m.fits", np.zeros((3, 4), np.uint32), dq_def=image)
    with pytest.raises(DataModelError, match="DQ_DEF is a IMAGE extension; it must"):
        TMTMaskModel(path)


@pytest.mark.parametrize("value", [-1024, 3, 2**32])
def test_dq_def_values_must_be_single_bits(tmp_path, value):
    """Issue 14: negative or multi-bit DQ_DEF VALUEs are refused."""
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[0, 10]),
            fits.Column("VALUE", "K", array=[1, value]),
            fits.Column("NAME", "20A", array=["DO_NOT_USE", "DEAD"]),
            fits.Column("DESCRIPTION", "20A", array=["", ""]),
        ],
        name="DQ_DEF",
    )
    path = _mask_file(tmp_path / "m.fits", np.zeros((3, 4), np.uint32), dq_def=table)
    with pytest.raises(DataModelError) as error:
        TMTMaskModel(path)
    assert str(error.value).startswith(
        f"{path}: DQ_DEF row 2 ('DEAD') has VALUE {value}; each VALUE must be"
    )


def test_huge_declared_dq_is_refused_before_allocating(tmp_path):
    """Issue 14: a 60000 x 60000 DQ (14 GB) is refused at open, unread."""
    path = write_declared_mask(tmp_path / "huge.fits", (60000, 60000))
    with pytest.raises(DataModelError) as error:
        TMTMaskModel(path)
    assert str(error.value).startswith(
        f"{path}: DQ declares 60000 x 60000 pixels (NAXIS2 x NAXIS1); a mask may "
        "have at most 16384 per axis"
    )


# -- the three mask layouts: TMT IRIS, JWST (stdatamodels), Liger/IRIS -----------

JWST_LAYOUT = MaskLayout("MaskModel", "MASK", {"*": "JWST"}, "uint32")
LIGER_LAYOUT = MaskLayout("DQModel", "dq", {}, "int32")

# A file's own bits: 8 is DEAD, 4 HOT, bit 31 REFERENCE_PIXEL.
OWN_ROWS = [
    (0, 1, "DO_NOT_USE", "Bad pixel"),
    (3, 8, "DEAD", "Dead pixel"),
    (2, 4, "HOT", "Hot pixel"),
    (31, 2**31, "REFERENCE_PIXEL", "Reference pixel"),
]


def _own_bits_dq():
    dq = np.zeros((6, 5), dtype=np.uint32)
    dq[1, 2] = 8 | 1
    dq[3, 3] = 4
    dq[0, :] = 2**31
    return dq


def _pipeline_flags_of_own_bits():
    """_own_bits_dq() in the pipeline's flags."""
    dq = np.zeros((6, 5), dtype=np.uint32)
    dq[1, 2] = 1024 | 1
    dq[3, 3] = 2048
    dq[0, :] = 2**31
    return dq


@pytest.mark.parametrize(
    ("layout", "value_dtype", "telescope"),
    [
        (TMT_MASK, np.int64, "TMT"),
        (JWST_LAYOUT, np.uint32, "JWST"),
        (LIGER_LAYOUT, np.int32, None),
    ],
)
def test_each_layout_round_trips(tmp_path, monkeypatch, layout, value_dtype, telescope):
    mask = TMTMaskModel()
    mask.meta.detector = "IRIS1"
    mask.meta.subarray.name = "CUSTOM"
    mask.file_layout = layout
    mask.dq = _pipeline_flags_of_own_bits()
    path = mask.write(tmp_path / "mask.fits")
    with fits.open(path, checksum=True) as hdul:
        header = hdul[0].header
        assert header["DATAMODL"] == layout.datamodel
        assert header["REFTYPE"] == layout.reftype
        assert header.get("TELESCOP") == telescope
        table = hdul["DQ_DEF"].data
        assert table["VALUE"].dtype.newbyteorder("=") == np.dtype(value_dtype)
        assert table["NAME"][31] == "REFERENCE_PIXEL"
        assert int(table["VALUE"][31]) == (
            -(2**31) if value_dtype is np.int32 else 2**31
        )
    # Read back without decoding the table: it is the pipeline's own.
    monkeypatch.setattr(
        fits.BinTableHDU, "fromstring", lambda *a, **k: pytest.fail("decoded")
    )
    with TMTMaskModel(path) as back:
        assert back._mapping is None
        np.testing.assert_array_equal(back.dq, _pipeline_flags_of_own_bits())
        assert back.meta.model_type == layout.datamodel
    stored_dq, rows = read_stored_mask(path)
    np.testing.assert_array_equal(stored_dq, _pipeline_flags_of_own_bits())
    assert rows[31].value == 2**31


@pytest.mark.parametrize("style", ["jwst", "liger"])
def test_a_foreign_mask_is_remapped_by_name(tmp_path, style):
    path = write_foreign_mask(
        tmp_path / f"{style}.fits", _own_bits_dq(), OWN_ROWS, style=style
    )
    expected = _pipeline_flags_of_own_bits()
    with TMTMaskModel(path) as mask:
        np.testing.assert_array_equal(mask.dq, expected)
    flags = read_mask_flags(path)
    np.testing.assert_array_equal(flags.dq, expected)
    assert (flags.xstart, flags.ystart) == (1, 1)
    with datamodels.open(path) as model:
        assert isinstance(model, TMTMaskModel)


def test_a_liger_table_named_in_lower_case_is_used(tmp_path):
    path = write_foreign_mask(
        tmp_path / "liger.fits",
        _own_bits_dq(),
        OWN_ROWS,
        style="liger",
        dq_def_name="dq_def",
    )
    with fits.open(path) as hdul:
        assert hdul[2].header["EXTNAME"] == "dq_def"
    with TMTMaskModel(path) as mask:
        np.testing.assert_array_equal(mask.dq, _pipeline_flags_of_own_bits())


def test_a_liger_int32_value_that_is_not_bit_31_is_refused(tmp_path):
    rows = [*OWN_ROWS[:3], (31, 2**32 - 3, "REFERENCE_PIXEL", "")]  # int32 -3
    path = write_foreign_mask(
        tmp_path / "liger.fits", _own_bits_dq(), rows, style="liger"
    )
    with pytest.raises(DataModelError, match="has VALUE 4294967293"):
        TMTMaskModel(path)


def test_the_stored_reader_gives_liger_bit_31_unsigned(tmp_path):
    path = write_foreign_mask(
        tmp_path / "liger.fits", _own_bits_dq(), OWN_ROWS, style="liger"
    )
    dq, rows = read_stored_mask(path)
    assert [row.value for row in rows] == [1, 8, 4, 2**31]
    np.testing.assert_array_equal(dq, _own_bits_dq())


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (MaskLayout("M", "MASK", value_dtype="float32"), "value_dtype is 'float32'"),
        (MaskLayout("M", "MASK", dq_def="dq"), "dq_def is 'dq'"),
        (MaskLayout("M", "MASK", dq="FLAGS"), "dq is 'FLAGS'"),
    ],
)
def test_an_unusable_file_layout_is_refused_before_writing(tmp_path, layout, message):
    mask = TMTMaskModel()
    mask.meta.detector = "IRIS1"
    mask.meta.subarray.name = "CUSTOM"
    mask.dq = np.zeros((2, 2), dtype=np.uint32)
    mask.file_layout = layout
    with pytest.raises(DataModelError, match=message):
        mask.write(tmp_path / "mask.fits")
    assert not (tmp_path / "mask.fits").exists()


@pytest.mark.parametrize("value_dtype", ["int64", "uint32", "int32"])
def test_the_pipeline_table_s_data_is_what_astropy_writes(value_dtype):
    """The DQ_DEF data a mask is compared with, built with numpy, is byte for
    byte the data of the table astropy writes for the same VALUE column."""
    from irisdq.datamodels import mask as mask_module

    built = mask_module._pipeline_dq_def_data(value_dtype)
    primary = fits.PrimaryHDU().header.tostring().encode("ascii")
    file = primary + mask_module._pipeline_dq_def_hdu(value_dtype)
    table = datamodels.read_hdu_layout(io.BytesIO(file))[1]
    written = file[table.data_offset : table.data_offset + table.data_size]
    assert built == written
    assert len(built) == len(dqflags.pipeline_dq_def()) * (
        4 + (8 if value_dtype == "int64" else 4) + 40 + 80
    )
