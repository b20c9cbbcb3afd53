"""Reading and writing image HDU data in chunks, checksums included.

FITS stores numbers big-endian and unsigned integers with an offset (uint32
as int32 with ``BZERO = 2147483648``): the stored int32 is the value with its
top bit flipped. This module converts between the two in cache-sized chunks,
summing the FITS checksum in the same pass, so that a 64 MiB uint32 array
costs one pass to write and one to read, and never needs a second full-size
buffer.

Arrays that need no conversion (float32 ``SCI``, uint8 ``GROUPDQ``) are
memory-mapped copy-on-write instead: nothing is read until it is used, and
changing the array never changes the file. A BZERO-offset array is read
into memory in chunks rather than mapped and flipped in place, because the
copy-on-write page faults of the in-place flip cost three times a plain read
and every page ends up private anyway.

Reading, writing and summing share the encoding table, the chunk sizes and
the checksum arithmetic, so they stay in one module (over the project's
usual 600 lines): a change to how one direction converts a chunk is seen
beside the other.

Examples
--------
>>> import io
>>> import numpy as np
>>> from astropy.io import fits
>>> stream = io.BytesIO()
>>> write_image_hdu(stream, np.array([[0, 2**32 - 1]], dtype=np.uint32),
...                 fits.Header([("EXTNAME", "DQ")]), primary=True)
>>> stream.seek(0)
0
>>> with fits.open(stream, checksum=True) as hdul:
...     hdul[0].data, hdul[0].header["BZERO"]
(array([[         0, 4294967295]], dtype=uint32), 2147483648)
"""

import math
import warnings
from collections.abc import Iterable
from typing import BinaryIO, NamedTuple

import numpy as np

from irisdq.datamodels.checksum import (
    ALL_ONES,
    add_sums,
    encode_checksum,
    native_word_sum,
    word_sum,
)
from irisdq.datamodels.layout import BLOCK, HDULayout, copy_hdu
from irisdq.errors import DataModelError

__all__ = [
    "STRUCTURAL_KEYWORDS",
    "DataModelWarning",
    "ImageEncoding",
    "array_encoding",
    "checksum_problems",
    "copy_hdu_with_checksums",
    "data_sum",
    "image_encoding",
    "image_header_bytes",
    "image_header_size",
    "read_image",
    "verify_hdu",
    "write_image_hdu",
    "write_image_hdu_blocks",
]

_CHUNK_BYTES = 1 << 20
_CHUNKS_PER_WRITE = 8

# Keywords that describe the data layout rather than the data: rebuilt on
# every write, never carried over from a file.
STRUCTURAL_KEYWORDS = frozenset(
    {
        "SIMPLE",
        "XTENSION",
        "BITPIX",
        "NAXIS",
        "EXTEND",
        "PCOUNT",
        "GCOUNT",
        "BSCALE",
        "BZERO",
        "BLANK",
        "CHECKSUM",
        "DATASUM",
        "END",
    }
)


class DataModelWarning(UserWarning):
    """Something in a FITS file that irisdq read past: a bad checksum, an
    unknown DQ_DEF flag name, trailing bytes."""


class ImageEncoding(NamedTuple):
    """How an image's values are stored in FITS.

    Attributes
    ----------
    bitpix : int
        The FITS ``BITPIX``.
    stored : numpy.dtype
        The big-endian dtype of the bytes in the file.
    values : numpy.dtype
        The native dtype of the values.
    flip : int
        The bit to flip between stored and value (0 for none): the BZERO
        offset that FITS uses for unsigned integers (and int8).
    bscale, bzero : float
        General linear scaling (1 and 0 when there is none or it is a flip).
    """

    bitpix: int
    stored: np.dtype
    values: np.dtype
    flip: int
    bscale: float
    bzero: float

    @property
    def scaled(self) -> bool:
        """True when values are ``stored * bscale + bzero`` (floating point)."""
        return self.bscale != 1 or self.bzero != 0


_STORED = {
    8: np.dtype("u1"),
    16: np.dtype(">i2"),
    32: np.dtype(">i4"),
    64: np.dtype(">i8"),
    -32: np.dtype(">f4"),
    -64: np.dtype(">f8"),
}
_UNSIGNED_OFFSET = {
    8: (-128, np.dtype("i1"), 0x80),
    16: (1 << 15, np.dtype("u2"), 0x8000),
    32: (1 << 31, np.dtype("u4"), 0x80000000),
    64: (1 << 63, np.dtype("u8"), 0x8000000000000000),
}


