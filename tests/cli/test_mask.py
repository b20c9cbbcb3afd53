import numpy as np
import pytest

from irisdq.cli.main import main
from irisdq.datamodels import TMTMaskModel


def test_create_flags_pixels_x_column_y_row(tmp_path, capsys):
    out = tmp_path / "mask.fits"
    assert main(["mask", "create", str(out), "--flag", "DEAD:12,34",
                 "--flag", "HOT+DO_NOT_USE:4095,0"]) == 0  # fmt: skip
    assert "wrote" in capsys.readouterr().out
    mask = TMTMaskModel(out)
    assert mask.dq[34, 12] == 1024
    assert mask.dq[0, 4095] == 2049
    assert np.count_nonzero(mask.dq) == 2
    assert mask.meta.detector == "IRIS1"


def test_create_from_csv_one_based(tmp_path):
    table = tmp_path / "pixels.csv"
    table.write_text("x,y,flag\n# a comment\n1,1,DEAD\n\n4096,4096,WARM\n1,1,hot\n")
    out = tmp_path / "mask.fits"
    args = ["mask", "create", str(out), "--from-csv", str(table), "--one-based"]
    assert main([*args, "--detector", "IRIS2"]) == 0
    mask = TMTMaskModel(out)
    assert mask.dq[0, 0] == 1024 | 2048
    assert mask.dq[4095, 4095] == 4096
    assert mask.meta.detector == "IRIS2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--flag", "DEAD:4096,0"], "outside the 4096 x 4096 detector"),
        (["--flag", "DEAD:0,0", "--one-based"], "outside"),
        (["--flag", "DAED:1,1"], "unknown pixel flag name 'DAED'"),
        (["--flag", "DEAD:1"], "give NAME:X,Y"),
        (["--flag", "DEAD:a,1"], "x = 'a' is not an integer"),
    ],
)
def test_create_bad_input_is_one_line_and_writes_nothing(
    tmp_path, capsys, args, message
):
    out = tmp_path / "mask.fits"
    assert main(["mask", "create", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_create_bad_csv_names_file_and_line(tmp_path, capsys):
    table = tmp_path / "pixels.csv"
    table.write_text("1,2,DEAD\n3,4\n")
    assert (
        main(["mask", "create", str(tmp_path / "m.fits"), "--from-csv", str(table)])
        == 2
    )
    assert "pixels.csv line 2: expected 3 columns" in capsys.readouterr().err


def test_create_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "mask.fits"
    assert main(["mask", "create", str(out)]) == 0
    assert main(["mask", "create", str(out), "--flag", "DEAD:1,1"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["mask", "create", str(out), "--flag", "DEAD:1,1", "--overwrite"]) == 0
    assert TMTMaskModel(out).dq[1, 1] == 1024


def test_info_prints_pixels_per_flag(tmp_path, capsys):
    out = tmp_path / "mask.fits"
    main(["mask", "create", str(out), "--flag", "DEAD:1,1", "--flag", "DEAD:2,2",
          "--flag", "HOT:3,3"])  # fmt: skip
    capsys.readouterr()
    assert main(["mask", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4096 x 4096" in text
    assert "DETECTOR  IRIS1" in text
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line}
    assert lines["DEAD"][1:] == ["1024", "2"]
    assert lines["HOT"][1:] == ["2048", "1"]
    assert "WARM" not in lines


def test_info_of_a_file_that_is_not_fits(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello" * 1000)
    assert main(["mask", "info", str(path)]) == 2
    assert "notes.txt: not a FITS file" in capsys.readouterr().err


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "mask.fits"
    main(["mask", "create", str(out), "--flag", "DEAD:1,1", "--flag", "HOT:3,3"])
    png = tmp_path / "mask.png"
    assert main(["mask", "plot", str(out), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mask_without_action_is_a_usage_error(capsys):
    assert main(["mask"]) == 2
    assert "choose an action" in capsys.readouterr().err
