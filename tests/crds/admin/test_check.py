"""``check_cache`` on a sound cache and on caches with each known defect."""

import sys

import pytest
from astropy.io import fits

from builders import write_shipped_cache
from irisdq.crds.admin.check import check_cache
from irisdq.errors import MappingError, ReferenceFileError

IMAP = "tmt_iris_0003.imap"
RMAP = "tmt_iris_mask_0001.rmap"


@pytest.fixture
def shipped(cache):
    """The cache fixture filled with the shipped context and its mask."""
    write_shipped_cache(cache)
    return cache


def mapping_path(cache, name):
    return cache / "mappings" / "tmt" / name


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def kinds(result):
    return [finding.kind for finding in result.findings]


def test_sound_cache_has_no_findings(shipped):
    result = check_cache()
    assert result.context == "tmt_0001.pmap"
    assert result.findings == []
    assert result.unused == []


def test_check_does_not_load_astropy_on_import():
    # The module is imported by the test run already; a fresh interpreter
    # tells whether importing it pulls astropy in.
    import subprocess

    code = "import sys, irisdq.crds.admin.check; print('astropy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_imap_header_names_another_file(shipped, write_mapping):
    # A copy of the imap under a new name, its header left as it was.
    text = mapping_path(shipped, IMAP).read_text()
    write_mapping("tmt_iris_0004.imap", text)
    edit(mapping_path(shipped, "tmt_0001.pmap"), IMAP, "tmt_iris_0004.imap")
    write_mapping("tmt_0001.pmap", mapping_path(shipped, "tmt_0001.pmap").read_text())
    result = check_cache()
    assert kinds(result) == ["name"]
    assert "tmt_iris_0004.imap" in result.findings[0].message
    assert f"'{IMAP}'" in result.findings[0].message
    # The old imap is now named by no context.
    assert result.unused == [mapping_path(shipped, IMAP)]


def test_sha1sum_never_updated(shipped):
    edit(mapping_path(shipped, RMAP), "'2015-10-01 00:00:00'", "'2016-10-01 00:00:00'")
    result = check_cache()
    assert kinds(result) == ["sha1sum"]
    assert "irisdq crds checksum" in result.findings[0].message


def test_missing_sha1sum(shipped, write_mapping):
    path = mapping_path(shipped, RMAP)
    lines = [line for line in path.read_text().splitlines() if "sha1sum" not in line]
    path.write_text("\n".join(lines) + "\n")
    assert kinds(check_cache()) == ["sha1sum"]


def test_server_config_names_missing_context(shipped):
    config = shipped / "config" / "tmt"
    config.mkdir(parents=True)
    (config / "server_config").write_text(
        "{'observatory': 'tmt', 'operational_context': 'tmt_0009.pmap'}"
    )
    result = check_cache()
    assert kinds(result) == ["config"]
    assert "'tmt_0009.pmap' is not in" in result.findings[0].message
    # The check goes on with the cache's own context.
    assert result.context == "tmt_0001.pmap"


def test_server_config_is_never_executed(shipped, tmp_path):
    marker = tmp_path / "ran"
    config = shipped / "config" / "tmt"
    config.mkdir(parents=True)
    (config / "server_config").write_text(
        f"__import__('pathlib').Path({str(marker)!r}).touch()"
    )
    assert kinds(check_cache()) == ["config"]
    assert not marker.exists()


def test_server_config_naming_existing_context_is_used(shipped, write_mapping):
    config = shipped / "config" / "tmt"
    config.mkdir(parents=True)
    (config / "server_config").write_text("{'operational_context': 'tmt_0001.pmap'}")
    result = check_cache()
    assert result.findings == []
    assert result.source == "operational_context of server_config"


def test_a_json_server_config_is_read_as_context_resolution_reads_it(shipped):
    """The check reads server_config as the cache does (Python literal or
    JSON): a JSON file that resolves the context is not a finding."""
    config = shipped / "config" / "tmt"
    config.mkdir(parents=True)
    (config / "server_config").write_text(
        '{"operational_context": "tmt_0001.pmap", "mirror": null, "on": true}'
    )
    result = check_cache()
    assert result.findings == []
    assert result.source == "operational_context of server_config"


def test_imap_points_at_rmap_not_there(shipped, write_mapping):
    path = mapping_path(shipped, IMAP)
    edit(path, "'dflat' : 'N/A'", "'dflat' : 'tmt_iris_dflat_0001.rmap'")
    write_mapping(IMAP, path.read_text())
    result = check_cache()
    assert kinds(result) == ["missing"]
    assert "tmt_iris_dflat_0001.rmap (named by tmt_iris_0003.imap)" in (
        result.findings[0].message
    )


