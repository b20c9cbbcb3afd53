"""The files of a batch as Dask tasks: the client chooses each file's
request, submits it with absolute paths, and gathers the results under the
names given."""

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from irisdq.batch.cluster import _client, _quiet_dask_logging
from irisdq.batch.progress import Progress
from irisdq.batch.request import (
    _PATH_PARAMS,
    FAILED,
    FileResult,
    make_request,
    output_path,
)
from irisdq.batch.task import _one_line, process_file
from irisdq.step import NOT_APPLICABLE


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
                    replace(request, reference=reference),
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
