"""irisdq.crds against the stock CRDS client, on generated and shipped rmaps.

The stock ``crds`` package (the oracle; irisdq never imports it) and irisdq
each read the same rmap text and choose for the same dataset. Their answers
(a file name, a tuple of file names, ``N/A``, no match, or the rmap refused)
must be equal, except for the few documented exceptions named in
:func:`_exception`.
"""

import functools
import importlib.util
import random
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irisdq.crds import UNDEFINED, condition_value, mapping_from_text, parse_mapping
from irisdq.crds.selectors import SelectionFailed
from irisdq.errors import MappingError

# Many hypothesis examples or large arrays: left out of the fast subset.
pytestmark = pytest.mark.slow

NO_MATCH = "<no match>"
REFUSED = "<rmap refused>"

DET = "META.INSTRUMENT.DETECTOR"
EXP = "META.EXPOSURE.TYPE"
SUB = "META.SUBARRAY.NAME"
NGR = "META.EXPOSURE.NGROUPS"
DATE = "META.OBSERVATION.DATE"
TIME = "META.OBSERVATION.TIME"
VER = "META.CALIBRATION_SOFTWARE_VERSION"
WAVE = "META.INSTRUMENT.WAVELENGTH"


# -- the oracle ------------------------------------------------------------


@pytest.fixture
def stock(monkeypatch, tmp_path_factory):
    """The stock client's rmap module, offline: harmless CRDS variables and
    no network connection possible while a test runs."""
    pytest.importorskip("crds")
    monkeypatch.setenv("CRDS_PATH", str(tmp_path_factory.mktemp("stock_crds")))
    monkeypatch.setenv("CRDS_SERVER_URL", "https://crds-oracle.invalid")
    monkeypatch.setenv("CRDS_MODE", "local")

    def refuse(*args, **kwargs):
        raise OSError("the conformance tests never use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    import crds.core.rmap
    import crds.core.utils

    return crds.core


@functools.lru_cache(maxsize=4096)
def _stock_mapping(text: str):
    import crds.core.rmap

    try:
        return crds.core.rmap.ReferenceMapping.from_string(
            text, "oracle.rmap", ignore_checksum=True
        )
    except Exception:
        return None


def stock_answer(text: str, header: dict):
    """The stock client's answer: a file, a tuple, 'N/A', NO_MATCH or REFUSED."""
    import crds.core.utils

    mapping = _stock_mapping(text)
    if mapping is None:
        return REFUSED
    result = mapping.get_best_ref(crds.core.utils.condition_header(header))
    if result is None or result == "NOT FOUND n/a":
        return "N/A"
    if isinstance(result, str) and result.startswith("NOT FOUND"):
        return NO_MATCH
    return result


@functools.lru_cache(maxsize=4096)
def _irisdq_mapping(text: str):
    try:
        return mapping_from_text(text, "oracle.rmap", verify=False)
    except MappingError:
        return None


def irisdq_answer(text: str, header: dict):
    """irisdq's answer, in the same terms as :func:`stock_answer`."""
    rmap = _irisdq_mapping(text)
    if rmap is None:
        return REFUSED
    values = {
        name: condition_value(header.get(name, UNDEFINED)) for name in rmap.parameters
    }
    try:
        return rmap.selector.choose(values)
    except (SelectionFailed, MappingError):
        return NO_MATCH


def _exception(text: str, header: dict, ours, theirs) -> str | None:
    """The name of the documented exception that explains a difference, or None.

    Each is a behaviour of the stock client that irisdq does not copy, on
    purpose:
    """
    # Inside a Bracket pair the stock client keeps the rmap's spelling of
    # not-applicable ('n/a', 'TEMP_N/A', 'OMIT'); irisdq always says 'N/A'.
    if _spelling(theirs) == ours:
        return "not-applicable-spelling"
    # Equally ranked Match rules whose choices are plain file names: the
    # stock client returns them all as a tuple, as if they were a Bracket
    # pair, and a caller cannot tell which to use. irisdq raises
    # MappingError ("make one rule more specific") unless they name one file.
    if (
        isinstance(theirs, tuple)
        and "Bracket" not in text
        and (ours == NO_MATCH or {_spelling(item) for item in theirs} == {ours})
    ):
        return "ambiguous-match-tuple"
    # HST rmaps: their conditions (rmap_relevance, rmap_omit) name switch
    # keywords outside parkey that irisdq is not given, parkey_relevance
    # turns parameters into N/A, reffile_required = NO turns a failed match
    # into N/A, and HST plugins rewrite the dataset first. irisdq implements
    # none of these HST-only features.
    header_fields = parse_mapping(text).header
    if str(header_fields.get("observatory", "")).upper() == "HST" and (
        any(name in header_fields for name in _HST_CONDITIONS)
        or str(header_fields.get("reffile_required", "")).upper() == "NO"
    ):
        return "hst-relevance-conditions"
    # A full ISO moment in the date parameter and no time parameter: CRDS
    # refuses any UNDEFINED date parameter; irisdq takes the moment, because
    # IRIS files may write DATE-OBS that way without TIME-OBS.
    if (
        theirs == NO_MATCH
        and ours != NO_MATCH
        and header.get(TIME) == UNDEFINED
        and re.fullmatch(r"\d{4}[-/]\d\d[-/]\d\dT[\d:.]+", header.get(DATE, ""))
    ):
        return "iso-moment-without-time"
    # A relational key of three terms, or mixing 'and' with 'or': CRDS
    # silently reads only part of it; irisdq refuses the rmap.
    if ours == REFUSED and _MISREAD.search(text):
        return "relational-misread"
    return None


_HST_CONDITIONS = ("rmap_relevance", "parkey_relevance", "rmap_omit")
_NOT_APPLICABLE = {"N/A", "n/a", "TEMP_N/A", "temp_n/a", "OMIT", "omit", "TEMP_OMIT"}


def _spelling(choice):
    """A choice as irisdq spells it: every not-applicable spelling is N/A."""
    if isinstance(choice, tuple):
        return tuple(_spelling(item) for item in choice)
    return "N/A" if choice in _NOT_APPLICABLE else choice


_MISREAD = re.compile(r"'#[^#']*\s(and|or)\s[^#']*\s(and|or)\s[^#']*#'", re.IGNORECASE)


def assert_same(text: str, header: dict) -> None:
    theirs = stock_answer(text, header)
    ours = irisdq_answer(text, header)
    if ours != theirs and _exception(text, header, ours, theirs) is None:
        pytest.fail(
            f"irisdq {ours!r} != stock crds {theirs!r}\ndataset {header!r}\n{text}"
        )


# -- generated rmaps ---------------------------------------------------------

WORDS = ["A1", "A2", "B1", "FULL", "GENERIC", "NRC_IMAGE"]
FILES = ["a.fits", "b.fits", "c.fits", "d.fits", "N/A", "n/a", "OMIT"]
files = st.sampled_from(FILES)
DATES = [
    "2015-10-01 00:00:00",
    "2016-01-01 12:30:00",
    "2016-01-01 12:30:01",
    "2017-06-15 00:00:00",
]

match_keys = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(str.lower),
    st.sampled_from([1, 2.5, 20, "1", "1.0", "20", " 2 ", "-3", "0"]),
    st.sampled_from(["A*", "*1", "A1|B1", "A1 | FULL", "A*|B1", "1|20", "A1|"]),
    st.sampled_from(["N/A", "ANY", "*", "GENERIC", "NOT APPLICABLE"]),
    st.sampled_from(["(A.*)", "(A[0-9])", "(A)", "(B1|FULL)", "(a.*)"]),
    st.sampled_from(["{A1}", "{A*}", "{A1|B1}", "{a1}"]),
    st.sampled_from(["between 1 20", "between 2.5 3", "BETWEEN 0 1"]),
    st.sampled_from(["#>1#", "#>1 and <=20#", "#>=2.5 or <0#", "#<20#", "#A1 or 1#"]),
    st.sampled_from(["#>1 and <20 and >2#", "#>1 and <3 or >10#", ">1", "<=2.5"]),
    st.sampled_from(["NOT A1", "NOT A*", "NOT A1|B1", "NOT (A.*)"]),
)


