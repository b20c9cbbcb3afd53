"""Pictures of DQ arrays: binning, panels, placement on the detector, counts."""

import numpy as np
import pytest

from irisdq import dqflags, plots

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt

DNU, DEAD, HOT = (int(dqflags.pixel[name]) for name in ("DO_NOT_USE", "DEAD", "HOT"))


@pytest.fixture
def draw():
    figures = []

    def draw(dq, **options):
        figures.append(plots.draw_dq(dq, **options))
        return figures[-1]

    yield draw
    for figure in figures:
        plt.close(figure)


def _coloured(axes):
    """The picture pixels of an image panel that are not background."""
    rgba = np.asarray(axes.images[0].get_array())
    return np.any(rgba != plots._BACKGROUND, axis=-1)


def test_binning_keeps_a_single_flagged_pixel_and_every_flag_of_a_block():
    dq = np.zeros((1000, 1001), dtype=np.uint32)
    dq[999, 1000] = HOT  # alone in the last, smaller block
    dq[10, 10], dq[12, 13] = DEAD, DNU  # two flags in one block
    binned = plots.bin_flags(dq, 7)
    assert binned.shape == (143, 143)
    assert binned[142, 142] == HOT
    assert binned[1, 1] == DEAD | DNU
    assert np.count_nonzero(binned) == 2


def test_a_single_hot_pixel_of_a_full_frame_is_in_the_picture(draw):
    dq = np.zeros((4096, 4096), dtype=np.uint32)
    dq[2000, 3000] = HOT
    figure = draw(dq, detector=(4096, 4096))
    coloured = _coloured(figure.axes[0])
    # Binned, but at most one screen pixel per picture pixel.
    assert max(coloured.shape) <= plots._PANEL
    assert np.count_nonzero(coloured) == 1
    row, column = np.argwhere(coloured)[0]
    factor = 4096 // coloured.shape[0]
    assert (row, column) == (2000 // factor, 3000 // factor)


def test_do_not_use_has_its_own_panel_and_hides_no_other_flag(draw):
    dq = np.zeros((8, 8), dtype=np.uint32)
    dq[2, 3] = DNU | DEAD
    dq[5, 6] = DNU
    flags, do_not_use, _ = draw(dq).axes
    assert np.argwhere(_coloured(flags)).tolist() == [[2, 3]]
    assert np.argwhere(_coloured(do_not_use)).tolist() == [[2, 3], [5, 6]]
    dead = np.asarray(flags.images[0].get_array())[2, 3]
    dnu = np.asarray(do_not_use.images[0].get_array())[2, 3]
    assert tuple(dnu) == plots._DO_NOT_USE_COLOUR
    assert tuple(dead) != tuple(dnu)


def test_a_subarray_is_drawn_where_it_lies_on_the_detector(draw):
    dq = np.zeros((16, 32), dtype=np.uint32)
    figure = draw(dq, start=(101, 201), detector=(4096, 4096))
    axes = figure.axes[0]
    # 1-based: the first column, 101, has its centre at x = 101.
    assert axes.images[0].get_extent() == [100.5, 132.5, 200.5, 216.5]
    # At its own extent (and a margin), not in a frame the detector's size.
    left, right = axes.get_xlim()
    bottom, top = axes.get_ylim()
    assert 99 < left < 100.5
    assert 132.5 < right < 134
    assert 199 < bottom < 200.5
    assert 216.5 < top < 218
    assert "1-based" in axes.get_xlabel()
    assert "1-based" in axes.get_ylabel()


def _shown_ticks(axes):
    low, high = axes.get_xlim()
    return [tick for tick in axes.get_xticks() if low <= tick <= high]


def test_counts_have_thousands_separators_and_integer_ticks(draw):
    dq = np.zeros((64, 64), dtype=np.uint32)
    dq.flat[:1500] = DEAD
    dq[60, :2] = HOT
    bars = draw(dq).axes[2]
    assert [text.get_text().strip() for text in bars.texts] == ["1,500", "2"]
    assert all(float(tick).is_integer() for tick in _shown_ticks(bars))
    two = np.zeros((4, 4), dtype=np.uint32)
    two[0, :2] = HOT
    bars = draw(two).axes[2]
    assert all(float(tick).is_integer() for tick in _shown_ticks(bars))


def test_the_counts_are_outside_the_images(draw):
    dq = np.zeros((8, 8), dtype=np.uint32)
    dq[1, 1] = HOT
    flags, do_not_use, bars = draw(dq).axes
    assert flags.get_legend() is None
    assert do_not_use.get_legend() is None
    right_of_images = do_not_use.get_position().x1
    assert bars.get_position().x0 > right_of_images


def test_placement_from_keywords():
    assert plots.placement({"DETECTOR": "IRIS2", "SUBSTRT1": "5", "SUBSTRT2": 7}) == (
        (5, 7),
        (4096, 4096),
    )


def test_without_matplotlib_one_error_naming_the_install(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(plots.IrisDQError, match=r'pip install "irisdq\[plot\]"'):
        plots.plot_dq(np.zeros((4, 4), np.uint32), tmp_path / "dq.png")
    assert not (tmp_path / "dq.png").exists()


def test_one_colour_per_flag_even_with_many_flags(draw):
    dq = np.zeros((4, 4), dtype=np.uint32)
    dq.flat[:] = [1 << bit for bit in range(1, 17)]  # 16 flags, no DO_NOT_USE
    bars = draw(dq).axes[2]
    colours = {tuple(patch.get_facecolor()) for patch in bars.patches}
    assert len(colours) == 16


@pytest.mark.parametrize(
    ("shape", "start", "circled"),
    [
        ((10, 10), (1, 1), False),
        ((512, 512), (1025, 2049), True),
        ((32, 32), (1, 1), False),
    ],
    ids=["sample-10x10", "subarray-512", "liger-32x32"],
)
def test_an_array_smaller_than_the_detector_is_drawn_at_its_own_extent(
    shape, start, circled
):
    """It once filled a corner of a 4096 x 4096 frame, circles piled at the
    origin."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    dq = np.zeros(shape, dtype=np.uint32)
    dq[0, 0] = dqflags.pixel.HOT
    dq[-1, -1] = dqflags.pixel.DEAD
    figure = plots.draw_dq(dq, start=start, detector=(4096, 4096))
    try:
        flags = figure.axes[0]
        left, right = flags.get_xlim()
        bottom, top = flags.get_ylim()
        ny, nx = shape
        # The view is the array and a small margin, not the detector.
        assert start[0] - 0.5 - 0.05 * nx <= left <= start[0] - 0.5
        assert start[0] - 0.5 + nx <= right <= start[0] - 0.5 + 1.05 * nx
        assert start[1] - 0.5 - 0.05 * ny <= bottom <= start[1] - 0.5
        assert start[1] - 0.5 + ny <= top <= start[1] - 0.5 + 1.05 * ny
        # Pixels drawn large enough to be seen are not circled; smaller ones
        # are, each where it is, the two circles apart.
        centres = sorted(
            tuple(offset)
            for collection in flags.collections
            for offset in collection.get_offsets()
        )
        assert centres == (
            [(start[0], start[1]), (start[0] + nx - 1, start[1] + ny - 1)]
            if circled
            else []
        )
        # No stray part of the detector's outline in the margin.
        assert not flags.patches
        caption = " ".join(text.get_text() for text in figure.texts)
        assert f"at SUBSTRT1={start[0]}, SUBSTRT2={start[1]}" in caption
        assert "4,096 x 4,096 detector" in caption
        assert "(outlined)" not in caption
    finally:
        plt.close(figure)
