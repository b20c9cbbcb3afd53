"""Builders of small FITS files shaped like the IRIS inputs."""

import numpy as np
import pytest
from astropy.io import fits


def make_iris_ramp(path, *, nints=1, ngroups=4, ny=10, nx=10, datamodl="TMTRampModel"):
    """Write a ramp like the IRIS test files: PIXELDQ int32 + BZERO, an ASDF table."""
    rng = np.random.default_rng(4)
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "DATAMODL": datamodl,
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "CUSTOM",
            "SUBSTRT1": 101,
            "SUBSTRT2": 201,
            "SUBSIZE1": nx,
            "SUBSIZE2": ny,
            "DATE-OBS": "2020-07-13",
            "TIME-OBS": "01:02:03",
            "NINTS": nints,
            "NGROUPS": ngroups,
            "ORIGIN": "IRIS simulator",
        }
    )
    sci = fits.ImageHDU(
        rng.normal(1000, 10, (nints, ngroups, ny, nx)).astype(np.float32), name="SCI"
    )
    sci.header["BUNIT"] = "DN"
    pixeldq = np.zeros((ny, nx), dtype=np.uint32)
    pixeldq[2, 3] = 1024
    pixeldq[0, 0] = 2**31 + 1
    # astropy writes uint32 as int32 with BZERO = 2147483648.
    dq_hdu = fits.ImageHDU(pixeldq, name="PIXELDQ", uint=True)
    groupdq = fits.ImageHDU(
        np.zeros((nints, ngroups, ny, nx), np.uint8), name="GROUPDQ"
    )
    asdf = fits.BinTableHDU.from_columns(
        [fits.Column("ASDF_METADATA", "50A", array=["#ASDF 1.0.0", "%YAML 1.1"])],
        name="ASDF",
    )
    fits.HDUList([primary, sci, dq_hdu, groupdq, asdf]).writeto(path, checksum=True)
    return path


@pytest.fixture
def make_ramp():
    """The builder of IRIS-like ramp files, for tests that vary them."""
    return make_iris_ramp


@pytest.fixture
def iris_ramp(tmp_path):
    return make_iris_ramp(tmp_path / "iris_uncal.fits")
