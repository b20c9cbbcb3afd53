"""copy.copy, copy.deepcopy and pickle of data models and their metadata
(irisdq.datamodels.portable), as Dask, multiprocessing and pipelines use
them."""

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import write_foreign_mask, write_liger_ramp, write_mask
from irisdq import datamodels
from irisdq.datamodels import LigerRampModel, Meta, RampModel, TMTMaskModel
from irisdq.errors import DataModelError


def round_trip(thing):
    return pickle.loads(pickle.dumps(thing))


# -- metadata ------------------------------------------------------------------


@pytest.mark.parametrize("duplicate", [copy.deepcopy, round_trip])
def test_metadata_copies_are_their_own(duplicate):
    meta = Meta()
    meta.subarray.name = "SUB64"
    meta.instrument.detector = "IRIS1"
    twin = duplicate(meta)
    assert type(twin) is Meta
    assert twin.to_dict() == meta.to_dict()
    twin.subarray.name = "FULL"
    assert meta.subarray.name == "SUB64"
    with pytest.raises(AttributeError, match="meta has no attribute 'nonsense'"):
        twin.nonsense  # noqa: B018


@pytest.mark.parametrize("duplicate", [copy.deepcopy, round_trip])
def test_a_metadata_group_copied_alone_keeps_its_place(duplicate):
    meta = Meta()
    meta.subarray.xstart = 5
    group = duplicate(meta.subarray)
    assert group.xstart == 5
    group.xsize = 64
    assert repr(group) == "<meta.subarray {'xstart': 5, 'xsize': 64}>"
    assert meta.subarray.xsize is None


# -- models without a file -------------------------------------------------------


@pytest.mark.parametrize("duplicate", [copy.deepcopy, round_trip])
def test_a_new_model_copies_whole_and_independent(duplicate):
    # Incomplete (no SCI): a model that could not be written still copies.
    ramp = RampModel()
    ramp.pixeldq = np.arange(6, dtype=np.uint32).reshape(2, 3)
    ramp.meta.instrument.detector = "IRIS1"
    ramp.extra_keywords["OBSERVER"] = "me"
    twin = duplicate(ramp)
    assert type(twin) is RampModel
    np.testing.assert_array_equal(twin.pixeldq, ramp.pixeldq)
    twin.pixeldq[0, 0] = 99
    twin.meta.instrument.detector = "IRIS2"
    twin.extra_keywords["OBSERVER"] = "you"
    assert ramp.pixeldq[0, 0] == 0
    assert ramp.meta.instrument.detector == "IRIS1"
    assert ramp.extra_keywords["OBSERVER"] == "me"
    assert twin.path is None
    assert twin.data is None


def test_a_shallow_copy_shares_the_arrays():
    ramp = RampModel()
    ramp.pixeldq = np.zeros((2, 2), dtype=np.uint32)
    twin = copy.copy(ramp)
    assert twin.pixeldq is ramp.pixeldq
    assert twin.meta is ramp.meta


# -- models of a file ------------------------------------------------------------


@pytest.fixture
def stored_ramp(tmp_path):
    """A ramp file with PIXELDQ, an extension irisdq does not know, and
    nothing of it read yet."""
    ramp = RampModel()
    ramp.data = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    ramp.pixeldq = np.arange(20, dtype=np.uint32).reshape(4, 5)
    ramp.meta.instrument.detector = "IRIS1"
    path = ramp.write(tmp_path / "ramp.fits")
    with fits.open(path, mode="append") as hdus:
        hdus.append(fits.ImageHDU(np.eye(3), name="NOTES"))
    return path


def _hdu_bytes(path: Path, name: str) -> bytes:
    layout = {hdu.name: hdu for hdu in datamodels.read_hdu_layout(path)}
    hdu = layout[name]
    with open(path, "rb") as stream:
        stream.seek(hdu.header_offset)
        return stream.read(hdu.end - hdu.header_offset)


def test_a_pickled_model_carries_what_it_never_read(stored_ramp, tmp_path):
    """The unread arrays and the unknown extension travel as bytes: the
    unpickled model reads them with the file gone, and writes the extension
    back byte for byte."""
    with RampModel(stored_ramp) as ramp:
        ramp.meta.instrument.detector = "IRIS2"
        blob = pickle.dumps(ramp)
        expected = np.array(ramp.data), np.array(ramp.pixeldq)
    notes = _hdu_bytes(stored_ramp, "NOTES")
    os.remove(stored_ramp)
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.data, expected[0])
    np.testing.assert_array_equal(back.pixeldq, expected[1])
    assert back.meta.instrument.detector == "IRIS2"
    assert back.path == stored_ramp  # outputs are named as before
    written = back.write(tmp_path / "again.fits")
    assert _hdu_bytes(written, "NOTES") == notes
    with RampModel(written) as again:
        assert again.meta.instrument.detector == "IRIS2"
        np.testing.assert_array_equal(again.data, expected[0])


