"""A Dask scheduler and workers started apart, as on a real cluster.

Each is a ``dask scheduler`` or ``dask worker`` process of its own, on
127.0.0.1, in another working folder, with another HOME and an environment
of its own: no CRDS variables, and ``PYTHONPATH`` naming the irisdq these
tests import (the workers must run the code under test). Every process is
stopped when the block ends, and each wait is bounded.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import irisdq

# The folder holding the irisdq package the tests import.
SOURCE = str(Path(irisdq.__file__).resolve().parents[1])

# The longest wait for a process to come up or go away.
TIMEOUT = 60.0


def environment(home: Path) -> dict[str, str]:
    """The environment of a process of the cluster: its own HOME, irisdq
    on PYTHONPATH, and nothing of the client's CRDS settings."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": SOURCE,
        "LANG": "C.UTF-8",
    }
    return environ


def command(words: list[str]) -> list[str]:
    """``dask scheduler ...`` or ``dask worker ...`` as this Python runs it
    (the ``dask`` script of a pyenv shim needs the real HOME)."""
    assert words[0] == "dask", words
    return [sys.executable, "-m", f"distributed.cli.dask_{words[1]}", *words[2:]]


@contextlib.contextmanager
def started(words: list[str], site: Path, home: Path) -> Iterator[subprocess.Popen]:
    """Start ``dask ...`` in ``site``; stop it (and its children) at the end."""
    site.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    log = open(site / f"{words[1]}-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        command(words),
        cwd=site,
        env=environment(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """Stop a process group started by :func:`started`, bounded in time."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def wait_for_file(path: Path, process: subprocess.Popen) -> dict:
    """The JSON a scheduler writes to its scheduler file, once written."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the scheduler ended: {process.returncode}"
        with contextlib.suppress(OSError, ValueError):
            return json.loads(path.read_text())
        time.sleep(0.1)
    raise AssertionError(f"no scheduler file {path} after {TIMEOUT} s")


def wait_for_workers(address: str, count: int) -> None:
    """Wait until ``count`` workers are connected to ``address``."""
    from distributed import Client

    with Client(address, timeout=TIMEOUT) as client:
        client.wait_for_workers(count, timeout=TIMEOUT)


@contextlib.contextmanager
def external_cluster(root: Path, workers: int = 1) -> Iterator[str]:
    """A scheduler and ``workers`` worker processes, each started apart in
    its own folder under ``root``; yields the scheduler file's path."""
    scheduler_file = root / "scheduler" / "scheduler.json"
    with contextlib.ExitStack() as stack:
        scheduler = stack.enter_context(
            started(
                [
                    "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(scheduler_file),
                ],
                root / "scheduler",
                root / "scheduler-home",
            )
        )
        address = wait_for_file(scheduler_file, scheduler)["address"]
        for number in range(workers):
            stack.enter_context(
                started(
                    [
                        "dask",
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"apart-{number}",
                    ],
                    root / f"worker-{number}",
                    root / f"worker-{number}-home",
                )
            )
        wait_for_workers(address, workers)
        yield str(scheduler_file)
