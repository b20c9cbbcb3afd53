"""Settings for every test, doctests included."""

import tempfile

import pytest


@pytest.fixture(autouse=True)
def _doctest_temporary_folder(request, tmp_path, monkeypatch):
    """Docstring examples that make files with ``tempfile`` make them in the
    test's own temporary folder, which pytest cleans up."""
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