def test_a_pickled_model_takes_arrays_read_as_values(stored_ramp):
    with RampModel(stored_ramp) as ramp:
        assert isinstance(ramp.data, np.memmap)
        ramp.pixeldq[0, 0] = 7
        back = round_trip(ramp)
    assert type(back.data) is np.ndarray
    assert back.pixeldq[0, 0] == 7
    np.testing.assert_array_equal(back.data.ravel(), np.arange(120))


def test_a_pickled_model_is_not_taken_for_its_file(stored_ramp):
    """Saving an unpickled model onto the file it came from writes it (and
    needs overwrite): it is no longer that file, even unchanged."""
    with RampModel(stored_ramp) as ramp:
        assert ramp.is_unchanged_file()
        back = round_trip(ramp)
    assert not back.is_unchanged_file()
    with pytest.raises(FileExistsError):
        back.save(stored_ramp)
    back.pixeldq[1, 1] = 12345
    back.save(stored_ramp, overwrite=True)
    with RampModel(stored_ramp) as again:
        assert again.pixeldq[1, 1] == 12345


def test_a_closed_model_that_never_read_an_array_is_not_pickled(stored_ramp):
    ramp = RampModel(stored_ramp)
    ramp.close()
    with pytest.raises(DataModelError, match=r"ramp.fits: the model is closed;"):
        pickle.dumps(ramp)


def test_a_closed_model_with_every_array_read_is_pickled(tmp_path):
    path = write_mask(tmp_path / "mask.fits")
    with TMTMaskModel(path) as mask:
        dq = np.array(mask.dq)
    back = round_trip(mask)
    np.testing.assert_array_equal(back.dq, dq)


def test_a_deep_copy_reads_lazily_from_the_same_file(stored_ramp):
    with RampModel(stored_ramp) as ramp:
        twin = copy.deepcopy(ramp)
        assert "data" not in {
            attr
            for attr, entry in twin._arrays.items()
            if not isinstance(entry, datamodels.HDULayout)
        }
        twin.pixeldq[0, 1] = 50
        assert ramp.pixeldq[0, 1] == 1
        np.testing.assert_array_equal(twin.data, ramp.data)


def test_a_foreign_mask_is_remapped_after_unpickling(tmp_path):
    """A jwst mask whose DQ_DEF moves bits: the unpickled model, which
    never read DQ, still gives the pipeline's flags."""
    rows = [(0, 1, "DO_NOT_USE", ""), (3, 8, "DEAD", ""), (2, 4, "HOT", "")]
    dq = np.zeros((6, 5), dtype=np.uint32)
    dq[1, 2], dq[3, 3] = 8 | 1, 4
    path = write_foreign_mask(tmp_path / "jwst.fits", dq, rows, style="jwst")
    with TMTMaskModel(path) as mask:
        back = round_trip(mask)
        expected = np.array(mask.dq)
    assert (expected[1, 2], expected[3, 3]) == (1024 | 1, 2048)
    np.testing.assert_array_equal(back.dq, expected)


def test_a_liger_ramp_keeps_its_layout_and_extensions(tmp_path):
    path = write_liger_ramp(tmp_path / "liger.fits", 4, 3, 2, 2)
    with LigerRampModel(path) as ramp:
        back = round_trip(ramp)
        data = np.array(ramp.data)
    assert type(back) is LigerRampModel
    np.testing.assert_array_equal(back.data, data)
    written = back.write(tmp_path / "again.fits")
    for name in ("TIMES", "ASDF"):
        assert _hdu_bytes(written, name) == _hdu_bytes(path, name)


def test_a_model_unpickled_by_another_interpreter_elsewhere(stored_ramp, tmp_path):
    """As on a Dask worker that does not see the file: another process, in
    another folder, with the file gone."""
    with RampModel(stored_ramp) as ramp:
        (tmp_path / "model.pickle").write_bytes(pickle.dumps(ramp))
        expected = int(ramp.pixeldq.sum()), float(ramp.data.sum())
    os.remove(stored_ramp)
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()
    script = (
        "import pickle, sys\n"
        "model = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(int(model.pixeldq.sum()), float(model.data.sum()))\n"
        "model.write('out.fits')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model.pickle")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(expected[0]), str(expected[1])]
    with RampModel(elsewhere / "out.fits") as out:
        assert int(out.pixeldq.sum()) == expected[0]


def test_a_model_whose_file_was_cut_is_neither_pickled_nor_written(
    stored_ramp, tmp_path
):
    ramp = RampModel(stored_ramp)
    notes = {hdu.name: hdu for hdu in ramp.hdu_layout}["NOTES"]
    os.truncate(stored_ramp, notes.data_offset + 8)
    with pytest.raises(DataModelError, match="truncated after it was opened"):
        pickle.dumps(ramp)
    with pytest.raises(DataModelError, match="truncated after it was opened"):
        ramp.write(tmp_path / "out.fits")
    assert list(tmp_path.iterdir()) == [stored_ramp]
    ramp.close()


