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
        help="the DQ array to draw (default: DQ of a mask, PIXELDQ of a ramp)",
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
        help="GROUPDQ: the group, 1-based (default 1)",
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
        is_mask = isinstance(model, datamodels.TMTMaskModel)
        kind = type(model).__name__
        extension = args.ext or ("DQ" if is_mask else "PIXELDQ")
        if (args.integration is not None or args.group is not None) and (
            extension != "GROUPDQ"
        ):
            raise DataModelError(
                f"{args.file}: --int and --group choose a plane of GROUPDQ; "
                f"add --ext GROUPDQ or leave them out to draw {extension}"
            )
        if (extension == "DQ") != is_mask:
            have = "DQ" if is_mask else "PIXELDQ or GROUPDQ"
            raise DataModelError(
                f"{args.file}: a {kind} has no {extension} to draw; use --ext {have}"
            )
        flag_map = dqflags.pixel
        title = f"{model.path.name}: {extension}"
        if extension == "DQ":
            dq = model.dq
        elif extension == "PIXELDQ":
            dq = model.pixeldq
        else:
            flag_map = dqflags.group
            integration = 1 if args.integration is None else args.integration
            group = 1 if args.group is None else args.group
            dq = _groupdq_plane(model, args.file, integration, group)
            title += f", integration {integration}, group {group}"
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


def _groupdq_plane(model, file: str, integration: int, group: int):
    """One (ny, nx) plane of GROUPDQ, read alone (the cube is memory-mapped)."""
    import numpy as np

    from irisdq.errors import DataModelError

    shape = model.array_shape("groupdq")
    if shape is None:
        return None
    if len(shape) != 4:
        raise DataModelError(
            f"{file}: GROUPDQ has shape {shape}; it needs 4 axes (nints, "
            "ngroups, ny, nx) to choose a plane from"
        )
    nints, ngroups = shape[0], shape[1]
    for name, value, count in (
        ("--int", integration, nints),
        ("--group", group, ngroups),
    ):
        if not 1 <= value <= count:
            raise DataModelError(
                f"{file}: {name} {value} is not in GROUPDQ of shape {shape}; "
                f"give 1 to {count}"
            )
    return np.array(model.groupdq[integration - 1, group - 1])
