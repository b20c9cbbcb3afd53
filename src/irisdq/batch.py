"""DQ initialization of many exposures: in this process, on a local Dask
cluster, or on any existing Dask scheduler.

:func:`run` processes each input with :class:`~irisdq.dq_init.DQInitStep`
and returns one :class:`FileResult` per input, in input order. A file that
fails is reported with its one-line reason and the others go on. With
``resume=True`` an input whose output already exists and passes its FITS
checksums is not processed again; a missing or corrupt output is redone.

Backends:

- sequential (no ``workers``, no ``scheduler``): one file after another in
  this process;
- ``workers=N``: a local ``distributed.LocalCluster`` of N single-threaded
  worker processes on 127.0.0.1, started and shut down by :func:`run`;
- ``scheduler='tcp://host:port'`` (or the path of a scheduler file): an
  existing Dask scheduler, e.g. one started by dask-jobqueue on an HPC
  cluster. Its workers need irisdq installed and see their own files and
  ``CRDS_PATH``.

Only paths and a small parameter dict travel to the workers; each task
opens its own files. Outputs are written to a temporary file and renamed,
so an interrupted run never leaves a partial output under its final name;
temporary files left by killed workers are removed when the run ends.
"""

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from irisdq.errors import IrisDQError

__all__ = [
    "FAILED",
    "NOT_RUN",
    "VERIFIED",
    "BatchInterrupted",
    "FileResult",
    "output_path",
    "process_file",
    "run",
]

FAILED = "FAILED"
VERIFIED = "VERIFIED"
NOT_RUN = "NOT_RUN"

# Step parameters that can travel to other processes: names of files, flags.
_PATH_PARAMS = ("override_mask", "user_supplied_dq", "output_file", "output_dir")
_FLAG_PARAMS = ("inplace", "overwrite")


@dataclass
class FileResult:
    """What happened to one input.

    Attributes
    ----------
    input : str
        The input file.
    output : str or None
        The output file (written, or kept by ``resume``).
    status : str
        ``'COMPLETE'`` or ``'SKIPPED'`` (the step's status), ``'VERIFIED'``
        (an existing output passed its checksums and was kept),
        ``'FAILED'``, or ``'NOT_RUN'`` (the run was interrupted first).
    seconds : float
        Wall time spent on this file in its worker.
    mask : str or None
        The mask used (``R_MASK``).
    context : str or None
        The CRDS context used.
    flagged : dict
        Pixels of the mask with each flag set, for flags present.
    error : str or None
        The one-line reason of a failure.
    warnings : list of str
        Warnings the step logged for this file.
    worker : str or None
        The Dask worker that ran it (None in this process).
    """

    input: str
    output: str | None = None
    status: str = NOT_RUN
    seconds: float = 0.0
    mask: str | None = None
    context: str | None = None
    flagged: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    worker: str | None = None

    @property
    def ok(self) -> bool:
        """True unless the file failed or was not run."""
        return self.status not in (FAILED, NOT_RUN)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values."""
        return asdict(self)


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
    resume: bool = False,
    progress: Progress | None = None,
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
        127.0.0.1). Default: process the files in this process.
    scheduler : str or os.PathLike, optional
        The address of an existing Dask scheduler (``tcp://host:8786``) or
        the path of its scheduler file. Exclusive with ``workers``.
    resume : bool, optional
        Keep outputs that exist and pass their FITS checksums (status
        ``'VERIFIED'``); redo the missing and the corrupt ones.
    progress : callable, optional
        Called as ``progress(result, done, total)`` as each file finishes.
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
        together, ``output_file`` with several inputs, an object where a
        path is needed).
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
    >>> [(Path(r.output).name, r.status, r.flagged) for r in results[:1]]
    [('a_dqinit.fits', 'COMPLETE', {'DEAD': 1})]
    >>> results[1].status
    'FAILED'
    >>> [r.status for r in run([ramp_path], output_dir=folder / "out",
    ...                        override_mask=mask_path, resume=True)]
    ['VERIFIED']
    """
    paths = [str(path) for path in paths]
    params = _task_params(paths, output_dir, step_params)
    if workers is not None and scheduler is not None:
        raise IrisDQError("give either workers (a local cluster) or scheduler")
    if workers is not None and int(workers) < 1:
        raise IrisDQError(f"workers must be at least 1, not {workers}")
    results = [FileResult(path) for path in paths]
    if resume:
        _remove_stale_temporaries(paths, params)
    try:
        if scheduler is None and workers is None:
            _run_here(paths, params, resume, results, progress)
        else:
            _run_dask(paths, params, resume, results, progress, workers, scheduler)
    except KeyboardInterrupt:
        _remove_stale_temporaries(paths, params)
        raise BatchInterrupted(results) from None
    if scheduler is None:
        _remove_stale_temporaries(paths, params)
    return results


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
) -> None:
    from distributed import as_completed

    _quiet_dask_logging()

    with _client(workers, scheduler) as client:
        # pure=False: a rerun after a change on disk must run again, and
        # two identical inputs are still two tasks.
        futures = {
            client.submit(
                process_file, path, params, resume, key=_task_key(index, path)
            ): index
            for index, path in enumerate(paths)
        }
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                index = futures[future]
                try:
                    results[index] = future.result()
                except Exception as exc:  # a worker lost, a task killed
                    results[index] = FileResult(
                        paths[index], status=FAILED, error=_one_line(exc)
                    )
                if progress is not None:
                    progress(results[index], done, len(paths))
        except BaseException:
            client.cancel(list(futures), force=True)
            raise


