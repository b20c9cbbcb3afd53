"""DQ initialization of many exposures: in this process, on a local Dask
cluster, or on any existing Dask scheduler.

:func:`run` processes each input with :class:`~irisdq.dq_init.DQInit`
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

from irisdq.batch.cluster import WORKERS_PER_CORE as WORKERS_PER_CORE
from irisdq.batch.cluster import _client as _client
from irisdq.batch.cluster import _worker_memory_limit as _worker_memory_limit
from irisdq.batch.cluster import require_distributed
from irisdq.batch.interrupt import BatchInterrupted
from irisdq.batch.progress import Progress as Progress
from irisdq.batch.progress import progress_bar as progress_bar
from irisdq.batch.request import (
    FAILED,
    NOT_RUN,
    VERIFIED,
    FileResult,
    Request,
    make_request,
    output_path,
)
from irisdq.batch.runner import run
from irisdq.batch.scheduler import NOTICE_SECONDS as NOTICE_SECONDS
from irisdq.batch.scheduler import _scheduler_address as _scheduler_address
from irisdq.batch.task import process_file

# Also reachable here, outside __all__ (imported "as" themselves): the
# limits, the progress bar and its type, and the helpers that the benchmarks
# and tests call as irisdq.batch.<name>.
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
