"""jwst 3.0.0's own dq_init tests (``jwst/dq_init/tests/test_dq_init.py``),
every case, run through irisdq's jwst profile.

Each test builds the inputs of the jwst test of the same name (the same
shapes, keywords, flags and DQ_DEF rows), writes them with stdatamodels'
own ``save`` (the files a jwst user has), runs irisdq's step on the files
and asserts what the jwst test asserts. Where jwst is importable, jwst's
own step runs on the same files and the DQ arrays are compared; without
jwst that comparison is skipped. Two cases differ on purpose, and the
README says why: superstripe subarrays are refused (jwst builds a stacked
PIXELDQ per stripe), and ``check_dimensions`` is jwst's internal function,
ported as what the step does to DQ arrays of the right and wrong shapes.
"""

import logging
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from builders import write_observatory_cache
from irisdq.cli.main import main
from irisdq.dq_init.step import DQInit
from irisdq.errors import DataModelError

# jwst's own cases, each run by both steps: about 10 s, left to the whole
# suite (the fast subset compares with jwst in test_stpipe_models).
pytestmark = pytest.mark.slow

datamodels = pytest.importorskip(
    "stdatamodels.jwst.datamodels", reason="the inputs are written by stdatamodels"
)

# The pixel flags of stdatamodels (jwst's dqflags.pixel), by name.
DO_NOT_USE, SATURATED, DEAD, HOT = 1, 2, 1024, 2048
RC, UNRELIABLE_SLOPE, REFERENCE_PIXEL = 16384, 1 << 24, 1 << 31

# The DQ_DEF of jwst's test masks: JWST's names at their own bit values.
TEST_DQ_DEF = [
    (0, 1, "DO_NOT_USE", "Bad Pixel do not use"),
    (1, 2, "DEAD", "Dead Pixel"),
    (2, 4, "HOT", "Hot pixel"),
    (3, 8, "UNRELIABLE_SLOPE", "Large slope variance"),
    (4, 16, "RC", "RC pixel"),
    (5, 32, "REFERENCE_PIXEL", "Reference Pixel"),
]


def jwst_or_skip():
    """jwst's dq_init, or a skip of the comparison naming why."""
    return pytest.importorskip(
        "jwst.dq_init", reason="jwst is not installed: no comparison with its step"
    )


# -- the inputs, as jwst's test helpers make them ------------------------------


def raw_ramp(instrument, nints, ngroups, ysize, xsize, ystart, xstart, exp_type=None):
    """A raw ramp as jwst's ``make_rawramp``: a GuiderRawModel for FGS, else
    a RampModel, of ones, dated 2026-01-01."""
    data = np.full((nints, ngroups, ysize, xsize), 1.0)
    kind = datamodels.GuiderRawModel if instrument == "FGS" else datamodels.RampModel
    ramp = kind(data=data)
    ramp.meta.exposure.type = exp_type
    subarray = ramp.meta.subarray
    subarray.xstart, subarray.xsize = xstart, xsize
    subarray.ystart, subarray.ysize = ystart, ysize
    ramp.meta.instrument.name = instrument
    ramp.meta.observation.date = "2026-01-01"
    ramp.meta.observation.time = "00:00:00"
    exposure = ramp.meta.exposure
    exposure.nints, exposure.ngroups = nints, ngroups
    exposure.nframes, exposure.groupgap, exposure.noutputs = 1, 0, 1
    return ramp


def miri_ramp(nints=1, ngroups=5, ysize=1024, xsize=1032):
    """jwst's ``make_rampmodel``: a full-frame MIRIMAGE ramp."""
    ramp = raw_ramp("MIRI", nints, ngroups, ysize, xsize, 1, 1)
    ramp.meta.instrument.detector = "MIRIMAGE"
    return ramp


