"""The whole of irisdq on synthetic data, in one folder and one call.

:func:`run_demo` builds, in a folder of its own:

- a CRDS cache (``crds_cache/``) whose full-frame MASK reference is made
  with :class:`~irisdq.datamodels.TMTMaskModel`: a 4-pixel border of
  reference pixels, scattered dead and hot pixels, a dead column and a hot
  cluster;
- raw IRIS ramps (``raw/``) without DQ arrays: one full frame and two
  subarrays;

then runs DQ initialization on all of them with :func:`irisdq.batch.run`,
the mask chosen by CRDS best-reference selection, and writes the outputs
(``out/``), the selection's explanation and PNG plots of the mask and of one
output's PIXELDQ. ``CRDS_PATH`` points at the demo's cache only while it
runs.

The demo never replaces a file it did not make: it writes only into an
empty (or new) folder, which it marks as its own with a ``.irisdq-demo``
file, or into a folder that carries that mark from an earlier demo, where
it makes its files again. Nothing is written outside the folder: a
symbolic link in it that leads elsewhere is an error.
"""

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from irisdq import dqflags
from irisdq.dq_init.plan import Status

__all__ = ["DEMO_RAMPS", "MARKER", "DemoResult", "build_mask", "run_demo"]

FULL = 4096
BORDER = 4
MASK_NAME = "tmt_iris_mask_0001.fits"
# The file that marks a folder as the demo's own.
MARKER = ".irisdq-demo"
DEAD_COLUMN = 1500
HOT_CLUSTER = (slice(1500, 1512), slice(2200, 2212))

# name: (ngroups, (SUBSTRT1, SUBSTRT2) or None for the full frame, (ny, nx))
DEMO_RAMPS: dict[str, tuple[int, tuple[int, int] | None, tuple[int, int]]] = {
    "iris_full_uncal.fits": (2, None, (FULL, FULL)),
    "iris_centre_uncal.fits": (3, (1025, 1025), (2048, 2048)),
    "iris_corner_uncal.fits": (4, (1, 1), (512, 512)),
}


