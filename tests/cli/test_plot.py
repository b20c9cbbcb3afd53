"""``irisdq plot``: any DQ array of a mask or a ramp, never SCI."""

import sys

import numpy as np
import pytest

from builders import write_liger_ramp, write_mask
from irisdq import dqflags, plots
from irisdq.cli.main import main
from irisdq.datamodels import RampModel

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def ramp(tmp_path):
    """A 2-integration, 3-group 16 x 32 subarray ramp at SUBSTRT1/2 = 101/201."""
    model = RampModel()
    model.meta.instrument.name, model.meta.instrument.detector = "IRIS", "IRIS1"
    model.meta.subarray.name = "CUSTOM"
    model.meta.subarray.xstart, model.meta.subarray.ystart = 101, 201
    model.meta.subarray.xsize, model.meta.subarray.ysize = 32, 16
    model.data = np.zeros((2, 3, 16, 32), dtype=np.float32)
    model.pixeldq = np.zeros((16, 32), dtype=np.uint32)
    model.pixeldq[4, 5] = dqflags.pixel.HOT
    model.groupdq = np.zeros((2, 3, 16, 32), dtype=np.uint8)
    model.groupdq[1, 2, 7, 8] = dqflags.group.JUMP_DET
    return model.write(tmp_path / "ramp.fits")


@pytest.fixture
def drawn(monkeypatch):
    """What ``irisdq plot`` passes to plots.plot_dq, the file still written."""
    pytest.importorskip("matplotlib")
    calls = []
    real = plots.plot_dq

    def record(dq, output, **options):
        calls.append((np.array(dq), options))
        return real(dq, output, **options)

    monkeypatch.setattr(plots, "plot_dq", record)
    # SCI is never read: only DQ arrays are drawn.
    load = RampModel._load

    def refuse_sci(model, spec, hdu):
        if spec.attr == "data":
            pytest.fail("SCI was read")
        return load(model, spec, hdu)

    monkeypatch.setattr(RampModel, "_load", refuse_sci)
    return calls


