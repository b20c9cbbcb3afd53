"""``irisdq dq-init``: summaries, exit codes and errors."""

import os
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from builders import write_full_frame_ramp, write_mask
from irisdq.cli.main import build_parser, main
from irisdq.datamodels import TMTMaskModel


@pytest.fixture(autouse=True)
def cache(home):
    mask = TMTMaskModel()
    mask.meta.name = "IRIS"
    mask.meta.detector = "IRIS1"
    dq = np.zeros((4096, 4096), dtype=np.uint32)
    dq[200:203, 100] = 1024 | 1
    dq[201, 101] = 2048
    mask.dq = dq
    mask.write(home / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits")


def ramp(path, date="2020-07-13"):
    primary = fits.PrimaryHDU()
    primary.header.update(
        {"TELESCOP": "TMT", "INSTRUME": "IRIS", "DETECTOR": "IRIS1",
         "SUBARRAY": "CUSTOM", "SUBSTRT1": 101, "SUBSTRT2": 201, "SUBSIZE1": 8,
         "SUBSIZE2": 6, "DATE-OBS": date, "TIME-OBS": "00:00:00"}
    )  # fmt: skip
    sci = fits.ImageHDU(np.zeros((1, 3, 6, 8), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(path)
    return path


def test_summary_line(tmp_path, capsys):
    source = ramp(tmp_path / "a_uncal.fits")
    assert main(["dq-init", str(source)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        f"{tmp_path / 'a_dqinit.fits'}: COMPLETE "
        "mask=crds://tmt_iris_mask_0001.fits DO_NOT_USE=3 DEAD=3 HOT=1"
    )


def test_options(tmp_path, capsys):
    source = ramp(tmp_path / "a_uncal.fits")
    out_dir = tmp_path / "out"
    assert main(["dq-init", str(source), "--output-dir", str(out_dir)]) == 0
    assert (out_dir / "a_dqinit.fits").is_file()
    assert main(["dq-init", str(source), "-o", str(tmp_path / "b.fits")]) == 0
    assert main(["dq-init", str(source), "--override-mask", "N/A", "-o",
                 str(tmp_path / "c.fits")]) == 0  # fmt: skip
    assert "SKIPPED mask=N/A" in capsys.readouterr().out
    assert main(["dq-init", str(source), "--in-place"]) == 0
    with fits.open(source) as hdul:
        assert hdul[0].header["S_DQINIT"] == "COMPLETE"
        assert hdul["PIXELDQ"].data[1, 0] == 1025


def test_some_failed_exit_1(tmp_path, capsys):
    good = ramp(tmp_path / "good_uncal.fits")
    early = ramp(tmp_path / "early_uncal.fits", date="2015-09-13")
    broken = tmp_path / "broken_uncal.fits"
    broken.write_bytes(b"SIMPLE  =                    T" + b" " * 50)
    code = main(["dq-init", str(early), str(good), str(broken)])
    captured = capsys.readouterr()
    assert code == 1
    assert (tmp_path / "good_dqinit.fits").is_file()
    assert not (tmp_path / "early_dqinit.fits").exists()
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert str(early) in errors[0]
    assert "2015-09-13" in errors[0]
    assert str(broken) in errors[1]
    assert "Traceback" not in captured.err


def test_single_failure_exit_2_one_line(tmp_path, capsys):
    early = ramp(tmp_path / "early_uncal.fits", date="2015-09-13")
    assert main(["dq-init", str(early)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("irisdq: error:")


def test_existing_output_needs_overwrite(tmp_path, capsys):
    source = ramp(tmp_path / "a_uncal.fits")
    assert main(["dq-init", str(source)]) == 0
    assert main(["dq-init", str(source)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["dq-init", str(source), "--overwrite"]) == 0


def test_usage_errors(tmp_path, capsys):
    one, two = ramp(tmp_path / "one.fits"), ramp(tmp_path / "two.fits")
    assert main(["dq-init", str(one), str(two), "-o", str(tmp_path / "x.fits")]) == 2
    assert "use --output-dir" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["dq-init"])
    assert exit_info.value.code == 2


def test_help_documents_every_option():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    text = subparsers.choices["dq-init"].format_help()
    for option in ("--override-mask", "--user-dq", "--output", "--output-dir",
                   "--in-place", "--overwrite", "--debug", "exit status"):  # fmt: skip
        assert option in text


def test_not_touched_without_shutil(tmp_path):
    # The input of a failed run is left byte for byte.
    early = ramp(tmp_path / "early.fits", date="2015-09-13")
    before = early.read_bytes()
    main(["dq-init", str(early)])
    assert early.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["early.fits"]
    assert shutil.which("irisdq") is not None


def _cli(*arguments, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "irisdq.cli.main", *map(str, arguments)],
        input=stdin,
        capture_output=True,
        check=False,
    )


@pytest.mark.slow
def test_input_from_a_pipe_is_one_line(tmp_path):
    """case 12: 'irisdq dq-init /dev/stdin' fed by a pipe: one line naming
    the file and what to do (was '[Errno 29] Illegal seek', twice)."""
    source = ramp(tmp_path / "a_uncal.fits")
    done = _cli(
        "dq-init", "/dev/stdin", "--override-mask", "N/A", "-o", tmp_path / "o.fits",
        stdin=source.read_bytes(),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode() == (
        "irisdq: error: /dev/stdin: is a FIFO; a raw ramp must be a regular file\n"
    )


@pytest.mark.slow
def test_a_garbage_header_card_is_one_warning_line(tmp_path):
    """case 12: astropy's warning about a garbage card is one line naming
    the file (was four lines), and a failure is printed once."""
    source = ramp(tmp_path / "a_uncal.fits")
    data = bytearray(source.read_bytes())
    at = data.index(b"TIME-OBS")
    data[at : at + 80] = b'\x01garbage = "abc'.ljust(80)
    source.write_bytes(bytes(data))
    done = _cli("dq-init", source, "--override-mask", "N/A", "-o", tmp_path / "o.fits")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.decode().splitlines()
    odd = [line for line in lines if "keyword is invalid" in line]
    assert odd == [
        f"WARNING irisdq.dq_init: {source}: AstropyUserWarning: The following "
        "header keyword is invalid or follows an unrecognized non-standard "
        'convention: \x01garbage = "abc'
    ]
    blocked = tmp_path / "o.fits"  # exists now: the rerun fails
    done = _cli("dq-init", source, "--override-mask", "N/A", "-o", blocked)
    assert done.returncode == 2
    assert done.stdout == b""
    assert [line for line in done.stderr.decode().splitlines() if "error" in line] == [
        f"irisdq: error: {blocked}: output already exists; use --overwrite "
        "(overwrite=True) to replace it"
    ]


def test_override_mask_none_is_a_file(tmp_path, monkeypatch, capsys):
    """case 22: '--override-mask none' names the file 'none' when there is
    one (it used to mean N/A); NA names a file too."""
    monkeypatch.chdir(tmp_path)
    source = write_full_frame_ramp(tmp_path / "a_uncal.fits")
    write_mask(tmp_path / "none")
    assert main(["dq-init", str(source), "--override-mask", "none"]) == 0
    with fits.open(tmp_path / "a_dqinit.fits") as hdus:
        assert hdus[0].header["S_DQINIT"] == "COMPLETE"
        assert hdus[0].header["R_MASK"] == "none"
    code = main(["dq-init", str(source), "--override-mask", "NA", "--overwrite"])
    assert code == 2
    assert "NA" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["fifo", "folder", "link"])
def test_overwrite_replaces_only_a_regular_file(tmp_path, capsys, kind):
    """case 5: '-o PATH --overwrite' refuses a FIFO, a folder and a symbolic
    link leading out of the output folder, naming the path and its kind."""
    source = ramp(tmp_path / "a_uncal.fits")
    out = tmp_path / "out"
    out.mkdir()
    target = out / "o.fits"
    elsewhere = tmp_path / "precious.fits"
    elsewhere.write_bytes(b"precious")
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        target.symlink_to(elsewhere)
    code = main(["dq-init", str(source), "--override-mask", "N/A", "-o",
                 str(target), "--overwrite"])  # fmt: skip
    assert code == 2
    what = {
        "fifo": "is a FIFO (named pipe)",
        "folder": "is a directory",
        "link": f"is a symbolic link (to {elsewhere})",
    }[kind]
    assert capsys.readouterr().err == (
        f"irisdq: error: {target}: {what}; irisdq only replaces regular files\n"
    )
    still = {"fifo": stat.S_ISFIFO, "folder": stat.S_ISDIR, "link": stat.S_ISLNK}
    assert still[kind](os.lstat(target).st_mode)
    assert elsewhere.read_bytes() == b"precious"
    assert sorted(p.name for p in out.iterdir()) == ["o.fits"]


def test_a_long_input_name(tmp_path, capsys):
    """case 24: a 251-character input name: the temporary file's name stays
    under the 255-byte limit and the output is written."""
    source = ramp(tmp_path / ("x" * 240 + "_uncal.fits"))
    assert len(source.name) == 251
    assert main(["dq-init", str(source), "--override-mask", "N/A"]) == 0
    output = tmp_path / ("x" * 240 + "_dqinit.fits")
    with fits.open(output) as hdus:
        assert hdus[0].header["S_DQINIT"] == "SKIPPED"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("extra", [[], ["--overwrite"]])
def test_running_on_an_output_says_in_place_first(tmp_path, capsys, extra):
    """issue 14 item 7: an output given as input says at once that the
    output would replace it (not "use --overwrite", then "use --in-place")."""
    mask = write_mask(tmp_path / "mask.fits")
    source = write_full_frame_ramp(tmp_path / "a_uncal.fits")
    assert main(["dq-init", str(source), "--override-mask", str(mask)]) == 0
    output = tmp_path / "a_dqinit.fits"
    before = output.read_bytes()
    capsys.readouterr()
    code = main(["dq-init", str(output), "--override-mask", str(mask), *extra])
    assert code == 2
    assert capsys.readouterr().err == (
        f"irisdq: error: {output}: the output would replace the input; use "
        "--in-place (inplace=True) or choose another output\n"
    )
    assert output.read_bytes() == before


@pytest.mark.slow
def test_verbose_shows_the_step_s_info_lines(tmp_path):
    """``irisdq -v dq-init`` once showed no INFO line, although the README
    says the "created as zeros" line appears with -v."""
    raw = write_full_frame_ramp(tmp_path / "r_uncal.fits")
    mask = write_mask(tmp_path / "mask.fits")
    argv = [sys.executable, "-m", "irisdq.cli.main"]
    run = ["dq-init", str(raw), "--override-mask", str(mask), "--overwrite"]
    for verbose in (True, False):
        done = subprocess.run(
            [*argv, *(["-v"] if verbose else []), *run],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert ("no PIXELDQ; created as zeros" in done.stderr) == verbose, done
        # The result line, on stdout, once: -v does not log it again.
        [line] = done.stdout.splitlines()
        assert " COMPLETE mask=" in line
        assert line not in done.stderr
