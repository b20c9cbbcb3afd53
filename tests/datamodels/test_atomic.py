import errno
import os
import stat
from pathlib import Path

import pytest

from irisdq.datamodels import atomic
from irisdq.datamodels.atomic import (
    atomic_output,
    check_replaceable,
    remove_abandoned_temporaries,
    temporary_files,
)


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


def _write(target, data, *, overwrite=True):
    with atomic_output(target, overwrite=overwrite) as stream:
        stream.write(data)


@pytest.mark.parametrize("overwrite", [True, False])
def test_refuses_a_fifo_and_a_directory(tmp_path, overwrite):
    """case 5: only a regular file is ever replaced."""
    fifo = tmp_path / "pipe.fits"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.fits"
    folder.mkdir()
    with pytest.raises(FileExistsError, match=r"is a FIFO .*only replaces regular"):
        _write(fifo, b"x", overwrite=overwrite)
    with pytest.raises(FileExistsError, match="is a directory; irisdq only"):
        _write(folder, b"x", overwrite=overwrite)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert folder.is_dir()
    assert sorted(os.listdir(tmp_path)) == ["folder.fits", "pipe.fits"]


def test_refuses_a_character_device():
    """case 5: /dev/null is named and said to be a character device (the
    check alone: nothing is written)."""
    with pytest.raises(FileExistsError) as caught:
        check_replaceable("/dev/null")
    assert str(caught.value) == (
        "[Errno 17] is a character device; irisdq only replaces regular "
        "files: '/dev/null'"
    )


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_refuses_a_symbolic_link(tmp_path, where):
    """case 5: a symbolic link is refused, whether its target is outside
    the output folder or inside it; neither the link nor its target change."""
    out = tmp_path / "out"
    out.mkdir()
    target = (tmp_path if where == "outside" else out) / "precious.fits"
    target.write_bytes(b"precious")
    link = out / "a_dqinit.fits"
    link.symlink_to(target)
    with pytest.raises(FileExistsError, match=r"is a symbolic link \(to .*precious"):
        _write(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"precious"
    assert temporary_files(link) == []


def test_replacing_keeps_mode_and_owner(tmp_path):
    """case 5: the new file keeps the replaced file's permission bits and
    owner, as cp onto an existing file does."""
    target = tmp_path / "out.fits"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    if os.geteuid() == 0:
        os.chown(target, 12345, 23456)
    before = os.stat(target)
    _write(target, b"new")
    after = os.stat(target)
    assert target.read_bytes() == b"new"
    assert after.st_ino != before.st_ino
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)


def test_a_long_name_gets_a_short_temporary(tmp_path):
    """case 24: a 251-character name still gets a temporary name under 255
    bytes, which temporary_files finds for that target only."""
    target = tmp_path / ("x" * 246 + ".fits")
    sibling = tmp_path / ("x" * 246 + ".fitz")
    with atomic_output(target) as stream:
        (temporary,) = temporary_files(target)
        assert len(os.fsencode(temporary.name)) < 255
        assert temporary_files(sibling) == []
        stream.write(b"done")
    assert target.read_bytes() == b"done"
    assert temporary_files(target) == []


def test_cleanup_spares_a_temporary_being_written(tmp_path):
    """case 21: a temporary held locked by a live writer survives a cleanup;
    an unlocked one left by a dead writer is removed."""
    target = tmp_path / "out.fits"
    stale = tmp_path / ".out.fits.0123abcd.tmp"
    stale.write_bytes(b"left by a killed writer")
    with atomic_output(target) as stream:
        stream.write(b"half")
        (live,) = [p for p in temporary_files(target) if p != stale]
        assert remove_abandoned_temporaries(target) == [stale]
        assert live.exists()
        assert not stale.exists()
        stream.write(b" and the rest")
    assert target.read_bytes() == b"half and the rest"
    assert temporary_files(target) == []


def test_cleanup_spares_a_temporary_locked_by_another_process(tmp_path):
    """case 21: the lock of a writer in another process counts too."""
    import subprocess
    import sys

    target = tmp_path / "out.fits"
    held = tmp_path / ".out.fits.89abcdef.tmp"
    held.write_bytes(b"another run's output")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys; f = open(sys.argv[1], 'rb'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); "
         "sys.stdin.read()", str(held)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "locked\n"
        assert remove_abandoned_temporaries(target) == []
        assert held.exists()
    finally:
        holder.communicate("")
    assert remove_abandoned_temporaries(target) == [held]


def test_cleanup_leaves_a_fifo_alone(tmp_path):
    """case 21: a FIFO with a temporary's name is not ours: the cleanup
    neither blocks on it nor removes it."""
    target = tmp_path / "out.fits"
    fifo = tmp_path / ".out.fits.0123abcd.tmp"
    os.mkfifo(fifo)
    assert remove_abandoned_temporaries(target) == []
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_an_error_creating_the_temporary_names_the_target():
    """case 12: a temporary that cannot be created (here in /proc, where no
    file can be) is reported under the name the caller gave."""
    target = Path("/proc/self/out.fits")
    with pytest.raises(OSError, match="while creating a temporary") as caught:
        _write(target, b"x")
    assert caught.value.filename == str(target)
    assert "while creating a temporary file beside it" in caught.value.strerror


def test_a_filesystem_without_hard_links_gets_a_rename(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "out.bin"
    with atomic_output(target) as stream:
        stream.write(b"new")
    assert target.read_bytes() == b"new"
    assert temporary_files(target) == []


@pytest.mark.parametrize("links", [True, False], ids=["links", "no-links"])
def test_a_file_that_appears_meanwhile_is_kept(tmp_path, monkeypatch, links):
    target = tmp_path / "out.bin"
    link = os.link

    def racing(source, name):
        Path(name).write_bytes(b"theirs")
        if links:
            return link(source, name)
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", racing)
    with pytest.raises(FileExistsError, match="already exists"):
        _write(target, b"ours", overwrite=False)
    assert target.read_bytes() == b"theirs"
    assert temporary_files(target) == []


def test_a_temporary_name_already_taken_is_drawn_again(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    taken = tmp_path / ".out.bin.aaaaaaaa.tmp"
    taken.write_bytes(b"someone else's")
    tags = iter(["aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: next(tags))
    _write(target, b"x")
    assert target.read_bytes() == b"x"
    assert taken.read_bytes() == b"someone else's"
    assert temporary_files(target) == [taken]


def test_no_temporaries_in_a_missing_folder(tmp_path):
    assert temporary_files(tmp_path / "missing" / "out.bin") == []
    assert remove_abandoned_temporaries(tmp_path / "missing" / "out.bin") == []


def test_replacing_keeps_the_group_when_the_owner_cannot_be_set(tmp_path, monkeypatch):
    # As for a user who does not own the file: fchown to another owner is
    # refused, the group alone is kept, and the mode all the same.
    target = tmp_path / "out.fits"
    target.write_bytes(b"old")
    os.chmod(target, 0o2750)
    existing = os.stat(target)
    calls = []
    fchown = os.fchown

    def refuse_owner(descriptor, uid, gid):
        calls.append((uid, gid))
        if uid != -1:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))
        fchown(descriptor, uid, gid)

    monkeypatch.setattr(os, "fchown", refuse_owner)
    _write(target, b"new")
    after = os.stat(target)
    assert calls == [(existing.st_uid, existing.st_gid), (-1, existing.st_gid)]
    assert after.st_gid == existing.st_gid
    assert stat.S_IMODE(after.st_mode) == 0o2750
    assert target.read_bytes() == b"new"