def _value_pool(key) -> list[str]:
    """Dataset values that exercise rule key `key`."""
    text = str(key).strip()
    pool = [text, text.upper(), text.lower()]
    if "*" in text:
        pool.append(text.replace("*", "7"))
    if "|" in text:
        pool.extend(part.strip() for part in text.split("|"))
    if text.startswith("NOT "):
        pool.append(text[4:])
    return pool


OTHER_VALUES = [
    *WORDS,
    "a1",
    "A7",
    "AB",
    "N/A",
    "*",
    "ANY",
    "UNDEFINED",
    "NOT APPLICABLE",
    "1",
    "1.0",
    "1.",
    "+1",
    "01",
    "1e0",
    "2.50",
    "20",
    "20.0",
    "-3",
    "0",
    "3",
    "",
]


def _date_variants(key: str) -> list[tuple[str, str]]:
    """Dataset (date, time) pairs one second before, on and after `key`."""
    import datetime

    stamp = datetime.datetime.fromisoformat(key)
    pairs = []
    for delta in (-1, 0, 1):
        moment = stamp + datetime.timedelta(seconds=delta)
        day, clock = moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")
        pairs.append((day, clock))
    pairs.append((stamp.strftime("%Y-%m-%d"), stamp.strftime("%H:%M:%S") + ".5"))
    pairs.append((stamp.strftime("%Y/%m/%d"), stamp.strftime("%H:%M:%S")))
    pairs.append((stamp.strftime("%m/%d/%Y"), stamp.strftime("%I:%M %p")))
    pairs.append((stamp.strftime("%Y-%m-%dT%H:%M:%S"), UNDEFINED))
    pairs.append((stamp.strftime("%Y-%m-%d"), stamp.strftime("%H:%M:%S.250000")))
    return pairs


