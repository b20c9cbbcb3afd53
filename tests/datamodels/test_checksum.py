import io

import numpy as np
from astropy.io import fits
from astropy.io.fits.hdu.base import _ValidHDU
from hypothesis import given
from hypothesis import strategies as st

from irisdq.datamodels.checksum import (
    add_sums,
    encode_checksum,
    native_word_sum,
    word_sum,
)


@given(st.integers(0, 2**32 - 1))
def test_encoding_matches_astropy(value):
    assert encode_checksum(value) == _ValidHDU.__new__(_ValidHDU)._char_encode(value)


@given(st.binary(max_size=203))
def test_word_sum_matches_astropy(data):
    expected = int(_ValidHDU._compute_checksum(None, np.frombuffer(data, np.uint8)))
    assert word_sum(data) == expected


@given(st.lists(st.integers(0, 2**32 - 1), max_size=50))
def test_native_sum_equals_big_endian_sum(values):
    words = np.array(values, dtype=np.uint32)
    assert native_word_sum(words) == word_sum(words.astype(">u4").tobytes())


def test_chunked_sums_add_up():
    data = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert add_sums(word_sum(data[:1200]), word_sum(data[1200:])) == word_sum(data)


def test_written_hdus_verify_with_astropy():
    from irisdq.datamodels.hdu_io import write_image_hdu

    stream = io.BytesIO()
    write_image_hdu(stream, None, fits.Header([("INSTRUME", "IRIS")]), primary=True)
    for array in (
        np.arange(12, dtype=np.uint32).reshape(3, 4) * 300_000_000,
        np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 3, 4),
        np.arange(7, dtype=np.uint8),
        np.arange(5, dtype=np.int16) - 2,
    ):
        write_image_hdu(stream, array, fits.Header([("EXTNAME", "X")]))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(io.BytesIO(stream.getvalue()), checksum=True) as hdul:
            assert hdul[1].data.dtype == np.uint32
            assert hdul[1].data[2, 3] == 11 * 300_000_000
            assert hdul[4].data.tolist() == [-2, -1, 0, 1, 2]