def test_a_mask_s_dq(tmp_path, drawn, capsys):
    mask = write_mask(tmp_path / "mask.fits")
    png = tmp_path / "mask.png"
    assert main(["plot", str(mask), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    assert capsys.readouterr().out == f"wrote {png}\n"
    dq, options = drawn[0]
    assert dq[3, 4] == 1024 | 1
    assert options["detector"] == (4096, 4096)


def test_a_ramp_s_pixeldq_placed_by_substrt(tmp_path, ramp, drawn):
    png = tmp_path / "pixeldq.png"
    assert main(["plot", str(ramp), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    dq, options = drawn[0]
    assert np.argwhere(dq).tolist() == [[4, 5]]
    assert options["start"] == (101, 201)
    assert options["flag_map"] is dqflags.pixel


def test_one_plane_of_groupdq(tmp_path, ramp, drawn):
    png = tmp_path / "groupdq.png"
    arguments = ["plot", str(ramp), "--ext", "groupdq", "--int", "2", "--group", "3"]
    assert main([*arguments, "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    dq, options = drawn[0]
    assert dq.shape == (16, 32)
    assert np.argwhere(dq).tolist() == [[7, 8]]
    assert options["flag_map"] is dqflags.group
    assert "integration 2, group 3" in options["title"]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--ext", "GROUPDQ", "--group", "4"], ["--group 4", "give 1 to 3"]),
        (["--ext", "GROUPDQ", "--int", "0"], ["--int 0", "give 1 to 2"]),
        (["--group", "2"], ["--ext GROUPDQ"]),
        (["--ext", "DQ"], ["RampModel has no DQ", "--ext PIXELDQ or --ext GROUPDQ"]),
    ],
)
def test_a_wrong_choice_is_one_line(tmp_path, ramp, capsys, arguments, words):
    png = tmp_path / "out.png"
    assert main(["plot", str(ramp), *arguments, "-o", str(png)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(ramp) in err
    assert all(word in err for word in words), err
    assert not png.exists()


def test_a_mask_has_no_pixeldq(tmp_path, capsys):
    mask = write_mask(tmp_path / "mask.fits")
    assert main(["plot", str(mask), "--ext", "PIXELDQ", "-o", "x.png"]) == 2
    assert "TMTMaskModel has no PIXELDQ" in capsys.readouterr().err


def test_an_existing_image_is_replaced_only_with_overwrite(tmp_path, ramp, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "pixeldq.png"
    png.write_bytes(b"earlier")
    assert main(["plot", str(ramp), "-o", str(png)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--overwrite" in err
    assert str(png) in err
    assert png.read_bytes() == b"earlier"
    assert main(["plot", str(ramp), "-o", str(png), "--overwrite"]) == 0
    assert png.read_bytes()[:8] == PNG


def test_without_matplotlib_one_line(tmp_path, ramp, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["plot", str(ramp), "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err == (
        'irisdq: error: drawing needs matplotlib: pip install "irisdq[plot]"\n'
    )
    assert not (tmp_path / "out.png").exists()


def test_a_groupdq_without_planes_is_one_line(tmp_path, capsys):
    from astropy.io import fits

    path = tmp_path / "flat_groupdq.fits"
    primary = fits.PrimaryHDU()
    primary.header["DATAMODL"] = "RampModel"
    fits.HDUList(
        [
            primary,
            fits.ImageHDU(np.zeros((1, 2, 4, 4), np.float32), name="SCI"),
            fits.ImageHDU(np.zeros((4, 4), np.uint8), name="GROUPDQ"),
        ]
    ).writeto(path)
    arguments = ["plot", str(path), "--ext", "GROUPDQ", "-o", str(tmp_path / "g.png")]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "GROUPDQ has shape (4, 4); it needs 4 axes" in err


@pytest.fixture
def liger_ramp(tmp_path):
    """A 32 x 24 Liger ramp of 3 groups of 2 reads, flagged at (y, x) = (5, 7)
    in group 2, read 1, and DO_NOT_USE at (20, 3) in every read."""
    dq = np.zeros((32, 24, 3, 2), dtype=np.uint16)
    dq[5, 7, 1, 0] = dqflags.pixel.HOT
    dq[20, 3] = dqflags.pixel.DO_NOT_USE
    return write_liger_ramp(tmp_path / "liger_raw.fits", 32, 24, 3, 2, dq=dq)


def test_a_liger_ramp_s_dq_one_read_at_a_time(tmp_path, liger_ramp, drawn, capsys):
    """``'LigerRampModel' object has no attribute 'pixeldq'`` on every Liger
    ramp, once."""
    png = tmp_path / "liger.png"
    assert main(["plot", str(liger_ramp), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    dq, options = drawn[-1]
    assert dq.shape == (32, 24)
    assert dq[20, 3] == 1
    assert dq[5, 7] == 0
    assert "group 1, read 1" in options["title"]
    png2 = tmp_path / "liger2.png"
    argv = ["--ext", "DQ", "--group", "2", "--read", "1", "-o", str(png2)]
    assert main(["plot", str(liger_ramp), *argv]) == 0
    dq, options = drawn[-1]
    assert dq[5, 7] == dqflags.pixel.HOT
    assert "group 2, read 1" in options["title"]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--ext", "PIXELDQ"], ["LigerRampModel has no PIXELDQ", "--ext DQ --group"]),
        (["--ext", "GROUPDQ"], ["has no GROUPDQ", "--ext DQ --group N --read N"]),
        (["--int", "1"], ["--int do not choose", "use --ext DQ --group N --read N"]),
        (["--read", "3"], ["--read 3", "give 1 to 2"]),
        (["--group", "4"], ["--group 4", "give 1 to 3"]),
    ],
)
def test_a_wrong_choice_on_a_liger_ramp_says_what_works(
    tmp_path, liger_ramp, capsys, arguments, words
):
    png = tmp_path / "out.png"
    assert main(["plot", str(liger_ramp), *arguments, "-o", str(png)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert all(word in err for word in words), err
    assert not png.exists()


def test_a_mask_or_pixeldq_with_read_says_what_works(tmp_path, ramp, capsys):
    png = tmp_path / "out.png"
    assert main(["plot", str(ramp), "--read", "1", "-o", str(png)]) == 2
    err = capsys.readouterr().err
    assert "--read do not choose a plane of the PIXELDQ" in err
    assert "--ext GROUPDQ --int N --group N" in err
    assert main(["plot", str(ramp), "--ext", "GROUPDQ", "--read", "1", "-o", "x.png"])
    assert "use --ext GROUPDQ --int N --group N" in capsys.readouterr().err


@pytest.mark.parametrize("value", [16, 255])
def test_groupdq_bits_the_group_flags_do_not_name(tmp_path, capsys, value):
    pytest.importorskip("matplotlib")
    """``Flag '16' not defined``, once: GROUPDQ's bit 4 has no group name."""
    model = RampModel()
    model.meta.instrument.name, model.meta.instrument.detector = "IRIS", "IRIS1"
    model.data = np.zeros((1, 2, 8, 8), dtype=np.float32)
    model.pixeldq = np.zeros((8, 8), dtype=np.uint32)
    model.groupdq = np.zeros((1, 2, 8, 8), dtype=np.uint8)
    model.groupdq[0, 0, 2, 3] = value
    path = model.write(tmp_path / "ramp.fits")
    png = tmp_path / "groupdq.png"
    assert main(["plot", str(path), "--ext", "GROUPDQ", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    figure = plots.draw_dq(model.groupdq[0, 0], flag_map=dqflags.group)
    labels = [label.get_text() for label in figure.axes[2].get_yticklabels()]
    assert "16 (unnamed)" in labels
    assert ("CHARGELOSS" in labels) == (value == 255)


def test_a_liger_ramp_without_dq_is_one_line(tmp_path, capsys):
    raw = write_liger_ramp(tmp_path / "raw.fits", 8, 8, 2, 2)
    assert main(["plot", str(raw), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "LigerRampModel has no DQ extension; run DQ initialization first" in err
