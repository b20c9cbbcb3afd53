"""dq_patch: the spans of a DQ array that flags change, and ORing them in
place with the data sum of the whole array."""

import math

import numpy as np
import pytest

from irisdq.datamodels import dq_patch
from irisdq.datamodels.checksum import add_sums, word_sum
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
@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint8, np.int16, np.uint64])
@pytest.mark.parametrize("gap", [0, 4096])
@pytest.mark.parametrize("stored_sum", [None, "right", "wrong"])
def test_patching_writes_what_a_full_rewrite_would(
    tmp_path, monkeypatch, layout, dtype, gap, stored_sum
):
    """Blocks of 24 bytes and mappings of 64: spans cross their boundaries
    and are cut; the sum is that of the whole array as stored afterwards
    (off by as much as a wrong stored sum was), and nothing outside it
    moves."""
    monkeypatch.setattr(dq_patch, "_BLOCK_BYTES", 24)
    monkeypatch.setattr(dq_patch, "_WINDOW_BYTES", 64)
    monkeypatch.setattr(dq_patch, "_GROUP_ELEMENTS", 5)
    shape, planes_first = LAYOUTS[layout]
    rng = np.random.default_rng(3)
    flags = _flags(rng, 0.2, dtype)
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    flip = {np.uint16: 0x8000, np.uint32: 0x80000000, np.uint64: 1 << 63}.get(dtype, 0)
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
    before = word_sum(stored.tobytes())
    datasum = {None: None, "right": before, "wrong": add_sums(before, 5)}[stored_sum]
    with open(path, "r+b", buffering=0) as stream:
        total = patch_spans(
            stream.fileno(), len(head), shape, dtype, flags, planes_first, spans,
            "DQ", path, datasum=datasum,
        )  # fmt: skip
    expected = values.reshape(-1) | _flag_of_each_element(flags, shape, planes_first)
    written = path.read_bytes()
    assert written[: len(head)] == head
    assert written[-len(tail) :] == tail
    body = written[len(head) : -len(tail)]
    got = np.frombuffer(body, unsigned.newbyteorder(">")) ^ unsigned.type(flip)
    np.testing.assert_array_equal(got.astype(unsigned).view(dtype), expected)
    # A stored sum is used when the array is whole 4-byte words; else the
    # array is read and summed.
    if stored_sum == "wrong" and len(body) % 4 == 0:
        assert total == add_sums(word_sum(body), 5)
    else:
        assert total == word_sum(body)


def _stored_uint16(path, values, head=b""):
    path.write_bytes(head + (values ^ np.uint16(0x8000)).astype(">u2").tobytes())


def test_a_stored_sum_spares_reading_the_array(tmp_path, monkeypatch):
    """With the stored sum only the spans' pages are read (through a
    mapping): the array is never read in blocks."""
    path = tmp_path / "dq.bin"
    values = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
    _stored_uint16(path, values)
    before = word_sum(path.read_bytes())
    flags = np.zeros((2, 3), dtype=np.uint16)
    flags[1, 2] = 9
    reads = []
    monkeypatch.setattr(dq_patch.os, "preadv", lambda *a: reads.append(a) or 0)
    with open(path, "r+b", buffering=0) as stream:
        total = patch_spans(
            stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[20, 24]],
            "DQ", path, datasum=before,
        )  # fmt: skip
    assert reads == []
    assert total == word_sum(path.read_bytes())


def test_without_mappings_the_array_is_read(tmp_path, monkeypatch):
    """A file system that cannot map files: the same bytes and sum."""
    path = tmp_path / "dq.bin"
    values = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
    _stored_uint16(path, values)
    before = word_sum(path.read_bytes())

    def unmappable(*args, **kwargs):
        raise OSError(19, "No such device")

    monkeypatch.setattr(dq_patch.mmap, "mmap", unmappable)
    flags = np.zeros((2, 3), dtype=np.uint16)
    flags[0, 1] = 3
    with open(path, "r+b", buffering=0) as stream:
        total = patch_spans(
            stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[4, 8]],
            "DQ", path, datasum=before,
        )  # fmt: skip
    after = np.frombuffer(path.read_bytes(), ">u2") ^ np.uint16(0x8000)
    assert after[4:8].tolist() == [4 | 3, 5 | 3, 6 | 3, 7 | 3]
    assert total == word_sum(path.read_bytes())


