"""Best-reference selection through the TMT context, as a user meets it."""

import pytest
from astropy.io import fits

from irisdq.crds import (
    bestref,
    explain_bestref,
    get_context,
    select_reference,
)
from irisdq.datamodels import read_keywords
from irisdq.errors import MappingError, NoMatchError, ReferenceFileError

MASK = "tmt_iris_mask_0001.fits"


def _header(**changes):
    header = {
        "TELESCOP": "TMT",
        "INSTRUME": "IRIS",
        "DETECTOR": "IRIS1",
        "SUBARRAY": "FULL",
        "DATE-OBS": "2020-07-13",
        "TIME-OBS": "00:00:00",
    }
    header.update(changes)
    return {key: value for key, value in header.items() if value is not None}


@pytest.fixture
def mask_file(cache):
    path = cache / "references" / "tmt" / "iris" / MASK
    path.write_bytes(b"SIMPLE")
    return path


@pytest.mark.parametrize(
    "header",
    [
        _header(),
        _header(SUBARRAY="CUSTOM", **{"DATE-OBS": "2015-10-13"}),
        _header(SUBARRAY="SUB64"),
        _header(**{"DATE-OBS": "2015-10-01"}),
        _header(**{"DATE-OBS": "2015-10-01T00:00:00", "TIME-OBS": None}),
        _header(DETECTOR="iris1", INSTRUME="iris"),
    ],
)
@pytest.mark.parametrize("reftype", ["mask", "MASK", "Mask"])
def test_tmt_mask_is_selected(mask_file, header, reftype):
    assert bestref(header, reftype) == str(mask_file)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (
            _header(**{"DATE-OBS": "2015-09-13"}),
            "2015-09-13 00:00:00 is earlier than every use-after date "
            "(earliest 2015-10-01 00:00:00)",
        ),
        (_header(DETECTOR="IRIS2"), "META.INSTRUMENT.DETECTOR='IRIS2'"),
        (_header(DETECTOR="IRIS2"), "rule keys: ('IRIS1', 'N/A')"),
        (_header(DETECTOR=None), "META.INSTRUMENT.DETECTOR='UNDEFINED'"),
        (_header(DETECTOR=None), "rule keys: ('IRIS1', 'N/A')"),
    ],
)
def test_tmt_mask_no_match(mask_file, header, words):
    with pytest.raises(NoMatchError) as error:
        bestref(header, "mask")
    message = str(error.value)
    assert message.startswith(
        "no MASK reference for this dataset in tmt_iris_mask_0001.rmap"
    )
    assert "context tmt_0001.pmap" in message
    assert words in message
    assert "\n" not in message


def test_dflat_does_not_apply(cache):
    assert bestref(_header(), "dflat") == "N/A"
    selection = select_reference(_header(), "DFLAT")
    assert selection.not_applicable
    assert selection.uri == "N/A"
    assert selection.path is None


def test_unknown_reftype_lists_known_ones(cache):
    with pytest.raises(NoMatchError, match="known types: dflat, mask"):
        bestref(_header(), "dark")


@pytest.mark.parametrize(
    ("instrument", "words"),
    [("NIRCAM", "instrument NIRCAM is not in"), (None, "UNDEFINED (no INSTRUME")],
)
def test_unknown_instrument_lists_known_ones(cache, instrument, words):
    with pytest.raises(NoMatchError, match="known instruments: IRIS") as error:
        bestref(_header(INSTRUME=instrument), "mask")
    assert words in str(error.value)


def test_selection_reports_what_the_step_records(mask_file):
    selection = select_reference(_header(), "mask")
    assert selection.context == "tmt_0001.pmap"
    assert selection.filename == MASK
    assert selection.uri == f"crds://{MASK}"
    assert selection.path == mask_file
    assert selection.exists
    assert selection.reftype == "MASK"
    assert (selection.imap, selection.rmap) == (
        "tmt_iris_0003.imap",
        "tmt_iris_mask_0001.rmap",
    )
    assert selection.values["META.SUBARRAY.NAME"] == "FULL"


def test_missing_reference_gives_the_expected_path_and_recipe(cache):
    expected = cache / "references" / "tmt" / "iris" / MASK
    selection = select_reference(_header(), "mask")
    assert (selection.path, selection.exists) == (expected, False)
    with pytest.raises(ReferenceFileError) as error:
        bestref(_header(), "mask")
    message = str(error.value)
    assert f"expected at {expected};" in message
    assert "TMTMaskModel" in message
    assert "does not exist" not in message  # the cache folder itself exists


