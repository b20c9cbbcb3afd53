"""update_ramp_dq with a ramp layout: the Liger single-DQ layout, a split
layout with other names and axes, and the TMT layout given explicitly."""

import shutil

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from builders import read_asdf_tree, write_full_frame_ramp, write_liger_ramp
from irisdq.datamodels import ramp_dq, read_hdu_layout
from irisdq.datamodels.ramp_dq import DQArrayChange, update_ramp_dq
from irisdq.errors import DataModelError, FlagValueError
from irisdq.layouts import RampLayout
from irisdq.profiles import PROFILES

LIGER = PROFILES["liger"].ramp
LNEW = RampLayout("DATA", ("nreads", "ny", "nx"), pixel_dq="DQ", group_dq="DQ_RAW")
KEYWORDS = {"S_DQINIT": ("COMPLETE", "DQ initialization"), "R_DQ": "N/A"}
NY, NX, NGROUPS, NREADS = 9, 11, 3, 2
SHAPE = (NY, NX, NGROUPS, NREADS)


def _flags(dtype=np.uint16) -> np.ndarray:
    flags = np.zeros((NY, NX), dtype=dtype)
    flags[3, 7] = 1 | 1024
    return flags


def _existing_dq() -> np.ndarray:
    """A DQ with bits set already, among them bit 15 (stored int16 < 0)."""
    dq = np.zeros(SHAPE, dtype=np.uint16)
    dq[3, 7, 1, 0] = 0x8000
    dq[0, 0, :, :] = 4
    dq[NY - 1, NX - 1, NGROUPS - 1, NREADS - 1] = 0xFFFF
    return dq


def _data_bytes(path, name: str) -> bytes:
    hdu = next(h for h in read_hdu_layout(path) if h.name == name)
    with open(path, "rb") as stream:
        stream.seek(hdu.data_offset)
        return stream.read(hdu.data_size)


def _read(path, name: str) -> np.ndarray:
    with fits.open(path, checksum=True) as hdul:
        assert all(h.verify_checksum() != 0 for h in hdul)
        return np.array(hdul[name].data)


@pytest.mark.parametrize("in_place", [False, True])
def test_a_flagged_pixel_lands_in_every_read_of_that_pixel_only(tmp_path, in_place):
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=_existing_dq())
    data, times = _data_bytes(raw, "DATA"), _data_bytes(raw, "TIMES")
    out = raw if in_place else tmp_path / "out.fits"
    result = update_ramp_dq(
        raw, KEYWORDS, _flags(), target=None if in_place else out, layout=LIGER
    )
    assert (result.path, result.created, result.rewritten) == (out, [], False)
    dq = _read(out, "DQ")
    expected = _existing_dq()
    expected[3, 7] |= 1025
    assert dq.dtype == np.uint16
    np.testing.assert_array_equal(dq, expected)
    assert dq[3, 7, 1, 0] == 0x8000 | 1025  # the bit already there is kept
    assert _data_bytes(out, "DATA") == data
    assert _data_bytes(out, "TIMES") == times
    assert fits.getval(out, "S_DQINIT") == "COMPLETE"
    assert fits.getheader(out, "DQ")["BZERO"] == 32768


def test_in_place_and_copy_write_the_same_bytes(tmp_path):
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=_existing_dq())
    # The same name: the tree records the output's name (meta.filename).
    copy = tmp_path / "copy" / "raw.fits"
    copy.parent.mkdir()
    update_ramp_dq(raw, KEYWORDS, _flags(), target=copy, layout=LIGER)
    update_ramp_dq(raw, KEYWORDS, _flags(), layout=LIGER)
    assert raw.read_bytes() == copy.read_bytes()


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize(
    ("dq", "found"),
    [(None, None), (np.zeros((NY, NX, 1, NREADS), np.uint16), (NY, NX, 1, NREADS))],
)
def test_a_missing_or_misshapen_dq_is_made_from_zeros(tmp_path, in_place, dq, found):
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=dq)
    out = raw if in_place else tmp_path / "out.fits"
    result = update_ramp_dq(
        raw, KEYWORDS, _flags(), target=None if in_place else out, layout=LIGER
    )
    assert result.created == [DQArrayChange("DQ", found, SHAPE)]
    expected = np.zeros(SHAPE, np.uint16)
    expected[3, 7] = 1025
    np.testing.assert_array_equal(_read(out, "DQ"), expected)
    names = [h.name for h in read_hdu_layout(out)]
    assert names.count("DQ") == 1
    # In place, the new DQ is appended (after the ASDF tree, rewritten where
    # it was); a new file has it after DATA, as jwst places missing arrays.
    if not in_place:
        assert names == ["PRIMARY", "DATA", "DQ", "TIMES", "ASDF"]


