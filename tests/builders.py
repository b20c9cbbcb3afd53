"""Builders of small test files shared by several test modules."""

from pathlib import Path

import numpy as np
from astropy.io import fits


def write_full_frame_ramp(path: Path, shape=(1, 2, 16, 16)) -> Path:
    """A raw IRIS1 ramp (SUBARRAY FULL, no SUBSTRT, no DQ arrays) of ones."""
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "DATAMODL": "RampModel",
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "FULL",
            "DATE-OBS": "2020-07-13",
            "TIME-OBS": "01:02:03",
        }
    )
    sci = fits.ImageHDU(np.ones(shape, dtype=np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(path, checksum=True)
    return path


def write_mask(path: Path, shape=(16, 16)) -> Path:
    """An IRIS1 CUSTOM mask: DO_NOT_USE + DEAD at [3, 4], row 5 HOT."""
    from irisdq.datamodels import TMTMaskModel

    mask = TMTMaskModel()
    mask.meta.instrument.detector = "IRIS1"
    mask.meta.subarray.name = "CUSTOM"
    mask.dq = np.zeros(shape, dtype=np.uint32)
    mask.dq[3, 4] = 1024 | 1
    mask.dq[5, :] = 2048
    return mask.write(path)


def write_night(folder: Path) -> tuple[Path, list[Path]]:
    """A mask, four good ramps ``r0``-``r3`` and ``corrupt_uncal.fits``, a
    ramp cut off inside its SCI header."""
    mask = write_mask(folder / "mask.fits")
    ramps = [write_full_frame_ramp(folder / f"r{i}_uncal.fits") for i in range(4)]
    corrupt = folder / "corrupt_uncal.fits"
    corrupt.write_bytes(ramps[0].read_bytes()[:4000])
    return mask, [*ramps, corrupt]


def call_on_fifo(function, path: Path, timeout: float = 5.0):
    """Call ``function(path)`` with ``path`` a FIFO; return what it raised.

    The call runs in a thread. If it is still blocked (opening or reading
    the FIFO) after ``timeout`` seconds, a writer is opened and closed to
    release it, and the test fails instead of hanging.
    """
    import os
    import threading

    import pytest

    if not path.exists():
        os.mkfifo(path)
    outcome: dict = {}

    def run():
        try:
            function(path)
        except BaseException as exc:  # handed to the test
            outcome["raised"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout)
        pytest.fail(f"{function!r} blocked on the FIFO {path}")
    return outcome.get("raised")


def write_declared_mask(path: Path, shape: tuple[int, ...]) -> Path:
    """A mask whose DQ header declares ``shape`` (uint32), its data sparse.

    The file has the declared size but takes no disk space: a reader that
    trusts the header would allocate the whole array.
    """
    primary = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0)])
    primary.update({"EXTEND": True, "INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    dq = fits.Header([("XTENSION", "IMAGE"), ("BITPIX", 32), ("NAXIS", len(shape))])
    for axis, length in enumerate(reversed(shape), start=1):
        dq[f"NAXIS{axis}"] = length
    dq.update({"PCOUNT": 0, "GCOUNT": 1, "BZERO": 2**31, "EXTNAME": "DQ"})
    size = 4 * int(np.prod(shape))
    with path.open("wb") as stream:
        stream.write(primary.tostring().encode())
        stream.write(dq.tostring().encode())
        stream.truncate(stream.tell() + -(-size // 2880) * 2880)
    return path


def with_card(path: Path, hdu: int, keyword: str, value: str) -> Path:
    """Rewrite one header card of a FITS file in place, as raw text.

    ``value`` is the card's value field as it is written (``"-1"``,
    ``"'x'"``); the checksums are left as they were, now wrong.
    """
    from irisdq.datamodels import read_hdu_layout

    layout = read_hdu_layout(path)[hdu]
    data = bytearray(path.read_bytes())
    for offset in range(layout.header_offset, layout.data_offset, 80):
        if data[offset : offset + 8].decode("ascii").strip() == keyword:
            card = f"{keyword:<8}= {value:>20}".ljust(80)[:80]
            data[offset : offset + 80] = card.encode("latin-1")
            path.write_bytes(bytes(data))
            return path
    raise KeyError(f"{path}: HDU {hdu} has no {keyword} card")