def _task_key(index: int, path: str) -> str:
    import uuid

    return f"dq_init-{Path(path).name}-{index}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def _client(workers: int | None, scheduler: Any) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        address = str(scheduler)
        if "://" not in address and Path(address).is_file():
            client = Client(scheduler_file=address)
        else:
            client = Client(address)
        with client:
            yield client
        return
    import dask

    # distributed sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off
    # glibc's adaptive mmap threshold: every large numpy temporary is then
    # mapped and faulted in afresh, and the step runs ~2x slower. Memory is
    # bounded per task here, so the workers keep glibc's default.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
        LocalCluster(
            n_workers=int(workers),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler serves HTTP (health, metrics) even without a
            # dashboard, on port 8787 by default: a free loopback port keeps
            # two runs at once from colliding (and distributed from warning).
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            # Tasks are I/O and numpy; a worker near its limit is paused
            # and restarted by the nanny rather than swapping.
            memory_limit=0,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up)
        yield client


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


def process_file(path: str, params: dict[str, Any], resume: bool = False) -> FileResult:
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
        Keep an existing output that passes its checksums.

    Returns
    -------
    FileResult

    Examples
    --------
    >>> result = process_file("no/such_uncal.fits", {})
    >>> result.status, result.error
    ('FAILED', 'no/such_uncal.fits: No such file or directory')
    """
    from irisdq.dq_init import DQInitStep

    start = time.perf_counter()
    worker = _worker_name()
    if resume and not params.get("inplace"):
        kept = _verified_output(path, params)
        if kept is not None:
            kept.seconds = time.perf_counter() - start
            kept.worker = worker
            return kept
        params = {**params, "overwrite": True}
    collected = _WarningCollector()
    logger = logging.getLogger("irisdq")
    logger.addHandler(collected)
    propagate, logger.propagate = logger.propagate, False
    try:
        step = DQInitStep(**params)
        output = step.run(path)
    except Exception as exc:
        return FileResult(
            path,
            status=FAILED,
            seconds=time.perf_counter() - start,
            error=_one_line(exc),
            warnings=collected.messages,
            worker=worker,
        )
    finally:
        logger.removeHandler(collected)
        logger.propagate = propagate
    summary = step.summary
    return FileResult(
        path,
        output=str(output),
        status=str(summary.status),
        seconds=time.perf_counter() - start,
        mask=summary.mask,
        context=summary.context,
        flagged=dict(summary.flagged),
        warnings=collected.messages,
        worker=worker,
    )


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


def _verified_output(path: str, params: dict[str, Any]) -> FileResult | None:
    """The result for an existing output that passes its checksums, else None."""
    import warnings

    from irisdq.datamodels import read_primary_header
    from irisdq.datamodels.ramp import RampModel

    target = output_path(path, params)
    if not target.is_file():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with RampModel(target, verify_checksums=False) as model:
                if not model.verify_checksums():
                    return None
            header = read_primary_header(target)
    except (IrisDQError, OSError, ValueError):
        return None
    status = header.get("S_DQINIT")
    if status is None:
        return None
    return FileResult(
        path,
        output=str(target),
        status=VERIFIED,
        mask=header.get("R_MASK"),
        context=header.get("CRDS_CTX"),
    )


def _remove_stale_temporaries(paths: list[str], params: dict[str, Any]) -> None:
    """Remove the temporary files of outputs whose writer was killed.

    The step writes its output through a temporary file beside it; a worker
    killed mid-write leaves that file behind.
    """
    from irisdq.datamodels.atomic import temporary_files

    for path in paths:
        try:
            target = output_path(path, params)
        except (IrisDQError, OSError, ValueError):
            continue
        for stale in temporary_files(target):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()


def _worker_name() -> str | None:
    # Only a process that has distributed loaded can be a Dask worker; do
    # not pay for the import otherwise.
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return str(get_worker().name)
    except ValueError:
        return None


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    if not isinstance(exc, IrisDQError | OSError):
        text = f"{type(exc).__name__}: {text}"
    return " ".join(text.split())
