"""DQInit on files: nothing of the input is lost, whatever the input holds."""

import errno
import os
import stat
import warnings

import numpy as np
import pytest
from astropy.io import fits

from builders import read_asdf_tree
from irisdq.datamodels import inplace, read_hdu_layout
from irisdq.dq_init import DQInit
from irisdq.errors import DataModelError


def _verified(path):
    """Every HDU's data, each checksum checked (a bad one is an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdul:
            assert all(hdu.verify_checksum() == 1 for hdu in hdul)
            return {hdu.name: hdu.data for hdu in hdul[1:]} | {"header": hdul[0].header}


@pytest.mark.parametrize("dtype", [np.int16, np.uint8])
def test_narrow_pixeldq_in_place_keeps_next_extensions(
    tmp_path, crds_mask, build, dtype
):
    """Case 2: a PIXELDQ stored narrower than uint32 does not fit in place;
    writing uint32 over it overran GROUPDQ and the ASDF table."""
    # 40 x 40: stored as int16 or uint8 it takes fewer 2880-byte blocks than
    # as uint32, so writing uint32 where it was overran the next extension.
    pixeldq = np.zeros((40, 40), dtype=dtype)
    pixeldq[0, 0] = 8
    groupdq = np.zeros((1, 4, 40, 40), np.uint8)
    groupdq[0, 1, 2, 3] = 4
    ramp = build.ramp(
        tmp_path / "r.fits",
        shape=(1, 4, 40, 40),
        pixeldq=pixeldq,
        groupdq=groupdq,
        extra_hdus=[build.asdf_table()],
    )
    DQInit.call(ramp, inplace=True)
    hdus = _verified(ramp)
    assert hdus["PIXELDQ"].dtype == np.uint32
    assert hdus["PIXELDQ"][0, 0] == 8
    assert hdus["PIXELDQ"][5, 7] == 1025  # the mask's DEAD|DO_NOT_USE pixel
    assert hdus["GROUPDQ"][0, 1, 2, 3] == 4
    assert hdus["GROUPDQ"][0, 3, 5, 7] == 1
    tree = read_asdf_tree(ramp)
    assert tree["meta"]["cal_step"] == {"assign_wcs": "COMPLETE", "dq_init": "COMPLETE"}
    assert tree["meta"]["origin"] == "STScI"


def _full_header_ramp(tmp_path, build):
    """A ramp whose primary header fills its one block (34 cards and END):
    the three keywords DQ init records need a new block, so the file must be
    rewritten whole."""
    count = len(fits.getheader(build.ramp(tmp_path / "probe.fits")))
    (tmp_path / "probe.fits").unlink()
    extra = {f"KEY{i:02d}": i for i in range(34 - count)}
    ramp = build.ramp(tmp_path / "r.fits", header=extra)
    assert len(fits.getheader(ramp)) == 34
    assert len(fits.getheader(ramp).tostring()) == 2880
    return ramp


def test_growing_header_refuses_hard_links(tmp_path, crds_mask, build):
    """Case 3: a rewrite through a new file would split hard links."""
    ramp = _full_header_ramp(tmp_path, build)
    os.link(ramp, tmp_path / "link.fits")
    before = ramp.read_bytes()
    with pytest.raises(DataModelError, match=r"r\.fits: has 2 hard links"):
        DQInit.call(ramp, inplace=True)
    assert ramp.read_bytes() == before
    assert (tmp_path / "link.fits").samefile(ramp)


@pytest.mark.parametrize("grows", [False, True])
def test_read_only_input_refused_in_place(tmp_path, crds_mask, build, grows):
    """Case 3: read-only bits say "do not change": in place refuses, even as
    root, whether the file would be rewritten whole or not."""
    ramp = (
        _full_header_ramp(tmp_path, build) if grows else build.ramp(tmp_path / "r.fits")
    )
    ramp.chmod(0o444)
    before = ramp.read_bytes()
    with pytest.raises(DataModelError, match=r"r\.fits: is read-only"):
        DQInit.call(ramp, inplace=True)
    assert ramp.read_bytes() == before
    assert stat.S_IMODE(ramp.stat().st_mode) == 0o444


def test_in_place_through_a_symlink_changes_the_target(tmp_path, crds_mask, build):
    """A link to a ramp stays a link; the ramp it points to is changed."""
    ramp = _full_header_ramp(tmp_path, build)
    link = tmp_path / "link.fits"
    link.symlink_to(ramp)
    DQInit.call(link, inplace=True)
    assert link.is_symlink()
    assert _verified(ramp)["header"]["S_DQINIT"] == "COMPLETE"


@pytest.mark.parametrize("name", ["PIXELDQ", "GROUPDQ"])
@pytest.mark.parametrize("in_place", [False, True])
def test_duplicate_dq_extensions_refused(tmp_path, crds_mask, build, name, in_place):
    """Case 19: a second PIXELDQ was overwritten with the first's data."""
    shape = (10, 10) if name == "PIXELDQ" else (1, 4, 10, 10)
    dtype = np.uint32 if name == "PIXELDQ" else np.uint8
    first = fits.ImageHDU(np.zeros(shape, dtype), name=name, uint=True)
    second = fits.ImageHDU(np.full(shape, 2, dtype), name=name, uint=True)
    ramp = build.ramp(tmp_path / "r.fits", extra_hdus=[first, second])
    before = ramp.read_bytes()
    with pytest.raises(DataModelError, match=rf"r\.fits: has 2 {name} extensions"):
        DQInit.call(
            ramp, inplace=in_place, output_dir=None if in_place else tmp_path / "out"
        )
    assert ramp.read_bytes() == before
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_every_output_hdu_has_checksums(tmp_path, crds_mask, build):
    """Case 20: SCI (and any copied extension) of the input had no checksum,
    so a flipped bit in an output's SCI could not be found."""
    ramp = build.ramp(tmp_path / "r.fits", extra_hdus=[build.asdf_table()])
    with fits.open(ramp) as hdul:
        for hdu in hdul:
            del hdu.header["CHECKSUM"], hdu.header["DATASUM"]
        hdul.writeto(tmp_path / "plain.fits")  # no checksum anywhere
    with fits.open(tmp_path / "plain.fits") as hdul:
        assert "CHECKSUM" not in hdul["SCI"].header
        sci = hdul["SCI"].data.copy()
    out = DQInit.call(tmp_path / "plain.fits", output_dir=tmp_path / "out")
    hdus = _verified(out)
    np.testing.assert_array_equal(hdus["SCI"], sci)
    with fits.open(out) as hdul:
        assert all("DATASUM" in hdu.header for hdu in hdul)
    # A flipped bit in SCI's data is now caught.
    blob = bytearray(out.read_bytes())
    with fits.open(out) as hdul:
        at = hdul.fileinfo(hdul.index_of("SCI"))["datLoc"] + 5
    blob[at] ^= 1
    out.write_bytes(bytes(blob))
    with fits.open(out) as hdul:
        assert hdul["SCI"].verify_checksum() == 0