@pytest.mark.parametrize("in_place", [False, True])
def test_a_dq_stored_as_int16_without_bzero_is_converted(tmp_path, in_place):
    """The pipeline's test files store DQ as int16; -1 is all 16 bits."""
    stored = np.zeros(SHAPE, dtype=np.int16)
    stored[5, 5, 0, 0] = -1
    stored[3, 7, 2, 1] = -32768
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=stored)
    assert "BZERO" not in fits.getheader(raw, "DQ")
    out = raw if in_place else tmp_path / "out.fits"
    result = update_ramp_dq(
        raw, KEYWORDS, _flags(), target=None if in_place else out, layout=LIGER
    )
    assert result.created == []
    dq = _read(out, "DQ")
    assert dq.dtype == np.uint16
    assert fits.getheader(out, "DQ")["BZERO"] == 32768
    assert dq[5, 5, 0, 0] == 0xFFFF
    assert dq[3, 7, 2, 1] == 0x8000 | 1025
    assert dq[3, 7, 0, 0] == 1025


def test_a_dq_stored_as_uint8_is_widened_by_rewriting_the_file(tmp_path):
    stored = np.zeros(SHAPE, dtype=np.uint8)
    stored[0, 1, 0, 0] = 200
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=stored)
    result = update_ramp_dq(raw, KEYWORDS, _flags(), layout=LIGER)
    assert result.rewritten
    dq = _read(raw, "DQ")
    assert dq.dtype == np.uint16
    assert (dq[0, 1, 0, 0], dq[3, 7, 1, 1], int(dq.sum())) == (
        200,
        1025,
        200 + 6 * 1025,
    )


def test_blocks_of_rows_give_the_same_result(tmp_path, monkeypatch):
    """The DQ is read, ORed and written a few rows at a time, never whole:
    with blocks of two rows (the last one short) the result is the same."""
    rng = np.random.default_rng(3)
    existing = rng.integers(0, 2**16, SHAPE, dtype=np.uint16)
    flags = rng.integers(0, 2**16, (NY, NX), dtype=np.uint16)
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=existing)
    row = NX * NGROUPS * NREADS * 2
    monkeypatch.setattr(ramp_dq, "_BLOCK_BYTES", 2 * row + 1)
    seen = []
    original = ramp_dq._DQArray._read

    def read(self, fd, encoding, start, count, source):
        seen.append(count)
        return original(self, fd, encoding, start, count, source)

    monkeypatch.setattr(ramp_dq._DQArray, "_read", read)
    update_ramp_dq(raw, KEYWORDS, flags, target=tmp_path / "out.fits", layout=LIGER)
    assert seen == [2 * row // 2] * 4 + [row // 2]
    np.testing.assert_array_equal(
        _read(tmp_path / "out.fits", "DQ"), existing | flags[:, :, None, None]
    )


def test_a_uint32_single_dq_with_planes_last(tmp_path):
    """A single-DQ layout may keep its planes last and hold 32 bits."""
    layout = RampLayout("DATA", ("ngroups", "ny", "nx"), dq="DQ", dq_dtype="uint32")
    existing = np.zeros((2, NY, NX), np.uint32)
    existing[1, 3, 7] = 2**31
    hdus = [
        fits.PrimaryHDU(),
        fits.ImageHDU(np.ones((2, NY, NX), np.float32), name="DATA"),
        fits.ImageHDU(existing, name="DQ"),
    ]
    fits.HDUList(hdus).writeto(tmp_path / "raw.fits")
    flags = _flags(np.uint32)
    flags[0, 0] = 2**30
    update_ramp_dq(
        tmp_path / "raw.fits", KEYWORDS, flags, target=tmp_path / "out.fits",
        layout=layout,
    )  # fmt: skip
    dq = _read(tmp_path / "out.fits", "DQ")
    np.testing.assert_array_equal(dq, existing | flags)
    assert dq[1, 3, 7] == 2**31 | 1025


def test_flags_that_do_not_fit_the_dq_dtype_are_refused(tmp_path):
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE)
    flags = _flags(np.uint32)
    flags[1, 1] = 2**20
    with pytest.raises(FlagValueError, match="the flags for DQ"):
        update_ramp_dq(raw, KEYWORDS, flags, target=tmp_path / "out.fits", layout=LIGER)
    with pytest.raises(DataModelError, match=r"the flags for DQ are \(9, 10\)"):
        update_ramp_dq(
            raw, KEYWORDS, _flags()[:, :10], target=tmp_path / "out.fits", layout=LIGER
        )
    assert not (tmp_path / "out.fits").exists()


