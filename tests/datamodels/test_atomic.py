import os

import pytest

from irisdq.datamodels.atomic import atomic_output


def _write_then_fail(target, data, *, overwrite):
    with atomic_output(target, overwrite=overwrite) as stream:
        stream.write(data)
        raise RuntimeError("crash")


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.fits"
    with pytest.raises(RuntimeError, match="crash"):
        _write_then_fail(target, b"half", overwrite=False)
    assert os.listdir(tmp_path) == []


def test_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.fits"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="crash"):
        _write_then_fail(target, b"new", overwrite=True)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.fits"]


def test_creates_parent_folders_and_replaces_on_request(tmp_path):
    target = tmp_path / "a" / "b" / "out.fits"
    with atomic_output(target) as stream:
        stream.write(b"one")
    with atomic_output(target, overwrite=True) as stream:
        stream.write(b"two")
    assert target.read_bytes() == b"two"