def dq_arrays(ysize, xsize):
    """jwst's ``make_dq_arrays``: a zero int DQ and :data:`TEST_DQ_DEF`."""
    dtype = datamodels.MaskModel().get_dtype("dq_def")
    return np.zeros((ysize, xsize), dtype=int), np.array(TEST_DQ_DEF, dtype=dtype)


def mask_model(dq, dq_def, instrument, start=(1, 1)):
    """A MaskModel as jwst's tests build it: instrument and placement, no
    DETECTOR."""
    # The flags are remapped by DQ_DEF when the model is made, as in jwst.
    given = {"dq": dq} if dq_def is None else {"dq": dq, "dq_def": dq_def}
    mask = datamodels.MaskModel(**given)
    mask.meta.instrument.name = instrument
    ysize, xsize = dq.shape
    subarray = mask.meta.subarray
    subarray.xstart, subarray.xsize = start[0], xsize
    subarray.ystart, subarray.ysize = start[1], ysize
    return mask


def saved(model, path: Path) -> Path:
    model.save(path)
    return path


def run_irisdq(raw: Path, out: Path, **params) -> Path:
    """irisdq's step on a file, jwst profile; returns the output."""
    DQInit.call(raw, profile="jwst", output_file=out, **params)
    return out


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    with fits.open(path) as hdus:
        arrays = {
            hdu.name: np.array(hdu.data)
            for hdu in hdus[1:]
            if hdu.name in ("SCI", "PIXELDQ", "GROUPDQ", "DQ")
        }
        arrays["header"] = hdus[0].header.copy()
    return arrays


def jwst_result(raw: Path, mask: Path | str, user_dq: Path | None = None):
    """What jwst's DQInitStep gives on the same files (skipped without jwst):
    its own opening of the input (``prepare_output(open_as_ramp=True)``)
    and its ``do_dqinit`` with the mask and user DQ it would load; the
    CRDS-free part of its ``process``."""
    jwst_dq_init = jwst_or_skip()
    from jwst.dq_init.dq_initialization import do_dqinit

    step = jwst_dq_init.DQInitStep()
    with datamodels.open(raw) as model:
        result = step.prepare_output(model, open_as_ramp=True)
    user = None if user_dq is None else fits.getdata(user_dq)
    with datamodels.MaskModel(str(mask)) as reference:
        return do_dqinit(result, reference, user_dq=user)


# -- test_dq_im_default ----------------------------------------------------------

DEFAULT_CASES = [
    (1, 1, 2304, 2048, 2, 2, "FGS", "FGS_ID-STACK"),
    (1, 1, 2048, 2048, 2, 2, "FGS", "FGS_ID-IMAGE"),
    (1, 1, 2048, 2048, 2, 2, "NIRCAM", "NRC_IMAGE"),
    (1, 1, 1032, 1024, 1, 5, "MIRI", "MIR_IMAGE"),
]


