"""Benchmark of irisdq.batch: sequential, 2 local workers, and an external
Dask scheduler, alternated.

Run by hand: ``python benchmarks/batch.py [--small 200] [--full 20]
[--repeat 3] [--dir DIR]``.

Two sets of raw IRIS ramps, their full-frame 4096 x 4096 mask chosen through
CRDS from a temporary cache (``CRDS_PATH`` of this process, the client):

- ``--small`` ramps of 1 x 2 x 64 x 64 (fixed costs dominate);
- ``--full`` full-frame ramps of 1 x 2 x 4096 x 4096 (128 MiB of SCI each).

Each set runs through ``batch.run`` three ways, alternated within each of
``--repeat`` rounds so that a change in the machine's state hits all alike:

- sequential, in this process;
- 2 local workers (``workers=2``; the cluster started once, before);
- an external scheduler: a ``dask scheduler`` and two ``dask worker``
  processes (no nanny, one thread each) started apart, in their own folder,
  with another HOME and no ``CRDS_PATH``; the run is given their scheduler
  file, as ``--scheduler-file`` does.

Printed: files/s (medians), each parallel run against sequential, and the
per-file overhead of the Dask path: a tiny ramp submitted alone, one at a
time, to a worker of each cluster, against the same call in this process
(medians of 40).

Everything is written under a temporary folder (about 4 GiB with the
defaults) and removed at the end.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import irisdq
from irisdq import batch
from irisdq.datamodels import RampModel, TMTMaskModel

SMALL = (1, 2, 64, 64)
FULL = (1, 2, 4096, 4096)


def write_cache(folder: Path) -> Path:
    """A CRDS cache with irisdq's shipped TMT mappings and a full-frame
    mask; returns the cache folder."""
    from irisdq.crds.cache import shipped_mapping_folder

    mappings = folder / "mappings" / "tmt"
    mappings.mkdir(parents=True)
    for mapping in shipped_mapping_folder().glob("*.?map"):
        shutil.copy(mapping, mappings / mapping.name)
    references = folder / "references" / "tmt" / "iris"
    references.mkdir(parents=True)
    mask = TMTMaskModel()
    mask.meta.instrument.detector = "IRIS1"
    mask.meta.subarray.name = "GENERIC"
    dq = np.zeros((4096, 4096), dtype=np.uint32)
    rows, columns = np.random.default_rng(1).integers(0, 4096, size=(2, 5000))
    dq[rows, columns] = 1024 | 1
    mask.dq = dq
    mask.write(references / "tmt_iris_mask_0001.fits")
    return folder


def write_ramps(folder: Path, count: int, shape: tuple[int, ...]) -> list[Path]:
    folder.mkdir(parents=True)
    data = np.random.default_rng(2).standard_normal(shape, dtype=np.float32)
    paths = []
    for index in range(count):
        ramp = RampModel()
        ramp.meta.instrument.name = "IRIS"
        ramp.meta.instrument.detector = "IRIS1"
        ramp.meta.subarray.name = "FULL" if shape[-1] == 4096 else "CUSTOM"
        ramp.meta.subarray.xstart = ramp.meta.subarray.ystart = 1
        ramp.meta.subarray.xsize, ramp.meta.subarray.ysize = shape[-1], shape[-2]
        ramp.meta.observation.date = "2026-01-01"
        ramp.meta.observation.time = "00:00:00"
        ramp.data = data
        paths.append(ramp.write(folder / f"r{index:03d}_uncal.fits"))
    return paths


def timed_run(paths: list[Path], out: Path, **where) -> float:
    shutil.rmtree(out, ignore_errors=True)
    os.sync()  # no run pays for the previous one's write-back
    start = time.perf_counter()
    results = batch.run(paths, output_dir=out, progress=False, **where)
    seconds = time.perf_counter() - start
    failed = [r for r in results if r.status != "COMPLETE"]
    if failed:
        raise SystemExit(f"benchmark run failed: {failed[0].error}")
    return seconds


@contextlib.contextmanager
def external_cluster(folder: Path, workers: int = 2) -> Iterator[Path]:
    """A scheduler and ``workers`` single-threaded workers, each its own
    process started apart: another folder and HOME, no CRDS variables."""
    folder.mkdir(parents=True)
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "PYTHONPATH": str(Path(irisdq.__file__).resolve().parents[1]),
        "LANG": "C.UTF-8",
    }
    scheduler_file = folder / "scheduler.json"
    commands = [
        ["dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)],
    ] + [
        ["dask_worker", "--scheduler-file", str(scheduler_file), "--host",
         "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
         "--name", f"apart-{number}"]
        for number in range(workers)
    ]  # fmt: skip
    processes = []
    try:
        for command in commands:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        f"distributed.cli.{command[0]}",
                        *command[1:],
                    ],
                    cwd=folder,
                    env=environ,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        from distributed import Client

        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=60)
        yield scheduler_file
    finally:
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def overhead(client, tiny: list[Path], out: Path) -> tuple[float, float]:
    """Median seconds of one tiny file in this process and through a
    worker of ``client``, submitted alone: (direct, via the worker)."""
    params = {"output_dir": str(out), "overwrite": True}
    direct, remote = [], []
    for path in tiny:
        start = time.perf_counter()
        request = batch.make_request(str(path), params)
        result = batch.process_file(str(path), params, False, request)
        direct.append(time.perf_counter() - start)
        assert result.status == "COMPLETE", result.error
        start = time.perf_counter()
        request = batch.make_request(str(path), params)
        future = client.submit(batch.process_file, str(path), params, False, request)
        result = future.result()
        remote.append(time.perf_counter() - start)
        assert result.status == "COMPLETE", result.error
    return statistics.median(direct), statistics.median(remote)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--full", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="scratch folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="irisdq-batch-", dir=args.dir))
    try:
        run(folder, args.small, args.full, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, small: int, full: int, repeat: int) -> None:
    from distributed import Client

    os.environ["CRDS_PATH"] = str(write_cache(folder / "cache"))
    os.environ.pop("CRDS_CONTEXT", None)
    sets = {
        f"{small} ramps of {' x '.join(map(str, SMALL))}": write_ramps(
            folder / "small", small, SMALL
        ),
        f"{full} ramps of {' x '.join(map(str, FULL))}": write_ramps(
            folder / "full", full, FULL
        ),
    }
    tiny = write_ramps(folder / "tiny", 40, (1, 2, 32, 32))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians")
    start = time.perf_counter()
    with batch._client(2, None) as local:
        started = time.perf_counter() - start
        with external_cluster(folder / "apart") as scheduler_file:
            backends = {
                "sequential": {},
                "2 local workers": {"scheduler": local.scheduler.address},
                "external scheduler": {"scheduler_file": scheduler_file},
            }
            for name, paths in sets.items():
                seconds = {backend: [] for backend in backends}
                for round_ in range(repeat):
                    # Alternated, the order turned each round.
                    order = list(backends)[round_ % 3 :] + list(backends)[: round_ % 3]
                    for backend in order:
                        seconds[backend].append(
                            timed_run(paths, folder / "out", **backends[backend])
                        )
                report(name, len(paths), seconds)
            address = json.loads(scheduler_file.read_text())["address"]
            with Client(address) as external:
                figures = {
                    "2 local workers": overhead(local, tiny, folder / "tiny-out"),
                    "external scheduler": overhead(external, tiny, folder / "t-out"),
                }
    print(f"starting the 2-worker local cluster: {started:.2f} s (once per run)")
    for backend, (direct, remote) in figures.items():
        print(
            f"per-file overhead, {backend:<18} {(remote - direct) * 1000:6.1f} ms "
            f"(a tiny file: {direct * 1000:.1f} ms here, {remote * 1000:.1f} ms "
            "through a worker, one at a time)"
        )


def report(name: str, files: int, seconds: dict[str, list[float]]) -> None:
    print(name)
    base = statistics.median(seconds["sequential"])
    for backend, runs in seconds.items():
        wall = statistics.median(runs)
        ratios = [s / r for s, r in zip(seconds["sequential"], runs, strict=True)]
        print(
            f"  {backend:<20} {wall:7.2f} s {files / wall:8.1f} files/s  "
            f"{base / wall:5.2f}x sequential (rounds {min(ratios):.2f}-"
            f"{max(ratios):.2f}x)"
        )


if __name__ == "__main__":
    main()