def test_referenced_mask_missing(shipped):
    (shipped / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits").unlink()
    result = check_cache()
    assert kinds(result) == ["missing"]
    assert "reference tmt_iris_mask_0001.fits" in result.findings[0].message


def test_mapping_that_does_not_parse(shipped):
    mapping_path(shipped, "tmt_iris_dark_0001.rmap").write_text("selector = exec('')\n")
    result = check_cache()
    assert kinds(result) == ["parse"]


def test_filekind_disagrees_with_name_and_parent(shipped, write_mapping):
    path = mapping_path(shipped, RMAP)
    edit(path, "'filekind' : 'MASK'", "'filekind' : 'DARK'")
    write_mapping(RMAP, path.read_text())
    messages = [str(finding) for finding in check_cache().findings]
    assert len(messages) == 2
    assert "header's filekind is 'DARK' but the file name says 'mask'" in messages[0]
    assert "tmt_iris_0003.imap uses it for 'MASK'" in messages[1]


def test_instrument_disagrees_with_pmap(shipped, write_mapping):
    path = mapping_path(shipped, "tmt_0001.pmap")
    edit(path, "'IRIS' : 'tmt_iris_0003.imap'", "'NIRSPEC' : 'tmt_iris_0003.imap'")
    write_mapping("tmt_0001.pmap", path.read_text())
    result = check_cache()
    assert kinds(result) == ["header", "missing"]
    assert "tmt_0001.pmap uses it for 'NIRSPEC'" in result.findings[0].message
    # The references of a NIRSPEC entry are looked for in its own folder.
    assert "references/tmt/nirspec" in result.findings[1].message


def test_reference_bad_checksum(shipped):
    from irisdq.datamodels import read_hdu_layout

    mask = shipped / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    (dq,) = [hdu for hdu in read_hdu_layout(mask) if hdu.name == "DQ"]
    data = bytearray(mask.read_bytes())
    data[dq.data_offset + 3] ^= 0x01
    mask.write_bytes(bytes(data))
    messages = [str(finding) for finding in check_cache().findings]
    assert len(messages) == 2
    assert "reference: " in messages[0]
    assert "HDU 1 (DQ): DATASUM is" in messages[0]
    assert "HDU 1 (DQ): CHECKSUM does not match" in messages[1]


def test_reference_lacks_selection_keyword(shipped):
    mask = shipped / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    with fits.open(mask) as hdus:
        del hdus[0].header["DETECTOR"]
        hdus.writeto(mask, overwrite=True, checksum=True)
    result = check_cache()
    assert kinds(result) == ["reference"]
    assert "has no DETECTOR" in result.findings[0].message


def test_unused_files_are_listed_not_findings(shipped):
    extra = shipped / "references" / "tmt" / "iris" / "old_mask.fits"
    extra.write_bytes(b"")
    result = check_cache()
    assert result.findings == []
    assert result.unused == [extra]


def test_older_context_counts_as_a_user(shipped, write_mapping):
    # tmt_0002.pmap has no IRIS entry; tmt_0001.pmap still names the mask.
    text = mapping_path(shipped, "tmt_0001.pmap").read_text()
    write_mapping(
        "tmt_0002.pmap",
        text.replace("tmt_0001", "tmt_0002").replace(
            "'IRIS' : 'tmt_iris_0003.imap'", "'IRIS' : 'N/A'"
        ),
    )
    result = check_cache()
    assert result.context == "tmt_0002.pmap"
    assert result.findings == []
    assert result.unused == []


def test_unusable_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ReferenceFileError, match="does not exist"):
        check_cache()


def test_context_that_does_not_parse_is_unusable(shipped):
    mapping_path(shipped, "tmt_0001.pmap").write_text("header = {\n")
    with pytest.raises(
        MappingError,
        match=r"context tmt_0001\.pmap \(.*\) cannot be used: .*does not parse",
    ):
        check_cache()


def test_context_that_does_not_exist_is_unusable(shipped):
    with pytest.raises(
        MappingError, match=r"context tmt_0007\.pmap \(given\) cannot be used"
    ):
        check_cache("tmt_0007.pmap")


def test_context_name_with_a_folder_is_refused(shipped):
    with pytest.raises(MappingError, match="unsafe mapping name"):
        check_cache("../tmt_0001.pmap")


def test_server_config_without_operational_context(shipped):
    config = shipped / "config" / "tmt"
    config.mkdir(parents=True)
    (config / "server_config").write_text("{'observatory': 'tmt'}")
    result = check_cache()
    assert kinds(result) == ["config"]
    assert "no 'operational_context'" in result.findings[0].message


