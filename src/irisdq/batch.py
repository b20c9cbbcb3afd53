"""DQ initialization of many exposures: in this process, on a local Dask
cluster, or on any existing Dask scheduler.

:func:`run` processes each input with :class:`~irisdq.dq_init.DQInitStep`
and returns one :class:`FileResult` per input, in input order. A file that
fails is reported with its one-line reason and the others go on. With
``resume=True`` an input whose output already exists and passes its FITS
checksums and records what this run would (the same mask, context and
options) is not processed again; a missing, corrupt or different output is
redone.

Backends:

- sequential (no ``workers``, no ``scheduler``): one file after another in
  this process;
- ``workers=N``: a local ``distributed.LocalCluster`` of N single-threaded
  worker processes on 127.0.0.1, started and shut down by :func:`run`. N is
  at most 4 per core (``os.cpu_count()``). Each worker may use an equal
  share of the machine's memory (of the container's limit when lower): a
  worker that passes 95 % of its share is restarted by its nanny, and the
  file it was processing is reported ``FAILED`` rather than retried;
- ``scheduler='tcp://host:port'`` (or ``scheduler_file``, the file a
  scheduler, dask-mpi or a batch job writes): an existing Dask scheduler,
  e.g. one started by dask-jobqueue on an HPC cluster. Its workers need
  irisdq installed; they are sent absolute paths, which must name the same
  files on every worker. The run waits for the scheduler and a first
  worker, says so after a few seconds, and gives up after ``wait`` seconds.

The client (this process) decides: it chooses each file's mask and context
from its own ``CRDS_PATH`` and ``CRDS_CONTEXT`` (:func:`make_request`), and
the worker applies that choice and selects nothing, so a result never
depends on a worker's environment. Only paths, that choice and a small
parameter dict travel to the workers; each task opens its own files.
Outputs are written to a temporary file and renamed, so an interrupted
run never leaves a partial output under its final name; temporary files
left by killed workers are removed when the run ends (a temporary file
still being written, by another run for instance, is not).
Before anything runs, two inputs that would write the same output, or an
output that would replace another input, are an error.
"""

import contextlib
import errno
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from irisdq.dq_init.plan import Status
from irisdq.dq_init.result import DQInitResult
from irisdq.errors import IrisDQError
from irisdq.step import NOT_APPLICABLE

__all__ = [
    "FAILED",
    "NOT_RUN",
    "VERIFIED",
    "BatchInterrupted",
    "FileResult",
    "Request",
    "make_request",
    "output_path",
    "process_file",
    "require_distributed",
    "run",
]

FAILED = Status.FAILED
VERIFIED = Status.VERIFIED
NOT_RUN = Status.NOT_RUN

# A local cluster has at most this many worker processes per core: more only
# adds memory and start-up time (each worker is a Python process).
WORKERS_PER_CORE = 4

# Step parameters that can travel to other processes: names of files, flags.
_PATH_PARAMS = ("override_mask", "user_supplied_dq", "output_file", "output_dir")
_FLAG_PARAMS = ("inplace", "overwrite")


# One result per input: the DQ initialization result type.
FileResult = DQInitResult


class BatchInterrupted(KeyboardInterrupt):
    """The run was interrupted; ``results`` holds what finished (and
    ``NOT_RUN`` for the rest)."""

    def __init__(self, results: list[FileResult]) -> None:
        super().__init__("interrupted")
        self.results = results


Progress = Callable[[FileResult, int, int], None]


