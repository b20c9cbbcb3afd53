"""Settings for every test, doctests included."""

import importlib.util
import re
import tempfile

import numpy as np
import pytest

# irisdq.stpipe needs the optional stpipe extra; its doctests run when the
# extra is installed (tests/test_stpipe.py says when it is not).
collect_ignore = [] if importlib.util.find_spec("stpipe") else ["src/irisdq/stpipe"]


# numpy 2 shows a scalar as np.uint32(12), numpy 1.x as 12.
_NUMPY_SCALAR = re.compile(
    r"np\.(?:u?int\d+|float\d+|complex\d+|bool|intp|str_|bytes_)\((.*?)\)"
    r"|np\.(True|False)_"
)


def pytest_collection_modifyitems(items):
    """Under numpy 1.x (the oldest supported numpy), docstring examples
    expect scalars as numpy 1.x shows them; they are written for numpy 2."""
    if int(np.__version__.split(".")[0]) >= 2:
        return
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            for example in item.dtest.examples:
                example.want = _NUMPY_SCALAR.sub(
                    lambda m: m.group(1) or m.group(2), example.want
                )


@pytest.fixture(autouse=True)
def _doctest_temporary_folder(request, tmp_path, monkeypatch):
    """Docstring examples that make files with ``tempfile`` make them in the
    test's own temporary folder, which pytest cleans up."""
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
