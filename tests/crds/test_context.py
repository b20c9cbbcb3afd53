"""irisdq.crds.context: contexts whose mappings name N/A or the wrong kind
of mapping."""

import pytest

from irisdq.crds import get_context, select_reference
from irisdq.errors import MappingError, NoMatchError

HEADER = {
    "TELESCOP": "TMT",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2020-07-13",
    "TIME-OBS": "00:00:00",
}


def _pmap(name, selector):
    return (
        f"header = {{'mapping': 'PIPELINE', 'name': '{name}', 'observatory': 'TMT', "
        f"'parkey': ('META.INSTRUMENT.NAME',), 'sha1sum': ''}}\n"
        f"selector = {selector!r}\n"
    )


def test_an_instrument_that_does_not_apply(cache, write_mapping):
    write_mapping(
        "tmt_0002.pmap",
        _pmap("tmt_0002.pmap", {"IRIS": "tmt_iris_0003.imap", "WFOS": "N/A"}),
    )
    selection = select_reference({**HEADER, "INSTRUME": "WFOS"}, "mask")
    assert selection.not_applicable
    assert selection.uri == "N/A"
    assert "instrument WFOS -> N/A in tmt_0002.pmap" in selection.explain()
    assert repr(selection) == (
        "Selection(context='tmt_0002.pmap', reftype='MASK', filename='N/A', "
        "exists=False)"
    )
    context = get_context()
    assert repr(context).startswith("Context('tmt_0002.pmap', root=")
    items = context.inventory()
    wfos = [item for item in items if item.label == "WFOS"]
    assert [repr(item) for item in wfos] == ["ContextItem('imap', 'N/A', 'n/a')"]


RMAP = (
    "header = {'mapping': 'REFERENCE', 'filekind': 'MASK', "
    "'parkey': (('META.INSTRUMENT.DETECTOR',),), 'sha1sum': ''}\n"
    "selector = Match({'IRIS1': 'mask.fits'})\n"
)
IMAP = (
    "header = {{'mapping': 'INSTRUMENT', 'name': '{name}', 'instrument': 'IRIS', "
    "'observatory': 'TMT', 'parkey': ('REFTYPE',), 'sha1sum': ''}}\n"
    "selector = {{'mask': '{rmap}'}}\n"
)


def test_a_mapping_of_the_wrong_kind_is_a_mapping_error(cache, write_mapping):
    # Names with the right extension, contents of another kind of mapping.
    write_mapping(
        "tmt_0002.pmap", _pmap("tmt_0002.pmap", {"IRIS": "tmt_iris_0009.imap"})
    )
    write_mapping("tmt_iris_0009.imap", RMAP)
    with pytest.raises(MappingError, match=r"tmt_iris_0009\.imap is not an instrument"):
        select_reference({**HEADER, "INSTRUME": "IRIS"}, "mask")
    write_mapping(
        "tmt_0003.pmap", _pmap("tmt_0003.pmap", {"IRIS": "tmt_iris_0004.imap"})
    )
    write_mapping(
        "tmt_iris_0004.imap",
        IMAP.format(name="tmt_iris_0004.imap", rmap="tmt_iris_mask_0009.rmap"),
    )
    write_mapping(
        "tmt_iris_mask_0009.rmap",
        IMAP.format(name="tmt_iris_mask_0009.rmap", rmap="tmt_iris_mask_0001.rmap"),
    )
    with pytest.raises(MappingError, match=r"0009\.rmap is not a reference"):
        select_reference(
            {**HEADER, "INSTRUME": "IRIS"}, "mask", context="tmt_0003.pmap"
        )


def test_a_context_must_be_a_pipeline_mapping(cache, write_mapping):
    write_mapping(
        "tmt_0004.pmap",
        IMAP.format(name="tmt_0004.pmap", rmap="tmt_iris_mask_0001.rmap"),
    )
    with pytest.raises(MappingError, match="the context must be a PIPELINE mapping"):
        get_context("tmt_0004.pmap")


