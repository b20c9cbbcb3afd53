import sys

import numpy as np
import pytest
from astropy.io import fits

from irisdq.errors import IrisDQError
from irisdq.reffiles.build import build_mask
from irisdq.reffiles.report import format_report, plot_report


@pytest.fixture
def small_build(tmp_path):
    rng = np.random.default_rng(7)
    flats, darks = [], []
    for i in range(3):
        flat = rng.normal(1000, 10, (48, 48)).astype(np.float32)
        flat[20, 21] = 5  # dead
        flats.append(tmp_path / f"flat{i}.fits")
        fits.PrimaryHDU(flat).writeto(flats[-1])
        dark = rng.normal(0.01, 0.01, (48, 48)).astype(np.float32)
        dark[30, 31] = 9.0  # hot
        darks.append(tmp_path / f"dark{i}.fits")
        fits.PrimaryHDU(dark).writeto(darks[-1])
    return build_mask(flats, darks, detector="TEST1", refpix=2)


def test_report_gives_counts_thresholds_and_noise(small_build):
    text = format_report(small_build)
    assert "3 flat frames (3 files), 3 dark frames (3 files)" in text
    assert "DEAD < 0.05, LOW_QE < 0.5, OPEN neighbours > 1.05" in text
    assert "HOT > 1, WARM > 0.1; UNRELIABLE_SLOPE at 5 sigma" in text
    noise = f"noise       {small_build.dark_noise:.4g} per dark frame; noisy above"
    assert noise in text
    assert 0.005 < small_build.dark_noise < 0.02
    assert "DEAD 1, HOT 1" in text
    assert "REFERENCE_PIXEL 368" in text  # a 2-pixel border of 48 x 48
    assert "note" not in text


@pytest.mark.slow
def test_picture_is_written_once(small_build, tmp_path):
    pytest.importorskip("matplotlib")
    out = plot_report(small_build, tmp_path / "report.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FileExistsError, match="--overwrite"):
        plot_report(small_build, out)
    plot_report(small_build, out, overwrite=True)
    assert not list(tmp_path.glob(".report.png.*"))


def test_picture_without_flats_or_darks(tmp_path):
    pytest.importorskip("matplotlib")
    darks = []
    for i in range(2):
        darks.append(tmp_path / f"d{i}.fits")
        fits.PrimaryHDU(np.full((16, 16), 0.01, dtype=np.float32)).writeto(darks[-1])
    result = build_mask(darks=darks, detector="TEST1", refpix=0)
    assert plot_report(result, tmp_path / "r.png").stat().st_size > 0


def test_picture_without_matplotlib_is_one_error(small_build, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(IrisDQError, match=r"pip install 'irisdq\[plot\]'"):
        plot_report(small_build, tmp_path / "r.png")
    assert not (tmp_path / "r.png").exists()
