import pytest

from irisdq.datamodels.meta import KEYWORDS, Meta, from_keywords, to_keywords
from irisdq.errors import DataModelError


def test_one_table_with_unique_paths_and_keywords():
    assert len({k.path for k in KEYWORDS}) == len(KEYWORDS)
    assert len({k.keyword for k in KEYWORDS}) == len(KEYWORDS)


def test_crds_parameters_are_in_the_table():
    keywords = {k.keyword for k in KEYWORDS}
    for keyword in ("INSTRUME", "DETECTOR", "SUBARRAY", "SUBSTRT1", "SUBSTRT2",
                    "SUBSIZE1", "SUBSIZE2", "DATE-OBS", "TIME-OBS", "EXP_TYPE",
                    "READPATT", "FILTER", "PUPIL", "TELESCOP"):  # fmt: skip
        assert keyword in keywords


def test_unknown_attributes_and_groups_are_errors():
    meta = Meta()
    with pytest.raises(AttributeError, match="known: "):
        meta.instrument.detectr = "IRIS1"
    with pytest.raises(AttributeError, match="is a group"):
        meta.instrument = "IRIS"
    assert meta.observation.date is None


def test_round_trip_through_keywords():
    meta = Meta()
    meta.observation.date = "2020-07-13"
    meta.subarray.xstart = 5
    meta.cal_step.dq_init = "COMPLETE"
    assert from_keywords(to_keywords(meta)).to_dict() == meta.to_dict()
    del meta.subarray.xstart
    assert "SUBSTRT1" not in to_keywords(meta)


def test_bad_header_value_names_file_and_keyword():
    with pytest.raises(DataModelError, match=r"x\.fits: keyword SUBSTRT1 = 'left'"):
        from_keywords({"SUBSTRT1": "left"}, "x.fits")


def test_dir_lists_groups_attributes_and_aliases():
    meta = Meta()
    top = dir(meta)
    assert {"instrument", "observation", "name", "detector"} <= set(top)
    assert "detector" in dir(meta.instrument)
    assert "name" in dir(meta.instrument)


def test_reading_an_unknown_attribute_is_an_error():
    meta = Meta()
    with pytest.raises(AttributeError, match="known: "):
        meta.instrument.detectr  # noqa: B018
    # Python's own probes (copy, pickle) get a plain AttributeError.
    assert not hasattr(meta, "__deepcopy_hook__")


def test_values_are_coerced_or_refused():
    import datetime

    meta = Meta()
    meta.observation.date = datetime.date(2020, 7, 13)
    assert meta.observation.date == "2020-07-13"
    with pytest.raises(TypeError, match=r"meta.instrument.detector \(DETECTOR\) must"):
        meta.instrument.detector = 1.5


def test_a_string_keyword_written_as_a_number_keeps_its_text():
    meta = from_keywords({"DETECTOR": 1, "SUBARRAY": "FULL"})
    assert meta.instrument.detector == "1"


def test_set_keywords_refuses_a_keyword_the_table_does_not_map():
    from irisdq.datamodels.meta import set_keywords

    meta = Meta()
    with pytest.raises(KeyError, match="ORIGIN is not a keyword of the model"):
        set_keywords(meta, {"ORIGIN": "x"})
