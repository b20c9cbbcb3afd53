"""``irisdq crds``: best references, the context in use, mapping checksums."""

import argparse
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "crds",
        help="choose reference files from the local CRDS cache",
        description="Choose reference files from the local CRDS cache "
        "($CRDS_PATH, default ~/crds_cache), list the context in use, and "
        "update mapping checksums. Mappings are read, never executed.",
    )
    commands = parser.add_subparsers(dest="crds_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _missing_action(parser))

    bestref = commands.add_parser(
        "bestref",
        help="print the best reference file for FITS files",
        description="Print the best reference file of REFTYPE for each FITS "
        "file, or N/A when the type does not apply. Example: "
        "'irisdq crds bestref raw_uncal.fits --reftype mask --explain'.",
    )
    bestref.add_argument("files", nargs="+", metavar="FILE", help="FITS files")
    bestref.add_argument(
        "--reftype", required=True, help="reference type, e.g. mask (any case)"
    )
    bestref.add_argument(
        "--profile",
        choices=_profile_names(),
        type=str.lower,
        help="the files' convention (observatory, keywords); by default chosen "
        "from each file, else tmt",
    )
    bestref.add_argument(
        "--explain",
        action="store_true",
        help="also print the context, mappings, values compared and rules",
    )
    _add_context_option(bestref)
    bestref.set_defaults(func=_bestref)

    listing = commands.add_parser(
        "list",
        help="print the context in use, its mappings and reference files",
        description="Print the cache folder, the context in use and why, "
        "its mappings (from the cache or shipped with irisdq) and whether "
        "each reference file they name is present. Exit status 2 when a "
        "mapping cannot be used or a reference is refused.",
    )
    _add_context_option(listing)
    listing.set_defaults(func=_list)

    checksum = commands.add_parser(
        "checksum",
        help="rewrite the sha1sum of mapping files",
        description="Recompute the sha1sum of each mapping file and rewrite "
        "its header line in place (atomically), after an edit.",
    )
    checksum.add_argument("mappings", nargs="+", metavar="MAPPING", help="files")
    checksum.set_defaults(func=_checksum)

    add = commands.add_parser(
        "add",
        help="deliver masks into the cache as a new context",
        description="Write a new context into the cache that selects each "
        "mask (REFTYPE MASK) by its keywords and USEAFTER: the next rmap, "
        "imap and pmap, derived from the context in use; the masks are "
        "checked and copied into references/tmt/<instrument>/. Existing "
        "mappings are never edited; all files appear or none. Example: "
        "'irisdq crds add mask_2021.fits --dry-run'.",
    )
    add.add_argument("references", nargs="+", metavar="REF.fits", help="masks")
    _add_context_option(add)
    add.add_argument(
        "--dry-run",
        action="store_true",
        help="print the new mappings as diffs against the ones they replace; "
        "write nothing",
    )
    add.add_argument(
        "--set-operational",
        action="store_true",
        help="also make the new context the operational_context of "
        "config/tmt/server_config",
    )
    add.add_argument(
        "--replace",
        action="store_true",
        help="replace a rule that selects the same keys and date",
    )
    add.add_argument(
        "--subarray",
        metavar="NAME",
        help="the subarray rule the masks are filed under: 'any' (every "
        "subarray; the default for a full-frame mask, SUBARRAY FULL or "
        "GENERIC) or a name such as FULL (the default for a subarray mask is "
        "its own SUBARRAY)",
    )
    add.set_defaults(func=_add)

    check = commands.add_parser(
        "check",
        help="list the problems of the whole cache",
        description="Check the cache: every mapping parses, its sha1sum, its "
        "header's name, observatory, instrument and filekind; server_config's "
        "operational context; every mapping and reference the context names "
        "is present; references pass their checksums and carry the keywords "
        "their rmap selects on, with values that agree with the rule naming "
        "them (not a later USEAFTER, not another DETECTOR). Files no context "
        "names are listed as unused (not problems). Exit status 1 when "
        "there is any problem, 0 when none, 2 when the cache cannot be used. "
        "Example: irisdq crds check",
    )
    _add_context_option(check)
    check.set_defaults(func=_check)


def _add_context_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--context",
        help="pmap to use (default: $CRDS_CONTEXT, the cache's operational or "
        "newest pmap, else the one shipped with irisdq)",
    )


