import sys

import numpy as np
import pytest
from astropy.io import fits

from builders import call_on_fifo, with_card, write_declared_mask, write_mask
from irisdq.cli.main import main
from irisdq.datamodels import TMTMaskModel


def test_create_flags_pixels_x_column_y_row(tmp_path, capsys):
    out = tmp_path / "mask.fits"
    assert main(["mask", "create", str(out), "--flag", "DEAD:12,34",
                 "--flag", "HOT+DO_NOT_USE:4095,0"]) == 0  # fmt: skip
    assert "wrote" in capsys.readouterr().out
    mask = TMTMaskModel(out)
    assert mask.dq[34, 12] == 1024 | 1  # DEAD gets DO_NOT_USE, as mask build does
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
    assert mask.dq[0, 0] == 1024 | 2048 | 1
    assert mask.dq[4095, 4095] == 4096  # WARM: usable
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
    assert TMTMaskModel(out).dq[1, 1] == 1024 | 1


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


@pytest.mark.slow
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


def _one_line_error(capsys, code, *words):
    """The command failed with exit 2 and one stderr line holding ``words``."""
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("irisdq: error: ")
    for word in words:
        assert word in captured.err


@pytest.mark.parametrize(
    ("hdu", "keyword", "value", "words"),
    [
        (1, "NAXIS", "-1", ["NAXIS"]),
        (1, "PCOUNT", "'x'", ["PCOUNT"]),
        (0, "DETECTOR", "'IR\x01IS1'", ["the DETECTOR card is not valid FITS"]),
    ],
    ids=["naxis-negative", "pcount-text", "detector-control-character"],
)
def test_info_of_a_damaged_header_is_one_line(
    tmp_path, capsys, hdu, keyword, value, words
):
    """Issue 11: bad sizing cards or card text give one line, exit 2."""
    path = with_card(write_mask(tmp_path / "m.fits"), hdu, keyword, value)
    _one_line_error(capsys, main(["mask", "info", str(path)]), str(path), *words)


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,)], ids=["3-D", "1-D"])
def test_info_of_a_mask_that_is_not_2d_is_one_line(tmp_path, capsys, shape):
    """Issue 11: a 3-D or 1-D mask is refused, not a traceback."""
    path = tmp_path / "m.fits"
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    dq = fits.ImageHDU(np.zeros(shape, np.uint32), name="DQ", uint=True)
    fits.HDUList([primary, dq]).writeto(path)
    code = main(["mask", "info", str(path)])
    _one_line_error(capsys, code, f"DQ has {len(shape)} axes", "must be a 2-D")


def test_info_of_a_60000_square_mask_is_one_line(tmp_path, capsys):
    """Issue 11: a 60000 x 60000 mask is refused before anything is read."""
    path = write_declared_mask(tmp_path / "m.fits", (60000, 60000))
    code = main(["mask", "info", str(path)])
    _one_line_error(capsys, code, "60000 x 60000", "at most 16384 per axis")


