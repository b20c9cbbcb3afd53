"""irisdq.crds against the stock CRDS client, on generated and real rmaps.

The stock ``crds`` package (the oracle; irisdq never imports it) and irisdq
each read the same rmap text and choose for the same dataset. Their answers
(a file name, a tuple or table of file names, ``N/A``, no match, or the rmap
refused) must be equal, except for the few documented exceptions named in
:func:`_exception`.

The rmaps: generated ones (hypothesis), those installed inside the ``crds``
package, the crds 14.0.3 sdist's own ``test/data`` (its path in
``IRISDQ_CRDS_SDIST``, which ``.ci/run`` sets after ``pip download``), and
the crds-cache-test mappings kept in ``tests/data/crds-cache-test``.
"""

import functools
import importlib.util
import os
import random
import re
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irisdq.crds import UNDEFINED, condition_value, mapping_from_text, parse_mapping
from irisdq.crds.selectors import SelectionFailed
from irisdq.crds.values import ABSENT
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
    return _stock_choose(_stock_mapping(text), header)


def _stock_choose(mapping, header: dict):
    import crds.core.utils

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
    return _irisdq_choose(_irisdq_mapping(text), header)


def _irisdq_choose(rmap, header: dict):
    if rmap is None:
        return REFUSED
    values = {
        name: condition_value(header[name]) if name in header else ABSENT
        for name in rmap.parameters
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
    # (A full ISO moment without its time parameter is taken in TMT and
    # Liger mappings only, which the stock client cannot load: see
    # test_selectors.py. Here, as everywhere else, irisdq refuses it.)
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


def assert_same(text: str, header: dict, stock_rmap=None, irisdq_rmap=None) -> None:
    if stock_rmap is None:
        theirs, ours = stock_answer(text, header), irisdq_answer(text, header)
    else:
        theirs = _stock_choose(stock_rmap, header)
        ours = _irisdq_choose(irisdq_rmap, header)
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
    "2016-01-01T12:30:00",
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
    None,  # the parameter is absent from the dataset
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
    ("2016-01-01T12:30:00", None),
    ("2016-01-01", None),
    (None, None),
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
        pools[WAVE] = [
            *("1", "2", "2.5", "2.50", "10", "15", "25", "0", "-1", "X", "N/A", None)
        ]
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
        pairs = [
            *OTHER_DATES,
            *(pair for date in dates for pair in _date_variants(date)),
        ]
        if draw(st.booleans()):
            return Spec(((DATE, TIME),), text, {(DATE, TIME): pairs})
        # One parameter holding the whole moment, as Roman's START_TIME.
        moments = [day for day, _ in pairs if day is not None]
        moments += [
            f"{day}{sep}{clock}"
            for day, clock in pairs
            if day is not None and clock is not None
            for sep in " T"
        ]
        return Spec(((DATE,),), text, {DATE: moments})
    if kind == "VersionAfter":
        keys = draw(st.lists(st.sampled_from(["1.0", "1.2.3", "2", "10.1", "0.9rc1"]),
                             min_size=1, max_size=3, unique=True))  # fmt: skip
    else:
        relations = ["<3.1", "<=2", "=5", "5", "<10", "default"]
        keys = draw(st.lists(st.sampled_from(relations),
                             min_size=1, max_size=3, unique=True))  # fmt: skip
    text = _render(kind, [(key, repr(draw(files))) for key in keys])
    pools = {VER: ["1", "1.0", "1.0.0", "1.2.3", "1.10", "2", "3.1", "5", "0.5",
                   "10.1", "12", "X", "N/A", "1.2.3.dev4", "INF", None]}  # fmt: skip
    return Spec(((VER,),), text, pools)


def _datasets(draw, spec: Spec, count: int) -> list[dict]:
    datasets = []
    for _ in range(count):
        header = {}
        for names, pool in spec.pools.items():
            value = draw(st.sampled_from(pool))
            if isinstance(names, tuple):
                header.update(
                    (name, item)
                    for name, item in zip(names, value, strict=True)
                    if item is not None
                )
            elif value is not None:
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
        elif type(selector) is selectors.UseAfterSelector and len(names) == 1:
            # One parameter holds the whole moment: the date alone, or the
            # date and time joined by a space or a 'T'.
            pool = values.setdefault(names[0], set())
            for day, clock in _date_variants(str(key).replace("T", " ")):
                if clock != UNDEFINED:
                    pool.update((day, f"{day} {clock}", f"{day}T{clock}"))
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
        # A parameter the dataset lacks: absent, which is not the same as
        # the value 'UNDEFINED' to the stock client.
        for name in parameters:
            if rng.random() < 0.08:
                header.pop(name, None)
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


# -- the crds project's own test mappings -------------------------------------

#: The crds 14.0.3 sdist (the .tar.gz, a folder holding it, or its unpacked
#: source folder); .ci/run downloads it and sets this variable.
SDIST_VARIABLE = "IRISDQ_CRDS_SDIST"
CACHE_TEST = Path(__file__).parents[1] / "data" / "crds-cache-test" / "mappings"
#: Datasets drawn per rmap; a run by hand may ask for more.
DATASETS_PER_RMAP = int(os.environ.get("IRISDQ_CRDS_DIFF_DATASETS", "12"))


def _sdist_archive() -> Path | None:
    where = os.environ.get(SDIST_VARIABLE, "").strip()
    if not where:
        return None
    path = Path(where)
    if path.is_dir() and not (path / "test" / "data").is_dir():
        found = sorted(path.glob("crds-*.tar.gz"))
        return found[-1] if found else None
    return path if path.exists() else None


def _sdist_rmaps() -> list[tuple[str, str]]:
    """The JWST and Roman rmaps of the sdist's test/data, by name.

    Its HST rmaps are left out: they rely on HST-only plugins (see the
    exceptions above), and JWST, Roman and TMT mappings use none."""
    archive = _sdist_archive()
    if archive is None:
        return []
    found = []
    if archive.is_dir():
        for path in sorted((archive / "test" / "data").glob("*/*.rmap")):
            if path.parent.name != "hst":
                found.append((path.parent.name + "/" + path.name, path.read_text()))
        return found
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            folders = member.name.split("/")
            if (
                member.isfile()
                and member.name.endswith(".rmap")
                and folders[-4:-2] == ["test", "data"]
                and folders[-2] != "hst"
            ):
                text = tar.extractfile(member).read().decode("utf-8")
                found.append((f"{folders[-2]}/{folders[-1]}", text))
    return sorted(found)


def _test_mappings() -> list[tuple[str, str]]:
    sdist = [(f"sdist/{name}", text) for name, text in _sdist_rmaps()]
    vendored = [
        (f"crds-cache-test/{path.parent.name}/{path.name}", path)
        for path in sorted(CACHE_TEST.glob("*/*.rmap"))
    ]
    return sdist + vendored


TEST_MAPPINGS = _test_mappings()


def test_crds_sdist_test_data_is_present():
    """Without the sdist the differential runs on the vendored mappings
    only: say so (a skip -ra prints), and fail under CI."""
    archive = _sdist_archive()
    if archive is None:
        reason = (
            f"{SDIST_VARIABLE} names no crds 14.0.3 sdist: the differential test "
            "skips the crds package's own test/data rmaps (get them with 'pip "
            "download --no-deps --no-binary :all: crds==14.0.3 -d DIR' and set "
            f"{SDIST_VARIABLE}=DIR)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert len(_sdist_rmaps()) == 7, "the sdist's JWST and Roman test rmaps"


def test_crds_cache_test_mappings_are_vendored():
    names = {name for name, _ in TEST_MAPPINGS if name.startswith("crds-cache")}
    assert len(names) == 1259
    assert "crds-cache-test/tobs/tobs_tinstr_tfilekind.rmap" in names


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "source"), TEST_MAPPINGS, ids=[name for name, _ in TEST_MAPPINGS]
)
def test_crds_test_mappings_choose_as_stock_crds(stock, name, source):
    import crds.core.rmap

    text = source if isinstance(source, str) else source.read_text(encoding="utf-8")
    try:
        stock_rmap = crds.core.rmap.ReferenceMapping.from_string(
            text, "oracle.rmap", ignore_checksum=True
        )
    except Exception:
        stock_rmap = None
    try:
        ours = mapping_from_text(text, "oracle.rmap", verify=False)
    except MappingError as exc:
        ours = None
        refusal = str(exc)
    # The stock client's own test data holds rmaps it refuses on purpose.
    if stock_rmap is None:
        assert ours is None, "the stock client refuses this rmap; irisdq reads it"
        return
    assert ours is not None, f"irisdq refuses an rmap the stock client reads: {refusal}"
    for header in _shipped_datasets(Path(name), stock_rmap, DATASETS_PER_RMAP):
        assert_same(text, header, stock_rmap, ours)


