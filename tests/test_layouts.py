"""irisdq.layouts: one layout type per convention, checked when it is made."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from irisdq import profiles
from irisdq.layouts import (
    LIGER_RAMP,
    TMT_MASK,
    TMT_RAMP,
    MaskLayout,
    RampLayout,
    Subarray,
    detector_shape,
)


def test_the_profiles_name_the_layouts_of_this_module():
    assert profiles.RampLayout is RampLayout
    assert profiles.MaskLayout is MaskLayout
    assert profiles.PROFILES["tmt"].ramp is TMT_RAMP
    assert profiles.PROFILES["liger"].ramp is LIGER_RAMP
    assert profiles.PROFILES["tmt"].mask is TMT_MASK
    for profile in profiles.PROFILES.values():
        for layout in (profile.ramp, *profile.exposure_layouts.values()):
            assert isinstance(layout, RampLayout)
        assert isinstance(profile.mask, MaskLayout)


def test_the_dq_init_core_subarray_is_this_one():
    from irisdq.dq_init import core

    assert core.Subarray is Subarray


def test_names_are_upper_case_and_dtypes_their_names():
    layout = RampLayout(
        "data", ["ny", "nx", "nreads"], dq="dq", dq_dtype=np.dtype(np.uint16)
    )
    assert (layout.science, layout.dq, layout.axes) == (
        "DATA",
        "DQ",
        ("ny", "nx", "nreads"),
    )
    assert layout.dq_dtype == "uint16"
    assert layout.dq_bits == 16
    assert (
        RampLayout("DATA", ("ny", "nx"), dq="DQ", dq_dtype=np.uint8).dq_dtype == "uint8"
    )
    # The same layout written either way is equal, and hashes alike.
    same = RampLayout("DATA", ("ny", "nx", "nreads"), dq="DQ", dq_dtype="uint16")
    assert layout == same
    assert len({layout, dataclasses.replace(layout)}) == 1


def test_a_split_layout_holds_32_bits_whatever_dq_dtype_says():
    split = RampLayout(
        "SCI", ("ngroups", "ny", "nx"), pixel_dq="PIXELDQ", dq_dtype="uint8"
    )
    assert (split.dq_dtype, split.dq_bits, split.split) == ("uint32", 32, True)
    assert split.plane_axes() == (1, 2)
    assert not split.planes_first


def test_describe_lists_the_arrays():
    assert TMT_RAMP.describe() == (
        "SCI (nints, ngroups, ny, nx), PIXELDQ uint32 (ny, nx), "
        "GROUPDQ uint8 (nints, ngroups, ny, nx)"
    )
    assert LIGER_RAMP.tree_arrays() == {
        "data": "DATA",
        "dq": "DQ",
        "err": "ERR",
        "times": "TIMES",
    }


def test_an_extension_named_twice_is_refused():
    with pytest.raises(ValueError, match="an extension name is used twice"):
        RampLayout("SCI", ("ny", "nx"), pixel_dq="sci")


def test_mask_telescope_by_instrument():
    liger = profiles.PROFILES["liger"].mask
    assert liger.telescope_for(" liger ") == "Keck-I"
    assert liger.telescope_for("NIRCAM") is None
    assert TMT_MASK.telescope_for(None) == "TMT"


def test_detector_shape():
    assert detector_shape(" iris12 ") == (4096, 4096)
    assert detector_shape("IRIS") is None
    assert detector_shape(None) is None


def test_the_module_loads_no_numpy():
    code = "import sys, irisdq.layouts; print('numpy' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