@pytest.mark.parametrize(
    ("xstart", "ystart", "xsize", "ysize", "nints", "ngroups", "instrument", "exp"),
    DEFAULT_CASES,
    ids=["GuiderRawModel-Stack", "GuiderRawModel-Image", "RampModel-NIRCam", "MIRI"],
)
def test_dq_im_default(
    tmp_path, xstart, ystart, xsize, ysize, nints, ngroups, instrument, exp
):
    raw = saved(
        raw_ramp(instrument, nints, ngroups, ysize, xsize, ystart, xstart, exp),
        tmp_path / "raw_uncal.fits",
    )
    dq, dq_def = dq_arrays(ysize, xsize)
    for (row, column), value in {
        (100, 100): 2,
        (200, 100): 4,
        (300, 100): 8,
        (400, 100): 16,
        (500, 100): 1,
        (500, 101): 1,
        (100, 200): 3,
        (200, 200): 5,
        (300, 200): 9,
        (400, 200): 17,
    }.items():
        dq[row, column] = value
    mask = saved(mask_model(dq, dq_def, instrument), tmp_path / "mask.fits")
    user = np.zeros_like(dq)
    user[0, 0] = 1
    user[500, 101] = 2  # taken as the pipeline's value: SATURATED
    user_dq = tmp_path / "user_dq.fits"
    fits.PrimaryHDU(user).writeto(user_dq)

    out = run_irisdq(
        raw, tmp_path / "out.fits", override_mask=mask, user_supplied_dq=user_dq
    )

    arrays = read_arrays(out)
    # jwst writes a guider exposure's flags into DQ; other ramps' into PIXELDQ.
    if instrument == "FGS":
        flags = arrays["DQ"]
        assert "PIXELDQ" not in arrays
        assert "GROUPDQ" not in arrays
    else:
        flags = arrays["PIXELDQ"]
        assert arrays["GROUPDQ"].shape == (nints, ngroups, ysize, xsize)
    assert flags.shape == (ysize, xsize)
    expected = {
        (0, 0): DO_NOT_USE,
        (100, 100): DEAD,
        (200, 100): HOT,
        (300, 100): UNRELIABLE_SLOPE,
        (400, 100): RC,
        (500, 100): DO_NOT_USE,
        (500, 101): DO_NOT_USE | SATURATED,
        (100, 200): 1025,
        (200, 200): 2049,
        (300, 200): 16777217,
        (400, 200): 16385,
    }
    for pixel, value in expected.items():
        assert flags[pixel] == value, pixel
    assert np.count_nonzero(flags) == len(expected)
    assert arrays["header"]["S_DQINIT"] == "COMPLETE"

    theirs = jwst_result(raw, mask, user_dq)
    if instrument == "FGS":
        np.testing.assert_array_equal(flags, theirs.dq)
    else:
        np.testing.assert_array_equal(flags, theirs.pixeldq)
        np.testing.assert_array_equal(arrays["GROUPDQ"], theirs.groupdq)


def test_fgs_guider_dq_through_the_command_line(tmp_path):
    """The guider layout is chosen from EXP_TYPE with the profile detected
    from the file, and stdatamodels reads the output as a GuiderRawModel
    with the flags in its dq."""
    raw = saved(
        raw_ramp("FGS", 1, 2, 64, 48, 1, 1, "FGS_ID-IMAGE"), tmp_path / "g_uncal.fits"
    )
    dq, dq_def = dq_arrays(64, 48)
    dq[5, 7] = 3
    mask = saved(mask_model(dq, dq_def, "FGS"), tmp_path / "mask.fits")
    out = tmp_path / "g_dqinit.fits"

    assert main(["dq-init", str(raw), "--override-mask", str(mask)]) == 0

    with datamodels.open(out) as model:
        assert isinstance(model, datamodels.GuiderRawModel)
        assert model.dq[5, 7] == DO_NOT_USE | DEAD
        assert np.count_nonzero(model.dq) == 1
        assert model.meta.cal_step.dq_init == "COMPLETE"


# -- test_dq_im_wrong_shape --------------------------------------------------------


def test_dq_im_wrong_shape(tmp_path):
    raw = saved(
        raw_ramp("MIRI", 1, 5, 1024, 1032, 1, 1, "MIR_IMAGE"), tmp_path / "r.fits"
    )
    dq, dq_def = dq_arrays(1024, 1032)
    mask = saved(mask_model(dq, dq_def, "MIRI"), tmp_path / "mask.fits")
    user_dq = tmp_path / "user_dq.fits"
    fits.PrimaryHDU(np.ones((2, 2), dtype=dq.dtype)).writeto(user_dq)

    # jwst: ValueError "user_dq has shape=(2, 2) but expecting (1024, 1032)".
    with pytest.raises(DataModelError, match=r"user DQ has shape \(2, 2\).*1024, 1032"):
        run_irisdq(
            raw, tmp_path / "o.fits", override_mask=mask, user_supplied_dq=user_dq
        )
    assert not (tmp_path / "o.fits").exists()

    with pytest.raises(ValueError, match="user_dq has"):
        jwst_result(raw, mask, user_dq)


