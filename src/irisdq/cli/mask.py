"""``irisdq mask``: create, inspect and plot bad-pixel masks."""

import argparse
import sys


def register(subparsers) -> None:
    # Not reffiles.check: the defaults are shown without loading numpy.
    from irisdq.reffiles.thresholds import DEFAULT_DO_NOT_USE

    parser = subparsers.add_parser(
        "mask",
        help="create, inspect and plot bad-pixel masks",
        description="Create a full-frame bad-pixel mask (a TMTMaskModel FITS "
        "file, or a JWST MaskModel or Liger/IRIS DQModel with --profile), print "
        "what a mask flags, or draw it.",
    )
    commands = parser.add_subparsers(dest="mask_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _missing_action(parser))

    create = commands.add_parser(
        "create",
        help="write a mask with the given pixels flagged",
        description="Write a full-frame mask with flags set on pixels. x is "
        "the column and y the row, 0-based like numpy (dq[y, x]) unless "
        "--one-based. Example: irisdq mask create mask.fits --flag DEAD:12,34 "
        "--flag HOT+DO_NOT_USE:100,7",
    )
    create.add_argument("output", metavar="OUT.fits", help="the mask file to write")
    create.add_argument(
        "--detector", default="IRIS1", help="DETECTOR keyword (default IRIS1)"
    )
    create.add_argument(
        "--shape",
        metavar="NYxNX",
        help="rows x columns of a detector whose size irisdq does not know "
        "(a Liger detector such as IMG1: e.g. 2048x2048); an IRIS detector is "
        "4096x4096",
    )
    create.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="NAME:X,Y",
        help="flag pixel (X, Y) with NAME (several names joined by +); repeatable",
    )
    create.add_argument(
        "--from-csv",
        metavar="FILE",
        help="read pixels from a CSV file with columns x,y,flag",
    )
    create.add_argument(
        "--useafter",
        metavar="DATE",
        help="USEAFTER: the first observation date the mask is for, e.g. "
        "2015-10-01 or 2015-10-01T00:00:00 (default 2000-01-01); 'irisdq mask "
        "info' says which CRDS rule would select the mask",
    )
    create.add_argument(
        "--one-based",
        action="store_true",
        help="X and Y count from 1 (as in ds9) instead of 0",
    )
    add_profile_option(create)
    add_do_not_use_option(create)
    create.add_argument(
        "--overwrite", action="store_true", help="replace OUT.fits if it exists"
    )
    create.set_defaults(func=_create)

    info = commands.add_parser(
        "info",
        help="print shape, keywords and pixels per flag",
        description="Print a mask's shape, its main keywords, the number "
        "of pixels that have each flag, and what the CRDS context selects for "
        "the mask's detector and subarray at its USEAFTER date (this file or "
        "another). A mask whose DATASUM or CHECKSUM "
        "does not match is still described, with a 'checksum BAD' line per "
        "problem (the DQ init step refuses it).",
    )
    info.add_argument("file", metavar="FILE", help="a mask FITS file")
    info.set_defaults(func=_info)

    plot = commands.add_parser(
        "plot",
        help="draw the flagged pixels and a bar chart of counts",
        description="Save a picture of the mask's DQ in detector coordinates "
        "(1-based, FITS; a subarray mask is placed by SUBSTRT1/2): every flag "
        "but DO_NOT_USE in its own colour, DO_NOT_USE beside it, and the "
        "pixels per flag. 'irisdq plot' draws any DQ array. Needs matplotlib "
        '(pip install "irisdq[plot]").',
    )
    plot.add_argument("file", metavar="FILE", help="a mask FITS file")
    plot.add_argument(
        "-o",
        "--output",
        default="mask.png",
        help="image to write, .png, .pdf, .svg, ... (default mask.png)",
    )
    plot.add_argument(
        "--overwrite", action="store_true", help="replace the image if it exists"
    )
    plot.set_defaults(func=_plot)

    from irisdq.cli.mask_build import register_build

    register_build(commands)

    check = commands.add_parser(
        "check",
        help="list a mask's problems before delivering it",
        description="Check a mask: DQ values the file does not name, DQ_DEF "
        "rows that are not single bits or clash with the flag convention, "
        "severe flags without DO_NOT_USE, shape and SUBSTRT/SUBSIZE, the "
        "keywords the context's mask rmap selects on (when there is a context, "
        "or with --context), checksums. One line per "
        "problem; exit status 1 when there is any, 0 when none, 2 when the "
        "file cannot be read. Example: irisdq mask check mask.fits",
    )
    check.add_argument("file", metavar="MASK.fits", help="a mask FITS file")
    check.add_argument(
        "--context",
        help="pmap whose mask rmap must select it (default: as 'irisdq crds list')",
    )
    check.add_argument(
        "--severe",
        default=",".join(DEFAULT_DO_NOT_USE),
        metavar="FLAGS",
        help="flags that need DO_NOT_USE, comma-separated (default "
        f"{','.join(DEFAULT_DO_NOT_USE)}, the flags mask create and mask build "
        "give DO_NOT_USE)",
    )
    check.set_defaults(func=_check)


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--profile``: whose mask layout the written file follows."""
    parser.add_argument(
        "--profile",
        default="tmt",
        metavar="tmt|jwst|liger",
        help="write the mask as that pipeline does: tmt, a TMTMaskModel "
        "(REFTYPE MASK); jwst, a JWST MaskModel (TELESCOP JWST, DQ_DEF VALUE "
        "uint32); liger, a Liger/IRIS DQModel (REFTYPE dq, DQ_DEF VALUE int32). "
        "Default tmt",
    )


def add_do_not_use_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--do-not-use``: the flags whose pixels also get DO_NOT_USE."""
    from irisdq.reffiles.thresholds import DEFAULT_DO_NOT_USE

    parser.add_argument(
        "--do-not-use",
        default=",".join(DEFAULT_DO_NOT_USE),
        metavar="NAMES",
        help="flags that also get DO_NOT_USE, comma-separated, or 'none' "
        f"(default {','.join(DEFAULT_DO_NOT_USE)}, what 'mask check' expects)",
    )


