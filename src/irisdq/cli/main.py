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
from irisdq.step import RESULT_RECORD

# Subcommand modules, in the order ``--help`` lists them.
SUBCOMMAND_MODULES = [
    "irisdq.cli.flags",
    "irisdq.cli.profiles",
    "irisdq.cli.mask",
    "irisdq.cli.plot",
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
    _add_global_options_everywhere(parser)
    return parser


# The global options, accepted after any subcommand too: (flags, help).
GLOBAL_OPTIONS = [
    (("--debug",), "show full tracebacks and debug logging"),
    (("-v", "--verbose"), "log what each step does (INFO messages)"),
]


def _add_global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """Accept ``--debug`` and ``-v``/``--verbose`` after any subcommand too,
    not only before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                for flags, text in GLOBAL_OPTIONS:
                    if not any(f in subparser._option_string_actions for f in flags):
                        # SUPPRESS: not given after the subcommand keeps the
                        # value given before it.
                        subparser.add_argument(
                            *flags,
                            action="store_true",
                            default=argparse.SUPPRESS,
                            help=text,
                        )
                _add_global_options_everywhere(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    try:
        with interrupts_kept():
            code = _main(argv)
        # Written out here, where a closed pipe can still be caught.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (``irisdq flags table | head -1``): end
        # quietly, as Unix tools do.
        _stdout_to_devnull()
        return EXIT_OK
    except KeyboardInterrupt:
        # Ctrl-C at any moment, even while the parser is being built.
        print("irisdq: interrupted", file=sys.stderr)
        return 130


class interrupts_kept:
    """Let no Ctrl-C or SIGTERM be swallowed where Python cannot raise.

    A KeyboardInterrupt raised while Python runs a finalizer or a weakref
    callback (the import system's locks have one) cannot propagate: Python
    prints it as "Exception ignored in ..." with a traceback, and the run
    goes on as if never interrupted. Here such an interrupt is raised again
    a millisecond later (a one-shot SIGALRM), once Python is back in
    ordinary code, where the program stops cleanly.
    """

    def __enter__(self):
        self.previous = sys.unraisablehook
        sys.unraisablehook = self._hook
        return self

    def _hook(self, unraisable) -> None:
        import signal
        import threading

        if (
            issubclass(unraisable.exc_type, KeyboardInterrupt)
            and threading.current_thread() is threading.main_thread()
        ):
            # Anything that raises here would be swallowed too: the alarm
            # raises once the hook has returned.
            self.previous_alarm = signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, 0.001)
            return
        self.previous(unraisable)

    def _alarm(self, signum, frame):
        import signal

        signal.signal(signal.SIGALRM, self.previous_alarm)
        raise KeyboardInterrupt

    def __exit__(self, *exc_info):
        sys.unraisablehook = self.previous
        return False


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    existing = list(logging.getLogger().handlers)
    logging.basicConfig(
        format="%(levelname)s %(name)s: %(message)s",
        level=logging.DEBUG
        if args.debug
        else logging.INFO
        if args.verbose
        else logging.WARNING,
    )
    # astropy's logger prints its records itself; passed on to the handler
    # set up here as well, each would be printed twice.
    for handler in logging.getLogger().handlers:
        if handler not in existing:
            handler.addFilter(_not_astropy)
            if getattr(args, "prints_results", False):
                handler.addFilter(_not_a_result)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with _warnings_as_lines(enabled=not args.debug):
            return int(args.func(args) or EXIT_OK)
    except BrokenPipeError:
        raise  # the reader of the output went away: not an error (see main)
    except (IrisDQError, OSError) as exc:
        if args.debug:
            raise
        print(f"irisdq: error: {_one_line(exc, _named_files(args))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        # Not an error irisdq raises on purpose: still one line, naming the
        # files, with the way to the traceback.
        if args.debug:
            raise
        text = _one_line(exc, _named_files(args))
        print(
            f"irisdq: error: {text} (unexpected; --debug shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _stdout_to_devnull() -> None:
    """Point standard output at /dev/null, so that Python's own flush at
    exit does not fail again on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # not a real file (captured output): nothing is flushed at exit


def _not_astropy(record: logging.LogRecord) -> bool:
    return record.name != "astropy" and not record.name.startswith("astropy.")


def _not_a_result(record: logging.LogRecord) -> bool:
    """Leave out the step's result line, which the command prints itself."""
    return not getattr(record, RESULT_RECORD, False)


class _warnings_as_lines:
    """Show each Python warning as one logged line (``WARNING irisdq:
    DataModelWarning: ...``) instead of Python's two (the message, then the
    source line that raised it), for as long as the command runs."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        import warnings

        self.previous = warnings.showwarning
        if self.enabled:
            warnings.showwarning = _show_warning

    def __exit__(self, *exc_info: object) -> None:
        import warnings

        warnings.showwarning = self.previous


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    logging.getLogger("irisdq").warning("%s: %s", category.__name__, text)


def _named_files(args: argparse.Namespace) -> list[str]:
    """The files the command line names, to name in an error that does not."""
    named: list[str] = []
    for attribute in ("files", "file", "mappings"):
        value = getattr(args, attribute, None)
        if isinstance(value, str):
            named.append(value)
        elif isinstance(value, list):
            named.extend(str(item) for item in value)
    return named


def _one_line(exc: BaseException, files: Sequence[str] = ()) -> str:
    """One line for an error, naming a file.

    An OSError names its own file; one without (a write on a full disk, a
    seek on a pipe), and an unexpected error whose message names none of
    ``files``, is prefixed with ``files``. irisdq's own errors say where
    they are already (the reference file, the keyword) and are kept as
    they are.
    """
    text = str(exc)
    named = isinstance(exc, IrisDQError)
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
        if exc.filename is not None:
            text, named = f"{exc.filename}: {text}", True
    elif not isinstance(exc, IrisDQError | OSError):
        text = f"{type(exc).__name__}: {text}"
    text = " ".join(text.split())
    if files and not named and not any(name in text for name in files):
        shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
        text = f"{shown}: {text}"
    return text


if __name__ == "__main__":
    sys.exit(main())
