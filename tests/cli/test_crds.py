"""The ``irisdq crds`` command: output, exit codes and one-line errors."""

import pytest
from astropy.io import fits

from builders import write_dated_mask
from irisdq.cli.main import main
from irisdq.crds import mapping_checksum
from irisdq.errors import NoMatchError

MASK = "tmt_iris_mask_0001.fits"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    (root / "references" / "tmt" / "iris").mkdir(parents=True)
    monkeypatch.setenv("CRDS_PATH", str(root))
    return root


def _raw(path, **changes):
    header = fits.Header(
        {
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "FULL",
            "DATE-OBS": "2020-07-13",
            "TIME-OBS": "00:00:00",
        }
    )
    header.update(changes)
    fits.PrimaryHDU(header=header).writeto(path)
    return path


def test_bestref_prints_the_path(cache, tmp_path, capsys):
    mask = cache / "references" / "tmt" / "iris" / MASK
    mask.write_bytes(b"")
    raw = _raw(tmp_path / "raw_uncal.fits")
    assert main(["crds", "bestref", str(raw), "--reftype", "mask"]) == 0
    assert capsys.readouterr().out == f"{mask}\n"


def test_bestref_explain(cache, tmp_path, capsys):
    (cache / "references" / "tmt" / "iris" / MASK).write_bytes(b"")
    raw = _raw(tmp_path / "raw_uncal.fits")
    assert main(["crds", "bestref", str(raw), "--reftype", "MASK", "--explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"file       {raw} (profile tmt)\n"
        "context    tmt_0001.pmap (shipped with irisdq)"
    )
    assert "-> rank 1" in out
    assert "chose 2015-10-01 00:00:00, the latest of 1 use-after date(s)" in out
    assert f"result     {MASK}" in out


def test_bestref_not_applicable(cache, tmp_path, capsys):
    raw = _raw(tmp_path / "raw_uncal.fits")
    assert main(["crds", "bestref", str(raw), "--reftype", "dflat"]) == 0
    assert capsys.readouterr().out == "N/A\n"


def test_missing_reference_is_one_line_and_exit_2(home, tmp_path, capsys):
    raw = _raw(tmp_path / "raw_uncal.fits")
    assert main(["crds", "bestref", str(raw), "--reftype", "mask"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    expected = home / "crds_cache" / "references" / "tmt" / "iris" / MASK
    assert err.startswith("irisdq: error: MASK reference tmt_iris_mask_0001.fits")
    assert f"expected at {expected};" in err
    assert "TMTMaskModel" in err


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"DETECTOR": "IRIS2"}, "rule keys: ('IRIS1', 'N/A')"),
        ({"DATE-OBS": "2015-09-13"}, "earlier than every use-after date"),
        ({"INSTRUME": "NIRCAM"}, "known instruments: IRIS"),
    ],
)
def test_no_match_is_one_line_and_exit_2(cache, tmp_path, capsys, changes, words):
    raw = _raw(tmp_path / "raw_uncal.fits", **changes)
    assert main(["crds", "bestref", str(raw), "--reftype", "mask"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert words in err


def test_unknown_reftype(cache, tmp_path, capsys):
    raw = _raw(tmp_path / "raw_uncal.fits")
    assert main(["crds", "bestref", str(raw), "--reftype", "flat"]) == 2
    assert "known types: dflat, mask" in capsys.readouterr().err


def test_several_files_report_each_and_exit_1(cache, tmp_path, capsys):
    mask = cache / "references" / "tmt" / "iris" / MASK
    mask.write_bytes(b"")
    good = _raw(tmp_path / "good.fits")
    bad = _raw(tmp_path / "bad.fits", DETECTOR="IRIS2")
    assert main(["crds", "bestref", str(good), str(bad), "--reftype", "mask"]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{good}: {mask}\n"
    assert "IRIS2" in captured.err


def test_missing_crds_path_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "typo"))
    raw = _raw(tmp_path / "raw_uncal.fits")
    assert main(["crds", "bestref", str(raw), "--reftype", "mask"]) == 2
    err = capsys.readouterr().err
    assert f"the CRDS cache folder {tmp_path / 'typo'} does not exist" in err
    assert "set by CRDS_PATH" in err


def test_debug_shows_the_traceback(cache, tmp_path):
    raw = _raw(tmp_path / "raw_uncal.fits", DETECTOR="IRIS2")
    with pytest.raises(NoMatchError):
        main(["crds", "bestref", str(raw), "--reftype", "mask", "--debug"])


def test_list(cache, capsys):
    (cache / "references" / "tmt" / "iris" / MASK).write_bytes(b"")
    assert main(["crds", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"cache      {cache} (set by CRDS_PATH=")
    assert out[1] == "context    tmt_0001.pmap (shipped with irisdq)"
    assert any(line.startswith("pmap") and "tmt_0001.pmap" in line for line in out)
    reference = [line for line in out if line.startswith("reference")]
    assert len(reference) == 1
    assert MASK in reference[0]
    assert "present" in reference[0]


def test_list_shows_missing_reference(home, capsys):
    assert main(["crds", "list"]) == 0
    out = capsys.readouterr().out
    assert "does not exist" in out
    assert (
        f"missing   {home / 'crds_cache' / 'references' / 'tmt' / 'iris' / MASK}" in out
    )


def test_checksum_rewrites_in_place(tmp_path, capsys):
    path = tmp_path / "demo.rmap"
    path.write_text(
        "header = {\n    'sha1sum' : 'old',\n}\nselector = Match({'IRIS1': 'a.fits'})\n"
    )
    assert main(["crds", "checksum", str(path)]) == 0
    checksum = mapping_checksum(path.read_text())
    assert capsys.readouterr().out == f"{path}: sha1sum {checksum}\n"
    assert f"'sha1sum' : '{checksum}'," in path.read_text()


def test_checksum_of_a_bad_mapping(tmp_path, capsys):
    path = tmp_path / "demo.rmap"
    path.write_text("header = {}\nselector = exec('1')\n")
    assert main(["crds", "checksum", str(path)]) == 2
    assert "demo.rmap:2: a call of 'exec' is not allowed" in capsys.readouterr().err


def test_no_action(capsys):
    assert main(["crds"]) == 2
    assert (
        "choose an action: bestref, list, checksum, check or add"
        in capsys.readouterr().err
    )


def test_list_with_an_imap_whose_header_says_pipeline(cache, capsys, monkeypatch):
    """Issue 11: a mapping of the wrong kind is listed as an error, exit 2."""
    from irisdq.crds.cache import shipped_mapping_folder

    folder = cache / "mappings" / "tmt"
    folder.mkdir(parents=True)
    text = (shipped_mapping_folder() / "tmt_0001.pmap").read_text()
    (folder / "tmt_iris_0003.imap").write_text(text)
    monkeypatch.setenv("CRDS_IGNORE_MAPPING_CHECKSUM", "1")
    assert main(["crds", "list"]) == 2
    captured = capsys.readouterr()
    [line] = [line for line in captured.out.splitlines() if "error" in line]
    assert line.startswith(
        "imap       IRIS           tmt_iris_0003.imap           error"
    )
    assert "its header says mapping 'PIPELINE', a pmap, but it is used as" in line
    assert captured.err == (
        "irisdq: error: 1 of the context's files cannot be used "
        "(tmt_iris_0003.imap); see above\n"
    )


def test_add_dry_run_prints_the_diff_and_writes_nothing(cache, tmp_path, capsys):
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01T00:00:00")
    before = sorted(cache.rglob("*"))
    assert main(["crds", "add", str(mask), "--dry-run", "--set-operational"]) == 0
    out = capsys.readouterr().out
    assert "+++ tmt_iris_mask_0002.rmap\n" in out
    assert "+        '2021-01-01 00:00:00' : 'mask_2021.fits',\n" in out
    assert "dry run: context tmt_0002.pmap not written" in out
    assert f"  {cache / 'config' / 'tmt' / 'server_config'}\n" in out
    assert sorted(cache.rglob("*")) == before


def test_add_then_bestref_selects_the_new_mask(cache, tmp_path, capsys):
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01T00:00:00")
    assert main(["crds", "add", str(mask), "--set-operational"]) == 0
    out = capsys.readouterr().out
    delivered = cache / "references" / "tmt" / "iris" / "mask_2021.fits"
    assert f"wrote      {delivered}\n" in out
    assert out.endswith("context    tmt_0002.pmap (from tmt_0001.pmap; operational)\n")
    config = cache / "config" / "tmt" / "server_config"
    assert "'operational_context': 'tmt_0002.pmap'" in config.read_text()
    raw = _raw(tmp_path / "raw_uncal.fits", **{"DATE-OBS": "2022-05-06"})
    assert main(["crds", "bestref", str(raw), "--reftype", "mask"]) == 0
    assert capsys.readouterr().out == f"{delivered}\n"


def test_add_clash_is_one_line_and_exit_2(cache, tmp_path, capsys):
    mask = write_dated_mask(tmp_path / "again.fits", "2015-10-01")
    assert main(["crds", "add", str(mask)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"irisdq: error: {mask}: tmt_iris_mask_0001.rmap already")
    assert "give --replace" in err
    assert not (cache / "mappings").exists()


def test_check_exit_codes(tmp_path, monkeypatch, capsys):
    from builders import write_shipped_cache

    root = tmp_path / "checked"
    mask = write_shipped_cache(root)
    monkeypatch.setenv("CRDS_PATH", str(root))
    assert main(["crds", "check"]) == 0
    assert capsys.readouterr().out.startswith(f"no problems found in {root}")
    mask.unlink()
    assert main(["crds", "check", "--context", "tmt_0001.pmap"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("missing: reference tmt_iris_mask_0001.fits")
    assert out[-1].startswith(f"1 problem(s) in {root} (context tmt_0001.pmap")
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "nowhere"))
    assert main(["crds", "check"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "nowhere does not exist" in err


def test_list_uses_the_only_observatory_of_the_cache(tmp_path, monkeypatch, capsys):
    from builders import write_observatory_cache

    root = tmp_path / "jwst_cache"
    rules = "Match({\n    ('NRCA1',) : UseAfter({\n"
    rules += (
        "        '2022-01-01 00:00:00' : 'jwst_nircam_mask_0001.fits',\n    }),\n})"
    )
    parkey = (("META.INSTRUMENT.DETECTOR",), ("META.OBSERVATION.DATE",))
    write_observatory_cache(root, "jwst", "nircam", "mask", parkey, rules)
    monkeypatch.setenv("CRDS_PATH", str(root))
    main(["crds", "list"])
    out = capsys.readouterr().out
    assert "context    jwst_0001.pmap (the highest-numbered pmap in" in out
    # A second observatory in the cache: tmt again, unless asked.
    (root / "mappings" / "tmt").mkdir()
    (root / "mappings" / "tmt" / "tmt_0007.pmap").write_text("")
    from irisdq.crds import cache_root, default_context

    assert default_context(cache_root())[0] == "tmt_0007.pmap"
    monkeypatch.setenv("CRDS_OBSERVATORY", "jwst")
    assert default_context(cache_root())[0] == "jwst_0001.pmap"
