"""Benchmark of the DQ initialization step against a file copy and jwst.

Run by hand::

    python benchmarks/dq_init.py [--repeat N] [--dir DIR]
                                 [--jwst-python /path/to/venv/bin/python]

On a raw ramp of 1 integration x 10 groups x 4096 x 4096 (SCI float32, no
PIXELDQ or GROUPDQ) whose full-frame mask is chosen through CRDS from a
temporary cache, measured side by side, medians of N runs:

- wall time of ``irisdq dq-init RAMP --output-dir OUT --overwrite`` against
  ``python -c "import irisdq"`` plus twice ``cp RAMP COPY``; target:
  irisdq <= t_import + 2 * t_cp. Shown beside it: the import of
  astropy.io.fits, which the command needs and ``import irisdq`` does not
  load, and the step alone in an interpreter that has imported it;
- peak resident memory of that process, with 10 and with 40 groups; target:
  <= 300 MiB for both (memory does not grow with groups);
- ``DQInit.call(RAMP, inplace=True)`` timed inside an interpreter that
  has already imported irisdq, on a fresh copy of the raw ramp each time (the
  realistic first run, which appends PIXELDQ and GROUPDQ); target: < 0.5 s.
  A second run on the same file (DQ arrays already there, rewritten) is
  shown too;
- the peer: the jwst package's ``DQInitStep`` on a JWST ``RampModel`` of the
  same dimensions with an override ``MaskModel``, run by the Python of a
  separate environment where jwst is installed (``--jwst-python`` or
  ``$IRISDQ_BENCH_JWST_PYTHON``); targets: irisdq at least 3.5x faster and at
  most a third of jwst's peak memory. Skipped when no such Python is given.

Each measured command runs under a small wrapper interpreter that spawns it,
waits for it with ``os.wait4`` and reports its wall time and peak resident
set size (floor: the wrapper's ~10 MiB). Files written by one run are deleted and
the dirty pages flushed (``sync``, untimed) before the next, so that no run
pays for the previous one's write-back.
"""

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from astropy.io import fits

from _harness import (
    JWST_PYTHON_VARIABLE,
    MIB,
    irisdq_command,
    jwst_environment,
    median,
    remove,
    run,
    spread,
    sync,
)

NY = NX = 4096
HEADER = {
    "DATAMODL": "RampModel",
    "TELESCOP": "TMT",
    "INSTRUME": "IRIS",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2020-07-13",
    "TIME-OBS": "00:00:00",
}


def write_ramp(path: Path, ngroups: int, nints: int = 1) -> None:
    """Write a raw IRIS ramp one group plane at a time (64 MiB in memory)."""
    primary = fits.Header()
    primary["SIMPLE"], primary["BITPIX"], primary["NAXIS"] = True, 8, 0
    primary["EXTEND"] = True
    primary.update(HEADER)
    primary["NINTS"], primary["NGROUPS"] = nints, ngroups
    sci = fits.Header()
    sci["XTENSION"], sci["BITPIX"], sci["NAXIS"] = "IMAGE", -32, 4
    sci["NAXIS1"], sci["NAXIS2"], sci["NAXIS3"], sci["NAXIS4"] = NX, NY, ngroups, nints
    sci["PCOUNT"], sci["GCOUNT"], sci["EXTNAME"] = 0, 1, "SCI"
    # Real counts, not zeros: a file of holes would make cp unfairly fast.
    rng = np.random.default_rng(1)
    plane = rng.normal(1000.0, 10.0, (NY, NX)).astype(">f4")
    with open(path, "wb") as stream:
        stream.write(primary.tostring().encode())
        stream.write(sci.tostring().encode())
        for _ in range(nints):
            for _ in range(ngroups):
                plane += np.float32(50.0)
                stream.write(plane.data)
        # NY * NX * 4 is a multiple of 2880 only by luck: pad the data unit.
        stream.write(b"\0" * (-stream.tell() % 2880))


