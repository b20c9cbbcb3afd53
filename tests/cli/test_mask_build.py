import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from irisdq.cli.mask_build import register_build, run_build
from irisdq.datamodels import TMTMaskModel
from irisdq.errors import IrisDQError


def _parse(argv):
    """``irisdq mask build``'s arguments, parsed as the ``mask`` command does."""
    parser = argparse.ArgumentParser(prog="irisdq mask")
    register_build(parser.add_subparsers(dest="mask_command"))
    return parser.parse_args(["build", *argv])


def test_irisdq_mask_build_runs(tmp_path, inputs, capsys):
    """The action is part of ``irisdq mask``."""
    from irisdq.cli.main import main

    flats, darks = inputs
    out = tmp_path / "built.fits"
    argv = ["mask", "build", "--flats", *flats, "--darks", *darks, "-o", str(out)]
    assert main([*argv, "--refpix", "0", "--no-plot"]) == 0
    with TMTMaskModel(out) as mask:
        assert mask.dq[10, 12] & 1024  # the dead pixel of the flats
        assert mask.dq[30, 5] & 2048  # the hot pixel of the darks


@pytest.fixture
def inputs(tmp_path):
    flats, darks = [], []
    for i in range(3):
        flat = np.full((40, 40), 5000.0 + 100 * i, dtype=np.float32)
        flat[10, 12] = 1.0
        flats.append(str(tmp_path / f"flat{i}.fits"))
        fits.PrimaryHDU(flat).writeto(flats[-1])
        dark = np.full((40, 40), 0.01, dtype=np.float32)
        dark[30, 5] = 4.0
        darks.append(str(tmp_path / f"dark{i}.fits"))
        fits.PrimaryHDU(dark).writeto(darks[-1])
    return flats, darks


@pytest.mark.slow
def test_build_writes_the_mask_the_report_and_the_picture(tmp_path, inputs, capsys):
    pytest.importorskip("matplotlib")
    flats, darks = inputs
    out = tmp_path / "out" / "mask.fits"
    args = _parse(["--flats", *flats, "--darks", *darks, "-o", str(out),
                   "--detector", "IRIS2", "--useafter", "2026-02-03",
                   "--illumination-box", "8", "--do-not-use", "dead,hot"])  # fmt: skip
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert "DEAD 1, HOT 1" in printed
    assert "DO_NOT_USE with DEAD, HOT" in printed
    assert (tmp_path / "out" / "mask_report.png").stat().st_size > 0
    with TMTMaskModel(out) as mask:
        assert mask.meta.instrument.detector == "IRIS2"
        assert mask.meta.useafter == "2026-02-03T00:00:00"
        assert mask.dq[10, 12] == 1024 | 1
        assert mask.dq[30, 5] == 2048 | 1
        # REFERENCE_PIXEL is not in --do-not-use: no DO_NOT_USE on the border.
        assert mask.dq[0, 0] == 2**31


def test_existing_outputs_are_refused_before_any_work(tmp_path, inputs, monkeypatch):
    _, darks = inputs
    out = tmp_path / "mask.fits"
    out.write_bytes(b"keep me")
    calls = []
    monkeypatch.setattr("irisdq.reffiles.build.build_mask", calls.append)
    with pytest.raises(FileExistsError) as info:
        run_build(_parse(["--darks", *darks, "-o", str(out)]))
    assert info.value.filename == str(out)
    assert out.read_bytes() == b"keep me"
    assert not calls
    picture = tmp_path / "other_report.png"
    picture.write_bytes(b"keep me too")
    with pytest.raises(FileExistsError):
        run_build(_parse(["--darks", *darks, "-o", str(tmp_path / "other.fits")]))
    assert not (tmp_path / "other.fits").exists()


def test_overwrite_replaces_both(tmp_path, inputs):
    pytest.importorskip("matplotlib")
    _, darks = inputs
    out = tmp_path / "mask.fits"
    out.write_bytes(b"old")
    (tmp_path / "mask_report.png").write_bytes(b"old")
    assert run_build(_parse(["--darks", *darks, "-o", str(out), "--overwrite"])) == 0
    assert out.read_bytes()[:6] == b"SIMPLE"
    assert (tmp_path / "mask_report.png").read_bytes()[:4] == b"\x89PNG"


