"""irisdq's DQ initialization of JWST files against jwst's own DQInitStep.

Run by hand::

    python benchmarks/jwst_compare.py --jwst-python /path/jwst-venv/bin/python
                                      [--repeat N] [--nints N] [--ngroups N]
                                      [--dir DIR]

jwst's Python (``--jwst-python`` or ``$IRISDQ_BENCH_JWST_PYTHON``) writes
genuine JWST files with stdatamodels: NIRCam raw ramps (``RampModel``, SCI
float32 (nints, ngroups, ny, nx), PIXELDQ and GROUPDQ zeros, an ASDF
extension; TELESCOP JWST, INSTRUME NIRCAM, SUBARRAY, SUBSTRT1/2,
SUBSIZE1/2, EXP_TYPE, READPATT, DATE-OBS, TIME-OBS) and full-frame
2048 x 2048 ``MaskModel`` masks whose DQ_DEF names DO_NOT_USE, DEAD, HOT,
NO_LIN_CORR (bit 20) and REFERENCE_PIXEL (bit 31). Four cases:

- ``full``: a full-frame NRCA1 ramp, the mask's DQ_DEF with the standard
  values;
- ``sub640``: a SUB640 NRCA1 ramp (SUBSTRT1 = 1, SUBSTRT2 = 1409, 640 x 640),
  the same full-frame mask, cut to the subarray;
- ``nonstd``: a full-frame NRCA2 ramp, a mask whose DQ_DEF gives the same
  names other values (DO_NOT_USE is 4, DEAD 1, HOT 2, ...), which both sides
  must remap by name;
- ``unnamed``: a full-frame NRCA3 ramp, a mask with the standard DQ_DEF whose
  DQ also stores bit value 64 (AD_FLOOR), which the table does not name
  (set with astropy after ``MaskModel.save``, which would drop it).

1. Override: ``DQInitStep.call(RAMP, override_mask=MASK)`` in jwst's Python
   against ``irisdq dq-init RAMP [--profile jwst] --override-mask MASK``; PIXELDQ,
   GROUPDQ and SCI of the outputs are compared bit for bit, and the wall time
   and peak resident memory of each whole process (interpreter start and
   imports included) are measured, medians of N runs, the two sides
   alternating.
2. CRDS: a local JWST cache (``jwst_9999.pmap`` -> ``jwst_nircam_9999.imap``
   -> ``jwst_nircam_mask_9999.rmap``, keyed like the real jwst mask rmaps on
   META.INSTRUMENT.DETECTOR, META.SUBARRAY.NAME and META.OBSERVATION.DATE/TIME
   with UseAfter; sha1sums written by ``irisdq.crds.update_checksum``; masks
   in ``references/jwst/nircam/``). jwst's step runs with CRDS_PATH on that
   cache, CRDS_CONTEXT=jwst_9999.pmap, CRDS_MODE=local and a server URL that
   refuses at once; irisdq runs ``irisdq dq-init RAMP`` with the same cache
   and context (and ``--profile jwst`` when the command has that option).
   Both must choose the same mask (the rmap also holds a later-dated mask no
   exposure may get) and give the same arrays, R_MASK and CRDS_CTX.

The stock CRDS client (crds 14.0.3) accepts that cache: it checks every
mapping's sha1sum (a wrong one fails with ``crds.core.exceptions.ChecksumError:
sha1sum mismatch``) and takes irisdq's; off line it needs
``config/jwst/server_config`` with a ``bad_files_list`` entry. An irisdq
without ``dq-init --profile`` (before the profiles) is run with
CRDS_OBSERVATORY=jwst instead: it refuses a jwst context otherwise.

Figures (jwst 3.0.0, stdatamodels 6.0.0, crds 14.0.3, irisdq with
``--profile jwst``, Python 3.11, Linux, 2 shared cores; ramps of 2
integrations x 4 groups, full frame 2048 x 2048 (128 MiB of SCI) or
640 x 640; whole processes, medians of 3 runs, the sides alternating)::

    case     mode      PIXELDQ  GROUPDQ  jwst    irisdq  faster  RSS jwst  irisdq  ratio
    full     override  same     same     2.23 s  0.64 s  3.5x    365 MiB   102 MiB 0.28
    sub640   override  same     same     1.83 s  0.61 s  3.0x    206 MiB    94 MiB 0.46
    nonstd   override  same     same     2.60 s  0.67 s  3.9x    365 MiB   103 MiB 0.28
    unnamed  override  same     same     2.27 s  0.76 s  3.0x    365 MiB   101 MiB 0.28
    full     crds      same     same     1.89 s  0.69 s  2.7x    367 MiB   102 MiB 0.28
    sub640   crds      same     same     1.80 s  0.63 s  2.9x    208 MiB    94 MiB 0.45
    nonstd   crds      same     same     2.52 s  0.70 s  3.6x    367 MiB   104 MiB 0.28
    unnamed  crds      same     same     2.15 s  0.69 s  3.1x    367 MiB   102 MiB 0.28

SCI is identical in every case. Through CRDS both sides chose the same mask
(R_MASK crds://jwst_nircam_mask_9001/9002/9004.fits, never the 2030 one) and
record CRDS_CTX jwst_9999.pmap and S_DQINIT COMPLETE. About 0.6 s of jwst's
time is ``import jwst.dq_init``; its step call alone takes 0.8-1.5 s.
``unnamed``: both drop bit 64, which the DQ_DEF does not name (jwst's
MaskModel rebuilds the flags from DQ_DEF, stdatamodels.dynamicdq.dynamic_mask;
irisdq did not, before this comparison found it, and kept the bit at 19952
pixels).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import NamedTuple

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
    sync,
)

CONTEXT = "jwst_9999.pmap"
OBSERVATION = ("2023-01-15", "12:00:00")


class Case(NamedTuple):
    detector: str
    # SUBARRAY, SUBSTRT1, SUBSTRT2, SUBSIZE1, SUBSIZE2
    subarray: tuple[str, int, int, int, int]
    mask: str  # the mask file of the override run and of the CRDS choice


# The same flags as the standard DQ_DEF, at other bit values.
NONSTANDARD = {
    "DEAD": 1,
    "HOT": 2,
    "DO_NOT_USE": 4,
    "NO_LIN_CORR": 8,
    "REFERENCE_PIXEL": 16,
}

# A bit (AD_FLOOR) that the DQ_DEF of the ``unnamed`` case's mask does not
# name, set in its stored DQ after MaskModel.save (which drops such bits).
UNNAMED = 64

MASKS = {
    # name: (detector, DQ_DEF values by flag name (None: the standard ones),
    #        USEAFTER, a bit stored that DQ_DEF does not name (0: none))
    "jwst_nircam_mask_9001.fits": ("NRCA1", None, "2015-10-01T00:00:00", 0),
    "jwst_nircam_mask_9002.fits": ("NRCA2", NONSTANDARD, "2015-10-01T00:00:00", 0),
    # Later than every exposure: CRDS must not choose it.
    "jwst_nircam_mask_9003.fits": ("NRCA1", None, "2030-01-01T00:00:00", 0),
    "jwst_nircam_mask_9004.fits": ("NRCA3", None, "2015-10-01T00:00:00", UNNAMED),
}

CASES = {
    "full": Case("NRCA1", ("FULL", 1, 1, 2048, 2048), "jwst_nircam_mask_9001.fits"),
    "sub640": Case(
        "NRCA1", ("SUB640", 1, 1409, 640, 640), "jwst_nircam_mask_9001.fits"
    ),
    "nonstd": Case("NRCA2", ("FULL", 1, 1, 2048, 2048), "jwst_nircam_mask_9002.fits"),
    "unnamed": Case("NRCA3", ("FULL", 1, 1, 2048, 2048), "jwst_nircam_mask_9004.fits"),
}


def ramp_name(case: str) -> str:
    detector = CASES[case].detector.lower()
    return f"jw09999001001_01101_00001_{detector}_uncal.fits"


# Run by jwst's Python from a folder without Python files (so that
# benchmarks/crds.py cannot shadow jwst's crds):
#   "make FOLDER SPEC" writes the masks and ramps SPEC describes (a repr);
#   "run RAMP OUT [MASK]" runs the step, with MASK as the override if given,
#   and prints the seconds of the import, of the call, and jwst's version.
JWST_SCRIPT = textwrap.dedent(
    """
    import ast, sys, time
    import numpy as np

    def describe(model, detector, subarray):
        model.meta.telescope = "JWST"
        model.meta.instrument.name = "NIRCAM"
        model.meta.instrument.detector = detector
        model.meta.instrument.channel = "SHORT"
        model.meta.instrument.module = "A"
        name, xstart, ystart, xsize, ysize = subarray
        model.meta.subarray.name = name
        model.meta.subarray.xstart, model.meta.subarray.ystart = xstart, ystart
        model.meta.subarray.xsize, model.meta.subarray.ysize = xsize, ysize

    def flags(seed, ny, nx, pixel):
        # Standard values; MaskModel.save writes them through DQ_DEF.
        rng = np.random.default_rng(seed)
        dq = np.zeros((ny, nx), dtype=np.uint32)
        n = ny * nx // 200
        where = lambda: (rng.integers(0, ny, n), rng.integers(0, nx, n))
        dq[where()] |= pixel["DO_NOT_USE"] | pixel["DEAD"]
        dq[where()] |= pixel["HOT"]
        dq[where()] |= pixel["DO_NOT_USE"]
        dq[where()] |= pixel["NO_LIN_CORR"]
        dq[:4, :] |= pixel["REFERENCE_PIXEL"]
        dq[-4:, :] |= pixel["REFERENCE_PIXEL"]
        dq[:, :4] |= pixel["REFERENCE_PIXEL"]
        dq[:, -4:] |= pixel["REFERENCE_PIXEL"]
        return dq

    def make(folder, spec):
        from stdatamodels.jwst import datamodels
        from stdatamodels.jwst.datamodels.dqflags import pixel

        for seed, (name, (detector, values, useafter, unnamed)) in enumerate(
            sorted(spec["masks"].items())
        ):
            names = ["DO_NOT_USE", "DEAD", "HOT", "NO_LIN_CORR", "REFERENCE_PIXEL"]
            values = values or {n: pixel[n] for n in names}
            rows = [
                (int(values[n]).bit_length() - 1, values[n], n, n.lower() + " pixel")
                for n in names
            ]
            mask = datamodels.MaskModel(dq=flags(seed, 2048, 2048, pixel))
            mask.dq_def = rows
            describe(mask, detector, ("FULL", 1, 1, 2048, 2048))
            mask.meta.reftype = "MASK"
            mask.meta.author = "irisdq benchmark"
            mask.meta.description = "benchmark mask"
            mask.meta.pedigree = "DUMMY"
            mask.meta.useafter = useafter
            mask.save(f"{folder}/{name}")
            if unnamed:
                from astropy.io import fits

                rng = np.random.default_rng(seed)
                where = rng.integers(0, 2048, (2, 20_000))
                with fits.open(f"{folder}/{name}", mode="update") as hdus:
                    hdus["DQ"].data[where[0], where[1]] |= np.uint32(unnamed)

        rng = np.random.default_rng(1)
        for path, (detector, subarray, nints, ngroups) in spec["ramps"].items():
            ny, nx = subarray[4], subarray[3]
            data = np.empty((nints, ngroups, ny, nx), dtype=np.float32)
            for integration in range(nints):
                plane = rng.normal(1000.0, 10.0, (ny, nx)).astype(np.float32)
                for group in range(ngroups):
                    plane += np.float32(50.0)
                    data[integration, group] = plane
            ramp = datamodels.RampModel(data=data)
            describe(ramp, detector, subarray)
            ramp.meta.instrument.filter = "F200W"
            ramp.meta.instrument.pupil = "CLEAR"
            ramp.meta.observation.date, ramp.meta.observation.time = spec["date"]
            ramp.meta.exposure.type = "NRC_IMAGE"
            ramp.meta.exposure.readpatt = "RAPID"
            ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = nints, ngroups
            ramp.save(path)
            del data, ramp

    def call(ramp, out, mask=None):
        start = time.perf_counter()
        from jwst.dq_init import DQInitStep
        imported = time.perf_counter()
        options = {} if mask is None else {"override_mask": mask}
        DQInitStep.call(ramp, save_results=True, output_dir=out, **options)
        done = time.perf_counter()
        import jwst
        print(imported - start, done - imported, jwst.__version__)

    if sys.argv[1] == "make":
        make(sys.argv[2], ast.literal_eval(sys.argv[3]))
    else:
        call(*sys.argv[2:])
    """
)


def make_files(python: str, folder: Path, nints: int, ngroups: int, env) -> None:
    """Write the masks into ``folder/masks`` and each case's ramp into
    ``folder/<case>`` with jwst's Python."""
    masks = folder / "masks"
    masks.mkdir()
    ramps = {}
    for case, spec in CASES.items():
        (folder / case).mkdir()
        path = str(folder / case / ramp_name(case))
        ramps[path] = (spec.detector, spec.subarray, nints, ngroups)
    spec = {"masks": MASKS, "ramps": ramps, "date": OBSERVATION}
    run([python, "-c", JWST_SCRIPT, "make", str(masks), repr(spec)], env)


