"""Cache folder, context choice, mapping look-up order and reference paths."""

import pytest

from builders import call_on_fifo, write_stock_server_config
from irisdq.crds import cache_root, default_context, get_context
from irisdq.crds.cache import (
    find_mapping,
    locate_reference,
    read_server_config,
    resolve_observatory,
    shipped_mapping_folder,
)
from irisdq.errors import MappingError, ReferenceFileError


def _pmap(name: str) -> str:
    return (
        f"header = {{'mapping': 'PIPELINE', 'name': '{name}', 'sha1sum': ''}}\n"
        "selector = {'IRIS': 'tmt_iris_0003.imap'}\n"
    )


def test_cache_root_default_is_home_crds_cache(isolated_crds):
    root = cache_root()
    assert root.path == isolated_crds / "crds_cache"
    assert root.source == "default"
    assert not root.exists
    assert "default ~/crds_cache" in root.describe()


def test_cache_root_from_crds_path(tmp_path, monkeypatch):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "mine"))
    root = cache_root()
    assert root.path == tmp_path / "mine"
    assert root.source == "CRDS_PATH"
    assert "CRDS_PATH=" in root.describe()


def test_missing_crds_path_folder_is_an_error(tmp_path, monkeypatch):
    missing = tmp_path / "typo"
    monkeypatch.setenv("CRDS_PATH", str(missing))
    with pytest.raises(ReferenceFileError) as error:
        get_context()
    assert str(missing) in str(error.value)
    assert "set by CRDS_PATH" in str(error.value)


def test_context_falls_back_to_shipped(cache):
    assert default_context(cache_root()) == ("tmt_0001.pmap", "shipped with irisdq")
    context = get_context()
    assert context.name == "tmt_0001.pmap"
    assert context.pmap.shipped


def test_highest_numbered_pmap_in_cache(cache, write_mapping):
    write_mapping("tmt_9.pmap", _pmap("tmt_9.pmap"))
    write_mapping("tmt_10.pmap", _pmap("tmt_10.pmap"))
    (cache / "mappings" / "tmt" / "tmt_11.pmap.bak").write_text("x")
    name, source = default_context(cache_root())
    assert name == "tmt_10.pmap"
    assert "highest-numbered" in source
    context = get_context()
    assert context.name == "tmt_10.pmap"
    assert not context.pmap.shipped


@pytest.mark.parametrize(
    "config",
    [
        "{'operational_context': 'tmt_9.pmap', 'observatory': 'tmt'}",
        '{"operational_context": "tmt_9.pmap", "flag": true}',
    ],
)
def test_server_config_beats_highest_pmap(cache, write_mapping, config):
    write_mapping("tmt_9.pmap", _pmap("tmt_9.pmap"))
    write_mapping("tmt_10.pmap", _pmap("tmt_10.pmap"))
    (cache / "config" / "tmt").mkdir(parents=True)
    (cache / "config" / "tmt" / "server_config").write_text(config)
    name, source = default_context(cache_root())
    assert name == "tmt_9.pmap"
    assert "operational_context" in source


def test_bad_server_config_is_named(cache):
    (cache / "config" / "tmt").mkdir(parents=True)
    (cache / "config" / "tmt" / "server_config").write_text("__import__('os')")
    with pytest.raises(MappingError, match="server_config: not a Python-literal"):
        default_context(cache_root())


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('["tmt_9.pmap"]', "must hold a dict with 'operational_context'"),
        ("{'observatory': 'tmt'}", None),  # no operational context: the newest
    ],
)
def test_server_config_without_an_operational_context(
    cache, write_mapping, config, expected
):
    write_mapping("tmt_9.pmap", _pmap("tmt_9.pmap"))
    (cache / "config" / "tmt").mkdir(parents=True)
    (cache / "config" / "tmt" / "server_config").write_text(config)
    if expected is None:
        assert default_context(cache_root())[0] == "tmt_9.pmap"
    else:
        with pytest.raises(MappingError, match=expected):
            default_context(cache_root())


