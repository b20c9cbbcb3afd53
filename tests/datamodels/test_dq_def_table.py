"""dq_def_table: simple DQ_DEF tables read with numpy as astropy reads them,
any other table left to astropy."""

import io

import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels.dq_def_table import read_simple_table
from irisdq.datamodels.layout import read_hdu_layout

BITS = [0, 5, 31]
VALUES = np.array([1, 32, 2**31], dtype=np.uint32)
NAMES = ["DO_NOT_USE", "HOT", "REFERENCE_PIXEL"]


def _stored(columns):
    stream = io.BytesIO()
    hdu = fits.BinTableHDU.from_columns(columns, name="DQ_DEF")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(stream)
    layout = read_hdu_layout(stream)[1]
    raw = stream.getvalue()
    return (
        layout.header,
        raw[layout.data_offset : layout.end],
        raw[layout.header_offset :],
    )


VALUE_COLUMNS = {
    "uint32 (stdatamodels)": lambda: fits.Column(
        "VALUE", "J", bzero=2**31, array=VALUES
    ),
    "int32 (liger)": lambda: fits.Column("VALUE", "J", array=VALUES.view(np.int32)),
    "int64 (irisdq)": lambda: fits.Column("VALUE", "K", array=VALUES.astype(np.int64)),
    "int16": lambda: fits.Column("VALUE", "I", array=[1, 32, 64]),
    "uint16": lambda: fits.Column("VALUE", "I", bzero=2**15, array=[1, 32, 2**15]),
    "uint8": lambda: fits.Column("VALUE", "B", array=[1, 32, 128]),
}


@pytest.mark.parametrize("value", VALUE_COLUMNS)
def test_a_simple_table_reads_as_astropy_reads_it(value):
    header, data, hdu_bytes = _stored(
        [
            fits.Column("BIT", "J", array=BITS),
            VALUE_COLUMNS[value](),
            fits.Column("NAME", "20A", array=NAMES),
            fits.Column("Description", "8A", array=["dead", "", "ref\0\0"]),
        ]
    )
    table = read_simple_table(header, data)
    theirs = fits.BinTableHDU.fromstring(hdu_bytes).data
    assert table is not None
    assert table.dtype.names == tuple(theirs.columns.names)
    for name in table.dtype.names:
        ours, astropy_values = table[name], np.asarray(theirs[name])
        assert ours.tolist() == astropy_values.tolist(), name
        # astropy reads a TZERO column of bytes as float64; the values agree.
        if ours.dtype.kind != "U" and astropy_values.dtype.kind != "f":
            assert ours.dtype.newbyteorder("=") == astropy_values.dtype.newbyteorder(
                "="
            )
    assert str(table[2]["Description"]) == "ref"


@pytest.mark.parametrize(
    "column",
    [
        fits.Column("VALUE", "J", null=-1, array=[1, 2, 3]),
        fits.Column("VALUE", "2J", array=[[1, 2], [3, 4], [5, 6]]),
        fits.Column("VALUE", "E", array=[1.0, 2.0, 3.0]),
        fits.Column("VALUE", "PJ()", array=[[1], [2, 3], []]),
        fits.Column("VALUE", "J", bzero=7, array=[1, 2, 3]),
    ],
    ids=["null", "vector", "float", "heap", "odd-offset"],
)
def test_other_tables_are_left_to_astropy(column):
    header, data, _ = _stored(
        [fits.Column("NAME", "4A", array=["a", "b", "c"]), column]
    )
    assert read_simple_table(header, data) is None


def test_a_short_data_unit_is_left_to_astropy():
    header, data, _ = _stored([fits.Column("BIT", "J", array=BITS)])
    assert read_simple_table(header, data[:5]) is None
