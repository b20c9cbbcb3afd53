"""README.md and the documentation's Markdown pages: the examples marked
``<!-- checked -->`` print what they show.

The documents are README.md (the newcomer's page) and every
``docs/**/*.md`` page (the Sphinx site).

A console block after ``<!-- checked -->`` or ``<!-- checked: SETUP -->``
is run command by command (``$ irisdq ...``; a ``# comment`` is dropped)
in a temporary folder prepared by SETUP; the lines after a command are
what it must print (stdout, then stderr), paths normalized: the test's
home folder reads ``/home/astro``; a line ``...`` stands for any lines.
A command shown without output must succeed. A checked Python block is
run as it is, in the README's order.
"""

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from builders import (
    write_foreign_mask,
    write_full_frame_ramp,
    write_liger_ramp,
    write_mask,
    write_observatory_cache,
)
from irisdq.cli.main import main
from irisdq.dqflags import pixel

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("**/*.md"))]
_BLOCK = re.compile(
    r"^<!-- checked(?:: (?P<setup>[\w-]+))? -->\n```(?P<kind>\w+)\n(?P<body>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def checked_blocks(
    kind: str, documents: list[Path] = DOCUMENTS
) -> list[tuple[str | None, str]]:
    """The checked blocks of ``kind`` in ``documents``: (setup, text), a
    block shown in several documents (README and a page of the site) once."""
    blocks = [(setup, body) for _, setup, body in _located_blocks(kind, documents)]
    return list(dict.fromkeys(blocks))


def _located_blocks(
    kind: str, documents: list[Path] = DOCUMENTS
) -> list[tuple[str, str | None, str]]:
    """The checked blocks of ``kind``: (document, setup, text), in order."""
    return [
        (str(document.relative_to(ROOT)), found["setup"], found["body"])
        for document in documents
        for found in _BLOCK.finditer(document.read_text(encoding="utf-8"))
        if found["kind"] == kind
    ]


def commands(body: str) -> list[tuple[str, list[str]]]:
    """A console block's commands, each with the lines it prints."""
    runs: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            runs.append((line[2:], []))
        else:
            runs[-1][1].append(line)
    return runs


def test_the_readme_has_checked_blocks():
    assert {setup for setup, _ in checked_blocks("console")} >= {
        "liger",
        None,
        "seed",
        "crds",
        "delivery",
    }
    assert {setup for setup, _ in checked_blocks("python")} == {
        "jwst-offline",
        "slurm",
        "mask-recipe",
        "mask-recipe-fixed",
    }
    # The README's first run and the site's pages are checked.
    documents = {document for document, _, _ in _located_blocks("console")}
    assert {"README.md", "docs/crds.md", "docs/masks.md"} <= documents


def test_a_python_setup_block_says_the_same_everywhere():
    """A recipe shown on several pages is one recipe: the setups run it."""
    seen: dict[str, str] = {}
    for document, setup, body in _located_blocks("python"):
        assert seen.setdefault(setup, body) == body, f"{document}: {setup}"


# Blocks that start Dask processes or submit jobs, run by
# tests/cli/test_dq_init_batch.py with real scheduler and worker processes.
CLUSTER_SETUPS = ("scheduler", "slurm")


def _python_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for setup, body in checked_blocks("python"):
        blocks.setdefault(setup, body)
    return blocks


def setup_seed(folder: Path) -> None:
    """The seed's story: the README's corrected mask recipe in
    ~/crds_cache, and a raw full-frame ramp."""
    namespace: dict = {}
    blocks = _python_blocks()
    exec(blocks["mask-recipe"], namespace)
    exec(blocks["mask-recipe-fixed"], namespace)
    write_full_frame_ramp(folder / "iris_0001_uncal.fits", shape=(1, 1, 4096, 4096))


def setup_crds(folder: Path) -> None:
    """A mask in ~/crds_cache and the header of a raw full-frame ramp of
    2020-07-13 00:00:00."""
    references = Path.home() / "crds_cache/references/tmt/iris"
    references.mkdir(parents=True)
    write_mask(references / "tmt_iris_mask_0001.fits")
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "FULL",
            "DATE-OBS": "2020-07-13",
            "TIME-OBS": "00:00:00",
        }
    )
    primary.writeto(folder / "raw_uncal.fits")