def write_mask(path: Path) -> np.ndarray:
    from irisdq.datamodels import TMTMaskModel

    rng = np.random.default_rng(0)
    mask = TMTMaskModel()
    mask.meta.instrument.name = "IRIS"
    mask.meta.instrument.detector = "IRIS1"
    dq = np.zeros((NY, NX), dtype=np.uint32)
    dq[rng.integers(0, NY, 20_000), rng.integers(0, NX, 20_000)] |= 1024 | 1  # DEAD
    dq[rng.integers(0, NY, 20_000), rng.integers(0, NX, 20_000)] |= 2048  # HOT
    mask.dq = dq
    mask.write(path)
    return dq


def check_selection(ramp: Path, mask: Path, env: dict) -> None:
    explain = run(
        [*irisdq_command(), "crds", "bestref", str(ramp), "--reftype", "mask",
         "--explain"],
        env=env,
    ).stdout  # fmt: skip
    if str(mask) not in explain:
        raise RuntimeError(f"CRDS did not select {mask}:\n{explain}")


def check_output(output: Path, dq: np.ndarray) -> None:
    from irisdq import datamodels

    with datamodels.open(output) as ramp:
        keywords = ramp.get_fits_keywords()
        assert np.array_equal(ramp.pixeldq, dq), "PIXELDQ differs from the mask"
        assert np.array_equal(ramp.groupdq[0, -1], (dq & 1).astype(np.uint8))
    status = keywords.get("S_DQINIT")
    assert status == "COMPLETE", f"S_DQINIT = {status!r}"


# The step's own work, timed inside an interpreter that has imported
# irisdq.dq_init (numpy and astropy.io.fits with it): "STEP_PROBE RAMP OUT"
# writes into the folder OUT, "STEP_PROBE RAMP" works in place.
STEP_PROBE = """
import sys, time
from irisdq.dq_init import DQInit
if len(sys.argv) > 2:
    params = {"output_dir": sys.argv[2], "overwrite": True}
else:
    params = {"inplace": True}
start = time.perf_counter()
DQInit.call(sys.argv[1], **params)
print(time.perf_counter() - start)
"""