# -- test_groupdq ------------------------------------------------------------------


def test_groupdq(tmp_path):
    raw = saved(raw_ramp("MIRI", 1, 5, 1024, 1032, 1, 1), tmp_path / "r.fits")
    dq, dq_def = dq_arrays(1024, 1032)
    mask = saved(mask_model(dq, dq_def, "MIRI"), tmp_path / "mask.fits")
    arrays = read_arrays(run_irisdq(raw, tmp_path / "o.fits", override_mask=mask))

    np.testing.assert_array_equal(arrays["GROUPDQ"], np.zeros((1, 5, 1024, 1032)))
    assert arrays["GROUPDQ"].dtype == np.uint8
    np.testing.assert_array_equal(arrays["GROUPDQ"], jwst_result(raw, mask).groupdq)


# -- test_dq_subarray --------------------------------------------------------------


def test_dq_subarray(tmp_path):
    ngroups, ysize, xsize = 50, 224, 288
    cube = (1, ngroups, ysize, xsize)
    ramp = datamodels.RampModel(
        data=np.full(cube, 1.0),
        pixeldq=np.zeros((ysize, xsize), dtype=int),
        groupdq=np.zeros(cube, dtype=int),
    )
    meta = ramp.meta
    meta.instrument.name, meta.instrument.detector = "MIRI", "MIRIMAGE"
    meta.instrument.filter, meta.instrument.band = "F1500W", "N/A"
    meta.observation.date, meta.observation.time = "2016-06-01", "00:00:00"
    meta.exposure.type = "MIR_IMAGE"
    meta.subarray.name = "MASK1550"
    meta.subarray.xstart, meta.subarray.xsize = 1, xsize
    meta.subarray.ystart, meta.subarray.ysize = 467, ysize
    raw = saved(ramp, tmp_path / "sub_uncal.fits")
    dq, dq_def = dq_arrays(1024, 1032)
    dq[542, 100] = 2
    dq[550, 100] = 1
    dq[580, 80] = 4
    mask = mask_model(dq, dq_def, "MIRI")
    mask.meta.description, mask.meta.reftype = "foo", "mask"
    mask.meta.author, mask.meta.pedigree = "pytest", "foo"
    mask.meta.useafter = "2000-01-01T00:00:00"
    mask = saved(mask, tmp_path / "mask.fits")

    pixeldq = read_arrays(run_irisdq(raw, tmp_path / "o.fits", override_mask=mask))[
        "PIXELDQ"
    ]

    assert pixeldq[76, 100] == DEAD
    assert pixeldq[84, 100] == DO_NOT_USE
    assert pixeldq[114, 80] == HOT
    assert np.count_nonzero(pixeldq) == 3
    np.testing.assert_array_equal(pixeldq, jwst_result(raw, mask).pixeldq)


# -- test_dq_add1_groupdq ----------------------------------------------------------


def test_dq_add1_groupdq(tmp_path):
    ramp = miri_ramp()
    ramp.pixeldq[505, 505] = 4
    raw = saved(ramp, tmp_path / "r.fits")
    dq, dq_def = dq_arrays(1024, 1032)
    dq[505, 505] = 1
    dq[400, 500] = 3
    mask = saved(mask_model(dq, dq_def, "MIRI"), tmp_path / "mask.fits")

    arrays = read_arrays(run_irisdq(raw, tmp_path / "o.fits", override_mask=mask))

    assert arrays["PIXELDQ"][505, 505] == 5  # the ramp's flag kept, the mask's added
    assert arrays["PIXELDQ"][400, 500] == 1025
    assert arrays["GROUPDQ"][0, :, 505, 505].tolist() == [1] * 5
    theirs = jwst_result(raw, mask)
    np.testing.assert_array_equal(arrays["PIXELDQ"], theirs.pixeldq)
    np.testing.assert_array_equal(arrays["GROUPDQ"], theirs.groupdq)


