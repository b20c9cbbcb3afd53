"""irisdq.bitmask against astropy.nddata.bitmask, on generated inputs.

For every input astropy handles, irisdq must give the same value, dtype and
shape, the same duplicate-flag warning, or an exception of the same type.
The only inputs where they may differ are irisdq's documented extensions
(names and numbers mixed in one string), which are generated separately and
checked against the value they must have.
"""

import warnings
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from astropy.nddata import bitmask as astropy_bitmask
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from irisdq import _bitfield_engine as _engine
from irisdq import bitmask

# Many hypothesis examples or large arrays: left out of the fast subset.
pytestmark = pytest.mark.slow

FLAGS = {"CR": 1, "CLOUDY": 4, "RAINY": 8, "HOT": 16, "DEAD": 32, "WARM": 1024}
ASTROPY_MAP = astropy_bitmask.extend_bit_flag_map("ST_DQ", **FLAGS)
IRISDQ_MAP = bitmask.extend_bit_flag_map("ST_DQ", **FLAGS)

INT_DTYPES = [
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
]


def _maps(kind):
    """The same flag names as (astropy's map, irisdq's map)."""
    if kind == "class":
        return ASTROPY_MAP, IRISDQ_MAP
    if kind == "dict":
        return dict(FLAGS), dict(FLAGS)
    return None, None


powers = st.integers(0, 63).map(lambda bit: 1 << bit)
any_int = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-300, 300),
    powers,
)
numpy_int = st.builds(
    lambda dtype, value: np.array(value).astype(dtype)[()],
    st.sampled_from(INT_DTYPES),
    st.integers(0, 127),
)
int_lists = st.lists(st.one_of(powers, st.integers(-4, 40)), max_size=6).flatmap(
    lambda xs: st.sampled_from([xs, tuple(xs)])
)
name_lists = st.lists(st.sampled_from([*FLAGS, "cr", "Hot", "NOPE"]), max_size=5)

number_token = st.one_of(powers.map(str), st.integers(-20, 40).map(str))
name_token = st.sampled_from([*FLAGS, "cr", "dead", "Rainy", "NOPE"])
space = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def flag_strings(draw, token):
    tokens = draw(st.lists(token, min_size=0, max_size=5))
    separator = draw(st.sampled_from([",", "+", "|"]))
    if draw(st.booleans()) and len(tokens) > 1:
        # Occasionally mix separators: an error in both implementations.
        separator = draw(st.sampled_from([",", "+", "|", ",+", "|,"]))
    body = separator.join(f"{draw(space)}{t}{draw(space)}" for t in tokens)
    for _ in range(draw(st.integers(0, 2))):
        body = f"({draw(space)}{body}{draw(space)})"
    prefix = draw(st.sampled_from(["", "", "~", "~ ", " ~"]))
    text = f"{prefix}{body}"
    if draw(st.integers(0, 20)) == 0:
        text = draw(st.sampled_from(["", "None", "INDEF", " none ", "~", "()", "(4"]))
    if draw(st.integers(0, 20)) == 0:
        text = text.replace("(", "", 1)  # unbalanced
    if draw(st.integers(0, 20)) == 0:
        text = f"4~{text}"  # '~' not in front
    return text


ignore_inputs = st.one_of(
    st.none(),
    any_int,
    numpy_int,
    int_lists,
    name_lists,
    flag_strings(number_token),
    flag_strings(name_token),
)


bit_flag_inputs = st.one_of(ignore_inputs, st.just(4.0), st.just(True))


def _is_mixed_string(bit_flags, flag_name_map) -> bool:
    """Names and numbers in one string: an irisdq extension."""
    if not isinstance(bit_flags, str) or flag_name_map is None:
        return False
    tokens = [
        t.strip()
        for t in bit_flags.strip(" ~()\t")
        .replace("+", ",")
        .replace("|", ",")
        .split(",")
    ]
    numeric = [_is_number(t) for t in tokens if t.strip("() ~\t")]
    return any(numeric) and not all(numeric)


def _astropy_keeps_spaces(expected) -> bool:
    """Whether astropy refused a flag name only for the spaces around it
    ("CR, CR" fails on ' CR'), as astropy 7.0 does; newer astropy strips
    them, as irisdq does."""
    status, value, _ = expected
    if status != "raise" or not isinstance(value, AttributeError | KeyError):
        return False
    if isinstance(value, KeyError):
        # str(KeyError) is the repr of the key: '\\tCR' for a tab.
        name = str(value.args[0]) if value.args else ""
    else:
        name = str(value).partition("'")[2].rpartition("'")[0]
    return bool(name) and name != name.strip()


