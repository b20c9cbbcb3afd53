"""``irisdq demo``: end to end in a temporary folder."""

import os

import numpy as np
import pytest
from astropy.io import fits

from irisdq import dqflags
from irisdq.cli.main import main
from irisdq.demo import DEAD_COLUMN, HOT_CLUSTER, MARKER, MASK_NAME


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, monkeypatch, capsys):
    own_cache = tmp_path / "my_cache"
    own_cache.mkdir()
    monkeypatch.setenv("CRDS_PATH", str(own_cache))
    folder = tmp_path / "demo"
    assert main(["demo", str(folder)]) == 0
    assert os.environ["CRDS_PATH"] == str(own_cache)  # restored
    assert not any(own_cache.iterdir())
    text = capsys.readouterr().out
    assert "2 local Dask workers" in text
    assert "REFERENCE_PIXEL" in text
    assert "Why CRDS chose this mask" in text
    assert "result     tmt_iris_mask_0001.fits" in text

    flag = dqflags.pixel
    dead = flag["DEAD"] | flag["DO_NOT_USE"]
    with fits.open(folder / "out" / "iris_full_dqinit.fits") as hdus:
        header = hdus[0].header
        assert header["S_DQINIT"] == "COMPLETE"
        assert header["R_MASK"] == "crds://tmt_iris_mask_0001.fits"
        assert header["CRDS_CTX"] == "tmt_0001.pmap"
        pixeldq = hdus["PIXELDQ"].data
        assert pixeldq.shape == (4096, 4096)
        # Reference pixels carry DO_NOT_USE, as mask build gives it.
        border = flag["REFERENCE_PIXEL"] | flag["DO_NOT_USE"]
        assert pixeldq[0, 0] == border
        assert pixeldq[4095, 2000] == border
        assert pixeldq[4, 4] & flag["REFERENCE_PIXEL"] == 0
        assert pixeldq[2000, DEAD_COLUMN] & dead == dead
        assert np.all(pixeldq[HOT_CLUSTER] & flag["HOT"])
        groupdq = hdus["GROUPDQ"].data
        assert groupdq.shape == (1, 2, 4096, 4096)
        assert np.all(groupdq[0, :, 2000, DEAD_COLUMN] == 1)
        assert groupdq[0, 0, 0, 0] == 1  # reference pixels: DO_NOT_USE
        assert groupdq[0, 0, 4, 4] == 0
    with fits.open(folder / "out" / "iris_centre_dqinit.fits") as hdus:
        pixeldq = hdus["PIXELDQ"].data
        assert pixeldq.shape == (2048, 2048)
        assert pixeldq[1500 - 1024, 2200 - 1024] & flag["HOT"]
        assert pixeldq[:, DEAD_COLUMN - 1024].min() & dead == dead
        assert not np.any(pixeldq & flag["REFERENCE_PIXEL"])
    with fits.open(folder / "out" / "iris_corner_dqinit.fits") as hdus:
        pixeldq = hdus["PIXELDQ"].data
        assert np.all(pixeldq[:4, :] & flag["REFERENCE_PIXEL"])
        assert np.all(pixeldq[:, :4] & flag["REFERENCE_PIXEL"])
    for name in ("mask.png", "pixeldq.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / MARKER).is_file()


def test_demo_refuses_a_home_folder(tmp_path, capsys):
    """case 6: 'irisdq demo ~' must not replace ~/crds_cache's mask: a
    folder with files and no demo mark is refused before anything is written."""
    home = tmp_path / "home"
    mask = home / "crds_cache" / "references" / "tmt" / "iris" / MASK_NAME
    mask.parent.mkdir(parents=True)
    mask.write_bytes(b"the user's own mask")
    (home / "notes.txt").write_text("mine")
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    assert main(["demo", str(home), "--workers", "0", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"irisdq: error: {home}: the folder is not empty" in err
    assert mask.read_bytes() == b"the user's own mask"
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before
