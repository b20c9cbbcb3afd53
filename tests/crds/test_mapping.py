"""Mapping objects: kinds, header checks, and refusing unsafe names."""

import pytest

from builders import call_on_fifo
from irisdq.crds import load_mapping, mapping_from_text
from irisdq.crds.mapping import InstrumentMapping, PipelineMapping, ReferenceMapping
from irisdq.crds.parser import MAX_MAPPING_BYTES
from irisdq.errors import MappingError

PARKEY = "(('META.INSTRUMENT.DETECTOR',),)"


def _rmap(choice: str) -> str:
    return (
        f"header = {{'mapping': 'REFERENCE', 'parkey': {PARKEY}}}\n"
        f"selector = Match({{'IRIS1': {choice}}})\n"
    )


@pytest.mark.parametrize(
    "name",
    [
        "'../evil.fits'",
        "'sub/evil.fits'",
        "'/etc/passwd'",
        "'..'",
        "'a\\\\b.fits'",
        "''",
        "'.hidden'",
        "('ok.fits', '../bad.fits')",
    ],
)
def test_rmap_naming_a_path_is_refused(name):
    with pytest.raises(MappingError, match="unsafe reference file name"):
        mapping_from_text(_rmap(name), "demo.rmap", verify=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("selector = {'IRIS': '../x.imap'}", "unsafe mapping name"),
        ("selector = {'IRIS': 'tmt/x.imap'}", "unsafe mapping name"),
        ("selector = {'IRIS': 'x.rmap'}", "must name a .imap file"),
        ("selector = {'IRIS': 3}", "entries must map names"),
        ("selector = {'IRIS': 'a.imap', 'iris': 'b.imap'}", "'iris' appears twice"),
        ("selector = Match({'IRIS': 'a.imap'})", "must be a plain dict"),
    ],
)
def test_pmap_checks(text, words):
    with pytest.raises(MappingError, match=words):
        mapping_from_text(
            f"header = {{'mapping': 'PIPELINE'}}\n{text}\n", "x.pmap", verify=False
        )


def test_kinds_from_header_or_extension():
    pmap = mapping_from_text(
        "header = {}\nselector = {'IRIS': 'a.imap', 'MIRI': 'N/A'}",
        "x.pmap",
        verify=False,
    )
    assert isinstance(pmap, PipelineMapping)
    assert pmap.instruments() == ["IRIS", "MIRI"]
    assert pmap.children() == ["a.imap"]
    imap = mapping_from_text(
        "header = {'mapping': 'INSTRUMENT', 'instrument': 'iris'}\n"
        "selector = {'MASK': 'a.rmap', 'dflat': 'n/a'}",
        "whatever.txt",
        verify=False,
    )
    assert isinstance(imap, InstrumentMapping)
    assert imap.reftypes() == ["mask", "dflat"]
    assert imap.table["DFLAT"] == "N/A"
    assert imap.instrument == "IRIS"
    rmap = mapping_from_text(_rmap("'a.fits'"), "x.rmap", verify=False)
    assert isinstance(rmap, ReferenceMapping)
    assert rmap.files == ["a.fits"]
    with pytest.raises(MappingError, match="unknown mapping kind"):
        mapping_from_text("header = {}\nselector = {}", "x.txt", verify=False)


@pytest.mark.parametrize(
    "parkey",
    ["None", "()", "('META.INSTRUMENT.DETECTOR',)", "((1,),)", "'DETECTOR'"],
)
def test_rmap_parkey_must_be_tuple_of_tuples(parkey):
    text = (
        f"header = {{'mapping': 'REFERENCE', 'parkey': {parkey}}}\n"
        "selector = Match({})"
    )
    with pytest.raises(
        MappingError, match=r"x\.rmap:1: 'parkey' must be a tuple of tuples"
    ):
        mapping_from_text(text, "x.rmap", verify=False)


def test_rmap_selector_must_be_a_call():
    text = f"header = {{'mapping': 'REFERENCE', 'parkey': {PARKEY}}}\nselector = {{}}"
    with pytest.raises(MappingError, match=r"x\.rmap:2: the selector of an rmap"):
        mapping_from_text(text, "x.rmap", verify=False)


def test_substitutions_must_be_dicts():
    text = (
        f"header = {{'mapping': 'REFERENCE', 'parkey': {PARKEY}, 'substitutions': 3}}\n"
        "selector = Match({'IRIS1': 'a.fits'})"
    )
    with pytest.raises(MappingError, match="substitutions"):
        mapping_from_text(text, "x.rmap", verify=False)


def test_load_parses_once_and_again_after_a_change(tmp_path, monkeypatch):
    monkeypatch.setenv("CRDS_IGNORE_MAPPING_CHECKSUM", "yes")
    path = tmp_path / "x.rmap"
    path.write_text(_rmap("'a.fits'"))
    first = load_mapping(path)
    assert load_mapping(path) is first
    path.write_text(_rmap("'bb.fits'"))
    second = load_mapping(path)
    assert second is not first
    assert second.files == ["bb.fits"]


def test_load_missing_file():
    with pytest.raises(MappingError, match=r"nowhere\.rmap does not exist"):
        load_mapping("nowhere.rmap")


