"""``irisdq profiles``: the file conventions irisdq knows, and which a file follows."""

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "profiles",
        help="list the file conventions (TMT IRIS, JWST, Liger/IRIS)",
        description="Print each profile: its CRDS observatory and reference "
        "type names, the CRDS parameters and the keywords they come from, the "
        "ramp's and the mask's layout, and what DQ initialization records. "
        "With FILE, print the profile each file follows instead.",
        epilog="examples:\n  irisdq profiles\n  irisdq profiles raw_uncal.fits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="raw ramps to tell the profile of"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from irisdq import profiles

    if not args.files:
        print("\n\n".join(p.describe() for p in profiles.PROFILES.values()))
        return 0
    from irisdq.datamodels import read_hdu_layout
    from irisdq.datamodels.files import require_regular_file
    from irisdq.datamodels.layout import extension_shapes

    for path in args.files:
        require_regular_file(path, "a raw ramp")
        layout = read_hdu_layout(path)
        shapes = extension_shapes(layout)
        found = profiles.detect_profile(layout[0].header, shapes, path)
        print(f"{path}: {found.name} ({found.title})")
    return 0
