"""irisdq.dqflags: the flag convention of DESIGN.md, with names."""

import numpy as np
import pytest
from astropy.nddata import bitmask as astropy_bitmask

from irisdq import bitmask, dqflags
from irisdq.errors import FlagError

# The table of DESIGN.md, "Flag convention".
PIXEL_NAMES = [
    "DO_NOT_USE", "SATURATED", "JUMP_DET", "DROPOUT", "OUTLIER", "PERSISTENCE",
    "AD_FLOOR", "CHARGELOSS", "RESERVED", "NON_SCIENCE", "DEAD", "HOT", "WARM",
    "LOW_QE", "RC", "TELEGRAPH", "NONLINEAR", "BAD_REF_PIXEL", "NO_FLAT_FIELD",
    "NO_GAIN_VALUE", "NO_LIN_CORR", "NO_SAT_CHECK", "UNRELIABLE_BIAS",
    "UNRELIABLE_DARK", "UNRELIABLE_SLOPE", "UNRELIABLE_FLAT", "OPEN", "ADJ_OPEN",
    "FLUX_ESTIMATED", "MSA_FAILED_OPEN", "OTHER_BAD_PIXEL", "REFERENCE_PIXEL",
]  # fmt: skip
GROUP_FLAGS = {
    "DO_NOT_USE": 1, "SATURATED": 2, "JUMP_DET": 4, "DROPOUT": 8,
    "PERSISTENCE": 32, "AD_FLOOR": 64, "CHARGELOSS": 128,
}  # fmt: skip


def test_pixel_flags_are_the_table():
    assert list(dqflags.pixel) == PIXEL_NAMES
    for bit, name in enumerate(PIXEL_NAMES):
        assert dqflags.pixel[name] == 1 << bit


def test_group_flags_are_the_table():
    assert {name: dqflags.group[name] for name in dqflags.group} == GROUP_FLAGS


@pytest.mark.parametrize(
    ("alias", "value", "current"),
    [
        ("UNRELIABLE_ERROR", 256, "RESERVED"),
        ("UNRELIABLE_RESET", 268435456, "FLUX_ESTIMATED"),
        ("RESERVED_1", 16, "OUTLIER"),
        ("RESERVED_2", 32, "PERSISTENCE"),
        ("RESERVED_3", 64, "AD_FLOOR"),
        ("RESERVED_4", 128, "CHARGELOSS"),
    ],
)
def test_aliases_read_and_decode_to_current_name(alias, value, current):
    assert dqflags.pixel[alias] == value
    assert alias in dqflags.pixel
    assert alias not in list(dqflags.pixel)
    assert dqflags.encode_flags(alias.lower()) == value
    assert dqflags.decode_flags(value) == [current]


def test_good_is_zero_by_name():
    assert dqflags.pixel["GOOD"] == 0
    assert dqflags.group.good == 0
    assert dqflags.encode_flags("GOOD") == 0
    assert dqflags.encode_flags("GOOD,DEAD") == 1024
    mask = bitmask.bitfield_to_boolean_mask(
        [0, 1024], ignore_flags="GOOD", flag_name_map=dqflags.pixel
    )
    np.testing.assert_array_equal(mask, [False, True])


def test_maps_serve_astropy_as_flag_name_map():
    dq = np.array([0, 1, 1024, 1025, 2048], dtype=np.uint32)
    expected = [False, False, True, True, False]
    for implementation in (bitmask, astropy_bitmask):
        mask = implementation.bitfield_to_boolean_mask(
            dq, ignore_flags="~DEAD", flag_name_map=dqflags.pixel
        )
        np.testing.assert_array_equal(mask, expected)


def test_dqflags_to_mnemonics():
    assert dqflags.dqflags_to_mnemonics(1025) == {"DO_NOT_USE", "DEAD"}
    assert dqflags.dqflags_to_mnemonics(0) == set()
    assert dqflags.dqflags_to_mnemonics(2**32 - 1) == set(PIXEL_NAMES)
    assert dqflags.dqflags_to_mnemonics(6, dqflags.group) == {"SATURATED", "JUMP_DET"}


@pytest.mark.parametrize("bad", [-1, 2**32, "abc", 1.5, None])
def test_decode_rejects_bad_values(bad):
    with pytest.raises(FlagError, match="flag value"):
        dqflags.decode_flags(bad)


def test_decode_group_bit_without_name():
    with pytest.raises(FlagError, match="bit value 16"):
        dqflags.decode_flags(17, dqflags.group)
    with pytest.raises(FlagError, match=r"outside 0\.\.255"):
        dqflags.decode_flags(256, dqflags.group)


def test_encode():
    assert dqflags.encode_flags("DEAD,HOT") == 3072
    assert dqflags.encode_flags("dead + 4") == 1028
    assert dqflags.encode_flags(["DEAD", "HOT"]) == 3072
    assert dqflags.encode_flags("~DEAD") == 2**32 - 1 - 1024
    assert dqflags.encode_flags("~DO_NOT_USE", dqflags.group) == 254
    assert dqflags.encode_flags("") == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("DEAD,HTO", "unknown pixel flag name 'HTO'"),
        # issue 14 item 13: a typo gets the closest names
        ("DEAD,HTO", r"'HTO' in 'DEAD,HTO'; did you mean HOT\? known names: "),
        ("dead,hto", r"did you mean HOT\?"),
        ("3,4", "'3' in '3,4' is not a single flag"),
        ("DEAD+HOT,WARM", "one type"),
        ("4294967296", r"outside 0\.\.4294967295"),
    ],
)
def test_encode_errors_name_the_token(spec, message):
    with pytest.raises(FlagError, match=message):
        dqflags.encode_flags(spec)


def test_an_unlike_name_gets_no_guess():
    with pytest.raises(FlagError) as info:
        dqflags.encode_flags("DEAD,XYZQW")
    assert "did you mean" not in str(info.value)
    assert "known names: DO_NOT_USE" in str(info.value)


def test_count_flags():
    dq = np.zeros((20, 30), dtype=np.uint32)
    dq[0, :5] = dqflags.pixel.DEAD | dqflags.pixel.DO_NOT_USE
    dq[1, 1] = dqflags.pixel.REFERENCE_PIXEL
    counts = dqflags.count_flags(dq)
    assert list(counts) == PIXEL_NAMES
    assert counts["DEAD"] == 5
    assert counts["DO_NOT_USE"] == 5
    assert counts["REFERENCE_PIXEL"] == 1
    assert sum(counts.values()) == 11


def test_flag_table():
    rows = dqflags.flag_table()
    assert [row.name for row in rows] == PIXEL_NAMES
    assert [row.bit for row in rows] == list(range(32))
    assert rows[28].aliases == ("UNRELIABLE_RESET",)
    assert rows[10].description == "Dead pixel"
    assert [row.value for row in dqflags.flag_table(dqflags.group)] == list(
        GROUP_FLAGS.values()
    )