def test_without_matplotlib_a_one_line_note_and_no_picture(
    tmp_path, inputs, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    _, darks = inputs
    out = tmp_path / "mask.fits"
    assert run_build(_parse(["--darks", *darks, "-o", str(out)])) == 0
    notes = [
        line
        for line in capsys.readouterr().out.splitlines()
        if "matplotlib" in line and not line.startswith("wrote")
    ]
    assert notes == [
        "no pictures: matplotlib is not installed (pip install 'irisdq[plot]')"
    ]
    assert out.exists()
    assert not list(tmp_path.glob("*.png"))


def test_no_plot_draws_nothing(tmp_path, inputs):
    _, darks = inputs
    out = tmp_path / "mask.fits"
    assert run_build(_parse(["--darks", *darks, "-o", str(out), "--no-plot"])) == 0
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--do-not-use", "DEAD,HOTT"], "unknown pixel flag name 'HOTT'"),
        (["--hot", "0.01"], "warm = 0.1 must be below hot = 0.01"),
        (["--darks", "missing.fits"], "missing.fits: no such file"),
    ],
)
def test_bad_input_is_one_line_naming_it(tmp_path, inputs, extra, message):
    _, darks = inputs
    out = tmp_path / "mask.fits"
    args = _parse(["--darks", *darks, "-o", str(out), *extra])
    with pytest.raises(IrisDQError, match=message) as info:
        run_build(args)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_do_not_use_none(tmp_path, inputs):
    _, darks = inputs
    out = tmp_path / "mask.fits"
    run_build(_parse(["--darks", *darks, "-o", str(out), "--do-not-use", "none",
                      "--no-plot"]))  # fmt: skip
    with TMTMaskModel(out) as mask:
        assert not (mask.dq & 1).any()


def test_the_picture_goes_where_plot_says(tmp_path, inputs):
    pytest.importorskip("matplotlib")
    _, darks = inputs
    picture = tmp_path / "pictures" / "build.png"
    out = tmp_path / "mask.fits"
    assert (
        run_build(_parse(["--darks", *darks, "-o", str(out), "--plot", str(picture)]))
        == 0
    )
    assert picture.read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "mask_report.png").exists()


