"""Delivering masks into a cache as a new context (irisdq.crds.admin)."""

import re
import socket
import sys
import types

import pytest

from builders import with_card, write_dated_mask, write_ligeriri_cache
from irisdq.crds import cache_root, get_context, mapping_from_text, parse_mapping
from irisdq.crds.admin import delivery as delivery_module
from irisdq.crds.admin.delivery import deliver
from irisdq.crds.admin.mapping_text import format_mapping
from irisdq.crds.admin.new_context import DeliveryError
from irisdq.crds.cache import shipped_mapping_folder
from irisdq.crds.parser import parse_literal
from irisdq.errors import DataModelError
from irisdq.profiles import PROFILES

OLD_MASK = "tmt_iris_mask_0001.fits"


def dataset(date: str, subarray: str = "FULL") -> dict:
    return {
        "INSTRUME": "IRIS",
        "DETECTOR": "IRIS1",
        "SUBARRAY": subarray,
        "DATE-OBS": date,
        "TIME-OBS": "00:00:00",
    }


def snapshot(root):
    """Every file (with its bytes) and folder under `root`."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture
def mask_2021(tmp_path):
    return write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01T00:00:00")


def test_round_trip_from_the_shipped_context(cache, mask_2021):
    before = get_context()
    assert before.name == "tmt_0001.pmap"
    delivery = deliver([mask_2021])
    assert delivery.base == "tmt_0001.pmap"
    assert delivery.context == "tmt_0002.pmap"
    context = get_context()
    assert context.name == "tmt_0002.pmap"
    assert context.select(dataset("2022-03-04"), "mask").filename == mask_2021.name
    assert context.select(dataset("2019-03-04"), "mask").filename == OLD_MASK
    old = get_context("tmt_0001.pmap").select(dataset("2022-03-04"), "mask")
    assert old.filename == OLD_MASK
    copied = cache / "references" / "tmt" / "iris" / mask_2021.name
    assert copied.read_bytes() == mask_2021.read_bytes()
    assert context.bestref(dataset("2022-03-04"), "mask") == str(copied)


def test_new_mappings_derive_from_the_old_and_the_cache_is_self_contained(
    cache, mask_2021
):
    deliver([mask_2021])
    folder = cache / "mappings" / "tmt"
    shipped = shipped_mapping_folder()
    for name in ("tmt_0001.pmap", "tmt_iris_0003.imap", "tmt_iris_mask_0001.rmap"):
        # Copied as they are, never edited.
        assert (folder / name).read_bytes() == (shipped / name).read_bytes()
    derived = {
        "tmt_0002.pmap": "tmt_0001.pmap",
        "tmt_iris_0004.imap": "tmt_iris_0003.imap",
        "tmt_iris_mask_0002.rmap": "tmt_iris_mask_0001.rmap",
    }
    for name, parent in derived.items():
        text = (folder / name).read_text()
        mapping = mapping_from_text(text, name)  # checks the sha1sum
        assert mapping.header["derived_from"] == parent
        assert mapping.header["name"] == name
    rmap = parse_mapping((folder / "tmt_iris_mask_0002.rmap").read_text())
    ((key, useafter, _),) = rmap.selector.entries
    assert key == ("IRIS1", "GENERIC")
    assert [(date, name) for date, name, _ in useafter.entries] == [
        ("2015-10-01 00:00:00", OLD_MASK),
        ("2021-01-01 00:00:00", mask_2021.name),
    ]
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [*derived, *derived.values()]
    )


@pytest.fixture
def stock(monkeypatch, tmp_path_factory):
    """The stock crds rmap module, offline (as in test_differential).

    The stock client knows no 'tmt' observatory package; an rmap of
    observatory TMT loads once empty ``crds.tmt`` and ``crds.tmt.iris``
    modules exist (it looks its instrument hooks up there, with defaults).
    """
    crds = pytest.importorskip("crds")
    monkeypatch.setenv("CRDS_PATH", str(tmp_path_factory.mktemp("stock_crds")))
    monkeypatch.setenv("CRDS_SERVER_URL", "https://crds-oracle.invalid")
    monkeypatch.setenv("CRDS_MODE", "local")

    def refuse(*args, **kwargs):
        raise OSError("the conformance tests never use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    tmt = types.ModuleType("crds.tmt")
    tmt.__path__ = []
    iris = types.ModuleType("crds.tmt.iris")
    tmt.iris = iris
    monkeypatch.setitem(sys.modules, "crds.tmt", tmt)
    monkeypatch.setitem(sys.modules, "crds.tmt.iris", iris)
    monkeypatch.setattr(crds, "tmt", tmt, raising=False)
    import crds.core.rmap
    import crds.core.utils

    return crds.core


def test_new_mappings_load_in_the_stock_client(cache, mask_2021, stock):
    delivery = deliver([mask_2021], dry_run=True)
    kinds = {
        "rmap": stock.rmap.ReferenceMapping,
        "imap": stock.rmap.InstrumentContext,
        "pmap": stock.rmap.PipelineContext,
    }
    loaded = {}
    for mapping in delivery.mappings:
        kind = kinds[mapping.name[-4:]]
        loaded[mapping.name] = kind.from_string(
            mapping.text, mapping.name, ignore_checksum=False
        )
        # The stock client does check the sum: a changed text is refused.
        changed = mapping.text.replace("tmt_", "tmx_", 1)
        with pytest.raises(stock.exceptions.ChecksumError):
            kind.from_string(changed, mapping.name, ignore_checksum=False)
    rmap = loaded["tmt_iris_mask_0002.rmap"]
    for date, expected in (("2022-03-04", mask_2021.name), ("2019-03-04", OLD_MASK)):
        header = {
            "META.INSTRUMENT.DETECTOR": "IRIS1",
            "META.SUBARRAY.NAME": "FULL",
            "META.OBSERVATION.DATE": date,
            "META.OBSERVATION.TIME": "00:00:00",
        }
        assert rmap.selector.choose(stock.utils.condition_header(header)) == expected


def test_a_new_match_key_is_inserted(cache, tmp_path):
    sub16 = write_dated_mask(tmp_path / "sub16.fits", "2021-01-01", subarray="SUB16")
    delivery = deliver([sub16])
    rmap = parse_mapping(delivery.mappings[0].text)
    assert [key for key, _, _ in rmap.selector.entries] == [
        ("IRIS1", "GENERIC"),
        ("IRIS1", "SUB16"),
    ]
    context = get_context()
    assert context.select(dataset("2022-01-01", "SUB16"), "mask").filename == (
        "sub16.fits"
    )
    assert context.select(dataset("2022-01-01"), "mask").filename == OLD_MASK


def test_a_reftype_without_rmap_gets_a_new_one(cache, write_mapping, mask_2021):
    write_mapping(
        "tmt_0005.pmap",
        "header = {\n    'mapping' : 'PIPELINE',\n    'name' : 'tmt_0005.pmap',\n"
        "    'observatory' : 'TMT',\n    'parkey' : ('META.INSTRUMENT.NAME',),\n"
        "    'sha1sum' : 'x',\n}\n\n"
        "selector = {\n    'IRIS' : 'tmt_iris_0007.imap',\n}\n",
    )
    write_mapping(
        "tmt_iris_0007.imap",
        "header = {\n    'instrument' : 'IRIS',\n    'mapping' : 'INSTRUMENT',\n"
        "    'name' : 'tmt_iris_0007.imap',\n    'observatory' : 'TMT',\n"
        "    'parkey' : ('REFTYPE',),\n    'sha1sum' : 'x',\n}\n\n"
        "selector = {\n    'dark' : 'N/A',\n}\n",
    )
    delivery = deliver([mask_2021])
    assert [mapping.name for mapping in delivery.mappings] == [
        "tmt_iris_mask_0002.rmap",  # after the shipped tmt_iris_mask_0001.rmap
        "tmt_iris_0008.imap",
        "tmt_0006.pmap",
    ]
    rmap = delivery.mappings[0]
    assert rmap.derived_from is None
    assert mapping_from_text(rmap.text, rmap.name).header["derived_from"] == (
        "generated by irisdq crds add"
    )
    imap = parse_mapping(delivery.mappings[1].text)
    assert imap.selector == {"dark": "N/A", "mask": "tmt_iris_mask_0002.rmap"}
    context = get_context()
    assert context.name == "tmt_0006.pmap"
    assert context.select(dataset("2022-01-01", "GENERIC"), "mask").filename == (
        mask_2021.name
    )
    # The mapping the pmap derives from is in the cache: nothing is copied.
    assert delivery.copies == []


def test_a_clash_is_refused_unless_replace(cache, tmp_path):
    same_date = write_dated_mask(tmp_path / "again.fits", "2015-10-01T00:00:00")
    before = snapshot(cache)
    with pytest.raises(
        DeliveryError,
        match=r"mask_0001\.rmap already selects 'tmt_iris_mask_0001\.fits'",
    ):
        deliver([same_date])
    assert snapshot(cache) == before
    deliver([same_date], replace=True)
    context = get_context()
    assert context.select(dataset("2019-01-01"), "mask").filename == "again.fits"
    assert (
        OLD_MASK
        not in (cache / "mappings" / "tmt" / "tmt_iris_mask_0002.rmap").read_text()
    )


def test_two_masks_in_one_call_clash_with_each_other(cache, tmp_path):
    first = write_dated_mask(tmp_path / "a.fits", "2021-01-01")
    second = write_dated_mask(tmp_path / "b.fits", "2021-01-01T00:00:00")
    with pytest.raises(
        DeliveryError, match=r"earlier mask of this delivery already selects 'a\.fits'"
    ):
        deliver([first, second])
    assert not (cache / "references" / "tmt" / "iris" / "a.fits").exists()


def test_dry_run_writes_nothing_and_gives_the_diff(cache, mask_2021):
    before = snapshot(cache)
    delivery = deliver([mask_2021], dry_run=True, set_operational=True)
    assert snapshot(cache) == before
    diff = delivery.diff()
    assert "--- tmt_iris_mask_0001.rmap\n+++ tmt_iris_mask_0002.rmap\n" in diff
    assert "+        '2021-01-01 00:00:00' : 'mask_2021.fits',\n" in diff
    assert "-    'mask' : 'tmt_iris_mask_0001.rmap',\n" in diff
    assert "+    'IRIS' : 'tmt_iris_0004.imap',\n" in diff


def test_server_config_changes_only_with_set_operational(cache, mask_2021, tmp_path):
    config = cache / "config" / "tmt" / "server_config"
    config.parent.mkdir(parents=True)
    config.write_text("{'operational_context' : 'tmt_0001.pmap', 'other' : 3}\n")
    deliver([mask_2021])
    assert config.read_text() == (
        "{'operational_context' : 'tmt_0001.pmap', 'other' : 3}\n"
    )
    assert get_context().name == "tmt_0001.pmap"
    later = write_dated_mask(tmp_path / "mask_2023.fits", "2023-01-01")
    delivery = deliver([later], context="tmt_0002.pmap", set_operational=True)
    assert delivery.context == "tmt_0003.pmap"
    settings = parse_literal(config.read_text())
    assert settings == {"operational_context": "tmt_0003.pmap", "other": 3}
    context = get_context()
    assert context.name == "tmt_0003.pmap"
    assert context.select(dataset("2024-01-01"), "mask").filename == later.name
    assert context.select(dataset("2022-01-01"), "mask").filename == mask_2021.name


def test_a_failure_mid_way_leaves_the_cache_as_it_was(cache, mask_2021, monkeypatch):
    config = cache / "config" / "tmt" / "server_config"
    config.parent.mkdir(parents=True)
    config.write_text("{'operational_context' : 'tmt_0001.pmap'}\n")
    before = snapshot(cache)
    moves = []
    install = delivery_module._install

    def fail_on_the_imap(temporary, final, replace):
        if final.name == "tmt_iris_0004.imap":
            raise OSError(28, "No space left on device")
        moves.append(final.name)
        install(temporary, final, replace)

    monkeypatch.setattr(delivery_module, "_install", fail_on_the_imap)
    with pytest.raises(DeliveryError, match=r"No space left on device.*nothing was"):
        deliver([mask_2021], set_operational=True)
    # The copies, the reference and the rmap had been moved in.
    assert "tmt_iris_mask_0002.rmap" in moves
    assert mask_2021.name in moves
    assert snapshot(cache) == before


def test_a_failure_in_a_new_cache_removes_the_folders_it_made(
    tmp_path, monkeypatch, mask_2021
):
    root = tmp_path / "fresh"
    root.mkdir()
    monkeypatch.setenv("CRDS_PATH", str(root))

    def fail(temporary, final, replace):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(delivery_module, "_install", fail)
    with pytest.raises(DeliveryError):
        deliver([mask_2021])
    assert list(root.iterdir()) == []


def test_references_are_checked(cache, tmp_path, mask_2021):
    damaged = write_dated_mask(tmp_path / "damaged.fits", "2021-01-01")
    with_card(damaged, 0, "DETECTOR", "'IRIS2'")
    with pytest.raises(DataModelError, match=r"(?i)checksum"):
        deliver([damaged])
    bad_date = write_dated_mask(tmp_path / "bad_date.fits", "soon")
    with pytest.raises(DeliveryError, match="USEAFTER 'soon' is not a date"):
        deliver([bad_date])
    present = cache / "references" / "tmt" / "iris" / mask_2021.name
    present.write_bytes(b"")
    with pytest.raises(DeliveryError, match="already in the cache"):
        deliver([mask_2021])
    assert cache_root().path == cache


def test_only_masks_are_delivered(cache, tmp_path):
    from builders import write_full_frame_ramp

    ramp = write_full_frame_ramp(tmp_path / "raw.fits")
    with pytest.raises(
        DeliveryError, match="no REFTYPE keyword; irisdq crds add delivers masks"
    ):
        deliver([ramp])


def test_format_mapping_is_read_back_as_written():
    header = {
        "mapping": "REFERENCE",
        "name": "tmt_iris_mask_0009.rmap",
        "filekind": "MASK",
        "instrument": "IRIS",
        "parkey": (("META.INSTRUMENT.DETECTOR",),),
        "substitutions": {"META.INSTRUMENT.DETECTOR": {"ANY": "N/A"}},
    }
    selector = parse_mapping("header = {}\nselector = Match({'IRIS1' : 'a.fits'})\n")
    text = format_mapping(header, selector.selector, comment='\nsays "hi"\n')
    parsed = parse_mapping(text)
    assert parsed.header == {**header, "sha1sum": parsed.header["sha1sum"]}
    assert parsed.comment == '\nsays "hi"\n'
    assert mapping_from_text(text, "tmt_iris_mask_0009.rmap").files == ["a.fits"]


def test_a_missing_crds_path_folder_is_not_created(tmp_path, monkeypatch, mask_2021):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "typo"))
    with pytest.raises(DeliveryError, match="typo does not exist"):
        deliver([mask_2021])
    assert not (tmp_path / "typo").exists()


def test_the_default_cache_is_made_on_a_fresh_machine(home, mask_2021):
    delivery = deliver([mask_2021])
    assert delivery.root.path == home / "crds_cache"
    assert get_context().name == "tmt_0002.pmap"


def test_crds_check_finds_nothing_wrong_after_a_delivery(cache, mask_2021):
    """A delivered context passes the cache check: mappings, sha1sums,
    names, parents and the references they name. (The shipped context's
    own mask is put in the cache too, as a delivered cache would hold it.)"""
    from irisdq.crds.admin.check import check_cache

    old = cache / "references" / "tmt" / "iris" / OLD_MASK
    write_dated_mask(old, "2015-10-01T00:00:00", subarray="GENERIC")
    deliver([mask_2021])
    result = check_cache()
    assert result.context == "tmt_0002.pmap"
    assert result.findings == []


@pytest.mark.parametrize("imap_reftype", ["dq", "mask"])
def test_a_liger_dq_mask_is_delivered_into_a_ligeriri_cache(
    cache, tmp_path, monkeypatch, imap_reftype
):
    """REFTYPE 'dq' (liger_iris_pipeline's spelling) is a mask: it is filed
    under the imap's dq rmap, or under mask when that is what the imap has."""
    import numpy as np

    from irisdq.datamodels import TMTMaskModel, read_keywords

    write_ligeriri_cache(cache, imap_reftype)
    monkeypatch.setenv("CRDS_OBSERVATORY", "ligeriri")
    model = TMTMaskModel()
    model.file_layout = PROFILES["liger"].mask
    model.meta.instrument.detector = "IMG1"
    model.meta.useafter = "2021-01-01T00:00:00"
    model.dq = np.zeros((16, 16), dtype=np.uint32)
    mask = model.write(tmp_path / "liger_2021.fits")
    assert str(read_keywords(mask)["REFTYPE"]) == "dq"
    delivery = deliver([mask])
    assert delivery.context == "ligeriri_0002.pmap"
    assert delivery.mappings[0].name == f"ligeriri_iris_{imap_reftype}_0002.rmap"
    context = get_context()
    wanted = {**dataset("2022-01-01"), "DETECTOR": "IMG1"}
    assert context.select(wanted, imap_reftype).filename == mask.name
    assert (cache / "references" / "ligeriri" / "iris" / mask.name).is_file()


def test_a_liger_mask_goes_into_its_own_observatory_keyed_the_liger_way(
    tmp_path, monkeypatch
):
    """No --context, no CRDS_OBSERVATORY: a DQModel mask is delivered into the
    ligeriri context (not the tmt one), into an rmap keyed on Liger's own
    parameters (META.INSTRUMENT.ERA = INSTERA, META.DATE)."""
    import numpy as np

    from builders import write_foreign_mask, write_observatory_cache

    root = tmp_path / "cache"
    monkeypatch.setenv("CRDS_PATH", str(root))
    parkey = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
    rules = "Match({\n    ('IMG', '0.0.1') : UseAfter({\n"
    rules += "        '2025-01-01 00:00:00' : 'ligeriri_liger_dq_0001.fits',\n"
    rules += "    }),\n})"
    write_observatory_cache(root, "ligeriri", "liger", "dq", parkey, rules)
    clear = {"INSTRUME": "Liger", "DETECTOR": "IMG", "USEAFTER": "2026-01-01T00:00:00"}
    mask = write_foreign_mask(
        tmp_path / "liger_2026.fits",
        np.zeros((4, 4), dtype=np.uint32),
        [(10, 1024, "DEAD", "")],
        style="liger",
        header={**clear, "INSTERA": "0.0.1"},
    )
    delivery = deliver([mask])
    assert delivery.base == "ligeriri_0001.pmap"
    assert delivery.context == "ligeriri_0002.pmap"
    rmap = (root / "mappings" / "ligeriri" / "ligeriri_liger_dq_0002.rmap").read_text()
    assert "'2026-01-01 00:00:00' : 'liger_2026.fits'" in rmap
    without_era = write_foreign_mask(
        tmp_path / "liger_2027.fits",
        np.zeros((4, 4), dtype=np.uint32),
        [(10, 1024, "DEAD", "")],
        style="liger",
        header={**clear, "USEAFTER": "2027-01-01T00:00:00"},
    )
    with pytest.raises(DeliveryError, match=r"no INSTERA keyword, which the rmap"):
        deliver([without_era])


def test_rmaps_of_other_types_that_the_cache_lacks_do_not_block(
    cache, write_mapping, mask_2021
):
    """A cache's imap names dark and flat rmaps it never fetched: a mask
    delivery reads and writes only the pmap, the imap and the mask rmap."""
    shipped = shipped_mapping_folder()
    for name in ("tmt_0001.pmap", "tmt_iris_mask_0001.rmap"):
        write_mapping(name, (shipped / name).read_text())
    imap = (shipped / "tmt_iris_0003.imap").read_text()
    write_mapping(
        "tmt_iris_0003.imap",
        imap.replace(
            "    'dflat' : 'N/A',\n",
            "    'dark' : 'tmt_iris_dark_0002.rmap',\n    'dflat' : 'N/A',\n"
            "    'flat' : 'tmt_iris_flat_0001.rmap',\n",
        ),
    )
    delivery = deliver([mask_2021])
    assert [mapping.name for mapping in delivery.mappings] == [
        "tmt_iris_mask_0002.rmap",
        "tmt_iris_0004.imap",
        "tmt_0002.pmap",
    ]
    assert delivery.copies == []
    new_imap = (cache / "mappings" / "tmt" / "tmt_iris_0004.imap").read_text()
    assert "'dark' : 'tmt_iris_dark_0002.rmap'," in new_imap
    assert "'mask' : 'tmt_iris_mask_0002.rmap'," in new_imap
    chosen = get_context().select(dataset("2022-03-04", "GENERIC"), "mask")
    assert chosen.filename == mask_2021.name


def _stock_choice(stock, text, name, subarray, date):
    rmap = stock.rmap.ReferenceMapping.from_string(text, name, ignore_checksum=False)
    header = {
        "META.INSTRUMENT.DETECTOR": "IRIS1",
        "META.SUBARRAY.NAME": subarray,
        "META.OBSERVATION.DATE": date,
        "META.OBSERVATION.TIME": "00:00:00",
    }
    return rmap.selector.choose(stock.utils.condition_header(header))


@pytest.mark.parametrize("subarray", ["FULL", "GENERIC"])
def test_a_full_frame_mask_serves_every_subarray_after_its_date(
    cache, tmp_path, stock, subarray
):
    """A mask of the whole detector is filed under the key that matches any
    subarray (GENERIC, read as N/A): a CUSTOM exposure after its date gets
    it, in irisdq and in the stock client, and nothing is left behind."""
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01", subarray)
    delivery = deliver([mask])
    assert delivery.left_behind == []
    rmap = delivery.mappings[0]
    assert "('IRIS1', 'GENERIC') : UseAfter({" in rmap.text
    assert "'FULL'" not in rmap.text
    context = get_context()
    for exposure in ("CUSTOM", "FULL", "SUB64"):
        chosen = context.select(dataset("2026-03-14", exposure), "mask").filename
        assert chosen == mask.name
        stock_choice = _stock_choice(
            stock, rmap.text, rmap.name, exposure, "2026-03-14"
        )
        assert stock_choice == mask.name
        before = context.select(dataset("2020-03-14", exposure), "mask").filename
        assert before == OLD_MASK
        assert _stock_choice(stock, rmap.text, rmap.name, exposure, "2020-03-14") == (
            OLD_MASK
        )


def test_subarray_chooses_the_rule_and_the_others_are_named(cache, tmp_path, stock):
    """--subarray FULL files a full-frame mask for FULL exposures only; the
    delivery names the subarray exposures that keep the 2015 mask."""
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01", "FULL")
    delivery = deliver([mask], dry_run=True, subarray="full")
    rmap = delivery.mappings[0]
    assert "('IRIS1', 'FULL') : UseAfter({" in rmap.text
    assert _stock_choice(stock, rmap.text, rmap.name, "FULL", "2026-01-01") == (
        mask.name
    )
    assert _stock_choice(stock, rmap.text, rmap.name, "CUSTOM", "2026-01-01") == (
        OLD_MASK
    )
    assert delivery.left_behind == [
        f"{mask}: exposures of DETECTOR=IRIS1 SUBARRAY other than FULL from "
        f"2021-01-01 00:00:00 on still get {OLD_MASK}, not mask_2021.fits "
        "(tmt_iris_mask_0002.rmap: give --subarray any to file it for every "
        "subarray)"
    ]
    assert not (cache / "mappings" / "tmt" / rmap.name).exists()
    anywhere = deliver([mask], dry_run=True, subarray="ANY")
    assert "('IRIS1', 'GENERIC') : UseAfter({" in anywhere.mappings[0].text
    assert anywhere.left_behind == []


def test_a_more_specific_older_rule_is_named(cache, tmp_path, write_mapping):
    """A SUB64 rule of 2018 outranks the new full-frame rule: SUB64
    exposures after 2021 keep the 2018 mask, and the delivery says so."""
    shipped = shipped_mapping_folder()
    for name in ("tmt_0001.pmap", "tmt_iris_0003.imap"):
        write_mapping(name, (shipped / name).read_text())
    text = (shipped / "tmt_iris_mask_0001.rmap").read_text()
    write_mapping(
        "tmt_iris_mask_0001.rmap",
        text.replace(
            "selector = Match({\n",
            "selector = Match({\n    ('IRIS1', 'SUB64') : UseAfter({\n"
            "        '2018-01-01 00:00:00' : 'sub64_2018.fits',\n    }),\n",
        ),
    )
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01", "FULL")
    delivery = deliver([mask])
    assert delivery.left_behind == [
        f"{mask}: exposures of DETECTOR=IRIS1 SUBARRAY=SUB64 from 2021-01-01 "
        "00:00:00 on still get sub64_2018.fits, not mask_2021.fits "
        "(tmt_iris_mask_0002.rmap: its rule ('IRIS1', 'SUB64') is more specific; "
        "deliver a mask for them too if they should not keep theirs)"
    ]
    assert get_context().select(dataset("2026-01-01", "CUSTOM"), "mask").filename == (
        mask.name
    )


def test_subarray_is_refused_where_the_rmap_has_no_subarray(tmp_path, monkeypatch):
    import numpy as np

    from builders import write_foreign_mask, write_observatory_cache

    root = tmp_path / "cache"
    monkeypatch.setenv("CRDS_PATH", str(root))
    parkey = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
    rules = "Match({\n    ('IMG', '0.0.1') : UseAfter({\n"
    rules += "        '2025-01-01 00:00:00' : 'old.fits',\n    }),\n})"
    write_observatory_cache(root, "ligeriri", "liger", "dq", parkey, rules)
    mask = write_foreign_mask(
        tmp_path / "liger_2026.fits",
        np.zeros((4, 4), dtype=np.uint32),
        [(10, 1024, "DEAD", "")],
        style="liger",
        header={
            "INSTRUME": "Liger",
            "DETECTOR": "IMG",
            "INSTERA": "0.0.1",
            "USEAFTER": "2026-01-01T00:00:00",
        },
    )
    with pytest.raises(DeliveryError, match="does not select on the subarray; leave"):
        deliver([mask], subarray="FULL")
    assert deliver([mask], dry_run=True).left_behind == []


@pytest.mark.parametrize("name", ["SUB*", "A|B", "(X.)", "NOT FULL", ""])
def test_subarray_must_be_a_name(cache, mask_2021, name):
    with pytest.raises(DeliveryError, match="is not a subarray name"):
        deliver([mask_2021], subarray=name)


def test_a_full_frame_mask_also_takes_over_a_rule_keyed_by_full(
    cache, tmp_path, monkeypatch
):
    """The ligeriri rmap keys its full-frame mask by FULL: the new full-frame
    mask is filed for any subarray and for FULL, so FULL exposures do not
    keep the old mask."""
    import numpy as np

    from irisdq.datamodels import TMTMaskModel

    write_ligeriri_cache(cache, "dq")
    monkeypatch.setenv("CRDS_OBSERVATORY", "ligeriri")
    model = TMTMaskModel()
    model.file_layout = PROFILES["liger"].mask
    model.meta.instrument.detector = "IMG1"
    model.meta.subarray.name = "FULL"
    model.meta.useafter = "2021-01-01T00:00:00"
    model.dq = np.zeros((16, 16), dtype=np.uint32)
    mask = model.write(tmp_path / "liger_2021.fits")
    delivery = deliver([mask])
    assert delivery.left_behind == []
    text = delivery.mappings[0].text
    assert "    ('IMG1', 'FULL') : UseAfter({\n" in text
    assert "    ('IMG1', 'GENERIC') : UseAfter({\n" in text
    assert text.count(f"'2021-01-01 00:00:00' : '{mask.name}',") == 2
    context = get_context()
    for subarray in ("FULL", "CUSTOM"):
        wanted = {**dataset("2022-01-01", subarray), "DETECTOR": "IMG1"}
        assert context.select(wanted, "dq").filename == mask.name
    earlier = {**dataset("2020-01-01", "FULL"), "DETECTOR": "IMG1"}
    assert context.select(earlier, "dq").filename == "ligeriri_iris_dq_0001.fits"


@pytest.mark.parametrize(
    "linked", ["references/tmt/iris", "references/tmt", "mappings/tmt", "config/tmt"]
)
def test_a_linked_folder_never_takes_a_write_outside_the_cache(
    cache, tmp_path, mask_2021, monkeypatch, linked
):
    """A folder of the cache that is a link to one outside: nothing is
    written there, with or without a dry run, even when the outside folder
    is a declared shared store (IRISDQ_CRDS_LINK_ROOTS is for reading)."""
    import shutil

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = elsewhere / "server_config"
    if linked == "config/tmt":
        config.write_text("{'operational_context': 'tmt_0001.pmap'}\n")
    folder = cache / linked
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setenv("IRISDQ_CRDS_LINK_ROOTS", str(elsewhere))
    before = snapshot(elsewhere)
    for dry_run in (True, False):
        with pytest.raises(DeliveryError, match=r"outside the CRDS cache .*, through"):
            deliver([mask_2021], dry_run=dry_run, set_operational=True)
    assert snapshot(elsewhere) == before


def test_a_linked_server_config_is_not_replaced(cache, tmp_path, mask_2021):
    outside = tmp_path / "server_config"
    outside.write_text("{'operational_context': 'tmt_0001.pmap'}\n")
    (cache / "config" / "tmt").mkdir(parents=True)
    (cache / "config" / "tmt" / "server_config").symlink_to(outside)
    with pytest.raises(DeliveryError, match="server_config leads to"):
        deliver([mask_2021], set_operational=True)
    assert outside.read_text() == "{'operational_context': 'tmt_0001.pmap'}\n"
    assert not (cache / "mappings" / "tmt" / "tmt_0002.pmap").exists()


def test_a_delivery_planned_then_redirected_is_refused_at_writing(
    cache, tmp_path, mask_2021
):
    from irisdq.crds.admin.delivery import write_delivery
    from irisdq.crds.admin.planning import plan_delivery

    delivery = plan_delivery([mask_2021])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = cache / "references" / "tmt" / "iris"
    folder.rmdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DeliveryError, match="outside the CRDS cache"):
        write_delivery(delivery)
    assert list(elsewhere.iterdir()) == []


