"""``irisdq plot``: any DQ array of a mask or a ramp, never SCI."""

import sys

import numpy as np
import pytest

from builders import write_mask
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
    monkeypatch.setattr(
        RampModel, "data", property(lambda self: pytest.fail("SCI was read"))
    )
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
        (["--ext", "DQ"], ["RampModel has no DQ", "--ext PIXELDQ or GROUPDQ"]),
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