def test_load_refuses_a_fifo_without_blocking(tmp_path):
    """Issue 13: a FIFO given as a mapping is refused, not read forever."""
    raised = call_on_fifo(load_mapping, tmp_path / "x.rmap")
    assert isinstance(raised, MappingError)
    assert str(raised) == (
        f"{tmp_path / 'x.rmap'}: is a FIFO; a CRDS mapping must be a regular file"
    )


def test_load_refuses_a_mapping_over_the_size_limit_before_reading(tmp_path):
    """Issue 9: a mapping over 4 MiB is refused from its size, unread."""
    path = tmp_path / "huge.rmap"
    with path.open("wb") as stream:
        stream.truncate(MAX_MAPPING_BYTES + 1)  # sparse: nothing to read
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert str(error.value).startswith(
        f"{path}: {MAX_MAPPING_BYTES + 1} bytes; a mapping may have at most "
        f"{MAX_MAPPING_BYTES} bytes (4 MiB"
    )


def _conditional(conditions: str) -> ReferenceMapping:
    text = (
        "header = {'mapping': 'REFERENCE', 'parkey': (('META.INSTRUMENT.DETECTOR',),),"
        f" 'extra_keys': ('META.EXPOSURE.TYPE',), {conditions}}}\n"
        "selector = Match({'IRIS1': 'a.fits'})\n"
    )
    return mapping_from_text(text, "c.rmap", verify=False)


def _choose(rmap, exposure, detector="IRIS1"):
    values = {"META.INSTRUMENT.DETECTOR": detector, "META.EXPOSURE.TYPE": exposure}
    return rmap.selector.choose(values)


@pytest.mark.parametrize(
    ("conditions", "exposure", "expected"),
    [
        ("'rmap_relevance': '(META.EXPOSURE.TYPE != \"DARK\")'", "SCIENCE", "a.fits"),
        ("'rmap_relevance': '(META.EXPOSURE.TYPE != \"DARK\")'", "DARK", "N/A"),
        ("'rmap_relevance': '(META.EXPOSURE.TYPE in (\"A\", \"B\"))'", "B", "a.fits"),
        ("'rmap_relevance': 'always'", "DARK", "a.fits"),
        ("'rmap_omit': '(META.EXPOSURE.TYPE == \"DARK\")'", "DARK", "N/A"),
        ("'rmap_omit': '(META.EXPOSURE.TYPE == \"DARK\")'", "FLAT", "a.fits"),
        # Not evaluable (text against a number, an unknown name): as CRDS,
        # relevant and not omitted.
        ("'rmap_relevance': '(META.EXPOSURE.TYPE > 2)'", "DARK", "a.fits"),
        ("'rmap_relevance': '(OTHER == \"X\")'", "DARK", "a.fits"),
        ("'rmap_omit': '(OTHER == \"X\")'", "DARK", "a.fits"),
        ("'rmap_omit': '(META.OTHER.KEY == \"X\")'", "DARK", "a.fits"),
        ("'rmap_relevance': '(not META.EXPOSURE.TYPE == \"DARK\")'", "DARK", "N/A"),
        ("'rmap_relevance': '(not META.EXPOSURE.TYPE == \"DARK\")'", "FLAT", "a.fits"),
    ],
)
def test_rmap_relevance_and_omit(conditions, exposure, expected):
    rmap = _conditional(conditions)
    assert rmap.parameters == ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")
    assert _choose(rmap, exposure) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "[x for x in ()]",
        "lambda: 1",
        "a if b else c",
    ],
)
def test_conditions_are_read_never_run(expression):
    with pytest.raises(MappingError, match="rmap_relevance"):
        _conditional(f"'rmap_relevance': {expression!r}")


@pytest.mark.parametrize(
    ("conditions", "exposure", "line"),
    [
        ("'rmap_omit': '(META.EXPOSURE.TYPE == \"DARK\")'", "DARK", "rmap_omit"),
        ("'rmap_relevance': '(META.EXPOSURE.TYPE != \"DARK\")'", "DARK", "is false"),
    ],
)
def test_a_condition_that_gives_na_is_traced(conditions, exposure, line):
    rmap = _conditional(conditions)
    trace: list[str] = []
    values = {"META.INSTRUMENT.DETECTOR": "IRIS1", "META.EXPOSURE.TYPE": exposure}
    assert rmap.selector.choose(values, trace) == "N/A"
    assert len(trace) == 1
    assert line in trace[0]
    assert trace[0].endswith(": N/A")


@pytest.mark.parametrize(
    ("conditions", "words"),
    [
        ("'rmap_relevance': 3", "'rmap_relevance' must be an expression in a string"),
        ("'rmap_omit': '(META.EXPOSURE.TYPE =='", "cannot read"),
    ],
)
def test_conditions_must_be_readable_expressions(conditions, words):
    with pytest.raises(MappingError, match=words):
        _conditional(conditions)


def test_extra_keys_must_be_parameter_names():
    text = (
        "header = {'mapping': 'REFERENCE', 'parkey': (('META.INSTRUMENT.DETECTOR',),),"
        " 'extra_keys': 'META.EXPOSURE.TYPE'}\n"
        "selector = Match({'IRIS1': 'a.fits'})\n"
    )
    with pytest.raises(MappingError, match="'extra_keys' must be a tuple of parameter"):
        mapping_from_text(text, "c.rmap", verify=False)


def test_a_mapping_shows_its_kind_and_name():
    assert repr(_conditional("'rmap_omit': 'always'")) == "ReferenceMapping('c.rmap')"
