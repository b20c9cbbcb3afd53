"""irisdq.cli.main: every error is one line naming the file."""

import errno
import os

import pytest

from irisdq.cli.main import main


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left on device"),
        (OSError(errno.EINVAL, os.strerror(errno.EINVAL)), "Invalid argument"),
        (
            ValueError("too many values to unpack (expected 4)"),
            "ValueError: too many values to unpack (expected 4) (unexpected; "
            "--debug shows the traceback)",
        ),
    ],
    ids=["ENOSPC", "EINVAL", "unpack"],
)
def test_an_error_without_a_file_names_the_file(
    tmp_path, monkeypatch, capsys, error, expected
):
    """case 12: an OSError without a file name, or an unexpected error, is
    one line naming the file the command was given."""

    def fails(args):
        raise error

    monkeypatch.setattr("irisdq.cli.mask._info", fails)
    given = tmp_path / "m.fits"
    assert main(["mask", "info", str(given)]) == 2
    assert capsys.readouterr().err == f"irisdq: error: {given}: {expected}\n"
    with pytest.raises(type(error)):
        main(["mask", "info", str(given), "--debug"])


@pytest.mark.slow
def test_a_warning_is_one_line(tmp_path):
    """case 12: a Python warning (a checksum mismatch) is one logged line,
    not the message and then the source line that raised it; astropy's
    warning about a garbage card is not printed a second time."""
    import subprocess
    import sys

    from builders import write_mask

    mask = write_mask(tmp_path / "m.fits")
    data = bytearray(mask.read_bytes())
    at = data.index(b"DATAMODL")
    data[at : at + 80] = b'\x01garbage = "abc'.ljust(80)
    mask.write_bytes(bytes(data))
    done = subprocess.run(
        [sys.executable, "-m", "irisdq.cli.main", "mask", "info", str(mask)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stderr.splitlines()
    # The damaged checksum is reported once, by mask info itself.
    assert [line for line in lines if "CHECKSUM" in line] == []
    reported = [line for line in done.stdout.splitlines() if "CHECKSUM" in line]
    assert len(reported) == 1
    assert reported[0].startswith("checksum  BAD: ")
    assert not [line for line in lines if "verify_hdu(" in line]
    invalid = [line for line in lines if "keyword is invalid" in line]
    assert [
        line.startswith("WARNING irisdq: AstropyUserWarning:") for line in invalid
    ] == [True]
    assert 'garbage = "abc' in invalid[0]


def test_no_command_prints_the_usage(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_interrupted_command_is_one_line(tmp_path, monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("irisdq.cli.mask._info", interrupted)
    assert main(["mask", "info", str(tmp_path / "m.fits")]) == 130
    assert capsys.readouterr().err == "irisdq: interrupted\n"


def test_a_warning_in_process_is_one_logged_line(tmp_path, monkeypatch):
    import warnings

    def warns(args):
        warnings.warn("first line\n   second line", UserWarning, stacklevel=1)

    import logging

    class Records(logging.Handler):
        def __init__(self):
            super().__init__()
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    # Listened to on irisdq's own logger: stpipe 0.8, once imported, routes
    # the root logger's records elsewhere.
    records = Records()
    logging.getLogger("irisdq").addHandler(records)
    monkeypatch.setattr("irisdq.cli.mask._info", warns)
    try:
        assert main(["mask", "info", str(tmp_path / "m.fits")]) == 0
    finally:
        logging.getLogger("irisdq").removeHandler(records)
    assert records.messages == ["UserWarning: first line second line"]


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "flags", "table"],
        ["flags", "table", "-v"],
        ["flags", "table", "--verbose"],
        ["--debug", "mask", "info", "m.fits"],
        ["mask", "info", "m.fits", "--debug", "-v"],
    ],
)
def test_global_options_before_or_after_the_subcommand(argv):
    """issue 14 item 6: -v/--verbose and --debug are accepted in both places."""
    from irisdq.cli.main import build_parser

    args = build_parser().parse_args(argv)
    assert args.verbose == ("-v" in argv or "--verbose" in argv)
    assert args.debug == ("--debug" in argv)


def test_an_interrupt_python_cannot_raise_is_sent_again(capsys):
    """A KeyboardInterrupt raised inside a finalizer (SIGTERM or Ctrl-C
    landing in the import system's lock callback) is not swallowed with an
    "Exception ignored" traceback: it stops the run."""
    import signal
    import time

    from irisdq.cli.main import interrupts_kept

    class Finalized:
        def __del__(self):
            raise KeyboardInterrupt

    reached = []

    def run():
        with interrupts_kept():
            Finalized()  # collected at once: its __del__ raises
            time.sleep(2)
            reached.append("end")

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        run()
    assert reached == []
    assert "Exception ignored" not in capsys.readouterr().err
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
