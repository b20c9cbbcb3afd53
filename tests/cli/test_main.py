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