def test_mapping_that_is_not_utf8(shipped):
    mapping_path(shipped, "tmt_iris_dark_0001.rmap").write_bytes(b"header = {'\xff'}\n")
    result = check_cache()
    assert kinds(result) == ["parse"]
    assert "not UTF-8" in result.findings[0].message


def test_child_of_the_wrong_kind(shipped, write_mapping):
    # The imap names an rmap whose header says it is an instrument mapping.
    imap = mapping_path(shipped, IMAP).read_text()
    write_mapping("tmt_iris_mask_0001.rmap", imap.replace(IMAP, RMAP))
    messages = [str(finding) for finding in check_cache().findings]
    assert any("named as a rmap" in message for message in messages)
    assert any(
        "used as a rmap by tmt_iris_0003.imap" in message for message in messages
    )


def test_cache_without_mappings_uses_the_shipped_context(cache):
    from builders import write_mask

    write_mask(cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits")
    result = check_cache()
    assert result.source == "shipped with irisdq"
    assert result.findings == []


def test_without_a_context_the_caches_own_observatory_is_checked(tmp_path, monkeypatch):
    """A cache holding only jwst contexts is checked as a jwst cache, not
    against the context shipped for tmt."""
    from builders import write_observatory_cache

    root = tmp_path / "jwst_cache"
    rules = "Match({\n    ('NRCA1',) : UseAfter({\n"
    rules += "        '2022-01-01 00:00:00' : 'jwst_nircam_mask_0001.fits',\n"
    rules += "    }),\n})"
    parkey = (("META.INSTRUMENT.DETECTOR",), ("META.OBSERVATION.DATE",))
    write_observatory_cache(root, "jwst", "nircam", "mask", parkey, rules)
    monkeypatch.setenv("CRDS_PATH", str(root))
    result = check_cache()
    assert (result.context, result.source) == (
        "jwst_0001.pmap",
        f"the highest-numbered pmap in {root / 'mappings' / 'jwst'}",
    )
    assert [str(finding).split(" (")[0] for finding in result.findings] == [
        "missing: reference jwst_nircam_mask_0001.fits"
    ]
    # Two observatories and none chosen: no guess.
    write_observatory_cache(root, "ligeriri", "liger", "dq", parkey, "Match({})")
    with pytest.raises(MappingError, match="holds contexts of jwst, ligeriri; name"):
        check_cache()
    monkeypatch.setenv("CRDS_OBSERVATORY", "ligeriri")
    assert check_cache().context == "ligeriri_0001.pmap"


@pytest.mark.parametrize(
    ("changes", "wanted", "found"),
    [
        (
            {"USEAFTER": "2021-01-01T00:00:00"},
            "USEAFTER 2015-10-01 00:00:00 or earlier",
            "USEAFTER 2021-01-01 00:00:00",
        ),
        ({"DETECTOR": "IRIS2"}, "DETECTOR 'IRIS1'", "DETECTOR 'IRIS2'"),
    ],
)
def test_a_reference_not_made_for_its_rule_is_reported(shipped, changes, wanted, found):
    """A 2021 (or an IRIS2) mask put in place of the 2015 IRIS1 one: the
    rule gives it to exposures it was not made for."""
    path = shipped / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    with fits.open(path, mode="update") as hdus:
        hdus[0].header.update(changes)
        hdus[0].add_checksum()
    assert [str(finding) for finding in check_cache().findings] == [
        f"reference: {path}: {RMAP} selects it from 2015-10-01 00:00:00 for "
        f"{wanted}, but its header has {found}; a file put in place of another? "
        "deliver it under a name of its own with irisdq crds add"
    ]


def test_an_earlier_useafter_or_a_full_frame_mask_agrees_with_its_rule(shipped):
    path = shipped / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    with fits.open(path, mode="update") as hdus:
        hdus[0].header.update({"USEAFTER": "2000-01-01T00:00:00", "SUBARRAY": "FULL"})
        hdus[0].add_checksum()
    assert check_cache().findings == []


def test_crds_context_names_the_observatory_checked(shipped, monkeypatch):
    monkeypatch.setenv("CRDS_CONTEXT", "tmt_0001.pmap")
    result = check_cache()
    assert (result.context, result.source) == ("tmt_0001.pmap", "CRDS_CONTEXT")


def test_a_useafter_that_is_no_date_is_not_compared(shipped):
    path = shipped / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    with fits.open(path, mode="update") as hdus:
        hdus[0].header["USEAFTER"] = "soon"
        hdus[0].add_checksum()
    assert check_cache().findings == []