def image_encoding(header) -> ImageEncoding:
    """Return how an image HDU's header says its values are stored.

    Examples
    --------
    >>> from astropy.io import fits
    >>> enc = image_encoding(fits.Header([("BITPIX", 32), ("BZERO", 2**31)]))
    >>> enc.values, hex(enc.flip), enc.scaled
    (dtype('uint32'), '0x80000000', False)
    """
    bitpix = int(header["BITPIX"])
    stored = _STORED[bitpix]
    bscale = _number(header, "BSCALE", 1)
    bzero = _number(header, "BZERO", 0)
    if bitpix > 0 and bscale == 1 and bzero == _UNSIGNED_OFFSET[bitpix][0]:
        _, values, flip = _UNSIGNED_OFFSET[bitpix]
        return ImageEncoding(bitpix, stored, values, flip, 1.0, 0.0)
    if bscale == 1 and bzero == 0:
        return ImageEncoding(bitpix, stored, stored.newbyteorder("="), 0, 1.0, 0.0)
    values = np.dtype("f4") if bitpix in (8, 16, -32) else np.dtype("f8")
    return ImageEncoding(bitpix, stored, values, 0, bscale, float(bzero))


def _number(header, keyword: str, default: int):
    value = header.get(keyword, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataModelError(
            f"{header.get('EXTNAME', 'the primary HDU')}: {keyword} = {value!r} "
            "is not a number; the file is damaged"
        )
    return value


def array_encoding(dtype) -> ImageEncoding:
    """Return how :func:`write_image_hdu` stores values of ``dtype``.

    Examples
    --------
    >>> enc = array_encoding(np.uint16)
    >>> enc.bitpix, enc.stored, hex(enc.flip)
    (16, dtype('>i2'), '0x8000')
    """
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        dtype = np.dtype("u1")
    for bitpix, (_, values, flip) in _UNSIGNED_OFFSET.items():
        if dtype == values:
            return ImageEncoding(bitpix, _STORED[bitpix], values, flip, 1.0, 0.0)
    for bitpix, stored in _STORED.items():
        if dtype.newbyteorder("=") == stored.newbyteorder("="):
            return ImageEncoding(bitpix, stored, stored.newbyteorder("="), 0, 1.0, 0.0)
    raise DataModelError(f"cannot store a {dtype} array in a FITS image")


def _read_exact(stream: BinaryIO, buffer: np.ndarray) -> None:
    view = memoryview(buffer).cast("B")
    while view.nbytes:
        count = stream.readinto(view)
        if not count:
            raise DataModelError(
                f"{getattr(stream, 'name', 'file')}: ends in the middle of an "
                "array; the file is truncated"
            )
        view = view[count:]


def read_image(
    stream: BinaryIO,
    hdu: HDULayout,
    *,
    dtype=None,
    verify: bool = True,
    source: str = "",
) -> np.ndarray:
    """Return an image HDU's data, memory-mapped when no conversion is needed.

    Parameters
    ----------
    stream : binary file object
        The open FITS file (a real file for memory mapping).
    hdu : HDULayout
        The HDU, from :func:`~irisdq.datamodels.layout.read_hdu_layout`.
    dtype : numpy dtype, optional
        The dtype wanted. By default the stored values' dtype.
    verify : bool, optional
        Check ``DATASUM``/``CHECKSUM`` while converting. Memory-mapped data
        is not read here, so it is not checked; see :func:`verify_hdu`.
    source : str, optional
        The file name, for messages.

    Returns
    -------
    numpy.ndarray
        A copy-on-write :class:`numpy.memmap` (big-endian for floats) when
        the stored bytes are the values, else an in-memory array of
        ``dtype``.
    """
    encoding = image_encoding(hdu.header)
    shape = hdu.shape
    wanted = encoding.values if dtype is None else np.dtype(dtype)
    if hdu.data_size == 0:
        return np.zeros(shape, dtype=wanted)
    if not encoding.flip and not encoding.scaled and wanted == encoding.values:
        if _has_fileno(stream):
            return np.memmap(
                stream, dtype=encoding.stored, mode="c", offset=hdu.data_offset,
                shape=shape,
            )  # fmt: skip
        wanted = encoding.stored
    out = np.empty(shape, dtype=wanted)
    flat = out.reshape(-1)
    itemsize = encoding.stored.itemsize
    step = _CHUNK_BYTES // itemsize
    buffer = np.empty(step, dtype=encoding.stored)
    datasum = 0
    # The hot case, uint32 stored as int32 + BZERO: swap into the output,
    # sum the stored words there, then flip the top bit, all in cache.
    in_place = (
        itemsize == 4 and encoding.flip and wanted == encoding.values
    )  # fmt: skip
    stream.seek(hdu.data_offset)
    for start in range(0, flat.size, step):
        target = flat[start : start + step]
        raw = buffer[: target.size]
        _read_exact(stream, raw)
        if in_place:
            np.copyto(target, raw.view(">u4"))
            if verify:
                datasum = add_sums(datasum, native_word_sum(target))
            np.bitwise_xor(target, np.uint32(encoding.flip), out=target)
            continue
        if verify:
            datasum = add_sums(datasum, word_sum(raw))
        values = raw.astype(raw.dtype.newbyteorder("="))
        if encoding.flip:
            values = values.view(encoding.values.newbyteorder("="))
            values ^= values.dtype.type(encoding.flip)
        elif encoding.scaled:
            values = values * encoding.bscale + encoding.bzero
        np.copyto(target, values, casting="unsafe")
    if verify:
        _check_sums(stream, hdu, datasum, source)
    return out


def _has_fileno(stream: BinaryIO) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def verify_hdu(stream: BinaryIO, hdu: HDULayout, *, source: str = "") -> bool:
    """Check an HDU's ``DATASUM`` and ``CHECKSUM``, warning on a mismatch.

    Reads the HDU's data once, in chunks. Returns True when every sum the
    header carries matches (also when it carries none).
    """
    return _check_sums(stream, hdu, data_sum(stream, hdu, source=source), source)


def data_sum(stream: BinaryIO, hdu: HDULayout, *, source: str = "") -> int:
    """Return the FITS data sum (``DATASUM``) of an HDU, read in chunks.

    Raises
    ------
    DataModelError
        If the file ends inside the HDU's data.
    """
    datasum = 0
    stream.seek(hdu.data_offset)
    remaining = hdu.data_size
    while remaining:
        block = stream.read(min(_CHUNK_BYTES, remaining))
        if not block:
            raise DataModelError(f"{source}: truncated in HDU {hdu.index}")
        datasum = add_sums(datasum, word_sum(block))
        remaining -= len(block)
    return datasum


def checksum_problems(
    stream: BinaryIO, hdu: HDULayout, datasum: int, *, source: str = ""
) -> list[str]:
    """What is wrong with an HDU's DATASUM and CHECKSUM, given the sum of its
    data (:func:`data_sum`): one message each; [] when they match or are
    absent."""
    header = hdu.header
    label = f"{source}: HDU {hdu.index} ({hdu.name or 'unnamed'})"
    problems = []
    if "DATASUM" in header:
        try:
            declared = int(str(header["DATASUM"]).strip())
        except ValueError:
            declared = None
        if declared != datasum:
            problems.append(
                f"{label}: DATASUM is {header['DATASUM']!r} but the data sum "
                f"to {datasum}; the data may be corrupted"
            )
    if "CHECKSUM" in header:
        stream.seek(hdu.header_offset)
        header_bytes = stream.read(hdu.data_offset - hdu.header_offset)
        if add_sums(word_sum(header_bytes), datasum) != ALL_ONES:
            problems.append(
                f"{label}: CHECKSUM does not match the HDU's contents; the "
                "header or data may be corrupted"
            )
    return problems


def _check_sums(stream: BinaryIO, hdu: HDULayout, datasum: int, source: str) -> bool:
    problems = checksum_problems(stream, hdu, datasum, source=source)
    for problem in problems:
        warnings.warn(problem, DataModelWarning, stacklevel=3)
    return not problems


def _structural_header(encoding: ImageEncoding, shape, primary: bool):
    from astropy.io import fits

    header = fits.Header()
    if primary:
        header["SIMPLE"] = (True, "conforms to FITS standard")
    else:
        header["XTENSION"] = ("IMAGE", "Image extension")
    header["BITPIX"] = encoding.bitpix
    header["NAXIS"] = len(shape)
    for axis, length in enumerate(reversed(shape), start=1):
        header[f"NAXIS{axis}"] = int(length)
    if primary:
        header["EXTEND"] = True
    else:
        header["PCOUNT"] = 0
        header["GCOUNT"] = 1
    if encoding.flip:
        header["BSCALE"] = 1
        header["BZERO"] = -128 if encoding.bitpix == 8 else 1 << (encoding.bitpix - 1)
    return header


def write_image_hdu(
    stream: BinaryIO, data: np.ndarray | None, header=None, *, primary: bool = False
) -> None:
    """Write an image HDU with ``CHECKSUM`` and ``DATASUM`` at the stream's end.

    Parameters
    ----------
    stream : binary file object
        Seekable; the HDU is written at its current position, which must be
        the end of what was written so far.
    data : numpy.ndarray or None
        The image (None for a header-only primary HDU). Values are written in
        the FITS encoding of their dtype: uint32 as int32 with BZERO, and so
        on.
    header : astropy.io.fits.Header, optional
        Non-structural cards (EXTNAME, keywords of the model); structural
        ones are rebuilt from ``data`` and ignored here.
    primary : bool, optional
        Write a primary HDU instead of an IMAGE extension.
    """
    if data is None:
        write_image_hdu_blocks(stream, (), (), np.dtype("u1"), header, primary=primary)
    else:
        write_image_hdu_blocks(
            stream, (data,), data.shape, data.dtype, header, primary=primary
        )


def _full_header(encoding: ImageEncoding, shape, header, primary: bool):
    full = _structural_header(encoding, shape, primary)
    for card in header.cards if header is not None else ():
        if card.keyword in STRUCTURAL_KEYWORDS or card.keyword.startswith("NAXIS"):
            continue
        full.append(card)
    full["CHECKSUM"] = ("0" * 16, "HDU checksum")
    full["DATASUM"] = ("0", "data unit checksum")
    return full


def image_header_size(shape, dtype, header=None, *, primary: bool = False) -> int:
    """Bytes the header of :func:`write_image_hdu_blocks` takes, fill included.

    Lets a caller check that a rewritten HDU fits where the old one was
    before rewriting a file in place.

    Examples
    --------
    >>> image_header_size((10, 10), np.uint32)
    2880
    """
    full = _full_header(array_encoding(np.dtype(dtype)), shape, header, primary)
    return len(full.tostring())


def write_image_hdu_blocks(
    stream: BinaryIO,
    blocks: Iterable[np.ndarray],
    shape: tuple[int, ...],
    dtype,
    header=None,
    *,
    primary: bool = False,
) -> None:
    """Write an image HDU whose data arrive as consecutive blocks.

    This is how an array larger than memory is written: the blocks (for
    example the planes of a GROUPDQ cube, in C order) are encoded, summed
    and written one after the other, and the header's ``DATASUM`` and
    ``CHECKSUM`` are filled in at the end.

    Parameters
    ----------
    stream : binary file object
        Seekable; written at its current position, the end of the file.
    blocks : iterable of numpy.ndarray
        The data in C order, of ``dtype``; their sizes must add up to the
        size of ``shape``.
    shape : tuple of int
        The shape of the whole image.
    dtype : numpy dtype
        The dtype of the values (uint32 is stored as int32 with BZERO).
    header : astropy.io.fits.Header, optional
        Non-structural cards, as for :func:`write_image_hdu`.
    primary : bool, optional
        Write a primary HDU instead of an IMAGE extension.

    Raises
    ------
    DataModelError
        If the blocks do not hold exactly the elements of ``shape``.

    Examples
    --------
    >>> import io
    >>> from astropy.io import fits
    >>> out = io.BytesIO()
    >>> write_image_hdu(out, None, primary=True)
    >>> planes = (np.full((3, 5), g, dtype=np.uint8) for g in range(4))
    >>> write_image_hdu_blocks(out, planes, (4, 3, 5), np.uint8,
    ...                        fits.Header([("EXTNAME", "GROUPDQ")]))
    >>> _ = out.seek(0)
    >>> with fits.open(out, checksum=True) as hdul:
    ...     hdul["GROUPDQ"].data[:, 0, 0].tolist()
    [0, 1, 2, 3]
    """
    dtype = np.dtype(dtype)
    encoding = array_encoding(dtype)
    full = _full_header(encoding, shape, header, primary)
    start = stream.tell()
    stream.write(full.tostring().encode("ascii"))
    expected = math.prod(shape) if shape else 0
    datasum = 0
    written = 0
    # Words are summed per block, so a block that ends inside a 4-byte word
    # is held back and joined to the next one.
    pending: np.ndarray | None = None
    for block in blocks:
        block = np.ascontiguousarray(block, dtype=dtype).reshape(-1)
        if pending is not None:
            block = np.concatenate((pending, block))
            pending = None
        aligned = block.size - (block.size * encoding.stored.itemsize) % 4 // (
            encoding.stored.itemsize
        )
        if aligned < block.size:
            pending = block[aligned:].copy()
            block = block[:aligned]
        datasum = add_sums(datasum, _write_values(stream, block, encoding))
        written += block.size
    if pending is not None:
        datasum = add_sums(datasum, _write_values(stream, pending, encoding))
        written += pending.size
    if written != expected:
        raise DataModelError(
            f"image data of shape {shape} needs {expected} values; the blocks "
            f"gave {written}"
        )
    nbytes = written * encoding.stored.itemsize
    if nbytes % BLOCK:
        stream.write(b"\0" * (BLOCK - nbytes % BLOCK))
    end = stream.tell()
    stream.seek(start)
    stream.write(_summed_header(full, datasum))
    stream.seek(end)


