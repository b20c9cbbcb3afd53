import dataclasses

import numpy as np
import pytest
from astropy.io import fits

from builders import write_full_frame_ramp, write_liger_ramp
from irisdq.datamodels import LayoutRampModel, LigerRampModel, RampModel, open_ramp
from irisdq.errors import DataModelError
from irisdq.layouts import RampLayout
from irisdq.profiles import PROFILES

LIGER = PROFILES["liger"].ramp
# The later Liger pipeline: a split layout with its own names and axes.
LNEW = RampLayout("DATA", ("nreads", "ny", "nx"), pixel_dq="DQ", group_dq="DQ_RAW")


def write_lnew_ramp(path, nreads=3, ny=5, nx=4, *, dq=True):
    hdus = [
        fits.PrimaryHDU(),
        fits.ImageHDU(np.ones((nreads, ny, nx), np.uint16), name="DATA"),
    ]
    if dq:
        hdus.append(fits.ImageHDU(np.zeros((nreads, ny, nx), np.uint8), name="DQ_RAW"))
        hdus.append(fits.ImageHDU(np.zeros((ny, nx), np.uint32), name="DQ"))
    hdus[0].header["INSTRUME"] = "Liger"
    fits.HDUList(hdus).writeto(path)
    return path


def test_each_layout_opens_as_its_model(tmp_path):
    tmt = write_full_frame_ramp(tmp_path / "tmt.fits")
    liger = write_liger_ramp(tmp_path / "liger.fits", 6, 5, 3, 2)
    lnew = write_lnew_ramp(tmp_path / "lnew.fits")
    for path, layout, cls, shape, instrument in (
        (tmt, None, RampModel, (1, 2, 16, 16), "IRIS"),
        (tmt, PROFILES["jwst"].ramp, RampModel, (1, 2, 16, 16), "IRIS"),
        (liger, LIGER, LigerRampModel, (6, 5, 3, 2), "Liger"),
        (lnew, LNEW, LayoutRampModel, (3, 5, 4), "Liger"),
    ):
        with open_ramp(path, layout) as ramp:
            assert type(ramp) is cls
            assert ramp.shape == shape
            assert ramp.get_fits_keywords()["INSTRUME"] == instrument
            assert [h.name for h in ramp.hdu_layout][1] in ("SCI", "DATA")
        assert ramp._stream.closed  # the context manager closed the file


def test_a_split_layout_model_reads_its_dq_arrays_by_role(tmp_path):
    with open_ramp(write_lnew_ramp(tmp_path / "lnew.fits"), LNEW) as ramp:
        assert ramp.pixeldq.dtype == np.uint32
        assert ramp.pixeldq.shape == (5, 4)
        assert ramp.groupdq.dtype == np.uint8
        assert ramp.groupdq.shape == (3, 5, 4)
        assert ramp.dq is None
        # The science array keeps the dtype the file stores.
        assert ramp.data.dtype == np.uint16


@pytest.mark.parametrize(
    ("layout", "builder", "message"),
    [
        (
            LIGER,
            lambda p: write_full_frame_ramp(p),
            r"no DATA extension \(extensions: SCI\); a ramp laid out as DATA "
            r"\(ny, nx, ngroups, nreads\), DQ uint16 \(ny, nx, ngroups, nreads\) "
            "needs one",
        ),
        (
            None,
            lambda p: write_liger_ramp(p, 2, 2, 1, 1),
            r"no SCI extension \(extensions: DATA, TIMES, ASDF\); a ramp laid out as "
            r"SCI \(nints, ngroups, ny, nx\), PIXELDQ uint32",
        ),
        (
            LNEW,
            lambda p: write_liger_ramp(p, 2, 2, 1, 1),
            r"DATA has shape \(2, 2, 1, 1\); a ramp laid out as DATA \(nreads, ny, nx\)"
            r", DQ uint32 \(ny, nx\), DQ_RAW uint8 \(nreads, ny, nx\) needs a 3-D DATA",
        ),
    ],
)
def test_a_ramp_of_another_layout_is_refused_in_one_line(
    tmp_path, layout, builder, message
):
    path = builder(tmp_path / "ramp.fits")
    with pytest.raises(DataModelError, match=message) as caught:
        open_ramp(path, layout)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_dq_of_a_narrower_type_opens_to_be_converted(tmp_path):
    dq = np.zeros((2, 3, 1, 2), dtype=np.uint8)
    dq[1, 2, 0, 1] = 200
    path = write_liger_ramp(tmp_path / "ramp.fits", 2, 3, 1, 2, dq=dq)
    with open_ramp(path, LIGER) as ramp:
        assert ramp.dq.dtype == np.uint16
        assert int(ramp.dq[1, 2, 0, 1]) == 200


def test_a_dq_wider_than_the_layout_is_refused(tmp_path):
    path = write_liger_ramp(
        tmp_path / "ramp.fits", 2, 3, 1, 2, dq=np.zeros((2, 3, 1, 2), np.uint32)
    )
    with pytest.raises(DataModelError, match=r"DQ holds uint32 values .* wider than"):
        open_ramp(path, LIGER)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"axes": ("ngroups", "nreads", "nx", "ny")}, "nx must follow ny"),
        ({"axes": ("ny", "nx", "ngroups")}, None),
        ({"axes": ("ngroups", "ny", "nx", "nreads")}, "first or last two axes"),
        ({"dq_dtype": "int16"}, "not unsigned"),
        ({"pixel_dq": "PIXELDQ"}, "not both"),
        ({"dq": None}, "give dq, or pixel_dq"),
        ({"axes": ("nreads", "nx")}, "must include ny and nx"),
    ],
)
def test_a_layout_that_cannot_describe_a_ramp_is_refused(changes, problem):
    if problem is None:
        assert dataclasses.replace(LIGER, **changes).planes_first
        return
    with pytest.raises(ValueError, match=problem):
        dataclasses.replace(LIGER, **changes)
    with pytest.raises(ValueError, match="keeps ny, nx last"):
        dataclasses.replace(LNEW, axes=("ny", "nx", "nreads"))
