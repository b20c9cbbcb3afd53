"""irisdq.bitmask: the defects of astropy's implementation it fixes, its
extensions, and the behaviour the seed documents."""

import pickle
import subprocess
import sys
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from astropy.nddata import bitmask as astropy_bitmask

from irisdq import _bitfield_engine as _engine
from irisdq import bitmask
from irisdq.bitmask import (
    BitFlag,
    BitFlagNameMap,
    InvalidBitFlag,
    bitfield_to_boolean_mask,
    count_bit_flags,
    decode_bit_flags,
    extend_bit_flag_map,
    interpret_bit_flags,
)


def three_level_maps(module):
    level1 = module.extend_bit_flag_map("L1", CR=1, CLOUDY=4)
    level2 = module.extend_bit_flag_map("L2", level1, HOT=16)
    level3 = module.extend_bit_flag_map("L3", level2, DEAD=32)
    return level3


class TestDefectsFixed:
    def test_three_level_extension_lookup(self):
        # astropy loses the first level's names in the third level's cache.
        with pytest.raises(AttributeError):
            three_level_maps(astropy_bitmask)["CR"]
        level3 = three_level_maps(bitmask)
        assert level3["CR"] == 1
        assert level3.CR == 1
        assert level3.cr == 1
        assert level3["cloudy"] == 4
        assert level3["Hot"] == 16
        assert level3.DEAD == 32
        assert interpret_bit_flags("cr,cloudy,hot,dead", flag_name_map=level3) == 53

    def test_three_level_class_statement_lookup(self):
        class A(BitFlagNameMap):
            CR = 1

        class B(A):
            HOT = 2

        class C(B):
            DEAD = 4

        assert C["cr"] == 1
        assert C.hot == 2
        assert list(C) == ["CR", "HOT", "DEAD"]

    def test_numpy_str_input(self):
        with pytest.raises(TypeError):
            astropy_bitmask.interpret_bit_flags(np.str_("4,8"))
        assert interpret_bit_flags(np.str_("4,8")) == 12
        assert interpret_bit_flags(np.str_("~4")) == ~4
        mask = bitfield_to_boolean_mask([4, 8, 16], ignore_flags=np.str_("4+8"))
        np.testing.assert_array_equal(mask, [False, False, True])

    def test_numpy_str_list_items(self):
        names = np.array(["CR", "HOT"])
        level3 = three_level_maps(bitmask)
        assert interpret_bit_flags(list(names), flag_name_map=level3) == 17

    def test_generator_of_flags(self):
        with pytest.raises(TypeError):
            astropy_bitmask.interpret_bit_flags(f for f in [4, 8])
        assert interpret_bit_flags(f for f in [4, 8]) == 12
        assert interpret_bit_flags((f for f in [4, 8]), flip_bits=True) == ~12
        mask = bitfield_to_boolean_mask([4, 8, 16], ignore_flags=(f for f in [4, 8]))
        np.testing.assert_array_equal(mask, [False, False, True])

    def test_contains_and_iteration(self):
        astropy_map = astropy_bitmask.extend_bit_flag_map("M", CR=1, HOT=2)
        with pytest.raises(AttributeError):
            "CR" in astropy_map  # noqa: B015
        with pytest.raises(AttributeError):
            list(astropy_map)
        flags = extend_bit_flag_map("M", CR=1, HOT=2)
        assert "CR" in flags
        assert "cr" in flags
        assert "DEAD" not in flags
        assert 1 not in flags
        assert list(flags) == ["CR", "HOT"]
        assert len(flags) == 2
        assert {name: flags[name] for name in flags} == {"CR": 1, "HOT": 2}

    def test_pickle_extended_map(self):
        with pytest.raises(pickle.PicklingError):
            pickle.dumps(astropy_bitmask.extend_bit_flag_map("M", CR=1))
        level3 = three_level_maps(bitmask) + ("WARM", 64)  # noqa: RUF005
        copy = pickle.loads(pickle.dumps(level3))
        assert list(copy) == ["CR", "CLOUDY", "HOT", "DEAD", "WARM"]
        assert copy["cr"] == 1
        assert copy.__name__ == level3.__name__

    def test_pickle_to_another_process(self):
        level3 = three_level_maps(bitmask)
        code = (
            "import pickle, sys\n"
            "m = pickle.loads(sys.stdin.buffer.read())\n"
            "print(m['cr'], m.dead, sorted(m))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", code],
            input=pickle.dumps(level3),
            capture_output=True,
            check=True,
        )
        assert run.stdout.decode().split("\n")[0] == (
            "1 32 ['CLOUDY', 'CR', 'DEAD', 'HOT']"
        )

    def test_cloudpickle_extended_map(self):
        cloudpickle = pytest.importorskip("cloudpickle")
        level3 = three_level_maps(bitmask)
        copy = pickle.loads(cloudpickle.dumps(level3))
        assert copy["CR"] == 1
        assert list(copy) == list(level3)

    def test_static_map_pickles_by_reference(self):
        from irisdq import dqflags

        assert pickle.loads(pickle.dumps(dqflags.pixel)) is dqflags.pixel

    def test_doc_survives_pickling(self):
        flags = extend_bit_flag_map("M", CR=(1, "Cosmic ray"))
        assert flags.CR.__doc__ == "Cosmic ray"
        assert pickle.loads(pickle.dumps(flags)).CR.__doc__ == "Cosmic ray"


