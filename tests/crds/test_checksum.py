"""The sha1sum of mappings: computing, verifying on load, rewriting."""

import hashlib
import os
import stat

import pytest

from builders import call_on_fifo
from irisdq.crds import load_mapping, mapping_checksum, update_checksum
from irisdq.crds.cache import shipped_mapping_folder
from irisdq.errors import MappingError

RMAP = """header = {
    'filekind' : 'MASK',
    'mapping' : 'REFERENCE',
    'parkey' : (('META.INSTRUMENT.DETECTOR',),),
    'sha1sum' : 'not yet',
}

selector = Match({
    'IRIS1' : 'a.fits',
})
"""


def _reference_sum(text: str) -> str:
    kept = [line for line in text.splitlines(keepends=True) if "sha1sum" not in line]
    return hashlib.sha1("".join(kept).encode()).hexdigest()


@pytest.mark.parametrize(
    "name", sorted(p.name for p in shipped_mapping_folder().iterdir())
)
def test_shipped_mappings_have_correct_sums(name):
    text = (shipped_mapping_folder() / name).read_text()
    assert f"'sha1sum' : '{_reference_sum(text)}'" in text
    load_mapping(shipped_mapping_folder() / name)


def test_checksum_ignores_sha1sum_lines_and_line_ends():
    assert mapping_checksum(RMAP) == _reference_sum(RMAP)
    assert mapping_checksum(RMAP.replace("not yet", "other")) == mapping_checksum(RMAP)
    assert mapping_checksum(RMAP.replace("\n", "\r\n")) == mapping_checksum(RMAP)
    assert mapping_checksum(RMAP.replace("a.fits", "b.fits")) != mapping_checksum(RMAP)


def test_round_trip(tmp_path):
    path = tmp_path / "demo.rmap"
    path.write_text(RMAP)
    with pytest.raises(MappingError, match="sha1sum mismatch"):
        load_mapping(path)
    checksum = update_checksum(path)
    assert checksum == _reference_sum(RMAP)
    assert f"'sha1sum' : '{checksum}'," in path.read_text()
    assert load_mapping(path).header["sha1sum"] == checksum


def test_mismatch_names_both_sums_and_can_be_ignored(tmp_path, monkeypatch):
    path = tmp_path / "demo.rmap"
    path.write_text(RMAP)
    recorded = update_checksum(path)
    edited = path.read_text().replace("a.fits", "b.fits")
    path.write_text(edited)
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    message = str(error.value)
    assert message.startswith("demo.rmap: sha1sum mismatch")
    assert recorded in message
    assert _reference_sum(edited) in message
    monkeypatch.setenv("CRDS_IGNORE_MAPPING_CHECKSUM", "1")
    assert load_mapping(path).children() == ["b.fits"]
    monkeypatch.setenv("CRDS_IGNORE_MAPPING_CHECKSUM", "0")
    with pytest.raises(MappingError, match="mismatch"):
        load_mapping(path)


def test_missing_sum_is_refused_then_added(tmp_path):
    path = tmp_path / "demo.rmap"
    path.write_text(RMAP.replace("    'sha1sum' : 'not yet',\n", ""))
    with pytest.raises(MappingError, match="has no sha1sum; add it with 'irisdq crds"):
        load_mapping(path)
    checksum = update_checksum(path)
    assert load_mapping(path).header["sha1sum"] == checksum


def test_one_line_header_gets_a_sum(tmp_path):
    path = tmp_path / "demo.rmap"
    path.write_text(
        "header = {'mapping': 'REFERENCE', 'parkey': (('DETECTOR',),)}\n"
        "selector = Match({'IRIS1': 'a.fits'})\n"
    )
    checksum = update_checksum(path)
    assert load_mapping(path).header["sha1sum"] == checksum


def test_rewrite_keeps_crlf_and_mode_and_leaves_no_temporary(tmp_path):
    folder = tmp_path / "mappings"
    folder.mkdir()
    path = folder / "demo.rmap"
    path.write_bytes(RMAP.replace("\n", "\r\n").encode())
    os.chmod(path, 0o640)
    checksum = update_checksum(path)
    data = path.read_bytes()
    assert data.count(b"\r\n") == RMAP.count("\n")
    assert checksum == _reference_sum(RMAP)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in folder.iterdir()) == ["demo.rmap"]


def test_invalid_mapping_is_not_rewritten(tmp_path):
    path = tmp_path / "demo.rmap"
    bad = RMAP.replace("Match({", "Match(__import__('os'), {")
    path.write_text(bad)
    with pytest.raises(MappingError, match=r"demo\.rmap:8"):
        update_checksum(path)
    assert path.read_text() == bad


def test_non_utf8_is_a_mapping_error(tmp_path):
    path = tmp_path / "demo.rmap"
    path.write_bytes(RMAP.encode().replace(b"a.fits", b"\xff.fits"))
    with pytest.raises(MappingError, match="not UTF-8"):
        update_checksum(path)
    with pytest.raises(MappingError, match="not UTF-8"):
        load_mapping(path)


def test_rewrite_changes_only_the_header_sha1sum_value(tmp_path):
    """Issue 17: forty zeros elsewhere, and 'sha1sum' in a comment, stay."""
    zeros = "0" * 40
    text = "# an old line said 'sha1sum' : 'abc' here\n" + RMAP.replace(
        "    'sha1sum' : 'not yet',\n",
        f"    'derived_from' : 'tmt_iris_mask_{zeros}.rmap',\n"
        f"    'sha1sum' : '{zeros}',\n",
    ).replace("'a.fits'", f"'{zeros}.fits'")
    path = tmp_path / "demo.rmap"
    path.write_text(text)
    checksum = update_checksum(path)
    rewritten = path.read_text()
    assert rewritten == text.replace(
        f"'sha1sum' : '{zeros}'", f"'sha1sum' : '{checksum}'"
    )
    assert load_mapping(path).header["sha1sum"] == checksum


def test_rewrite_through_a_symlink_keeps_the_link(tmp_path):
    """Issue 17: the link's target is rewritten; the link stays a link."""
    store = tmp_path / "store"
    store.mkdir()
    target = store / "demo.rmap"
    target.write_text(RMAP)
    os.chmod(target, 0o640)
    link = tmp_path / "demo.rmap"
    link.symlink_to(target)
    checksum = update_checksum(link)
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert load_mapping(target).header["sha1sum"] == checksum
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in store.iterdir()) == ["demo.rmap"]


def test_sum_value_off_its_key_line_is_refused(tmp_path):
    path = tmp_path / "demo.rmap"
    text = RMAP.replace("'sha1sum' : 'not yet',", "'sha1sum' :\n        'not yet',")
    path.write_text(text)
    with pytest.raises(MappingError, match=r"demo\.rmap:6: the header's sha1sum"):
        update_checksum(path)
    assert path.read_text() == text


def test_rewrite_refuses_a_fifo(tmp_path):
    """Issue 13: `irisdq crds checksum` of a FIFO does not block."""
    raised = call_on_fifo(update_checksum, tmp_path / "demo.rmap")
    assert isinstance(raised, MappingError)
    assert "is a FIFO; a CRDS mapping must be a regular file" in str(raised)
