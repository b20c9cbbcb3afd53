import io

import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels import copy_hdu, read_hdu_layout, read_primary_header
from irisdq.errors import DataModelError


def _two_hdus(path):
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((30, 40), np.uint32), name="DQ")]
    ).writeto(path)
    return path


def test_layout_of_each_hdu(tmp_path):
    path = _two_hdus(tmp_path / "a.fits")
    primary, dq = read_hdu_layout(path)
    assert (primary.name, primary.kind, primary.data_size) == ("PRIMARY", "PRIMARY", 0)
    assert (dq.name, dq.kind, dq.ver, dq.shape) == ("DQ", "IMAGE", 1, (30, 40))
    assert dq.header_offset == primary.end == 2880
    assert dq.data_size == 30 * 40 * 4
    assert dq.end == path.stat().st_size


def test_not_fits(tmp_path):
    path = tmp_path / "notes.fits"
    path.write_text("hello\n" * 1000)
    with pytest.raises(DataModelError, match=r"notes\.fits: not a FITS file"):
        read_hdu_layout(path)


def test_truncated_data(tmp_path):
    path = _two_hdus(tmp_path / "cut.fits")
    path.write_bytes(path.read_bytes()[:-3000])
    with pytest.raises(DataModelError, match=r"cut\.fits: truncated: HDU 1 \(DQ\)"):
        read_hdu_layout(path)


def test_truncated_header(tmp_path):
    path = _two_hdus(tmp_path / "cut.fits")
    path.write_bytes(path.read_bytes()[: 2880 + 800])
    with pytest.raises(
        DataModelError, match=r"cut\.fits: cannot read the header of HDU 1"
    ):
        read_hdu_layout(path)


def test_header_without_naxis_keywords(tmp_path):
    header = fits.Header(
        [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 2), ("NAXIS1", 4)]
    )
    path = tmp_path / "bad.fits"
    path.write_bytes(header.tostring().encode() + b"\0" * 2880)
    with pytest.raises(DataModelError, match="missing required keyword NAXIS2"):
        read_hdu_layout(path)


def test_copy_hdu_is_byte_for_byte(tmp_path):
    path = _two_hdus(tmp_path / "a.fits")
    out = io.BytesIO()
    for hdu in read_hdu_layout(path):
        copy_hdu(path, hdu, out)
    assert out.getvalue() == path.read_bytes()


def test_read_primary_header_still_works(tmp_path):
    path = _two_hdus(tmp_path / "a.fits")
    assert read_primary_header(path)["NAXIS"] == 0


def _raw_hdus(tmp_path, *headers_and_sizes):
    """A file made of headers given as card lists, each followed by
    ``size`` bytes of data (padded): headers can say anything."""
    blob = b""
    for cards, size in headers_and_sizes:
        header = fits.Header()
        for keyword, value in cards:
            header.append(fits.Card(keyword, value), bottom=True)
        blob += header.tostring().encode()
        blob += b"\1" * size + b"\0" * (-size % 2880)
    path = tmp_path / "raw.fits"
    path.write_bytes(blob)
    return path


PRIMARY = ([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0)], 0)


def _image(naxis1, naxis2=3, **extra):
    cards = [
        ("XTENSION", "IMAGE"),
        ("BITPIX", 16),
        ("NAXIS", 2),
        ("NAXIS1", naxis1),
        ("NAXIS2", naxis2),
        ("PCOUNT", 0),
        ("GCOUNT", 1),
    ]
    return [*cards, *extra.items()]


def test_image_extension_with_naxis1_zero_has_no_data(tmp_path):
    """Case 7: NAXIS1 = 0 in an image extension is an empty image, not random
    groups; the extension after it must be found where it is."""
    path = _raw_hdus(
        tmp_path,
        PRIMARY,
        (_image(0, 5, EXTNAME="EMPTY"), 0),
        (_image(4, 3, EXTNAME="SCI"), 24),
    )
    _, empty, sci = read_hdu_layout(path)
    assert empty.data_size == 0
    assert empty.end == sci.header_offset == 2 * 2880
    assert (sci.name, sci.data_size, sci.end) == ("SCI", 24, path.stat().st_size)


def test_random_groups_only_in_primary_with_groups_true(tmp_path):
    """Case 7: the random-groups rule applies to a primary HDU with GROUPS = T."""
    cards = [
        ("SIMPLE", True),
        ("BITPIX", 8),
        ("NAXIS", 2),
        ("NAXIS1", 0),
        ("NAXIS2", 3),
        ("GROUPS", True),
        ("PCOUNT", 1),
        ("GCOUNT", 2),
    ]
    path = _raw_hdus(tmp_path, (cards, 8))
    (primary,) = read_hdu_layout(path)
    assert primary.data_size == 2 * (1 + 3)


