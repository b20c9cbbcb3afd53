"""irisdq.dq_init.core: the algorithm of DESIGN.md on plain arrays."""

import tracemalloc

import numpy as np
import pytest

from irisdq.dq_init.core import (
    Subarray,
    apply_mask,
    cut_subarray,
    group_flags,
    or_group_flags,
    remap_dq_def,
)
from irisdq.dqflags import DQDefRow
from irisdq.errors import SubarrayError


def coordinate_mask(ny=40, nx=50):
    """A mask whose value encodes its own position: row * 1000 + column."""
    rows, cols = np.indices((ny, nx))
    return (rows * 1000 + cols).astype(np.uint32)


class TestCutSubarray:
    @pytest.mark.parametrize(
        ("xstart", "ystart", "nx", "ny"),
        [(1, 1, 50, 40), (1, 1, 5, 3), (7, 3, 10, 4), (41, 31, 10, 10), (50, 40, 1, 1)],
    )
    def test_exact_positions(self, xstart, ystart, nx, ny):
        mask = coordinate_mask()
        cut = cut_subarray(mask, (ny, nx), Subarray(xstart, ystart))
        assert cut.shape == (ny, nx)
        # SUBSTRT1 is the column (last axis), SUBSTRT2 the row, both 1-based.
        assert cut[0, 0] == (ystart - 1) * 1000 + (xstart - 1)
        assert cut[-1, -1] == (ystart - 1 + ny - 1) * 1000 + (xstart - 1 + nx - 1)
        assert np.shares_memory(cut, mask)

    def test_rows_and_columns_not_swapped(self):
        mask = coordinate_mask()
        cut = cut_subarray(mask, (2, 8), Subarray(xstart=20, ystart=5))
        assert cut[0, 0] == 4 * 1000 + 19
        assert cut[1, 7] == 5 * 1000 + 26

    def test_subarray_mask_serves_smaller_subarray(self):
        full = coordinate_mask(100, 100)
        # A 30x40 mask cut from the full frame at column 11, row 21 (1-based).
        sub_mask = full[20:50, 10:50]
        reference = Subarray(xstart=11, ystart=21, xsize=40, ysize=30)
        cut = cut_subarray(sub_mask, (5, 6), Subarray(xstart=15, ystart=30), reference)
        np.testing.assert_array_equal(cut, full[29:34, 14:20])

    def test_full_frame_without_keywords(self):
        mask = coordinate_mask()
        assert cut_subarray(mask, (40, 50), None) is mask

    def test_smaller_science_without_keywords(self):
        with pytest.raises(SubarrayError, match="no SUBSTRT1/SUBSTRT2"):
            cut_subarray(coordinate_mask(), (10, 10), None)

    @pytest.mark.parametrize(("xstart", "ystart"), [(0, 1), (1, 0), (-3, 5)])
    def test_start_below_one(self, xstart, ystart):
        with pytest.raises(SubarrayError, match="at least 1"):
            cut_subarray(coordinate_mask(), (2, 2), Subarray(xstart, ystart))

    @pytest.mark.parametrize(
        ("science", "reference", "slice_text"),
        [
            (Subarray(45, 1), None, "mask[0:10, 44:54]"),
            (Subarray(1, 35), None, "mask[34:44, 0:10]"),
            (Subarray(5, 5), Subarray(10, 1), "mask[4:14, -5:5]"),
        ],
    )
    def test_cut_outside_mask(self, science, reference, slice_text):
        with pytest.raises(SubarrayError) as info:
            cut_subarray(coordinate_mask(), (10, 10), science, reference)
        message = str(info.value)
        assert slice_text in message
        assert f"SUBSTRT1={science.xstart} SUBSTRT2={science.ystart}" in message
        assert "40x50" in message


