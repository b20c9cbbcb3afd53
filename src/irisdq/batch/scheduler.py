"""An existing Dask scheduler: its address or scheduler file, and the
wait for the file, the scheduler and a first worker (said after a few
seconds, ended after ``wait`` seconds)."""

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from irisdq.errors import IrisDQError


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
