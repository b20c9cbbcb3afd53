"""``irisdq profiles``."""

import numpy as np
from astropy.io import fits

from irisdq.cli.main import main


def test_lists_every_profile(capsys):
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for line in (
        "tmt: TMT IRIS data models (2020)",
        "jwst: JWST pipeline files",
        "liger: Liger/IRIS pipeline of 2025",
        "  CRDS          observatory ligeriri, reference type dq (or mask)",
        "  records       S_DQINIT, R_DQ, CRDS_CTX",
    ):
        assert line in out


def test_tells_the_profile_of_files(tmp_path, capsys):
    jwst = tmp_path / "jw.fits"
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = "JWST"
    fits.HDUList([primary, fits.ImageHDU(np.zeros((1, 2, 2, 2)), name="SCI")]).writeto(
        jwst
    )
    liger = tmp_path / "liger.fits"
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2, 2, 3)), name="DATA")]
    ).writeto(liger)
    assert main(["profiles", str(jwst), str(liger)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{jwst}: jwst (JWST pipeline files (jwst, stdatamodels): MaskModel, "
        "RampModel)",
        f"{liger}: liger (Liger/IRIS pipeline of 2025 (liger_iris_pipeline): "
        "DQModel, RampModel)",
    ]


def test_a_file_of_no_profile_is_one_line(tmp_path, capsys):
    path = tmp_path / "flat.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(path)
    assert main(["profiles", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"irisdq: error: {path}: not a raw ramp of any profile")


def test_masks_are_recognised_and_a_bad_file_does_not_stop_the_rest(tmp_path, capsys):
    from builders import write_foreign_mask, write_mask

    tmt_mask = write_mask(tmp_path / "tmt_mask.fits")
    liger_mask = write_foreign_mask(
        tmp_path / "liger_dq.fits",
        np.zeros((4, 4), dtype=np.uint32),
        [(0, 1, "DO_NOT_USE", "")],
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    flat = tmp_path / "flat.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(flat)
    assert main(["profiles", str(tmt_mask), str(flat), str(liger_mask)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{tmt_mask}: tmt mask (TMTMaskModel, reference type mask)",
        f"{liger_mask}: liger mask (DQModel, reference type dq)",
    ]
    assert captured.err.splitlines() == [
        f"irisdq: error: {flat}: not a raw ramp of any profile: no SCI extension "
        "(tmt, jwst) and no DATA extension (liger); it has no extensions. Give "
        "--profile to say which layout it follows"
    ]


def test_profile_given_checks_the_files_against_it(tmp_path, capsys):
    liger = tmp_path / "liger.fits"
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2, 2, 3)), name="DATA")]
    ).writeto(liger)
    assert main(["profiles", "--profile", "LIGER", str(liger)]) == 0
    assert capsys.readouterr().out.startswith(f"{liger}: liger (")
    assert main(["profiles", "--profile", "jwst", str(liger)]) == 2
    err = capsys.readouterr().err
    assert "profile jwst needs a 4-D SCI extension" in err
    assert main(["profiles", "--profile", "hst", str(liger)]) == 2
    assert "unknown profile 'hst'" in capsys.readouterr().err
