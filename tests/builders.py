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
