"""Building a mask from pixel coordinates, and summarizing one.

The logic behind ``irisdq mask create`` and ``irisdq mask info``: pixel
lists come from ``NAME:X,Y`` strings or a CSV file, ``x`` is the column and
``y`` the row, 0-based like numpy (``dq[y, x]``) unless ``one_based``.

Examples
--------
>>> pixels = [parse_pixel_flag("DEAD:12,34"), parse_pixel_flag("hot:12,34")]
>>> mask = mask_from_pixels(pixels)
>>> int(mask.dq[34, 12])                  # DEAD, HOT and DO_NOT_USE
3073
>>> print(format_mask_info(mask))
shape     4096 x 4096 (ny x nx), uint32
...
flag                value     pixels
DO_NOT_USE              1          1
DEAD                 1024          1
HOT                  2048          1
any flag                            1 of 16777216 pixels
"""

import csv
import io
import os
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from irisdq import dqflags
from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.mask import TMTMaskModel
from irisdq.errors import DataModelError, FlagError
from irisdq.layouts import detector_shape
from irisdq.reffiles.thresholds import DEFAULT_DO_NOT_USE

__all__ = [
    "PixelFlag",
    "format_mask_info",
    "mask_from_pixels",
    "parse_pixel_flag",
    "parse_shape",
    "read_pixel_csv",
]


class PixelFlag(NamedTuple):
    """Flags to set on one pixel: column ``x``, row ``y``, DQ ``value``."""

    x: int
    y: int
    value: int


def _flags(text: str, where: str) -> int:
    try:
        value = dqflags.encode_flags(text.strip())
    except FlagError as exc:
        raise FlagError(f"{where}: {exc}") from None
    if not value:
        raise FlagError(f"{where}: {text.strip()!r} sets no flag")
    return value


