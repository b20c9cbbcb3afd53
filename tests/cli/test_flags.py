"""``irisdq flags`` and the command line's conventions."""

import subprocess
import sys

import pytest

import irisdq
from irisdq.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_decode(capsys):
    assert run(capsys, "flags", "decode", "1025") == (0, "DO_NOT_USE\nDEAD\n", "")


def test_decode_group_and_hex(capsys):
    assert (
        run(capsys, "flags", "decode", "--group", "0x6")[1] == "SATURATED\nJUMP_DET\n"
    )


def test_encode(capsys):
    assert run(capsys, "flags", "encode", "DEAD,HOT") == (0, "3072\n", "")
    assert run(capsys, "flags", "encode", "DEAD", "hot", "1")[1] == "3073\n"


def test_table(capsys):
    code, out, _ = run(capsys, "flags", "table")
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 33
    assert lines[11].split()[:3] == ["10", "1024", "DEAD"]


@pytest.mark.parametrize(
    ("argv", "token"),
    [
        (["flags", "encode", "DEAD,HTO"], "'HTO'"),
        (["flags", "decode", "12abc"], "'12abc'"),
        (["flags", "decode", "-1"], "'-1'"),
        (["flags", "decode", "4294967296"], "'4294967296'"),
    ],
)
def test_bad_token_one_line_exit_2(capsys, argv, token):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("irisdq: error:")
    assert token in err
    assert "Traceback" not in err


def test_debug_shows_traceback(capsys):
    from irisdq.errors import FlagError

    with pytest.raises(FlagError):
        main(["flags", "encode", "HTO", "--debug"])
    with pytest.raises(FlagError):
        main(["--debug", "flags", "encode", "HTO"])


def test_missing_action_is_usage_error(capsys):
    code, _, err = run(capsys, "flags")
    assert code == 2
    assert "choose an action" in err


def test_console_script_version_and_help():
    version = subprocess.run(
        [sys.executable, "-m", "irisdq.cli.main", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == f"irisdq {irisdq.__version__}"
    helped = subprocess.run(
        [sys.executable, "-m", "irisdq.cli.main", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "flags" in helped.stdout


def test_installed_entry_point_exit_code():
    bad = subprocess.run(
        [sys.executable, "-m", "irisdq.cli.main", "flags", "encode", "NOPE"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]


def test_a_closed_pipe_ends_quietly():
    """issue 14 item 12: 'irisdq flags table --group | head -1': the reader
    has gone when the table is written; exit 0, nothing on stderr."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "irisdq.cli.main", "flags", "table", "--group"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")
