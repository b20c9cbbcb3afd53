"""Hand-written attacks on ``irisdq dq-init`` through Liger/IRIS and JWST
files, options and CRDS settings.

Each attack runs the command in a child process (:mod:`faults`) that is
killed if it hangs, and checks the promise: the run ends within seconds,
exits 0 or 2, prints no traceback (an error is one line on stderr naming the
file, in irisdq's words), leaves the input as it was unless it succeeded in
place, leaves no temporary or partial output, and writes no DQ wider than
the file's layout.
"""

import os
import re
import shutil
import warnings

import numpy as np
import pytest
from astropy.io import fits

import faults
from builders import (
    asdf_extension,
    with_card,
    write_foreign_mask,
    write_full_frame_ramp,
    write_liger_ramp,
    write_mask,
    write_observatory_cache,
)

# Fault injection and hostile inputs: left out of the fast subset.
pytestmark = pytest.mark.safety

NY, NX, NGROUPS, NREADS = 6, 5, 3, 2
SHAPE = (NY, NX, NGROUPS, NREADS)
MASK_NAME = "ligeriri_liger_dq_0001.fits"
ROWS = [(0, 1, "DO_NOT_USE", ""), (10, 1024, "DEAD", ""), (11, 2048, "HOT", "")]


@pytest.fixture(scope="module")
def server():
    server = faults.Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A ligeriri cache whose one rule chooses a Liger DQModel mask
    (DO_NOT_USE + DEAD at [1, 2], HOT at [3, 0]) for IMG 0.0.1 from 2025."""
    root = tmp_path_factory.mktemp("attacks") / "cache"
    references = write_observatory_cache(
        root,
        "ligeriri",
        "liger",
        "dq",
        (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",)),
        "Match({('IMG', '0.0.1') : UseAfter({'2025-01-01 00:00:00' : "
        f"'{MASK_NAME}'}})}})",
    )
    _liger_mask(references / MASK_NAME)
    return root


def _liger_mask(path, rows=ROWS, values=None):
    """A Liger DQModel mask; ``values`` (int32 as stored) replace the
    VALUE column when given."""
    dq = np.zeros((NY, NX), np.uint32)
    dq[1, 2] = 1024 | 1
    dq[3, 0] = 2048
    write_foreign_mask(
        path, dq, rows, style="liger", header={"INSTRUME": "Liger", "DETECTOR": "IMG"}
    )
    if values is not None:
        with fits.open(path) as hdul:
            hdul["DQ_DEF"].data["VALUE"] = np.array(values, np.int64).astype(np.int32)
            hdul.writeto(path, overwrite=True, checksum=True)
    return path


def _mask_path(cache):
    return cache / "references" / "ligeriri" / "liger" / MASK_NAME


def _attack(server, tmp_path, ramp, *options, env=None, in_place=False):
    """Run ``irisdq dq-init ramp *options`` (in place, or to ``out.fits``
    beside it) and check the promise; return the run and the output path."""
    folder = ramp.parent
    before = ramp.read_bytes()
    listing = sorted(p.name for p in folder.iterdir())
    out = folder / "out.fits"
    argv = ["dq-init", str(ramp), *map(str, options)]
    argv += ["--in-place"] if in_place else ["-o", str(out)]
    run = server.run(
        argv, logs=tmp_path / "logs", cwd=folder, env=env or {}, timeout=20
    )
    assert run.exitcode in (0, 2), run.stderr
    assert "Traceback" not in run.stderr
    if run.exitcode == 2:
        errors = [line for line in run.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1, run.stderr
        assert str(ramp) in errors[0] or "usage:" in run.stderr, errors[0]
        assert "unexpected" not in errors[0], errors[0]
        assert not re.search(r"(^|: )[A-Za-z]*(Error|Exception): ", errors[0])
    if not in_place or run.exitcode != 0:
        assert ramp.read_bytes() == before
    written = {"out.fits"} if run.exitcode == 0 and not in_place else set()
    assert sorted(p.name for p in folder.iterdir()) == sorted({*listing, *written})
    if run.exitcode == 0:
        _check_written(ramp if in_place else out)
    return run, ramp if in_place else out


def _check_written(path):
    """Complete (the checksums irisdq wrote are valid) and DQ 16 bits wide."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdul:
            for hdu in hdul:
                if hdu.name == "DQ":
                    assert hdu.header["BITPIX"] == 16
                    assert hdu.data.dtype == np.uint16


