"""One file's task (what a worker runs) and the files run one after
another in this process; each failure becomes one line naming its file."""

import contextlib
import errno
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

from irisdq.batch.progress import Progress
from irisdq.batch.request import FAILED, FileResult, Request, make_request
from irisdq.batch.resume import _verified_output
from irisdq.errors import IrisDQError


def _run_here(
    paths: list[str],
    params: dict[str, Any],
    resume: bool,
    results: list[FileResult],
    progress: Progress | None,
) -> None:
    for index, path in enumerate(paths):
        results[index] = process_file(path, params, resume)
        if progress is not None:
            progress(results[index], index + 1, len(paths))


def process_file(
    path: str,
    params: dict[str, Any],
    resume: bool = False,
    request: Request | None = None,
) -> FileResult:
    """Process one ramp file; never raises for a bad input.

    This is the task each worker runs: it opens its own files and returns a
    small :class:`FileResult`.

    Parameters
    ----------
    path : str
        The raw ramp.
    params : dict
        :class:`~irisdq.dq_init.DQInit` parameters (paths and flags).
    resume : bool, optional
        Keep an existing output made by the same request that passes its
        checksums.
    request : Request, optional
        The reference and options chosen by the client (see
        :func:`make_request`); by default chosen here. A request chosen by
        another version of irisdq fails the file: the same request must
        give the same output on every worker.

    Returns
    -------
    FileResult

    Examples
    --------
    >>> result = process_file("no/such_uncal.fits", {})
    >>> print(result.status, result.error)
    FAILED no/such_uncal.fits: No such file or directory

    Warnings raised while it runs (astropy's about a non-standard header
    card, for instance) become one line each in ``warnings``, naming the
    file, instead of going to stderr.
    """
    from irisdq.dq_init import DQInit

    start = time.perf_counter()
    worker = _worker_name()
    collected = _WarningCollector()
    logger = logging.getLogger("irisdq")
    logger.addHandler(collected)
    propagate, logger.propagate = logger.propagate, False
    try:
        with _warnings_as_lines(path, collected.messages):
            if request is None:
                request = make_request(path, params)
            _check_version(request, worker)
            if resume and not params.get("inplace"):
                kept = _verified_output(path, params, request, collected.messages)
                if kept is not None:
                    kept.seconds = time.perf_counter() - start
                    kept.worker = worker
                    return kept
                params = {**params, "overwrite": True}
            step = DQInit(**params)
            step.reference = request.reference
            step.recorded_options = request.options
            output = step.run(path)
    except Exception as exc:
        return FileResult(
            path,
            status=FAILED,
            seconds=time.perf_counter() - start,
            error=_one_line(exc, path),
            warnings=collected.messages,
            worker=worker,
        )
    finally:
        logger.removeHandler(collected)
        logger.propagate = propagate
    result = step.summary
    result.output = str(output)
    result.seconds = time.perf_counter() - start
    result.warnings = collected.messages
    result.worker = worker
    return result


def _check_version(request: Request, worker: str | None) -> None:
    from irisdq import __version__

    if request.version is not None and request.version != __version__:
        where = "this process" if worker is None else f"Dask worker {worker}"
        raise IrisDQError(
            f"{where} runs irisdq {__version__}, the run irisdq "
            f"{request.version}; install irisdq {request.version} on every "
            "worker, so that each file gets the answer the run chose"
        )


@contextlib.contextmanager
def _warnings_as_lines(path: str, lines: list[str]) -> Iterator[None]:
    """Turn the warnings raised in the block into one line each, naming
    ``path``, appended to ``lines`` (the same text once).

    astropy warns about a non-standard header card while parsing it, and
    its logger prints each warning twice over several lines (once itself,
    once through the root logger); recorded here, it is one line with the
    file's name, reported like the step's own warnings.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        try:
            yield
        finally:
            for warning in caught:
                text = _one_line(warning.message, path)
                if text not in lines:
                    lines.append(text)


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(" ".join(record.getMessage().split()))
        else:
            # INFO and DEBUG lines (-v, --debug) go where they would have
            # gone; only warnings become part of the file's result.
            logging.getLogger().handle(record)


def _worker_name() -> str | None:
    # Only a process that has distributed loaded can be a Dask worker; do
    # not pay for the import otherwise.
    if sys.modules.get("distributed") is None:
        return None
    from distributed import get_worker

    try:
        return str(get_worker().name)
    except ValueError:
        return None


def _one_line(exc: BaseException, path: str | None = None) -> str:
    """One line for an error or a warning, naming the file.

    An OSError names its own file, or else ``path`` (a write that fails on a
    full disk, a seek on a pipe); any other message that does not name
    ``path`` is prefixed with it.
    """
    text = str(exc)
    named = False
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
        if exc.filename is not None:
            text, named = f"{exc.filename}: {text}", True
        if exc.errno == errno.ESPIPE:
            text += "; irisdq seeks in its files: give a regular file, not a pipe"
    elif not isinstance(exc, IrisDQError | OSError):
        text = f"{type(exc).__name__}: {text}"
    text = " ".join(text.split())
    if path is not None and not named and path not in text:
        text = f"{path}: {text}"
    return text
