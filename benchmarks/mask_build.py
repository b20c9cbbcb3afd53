"""Benchmark of ``irisdq mask build`` against reading its inputs once.

Run by hand::

    python benchmarks/mask_build.py [--size 4096] [--flats 10] [--darks 10]
                                    [--repeat 3] [--dir DIR]

Writes ``--flats`` flat fields and ``--darks`` darks of ``--size`` x
``--size`` float32 (with defects and cosmic rays) to a temporary folder,
then measures, side by side, medians of ``--repeat`` runs, each in its own
process:

- the build: ``build_mask(flats, darks)`` and writing the mask, in a process
  that has imported irisdq (no picture); its wall time and peak resident
  memory;
- the floor: reading every input once, in row blocks, in a process of the
  same imports (the least work any implementation must do);
- the ratio build / floor.

Targets (4096 x 4096, 10 flats + 10 darks, 2 cores): under 60 s and under
1 GiB peak. Each process is spawned by a wrapper that waits for it with
``os.wait4`` and reports its wall time and peak resident set size. The
inputs are read once before the first run, so that both measurements start
from a warm page cache.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

MIB = 2**20

BUILD = """
import sys, pathlib
from irisdq.reffiles.build import build_mask
folder = pathlib.Path(sys.argv[1])
flats = sorted(folder.glob("flat_*.fits"))
darks = sorted(folder.glob("dark_*.fits"))
result = build_mask(flats, darks, detector="IRIS1")
result.mask.write(folder / "out" / "mask.fits", overwrite=True)
"""

FLOOR = """
import sys, pathlib
from irisdq.reffiles.build import build_mask  # the same imports as the build
folder = pathlib.Path(sys.argv[1])
buffer = bytearray(16 << 20)
for path in sorted(folder.glob("*_*.fits")):
    with open(path, "rb", buffering=0) as stream:
        while stream.readinto(buffer):
            pass
"""

WRAPPER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    start = time.perf_counter()
    process = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        sys.exit(f"the measured process failed with status {status}")
    print(elapsed, usage.ru_maxrss * 1024)
    """
)


def write_inputs(folder: Path, size: int, nflats: int, ndarks: int) -> int:
    """Write the flats and darks; return their bytes."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    light = 20000 * (0.75 + 0.5 * xx) * (1 - 0.2 * ((yy - 0.5) ** 2 + (xx - 0.5) ** 2))
    del yy, xx
    qe = rng.normal(1.0, 0.02, (size, size)).astype(np.float32)
    flat_idx = rng.integers(0, size, (2, size * 4))
    qe[tuple(flat_idx[:, : size * 2])] = 0.01  # dead
    qe[tuple(flat_idx[:, size * 2 :])] = 0.3  # low QE
    total = 0
    for i in range(nflats):
        frame = light * qe * (1 + 0.02 * i)
        frame += rng.normal(0, 100, frame.shape).astype(np.float32)
        path = folder / f"flat_{i}.fits"
        fits.PrimaryHDU(frame).writeto(path)
        total += path.stat().st_size
    del light, qe
    hot = tuple(rng.integers(0, size, (2, size * 4)))
    for i in range(ndarks):
        frame = rng.normal(0.005, 0.01, (size, size)).astype(np.float32)
        frame[hot] += 5.0
        hits = tuple(rng.integers(0, size, (2, size * size // 1000)))
        frame[hits] += 200.0  # cosmic rays in 0.1% of the pixels
        path = folder / f"dark_{i}.fits"
        fits.PrimaryHDU(frame).writeto(path)
        total += path.stat().st_size
    return total


def measure(code: str, folder: Path) -> tuple[float, int]:
    env = dict(os.environ)
    source = Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(source), env.get("PYTHONPATH")])
    )
    output = subprocess.run(
        [sys.executable, "-c", WRAPPER, sys.executable, "-c", code, str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.split()
    return float(output[0]), int(output[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--flats", type=int, default=10)
    parser.add_argument("--darks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dir", help="folder for the inputs (default: a temporary one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        folder = Path(name)
        (folder / "out").mkdir()
        start = time.perf_counter()
        size = write_inputs(folder, args.size, args.flats, args.darks)
        print(
            f"inputs: {args.flats} flats + {args.darks} darks of {args.size} x "
            f"{args.size} float32, {size / MIB:.0f} MiB "
            f"(written in {time.perf_counter() - start:.1f} s)"
        )
        measure(FLOOR, folder)  # warm the page cache
        builds, floors, peaks, floor_peaks = [], [], [], []
        for _ in range(args.repeat):
            seconds, peak = measure(BUILD, folder)
            builds.append(seconds)
            peaks.append(peak)
            seconds, peak = measure(FLOOR, folder)
            floors.append(seconds)
            floor_peaks.append(peak)
        build, floor = statistics.median(builds), statistics.median(floors)
        print(f"{'measure':<28}{'build':>12}{'floor':>12}{'ratio':>10}")
        ratio = build / floor
        print(f"{'wall time (median)':<28}{build:>11.2f}s{floor:>11.2f}s{ratio:>9.1f}x")
        print(
            f"{'peak resident memory':<28}{max(peaks) / MIB:>8.0f} MiB"
            f"{max(floor_peaks) / MIB:>8.0f} MiB{max(peaks) / max(floor_peaks):>9.1f}x"
        )
        print(f"runs: build {', '.join(f'{s:.2f}' for s in builds)} s; "
              f"floor {', '.join(f'{s:.2f}' for s in floors)} s")  # fmt: skip
        print("targets (4096 x 4096, 10 + 10): build < 60 s, peak < 1024 MiB")


if __name__ == "__main__":
    main()
