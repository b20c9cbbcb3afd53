"""``irisdq plot``: draw any DQ array of a mask or a ramp."""

import argparse

EXTENSIONS = ("DQ", "PIXELDQ", "GROUPDQ")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="draw a DQ array: a mask's DQ, a ramp's PIXELDQ or GROUPDQ",
        description="Save a picture of a DQ array in detector coordinates "
        "(1-based, FITS; a subarray is placed by SUBSTRT1/2): every flag but "
        "DO_NOT_USE in its own colour, DO_NOT_USE beside it, and the pixels "
        "per flag. A large array is binned for display; a picture pixel has "
        "a flag when any pixel under it has. Needs matplotlib "
        '(pip install "irisdq[plot]").',
    )
    parser.add_argument("file", metavar="FILE", help="a mask or a ramp (FITS)")
    parser.add_argument(
        "--ext",
        type=str.upper,
        choices=EXTENSIONS,
        help="the DQ array to draw (default: DQ of a mask or a Liger ramp, "
        "PIXELDQ of a ramp)",
    )
    parser.add_argument(
        "--int",
        dest="integration",
        type=int,
        metavar="N",
        help="GROUPDQ: the integration, 1-based (default 1)",
    )
    parser.add_argument(
        "--group",
        type=int,
        metavar="N",
        help="GROUPDQ, or DQ of a Liger ramp: the group, 1-based (default 1)",
    )
    parser.add_argument(
        "--read",
        type=int,
        metavar="N",
        help="DQ of a Liger ramp: the read, 1-based (default 1)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="image to write: .png, .pdf, .svg, ...",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the image if it exists"
    )
    parser.set_defaults(func=_plot)


def _plot(args: argparse.Namespace) -> int:
    # Imported here so that ``irisdq --help`` does not load numpy.
    from irisdq import datamodels, dqflags, plots
    from irisdq.datamodels.files import refuse_output_over_input
    from irisdq.errors import DataModelError

    # All checked before the file is read: a 4096 x 4096 array is 64 MiB.
    refuse_output_over_input([("-o", args.output)], [("input", args.file)])
    output = plots.check_output(args.output, overwrite=args.overwrite)
    plots.require_matplotlib()
    with datamodels.open(args.file) as model:
        kind = type(model).__name__
        if isinstance(model, datamodels.TMTMaskModel):
            choices, planes = ("DQ",), {}
        elif isinstance(model, datamodels.LigerRampModel):
            # One DQ the ramp's shape: every read of a pixel has its flags.
            choices, planes = ("DQ",), {"DQ": ("--group", "--read")}
        else:
            choices, planes = ("PIXELDQ", "GROUPDQ"), {"GROUPDQ": ("--int", "--group")}
        extension = args.ext or choices[0]
        if extension not in choices:
            raise DataModelError(
                f"{args.file}: a {kind} has no {extension} to draw; use "
                + " or ".join(_usage(name, planes) for name in choices)
            )
        given = {
            option: value
            for option, value in (
                ("--int", args.integration),
                ("--group", args.group),
                ("--read", args.read),
            )
            if value is not None
        }
        wrong = [option for option in given if option not in planes.get(extension, ())]
        if wrong:
            if extension in planes:
                fix = f"use {_usage(extension, planes)}"
            else:
                fix = f"leave them out to draw {extension}"
                if planes:
                    fix += f", or draw {_usage(next(iter(planes)), planes)}"
            raise DataModelError(
                f"{args.file}: {', '.join(wrong)} do not choose a plane of the "
                f"{extension} of a {kind}; {fix}"
            )
        flag_map = dqflags.pixel
        title = f"{model.path.name}: {extension}"
        if extension not in planes:
            dq = model.dq if extension == "DQ" else model.pixeldq
        else:
            if extension == "GROUPDQ":
                flag_map = dqflags.group
            first, second = planes[extension]
            chosen = [given.get(first, 1), given.get(second, 1)]
            dq = _plane(model, args.file, extension, planes[extension], chosen)
            names = {"--int": "integration", "--group": "group", "--read": "read"}
            title += "".join(
                f", {names[option]} {value}"
                for option, value in zip(planes[extension], chosen, strict=True)
            )
        if dq is None:
            raise DataModelError(
                f"{args.file}: this {kind} has no {extension} extension; "
                "run DQ initialization first (irisdq dq-init)"
            )
        if dq.ndim != 2:
            raise DataModelError(
                f"{args.file}: {extension} has shape {dq.shape}; a DQ image is "
                "2-D (ny, nx)"
            )
        start, detector = plots.placement(model.get_fits_keywords())
        path = plots.plot_dq(
            dq,
            output,
            flag_map=flag_map,
            start=start,
            detector=detector,
            title=title,
            overwrite=args.overwrite,
        )
    print(f"wrote {path}")
    return 0


def _usage(extension: str, planes: dict) -> str:
    """``--ext GROUPDQ --int N --group N``: how to draw an extension."""
    return " ".join(
        [f"--ext {extension}", *(f"{option} N" for option in planes.get(extension, ()))]
    )


def _plane(model, file: str, extension: str, options, chosen):
    """One (ny, nx) plane of a ramp's per-read DQ, read alone: GROUPDQ
    (nints, ngroups, ny, nx) or Liger's DQ (ny, nx, ngroups, nreads)."""
    import numpy as np

    from irisdq.errors import DataModelError

    attribute = extension.lower()
    shape = model.array_shape(attribute)
    if shape is None:
        return None
    if len(shape) != 4:
        axes = (
            "(nints, ngroups, ny, nx)"
            if attribute == "groupdq"
            else "(ny, nx, ngroups, nreads)"
        )
        raise DataModelError(
            f"{file}: {extension} has shape {shape}; it needs 4 axes "
            f"{axes} to choose a plane from"
        )
    # GROUPDQ's planes are its first two axes, Liger's DQ's its last two.
    counts = shape[:2] if attribute == "groupdq" else shape[2:]
    for option, value, count in zip(options, chosen, counts, strict=True):
        if not 1 <= value <= count:
            raise DataModelError(
                f"{file}: {option} {value} is not in {extension} of shape "
                f"{shape}; give 1 to {count}"
            )
    cube = getattr(model, attribute)
    if attribute == "groupdq":
        return np.array(cube[chosen[0] - 1, chosen[1] - 1])
    return np.array(cube[:, :, chosen[0] - 1, chosen[1] - 1])
