"""``irisdq dq-init`` on Liger/IRIS 2025 ramps, end to end: selection in a
ligeriri cache (reftype dq, date from EXPDTST or EXPJDST), R_DQ, the axis
order of the 4-D DQ, and the narrow-DQ policy."""

import numpy as np
import pytest
from astropy.io import fits

from builders import write_foreign_mask, write_liger_ramp, write_observatory_cache
from irisdq.cli.main import main
from irisdq.crds import clear_cache
from irisdq.dqflags import pixel

NY, NX, NGROUPS, NREADS = 12, 10, 3, 2
MASK_NAME = "ligeriri_liger_dq_0007.fits"
PARKEY = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
RULES = """Match({
    ('IMG', '0.0.1') : UseAfter({
        '2025-01-01 00:00:00' : 'ligeriri_liger_dq_0007.fits',
        '2026-01-01 00:00:00' : 'ligeriri_liger_dq_0008.fits',
    }),
})"""
ROWS = [
    (0, 1, "DO_NOT_USE", ""),
    (10, 1024, "DEAD", ""),
    (11, 2048, "HOT", ""),
    (16, 65536, "NONLINEAR", ""),
]


def _mask_dq(high: bool = False) -> np.ndarray:
    dq = np.zeros((NY, NX), dtype=np.uint32)
    dq[3, 7] = pixel.DEAD | pixel.DO_NOT_USE
    dq[5, 2] = pixel.HOT
    if high:
        dq[8, 1] = pixel.NONLINEAR
        dq[9, 9] = pixel.NONLINEAR | pixel.HOT
    return dq


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CRDS_PATH", str(root))
    clear_cache()
    return root


def _deliver(root, reftype="dq", high=False):
    references = write_observatory_cache(
        root, "ligeriri", "liger", reftype, PARKEY, RULES
    )
    write_foreign_mask(
        references / MASK_NAME,
        _mask_dq(high),
        ROWS,
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    return references / MASK_NAME


def _run(*argv):
    return main(["dq-init", *map(str, argv)])


def _dq(path):
    with fits.open(path) as hdul:
        return hdul["DQ"].data.astype(np.uint16), hdul[0].header


@pytest.mark.parametrize("reftype", ["dq", "mask"])
def test_selected_in_a_ligeriri_cache_by_expdtst(tmp_path, cache, reftype, capsys):
    _deliver(cache, reftype)
    raw = write_liger_ramp(tmp_path / "liger_raw.fits", NY, NX, NGROUPS, NREADS)
    out = tmp_path / "out.fits"
    assert _run(raw, "-o", out) == 0
    dq, header = _dq(out)
    assert header["R_DQ"] == f"crds://{MASK_NAME}"
    assert header["CRDS_CTX"] == "ligeriri_0001.pmap"
    assert header["S_DQINIT"] == "COMPLETE"
    assert "R_MASK" not in header
    # The mask's (y=3, x=7) lands in every group and read of DQ[3, 7].
    expected = np.zeros((NY, NX, NGROUPS, NREADS), np.uint16)
    expected[3, 7] = pixel.DEAD | pixel.DO_NOT_USE
    expected[5, 2] = pixel.HOT
    np.testing.assert_array_equal(dq, expected)
    assert capsys.readouterr().out.strip().endswith("DO_NOT_USE=1 DEAD=1 HOT=1")


def test_the_date_from_expjdst_picks_the_later_reference(tmp_path, cache, capsys):
    _deliver(cache)
    # 2026-03-01: the second use-after date, which is not in the cache.
    raw = write_liger_ramp(
        tmp_path / "liger_raw.fits",
        NY,
        NX,
        NGROUPS,
        NREADS,
        header={"EXPDTST": None, "EXPJDST": 2461100.5},
    )
    assert _run(raw, "-o", tmp_path / "out.fits") == 2
    err = capsys.readouterr().err
    assert "DQ reference ligeriri_liger_dq_0008.fits (chosen by" in err


def test_the_date_from_expjdst_selects(tmp_path, cache):
    _deliver(cache)
    raw = write_liger_ramp(
        tmp_path / "liger_raw.fits",
        NY,
        NX,
        NGROUPS,
        NREADS,
        header={"EXPDTST": None, "EXPJDST": 2460748.89583333},
    )
    out = tmp_path / "out.fits"
    assert _run(raw, "-o", out) == 0
    assert _dq(out)[1]["R_DQ"] == f"crds://{MASK_NAME}"


def test_no_date_names_the_liger_keywords(tmp_path, cache, capsys):
    _deliver(cache)
    raw = write_liger_ramp(
        tmp_path / "liger_raw.fits", NY, NX, NGROUPS, NREADS, header={"EXPDTST": None}
    )
    assert _run(raw, "-o", tmp_path / "out.fits") == 2
    err = capsys.readouterr().err
    assert "add EXPDTST = 'YYYYMMDDHHMMSS' (or EXPJDST, the Julian date)" in err
    assert err.count("\n") == 1


def test_existing_dq_bits_are_kept(tmp_path, cache):
    _deliver(cache)
    before = np.zeros((NY, NX, NGROUPS, NREADS), np.uint16)
    before[3, 7, 1, 0] = pixel.SATURATED
    before[0, 0, 2, 1] = pixel.JUMP_DET
    raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS, dq=before)
    out = tmp_path / "out.fits"
    assert _run(raw, "-o", out) == 0
    dq, _ = _dq(out)
    assert dq[3, 7, 1, 0] == pixel.SATURATED | pixel.DEAD | pixel.DO_NOT_USE
    assert dq[3, 7, 0, 0] == pixel.DEAD | pixel.DO_NOT_USE
    assert dq[0, 0, 2, 1] == pixel.JUMP_DET
    with fits.open(raw) as a, fits.open(out) as b:
        assert a["DATA"].data.tobytes() == b["DATA"].data.tobytes()
        assert a["TIMES"].data.tobytes() == b["TIMES"].data.tobytes()