class TestExtensions:
    FLAGS = extend_bit_flag_map("DQ", DO_NOT_USE=1, DEAD=1024, HOT=2048)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("DEAD+4", 1028),
            ("4+DEAD", 1028),
            ("DEAD, 2048, 1", 3073),
            ("~(HOT|4)", ~2052),
        ],
    )
    def test_names_and_numbers_mixed(self, text, expected):
        assert interpret_bit_flags(text, flag_name_map=self.FLAGS) == expected
        as_dict = {"DO_NOT_USE": 1, "DEAD": 1024, "HOT": 2048}
        assert interpret_bit_flags(text, flag_name_map=as_dict) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "DEAD,HOT",
            " DEAD , HOT ",
            "\tDEAD|\tHOT\n",
            "( DEAD + HOT )",
            " ~ (DEAD,HOT)",
        ],
    )
    def test_whitespace(self, text):
        value = interpret_bit_flags(text, flag_name_map=self.FLAGS)
        assert value in (3072, ~3072)
        assert (value < 0) == ("~" in text)

    def test_unknown_name_is_attribute_and_key_error(self):
        with pytest.raises(AttributeError, match="Flag 'WARM' not defined"):
            interpret_bit_flags("DEAD,WARM", flag_name_map=self.FLAGS)
        with pytest.raises(KeyError):
            self.FLAGS["WARM"]

    def test_number_token_without_map_must_be_int(self):
        with pytest.raises(ValueError, match="invalid literal"):
            interpret_bit_flags("DEAD,4")

    def test_decode_bit_flags(self):
        assert decode_bit_flags(1025, self.FLAGS) == ["DO_NOT_USE", "DEAD"]
        assert decode_bit_flags(0, self.FLAGS) == []
        assert decode_bit_flags(np.uint32(3072 + 8), self.FLAGS) == ["8", "DEAD", "HOT"]
        assert decode_bit_flags(6, {"A": 2, "B": 4}) == ["A", "B"]
        with pytest.raises(ValueError, match="-1"):
            decode_bit_flags(-1, self.FLAGS)

    def test_count_bit_flags(self):
        dq = np.zeros((50, 60), dtype=np.uint32)
        dq[3, 4] = 1025
        dq[10, :] = 2048
        dq[:, 7] |= 8
        counts = count_bit_flags(dq, self.FLAGS)
        assert counts == {"DO_NOT_USE": 1, "8": 50, "DEAD": 1, "HOT": 60}
        assert list(counts) == ["DO_NOT_USE", "8", "DEAD", "HOT"]

    def test_count_bit_flags_matches_brute_force(self):
        rng = np.random.default_rng(3)
        dq = rng.integers(0, 2**32, size=(301, 1111), dtype=np.uint32)
        dq[rng.random(dq.shape) < 0.3] = 0
        counts = count_bit_flags(dq, {})
        for bit in range(32):
            assert counts[str(1 << bit)] == np.count_nonzero(dq & (1 << bit))

    def test_count_bit_flags_signed_and_strided(self):
        dq = np.array([[-1, 0, 1], [2, 3, -128]], dtype=np.int8)[:, ::2]
        counts = count_bit_flags(dq, {"ONE": 1})
        assert counts["ONE"] == 2  # -1 and 3
        assert counts["128"] == 2  # -1 and -128