def test_fresh_machine(isolated_crds, tmp_path):
    """A user with no cache writes only the mask file, as the seed shows."""
    raw = tmp_path / "raw_uncal.fits"
    fits.PrimaryHDU(header=fits.Header(_header())).writeto(raw)
    expected = isolated_crds / "crds_cache" / "references" / "tmt" / "iris" / MASK
    with pytest.raises(ReferenceFileError) as error:
        bestref(read_keywords(raw), "mask")
    message = str(error.value)
    assert f"expected at {expected};" in message
    assert f"the cache folder {isolated_crds / 'crds_cache'} does not exist" in message
    assert "CRDS_PATH is not set" in message
    expected.parent.mkdir(parents=True)
    fits.PrimaryHDU().writeto(expected)
    assert bestref(read_keywords(raw), "mask") == str(expected)
    assert get_context().source == "shipped with irisdq"


def test_explain_shows_context_rule_rank_and_date(mask_file):
    text = explain_bestref(_header(), "mask")
    assert "context    tmt_0001.pmap (shipped with irisdq)" in text
    assert "instrument IRIS -> tmt_iris_0003.imap" in text
    assert "reftype    MASK -> tmt_iris_mask_0001.rmap" in text
    assert "META.INSTRUMENT.DETECTOR = 'IRIS1'" in text
    # issue 14 item 15: the key as the rmap writes it, and what it means
    assert (
        "  ('IRIS1', 'GENERIC') line 23: 'IRIS1' matches 'IRIS1', 'FULL' vs "
        "'GENERIC' (= 'N/A': any value) don't care -> rank 1\n"
        "  chose ('IRIS1', 'GENERIC'), rank 1\n"
    ) in text
    assert "chose 2015-10-01 00:00:00, the latest of 1 use-after date(s)" in text
    assert f"path       {mask_file} (present)" in text


def test_explain_of_a_failing_rank_shows_the_fallback(cache, write_mapping):
    write_mapping(
        "tmt_iris_mask_0001.rmap",
        """header = {
    'filekind' : 'MASK',
    'instrument' : 'IRIS',
    'mapping' : 'REFERENCE',
    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.SUBARRAY.NAME'),
                ('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')),
    'sha1sum' : '',
}
selector = Match({
    ('IRIS1', 'FULL') : UseAfter({'2021-01-01 00:00:00' : 'full.fits'}),
    ('IRIS1', 'N/A') : UseAfter({'2015-10-01 00:00:00' : 'any.fits'}),
})
""",
    )
    selection = select_reference(_header(), "mask")
    assert selection.filename == "any.fits"
    text = selection.explain()
    assert "chose ('IRIS1', 'FULL'), rank 2" in text
    assert "earlier than every use-after date" in text
    assert "trying the next rank" in text
    assert "chose ('IRIS1', 'N/A'), rank 1" in text


def test_flat_reference_layout(cache):
    flat = cache / "references" / "tmt" / MASK
    flat.write_bytes(b"")
    assert bestref(_header(), "mask") == str(flat)


def test_context_argument_and_crds_parameter_datasets(mask_file):
    params = {
        "META.INSTRUMENT.NAME": "IRIS",
        "meta.instrument.detector": "IRIS1",
        "META.SUBARRAY.NAME": "FULL",
        "META.OBSERVATION.DATE": "2020-07-13",
        "META.OBSERVATION.TIME": "00:00:00",
    }
    assert bestref(params, "mask", context="tmt_0001.pmap") == str(mask_file)


def test_model_dataset(mask_file):
    class Model:
        def get_fits_keywords(self):
            return _header()

    assert bestref(Model(), "mask") == str(mask_file)


def test_unsafe_rmap_in_cache_is_refused(cache, write_mapping):
    write_mapping(
        "tmt_iris_mask_0001.rmap",
        """header = {
    'mapping' : 'REFERENCE',
    'parkey' : (('META.INSTRUMENT.DETECTOR',),),
    'sha1sum' : '',
}
selector = Match({'IRIS1' : '../../../../etc/passwd'})
""",
    )
    with pytest.raises(MappingError, match="unsafe reference file name"):
        bestref(_header(), "mask")


