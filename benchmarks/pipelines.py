"""jwst's Detector1 with jwst's dq_init step against irisdq's, and the two
steps on a model in memory.

Run by hand::

    python benchmarks/pipelines.py [--repeat N] [--nints N] [--ngroups N]
                                   [--size N] [--dir DIR]

Needs jwst in this Python. stdatamodels writes a NIRCam raw ramp
(``RampModel``, SCI float32 (nints, ngroups, size, size)) and a ``MaskModel``
of the same size into a local jwst CRDS cache that the stock client reads
off line (``CRDS_MODE=local``, a ``server_config``, no step-parameter
references). Four runs, each a whole process (interpreter start and imports
included), the cases alternating within each repetition:

- ``pipeline jwst``: ``Detector1Pipeline.call(RAMP, steps=...)`` with every
  step but ``group_scale`` and ``dq_init`` skipped;
- ``pipeline irisdq``: the same pipeline with ``step_defs['dq_init']``
  replaced by :class:`irisdq.stpipe.DQInitStep`;
- ``memory jwst`` and ``memory irisdq``: the ramp opened with
  ``stdatamodels.jwst.datamodels.open`` and each step's ``call`` on the
  model in memory.

Each side's PIXELDQ and GROUPDQ are compared with jwst's pipeline's (they
must be the same), and the wall time and peak resident memory are printed
side by side with their ratios, medians of N runs.

Figures (jwst 3.0.0, stdatamodels 6.0.0, crds 14.0.3, stpipe 1.1, Python
3.11, Linux, 2 shared cores; a 2048 x 2048 ramp of 2 integrations x 4 groups,
128 MiB of SCI; medians of 3 runs)::

    case             PIXELDQ  GROUPDQ      wall        range   peak RSS
    pipeline jwst    same     same      17.28 s 15.16-17.84 s    459 MiB
    pipeline irisdq  same     same      16.55 s 15.98-19.31 s    462 MiB
    memory jwst      same     same       8.46 s  6.86-8.93 s    525 MiB
    memory irisdq    same     same       8.53 s  7.00-8.55 s    521 MiB
    pipeline: irisdq / jwst wall 0.96, peak RSS 1.01
    memory: irisdq / jwst wall 1.01, peak RSS 0.99

Both are dominated by what the steps share: starting Python, importing jwst
and stpipe, opening the ramp with stdatamodels and, for the pipeline, its
configuration and prefetch. Inside a pipeline irisdq's step changes the
model it is given, as jwst's steps do; called alone it works on a copy, as
jwst's does.
"""

import argparse
import pprint
import sys
import tempfile
import textwrap
from pathlib import Path

from _harness import MIB, jwst_environment, median, run, spread

CASES = ("pipeline jwst", "pipeline irisdq", "memory jwst", "memory irisdq")
MASK = "jwst_nircam_mask_0001.fits"

SETUP = """
import numpy as np
from stdatamodels.jwst import datamodels

def nircam(model, size):
    model.meta.telescope = "JWST"
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.instrument.channel = "SHORT"
    model.meta.instrument.module = "A"
    model.meta.subarray.name = "FULL"
    model.meta.subarray.xstart = model.meta.subarray.ystart = 1
    model.meta.subarray.xsize = model.meta.subarray.ysize = size

nints, ngroups, size, ramp_path, mask_path = {args}
mask = datamodels.MaskModel(dq=np.zeros((size, size), dtype=np.uint32))
nircam(mask, size)
mask.meta.reftype = "MASK"
mask.meta.useafter = "2015-01-01T00:00:00"
mask.meta.description = mask.meta.author = "irisdq benchmark"
mask.meta.pedigree = "GROUND"
rng = np.random.default_rng(0)
for value, count in ((1025, 2000), (2048, 4000), (2**20, 1000)):
    mask.dq.flat[rng.integers(0, size * size, count)] |= value
mask.save(mask_path)
ramp = datamodels.RampModel(data=np.ones((nints, ngroups, size, size), np.float32))
nircam(ramp, size)
ramp.meta.observation.date = "2022-07-01"
ramp.meta.observation.time = "00:00:00"
ramp.meta.exposure.type = "NRC_IMAGE"
ramp.meta.exposure.readpatt = "RAPID"
ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = nints, ngroups
ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 1, 0
ramp.meta.exposure.frame_divisor = 1
ramp.save(ramp_path)
"""

CASE = """
import sys
import numpy as np
case, ramp_path, out = sys.argv[1:4]
from stdatamodels.jwst import datamodels
if case.startswith("pipeline"):
    from jwst.pipeline import Detector1Pipeline as Pipeline
    if case.endswith("irisdq"):
        from irisdq.stpipe import DQInitStep

        class Pipeline(Pipeline):
            step_defs = {**Pipeline.step_defs, "dq_init": DQInitStep}

    keep = ("group_scale", "dq_init")
    skip = {name: {"skip": True} for name in Pipeline.step_defs if name not in keep}
    result = Pipeline.call(ramp_path, steps=skip)
else:
    if case.endswith("irisdq"):
        from irisdq.stpipe import DQInitStep
    else:
        from jwst.dq_init import DQInitStep
    with datamodels.open(ramp_path) as ramp:
        result = DQInitStep.call(ramp)
np.savez(out, pixeldq=result.pixeldq, groupdq=result.groupdq)
print(result.meta.cal_step.dq_init, result.meta.ref_file.mask.name)
"""