class TestAstropySemantics:
    """Cases spelled out in the seed and astropy's documentation."""

    def test_bit_flag_validation(self):
        assert BitFlag(8) == 8
        assert BitFlag((8, "doc")).__doc__ == "doc"
        for bad in (0, 3, -4, 2.0, True):
            with pytest.raises(InvalidBitFlag):
                BitFlag(bad)
        with pytest.raises(ValueError, match="twice"):
            BitFlag((8, "doc"), "again")

    def test_maps_are_read_only(self):
        flags = extend_bit_flag_map("M", CR=1)
        with pytest.raises(AttributeError, match="read-only"):
            flags.CR = 2
        with pytest.raises(AttributeError, match="read-only"):
            flags.NEW = 2
        with pytest.raises(AttributeError, match="cannot delete"):
            del flags.CR
        with pytest.raises(AttributeError, match="Version"):
            flags.__version__ = "2"

    def test_extend_redefinition(self):
        base = extend_bit_flag_map("M", CR=1)
        same = extend_bit_flag_map("N", base, CR=1, HOT=2)
        assert same.CR == 1
        with pytest.raises(AttributeError):
            extend_bit_flag_map("N", base, CR=2)
        with pytest.raises(AttributeError, match="already defined"):

            class Clash(base):
                cr = 4

    def test_version(self):
        flags = extend_bit_flag_map("M", __version__="1.2", CR=1)
        assert flags.__version__ == "1.2"
        assert "__version__" not in list(flags)

    def test_duplicate_flags_warn(self):
        with pytest.warns(UserWarning, match="Duplicate"):
            assert interpret_bit_flags([4, 4, 8]) == 12
        # The string path is cached; the warning must still be given each time.
        for _ in range(2):
            with pytest.warns(UserWarning, match="Duplicate"):
                assert interpret_bit_flags("4,4") == 4

    @pytest.mark.parametrize("value", [None, "", "  ", "None", "INDEF", "indef"])
    def test_none_like(self, value):
        assert interpret_bit_flags(value) is None
        mask = bitfield_to_boolean_mask([0, 1, 2], ignore_flags=value)
        np.testing.assert_array_equal(mask, [False, False, False])
        mask = bitfield_to_boolean_mask([0, 1], ignore_flags=value, good_mask_value=1)
        np.testing.assert_array_equal(mask, [True, True])

    @pytest.mark.parametrize(
        ("text", "error"),
        [
            ("4,~8", "must precede"),
            ("(4,8", "Unbalanced"),
            ("4,(8)", "parenthesis"),
            ("4,8+16", "one type"),
            ("~", "Empty"),
            ("()", "Empty"),
            ("3,4", "not powers of two"),
        ],
    )
    def test_string_errors(self, text, error):
        with pytest.raises(ValueError, match=error):
            interpret_bit_flags(text)

    def test_single_value_may_be_any_integer(self):
        assert interpret_bit_flags("12") == 12
        assert interpret_bit_flags("~(12)") == ~12
        with pytest.raises(ValueError, match="not powers of two"):
            interpret_bit_flags([12])

    def test_flip_bits_refused_with_strings_and_none(self):
        with pytest.raises(TypeError, match="flip_bits"):
            interpret_bit_flags("4", flip_bits=True)
        with pytest.raises(TypeError, match="flip_bits"):
            interpret_bit_flags(None, flip_bits=False)

    def test_non_integer_bitfield(self):
        for bad in ([1.0, 2.0], [True, False], ["a"]):
            with pytest.raises(TypeError, match="integer"):
                bitfield_to_boolean_mask(bad)

    @pytest.mark.parametrize(
        "dtype",
        [
            np.int8,
            np.uint8,
            np.int16,
            np.uint16,
            np.int32,
            np.uint32,
            np.int64,
            np.uint64,
        ],
    )
    def test_mask_truncated_to_dtype(self, dtype):
        bits = np.dtype(dtype).itemsize * 8
        top = np.array(1 << (bits - 1)).astype(dtype)
        field = np.array([top, 1], dtype=dtype)
        # A flag above the dtype's width is ignored, whatever its sign.
        mask = bitfield_to_boolean_mask(field, ignore_flags=1 << bits)
        np.testing.assert_array_equal(mask, [True, True])
        mask = bitfield_to_boolean_mask(field, ignore_flags=~1)
        np.testing.assert_array_equal(mask, [False, True])

    def test_scalar_returns_zero_d_array(self):
        result = bitfield_to_boolean_mask(217, ignore_flags=80)
        assert isinstance(result, np.ndarray)
        assert result.shape == ()
        assert bool(result) is True

    def test_empty_arrays(self):
        for shape in [(0,), (3, 0), (0, 0, 2)]:
            result = bitfield_to_boolean_mask(np.zeros(shape, np.uint16), "4,8")
            assert result.shape == shape
            assert result.dtype == np.bool_

    def test_output_dtypes(self):
        field = np.array([0, 1, 6], dtype=np.uint32)
        for dtype in (np.uint8, np.int16, np.float32, np.complex64):
            out = bitfield_to_boolean_mask(field, ignore_flags=2, dtype=dtype)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out, [0, 1, 1])
        as_text = bitfield_to_boolean_mask(field, ignore_flags=2, dtype=str)
        np.testing.assert_array_equal(as_text, ["False", "True", "True"])