def test_a_name_a_rule_already_names_is_refused_even_if_absent(cache, tmp_path):
    """A 2021 mask named like the 2015 one, whose file the cache lacks: it
    would take over the 2015 rule (2016 exposures would get it)."""
    mask = write_dated_mask(tmp_path / OLD_MASK, "2021-01-01")
    assert not (cache / "references" / "tmt" / "iris" / OLD_MASK).exists()
    with pytest.raises(
        DeliveryError,
        match=rf"tmt_iris_mask_0001.rmap of tmt_0001.pmap already names a reference "
        rf"{OLD_MASK}; delivered under that name",
    ):
        deliver([mask])
    assert not (cache / "mappings" / "tmt" / "tmt_0002.pmap").exists()


def _mask_with(path, **cards):
    from astropy.io import fits

    write_dated_mask(path, "2021-01-01")
    with fits.open(path, mode="update") as hdus:
        hdus[0].header.update(cards)
        for hdu in hdus:
            hdu.add_checksum()
    return path


@pytest.mark.parametrize(
    "detector", ["*", "IRIS1|IRIS2", "NOT IRIS9", "(IRIS.)", "N/A", "{x}", "ANY"]
)
def test_a_header_value_never_becomes_a_pattern(cache, tmp_path, detector):
    """Each of these would be a rule that irisdq and stock CRDS select for
    other detectors too."""
    mask = _mask_with(tmp_path / "m.fits", DETECTOR=detector)
    with pytest.raises(
        DeliveryError, match=r"DETECTOR '.*' is not a plain value; as a rule key"
    ):
        deliver([mask], dry_run=True)


