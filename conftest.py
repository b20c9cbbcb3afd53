"""Settings for every test, doctests included."""

import importlib.util
import tempfile

import pytest

# irisdq.stpipe needs the optional stpipe extra; its doctests run when the
# extra is installed (tests/test_stpipe.py says when it is not).
collect_ignore = [] if importlib.util.find_spec("stpipe") else ["src/irisdq/stpipe.py"]


@pytest.fixture(autouse=True)
def _doctest_temporary_folder(request, tmp_path, monkeypatch):
    """Docstring examples that make files with ``tempfile`` make them in the
    test's own temporary folder, which pytest cleans up."""
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