def _ramp(tmp_path, **kwargs):
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    return write_liger_ramp(folder / "ramp.fits", *SHAPE, **kwargs)


def _with_hdus(path, extra=(), drop=()):
    """Rewrite ``path`` with the HDUs named in ``drop`` removed and
    ``extra`` appended."""
    with fits.open(path) as hdul:
        kept = [hdu.copy() for hdu in hdul if hdu.name not in drop]
    kept[0] = fits.PrimaryHDU(header=kept[0].header)
    fits.HDUList([*kept, *extra]).writeto(path, overwrite=True, checksum=True)
    return path


def _error(run) -> str:
    return next(line for line in run.stderr.splitlines() if "error:" in line)


# -- the DQ extension ---------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "words", "in_place"),
    [
        (np.int32, "DQ holds int32 values (BITPIX 32), wider than the uint16", False),
        (np.uint32, "DQ holds uint32 values (BITPIX 32), wider than the uint16", True),
        (np.int64, "DQ holds int64 values (BITPIX 64), wider than the uint16", True),
        (np.float32, "DQ holds float32 values (BITPIX -32); it must hold", False),
    ],
)
def test_a_dq_of_another_dtype_is_refused(
    server, tmp_path, cache, dtype, words, in_place
):
    dq = np.full(SHAPE, 70000 if dtype is np.uint32 else 3, dtype)
    ramp = _ramp(tmp_path, dq=dq)
    run, _ = _attack(server, tmp_path, ramp, "--override-dq", _mask_path(cache),
                     in_place=in_place)  # fmt: skip
    assert run.exitcode == 2
    assert words in _error(run)


@pytest.mark.parametrize("shape", [(NX, NGROUPS, NREADS), (NY, NX, NGROUPS, 3)])
@pytest.mark.parametrize("in_place", [False, True])
def test_a_dq_of_another_shape_is_replaced(server, tmp_path, cache, shape, in_place):
    ramp = _ramp(tmp_path, dq=np.full(shape, 4, np.uint16))
    env = {"CRDS_PATH": str(cache)}
    run, out = _attack(server, tmp_path, ramp, env=env, in_place=in_place)
    assert run.exitcode == 0
    assert f"DQ has shape {shape}, not {SHAPE}; replaced by zeros" in run.stderr
    with fits.open(out) as hdul:
        dq = hdul["DQ"].data
    expected = np.zeros(SHAPE, np.uint16)
    expected[1, 2], expected[3, 0] = 1024 | 1, 2048
    np.testing.assert_array_equal(dq, expected)


def test_a_uint8_dq_in_place_is_widened_to_hold_the_flags(server, tmp_path, cache):
    ramp = _ramp(tmp_path, dq=np.full(SHAPE, 2, np.uint8))
    run, out = _attack(server, tmp_path, ramp, "--override-dq", _mask_path(cache),
                       in_place=True)  # fmt: skip
    assert run.exitcode == 0
    with fits.open(out) as hdul:
        dq = hdul["DQ"].data
    assert (dq[1, 2] == 1024 | 1 | 2).all()  # DEAD does not fit in 8 bits
    assert (dq[0, 0] == 2).all()


@pytest.mark.parametrize("in_place", [False, True])
def test_dq_twice_is_refused(server, tmp_path, cache, in_place):
    ramp = _ramp(tmp_path, dq=np.zeros(SHAPE, np.uint16))
    _with_hdus(ramp, [fits.ImageHDU(np.zeros(SHAPE, np.uint16), name="DQ")])
    run, _ = _attack(server, tmp_path, ramp, "--override-dq", _mask_path(cache),
                     in_place=in_place)  # fmt: skip
    assert run.exitcode == 2
    assert "has 2 DQ extensions; a ramp has one" in _error(run)


# -- DATA ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(NY, NX, NGROUPS), (1, *SHAPE)])
@pytest.mark.parametrize("profile", [[], ["--profile", "liger"]])
def test_data_not_4d_is_refused(server, tmp_path, cache, shape, profile):
    ramp = _ramp(tmp_path)
    with fits.open(ramp) as hdul:
        hdus = [hdu.copy() for hdu in hdul]
    hdus[0] = fits.PrimaryHDU(header=hdus[0].header)
    hdus[1] = fits.ImageHDU(np.zeros(shape, np.uint16), name="DATA")
    fits.HDUList(hdus).writeto(ramp, overwrite=True, checksum=True)
    run, _ = _attack(server, tmp_path, ramp, *profile, env={"CRDS_PATH": str(cache)})
    assert run.exitcode == 2
    assert "4-D DATA" in _error(run)
    assert str(shape) in _error(run)


