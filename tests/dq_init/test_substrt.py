"""``substrt``: the position of a ramp without SUBSTRT1/SUBSTRT2 (the IRIS
team's sample ramps), given explicitly and recorded in the output."""

import hashlib

import numpy as np
import pytest
from astropy.io import fits

from irisdq.datamodels import RampModel
from irisdq.dq_init import DQInit
from irisdq.dq_init.plan import GIVEN_COMMENT
from irisdq.dq_init.step import parse_substrt
from irisdq.errors import DataModelError, SubarrayError

# A 64x64 mask at the detector's corner; flags at 0-based (row, column).
FLAGS = {(20, 30): 1024 | 1, (25, 31): 2048, (10, 10): 4096}
COL, ROW = 31, 21  # SUBSTRT1, SUBSTRT2 of the sample ramp
SHAPE = (1, 3, 8, 10)


def _mask(build, tmp_path):
    dq = np.zeros((64, 64), dtype=np.uint32)
    for where, value in FLAGS.items():
        dq[where] = value
    return build.small_mask(tmp_path / "mask.fits", dq)


def _sample(build, tmp_path, name="sample_uncal.fits", **kwargs):
    """A ramp like the sample ramps: a subarray without SUBSTRT/SUBSIZE."""
    return build.ramp(tmp_path / name, shape=SHAPE, start=None, **kwargs)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sample_ramp_without_position_is_refused_naming_the_option(build, tmp_path):
    source = _sample(build, tmp_path)
    with pytest.raises(SubarrayError, match="--substrt COL,ROW") as info:
        DQInit(override_mask=_mask(build, tmp_path)).run(source)
    assert str(source) in str(info.value)
    assert "\n" not in str(info.value)


def test_flags_land_where_the_given_position_says(build, tmp_path):
    source = _sample(build, tmp_path)
    before = _digest(source)
    step = DQInit(override_mask=_mask(build, tmp_path), substrt=f"{COL},{ROW}")
    output = step.run(source)
    assert _digest(source) == before  # the input is not touched
    with fits.open(output) as hdul:
        pixeldq = hdul["PIXELDQ"].data
        groupdq = hdul["GROUPDQ"].data
        header = hdul[0].header
    expected = np.zeros(SHAPE[2:], dtype=np.uint32)
    for (r, c), value in FLAGS.items():
        # Mask pixel (r, c) is ramp pixel (r - ROW + 1, c - COL + 1).
        y, x = r - ROW + 1, c - COL + 1
        if 0 <= y < SHAPE[2] and 0 <= x < SHAPE[3]:
            expected[y, x] = value
    np.testing.assert_array_equal(pixeldq, expected)
    assert pixeldq[20 - ROW + 1, 30 - COL + 1] == 1025
    assert pixeldq[25 - ROW + 1, 31 - COL + 1] == 2048
    assert groupdq[0, 1, 20 - ROW + 1, 30 - COL + 1] == 1
    assert int(groupdq.sum()) == SHAPE[1]  # only DO_NOT_USE goes to GROUPDQ
    # Recorded: the output says where it lies, and that it was given.
    assert (header["SUBSTRT1"], header["SUBSTRT2"]) == (COL, ROW)
    assert (header["SUBSIZE1"], header["SUBSIZE2"]) == (SHAPE[3], SHAPE[2])
    for keyword in ("SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2"):
        assert GIVEN_COMMENT in header.comments[keyword]
    assert header["S_DQINIT"] == "COMPLETE"


def test_output_rerun_without_the_option_compares_equal(build, tmp_path):
    source = _sample(build, tmp_path)
    mask = _mask(build, tmp_path)
    first = DQInit(override_mask=mask, substrt=(COL, ROW)).run(source)
    # The output is self-describing: run again on it, with or without the
    # option, the flags are the same.
    again = DQInit(override_mask=mask, output_file=tmp_path / "b.fits").run(first)
    same = DQInit(
        override_mask=mask, substrt=(COL, ROW), output_file=tmp_path / "c.fits"
    ).run(first)
    with fits.open(first) as a, fits.open(again) as b, fits.open(same) as c:
        np.testing.assert_array_equal(a["PIXELDQ"].data, b["PIXELDQ"].data)
        np.testing.assert_array_equal(a["PIXELDQ"].data, c["PIXELDQ"].data)
        # The ramp's own SUBSTRT1 is kept as recorded.
        assert GIVEN_COMMENT in c[0].header.comments["SUBSTRT1"]


def test_existing_subsize_is_kept(build, tmp_path):
    source = _sample(
        build, tmp_path, header={"SUBSIZE1": SHAPE[3], "SUBSIZE2": SHAPE[2]}
    )
    output = DQInit(override_mask=_mask(build, tmp_path), substrt=(COL, ROW)).run(
        source
    )
    header = fits.getheader(output)
    assert GIVEN_COMMENT in header.comments["SUBSTRT1"]
    assert GIVEN_COMMENT not in header.comments["SUBSIZE1"]