def write_cache(root: Path) -> Path:
    """Mappings the stock client reads (with ``derived_from``), checksums
    from irisdq; returns the NIRCam reference folder."""
    from irisdq.crds import update_checksum

    folder = root / "mappings" / "jwst"
    folder.mkdir(parents=True)
    header = "'derived_from' : 'benchmark', 'observatory' : 'JWST', 'sha1sum' : '0',"
    texts = {
        "jwst_0001.pmap": f"header = {{{header} 'mapping' : 'PIPELINE', "
        "'name' : 'jwst_0001.pmap', 'parkey' : ('META.INSTRUMENT.NAME',)}\n"
        "selector = {'NIRCAM' : 'jwst_nircam_0001.imap'}\n",
        "jwst_nircam_0001.imap": f"header = {{{header} 'instrument' : 'NIRCAM', "
        "'mapping' : 'INSTRUMENT', 'name' : 'jwst_nircam_0001.imap', "
        "'parkey' : ('REFTYPE',)}\n"
        "selector = {'mask' : 'jwst_nircam_mask_0001.rmap'}\n",
        "jwst_nircam_mask_0001.rmap": f"header = {{{header} 'classes' : ('Match', "
        "'UseAfter'), 'filekind' : 'MASK', 'instrument' : 'NIRCAM', 'mapping' : "
        "'REFERENCE', 'name' : 'jwst_nircam_mask_0001.rmap', 'parkey' : "
        "(('META.INSTRUMENT.DETECTOR',), ('META.OBSERVATION.DATE', "
        "'META.OBSERVATION.TIME'))}\nselector = Match({('NRCA1',) : UseAfter("
        f"{{'2015-01-01 00:00:00' : '{MASK}'}})}})\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        update_checksum(folder / name)
    config = root / "config" / "jwst"
    config.mkdir(parents=True)
    info = {
        "observatory": "jwst",
        "operational_context": "jwst_0001.pmap",
        "edit_context": "jwst_0001.pmap",
        "last_synced": "2026-01-01 00:00:00",
        "bad_files": "",
        "bad_files_list": [],
        "mappings": sorted(texts),
        "context_history": [],
        "effective_mode": "local",
        "crds_version": {"str": "14.0.3"},
        "reference_url": {},
        "mapping_url": {},
    }
    (config / "server_config").write_text(pprint.pformat(info), encoding="utf-8")
    references = root / "references" / "jwst" / "nircam"
    references.mkdir(parents=True)
    return references


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nints", type=int, default=2)
    parser.add_argument("--ngroups", type=int, default=4)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    import numpy as np

    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        folder = Path(scratch)
        cache = folder / "crds_cache"
        references = write_cache(cache)
        env = jwst_environment(cache, "jwst_0001.pmap")
        ramp = folder / "jw_uncal.fits"
        setup = SETUP.format(
            args=(
                args.nints,
                args.ngroups,
                args.size,
                str(ramp),
                str(references / MASK),
            )
        )
        run([sys.executable, "-P", "-c", textwrap.dedent(setup)], env=env)
        sci = args.nints * args.ngroups * args.size**2 * 4 / MIB
        print(
            f"ramp {args.nints} x {args.ngroups} x {args.size} x {args.size} "
            f"({sci:.0f} MiB of SCI); medians of {args.repeat}, cases alternating"
        )
        # A file, not -c: stpipe looks up the source of the pipeline class.
        script = folder / "case.py"
        script.write_text(CASE, encoding="utf-8")
        runs: dict[str, list] = {case: [] for case in CASES}
        arrays: dict[str, dict] = {}
        for _ in range(args.repeat):
            for case in CASES:
                out = folder / f"{case.replace(' ', '_')}.npz"
                command = [sys.executable, "-P", str(script), case, str(ramp), str(out)]
                done = run(command, env=env)
                runs[case].append(done)
                with np.load(out) as saved:
                    arrays[case] = {name: saved[name] for name in saved.files}
        reference = arrays["pipeline jwst"]
        print(
            f"{'case':<16} {'PIXELDQ':<8} {'GROUPDQ':<8} {'wall':>8} {'range':>12} "
            f"{'peak RSS':>10}"
        )
        for case in CASES:
            same = [
                "same"
                if np.array_equal(arrays[case][name], reference[name])
                else "DIFF"
                for name in ("pixeldq", "groupdq")
            ]
            wall = median(r.wall for r in runs[case])
            rss = median(r.maxrss for r in runs[case]) / MIB
            print(
                f"{case:<16} {same[0]:<8} {same[1]:<8} {wall:>6.2f} s "
                f"{spread(runs[case]):>12} {rss:>6.0f} MiB"
            )
        for kind in ("pipeline", "memory"):
            jwst, irisdq = runs[f"{kind} jwst"], runs[f"{kind} irisdq"]
            time_ratio = median(r.wall for r in irisdq) / median(r.wall for r in jwst)
            rss_ratio = median(r.maxrss for r in irisdq) / median(
                r.maxrss for r in jwst
            )
            print(
                f"{kind}: irisdq / jwst wall {time_ratio:.2f}, peak RSS {rss_ratio:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