# -- the observation date -----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ({"EXPDTST": None, "EXPJDST": "nan"}, "EXPJDST = 'nan'"),
        ({"EXPDTST": None, "EXPJDST": "inf"}, "EXPJDST = 'inf'"),
        ({"EXPDTST": None, "EXPJDST": 1e300}, "EXPJDST = 1e+300"),
        ({"EXPDTST": None, "EXPJDST": -1.0}, "EXPJDST = -1.0"),
        ({"EXPDTST": "99999999999999"}, "EXPDTST = '99999999999999'"),
        ({"EXPDTST": "20251314093000"}, "EXPDTST = '20251314093000'"),
    ],
)
def test_an_unusable_date_is_named(server, tmp_path, cache, header, named):
    ramp = _ramp(tmp_path, header=header)
    run, _ = _attack(server, tmp_path, ramp, env={"CRDS_PATH": str(cache)})
    assert run.exitcode == 2
    error = _error(run)
    assert f"no observation date ({named} is not a" in error
    assert "add EXPDTST = 'YYYYMMDDHHMMSS' (or EXPJDST, the Julian date)" in error


@pytest.mark.parametrize("value", ["NAN", "INF", "1E999", "-1E999"])
def test_a_non_finite_expjdst_card(server, tmp_path, cache, value):
    ramp = _ramp(tmp_path, header={"EXPDTST": None, "EXPJDST": 2460748.9})
    with_card(ramp, 0, "EXPJDST", value)
    for in_place in (False, True):
        run, _ = _attack(server, tmp_path, ramp, env={"CRDS_PATH": str(cache)},
                         in_place=in_place)  # fmt: skip
        assert run.exitcode == 2
        assert "EXPJDST" in _error(run)


# -- the ASDF extension -------------------------------------------------------


def _asdf_column(data: bytes) -> fits.BinTableHDU:
    array = np.frombuffer(data, np.uint8)[None, :]
    column = fits.Column("ASDF_METADATA", f"{array.shape[1]}B", array=array)
    return fits.BinTableHDU.from_columns([column], name="ASDF")


def _alias_bomb(levels: int = 9) -> bytes:
    """A 400-byte tree that is 9**9 nodes once its aliases are expanded."""
    lines = ["#ASDF 1.0.0", "#ASDF_STANDARD 1.5.0", "%YAML 1.1",
             "%TAG ! tag:stsci.edu:asdf/", "--- !core/asdf-1.1.0",
             "l0: &l0 [x, x, x, x, x, x, x, x, x]"]  # fmt: skip
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines += [f"meta: {{instrument: {{name: Liger}}, bomb: *l{levels - 1}}}", "..."]
    return ("\n".join(lines) + "\n").encode()


def _deep(opening: bytes, closing: bytes, depth: int = 100_000) -> bytes:
    """An ASDF file whose tree nests ``depth`` flow collections."""
    return (
        b"#ASDF 1.0.0\n#ASDF_STANDARD 1.5.0\n%YAML 1.1\n"
        b"%TAG ! tag:stsci.edu:asdf/\n--- !core/asdf-1.1.0\n"
        + b"meta: {a: " + opening * depth + b"1" * (opening == b"{a: ")
        + closing * depth + b"}\n...\n"
    )  # fmt: skip


ASDF_ATTACKS = {
    "empty": lambda: fits.BinTableHDU.from_columns(
        [fits.Column("ASDF_METADATA", "1B", array=np.zeros((0, 1), np.uint8))],
        name="ASDF",
    ),
    "garbage": lambda: _asdf_column(b"#ASDF 1.0.0\n\x00\xffgarbage: ["),
    "random": lambda: _asdf_column(np.random.default_rng(0).bytes(300)),
    "an image": lambda: fits.ImageHDU(np.zeros(10, np.uint8), name="ASDF"),
    "no data": lambda: fits.BinTableHDU(name="ASDF"),
    "an alias bomb": lambda: _asdf_column(_alias_bomb()),
    # 200 kB: once a crash of the interpreter (lists) or minutes (mappings).
    "deep lists": lambda: _asdf_column(_deep(b"[", b"]")),
    "deep mappings": lambda: _asdf_column(_deep(b"{a: ", b"}")),
}