def test_in_place(build, tmp_path):
    source = _sample(build, tmp_path)
    mask = _mask(build, tmp_path)
    assert DQInit(override_mask=mask, substrt="31,21", inplace=True).run(source)
    with fits.open(source) as hdul:
        assert hdul["PIXELDQ"].data[20 - ROW + 1, 30 - COL + 1] == 1025
        assert (hdul[0].header["SUBSTRT1"], hdul[0].header["SUBSTRT2"]) == (COL, ROW)
    # A second run with another position is refused: the file now says.
    with pytest.raises(SubarrayError, match="SUBSTRT1=31 SUBSTRT2=21 but"):
        DQInit(override_mask=mask, substrt="32,21", inplace=True).run(source)


def test_agreeing_position_is_accepted_and_a_conflict_refused(build, tmp_path):
    source = build.ramp(tmp_path / "a_uncal.fits", shape=SHAPE, start=(COL, ROW))
    mask = _mask(build, tmp_path)
    before = _digest(source)
    output = DQInit(override_mask=mask, substrt=(COL, ROW)).run(source)
    header = fits.getheader(output)
    assert header["SUBSTRT1"] == COL
    assert GIVEN_COMMENT not in header.comments["SUBSTRT1"]
    with pytest.raises(SubarrayError) as info:
        DQInit(override_mask=mask, substrt=(COL + 1, ROW), overwrite=True).run(source)
    message = str(info.value)
    assert str(source) in message
    assert f"SUBSTRT1={COL} SUBSTRT2={ROW}" in message
    assert f"{COL + 1},{ROW}" in message
    assert "\n" not in message
    assert _digest(source) == before


def test_position_outside_the_mask_is_refused(build, tmp_path):
    source = _sample(build, tmp_path)
    before = _digest(source)
    with pytest.raises(SubarrayError) as info:
        DQInit(override_mask=_mask(build, tmp_path), substrt=(60, 21)).run(source)
    message = str(info.value)
    assert str(source) in message
    assert "SUBSTRT1=60 SUBSTRT2=21" in message
    assert "--substrt" in message
    assert "\n" not in message
    assert _digest(source) == before
    assert not (tmp_path / "sample_dqinit.fits").exists()


@pytest.mark.parametrize(
    "value", ["0,5", "5", "5,6,7", "-1,2", "a,b", "1.5,2", (1.0, 2), (True, 2), 7]
)
def test_bad_positions_are_refused(build, tmp_path, value):
    with pytest.raises(DataModelError, match="two positive integers"):
        parse_substrt(value)
    source = _sample(build, tmp_path)
    with pytest.raises(DataModelError) as info:
        DQInit(override_mask=_mask(build, tmp_path), substrt=value).run(source)
    assert str(source) in str(info.value)


def test_parse_substrt_takes_pairs():
    assert parse_substrt(" 1025 , 9 ") == (1025, 9)
    assert parse_substrt([np.int64(3), 4]) == (3, 4)
    assert parse_substrt(None) is None


def test_skipped_still_records_the_position(build, tmp_path):
    source = _sample(build, tmp_path)
    output = DQInit(override_mask="N/A", substrt=(COL, ROW)).run(source)
    header = fits.getheader(output)
    assert header["S_DQINIT"] == "SKIPPED"
    assert (header["SUBSTRT1"], header["SUBSTRT2"]) == (COL, ROW)


def test_model_in_memory(build, tmp_path):
    model = RampModel()
    model.data = np.zeros(SHAPE, dtype=np.float32)
    result = DQInit.call(
        model, override_mask=_mask(build, tmp_path), substrt=(COL, ROW)
    )
    assert result.pixeldq[20 - ROW + 1, 30 - COL + 1] == 1025
    assert (result.meta.subarray.xstart, result.meta.subarray.ystart) == (COL, ROW)
    assert result.meta.subarray.xsize == SHAPE[3]
    assert model.pixeldq is None


def test_jwst_model_in_memory(build, tmp_path):
    jwst_datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
    model = jwst_datamodels.RampModel(data=np.zeros(SHAPE, dtype=np.float32))
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.exposure.type = "NRC_IMAGE"
    result = DQInit.call(
        model, override_mask=_mask(build, tmp_path), substrt=(COL, ROW), profile="jwst"
    )
    assert result.pixeldq[20 - ROW + 1, 30 - COL + 1] == 1025
    assert (result.meta.subarray.xstart, result.meta.subarray.ystart) == (COL, ROW)
    assert model.meta.subarray.xstart is None


def test_a_half_position_must_agree(build, tmp_path):
    mask = _mask(build, tmp_path)
    half = _sample(build, tmp_path, "half_uncal.fits", header={"SUBSTRT1": COL})
    output = DQInit(override_mask=mask, substrt=(COL, ROW)).run(half)
    with fits.open(output) as hdul:
        assert hdul["PIXELDQ"].data[20 - ROW + 1, 30 - COL + 1] == 1025
        assert hdul[0].header["SUBSTRT2"] == ROW
    other = _sample(build, tmp_path, "other_uncal.fits", header={"SUBSTRT2": 5})
    with pytest.raises(SubarrayError, match=r"has SUBSTRT2=5 but .* gives 31,21;"):
        DQInit(override_mask=mask, substrt=(COL, ROW)).run(other)
    bad = _sample(build, tmp_path, "bad_uncal.fits", header={"SUBSTRT2": "x"})
    with pytest.raises(DataModelError, match="SUBSTRT2 = 'x' is not an integer"):
        DQInit(override_mask=mask, substrt=(COL, ROW)).run(bad)
