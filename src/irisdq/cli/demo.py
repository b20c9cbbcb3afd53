"""``irisdq demo``: the whole pipeline stage on synthetic data, in one command."""

EPILOG = """\
The demo folder gets:
  crds_cache/   a CRDS cache whose MASK reference is a 4096 x 4096 TMTMaskModel
                (reference-pixel border, dead and hot pixels, a dead column,
                a hot cluster)
  raw/          synthetic IRIS raw ramps without DQ arrays (full frame and
                subarrays)
  out/          the DQ-initialized ramps (<base>_dqinit.fits)
  mask.png, pixeldq.png   the mask, and the PIXELDQ of one output

CRDS_PATH points at the demo's own cache while the demo runs; your
environment and ~/crds_cache are not touched. About 550 MB of disk.

The demo replaces no file it did not make: DIR must be new, empty, or the
folder of an earlier demo (marked by its .irisdq-demo file), and nothing
is written outside it.

exit status: 0 success, 1 some ramp failed, 2 usage or input error
"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "demo",
        help="build a CRDS cache and raw ramps, and run DQ initialization on them",
        description="Build a CRDS cache with a synthetic bad-pixel mask and a few "
        "synthetic IRIS raw ramps in DIR, run DQ initialization on all of them "
        "through CRDS selection on a local Dask cluster, print what was flagged "
        "and why that mask was chosen, and draw the mask and one output's PIXELDQ.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "folder",
        nargs="?",
        default="irisdq-demo",
        metavar="DIR",
        help="the demo folder: new, empty, or an earlier demo's (default "
        "./irisdq-demo)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="local Dask worker processes (default 2; 0 runs in this process)",
    )
    parser.add_argument(
        "--no-plots", action="store_true", help="do not draw the PNG plots"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from irisdq.demo import run_demo

    result = run_demo(
        args.folder, workers=args.workers or None, plots=not args.no_plots
    )
    print(f"\ndone: {result.folder}")
    return 0 if result.ok else 1