@pytest.mark.parametrize("subarray", ["SUB*", "A|B", "NOT FULL", "(S.)"])
def test_a_subarray_value_never_becomes_a_pattern(cache, tmp_path, subarray):
    mask = _mask_with(tmp_path / "m.fits", SUBARRAY=subarray)
    with pytest.raises(DeliveryError, match=r"SUBARRAY '.*' is not a plain value"):
        deliver([mask], dry_run=True)


def test_the_second_of_two_deliveries_at_once_is_told_to_retry(cache, tmp_path):
    """Both planned tmt_0002.pmap from the cache as it was; the one that
    writes second changes nothing and says to run again."""
    from irisdq.crds.admin.delivery import write_delivery
    from irisdq.crds.admin.planning import plan_delivery

    first = plan_delivery([write_dated_mask(tmp_path / "a_2021.fits", "2021-01-01")])
    second = plan_delivery([write_dated_mask(tmp_path / "b_2022.fits", "2022-01-01")])
    assert first.context == second.context == "tmt_0002.pmap"
    write_delivery(first)
    before = snapshot(cache)
    with pytest.raises(DeliveryError) as error:
        write_delivery(second)
    message = str(error.value)
    assert message.startswith("another delivery got there first: ")
    assert message.endswith(
        "; nothing was changed: run the delivery again, to derive from the cache "
        "as it is now"
    )
    assert "File exists" not in message
    assert snapshot(cache) == before
    again = deliver([tmp_path / "b_2022.fits"])
    assert again.context == "tmt_0003.pmap"
    assert get_context().select(dataset("2021-06-01"), "mask").filename == (
        "a_2021.fits"
    )