def test_the_asdf_tree_points_to_the_liger_arrays(tmp_path):
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE)
    update_ramp_dq(raw, KEYWORDS, _flags(), target=tmp_path / "out.fits", layout=LIGER)
    tree = read_asdf_tree(tmp_path / "out.fits")
    sources = {key: tree[key]._source for key in ("data", "dq", "times")}
    assert sources == {
        "data": "fits:DATA,1",
        "dq": "fits:DQ,1",
        "times": "fits:TIMES,1",
    }
    assert tree["dq"].dtype.newbyteorder("=") == np.uint16
    assert tree["dq"].shape == SHAPE
    # The input's tree is kept, its meta updated from the keywords.
    assert tree["meta"]["instrument"]["detector"] == "IMG"
    assert tree["meta"]["cal_step"]["dq_init"] == "COMPLETE"


@pytest.mark.parametrize("in_place", [False, True])
def test_a_split_layout_with_its_own_names_and_axes(tmp_path, in_place):
    nreads = 3
    raw_dq = np.zeros((nreads, NY, NX), np.uint8)
    raw_dq[2, 3, 7] = 4
    pixel = np.zeros((NY, NX), np.uint32)
    pixel[3, 7] = 2**31
    hdus = [
        fits.PrimaryHDU(),
        fits.ImageHDU(np.ones((nreads, NY, NX), np.uint16), name="DATA"),
        fits.ImageHDU(raw_dq, name="DQ_RAW"),
        fits.ImageHDU(pixel, name="DQ"),
    ]
    raw = tmp_path / "raw.fits"
    fits.HDUList(hdus).writeto(raw)
    flags = _flags(np.uint32)
    out = raw if in_place else tmp_path / "out.fits"
    result = update_ramp_dq(
        raw, KEYWORDS, flags, (flags & 1).astype(np.uint8),
        target=None if in_place else out, layout=LNEW,
    )  # fmt: skip
    assert result.created == []
    assert [h.name for h in read_hdu_layout(out)][1:] == [
        "DATA",
        "DQ_RAW",
        "DQ",
        "ASDF",
    ]
    np.testing.assert_array_equal(_read(out, "DQ"), pixel | flags)
    expected = raw_dq.copy()
    expected[:, 3, 7] |= 1
    np.testing.assert_array_equal(_read(out, "DQ_RAW"), expected)
    tree = read_asdf_tree(out)
    assert (tree["dq"]._source, tree["dq_raw"]._source) == (
        "fits:DQ,1",
        "fits:DQ_RAW,1",
    )


def test_a_split_layout_creates_its_arrays_after_the_science_array(tmp_path):
    hdus = [
        fits.PrimaryHDU(),
        fits.ImageHDU(np.ones((2, NY, NX), np.uint16), name="DATA"),
    ]
    fits.HDUList(hdus).writeto(tmp_path / "raw.fits")
    flags = _flags(np.uint32)
    result = update_ramp_dq(
        tmp_path / "raw.fits", KEYWORDS, flags, (flags & 1).astype(np.uint8),
        target=tmp_path / "out.fits", layout=LNEW,
    )  # fmt: skip
    assert result.created == [
        DQArrayChange("DQ", None, (NY, NX)),
        DQArrayChange("DQ_RAW", None, (2, NY, NX)),
    ]
    assert _read(tmp_path / "out.fits", "DQ_RAW")[:, 3, 7].tolist() == [1, 1]


@pytest.mark.parametrize("in_place", [False, True])
def test_the_tmt_layout_given_explicitly_writes_what_the_default_writes(
    tmp_path, in_place
):
    flags = np.zeros((16, 16), np.uint32)
    flags[3, 7] = 1025
    # One input for both: astropy dates the CHECKSUM comments of what it
    # writes, so two inputs written a second apart differ.
    original = write_full_frame_ramp(tmp_path / "original.fits")
    results = []
    for layout in (None, PROFILES["tmt"].ramp):
        folder = tmp_path / str(layout is None)
        folder.mkdir()
        raw = folder / "raw.fits"
        shutil.copyfile(original, raw)
        out = raw if in_place else folder / "out.fits"
        update_ramp_dq(
            raw, KEYWORDS, flags, (flags & 1).astype(np.uint8),
            target=None if in_place else out, layout=layout,
        )  # fmt: skip
        results.append(out.read_bytes())
    assert results[0] == results[1]


