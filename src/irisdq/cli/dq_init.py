"""``irisdq dq-init``: initialize the DQ arrays of raw ramps."""

import sys

EPILOG = """\
The mask is the CRDS best reference for reftype MASK (see 'irisdq crds
bestref FILE --reftype mask --explain') unless --override-mask is given.
Each output is <base>_dqinit.fits beside its input (a suffix such as _uncal
is replaced), or in --output-dir. Files run one after another, or in
parallel with --workers N (a local Dask cluster), or --scheduler ADDR or
--scheduler-file FILE (an existing one: this process chooses every mask and
context, the workers only apply them); a file that fails does not stop the
others. On a terminal a
progress bar is drawn, otherwise one line per file; at the end a table
gives each file's status, seconds, mask used and pixels flagged.
--resume keeps outputs that exist, pass their checksums and record the same
mask, context and options, so a run that was stopped can be started again.

examples:
  irisdq dq-init night/*_uncal.fits --output-dir out --workers 2
  irisdq dq-init night/*_uncal.fits --output-dir out --resume --report run.json
  irisdq dq-init night/*_uncal.fits --output-dir out --scheduler tcp://127.0.0.1:8786
  irisdq dq-init night/*_uncal.fits --output-dir out --scheduler-file s.json --wait 600

exit status: 0 all files succeeded, 1 some failed, 2 usage or input error,
130 interrupted (Ctrl-C or SIGTERM; the files finished are reported)
"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "dq-init",
        help="initialize PIXELDQ/GROUPDQ of raw ramps from the bad-pixel mask",
        description="Initialize the DQ arrays of raw ramps: pick the bad-pixel "
        "reference (MASK, or dq for Liger/IRIS), create the DQ arrays if "
        "missing, cut the subarray, OR the flags in and record S_DQINIT, "
        "R_MASK (R_DQ) and CRDS_CTX. TMT IRIS, JWST and Liger/IRIS files are "
        "told apart by their header and extensions (see 'irisdq profiles').",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="raw ramp files")
    parser.add_argument(
        "--override-mask",
        metavar="PATH|N/A",
        help="use this mask file instead of the CRDS best reference; N/A skips "
        "the step (the output records S_DQINIT = SKIPPED)",
    )
    parser.add_argument(
        "--override-dq",
        metavar="PATH|N/A",
        help="the same as --override-mask, by the Liger/IRIS name of the "
        "reference type (dq)",
    )
    parser.add_argument(
        "--profile",
        choices=_profile_names(),
        type=str.lower,
        help="the files' convention (observatory, extensions, keywords); by "
        "default chosen from each file ('irisdq profiles' lists them)",
    )
    parser.add_argument(
        "--narrow-dq",
        choices=("drop", "do-not-use"),
        help="flags 16..31 cannot be kept in a uint16 DQ array (Liger): leave "
        "them out (drop), or leave them out and set DO_NOT_USE where they "
        "were (do-not-use); without it such flags are an error naming them",
    )
    parser.add_argument(
        "--substrt",
        type=_position,
        metavar="COL,ROW",
        help="where ramps without SUBSTRT1/SUBSTRT2 lie on the detector: the "
        "1-based column and row of their first pixel; recorded in the outputs "
        "as SUBSTRT1/2 (and SUBSIZE1/2); a ramp with SUBSTRT1/2 must agree",
    )
    parser.add_argument(
        "--user-dq",
        metavar="PATH",
        help="a FITS image of extra flags, the shape of the (cut) mask, ORed "
        "into the mask for these files",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="the output file (one input only)",
    )
    parser.add_argument(
        "--output-dir", metavar="DIR", help="folder for the outputs (created)"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="rewrite the inputs' header and DQ extensions instead of writing "
        "new files",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing output files"
    )
    scale = parser.add_argument_group("many files")
    where = scale.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (127.0.0.1; at "
        "most 4 per core, each with an equal share of the memory); 0 runs in "
        "this process (the default)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDR|FILE",
        help="run on an existing Dask scheduler: tcp://HOST:PORT or a scheduler file",
    )
    where.add_argument(
        "--scheduler-file",
        metavar="FILE",
        help="run on the Dask scheduler that writes FILE (dask scheduler "
        "--scheduler-file, dask-mpi, a batch job); waits for the file to appear",
    )
    scale.add_argument(
        "--wait",
        type=_seconds,
        metavar="SECONDS",
        help="with --scheduler or --scheduler-file: end the run with an error "
        "if no scheduler and worker are there after SECONDS (by default it "
        "waits, and says so after a few seconds)",
    )
    scale.add_argument(
        "--resume",
        action="store_true",
        help="keep outputs that exist, pass their FITS checksums and record "
        "what this run would (mask, CRDS context, --user-dq, --narrow-dq, "
        "--substrt); redo the others and say why",
    )
    scale.add_argument(
        "--report",
        metavar="JSON",
        help="write the per-file results (status, seconds, mask, pixels "
        "flagged, error) to this JSON file; an existing file is replaced only "
        "with --overwrite (or, with --resume, when it is an earlier report), "
        "and never an input or an output of the run",
    )
    # Each file's result line goes to stdout: -v does not log it again.
    parser.set_defaults(func=run, prints_results=True)


def _profile_names() -> list[str]:
    from irisdq.profiles import PROFILES

    return list(PROFILES)


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, not {text!r}")
    return value


def _position(text: str) -> tuple[int, int]:
    import argparse

    from irisdq.dq_init.step import parse_substrt
    from irisdq.errors import DataModelError

    try:
        return parse_substrt(text)
    except DataModelError:
        raise argparse.ArgumentTypeError(
            f"must be the 1-based column and row of the first pixel, two "
            f"integers >= 1 as COL,ROW (SUBSTRT1,SUBSTRT2), not {text!r}"
        ) from None


def _seconds(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds > 0, not {text!r}"
        )
    return value


def run(args) -> int:
    from irisdq.batch import require_distributed
    from irisdq.batch.interrupt import sigterm_as_interrupt
    from irisdq.batch.progress import BatchDisplay
    from irisdq.batch.report import check_report, print_table, write_report
    from irisdq.dq_init.plan import Status
    from irisdq.errors import IrisDQError

    if args.workers:
        require_distributed("--workers")
    if args.scheduler:
        require_distributed("--scheduler")
    if args.scheduler_file:
        require_distributed("--scheduler-file")
    if args.wait is not None and not (args.scheduler or args.scheduler_file):
        raise IrisDQError(
            "--wait limits the wait for an existing scheduler: give "
            "--scheduler or --scheduler-file with it"
        )
    if args.output and len(args.files) > 1:
        raise IrisDQError(
            f"-o/--output names one file but {len(args.files)} inputs were given; "
            "use --output-dir"
        )
    if args.output and args.in_place:
        raise IrisDQError("--in-place writes into the input; drop -o/--output")
    if args.resume and args.in_place:
        raise IrisDQError(
            "--resume keeps existing outputs; it cannot go with --in-place"
        )
    params = {
        "override_mask": args.override_mask,
        "override_dq": args.override_dq,
        "profile": args.profile,
        "narrow_dq": args.narrow_dq,
        "substrt": args.substrt,
        "user_supplied_dq": args.user_dq,
        "output_file": args.output,
        "inplace": args.in_place,
        "overwrite": args.overwrite,
    }
    # Checked before any file is processed: a run must not end by
    # destroying a file with its report.
    replace_report = args.report is not None and check_report(
        args.report,
        args.files,
        params,
        output_dir=args.output_dir,
        scheduler=args.scheduler,
        scheduler_file=args.scheduler_file,
        resume=args.resume,
    )
    display = BatchDisplay(len(args.files), live=sys.stderr.isatty())
    interrupted = False
    with sigterm_as_interrupt():
        try:
            results = _run_batch(args, params, display)
        except KeyboardInterrupt as exc:
            results = getattr(exc, "results", None)
            if results is None:
                raise
            interrupted = True
    display.close()
    if args.report:
        write_report(
            args.report,
            results,
            display.elapsed(),
            interrupted,
            overwrite=replace_report,
        )
    failed = [result for result in results if result.status is Status.FAILED]
    single = len(results) == 1 and not _batch_mode(args)
    if single and failed and not interrupted:
        # One file on its own: an input error, as for every other command
        # (its one-line reason is already on stderr).
        return 2
    if not single or interrupted:
        print_table(results, sys.stdout)
        print(display.totals(results, interrupted))
    if interrupted:
        return 130
    return 1 if failed else 0


def _batch_mode(args) -> bool:
    return bool(
        args.workers
        or args.scheduler
        or args.scheduler_file
        or args.resume
        or args.report
    )


def _run_batch(args, params, display):
    from irisdq import batch

    return batch.run(
        args.files,
        output_dir=args.output_dir,
        workers=args.workers or None,
        scheduler=args.scheduler,
        scheduler_file=args.scheduler_file,
        wait=args.wait,
        resume=args.resume,
        progress=display.update,
        **params,
    )
