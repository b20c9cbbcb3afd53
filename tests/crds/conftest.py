"""Fixtures of the crds tests: an isolated home and cache, mapping writers."""

import pytest

from irisdq.crds import condition_value, mapping_from_text, update_checksum
from irisdq.crds.values import ABSENT


@pytest.fixture
def isolated_crds(home):
    """The test's home folder (see tests/conftest.py), by its crds name."""
    return home


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder with the TMT layout, named by CRDS_PATH."""
    root = tmp_path / "cache"
    (root / "mappings" / "tmt").mkdir(parents=True)
    (root / "references" / "tmt" / "iris").mkdir(parents=True)
    monkeypatch.setenv("CRDS_PATH", str(root))
    return root


@pytest.fixture
def write_mapping(cache):
    """Write a mapping into the cache with a correct sha1sum; return its path."""

    def write(name: str, text: str):
        path = cache / "mappings" / "tmt" / name
        path.write_text(text, encoding="utf-8")
        update_checksum(path)
        return path

    return write


@pytest.fixture
def choose():
    """Build an rmap selector from text and choose for dataset parameters.

    ``choose(selector_text, parkey, params, substitutions=None,
    observatory=None)`` returns the choice, or raises SelectionFailed /
    MappingError. A parameter missing from `params` is absent.
    """

    def run(selector_text, parkey, params, substitutions=None, observatory=None):
        header = {"mapping": "REFERENCE", "filekind": "TEST", "parkey": parkey}
        if substitutions is not None:
            header["substitutions"] = substitutions
        if observatory is not None:
            header["observatory"] = observatory
        rmap = mapping_from_text(
            f"header = {header!r}\nselector = {selector_text}\n",
            "test.rmap",
            verify=False,
        )
        values = {
            name: condition_value(params[name]) if name in params else ABSENT
            for name in rmap.parameters
        }
        return rmap.selector.choose(values)

    return run