def test_a_single_dq_layout_needs_no_group_flags_and_keeps_dq_when_skipped(tmp_path):
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=_existing_dq())
    update_ramp_dq(
        raw, {"S_DQINIT": "SKIPPED"}, target=tmp_path / "out.fits", layout=LIGER
    )
    assert _data_bytes(tmp_path / "out.fits", "DQ") == _data_bytes(raw, "DQ")
    assert fits.getval(tmp_path / "out.fits", "S_DQINIT") == "SKIPPED"


@pytest.fixture
def always_patched(monkeypatch):
    """In place, DQ's flagged elements are patched however small the array
    (on these test ramps rewriting it whole would cost less)."""
    monkeypatch.setattr(ramp_dq, "_patching_pays", lambda spans, size: True)


@pytest.mark.parametrize("datasum", [True, False])
def test_in_place_saves_and_writes_only_the_flagged_pixels_readings(
    tmp_path, monkeypatch, datasum, always_patched
):
    """The undo journal holds the headers, the ASDF tree and the readings of
    the flagged pixels, not the whole DQ; every other byte of DQ is the
    input's, and the result is the bytes a new file gets. With DQ's
    DATASUM the readings are read once, before the journal, which is given
    them; without, the journal reads them (and DQ is read to be summed)."""
    from irisdq.datamodels import inplace

    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=_existing_dq())
    if not datasum:
        _set_dq_datasum(raw, None)
    copy = tmp_path / "copy" / "raw.fits"
    copy.parent.mkdir()
    update_ramp_dq(raw, KEYWORDS, _flags(), target=copy, layout=LIGER)
    dq = next(h for h in read_hdu_layout(raw) if h.name == "DQ")
    before = _data_bytes(raw, "DQ")
    read, given = [], []
    journal = inplace._write_journal

    def spy(stream, path, real, regions, gave=()):
        read.extend(tuple(region) for region in np.asarray(regions).tolist())
        for spans, contents in gave:
            given.append((np.asarray(spans).tolist(), contents))
        return journal(stream, path, real, regions, gave)

    monkeypatch.setattr(inplace, "_write_journal", spy)
    update_ramp_dq(raw, KEYWORDS, _flags(), layout=LIGER)
    if datasum:  # the copy's DQ is summed anew; the input had it right
        assert raw.read_bytes() == copy.read_bytes()
    read_in_data = [
        (start, stop)
        for start, stop in read
        if dq.data_offset <= start < dq.data_offset + dq.data_size
    ]
    pixel = NGROUPS * NREADS * 2  # bytes of one pixel's readings
    first = dq.data_offset + (3 * NX + 7) * pixel
    offset = first - dq.data_offset
    if datasum:
        assert read_in_data == []
        assert given == [([[first, first + pixel]], before[offset : offset + pixel])]
    else:
        assert read_in_data == [(first, first + pixel)]
        assert given == []
    after = _data_bytes(raw, "DQ")
    assert after[:offset] == before[:offset]
    assert after[offset + pixel :] == before[offset + pixel :]
    assert not inplace.pending(raw)


def _dq_hdu(path):
    return next(h for h in read_hdu_layout(path) if h.name == "DQ")


def _set_dq_datasum(path, value: int | None) -> None:
    """Set DQ's DATASUM to ``value`` (None: remove it)."""
    hdu = _dq_hdu(path)
    header = hdu.header.copy()
    if value is None:
        del header["DATASUM"]
    else:
        header["DATASUM"] = str(value)
    text = header.tostring().encode()
    assert len(text) == hdu.data_offset - hdu.header_offset
    with open(path, "r+b") as stream:
        stream.seek(hdu.header_offset)
        stream.write(text)


def _data_unit(path) -> bytes:
    hdu = _dq_hdu(path)
    with open(path, "rb") as stream:
        stream.seek(hdu.data_offset)
        return stream.read(hdu.end - hdu.data_offset)


def test_in_place_a_wrong_stored_datasum_stays_off_by_as_much(tmp_path, always_patched):
    """In place, DQ's new DATASUM is its stored one updated by the change:
    a stored sum that did not match the bytes still does not (irisdq does
    not vouch for bytes it did not read)."""
    from irisdq.datamodels.checksum import add_sums, word_sum

    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=_existing_dq())
    _set_dq_datasum(raw, add_sums(word_sum(_data_unit(raw)), 5))
    update_ramp_dq(raw, KEYWORDS, _flags(), layout=LIGER)
    assert int(_dq_hdu(raw).header["DATASUM"]) == add_sums(word_sum(_data_unit(raw)), 5)
    # astropy still finds the mismatch; the flags are in.
    with (
        pytest.warns(AstropyUserWarning) as caught,
        fits.open(raw, checksum=True) as hdul,
    ):
        flagged = hdul["DQ"].data[3, 7].tolist()
    assert flagged == [[1025, 1025], [33793, 1025], [1025, 1025]]
    found = {str(w.message).strip() for w in caught}
    assert found == {
        "Checksum verification failed for HDU ('DQ', 1).",
        "Datasum verification failed for HDU ('DQ', 1).",
    }