@pytest.mark.parametrize(
    ("attack", "mode"),
    [
        ("empty", "copy"),
        ("garbage", "in place"),
        ("random", "cache"),
        ("an image", "in place"),
        ("no data", "copy"),
        ("an alias bomb", "copy"),
        ("an alias bomb", "in place"),
        ("an alias bomb", "cache"),
        ("deep lists", "copy"),
        ("deep lists", "in place"),
        ("deep mappings", "cache"),
        ("deep mappings", "in place"),
    ],
)
def test_a_damaged_asdf_extension_is_replaced(server, tmp_path, cache, attack, mode):
    ramp = _with_hdus(_ramp(tmp_path, asdf=False), [ASDF_ATTACKS[attack]()])
    options = [] if mode == "cache" else ["--override-dq", _mask_path(cache)]
    run, out = _attack(server, tmp_path, ramp, *options, in_place=mode == "in place",
                       env={"CRDS_PATH": str(cache)})  # fmt: skip
    assert run.exitcode == 0, run.stderr
    assert "its ASDF extension is not a readable ASDF file" in run.stderr
    with fits.open(out) as hdul:
        assert (hdul["DQ"].data[1, 2] == 1024 | 1).all()
        assert hdul["ASDF"].data["ASDF_METADATA"][0][:5].tobytes() == b"#ASDF"


@pytest.mark.parametrize(
    ("keyword", "value", "in_place"),
    [
        ("NAXIS2", "1000000000", False),
        ("PCOUNT", "99999999999", True),
        ("NAXIS1", "4000000000", True),
    ],
)
def test_a_huge_declared_asdf_extension_is_refused(
    server, tmp_path, cache, keyword, value, in_place
):
    ramp = with_card(_ramp(tmp_path), 3, keyword, value)
    run, _ = _attack(server, tmp_path, ramp, "--override-dq", _mask_path(cache),
                     in_place=in_place)  # fmt: skip
    assert run.exitcode == 2
    assert "truncated: HDU 3 (ASDF) declares" in _error(run)


# -- the mask's DQ_DEF --------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [(-5, "4294967291"), (-1, "4294967295"),
                                              (3, "3"), (1536, "1536")])  # fmt: skip
def test_a_dq_def_value_that_is_not_one_bit_is_refused(server, tmp_path, value, shown):
    mask = _liger_mask(tmp_path / "mask.fits", values=[1, 1024, value])
    run, _ = _attack(server, tmp_path, _ramp(tmp_path), "--override-dq", mask,
                     "--narrow-dq", "drop")  # fmt: skip
    assert run.exitcode == 2
    assert (
        f"DQ_DEF row 3 ('HOT') has VALUE {shown}; each VALUE must be one flag bit"
        in _error(run)
    )


def test_a_dq_def_value_of_minus_2_to_the_31_is_bit_31(server, tmp_path):
    rows = [*ROWS, (31, 0, "REFERENCE_PIXEL", "")]
    mask = _liger_mask(tmp_path / "mask.fits", rows, values=[1, 1024, 2048, -(2**31)])
    with fits.open(mask, mode="update") as hdul:
        hdul["DQ"].data[0, 0] = 2**31
        hdul.flush()
    ramp = _ramp(tmp_path)
    run, out = _attack(server, tmp_path, ramp, "--override-dq", mask)
    assert run.exitcode == 2
    assert "cannot hold flags REFERENCE_PIXEL (1 pixel)" in _error(run)
    run, out = _attack(server, tmp_path, ramp, "--override-dq", mask,
                       "--narrow-dq", "do-not-use")  # fmt: skip
    assert run.exitcode == 0
    with fits.open(out) as hdul:
        assert (hdul["DQ"].data[0, 0] == 1).all()


# -- layouts and profiles -----------------------------------------------------


def _jwst_layout(folder):
    """A JWST-layout ramp: SCI (nints, ngroups, ny, nx) and an ASDF tree."""
    ramp = write_full_frame_ramp(folder / "ramp.fits", shape=(1, 2, NY, NX))
    with fits.open(ramp) as hdul:
        hdul[0].header["TELESCOP"] = "JWST"
        table = asdf_extension({"meta": {"telescope": "JWST"}})
        fits.HDUList([*hdul, table]).writeto(ramp, overwrite=True, checksum=True)
    return ramp


@pytest.mark.parametrize("in_place", [False, True])
def test_a_jwst_layout_with_profile_liger(server, tmp_path, in_place):
    folder = tmp_path / "run"
    folder.mkdir()
    ramp = _jwst_layout(folder)
    mask = write_mask(tmp_path / "mask.fits", shape=(NY, NX))
    run, _ = _attack(server, tmp_path, ramp, "--profile", "liger",
                     "--override-mask", mask, in_place=in_place)  # fmt: skip
    assert run.exitcode == 2
    assert "profile liger needs a 4-D DATA extension (ny, nx, ngroups, nreads)" in (
        _error(run)
    )
    assert f"the file has SCI (1, 2, {NY}, {NX}), ASDF" in _error(run)


