"""The layers of DESIGN.md, checked: what each layer may load."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["irisdq.dq_init.core", "irisdq.dq_init.plan", "irisdq.crds", "irisdq.dqflags"],
)
def test_pure_layers_load_no_fits(module):
    """The algorithms and CRDS selection take arrays and keywords: importing
    them loads neither astropy nor irisdq's FITS layer."""
    code = (
        f"import sys, {module}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'astropy'\n"
        "             or m.startswith('irisdq.datamodels')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_selection_loads_no_cache_administration(tmp_path):
    """A selection from a loaded context, explained, loads neither the
    cache administration (irisdq.crds.admin: check, checksum rewriting,
    delivery) nor astropy."""
    mask = tmp_path / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    mask.parent.mkdir(parents=True)
    mask.write_bytes(b"")
    code = (
        "import sys, irisdq.crds\n"
        "header = {'INSTRUME': 'IRIS', 'DETECTOR': 'IRIS1', 'SUBARRAY': 'FULL',\n"
        "          'DATE-OBS': '2020-07-13', 'TIME-OBS': '00:00:00'}\n"
        "context = irisdq.crds.get_context()\n"
        "print(context.bestref(header, 'mask'))\n"
        "print(irisdq.crds.bestref(header, 'mask'))\n"
        "irisdq.crds.select_reference(header, 'mask').explain()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'astropy'\n"
        "             or m.startswith(('irisdq.crds.admin', 'irisdq.datamodels'))))\n"
    )
    env = {**os.environ, "CRDS_PATH": str(tmp_path)}
    for variable in ("CRDS_CONTEXT", "CRDS_OBSERVATORY", "IRISDQ_CRDS_LINK_ROOTS"):
        env.pop(variable, None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert done.stdout.splitlines() == [str(mask), str(mask), "[]"]


def test_step_has_no_fits_code():
    """The step puts CRDS, the plan and the data models together; FITS
    streaming lives in irisdq.datamodels."""
    from pathlib import Path

    import irisdq.dq_init.step as step

    text = Path(step.__file__).read_text()
    for word in ("astropy", "fits.", "preadv", "BZERO", "open("):
        assert word not in text, word


def test_dq_init_loads_neither_astropy_tables_nor_asdf(tmp_path):
    """A dq-init run on a raw ramp with a mask irisdq wrote compares the
    mask's DQ_DEF with the pipeline's without astropy's tables (whose import,
    with the io registry's entry points, costs 0.15 s a process) and writes
    the new ramp's tree without asdf (where asdf >= 4 writes the standard
    irisdq writes itself; an older asdf writes the tree)."""
    from builders import write_full_frame_ramp, write_mask
    from irisdq.datamodels import asdf_tree

    expected = [] if asdf_tree._asdf_writes_standard() == (1, 6) else ["asdf"]

    ramp = write_full_frame_ramp(tmp_path / "raw_uncal.fits")
    mask = write_mask(tmp_path / "mask.fits")
    code = (
        "import sys\n"
        "from irisdq.cli.main import main\n"
        f"status = main(['dq-init', {str(ramp)!r}, '--override-mask', "
        f"{str(mask)!r}, '--output-dir', {str(tmp_path / 'out')!r}])\n"
        "print(status, sorted(m for m in sys.modules\n"
        "                     if m in ('astropy.table', 'asdf', 'asdf_astropy')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == f"0 {expected}"
    assert (tmp_path / "out" / "raw_dqinit.fits").exists()