def test_crds_context_beats_everything(cache, write_mapping, monkeypatch):
    write_mapping("tmt_10.pmap", _pmap("tmt_10.pmap"))
    monkeypatch.setenv("CRDS_CONTEXT", "tmt_0001.pmap")
    assert default_context(cache_root()) == ("tmt_0001.pmap", "CRDS_CONTEXT")
    assert get_context().name == "tmt_0001.pmap"


def test_missing_context_says_where_it_looked(cache, monkeypatch):
    monkeypatch.setenv("CRDS_CONTEXT", "tmt_0002.pmap")
    with pytest.raises(MappingError) as error:
        get_context()
    message = str(error.value)
    assert "mapping tmt_0002.pmap not found" in message
    assert str(cache / "mappings" / "tmt") in message
    assert "tmt_0001.pmap" in message  # the shipped ones are listed


@pytest.mark.parametrize(
    "name", ["../tmt_0001.pmap", "/etc/tmt_0001.pmap", "tmt_0001.imap"]
)
def test_context_must_be_a_plain_pmap_name(cache, name):
    with pytest.raises(MappingError):
        get_context(name)


def test_cache_mapping_takes_precedence_over_shipped(cache, write_mapping):
    shipped = shipped_mapping_folder() / "tmt_iris_mask_0001.rmap"
    write_mapping("tmt_iris_mask_0001.rmap", shipped.read_text())
    path, is_shipped = find_mapping("tmt_iris_mask_0001.rmap", cache_root())
    assert path == cache / "mappings" / "tmt" / "tmt_iris_mask_0001.rmap"
    assert not is_shipped
    path, is_shipped = find_mapping("tmt_iris_0003.imap", cache_root())
    assert path == shipped_mapping_folder() / "tmt_iris_0003.imap"
    assert is_shipped


def test_reference_instrument_folder_then_flat(cache):
    root = cache_root()
    expected = cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    assert locate_reference("tmt_iris_mask_0001.fits", "IRIS", root) == (
        expected,
        False,
    )
    flat = cache / "references" / "tmt" / "tmt_iris_mask_0001.fits"
    flat.write_bytes(b"")
    assert locate_reference("tmt_iris_mask_0001.fits", "IRIS", root) == (flat, True)
    expected.write_bytes(b"")
    assert locate_reference("tmt_iris_mask_0001.fits", "IRIS", root) == (expected, True)


@pytest.mark.parametrize("name", ["../x.fits", "sub/x.fits", "/abs/x.fits", ".."])
def test_reference_names_cannot_leave_the_cache(cache, name):
    with pytest.raises(MappingError, match="unsafe"):
        locate_reference(name, "IRIS", cache_root())


def test_a_joined_reference_path_outside_the_cache_is_refused(cache, monkeypatch):
    # The second line of defence, should a name check ever let '..' through.
    from irisdq.crds import cache as cache_module

    monkeypatch.setattr(cache_module, "check_name", lambda name, *args: name)
    with pytest.raises(MappingError, match="lies outside the cache"):
        locate_reference("../../../x.fits", "IRIS", cache_root())
    assert repr(cache_root()) == f"CacheRoot({str(cache)!r}, source='CRDS_PATH')"


MASK_DATASET = {
    "INSTRUME": "IRIS",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2020-07-13",
    "TIME-OBS": "00:00:00",
}


def test_reference_linked_from_outside_the_cache_is_refused(cache, tmp_path):
    """Issue 16: a link in references/ to a file elsewhere is not followed."""
    outside = tmp_path / "elsewhere" / "mask.fits"
    outside.parent.mkdir()
    outside.write_bytes(b"")
    link = cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    link.symlink_to(outside)
    context = get_context()
    with pytest.raises(ReferenceFileError) as error:
        context.bestref(MASK_DATASET, "mask")
    message = str(error.value)
    assert message.startswith(f"reference {link} is a link to {outside}, outside")
    assert "IRISDQ_CRDS_LINK_ROOTS" in message
    with pytest.raises(ReferenceFileError, match="is a link to"):
        locate_reference("tmt_iris_mask_0001.fits", "IRIS", cache_root())
    [item] = [i for i in context.inventory() if i.kind == "reference"]
    assert (item.status, item.detail) == ("refused", message)


