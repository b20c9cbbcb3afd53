"""Benchmark of irisdq.datamodels against numpy's raw tofile/fromfile.

Run by hand: ``python benchmarks/datamodels.py [--repeat N] [--dir DIR]``.

Measured side by side in one process, medians of N runs:

- writing a 4096 x 4096 uint32 mask (TMTMaskModel.write, with CHECKSUM and
  DATASUM, to a new file through a temporary name) against ``ndarray.tofile``
  of the same 64 MiB to a new file; astropy's ``writeto(checksum=True)`` is
  shown for reference;
- reading it back (``TMTMaskModel(path).dq``, checksums verified) against
  ``numpy.fromfile``;
- opening a 1 GiB ramp and reading its headers (``irisdq.datamodels.open``
  plus ``get_fits_keywords()``), against the 50 ms target.
"""

import argparse
import io
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

from irisdq import datamodels
from irisdq.datamodels import TMTMaskModel


def median_time(run, repeat: int, setup=None) -> float:
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def remove(*paths: Path):
    def run():
        for path in paths:
            path.unlink(missing_ok=True)

    return run


def make_mask() -> TMTMaskModel:
    rng = np.random.default_rng(0)
    mask = TMTMaskModel()
    mask.meta.name = "IRIS"
    mask.meta.detector = "IRIS1"
    dq = np.zeros((4096, 4096), dtype=np.uint32)
    dq[rng.integers(0, 4096, 20_000), rng.integers(0, 4096, 20_000)] = 1024
    dq[:4, :] |= 2**31  # reference pixels use the top bit
    mask.dq = dq
    return mask


def write_sparse_ramp(path: Path, shape=(1, 16, 4096, 4096)) -> None:
    """A 1 GiB SCI (plus PIXELDQ, GROUPDQ, ASDF) whose data are holes."""
    nints, ngroups, ny, nx = shape
    primary = fits.Header()
    primary["SIMPLE"], primary["BITPIX"], primary["NAXIS"] = True, 8, 0
    primary["EXTEND"] = True
    primary.update(
        {"DATAMODL": "RampModel", "TELESCOP": "TMT", "INSTRUME": "IRIS",
         "DETECTOR": "IRIS1", "SUBARRAY": "FULL", "DATE-OBS": "2024-01-01",
         "TIME-OBS": "00:00:00", "NINTS": nints, "NGROUPS": ngroups}
    )  # fmt: skip

    def image(name, bitpix, dims, bzero=None):
        header = fits.Header()
        header["XTENSION"], header["BITPIX"], header["NAXIS"] = (
            "IMAGE",
            bitpix,
            len(dims),
        )
        for axis, length in enumerate(reversed(dims), start=1):
            header[f"NAXIS{axis}"] = length
        header["PCOUNT"], header["GCOUNT"] = 0, 1
        if bzero is not None:
            header["BSCALE"], header["BZERO"] = 1, bzero
        header["EXTNAME"] = name
        return header, abs(bitpix) // 8 * int(np.prod(dims))

    asdf = io.BytesIO()
    fits.HDUList(
        [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
            [fits.Column("ASDF_METADATA", "80A", array=["#ASDF 1.0.0"])], name="ASDF")]
    ).writeto(asdf)  # fmt: skip
    with open(path, "wb") as stream:
        stream.write(primary.tostring().encode())
        for header, size in (
            image("SCI", -32, shape),
            image("PIXELDQ", 32, (ny, nx), 2**31),
            image("GROUPDQ", 8, shape),
        ):
            stream.write(header.tostring().encode())
            stream.seek(stream.tell() + -(-size // 2880) * 2880)
        stream.write(asdf.getvalue()[2880:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--dir", type=Path, default=None, help="folder for test files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        folder = Path(folder)
        mask = make_mask()
        dq = mask.dq
        fits_path, raw_path, astropy_path = (
            folder / "mask.fits", folder / "mask.raw", folder / "astropy.fits"
        )  # fmt: skip
        hdul = fits.HDUList(
            [fits.PrimaryHDU(), fits.ImageHDU(dq, name="DQ", uint=True)]
        )

        numpy_write = median_time(
            lambda: dq.tofile(raw_path), args.repeat, remove(raw_path)
        )
        irisdq_write = median_time(
            lambda: mask.write(fits_path), args.repeat, remove(fits_path)
        )
        astropy_write = median_time(
            lambda: hdul.writeto(astropy_path, checksum=True),
            max(3, args.repeat // 3),
            remove(astropy_path),
        )
        mask.write(fits_path, overwrite=True)
        dq.tofile(raw_path)

        def irisdq_read():
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return TMTMaskModel(fits_path).dq

        numpy_read = median_time(
            lambda: np.fromfile(raw_path, dtype=np.uint32), args.repeat
        )
        read = median_time(irisdq_read, args.repeat)
        assert np.array_equal(irisdq_read(), dq)

        ramp_path = folder / "ramp.fits"
        write_sparse_ramp(ramp_path)

        def open_ramp():
            with datamodels.open(ramp_path) as ramp:
                ramp.get_fits_keywords()
                return ramp.shape

        open_time = median_time(open_ramp, args.repeat)
        size = ramp_path.stat().st_size

    print(f"{'operation':<44} {'irisdq':>9} {'peer':>9} {'ratio':>7} target")
    print(
        f"{'write 4096x4096 uint32 mask + checksums':<44} "
        f"{irisdq_write * 1e3:7.1f}ms {numpy_write * 1e3:7.1f}ms "
        f"{irisdq_write / numpy_write:6.2f}x <= 2.5x (peer: numpy tofile)"
    )
    print(
        f"{'  astropy writeto(checksum=True), same data':<44} "
        f"{astropy_write * 1e3:7.1f}ms {numpy_write * 1e3:7.1f}ms "
        f"{astropy_write / numpy_write:6.2f}x"
    )
    print(
        f"{'read it back, checksums verified':<44} "
        f"{read * 1e3:7.1f}ms {numpy_read * 1e3:7.1f}ms "
        f"{read / numpy_read:6.2f}x <= 1.5x (peer: numpy fromfile)"
    )
    print(
        f"{f'open a {size / 2**30:.2f} GiB ramp, read headers':<44} "
        f"{open_time * 1e3:7.1f}ms {'50.0':>7}ms {open_time / 0.05:6.2f}x <= 1 "
        "(peer: the 50 ms target)"
    )


if __name__ == "__main__":
    main()