class TestNarrowDQ:
    def test_refused_without_a_policy_naming_flags_and_counts(
        self, tmp_path, cache, capsys
    ):
        _deliver(cache, high=True)
        raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS)
        out = tmp_path / "out.fits"
        assert _run(raw, "-o", out) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert str(raw) in err
        assert "cannot hold flags NONLINEAR (2 pixels); choose --narrow-dq=drop" in err
        assert not out.exists()

    def test_drop(self, tmp_path, cache, caplog):
        _deliver(cache, high=True)
        raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS)
        out = tmp_path / "out.fits"
        assert _run(raw, "-o", out, "--narrow-dq", "drop") == 0
        dq, _ = _dq(out)
        assert (dq[8, 1] == 0).all()
        assert (dq[9, 9] == pixel.HOT).all()
        assert "flags left out, with their pixel counts: NONLINEAR (2)" in caplog.text

    def test_do_not_use(self, tmp_path, cache):
        _deliver(cache, high=True)
        raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS)
        out = tmp_path / "out.fits"
        assert _run(raw, "-o", out, "--narrow-dq", "do-not-use") == 0
        dq, _ = _dq(out)
        assert (dq[8, 1] == pixel.DO_NOT_USE).all()
        assert (dq[9, 9] == pixel.HOT | pixel.DO_NOT_USE).all()
        assert (dq[3, 7] == pixel.DEAD | pixel.DO_NOT_USE).all()

    def test_in_place(self, tmp_path, cache):
        _deliver(cache, high=True)
        raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS)
        assert _run(raw, "--in-place", "--narrow-dq", "drop") == 0
        dq, header = _dq(raw)
        assert header["R_DQ"] == f"crds://{MASK_NAME}"
        assert (dq[3, 7] == pixel.DEAD | pixel.DO_NOT_USE).all()


def test_override_dq_and_a_tmt_mask(tmp_path, cache):
    mask = _deliver(cache)
    raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS)
    out = tmp_path / "out.fits"
    assert _run(raw, "-o", out, "--override-dq", mask) == 0
    dq, header = _dq(out)
    assert header["R_DQ"] == str(mask)
    assert "CRDS_CTX" not in header
    assert (dq[3, 7] == pixel.DEAD | pixel.DO_NOT_USE).all()


def test_a_wrong_profile_is_one_line(tmp_path, cache, capsys):
    raw = write_liger_ramp(tmp_path / "raw.fits", NY, NX, NGROUPS, NREADS)
    assert _run(raw, "-o", tmp_path / "out.fits", "--profile", "jwst") == 2
    err = capsys.readouterr().err
    assert err == (
        f"irisdq: error: {raw}: profile jwst needs a 4-D SCI extension (nints, "
        f"ngroups, ny, nx); the file has DATA ({NY}, {NX}, {NGROUPS}, {NREADS}), "
        "TIMES (3, 2), ASDF: it looks like profile liger\n"
    )


def test_resume_keeps_a_verified_liger_output(tmp_path, cache, capsys):
    _deliver(cache)
    raw = write_liger_ramp(tmp_path / "liger_uncal.fits", NY, NX, NGROUPS, NREADS)
    out = tmp_path / "out"
    assert _run(raw, "--output-dir", out) == 0
    written = out / "liger_dqinit.fits"
    before = written.stat().st_mtime_ns
    capsys.readouterr()
    assert _run(raw, "--output-dir", out, "--resume") == 0
    assert "VERIFIED" in capsys.readouterr().out
    assert written.stat().st_mtime_ns == before
