"""The Dask client of a batch: a local cluster of worker processes
(checked against the machine, each with its share of the memory) or a
client of an existing scheduler."""

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from irisdq.batch.scheduler import _connect
from irisdq.batch.task import _one_line
from irisdq.errors import IrisDQError

# A local cluster has at most this many worker processes per core: more only
# adds memory and start-up time (each worker is a Python process).
WORKERS_PER_CORE = 4


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