@pytest.mark.parametrize(
    ("error", "exempt"),
    [
        # As astropy 7.0 raises them for "CR,\tCR" and "CR, CR".
        (KeyError("\tCR"), True),
        (KeyError(" CR"), True),
        (AttributeError("Flag '\tCR' not defined"), True),
        (AttributeError("Flag ' CR' not defined"), True),
        # Refusals for the name itself are never exempt.
        (KeyError("NOPE"), False),
        (AttributeError("Flag 'NOPE' not defined"), False),
        (ValueError("' CR'"), False),
    ],
)
def test_space_exemption_only_covers_padded_names(error, exempt):
    assert _astropy_keeps_spaces(("raise", error, None)) is exempt


def _is_number(token: str) -> bool:
    try:
        int(token.strip("() ~\t"))
    except ValueError:
        return False
    return True


def _run(func, *args, **kwargs):
    """Call func; return ('ok', result, warned) or ('raise', exc_type, None)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            return "raise", exc, None
    warned = any("Duplicate" in str(w.message) for w in caught)
    return "ok", result, warned


def _assert_same_outcome(expected, actual):
    status, value, warned = expected
    if status == "raise":
        assert actual[0] == "raise", f"astropy raised {value!r}, irisdq gave {actual}"
        assert isinstance(actual[1], type(value)), (value, actual[1])
        return
    assert actual[0] == "ok", f"astropy gave {value!r}, irisdq raised {actual[1]!r}"
    assert actual[2] == warned
    if isinstance(value, np.ndarray):
        result = actual[1]
        assert isinstance(result, np.ndarray)
        assert result.dtype == value.dtype
        assert result.shape == value.shape
        np.testing.assert_array_equal(result, value)
    else:
        assert actual[1] == value
        assert type(actual[1]) is type(value)


@settings(max_examples=600, deadline=None)
@given(
    bit_flags=bit_flag_inputs,
    flip_bits=st.sampled_from([None, True, False]),
    map_kind=st.sampled_from([None, "class", "dict"]),
)
def test_interpret_bit_flags_matches_astropy(bit_flags, flip_bits, map_kind):
    astropy_map, irisdq_map = _maps(map_kind)
    expected = _run(
        astropy_bitmask.interpret_bit_flags,
        bit_flags,
        flip_bits=flip_bits,
        flag_name_map=astropy_map,
    )
    actual = _run(
        bitmask.interpret_bit_flags,
        bit_flags,
        flip_bits=flip_bits,
        flag_name_map=irisdq_map,
    )
    if expected[0] == "raise" and _is_mixed_string(bit_flags, astropy_map):
        assume(False)  # an extension: checked in test_mixed_strings_extension
    assume(not _astropy_keeps_spaces(expected))
    _assert_same_outcome(expected, actual)


@st.composite
def bitfields(draw):
    dtype = draw(st.sampled_from(INT_DTYPES))
    info = np.iinfo(dtype)
    shape = draw(
        st.sampled_from([(), (0,), (1,), (7,), (3, 5), (2, 3, 4), (0, 3), (40, 37)])
    )
    values = draw(
        st.lists(
            st.one_of(
                st.integers(int(info.min), int(info.max)),
                st.sampled_from([0, 1, 4, 8, 16, 32, 1024]).filter(
                    lambda v: v <= info.max
                ),
            ),
            min_size=int(np.prod(shape)),
            max_size=int(np.prod(shape)),
        )
    )
    array = np.array(values, dtype=dtype).reshape(shape)
    layout = draw(st.sampled_from(["C", "F", "strided", "scalar"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim >= 1 and array.shape[-1] > 1:
        array = array[..., ::2]
    elif layout == "scalar" and array.ndim == 0:
        return array[()]
    return array


@contextmanager
def _tiny_chunks():
    """Make the chunked and threaded paths run on small arrays."""
    with (
        mock.patch.object(_engine, "CHUNK_ELEMENTS", 4),
        mock.patch.object(_engine, "CHUNK_BYTES", 16),
        mock.patch.object(_engine, "PIECE_BYTES", 32),
        mock.patch.object(_engine, "BUFFER_ELEMENTS", 16),
        mock.patch.object(_engine, "PARALLEL_MIN_BYTES", 32),
    ):
        yield


@pytest.mark.parametrize("chunks", ["default", "tiny"])
@settings(max_examples=400, deadline=None)
@given(
    bitfield=bitfields(),
    ignore_flags=ignore_inputs,
    flip_bits=st.sampled_from([None, None, True, False]),
    good_mask_value=st.sampled_from([False, True, 0, 1, 2]),
    dtype=st.sampled_from([np.bool_, bool, int, np.uint8, np.int16, float]),
    map_kind=st.sampled_from([None, "class", "dict"]),
)
def test_bitfield_to_boolean_mask_matches_astropy(
    chunks, bitfield, ignore_flags, flip_bits, good_mask_value, dtype, map_kind
):
    astropy_map, irisdq_map = _maps(map_kind)
    kwargs = {
        "ignore_flags": ignore_flags,
        "flip_bits": flip_bits,
        "good_mask_value": good_mask_value,
        "dtype": dtype,
    }
    expected = _run(
        astropy_bitmask.bitfield_to_boolean_mask,
        bitfield,
        flag_name_map=astropy_map,
        **kwargs,
    )
    if expected[0] == "raise" and _is_mixed_string(ignore_flags, astropy_map):
        assume(False)
    assume(not _astropy_keeps_spaces(expected))
    if chunks == "tiny":
        with _tiny_chunks():
            actual = _run(
                bitmask.bitfield_to_boolean_mask,
                bitfield,
                flag_name_map=irisdq_map,
                **kwargs,
            )
    else:
        actual = _run(
            bitmask.bitfield_to_boolean_mask,
            bitfield,
            flag_name_map=irisdq_map,
            **kwargs,
        )
    _assert_same_outcome(expected, actual)


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(
        st.one_of(st.sampled_from(list(FLAGS)), powers.map(str)),
        min_size=2,
        max_size=5,
    ),
    separator=st.sampled_from([",", "+", "|"]),
)
def test_mixed_strings_extension(tokens, separator):
    values = [FLAGS[t] if t in FLAGS else int(t) for t in tokens]
    assume(len(set(values)) == len(values))
    expected = 0
    for value in values:
        expected |= value
    text = f" {separator} ".join(tokens)
    assert bitmask.interpret_bit_flags(text, flag_name_map=IRISDQ_MAP) == expected
    assert bitmask.interpret_bit_flags(text, flag_name_map=dict(FLAGS)) == expected


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("ignore_flags", [0, 4, ~4, "4,8", [1, 2, 64], None])
def test_large_arrays_match_astropy(dtype, layout, ignore_flags):
    """Arrays big enough for the chunked, multi-threaded path."""
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    array = rng.integers(
        info.min, info.max, size=(513, 4099), dtype=dtype, endpoint=True
    )
    array[rng.random(array.shape) < 0.5] = 0
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided":
        array = array[:, ::3]
    for good in (False, True):
        expected = astropy_bitmask.bitfield_to_boolean_mask(
            array, ignore_flags, good_mask_value=good
        )
        actual = bitmask.bitfield_to_boolean_mask(
            array, ignore_flags, good_mask_value=good
        )
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected)
    expected = astropy_bitmask.bitfield_to_boolean_mask(array, ignore_flags, dtype=int)
    actual = bitmask.bitfield_to_boolean_mask(array, ignore_flags, dtype=int)
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("map_kind", [None, "class", "dict"])
@pytest.mark.parametrize(
    "text",
    [
        *("~3+ ", "3+", "3,", "1+2+", ",3", "3,,4", "(3|)", ",", "+"),
        *("3+NOPE", "NOPE+3", "CR+", "CR,,CR", "~(CR|)", "NOPE"),
    ],
)
def test_bad_tokens_raise_what_astropy_raises(text, map_kind):
    # A trailing or empty token, or an unknown name: astropy raises
    # ValueError when the first token is a number, AttributeError (KeyError
    # with a dict) otherwise; irisdq's error is an instance of that type, so
    # code catching astropy's error catches irisdq's.
    astropy_map, irisdq_map = _maps(map_kind)
    expected = _run(
        astropy_bitmask.interpret_bit_flags, text, flag_name_map=astropy_map
    )
    actual = _run(bitmask.interpret_bit_flags, text, flag_name_map=irisdq_map)
    assert expected[0] == "raise"
    _assert_same_outcome(expected, actual)
    masked = _run(
        bitmask.bitfield_to_boolean_mask,
        np.zeros(3, np.uint32),
        ignore_flags=text,
        flag_name_map=irisdq_map,
    )
    assert isinstance(masked[1], type(expected[1]))
