"""The ``irisdq crds`` command: output, exit codes and one-line errors."""

from typing import ClassVar

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
        ({"INSTRUME": "WFC3"}, "known instruments: IRIS"),
        # A NIRCAM file is selected for in the jwst context, as every entry
        # point selects for it.
        ({"INSTRUME": "NIRCAM"}, "no jwst context"),
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


class TestASyncedLigerCache:
    """A ligeriri cache as the stock client leaves it: server_config written
    by crds' own code (a pformat dict with lists), and an imap naming rmaps
    of other reference types that this cache never fetched."""

    MASK = "ligeriri_liger_dq_0007.fits"
    PARKEY = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
    RULES = (
        "Match({\n    ('IMG', '0.0.1') : UseAfter({\n"
        "        '2025-01-01 00:00:00' : 'ligeriri_liger_dq_0007.fits',\n"
        "    }),\n})"
    )
    HEADER: ClassVar = {"INSTRUME": "Liger", "DETECTOR": "IMG", "INSTERA": "0.0.1"}

    @pytest.fixture
    def synced(self, tmp_path, monkeypatch):
        import numpy as np

        from builders import (
            write_foreign_mask,
            write_observatory_cache,
            write_stock_server_config,
        )
        from irisdq.crds import clear_cache, update_checksum

        root = tmp_path / "synced"
        references = write_observatory_cache(
            root, "ligeriri", "liger", "dq", self.PARKEY, self.RULES
        )
        imap = root / "mappings" / "ligeriri" / "ligeriri_liger_0001.imap"
        imap.write_text(
            imap.read_text().replace(
                "selector = {\n",
                "selector = {\n    'dark' : 'ligeriri_liger_dark_0004.rmap',\n"
                "    'flat' : 'ligeriri_liger_flat_0002.rmap',\n",
            )
        )
        update_checksum(imap)
        dq = np.zeros((12, 10), dtype=np.uint32)
        dq[3, 7] = 1024 | 1
        write_foreign_mask(
            references / self.MASK,
            dq,
            [(0, 1, "DO_NOT_USE", ""), (10, 1024, "DEAD", "")],
            style="liger",
            header={**self.HEADER, "USEAFTER": "2025-01-01T00:00:00"},
        )
        names = ["ligeriri_0001.pmap", "ligeriri_liger_0001.imap"]
        write_stock_server_config(root, "ligeriri", "ligeriri_0001.pmap", names)
        monkeypatch.setenv("CRDS_PATH", str(root))
        clear_cache()
        return root

    def _raw(self, tmp_path):
        from builders import write_liger_ramp

        return write_liger_ramp(tmp_path / "liger_raw.fits", 12, 10, 3, 2)

    def test_dq_init(self, synced, tmp_path):
        raw = self._raw(tmp_path)
        out = tmp_path / "out.fits"
        assert main(["dq-init", str(raw), "-o", str(out)]) == 0
        header = fits.getheader(out)
        assert header["R_DQ"] == f"crds://{self.MASK}"
        assert header["CRDS_CTX"] == "ligeriri_0001.pmap"
        assert fits.getdata(out, "DQ")[3, 7].tolist() == [[1025] * 2] * 3

    def test_bestref(self, synced, tmp_path, capsys):
        raw = self._raw(tmp_path)
        assert main(["crds", "bestref", str(raw), "--reftype", "dq"]) == 0
        reference = synced / "references" / "ligeriri" / "liger" / self.MASK
        assert capsys.readouterr().out == f"{reference}\n"

    def test_list(self, synced, capsys):
        main(["crds", "list"])
        out = capsys.readouterr().out
        config = synced / "config" / "ligeriri" / "server_config"
        assert f"context    ligeriri_0001.pmap (operational_context of {config})" in out
        assert self.MASK in out

    def test_check_checks_the_caches_own_observatory(self, synced, capsys):
        assert main(["crds", "check"]) == 1
        out = capsys.readouterr().out.splitlines()
        assert out[-1].startswith(
            f"2 problem(s) in {synced} (context ligeriri_0001.pmap, "
            "operational_context of server_config)"
        )
        assert sorted(line.split(".rmap")[0] for line in out[:-1]) == [
            "missing: mapping ligeriri_liger_dark_0004",
            "missing: mapping ligeriri_liger_flat_0002",
        ]

    def test_add_needs_only_the_mappings_it_changes(self, synced, tmp_path, capsys):
        import numpy as np

        from builders import write_foreign_mask

        mask = write_foreign_mask(
            tmp_path / "liger_2026.fits",
            np.zeros((12, 10), dtype=np.uint32),
            [(10, 1024, "DEAD", "")],
            style="liger",
            header={**self.HEADER, "USEAFTER": "2026-01-01T00:00:00"},
        )
        assert main(["crds", "add", str(mask), "--set-operational"]) == 0
        assert capsys.readouterr().out.endswith(
            "context    ligeriri_0002.pmap (from ligeriri_0001.pmap; operational)\n"
        )
        imap = synced / "mappings" / "ligeriri" / "ligeriri_liger_0002.imap"
        # The rules of the other types are kept as they were.
        assert "'dark' : 'ligeriri_liger_dark_0004.rmap'," in imap.read_text()
        config = synced / "config" / "ligeriri" / "server_config"
        import ast

        settings = ast.literal_eval(config.read_text())  # as the stock client
        assert settings["operational_context"] == "ligeriri_0002.pmap"
        names = ["ligeriri_0001.pmap", "ligeriri_liger_0001.imap"]
        assert settings["mappings"] == names
        raw = write_liger_ramp_dated(tmp_path / "raw_2026.fits")
        assert main(["crds", "bestref", str(raw), "--reftype", "dq"]) == 0
        assert capsys.readouterr().out.endswith(f"{mask.name}\n")

    def test_mask_check(self, synced, capsys):
        mask = synced / "references" / "ligeriri" / "liger" / self.MASK
        assert main(["mask", "check", str(mask)]) == 0
        assert capsys.readouterr().out == f"{mask}: no problems found\n"


