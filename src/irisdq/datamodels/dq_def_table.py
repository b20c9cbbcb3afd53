"""Reading a simple ``DQ_DEF`` binary table without astropy's tables.

A mask's ``DQ_DEF`` (BIT, VALUE, NAME, DESCRIPTION) is a handful of rows
of integers and strings. astropy reads it through ``astropy.table``, whose
import (and the table readers it registers) costs a tenth of a second in a
process that reads one mask. :func:`read_simple_table` reads such a table
with numpy: integer columns of one element (``B``, ``I``, ``J``, ``K``,
with the unsigned ``TZERO`` offsets) and character columns (``nA``), no
heap, no scaling. Any other table gives None and is left to astropy.

Examples
--------
>>> from astropy.io import fits
>>> hdu = fits.BinTableHDU.from_columns([
...     fits.Column("BIT", "J", array=[0, 31]),
...     fits.Column("VALUE", "J", bzero=2**31, array=np.array([1, 2**31], np.uint32)),
...     fits.Column("NAME", "10A", array=["DO_NOT_USE", "REF"])])
>>> import io
>>> from irisdq.datamodels.layout import read_hdu_layout
>>> stream = io.BytesIO()
>>> fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(stream)
>>> stored = read_hdu_layout(stream)[1]
>>> data = stream.getvalue()[stored.data_offset : stored.end]
>>> table = read_simple_table(stored.header, data)
>>> table.dtype.names, table["VALUE"].tolist(), str(table[1]["NAME"])
(('BIT', 'VALUE', 'NAME'), [1, 2147483648], 'REF')
"""

import re

import numpy as np

__all__ = ["read_simple_table"]

# What astropy removes from the end of a string value.
_TRAILING = "\0 \t\n\r\x0b\x0c"
_FORM = re.compile(r"^\s*(\d*)\s*([BIJKA])\s*$")
_INTEGERS = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8"}
# TZERO of an integer column read as unsigned (as astropy does).
_UNSIGNED = {"I": (1 << 15, "u2"), "J": (1 << 31, "u4"), "K": (1 << 63, "u8")}


def read_simple_table(header, data: bytes) -> np.ndarray | None:
    """The rows of a simple binary table, or None for any other table.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The BINTABLE header.
    data : bytes
        Its data (at least ``NAXIS1 * NAXIS2`` bytes).

    Returns
    -------
    numpy.ndarray or None
        A structured array with the columns under their ``TTYPE`` names:
        integers as astropy gives them (``J`` with ``TZERO = 2**31`` as
        uint32, ...), strings as ``str`` without trailing blanks and NULs.
    """
    try:
        fields = int(header["TFIELDS"])
        width, rows = int(header["NAXIS1"]), int(header["NAXIS2"])
        if header.get("PCOUNT", 0) != 0 or "THEAP" in header:
            return None
        columns = []
        for number in range(1, fields + 1):
            match = _FORM.match(str(header[f"TFORM{number}"]))
            name = header.get(f"TTYPE{number}")
            if match is None or not isinstance(name, str) or not name.strip():
                return None
            if any(
                f"{keyword}{number}" in header for keyword in ("TSCAL", "TNULL", "TDIM")
            ):
                return None
            repeat, code = int(match[1] or 1), match[2]
            zero = header.get(f"TZERO{number}", 0)
            if code == "A":
                if zero != 0:
                    return None
                columns.append((name.strip(), f"S{repeat}", None))
            elif repeat != 1:
                return None
            elif zero == 0:
                columns.append((name.strip(), _INTEGERS[code], None))
            elif code in _UNSIGNED and zero == _UNSIGNED[code][0]:
                columns.append((name.strip(), _INTEGERS[code], _UNSIGNED[code][1]))
            else:
                return None
    except (KeyError, TypeError, ValueError):
        return None
    names = [name for name, _, _ in columns]
    if len(set(name.upper() for name in names)) != len(names):
        return None
    stored = np.dtype([(name, form) for name, form, _ in columns])
    if stored.itemsize != width or len(data) < width * rows:
        return None
    raw = np.frombuffer(data, dtype=stored, count=rows)
    out = []
    for name, form, unsigned in columns:
        column = raw[name]
        if form.startswith("S"):
            try:
                text = [
                    value.decode("ascii").rstrip(_TRAILING) for value in column.tolist()
                ]
            except UnicodeDecodeError:
                return None
            out.append((name, np.array(text, dtype=f"U{max(1, int(form[1:]))}")))
        elif unsigned is not None:
            flip = np.dtype(unsigned).type(1 << (8 * np.dtype(unsigned).itemsize - 1))
            out.append((name, column.view(f">{unsigned}") ^ flip))
        else:
            out.append((name, column.astype(column.dtype.newbyteorder("="))))
    table = np.empty(rows, dtype=[(name, values.dtype) for name, values in out])
    for name, values in out:
        table[name] = values
    return table
