"""An override mask made for another detector than the ramp's."""

import logging

import numpy as np
from astropy.io import fits

from irisdq.datamodels import TMTMaskModel
from irisdq.dq_init.step import DQInit


def test_an_override_mask_of_another_detector_is_warned_about(tmp_path, caplog):
    """An IRIS1 mask given for a MIRIMAGE ramp: applied as given, with a
    warning naming both detectors; the ramp's own detector's mask, none."""
    raw = tmp_path / "miri_uncal.fits"
    primary = fits.PrimaryHDU()
    primary.header.update(
        {"TELESCOP": "JWST", "INSTRUME": "MIRI", "DETECTOR": "MIRIMAGE"}
    )
    primary.header.update({"SUBSTRT1": 1, "SUBSTRT2": 1})
    fits.HDUList(
        [primary, fits.ImageHDU(np.zeros((1, 2, 8, 8), np.float32), name="SCI")]
    ).writeto(raw)
    mask = TMTMaskModel()
    mask.meta.instrument.detector = "IRIS1"
    mask.meta.subarray.name = "CUSTOM"
    mask.dq = np.zeros((8, 8), np.uint32)
    mask.dq[1, 1] = 1024
    path = mask.write(tmp_path / "iris1_mask.fits")

    for given in (path, mask):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            out = DQInit.call(
                raw, override_mask=given, output_file=tmp_path / "o.fits",
                overwrite=True,
            )  # fmt: skip
        warned = [r.message for r in caplog.records if "DETECTOR" in r.message]
        assert len(warned) == 1
        assert "is for DETECTOR IRIS1 but the ramp's DETECTOR is MIRIMAGE" in warned[0]
        assert str(raw) in warned[0]
        assert fits.getdata(out, "PIXELDQ")[1, 1] == 1024

    mask.meta.instrument.detector = "mirimage"
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        DQInit.call(
            raw, override_mask=mask, output_file=tmp_path / "o.fits", overwrite=True
        )
    assert not [r for r in caplog.records if "DETECTOR" in r.message]
