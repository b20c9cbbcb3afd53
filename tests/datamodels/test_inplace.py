"""The undo journal of in-place changes."""

import errno
import io
import os
import signal

import numpy as np
import pytest

from irisdq.datamodels import inplace
from irisdq.errors import DataModelError

ORIGINAL = b"HEADER--" + bytes(range(256)) * 4


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.fits"
    path.write_bytes(ORIGINAL)
    return path


def _killed_inside(path, regions, change):
    pid = os.fork()
    if pid == 0:
        try:
            with inplace.update_in_place(path, regions) as stream:
                change(stream)
                os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL


def test_success_keeps_the_change_and_the_inode(data):
    inode = data.stat().st_ino
    with inplace.update_in_place(data, [(0, 8)]) as stream:
        stream.write(b"CHANGED!")
        stream.seek(0, os.SEEK_END)
        stream.write(b"appended")
    assert data.read_bytes() == b"CHANGED!" + ORIGINAL[8:] + b"appended"
    assert data.stat().st_ino == inode
    assert not inplace.pending(data)


@pytest.mark.parametrize(
    "error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()]
)
def test_error_restores_bytes_and_size(data, error):
    def change_then_fail():
        with inplace.update_in_place(data, [(0, 8), (100, 200)]) as stream:
            stream.write(b"CHANGED!")
            stream.seek(100)
            stream.write(b"x" * 100)
            stream.seek(0, os.SEEK_END)
            stream.write(b"partial HDU")
            raise error

    with pytest.raises(type(error)):
        change_then_fail()
    assert data.read_bytes() == ORIGINAL
    assert not inplace.pending(data)
    assert sorted(p.name for p in data.parent.iterdir()) == ["data.fits"]


@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler, even under a shell that started the
    tests in the background with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_is_held_until_the_change_is_complete(data, python_sigint):
    written = []

    def interrupted_change():
        with inplace.update_in_place(data, [(0, 8)]) as stream:
            os.kill(os.getpid(), signal.SIGINT)
            written.append(stream.write(b"CHANGED!"))  # runs: the signal is held

    with pytest.raises(KeyboardInterrupt):
        interrupted_change()
    assert written == [8]
    assert data.read_bytes() == b"CHANGED!" + ORIGINAL[8:]
    assert not inplace.pending(data)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_kill_leaves_a_journal_that_recover_undoes(data):
    def change(stream):
        stream.write(b"CHANGED!")
        stream.seek(0, os.SEEK_END)
        stream.write(b"partial")

    _killed_inside(data, [(0, 8)], change)
    assert data.read_bytes() != ORIGINAL
    assert inplace.pending(data)
    assert inplace.recover(data) is True
    assert data.read_bytes() == ORIGINAL
    assert not inplace.pending(data)
    assert inplace.recover(data) is False


def test_next_update_undoes_a_killed_one_first(data):
    _killed_inside(data, [(0, 8)], lambda stream: stream.write(b"KILLED!!"))
    with inplace.update_in_place(data, [(8, 16)]) as stream:
        assert stream.read(8) == ORIGINAL[:8]


def test_two_writers_never_at_once(data):
    with inplace.update_in_place(data, [(0, 8)]):
        with (
            pytest.raises(DataModelError, match="another process is changing"),
            inplace.update_in_place(data, [(0, 8)]),
        ):
            pass
        with pytest.raises(DataModelError, match="another process is changing"):
            inplace.recover(data)


def test_journal_of_another_file_is_not_applied(data, tmp_path):
    _killed_inside(data, [(0, 8)], lambda stream: stream.write(b"KILLED!!"))
    replacement = tmp_path / "new.fits"
    replacement.write_bytes(b"a different file")
    os.replace(replacement, data)
    with pytest.raises(DataModelError, match="belongs to another file"):
        inplace.recover(data)
    assert data.read_bytes() == b"a different file"