# -- test_fullstep_default, test_output_is_not_input: CRDS chooses the mask -------


def jwst_mask_cache(root: Path, instrument: str, detector: str, dq: np.ndarray):
    """A jwst CRDS cache whose rmap files `dq` for `detector` from 2015."""
    references = write_observatory_cache(
        root,
        "jwst",
        instrument,
        "mask",
        (
            ("META.INSTRUMENT.DETECTOR",),
            ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME"),
        ),
        f"Match({{\n    ('{detector}',) : UseAfter({{\n        '2015-10-01 00:00:00' : "
        f"'jwst_{instrument.lower()}_mask_0001.fits',\n    }}),\n}})\n",
    )
    name = f"jwst_{instrument.lower()}_mask_0001.fits"
    mask = mask_model(dq.astype(np.uint32), None, instrument)
    mask.meta.instrument.detector = detector
    mask.meta.reftype = "MASK"
    mask.save(references / name)
    return references / name


@pytest.mark.parametrize(
    ("xsize", "ysize", "nints", "ngroups", "instrument", "exp_type", "detector"),
    [
        (2048, 2048, 2, 2, "FGS", "FGS_ID-IMAGE", "GUIDER1"),
        (1032, 1024, 1, 5, "MIRI", "MIR_IMAGE", "MIRIMAGE"),
    ],
    ids=["GuiderRawModel-Image", "RampModel"],
)
def test_fullstep_default(
    tmp_path, monkeypatch, xsize, ysize, nints, ngroups, instrument, exp_type, detector
):
    ramp = raw_ramp(instrument, nints, ngroups, ysize, xsize, 1, 1, exp_type)
    ramp.meta.instrument.detector = detector
    ramp.meta.observation.date = "2016-06-01"
    ramp.meta.observation.time = "00:00:00"
    raw = saved(ramp, tmp_path / "full_uncal.fits")
    flags = np.zeros((ysize, xsize), dtype=np.uint32)
    flags[10, 20] = DO_NOT_USE | HOT
    cache = tmp_path / "cache"
    chosen = jwst_mask_cache(cache, instrument, detector, flags)
    monkeypatch.setenv("CRDS_PATH", str(cache))
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0001.pmap")

    arrays = read_arrays(run_irisdq(raw, tmp_path / "o.fits"))

    name = "DQ" if instrument == "FGS" else "PIXELDQ"
    assert arrays[name].ndim == 2
    assert arrays[name][10, 20] == DO_NOT_USE | HOT
    assert ("GROUPDQ" in arrays) is (instrument != "FGS")
    assert arrays["header"]["R_MASK"] == f"crds://{chosen.name}"
    assert arrays["header"]["CRDS_CTX"] == "jwst_0001.pmap"
    with datamodels.open(tmp_path / "o.fits") as model:
        kind = (
            datamodels.GuiderRawModel if instrument == "FGS" else datamodels.RampModel
        )
        assert type(model) is kind
    theirs = jwst_result(raw, chosen)
    np.testing.assert_array_equal(
        arrays[name], theirs.dq if instrument == "FGS" else theirs.pixeldq
    )


def test_fullstep_userdq(tmp_path):
    """The mask given as jwst's test gives it: a MaskModel in memory."""
    ramp = raw_ramp("MIRI", 1, 5, 1024, 1032, 1, 1, "MIR_IMAGE")
    ramp.meta.instrument.detector = "MIRIMAGE"
    ramp.meta.observation.date = "2016-06-01"
    ramp.meta.observation.time = "00:00:00"
    raw = saved(ramp, tmp_path / "r_uncal.fits")
    mask = mask_model(*dq_arrays(1024, 1032), "MIRI")
    flags = np.zeros((1024, 1032), dtype=np.uint32)
    flags[100, 100] = 1
    user_dq = tmp_path / "flags_of_our_user.fits"
    fits.PrimaryHDU(data=flags).writeto(user_dq)

    arrays = read_arrays(
        run_irisdq(
            raw, tmp_path / "o.fits", override_mask=mask, user_supplied_dq=user_dq
        )
    )

    assert arrays["PIXELDQ"].ndim == 2
    np.testing.assert_array_equal(arrays["PIXELDQ"], flags)
    assert arrays["header"]["R_MASK"] == "<MaskModel>"
    mask.save(tmp_path / "mask.fits")
    theirs = jwst_result(raw, tmp_path / "mask.fits", user_dq)
    np.testing.assert_array_equal(arrays["PIXELDQ"], theirs.pixeldq)


