"""``irisdq dq-init``: initialize the DQ arrays of raw ramps."""

import sys

EPILOG = """\
The mask is the CRDS best reference for reftype MASK (see 'irisdq crds
bestref FILE --reftype mask --explain') unless --override-mask is given.
Each output is <base>_dqinit.fits beside its input (a suffix such as _uncal
is replaced), or in --output-dir. Files run one after another, or in
parallel with --workers N (a local Dask cluster) or --scheduler ADDR (an
existing one); a file that fails does not stop the others. On a terminal a
progress bar is drawn, otherwise one line per file; at the end a table
gives each file's status, seconds, mask used and pixels flagged.
--resume keeps outputs that exist and pass their checksums, so a run that
was stopped can be started again.

examples:
  irisdq dq-init night/*_uncal.fits --output-dir out --workers 2
  irisdq dq-init night/*_uncal.fits --output-dir out --resume --report run.json
  irisdq dq-init night/*_uncal.fits --output-dir out --scheduler tcp://127.0.0.1:8786

exit status: 0 all files succeeded, 1 some failed, 2 usage or input error,
130 interrupted (Ctrl-C or SIGTERM; the files finished are reported)
"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "dq-init",
        help="initialize PIXELDQ/GROUPDQ of raw ramps from the bad-pixel mask",
        description="Initialize the DQ arrays of IRIS raw ramps: pick the MASK "
        "reference, create PIXELDQ/GROUPDQ if missing, cut the subarray, OR the "
        "flags in and record S_DQINIT, R_MASK and CRDS_CTX.",
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
        type=_positive,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (127.0.0.1)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDR|FILE",
        help="run on an existing Dask scheduler: tcp://HOST:PORT or a scheduler file",
    )
    scale.add_argument(
        "--resume",
        action="store_true",
        help="keep outputs that exist and pass their FITS checksums; redo "
        "missing or corrupt ones",
    )
    scale.add_argument(
        "--report",
        metavar="JSON",
        help="write the per-file results (status, seconds, mask, pixels "
        "flagged, error) to this JSON file",
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text!r}")
    return value


def run(args) -> int:
    from irisdq.errors import IrisDQError

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
        "user_supplied_dq": args.user_dq,
        "output_file": args.output,
        "inplace": args.in_place,
        "overwrite": args.overwrite,
    }
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
        write_report(args.report, results, display.elapsed(), interrupted)
    failed = [result for result in results if result.status == "FAILED"]
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
    return bool(args.workers or args.scheduler or args.resume or args.report)


def _run_batch(args, params, display):
    from irisdq import batch

    return batch.run(
        args.files,
        output_dir=args.output_dir,
        workers=args.workers,
        scheduler=args.scheduler,
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
    """Progress of a batch: a bar redrawn on a terminal, else one line a file."""

    def __init__(self, total: int, *, live: bool, stream=None) -> None:
        import time

        self.total = total
        self.live = live
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.done = 0
        self.failed = 0
        self._drawn = False

    def elapsed(self) -> float:
        import time

        return time.perf_counter() - self.start

    def update(self, result, done: int, total: int) -> None:
        import logging

        self.done = done
        self.failed += result.status == "FAILED"
        self._clear()
        # Through logging, as the step itself logs when run in this process.
        log = logging.getLogger("irisdq.dq_init")
        for text in result.warnings:
            log.warning(text)
        if result.status == "FAILED":
            print(f"irisdq: error: {result.error}", file=sys.stderr)
        if self.live:
            self._draw()
            return
        prefix = f"[{done}/{total}] " if total > 1 else ""
        print(f"{prefix}{_result_line(result)}", flush=True)

    def _draw(self) -> None:
        width = 24
        filled = width * self.done // max(self.total, 1)
        rate = self.done / max(self.elapsed(), 1e-9)
        text = (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"done, {self.failed} failed, {self.total - self.done} remaining, "
            f"{rate:.2f} files/s"
        )
        self.stream.write("\r" + text)
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def close(self) -> None:
        if self.live:
            self._clear()
            self.stream.flush()

    def totals(self, results, interrupted: bool) -> str:
        from collections import Counter

        counts = Counter(result.status for result in results)
        parts = ", ".join(f"{n} {status.lower()}" for status, n in counts.items())
        seconds = self.elapsed()
        finished = sum(result.status != "NOT_RUN" for result in results)
        text = (
            f"{len(results)} file(s): {parts} in {seconds:.1f} s "
            f"({finished / max(seconds, 1e-9):.2f} files/s)"
        )
        return f"interrupted; {text}" if interrupted else text


def _result_line(result) -> str:
    if result.status == "FAILED":
        return f"{result.input}: FAILED {result.error}"
    flags = " ".join(f"{name}={count}" for name, count in result.flagged.items())
    text = f"{result.output or result.input}: {result.status} mask={result.mask}"
    return f"{text} {flags}" if flags else text


def print_table(results, stream) -> None:
    """The final table: file, status, seconds, mask used, pixels flagged."""
    rows = [("file", "status", "seconds", "mask", "flagged")]
    for result in results:
        flagged = (
            " ".join(f"{name}={count}" for name, count in result.flagged.items()) or "-"
        )
        if result.status == "FAILED":
            flagged = result.error or ""
        rows.append(
            (
                result.input,
                result.status,
                f"{result.seconds:.2f}" if result.status != "NOT_RUN" else "-",
                result.mask or "-",
                flagged,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]).rstrip(), file=stream)


def write_report(path, results, seconds: float, interrupted: bool) -> None:
    """Write the results as JSON (atomically: a temporary file renamed)."""
    import json
    import os
    from pathlib import Path

    target = Path(path)
    document = {
        "files": [result.to_dict() for result in results],
        "total": len(results),
        "failed": sum(result.status == "FAILED" for result in results),
        "interrupted": interrupted,
        "seconds": round(seconds, 3),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temporary, target)