OTHER_DATES = [
    ("2014-01-01", "00:00:00"),
    ("2030-01-01", "00:00:00"),
    ("2016-01-01", UNDEFINED),
    (UNDEFINED, UNDEFINED),
    ("2016-01-01", "12:30"),
    ("2016-1-1", "00:00:00"),
    ("2016-01-01", "NOON"),
    ("Jan 01 2016", "00:00:00"),
]


# rmap_relevance and rmap_omit over a parameter of parkey or of extra_keys.
CONDITIONS = [
    None,
    None,
    {"rmap_relevance": f'({EXP} not in ("A1", "FULL"))', "extra_keys": (EXP,)},
    {"rmap_relevance": f'({EXP} == "B1" or {NGR} != "20.0")', "extra_keys": (EXP, NGR)},
    {"rmap_omit": f'({EXP} == "B1")', "extra_keys": (EXP,)},
    {"rmap_relevance": f"({NGR} > 2)", "extra_keys": (NGR,)},  # text > int: fails
    {"rmap_relevance": "always"},
]


class Spec:
    """A generated rmap: its text, and pools of dataset values per parameter."""

    def __init__(self, parkey, selector, pools, substitutions=None, conditions=None):
        self.parkey = parkey
        self.pools = pools
        header = {
            "mapping": "REFERENCE",
            "observatory": "JWST",
            "instrument": "NIRCAM",
            "filekind": "MASK",
            "name": "jwst_nircam_mask_0001.rmap",
            "derived_from": "generated",
            "parkey": parkey,
            "sha1sum": "0",
        }
        if substitutions:
            header["substitutions"] = substitutions
        header.update(conditions or {})
        self.text = f"header = {header!r}\n\nselector = {selector}\n"

    def __repr__(self) -> str:
        return self.text


def _render(call: str, entries: list) -> str:
    body = "".join(f"    {key!r} : {value},\n" for key, value in entries)
    return f"{call}({{\n{body}}})"


@st.composite
def use_after(draw, kind="UseAfter"):
    dates = draw(st.lists(st.sampled_from(DATES), min_size=1, max_size=3, unique=True))
    entries = [(date, repr(draw(files))) for date in dates]
    return _render(kind, entries), dates