def do_not_use_flags(text: str) -> tuple[str, ...]:
    """The flag names of a ``--do-not-use`` value (``'none'``: no flag).

    Examples
    --------
    >>> do_not_use_flags("DEAD,hot+OPEN"), do_not_use_flags("none")
    (('DEAD', 'hot', 'OPEN'), ())
    """
    names = text.strip()
    if names.lower() == "none":
        return ()
    return tuple(
        name.strip() for name in names.replace("+", ",").split(",") if name.strip()
    )


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print(
        "irisdq mask: error: choose an action: create, info, plot, build or check",
        file=sys.stderr,
    )
    return 2


def _create(args) -> int:
    from irisdq.datamodels.files import refuse_output_over_input
    from irisdq.profiles import get_profile
    from irisdq.reffiles.pixels import (
        mask_from_pixels,
        parse_pixel_flag,
        parse_shape,
        read_pixel_csv,
    )

    layout = get_profile(args.profile).mask
    useafter = _useafter(args.useafter) if args.useafter is not None else None
    refuse_output_over_input(
        [("OUT.fits", args.output)], [("--from-csv", args.from_csv)]
    )
    pixels = [parse_pixel_flag(spec) for spec in args.flag]
    if args.from_csv:
        pixels += read_pixel_csv(args.from_csv)
    mask = mask_from_pixels(
        pixels,
        detector=args.detector,
        one_based=args.one_based,
        shape=None if args.shape is None else parse_shape(args.shape),
        do_not_use=do_not_use_flags(args.do_not_use),
    )
    mask.file_layout = layout
    if useafter is not None:
        mask.meta.useafter = useafter
    path = mask.write(args.output, overwrite=args.overwrite)
    print(f"wrote {path}: {len(pixels)} pixel flag(s) on {args.detector}")
    return 0


def _useafter(text: str) -> str:
    """USEAFTER as CRDS writes it (``2015-10-01T00:00:00``)."""
    import datetime

    from irisdq.errors import IrisDQError

    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise IrisDQError(
            f"--useafter {text!r} is not a date; give e.g. 2015-10-01 or "
            "2015-10-01T00:00:00"
        ) from None
    return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


_NOT_SHARED = frozenset(
    {"DATE-OBS", "TIME-OBS", "SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2"}
)


def crds_selection(path: str, keywords) -> str:
    """What the CRDS context selects for a mask's detector and subarray at
    its USEAFTER date: this file, another one, or nothing (and why).

    Parameters
    ----------
    path : str
        The mask file.
    keywords : dict
        Its primary-header keywords.

    Returns
    -------
    str
        One line for ``irisdq mask info``.
    """
    from pathlib import Path

    from irisdq.errors import IrisDQError
    from irisdq.exposure import resolve

    profile = resolve(path).profile
    useafter = str(keywords.get("USEAFTER", ""))
    date, _, time = useafter.partition("T")
    # What an exposure the mask serves shares with it: the keywords the
    # profile's rmaps select on, but not the mask's own placement or date.
    shared = {
        source
        for source in profile.parameters.values()
        if isinstance(source, str) and source not in _NOT_SHARED
    }
    exposure = {name: value for name, value in keywords.items() if name in shared}
    dataset = profile.crds_parameters(profile.dated(exposure, date, time or "00:00:00"))
    where = (
        f"an exposure of {exposure.get('DETECTOR', '?')} "
        f"{exposure.get('SUBARRAY', '?')} taken at the USEAFTER ({useafter})"
    )
    reftype = profile.reftypes[0]
    try:
        context = resolve(dataset, profile).context()
        reftype = profile.reftype_in(context, dataset)
        # Selected by name: the file need not be in the cache (yet).
        selection = context.select(dataset, reftype)
        chosen = selection.filename
    except IrisDQError as exc:
        # The line says why no mask is chosen (no rule so early, no context).
        reason = " ".join(str(exc).split())
        return f"crds      no {reftype.upper()} selected for {where}: {reason}"
    if chosen == "N/A":
        return (
            f"crds      {context.name}: {reftype.upper()} does not apply (N/A) "
            f"to {where}"
        )
    if isinstance(chosen, tuple):
        chosen = ", ".join(Path(name).name for name in chosen)
    name = Path(chosen).name
    if name != Path(path).name:
        verdict = f"not this file ({Path(path).name}): CRDS selects by file name"
    elif not selection.exists or not isinstance(selection.path, Path):
        verdict = "this file, by its name (the cache does not hold it yet)"
    else:
        verdict = _same_mask(path, selection.path)
    return (
        f"crds      {context.name} selects {name} ({reftype.upper()}) for {where}: "
        f"{verdict}"
    )


