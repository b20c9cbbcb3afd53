import numpy as np
import pytest

from irisdq import bitmask, dqflags
from irisdq.errors import FlagError, IrisDQError
from irisdq.reffiles.badpix import (
    combine_flags,
    dark_flags,
    flat_flags,
    illumination,
    lower_median,
    noisy_threshold,
    ols_weights,
    reference_pixels,
    robust_scatter,
    typical_noise,
)


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6, 10])
def test_one_spike_never_raises_the_lower_median(count):
    rng = np.random.default_rng(count)
    quiet = rng.normal(0.01, 0.002, (count, 50))
    for frame in range(count):
        spiked = quiet.copy()
        spiked[frame] += 1e4
        # At most one rank up: the spike only moves the other values down.
        ceiling = np.sort(quiet, axis=0)[(count - 1) // 2 + 1]
        assert np.all(lower_median(spiked) <= ceiling)
        assert np.all(lower_median(spiked) < 0.1)


def test_lower_median_is_the_median_for_odd_counts_and_propagates_nan():
    stack = np.array([[3.0, 1.0], [1.0, np.nan], [2.0, 5.0]])
    result = lower_median(stack)
    assert result[0] == 2.0
    assert np.isnan(result[1])


def test_robust_scatter_is_the_std_of_normal_noise_and_ignores_one_spike():
    rng = np.random.default_rng(1)
    stack = rng.normal(0, 0.5, (9, 20000)).astype(np.float32)
    assert np.median(robust_scatter(stack)) == pytest.approx(0.5, rel=0.1)
    spiked = stack.copy()
    spiked[4] += 1000
    clean = np.std(np.delete(stack, 4, axis=0), axis=0, ddof=1)
    result = robust_scatter(spiked)
    # The spike is always left out (a plain std would be about 333); rarely
    # (about 1% of pixels with 9 frames) a normal value 6 robust sigmas out
    # is left out too.
    assert result.max() < 2
    assert np.mean(np.isclose(result, clean, rtol=1e-4)) > 0.95


def test_robust_scatter_with_three_frames_drops_the_spike():
    stack = np.array([[1.0], [1.2], [900.0]], dtype=np.float32)
    assert robust_scatter(stack)[0] == pytest.approx(np.std([1.0, 1.2], ddof=1))


def test_ols_weights_give_the_least_squares_slope():
    rng = np.random.default_rng(2)
    ramp = 3.0 + 0.7 * 10.6 * np.arange(7) + rng.normal(0, 0.3, 7)
    expected = np.polyfit(10.6 * np.arange(7), ramp, 1)[0]
    assert ols_weights(7, 10.6) @ ramp == pytest.approx(expected)


@pytest.mark.parametrize(("ngroups", "time"), [(1, 1.0), (5, 0.0), (5, np.nan)])
def test_ols_weights_refuse_what_has_no_slope(ngroups, time):
    with pytest.raises(IrisDQError):
        ols_weights(ngroups, time)


def test_illumination_follows_a_gradient_and_ignores_small_clusters():
    yy, xx = np.mgrid[0:200, 0:300]
    light = (1000 + 2 * xx + 1.5 * yy).astype(np.float32)
    flat = light.copy()
    flat[50:53, 60:63] = 0  # a dead cluster, smaller than half a box
    flat[150, 10] = 1e6  # a hot spot
    model = illumination(flat, box=20)
    # Linear light: the interpolated block medians match it within the
    # block-centre offset, away from the edges where the model is held.
    assert np.abs(model / light - 1)[10:190, 10:290].max() < 0.005
    assert model[51, 61] == pytest.approx(light[51, 61], rel=0.005)


def test_illumination_skips_nan_and_fills_empty_blocks():
    flat = np.full((40, 40), 7.0, dtype=np.float32)
    flat[:20, :20] = np.nan
    assert np.allclose(illumination(flat, box=10), 7.0)
    with pytest.raises(IrisDQError, match="no valid pixel"):
        illumination(np.full((8, 8), np.nan, dtype=np.float32), box=4)


def test_flat_flags_thresholds_are_strict_below():
    response = np.array([[0.049, 0.05, 0.499, 0.5, 1.0]], dtype=np.float32)
    # No neighbour is above 1.05, so the low pixels are LOW_QE, not OPEN.
    flags = flat_flags(response)
    assert flags["DEAD"].tolist() == [[True, False, False, False, False]]
    assert flags["LOW_QE"].tolist() == [[False, True, True, False, False]]
    assert not flags["OPEN"].any()


def test_open_needs_all_four_side_neighbours_high():
    response = np.full((7, 7), 1.1, dtype=np.float32)
    response[3, 3] = 0.3
    response[2, 3] = 1.04  # one side neighbour not high enough
    flags = flat_flags(response)
    assert flags["LOW_QE"][3, 3]
    assert not flags["OPEN"].any()
    assert not flags["ADJ_OPEN"].any()


def test_open_at_the_edge_and_beside_reference_pixels_counts_existing_neighbours():
    response = np.full((6, 6), 1.2, dtype=np.float32)
    response[0, 2] = 0.3  # on the detector's edge: 3 neighbours
    response[4, 1] = 0.3  # beside the border column 0
    science = np.ones((6, 6), dtype=bool)
    science[:, 0] = False
    response[:, 0] = np.nan
    flags = flat_flags(response, science=science)
    assert flags["OPEN"][0, 2]
    assert flags["OPEN"][4, 1]
    # ADJ_OPEN never lands on a reference pixel or off the detector.
    assert not flags["ADJ_OPEN"][:, 0].any()
    assert flags["ADJ_OPEN"][1, 1:4].all()
    assert flags["ADJ_OPEN"][0, [1, 3]].all()
    assert not flags["NO_FLAT_FIELD"].any()


def test_nan_response_is_no_flat_field():
    response = np.ones((3, 3), dtype=np.float32)
    response[1, 1] = np.nan
    flags = flat_flags(response)
    assert flags["NO_FLAT_FIELD"][1, 1]
    assert sum(int(where.sum()) for where in flags.values()) == 1


def test_dark_flags_hot_warm_bounds_and_nan():
    rate = np.array([[0.1, 0.1001, 1.0, 1.0001, np.nan]], dtype=np.float32)
    flags = dark_flags(rate)
    assert flags["WARM"].tolist() == [[False, True, True, False, False]]
    assert flags["HOT"].tolist() == [[False, False, False, True, False]]
    assert flags["UNRELIABLE_DARK"].tolist() == [[False] * 4 + [True]]
    assert not flags["UNRELIABLE_SLOPE"].any()


def test_noisy_pixels_stand_out_from_the_typical_noise_and_hot_ones_are_not_tested():
    rng = np.random.default_rng(3)
    stack = rng.normal(0.01, 0.02, (7, 100, 100)).astype(np.float32)
    stack[:, 10, 10] = rng.normal(0.01, 0.2, 7)
    stack[:, 20, 20] = rng.normal(50.0, 0.2, 7)  # hot: shot noise expected
    scatter, count = robust_scatter(stack, return_count=True)
    rate = lower_median(stack)
    flags = dark_flags(rate, scatter, count, noisy_flag="TELEGRAPH")
    assert np.argwhere(flags["TELEGRAPH"]).tolist() == [[10, 10]]
    assert "UNRELIABLE_SLOPE" not in flags
    assert typical_noise(scatter, count, ~flags["HOT"]) == pytest.approx(0.02, rel=0.05)
    with pytest.raises(IrisDQError, match="count"):
        dark_flags(rate, scatter)


def test_the_noisy_cut_allows_for_fewer_frames():
    cuts = noisy_threshold(np.array([0, 1, 2, 4, 8]), 1.0)
    assert np.isinf(cuts[:2]).all()
    assert cuts[2] > cuts[3] > cuts[4] > 1
    # About 3e-7 of normal pixels pass at 5 sigma: with 4 frames (3 degrees
    # of freedom) the chi-square quantile is about 36.
    assert cuts[3] ** 2 * 3 == pytest.approx(36.0, rel=0.1)


def test_combine_flags_adds_do_not_use_to_the_severe_flags_only():
    dead = np.array([[True, False, False]])
    warm = np.array([[False, True, False]])
    ref = np.array([[False, False, True]])
    dq = combine_flags({"DEAD": dead, "WARM": warm, "REFERENCE_PIXEL": ref})
    assert dq.dtype == np.uint32
    assert [dqflags.decode_flags(int(v)) for v in dq[0]] == [
        ["DO_NOT_USE", "DEAD"],
        ["WARM"],
        ["DO_NOT_USE", "REFERENCE_PIXEL"],
    ]
    assert combine_flags({"DEAD": dead}, do_not_use=()).tolist() == [[1024, 0, 0]]


def test_combine_flags_uses_the_flag_map_given():
    custom = bitmask.extend_bit_flag_map("Custom", DO_NOT_USE=1, DEAD=8, HOT=64)
    dq = combine_flags(
        {"DEAD": np.array([True]), "HOT": np.array([True])}, ["HOT"], custom
    )
    assert dq.tolist() == [8 | 64 | 1]
    with pytest.raises(FlagError, match="'OPEN'"):
        combine_flags({"OPEN": np.array([True])}, (), custom)


def test_reference_pixels_border_and_limits():
    border = reference_pixels((10, 12), width=2)
    assert border.sum() == 10 * 12 - 6 * 8
    assert not reference_pixels((10, 12), width=0).any()
    with pytest.raises(IrisDQError, match="does not fit"):
        reference_pixels((10, 12), width=5)