def test_non_ascii_override_path_is_recorded(tmp_path, build, mask_file):
    """Case 23: a non-ASCII mask path could not go into R_MASK (astropy
    ValueError) and the run failed; it is recorded escaped."""
    import shutil

    mask = tmp_path / "masques" / "défauts.fits"
    mask.parent.mkdir()
    shutil.copyfile(mask_file, mask)
    ramp = build.ramp(tmp_path / "r.fits")
    out = DQInit.call(ramp, override_mask=mask, output_dir=tmp_path / "out")
    header = _verified(out)["header"]
    assert header["R_MASK"] == str(mask).replace("é", "\\xe9")
    assert header["S_DQINIT"] == "COMPLETE"
    model = DQInit.call(
        __import__("irisdq.datamodels", fromlist=["RampModel"]).RampModel(ramp),
        override_mask=mask,
        output_dir=tmp_path / "models",
    )
    assert model.meta.ref_file.mask.name == header["R_MASK"]


def test_full_disk_names_the_output(tmp_path, crds_mask, build, monkeypatch):
    """Case 12: ENOSPC said only "[Errno 28] No space left on device"."""
    from irisdq.datamodels import hdu_io

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(hdu_io, "_write_values", full)
    ramp = build.ramp(tmp_path / "r.fits")
    before = ramp.read_bytes()
    with pytest.raises(OSError, match="No space left") as caught:
        DQInit.call(ramp, output_dir=tmp_path / "out")
    assert caught.value.filename == str(tmp_path / "out" / "r_dqinit.fits")
    assert ramp.read_bytes() == before
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(OSError, match="No space left") as caught:
        DQInit.call(ramp, inplace=True)
    assert caught.value.filename == str(ramp)
    assert ramp.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "r.fits"]