def irisdq_figures(folder: Path, repeat: int) -> dict:
    """Measure irisdq, cp and the import floor; return the figures."""
    cache = folder / "crds_cache"
    mask = cache / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    dq = write_mask(mask)
    env = dict(os.environ, CRDS_PATH=str(cache))
    # PYTHONDONTWRITEBYTECODE would make every run compile irisdq's modules
    # again (an editable install has no bytecode until a run writes it);
    # a user's installed irisdq has its bytecode.
    for variable in ("CRDS_CONTEXT", "CRDS_SERVER_URL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(variable, None)
    figures: dict = {}
    ramp, copy, out = folder / "ramp.fits", folder / "copy.fits", folder / "out"
    write_ramp(ramp, 10)
    figures["size"] = ramp.stat().st_size
    check_selection(ramp, mask, env)
    dq_init = [*irisdq_command(), "dq-init", str(ramp), "--output-dir", str(out),
               "--overwrite"]  # fmt: skip
    import_irisdq = [sys.executable, "-c", "import irisdq"]
    # Not part of the target: what the command needs to read FITS headers.
    import_fits = [sys.executable, "-c", "import astropy.io.fits"]
    copy_command = ["cp", str(ramp), str(copy)]

    # Interleaved, so that a change in machine load hits all three alike.
    irisdq_runs, import_runs, cp_runs, fits_runs, step_runs = [], [], [], [], []
    run(dq_init, env)  # warm the page cache and the bytecode
    # Each command first deletes its own previous output, so both write into
    # memory freed the same way (on this virtual machine, pages that have
    # been handed back to the host are several times slower to fill).
    for _ in range(repeat):
        remove(copy)
        sync()
        cp_runs.append(run(copy_command, env))
        import_runs.append(run(import_irisdq, env))
        fits_runs.append(run(import_fits, env))
        remove(out)
        sync()
        irisdq_runs.append(run(dq_init, env))
        remove(out)
        sync()
        probe = [sys.executable, "-c", STEP_PROBE, str(ramp), str(out)]
        step_runs.append(run(probe, env))
    (output,) = out.glob("*.fits")
    check_output(output, dq)
    figures["output"] = output.name
    figures["irisdq"] = median(r.wall for r in irisdq_runs)
    figures["irisdq_range"] = spread(irisdq_runs)
    figures["cp_range"] = spread(cp_runs)
    figures["irisdq_rss"] = max(r.maxrss for r in irisdq_runs)
    figures["import"] = median(r.wall for r in import_runs)
    figures["import_rss"] = max(r.maxrss for r in import_runs)
    figures["import_fits"] = median(r.wall for r in fits_runs)
    figures["step"] = median(float(r.stdout) for r in step_runs)
    figures["cp"] = median(r.wall for r in cp_runs)
    remove(copy, out)

    # In place, each call the first of a fresh interpreter that has imported
    # irisdq.dq_init. First on a raw copy (PIXELDQ and GROUPDQ appended), then
    # again on that file (the DQ arrays are there and rewritten).
    target = folder / "inplace.fits"
    first, again = [], []
    for _ in range(repeat):
        remove(target)
        shutil.copyfile(ramp, target)
        sync()
        first.append(run([sys.executable, "-c", STEP_PROBE, str(target)], env))
        sync()
        again.append(run([sys.executable, "-c", STEP_PROBE, str(target)], env))
    check_output(target, dq)
    figures["inplace_first"] = median(float(r.stdout) for r in first)
    figures["inplace_again"] = median(float(r.stdout) for r in again)
    figures["inplace_rss"] = max(r.maxrss for r in first + again)
    remove(target, ramp)

    # 40 groups: same command, memory must not grow.
    ramp40 = folder / "ramp40.fits"
    write_ramp(ramp40, 40)
    figures["size40"] = ramp40.stat().st_size
    dq_init40 = [*irisdq_command(), "dq-init", str(ramp40), "--output-dir",
                 str(out), "--overwrite"]  # fmt: skip
    runs40, cp40 = [], []
    for _ in range(max(1, repeat // 2)):
        remove(copy)
        sync()
        cp40.append(run(["cp", str(ramp40), str(copy)], env))
        remove(out)
        sync()
        runs40.append(run(dq_init40, env))
    figures["irisdq40"] = median(r.wall for r in runs40)
    figures["irisdq40_rss"] = max(r.maxrss for r in runs40)
    figures["cp40"] = median(r.wall for r in cp40)
    remove(copy, out, ramp40)
    return figures


# Run by the jwst environment's Python: "make FOLDER" writes the ramp and the
# mask, "run RAMP MASK OUT" runs the step and prints the time of the call.
JWST_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np

    NY = NX = 4096
    SUBARRAY = dict(name="FULL", xstart=1, ystart=1, xsize=NX, ysize=NY)

    def describe(model):
        model.meta.telescope = "JWST"
        model.meta.instrument.name = "NIRCAM"
        model.meta.instrument.detector = "NRCA1"
        model.meta.instrument.channel = "SHORT"
        model.meta.instrument.module = "A"
        model.meta.exposure.type = "NRC_IMAGE"
        for key, value in SUBARRAY.items():
            setattr(model.meta.subarray, key, value)

    def make(folder, ngroups):
        from stdatamodels.jwst import datamodels

        # stdatamodels' RampModel always creates and saves PIXELDQ and
        # GROUPDQ (zeros), so the jwst input has them, unlike the irisdq one.
        rng = np.random.default_rng(1)
        data = np.empty((1, ngroups, NY, NX), dtype=np.float32)
        plane = rng.normal(1000.0, 10.0, (NY, NX)).astype(np.float32)
        for group in range(ngroups):
            plane += np.float32(50.0)
            data[0, group] = plane
        ramp = datamodels.RampModel(data=data)
        describe(ramp)
        ramp.meta.observation.date = "2020-07-13"
        ramp.meta.observation.time = "00:00:00"
        ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = 1, ngroups
        ramp.meta.exposure.readpatt = "RAPID"
        ramp.save(f"{folder}/jw_ramp_uncal.fits")
        del data, ramp

        dq = np.zeros((NY, NX), dtype=np.uint32)
        dq[rng.integers(0, NY, 20_000), rng.integers(0, NX, 20_000)] |= 1024 | 1
        dq[rng.integers(0, NY, 20_000), rng.integers(0, NX, 20_000)] |= 2048
        mask = datamodels.MaskModel(dq=dq)
        describe(mask)
        mask.meta.reftype = "MASK"
        mask.meta.author = "irisdq benchmark"
        mask.meta.description = "benchmark mask"
        mask.meta.pedigree = "DUMMY"
        mask.meta.useafter = "2015-10-01T00:00:00"
        mask.save(f"{folder}/jw_mask.fits")

    def call(ramp, mask, out):
        start = time.perf_counter()
        from jwst.dq_init import DQInitStep
        imported = time.perf_counter()
        DQInitStep.call(ramp, override_mask=mask, save_results=True, output_dir=out)
        done = time.perf_counter()
        import jwst
        print(imported - start, done - imported, jwst.__version__)

    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        call(*sys.argv[2:5])
    """
)


def jwst_figures(folder: Path, python: str, repeat: int) -> dict:
    env = jwst_environment(folder / "jwst_crds")
    run([python, "-c", JWST_SCRIPT, "make", str(folder), "10"], env)
    ramp, mask = folder / "jw_ramp_uncal.fits", folder / "jw_mask.fits"
    out = folder / "jw_out"
    command = [python, "-c", JWST_SCRIPT, "run", str(ramp), str(mask), str(out)]
    runs = []
    for _ in range(repeat):
        remove(out)
        out.mkdir()
        sync()
        runs.append(run(command, env))
    outputs = sorted(path.name for path in out.glob("*.fits"))
    if not outputs:
        raise RuntimeError(f"jwst wrote nothing into {out}:\n{runs[-1].stdout}")
    fields = [r.stdout.split()[-3:] for r in runs]
    figures = {
        "jwst": median(r.wall for r in runs),
        "jwst_range": spread(runs),
        "jwst_rss": max(r.maxrss for r in runs),
        "jwst_import": median(float(f[0]) for f in fields),
        "jwst_call": median(float(f[1]) for f in fields),
        "jwst_version": fields[0][2],
        "jwst_size": ramp.stat().st_size,
        "jwst_output": outputs[0],
    }
    remove(out, ramp, mask)
    return figures


def row(label: str, value: str, note: str = "") -> None:
    print(f"{label:<50} {value:>9}  {note}".rstrip())


def report(figures: dict, jwst: dict | None, jwst_reason: str, repeat: int) -> None:
    f = figures
    floor = f["import"] + 2 * f["cp"]
    print(
        f"ramp 1 x 10 x {NY} x {NX} float32, {f['size'] / 2**30:.2f} GiB, no "
        f"PIXELDQ/GROUPDQ; mask chosen through CRDS; medians of {repeat} runs"
    )
    row("measure", "value", "ratio, target")
    row(
        "irisdq dq-init RAMP --output-dir OUT --overwrite",
        f"{f['irisdq']:.3f} s",
        f"{f['irisdq'] / floor:.2f}x (t_import + 2 t_cp = {floor:.3f} s), <= 1; "
        f"runs {f['irisdq_range']}",
    )
    row("  python -c 'import irisdq' (t_import)", f"{f['import']:.3f} s")
    row(
        "  (python -c 'import astropy.io.fits')",
        f"{f['import_fits']:.3f} s",
        "not in the target; the command imports it",
    )
    row("  cp RAMP COPY (t_cp)", f"{f['cp']:.3f} s", f"runs {f['cp_range']}")
    row(
        "  the step alone, irisdq.dq_init imported",
        f"{f['step']:.3f} s",
        f"{f['step'] / (2 * f['cp']):.2f}x 2 t_cp ({2 * f['cp']:.3f} s)",
    )
    row(
        "  peak RSS, 10 groups",
        f"{f['irisdq_rss'] / MIB:.0f} MiB",
        f"{f['irisdq_rss'] / (300 * MIB):.2f}x the 300 MiB target "
        f"(python -c 'import irisdq': {f['import_rss'] / MIB:.0f} MiB)",
    )
    row(
        "  peak RSS, 40 groups",
        f"{f['irisdq40_rss'] / MIB:.0f} MiB",
        f"{f['irisdq40_rss'] / (300 * MIB):.2f}x the 300 MiB target "
        f"({f['size40'] / 2**30:.2f} GiB ramp)",
    )
    row(
        "  wall, 40 groups",
        f"{f['irisdq40']:.3f} s",
        f"{f['irisdq40'] / f['cp40']:.2f}x cp of that ramp ({f['cp40']:.3f} s)",
    )
    row(
        "DQInit.call(RAMP, inplace=True), raw file",
        f"{f['inplace_first']:.3f} s",
        f"{f['inplace_first'] / 0.5:.2f}x the 0.5 s target (appends PIXELDQ "
        "and GROUPDQ; irisdq.dq_init already imported)",
    )
    row(
        "  again on that file (DQ arrays rewritten)",
        f"{f['inplace_again']:.3f} s",
        f"peak RSS of the in-place runs {f['inplace_rss'] / MIB:.0f} MiB",
    )
    if jwst is None:
        print(f"jwst DQInitStep: skipped ({jwst_reason})")
        return
    version = jwst["jwst_version"]
    row(
        f"jwst {version} DQInitStep.call, override mask",
        f"{jwst['jwst']:.3f} s",
        f"irisdq {jwst['jwst'] / f['irisdq']:.1f}x faster (whole processes), >= 3.5x",
    )
    row(
        "  of which import jwst.dq_init, then the call",
        f"{jwst['jwst_import']:.2f} s",
        f"{jwst['jwst_call']:.2f} s",
    )
    row(
        "  the calls alone: irisdq's step against jwst's",
        f"{jwst['jwst_call'] / f['step']:.1f}x",
        "faster",
    )
    row(
        "  peak RSS",
        f"{jwst['jwst_rss'] / MIB:.0f} MiB",
        f"irisdq's is {f['irisdq_rss'] / jwst['jwst_rss']:.2f}x of it, <= 0.33",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder for the test files (~10 GiB)"
    )
    parser.add_argument(
        "--jwst-python",
        default=os.environ.get(JWST_PYTHON_VARIABLE),
        help="Python of an environment where jwst is installed "
        "(default: $IRISDQ_BENCH_JWST_PYTHON); without it jwst is skipped",
    )
    args = parser.parse_args()
    free = shutil.disk_usage(args.dir or tempfile.gettempdir()).free
    if free < 10 * 2**30:
        sys.exit(f"need ~10 GiB free for the test files, {free / 2**30:.1f} GiB free")
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="irisdq-bench-") as name:
        folder = Path(name)
        # Children run from here: "python -c" puts its working folder first
        # on sys.path, and benchmarks/crds.py would shadow jwst's crds.
        os.chdir(folder)
        figures = irisdq_figures(folder, args.repeat)
        jwst, reason = None, ""
        if not args.jwst_python:
            reason = "no --jwst-python or $IRISDQ_BENCH_JWST_PYTHON given"
        else:
            try:
                jwst = jwst_figures(
                    folder, args.jwst_python, max(1, args.repeat // 2 + 1)
                )
            except (RuntimeError, OSError) as error:
                reason = f"could not run: {error}"
        os.chdir(Path.home())
    report(figures, jwst, reason, args.repeat)


if __name__ == "__main__":
    main()
