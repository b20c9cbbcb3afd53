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
  streamed, never loaded);
- the same two commands on a 16 x 16 ramp: what each costs before any
  data moves (start-up, imports, configuration), also alternated. On a
  virtual machine whose file copies vary several-fold from run to run, the
  difference of these fixed costs says more than the ratio of two noisy
  walls: the streamed work itself is the same code in both.

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


def _write_tiny(ramp: Path, mask: Path, bench) -> None:
    """A 1 x 2 x 16 x 16 ramp and a 16 x 16 CUSTOM mask at (1, 1)."""
    primary = fits.PrimaryHDU()
    primary.header.update(bench.HEADER)
    primary.header.update({"SUBARRAY": "CUSTOM", "SUBSTRT1": 1, "SUBSTRT2": 1})
    sci = fits.ImageHDU(np.ones((1, 2, 16, 16), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(ramp)
    from irisdq.datamodels import TMTMaskModel

    model = TMTMaskModel()
    model.meta.instrument.name, model.meta.instrument.detector = "IRIS", "IRIS1"
    model.meta.subarray.name = "CUSTOM"
    model.dq = np.zeros((16, 16), np.uint32)
    model.write(mask)


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
        tiny_ramp, tiny_mask = folder / "tiny_uncal.fits", folder / "tiny_mask.fits"
        _write_tiny(tiny_ramp, tiny_mask, bench)
        tiny_commands = {
            label: [str(tiny_ramp) if part == str(ramp) else part for part in command]
            for label, command in commands.items()
        }
        tiny_commands["irisdq"][tiny_commands["irisdq"].index(str(mask))] = str(
            tiny_mask
        )
        tiny_commands["strun"] = [
            f"--override_mask={tiny_mask}" if part.startswith("--override_mask")
            else part
            for part in tiny_commands["strun"]
        ]  # fmt: skip
        tiny = {"irisdq": [], "strun": []}
        for _ in range(args.repeat):
            for label in ("irisdq", "strun"):
                bench.remove(outputs[label])
                outputs[label].mkdir()
                tiny[label].append(bench.run(tiny_commands[label]).wall)
        bench.remove(outputs["irisdq"], outputs["strun"])
        for label in ("irisdq", "strun"):
            outputs[label].mkdir()
            bench.run(commands[label])
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
    fixed = {label: bench.median(tiny[label]) for label in tiny}
    added = fixed["strun"] - fixed["irisdq"]
    print(
        f"  16 x 16 ramp (fixed costs): irisdq {fixed['irisdq']:.3f} s, "
        f"strun {fixed['strun']:.3f} s: strun adds "
        f"{added:.3f} s; with it, the 4096 ramp would take "
        f"{(wall['irisdq'] + added) / wall['irisdq']:.2f}x"
    )
    print(f"  PIXELDQ and GROUPDQ identical: {bool(same)}")


if __name__ == "__main__":
    main()