def test_a_useafter_with_a_time_zone_is_converted_to_utc(cache, tmp_path, stock):
    """12:00 at +14:00 is 22:00 UTC the day before: an exposure at 23:00
    UTC gets the new mask (the offset was dropped: the rule was 14 h late)."""
    mask = _mask_with(tmp_path / "m_2026.fits", USEAFTER="2026-03-14T12:00:00+14:00")
    rmap = deliver([mask], dry_run=True).mappings[0]
    assert "'2026-03-13 22:00:00' : 'm_2026.fits'," in rmap.text
    ours = mapping_from_text(rmap.text, rmap.name).selector
    theirs = stock.rmap.ReferenceMapping.from_string(
        rmap.text, rmap.name, ignore_checksum=False
    ).selector
    for time, expected in (("21:59:59", OLD_MASK), ("23:00:00", mask.name)):
        parameters = {
            "META.INSTRUMENT.DETECTOR": "IRIS1",
            "META.SUBARRAY.NAME": "FULL",
            "META.OBSERVATION.DATE": "2026-03-13",
            "META.OBSERVATION.TIME": time,
        }
        assert ours.choose(parameters) == expected
        assert theirs.choose(stock.utils.condition_header(parameters)) == expected


@pytest.mark.parametrize(
    ("time", "expected"),
    [("05:06:07", OLD_MASK), ("05:06:07.899", OLD_MASK), ("05:06:07.9", "m.fits")],
)
def test_fractional_seconds_are_kept_in_the_rule(
    cache, tmp_path, stock, time, expected
):
    """05:06:07.900 was cut to 05:06:07: an exposure at 05:06:07 got the new
    mask. irisdq and the stock client both compare the fraction."""
    mask = _mask_with(tmp_path / "m.fits", USEAFTER="2021-01-01T05:06:07.900")
    rmap = deliver([mask], dry_run=True).mappings[0]
    assert "'2021-01-01 05:06:07.9' : 'm.fits'," in rmap.text
    parameters = {
        "META.INSTRUMENT.DETECTOR": "IRIS1",
        "META.SUBARRAY.NAME": "FULL",
        "META.OBSERVATION.DATE": "2021-01-01",
        "META.OBSERVATION.TIME": time,
    }
    ours = mapping_from_text(rmap.text, rmap.name).selector.choose(parameters)
    assert ours == expected
    theirs = stock.rmap.ReferenceMapping.from_string(
        rmap.text, rmap.name, ignore_checksum=False
    ).selector.choose(stock.utils.condition_header(parameters))
    assert theirs == expected