def test_tampered_rmap_in_cache_is_refused(cache, write_mapping):
    path = write_mapping(
        "tmt_iris_mask_0001.rmap",
        """header = {
    'mapping' : 'REFERENCE',
    'parkey' : (('META.INSTRUMENT.DETECTOR',),),
    'sha1sum' : '',
}
selector = Match({'IRIS1' : 'a.fits'})
""",
    )
    path.write_text(path.read_text().replace("a.fits", "b.fits"))
    with pytest.raises(MappingError, match="sha1sum mismatch"):
        bestref(_header(), "mask")


def test_context_lists_instruments_reftypes_and_inventory(mask_file):
    context = get_context()
    assert context.instruments() == ["IRIS"]
    assert context.reftypes("iris") == ["dflat", "mask"]
    items = [(i.kind, i.name, i.status) for i in context.inventory()]
    assert items == [
        ("pmap", "tmt_0001.pmap", "shipped"),
        ("imap", "tmt_iris_0003.imap", "shipped"),
        ("rmap", "N/A", "n/a"),
        ("rmap", "tmt_iris_mask_0001.rmap", "shipped"),
        ("reference", MASK, "present"),
    ]


def test_inventory_reports_a_broken_mapping_instead_of_failing(cache, write_mapping):
    path = write_mapping(
        "tmt_iris_mask_0001.rmap",
        "header = {'mapping': 'REFERENCE', 'sha1sum': ''}\nselector = Match({})\n",
    )
    path.write_text(path.read_text() + "# edited\n")
    items = get_context().inventory()
    broken = [item for item in items if item.status == "error"]
    assert [item.name for item in broken] == ["tmt_iris_mask_0001.rmap"]
    assert "sha1sum mismatch" in broken[0].detail


def test_bracket_rmap_gives_two_paths(cache, write_mapping):
    write_mapping(
        "tmt_iris_mask_0001.rmap",
        """header = {
    'filekind' : 'MASK',
    'mapping' : 'REFERENCE',
    'parkey' : (('META.SUBARRAY.XSIZE',),),
    'sha1sum' : '',
}
selector = Bracket({1024 : 'small.fits', 4096 : 'large.fits'})
""",
    )
    folder = cache / "references" / "tmt" / "iris"
    header = _header(SUBSIZE1=2048)
    with pytest.raises(ReferenceFileError) as error:
        bestref(header, "mask")
    assert str(folder / "small.fits") in str(error.value)
    assert str(folder / "large.fits") in str(error.value)
    (folder / "small.fits").write_bytes(b"")
    (folder / "large.fits").write_bytes(b"")
    assert bestref(header, "mask") == (
        str(folder / "small.fits"),
        str(folder / "large.fits"),
    )
    selection = select_reference(header, "mask")
    assert selection.uri == "crds://small.fits crds://large.fits"
    assert "keys 1024.0 and 4096.0" in selection.explain()


def test_table_choice_gives_a_dict_of_paths(cache, write_mapping):
    # A rule may choose a table of files by name (the stock client's own
    # tobs_tinstr_tfilekind.rmap does): each is located in the cache.
    write_mapping(
        "tmt_iris_mask_0001.rmap",
        """header = {
    'filekind' : 'MASK',
    'mapping' : 'REFERENCE',
    'parkey' : (('META.INSTRUMENT.DETECTOR',),),
    'sha1sum' : '',
}
selector = Match({'IRIS1' : {'short' : 'short.fits', 'long' : 'long.fits'}})
""",
    )
    folder = cache / "references" / "tmt" / "iris"
    header = _header()
    with pytest.raises(ReferenceFileError) as error:
        bestref(header, "mask")
    assert str(folder / "short.fits") in str(error.value)
    (folder / "short.fits").write_bytes(b"")
    (folder / "long.fits").write_bytes(b"")
    assert bestref(header, "mask") == {
        "short": str(folder / "short.fits"),
        "long": str(folder / "long.fits"),
    }
    selection = select_reference(header, "mask")
    assert selection.uri == "crds://short.fits crds://long.fits"
    assert f"path       {folder / 'long.fits'} (present)" in selection.explain()
    inventory = get_context().inventory()
    references = {item.name for item in inventory if item.kind == "reference"}
    assert references == {"short.fits", "long.fits"}
