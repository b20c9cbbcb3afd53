"""The layers of DESIGN.md, checked: what each layer may load."""

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


def test_step_has_no_fits_code():
    """The step puts CRDS, the plan and the data models together; FITS
    streaming lives in irisdq.datamodels."""
    from pathlib import Path

    import irisdq.dq_init.step as step

    text = Path(step.__file__).read_text()
    for word in ("astropy", "fits.", "preadv", "BZERO", "open("):
        assert word not in text, word
