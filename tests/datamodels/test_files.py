"""Inputs must be regular files: a FIFO or a folder is refused, unopened."""

import os

import pytest

from builders import call_on_fifo
from irisdq import datamodels
from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.image import read_flag_image
from irisdq.errors import DataModelError
from irisdq.reffiles.pixels import read_pixel_csv


@pytest.mark.parametrize(
    ("reader", "role"),
    [
        (datamodels.TMTMaskModel, "a TMTMaskModel file"),
        (datamodels.RampModel, "a RampModel file"),
        (datamodels.open, "a FITS input"),
        (read_flag_image, "a user DQ image"),
        (read_pixel_csv, "a pixel CSV file"),
    ],
)
def test_readers_refuse_a_fifo_without_blocking(tmp_path, reader, role):
    """Issue 13: a FIFO as mask, ramp, user DQ or CSV is refused at once."""
    path = tmp_path / "input"
    raised = call_on_fifo(reader, path)
    assert isinstance(raised, DataModelError)
    assert str(raised) == f"{path}: is a FIFO; {role} must be a regular file"


def test_symlink_to_a_regular_file_is_accepted_and_to_a_fifo_refused(tmp_path):
    regular = tmp_path / "flags.csv"
    regular.write_text("x,y,flag\n1,2,DEAD\n")
    link = tmp_path / "link.csv"
    link.symlink_to(regular)
    require_regular_file(link, "a pixel CSV file")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "to_pipe").symlink_to(tmp_path / "pipe")
    with pytest.raises(DataModelError, match="to_pipe: is a FIFO; a mask must"):
        require_regular_file(tmp_path / "to_pipe", "a mask")


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(DataModelError, match="is a directory; a mask must be"):
        require_regular_file(tmp_path, "a mask")
    with pytest.raises(FileNotFoundError):
        require_regular_file(tmp_path / "absent.fits", "a mask")
