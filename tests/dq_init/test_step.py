"""DQInit on files and models: the algorithm, I/O and every bad input."""

import logging
import os
import warnings

import numpy as np
import pytest
from astropy.io import fits

from builders import read_asdf_tree
from irisdq.datamodels import RampModel, TMTMaskModel
from irisdq.dq_init import DQInit
from irisdq.errors import (
    DataModelError,
    IrisDQError,
    NoMatchError,
    ReferenceFileError,
    SubarrayError,
)


def read(path):
    """Every HDU's header and data, with checksums verified strictly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdul:
            return {
                hdu.name: (
                    hdu.header.copy(),
                    None if hdu.data is None else hdu.data.copy(),
                )
                for hdu in hdul
            }


def hdu_bytes(path, name):
    with fits.open(path) as hdul:
        info = hdul.fileinfo(hdul.index_of(name))
        size = info["datSpan"] + (info["datLoc"] - info["hdrLoc"])
        start = info["hdrLoc"]
    with open(path, "rb") as stream:
        stream.seek(start)
        return stream.read(size)


class TestFlags:
    def test_pixeldq_ored_and_existing_bits_kept(self, tmp_path, crds_mask, build):
        pixeldq = np.zeros((10, 10), dtype=np.uint32)
        pixeldq[5, 7] = 4  # JUMP_DET already set where the mask says DEAD
        pixeldq[0, 0] = 2**31
        ramp = build.ramp(tmp_path / "r_uncal.fits", pixeldq=pixeldq)
        out = DQInit.call(ramp)
        hdus = read(out)
        result = hdus["PIXELDQ"][1]
        assert result.dtype == np.uint32
        # SUBSTRT1=101, SUBSTRT2=201 (1-based): mask (205, 107) is (5, 7) here.
        assert result[5, 7] == 1024 | 1 | 4
        assert result[0, 0] == 2**31
        assert result[9, 1] == 2048  # mask (209, 101)
        assert np.count_nonzero(result) == 3

    def test_groupdq_gets_only_do_not_use_everywhere(self, tmp_path, crds_mask, build):
        groupdq = np.zeros((2, 3, 10, 10), dtype=np.uint8)
        groupdq[1, 2, 5, 5] = 4
        ramp = build.ramp(
            tmp_path / "r.fits",
            shape=(2, 3, 10, 10),
            pixeldq=np.zeros((10, 10), np.uint32),
            groupdq=groupdq,
        )
        result = read(DQInit.call(ramp))["GROUPDQ"][1]
        expected = groupdq.copy()
        expected[:, :, 5, 7] |= 1  # DEAD|DO_NOT_USE pixel; HOT gives nothing
        np.testing.assert_array_equal(result, expected)

    def test_subarray_rows_and_columns_not_swapped(self, tmp_path, crds_mask, build):
        # A subarray holding the dead column 2000 and the dead pixel.
        ramp = build.ramp(tmp_path / "r.fits", shape=(1, 2, 30, 1950), start=(101, 200))
        result = read(DQInit.call(ramp))["PIXELDQ"][1]
        assert result.shape == (30, 1950)
        # 1-based column 101 and row 200 are index 0 of the subarray.
        assert (result[:, 2000 - 100] == 1025).all()
        assert result[205 - 199, 107 - 100] == 1025
        assert result[209 - 199, 101 - 100] == 2048
        assert np.count_nonzero(result) == 30 + 2

    def test_missing_arrays_created_with_info(self, tmp_path, crds_mask, build, caplog):
        """issue 14 item 9: a raw ramp without DQ arrays is normal: INFO."""
        ramp = build.ramp(tmp_path / "r_uncal.fits")
        with caplog.at_level(logging.INFO, logger="irisdq"):
            out = DQInit.call(ramp)
        records = [(r.levelname, r.getMessage()) for r in caplog.records]
        assert ("INFO", f"{ramp}: no PIXELDQ; created as zeros (10, 10)") in records
        assert (
            "INFO",
            f"{ramp}: no GROUPDQ; created as zeros (1, 4, 10, 10)",
        ) in records
        assert not [r for r in records if r[0] == "WARNING"]
        hdus = read(out)
        assert list(hdus) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        assert hdus["GROUPDQ"][1].shape == (1, 4, 10, 10)
        assert hdus["GROUPDQ"][1].dtype == np.uint8

    def test_wrongly_shaped_arrays_replaced(self, tmp_path, crds_mask, build, caplog):
        ramp = build.ramp(
            tmp_path / "r.fits",
            pixeldq=np.full((5, 5), 4, np.uint32),
            groupdq=np.full((1, 1, 10, 10), 4, np.uint8),
        )
        with caplog.at_level(logging.WARNING, logger="irisdq"):
            hdus = read(DQInit.call(ramp))
        assert "PIXELDQ has shape (5, 5), not (10, 10)" in caplog.text
        assert "GROUPDQ has shape (1, 1, 10, 10)" in caplog.text
        assert hdus["PIXELDQ"][1].shape == (10, 10)
        assert hdus["PIXELDQ"][1][0, 0] == 0
        assert hdus["GROUPDQ"][1].shape == (1, 4, 10, 10)

    def test_records_keywords(self, tmp_path, crds_mask, build):
        out = DQInit.call(build.ramp(tmp_path / "r.fits"))
        header = read(out)["PRIMARY"][0]
        assert header["S_DQINIT"] == "COMPLETE"
        assert header["R_MASK"] == "crds://tmt_iris_mask_0001.fits"
        assert header["CRDS_CTX"] == "tmt_0001.pmap"
        assert header["INSTRUME"] == "IRIS"


class TestIrisTestRampLayout:
    """10x10, 4 groups, PIXELDQ int32 with BZERO, an ASDF table."""

    def ramp(self, tmp_path, build, start):
        pixeldq = np.zeros((10, 10), dtype=np.uint32)
        pixeldq[1, 1] = 2**31 + 8
        return build.ramp(
            tmp_path / "iris_uncal.fits",
            start=start,
            pixeldq=pixeldq,
            groupdq=np.zeros((1, 4, 10, 10), np.uint8),
            extra_hdus=[build.asdf_table()],
        )

    def test_with_a_10x10_mask(self, tmp_path, build):
        mask = np.zeros((10, 10), dtype=np.uint32)
        mask[3, 7] = 1024 | 1
        mask_path = build.small_mask(tmp_path / "mask10.fits", mask)
        ramp = self.ramp(tmp_path, build, start=(1, 1))
        before = ramp.read_bytes()
        out = DQInit.call(ramp, override_mask=mask_path)
        hdus = read(out)
        assert hdus["PIXELDQ"][1][3, 7] == 1025
        assert hdus["PIXELDQ"][1][1, 1] == 2**31 + 8
        assert hdus["GROUPDQ"][1][:, :, 3, 7].tolist() == [[1, 1, 1, 1]]
        assert hdus["PRIMARY"][0]["R_MASK"] == str(mask_path)
        # The earlier step's tree is carried over, with this step added.
        assert read_asdf_tree(out)["meta"]["cal_step"] == {
            "assign_wcs": "COMPLETE",
            "dq_init": "COMPLETE",
        }
        assert hdu_bytes(out, "SCI") == hdu_bytes(ramp, "SCI")
        assert ramp.read_bytes() == before

    def test_with_a_full_frame_mask_and_substrt(self, tmp_path, crds_mask, build):
        ramp = self.ramp(tmp_path, build, start=(101, 201))
        hdus = read(DQInit.call(ramp))
        assert hdus["PIXELDQ"][1][5, 7] == 1025
        assert hdus["PIXELDQ"][1][9, 1] == 2048
        assert list(hdus) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]


class TestMasks:
    def test_subarray_mask_serves_smaller_subarray(self, tmp_path, build):
        full = build.full_frame_mask()
        # A 100x100 mask cut at column 51, row 151 (1-based) of the frame.
        sub = full[150:250, 50:150]
        mask_path = build.small_mask(tmp_path / "sub.fits", sub, start=(51, 151))
        ramp = build.ramp(tmp_path / "r.fits", shape=(1, 1, 20, 30), start=(101, 201))
        result = read(DQInit.call(ramp, override_mask=mask_path))["PIXELDQ"][1]
        np.testing.assert_array_equal(result, full[200:220, 100:130])
        assert result[5, 7] == 1025

    def test_dq_def_remapped_by_name(self, tmp_path, build):
        own = np.zeros((10, 10), dtype=np.uint32)
        own[2, 2] = 1  # this file's DEAD
        own[3, 3] = 2  # this file's HOT
        own[4, 4] = 4  # a name the convention does not know
        mask_path = build.small_mask(
            tmp_path / "own.fits",
            own,
            dq_def=[(1, "DEAD"), (2, "HOT"), (4, "SPARKLE")],
        )
        ramp = build.ramp(tmp_path / "r.fits", start=(1, 1))
        with pytest.warns(UserWarning, match="SPARKLE"):
            out = DQInit.call(ramp, override_mask=mask_path)
        result = read(out)["PIXELDQ"][1]
        assert result[2, 2] == 1024
        assert result[3, 3] == 2048
        assert result[4, 4] == 0

    def test_mask_file_read_once_for_many_exposures(self, tmp_path, build, monkeypatch):
        import irisdq.datamodels.mask_reader as mask_reader

        opened = []

        class CountingMask(TMTMaskModel):
            def __init__(self, *args, **kwargs):
                opened.append(args)
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(mask_reader, "TMTMaskModel", CountingMask)
        mask = np.zeros((10, 10), dtype=np.uint32)
        mask[3, 7] = 2048
        mask_path = build.small_mask(tmp_path / "mask.fits", mask)
        for name in ("a.fits", "b.fits", "c.fits"):
            ramp = build.ramp(tmp_path / name, start=(1, 1))
            out = DQInit.call(ramp, override_mask=mask_path)
            assert read(out)["PIXELDQ"][1][3, 7] == 2048
        assert len(opened) == 1

    def test_replaced_or_rewritten_mask_file_read_again(self, tmp_path, build):
        mask_path = tmp_path / "mask.fits"
        first = np.zeros((10, 10), dtype=np.uint32)
        first[3, 7] = 2048
        build.small_mask(mask_path, first)
        ramp = build.ramp(tmp_path / "r.fits", start=(1, 1))
        step = DQInit(override_mask=mask_path, overwrite=True)
        assert read(step.run(ramp))["PIXELDQ"][1][3, 7] == 2048

        # Replaced by another file under the same name.
        second = np.zeros((10, 10), dtype=np.uint32)
        second[4, 4] = 1024
        build.small_mask(tmp_path / "new.fits", second)
        os.replace(tmp_path / "new.fits", mask_path)
        pixeldq = read(step.run(ramp))["PIXELDQ"][1]
        assert (pixeldq[3, 7], pixeldq[4, 4]) == (0, 1024)

        # Rewritten in place: same inode and size, new contents and times.
        stamp = os.stat(mask_path).st_mtime_ns
        with fits.open(mask_path, mode="update") as hdul:
            hdul["DQ"].data[4, 4] = 2048
        os.utime(mask_path, ns=(stamp + 10**9, stamp + 10**9))
        assert read(step.run(ramp))["PIXELDQ"][1][4, 4] == 2048

    def test_mask_shared_between_runs_is_read_only(self, tmp_path, build):
        import irisdq.datamodels.mask_reader as mask_reader

        mask_path = build.small_mask(
            tmp_path / "mask.fits", np.zeros((10, 10), dtype=np.uint32)
        )
        DQInit.call(build.ramp(tmp_path / "r.fits", start=(1, 1)),
                        override_mask=mask_path)  # fmt: skip
        ((dq, *_),) = mask_reader._cache.values()
        with pytest.raises(ValueError, match="read-only"):
            dq[0, 0] = 1

    def test_override_with_model_not_changed(self, tmp_path, build):
        mask = TMTMaskModel()
        mask.meta.detector = "IRIS1"
        mask.meta.subarray.name = "CUSTOM"
        mask.dq = np.zeros((10, 10), dtype=np.uint32)
        mask.dq[5, 5] = 2048
        user = np.zeros((10, 10), dtype=np.uint32)
        user[1, 1] = 8
        ramp = build.ramp(tmp_path / "r.fits", start=(1, 1))
        out = DQInit.call(ramp, override_mask=mask, user_supplied_dq=user)
        result = read(out)["PIXELDQ"][1]
        assert result[5, 5] == 2048
        assert result[1, 1] == 8
        assert mask.dq[1, 1] == 0
        assert np.count_nonzero(mask.dq) == 1

    def test_user_dq_from_file(self, tmp_path, crds_mask, build, mask_file):
        user = np.zeros((10, 10), dtype=np.int16)
        user[0, 9] = 4096
        user_path = tmp_path / "user.fits"
        fits.PrimaryHDU(user).writeto(user_path)
        out = DQInit.call(build.ramp(tmp_path / "r.fits"), user_supplied_dq=user_path)
        result = read(out)["PIXELDQ"][1]
        assert result[0, 9] == 4096
        assert result[5, 7] == 1025
        # The mask in the cache is unchanged.
        assert crds_mask.read_bytes() == mask_file.read_bytes()

    def test_not_applicable_skips(self, tmp_path, build, caplog):
        ramp = build.ramp(tmp_path / "r_uncal.fits")
        with caplog.at_level(logging.WARNING, logger="irisdq"):
            out = DQInit.call(ramp, override_mask="N/A")
        assert "step skipped" in caplog.text
        before, after = read(ramp), read(out)
        assert after["PRIMARY"][0]["S_DQINIT"] == "SKIPPED"
        assert list(before) == ["PRIMARY", "SCI"]
        assert list(after) == ["PRIMARY", "SCI", "ASDF"]
        assert hdu_bytes(out, "SCI") == hdu_bytes(ramp, "SCI")
        changed = {
            key
            for key in set(after["PRIMARY"][0]) | set(before["PRIMARY"][0])
            if after["PRIMARY"][0].get(key) != before["PRIMARY"][0].get(key)
        }
        assert changed <= {"S_DQINIT", "R_MASK", "CHECKSUM", "DATASUM"}


class TestModels:
    def make_model(self):
        model = RampModel()
        model.meta.instrument.name = "IRIS"
        model.meta.instrument.detector = "IRIS1"
        model.meta.observation.date = "2020-07-13"
        model.meta.observation.time = "00:00:00"
        model.meta.subarray.xstart = 101
        model.meta.subarray.ystart = 201
        model.data = np.zeros((1, 2, 10, 10), dtype=np.float32)
        model.pixeldq = np.zeros((10, 10), dtype=np.uint32)
        return model

    def test_model_not_changed_unless_inplace(self, crds_mask):
        model = self.make_model()
        result = DQInit.call(model)
        assert result is not model
        assert result.pixeldq[5, 7] == 1025
        assert result.groupdq[0, 1, 5, 7] == 1
        assert model.pixeldq[5, 7] == 0
        assert model.groupdq is None
        assert model.meta.cal_step.dq_init is None
        assert result.meta.ref_file.mask.name == "crds://tmt_iris_mask_0001.fits"

    def test_inplace_model(self, crds_mask):
        model = self.make_model()
        assert DQInit.call(model, inplace=True) is model
        assert model.pixeldq[5, 7] == 1025
        assert model.meta.cal_step.dq_init == "COMPLETE"

    def test_model_written_when_asked(self, tmp_path, crds_mask):
        step = DQInit(output_dir=tmp_path)
        step.run(self.make_model())
        hdus = read(step.summary.output)
        assert hdus["PIXELDQ"][1][5, 7] == 1025


class TestOutputNaming:
    def test_beside_input(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "jw_0001_uncal.fits")
        assert DQInit.call(ramp) == tmp_path / "jw_0001_dqinit.fits"

    def test_output_dir_created(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "a_ramp.fits")
        out = DQInit.call(ramp, output_dir=tmp_path / "new" / "dir")
        assert out == tmp_path / "new" / "dir" / "a_dqinit.fits"
        assert out.is_file()

    def test_output_file(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "a.fits")
        assert DQInit.call(ramp, output_file=tmp_path / "x.fits") == tmp_path / "x.fits"


class TestInPlace:
    def test_existing_dq_rewritten_in_place(self, tmp_path, crds_mask, build):
        pixeldq = np.zeros((10, 10), dtype=np.uint32)
        pixeldq[0, 0] = 8
        ramp = build.ramp(
            tmp_path / "r.fits",
            pixeldq=pixeldq,
            groupdq=np.zeros((1, 4, 10, 10), np.uint8),
            extra_hdus=[build.asdf_table()],
        )
        # The same name elsewhere: the ASDF tree records the output's name.
        (tmp_path / "copy").mkdir()
        copy_out = DQInit.call(ramp, output_file=tmp_path / "copy" / "r.fits")
        size, inode = ramp.stat().st_size, ramp.stat().st_ino
        assert DQInit.call(ramp, inplace=True) == ramp
        assert ramp.stat().st_ino == inode  # the same file, not a replacement
        assert ramp.stat().st_size == size
        in_place, copied = read(ramp), read(copy_out)
        for name in ("PIXELDQ", "GROUPDQ", "SCI", "ASDF"):
            np.testing.assert_array_equal(in_place[name][1], copied[name][1])
        assert in_place["PRIMARY"][0]["S_DQINIT"] == "COMPLETE"

    def test_missing_dq_appended(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits")
        sci_before = hdu_bytes(ramp, "SCI")
        DQInit.call(ramp, inplace=True)
        hdus = read(ramp)
        assert list(hdus) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        assert hdus["PIXELDQ"][1][5, 7] == 1025
        assert hdu_bytes(ramp, "SCI") == sci_before
        # A second run ORs again: same result.
        DQInit.call(ramp, inplace=True)
        np.testing.assert_array_equal(read(ramp)["PIXELDQ"][1], hdus["PIXELDQ"][1])

    def test_growing_header_rewrites_whole_file(self, tmp_path, crds_mask, build):
        # 35 cards of 36 in the primary block: three new keywords need a new block.
        extra = {f"KEY{i:02d}": i for i in range(35 - 13)}
        ramp = build.ramp(tmp_path / "r.fits", header=extra)
        with fits.open(ramp) as hdul:
            assert len(hdul[0].header) + 3 > 36
        DQInit.call(ramp, inplace=True)
        hdus = read(ramp)
        assert hdus["PRIMARY"][0]["S_DQINIT"] == "COMPLETE"
        assert hdus["PIXELDQ"][1][5, 7] == 1025


def no_leftovers(folder, expected):
    return sorted(p.name for p in folder.iterdir()) == sorted(expected)


class TestBadInput:
    """One-line errors naming the file; input unchanged; nothing left behind."""

    def check(self, tmp_path, path, error, match, **params):
        before = path.read_bytes() if path.exists() else None
        listing = sorted(p.name for p in tmp_path.iterdir())
        with pytest.raises(error, match=match) as info:
            DQInit.call(path, **params)
        assert "\n" not in str(info.value)
        if before is not None:
            assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == listing
        return info.value

    def test_not_fits(self, tmp_path, crds_mask):
        path = tmp_path / "notes_uncal.fits"
        path.write_text("hello\n")
        self.check(tmp_path, path, DataModelError, "not a FITS file")

    def test_truncated(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits", shape=(1, 4, 50, 50))
        data = ramp.read_bytes()
        ramp.write_bytes(data[: len(data) - 9000])
        self.check(tmp_path, ramp, DataModelError, "truncated")

    def test_sci_missing(self, tmp_path, crds_mask):
        path = tmp_path / "r.fits"
        fits.HDUList(
            [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2)), name="ERR")]
        ).writeto(path)
        self.check(tmp_path, path, DataModelError, "no SCI")

    def test_sci_not_4d(self, tmp_path, crds_mask):
        path = tmp_path / "r.fits"
        fits.HDUList(
            [
                fits.PrimaryHDU(),
                fits.ImageHDU(np.zeros((3, 2, 2), np.float32), name="SCI"),
            ]
        ).writeto(path)
        self.check(tmp_path, path, DataModelError, "SCI has shape")

    def test_pixeldq_wrong_dtype(self, tmp_path, crds_mask, build):
        path = build.ramp(tmp_path / "r.fits")
        with fits.open(path, mode="append") as hdul:
            hdul.append(fits.ImageHDU(np.zeros((10, 10), np.float32), name="PIXELDQ"))
        self.check(tmp_path, path, DataModelError, "PIXELDQ holds float32")

    def test_mask_cannot_serve(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits", start=(4090, 1))
        error = self.check(tmp_path, ramp, SubarrayError, "does not cover")
        assert "SUBSTRT1=4090 SUBSTRT2=1" in str(error)
        assert "mask[0:10, 4089:4099]" in str(error)
        assert str(ramp) in str(error)

    def test_smaller_without_substrt(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits", start=None)
        self.check(tmp_path, ramp, SubarrayError, "no SUBSTRT1/SUBSTRT2")

    def test_substrt_below_one(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits", start=(0, 5))
        self.check(tmp_path, ramp, SubarrayError, "at least 1")

    def test_user_dq_wrong_shape(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits")
        self.check(
            tmp_path,
            ramp,
            DataModelError,
            r"shape \(3, 3\)",
            user_supplied_dq=np.zeros((3, 3)),
        )

    def test_user_dq_not_integral(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits")
        user = np.zeros((10, 10))
        user[2, 3] = 1.5
        error = self.check(
            tmp_path, ramp, DataModelError, "not integers", user_supplied_dq=user
        )
        assert "(2, 3)" in str(error)

    def test_mask_missing_from_cache(self, tmp_path, home, build):
        ramp = build.ramp(tmp_path / "r.fits")
        error = self.check(
            tmp_path, ramp, ReferenceFileError, "is not in the CRDS cache"
        )
        assert str(
            home / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits"
        ) in str(error)
        assert "TMTMaskModel" in str(error)
        assert str(error).startswith(f"{ramp}: ")

    def test_output_exists(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r_uncal.fits")
        existing = tmp_path / "r_dqinit.fits"
        existing.write_bytes(b"keep me")
        self.check(tmp_path, ramp, FileExistsError, "overwrite")
        assert existing.read_bytes() == b"keep me"
        DQInit.call(ramp, overwrite=True)
        assert read(existing)["PRIMARY"][0]["S_DQINIT"] == "COMPLETE"

    def test_output_folder_not_writable(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits")
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder")
        self.check(tmp_path, ramp, OSError, "blocker", output_dir=blocker / "out")

    def test_crds_no_match(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits", date="2015-09-13")
        error = self.check(tmp_path, ramp, NoMatchError, "2015-09-13")
        assert "IRIS1" in str(error)
        assert str(error).startswith(f"{ramp}: ")

    def test_output_would_replace_input(self, tmp_path, crds_mask, build):
        ramp = build.ramp(tmp_path / "r.fits")
        self.check(
            tmp_path,
            ramp,
            IrisDQError,
            "replace the input",
            output_file=ramp,
            overwrite=True,
        )


@pytest.mark.slow
def test_seed_story_end_to_end(tmp_path, home):
    """Write a mask the seed's way to ~/crds_cache, then dq-init a raw ramp."""
    from pathlib import Path

    from irisdq.cli.main import main

    f = TMTMaskModel()
    f.meta.name = "IRIS"
    f.meta.detector = "IRIS1"
    f.dq = np.zeros((4096, 4096))
    rows = np.array([[7, 9], [300, 12]])
    f.dq[rows[:, 0], rows[:, 1]] = 1024  # dead pixels
    f.dq[20, 30] = 2048  # a hot pixel
    f.write(Path.home() / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits")

    raw = tmp_path / "iris_full_uncal.fits"
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "FULL",
            "DATE-OBS": "2021-03-01",
            "TIME-OBS": "04:05:06",
        }
    )
    sci = fits.ImageHDU(np.zeros((1, 2, 4096, 4096), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(raw)
    assert main(["dq-init", str(raw)]) == 0
    hdus = read(tmp_path / "iris_full_dqinit.fits")
    pixeldq = hdus["PIXELDQ"][1]
    assert pixeldq[7, 9] == 1024
    assert pixeldq[300, 12] == 1024
    assert pixeldq[20, 30] == 2048
    assert np.count_nonzero(pixeldq) == 3
    assert not hdus["GROUPDQ"][1].any()  # no DO_NOT_USE in this mask
    assert os.path.exists(raw)


def test_inputs_and_overrides_of_the_wrong_type(tmp_path, build):
    ramp = build.ramp(tmp_path / "r_uncal.fits")
    with pytest.raises(
        TypeError,
        match="a ramp file name, an irisdq RampModel or a stdatamodels ramp "
        "model, not int",
    ):
        DQInit.call(42)
    with pytest.raises(TypeError, match="override_mask must be a path, a mask model"):
        DQInit.call(ramp, override_mask=42)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r_uncal.fits"]


def test_a_mask_model_without_dq_is_an_error(tmp_path, build):
    ramp = build.ramp(tmp_path / "r_uncal.fits")
    with pytest.raises(DataModelError, match="the mask has no DQ array"):
        DQInit.call(ramp, override_mask=TMTMaskModel())


def test_a_ramp_model_without_science_data_is_an_error(mask_file):
    with pytest.raises(DataModelError, match=r"^<model>: the RampModel has no SCI"):
        DQInit.call(RampModel(), override_mask=str(mask_file))


def test_crds_choosing_two_masks_is_an_error(home, tmp_path, build):
    from irisdq.crds import update_checksum

    folder = home / "crds_cache" / "mappings" / "tmt"
    folder.mkdir(parents=True)
    rmap = folder / "tmt_iris_mask_0001.rmap"
    rmap.write_text(
        "header = {'filekind': 'MASK', 'mapping': 'REFERENCE', "
        "'parkey': (('META.SUBARRAY.XSIZE',),), 'sha1sum': ''}\n"
        "selector = Bracket({1 : 'small.fits', 4096 : 'large.fits'})\n"
    )
    update_checksum(rmap)
    references = home / "crds_cache" / "references" / "tmt" / "iris"
    references.mkdir(parents=True)
    for name in ("small.fits", "large.fits"):
        (references / name).write_bytes(b"")
    ramp = build.ramp(tmp_path / "r_uncal.fits")
    with pytest.raises(DataModelError, match="CRDS chose several MASK files") as info:
        DQInit.call(ramp)
    assert str(info.value).startswith(f"{ramp}: ")
    assert "give one with override_mask" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r_uncal.fits"]


def test_a_ramp_without_a_date_names_the_keywords_to_add(tmp_path, crds_mask, build):
    """issue 14 item 11: no DATE-OBS/TIME-OBS: the error says what to add,
    not "'UNDEFINED UNDEFINED' is not a date"."""
    ramp = build.ramp(tmp_path / "r_uncal.fits")
    fits.delval(ramp, "DATE-OBS")
    fits.delval(ramp, "TIME-OBS")
    with pytest.raises(NoMatchError) as info:
        DQInit.call(ramp)
    text = str(info.value)
    assert text.startswith(f"{ramp}: no observation date")
    assert "add DATE-OBS = 'YYYY-MM-DD' and TIME-OBS = 'HH:MM:SS'" in text
    assert "UNDEFINED" not in text