def _killed_while_appending(path):
    """What SIGKILL in the middle of an in-place append leaves: an undo
    journal and a partial HDU at the end of the file."""
    import signal

    pid = os.fork()
    if pid == 0:
        try:
            with inplace.update_in_place(path, [(0, 2880)]) as stream:
                stream.seek(0, os.SEEK_END)
                stream.write(b"XTENSION= 'IMAGE   '".ljust(2000))
                os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL


def test_copy_mode_refuses_an_interrupted_in_place_file(tmp_path, crds_mask, build):
    """Case 1: after a killed in-place run, copy mode does not read the
    half-changed file; in-place mode repairs it and completes."""
    ramp = build.ramp(tmp_path / "r.fits")
    # The same name elsewhere: the ASDF tree records the file's name.
    done = tmp_path / "done" / "r.fits"
    done.parent.mkdir()
    done.write_bytes(ramp.read_bytes())
    DQInit.call(done, inplace=True)
    _killed_while_appending(ramp)
    assert inplace.pending(ramp)
    with pytest.raises(
        DataModelError, match="in-place run on this file was interrupted"
    ):
        DQInit.call(ramp, output_dir=tmp_path / "out")
    DQInit.call(ramp, inplace=True)
    assert ramp.read_bytes() == done.read_bytes()
    assert not inplace.pending(ramp)


@pytest.mark.parametrize(("keyword", "value"), [("BZERO", ""), ("BSCALE", "x")])
def test_scaling_card_that_is_not_a_number(tmp_path, crds_mask, build, keyword, value):
    """Found by the hostile-header harness: BZERO = '' raised a bare
    ValueError ("could not convert string to float") that named no file."""
    ramp = build.ramp(tmp_path / "r.fits", pixeldq=np.zeros((10, 10), np.uint32))
    blob = bytearray(ramp.read_bytes())
    pixeldq = read_hdu_layout(ramp)[2]
    at = blob.index(keyword.ljust(8).encode() + b"=", pixeldq.header_offset)
    blob[at : at + 80] = str(fits.Card(keyword, value)).encode()
    ramp.write_bytes(bytes(blob))
    message = rf"r\.fits: .*{keyword} = '{value}' is not a number"
    with pytest.raises(DataModelError, match=message):
        DQInit.call(ramp, output_dir=tmp_path / "out")


def test_growing_header_keeps_mode(tmp_path, crds_mask, build):
    """Case 3: a rewrite through a new file kept the umask's mode (0600 ->
    0644); it keeps the file's own permission bits."""
    ramp = _full_header_ramp(tmp_path, build)
    ramp.chmod(0o600)
    DQInit.call(ramp, inplace=True)
    assert stat.S_IMODE(ramp.stat().st_mode) == 0o600
    assert _verified(ramp)["header"]["S_DQINIT"] == "COMPLETE"
