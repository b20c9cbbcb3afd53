"""irisdq.demo: the folder it writes into is its own."""

import sys

import pytest

from irisdq import demo
from irisdq.errors import IrisDQError


def test_an_earlier_demo_folder_is_used_again(tmp_path):
    """case 6: a folder the demo marked may be redone; one it did not may not."""
    folder = tmp_path / "demo"
    demo._prepare_folder(folder)
    assert (folder / demo.MARKER).is_file()
    (folder / "raw").mkdir()
    (folder / "raw" / "iris_full_uncal.fits").write_bytes(b"an earlier demo's")
    demo._prepare_folder(folder)  # marked: accepted with its files
    (folder / demo.MARKER).unlink()
    with pytest.raises(IrisDQError, match="not an irisdq demo folder"):
        demo._prepare_folder(folder)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(IrisDQError, match="not a folder"):
        demo._prepare_folder(afile)


def test_a_link_out_of_the_demo_folder_is_refused(tmp_path):
    """case 6: a demo folder whose crds_cache/references links to the user's
    cache writes nothing there."""
    folder = tmp_path / "demo"
    demo._prepare_folder(folder)
    outside = tmp_path / "crds_cache" / "references"
    mask = outside / "tmt" / "iris" / demo.MASK_NAME
    mask.parent.mkdir(parents=True)
    mask.write_bytes(b"the user's own mask")
    (folder / "crds_cache").mkdir()
    (folder / "crds_cache" / "references").symlink_to(outside)
    with pytest.raises(IrisDQError, match="leads outside the demo folder"):
        demo.run_demo(folder, workers=None, plots=False)
    assert mask.read_bytes() == b"the user's own mask"
    assert sorted(p.name for p in outside.rglob("*")) == sorted(
        ["iris", demo.MASK_NAME, "tmt"]
    )


def test_without_dask_the_demo_runs_in_this_process(tmp_path, monkeypatch):
    """issue 14 item 1: the base install (no distributed) runs the demo in
    this process, with a one-line note, instead of a traceback."""
    import io

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    corner = "iris_corner_uncal.fits"
    monkeypatch.setattr(demo, "DEMO_RAMPS", {corner: demo.DEMO_RAMPS[corner]})
    out = io.StringIO()
    result = demo.run_demo(tmp_path / "demo", workers=2, plots=False, out=out)
    assert result.ok
    text = out.getvalue()
    notes = [line for line in text.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: Dask's distributed is not installed "
        '(pip install "irisdq[dask]"); running in this process'
    ]
    assert "ramps on this process:" in text
