"""irisdq.step.Step: parameters, overrides, keywords and output naming."""

from pathlib import Path

import pytest

from irisdq.step import NOT_APPLICABLE, Step


class MaskStep(Step):
    class_alias = "dq_init"
    spec = {"user_supplied_dq": None}  # noqa: RUF012
    reference_file_types = ("mask",)
    output_suffix = "dqinit"

    def process(self, input):
        return (input, self.reference_override("mask"))


def test_parameters_and_override_defaults():
    step = MaskStep()
    assert step.parameters == {
        "user_supplied_dq": None,
        "override_mask": None,
        "output_file": None,
        "output_dir": None,
        "inplace": False,
        "overwrite": False,
    }


def test_call_passes_parameters():
    assert MaskStep.call("x.fits", override_mask="m.fits") == ("x.fits", "m.fits")


@pytest.mark.parametrize("value", ["N/A", "n/a", "n/A"])
def test_override_not_applicable(value):
    assert MaskStep.call("x", override_mask=value)[1] == NOT_APPLICABLE


@pytest.mark.parametrize("value", ["none", "None", "NA", "na", " N/A "])
def test_override_only_na_means_skip(value):
    """case 22: 'none' or 'NA' is the name of a file, not N/A."""
    assert MaskStep.call("x", override_mask=value)[1] == value


def test_unknown_parameter_lists_known_ones():
    with pytest.raises(TypeError, match=r"'overide_mask'.*override_mask"):
        MaskStep(overide_mask="m.fits")


def test_keywords():
    step = MaskStep()
    assert step.status_keyword == "S_DQINIT"
    assert step.reference_keyword("mask") == "R_MASK"
    assert step.reference_keyword("readnoise") == "R_READNO"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jw01_uncal.fits", "jw01_dqinit.fits"),
        ("jw01_ramp.fits", "jw01_dqinit.fits"),
        ("jw01_dqinit.fits", "jw01_dqinit.fits"),
        ("jw01_UNCAL.FITS", "jw01_dqinit.fits"),
        ("iris_raw_exposure.fits", "iris_raw_exposure_dqinit.fits"),
        ("ramp.fits", "ramp_dqinit.fits"),
        ("data_uncal_x.fits", "data_uncal_x_dqinit.fits"),
        ("noext", "noext_dqinit.fits"),
    ],
)
def test_output_naming_beside_input(name, expected):
    assert MaskStep().output_path(Path("/data") / name) == Path("/data") / expected


def test_output_dir_and_output_file(tmp_path):
    assert MaskStep(output_dir=tmp_path).output_path("/in/a_uncal.fits") == (
        tmp_path / "a_dqinit.fits"
    )
    assert MaskStep(output_file="x.fits").output_path("/in/a_uncal.fits") == Path(
        "x.fits"
    )
    assert MaskStep(output_file="x.fits", output_dir=tmp_path).output_path(
        "/in/a.fits"
    ) == (tmp_path / "x.fits")
    absolute = tmp_path / "abs.fits"
    assert MaskStep(output_file=absolute, output_dir="/else").output_path("a") == (
        absolute
    )


def test_process_must_be_implemented():
    with pytest.raises(NotImplementedError):
        Step.call(1)


def test_logger_under_irisdq():
    assert MaskStep().log.name == "irisdq.dq_init"