def image_header_bytes(
    shape: tuple[int, ...], dtype, header, datasum: int, *, primary: bool = False
) -> bytes:
    """The header :func:`write_image_hdu_blocks` writes for data of sum
    ``datasum`` (the FITS ones' complement sum of the stored data).

    Lets an array changed in place get the header a new file would have.

    Examples
    --------
    >>> from astropy.io import fits
    >>> data = np.arange(6, dtype=np.uint16).reshape(2, 3)
    >>> stored = (data ^ np.uint16(0x8000)).astype(">u2").tobytes()
    >>> block = image_header_bytes((2, 3), np.uint16,
    ...                            fits.Header([("EXTNAME", "DQ")]), word_sum(stored))
    >>> hdu = fits.ImageHDU.fromstring(block + stored + bytes(2880 - len(stored)))
    >>> hdu.verify_checksum(), hdu.data.tolist()
    (1, [[0, 1, 2], [3, 4, 5]])
    """
    encoding = array_encoding(np.dtype(dtype))
    return _summed_header(_full_header(encoding, shape, header, primary), datasum)


def _summed_header(full, datasum: int) -> bytes:
    """``full`` with its ``DATASUM`` and ``CHECKSUM`` filled in."""
    full["DATASUM"] = (str(datasum), "data unit checksum")
    header_sum = word_sum(full.tostring().encode("ascii"))
    full["CHECKSUM"] = (
        encode_checksum(~add_sums(header_sum, datasum) & ALL_ONES),
        "HDU checksum",
    )
    return full.tostring().encode("ascii")