@pytest.mark.parametrize(
    "useafter", ["2021-01-01T05:06:07.1234567", "0001-01-01T00:00:00+01:00"]
)
def test_a_useafter_that_cannot_be_kept_exactly_is_refused(cache, tmp_path, useafter):
    mask = _mask_with(tmp_path / "m.fits", USEAFTER=useafter)
    with pytest.raises(DeliveryError, match=rf"USEAFTER '{re.escape(useafter)}' "):
        deliver([mask], dry_run=True)


@pytest.mark.parametrize("name", ["tmt_0009.pmap", "x.IMAP", "tmt_iris_mask_9.rmap"])
def test_a_reference_named_like_a_mapping_is_refused(cache, tmp_path, name):
    mask = write_dated_mask(tmp_path / name, "2021-01-01")
    with pytest.raises(DeliveryError, match="a reference named like a mapping"):
        deliver([mask], dry_run=True)


def test_rules_of_other_detectors_and_patterns_are_not_probed(
    cache, tmp_path, write_mapping
):
    """Only rules whose exposures the new rule could serve are tried: an
    IRIS2 rule is not, nor a pattern key (no probe stands for it)."""
    from irisdq.crds.admin.rules import rules_naming

    shipped = shipped_mapping_folder()
    for name in ("tmt_0001.pmap", "tmt_iris_0003.imap"):
        write_mapping(name, (shipped / name).read_text())
    text = (shipped / "tmt_iris_mask_0001.rmap").read_text()
    rules = (
        "selector = Match({\n    ('IRIS2', 'GENERIC') : UseAfter({\n"
        "        '2018-01-01 00:00:00' : 'iris2_2018.fits',\n    }),\n"
        "    ('(IRIS.*)', 'SUB64') : UseAfter({\n"
        "        '2018-01-01 00:00:00' : 'any_sub64_2018.fits',\n    }),\n"
    )
    rmap = write_mapping(
        "tmt_iris_mask_0001.rmap", text.replace("selector = Match({\n", rules)
    )
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01", "FULL")
    assert deliver([mask], dry_run=True).left_behind == []
    loaded = mapping_from_text(rmap.read_text(), rmap.name, path=rmap)
    assert rules_naming(loaded, "iris2_2018.fits") == [
        (("IRIS2", None), "2018-01-01 00:00:00")
    ]
    assert rules_naming(loaded, "any_sub64_2018.fits") == []  # a pattern key
    loaded.path = None
    assert rules_naming(loaded, "iris2_2018.fits") == []