def test_in_place_a_dq_with_bytes_in_its_fill_is_summed_anew(tmp_path, always_patched):
    """Bytes in the fill after DQ (which the rewrite zeroes) make the
    stored sum useless: the array is read and summed, as a new file's."""
    from irisdq.datamodels.checksum import word_sum

    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=_existing_dq())
    hdu = _dq_hdu(raw)
    with open(raw, "r+b") as stream:
        stream.seek(hdu.end - 1)
        stream.write(b"X")
    _set_dq_datasum(raw, word_sum(_data_unit(raw)))
    update_ramp_dq(raw, KEYWORDS, _flags(), layout=LIGER)
    unit = _data_unit(raw)
    assert unit[-1:] == b"\0"
    assert int(_dq_hdu(raw).header["DATASUM"]) == word_sum(unit)


def test_in_place_a_dq_whose_words_sum_to_all_ones_is_read(tmp_path, always_patched):
    """The ones' complement has two zeros: a stored DATASUM updated by the
    change cannot tell a sum of all ones from an all-zero array's 0, so DQ
    is read. Stored uint16 0 is 0x8000 and 0xFFFF is 0x7FFF: pixel (0, 0)
    goes from 0x7FFE to 0x7FFF in all its readings, every other stored
    word is zero, and the words sum to all ones."""
    from irisdq.datamodels.checksum import word_sum

    dq = np.full(SHAPE, 0x8000, np.uint16)
    dq[0, 0] = 0x7FFE
    raw = write_liger_ramp(tmp_path / "raw.fits", *SHAPE, dq=dq)
    flags = np.zeros((NY, NX), np.uint16)
    flags[0, 0] = 1
    update_ramp_dq(raw, KEYWORDS, flags, layout=LIGER)
    assert word_sum(_data_unit(raw)) == 0xFFFFFFFF
    assert int(_dq_hdu(raw).header["DATASUM"]) == 0xFFFFFFFF
    assert (_read(raw, "DQ")[0, 0] == 0x7FFF).all()


def _journaled_regions(monkeypatch) -> list:
    from irisdq.datamodels import inplace

    regions = []
    journal = inplace._write_journal

    def spy(stream, path, real, listed, given=()):
        regions.extend(tuple(r) for r in np.asarray(listed).tolist())
        regions.extend(
            tuple(r) for spans, _ in given for r in np.asarray(spans).tolist()
        )
        return journal(stream, path, real, listed, given)

    monkeypatch.setattr(inplace, "_write_journal", spy)
    return regions


def test_in_place_patches_a_dq_only_where_patching_pays(tmp_path, monkeypatch):
    """One flagged pixel of a 64 x 64 Liger ramp of 40 readings: its 40
    readings are patched. On a TMT PIXELDQ of 9 x 11 (one element a pixel)
    the whole array costs less to rewrite than a write call: it is."""
    shape = (64, 64, 10, 4)
    raw = write_liger_ramp(
        tmp_path / "liger.fits", *shape, dq=np.zeros(shape, np.uint16)
    )
    flags = np.zeros(shape[:2], np.uint16)
    flags[5, 6] = 1
    regions = _journaled_regions(monkeypatch)
    update_ramp_dq(raw, KEYWORDS, flags, layout=LIGER)
    dq = _dq_hdu(raw)
    pixel = (5 * 64 + 6) * 40 * 2
    in_dq = [
        r for r in regions if dq.data_offset <= r[0] < dq.data_offset + dq.data_size
    ]
    assert in_dq == [(dq.data_offset + pixel, dq.data_offset + pixel + 80)]

    regions.clear()
    tmt = write_full_frame_ramp(tmp_path / "tmt.fits", shape=(1, 2, NY, NX))
    update_ramp_dq(tmt, KEYWORDS, _flags(np.uint32), (_flags() & 1).astype(np.uint8))
    update_ramp_dq(tmt, KEYWORDS, _flags(np.uint32), (_flags() & 1).astype(np.uint8))
    pixeldq = next(h for h in read_hdu_layout(tmt) if h.name == "PIXELDQ")
    assert (pixeldq.header_offset, pixeldq.end) in regions