def test_registering_the_command_does_not_load_numpy():
    # irisdq --help must stay fast once the command is wired in.
    code = (
        "import argparse, sys\n"
        "from irisdq.cli.mask_build import register_build\n"
        "register_build(argparse.ArgumentParser().add_subparsers())\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_build_profile_writes_that_pipelines_mask(tmp_path, inputs):
    _, darks = inputs
    out = tmp_path / "mask.fits"
    args = _parse(["--darks", *darks, "-o", str(out), "--no-plot"])
    assert args.profile == "tmt"
    args = _parse(["--darks", *darks, "-o", str(out), "--no-plot", "--profile", "jwst"])
    assert run_build(args) == 0
    with fits.open(out) as hdul:
        assert hdul[0].header["DATAMODL"] == "MaskModel"
        assert hdul[0].header["TELESCOP"] == "JWST"
        assert hdul["DQ_DEF"].data["VALUE"].dtype.newbyteorder("=") == np.uint32
    with TMTMaskModel(out) as mask:
        assert mask.dq[30, 5] & 2048


def test_build_an_unknown_profile_is_refused_before_any_work(
    tmp_path, inputs, monkeypatch
):
    import irisdq.reffiles.build

    monkeypatch.setattr(
        irisdq.reffiles.build, "build_mask", lambda *a, **k: pytest.fail("built")
    )
    _, darks = inputs
    out = tmp_path / "mask.fits"
    args = _parse(["--darks", *darks, "-o", str(out), "--profile", "tmt2"])
    with pytest.raises(IrisDQError, match="unknown profile 'tmt2'") as info:
        run_build(args)
    assert "\n" not in str(info.value)
    assert not out.exists()


def _name_of(tmp_path, target, how):
    """Another name for ``target``: itself, a hard link, a symbolic link, or
    the path through a symbolically linked folder."""
    target = Path(target)
    if how == "same":
        return target
    if how == "hard":
        other = tmp_path / "hard.fits"
        other.hardlink_to(target)
    elif how == "symbolic":
        other = tmp_path / "symbolic.fits"
        other.symlink_to(target)
    else:
        folder = tmp_path / "linked"
        folder.symlink_to(target.parent, target_is_directory=True)
        other = folder / target.name
    return other


@pytest.mark.parametrize("how", ["same", "hard", "symbolic", "folder"])
@pytest.mark.parametrize("which", ["flat", "dark"])
def test_an_output_that_is_an_input_is_refused_even_with_overwrite(
    tmp_path, inputs, capsys, how, which
):
    """``-o d2.fits --overwrite`` once replaced the dark d2.fits with the
    mask, with exit 0."""
    from irisdq.cli.main import main

    flats, darks = inputs
    victim = (flats if which == "flat" else darks)[2]
    before = Path(victim).read_bytes()
    out = _name_of(tmp_path, victim, how)
    argv = ["mask", "build", "--flats", *flats, "--darks", *darks, "-o", str(out)]
    assert main([*argv, "--overwrite", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"is the {which} {victim}" in err
    assert "name of its own" in err
    assert Path(victim).read_bytes() == before


def test_a_picture_that_is_an_input_or_the_mask_is_refused(tmp_path, inputs, capsys):
    from irisdq.cli.main import main

    _, darks = inputs
    before = Path(darks[0]).read_bytes()
    picture = tmp_path / "picture.png"
    picture.symlink_to(darks[0])
    argv = ["mask", "build", "--darks", *darks, "--overwrite"]
    out = tmp_path / "mask.fits"
    assert main([*argv, "-o", str(out), "--plot", str(picture)]) == 2
    assert f"--plot {picture} is the dark {darks[0]}" in capsys.readouterr().err
    assert Path(darks[0]).read_bytes() == before
    # The mask and its picture on one file: the mask would be lost.
    out = tmp_path / "mask.png"
    assert main([*argv, "-o", str(out), "--plot", str(out)]) == 2
    assert f"is the output -o {out}" in capsys.readouterr().err
    assert not out.exists()


def test_a_liger_mask_holds_only_what_a_liger_dq_can(tmp_path, inputs, caplog):
    """``--profile liger`` once wrote REFERENCE_PIXEL (bit 31), which a
    Liger ramp's uint16 DQ cannot hold: dq-init then stopped, and mask
    check called the mask clean."""
    from builders import write_liger_ramp
    from irisdq.cli.main import main
    from irisdq.reffiles.check import check_mask_file

    _, darks = inputs
    out = tmp_path / "liger_mask.fits"
    argv = ["mask", "build", "--darks", *darks, "-o", str(out), "--no-plot"]
    assert main([*argv, "--profile", "liger", "--detector", "IMG"]) == 0
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("cannot hold REFERENCE_PIXEL" in text for text in warned), warned
    with TMTMaskModel(out) as mask:
        dq = np.array(mask.dq)
    assert not (dq >> 16).any()
    assert dq[0, 0] == 1  # the border: DO_NOT_USE in place of REFERENCE_PIXEL
    assert dq[30, 5] == 2048 | 1  # HOT and DO_NOT_USE kept
    assert not [f for f in check_mask_file(out) if f.kind == "dq_bits"]
    raw = write_liger_ramp(tmp_path / "raw.fits", 40, 40, 2, 2)
    dqinit = tmp_path / "dqinit.fits"
    assert (
        main(["dq-init", str(raw), "-o", str(dqinit), "--override-dq", str(out)]) == 0
    )
    with fits.open(dqinit) as hdul:
        assert (hdul["DQ"].data[30, 5] == 2048 | 1).all()
    # The TMT profile's mask keeps its flags.
    tmt = tmp_path / "tmt_mask.fits"
    assert main(["mask", "build", "--darks", *darks, "-o", str(tmt), "--no-plot"]) == 0
    with TMTMaskModel(tmt) as mask:
        assert mask.dq[0, 0] == (1 << 31) | 1


def _one_line(capsys, code, *words):
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.count("\n") == 1, captured.err
    assert "RuntimeWarning" not in captured.err
    for word in words:
        assert word in captured.err, captured.err


@pytest.mark.parametrize(
    ("plot", "words"),
    [
        ("report.txt", [".txt is not an image format"]),
        ("{dark}/report.png", ["cannot be written", "is not a folder"]),
    ],
    ids=["format", "unwritable"],
)
def test_a_bad_plot_name_is_found_before_the_mask_is_written(
    tmp_path, inputs, capsys, plot, words
):
    from irisdq.cli.main import main

    _, darks = inputs
    out = tmp_path / "mask.fits"
    plot = plot.replace("{dark}", darks[0])
    argv = ["mask", "build", "--darks", *darks, "-o", str(out), "--plot", plot]
    _one_line(capsys, main(argv), *words)
    assert not out.exists()


def test_the_same_file_twice_is_refused(tmp_path, inputs, capsys):
    from irisdq.cli.main import main

    flats, darks = inputs
    link = tmp_path / "link.fits"
    link.symlink_to(darks[1])
    out = tmp_path / "mask.fits"
    for given in ([darks[0], darks[0]], [*darks, str(link)]):
        argv = ["mask", "build", "--darks", *given, "-o", str(out), "--no-plot"]
        _one_line(capsys, main(argv), "given again", "give every file once")
    argv = ["mask", "build", "--flats", flats[0], "--darks", flats[0], darks[1]]
    _one_line(capsys, main([*argv, "-o", str(out)]), f"{flats[0]} is the file")
    assert not out.exists()


def test_nan_and_infinity_are_treated_alike(tmp_path):
    """NaN once flagged the pixel while inf was absorbed by the median."""
    flats, darks = [], []
    for i in range(3):
        flat = np.full((40, 40), 5000.0 + 100 * i, dtype=np.float32)
        dark = np.full((40, 40), 0.01, dtype=np.float32)
        if i == 0:
            flat[10, 12], flat[20, 22], flat[21, 22] = np.nan, np.inf, -np.inf
            dark[10, 12], dark[20, 22], dark[21, 22] = np.nan, np.inf, -np.inf
        flats.append(tmp_path / f"flat{i}.fits")
        fits.PrimaryHDU(flat).writeto(flats[-1])
        darks.append(tmp_path / f"dark{i}.fits")
        fits.PrimaryHDU(dark).writeto(darks[-1])
    for kind, files in (("flats", flats), ("darks", darks)):
        out = tmp_path / f"{kind}.fits"
        argv = [f"--{kind}", *map(str, files), "-o", str(out), "--no-plot"]
        assert run_build(_parse(argv)) == 0
        with TMTMaskModel(out) as mask:
            nan = int(mask.dq[10, 12])
            assert nan != 0
            assert int(mask.dq[20, 22]) == nan
            assert int(mask.dq[21, 22]) == nan


@pytest.mark.parametrize(
    ("kind", "make", "words"),
    [
        ("flats", "nan", ["frame 0 has no finite value"]),
        ("darks", "nan", ["frame 0 has no finite value"]),
        ("flats", "tiny", ["1 x 1 frames lie all in the 4-pixel reference border"]),
        ("darks", "tiny", ["1 x 1 frames lie all in the 4-pixel reference border"]),
        ("flats", "huge", ["frame 0 has values beyond the float32 range"]),
        ("darks", "huge", ["frame 0 has values beyond the float32 range"]),
    ],
)
def test_a_frame_that_cannot_be_used_is_one_line_naming_it(
    tmp_path, capsys, kind, make, words
):
    from irisdq.cli.main import main

    files = []
    for i in range(2):
        if make == "nan":
            frame = np.full((40, 40), np.nan if i == 0 else 1.0, dtype=np.float32)
        elif make == "tiny":
            frame = np.ones((1, 1), dtype=np.float32)
        else:
            frame = np.ones((40, 40), dtype=np.float64)
            frame[20, 20] = 1e300 if i == 0 else 1.0
        files.append(str(tmp_path / f"{make}{i}.fits"))
        fits.PrimaryHDU(frame).writeto(files[-1])
    out = tmp_path / "mask.fits"
    argv = ["mask", "build", f"--{kind}", *files, "-o", str(out), "--no-plot"]
    _one_line(capsys, main(argv), files[0], *words)
    assert not out.exists()


def test_too_few_darks_for_the_noise_test_are_said(tmp_path, inputs, capsys, caplog):
    """Two darks once built a mask with no noisy search, said only in a note
    that did not say what the mask lacks."""
    from irisdq.cli.main import main

    _, darks = inputs
    out = tmp_path / "mask.fits"
    argv = ["mask", "build", "--darks", *darks[:2], "-o", str(out), "--no-plot"]
    assert main(argv) == 0
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "only 2 dark frames" in text and "no UNRELIABLE_SLOPE" in text
        for text in warned
    ), warned
    note = [line for line in capsys.readouterr().out.splitlines() if "only 2" in line]
    assert len(note) == 1
    assert "no pixel has UNRELIABLE_SLOPE" in note[0]
    assert "HOT and WARM come from the lower of the 2 frames" in note[0]
    caplog.clear()
    assert main([*argv[:3], *darks, *argv[5:], "--overwrite"]) == 0
    assert not [r for r in caplog.records if "dark frames" in r.getMessage()]