def only_output(folder: Path) -> Path:
    outputs = sorted(folder.glob("*.fits"))
    if len(outputs) != 1:
        raise RuntimeError(f"expected one output in {folder}, found {outputs}")
    return outputs[0]


class Outcome(NamedTuple):
    pixeldq: np.ndarray
    groupdq: np.ndarray
    sci: np.ndarray
    keywords: dict


def read_outcome(path: Path) -> Outcome:
    with fits.open(path) as hdus:
        header = hdus[0].header
        keywords = {k: header.get(k) for k in ("S_DQINIT", "R_MASK", "CRDS_CTX")}
        return Outcome(
            np.array(hdus["PIXELDQ"].data),
            np.array(hdus["GROUPDQ"].data),
            np.array(hdus["SCI"].data),
            keywords,
        )


def identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def stored_mask(mask: Path, subarray: tuple[str, int, int, int, int]) -> np.ndarray:
    """The mask's DQ values as stored (before any DQ_DEF remapping), cut to
    the subarray."""
    _, xstart, ystart, xsize, ysize = subarray
    with fits.open(mask) as hdus:
        dq = hdus["DQ"].data
        return np.array(
            dq[ystart - 1 : ystart - 1 + ysize, xstart - 1 : xstart - 1 + xsize]
        )