def test_mask_model_in_memory_is_read_in_the_pipeline_flags(tmp_path):
    """A MaskModel made with its DQ_DEF holds JWST's flag values; its
    placement comes from meta.subarray; a bad start is refused."""
    dq, dq_def = dq_arrays(8, 8)
    dq[2, 3] = 3  # DO_NOT_USE | DEAD as the DQ_DEF numbers them
    mask = mask_model(dq, dq_def, "MIRI", start=(5, 7))
    raw = saved(raw_ramp("MIRI", 1, 2, 4, 4, 9, 7), tmp_path / "r_uncal.fits")

    arrays = read_arrays(run_irisdq(raw, tmp_path / "o.fits", override_mask=mask))

    # The ramp starts at column 7, row 9: the mask's (2, 2) of the cut.
    assert arrays["PIXELDQ"][0, 1] == DO_NOT_USE | DEAD
    assert np.count_nonzero(arrays["PIXELDQ"]) == 1
    mask.meta.subarray.xstart = 0
    with pytest.raises(DataModelError, match=r"meta.subarray.xstart = 0"):
        run_irisdq(raw, tmp_path / "o2.fits", override_mask=mask)
    with pytest.raises(TypeError, match="a path, a mask model or 'N/A'"):
        run_irisdq(raw, tmp_path / "o3.fits", override_mask=3)


def test_output_is_not_input(tmp_path, monkeypatch):
    raw = saved(miri_ramp(), tmp_path / "r_uncal.fits")
    before = raw.read_bytes()
    cache = tmp_path / "cache"
    jwst_mask_cache(cache, "MIRI", "MIRIMAGE", np.zeros((1024, 1032)))
    monkeypatch.setenv("CRDS_PATH", str(cache))
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0001.pmap")

    out = DQInit.call(raw, profile="jwst")

    assert out != raw
    assert out == tmp_path / "r_dqinit.fits"
    assert raw.read_bytes() == before
    with datamodels.open(out) as result, datamodels.open(raw) as given:
        assert result.meta.cal_step.dq_init == "COMPLETE"
        assert given.meta.cal_step.dq_init is None


def test_missing_mask(tmp_path):
    raw = saved(miri_ramp(), tmp_path / "r_uncal.fits")
    before = raw.read_bytes()

    out = DQInit.call(raw, profile="jwst", override_mask="N/A")

    assert raw.read_bytes() == before
    with datamodels.open(out) as result, datamodels.open(raw) as given:
        assert result.meta.cal_step.dq_init == "SKIPPED"
        assert given.meta.cal_step.dq_init is None


# -- test_open_bad_model -------------------------------------------------------------


def test_open_bad_model(tmp_path):
    ramp = miri_ramp()
    level1b = datamodels.Level1bModel(data=np.zeros(ramp.data.shape, dtype=np.uint16))
    level1b.update(ramp)
    raw = saved(level1b, tmp_path / "l1b_uncal.fits")
    mask = saved(mask_model(*dq_arrays(1024, 1032), "MIRI"), tmp_path / "mask.fits")

    # jwst: TypeError "... is not compatible ..." converting it to a RampModel.
    with pytest.raises(DataModelError, match=r"SCI is uint16 .*Level1bModel"):
        run_irisdq(raw, tmp_path / "o.fits", override_mask=mask)
    assert not (tmp_path / "o.fits").exists()
    code = main(["dq-init", str(raw), "--override-mask", str(mask)])
    assert code == 2

    with pytest.raises(TypeError, match="compatible"):
        jwst_result(raw, mask)


