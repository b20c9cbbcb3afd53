"""Hostile headers: mutated sizing and layout cards of a small valid ramp
(TMT IRIS, and Liger/IRIS with its mask given or chosen in a ligeriri cache).

Whatever a card says, ``irisdq dq-init`` ends within seconds, exits 0 or 2,
prints no traceback, and leaves the input as it was (in place, unless the
run succeeded); an output is complete, and its DQ arrays are no wider than
the layout's. A negative NAXISn once sent the layout scan into an endless
loop; NAXIS1 = 0 once truncated the next extension; EXPJDST = 'nan' once
ended in "ValueError: cannot convert float NaN to integer".
"""

import io
import re
import shutil

import pytest
from astropy.io import fits
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import faults
from builders import (
    write_foreign_mask,
    write_full_frame_ramp,
    write_liger_ramp,
    write_mask,
    write_observatory_cache,
)
from irisdq.datamodels import read_hdu_layout

# Fault injection and hostile inputs: left out of the fast subset.
pytestmark = pytest.mark.safety

KEYWORDS = [
    "NAXIS",
    "NAXIS1",
    "NAXIS2",
    "NAXIS3",
    "NAXIS4",
    "BITPIX",
    "PCOUNT",
    "GCOUNT",
    "BZERO",
    "BSCALE",
    "EXTNAME",
    "XTENSION",
    "SUBARRAY",
    "DETECTOR",
    "DATE-OBS",
]
VALUES = st.one_of(
    st.integers(-8, 8),
    st.integers(-10_000, 10_000),
    st.integers(-(2**40), 2**40),
    st.sampled_from([0, 1, -1, 2, 3, 8, 16, 32, -32, 999, 1000, 2**31, 2**63]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.sampled_from(["SCI", "PIXELDQ", "GROUPDQ", "IMAGE", "BINTABLE", "x"]),
    st.none(),  # the card removed
)


@pytest.fixture(scope="module")
def server():
    server = faults.Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    mask = write_mask(folder / "mask.fits", shape=(8, 8))
    raw = write_full_frame_ramp(folder / "raw.fits", shape=(1, 2, 8, 8))
    processed = folder / "processed.fits"
    from irisdq.dq_init import DQInit

    DQInit.call(str(raw), override_mask=str(mask), output_file=str(processed))
    return {"mask": mask, "raw": raw, "processed": processed}


def _assert_explained(line: str) -> None:
    """The error is irisdq's own words, not an exception passed through
    ("ValueError: cannot convert float NaN to integer")."""
    assert "unexpected" not in line, line
    assert not re.search(r"(^|: )[A-Za-z]*(Error|Exception): ", line), line


class Raw(str):
    """A card's value field written as it is: values astropy refuses to
    write (NAN, 1E999) or text that is not a value."""


def _mutate(blob: bytes, hdu: int, keyword: str, value) -> bytes | None:
    """Replace one card of HDU ``hdu`` (None: no such card)."""
    data = bytearray(blob)
    starts = [h.header_offset for h in read_hdu_layout(io.BytesIO(blob))]
    if hdu >= len(starts):
        return None
    at = starts[hdu]
    while True:
        card = bytes(data[at : at + 80])
        name = card[:8].decode().strip()
        if name == "END":
            return None
        if name == keyword:
            break
        at += 80
    if value is None:
        new = b" " * 80
    elif isinstance(value, Raw):
        new = f"{keyword:<8}= {value:>20}".encode("ascii")[:80].ljust(80)
    else:
        new = str(fits.Card(keyword, value)).encode("ascii")[:80].ljust(80)
    data[at : at + 80] = new
    return bytes(data)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    source=st.sampled_from(["raw", "processed"]),
    hdu=st.integers(0, 3),
    keyword=st.sampled_from(KEYWORDS),
    value=VALUES,
    in_place=st.booleans(),
)
def test_mutated_card(
    tmp_path, server, originals, source, hdu, keyword, value, in_place
):
    mutated = _mutate(originals[source].read_bytes(), hdu, keyword, value)
    if mutated is None:
        return
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    ramp = folder / "ramp.fits"
    ramp.write_bytes(mutated)
    argv = ["dq-init", str(ramp), "--override-mask", str(originals["mask"])]
    argv += ["--in-place"] if in_place else ["-o", str(folder / "out.fits")]
    run = server.run(argv, logs=tmp_path / "logs", cwd=folder, timeout=20)
    assert run.exitcode in (0, 2), run.stderr
    assert "Traceback" not in run.stderr
    if run.exitcode == 2:
        errors = [line for line in run.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1, run.stderr
        assert "ramp.fits" in errors[0], errors[0]  # names the file
        _assert_explained(errors[0])
    if not in_place or run.exitcode != 0:
        assert ramp.read_bytes() == mutated
    assert sorted(p.name for p in folder.iterdir()) in (
        ["ramp.fits"],
        ["out.fits", "ramp.fits"],
    )


# -- Liger/IRIS 2025 ramps ----------------------------------------------------

LIGER_KEYWORDS = [
    *KEYWORDS[:12],
    "TELESCOP",
    "INSTRUME",
    "DATAMODL",
    "EXPDTST",
    "EXPJDST",
    "INSTERA",
    "DETECTOR",
    "TFORM1",
]
LIGER_VALUES = st.one_of(
    VALUES,
    st.sampled_from(
        [
            *("DATA", "DQ", "TIMES", "ASDF", "SCI", "PIXELDQ", "Keck-I", "TMT"),
            *("JWST", "Liger", "IRIS", "NIRCAM", "RampModel", "DQModel"),
            *("MaskModel", "IMG", "IMG1", "IFU", "0.0.1", "20250314093000"),
            *("99999999999999", "00000000000000", "nan", "inf", "-1", "1e300"),
            *("2460748.9", 2460748.9, -1.0, 1e300, "2000000000B", "0B"),
        ]
    ),
    st.sampled_from([Raw(t) for t in ("NAN", "INF", "1E999", "-1E999", "'", "T")]),
)
LIGER_SHAPE = (4, 3, 2, 2)  # ny, nx, ngroups, nreads
LIGER_MASK = "ligeriri_liger_dq_0001.fits"


@pytest.fixture(scope="module")
def liger(tmp_path_factory):
    """A raw Liger ramp (PRIMARY, DATA, TIMES, ASDF), the same after DQ
    initialization (DQ added), its mask, and a ligeriri cache choosing it."""
    folder = tmp_path_factory.mktemp("liger")
    cache = folder / "cache"
    references = write_observatory_cache(
        cache,
        "ligeriri",
        "liger",
        "dq",
        (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",)),
        "Match({('IMG', '0.0.1') : UseAfter({'2025-01-01 00:00:00' : "
        f"'{LIGER_MASK}'}})}})",
    )
    import numpy as np

    dq = np.zeros(LIGER_SHAPE[:2], np.uint32)
    dq[1, 2] = 1024 | 1
    dq[3, 0] = 2048
    mask = write_foreign_mask(
        references / LIGER_MASK,
        dq,
        [(0, 1, "DO_NOT_USE", ""), (10, 1024, "DEAD", ""), (11, 2048, "HOT", "")],
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    # Dated by EXPJDST, EXPDTST a card without a value: either can be mutated.
    dated = {"EXPDTST": None, "EXPJDST": 2460748.89583333}
    raw = write_liger_ramp(folder / "raw.fits", *LIGER_SHAPE, header=dated)
    processed = folder / "processed.fits"
    from irisdq.cli.main import main

    argv = ["dq-init", str(raw), "--override-dq", str(mask), "-o", str(processed)]
    assert main(argv) == 0
    return {"raw": raw, "processed": processed, "mask": mask, "cache": cache}


def _check_output(path) -> None:
    """A written file opens, the headers and DQ irisdq wrote pass their
    checksums (what it copied through is as the input had it), and its DQ
    arrays are no wider than the 16 bits of the layout."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fits.open(path, checksum=True) as hdul:
            for hdu in hdul:
                if hdu.name == "DQ":
                    assert hdu.header["BITPIX"] in (8, 16), hdu.header
                    assert hdu.data.dtype.itemsize <= 2
    failed = [str(w.message) for w in caught if "Checksum" in str(w.message)]
    assert not [text for text in failed if "'PRIMARY'" in text or "'DQ'" in text]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    source=st.sampled_from(["raw", "processed"]),
    selection=st.sampled_from(["override", "cache"]),
    hdu=st.integers(0, 4),
    keyword=st.sampled_from(LIGER_KEYWORDS),
    value=LIGER_VALUES,
    in_place=st.booleans(),
)
@example("raw", "cache", 0, "EXPJDST", "nan", False)
@example("raw", "cache", 0, "EXPDTST", "99999999999999", True)
def test_mutated_liger_card(
    tmp_path, server, liger, source, selection, hdu, keyword, value, in_place
):
    mutated = _mutate(liger[source].read_bytes(), hdu, keyword, value)
    if mutated is None:
        return
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    ramp = folder / "ramp.fits"
    ramp.write_bytes(mutated)
    argv = ["dq-init", str(ramp)]
    if selection == "override":
        argv += ["--override-dq", str(liger["mask"])]
    argv += ["--in-place"] if in_place else ["-o", str(folder / "out.fits")]
    env = {"CRDS_PATH": str(liger["cache"])}
    run = server.run(argv, logs=tmp_path / "logs", cwd=folder, env=env, timeout=20)
    assert run.exitcode in (0, 2), run.stderr
    assert "Traceback" not in run.stderr
    if run.exitcode == 2:
        errors = [line for line in run.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1, run.stderr
        assert "ramp.fits" in errors[0], errors[0]
        _assert_explained(errors[0])
    if not in_place or run.exitcode != 0:
        assert ramp.read_bytes() == mutated
    if run.exitcode == 0:
        _check_output(ramp if in_place else folder / "out.fits")
    assert sorted(p.name for p in folder.iterdir()) in (
        ["ramp.fits"],
        ["out.fits", "ramp.fits"],
    )
