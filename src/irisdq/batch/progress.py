"""Progress of a batch: the callback's type, a tqdm bar counting files
(a widget in a Jupyter notebook, text on a terminal), and the display of
``irisdq dq-init`` (the bar, or one line a file, and the totals)."""

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from irisdq.batch.request import FAILED, FileResult

Progress = Callable[[FileResult, int, int], None]


def progress_bar(total: int, *, file: Any = None, notebook: bool = True) -> Any:
    """A tqdm progress bar counting files.

    Parameters
    ----------
    total : int
        The number of files.
    file : file object, optional
        Where a text bar is drawn (default ``sys.stderr``).
    notebook : bool, optional
        In a Jupyter notebook, draw a notebook widget (``tqdm.auto``); a
        text bar where the widget cannot be drawn (no ipywidgets).

    Returns
    -------
    tqdm.tqdm
        Closed by the caller; a text bar disappears then, a notebook's
        stays.
    """
    from tqdm import tqdm

    # Redrawn at each file (files take seconds, not microseconds).
    options = {"total": total, "unit": "file", "mininterval": 0, "leave": False}
    if notebook and _in_notebook():
        try:
            from tqdm.auto import tqdm as auto_tqdm

            # A notebook keeps the finished bar as a record of the run.
            return auto_tqdm(**{**options, "leave": True})
        except ImportError:
            pass  # no ipywidgets: the text bar
    return tqdm(file=file or sys.stderr, dynamic_ncols=True, **options)


def _on_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False  # None (no console), or closed


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        return type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except AttributeError:
        return False


@contextlib.contextmanager
def _show_progress(total: int) -> Iterator[Progress]:
    """A progress callback drawing a bar, closed when the run ends."""
    bar = progress_bar(total)
    failed = 0

    def update(result: FileResult, done: int, total: int) -> None:
        nonlocal failed
        failed += result.status is FAILED
        bar.set_postfix_str(f"{failed} failed", refresh=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


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
