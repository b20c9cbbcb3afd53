"""Entry point of the ``irisdq`` command.

Exit codes: 0 success, 1 some inputs failed, 2 usage or input error. An
:class:`~irisdq.errors.IrisDQError` is printed as one line on stderr; the
traceback is shown only with ``--debug``.
"""

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

import irisdq
from irisdq.errors import IrisDQError

# Subcommand modules, in the order ``--help`` lists them.
SUBCOMMAND_MODULES = [
    "irisdq.cli.flags",
    "irisdq.cli.mask",
    "irisdq.cli.crds",
    "irisdq.cli.dq_init",
    "irisdq.cli.demo",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the ``irisdq`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="irisdq",
        description="Data-quality initialization for the TMT IRIS pipeline.",
    )
    parser.add_argument(
        "--version", action="version", version=f"irisdq {irisdq.__version__}"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show full tracebacks and debug logging",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log what each step does (INFO messages)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _add_debug_everywhere(parser)
    return parser


def _add_debug_everywhere(parser: argparse.ArgumentParser) -> None:
    """Accept ``--debug`` after any subcommand too, not only before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                if "--debug" not in subparser._option_string_actions:
                    subparser.add_argument(
                        "--debug",
                        action="store_true",
                        default=argparse.SUPPRESS,
                        help="show full tracebacks and debug logging",
                    )
                _add_debug_everywhere(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C at any moment, even while the parser is being built.
        print("irisdq: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        format="%(levelname)s %(name)s: %(message)s",
        level=logging.DEBUG
        if args.debug
        else logging.INFO
        if args.verbose
        else logging.WARNING,
    )
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except (IrisDQError, OSError) as exc:
        if args.debug:
            raise
        print(f"irisdq: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