def test_rules_naming_of_an_rmap_of_another_shape_is_empty():
    from irisdq.crds.admin.rules import rules_naming

    rmap = mapping_from_text(
        "header = {'mapping': 'REFERENCE', 'parkey': (('DETECTOR',),)}\n"
        "selector = Match({'IRIS1': 'a.fits'})\n",
        "flat.rmap",
        verify=False,
    )
    assert rules_naming(rmap, "a.fits") == []


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            '"""Mask rules; the detector is "IRIS1\\""""',
            'Mask rules; the detector is "IRIS1"',
        ),
        ("'''Cooled to 77 \\\\N{DEGREE SIGN}K'''", "Cooled to 77 \\N{DEGREE SIGN}K"),
        ("r'''Raw C:\\N{x} and \\d'''", "Raw C:\\N{x} and \\d"),
        ("'''carriage\\rreturn\\\\'''", "carriage\rreturn\\"),
    ],
)
def test_an_existing_rmap_is_read_and_written_faithfully(
    cache, tmp_path, write_mapping, comment, expected
):
    """A valid rmap's comment (ending in a quote, holding a backslash) and a
    header value of 1e999 are carried into the new rmap as they read."""
    shipped = shipped_mapping_folder()
    for name in ("tmt_0001.pmap", "tmt_iris_0003.imap"):
        write_mapping(name, (shipped / name).read_text())
    text = (shipped / "tmt_iris_mask_0001.rmap").read_text()
    text = text.replace("header = {\n", "header = {\n    'limit' : 1e999,\n", 1)
    text = text.replace("\nselector = ", f"\ncomment = {comment}\n\nselector = ", 1)
    write_mapping("tmt_iris_mask_0001.rmap", text)
    assert parse_mapping(text).comment == expected
    mask = write_dated_mask(tmp_path / "mask_2021.fits", "2021-01-01", "FULL")
    delivery = deliver([mask])
    written = parse_mapping(delivery.mappings[0].text)
    assert written.comment == expected
    assert written.header["limit"] == float("inf")
    assert get_context().select(dataset("2022-01-01"), "mask").filename == mask.name


def test_a_useafter_before_the_year_1000_is_the_masks_fault(cache, tmp_path):
    mask = write_dated_mask(tmp_path / "old.fits", "0999-01-01T00:00:00", "FULL")
    with pytest.raises(DeliveryError, match=r"old\.fits: USEAFTER .* before the year"):
        deliver([mask])


def test_any_subarray_is_for_full_frame_masks_only(cache, tmp_path):
    sub16 = write_dated_mask(tmp_path / "sub16.fits", "2021-01-01", subarray="SUB16")
    with pytest.raises(DeliveryError, match="but this is a SUB16 mask, which cov"):
        deliver([sub16], dry_run=True, subarray="any")
    rmap = deliver([sub16], dry_run=True, subarray="SUB16").mappings[0]
    assert "    ('IRIS1', 'SUB16') : UseAfter({\n" in rmap.text