def test_a_linked_references_folder_is_refused_too(cache, tmp_path):
    """Issue 16: the link may be a folder on the way, not the file."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "tmt_iris_mask_0001.fits").write_bytes(b"")
    folder = cache / "references" / "tmt" / "iris"
    folder.rmdir()
    folder.symlink_to(store)
    with pytest.raises(ReferenceFileError, match=f"is a link to {store}"):
        get_context().bestref(MASK_DATASET, "mask")


def test_links_into_declared_roots_and_inside_the_cache_are_accepted(
    cache, tmp_path, monkeypatch
):
    store = tmp_path / "store"
    store.mkdir()
    (store / "tmt_iris_mask_0001.fits").write_bytes(b"")
    link = cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    link.symlink_to(store / "tmt_iris_mask_0001.fits")
    monkeypatch.setenv("IRISDQ_CRDS_LINK_ROOTS", f"/nonexistent:{store}")
    assert get_context().bestref(MASK_DATASET, "mask") == str(link)
    monkeypatch.delenv("IRISDQ_CRDS_LINK_ROOTS")
    link.unlink()
    inside = cache / "references" / "tmt" / "real_mask.fits"
    inside.write_bytes(b"")
    link.symlink_to(inside)
    assert get_context().bestref(MASK_DATASET, "mask") == str(link)


def test_a_declared_root_does_not_admit_its_prefix_siblings(
    cache, tmp_path, monkeypatch
):
    (tmp_path / "store-evil").mkdir()
    (tmp_path / "store-evil" / "m.fits").write_bytes(b"")
    link = cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    link.symlink_to(tmp_path / "store-evil" / "m.fits")
    monkeypatch.setenv("IRISDQ_CRDS_LINK_ROOTS", str(tmp_path / "store"))
    with pytest.raises(ReferenceFileError, match="is a link to"):
        get_context().bestref(MASK_DATASET, "mask")


def test_mapping_linked_from_outside_the_cache_is_refused(cache, tmp_path):
    """Issue 16: a cached mapping that is a link out of the cache is refused."""
    outside = tmp_path / "tmt_iris_mask_0001.rmap"
    outside.write_text((shipped_mapping_folder() / outside.name).read_text())
    link = cache / "mappings" / "tmt" / outside.name
    link.symlink_to(outside)
    with pytest.raises(MappingError) as error:
        get_context().bestref(MASK_DATASET, "mask")
    assert str(error.value).startswith(
        f"mapping {link} is a link to {outside}, outside the CRDS cache"
    )


def test_a_reference_swapped_for_an_outside_link_is_refused(
    cache, tmp_path, monkeypatch
):
    """The real-path check is remembered per file identity, not per name:
    a reference replaced by a link leaving the cache after a first lookup is
    still refused, and so is a link once its root is no longer declared."""
    mask = cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    mask.write_bytes(b"")
    context = get_context()
    assert context.bestref(MASK_DATASET, "mask") == str(mask)
    outside = tmp_path / "store" / "mask.fits"
    outside.parent.mkdir()
    outside.write_bytes(b"")
    mask.unlink()
    mask.symlink_to(outside)
    with pytest.raises(ReferenceFileError, match="is a link to"):
        context.bestref(MASK_DATASET, "mask")
    monkeypatch.setenv("IRISDQ_CRDS_LINK_ROOTS", str(outside.parent))
    assert context.bestref(MASK_DATASET, "mask") == str(mask)
    monkeypatch.delenv("IRISDQ_CRDS_LINK_ROOTS")
    with pytest.raises(ReferenceFileError, match="is a link to"):
        context.bestref(MASK_DATASET, "mask")


class TestHostileServerConfig:
    """read_server_config reads at most 1 MiB of a regular file, and a
    deeply nested text is a MappingError, not a RecursionError."""

    def test_a_fifo_is_refused_without_blocking(self, tmp_path):
        raised = call_on_fifo(read_server_config, tmp_path / "server_config")
        assert isinstance(raised, MappingError)
        assert "server_config: not a regular file; replace or remove it" in str(raised)

    def test_a_huge_file_is_not_read(self, tmp_path):
        config = tmp_path / "server_config"
        with config.open("wb") as stream:
            stream.truncate(3 * 2**30)  # sparse
        with pytest.raises(MappingError, match="larger than 1 MiB, not a server_c"):
            read_server_config(config)

    @pytest.mark.parametrize(
        "text",
        [
            "[" * 100_000,
            "{" * 100_000,
            "{'a': " + "[" * 33 + "]" * 33 + "}",
            "-" * 100_000 + "1",
            "{'a': " + "9" * 5000 + "}",
        ],
        ids=["list", "dict", "33-deep", "signs", "huge-int"],
    )
    def test_deep_nesting(self, tmp_path, text):
        config = tmp_path / "server_config"
        config.write_text(text)
        with pytest.raises(MappingError, match="not a Python-literal or JSON dict"):
            read_server_config(config)


@pytest.mark.parametrize("value", ["../x", "a/b", "..", "x" * 41, "tmt-1"])
def test_an_unsafe_crds_observatory_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("CRDS_OBSERVATORY", value)
    with pytest.raises(MappingError, match=r"^CRDS_OBSERVATORY=.* is not an obs"):
        resolve_observatory("ligeriri")


@pytest.mark.parametrize("value", ["ligeriri", "JWST", "None", " tmt "])
def test_a_crds_observatory_is_used(monkeypatch, value):
    monkeypatch.setenv("CRDS_OBSERVATORY", value)
    expected = "tmt" if value == "None" else value.strip().lower()
    assert resolve_observatory("tmt") == expected


def test_a_server_config_written_by_the_stock_client_is_read(cache, write_mapping):
    """What crds' own cache_server_info writes (a pformat dict with lists,
    tuples of text with escapes) reads as ast.literal_eval reads it."""
    import ast

    write_mapping("tmt_9.pmap", _pmap("tmt_9.pmap"))
    write_mapping("tmt_10.pmap", _pmap("tmt_10.pmap"))
    config = write_stock_server_config(
        cache, "tmt", "tmt_9.pmap", ["tmt_9.pmap", "tmt_10.pmap"]
    )
    text = config.read_text()
    assert "'mappings': [" in text
    assert "'context_history': [[" in text
    assert read_server_config(config) == ast.literal_eval(text)
    name, source = default_context(cache_root())
    assert (name, source) == ("tmt_9.pmap", f"operational_context of {config}")
    assert get_context().name == "tmt_9.pmap"


@pytest.mark.parametrize(
    "text",
    [
        "{'a': [__import__('os')]}",
        "{'a': {1, 2}}",
        "{'a': b'x'}",
        "{'a': 1j}",
        "{'a': [1] * 3}",
        "{'a': f'{1}'}",
        "{**{'a': 1}}",
        "{('a', [1]): 2}",
    ],
)
def test_a_server_config_holds_plain_literals_only(tmp_path, text):
    config = tmp_path / "server_config"
    config.write_text(text)
    with pytest.raises(MappingError, match="not a Python-literal or JSON dict"):
        read_server_config(config)


def test_a_server_config_keeps_tuples_signs_and_none(tmp_path):
    config = tmp_path / "server_config"
    config.write_text("{'a': (1, -2.5, +3), 'b': None, 'c': [True, {'d': []}]}\n")
    assert read_server_config(config) == {
        "a": (1, -2.5, 3),
        "b": None,
        "c": [True, {"d": []}],
    }