def setup_liger(folder: Path) -> None:
    """A ligeriri cache in ~/crds_cache with a Liger dq reference (DEAD +
    DO_NOT_USE, HOT and NONLINEAR pixels) and a Liger raw ramp."""
    parkey = (("META.INSTRUMENT.DETECTOR",), ("META.DATE",))
    rules = "Match({\n    ('IMG',) : UseAfter({\n        '2025-01-01 00:00:00' : "
    rules += "'ligeriri_liger_dq_0001.fits',\n    }),\n})"
    references = write_observatory_cache(
        Path.home() / "crds_cache", "ligeriri", "liger", "dq", parkey, rules
    )
    dq = np.zeros((8, 8), dtype=np.uint32)
    dq[3, 7] = pixel.DEAD | pixel.DO_NOT_USE
    dq[5, 2] = pixel.HOT
    dq[6, 6] = pixel.NONLINEAR
    rows = [(0, 1, "DO_NOT_USE", ""), (10, 1024, "DEAD", ""), (11, 2048, "HOT", "")]
    rows.append((16, 65536, "NONLINEAR", ""))
    write_foreign_mask(
        references / "ligeriri_liger_dq_0001.fits",
        dq,
        rows,
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    write_liger_ramp(folder / "liger_raw.fits", 8, 8, 3, 2)


def setup_delivery(folder: Path) -> None:
    """The shipped context and its 2015 mask in ~/crds_cache, and a CUSTOM
    16x16 subarray ramp of 2026-03-14 at column 11, row 31 (1-based)."""
    from builders import write_shipped_cache

    write_shipped_cache(Path.home() / "crds_cache")
    write_full_frame_ramp(folder / "sub_2026_uncal.fits")
    with fits.open(folder / "sub_2026_uncal.fits", mode="update") as hdus:
        hdus[0].header.update(
            {
                "SUBARRAY": "CUSTOM",
                "SUBSTRT1": 11,
                "SUBSTRT2": 31,
                "SUBSIZE1": 16,
                "SUBSIZE2": 16,
                "DATE-OBS": "2026-03-14",
            }
        )


def setup_first_run(folder: Path) -> None:
    """The newcomer's first run: an empty ~/crds_cache and a raw IRIS1
    full-frame ramp taken on 2026-03-01."""
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "DATAMODL": "RampModel",
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "FULL",
            "DATE-OBS": "2026-03-01",
            "TIME-OBS": "01:02:03",
        }
    )
    sci = fits.ImageHDU(np.ones((1, 1, 4096, 4096), dtype=np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(folder / "iris_0001_uncal.fits")


SETUPS = {
    None: lambda folder: None,
    "first-run": setup_first_run,
    "seed": setup_seed,
    "crds": setup_crds,
    "liger": setup_liger,
    "delivery": setup_delivery,
}


@pytest.mark.parametrize(
    ("document", "setup", "body"),
    [block for block in _located_blocks("console") if block[1] not in CLUSTER_SETUPS],
    ids=lambda value: value if isinstance(value, str) and "\n" not in value else "",
)
def test_console_examples_print_what_the_readme_shows(
    document, setup, body, tmp_path, home, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    SETUPS[setup](tmp_path)
    for command, expected in commands(body):
        argv = shlex.split(command, comments=True)
        assert argv[0] == "irisdq", command
        capsys.readouterr()
        code = main(argv[1:])
        captured = capsys.readouterr()
        printed = (captured.out + captured.err).replace(str(home), "/home/astro")
        assert code == 0, f"{command}: {printed}"
        if expected:
            assert_prints(printed.splitlines(), expected, command)


def assert_prints(lines: list[str], expected: list[str], command: str) -> None:
    """``lines`` are ``expected``, where a line ``...`` stands for any lines
    (values that vary, such as the author)."""
    pattern = "".join(
        "(?:.*\n)*?" if line == "..." else re.escape(line) + "\n" for line in expected
    )
    text = "".join(line + "\n" for line in lines)
    assert re.fullmatch(pattern, text), f"{command}:\n{text}"


def test_the_verbatim_mask_recipe_flags_whole_rows(home):
    """What the README says of the JWST recipe as it is: whole rows, and
    no DO_NOT_USE (so GROUPDQ would stay zero)."""
    namespace: dict = {}
    exec(_python_blocks()["mask-recipe"], namespace)
    path = home / "crds_cache/references/tmt/iris/tmt_iris_mask_0001.fits"
    with fits.open(path) as hdus:
        dq = hdus["DQ"].data
    flagged_rows = np.flatnonzero(dq.any(axis=1))
    assert 1 <= len(flagged_rows) <= 40  # up to 20 dead, 20 hot
    assert (dq[flagged_rows] != 0).all()  # every pixel of those rows
    assert not (dq & 1).any()  # no DO_NOT_USE


@pytest.mark.slow
def test_the_seed_story_groupdq_gets_do_not_use(tmp_path, monkeypatch):
    """The corrected recipe: GROUPDQ has DO_NOT_USE on the 10 dead pixels."""
    monkeypatch.chdir(tmp_path)
    setup_seed(tmp_path)
    assert main(["dq-init", "iris_0001_uncal.fits"]) == 0
    with fits.open(tmp_path / "iris_0001_dqinit.fits") as hdus:
        groupdq = hdus["GROUPDQ"].data
    assert np.count_nonzero(groupdq) == 10
    assert set(np.unique(groupdq)) == {0, 1}
