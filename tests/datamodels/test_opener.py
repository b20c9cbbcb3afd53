import numpy as np
import pytest
from astropy.io import fits

from irisdq import datamodels
from irisdq.datamodels import RampModel, TMTMaskModel
from irisdq.errors import DataModelError


def _file(path, datamodl=None, names=()):
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    if datamodl:
        primary.header["DATAMODL"] = datamodl
    hdus = [primary]
    for name in names:
        shape = (1, 1, 2, 2) if name == "SCI" else (2, 2)
        dtype = np.float32 if name == "SCI" else np.uint32
        hdus.append(fits.ImageHDU(np.zeros(shape, dtype), name=name))
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.mark.parametrize(
    ("datamodl", "names", "cls"),
    [
        ("RampModel", ("SCI",), RampModel),
        ("TMTRampModel", ("SCI",), RampModel),
        ("TMTMaskModel", ("DQ",), TMTMaskModel),
        (None, ("SCI", "PIXELDQ"), RampModel),
        (None, ("DQ",), TMTMaskModel),
        ("SomethingElse", ("DQ",), TMTMaskModel),
    ],
)
def test_open_picks_the_model(tmp_path, datamodl, names, cls):
    with datamodels.open(_file(tmp_path / "f.fits", datamodl, names)) as model:
        assert type(model) is cls


def test_open_refuses_other_files(tmp_path):
    path = _file(tmp_path / "f.fits", "ImageModel", ("XYZ",))
    with pytest.raises(DataModelError, match=r"f\.fits: neither a ramp nor a mask"):
        datamodels.open(path)


def test_open_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        datamodels.open(tmp_path / "absent.fits")


def test_open_returns_a_model_as_is():
    model = TMTMaskModel()
    assert datamodels.open(model) is model


def test_model_constructor_rejects_arrays():
    with pytest.raises(TypeError, match="FITS file name"):
        TMTMaskModel(np.zeros((2, 2)))