def test_an_array_that_becomes_all_zero_words_sums_to_zero(tmp_path):
    """The ones' complement has two zeros: a stored sum updated by the
    change cannot tell an all-zero array (sum 0) from one summing to all
    ones, so the array is read. Stored uint16 0x8000 is value 0; the flag
    0x8000 makes every stored word zero."""
    path = tmp_path / "dq.bin"
    _stored_uint16(path, np.zeros((2, 2), dtype=np.uint16))
    before = word_sum(path.read_bytes())
    assert before != 0
    flags = np.full((2, 2), 0x8000, dtype=np.uint16)
    with open(path, "r+b", buffering=0) as stream:
        total = patch_spans(
            stream.fileno(), 0, (2, 2), np.uint16, flags, False, [[0, 4]],
            "DQ", path, datasum=before,
        )  # fmt: skip
    assert path.read_bytes() == bytes(8)
    assert total == 0


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


def test_an_array_whose_words_sum_to_all_ones_is_read(tmp_path):
    """The other zero: stored words summing to all ones (not 0) after the
    change, which the stored sum updated by it cannot tell from 0."""
    path = tmp_path / "dq.bin"
    values = np.array([[0x7FFE, 0x7FFE], [0x8000, 0x8000]], dtype=np.uint16)
    _stored_uint16(path, values)
    before = word_sum(path.read_bytes())
    flags = np.array([[1, 1], [0, 0]], dtype=np.uint16)
    with open(path, "r+b", buffering=0) as stream:
        total = patch_spans(
            stream.fileno(), 0, (2, 2), np.uint16, flags, False, [[0, 2]],
            "DQ", path, datasum=before,
        )  # fmt: skip
    assert path.read_bytes() == b"\xff" * 4 + bytes(4)
    assert total == 0xFFFFFFFF == word_sum(path.read_bytes())


def _stored_ramp(tmp_path):
    """A (2, 3, 4) uint16 array stored with BZERO, its flags at one pixel."""
    path = tmp_path / "dq.bin"
    _stored_uint16(path, np.arange(24, dtype=np.uint16).reshape(2, 3, 4))
    flags = np.zeros((2, 3), dtype=np.uint16)
    flags[1, 2] = 9
    return path, flags


def test_a_prepared_patch_writes_what_patch_spans_writes(tmp_path):
    path, flags = _stored_ramp(tmp_path)
    before = path.read_bytes()
    with open(path, "r+b", buffering=0) as stream:
        patch = dq_patch.prepare_patch(
            stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[20, 24]]
        )
        assert path.read_bytes() == before  # nothing written yet
        assert patch.byte_spans.tolist() == [[40, 48]]
        assert patch.old == before[40:48]
        patch.write(stream.fileno())
    after = path.read_bytes()
    assert (word_sum(before) + patch.change) % 0xFFFFFFFF == word_sum(after)
    copy = tmp_path / "copy.bin"
    copy.write_bytes(before)
    with open(copy, "r+b", buffering=0) as stream:
        patch_spans(
            stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[20, 24]],
            "DQ", copy,
        )  # fmt: skip
    assert copy.read_bytes() == after


@pytest.mark.parametrize("why", ["too many bytes", "unmappable", "truncated"])
def test_a_patch_is_not_prepared_when_it_cannot_be(tmp_path, monkeypatch, why):
    """Spans over the limit, a file system without mmap, or a file that
    ends early: None, and patch_spans does the work (or names the file)."""
    path, flags = _stored_ramp(tmp_path)
    if why == "too many bytes":
        monkeypatch.setattr(dq_patch, "_PREPARED_ELEMENTS", 3)
    elif why == "unmappable":

        def unmappable(*args, **kwargs):
            raise OSError(19, "No such device")

        monkeypatch.setattr(dq_patch.mmap, "mmap", unmappable)
    else:
        path.write_bytes(path.read_bytes()[:40])
    with open(path, "r+b", buffering=0) as stream:
        assert (
            dq_patch.prepare_patch(
                stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[20, 24]]
            )
            is None
        )


def test_a_truncated_array_with_a_stored_sum_is_named(tmp_path):
    path = tmp_path / "dq.bin"
    path.write_bytes(b"\0" * 10)
    flags = np.ones((2, 3), dtype=np.uint16)
    with (
        open(path, "r+b", buffering=0) as stream,
        pytest.raises(Exception, match="DQ ends early; the file is truncated"),
    ):
        patch_spans(
            stream.fileno(), 0, (2, 3, 4), np.uint16, flags, True, [[0, 24]],
            "DQ", path, datasum=12345,
        )  # fmt: skip