@dataclass
class DemoResult:
    """What the demo made.

    Attributes
    ----------
    folder : pathlib.Path
        The demo folder.
    mask : pathlib.Path
        The MASK reference in the demo's CRDS cache.
    ramps : list of pathlib.Path
        The raw ramps.
    results : list of irisdq.batch.FileResult
        One per ramp.
    explanation : str
        Why CRDS chose the mask for the full-frame ramp.
    plots : list of pathlib.Path
        PNG files written (none without matplotlib).
    """

    folder: Path
    mask: Path
    ramps: list[Path]
    results: list[Any]
    explanation: str
    plots: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every ramp was processed."""
        return all(result.status == "COMPLETE" for result in self.results)


def build_mask(seed: int = 2024) -> np.ndarray:
    """The demo's full-frame 4096 x 4096 mask, as uint32 flags.

    A border of ``REFERENCE_PIXEL`` 4 pixels wide; 400 dead pixels; 600
    hot pixels; a dead column at x = 1500; a 12 x 12 hot cluster at
    x = 2200, y = 1500. Every one of them also has ``DO_NOT_USE``, as
    ``irisdq mask create`` and ``mask build`` give it and ``irisdq mask
    check`` expects. The same ``seed`` gives the same mask.

    Parameters
    ----------
    seed : int, optional
        Seed of the random pixel positions.

    Returns
    -------
    numpy.ndarray
        uint32, shape (4096, 4096), indexed ``[y, x]``.

    Examples
    --------
    >>> dq = build_mask()
    >>> dq.shape, dq.dtype
    ((4096, 4096), dtype('uint32'))
    >>> from irisdq import dqflags
    >>> dqflags.decode_flags(int(dq[0, 0]))
    ['DO_NOT_USE', 'REFERENCE_PIXEL']
    >>> dqflags.decode_flags(int(dq[2000, 1500]))
    ['DO_NOT_USE', 'DEAD']
    """
    flag = dqflags.pixel
    dq = np.zeros((FULL, FULL), dtype=np.uint32)
    rng = np.random.default_rng(seed)
    inside = slice(BORDER, FULL - BORDER)
    rows, columns = rng.integers(BORDER, FULL - BORDER, size=(2, 400))
    dq[rows, columns] |= np.uint32(flag["DEAD"] | flag["DO_NOT_USE"])
    rows, columns = rng.integers(BORDER, FULL - BORDER, size=(2, 600))
    dq[rows, columns] |= np.uint32(flag["HOT"] | flag["DO_NOT_USE"])
    dq[inside, DEAD_COLUMN] |= np.uint32(flag["DEAD"] | flag["DO_NOT_USE"])
    dq[HOT_CLUSTER] |= np.uint32(flag["HOT"] | flag["DO_NOT_USE"])
    border = np.ones((FULL, FULL), dtype=bool)
    border[inside, inside] = False
    dq[border] = np.uint32(flag["REFERENCE_PIXEL"] | flag["DO_NOT_USE"])
    return dq


def _prepare_folder(folder: Path) -> None:
    """Make ``folder`` the demo's, or refuse it.

    An absent or empty folder is created and marked with :data:`MARKER`; a
    folder that has the mark (an earlier demo's) is used again; any other
    folder is refused, so that the demo never replaces a file it did not
    make (a CRDS cache, data).

    Raises
    ------
    IrisDQError
        If ``folder`` is not a folder, or holds files and no mark.

    Examples
    --------
    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> (home / "notes.txt").write_text("mine")
    4
    >>> _prepare_folder(home)
    Traceback (most recent call last):
    ...
    irisdq.errors.IrisDQError: ...: the folder is not empty and is not an
    irisdq demo folder ...
    >>> _prepare_folder(home / "demo")
    >>> sorted(p.name for p in (home / "demo").iterdir())
    ['.irisdq-demo']
    >>> _prepare_folder(home / "demo")  # an earlier demo's folder: used again
    """
    from irisdq.datamodels.atomic import check_replaceable
    from irisdq.errors import IrisDQError

    if folder.exists() and not folder.is_dir():
        raise IrisDQError(f"{folder}: not a folder; give the demo a folder name")
    marker = folder / MARKER
    ours = check_replaceable(marker) is not None
    if folder.is_dir() and not ours and any(folder.iterdir()):
        raise IrisDQError(
            f"{folder}: the folder is not empty and is not an irisdq demo "
            f"folder (it has no {MARKER} file); the demo replaces no file it "
            "did not make: give it a new folder, e.g. irisdq-demo"
        )
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        "This folder holds the files of 'irisdq demo'; running the demo here "
        "again makes them again.\n"
    )


def _inside(folder: Path, path: Path) -> Path:
    """``path``, checked to lead inside ``folder`` (no link out of it)."""
    from irisdq.errors import IrisDQError

    if not path.resolve().is_relative_to(folder):
        raise IrisDQError(
            f"{path}: leads outside the demo folder {folder} (a symbolic link?); "
            "the demo writes only inside its folder: remove it or give a new folder"
        )
    return path


def _write_mask(cache: Path) -> Path:
    from irisdq.datamodels import TMTMaskModel

    mask = TMTMaskModel()
    mask.meta.name = "IRIS"
    mask.meta.detector = "IRIS1"
    mask.meta.description = "irisdq demo mask: synthetic bad pixels"
    mask.meta.author = "irisdq demo"
    mask.meta.pedigree = "DUMMY"
    mask.meta.useafter = "2015-10-01T00:00:00"
    mask.dq = build_mask()
    folder = cache
    for part in ("references", "tmt", "iris"):
        folder = _inside(cache, folder / part)
        folder.mkdir(exist_ok=True)
    return mask.write(_inside(cache, folder / MASK_NAME), overwrite=True)


def _write_ramp(path: Path, ngroups: int, start, shape, rng) -> Path:
    from irisdq.datamodels import RampModel

    ny, nx = shape
    ramp = RampModel()
    ramp.meta.telescope = "TMT"
    ramp.meta.name = "IRIS"
    ramp.meta.detector = "IRIS1"
    ramp.meta.observation.date = "2026-03-14"
    ramp.meta.observation.time = "05:06:07"
    ramp.meta.exposure.nints = 1
    ramp.meta.exposure.ngroups = ngroups
    if start is None:
        ramp.meta.subarray.name = "FULL"
    else:
        ramp.meta.subarray.name = "CUSTOM"
        ramp.meta.subarray.xstart, ramp.meta.subarray.ystart = start
    ramp.meta.subarray.xsize, ramp.meta.subarray.ysize = nx, ny
    # A bias level and a flux that grows group by group, with read noise.
    flux = rng.uniform(5.0, 50.0, size=(ny, nx)).astype(np.float32)
    data = np.empty((1, ngroups, ny, nx), dtype=np.float32)
    for group in range(ngroups):
        np.multiply(flux, np.float32(group + 1), out=data[0, group])
        data[0, group] += np.float32(1000.0)
        data[0, group] += rng.standard_normal((ny, nx), dtype=np.float32) * 5
    ramp.data = data
    return ramp.write(path, overwrite=True)


@contextlib.contextmanager
def _crds_path(cache: Path) -> Iterator[None]:
    """Point CRDS at ``cache`` for this process (and the workers it starts),
    then restore the environment."""
    from irisdq.crds import clear_cache

    saved = {name: os.environ.get(name) for name in ("CRDS_PATH", "CRDS_CONTEXT")}
    os.environ["CRDS_PATH"] = str(cache)
    os.environ.pop("CRDS_CONTEXT", None)
    clear_cache()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clear_cache()


def run_demo(
    folder: str | os.PathLike = "irisdq-demo",
    *,
    workers: int | None = 2,
    plots: bool = True,
    out: TextIO | None = None,
) -> DemoResult:
    """Build a CRDS cache and raw ramps in ``folder`` and run DQ init on them.

    Parameters
    ----------
    folder : str or os.PathLike, optional
        Where everything goes: a new or empty folder, or the folder of an
        earlier demo (whose files are made again). Any other folder is
        refused and nothing outside the folder is written.
    workers : int or None, optional
        Worker processes of the local Dask cluster; None or 0 runs the files
        one after another in this process, as does any number when Dask's
        ``distributed`` is not installed (a note says so).
    plots : bool, optional
        Write ``mask.png`` and ``pixeldq.png`` (needs matplotlib).
    out : file object, optional
        Where the narration goes (default ``sys.stdout``).

    Returns
    -------
    DemoResult

    Raises
    ------
    IrisDQError
        If ``folder`` holds files but is not an earlier demo's folder, or a
        symbolic link in it leads outside it.

    Examples
    --------
    ``run_demo("irisdq-demo")`` writes about 550 MB in a few seconds, so
    this example only lists the ramps it makes:

    >>> for name, (ngroups, start, shape) in DEMO_RAMPS.items():
    ...     print(name, ngroups, start, shape)
    iris_full_uncal.fits 2 None (4096, 4096)
    iris_centre_uncal.fits 3 (1025, 1025) (2048, 2048)
    iris_corner_uncal.fits 4 (1, 1) (512, 512)
    """
    from irisdq import batch, crds
    from irisdq.datamodels import read_primary_header
    from irisdq.errors import IrisDQError

    out = out or sys.stdout
    folder = Path(folder).resolve()
    _prepare_folder(folder)
    cache, raw, products = folder / "crds_cache", folder / "raw", folder / "out"
    for path in (cache, raw, products):
        _inside(folder, path).mkdir(exist_ok=True)

    mask = _write_mask(cache)
    print(f"CRDS cache   {cache}", file=out)
    print(f"  mask       {mask.relative_to(folder)} (4096 x 4096)", file=out)
    rng = np.random.default_rng(7)
    ramps = []
    for name, (ngroups, start, shape) in DEMO_RAMPS.items():
        ramps.append(_write_ramp(_inside(raw, raw / name), ngroups, start, shape, rng))
        where = "full frame" if start is None else f"subarray at {start}"
        print(
            f"  ramp       raw/{name}: 1 x {ngroups} x {shape[0]} x {shape[1]}, "
            f"{where}, no DQ arrays",
            file=out,
        )

    if workers:
        try:
            batch.require_distributed("workers")
        except IrisDQError:
            # The base install has no Dask: the demo still runs, in this process.
            print(
                "\nnote: Dask's distributed is not installed "
                '(pip install "irisdq[dask]"); running in this process',
                file=out,
            )
            workers = None
    with _crds_path(cache):
        explanation = crds.explain_bestref(read_primary_header(ramps[0]), "mask")
        backend = f"{workers} local Dask workers" if workers else "this process"
        print(f"\nDQ initialization of {len(ramps)} ramps on {backend}:", file=out)
        results = batch.run(ramps, output_dir=products, workers=workers, overwrite=True)

    _print_results(results, folder, out)
    print("\nWhy CRDS chose this mask (irisdq crds bestref --explain):", file=out)
    print(explanation, file=out)
    result = DemoResult(folder, mask, ramps, results, explanation)
    if plots:
        result.plots = _plot(mask, results, folder, out)
    return result


def _print_results(results, folder: Path, out: TextIO) -> None:
    for result in results:
        name = Path(result.input).name
        if result.status is Status.FAILED:
            print(f"  {name}: FAILED {result.error}", file=out)
            continue
        output = Path(result.output).relative_to(folder)
        print(
            f"  {name} -> {output}: {result.status} in {result.seconds:.2f} s, "
            f"mask {result.mask}",
            file=out,
        )
        for flag, count in result.flagged.items():
            print(f"      {flag:<16} {count:>9,} pixels", file=out)


def _plot(mask_path: Path, results, folder: Path, out: TextIO) -> list[Path]:
    from irisdq.datamodels import RampModel, TMTMaskModel
    from irisdq.datamodels.atomic import check_replaceable
    from irisdq.errors import IrisDQError
    from irisdq.plots import placement, plot_dq, plot_mask

    written = []
    # The plots are saved by matplotlib, which follows links: only a
    # regular file (an earlier plot) is replaced.
    for name in ("mask.png", "pixeldq.png"):
        check_replaceable(folder / name)
    try:
        with TMTMaskModel(mask_path) as mask:
            written.append(
                plot_mask(mask, folder / "mask.png", title=f"{MASK_NAME} (demo mask)")
            )
        chosen = next(
            (r for r in results if r.output and "centre" in r.output),
            next((r for r in results if r.output), None),
        )
        if chosen is not None:
            with RampModel(chosen.output) as ramp:
                # The subarray in its detector coordinates.
                start, detector = placement(ramp.get_fits_keywords())
                title = f"{Path(chosen.output).name}: PIXELDQ"
                written.append(
                    plot_dq(
                        ramp.pixeldq,
                        folder / "pixeldq.png",
                        start=start,
                        detector=detector,
                        title=title,
                    )
                )
    except IrisDQError as exc:
        print(f"\nno plots: {exc}", file=out)
        return written
    print("\nplots       " + ", ".join(str(p) for p in written), file=out)
    return written