def _profile_names() -> list[str]:
    from irisdq.profiles import PROFILES

    return list(PROFILES)


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print(
        "irisdq crds: error: choose an action: bestref, list, checksum, check or add",
        file=sys.stderr,
    )
    return 2


def _bestref(args) -> int:
    from irisdq.errors import IrisDQError, NoMatchError
    from irisdq.exposure import resolve

    failed = 0
    for number, path in enumerate(args.files):
        try:
            exposure = resolve(path, args.profile, role="a dataset for bestref")
            context = exposure.context(args.context)
            reftype = exposure.reftype_in(context, args.reftype)
            dataset = exposure.parameters
            if args.explain:
                if number:
                    print()
                print(f"file       {path} (profile {exposure.profile.name})")
                print(context.select(dataset, reftype).explain())
            try:
                result = context.bestref(dataset, reftype)
            except NoMatchError as exc:
                _name_date_problem(exposure, path, exc)
                raise
        except (IrisDQError, OSError) as exc:
            if len(args.files) == 1:
                raise
            failed += 1
            print(f"irisdq: error: {' '.join(str(exc).split())}", file=sys.stderr)
            continue
        if not args.explain:
            shown = " ".join(result) if isinstance(result, tuple) else result
            print(shown if len(args.files) == 1 else f"{path}: {shown}")
    return 1 if failed else 0


def _name_date_problem(exposure, path, exc) -> None:
    """Raise the no-match error again, first naming the file's date
    keywords that are not a date, when the profile derives its date."""
    from irisdq.crds import UNDEFINED
    from irisdq.errors import NoMatchError

    profile = exposure.profile
    date = str(exposure.parameters.get(profile.date_parameter, UNDEFINED))
    problem = profile.date_problem(exposure.keywords)
    if date.strip() in ("", UNDEFINED) and problem:
        raise NoMatchError(f"{path}: {problem}; {exc}") from exc


def _list(args) -> int:
    from irisdq.crds import get_context

    context = get_context(args.context)
    state = "exists" if context.root.exists else "does not exist"
    print(f"cache      {context.root.path} ({context.root.describe()}; {state})")
    print(f"context    {context.name} ({context.source})")
    broken = []
    for item in context.inventory():
        where = f"  {item.path}" if item.path is not None else ""
        label = f"{item.label:<14}" if item.label else f"{'':<14}"
        line = f"{item.kind:<10} {label} {item.name:<28} {item.status:<8}{where}"
        if item.detail:
            line += f"  {' '.join(item.detail.split())}"
            broken.append(item)
        print(line.rstrip())
    if broken:
        print(
            f"irisdq: error: {len(broken)} of the context's files cannot be "
            f"used ({', '.join(item.name for item in broken)}); see above",
            file=sys.stderr,
        )
        return 2
    return 0


def _checksum(args) -> int:
    from irisdq.crds.admin.checksum import update_checksum

    for path in args.mappings:
        print(f"{path}: sha1sum {update_checksum(path)}")
    return 0


def _add(args) -> int:
    from irisdq.crds.admin.delivery import deliver

    delivery = deliver(
        args.references,
        args.context,
        dry_run=args.dry_run,
        replace=args.replace,
        set_operational=args.set_operational,
        subarray=args.subarray,
    )
    for line in delivery.left_behind:
        print(f"irisdq: warning: {line}", file=sys.stderr)
    if args.dry_run:
        sys.stdout.write(delivery.diff())
        print(f"dry run: context {delivery.context} not written; it would add:")
        for path in delivery.files():
            print(f"  {path}")
        return 0
    for path in delivery.files():
        print(f"wrote      {path}")
    state = "operational" if args.set_operational else "not operational"
    print(f"context    {delivery.context} (from {delivery.base}; {state})")
    return 0


def _check(args) -> int:
    from irisdq.crds.admin.check import check_cache

    result = check_cache(args.context)
    for finding in result.findings:
        print(finding)
    for path in result.unused:
        print(f"unused: {path}")
    where = f"{result.root.path} (context {result.context}, {result.source})"
    if result.findings:
        print(f"{len(result.findings)} problem(s) in {where}")
        return 1
    print(f"no problems found in {where}")
    return 0
