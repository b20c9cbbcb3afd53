"""Hostile headers: mutated sizing and layout cards of a small valid ramp.

Whatever a card says, ``irisdq dq-init`` ends within seconds, exits 0 or 2,
prints no traceback, and leaves the input as it was (in place, unless the
run succeeded). A negative NAXISn once sent the layout scan into an endless
loop; NAXIS1 = 0 once truncated the next extension.
"""

import io
import shutil

import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faults
from builders import write_full_frame_ramp, write_mask
from irisdq.datamodels import read_hdu_layout

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
    from irisdq.dq_init import DQInitStep

    DQInitStep.call(str(raw), override_mask=str(mask), output_file=str(processed))
    return {"mask": mask, "raw": raw, "processed": processed}


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
    if not in_place or run.exitcode != 0:
        assert ramp.read_bytes() == mutated
    assert sorted(p.name for p in folder.iterdir()) in (
        ["ramp.fits"],
        ["out.fits", "ramp.fits"],
    )
