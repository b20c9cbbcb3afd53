"""``irisdq profiles``: the file conventions irisdq knows, and which a file follows."""

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "profiles",
        help="list the file conventions (TMT IRIS, JWST, Liger/IRIS)",
        description="Print each profile: its CRDS observatory and reference "
        "type names, the CRDS parameters and the keywords they come from, the "
        "ramp's and the mask's layout, and what DQ initialization records. "
        "With FILE, print the profile each ramp or mask follows instead; a "
        "file that is neither is reported and the others go on (exit 1).",
        epilog="examples:\n  irisdq profiles\n"
        "  irisdq profiles raw_uncal.fits mask.fits\n"
        "  irisdq profiles --profile liger liger_raw.fits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="ramps or masks to tell the profile of"
    )
    parser.add_argument(
        "--profile",
        type=str.lower,
        help="the convention to check the files against (default: each file's own)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from irisdq import profiles

    if not args.files:
        print("\n\n".join(p.describe() for p in profiles.PROFILES.values()))
        return 0
    import sys

    from irisdq.errors import IrisDQError
    from irisdq.exposure import resolve

    forced = profiles.get_profile(args.profile) if args.profile else None
    failed = 0
    for path in args.files:
        try:
            exposure = resolve(path, forced, role="a ramp or a mask")
            if exposure.kind == "other":
                # Neither a ramp nor a mask: say what it lacks.
                if forced is None:
                    profiles.detect_profile(exposure.keywords, exposure.shapes, path)
                exposure.require_ramp()
        except (IrisDQError, OSError) as exc:
            if len(args.files) == 1:
                raise
            failed += 1
            print(f"irisdq: error: {' '.join(str(exc).split())}", file=sys.stderr)
            continue
        found = exposure.profile
        if exposure.kind == "mask":
            print(
                f"{path}: {found.name} mask ({found.mask.datamodel}, reference "
                f"type {found.reftypes[0]})"
            )
        else:
            print(f"{path}: {found.name} ({found.title})")
    return 1 if failed else 0
