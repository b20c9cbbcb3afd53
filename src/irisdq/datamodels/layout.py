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
import warnings
from typing import BinaryIO, NamedTuple

from irisdq.errors import DataModelError

__all__ = ["BLOCK", "HDULayout", "copy_hdu", "extension_shapes", "read_hdu_layout"]

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
            # astropy warns about a damaged card while parsing; held here, so
            # that a card that makes the HDU unreadable is reported once, by
            # the error, and any other is warned about once the HDU is sized.
            with warnings.catch_warnings(record=True) as held:
                warnings.simplefilter("always")
                header = fits.Header.fromfile(stream)
        except Exception as exc:
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
        for warning in held:
            warnings.warn(warning.message, warning.category, stacklevel=3)
        hdus.append(
            HDULayout(
                index=index,
                name=_hdu_name(header, index),
                ver=_extver(header, name, index),
                kind="PRIMARY" if index == 0 else _xtension(header),
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


def _xtension(header) -> str:
    try:
        return str(header["XTENSION"]).strip().upper()
    except Exception:  # the card starts with XTENSION but cannot be parsed
        return ""


def _extver(header, name: str, index: int) -> int:
    value = header.get("EXTVER", 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataModelError(
            f"{name}: HDU {index} ({_hdu_name(header, index) or 'unnamed'}): "
            f"EXTVER = {value!r} is not an integer; the file is damaged"
        )
    return value


def _hdu_name(header, index: int) -> str:
    try:
        name = str(header.get("EXTNAME", "")).strip().upper()
    except Exception:  # an unparsable EXTNAME card: the HDU has no usable name
        name = ""
    return name or ("PRIMARY" if index == 0 else "")


# Bounds on the header values that size data. FITS allows NAXIS up to 999;
# the other keywords must be non-negative integers. A value outside them is
# refused before anything is sized, read or allocated from it.
_MAX_NAXIS = 999


def _data_size(header, name: str, index: int) -> int:
    """Bytes of data an HDU's header declares, after validating every value
    that sizes it (FITS standard 4.0, sections 4.4.1 and 6)."""
    where = f"{name}: HDU {index} ({_hdu_name(header, index) or 'unnamed'})"
    bitpix = _sizing_value(header, "BITPIX", where)
    if bitpix not in _BYTES_PER_BITPIX:
        raise DataModelError(
            f"{where}: BITPIX = {bitpix} is not a FITS BITPIX "
            "(8, 16, 32, 64, -32 or -64); the file is damaged"
        )
    naxis = _sizing_value(header, "NAXIS", where, maximum=_MAX_NAXIS)
    axes = [_sizing_value(header, f"NAXIS{i}", where) for i in range(1, naxis + 1)]
    random_groups = (
        index == 0 and naxis > 0 and axes[0] == 0 and header.get("GROUPS") is True
    )
    pcount = _sizing_value(header, "PCOUNT", where, default=0)
    gcount = _sizing_value(header, "GCOUNT", where, default=1)
    if index == 0 and not random_groups:
        # A primary array has no parameters and one group, whatever the
        # header says (FITS 4.0, 4.4.1.1).
        pcount, gcount = 0, 1
    if naxis == 0:
        return 0
    # Random groups (only a primary HDU with GROUPS = T) set NAXIS1 = 0 and
    # leave it out of the product; anywhere else NAXIS1 = 0 means no data.
    product = math.prod(axes[1:]) if random_groups else math.prod(axes)
    return _BYTES_PER_BITPIX[bitpix] * gcount * (pcount + product)


def _sizing_value(
    header, keyword: str, where: str, *, default: int | None = None, maximum=None
) -> int:
    if keyword not in header:
        if default is not None:
            return default
        raise DataModelError(
            f"{where}: missing required keyword {keyword}; "
            "the header cannot size its data"
        )
    try:
        value = header[keyword]
    except Exception as exc:  # astropy's VerifyError for an unparsable card
        raise DataModelError(
            f"{where}: cannot read {keyword} ({' '.join(str(exc).split())}); "
            "the file is damaged"
        ) from None
    # bool is an int to Python, but NAXIS = T is not a size.
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataModelError(
            f"{where}: {keyword} = {value!r} is not an integer; the header "
            "cannot size its data (the file is damaged)"
        )
    if keyword != "BITPIX" and value < 0:
        raise DataModelError(
            f"{where}: {keyword} = {value} is negative; the header cannot "
            "size its data (the file is damaged)"
        )
    if maximum is not None and value > maximum:
        raise DataModelError(
            f"{where}: {keyword} = {value} is more than {maximum}; the header "
            "cannot size its data (the file is damaged)"
        )
    return value


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

    Raises
    ------
    DataModelError
        If ``source`` now ends before the HDU's data does (a missing fill
        after the last HDU's data is written as zeros).

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
            if remaining > hdu.end - hdu.data_offset - hdu.data_size:
                # Shorter than when its layout was read: cut while in use.
                raise DataModelError(
                    f"{getattr(source, 'name', 'file')}: ends in the middle "
                    f"of HDU {hdu.index} ({hdu.name or 'unnamed'}); the file "
                    "was truncated after it was opened"
                )
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


def extension_shapes(layout: list[HDULayout]) -> dict[str, tuple[int, ...] | None]:
    """The named extensions of a file's layout: name -> shape for images,
    None for tables (whose shape says nothing of their content)."""
    return {
        hdu.name: hdu.shape if hdu.kind == "IMAGE" else None
        for hdu in layout[1:]
        if hdu.name
    }
