"""``irisdq dq-init``: initialize the DQ arrays of raw ramps."""

import sys

EPILOG = """\
The mask is the CRDS best reference for reftype MASK (see 'irisdq crds
bestref FILE --reftype mask --explain') unless --override-mask is given.
Each output is <base>_dqinit.fits beside its input (a suffix such as _uncal
is replaced), or in --output-dir. Files run one after another, or in
parallel with --workers N (a local Dask cluster), or --scheduler ADDR or
--scheduler-file FILE (an existing one: this process chooses every mask and
context, the workers only apply them); a file that fails does not stop the
others. On a terminal a
progress bar is drawn, otherwise one line per file; at the end a table
gives each file's status, seconds, mask used and pixels flagged.
--resume keeps outputs that exist, pass their checksums and record the same
mask, context and options, so a run that was stopped can be started again.

examples:
  irisdq dq-init night/*_uncal.fits --output-dir out --workers 2
  irisdq dq-init night/*_uncal.fits --output-dir out --resume --report run.json
  irisdq dq-init night/*_uncal.fits --output-dir out --scheduler tcp://127.0.0.1:8786
  irisdq dq-init night/*_uncal.fits --output-dir out --scheduler-file s.json --wait 600

exit status: 0 all files succeeded, 1 some failed, 2 usage or input error,
130 interrupted (Ctrl-C or SIGTERM; the files finished are reported)
"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "dq-init",
        help="initialize PIXELDQ/GROUPDQ of raw ramps from the bad-pixel mask",
        description="Initialize the DQ arrays of raw ramps: pick the bad-pixel "
        "reference (MASK, or dq for Liger/IRIS), create the DQ arrays if "
        "missing, cut the subarray, OR the flags in and record S_DQINIT, "
        "R_MASK (R_DQ) and CRDS_CTX. TMT IRIS, JWST and Liger/IRIS files are "
        "told apart by their header and extensions (see 'irisdq profiles').",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="raw ramp files")
    parser.add_argument(
        "--override-mask",
        metavar="PATH|N/A",
        help="use this mask file instead of the CRDS best reference; N/A skips "
        "the step (the output records S_DQINIT = SKIPPED)",
    )
    parser.add_argument(
        "--override-dq",
        metavar="PATH|N/A",
        help="the same as --override-mask, by the Liger/IRIS name of the "
        "reference type (dq)",
    )
    parser.add_argument(
        "--profile",
        choices=_profile_names(),
        type=str.lower,
        help="the files' convention (observatory, extensions, keywords); by "
        "default chosen from each file ('irisdq profiles' lists them)",
    )
    parser.add_argument(
        "--narrow-dq",
        choices=("drop", "do-not-use"),
        help="flags 16..31 cannot be kept in a uint16 DQ array (Liger): leave "
        "them out (drop), or leave them out and set DO_NOT_USE where they "
        "were (do-not-use); without it such flags are an error naming them",
    )
    parser.add_argument(
        "--substrt",
        type=_position,
        metavar="COL,ROW",
        help="where ramps without SUBSTRT1/SUBSTRT2 lie on the detector: the "
        "1-based column and row of their first pixel; recorded in the outputs "
        "as SUBSTRT1/2 (and SUBSIZE1/2); a ramp with SUBSTRT1/2 must agree",
    )
    parser.add_argument(
        "--user-dq",
        metavar="PATH",
        help="a FITS image of extra flags, the shape of the (cut) mask, ORed "
        "into the mask for these files",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="the output file (one input only)",
    )
    parser.add_argument(
        "--output-dir", metavar="DIR", help="folder for the outputs (created)"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="rewrite the inputs' header and DQ extensions instead of writing "
        "new files",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing output files"
    )
    scale = parser.add_argument_group("many files")
    where = scale.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (127.0.0.1; at "
        "most 4 per core, each with an equal share of the memory); 0 runs in "
        "this process (the default)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDR|FILE",
        help="run on an existing Dask scheduler: tcp://HOST:PORT or a scheduler file",
    )
    where.add_argument(
        "--scheduler-file",
        metavar="FILE",
        help="run on the Dask scheduler that writes FILE (dask scheduler "
        "--scheduler-file, dask-mpi, a batch job); waits for the file to appear",
    )
    scale.add_argument(
        "--wait",
        type=_seconds,
        metavar="SECONDS",
        help="with --scheduler or --scheduler-file: end the run with an error "
        "if no scheduler and worker are there after SECONDS (by default it "
        "waits, and says so after a few seconds)",
    )
    scale.add_argument(
        "--resume",
        action="store_true",
        help="keep outputs that exist, pass their FITS checksums and record "
        "what this run would (mask, CRDS context, --user-dq, --narrow-dq, "
        "--substrt); redo the others and say why",
    )
    scale.add_argument(
        "--report",
        metavar="JSON",
        help="write the per-file results (status, seconds, mask, pixels "
        "flagged, error) to this JSON file; an existing file is replaced only "
        "with --overwrite (or, with --resume, when it is an earlier report), "
        "and never an input or an output of the run",
    )
    parser.set_defaults(func=run)


def _profile_names() -> list[str]:
    from irisdq.profiles import PROFILES

    return list(PROFILES)


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, not {text!r}")
    return value


def _position(text: str) -> tuple[int, int]:
    import argparse

    from irisdq.dq_init.step import parse_substrt
    from irisdq.errors import DataModelError

    try:
        return parse_substrt(text)
    except DataModelError:
        raise argparse.ArgumentTypeError(
            f"must be the 1-based column and row of the first pixel, two "
            f"integers >= 1 as COL,ROW (SUBSTRT1,SUBSTRT2), not {text!r}"
        ) from None


def _seconds(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds > 0, not {text!r}"
        )
    return value


def run(args) -> int:
    from irisdq.batch import require_distributed
    from irisdq.dq_init.plan import Status
    from irisdq.errors import IrisDQError

    if args.workers:
        require_distributed("--workers")
    if args.scheduler:
        require_distributed("--scheduler")
    if args.scheduler_file:
        require_distributed("--scheduler-file")
    if args.wait is not None and not (args.scheduler or args.scheduler_file):
        raise IrisDQError(
            "--wait limits the wait for an existing scheduler: give "
            "--scheduler or --scheduler-file with it"
        )
    if args.output and len(args.files) > 1:
        raise IrisDQError(
            f"-o/--output names one file but {len(args.files)} inputs were given; "
            "use --output-dir"
        )
    if args.output and args.in_place:
        raise IrisDQError("--in-place writes into the input; drop -o/--output")
    if args.resume and args.in_place:
        raise IrisDQError(
            "--resume keeps existing outputs; it cannot go with --in-place"
        )
    params = {
        "override_mask": args.override_mask,
        "override_dq": args.override_dq,
        "profile": args.profile,
        "narrow_dq": args.narrow_dq,
        "substrt": args.substrt,
        "user_supplied_dq": args.user_dq,
        "output_file": args.output,
        "inplace": args.in_place,
        "overwrite": args.overwrite,
    }
    # Checked before any file is processed: a run must not end by
    # destroying a file with its report.
    replace_report = args.report is not None and check_report(args.report, args, params)
    display = BatchDisplay(len(args.files), live=sys.stderr.isatty())
    interrupted = False
    with _sigterm_as_interrupt():
        try:
            results = _run_batch(args, params, display)
        except KeyboardInterrupt as exc:
            results = getattr(exc, "results", None)
            if results is None:
                raise
            interrupted = True
    display.close()
    if args.report:
        write_report(
            args.report,
            results,
            display.elapsed(),
            interrupted,
            overwrite=replace_report,
        )
    failed = [result for result in results if result.status is Status.FAILED]
    single = len(results) == 1 and not _batch_mode(args)
    if single and failed and not interrupted:
        # One file on its own: an input error, as for every other command
        # (its one-line reason is already on stderr).
        return 2
    if not single or interrupted:
        print_table(results, sys.stdout)
        print(display.totals(results, interrupted))
    if interrupted:
        return 130
    return 1 if failed else 0


def _batch_mode(args) -> bool:
    return bool(
        args.workers
        or args.scheduler
        or args.scheduler_file
        or args.resume
        or args.report
    )


def _run_batch(args, params, display):
    from irisdq import batch

    return batch.run(
        args.files,
        output_dir=args.output_dir,
        workers=args.workers or None,
        scheduler=args.scheduler,
        scheduler_file=args.scheduler_file,
        wait=args.wait,
        resume=args.resume,
        progress=display.update,
        **params,
    )


class _sigterm_as_interrupt:
    """Turn SIGTERM into KeyboardInterrupt, so that a terminated run cleans
    up and reports like an interrupted one."""

    def __enter__(self):
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc_info):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


class BatchDisplay:
    """Progress of a batch: a tqdm bar on a terminal, else one line a file."""

    def __init__(self, total: int, *, live: bool, stream=None) -> None:
        import time

        self.total = total
        self.live = live
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.done = 0
        self.failed = 0
        self.bar = None
        if live:
            from irisdq.batch import progress_bar

            self.bar = progress_bar(total, file=self.stream, notebook=False)

    def elapsed(self) -> float:
        import time

        return time.perf_counter() - self.start

    def update(self, result, done: int, total: int) -> None:
        import logging

        from irisdq.dq_init.plan import Status

        self.done = done
        self.failed += result.status is Status.FAILED
        with self._above_the_bar():
            # Through logging, as the step itself logs when run in this process.
            log = logging.getLogger("irisdq.dq_init")
            for text in result.warnings:
                log.warning(text)
            if result.status is Status.FAILED:
                print(f"irisdq: error: {result.error}", file=sys.stderr)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(done - self.bar.n)
            return
        if result.status is Status.FAILED and total == 1:
            return  # the error line says it all
        prefix = f"[{done}/{total}] " if total > 1 else ""
        print(f"{prefix}{result.line()}", flush=True)

    def _above_the_bar(self):
        import contextlib

        if self.bar is None:
            return contextlib.nullcontext()
        # The bar is cleared while the lines are written, then drawn again.
        return type(self.bar).external_write_mode(file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.stream.flush()

    def totals(self, results, interrupted: bool) -> str:
        from collections import Counter

        from irisdq.dq_init.plan import Status

        counts = Counter(result.status for result in results)
        parts = ", ".join(f"{n} {status.lower()}" for status, n in counts.items())
        seconds = self.elapsed()
        finished = sum(result.status is not Status.NOT_RUN for result in results)
        text = (
            f"{len(results)} file(s): {parts} in {seconds:.1f} s "
            f"({finished / max(seconds, 1e-9):.2f} files/s)"
        )
        return f"interrupted; {text}" if interrupted else text


def print_table(results, stream) -> None:
    """The final table: file, status, seconds, mask used, pixels flagged
    (for a failure, its reason)."""
    from irisdq.dq_init.plan import Status

    rows = [("file", "status", "seconds", "mask", "flagged")]
    for result in results:
        flagged = (
            " ".join(f"{name}={count}" for name, count in result.flagged.items()) or "-"
        )
        if result.status is Status.FAILED:
            flagged = _reason(result)
        rows.append(
            (
                result.input,
                result.status,
                f"{result.seconds:.2f}" if result.status is not Status.NOT_RUN else "-",
                result.mask or "-",
                flagged,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]).rstrip(), file=stream)


def _reason(result) -> str:
    """A failure's reason as the table gives it: without the input's name,
    which its first column shows (a reason naming another file keeps it)."""
    reason = result.error or ""
    named = f"{result.input}: "
    return reason[len(named) :] if reason.startswith(named) else reason


def check_report(path, args, params) -> bool:
    """Check the --report file before the run; return whether it replaces
    an existing file.

    The report may not be an input of the run (a ramp, the mask, the user
    DQ, the scheduler file) nor one of its outputs, under any name. An
    existing file is replaced only with --overwrite, or with --resume when
    it is an earlier report; never a FITS file, nor anything but a regular
    file.

    Parameters
    ----------
    path : str
        The --report file.
    args : argparse.Namespace
        The dq-init command line (files, mask, user DQ, scheduler, output
        folder, --overwrite, --resume).
    params : dict
        The step parameters of the run, which place the outputs.

    Returns
    -------
    bool
        True when the report replaces an existing file.

    Raises
    ------
    IrisDQError
        If the report would replace an input, an output or a FITS file.
    FileExistsError
        If the report exists and may not be replaced, or is not a regular
        file.
    """
    import errno
    from pathlib import Path

    from irisdq import batch
    from irisdq.datamodels.atomic import check_replaceable
    from irisdq.errors import IrisDQError

    target = Path(path)
    existing = check_replaceable(target)
    own = _identity(target)
    roles = [("input", name) for name in args.files]
    for role, name in (
        ("mask", args.override_mask),
        ("user DQ", args.user_dq),
        ("scheduler file", args.scheduler),
        ("scheduler file", args.scheduler_file),
    ):
        if name and Path(name).exists():
            roles.append((role, name))
    where = {k: v for k, v in params.items() if v is not None}
    if args.output_dir is not None:
        where["output_dir"] = args.output_dir
    for name in args.files:
        try:
            roles.append(("output", str(batch.output_path(name, where))))
        except (IrisDQError, OSError, ValueError):
            continue  # the run reports it for that file
    for role, name in roles:
        if _identity(Path(name)) == own:
            raise IrisDQError(
                f"--report {path} is the {role} {name} of this run; give the "
                "report a name of its own"
            )
    if existing is None:
        return False
    if _looks_like_fits(target):
        raise IrisDQError(
            f"--report {path} is a FITS file; a report replaces only a report: "
            "give it a name of its own"
        )
    if not (args.overwrite or (args.resume and _is_report(target))):
        raise FileExistsError(
            errno.EEXIST,
            "already exists; use --overwrite to replace the report, or "
            "another --report name",
            str(path),
        )
    return True


def _identity(path) -> tuple:
    from irisdq.datamodels.files import file_identity

    # The same file under two names (a link, ../) is one file.
    return file_identity(path)


def _looks_like_fits(path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(9) == b"SIMPLE  ="
    except OSError:
        return False


def _is_report(path) -> bool:
    import json

    try:
        with open(path, "rb") as stream:
            document = json.loads(stream.read(64 << 20))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return (
        isinstance(document, dict)
        and isinstance(document.get("files"), list)
        and {"total", "failed", "interrupted"} <= set(document)
    )


def write_report(
    path, results, seconds: float, interrupted: bool, *, overwrite: bool = False
) -> None:
    """Write the results as JSON, atomically (see
    :func:`irisdq.datamodels.atomic.atomic_output`): a failed write leaves
    no file behind, nor a temporary one.

    Parameters
    ----------
    path : str or os.PathLike
        The report file.
    results : list of irisdq.batch.FileResult
        One per input.
    seconds : float
        The wall time of the run.
    interrupted : bool
        Whether the run was interrupted.
    overwrite : bool, optional
        Replace an existing report (checked by :func:`check_report`).

    Raises
    ------
    FileExistsError
        If the report exists and ``overwrite`` is false.
    OSError
        If the report cannot be written; the error names it.
    """
    import io
    import json

    from irisdq.datamodels.atomic import atomic_output
    from irisdq.dq_init.plan import Status

    document = {
        "files": [result.to_dict() for result in results],
        "total": len(results),
        "failed": sum(result.status is Status.FAILED for result in results),
        "interrupted": interrupted,
        "seconds": round(seconds, 3),
    }
    try:
        with atomic_output(path, overwrite=overwrite) as stream:
            text = io.TextIOWrapper(stream, encoding="utf-8")
            try:
                json.dump(document, text, indent=2)
                text.write("\n")
            finally:
                # Flushed, and the stream left to atomic_output to close.
                text.detach()
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