def run(
    paths: Iterable[str | os.PathLike],
    *,
    output_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    scheduler: str | os.PathLike | None = None,
    scheduler_file: str | os.PathLike | None = None,
    wait: float | None = None,
    resume: bool = False,
    progress: Progress | bool | None = None,
    **step_params: Any,
) -> list[FileResult]:
    """Run DQ initialization over many ramp files.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        The raw ramp files.
    output_dir : str or os.PathLike, optional
        Folder for the outputs (default: beside each input).
    workers : int, optional
        Start a local Dask cluster of this many worker processes (bound to
        127.0.0.1), at most ``4 * os.cpu_count()``; each may use an equal
        share of the machine's memory. None or 0 (the default): process the
        files in this process. A cluster needs Dask's ``distributed``
        (``pip install "irisdq[dask]"``).
    scheduler : str or os.PathLike, optional
        The address of an existing Dask scheduler (``tcp://host:8786``) or
        the path of its scheduler file (the JSON file a scheduler writes
        with ``--scheduler-file``). Exclusive with ``workers``.
    scheduler_file : str or os.PathLike, optional
        The scheduler file that ``dask scheduler --scheduler-file``,
        dask-mpi or a dask-jobqueue job writes; the run waits for it to
        appear, then for the scheduler. Exclusive with ``workers`` and
        ``scheduler``.
    wait : float, optional
        The longest wait, in seconds, for the scheduler file, the scheduler
        and a first worker; past it the run ends with an error. By default
        it waits as long as it takes, and after a few seconds says what it
        waits for.
    resume : bool, optional
        Keep outputs that exist, pass their FITS checksums and record what
        this run would record (status ``'VERIFIED'``); redo the missing,
        the corrupt and those made by another request (a warning says why).
    progress : callable or bool, optional
        Called as ``progress(result, done, total)`` as each file finishes.
        True draws a tqdm bar (a widget in a Jupyter notebook, text on
        stderr elsewhere); False shows nothing. Default: a bar in a Jupyter
        notebook or when stderr is a terminal, nothing otherwise.
    **step_params
        Parameters of :class:`~irisdq.dq_init.DQInitStep` given as paths or
        flags: ``override_mask``, ``user_supplied_dq``, ``overwrite``,
        ``inplace``.

    Returns
    -------
    list of FileResult
        One per input, in input order.

    Raises
    ------
    IrisDQError
        If the parameters are inconsistent (``workers`` and ``scheduler``
        together, too many ``workers``, a cluster or scheduler without
        ``distributed`` installed, a ``scheduler`` file that is not
        one, ``output_file`` with several inputs, an object where a path is
        needed, two inputs with one output).
    BatchInterrupted
        On Ctrl-C (or SIGTERM turned into it by the command line): running
        tasks are cancelled, partial outputs removed, and the exception
        carries the results so far.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from irisdq.datamodels import RampModel, TMTMaskModel
    >>> folder = Path(tempfile.mkdtemp())
    >>> mask = TMTMaskModel()
    >>> mask.meta.instrument.detector = "IRIS1"
    >>> mask.meta.subarray.name = "CUSTOM"
    >>> mask.dq = np.zeros((4, 4), dtype=np.uint32)
    >>> mask.dq[1, 2] = 1024
    >>> mask_path = mask.write(folder / "mask.fits")
    >>> ramp = RampModel()
    >>> ramp.data = np.zeros((1, 2, 4, 4), dtype=np.float32)
    >>> ramp_path = ramp.write(folder / "a_uncal.fits")
    >>> (folder / "b_uncal.fits").write_bytes(b"not FITS")
    8
    >>> results = run([ramp_path, folder / "b_uncal.fits"],
    ...               output_dir=folder / "out", override_mask=mask_path)
    >>> [(Path(r.output).name, str(r.status), r.flagged) for r in results[:1]]
    [('a_dqinit.fits', 'COMPLETE', {'DEAD': 1})]
    >>> print(results[1].status)
    FAILED
    >>> [str(r.status) for r in run([ramp_path], output_dir=folder / "out",
    ...                             override_mask=mask_path, resume=True)]
    ['VERIFIED']
    """
    paths = [str(path) for path in paths]
    params = _task_params(paths, output_dir, step_params)
    if workers is not None:
        workers = _check_workers(workers)
    given = [workers is not None, scheduler is not None, scheduler_file is not None]
    if sum(given) > 1:
        raise IrisDQError(
            "give one of workers (a local cluster), scheduler and scheduler_file"
        )
    wait = _check_wait(wait)
    if any(given):
        require_distributed(
            ("workers", "scheduler", "scheduler_file")[given.index(True)]
        )
    if workers is not None:
        _refuse_while_a_worker_starts()
    if scheduler is not None:
        scheduler = _scheduler_address(scheduler)
    elif scheduler_file is not None:
        scheduler = _ScheduleFile(os.fspath(scheduler_file))
        _scheduler_address(scheduler, missing_ok=True)
    _check_outputs(paths, params)
    results = [FileResult(path) for path in paths]
    if resume:
        _remove_stale_temporaries(paths, params)
    if progress is None:
        progress = _in_notebook() or _on_terminal(sys.stderr)
    try:
        with contextlib.ExitStack() as stack:
            if progress is True:
                progress = stack.enter_context(_show_progress(len(paths)))
            elif progress is False:
                progress = None
            if scheduler is None and workers is None:
                _run_here(paths, params, resume, results, progress)
            else:
                _run_dask(
                    paths, params, resume, results, progress, workers, scheduler, wait
                )
    except KeyboardInterrupt:
        _remove_stale_temporaries(paths, params)
        raise BatchInterrupted(results) from None
    if scheduler is None:
        _remove_stale_temporaries(paths, params)
    return results


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