def _coordinate(text: str, axis: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise DataModelError(
            f"{where}: {axis} = {text.strip()!r} is not an integer pixel index"
        ) from None


def parse_pixel_flag(spec: str) -> PixelFlag:
    """Parse ``NAME:X,Y`` (several names joined by ``+``: ``DEAD+DO_NOT_USE:3,4``).

    Raises
    ------
    DataModelError, FlagError
        If the text is not of that form or a name is not a pixel flag.

    Examples
    --------
    >>> parse_pixel_flag("DEAD+DO_NOT_USE:3,4")
    PixelFlag(x=3, y=4, value=1025)
    >>> parse_pixel_flag("DEAD:3")
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: --flag 'DEAD:3': give NAME:X,Y, e.g. DEAD:120,2047
    """
    where = f"--flag {spec!r}"
    names, _, position = spec.partition(":")
    parts = position.split(",")
    if not names.strip() or len(parts) != 2:
        raise DataModelError(f"{where}: give NAME:X,Y, e.g. DEAD:120,2047")
    return PixelFlag(
        _coordinate(parts[0], "x", where),
        _coordinate(parts[1], "y", where),
        _flags(names, where),
    )


def read_pixel_csv(path: str | os.PathLike) -> list[PixelFlag]:
    """Read pixels to flag from a CSV file with columns ``x,y,flag``.

    A first line naming the columns is optional; blank lines and lines
    starting with ``#`` are skipped. ``flag`` is one name or several joined
    by ``+`` (``DEAD+DO_NOT_USE``), or a number. The file is UTF-8 text.

    Raises
    ------
    DataModelError, FlagError
        Naming the file and line of a bad row, or of bytes that are not
        UTF-8; or if the path is not a regular file.
    """
    require_regular_file(path, "a pixel CSV file")
    with open(path, "rb") as stream:
        raw = stream.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataModelError(
            f"{os.fspath(path)} line {line}: byte {raw[exc.start]:#04x} is not "
            "UTF-8 text; save the CSV file as UTF-8 (or plain ASCII)"
        ) from None
    pixels = []
    with io.StringIO(text, newline="") as stream:
        for number, row in enumerate(csv.reader(stream), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            where = f"{os.fspath(path)} line {number}"
            if number == 1 and row[0].strip().lower() == "x":
                continue
            if len(row) != 3:
                raise DataModelError(
                    f"{where}: expected 3 columns x,y,flag, got {len(row)}"
                )
            pixels.append(
                PixelFlag(
                    _coordinate(row[0], "x", where),
                    _coordinate(row[1], "y", where),
                    _flags(row[2], where),
                )
            )
    return pixels


def parse_shape(text: str) -> tuple[int, int]:
    """Read a detector shape written ``NYxNX`` (rows x columns).

    Raises
    ------
    DataModelError
        If it is not two whole numbers from 1 to 65536 joined by ``x``.

    Examples
    --------
    >>> parse_shape("2048x2048"), parse_shape(" 32 X 64 ")
    ((2048, 2048), (32, 64))
    """
    parts = text.strip().lower().split("x")
    try:
        ny, nx = (int(part) for part in parts)
    except ValueError:
        ny = nx = 0
    if not (1 <= ny <= 65536 and 1 <= nx <= 65536):
        raise DataModelError(
            f"--shape {text!r} is not a detector shape; give NYxNX, rows by "
            "columns, each 1 to 65536 (e.g. 2048x2048)"
        )
    return ny, nx


def mask_from_pixels(
    pixels: Iterable[PixelFlag],
    *,
    detector: str = "IRIS1",
    one_based: bool = False,
    shape: tuple[int, int] | None = None,
    do_not_use: Iterable[str] = DEFAULT_DO_NOT_USE,
) -> TMTMaskModel:
    """Return a full-frame mask with the given pixels flagged.

    Flags given twice for one pixel are ORed. A pixel with a flag of
    ``do_not_use`` also gets DO_NOT_USE, as ``irisdq mask build`` does and
    ``irisdq mask check`` expects.

    Parameters
    ----------
    pixels : iterable of PixelFlag
        Column, row and flags of each pixel.
    detector : str, optional
        ``DETECTOR``; an IRIS detector is 4096 x 4096.
    one_based : bool, optional
        Coordinates count from 1 (as in ds9 and FITS) instead of 0.
    shape : tuple, optional
        (ny, nx) for a detector whose size irisdq does not know (a Liger
        detector, a test array); a known detector's own size otherwise.
    do_not_use : iterable of str, optional
        Flags that also get DO_NOT_USE (default
        :data:`~irisdq.reffiles.thresholds.DEFAULT_DO_NOT_USE`: DEAD, HOT,
        OPEN, REFERENCE_PIXEL); empty for none.

    Raises
    ------
    DataModelError
        If a pixel is outside the detector, the size of the detector is
        unknown and no shape is given, or the shape is not the size of a
        known detector.
    """
    known = detector_shape(detector)
    if shape is not None and known is not None and tuple(shape) != known:
        raise DataModelError(
            f"detector {detector!r} is {known[0]} x {known[1]} (ny x nx), not "
            f"{shape[0]} x {shape[1]}; leave the shape out for it"
        )
    shape = shape or known
    if shape is None:
        raise DataModelError(
            f"the size of detector {detector!r} is unknown; give the shape "
            "(--shape NYxNX, e.g. --shape 2048x2048)"
        )
    dq = np.zeros(shape, dtype=np.uint32)
    offset = 1 if one_based else 0
    for pixel in pixels:
        x, y = pixel.x - offset, pixel.y - offset
        if not (0 <= x < shape[1] and 0 <= y < shape[0]):
            low = offset
            raise DataModelError(
                f"pixel x={pixel.x}, y={pixel.y} is outside the {shape[1]} x "
                f"{shape[0]} detector ({low}-based: x and y in {low}.."
                f"{shape[1] - 1 + low}, {low}..{shape[0] - 1 + low})"
            )
        dq[y, x] |= np.uint32(pixel.value)
    severe = np.uint32(dqflags.encode_flags(",".join(do_not_use) or "GOOD"))
    dq[(dq & severe) != 0] |= np.uint32(dqflags.pixel.DO_NOT_USE)
    mask = TMTMaskModel()
    mask.meta.instrument.name = "IRIS"
    mask.meta.instrument.detector = detector
    mask.dq = dq
    return mask


def format_mask_info(mask: TMTMaskModel) -> str:
    """Return the text of ``irisdq mask info``: shape, keywords, pixels per flag."""
    dq = mask.dq
    keywords = mask.get_fits_keywords()
    lines = [f"shape     {dq.shape[0]} x {dq.shape[1]} (ny x nx), {dq.dtype}"]
    for keyword in (
        "INSTRUME",
        "DETECTOR",
        "SUBARRAY",
        "SUBSTRT1",
        "SUBSTRT2",
        "USEAFTER",
        "PEDIGREE",
        "AUTHOR",
        "DESCRIP",
    ):
        if keyword in keywords:
            lines.append(f"{keyword:<9} {keywords[keyword]}")
    lines.append("")
    lines.append(f"{'flag':<17} {'value':>8} {'pixels':>10}")
    for name, count in dqflags.count_flags(dq).items():
        if count:
            lines.append(f"{name:<17} {int(dqflags.pixel[name]):>8} {count:>10}")
    flagged = int(np.count_nonzero(dq))
    lines.append(f"{'any flag':<17} {'':>8} {flagged:>10} of {dq.size} pixels")
    return "\n".join(lines)