@st.composite
def match_rmaps(draw):
    """Match on 1-3 parameters, then files, UseAfter, another Match, or a
    numeric or version selector."""
    parameters = tuple(draw(st.lists(st.sampled_from([DET, EXP, SUB, NGR]),
                                     min_size=1, max_size=3, unique=True)))  # fmt: skip
    nested = draw(
        st.sampled_from(["files", "UseAfter", "ClosestTime", "Match", "numbers"])
    )
    pools = {name: list(OTHER_VALUES) for name in parameters}
    dates: list[str] = []
    entries = []
    for _ in range(draw(st.integers(1, 4))):
        key = tuple(draw(match_keys) for _ in parameters)
        for name, item in zip(parameters, key, strict=True):
            pools[name].extend(_value_pool(item))
        if draw(st.booleans()) and len(key) == 1:
            key = key[0]  # a bare value instead of a 1-tuple
        if nested in ("UseAfter", "ClosestTime"):
            text, used = draw(use_after(kind=nested))
            dates.extend(used)
        elif nested == "Match":
            inner_key = draw(match_keys)
            pools.setdefault(EXP + ".INNER", []).extend(_value_pool(inner_key))
            text = _render("Match", [((inner_key,), repr(draw(files)))])
        elif nested == "numbers":
            kind = draw(st.sampled_from(["GeometricallyNearest", "Bracket"]))
            numbers = draw(st.lists(st.sampled_from([1.0, 2.5, 10, 20]),
                                    min_size=1, max_size=3, unique=True))  # fmt: skip
            text = _render(kind, [(n, repr(draw(files))) for n in numbers])
        else:
            text = repr(draw(files))
        entries.append((key, text))
    parkey = [parameters]
    if nested in ("UseAfter", "ClosestTime"):
        parkey.append((DATE, TIME))
        pools[(DATE, TIME)] = [
            *OTHER_DATES,
            *(pair for date in dates for pair in _date_variants(date)),
        ]
    elif nested == "Match":
        parkey.append((EXP + ".INNER",))
        pools[EXP + ".INNER"].extend(OTHER_VALUES)
    elif nested == "numbers":
        parkey.append((WAVE,))
        pools[WAVE] = ["1", "2", "2.5", "2.50", "10", "15", "25", "0", "-1", "X", "N/A"]
    substitutions = draw(
        st.sampled_from(
            [None, {SUB: {"GENERIC": "N/A"}}, {DET: {"A*": "N/A", "ALL": "A1|B1"}}]
        )
    )
    conditions = draw(st.sampled_from(CONDITIONS))
    if conditions:
        pools.setdefault(EXP, list(OTHER_VALUES))
        pools.setdefault(NGR, list(OTHER_VALUES))
    # Keys equal once conditioned make a duplicate: both clients refuse it.
    seen = set()
    unique = []
    for key, text in entries:
        if key not in seen:
            seen.add(key)
            unique.append((key, text))
    return Spec(
        tuple(parkey), _render("Match", unique), pools, substitutions, conditions
    )


@st.composite
def single_rmaps(draw):
    """A top-level UseAfter, ClosestTime, VersionAfter or SelectVersion."""
    kind = draw(
        st.sampled_from(["UseAfter", "ClosestTime", "VersionAfter", "SelectVersion"])
    )
    if kind in ("UseAfter", "ClosestTime"):
        text, dates = draw(use_after(kind=kind))
        pools = {
            (DATE, TIME): [
                *OTHER_DATES,
                *(pair for date in dates for pair in _date_variants(date)),
            ]
        }
        return Spec(((DATE, TIME),), text, pools)
    if kind == "VersionAfter":
        keys = draw(st.lists(st.sampled_from(["1.0", "1.2.3", "2", "10.1", "0.9rc1"]),
                             min_size=1, max_size=3, unique=True))  # fmt: skip
    else:
        relations = ["<3.1", "<=2", "=5", "5", "<10", "default"]
        keys = draw(st.lists(st.sampled_from(relations),
                             min_size=1, max_size=3, unique=True))  # fmt: skip
    text = _render(kind, [(key, repr(draw(files))) for key in keys])
    pools = {VER: ["1", "1.0", "1.0.0", "1.2.3", "1.10", "2", "3.1", "5", "0.5",
                   "10.1", "12", "X", "N/A", "1.2.3.dev4", "INF"]}  # fmt: skip
    return Spec(((VER,),), text, pools)