def test_the_step_on_an_unpickled_model_gives_what_it_gives_on_the_original(
    tmp_path,
):
    """What a Dask worker does with a model it was sent: DQ initialization
    on the unpickled model, whose file the worker never saw, gives the
    original's PIXELDQ and GROUPDQ."""
    from builders import write_full_frame_ramp
    from irisdq.dq_init import DQInit

    raw = write_full_frame_ramp(tmp_path / "raw_uncal.fits")
    mask = write_mask(tmp_path / "mask.fits")
    with RampModel(raw) as ramp:
        blob = pickle.dumps(ramp)
        here = DQInit.call(ramp, override_mask=str(mask))
        data = np.array(here.data)
    os.remove(raw)
    there = DQInit.call(pickle.loads(blob), override_mask=str(mask))
    assert here.pixeldq[5, 0] == 2048
    np.testing.assert_array_equal(there.pixeldq, here.pixeldq)
    np.testing.assert_array_equal(there.groupdq, here.groupdq)
    np.testing.assert_array_equal(there.data, data)


# -- any model, any state --------------------------------------------------------


def _hdus_without_dates(path: Path) -> list[tuple[dict, bytes]]:
    """Each HDU's cards (less the file's name, DATE and the checksums, which
    differ by the second) and its data bytes."""
    out = []
    for hdu in datamodels.read_hdu_layout(path):
        cards = {
            key: value
            for key, value in hdu.header.items()
            if key not in ("DATE", "FILENAME", "CHECKSUM", "DATASUM")
        }
        with open(path, "rb") as stream:
            stream.seek(hdu.data_offset)
            out.append((cards, stream.read(hdu.data_size)))
    return out


@settings(deadline=None, max_examples=25)
@given(
    ngroups=st.integers(1, 3),
    with_dq=st.booleans(),
    extra=st.booleans(),
    read=st.sets(st.sampled_from(["data", "pixeldq", "groupdq"])),
    changed=st.sets(st.sampled_from(["pixeldq", "meta", "keyword"])),
    duplicate=st.sampled_from(["pickle", "deepcopy"]),
)
def test_a_copy_writes_what_the_model_writes(
    tmp_path_factory, ngroups, with_dq, extra, read, changed, duplicate
):
    """Whatever was read or changed before, a pickled or deep-copied model
    writes the same file as the model itself."""
    folder = tmp_path_factory.mktemp("any")
    ramp = RampModel()
    ramp.data = np.arange(ngroups * 12, dtype=np.float32).reshape(1, ngroups, 3, 4)
    ramp.meta.instrument.detector = "IRIS1"
    if with_dq:
        ramp.pixeldq = np.arange(12, dtype=np.uint32).reshape(3, 4) << 20
        ramp.groupdq = np.ones((1, ngroups, 3, 4), dtype=np.uint8)
    path = ramp.write(folder / "ramp.fits")
    if extra:
        with fits.open(path, mode="append") as hdus:
            hdus.append(fits.BinTableHDU.from_columns(
                [fits.Column("X", "J", array=[1, 2, 3])], name="EXTRA"
            ))  # fmt: skip
    with RampModel(path) as model:
        for name in sorted(read):
            getattr(model, name)
        if "pixeldq" in changed:
            model.pixeldq = np.full((3, 4), 7, dtype=np.uint32)
        if "meta" in changed:
            model.meta.subarray.name = "SUB64"
        if "keyword" in changed:
            model.extra_keywords["OBSERVER"] = "someone"
        twin = round_trip(model) if duplicate == "pickle" else copy.deepcopy(model)
        expected = _hdus_without_dates(model.write(folder / "model.fits"))
        got = _hdus_without_dates(twin.write(folder / "twin.fits"))
    assert got == expected


# -- threads ---------------------------------------------------------------------


class _SlowStream:
    """A file whose reads return at most 4 KiB and let other threads run in
    between, as a busy disk does."""

    def __init__(self, stream):
        self._stream = stream

    def readinto(self, buffer):
        import time

        time.sleep(0)
        view = memoryview(buffer)[:4096]
        return self._stream.readinto(view)

    def read(self, size=-1):
        import time

        time.sleep(0)
        return self._stream.read(size)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def test_a_model_and_its_copies_read_from_several_threads(tmp_path):
    """Copies share their original's open file: arrays read lazily by
    several threads at once (the step mapped over one model with several
    masks, on Dask's threaded scheduler) each get their own values."""
    from concurrent.futures import ThreadPoolExecutor

    expected = np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 65537
    ramp = RampModel()
    ramp.data = np.zeros((1, 1, 64, 64), dtype=np.float32)
    ramp.pixeldq = expected
    path = ramp.write(tmp_path / "ramp.fits")
    with RampModel(path) as model:
        model._stream = _SlowStream(model._stream)
        copies = [model.copy() for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:
            read = list(pool.map(lambda twin: np.array(twin.pixeldq), copies))
    for values in read:
        np.testing.assert_array_equal(values, expected)