class TestApplyMask:
    def test_flags_ored_and_existing_bits_kept(self):
        mask = np.array([[0, 1024], [1025, 2048]], dtype=np.uint32)
        pixeldq = np.array([[4, 4], [0, 2**31]], dtype=np.uint32)
        groupdq = np.zeros((2, 3, 2, 2), dtype=np.uint8)
        groupdq[1, 2, 0, 0] = 4  # a jump flagged earlier
        apply_mask(pixeldq, groupdq, mask)
        np.testing.assert_array_equal(pixeldq, [[4, 1028], [1025, 2**31 + 2048]])
        # Only DO_NOT_USE goes to GROUPDQ, in every integration and group.
        expected_plane = np.array([[0, 0], [1, 0]], dtype=np.uint8)
        for i in range(2):
            for g in range(3):
                extra = 4 if (i, g) == (1, 2) else 0
                expected = expected_plane.copy()
                expected[0, 0] |= extra
                np.testing.assert_array_equal(groupdq[i, g], expected)

    def test_groupdq_none_leaves_it_alone(self):
        pixeldq = np.zeros((2, 2), dtype=np.uint32)
        apply_mask(pixeldq, None, np.full((2, 2), 3, dtype=np.uint32))
        np.testing.assert_array_equal(pixeldq, 3)

    def test_shape_mismatch(self):
        with pytest.raises(SubarrayError, match="does not match"):
            apply_mask(np.zeros((2, 2), np.uint32), None, np.zeros((3, 3), np.uint32))

    def test_mask_not_modified(self):
        mask = np.array([[1, 2]], dtype=np.uint32)
        apply_mask(np.zeros((1, 2), np.uint32), np.zeros((1, 1, 1, 2), np.uint8), mask)
        np.testing.assert_array_equal(mask, [[1, 2]])

    def test_no_groupdq_sized_temporary(self):
        groupdq = np.zeros((1, 40, 512, 512), dtype=np.uint8)  # 10 MiB
        pixeldq = np.zeros((512, 512), dtype=np.uint32)
        mask = np.ones((512, 512), dtype=np.uint32)
        tracemalloc.start()
        try:
            apply_mask(pixeldq, groupdq, mask)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < groupdq.nbytes / 10
        assert groupdq.all()


def test_group_flags_and_or():
    mask = np.array([[1, 3], [1024, 2**31 + 1]], dtype=np.uint32)
    plane = group_flags(mask)
    assert plane.dtype == np.uint8
    np.testing.assert_array_equal(plane, [[1, 1], [0, 1]])
    groupdq = np.full((3, 2, 2), 2, dtype=np.uint8)
    or_group_flags(groupdq, plane)
    np.testing.assert_array_equal(groupdq, np.broadcast_to([[3, 3], [2, 3]], (3, 2, 2)))


class TestRemapDQDef:
    def test_remapped_by_name(self):
        mask = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], dtype=np.uint32)
        rows = [
            DQDefRow(0, 1, "DO_NOT_USE", ""),
            DQDefRow(1, 2, "hot", ""),
            DQDefRow(2, 4, "DEAD", ""),
        ]
        out = remap_dq_def(mask, rows)
        np.testing.assert_array_equal(
            out, [[0, 1, 2048, 2049], [1024, 1025, 3072, 3073]]
        )
        np.testing.assert_array_equal(mask, [[0, 1, 2, 3], [4, 5, 6, 7]])

    def test_identity_returns_the_mask(self):
        mask = np.array([0, 1024], dtype=np.uint32)
        assert remap_dq_def(mask, [DQDefRow(10, 1024, "DEAD", "")]) is mask

    def test_unknown_name_dropped_with_warning(self):
        mask = np.array([0, 1, 2, 3], dtype=np.uint32)
        rows = [DQDefRow(0, 1, "DEAD", ""), DQDefRow(1, 2, "SPARKLY", "")]
        with pytest.warns(UserWarning, match="m.fits: DQ_DEF flag name 'SPARKLY'"):
            out = remap_dq_def(mask, rows, source="m.fits")
        np.testing.assert_array_equal(out, [0, 1024, 0, 1024])


def test_remap_dq_def_drops_bits_a_table_of_pipeline_values_does_not_name():
    # jwst's dynamic_mask rebuilds the flags from the table: an unnamed bit
    # goes even when every named value is already the pipeline's.
    rows = [DQDefRow(10, 1024, "DEAD", "")]
    mask = np.array([1024, 1024 | 4, 8], dtype=np.uint32)
    with pytest.warns(UserWarning, match=r"bit value\(s\) 4, 8 are not in DQ_DEF"):
        result = remap_dq_def(mask, rows)
    np.testing.assert_array_equal(result, [1024, 1024, 0])
    np.testing.assert_array_equal(mask, [1024, 1028, 8])  # the input is kept