def _task_params(
    paths: list[str], output_dir: Any, step_params: dict[str, Any]
) -> dict[str, Any]:
    """Check the step parameters and keep them small and picklable."""
    from irisdq.dq_init import DQInitStep

    known = set(DQInitStep.parameter_defaults())
    params: dict[str, Any] = {}
    for name, value in {**step_params, "output_dir": output_dir}.items():
        if name not in known:
            raise IrisDQError(
                f"DQInitStep has no parameter {name!r}; its parameters are: "
                f"{', '.join(sorted(known))}"
            )
        if value is None:
            continue
        if name in _PATH_PARAMS:
            if not isinstance(value, str | os.PathLike):
                raise IrisDQError(
                    f"{name} must be a file name to run in a batch, not "
                    f"{type(value).__name__} (each task opens its own files)"
                )
            value = str(value)
        elif name in _FLAG_PARAMS:
            value = bool(value)
        params[name] = value
    if params.get("output_file") and len(paths) > 1:
        raise IrisDQError(
            f"output_file names one file but {len(paths)} inputs were given; "
            "use output_dir"
        )
    return params


def require_distributed(what: str) -> None:
    """Check that Dask's ``distributed`` can be imported.

    Parameters
    ----------
    what : str
        The option that needs it (``"workers"``, ``"--scheduler"``), named
        in the error.

    Raises
    ------
    IrisDQError
        If ``distributed`` is not installed: one line saying how to install
        it, or to run in this process instead.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise IrisDQError(
            f"{what} needs Dask's distributed, which is not installed: "
            'pip install "irisdq[dask]", or run without it (in this process)'
        ) from None


# What to do when a script starts a local cluster without a main guard.
_MAIN_GUARD = (
    "a script that runs batch.run(workers=N) must call it under "
    "'if __name__ == \"__main__\":' (each worker process imports the script)"
)


def _refuse_while_a_worker_starts() -> None:
    """End a worker process that is importing the script which starts the
    cluster (a script without a main guard) with one line, instead of a
    cluster in each worker and their tracebacks."""
    import multiprocessing

    # multiprocessing's own mark of a process still importing its parent's
    # __main__ (what its "bootstrapping phase" error checks).
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SystemExit(f"irisdq: error: {_MAIN_GUARD}")


def _check_workers(workers: Any) -> int | None:
    """The number of local workers, checked against the machine; None for
    0 (in this process)."""
    try:
        count = int(workers)
    except (TypeError, ValueError):
        raise IrisDQError(f"workers must be a whole number, not {workers!r}") from None
    if count == 0:
        return None
    if count < 0:
        raise IrisDQError(
            f"workers must be at least 0 (0: in this process), not {workers}"
        )
    cores = os.cpu_count() or 1
    limit = WORKERS_PER_CORE * cores
    if count > limit:
        raise IrisDQError(
            f"workers={count} is too many for a local cluster on {cores} "
            f"core(s): use at most {limit} ({WORKERS_PER_CORE} per core), or "
            "an existing Dask scheduler (--scheduler) for a bigger cluster"
        )
    return count


class _ScheduleFile(str):
    """A scheduler file given as such (``scheduler_file``): waited for."""


def _check_wait(wait: Any) -> float | None:
    if wait is None:
        return None
    try:
        seconds = float(wait)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise IrisDQError(f"wait must be a number of seconds > 0, not {wait!r}")
    return seconds


def _scheduler_address(scheduler: Any, missing_ok: bool = False) -> str | None:
    """The address of a scheduler given by address or by scheduler file.

    A name with ``://`` is an address; an existing file must be a Dask
    scheduler file (JSON with an ``address``); ``HOST:PORT`` is an address.
    A scheduler file given as such (:class:`_ScheduleFile`) is always a
    file; with ``missing_ok``, a file not written yet (absent or empty) is
    None.
    """
    what = (
        "a Dask scheduler file is the JSON file a scheduler writes with "
        "--scheduler-file (it holds the scheduler's 'address'); or give "
        "the address, tcp://HOST:PORT"
    )
    address = os.fspath(scheduler)
    as_file = isinstance(scheduler, _ScheduleFile)
    if "://" in address and not as_file:
        return address
    path = Path(address)
    if path.is_dir():
        raise IrisDQError(f"{address}: is a directory, not a scheduler file; {what}")
    if path.exists() and not path.is_file():
        raise IrisDQError(
            f"{address}: not a regular file, not a scheduler file; {what}"
        )
    if path.exists():
        data = b""
        try:
            with open(path, "rb") as stream:
                data = stream.read(1 << 20)
            info = json.loads(data)
        except (OSError, UnicodeDecodeError, ValueError):
            info = None
            if missing_ok and not data.strip():
                return None  # being written
        found = info.get("address") if isinstance(info, dict) else None
        if not isinstance(found, str) or not found:
            raise IrisDQError(f"{address}: not a Dask scheduler file; {what}")
        return found
    if missing_ok and as_file:
        return None
    if ":" not in address or as_file:
        raise IrisDQError(f"{address}: no such scheduler file; {what}")
    return address


def _check_outputs(paths: list[str], params: dict[str, Any]) -> None:
    """Refuse two inputs that write one output, and an output that would
    replace another input, before anything is processed."""
    inputs: dict[tuple, str] = {}
    for path in paths:
        inputs.setdefault(_identity(Path(path)), path)
    writers: dict[tuple, str] = {}
    for path in paths:
        try:
            target = output_path(path, params)
        except (IrisDQError, OSError, ValueError):
            continue  # the task reports it for this file
        key = _identity(target)
        if key in writers:
            raise IrisDQError(
                f"{writers[key]} and {path} would both write {target}; the "
                "first output would be lost: run them separately or rename one"
            )
        writers[key] = path
        other = inputs.get(key)
        if other is not None and _identity(Path(path)) != key:
            raise IrisDQError(
                f"{path} would write {target}, which is the input {other}; "
                "use --output-dir (output_dir) or run them separately"
            )


def _identity(path: Path) -> tuple:
    from irisdq.datamodels.files import file_identity

    # The same file under two names (a link, ../) is one file.
    return file_identity(path)


def output_path(path: str, params: dict[str, Any]) -> Path:
    """Where the step writes the output of ``path``.

    Parameters
    ----------
    path : str
        The input file.
    params : dict
        The step parameters (``output_dir``, ``output_file``, ``inplace``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> output_path("night/a_uncal.fits", {"output_dir": "out"}).as_posix()
    'out/a_dqinit.fits'
    """
    from irisdq.dq_init import DQInitStep

    if params.get("inplace"):
        return Path(path)
    step = DQInitStep(**{k: v for k, v in params.items() if k != "override_mask"})
    return Path(step.output_path(Path(path)))


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


def _run_dask(
    paths: list[str],
    params: dict[str, Any],
    resume: bool,
    results: list[FileResult],
    progress: Progress | None,
    workers: int | None,
    scheduler: Any,
    wait: float | None = None,
) -> None:
    from distributed import as_completed

    _quiet_dask_logging()
    # A worker has its own working folder (on another machine, its own
    # files): it is sent absolute paths, and the results keep the names given.
    sent = [os.path.abspath(path) for path in paths]
    given = params
    params = {
        name: _absolute(value) if name in _PATH_PARAMS else value
        for name, value in params.items()
    }

    with _client(workers, scheduler, wait, len(paths)) as client:
        # A local cluster gets one task per worker at a time, the next once
        # a result is in hand: a worker that dies (a runaway past its memory
        # limit) then takes only its own file with it, never a result not
        # yet gathered or a task waiting behind it. A scheduler's cluster
        # may grow and shrink, so it gets every task at once.
        limit = int(workers) if workers is not None else len(paths)
        queue = iter(enumerate(paths))
        futures: dict[Any, int] = {}
        running = as_completed()
        done = 0

        def finish(index: int, result: FileResult) -> None:
            nonlocal done
            results[index] = result
            done += 1
            if progress is not None:
                progress(result, done, len(paths))

        def submit_next() -> None:
            for index, path in queue:
                # The client chooses, from its own settings; the worker
                # reads what it is told and selects nothing.
                try:
                    request = make_request(path, given)
                except Exception as exc:
                    finish(
                        index,
                        FileResult(path, status=FAILED, error=_one_line(exc, path)),
                    )
                    continue
                reference = request.reference
                if reference.path is not None:
                    reference = replace(reference, path=_absolute(reference.path))
                # pure=False (a unique key): a rerun after a change on disk
                # must run again, and two identical inputs are two tasks.
                future = client.submit(
                    process_file,
                    sent[index],
                    params,
                    resume,
                    Request(reference, request.options),
                    key=_task_key(index, path),
                )
                futures[future] = index
                running.add(future)
                return

        for _ in range(limit):
            submit_next()
        try:
            for future in running:
                index = futures.pop(future)
                try:
                    result = _as_given(future.result(), paths[index], given)
                except Exception as exc:  # a worker lost, a task killed
                    result = FileResult(
                        paths[index],
                        status=FAILED,
                        error=_task_failure(paths[index], exc),
                    )
                future.release()
                finish(index, result)
                submit_next()
        except BaseException:
            client.cancel(list(futures), force=True)
            raise


def _absolute(value: str) -> str:
    """A path as a worker in another folder must be sent it; ``N/A`` as is."""
    if value.upper() == NOT_APPLICABLE:
        return value
    return os.path.abspath(value)


def _as_given(result: FileResult, path: str, params: dict[str, Any]) -> FileResult:
    """The result of a task sent absolute paths, under the names given."""
    sent = result.input
    result.input = path
    if result.error and sent != path:
        result.error = result.error.replace(sent, path)
    if result.output is not None and not params.get("inplace"):
        result.output = str(output_path(path, params))
    elif result.output is not None:
        result.output = path
    return result


def _task_failure(path: str, exc: BaseException) -> str:
    """The one-line reason of a task that did not return."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            f"{path}: the Dask worker processing it died (killed, or over its "
            "memory limit); the other files went on"
        )
    return _one_line(exc, path)


def _task_key(index: int, path: str) -> str:
    import uuid

    return f"dq_init-{Path(path).name}-{index}-{uuid.uuid4().hex[:8]}"


# Seconds of silence before a run that waits for its scheduler or workers
# says so.
NOTICE_SECONDS = 3.0


class _Waiting:
    """The clock of a run waiting for its cluster: says once, after
    NOTICE_SECONDS, what it waits for; ends the run past ``wait`` seconds."""

    def __init__(self, wait: float | None) -> None:
        self.wait = wait
        self.start = time.monotonic()
        self.said = False

    def budget(self) -> float:
        """How long the next wait may last."""
        elapsed = time.monotonic() - self.start
        step = NOTICE_SECONDS - elapsed if not self.said else 10.0
        if self.wait is not None:
            step = min(step, self.wait - elapsed)
        return max(step, 0.05)

    def check(self, waiting: str, failed: str, fix: str) -> None:
        """After a wait that ended empty: end the run (``failed``, then
        ``fix``), or say what it is ``waiting`` for (once)."""
        elapsed = time.monotonic() - self.start
        if self.wait is not None and elapsed >= self.wait:
            raise IrisDQError(f"{failed} in {self.wait:g} s (--wait); {fix}")
        if not self.said and elapsed >= NOTICE_SECONDS:
            self.said = True
            limit = (
                f"; the run ends after {self.wait:g} s"
                if self.wait is not None
                else "; --wait SECONDS sets a limit"
            )
            logging.getLogger("irisdq.batch").warning(
                "waiting for %s (%.0f s so far); %s%s", waiting, elapsed, fix, limit
            )


@contextlib.contextmanager
def _connect(scheduler: Any, wait: float | None, files: int) -> Iterator[Any]:
    """A client of the scheduler with at least one worker connected.

    A scheduler file that does not exist yet (a job that has not started)
    and a scheduler that does not answer yet are waited for, as are the
    workers; after NOTICE_SECONDS the run says what it waits for, and
    ``wait`` seconds end it with an error.
    """
    from distributed import Client

    clock = _Waiting(wait)
    while True:
        address = _scheduler_address(scheduler, missing_ok=True)
        if address is not None:
            break
        time.sleep(min(clock.budget(), 0.5))
        clock.check(
            f"the scheduler file {os.fspath(scheduler)} to appear",
            f"the scheduler file {os.fspath(scheduler)} did not appear",
            "start the scheduler that writes it (dask scheduler "
            "--scheduler-file FILE), or give its address",
        )
    while True:
        try:
            client = Client(address, timeout=clock.budget())
            break
        except (OSError, TimeoutError):
            clock.check(
                f"the Dask scheduler at {address} to answer",
                f"the Dask scheduler at {address} did not answer",
                "start it (dask scheduler), or check the address",
            )
    with client:
        while True:
            try:
                client.wait_for_workers(1, timeout=clock.budget())
                break
            except TimeoutError:
                clock.check(
                    f"a Dask worker to connect to the scheduler at {address} "
                    f"({files} file(s) to run)",
                    f"no Dask worker connected to the scheduler at {address}",
                    f"start one (dask worker {address})",
                )
        yield client


@contextlib.contextmanager
def _client(
    workers: int | None, scheduler: Any, wait: float | None = None, files: int = 0
) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with _connect(scheduler, wait, files) as client:
            yield client
        return
    import dask

    # distributed sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off
    # glibc's adaptive mmap threshold: every large numpy temporary is then
    # mapped and faulted in afresh, and the step runs ~2x slower. Memory is
    # bounded per task here, so the workers keep glibc's default.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    settings = {
        "distributed.nanny.pre-spawn-environ": environ,
        # A task whose worker died (a runaway killed at its memory limit)
        # fails at once instead of killing more workers in turn; a worker
        # holds only the task it runs, so no other task fails with it.
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        try:
            cluster = LocalCluster(
                n_workers=int(workers),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # The scheduler serves HTTP (health, metrics) even without a
                # dashboard, on port 8787 by default: a free loopback port keeps
                # two runs at once from colliding (and distributed from warning).
                scheduler_kwargs={
                    "dashboard": False,
                    "dashboard_address": "127.0.0.1:0",
                },
                # Each worker gets an equal share of the machine's memory; the
                # nanny restarts a worker past 95 % of it, so a runaway task ends
                # as a failure of its file instead of swapping the machine.
                memory_limit=_worker_memory_limit(int(workers)),
                silence_logs=logging.ERROR,
            )
        except RuntimeError as exc:
            raise IrisDQError(
                f"the local Dask cluster did not start ({_one_line(exc)}); "
                f"{_MAIN_GUARD}"
            ) from None
        with cluster, Client(cluster) as client:
            client.run(_warm_up)
            yield client


def _worker_memory_limit(workers: int) -> int:
    """The memory, in bytes, each of ``workers`` local workers may use.

    An equal share of the machine's memory, or of the container's limit
    (cgroup, ``RLIMIT_RSS``) when lower, as ``distributed`` measures it.

    Examples
    --------
    >>> _worker_memory_limit(2) * 2 <= _worker_memory_limit(1)
    True
    """
    from distributed.system import MEMORY_LIMIT

    return int(MEMORY_LIMIT // max(int(workers), 1))


def _warm_up() -> None:
    """Import the step and FITS I/O on a worker before the first task."""
    import astropy.io.fits  # noqa: F401

    import irisdq.crds
    import irisdq.datamodels
    import irisdq.dq_init  # noqa: F401


def _quiet_dask_logging() -> None:
    # distributed sets its loggers to INFO when imported; its chatter about
    # starting and stopping workers is not the user's business.
    for name in ("distributed", "dask", "tornado", "asyncio", "bokeh"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


@dataclass(frozen=True)
class Request:
    """What the client decided for one file: the reference and the option
    keywords to record. A worker applies it and selects nothing.

    Attributes
    ----------
    reference : irisdq.dq_init.step.ReferenceChoice
        The mask to read (absolute path on a worker), what ``R_MASK``
        records and the CRDS context.
    options : dict
        The option keywords to record (``R_USERDQ``, ``NARROWDQ``).
    substrt : tuple of int or None
        The position given for ramps without SUBSTRT1/2 (``substrt``).
    """

    reference: Any
    options: dict[str, str]
    substrt: tuple[int, int] | None = None

    def mismatch(self, recorded: Any, header: Any) -> str | None:
        """What differs between an output's record and this request, or
        None when it was made by the same request."""
        expected = {
            "S_DQINIT": (recorded.status, self.reference.status),
            "the mask": (recorded.mask, self.reference.record),
            "CRDS_CTX": (recorded.context, self.reference.context),
        }
        for keyword in ("R_USERDQ", "NARROWDQ"):
            expected[keyword] = (header.get(keyword), self.options.get(keyword))
        wanted = None if self.substrt is None else "{},{}".format(*self.substrt)
        expected["--substrt"] = (_given_position(header, wanted), wanted)
        for what, (found, wanted) in expected.items():
            if found != wanted:
                found = "none" if found is None else repr(str(found))
                wanted = "none" if wanted is None else repr(str(wanted))
                return f"{what} {found}, this run {wanted}"
        return None


def _given_position(header: Any, wanted: str | None) -> str | None:
    """The position an output records, as ``"COL,ROW"``, to compare with
    ``wanted``: its SUBSTRT1/2 when a position is wanted (the ramp's own or
    the one given), else only one that was given (their comment says so),
    else None."""
    from irisdq.dq_init.plan import GIVEN_COMMENT

    if "SUBSTRT1" not in header or "SUBSTRT2" not in header:
        return None
    if wanted is None and GIVEN_COMMENT not in header.comments["SUBSTRT1"]:
        return None
    return f"{header['SUBSTRT1']},{header['SUBSTRT2']}"


def make_request(path: str, params: dict[str, Any]) -> Request:
    """Choose the reference for ``path`` and the options to record, in this
    process, from its settings (``CRDS_PATH``, ``CRDS_CONTEXT``).

    Parameters
    ----------
    path : str
        The raw ramp.
    params : dict
        :class:`~irisdq.dq_init.DQInitStep` parameters (paths and flags).

    Returns
    -------
    Request

    Raises
    ------
    IrisDQError or OSError
        If the file's headers cannot be read or CRDS chooses nothing.

    Examples
    --------
    >>> request = make_request("a_uncal.fits", {"override_mask": "N/A"})
    >>> request.reference.record, request.options
    ('N/A', {})
    """
    from irisdq.dq_init import DQInitStep

    step = DQInitStep(**params)
    return Request(step.choose_reference(path), step.option_keywords(), step.position())


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
        :class:`~irisdq.dq_init.DQInitStep` parameters (paths and flags).
    resume : bool, optional
        Keep an existing output made by the same request that passes its
        checksums.
    request : Request, optional
        The reference and options chosen by the client (see
        :func:`make_request`); by default chosen here.

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
    from irisdq.dq_init import DQInitStep

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
            if resume and not params.get("inplace"):
                kept = _verified_output(path, params, request, collected.messages)
                if kept is not None:
                    kept.seconds = time.perf_counter() - start
                    kept.worker = worker
                    return kept
                params = {**params, "overwrite": True}
            step = DQInitStep(**params)
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


def _verified_output(
    path: str, params: dict[str, Any], request: Request, notes: list[str]
) -> FileResult | None:
    """The result for an existing output made by the same request (its
    record matches ``request``) whose every HDU carries CHECKSUM and
    DATASUM and passes them, else None; an output made by another request
    is named in ``notes``."""
    import warnings

    from irisdq.datamodels import open as open_model
    from irisdq.datamodels import read_primary_header

    target = output_path(path, params)
    if not target.is_file():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The model of the output's own layout (a Liger ramp, too).
            with open_model(target, verify_checksums=False) as model:
                # An HDU without its sums cannot be verified: the output is
                # made again rather than trusted.
                for hdu in model.hdu_layout:
                    if "CHECKSUM" not in hdu.header or "DATASUM" not in hdu.header:
                        return None
                if not model.verify_checksums():
                    return None
            header = read_primary_header(target)
    except (IrisDQError, OSError, ValueError):
        return None
    from irisdq.dq_init import DQInitStep

    recorded = DQInitStep(**params).recorded(header)
    if recorded is None:
        return None
    differs = request.mismatch(recorded, header)
    if differs is not None:
        notes.append(f"{target}: made by another request ({differs}); made again")
        return None
    return FileResult(
        path,
        output=str(target),
        status=VERIFIED,
        mask=recorded.mask,
        context=recorded.context,
    )


def _remove_stale_temporaries(paths: list[str], params: dict[str, Any]) -> None:
    """Remove the temporary files of outputs whose writer was killed.

    The step writes its output through a temporary file beside it; a worker
    killed mid-write leaves that file behind. A temporary file whose writer
    is still at work (another run writing the same output) holds a lock and
    is left alone.
    """
    from irisdq.datamodels.atomic import remove_abandoned_temporaries

    for path in paths:
        try:
            target = output_path(path, params)
        except (IrisDQError, OSError, ValueError):
            continue
        remove_abandoned_temporaries(target)


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
