"""``irisdq mask build``: a bad-pixel mask from flat fields and darks.

:func:`register_build` adds the ``build`` action to the subparsers of
``irisdq mask``; :func:`run_build` runs it. Errors are raised as
:class:`~irisdq.errors.IrisDQError` (or ``OSError``) for the command line's
entry point to print as one line.
"""

import argparse
import logging
import sys
from pathlib import Path

EPILOG = """\
Inputs are 2-D count-rate images, 3-D rate cubes (one frame per
integration) or 4-D ramps (one slope per integration, ordinary least
squares over the groups, TGROUP seconds apart). Flats give DEAD, LOW_QE,
OPEN and ADJ_OPEN (normalised response: each frame divided by its median,
median of the frames, divided by a block-median model of the
illumination); darks give HOT and WARM (lower median of the frames, robust
to a cosmic ray in one frame) and noisy pixels (scatter across 3 or more
darks). Rules and defaults: docs/mask_build.rst.

examples:
  irisdq mask build --flats flat_*.fits --darks dark_*.fits -o mask.fits
  irisdq mask build --darks dark_*_ramp.fits -o hot.fits --hot 0.5 --no-plot

The report (pixels per flag, thresholds) is printed; a picture of the
flagged pixels and the histograms is saved beside OUT as <OUT stem>_report.png
when matplotlib is installed (pip install 'irisdq[plot]').
"""


def register_build(subparsers) -> argparse.ArgumentParser:
    """Add the ``build`` action to ``subparsers`` and return its parser."""
    # Not badpix: the defaults are shown without loading numpy.
    from irisdq.cli.mask import add_do_not_use_option, add_profile_option
    from irisdq.reffiles.thresholds import Thresholds

    defaults = Thresholds()
    parser = subparsers.add_parser(
        "build",
        help="build a mask from flat-field and dark files",
        description="Build a bad-pixel mask (a TMTMaskModel FITS file, or a "
        "JWST MaskModel or Liger/IRIS DQModel with --profile) from flat-field "
        "and dark exposures, streamed in row blocks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--flats", nargs="+", default=[], metavar="F", help="flat-field files"
    )
    parser.add_argument(
        "--darks", nargs="+", default=[], metavar="D", help="dark files"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT.fits", help="the mask to write"
    )
    parser.add_argument(
        "--detector", default="IRIS1", help="DETECTOR keyword (default IRIS1)"
    )
    parser.add_argument(
        "--useafter", help="USEAFTER, e.g. 2026-01-01 (default 2000-01-01)"
    )
    parser.add_argument("--author", help="AUTHOR (default: the user)")
    parser.add_argument("--description", help="DESCRIP")
    parser.add_argument(
        "--pedigree", default="GROUND", help="PEDIGREE (default GROUND)"
    )
    add_profile_option(parser)
    parser.add_argument(
        "--refpix",
        type=_count,
        default=4,
        metavar="N",
        help="reference-pixel border on each detector edge, flagged "
        "REFERENCE_PIXEL (default 4; 0 for none)",
    )
    add_do_not_use_option(parser)
    parser.add_argument(
        "--noisy-flag",
        default="UNRELIABLE_SLOPE",
        metavar="NAME",
        help="flag of noisy pixels (default UNRELIABLE_SLOPE; TELEGRAPH when "
        "the noise is known to be telegraph noise)",
    )
    rules = parser.add_argument_group("thresholds")
    for name, text in (
        ("dead", "DEAD below this normalised flat response"),
        ("low_qe", "LOW_QE (or OPEN) below this normalised response"),
        ("open_neighbour", "OPEN: all 4 side neighbours above this response"),
        ("hot", "HOT above this dark rate (the darks' units)"),
        ("warm", "WARM above this dark rate"),
        ("noisy_sigma", "noisy: scatter this many robust sigmas above typical"),
    ):
        rules.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            default=getattr(defaults, name),
            metavar="X",
            help=f"{text} (default {getattr(defaults, name):g})",
        )
    rules.add_argument(
        "--illumination-box",
        type=_count,
        default=defaults.illumination_box,
        metavar="N",
        help="side of the blocks whose medians model the illumination "
        f"(default {defaults.illumination_box})",
    )
    parser.add_argument(
        "--group-time",
        type=float,
        metavar="SECONDS",
        help="seconds between groups of ramp inputs (default: their TGROUP)",
    )
    parser.add_argument(
        "--block-rows",
        type=_count,
        default=256,
        metavar="N",
        help="rows read from every frame at a time (memory, not the result)",
    )
    picture = parser.add_mutually_exclusive_group()
    picture.add_argument(
        "--plot",
        metavar="PNG",
        help="where to save the picture (default <OUT stem>_report.png)",
    )
    picture.add_argument("--no-plot", action="store_true", help="draw no picture")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT (and the picture)"
    )
    parser.set_defaults(func=run_build)
    return parser