# -- test_superstripe: refused (README: "Differences from jwst's dq_init") ---------


def superstripe_ramp():
    """jwst's NIRISS SOSS superstripe ramp: 3 integrations x 10 stripes."""
    if not hasattr(datamodels, "SuperstripeRampModel"):
        pytest.skip("this stdatamodels has no SuperstripeRampModel")
    data = np.full((30, 5, 256, 208), 1.0)
    ramp = datamodels.SuperstripeRampModel(data=data)
    meta = ramp.meta
    meta.instrument.name, meta.instrument.detector = "NIRISS", "NIS"
    meta.observation.date, meta.observation.time = "2026-01-01", "00:00:00"
    meta.subarray.name = "SUB204STRIPE_SOSS"
    meta.subarray.xstart, meta.subarray.xsize = 2048, 208
    meta.subarray.ystart, meta.subarray.ysize = 1793, 256
    meta.subarray.fastaxis, meta.subarray.slowaxis = -2, -1
    meta.subarray.multistripe_reads1, meta.subarray.multistripe_reads2 = 4, 204
    meta.subarray.multistripe_skips1, meta.subarray.multistripe_skips2 = 0, 0
    meta.subarray.num_superstripe, meta.subarray.repeat_stripe = 10, 1
    meta.subarray.interleave_reads1, meta.subarray.superstripe_step = 1, 204
    meta.exposure.nints, meta.exposure.ngroups = 30, 5
    meta.exposure.integration_start, meta.exposure.integration_end = 1, 30
    meta.exposure.nframes, meta.exposure.groupgap = 1, 0
    meta.exposure.noutputs, meta.exposure.frame_time = 1, 0.5628
    return ramp


def test_superstripe_is_refused_by_name(tmp_path):
    raw = saved(superstripe_ramp(), tmp_path / "soss_uncal.fits")
    dq = np.zeros((2048, 2048), dtype=np.uint32)
    dq[1800, 10] = DEAD
    mask = saved(mask_model(dq, None, "NIRISS"), tmp_path / "mask.fits")

    with pytest.raises(DataModelError) as error:
        run_irisdq(raw, tmp_path / "o.fits", override_mask=mask)
    message = str(error.value)
    assert "superstripe subarray SUB204STRIPE_SOSS (SSTR_NST = 10)" in message
    assert "run jwst's dq_init step" in message
    assert str(raw) in message
    assert not (tmp_path / "o.fits").exists()

    # What jwst does instead: one PIXELDQ plane per stripe.
    theirs = jwst_result(raw, mask)
    assert isinstance(theirs, datamodels.SuperstripeRampModel)
    assert theirs.pixeldq.shape == (10, 256, 208)


# -- test_check_dimensions_good_input / _bad_input ----------------------------------

SHAPE = (6, 3, 4, 5)


def zero_mask(tmp_path) -> Path:
    dq = np.zeros(SHAPE[2:], dtype=np.uint32)
    return saved(mask_model(dq, None, "MIRI"), tmp_path / "mask.fits")


def dimension_ramp(kind, **arrays):
    model = kind()
    model.data = np.zeros(SHAPE)
    for name, value in arrays.items():
        setattr(model, name, value)
    model.meta.instrument.name = "FGS" if kind is datamodels.GuiderRawModel else "MIRI"
    if kind is datamodels.GuiderRawModel:
        model.meta.exposure.type = "FGS_ID-STACK"
    return model