def _same_mask(path: str, cached) -> str:
    """Whether the cache's file of a mask's name is that mask: the same
    file, or the same flags; CRDS selects by name alone."""
    import warnings

    import numpy as np

    from irisdq.datamodels import DataModelWarning
    from irisdq.datamodels.files import file_identity
    from irisdq.errors import IrisDQError

    if file_identity(path) == file_identity(cached):
        return "this file"
    try:
        with warnings.catch_warnings():
            # Checksum problems are info's own lines, not this comparison's.
            warnings.simplefilter("ignore", DataModelWarning)
            with (
                _open_mask(path, accept_bad_checksums=True) as mine,
                _open_mask(str(cached), accept_bad_checksums=True) as theirs,
            ):
                same = mine.dq.shape == theirs.dq.shape and bool(
                    np.array_equal(mine.dq, theirs.dq)
                )
    except IrisDQError as exc:
        return (
            f"a file of this name, {cached}, which cannot be compared "
            f"({' '.join(str(exc).split())})"
        )
    if same:
        return f"this file (the cache's copy, {cached}, has the same flags)"
    return (
        f"NOT this file: the cache's {cached} has this name but other flags, "
        "and CRDS would use that one; rename this mask before delivering it"
    )


def _open_mask(path: str, *, accept_bad_checksums: bool | None = None):
    # Imported here so that ``irisdq --help`` does not load numpy.
    from irisdq import datamodels
    from irisdq.errors import DataModelError

    model = datamodels.open(path, accept_bad_checksums=accept_bad_checksums)
    if not isinstance(model, datamodels.TMTMaskModel):
        model.close()
        raise DataModelError(f"{path}: a {type(model).__name__}, not a mask")
    return model


def _info(args) -> int:
    import warnings

    from irisdq.datamodels import DataModelWarning
    from irisdq.reffiles.pixels import format_mask_info

    # A damaged file is still described; its checksum problems are stated
    # in the output rather than as warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataModelWarning)
        with _open_mask(args.file, accept_bad_checksums=True) as mask:
            text = format_mask_info(mask)
            problems = mask.checksum_problems
            keywords = mask.get_fits_keywords()
    print(f"file      {args.file}")
    for problem in problems:
        print(f"checksum  BAD: {problem}")
    print(text)
    with warnings.catch_warnings():
        # The file's header was read above, its warnings shown once: the
        # profile and selection read it again.
        warnings.simplefilter("ignore")
        line = crds_selection(args.file, keywords)
    print(line)
    return 0


def _plot(args) -> int:
    from irisdq.datamodels.files import refuse_output_over_input
    from irisdq.plots import check_output, plot_mask, require_matplotlib

    # All said before the mask is read.
    refuse_output_over_input([("-o", args.output)], [("mask", args.file)])
    check_output(args.output, overwrite=args.overwrite)
    require_matplotlib()
    with _open_mask(args.file) as mask:
        path = plot_mask(mask, args.output, overwrite=args.overwrite)
    print(f"wrote {path}")
    return 0


def _check(args) -> int:
    from irisdq.errors import IrisDQError
    from irisdq.exposure import resolve
    from irisdq.reffiles.check import check_mask_file

    severe = [flag for flag in args.severe.split(",") if flag.strip()]
    # The context of the mask's own pipeline's observatory, unless given.
    exposure = resolve(args.file, role="a mask")
    if args.context is not None:
        context, unchecked = exposure.context(args.context), None
    else:
        # Without a context, the content is still checked; only the
        # selection waits for one.
        try:
            context, unchecked = exposure.context(), None
        except IrisDQError as exc:
            context, unchecked = None, " ".join(str(exc).split())
    findings = check_mask_file(args.file, context=context, severe=severe)
    for finding in findings:
        print(f"{args.file}: {finding}")
    if unchecked is not None:
        print(
            f"{args.file}: note: CRDS selection not checked, no "
            f"{exposure.profile.observatory} "
            f"context: {unchecked}; give --context to check it"
        )
    if not findings:
        print(f"{args.file}: no problems found")
    return 1 if findings else 0