@pytest.mark.parametrize(
    ("keyword", "value", "message"),
    [
        ("NAXIS1", -6, "NAXIS1 = -6 is negative"),
        ("NAXIS2", -1, "NAXIS2 = -1 is negative"),
        ("PCOUNT", "x", "PCOUNT = 'x' is not an integer"),
        ("GCOUNT", -2, "GCOUNT = -2 is negative"),
        ("NAXIS1", 2.5, "NAXIS1 = 2.5 is not an integer"),
        ("BITPIX", 7, "BITPIX = 7 is not a FITS BITPIX"),
        ("NAXIS", True, "NAXIS = True is not an integer"),
        ("NAXIS", 1000, "NAXIS = 1000 is more than 999"),
        ("NAXIS", -1, "NAXIS = -1 is negative"),
        ("EXTVER", "x", "EXTVER = 'x' is not an integer"),
    ],
)
def test_sizing_values_are_validated(tmp_path, keyword, value, message):
    """Case 8: a header value that sizes data is checked before it is used;
    a negative NAXISn sent the scan backwards into an endless loop."""
    cards = dict(_image(4, 3, EXTNAME="SCI"))
    cards[keyword] = value
    path = _raw_hdus(tmp_path, PRIMARY, (list(cards.items()), 24), PRIMARY)
    with pytest.raises(DataModelError, match=rf"raw\.fits: HDU 1 \(SCI\): {message}"):
        read_hdu_layout(path)


def test_damaged_card_is_one_error_without_warnings(tmp_path, recwarn):
    """Case 12: a garbage NAXIS1 card gives one error and no astropy warnings."""
    path = _raw_hdus(tmp_path, PRIMARY, (_image(4, 3, EXTNAME="SCI"), 24))
    blob = bytearray(path.read_bytes())
    at = blob.index(b"NAXIS1  =")
    blob[at : at + 80] = b"NAXIS1  =                 4x2 / damaged".ljust(80)
    path.write_bytes(bytes(blob))
    with pytest.raises(DataModelError, match=r"raw\.fits: HDU 1 \(SCI\): .*NAXIS1"):
        read_hdu_layout(path)
    assert not [w for w in recwarn if "astropy" in type(w.message).__module__]


@pytest.mark.parametrize("to_file", [True, False], ids=["file", "memory"])
def test_copy_of_a_last_hdu_without_its_fill_is_padded(tmp_path, to_file):
    # Some writers leave out the zeros after the last HDU's data; the copy
    # is valid FITS all the same.
    full = _two_hdus(tmp_path / "a.fits").read_bytes()
    path = tmp_path / "short.fits"
    path.write_bytes(full[: 2 * 2880 + 30 * 40 * 4])
    layout = read_hdu_layout(path)
    out = open(tmp_path / "copy.fits", "w+b") if to_file else io.BytesIO()  # noqa: SIM115
    with open(path, "rb") as source, out:
        for hdu in layout:
            copy_hdu(source, hdu, out)
        out.seek(0)
        assert out.read() == full


def _two_hdu_file(path):
    data = np.arange(1000, dtype=np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")]).writeto(path)
    return data


def test_copy_hdu_writes_a_missing_last_fill_as_zeros(tmp_path):
    path = tmp_path / "no_fill.fits"
    data = _two_hdu_file(path)
    sci = read_hdu_layout(path)[1]
    with open(path, "r+b") as stream:
        stream.truncate(sci.data_offset + sci.data_size)  # the fill cut off
    target = io.BytesIO()
    with open(path, "rb") as source:
        copy_hdu(source, sci, target)
    assert len(target.getvalue()) == sci.end - sci.header_offset
    target.seek(0)
    copied = fits.ImageHDU.fromstring(target.getvalue())
    np.testing.assert_array_equal(copied.data, data)


def test_copy_hdu_refuses_a_file_cut_in_its_data_after_opening(tmp_path):
    """Zeros for data that is no longer there would be a silently wrong
    output: a file truncated since its layout was read is an error."""
    path = tmp_path / "cut.fits"
    _two_hdu_file(path)
    sci = read_hdu_layout(path)[1]
    with open(path, "r+b") as stream:
        stream.truncate(sci.data_offset + 100)
    target = io.BytesIO()
    with (
        open(path, "rb") as source,
        pytest.raises(
            DataModelError,
            match=r"cut.fits: ends in the middle of HDU 1 \(SCI\); the file was "
            "truncated after it was opened",
        ),
    ):
        copy_hdu(source, sci, target)