def _write_values(stream: BinaryIO, data: np.ndarray, encoding: ImageEncoding) -> int:
    """Write values in their FITS encoding, without fill; return their sum."""
    flat = np.ascontiguousarray(data).reshape(-1)
    itemsize = encoding.stored.itemsize
    unsigned = np.dtype(f"u{itemsize}")
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
    big_endian = (
        itemsize == 1
        or flat.dtype.byteorder == ">"
        or (flat.dtype.byteorder == "=" and not np.little_endian)
    )
    if encoding.flip and big_endian and itemsize > 1:
        flat = flat.astype(flat.dtype.newbyteorder("="))
        big_endian = not np.little_endian
    # Convert and sum in cache-sized chunks, but hand the kernel larger
    # batches: fewer, bigger write calls are measurably faster.
    step = _CHUNK_BYTES // itemsize
    batch = step * _CHUNKS_PER_WRITE
    native = np.empty(step, dtype=unsigned)
    stored = np.empty(min(batch, flat.size), dtype=unsigned.newbyteorder(">"))
    datasum = 0
    for first in range(0, flat.size, batch):
        block = flat[first : first + batch]
        if big_endian and not encoding.flip:
            datasum = add_sums(datasum, word_sum(block))
            stream.write(memoryview(block).cast("B"))
            continue
        for start in range(0, block.size, step):
            chunk = block[start : start + step]
            target = stored[start : start + chunk.size]
            if encoding.flip:
                # Flip the native bits, sum them while in cache, then swap.
                bits = native[: chunk.size]
                np.bitwise_xor(
                    chunk.view(unsigned), unsigned.type(encoding.flip), out=bits
                )
            else:
                bits = chunk.view(unsigned)
            np.copyto(target, bits)
            datasum = add_sums(
                datasum, native_word_sum(bits) if itemsize == 4 else word_sum(target)
            )
        stream.write(memoryview(stored[: block.size]).cast("B"))
    return datasum