def compare(jwst_output: Path, irisdq_output: Path, stored: np.ndarray) -> dict:
    """Whether the two outputs' arrays are bit-identical, and their keywords.

    `stored` is the mask as stored, cut: equal to PIXELDQ when the DQ_DEF
    values are the standard ones, different when they had to be remapped.
    """
    theirs, ours = read_outcome(jwst_output), read_outcome(irisdq_output)
    return {
        # The bits in which the two PIXELDQ differ, and at how many pixels.
        "differ_bits": int(np.bitwise_or.reduce(theirs.pixeldq ^ ours.pixeldq, None)),
        "differ_pixels": int(np.count_nonzero(theirs.pixeldq != ours.pixeldq)),
        "remapped": not np.array_equal(stored, theirs.pixeldq),
        "pixeldq": identical(theirs.pixeldq, ours.pixeldq),
        "groupdq": identical(theirs.groupdq, ours.groupdq),
        "sci": identical(theirs.sci, ours.sci),
        "flagged": int(np.count_nonzero(theirs.pixeldq)),
        "do_not_use_groups": int(np.count_nonzero(theirs.groupdq)),
        "jwst_keywords": theirs.keywords,
        "irisdq_keywords": ours.keywords,
        "dtypes": (str(ours.pixeldq.dtype), str(ours.groupdq.dtype)),
    }


