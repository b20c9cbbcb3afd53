"""``irisdq dq-init --substrt COL,ROW``: ramps without SUBSTRT1/SUBSTRT2."""

import hashlib

import numpy as np
import pytest
from astropy.io import fits

from irisdq import batch
from irisdq.cli.main import main
from irisdq.datamodels import TMTMaskModel

# Flags of the full-frame mask in the CRDS cache, 0-based (row, column).
DEAD, HOT = (201, 100), (202, 103)
COL, ROW = 98, 200  # the sample ramp's first pixel, 1-based


@pytest.fixture(autouse=True)
def cache(home):
    mask = TMTMaskModel()
    mask.meta.name = "IRIS"
    mask.meta.detector = "IRIS1"
    dq = np.zeros((4096, 4096), dtype=np.uint32)
    dq[DEAD] = 1024 | 1
    dq[HOT] = 2048
    mask.dq = dq
    mask.write(home / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits")


def sample(path, **header):
    """A ramp like the IRIS team's samples: a 6x8 subarray, no SUBSTRT."""
    primary = fits.PrimaryHDU()
    primary.header.update(
        {"TELESCOP": "TMT", "INSTRUME": "IRIS", "DETECTOR": "IRIS1",
         "SUBARRAY": "CUSTOM", "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00",
         **header}
    )  # fmt: skip
    sci = fits.ImageHDU(np.zeros((1, 3, 6, 8), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(path)
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _at(where):
    """The ramp pixel of mask pixel ``where`` (row r, col c): (r-ROW+1, c-COL+1)."""
    return where[0] - ROW + 1, where[1] - COL + 1


def test_error_names_the_option_then_the_option_works(tmp_path, capsys):
    source = sample(tmp_path / "s_uncal.fits")
    before = _digest(source)
    assert main(["dq-init", str(source)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"irisdq: error: {source}: ")
    assert "--substrt COL,ROW" in err
    assert "\n" not in err
    assert main(["dq-init", str(source), "--substrt", f"{COL},{ROW}"]) == 0
    assert "DEAD=1 HOT=1" in capsys.readouterr().out
    assert _digest(source) == before
    with fits.open(tmp_path / "s_dqinit.fits") as hdus:
        pixeldq = hdus["PIXELDQ"].data
        header = hdus[0].header
        assert pixeldq[_at(DEAD)] == 1025
        assert pixeldq[_at(HOT)] == 2048
        assert int(np.count_nonzero(pixeldq)) == 2
        assert hdus["GROUPDQ"].data[0, 2][_at(DEAD)] == 1
    assert (header["SUBSTRT1"], header["SUBSTRT2"]) == (COL, ROW)
    assert (header["SUBSIZE1"], header["SUBSIZE2"]) == (8, 6)
    assert "given with --substrt" in header.comments["SUBSTRT1"]
    assert header["R_MASK"] == "crds://tmt_iris_mask_0001.fits"


def test_in_place(tmp_path, capsys):
    source = sample(tmp_path / "s_uncal.fits")
    assert main(["dq-init", str(source), "--in-place", "--substrt", "98,200"]) == 0
    with fits.open(source) as hdus:
        assert hdus["PIXELDQ"].data[_at(DEAD)] == 1025
        assert hdus[0].header["SUBSTRT2"] == ROW
    assert not (tmp_path / "s_dqinit.fits").exists()


def test_conflicting_position_is_refused(tmp_path, capsys):
    source = sample(tmp_path / "s_uncal.fits", SUBSTRT1=COL, SUBSTRT2=ROW)
    before = _digest(source)
    assert main(["dq-init", str(source), "--substrt", f"{COL},{ROW}"]) == 0
    capsys.readouterr()
    assert main(["dq-init", str(source), "--substrt", "1,1", "--overwrite"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"irisdq: error: {source}: the header has SUBSTRT1={COL} SUBSTRT2={ROW} "
        "but --substrt (substrt) gives 1,1; drop the option or make it agree"
    )
    assert _digest(source) == before


def test_position_outside_the_detector_is_refused(tmp_path, capsys):
    source = sample(tmp_path / "s_uncal.fits")
    assert main(["dq-init", str(source), "--substrt", "4090,1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"irisdq: error: {source}: ")
    assert "SUBSTRT1=4090 SUBSTRT2=1" in err
    assert "--substrt" in err
    assert "\n" not in err
    assert not (tmp_path / "s_dqinit.fits").exists()


@pytest.mark.parametrize("value", ["0,1", "1", "x,2", "1,2,3", "-5,2"])
def test_bad_values_are_usage_errors(tmp_path, capsys, value):
    source = sample(tmp_path / "s_uncal.fits")
    with pytest.raises(SystemExit) as info:
        main(["dq-init", str(source), f"--substrt={value}"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --substrt: must be the 1-based column and row" in err
    assert repr(value) in err


def test_resume_treats_another_position_as_another_request(tmp_path, capsys, caplog):
    source = sample(tmp_path / "s_uncal.fits")
    out = tmp_path / "out"
    target = out / "s_dqinit.fits"
    run = ["dq-init", str(source), "--output-dir", str(out), "--resume"]
    assert main([*run, "--substrt", "98,200"]) == 0
    assert main([*run, "--substrt", "98,200"]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    caplog.clear()
    assert main([*run, "--substrt", "99,200"]) == 0
    assert (
        f"{target}: made by another request (--substrt '98,200', this run "
        "'99,200'); made again" in caplog.text
    )
    assert fits.getheader(target)["SUBSTRT1"] == 99
    # Without the option the ramp has no position: not the output's request.
    caplog.clear()
    capsys.readouterr()
    assert main(run) == 1
    assert "--substrt '99,200', this run none" in caplog.text
    assert "--substrt COL,ROW" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["sequential", "scheduler"])
def test_batch_passes_the_position_to_workers(tmp_path, dask_scheduler, backend):
    sources = [sample(tmp_path / f"s{i}_uncal.fits") for i in range(2)]
    results = batch.run(
        sources,
        output_dir=tmp_path / "out",
        scheduler=dask_scheduler if backend == "scheduler" else None,
        substrt=(COL, ROW),
    )
    for result in results:
        assert result.status == "COMPLETE", result.error
        with fits.open(result.output) as hdus:
            assert hdus["PIXELDQ"].data[_at(DEAD)] == 1025
            assert hdus[0].header["SUBSTRT1"] == COL


def test_resume_keeps_an_output_of_a_ramp_with_its_own_position(tmp_path, capsys):
    """A ramp's own SUBSTRT1/2 are not a given position: --resume keeps its
    output without the option, and with an option that agrees."""
    source = sample(tmp_path / "s_uncal.fits", SUBSTRT1=COL, SUBSTRT2=ROW)
    run = ["dq-init", str(source), "--output-dir", str(tmp_path / "out"), "--resume"]
    assert main(run) == 0
    assert main(run) == 0
    assert "VERIFIED" in capsys.readouterr().out
    assert main([*run, "--substrt", f"{COL},{ROW}"]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    assert main([*run, "--substrt", "1,1"]) == 1
    assert "the header has SUBSTRT1=98 SUBSTRT2=200" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["sequential", "scheduler"])
def test_resume_keeps_an_output_of_a_given_position_on_workers(
    tmp_path, dask_scheduler, backend
):
    """A worker is sent the position with the request: --resume keeps an
    output made with the same --substrt there as in this process."""
    sources = [sample(tmp_path / f"s{i}_uncal.fits") for i in range(2)]
    run = {
        "output_dir": tmp_path / "out",
        "scheduler": dask_scheduler if backend == "scheduler" else None,
        "substrt": (COL, ROW),
    }
    assert {r.status for r in batch.run(sources, **run)} == {"COMPLETE"}
    again = batch.run(sources, resume=True, **run)
    assert [r.status for r in again] == ["VERIFIED", "VERIFIED"], [
        r.warnings for r in again
    ]
