"""Benchmark of irisdq.crds: lookups per second, import cost, CLI wall time.

Run by hand: ``python benchmarks/crds.py``. Targets, each measured
alternately with the stock crds package in the same process: at least
125,000 lookups per second on the TMT mask rmap with a loaded context and a
dict dataset; at least 25,000 per second through ``irisdq.crds.bestref``
with a file's astropy header;
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


def _stock_rmap():
    """The stock crds package's ReferenceMapping of the same rules (as JWST
    NIRCam, an observatory it accepts), or None with the reason."""
    # This file is named crds.py: keep its folder from shadowing the package.
    here = Path(__file__).resolve().parent
    saved = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    try:
        from crds.core import rmap, utils
    except ImportError:
        return None, None, "not installed here"
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
    except Exception as exc:
        return None, None, f"could not be measured ({exc})"
    return mapping, utils, ""


def _fits_header():
    """A raw ramp's primary header: the selection keywords among 120 cards,
    read from a file as a pipeline reads it."""
    from astropy.io import fits

    header = fits.Header(HEADER)
    for number in range(114):
        header[f"KEY{number:04d}"] = (number * 1.5, "a card selection never reads")
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "raw.fits"
        fits.PrimaryHDU(header=header).writeto(path)
        return fits.getheader(path)


STOCK_PARAMETERS = {
    "META.INSTRUMENT.DETECTOR": "DETECTOR",
    "META.SUBARRAY.NAME": "SUBARRAY",
    "META.OBSERVATION.DATE": "DATE-OBS",
    "META.OBSERVATION.TIME": "TIME-OBS",
}


def lookups(folder: Path, runs: int = 7) -> None:
    from irisdq.crds import bestref, get_context

    mask = folder / "cache" / "references" / "tmt" / "iris" / "tmt_iris_mask_0001.fits"
    context = get_context()
    assert context.bestref(HEADER, "mask") == str(mask)
    header = _fits_header()
    assert bestref(header, "mask") == str(mask)
    stock, utils, reason = _stock_rmap()
    params = {name: HEADER[keyword] for name, keyword in STOCK_PARAMETERS.items()}
    measures = {
        # irisdq, with a loaded context and a dict of header keywords, and
        # the stock client's get_best_ref on the same rules and values.
        "context": lambda: context.bestref(HEADER, "mask"),
        "stock": (lambda: stock.get_best_ref(params)) if stock else None,
        # The call a pipeline makes per file: the module function (context
        # from the environment) with the file's astropy header, and the
        # stock client reading the same values from that header first.
        "module": lambda: bestref(header, "mask"),
        "stock header": (
            lambda: stock.get_best_ref(
                utils.condition_header(
                    {name: header[key] for name, key in STOCK_PARAMETERS.items()}
                )
            )
        )
        if stock
        else None,
    }
    numbers = {"context": 20_000, "stock": 4_000, "module": 5_000}
    numbers["stock header"] = 3_000
    rates = {name: [] for name, call in measures.items() if call is not None}
    # Alternated, so that a change in machine load hits each alike.
    for _ in range(runs):
        for name in rates:
            rates[name].append(_median_rate(measures[name], numbers[name], 1))
    rate = {name: statistics.median(values) for name, values in rates.items()}
    print(f"lookups on the TMT mask rmap (median of {runs} alternated runs)")
    print(
        f"  Context.bestref(dict, 'mask'), context loaded  {rate['context']:>9,.0f} /s"
        f"  ({rate['context'] / 125_000:.2f}x the 125,000/s target)"
    )
    print(
        f"  irisdq.crds.bestref(fits header, 'mask')       {rate['module']:>9,.0f} /s"
        f"  ({rate['module'] / 25_000:.2f}x the 25,000/s target)"
    )
    if stock is None:
        print(f"  stock crds package: {reason}")
        return
    print(
        f"  stock crds get_best_ref(dict), same rules      {rate['stock']:>9,.0f} /s"
        f"  (irisdq's context {rate['context'] / rate['stock']:.2f}x it)"
    )
    print(
        f"  stock crds get_best_ref(values of the header)  "
        f"{rate['stock header']:>9,.0f} /s"
        f"  (irisdq's bestref {rate['module'] / rate['stock header']:.2f}x it)"
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
