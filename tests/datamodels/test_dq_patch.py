"""dq_patch: the spans of a DQ array that flags change, and ORing them in
place with the data sum of the whole array."""

import math

import numpy as np
import pytest

from irisdq.datamodels import dq_patch
from irisdq.datamodels.checksum import word_sum
from irisdq.datamodels.dq_patch import changed_spans, patch_spans

LAYOUTS = {
    # name: (shape, planes_first)
    "liger": ((7, 9, 3, 2), True),
    "groupdq": ((2, 3, 7, 9), False),
    "pixeldq": ((7, 9), False),
}


def _flags(rng, fraction, dtype=np.uint16) -> np.ndarray:
    flags = np.zeros((7, 9), dtype=dtype)
    where = rng.random(flags.shape) < fraction
    flags[where] = rng.integers(1, np.iinfo(dtype).max, int(where.sum()), dtype=dtype)
    return flags


def _flag_of_each_element(flags, shape, planes_first) -> np.ndarray:
    if planes_first:
        return np.broadcast_to(
            flags.reshape(flags.shape + (1,) * (len(shape) - 2)), shape
        ).reshape(-1)
    return np.broadcast_to(flags, shape).reshape(-1)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.4, 1.0])
def test_spans_without_gap_are_exactly_the_flagged_elements(layout, fraction):
    shape, planes_first = LAYOUTS[layout]
    flags = _flags(np.random.default_rng(1), fraction)
    spans = changed_spans(flags, shape, planes_first=planes_first, itemsize=2, gap=0)
    covered = np.zeros(math.prod(shape), dtype=bool)
    for start, stop in spans:
        assert not covered[start:stop].any()
        covered[start:stop] = True
    assert (spans[1:, 0] > spans[:-1, 1]).all()  # sorted and apart
    expected = _flag_of_each_element(flags, shape, planes_first) != 0
    np.testing.assert_array_equal(covered, expected)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_spans_closer_than_the_gap_are_joined(layout):
    shape, planes_first = LAYOUTS[layout]
    flags = _flags(np.random.default_rng(2), 0.3)
    apart = changed_spans(flags, shape, planes_first=planes_first, itemsize=2, gap=0)
    joined = changed_spans(flags, shape, planes_first=planes_first, itemsize=2, gap=64)
    assert len(joined) < len(apart)
    assert ((joined[1:, 0] - joined[:-1, 1]) * 2 >= 64).all()
    for start, stop in apart:  # every flagged element is still in a span
        inside = (joined[:, 0] <= start) & (stop <= joined[:, 1])
        assert inside.sum() == 1


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint8, np.int16])
@pytest.mark.parametrize("gap", [0, 4096])
def test_patching_writes_what_a_full_rewrite_would(
    tmp_path, monkeypatch, layout, dtype, gap
):
    """Blocks of 24 bytes: spans cross block boundaries; the sum is that of
    the whole array as stored afterwards, and nothing outside it moves."""
    monkeypatch.setattr(dq_patch, "_BLOCK_BYTES", 24)
    shape, planes_first = LAYOUTS[layout]
    rng = np.random.default_rng(3)
    flags = _flags(rng, 0.2, dtype)
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    flip = {np.uint16: 0x8000, np.uint32: 0x80000000}.get(dtype, 0)
    unsigned = np.dtype(f"u{np.dtype(dtype).itemsize}")
    stored = (values.view(unsigned) ^ unsigned.type(flip)).astype(
        unsigned.newbyteorder(">")
    )
    head, tail = b"H" * 5, b"T" * 7
    path = tmp_path / "dq.bin"
    path.write_bytes(head + stored.tobytes() + tail)
    spans = changed_spans(
        flags, shape, planes_first=planes_first, itemsize=unsigned.itemsize, gap=gap
    )
    with open(path, "r+b", buffering=0) as stream:
        total = patch_spans(
            stream.fileno(), len(head), shape, dtype, flags, planes_first, spans,
            "DQ", path,
        )  # fmt: skip
    expected = values.reshape(-1) | _flag_of_each_element(flags, shape, planes_first)
    written = path.read_bytes()
    assert written[: len(head)] == head
    assert written[-len(tail) :] == tail
    body = written[len(head) : -len(tail)]
    got = np.frombuffer(body, unsigned.newbyteorder(">")) ^ unsigned.type(flip)
    np.testing.assert_array_equal(got.astype(unsigned).view(dtype), expected)
    assert total == word_sum(body)


def test_a_truncated_array_is_named(tmp_path):
    path = tmp_path / "dq.bin"
    path.write_bytes(b"\0" * 10)
    flags = np.ones((2, 3), dtype=np.uint16)
    with (
        open(path, "r+b", buffering=0) as stream,
        pytest.raises(Exception, match="DQ ends early; the file is truncated"),
    ):
        patch_spans(
            stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[0, 24]],
            "DQ", path,
        )  # fmt: skip
