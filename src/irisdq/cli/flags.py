"""``irisdq flags``: decode, encode and list the DQ flag convention."""

import argparse
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "flags",
        help="decode, encode and list DQ flags",
        description="Decode DQ values into flag names, encode names into "
        "values, and print the flag table (JWST's convention, used by IRIS).",
    )
    commands = parser.add_subparsers(dest="flags_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _missing_action(parser))

    decode = commands.add_parser(
        "decode",
        help="print the names of the flags set in a DQ value",
        description="Print the name of every flag set in VALUE, one a line, "
        "lowest bit first. Example: 'irisdq flags decode 1025' prints "
        "DO_NOT_USE and DEAD.",
    )
    decode.add_argument("value", help="a DQ value: decimal, or hex as 0x400")
    _add_group_option(decode)
    decode.set_defaults(func=_decode)

    encode = commands.add_parser(
        "encode",
        help="print the DQ value of flag names",
        description="Print the DQ value of flag names and numbers, joined by "
        "',', '+' or '|' or given as separate arguments. Example: "
        "'irisdq flags encode DEAD,HOT' prints 3072.",
    )
    encode.add_argument("flags", nargs="+", help="flag names or numbers")
    _add_group_option(encode)
    encode.set_defaults(func=_encode)

    table = commands.add_parser(
        "table",
        help="print the flag table",
        description="Print bit, value, name, aliases and description of every flag.",
    )
    _add_group_option(table)
    table.set_defaults(func=_table)


def _add_group_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--group",
        action="store_true",
        help="use the GROUPDQ flags instead of the pixel flags",
    )


def _flag_map(args):
    from irisdq import dqflags

    return dqflags.group if args.group else dqflags.pixel


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print(
        "irisdq flags: error: choose an action: decode, encode or table",
        file=sys.stderr,
    )
    return 2


def _decode(args) -> int:
    from irisdq import dqflags

    for name in dqflags.decode_flags(args.value, _flag_map(args)):
        print(name)
    return 0


def _encode(args) -> int:
    from irisdq import dqflags

    value = 0
    for spec in args.flags:
        value |= dqflags.encode_flags(spec, _flag_map(args))
    print(value)
    return 0


def _table(args) -> int:
    from irisdq import dqflags

    print(f"{'bit':>3}  {'value':>10}  {'name':<17} {'aliases':<17} description")
    for row in dqflags.flag_table(_flag_map(args)):
        aliases = ",".join(row.aliases) or "-"
        print(
            f"{row.bit:>3}  {row.value:>10}  {row.name:<17} {aliases:<17} "
            f"{row.description}"
        )
    return 0