def _datasets(draw, spec: Spec, count: int) -> list[dict]:
    datasets = []
    for _ in range(count):
        header = {}
        for names, pool in spec.pools.items():
            value = draw(st.sampled_from(pool))
            if isinstance(names, tuple):
                header.update(zip(names, value, strict=True))
            else:
                header[names] = value
        datasets.append(header)
    return datasets


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=st.one_of(match_rmaps(), single_rmaps()), data=st.data())
def test_generated_rmaps_choose_as_stock_crds(stock, spec, data):
    for header in _datasets(data.draw, spec, 12):
        assert_same(spec.text, header)


# -- the rmaps shipped inside the crds package -------------------------------


def _shipped_rmaps() -> list[Path]:
    spec = importlib.util.find_spec("crds")
    if spec is None or spec.origin is None:
        return []
    return sorted(Path(spec.origin).parent.rglob("*.rmap"))


SHIPPED = _shipped_rmaps()
MUTATIONS = ["UNDEFINED", "N/A", "*", "ANY", "OTHER", "1", "-1.5"]


def _rule_values(selector, values: dict, dates: dict) -> None:
    """Collect, per parameter, the values the rules of `selector` name."""
    from crds.core import selectors

    names = selector._parameters
    for key, choice in selector._selections:
        if isinstance(selector, selectors.MatchSelector):
            for name, item in zip(names, key, strict=True):
                pool = values.setdefault(name, set())
                for part in str(item).strip("(){}#").split("|"):
                    pool.add(part.replace("*", "X").strip())
        elif isinstance(selector, selectors.UseAfterSelector) and len(names) == 2:
            dates.setdefault(names, set()).update(_date_variants(str(key)))
        elif names:
            values.setdefault(names[0], set()).add(str(key))
        if isinstance(choice, selectors.Selector):
            _rule_values(choice, values, dates)


def _shipped_datasets(path: Path, mapping, count: int = 12) -> list[dict]:
    """Datasets drawn deterministically from an rmap's rule values, each
    parameter sometimes mutated."""
    values: dict[str, set] = {}
    dates: dict[tuple, set] = {}
    _rule_values(mapping.selector, values, dates)
    parameters = [name for level in mapping.parkey for name in level]
    rng = random.Random(path.name)
    datasets = []
    for _ in range(count):
        header = {}
        for name in parameters:
            pool = sorted(values.get(name, ())) or ["VALUE"]
            if rng.random() < 0.25:
                pool = MUTATIONS
            header[name] = rng.choice(pool)
        for names, pairs in dates.items():
            pair = rng.choice([*sorted(pairs), ("2000-01-01", "00:00:00")])
            header.update(zip(names, pair, strict=True))
        datasets.append(header)
    return datasets


@pytest.mark.parametrize(
    "path", SHIPPED, ids=[f"{path.parent.parent.name}/{path.name}" for path in SHIPPED]
)
def test_shipped_rmaps_choose_as_stock_crds(stock, path):
    text = path.read_text(encoding="utf-8")
    mapping = _stock_mapping(text)
    assert mapping is not None, "the stock client reads every rmap it ships"
    assert _irisdq_mapping(text) is not None, "irisdq reads it too"
    for header in _shipped_datasets(path, mapping):
        assert_same(text, header)


def test_crds_rmaps_are_shipped():
    if importlib.util.find_spec("crds") is None:
        pytest.skip("the stock crds package is not installed")
    assert len(SHIPPED) > 100


def test_irisdq_never_imports_crds():
    # A fresh interpreter: selecting with irisdq must not load the oracle.
    code = (
        "import sys, irisdq.crds as c\n"
        "from irisdq.crds.cache import shipped_mapping_folder\n"
        "ctx = c.get_context()\n"
        "sel = ctx.select({'META.INSTRUMENT.NAME': 'IRIS',"
        " 'META.INSTRUMENT.DETECTOR': 'IRIS1', 'META.SUBARRAY.NAME': 'FULL',"
        " 'META.OBSERVATION.DATE': '2020-07-13',"
        " 'META.OBSERVATION.TIME': '00:00:00'}, 'mask')\n"
        "assert sel.filename == 'tmt_iris_mask_0001.fits', sel.filename\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'crds'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
