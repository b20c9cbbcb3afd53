"""Mutated sizing and layout cards of a mask file: a mask or one error, quickly.

A small valid mask (DQ uint32 with BZERO, a foreign DQ_DEF table that is
decoded and remapped) gets one to three of its structural cards rewritten
with hostile values. Reading it, and ``irisdq mask info``, must end within
the deadline, raise nothing but IrisDQError (exit 0 or 2 for the command),
and leave the file's bytes as they were.
"""

import warnings

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irisdq.cli.main import main
from irisdq.datamodels import TMTMaskModel, read_hdu_layout
from irisdq.errors import IrisDQError

# The cards that size or lay out the data, by HDU: 0 primary, 1 DQ, 2 DQ_DEF.
CARDS = [
    (0, "NAXIS"),
    (0, "BITPIX"),
    (0, "SUBSTRT1"),
    (0, "SUBSTRT2"),
    (0, "SUBSIZE1"),
    (0, "SUBSIZE2"),
    (1, "BITPIX"),
    (1, "NAXIS"),
    (1, "NAXIS1"),
    (1, "NAXIS2"),
    (1, "PCOUNT"),
    (1, "GCOUNT"),
    (1, "BZERO"),
    (1, "BSCALE"),
    (1, "EXTNAME"),
    (2, "NAXIS1"),
    (2, "NAXIS2"),
    (2, "PCOUNT"),
    (2, "GCOUNT"),
    (2, "TFIELDS"),
    (2, "TTYPE1"),
    (2, "TTYPE2"),
    (2, "TFORM1"),
    (2, "TFORM2"),
    (2, "TFORM3"),
    (2, "EXTNAME"),
]

# Values as they are written in the card's value field.
VALUES = st.one_of(
    st.integers(-(2**63), 2**63).map(str),
    st.sampled_from(["0", "-1", "1", "2", "3", "8", "16", "32", "-32", "64",
                     "16384", "16385", "60000", "2147483648", "4294967296"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["T", "F", "''", "'x'", "'DQ'", "'DQ_DEF'", "'SCI'", "'J'",
                     "'K'", "'1J'", "'99999999999A'", "'VALUE'", "'BIT'", "'I'",
                     "'E'", "'IR\x01S'", "'unterminated", "1.5E", "(1, 2)"]),
)  # fmt: skip

MUTATIONS = st.lists(st.tuples(st.sampled_from(CARDS), VALUES), min_size=1, max_size=3)


def _base_mask() -> bytes:
    """A 6 x 5 CUSTOM mask whose DQ_DEF puts DEAD on bit 0 and HOT on bit 1."""
    import io

    primary = fits.PrimaryHDU()
    primary.header.update(
        {"DATAMODL": "TMTMaskModel", "INSTRUME": "IRIS", "DETECTOR": "IRIS1",
         "SUBARRAY": "CUSTOM", "SUBSTRT1": 3, "SUBSTRT2": 4, "SUBSIZE1": 5,
         "SUBSIZE2": 6}
    )  # fmt: skip
    dq = np.arange(30, dtype=np.uint32).reshape(6, 5) % 4
    image = fits.ImageHDU(dq, name="DQ", uint=True)
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[0, 1]),
            fits.Column("VALUE", "J", array=[1, 2]),
            fits.Column("NAME", "8A", array=["DEAD", "HOT"]),
            fits.Column("DESCRIPTION", "8A", array=["", ""]),
        ],
        name="DQ_DEF",
    )
    buffer = io.BytesIO()
    fits.HDUList([primary, image, table]).writeto(buffer, checksum=True)
    return buffer.getvalue()


BASE = _base_mask()


def _card_offsets() -> dict[tuple[int, str], int]:
    """Where each fuzzed card of BASE starts (mutants are not re-parsed)."""
    import io

    offsets = {}
    for hdu in read_hdu_layout(io.BytesIO(BASE)):
        for start in range(hdu.header_offset, hdu.data_offset, 80):
            keyword = BASE[start : start + 8].decode("ascii").strip()
            if (hdu.index, keyword) in CARDS:
                offsets[hdu.index, keyword] = start
    assert sorted(offsets) == sorted(CARDS)
    return offsets


OFFSETS = _card_offsets()


def _mutated(tmp_path, mutations):
    data = bytearray(BASE)
    for (hdu, keyword), value in mutations:
        start = OFFSETS[hdu, keyword]
        data[start : start + 80] = f"{keyword:<8}= {value:>20}".ljust(80)[:80].encode(
            "latin-1"
        )
    path = tmp_path / "mask.fits"
    path.write_bytes(bytes(data))
    return path, bytes(data)


def test_the_base_mask_reads():
    """The fuzzed file starts valid: its DQ_DEF bits become DEAD and HOT."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mask.fits"
        path.write_bytes(BASE)
        with TMTMaskModel(path) as mask:
            assert mask.dq.shape == (6, 5)
            assert set(np.unique(mask.dq)) == {0, 1024, 2048, 3072}


@settings(
    max_examples=80,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutations=MUTATIONS)
def test_mutated_cards_give_a_mask_or_one_error(tmp_path, mutations):
    """Issue 11 harness: the reader raises only IrisDQError, file unchanged."""
    path, before = _mutated(tmp_path, mutations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with TMTMaskModel(path, accept_bad_checksums=True) as mask:
                dq = mask.dq
                mask.get_fits_keywords()
                assert dq.dtype == np.uint32
                assert dq.ndim == 2
        except IrisDQError:
            pass
    assert path.read_bytes() == before


@settings(
    max_examples=15,
    deadline=3000,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutations=MUTATIONS)
def test_mask_info_of_mutated_cards_exits_0_or_2(tmp_path, capsys, mutations):
    """Issue 11 harness: `irisdq mask info` prints a report or one line."""
    path, before = _mutated(tmp_path, mutations)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["mask", "info", str(path)])
    captured = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in captured.err
    if code == 2:
        assert captured.err.startswith("irisdq: error: ")
        assert captured.err.count("\n") == 1
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("card", "value", "words"),
    [
        ((2, "TTYPE1"), "0", "cannot read the DQ_DEF table"),
        ((2, "TFIELDS"), "20279602", "DQ_DEF has TFIELDS = 20279602"),
        ((1, "BSCALE"), "''", "BSCALE = ''"),
        ((1, "BZERO"), "'x'", "BZERO = 'x'"),
    ],
    ids=["ttype-number", "tfields-huge", "bscale-empty", "bzero-text"],
)
def test_cases_the_harness_found(tmp_path, card, value, words):
    """Issue 11: astropy's AssertionError, a slow 20-million-column table
    and a ValueError from BSCALE each became one DataModelError."""
    path, before = _mutated(tmp_path, [(card, value)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(IrisDQError, match=words):
            TMTMaskModel(path, accept_bad_checksums=True)
    assert path.read_bytes() == before
