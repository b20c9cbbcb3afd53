"""Benchmark of irisdq.crds: lookups per second, import cost, CLI wall time.

Run by hand: ``python benchmarks/crds.py``. Targets: at least 100,000
lookups per second on the TMT mask rmap once a context is loaded;
``import irisdq.crds`` adds at most 50 ms to ``import numpy``;
``irisdq crds bestref FILE`` under 0.6 s. Every figure is a median.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = {
    "TELESCOP": "TMT",
    "INSTRUME": "IRIS",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2020-07-13",
    "TIME-OBS": "00:00:00",
}


def _median_rate(call, number: int, repeats: int = 7) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        rates.append(number / (time.perf_counter() - start))
    return statistics.median(rates)


def _median_wall(command: list[str], repeats: int, env=None) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _stock_lookup():
    """A lookup by the stock crds package on the same rules (as JWST NIRCam,
    the observatory it accepts), or None with the reason."""
    # This file is named crds.py: keep its folder from shadowing the package.
    here = Path(__file__).resolve().parent
    saved = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    try:
        from crds.core import rmap
    except ImportError:
        return None, "not installed here"
    finally:
        sys.path[:] = saved
    from irisdq.crds.cache import shipped_mapping_folder

    text = (shipped_mapping_folder() / "tmt_iris_mask_0001.rmap").read_text()
    text = (
        text.replace("tmt_", "jwst_")
        .replace("'TMT'", "'JWST'")
        .replace("IRIS", "NIRCAM")
    )
    try:
        mapping = rmap.ReferenceMapping.from_string(text, ignore_checksum=True)
        params = {
            "META.INSTRUMENT.DETECTOR": "NIRCAM1",
            "META.SUBARRAY.NAME": "FULL",
            "META.OBSERVATION.DATE": "2020-07-13",
            "META.OBSERVATION.TIME": "00:00:00",
        }
        mapping.get_best_ref(params)
    except Exception as exc:
        return None, f"could not be measured ({exc})"
    return (lambda: mapping.get_best_ref(params)), ""


def lookups(folder: Path) -> None:
    from irisdq.crds import bestref, get_context

    mask = folder / "cache" / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    context = get_context()
    assert context.bestref(HEADER, "mask") == str(mask)
    number = 20_000
    stock, reason = _stock_lookup()
    # Alternated, so that a change in machine load hits both alike.
    rates, stock_rates = [], []
    for _ in range(7):
        rates.append(_median_rate(lambda: context.bestref(HEADER, "mask"), number, 1))
        if stock is not None:
            stock_rates.append(_median_rate(stock, number // 5, 1))
    rate = statistics.median(rates)
    select_rate = _median_rate(lambda: context.select(HEADER, "mask"), number)
    module_rate = _median_rate(lambda: bestref(HEADER, "mask"), number // 4)
    print("lookups on the TMT mask rmap, context loaded (median of 7 runs)")
    print(
        f"  Context.bestref(header, 'mask')   {rate:>10,.0f} /s  "
        f"({rate / 100_000:.2f}x the 100,000/s target)"
    )
    if stock is None:
        print(f"  stock crds package: {reason}")
    else:
        stock_rate = statistics.median(stock_rates)
        print(
            f"  stock crds get_best_ref, same rules {stock_rate:>8,.0f} /s  "
            f"(irisdq {rate / stock_rate:.2f}x its rate, alternated)"
        )
    print(f"  Context.select(header, 'mask')    {select_rate:>10,.0f} /s")
    print(
        f"  irisdq.crds.bestref(header, ...)  {module_rate:>10,.0f} /s  "
        "(resolves the context from the environment each call)"
    )


def import_cost(repeats: int = 21) -> None:
    python = sys.executable
    # Interleaved, so that a change in machine load hits both alike.
    bare_times, crds_times = [], []
    for _ in range(repeats):
        bare_times.append(_median_wall([python, "-c", "import numpy"], 1))
        crds_times.append(_median_wall([python, "-c", "import numpy, irisdq.crds"], 1))
    bare, with_crds = statistics.median(bare_times), statistics.median(crds_times)
    probe = (
        "import time, numpy; t = time.perf_counter(); import irisdq.crds; "
        "print(time.perf_counter() - t)"
    )
    inside = statistics.median(
        float(
            subprocess.run(
                [python, "-c", probe], capture_output=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    )
    added = with_crds - bare
    print(f"import cost (median of {repeats} fresh interpreters)")
    print(f"  python -c 'import numpy'               {bare * 1000:7.1f} ms")
    print(f"  python -c 'import numpy, irisdq.crds'  {with_crds * 1000:7.1f} ms")
    print(
        f"  added by irisdq.crds: {added * 1000:.1f} ms wall, {inside * 1000:.1f} ms "
        f"timed inside ({inside / 0.050:.2f}x the 50 ms budget)"
    )


def cli_time(folder: Path, repeats: int = 7) -> None:
    from astropy.io import fits

    raw = folder / "raw_uncal.fits"
    fits.PrimaryHDU(header=fits.Header(HEADER)).writeto(raw)
    command = shutil.which("irisdq")
    base = [command] if command else [sys.executable, "-m", "irisdq.cli.main"]
    env = dict(os.environ)
    wall = _median_wall(
        [*base, "crds", "bestref", str(raw), "--reftype", "mask"], repeats, env
    )
    floor = _median_wall([sys.executable, "-c", "import astropy.io.fits"], repeats, env)
    print(f"command line (median of {repeats} runs)")
    print(
        f"  irisdq crds bestref FILE --reftype mask  {wall:6.3f} s  "
        f"({wall / 0.6:.2f}x the 0.6 s budget)"
    )
    print(
        f"  python -c 'import astropy.io.fits'      {floor:6.3f} s  "
        f"(floor: reading the FITS header needs it; ratio {wall / floor:.2f})"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        mask = (
            folder / "cache" / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
        )
        mask.parent.mkdir(parents=True)
        mask.write_bytes(b"")
        os.environ["CRDS_PATH"] = str(folder / "cache")
        for variable in ("CRDS_CONTEXT", "CRDS_IGNORE_MAPPING_CHECKSUM"):
            os.environ.pop(variable, None)
        print(f"python {sys.version.split()[0]} on {sys.platform}")
        lookups(folder)
        import_cost()
        cli_time(folder)


if __name__ == "__main__":
    main()