_CARD = 80


def _card(keyword: str, value: str, comment: str) -> bytes:
    from astropy.io import fits

    return str(fits.Card(keyword, value, comment)).encode("ascii")


def copy_hdu_with_checksums(source: BinaryIO, hdu: HDULayout, target: BinaryIO) -> None:
    """Copy one HDU, adding ``CHECKSUM`` and ``DATASUM`` when it lacks them.

    An HDU that carries both is copied byte for byte
    (:func:`~irisdq.datamodels.layout.copy_hdu`). Otherwise its data are
    copied while they are summed, and its header gets the two cards before
    ``END`` (one more 2880-byte block if it needs one); every other header
    byte is kept as it was. So every HDU of an output can be verified later.

    Parameters
    ----------
    source : binary file object
        The file ``hdu`` was read from.
    hdu : HDULayout
        An entry of :func:`~irisdq.datamodels.layout.read_hdu_layout`.
    target : binary file object
        Written at its current position, a multiple of 2880.

    Examples
    --------
    >>> import io
    >>> from astropy.io import fits
    >>> from irisdq.datamodels.layout import read_hdu_layout
    >>> src = io.BytesIO()
    >>> sci = fits.ImageHDU(np.arange(5, dtype=">i2"), name="SCI")
    >>> fits.HDUList([fits.PrimaryHDU(), sci]).writeto(src)
    >>> out = io.BytesIO()
    >>> for hdu in read_hdu_layout(src):
    ...     copy_hdu_with_checksums(src, hdu, out)
    >>> _ = out.seek(0)
    >>> with fits.open(out) as hdul:
    ...     hdul["SCI"].verify_checksum(), hdul["SCI"].data.tolist()
    (1, [0, 1, 2, 3, 4])
    """
    if "CHECKSUM" in hdu.header and "DATASUM" in hdu.header:
        copy_hdu(source, hdu, target)
        return
    source.seek(hdu.header_offset)
    raw = source.read(hdu.data_offset - hdu.header_offset)
    cards = [raw[i : i + _CARD] for i in range(0, len(raw), _CARD)]
    end = next(
        (i for i, card in enumerate(cards) if card[:8] == b"END     "), len(cards)
    )
    kept = [card for card in cards[:end] if card[:8] not in (b"CHECKSUM", b"DATASUM ")]

    def header_bytes(datasum: str, checksum: str) -> bytes:
        body = b"".join(
            [
                *kept,
                _card("CHECKSUM", checksum, "HDU checksum"),
                _card("DATASUM", datasum, "data unit checksum"),
                b"END".ljust(_CARD),
            ]
        )
        return body + b" " * (-len(body) % BLOCK)

    start = target.tell()
    target.write(header_bytes("0", "0" * 16))
    datasum = 0
    done = 0
    source.seek(hdu.data_offset)
    while done < hdu.data_size:
        count = min(_CHUNK_BYTES * 4, hdu.data_size - done)
        block = source.read(count)
        if len(block) != count:
            raise DataModelError(
                f"{getattr(source, 'name', 'file')}: HDU {hdu.index} ends early; "
                "the file is truncated"
            )
        datasum = add_sums(datasum, word_sum(block))
        target.write(block)
        done += count
    if hdu.data_size % BLOCK:
        target.write(b"\0" * (BLOCK - hdu.data_size % BLOCK))
    finish = target.tell()
    header = header_bytes(str(datasum), "0" * 16)
    checksum = encode_checksum(~add_sums(word_sum(header), datasum) & ALL_ONES)
    target.seek(start)
    target.write(header_bytes(str(datasum), checksum))
    target.seek(finish)
