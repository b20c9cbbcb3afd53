"""irisdq.bitmask against astropy.nddata.bitmask, side by side in one process.

Run by hand: ``python benchmarks/bitmask.py [--repeat N]``. Prints the median
time of each implementation (called alternately), the ratio astropy / irisdq
(above 1: irisdq is faster), the peak memory each allocates beyond its
output, and the floor: ``bitfield != 0`` into a new boolean array on every
core, the least work any implementation must do, timed in the same rotation.
"""

import argparse
import os
import statistics
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from astropy.nddata import bitmask as astropy_bitmask

from irisdq import bitmask as irisdq_bitmask

IGNORE_FLAGS = {"int": 4 | 8, "list": [4, 8], "string": "4,8"}


def median_seconds(*funcs, repeat: int) -> list[float]:
    """Median time of each function, called in turn ``repeat`` times, so
    that a change in machine load hits all of them alike."""
    for func in funcs:
        func()  # warm up caches and the thread pool
    times = [[] for _ in funcs]
    for _ in range(repeat):
        for func, spent in zip(funcs, times, strict=True):
            start = time.perf_counter()
            func()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def floor_function(bitfield: np.ndarray, pool: ThreadPoolExecutor):
    """The least work any implementation must do, on every core.

    That is: read each element once and write it, tested against zero, into
    a new boolean array, whose fresh pages the kernel must zero first.
    """
    source = bitfield.reshape(-1)
    workers = pool._max_workers
    bounds = np.linspace(0, source.size, workers + 1).astype(int)

    def run():
        target = np.empty(source.shape, np.bool_)

        def part(i):
            piece = slice(bounds[i], bounds[i + 1])
            np.not_equal(source[piece], 0, out=target[piece])

        list(pool.map(part, range(workers)))
        return target

    return run


def peak_extra_bytes(func) -> int:
    """Peak traced allocation of one call, less the size of its result."""
    tracemalloc.start()
    try:
        result = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - result.nbytes


def compare(label: str, bitfield: np.ndarray, repeat: int) -> list[float]:
    ratios, floors = [], []
    pool = ThreadPoolExecutor(os.cpu_count() or 1)
    run_floor = floor_function(bitfield, pool)
    for kind, flags in IGNORE_FLAGS.items():

        def run_astropy(flags=flags):
            return astropy_bitmask.bitfield_to_boolean_mask(bitfield, flags)

        def run_irisdq(flags=flags):
            return irisdq_bitmask.bitfield_to_boolean_mask(bitfield, flags)

        np.testing.assert_array_equal(run_astropy(), run_irisdq())
        t_astropy, t_irisdq, t_floor = median_seconds(
            run_astropy, run_irisdq, run_floor, repeat=repeat
        )
        ratio = t_astropy / t_irisdq
        ratios.append(ratio)
        floors.append(t_astropy / t_floor)
        extra_astropy = peak_extra_bytes(run_astropy) / 2**20
        extra_irisdq = peak_extra_bytes(run_irisdq) / 2**20
        print(
            f"{label:<24} {kind:<7} astropy {t_astropy * 1e3:7.2f} ms  "
            f"irisdq {t_irisdq * 1e3:7.2f} ms  speed-up {ratio:4.2f}x  "
            f"floor {t_floor * 1e3:7.2f} ms  "
            f"extra memory astropy {extra_astropy:5.1f} MiB "
            f"irisdq {extra_irisdq:5.1f} MiB"
        )
    pool.shutdown()
    print(
        f"{label:<24} floor = bitfield != 0 into a new array on {os.cpu_count()} "
        f"cores: the most any implementation can gain on astropy here is "
        f"{statistics.median(floors):4.2f}x"
    )
    return ratios


def scalar_overhead(repeat: int) -> float:
    value = np.uint32(1029)
    calls = 2000

    def loop(module):
        def run():
            for _ in range(calls):
                module.bitfield_to_boolean_mask(value, 4)

        return run

    t_astropy, t_irisdq = (
        seconds / calls
        for seconds in median_seconds(
            loop(astropy_bitmask), loop(irisdq_bitmask), repeat=repeat
        )
    )
    ratio = t_astropy / t_irisdq
    print(
        f"{'scalar uint32':<24} {'int':<7} astropy {t_astropy * 1e6:7.2f} us  "
        f"irisdq {t_irisdq * 1e6:7.2f} us  speed-up {ratio:4.2f}x"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    dq32 = np.zeros((4096, 4096), dtype=np.uint32)
    flagged = rng.random(dq32.shape) < 0.1
    dq32[flagged] = rng.integers(1, 2**32, flagged.sum(), dtype=np.uint32)
    dq8 = rng.integers(0, 256, size=(10, 4096, 4096), dtype=np.uint8)

    print(f"median of {args.repeat} calls; speed-up = astropy time / irisdq time")
    ratios = compare("4096x4096 uint32", dq32, args.repeat)
    ratios += compare("10x4096x4096 uint8", dq8, args.repeat)
    scalar = scalar_overhead(args.repeat)
    print(
        f"slowest large-array speed-up {min(ratios):.2f}x (target >= 2); "
        f"scalar speed-up {scalar:.2f}x (target >= 1)"
    )


if __name__ == "__main__":
    main()