def write_liger_ramp_dated(path):
    from builders import write_liger_ramp

    return write_liger_ramp(path, 12, 10, 3, 2, header={"EXPDTST": "20260314093000"})


def test_add_warns_of_exposures_left_on_an_older_mask(cache, tmp_path, capsys):
    """--subarray FULL files a full-frame mask for FULL only: the dry run and
    the delivery both name the subarrays that keep the 2015 mask; without
    --subarray it is filed for every subarray and CUSTOM gets it."""
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01", "FULL")
    warning = (
        f"irisdq: warning: {mask}: exposures of DETECTOR=IRIS1 SUBARRAY other "
        f"than FULL from 2021-01-01 00:00:00 on still get {MASK}, not "
        "mask_2021.fits (tmt_iris_mask_0002.rmap: give --subarray any to file "
        "it for every subarray)\n"
    )
    argv = ["crds", "add", str(mask), "--subarray", "FULL"]
    assert main([*argv, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "+    ('IRIS1', 'FULL') : UseAfter({\n" in captured.out
    assert captured.err == warning
    assert not (cache / "mappings").exists()
    assert main(["crds", "add", str(mask)]) == 0
    assert capsys.readouterr().err == ""
    (cache / "references" / "tmt" / "iris" / MASK).write_bytes(b"")
    raw = _raw(
        tmp_path / "raw_uncal.fits", SUBARRAY="CUSTOM", **{"DATE-OBS": "2026-03-14"}
    )
    assert main(["crds", "bestref", str(raw), "--reftype", "mask"]) == 0
    assert capsys.readouterr().out.endswith("/mask_2021.fits\n")


def test_add_refuses_a_pattern_as_subarray(cache, tmp_path, capsys):
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01")
    assert main(["crds", "add", str(mask), "--subarray", "SUB*"]) == 2
    assert capsys.readouterr().err == (
        "irisdq: error: --subarray 'SUB*' is not a subarray name (letters, digits, "
        "'_', '.', '+', '-'); give a name such as FULL, or any\n"
    )