class TestLargeArrays:
    def test_no_input_sized_temporary(self):
        dq = np.zeros((4096, 4096), dtype=np.uint32)
        dq[::7, ::3] = 1024 | 4
        tracemalloc.start()
        try:
            mask = bitfield_to_boolean_mask(dq, ignore_flags="4,8")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # The output (16 MiB) plus chunk buffers of a few MiB at most.
        assert peak <= mask.nbytes + 8 * 2**20
        assert mask.sum() == np.count_nonzero(dq)

    def test_threaded_result_is_exact(self):
        rng = np.random.default_rng(11)
        dq = rng.integers(0, 256, size=(10, 1024, 1024), dtype=np.uint8)
        expected = (dq & ~np.uint8(12)) != 0
        np.testing.assert_array_equal(bitfield_to_boolean_mask(dq, [4, 8]), expected)
        np.testing.assert_array_equal(
            bitfield_to_boolean_mask(dq, [4, 8], good_mask_value=True), ~expected
        )

    def test_input_is_not_modified(self):
        rng = np.random.default_rng(5)
        dq = rng.integers(0, 256, size=(2048, 2048), dtype=np.uint8)
        before = dq.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bitfield_to_boolean_mask(dq, 4, dtype=np.uint8)
        np.testing.assert_array_equal(dq, before)

    def test_does_not_wait_for_a_busy_thread_pool(self, monkeypatch):
        # Every pool thread busy with other work: the calling thread converts
        # all pieces itself and returns instead of waiting for the pool.
        monkeypatch.setattr(_engine, "PARALLEL_MIN_BYTES", 1024)
        monkeypatch.setattr(_engine, "PIECE_BYTES", 4096)
        pool = _engine.thread_pool()
        release = threading.Event()
        blockers = [pool.submit(release.wait) for _ in range(pool._max_workers)]
        dq = np.arange(2**18, dtype=np.uint32).reshape(512, 512)
        result = {}
        caller = threading.Thread(
            target=lambda: result.update(mask=bitfield_to_boolean_mask(dq, 4)),
            daemon=True,
        )
        try:
            caller.start()
            caller.join(timeout=30)
            finished = not caller.is_alive()
        finally:
            release.set()
            for blocker in blockers:
                blocker.result()
        assert finished
        np.testing.assert_array_equal(result["mask"], (dq & ~np.uint32(4)) != 0)