def run_build(args: argparse.Namespace) -> int:
    """Build the mask ``args`` describe, write it, print the report.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    IrisDQError
        Bad input (the message names the file or parameter and the value),
        an unknown ``--profile``.
    FileExistsError
        If the mask or the picture exists and ``--overwrite`` was not given
        (checked before any work).
    """
    from irisdq.cli.mask import do_not_use_flags
    from irisdq.datamodels.files import file_identity, refuse_output_over_input
    from irisdq.errors import IrisDQError
    from irisdq.profiles import get_profile
    from irisdq.reffiles.build import build_mask
    from irisdq.reffiles.report import format_report
    from irisdq.reffiles.thresholds import Thresholds

    layout = get_profile(args.profile).mask
    output = Path(args.output)
    picture = None
    if not args.no_plot:
        picture = Path(args.plot or output.with_name(f"{output.stem}_report.png"))
    refuse_output_over_input(
        [("-o", output), ("--plot", picture)],
        [("flat", path) for path in args.flats]
        + [("dark", path) for path in args.darks],
    )
    for path in (output, picture):
        if path is not None and not args.overwrite and path.exists():
            raise FileExistsError(
                17, "already exists; pass --overwrite to replace it", str(path)
            )
        if path is not None:
            _check_writable(path)
    if picture is not None:
        from irisdq.plots import check_output

        # A name matplotlib cannot save is found before the mask is written.
        check_output(picture, overwrite=True)
    seen: dict[tuple, str] = {}
    for path in (*args.flats, *args.darks):
        if not Path(path).is_file():
            raise IrisDQError(f"{path}: no such file; give existing FITS files")
        key = file_identity(path)
        if key in seen:
            raise IrisDQError(
                f"{path} is the file {seen[key]} given again; each frame must "
                "count once: give every file once"
            )
        seen[key] = path
    do_not_use = do_not_use_flags(args.do_not_use)
    thresholds = Thresholds(
        dead=args.dead,
        low_qe=args.low_qe,
        open_neighbour=args.open_neighbour,
        hot=args.hot,
        warm=args.warm,
        noisy_sigma=args.noisy_sigma,
        illumination_box=args.illumination_box,
    )
    result = build_mask(
        args.flats,
        args.darks,
        detector=args.detector,
        thresholds=thresholds,
        refpix=args.refpix,
        do_not_use=do_not_use,
        noisy_flag=args.noisy_flag,
        useafter=args.useafter,
        author=args.author,
        description=args.description,
        pedigree=args.pedigree,
        group_time=args.group_time,
        block_rows=args.block_rows,
        dq_bits=get_profile(args.profile).ramp.dq_bits,
    )
    result.mask.file_layout = layout
    path = result.mask.write(output, overwrite=args.overwrite)
    if result.left_out:
        listed = ", ".join(result.left_out)
        logging.getLogger("irisdq").warning(
            "a %s ramp's DQ cannot hold %s: left out of the mask, their pixels "
            "flagged DO_NOT_USE (see the note)",
            args.profile,
            listed,
        )
    if 0 < result.dark_frames < 3:
        logging.getLogger("irisdq").warning(
            "only %d dark frames: no noisy-pixel search, so no %s flags (see "
            "the note); give 3 or more darks",
            result.dark_frames,
            result.noisy_flag,
        )
    print(f"wrote {path}")
    print(format_report(result))
    if picture is not None:
        if _have_matplotlib():
            from irisdq.reffiles.report import plot_report

            print(f"wrote {plot_report(result, picture, overwrite=args.overwrite)}")
        else:
            print(
                "no pictures: matplotlib is not installed (pip install 'irisdq[plot]')"
            )
    sys.stdout.flush()
    return 0


def _check_writable(path: Path) -> None:
    """Refuse, before any work, an output whose folder cannot be made or
    written (the nearest existing folder above it decides)."""
    import os

    from irisdq.errors import IrisDQError

    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise IrisDQError(
            f"{path}: cannot be written, {folder} is not a folder; give another name"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise IrisDQError(
            f"{path}: cannot be written, the folder {folder} is not writable; "
            "give another name"
        )


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value