def test_check_dimensions_good_input(tmp_path, caplog):
    mask = zero_mask(tmp_path)
    ny, nx = SHAPE[2:]
    raw = saved(
        dimension_ramp(
            datamodels.RampModel,
            pixeldq=np.full((ny, nx), 1),
            groupdq=np.full(SHAPE, 1),
        ),
        tmp_path / "ramp.fits",
    )
    with caplog.at_level(logging.INFO):
        arrays = read_arrays(run_irisdq(raw, tmp_path / "o.fits", override_mask=mask))
    assert "created" not in caplog.text
    assert "replaced" not in caplog.text
    np.testing.assert_array_equal(arrays["PIXELDQ"], np.ones((ny, nx)))
    np.testing.assert_array_equal(arrays["GROUPDQ"], np.ones(SHAPE))

    guider = saved(
        dimension_ramp(datamodels.GuiderRawModel, dq=np.full((ny, nx), 1)),
        tmp_path / "guider.fits",
    )
    caplog.clear()
    with caplog.at_level(logging.INFO):
        arrays = read_arrays(
            run_irisdq(guider, tmp_path / "g.fits", override_mask=mask)
        )
    assert "created" not in caplog.text
    assert "replaced" not in caplog.text
    np.testing.assert_array_equal(arrays["DQ"], np.ones((ny, nx)))
    assert "PIXELDQ" not in arrays


@pytest.mark.parametrize("bad_value", [None, 0, 1])
def test_check_dimensions_bad_input(tmp_path, caplog, bad_value):
    mask = zero_mask(tmp_path)
    ny, nx = SHAPE[2:]
    wrong = {}
    if bad_value is not None:
        wrong = {
            "pixeldq": np.full((2, 2), bad_value),
            "groupdq": np.full((2, 2, 2, 2), bad_value),
        }
    raw = saved(dimension_ramp(datamodels.RampModel, **wrong), tmp_path / "r.fits")
    with caplog.at_level(logging.INFO):
        arrays = read_arrays(run_irisdq(raw, tmp_path / "o.fits", override_mask=mask))
    # jwst: "Setting input pixel DQ to default array" (and group DQ).
    for name in ("PIXELDQ", "GROUPDQ"):
        said = "replaced by zeros" if bad_value is not None else "created as zeros"
        assert any(name in r.message and said in r.message for r in caplog.records)
    np.testing.assert_array_equal(arrays["PIXELDQ"], np.zeros((ny, nx)))
    np.testing.assert_array_equal(arrays["GROUPDQ"], np.zeros(SHAPE))

    wrong = {} if bad_value is None else {"dq": np.full((2, 2), bad_value)}
    guider = saved(
        dimension_ramp(datamodels.GuiderRawModel, **wrong), tmp_path / "g.fits"
    )
    caplog.clear()
    with caplog.at_level(logging.INFO):
        arrays = read_arrays(
            run_irisdq(guider, tmp_path / "go.fits", override_mask=mask)
        )
    np.testing.assert_array_equal(arrays["DQ"], np.zeros((ny, nx)))
    if bad_value is not None:
        assert any("DQ has shape (2, 2)" in r.message for r in caplog.records)


def test_mask_without_detector_names_its_own_model(tmp_path):
    """A TMT mask must still name its detector; the message names the
    file's own data model, not TMTMaskModel."""
    from irisdq.datamodels import TMTMaskModel

    dq, dq_def = dq_arrays(8, 8)
    jwst_mask = saved(mask_model(dq, dq_def, "MIRI"), tmp_path / "jwst_mask.fits")
    with TMTMaskModel(jwst_mask) as read:
        assert read.dq.shape == (8, 8)
    tmt = tmp_path / "tmt_mask.fits"
    with fits.open(jwst_mask) as hdus:
        hdus[0].header["DATAMODL"] = "TMTMaskModel"
        hdus.writeto(tmt)
    with pytest.raises(
        DataModelError, match="no DETECTOR keyword, which a TMTMaskModel"
    ):
        TMTMaskModel(tmt)
    without = tmp_path / "no_instrument.fits"
    with fits.open(jwst_mask) as hdus:
        del hdus[0].header["INSTRUME"]
        hdus.writeto(without)
    with TMTMaskModel(without) as read:
        assert read.meta.instrument.name is None
