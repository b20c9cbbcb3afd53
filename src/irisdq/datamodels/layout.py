"""Where each HDU of a FITS file lies, read from the headers alone.

:func:`read_hdu_layout` walks a FITS file header by header, seeking over the
data, so it costs the same for a 10 KiB mask and a 10 GiB ramp. The offsets
it returns let a caller copy an HDU through byte for byte
(:func:`copy_hdu`) or map its data, without astropy decoding anything.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from astropy.io import fits
>>> path = os.path.join(tempfile.mkdtemp(), "two.fits")
>>> fits.HDUList([fits.PrimaryHDU(),
...               fits.ImageHDU(np.zeros((10, 10), ">f4"), name="SCI")]).writeto(path)
>>> for hdu in read_hdu_layout(path):
...     print(hdu.index, hdu.name, hdu.header_offset, hdu.data_offset, hdu.data_size)
0 PRIMARY 0 2880 0
1 SCI 2880 5760 400
"""

import math
import os
from typing import BinaryIO, NamedTuple

from irisdq.errors import DataModelError

__all__ = ["BLOCK", "HDULayout", "copy_hdu", "read_hdu_layout"]

BLOCK = 2880
_BYTES_PER_BITPIX = {8: 1, 16: 2, 32: 4, 64: 8, -32: 4, -64: 8}


class HDULayout(NamedTuple):
    """The position of one HDU in a FITS file.

    Attributes
    ----------
    index : int
        0 for the primary HDU, then 1, 2, ... in file order.
    name : str
        ``EXTNAME`` in upper case (``'PRIMARY'`` for the primary HDU, ``''``
        for an extension without a name).
    ver : int
        ``EXTVER`` (1 when absent).
    kind : str
        ``'PRIMARY'``, or the ``XTENSION`` value (``'IMAGE'``, ``'BINTABLE'``).
    header_offset : int
        Byte offset of the first header card.
    data_offset : int
        Byte offset of the data (the end of the header's last block).
    data_size : int
        Bytes of data, without the fill to the 2880-byte block.
    end : int
        Byte offset just after the data's fill: the next HDU's
        ``header_offset``.
    header : astropy.io.fits.Header
        The parsed header.
    """

    index: int
    name: str
    ver: int
    kind: str
    header_offset: int
    data_offset: int
    data_size: int
    end: int
    header: object

    @property
    def shape(self) -> tuple[int, ...]:
        """The numpy shape of an image HDU's data (``NAXISn`` reversed)."""
        naxis = self.header.get("NAXIS", 0)
        return tuple(int(self.header[f"NAXIS{i}"]) for i in range(naxis, 0, -1))


