"""``irisdq dq-init``: initialize the DQ arrays of raw ramps."""

import sys

EPILOG = """\
The mask is the CRDS best reference for reftype MASK (see 'irisdq crds
bestref FILE --reftype mask --explain') unless --override-mask is given.
Each output is <base>_dqinit.fits beside its input (a suffix such as _uncal
is replaced), or in --output-dir. One line is printed per file: the output,
the mask used and the pixels flagged per flag.

exit status: 0 all files succeeded, 1 some failed, 2 usage or input error
"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "dq-init",
        help="initialize PIXELDQ/GROUPDQ of raw ramps from the bad-pixel mask",
        description="Initialize the DQ arrays of IRIS raw ramps: pick the MASK "
        "reference, create PIXELDQ/GROUPDQ if missing, cut the subarray, OR the "
        "flags in and record S_DQINIT, R_MASK and CRDS_CTX.",
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
    parser.set_defaults(func=run)


def run(args) -> int:
    from irisdq.dq_init import DQInitStep
    from irisdq.errors import IrisDQError

    if args.output and len(args.files) > 1:
        raise IrisDQError(
            f"-o/--output names one file but {len(args.files)} inputs were given; "
            "use --output-dir"
        )
    if args.output and args.in_place:
        raise IrisDQError("--in-place writes into the input; drop -o/--output")
    params = {
        "override_mask": args.override_mask,
        "user_supplied_dq": args.user_dq,
        "output_file": args.output,
        "output_dir": args.output_dir,
        "inplace": args.in_place,
        "overwrite": args.overwrite,
    }
    failed = 0
    for path in args.files:
        step = DQInitStep(**params)
        try:
            step.run(path)
        except (IrisDQError, OSError) as exc:
            if len(args.files) == 1 or args.debug:
                raise
            failed += 1
            print(f"irisdq: error: {' '.join(str(exc).split())}", file=sys.stderr)
            continue
        print(step.summary.line())
    return 1 if failed else 0
