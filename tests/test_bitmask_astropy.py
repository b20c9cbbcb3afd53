"""astropy's own bitmask tests, run against irisdq.bitmask.

irisdq.bitmask promises to be a drop-in for astropy.nddata.bitmask, so the
test module astropy ships (astropy/nddata/tests/test_bitmask.py) is loaded
from the installed astropy and its tests are run here with its module
global ``bitmask`` pointing at irisdq.bitmask. Its tests look that global
up when they run, so every call and ``monkeypatch.setattr(bitmask, ...)``
reaches irisdq.
"""

import importlib.util
import types
from pathlib import Path

import pytest

from irisdq import bitmask as irisdq_bitmask


def _astropy_test_file() -> Path | None:
    spec = importlib.util.find_spec("astropy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "nddata" / "tests" / "test_bitmask.py"
        if path.is_file():
            return path
    return None


class _Subject(types.ModuleType):
    """irisdq.bitmask as astropy's tests see it.

    Four astropy tests run twice, with ``_ENABLE_BITFLAG_CACHING`` switched
    on and off: the switch chooses between astropy's two implementations of
    the flag-name lookup. irisdq has one implementation, so the switch is
    accepted here and both runs test it; everything else is irisdq.bitmask.
    """

    _ENABLE_BITFLAG_CACHING = True

    def __getattr__(self, name):
        return getattr(irisdq_bitmask, name)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location("_astropy_test_bitmask", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.bitmask.__name__ == "astropy.nddata.bitmask", (
        "astropy's test module no longer names its subject 'bitmask'"
    )
    module.bitmask = _Subject("irisdq.bitmask")
    return module


ASTROPY_TESTS = _astropy_test_file()

if ASTROPY_TESTS is None:

    def test_astropy_bitmask_tests():
        pytest.skip("astropy/nddata/tests/test_bitmask.py is not installed")

else:
    _module = _load(ASTROPY_TESTS)
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test):
            globals()[f"{_name}"] = _test


def test_the_astropy_tests_ran_against_irisdq():
    if ASTROPY_TESTS is None:
        pytest.skip("astropy/nddata/tests/test_bitmask.py is not installed")
    assert _module.bitmask.interpret_bit_flags is irisdq_bitmask.interpret_bit_flags
    assert sum(name.startswith("test_") for name in vars(_module)) > 20


def test_extend_refuses_one_name_in_two_cases_with_two_values():
    with pytest.raises(AttributeError, match="readout_err"):
        irisdq_bitmask.extend_bit_flag_map("M", READOUT_ERR=16, readout_err=128)
    same = irisdq_bitmask.extend_bit_flag_map("M", READOUT_ERR=16, readout_err=16)
    assert list(same) == ["READOUT_ERR"]
    assert same.readout_err == 16