MIRI_SLITLESS = {
    DET: "MIRIMAGE",
    "META.INSTRUMENT.FILTER": "F1000W",
    "META.INSTRUMENT.BAND": "N/A",
    "META.EXPOSURE.READPATT": "FAST",
    SUB: "SLITLESSPRISM",
}


@pytest.mark.parametrize(
    ("name", "header", "expected"),
    [
        # A UseAfter key written with 'T' is compared as text: every moment
        # of its day is before it ('2013-09-26 05:00:01' < '2013-09-26T05').
        (
            "jwst/jwst_miri_flat_0021.rmap",
            {
                "META.INSTRUMENT.DETECTOR": "MIRIMAGE",
                "META.INSTRUMENT.FILTER": "F560W",
                "META.INSTRUMENT.BAND": "N/A",
                "META.EXPOSURE.READPATT": "FAST",
                "META.SUBARRAY.NAME": "SLITLESSPRISM",
                "META.OBSERVATION.DATE": "2013-09-26",
                "META.OBSERVATION.TIME": "05:00:01",
            },
            "jwst_miri_flat_0014.fits",
        ),
        # A parameter the dataset lacks, and no N/A key of it: no match.
        ("jwst/jwst_fgs_amplifier_0000.rmap", {DET: "FGS2"}, NO_MATCH),
        (
            "jwst/jwst_miri_area_0004.rmap",
            {
                DET: "MIRIMAGE",
                "META.INSTRUMENT.FILTER": "F560W",
                DATE: "2016-01-01",
                TIME: "00:00:00",
            },
            NO_MATCH,
        ),
        (
            "roman/roman_wfi_distortion_0001.rmap",
            {
                "ROMAN.META.INSTRUMENT.DETECTOR": "WFI01",
                "ROMAN.META.INSTRUMENT.OPTICAL_ELEMENT": "F062",
                "ROMAN.META.EXPOSURE.START_TIME": "2020-01-01",
            },
            NO_MATCH,
        ),
        # A full ISO date with no time parameter, in a JWST rmap.
        (
            "jwst/jwst_fgs_dark_0004.rmap",
            {DET: "GUIDER2", SUB: "FULL", DATE: "2014-11-04T09:06:48"},
            NO_MATCH,
        ),
        # Loaded as the stock client loads them: one moment written as two
        # keys (both kept, compared as text), a table of files as a choice.
        (
            "jwst/jwst_miri_flat_0022.rmap",
            {**MIRI_SLITLESS, DATE: "2013-09-26", TIME: "12:00:00"},
            "jwst_miri_flat_0116.fits",
        ),
        (
            "jwst/jwst_miri_flat_0022.rmap",
            {**MIRI_SLITLESS, DATE: "2013-09-27", TIME: "00:00:00"},
            "jwst_miri_flat_0073.fits",
        ),
        (
            "sdist/roman/roman_wfi_flat_0004_duplicate.rmap",
            {
                "ROMAN.META.INSTRUMENT.DETECTOR": "WFI01",
                "ROMAN.META.INSTRUMENT.OPTICAL_ELEMENT": "F158",
                "ROMAN.META.EXPOSURE.START_TIME": "2021-01-01 00:00:00",
            },
            "roman_wfi_flat_0003.asdf",
        ),
        (
            "tobs/tobs_tinstr_tfilekind.rmap",
            {"TEST_CASE": "USE_AFTER", "PARAMETER": "2004-04-25 21:31:02"},
            {"foo": "foo_bia1.fits", "bar": "bar_bia2.fits"},
        ),
    ],
)
def test_crds_test_mapping_cases(stock, name, header, expected):
    if name.startswith("sdist/"):
        text = dict(_sdist_rmaps()).get(name[len("sdist/") :])
        if text is None:
            pytest.skip(f"{SDIST_VARIABLE} names no crds sdist")
    else:
        text = (CACHE_TEST / name).read_text(encoding="utf-8")
    theirs = stock_answer(text, header)
    if expected is not None:
        assert theirs == expected
    assert irisdq_answer(text, header) == theirs


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
