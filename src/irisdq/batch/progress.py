"""Progress of a batch: the callback's type and a tqdm bar counting
files (a widget in a Jupyter notebook, text on a terminal)."""

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
