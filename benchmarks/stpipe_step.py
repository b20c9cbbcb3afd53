"""Benchmark of the stpipe step (``strun irisdq::dq_init``) beside ``irisdq dq-init``.

Run by hand (needs ``pip install "irisdq[stpipe]"``)::

    python benchmarks/stpipe_step.py [--repeat N] [--dir DIR]

On the raw ramp of ``benchmarks/dq_init.py`` (1 x 10 x 4096 x 4096 float32,
no DQ arrays) and its full-frame mask given as the override, the two
commands run alternately, each in its own process, medians of N runs:

- wall time of ``strun irisdq::dq_init RAMP --override_mask=MASK
  --output_dir=OUT`` against ``irisdq dq-init RAMP --override-mask MASK
  --output-dir OUT``; target: strun within about 1.5x;
- peak resident memory of each; target: strun within 300 MiB (SCI is
  streamed, never loaded).

Each command deletes its own previous output before it runs, and both
outputs are compared (their DQ arrays must be identical).
"""

import argparse
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from astropy.io import fits

MIB = 2**20


def _dq_init_benchmark():
    """The helpers of benchmarks/dq_init.py (ramp and mask writers, runner)."""
    path = Path(__file__).with_name("dq_init.py")
    spec = importlib.util.spec_from_file_location("dq_init_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    # The script beside this interpreter, not a shim found on PATH.
    strun = Path(sys.executable).parent / "strun"
    if not strun.is_file():
        strun = shutil.which("strun")
    if strun is None:
        sys.exit('strun not found: pip install "irisdq[stpipe]"')
    bench = _dq_init_benchmark()
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        folder = Path(name)
        ramp, mask = folder / "raw_uncal.fits", folder / "mask.fits"
        bench.write_ramp(ramp, 10)
        bench.write_mask(mask)
        outputs = {"irisdq": folder / "out_irisdq", "strun": folder / "out_strun"}
        commands = {
            "irisdq": [
                *bench.irisdq_command(),
                "dq-init",
                str(ramp),
                "--override-mask",
                str(mask),
                "--output-dir",
                str(outputs["irisdq"]),
            ],
            "strun": [
                str(strun),
                "irisdq::dq_init",
                str(ramp),
                f"--override_mask={mask}",
                f"--output_dir={outputs['strun']}",
            ],
        }
        runs = {"irisdq": [], "strun": []}
        for _ in range(args.repeat):
            for label in ("irisdq", "strun"):  # alternated
                bench.remove(outputs[label])
                outputs[label].mkdir()
                bench.sync()
                runs[label].append(bench.run(commands[label]))
        results = {
            label: fits.getdata(outputs[label] / "raw_dqinit.fits", "PIXELDQ")
            for label in runs
        }
        same = np.array_equal(results["irisdq"], results["strun"])
        groups = {
            label: fits.getdata(outputs[label] / "raw_dqinit.fits", "GROUPDQ")
            for label in runs
        }
        same &= np.array_equal(groups["irisdq"], groups["strun"])
    wall = {label: bench.median([r.wall for r in runs[label]]) for label in runs}
    rss = {label: max(r.maxrss for r in runs[label]) for label in runs}
    print(f"python {sys.version.split()[0]}; ramp 1 x 10 x 4096 x 4096 float32")
    print(f"medians of {args.repeat} runs, alternated")
    print(
        f"  irisdq dq-init            {wall['irisdq']:.3f} s "
        f"({bench.spread(runs['irisdq'])})  peak {rss['irisdq'] / MIB:.0f} MiB"
    )
    print(
        f"  strun irisdq::dq_init     {wall['strun']:.3f} s "
        f"({bench.spread(runs['strun'])})  peak {rss['strun'] / MIB:.0f} MiB"
    )
    print(
        f"  strun / irisdq: {wall['strun'] / wall['irisdq']:.2f}x wall "
        f"(target ~1.5x), peak {rss['strun'] / MIB / 300:.2f}x the 300 MiB target"
    )
    print(f"  PIXELDQ and GROUPDQ identical: {bool(same)}")


if __name__ == "__main__":
    main()