def test_journal_that_cannot_be_written_changes_nothing(data, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(inplace, "_save_spans", full)
    with (
        pytest.raises(DataModelError, match=r"undo journal \(No space left"),
        inplace.update_in_place(data, [(0, 8)]) as stream,
    ):
        stream.write(b"CHANGED!")
    assert data.read_bytes() == ORIGINAL
    assert sorted(p.name for p in data.parent.iterdir()) == ["data.fits"]


def test_only_writable_regular_files(tmp_path, data):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with (
        pytest.raises(DataModelError, match="fifo: not a regular file"),
        inplace.update_in_place(fifo, []),
    ):
        pass
    data.chmod(0o444)
    with (
        pytest.raises(DataModelError, match=r"data\.fits: is read-only"),
        inplace.update_in_place(data, []),
    ):
        pass


def test_long_names_get_short_journals(tmp_path):
    """Case 24's rule for the journal: names stay under the 255-byte limit."""
    path = tmp_path / ("é" * 120 + ".fits")
    path.write_bytes(ORIGINAL)
    with inplace.update_in_place(path, [(0, 8)]) as stream:
        stream.write(b"CHANGED!")
        assert inplace.journal_path(path).exists()
    assert len(inplace.journal_path(path).name.encode()) < 240
    assert path.read_bytes() == b"CHANGED!" + ORIGINAL[8:]


def _header_end(text: bytes) -> int:
    """Where the journal's span table starts (after its two lines)."""
    return len(b"".join(text.splitlines(True)[:2]))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: b"garbage\n", "not an irisdq undo journal"),
        (lambda text: text.replace(b" 1\n", b" x\n", 1), "damaged undo"),
        # Cut after the header line, then inside the span table.
        (lambda text: text[: _header_end(text)], "damaged undo journal;"),
        (lambda text: text[: _header_end(text) + 9], "damaged undo journal;"),
        # A count far past the journal's end.
        (lambda text: text.replace(b" 1\n", b" 99999999999999\n", 1), "damaged undo"),
        (lambda text: text[:-4], r"damaged undo journal \(it ends early\)"),
    ],
    ids=["foreign", "header", "no-span", "half-span", "huge-count", "short-bytes"],
)
def test_a_damaged_journal_is_refused_and_kept(data, damage, message):
    _killed_inside(data, [(0, 8)], lambda stream: stream.write(b"KILLED!!"))
    journal = inplace.journal_path(data)
    journal.write_bytes(damage(journal.read_bytes()))
    damaged = journal.read_bytes()
    with pytest.raises(DataModelError, match=message) as info:
        inplace.recover(data)
    assert "move it away and check data.fits" in str(info.value)
    assert journal.read_bytes() == damaged


def test_a_journal_of_the_text_format_is_still_undone(data):
    """A journal left by a release that listed its spans as text lines."""
    _killed_inside(data, [(0, 8)], lambda stream: stream.write(b"KILLED!!"))
    journal = inplace.journal_path(data)
    stat = os.stat(data)
    journal.write_bytes(
        b"IRISDQ-UNDO 1\n"
        + f"{stat.st_dev} {stat.st_ino} {len(ORIGINAL)} 2\n0 3\n5 3\n".encode()
        + ORIGINAL[0:3]
        + ORIGINAL[5:8]
    )
    assert data.read_bytes()[:8] == b"KILLED!!"
    assert inplace.recover(data) is True
    assert data.read_bytes() == ORIGINAL[:3] + b"LE" + ORIGINAL[5:]
    assert not inplace.pending(data)


def test_the_journal_saves_short_and_long_spans_through_windows(tmp_path, monkeypatch):
    """Spans are gathered through mappings of a window at a time, in pieces
    of a bounded size; a span longer than a piece is read as it is. The
    bytes saved are the spans', in order."""
    monkeypatch.setattr(inplace, "_WINDOW", 1 << 14)
    monkeypatch.setattr(inplace, "_GATHERED", 1 << 13)
    data = np.random.default_rng(4).integers(0, 256, 3 << 20, dtype=np.uint8).tobytes()
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    points = sorted(np.random.default_rng(5).choice(len(data), 400, replace=False))
    spans = [(int(a), int(b)) for a, b in zip(points[0::2], points[1::2], strict=True)]
    spans.append((len(data) - 10, len(data)))
    assert any(b - a > 1 << 14 for a, b in spans)
    assert any(b - a < 1 << 12 for a, b in spans)
    saved = io.BytesIO()
    with open(path, "rb", buffering=0) as stream:
        inplace._save_spans(stream, spans, saved)
    assert saved.getvalue() == b"".join(data[a:b] for a, b in spans)


def test_given_bytes_are_saved_and_put_back(data):
    """Bytes the caller read and gave go into the journal as given: an
    error puts them back, a kill leaves them for recover."""

    def failing_change():
        with inplace.change_in_place(data) as change:
            change.save([(0, 2)], [([(10, 14)], ORIGINAL[10:14])])
            change.stream.seek(0)
            change.stream.write(b"XY")
            os.pwrite(change.stream.fileno(), b"ABCD", 10)
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk"):
        failing_change()
    assert data.read_bytes() == ORIGINAL
    assert not inplace.pending(data)

    pid = os.fork()
    if pid == 0:
        try:
            with inplace.change_in_place(data) as change:
                change.save([], [([(10, 14)], ORIGINAL[10:14])])
                os.pwrite(change.stream.fileno(), b"ABCD", 10)
                os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    os.waitpid(pid, 0)
    assert data.read_bytes()[10:14] == b"ABCD"
    assert inplace.recover(data) is True
    assert data.read_bytes() == ORIGINAL


def test_the_journal_is_saved_once_and_given_bytes_must_fill_their_spans(data):
    with inplace.change_in_place(data) as change:
        with pytest.raises(ValueError, match="do not fill their spans"):
            change.save([], [([(0, 4)], b"abc")])
        assert not inplace.pending(data)
        change.save([(0, 4)])
        with pytest.raises(RuntimeError, match="already saved"):
            change.save([(0, 4)])
    assert data.read_bytes() == ORIGINAL
    assert not inplace.pending(data)


def test_a_change_that_saves_nothing_leaves_no_journal(data):
    with inplace.change_in_place(data):
        pass
    with pytest.raises(KeyError), inplace.change_in_place(data):
        raise KeyError("before any change")
    assert data.read_bytes() == ORIGINAL
    assert not inplace.pending(data)