def _tmt_pmap(name):
    return (
        f"header = {{'mapping': 'PIPELINE', 'name': '{name}', 'observatory': 'TMT', "
        "'sha1sum': ''}\nselector = {'IRIS': 'tmt_iris_0003.imap'}\n"
    )


def test_the_default_context_follows_every_change_of_the_cache(
    cache, write_mapping, monkeypatch
):
    # The default is remembered between calls (a pipeline asks per
    # exposure), but a new pmap, a server_config written or edited in place,
    # and CRDS_CONTEXT are each seen by the next call.
    assert get_context().name == "tmt_0001.pmap"
    write_mapping("tmt_0007.pmap", _tmt_pmap("tmt_0007.pmap"))
    assert get_context().name == "tmt_0007.pmap"
    write_mapping("tmt_0003.pmap", _tmt_pmap("tmt_0003.pmap"))
    config = cache / "config" / "tmt" / "server_config"
    config.parent.mkdir(parents=True)
    config.write_text("{'operational_context': 'tmt_0003.pmap'}")
    assert get_context().name == "tmt_0003.pmap"
    with config.open("r+") as stream:  # edited in place, same size
        stream.write("{'operational_context': 'tmt_0007.pmap'}")
    assert get_context().name == "tmt_0007.pmap"
    monkeypatch.setenv("CRDS_CONTEXT", "tmt_0003.pmap")
    assert get_context().name == "tmt_0003.pmap"
    monkeypatch.delenv("CRDS_CONTEXT")
    other = cache.parent / "other"
    (other / "mappings" / "tmt").mkdir(parents=True)
    monkeypatch.setenv("CRDS_PATH", str(other))
    assert get_context().name == "tmt_0001.pmap"


def test_remembered_choices_tell_absent_from_undefined(cache, write_mapping):
    write_mapping("tmt_0001.pmap", _tmt_pmap("tmt_0001.pmap"))
    write_mapping(
        "tmt_iris_0003.imap",
        "header = {'mapping': 'INSTRUMENT', 'instrument': 'IRIS', 'sha1sum': ''}\n"
        "selector = {'MASK': 'tmt_iris_mask_0001.rmap'}\n",
    )
    write_mapping(
        "tmt_iris_mask_0001.rmap",
        "header = {'mapping': 'REFERENCE', 'filekind': 'MASK', 'sha1sum': '', "
        "'parkey': (('META.INSTRUMENT.DETECTOR',),)}\n"
        "selector = Match({'UNDEFINED': 'undefined.fits', 'IRIS1': 'a.fits'})\n",
    )
    context = get_context("tmt_0001.pmap")
    header = {"INSTRUME": "IRIS", "DETECTOR": "UNDEFINED"}
    for _ in range(2):
        assert context.select(header, "mask").filename == "undefined.fits"
        with pytest.raises(NoMatchError, match=r"has no META\.INSTRUMENT\.DETECTOR"):
            context.select({"INSTRUME": "IRIS"}, "mask")


def test_remembered_choices_defaults_and_roots_are_bounded(cache, monkeypatch):
    from irisdq.crds import context as context_module

    monkeypatch.setattr(context_module, "_CHOICES_MAX", 1)
    monkeypatch.setattr(
        context_module, "_DEFAULTS", {("x", index): ("a", "b") for index in range(64)}
    )
    monkeypatch.setattr(
        context_module, "_ROOTS", {(str(index), None): None for index in range(64)}
    )
    context = get_context()
    assert len(context_module._DEFAULTS) == 1
    assert len(context_module._ROOTS) == 1
    header = {"INSTRUME": "IRIS", **HEADER}
    for date in ("2020-07-13", "2021-07-13", "2020-07-13"):
        selection = context.select({**header, "DATE-OBS": date}, "mask")
        assert selection.filename == "tmt_iris_mask_0001.fits"
        assert len(context._choices) == 1