@pytest.mark.parametrize("profile", ["jwst", "tmt"])
@pytest.mark.parametrize("in_place", [False, True])
def test_a_liger_layout_with_profile_jwst_or_tmt(
    server, tmp_path, cache, profile, in_place
):
    ramp = _ramp(tmp_path)
    run, _ = _attack(server, tmp_path, ramp, "--profile", profile,
                     "--override-dq", _mask_path(cache), in_place=in_place)  # fmt: skip
    assert run.exitcode == 2
    assert f"profile {profile} needs a 4-D SCI extension" in _error(run)
    assert "it looks like profile liger" in _error(run)


@pytest.mark.parametrize("value", ["bogus", "", "DROP", "do_not_use"])
def test_an_invalid_narrow_dq(server, tmp_path, cache, value):
    run, _ = _attack(server, tmp_path, _ramp(tmp_path), f"--narrow-dq={value}",
                     "--override-dq", _mask_path(cache))  # fmt: skip
    assert run.exitcode == 2
    # argparse's usage error: the usage, then one error line.
    assert run.stderr.splitlines()[-1] == (
        f"irisdq dq-init: error: argument --narrow-dq: invalid choice: {value!r} "
        "(choose from 'drop', 'do-not-use')"
    )


# -- CRDS settings ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["../x", "a/b", "..", "/etc", "x" * 300, "a\x01"],
    ids=["dotdot-x", "a-slash-b", "dotdot", "slash-etc", "long", "control"],
)
def test_an_unsafe_crds_observatory_is_refused(server, tmp_path, cache, value):
    env = {"CRDS_PATH": str(cache), "CRDS_OBSERVATORY": value}
    run, _ = _attack(server, tmp_path, _ramp(tmp_path), env=env)
    assert run.exitcode == 2
    assert f"CRDS_OBSERVATORY={value[:40]!r}"[:-1] in _error(run)
    assert "is not an observatory name" in _error(run)
    assert not (cache.parent / "x").exists()


@pytest.mark.parametrize("context", ["jwst_0001.pmap", "tmt_0001.pmap",
                                     "../ligeriri_0001.pmap"])  # fmt: skip
def test_a_crds_context_of_another_observatory(server, tmp_path, cache, context):
    env = {"CRDS_PATH": str(cache), "CRDS_CONTEXT": context}
    run, _ = _attack(server, tmp_path, _ramp(tmp_path), env=env)
    assert run.exitcode == 2
    assert f"CRDS_CONTEXT={context} is a context of observatory" in _error(run)
    assert "a ligeriri context is needed" in _error(run)


@pytest.fixture
def own_cache(tmp_path, cache):
    """A copy of the ligeriri cache that a test may damage."""
    root = tmp_path / "own"
    shutil.copytree(cache, root)
    (root / "config" / "ligeriri").mkdir(parents=True)
    return root


def test_a_server_config_fifo_is_passed_over(server, tmp_path, own_cache):
    os.mkfifo(own_cache / "config" / "ligeriri" / "server_config")
    run, _ = _attack(server, tmp_path, _ramp(tmp_path),
                     env={"CRDS_PATH": str(own_cache)})  # fmt: skip
    assert run.exitcode == 0


@pytest.mark.parametrize(
    ("size", "text", "words"),
    [
        (3 * 2**30, None, "larger than 1 MiB, not a server_config"),
        (None, "[" * 100_000, "not a Python-literal or JSON dict"),
        (None, "{" * 100_000, "not a Python-literal or JSON dict"),
    ],
    ids=["3 GiB", "deep list", "deep dict"],
)
def test_a_hostile_server_config_is_one_line(
    server, tmp_path, own_cache, size, text, words
):
    config = own_cache / "config" / "ligeriri" / "server_config"
    if size:
        with config.open("wb") as stream:
            stream.truncate(size)  # sparse: no disk space used
    else:
        config.write_text(text)
    run, _ = _attack(server, tmp_path, _ramp(tmp_path),
                     env={"CRDS_PATH": str(own_cache)})  # fmt: skip
    assert run.exitcode == 2
    assert f"{config}: {words}; fix or remove it" in _error(run)