def _source_name(source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return getattr(source, "name", None) or "<file object>"


def read_hdu_layout(source: str | os.PathLike | BinaryIO) -> list[HDULayout]:
    """Return the layout of every HDU of a FITS file, reading only headers.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        The FITS file. A file object must be seekable; its position is left
        at the end of the last HDU.

    Returns
    -------
    list of HDULayout
        One entry per HDU, in file order. ``data_offset`` and ``data_size``
        locate the bytes of an HDU's data; ``header_offset`` to ``end`` is
        the whole HDU, fill included, ready to be copied through unchanged.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataModelError
        If the file is not FITS, a header is unreadable or lacks a keyword
        that sizes its data, or the file is shorter than its headers say.

    Examples
    --------
    >>> import io
    >>> read_hdu_layout(io.BytesIO(b"not a FITS file" * 300))
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: <file object>: not a FITS file ...
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            return _scan(stream, os.fspath(source))
    return _scan(source, _source_name(source))


def _scan(stream: BinaryIO, name: str) -> list[HDULayout]:
    from astropy.io import fits

    stream.seek(0, os.SEEK_END)
    file_size = stream.tell()
    stream.seek(0)
    if stream.read(6) != b"SIMPLE":
        raise DataModelError(
            f"{name}: not a FITS file (it does not start with SIMPLE); give a FITS file"
        )
    hdus: list[HDULayout] = []
    offset = 0
    while offset < file_size:
        stream.seek(offset)
        first = stream.read(8)
        if hdus and first != b"XTENSION":
            # Trailing bytes that are not an extension: astropy ignores them
            # with a warning; there is no HDU to describe.
            break
        stream.seek(offset)
        try:
            header = fits.Header.fromfile(stream)
        except (OSError, ValueError, EOFError) as exc:
            raise DataModelError(
                f"{name}: cannot read the header of HDU {len(hdus)} at byte "
                f"{offset} ({' '.join(str(exc).split())}); the file may be "
                "truncated or damaged"
            ) from None
        data_offset = offset + math.ceil((stream.tell() - offset) / BLOCK) * BLOCK
        index = len(hdus)
        data_size = _data_size(header, name, index)
        end = data_offset + math.ceil(data_size / BLOCK) * BLOCK
        if data_offset + data_size > file_size:
            raise DataModelError(
                f"{name}: truncated: HDU {index} "
                f"({_hdu_name(header, index) or 'unnamed'}) declares "
                f"{data_size} bytes of data from byte {data_offset} but the "
                f"file ends at byte {file_size}"
            )
        hdus.append(
            HDULayout(
                index=index,
                name=_hdu_name(header, index),
                ver=int(header.get("EXTVER", 1)),
                kind="PRIMARY" if index == 0 else str(header["XTENSION"]).strip(),
                header_offset=offset,
                data_offset=data_offset,
                data_size=data_size,
                end=end,
                header=header,
            )
        )
        offset = end
    stream.seek(min(offset, file_size))
    return hdus


def _hdu_name(header, index: int) -> str:
    name = str(header.get("EXTNAME", "")).strip().upper()
    return name or ("PRIMARY" if index == 0 else "")


def _data_size(header, name: str, index: int) -> int:
    where = f"{name}: HDU {index} ({_hdu_name(header, index) or 'unnamed'})"
    for keyword in ("BITPIX", "NAXIS"):
        if keyword not in header:
            raise DataModelError(
                f"{where}: missing required keyword {keyword}; "
                "the header cannot size its data"
            )
    try:
        bitpix = int(header["BITPIX"])
        naxis = int(header["NAXIS"])
    except (TypeError, ValueError):
        raise DataModelError(f"{where}: BITPIX and NAXIS must be integers") from None
    names = [f"NAXIS{i}" for i in range(1, naxis + 1)]
    for keyword in names:
        if keyword not in header:
            raise DataModelError(
                f"{where}: missing required keyword {keyword}; "
                "the header cannot size its data"
            )
    try:
        axes = [int(header[keyword]) for keyword in names]
    except (TypeError, ValueError):
        raise DataModelError(f"{where}: NAXISn must be integers") from None
    if bitpix not in _BYTES_PER_BITPIX:
        raise DataModelError(f"{where}: BITPIX = {bitpix} is not a FITS BITPIX")
    if naxis == 0:
        return 0
    # Random-groups headers set NAXIS1 = 0; PCOUNT/GCOUNT are 0 and 1 for
    # images and count the heap of binary tables.
    pcount = int(header.get("PCOUNT", 0))
    gcount = int(header.get("GCOUNT", 1))
    axes_product = math.prod(axes[1:]) if axes[0] == 0 else math.prod(axes)
    return _BYTES_PER_BITPIX[bitpix] * gcount * (pcount + axes_product)


def copy_hdu(
    source: str | os.PathLike | BinaryIO, hdu: HDULayout, target: BinaryIO
) -> None:
    """Copy one whole HDU (header, data and fill) from ``source`` to ``target``.

    The bytes are copied as they are, so an HDU's ``CHECKSUM`` stays valid
    and nothing is decoded: this is how an extension a step does not change
    (``SCI``, an ``ASDF`` table) goes from the input to the output file.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        The file ``hdu`` was read from.
    hdu : HDULayout
        An entry of :func:`read_hdu_layout` for ``source``.
    target : binary file object
        Written at its current position, which must be a multiple of 2880.

    Examples
    --------
    >>> import io
    >>> from astropy.io import fits
    >>> src = io.BytesIO()
    >>> fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
    ...     [fits.Column("X", "J", array=[1, 2])], name="ASDF")]).writeto(src)
    >>> out = io.BytesIO()
    >>> for hdu in read_hdu_layout(src):
    ...     copy_hdu(src, hdu, out)
    >>> out.getvalue() == src.getvalue()
    True
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            copy_hdu(stream, hdu, target)
        return
    remaining = hdu.end - hdu.header_offset
    copied = _copy_in_kernel(source, hdu.header_offset, target, remaining)
    remaining -= copied
    if not remaining:
        return
    source.seek(hdu.header_offset + copied)
    chunk = 1 << 22
    while remaining:
        block = source.read(min(chunk, remaining))
        if not block:
            # The last HDU's fill may be missing from a file written by a
            # careless tool; write it as zeros so the output is valid FITS.
            target.write(b"\0" * remaining)
            return
        target.write(block)
        remaining -= len(block)


def _copy_in_kernel(source: BinaryIO, offset: int, target: BinaryIO, size: int) -> int:
    """Copy bytes file to file inside the kernel; return how many were copied.

    ``os.copy_file_range`` moves the bytes without passing them through
    Python (and may share extents on filesystems that can). Returns 0 when
    either side is not a real file or the call is not supported, so the
    caller falls back to reading and writing.
    """
    copy_range = getattr(os, "copy_file_range", None)
    try:
        source_fd, target_fd = source.fileno(), target.fileno()
    except (AttributeError, OSError, ValueError):
        return 0
    if copy_range is None:
        return 0
    target.flush()
    position = target.tell()
    copied = 0
    try:
        while copied < size:
            count = copy_range(
                source_fd, target_fd, size - copied, offset + copied, position + copied
            )
            if count == 0:
                break  # end of the source: a missing fill, handled by the caller
            copied += count
    except OSError:
        pass  # unsupported here (EXDEV, EINVAL...): finish with plain copies
    target.seek(position + copied)
    return copied
