"""Fixtures of the DQ initialization tests: an isolated home and CRDS cache,
full-frame masks, and raw ramps shaped like IRIS files."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels import TMTMaskModel

MASK_NAME = "tmt_iris_mask_0001.fits"

# Flagged pixels of the full-frame test mask, (row, column) 0-based.
DEAD_PIXEL = (205, 107)
HOT_PIXEL = (209, 101)
DEAD_COLUMN = 2000

# The tree of :func:`asdf_table`: what an earlier step recorded.
ASDF_TREE = {"meta": {"cal_step": {"assign_wcs": "COMPLETE"}, "origin": "STScI"}}


def full_frame_mask() -> np.ndarray:
    dq = np.zeros((4096, 4096), dtype=np.uint32)
    dq[DEAD_PIXEL] = 1024 | 1
    dq[HOT_PIXEL] = 2048
    dq[:, DEAD_COLUMN] = 1024 | 1
    return dq


@pytest.fixture(scope="session")
def mask_file(tmp_path_factory) -> Path:
    """A full-frame IRIS1 mask written once, by the seed's recipe."""
    mask = TMTMaskModel()
    mask.meta.name = "IRIS"
    mask.meta.detector = "IRIS1"
    mask.dq = full_frame_mask()
    return mask.write(tmp_path_factory.mktemp("masks") / MASK_NAME)


@pytest.fixture
def crds_mask(home, mask_file) -> Path:
    """The full-frame mask in ~/crds_cache, where CRDS selection finds it."""
    target = home / "crds_cache" / "references" / "tmt" / "iris" / MASK_NAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(mask_file, target)
    return target


def write_ramp(
    path,
    *,
    shape=(1, 4, 10, 10),
    start=(101, 201),
    pixeldq=None,
    groupdq=None,
    date="2020-07-13",
    extra_hdus=(),
    header=None,
    sci=None,
):
    """Write a raw ramp; ``start`` is (SUBSTRT1, SUBSTRT2) or None."""
    nints, ngroups, ny, nx = shape
    primary = fits.PrimaryHDU()
    values = {
        "DATAMODL": "RampModel",
        "TELESCOP": "TMT",
        "INSTRUME": "IRIS",
        "DETECTOR": "IRIS1",
        "SUBARRAY": "FULL" if start is None else "CUSTOM",
        "DATE-OBS": date,
        "TIME-OBS": "01:02:03",
        "NINTS": nints,
        "NGROUPS": ngroups,
    }
    if start is not None:
        values.update(
            {"SUBSTRT1": start[0], "SUBSTRT2": start[1], "SUBSIZE1": nx, "SUBSIZE2": ny}
        )
    values.update(header or {})
    primary.header.update(values)
    if sci is None:
        sci = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    hdus = [primary, fits.ImageHDU(sci, name="SCI")]
    if pixeldq is not None:
        hdus.append(fits.ImageHDU(pixeldq, name="PIXELDQ", uint=True))
    if groupdq is not None:
        hdus.append(fits.ImageHDU(groupdq, name="GROUPDQ"))
    hdus.extend(extra_hdus)
    fits.HDUList(hdus).writeto(path, checksum=True)
    return Path(path)


def asdf_table():
    """The ASDF extension of a file an earlier step wrote."""
    from builders import asdf_extension

    return asdf_extension(ASDF_TREE)


def write_small_mask(path, dq, *, start=(1, 1), dq_def=None):
    """A mask file of any size, with SUBSTRT keywords and optional DQ_DEF."""
    primary = fits.PrimaryHDU()
    ny, nx = dq.shape
    primary.header.update(
        {
            "DATAMODL": "TMTMaskModel",
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "REFTYPE": "MASK",
            "SUBARRAY": "CUSTOM",
            "SUBSTRT1": start[0],
            "SUBSTRT2": start[1],
            "SUBSIZE1": nx,
            "SUBSIZE2": ny,
        }
    )
    hdus = [primary, fits.ImageHDU(dq.astype(np.uint32), name="DQ", uint=True)]
    if dq_def is not None:
        values, names = zip(*dq_def, strict=True)
        hdus.append(
            fits.BinTableHDU.from_columns(
                [
                    fits.Column("BIT", "J", array=[v.bit_length() - 1 for v in values]),
                    fits.Column("VALUE", "J", array=list(values)),
                    fits.Column("NAME", "40A", array=list(names)),
                    fits.Column("DESCRIPTION", "40A", array=list(names)),
                ],
                name="DQ_DEF",
            )
        )
    fits.HDUList(hdus).writeto(path, checksum=True)
    return Path(path)


@pytest.fixture
def build():
    """The file builders and the test mask's flagged pixels."""
    from types import SimpleNamespace

    return SimpleNamespace(
        ramp=write_ramp,
        small_mask=write_small_mask,
        asdf_table=asdf_table,
        full_frame_mask=full_frame_mask,
        DEAD_PIXEL=DEAD_PIXEL,
        HOT_PIXEL=HOT_PIXEL,
        DEAD_COLUMN=DEAD_COLUMN,
    )