def test_info_states_a_checksum_problem_and_still_describes(tmp_path, capsys):
    """Issue 15: `mask info` shows a damaged mask, saying what is wrong."""
    path = with_card(write_mask(tmp_path / "m.fits"), 0, "AUTHOR", "'someone'")
    assert main(["mask", "info", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[1] == (
        f"checksum  BAD: {path}: HDU 0 (PRIMARY): CHECKSUM does not match the "
        "HDU's contents; the header or data may be corrupted"
    )
    assert any(line.startswith("DEAD ") for line in lines)


def test_info_of_a_fifo_does_not_block(tmp_path, capsys):
    """Issue 13: `mask info` of a FIFO is one line, exit 2."""
    codes = []
    call_on_fifo(lambda path: codes.append(main(["mask", "info", str(path)])),
                 tmp_path / "m.fits")  # fmt: skip
    _one_line_error(capsys, codes[0], "is a FIFO; a FITS input must be a regular")


def test_create_from_a_csv_that_is_not_utf8_is_one_line(tmp_path, capsys):
    """Issue 11: a Latin-1 CSV names its file and line."""
    table = tmp_path / "pixels.csv"
    table.write_bytes(b"x,y,flag\n1,2,DEAD\n3,4,D\xe9AD\n")
    out = tmp_path / "m.fits"
    code = main(["mask", "create", str(out), "--from-csv", str(table)])
    _one_line_error(capsys, code, f"{table} line 3: byte 0xe9 is not UTF-8")
    assert not out.exists()


def test_plot_refuses_an_output_that_is_not_an_image(tmp_path, capsys):
    """Issue 11: `mask plot -o x.fits` is refused before drawing."""
    mask = write_mask(tmp_path / "m.fits")
    for name in ("x.fits", "x"):
        code = main(["mask", "plot", str(mask), "-o", str(tmp_path / name)])
        _one_line_error(capsys, code, "is not an image format", ".png, .pdf")
        assert not (tmp_path / name).exists()


def test_plot_replaces_a_file_only_with_overwrite(tmp_path, capsys):
    """Issue 25: an existing image is kept unless --overwrite."""
    pytest.importorskip("matplotlib")
    mask = write_mask(tmp_path / "m.fits")
    png = tmp_path / "mask.png"
    png.write_bytes(b"keep me")
    code = main(["mask", "plot", str(mask), "-o", str(png)])
    _one_line_error(capsys, code, f"{png}: already exists", "--overwrite")
    assert png.read_bytes() == b"keep me"
    assert main(["mask", "plot", str(mask), "-o", str(png), "--overwrite"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.fits", "mask.png"]


def test_plot_without_matplotlib_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    mask = write_mask(tmp_path / "mask.fits")
    png = tmp_path / "mask.png"
    assert main(["mask", "plot", str(mask), "-o", str(png)]) == 2
    assert capsys.readouterr().err == (
        'irisdq: error: drawing needs matplotlib: pip install "irisdq[plot]"\n'
    )
    assert not png.exists()


@pytest.mark.slow
def test_check_exit_codes(tmp_path, capsys):
    clean = tmp_path / "clean.fits"
    assert main(["mask", "create", str(clean), "--flag", "DEAD+DO_NOT_USE:1,1"]) == 0
    capsys.readouterr()
    assert main(["mask", "check", str(clean), "--context", "tmt_0001.pmap"]) == 0
    assert capsys.readouterr().out == f"{clean}: no problems found\n"
    bad = tmp_path / "bad.fits"
    argv = ["mask", "create", str(bad), "--flag", "HOT:1,2", "--do-not-use", "none"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["mask", "check", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{bad}: do_not_use: 1 pixel(s) flagged HOT")
    assert main(["mask", "check", str(bad), "--severe", "DEAD"]) == 0


def test_check_unreadable_input_exits_2(tmp_path, capsys):
    text = tmp_path / "notes.fits"
    text.write_text("not FITS")
    assert main(["mask", "check", str(text)]) == 2
    err = capsys.readouterr().err
    assert str(text) in err
    assert len(err.splitlines()) == 1


def test_create_useafter_and_info_says_which_rule_selects_it(tmp_path, capsys):
    """issue 14 item 14: --useafter sets USEAFTER; mask info says what the
    context selects for the mask's detector and subarray at that date."""
    out = tmp_path / "tmt_iris_mask_0001.fits"
    argv = ["mask", "create", str(out), "--flag", "DEAD:1,1"]
    assert main([*argv, "--useafter", "2015-10-01"]) == 0
    with fits.open(out) as hdus:
        assert hdus[0].header["USEAFTER"] == "2015-10-01T00:00:00"
    capsys.readouterr()
    assert main(["mask", "info", str(out)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (
        "crds      tmt_0001.pmap selects tmt_iris_mask_0001.fits (MASK) for an "
        "exposure "
        "of IRIS1 FULL taken at the USEAFTER (2015-10-01T00:00:00): this file, "
        "by its name (the cache does not hold it yet)"
    )


def test_info_says_when_no_rule_selects_the_mask(tmp_path, capsys):
    """issue 14 item 14: the default USEAFTER (2000-01-01) is before the
    shipped rule (2015-10-01): mask info says so; another name is not it."""
    early = tmp_path / "tmt_iris_mask_0001.fits"
    assert main(["mask", "create", str(early)]) == 0
    capsys.readouterr()
    assert main(["mask", "info", str(early)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith(
        "crds      no MASK selected for an exposure of IRIS1 FULL taken at the "
        "USEAFTER (2000-01-01T00:00:00): "
    )
    assert "earliest 2015-10-01 00:00:00" in last
    other = tmp_path / "mine.fits"
    assert main(["mask", "create", str(other), "--useafter", "2020-01-01"]) == 0
    capsys.readouterr()
    assert main(["mask", "info", str(other)]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .endswith(": not this file (mine.fits): CRDS selects by file name")
    )


def test_create_refuses_a_useafter_that_is_not_a_date(tmp_path, capsys):
    out = tmp_path / "m.fits"
    assert main(["mask", "create", str(out), "--useafter", "2016-13-01"]) == 2
    assert capsys.readouterr().err == (
        "irisdq: error: --useafter '2016-13-01' is not a date; give e.g. "
        "2015-10-01 or 2015-10-01T00:00:00\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("profile", "datamodel", "reftype", "telescope", "value"),
    [
        ("tmt", "TMTMaskModel", "MASK", "TMT", np.int64),
        ("jwst", "MaskModel", "MASK", "JWST", np.uint32),
        ("LIGER", "DQModel", "dq", "TMT", np.int32),
    ],
)
def test_create_profile_writes_that_pipelines_mask(
    tmp_path, capsys, profile, datamodel, reftype, telescope, value
):
    out = tmp_path / "mask.fits"
    argv = ["mask", "create", str(out), "--flag", "DEAD+DO_NOT_USE:1,2"]
    assert main([*argv, "--profile", profile]) == 0
    capsys.readouterr()
    with fits.open(out, checksum=True) as hdul:
        assert hdul[0].header["DATAMODL"] == datamodel
        assert hdul[0].header["REFTYPE"] == reftype
        assert hdul[0].header["TELESCOP"] == telescope
        assert hdul["DQ_DEF"].data["VALUE"].dtype.newbyteorder("=") == value
    with TMTMaskModel(out) as mask:
        assert mask.dq[2, 1] == 1025
    assert main(["mask", "check", str(out), "--context", "tmt_0001.pmap"]) == 0
    assert capsys.readouterr().out == f"{out}: no problems found\n"


def test_create_an_unknown_profile_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "mask.fits"
    assert main(["mask", "create", str(out), "--profile", "hst"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "irisdq: error: unknown profile 'hst'; choose one of tmt, jwst, liger "
        "(irisdq profiles lists them)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("profile", "instrument", "telescope"),
    [
        ("liger", "Liger", "Keck-I"),
        ("liger", "IRIS", "TMT"),
        ("liger", "OTHER", None),
        ("jwst", "IRIS", "JWST"),
    ],
)
def test_a_mask_telescope_follows_its_instrument(profile, instrument, telescope):
    from irisdq.profiles import PROFILES

    mask = TMTMaskModel()
    mask.file_layout = PROFILES[profile].mask
    mask.meta.instrument.name = instrument
    assert mask.get_fits_keywords().get("TELESCOP") == telescope


@pytest.mark.parametrize("imap_reftype", ["dq", "mask"])
def test_check_a_liger_mask_against_a_ligeriri_context(
    tmp_path, capsys, monkeypatch, imap_reftype
):
    """A dq mask is looked up under the imap's dq rmap, or its mask rmap."""
    from builders import write_ligeriri_cache
    from irisdq.profiles import PROFILES

    cache = tmp_path / "cache"
    write_ligeriri_cache(cache, imap_reftype)
    monkeypatch.setenv("CRDS_PATH", str(cache))
    mask = TMTMaskModel()
    mask.file_layout = PROFILES["liger"].mask
    mask.meta.instrument.detector = "IMG1"
    mask.meta.useafter = "2021-01-01T00:00:00"
    mask.dq = np.zeros((16, 16), dtype=np.uint32)
    out = mask.write(tmp_path / "liger.fits")
    argv = ["mask", "check", str(out), "--context", "ligeriri_0001.pmap"]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"{out}: no problems found\n"
    other = tmp_path / "img2.fits"
    mask.meta.instrument.detector = "IMG2"
    mask.write(other)
    assert main([*argv[:2], str(other), *argv[3:]]) == 1
    found = capsys.readouterr().out
    assert f"ligeriri_iris_{imap_reftype}_0001.rmap" in found
    assert "no rule of" in found


def test_info_and_check_of_a_liger_mask_use_its_observatory(
    tmp_path, capsys, monkeypatch
):
    """Without --context or CRDS_OBSERVATORY, a DQModel mask is looked up in
    the ligeriri context, by its own parameters (INSTERA, META.DATE)."""
    from builders import write_foreign_mask, write_observatory_cache

    root = tmp_path / "cache"
    monkeypatch.setenv("CRDS_PATH", str(root))
    parkey = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
    rules = "Match({\n    ('IMG', '0.0.1') : UseAfter({\n"
    rules += "        '2025-01-01 00:00:00' : 'liger_dq.fits',\n    }),\n})"
    references = write_observatory_cache(root, "ligeriri", "liger", "dq", parkey, rules)
    header = {
        "INSTRUME": "Liger",
        "DETECTOR": "IMG",
        "INSTERA": "0.0.1",
        "USEAFTER": "2025-01-01T00:00:00",
    }
    mask = write_foreign_mask(
        references / "liger_dq.fits",
        np.zeros((4, 4), dtype=np.uint32),
        [(10, 1024, "DEAD", "")],
        style="liger",
        header=header,
    )
    assert main(["mask", "info", str(mask)]) == 0
    assert (
        "crds      ligeriri_0001.pmap selects liger_dq.fits (DQ) for an exposure "
        "of IMG "
        "FULL taken at the USEAFTER (2025-01-01T00:00:00): this file"
    ) in capsys.readouterr().out
    assert main(["mask", "check", str(mask)]) == 0
    assert capsys.readouterr().out == f"{mask}: no problems found\n"


@pytest.mark.parametrize("how", ["same", "hard", "symbolic", "folder"])
def test_create_and_plot_refuse_an_output_that_is_their_input(tmp_path, capsys, how):
    pixels = tmp_path / "in" / "pixels.csv"
    pixels.parent.mkdir()
    pixels.write_text("x,y,flag\n1,2,DEAD\n")
    mask = write_mask(tmp_path / "in" / "mask.png")  # a mask with an odd name
    for source, argv in (
        (pixels, ["mask", "create", "{out}", "--from-csv", str(pixels)]),
        (mask, ["mask", "plot", str(mask), "-o", "{out}"]),
        (mask, ["plot", str(mask), "-o", "{out}"]),
    ):
        before = source.read_bytes()
        if how == "same":
            out = source
        elif how == "hard":
            out = tmp_path / f"hard{source.suffix}"
            out.unlink(missing_ok=True)
            out.hardlink_to(source)
        elif how == "symbolic":
            out = tmp_path / f"symbolic{source.suffix}"
            out.unlink(missing_ok=True)
            out.symlink_to(source)
        else:
            out = tmp_path / "linked"
            if not out.exists():
                out.symlink_to(source.parent, target_is_directory=True)
            out = out / source.name
        code = main([a.replace("{out}", str(out)) for a in argv] + ["--overwrite"])
        _one_line_error(capsys, code, "is the ", str(source), "name of its own")
        assert source.read_bytes() == before


def test_one_do_not_use_policy_for_create_build_demo_and_check(tmp_path, capsys):
    """The README's ``mask create --flag DEAD:12,34`` and the demo's own
    mask once failed ``mask check`` (DEAD, HOT, REFERENCE_PIXEL without
    DO_NOT_USE)."""
    from irisdq import demo
    from irisdq.reffiles.check import DEFAULT_SEVERE, check_mask
    from irisdq.reffiles.thresholds import DEFAULT_DO_NOT_USE

    assert DEFAULT_SEVERE == DEFAULT_DO_NOT_USE
    out = tmp_path / "mask.fits"
    assert main(["mask", "create", str(out), "--flag", "DEAD:12,34"]) == 0
    capsys.readouterr()
    assert main(["mask", "check", str(out), "--context", "tmt_0001.pmap"]) == 0
    assert capsys.readouterr().out == f"{out}: no problems found\n"
    keywords = {"DETECTOR": "IRIS1", "SUBARRAY": "FULL"}
    assert check_mask(demo.build_mask(), None, keywords) == []
    # Each flag of the policy, alone, gets DO_NOT_USE; the others do not.
    flags = [f"--flag={name}:{i},0" for i, name in enumerate(DEFAULT_DO_NOT_USE)]
    assert (
        main(["mask", "create", str(out), *flags, "--flag=WARM:9,9", "--overwrite"])
        == 0
    )
    with TMTMaskModel(out) as mask:
        assert (mask.dq[0, : len(flags)] & 1 == 1).all()
        assert mask.dq[9, 9] == 4096


@pytest.mark.parametrize("cache", ["missing", "empty"])
def test_check_without_a_context_checks_the_content(
    tmp_path, capsys, monkeypatch, cache
):
    """``mask check`` once exited 2 without a CRDS context, checking nothing."""
    from irisdq.crds import clear_cache
    from irisdq.profiles import PROFILES

    root = tmp_path / "cache"
    if cache == "empty":
        root.mkdir()
    monkeypatch.setenv("CRDS_PATH", str(root))
    clear_cache()
    mask = TMTMaskModel()
    mask.file_layout = PROFILES["liger"].mask
    mask.meta.instrument.detector = "IMG1"
    mask.dq = np.zeros((16, 16), dtype=np.uint32)
    mask.dq[3, 4] = 1024  # DEAD without DO_NOT_USE
    out = mask.write(tmp_path / "liger.fits")
    assert main(["mask", "check", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{out}: do_not_use: 1 pixel(s) flagged DEAD")
    assert lines[1].startswith(f"{out}: note: CRDS selection not checked")
    assert "give --context" in lines[1]
    mask.dq[3, 4] = 1024 | 1
    mask.write(out, overwrite=True)
    assert main(["mask", "check", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{out}: no problems found"
    # A context asked for and missing is still an error.
    assert main(["mask", "check", str(out), "--context", "ligeriri_0009.pmap"]) == 2
    assert ("ligeriri_0009.pmap" if cache == "empty" else "does not exist") in (
        capsys.readouterr().err
    )


def test_create_for_a_detector_irisdq_does_not_know_takes_a_shape(tmp_path, capsys):
    """Liger's IMG1 once said "give the shape", and no option took one."""
    out = tmp_path / "img1.fits"
    argv = ["mask", "create", str(out), "--detector", "IMG1", "--flag", "HOT:5,6"]
    _one_line_error(capsys, main(argv), "'IMG1' is unknown", "--shape NYxNX")
    assert main([*argv, "--shape", "32x64", "--profile", "liger"]) == 0
    with TMTMaskModel(out) as mask:
        assert mask.dq.shape == (32, 64)
        assert mask.dq[6, 5] == 2048 | 1
        keywords = mask.get_fits_keywords()
    assert keywords["DETECTOR"] == "IMG1"
    assert (keywords["SUBSIZE1"], keywords["SUBSIZE2"]) == (64, 32)
    capsys.readouterr()
    assert main(["mask", "check", str(out), "--context", "tmt_0001.pmap"]) in (0, 1)
    assert "placement" not in capsys.readouterr().out
    # A pixel outside the given shape, and shapes that are not shapes.
    code = main([*argv[:-1], "HOT:70,1", "--shape", "32x64", "--overwrite"])
    _one_line_error(capsys, code, "outside the 64 x 32 detector")
    for bad in ("0x5", "32", "ax4", "5x5x5", "70000x2"):
        code = main([*argv, "--shape", bad, "--overwrite"])
        _one_line_error(capsys, code, f"--shape {bad!r} is not a detector shape")
    # A known detector keeps its own size.
    code = main(["mask", "create", str(out), "--shape", "2048x2048", "--overwrite"])
    _one_line_error(capsys, code, "'IRIS1' is 4096 x 4096", "leave the shape out")


def test_info_compares_content_with_the_cache_s_file_of_that_name(
    tmp_path, capsys, monkeypatch
):
    """``mask info`` once said "this file" by name alone, although the
    cache's file of that name had other flags (CRDS would use that one)."""
    from builders import write_shipped_cache
    from irisdq.crds import clear_cache

    root = tmp_path / "cache"
    cached = write_shipped_cache(root)
    monkeypatch.setenv("CRDS_PATH", str(root))
    clear_cache()
    argv = ["mask", "create", str(cached), "--flag", "HOT:3,3", "--overwrite"]
    assert main([*argv, "--useafter", "2015-10-01"]) == 0

    def verdict(path):
        capsys.readouterr()
        assert main(["mask", "info", str(path)]) == 0
        return capsys.readouterr().out.splitlines()[-1].split(": ", 1)[1]

    assert verdict(cached) == "this file"
    local = tmp_path / "mine" / "tmt_iris_mask_0001.fits"
    local.parent.mkdir()
    argv = ["mask", "create", str(local), "--flag", "DEAD:1,1"]
    assert main([*argv, "--useafter", "2015-10-01"]) == 0
    said = verdict(local)
    assert "NOT this file" in said
    assert f"the cache's {cached} has this name but other flags" in said
    local.unlink()
    local.write_bytes(cached.read_bytes())
    with fits.open(local, mode="update") as hdus:
        hdus[0].header["AUTHOR"] = "someone else"  # other bytes, same flags
    assert "this file (the cache's copy" in verdict(local)
    cached.unlink()
    assert "this file, by its name (the cache does not hold it yet)" in verdict(local)


def test_info_names_a_cache_file_of_that_name_it_cannot_compare(
    tmp_path, capsys, monkeypatch
):
    from builders import write_full_frame_ramp, write_shipped_cache
    from irisdq.crds import clear_cache

    root = tmp_path / "cache"
    cached = write_shipped_cache(root)
    monkeypatch.setenv("CRDS_PATH", str(root))
    clear_cache()
    cached.unlink()
    write_full_frame_ramp(cached)  # a ramp under the mask's name
    local = tmp_path / "tmt_iris_mask_0001.fits"
    argv = ["mask", "create", str(local), "--flag", "DEAD:1,1"]
    assert main([*argv, "--useafter", "2015-10-01"]) == 0
    capsys.readouterr()
    assert main(["mask", "info", str(local)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert f"a file of this name, {cached}, which cannot be compared" in last
    assert "not a mask" in last
