"""Random and mutated mapping texts: a result or MappingError, never more.

The payloads would set an attribute on ``builtins`` if any part of a
mapping were ever executed; the tests check that it never appears.
"""

import builtins
import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irisdq.crds import condition_value, mapping_from_text, parse_mapping
from irisdq.crds.cache import shipped_mapping_folder
from irisdq.crds.selectors import SelectionFailed
from irisdq.errors import MappingError

# Many hypothesis examples or large arrays: left out of the fast subset.
pytestmark = pytest.mark.slow

SENTINEL = "IRISDQ_MAPPING_WAS_EXECUTED"
PAYLOAD = f"setattr(__import__('builtins'), {SENTINEL!r}, 1)"
SNIPPETS = [
    PAYLOAD,
    f"({PAYLOAD})",
    f"Match({PAYLOAD})",
    f"UseAfter({{'2020-01-01': {PAYLOAD}}})",
    f"(lambda: {PAYLOAD})()",
    f"[{PAYLOAD} for _ in (1,)]",
    f"f'{{{PAYLOAD}}}'",
    f"\nimport builtins; {PAYLOAD}\n",
    "__import__('os')",
    "'IRIS1'",
    "'IRIS*|IRIS2'",
    "'(IRIS[0-9])'",
    "'#>1 and <20#'",
    "'between 1 2'",
    "'N/A'",
    "'GENERIC'",
    "UseAfter({",
    "Match({",
    "ClosestTime({",
    "VersionAfter({'1.0' : ",
    "SelectVersion({'<2' : ",
    "GeometricallyNearest({1.0 : ",
    "Bracket({1.0 : ",
    "'2015-10-01 00:00:00'",
    "'tmt_iris_mask_0002.fits'",
    "'../x.fits'",
    "(",
    ")",
    "{",
    "}",
    ",",
    ":",
    "'",
    '"""',
    "#",
    "\n",
    "()",
    "1e400",
    "-1",
    "True",
    "None",
]
RMAP = (shipped_mapping_folder() / "tmt_iris_mask_0001.rmap").read_text()
DATASETS = [
    {
        "META.INSTRUMENT.DETECTOR": detector,
        "META.SUBARRAY.NAME": subarray,
        "META.OBSERVATION.DATE": date,
        "META.OBSERVATION.TIME": "00:00:00",
    }
    for detector, subarray, date in [
        ("IRIS1", "FULL", "2020-07-13"),
        ("IRIS2", "GENERIC", "2015-09-13"),
        ("*", "*", "2015-10-01"),
        ("UNDEFINED", "UNDEFINED", "UNDEFINED"),
    ]
]


def _not_executed():
    return not hasattr(builtins, SENTINEL)


def _select_all(text: str) -> None:
    """Load `text` as an rmap and run every dataset through it."""
    rmap = mapping_from_text(text, "fuzz.rmap", verify=False)
    for dataset in DATASETS:
        values = {
            name: condition_value(dataset.get(name, "UNDEFINED"))
            for name in rmap.parameters
        }
        with contextlib.suppress(SelectionFailed):
            rmap.selector.choose(values)
        trace: list[str] = []
        with contextlib.suppress(SelectionFailed):
            rmap.selector.choose(values, trace)


def test_unmutated_rmap_selects_the_mask():
    rmap = mapping_from_text(RMAP, "tmt_iris_mask_0001.rmap")
    values = {name: condition_value(DATASETS[0][name]) for name in rmap.parameters}
    assert rmap.selector.choose(values) == "tmt_iris_mask_0001.fits"
    _select_all(RMAP)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text_gives_a_result_or_mapping_error(text):
    with contextlib.suppress(MappingError):
        parse_mapping(text, "fuzz.rmap")
    assert _not_executed()


mutation = st.tuples(
    st.integers(0, len(RMAP)),
    st.integers(0, 12),
    st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=4)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_rmap_gives_a_result_or_mapping_error(mutations):
    text = RMAP
    for position, length, snippet in mutations:
        position = min(position, len(text))
        text = text[:position] + snippet + text[position + length :]
    with contextlib.suppress(MappingError):
        _select_all(text)
    assert _not_executed()


keys = st.one_of(
    st.sampled_from(
        ["IRIS1", "IRIS*", "N/A", "GENERIC", "(IRIS.)", "{IRIS1}", "NOT IRIS2"]
    ),
    st.sampled_from(
        ["#>1#", "between 0 3", "A|B", "ANY", "", "()", "(", "#", "between"]
    ),
    st.text(max_size=6),
)
dates = st.one_of(
    st.sampled_from(["2015-10-01 00:00:00", "2020-07-13", "2015/10/01T01:02:03.5"]),
    st.text(max_size=12),
)
choices = st.one_of(st.sampled_from(["a.fits", "b.fits", "N/A"]), st.text(max_size=8))


@st.composite
def selector_texts(draw):
    """A Match over UseAfter rmap body built from random keys and dates."""
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        detector, subarray = draw(keys), draw(keys)
        dated = ", ".join(
            f"{draw(dates)!r} : {draw(choices)!r}"
            for _ in range(draw(st.integers(0, 3)))
        )
        rules.append(f"    ({detector!r}, {subarray!r}) : UseAfter({{{dated}}}),")
    body = "\n".join(rules)
    return RMAP[: RMAP.index("selector = ")] + f"selector = Match({{\n{body}\n}})\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(selector_texts())
def test_generated_rmaps_give_a_result_or_mapping_error(text):
    with contextlib.suppress(MappingError):
        _select_all(text)
    assert _not_executed()
