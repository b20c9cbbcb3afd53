"""Running a batch: the options checked, the backend chosen, progress
shown, and the results returned (or carried by :class:`BatchInterrupted`)."""

import contextlib
import os
import sys
from collections.abc import Iterable
from typing import Any

from irisdq.batch.cluster import (
    _check_workers,
    _refuse_while_a_worker_starts,
    require_distributed,
)
from irisdq.batch.dask_tasks import _run_dask
from irisdq.batch.interrupt import BatchInterrupted
from irisdq.batch.progress import Progress, _in_notebook, _on_terminal, _show_progress
from irisdq.batch.request import FileResult, _check_outputs, _task_params
from irisdq.batch.resume import _remove_stale_temporaries
from irisdq.batch.scheduler import _check_wait, _ScheduleFile, _scheduler_address
from irisdq.batch.task import _run_here
from irisdq.errors import IrisDQError


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
        Parameters of :class:`~irisdq.dq_init.DQInit` given as paths or
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
    >>> from pathlib import Path
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