def has_profile_option(env) -> bool:
    process = subprocess.run(
        [*irisdq_command(), "dq-init", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return "--profile" in process.stdout


def measure_case(
    case: str,
    folder: Path,
    python: str,
    repeat: int,
    env_jwst: dict,
    env_irisdq: dict,
    crds: bool,
    profile_option: bool,
) -> dict:
    """Run both sides `repeat` times, alternating; compare the outputs.

    With `crds`, both choose the mask through CRDS; otherwise both get the
    case's mask as an override.
    """
    ramp = folder / case / ramp_name(case)
    mask = folder / "masks" / CASES[case].mask
    jwst_out, irisdq_out = folder / case / "jwst_out", folder / case / "irisdq_out"
    jwst_command = [python, "-c", JWST_SCRIPT, "run", str(ramp), str(jwst_out)]
    irisdq_command_line = [*irisdq_command(), "dq-init", str(ramp)]
    if profile_option:
        irisdq_command_line += ["--profile", "jwst"]
    if not crds:
        jwst_command.append(str(mask))
        irisdq_command_line += ["--override-mask", str(mask)]
    irisdq_command_line += ["--output-dir", str(irisdq_out)]
    jwst_runs, irisdq_runs = [], []
    for index in range(repeat):
        # Alternate which side goes first, so that neither always runs on
        # the page cache the other warmed.
        sides = [("jwst", jwst_out), ("irisdq", irisdq_out)]
        for side, out in sides if index % 2 == 0 else sides[::-1]:
            remove(out)
            out.mkdir()
            sync()
            if side == "jwst":
                jwst_runs.append(run(jwst_command, env_jwst))
            else:
                irisdq_runs.append(run(irisdq_command_line, env_irisdq))
    stored = stored_mask(folder / "masks" / CASES[case].mask, CASES[case].subarray)
    figures = compare(only_output(jwst_out), only_output(irisdq_out), stored)
    fields = [r.stdout.split()[-3:] for r in jwst_runs]
    figures.update(
        jwst=median(r.wall for r in jwst_runs),
        jwst_rss=median(r.maxrss for r in jwst_runs),
        jwst_import=median(float(f[0]) for f in fields),
        jwst_call=median(float(f[1]) for f in fields),
        jwst_version=fields[0][2],
        irisdq=median(r.wall for r in irisdq_runs),
        irisdq_rss=median(r.maxrss for r in irisdq_runs),
        command=" ".join(
            [f"{k}={env_irisdq[k]}" for k in ("CRDS_OBSERVATORY",) if k in env_irisdq]
            + [Path(a).name if os.sep in a else a for a in irisdq_command_line]
        ),
    )
    remove(jwst_out, irisdq_out)
    return figures


# -- the CRDS cache -----------------------------------------------------------------

PMAP = """\
header = {
    'derived_from' : 'irisdq benchmark',
    'mapping' : 'PIPELINE',
    'name' : 'jwst_9999.pmap',
    'observatory' : 'JWST',
    'parkey' : ('META.INSTRUMENT.NAME',),
    'sha1sum' : '0',
}

selector = {
    'NIRCAM' : 'jwst_nircam_9999.imap',
}
"""

IMAP = """\
header = {
    'derived_from' : 'irisdq benchmark',
    'instrument' : 'NIRCAM',
    'mapping' : 'INSTRUMENT',
    'name' : 'jwst_nircam_9999.imap',
    'observatory' : 'JWST',
    'parkey' : ('REFTYPE',),
    'sha1sum' : '0',
}

selector = {
    'MASK' : 'jwst_nircam_mask_9999.rmap',
}
"""

# Keyed like jwst's NIRCam mask rmaps: detector and subarray, then the
# observation date and time, with GENERIC standing for any subarray.
RMAP = """\
header = {
    'classes' : ('Match', 'UseAfter'),
    'derived_from' : 'irisdq benchmark',
    'filekind' : 'MASK',
    'instrument' : 'NIRCAM',
    'mapping' : 'REFERENCE',
    'name' : 'jwst_nircam_mask_9999.rmap',
    'observatory' : 'JWST',
    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.SUBARRAY.NAME'), \
('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')),
    'sha1sum' : '0',
    'substitutions' : {
        'META.SUBARRAY.NAME' : {
            'GENERIC' : 'N/A',
        },
    },
}

selector = Match({
    ('NRCA1', 'GENERIC') : UseAfter({
        '2015-10-01 00:00:00' : 'jwst_nircam_mask_9001.fits',
        '2030-01-01 00:00:00' : 'jwst_nircam_mask_9003.fits',
    }),
    ('NRCA2', 'GENERIC') : UseAfter({
        '2015-10-01 00:00:00' : 'jwst_nircam_mask_9002.fits',
    }),
    ('NRCA3', 'GENERIC') : UseAfter({
        '2015-10-01 00:00:00' : 'jwst_nircam_mask_9004.fits',
    }),
})
"""


def build_cache(cache: Path, masks: Path) -> None:
    """A JWST CRDS cache with context jwst_9999.pmap selecting the masks."""
    from irisdq.crds import update_checksum

    mappings = cache / "mappings" / "jwst"
    references = cache / "references" / "jwst" / "nircam"
    mappings.mkdir(parents=True)
    references.mkdir(parents=True)
    for name, text in (
        ("jwst_9999.pmap", PMAP),
        ("jwst_nircam_9999.imap", IMAP),
        ("jwst_nircam_mask_9999.rmap", RMAP),
    ):
        (mappings / name).write_text(text)
        update_checksum(mappings / name)
    for name in MASKS:
        shutil.copyfile(masks / name, references / name)


# -- report ---------------------------------------------------------------------------


def yes(value: bool) -> str:
    return "identical" if value else "DIFFERENT"


def report(results: dict, repeat: int, nints: int, ngroups: int) -> str:
    lines = [
        f"ramps {nints} x {ngroups} x ny x nx; whole processes, medians of {repeat} "
        "runs (the two sides alternating)",
    ]
    version = next(iter(results.values()))["jwst_version"]
    for (mode, case), f in results.items():
        lines.append(
            f"{mode:<8} {case:<7} PIXELDQ {yes(f['pixeldq'])}, GROUPDQ "
            f"{yes(f['groupdq'])}, SCI {yes(f['sci'])} ({f['flagged']} pixels "
            f"flagged, {f['do_not_use_groups']} group DQ values set; mask "
            f"{'changed by its DQ_DEF' if f['remapped'] else 'values as stored'})"
        )
        if f["differ_pixels"]:
            lines.append(
                f"{'':<17}PIXELDQ differs at {f['differ_pixels']} pixels, in bit "
                f"value(s) {f['differ_bits']}"
            )
        lines.append(
            f"{'':<17}wall: jwst {version} {f['jwst']:.2f} s (import "
            f"{f['jwst_import']:.2f} s + call {f['jwst_call']:.2f} s), irisdq "
            f"{f['irisdq']:.2f} s; irisdq {f['jwst'] / f['irisdq']:.1f}x faster"
        )
        lines.append(
            f"{'':<17}peak RSS: jwst {f['jwst_rss'] / MIB:.0f} MiB, irisdq "
            f"{f['irisdq_rss'] / MIB:.0f} MiB; irisdq's is "
            f"{f['irisdq_rss'] / f['jwst_rss']:.2f}x jwst's"
        )
        if mode == "crds":
            theirs, ours = f["jwst_keywords"], f["irisdq_keywords"]
            for keyword in ("R_MASK", "CRDS_CTX", "S_DQINIT"):
                same = "same" if theirs[keyword] == ours[keyword] else "DIFFERENT"
                lines.append(
                    f"{'':<17}{keyword}: jwst {theirs[keyword]!r}, irisdq "
                    f"{ours[keyword]!r} ({same})"
                )
    commands = {mode: f["command"] for (mode, _), f in results.items()}
    for mode, command in commands.items():
        lines.append(f"irisdq command ({mode}): {command}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nints", type=int, default=2)
    parser.add_argument("--ngroups", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the files")
    parser.add_argument(
        "--jwst-python",
        default=os.environ.get(JWST_PYTHON_VARIABLE),
        help=f"Python of an environment where jwst is installed "
        f"(default: ${JWST_PYTHON_VARIABLE})",
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated cases to run"
    )
    parser.add_argument(
        "--no-crds", action="store_true", help="only the override comparison"
    )
    args = parser.parse_args()
    if not args.jwst_python:
        sys.exit(f"give --jwst-python or ${JWST_PYTHON_VARIABLE}")
    cases = args.cases.split(",")
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    results = {}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="irisdq-jwst-") as name:
        folder = Path(name)
        # Children run from here: "python -c" puts its working folder first
        # on sys.path, and benchmarks/crds.py would shadow jwst's crds.
        os.chdir(folder)
        # The override runs use an empty cache: nothing is selected there.
        env_jwst = jwst_environment(folder / "empty_cache", "jwst_0000.pmap")
        make_files(args.jwst_python, folder, args.nints, args.ngroups, env_jwst)
        env_irisdq = dict(os.environ)
        for variable in list(env_irisdq):
            if variable.startswith("CRDS_"):
                del env_irisdq[variable]
        env_irisdq.pop("PYTHONDONTWRITEBYTECODE", None)
        profile_option = has_profile_option(env_irisdq)
        for case in cases:
            results["override", case] = measure_case(
                case, folder, args.jwst_python, args.repeat, env_jwst, env_irisdq,
                crds=False, profile_option=profile_option,
            )  # fmt: skip
        if not args.no_crds:
            cache = folder / "jwst_crds"
            build_cache(cache, folder / "masks")
            env_jwst = jwst_environment(cache, CONTEXT)
            env_irisdq.update(CRDS_PATH=str(cache), CRDS_CONTEXT=CONTEXT)
            if not profile_option:
                # An irisdq from before the profiles reads tmt contexts unless
                # told the observatory (irisdq.crds.cache.OBSERVATORY_VARIABLE).
                env_irisdq["CRDS_OBSERVATORY"] = "jwst"
            for case in cases:
                results["crds", case] = measure_case(
                    case, folder, args.jwst_python, args.repeat, env_jwst,
                    env_irisdq, crds=True, profile_option=profile_option,
                )  # fmt: skip
        os.chdir(Path.home())
    print(report(results, args.repeat, args.nints, args.ngroups))


if __name__ == "__main__":
    main()
