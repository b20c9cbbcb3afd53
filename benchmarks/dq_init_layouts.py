"""Benchmark of update_ramp_dq on a Liger ramp: peak memory, against ``cp``.

Run by hand::

    python benchmarks/dq_init_layouts.py [--repeat N] [--dir DIR]

On a Liger/IRIS 2025 raw ramp of 2048 x 2048 pixels x 10 groups x 4 reads
(DATA uint16 and DQ uint16 (ny, nx, ngroups, nreads), 320 MiB each, TIMES,
an ASDF extension), ``update_ramp_dq(..., layout=PROFILES["liger"].ramp)``
ORs a mask's flags (20 000 DEAD and 20 000 HOT pixels) into every read of
DQ:

- to a new file, the input's DQ updated;
- to a new file, the input without DQ (DQ made from the flags);
- in place, the input's DQ updated: only the readings of flagged pixels
  are read and written (saved to the undo journal first); DQ's DATASUM is
  its stored one updated by the change.

Each runs in a fresh interpreter (imports included) under the wrapper of
``benchmarks/dq_init.py``, which reports wall time and peak resident set
size; medians of N runs. Target: peak RSS <= 300 MiB in every case (the
arrays are streamed in blocks of a few MiB). The wall time is shown as a
ratio to ``cp`` of the same file (the floor of any tool that writes a new
file), and the peak RSS beside that of an interpreter that only imports
what the call needs.
"""

import argparse
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).parent))
from dq_init import MIB, median, remove, run, sync

NY = NX = 2048
NGROUPS, NREADS = 10, 4
SHAPE = (NY, NX, NGROUPS, NREADS)
HEADER = {
    "DATAMODL": "RampModel",
    "TELESCOP": "Keck-I",
    "INSTRUME": "Liger",
    "DETECTOR": "IMG",
    "EXPDTST": "20250314093000",
}

# "PROBE RAMP FLAGS [OUT]": update_ramp_dq in a fresh interpreter; in place
# without OUT. "PROBE" alone only imports.
PROBE = textwrap.dedent(
    """
    import sys
    import numpy as np
    from irisdq.datamodels.ramp_dq import update_ramp_dq
    from irisdq.profiles import PROFILES
    if len(sys.argv) > 1:
        flags = np.load(sys.argv[2])
        target = sys.argv[3] if len(sys.argv) > 3 else None
        update_ramp_dq(sys.argv[1], {"S_DQINIT": "COMPLETE", "R_DQ": "N/A"}, flags,
                       target=target, overwrite=True,
                       layout=PROFILES["liger"].ramp)
    """
)


def _image_header(name: str, bitpix: int, shape, bzero=None) -> fits.Header:
    header = fits.Header()
    header["XTENSION"], header["BITPIX"], header["NAXIS"] = "IMAGE", bitpix, len(shape)
    for axis, length in enumerate(reversed(shape), start=1):
        header[f"NAXIS{axis}"] = length
    header["PCOUNT"], header["GCOUNT"] = 0, 1
    if bzero is not None:
        header["BSCALE"], header["BZERO"] = 1, bzero
    header["EXTNAME"] = name
    return header


def write_liger_ramp(path: Path, *, with_dq: bool) -> None:
    """Write the ramp a block of rows at a time: DATA of varied counts and
    DQ with a few bits set, both uint16 stored as int16 + BZERO."""
    from irisdq.datamodels.asdf_tree import asdf_hdu_bytes
    from irisdq.datamodels.checksum import add_sums, word_sum

    primary = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0)])
    primary["EXTEND"] = True
    primary.update(HEADER)
    rng = np.random.default_rng(2)
    rows = 64
    names = ["DATA", "DQ"] if with_dq else ["DATA"]
    with open(path, "wb") as stream:
        stream.write(primary.tostring().encode())
        for name in names:
            # With DATASUM, as stdatamodels writes a ramp (the sum is known
            # once the array is written: the header is written again).
            header = _image_header(name, 16, SHAPE, 32768)
            header["DATASUM"] = "0" * 10
            start = stream.tell()
            stream.write(header.tostring().encode())
            datasum = 0
            for _ in range(0, NY, rows):
                if name == "DATA":
                    values = rng.integers(0, 2**16, (rows, *SHAPE[1:]), dtype=np.uint16)
                else:
                    values = np.zeros((rows, *SHAPE[1:]), dtype=np.uint16)
                    values[:, ::97] = 4  # JUMP_DET here and there
                stored = (values ^ np.uint16(0x8000)).astype(">u2").tobytes()
                datasum = add_sums(datasum, word_sum(stored))
                stream.write(stored)
            stream.write(b"\0" * (-stream.tell() % 2880))
            end = stream.tell()
            header["DATASUM"] = str(datasum)
            stream.seek(start)
            stream.write(header.tostring().encode())
            stream.seek(end)
        times = np.arange(NGROUPS * NREADS, dtype=">f8").reshape(NGROUPS, NREADS)
        stream.write(_image_header("TIMES", -64, times.shape).tostring().encode())
        stream.write(times.tobytes())
        stream.write(b"\0" * (-stream.tell() % 2880))
        stream.write(asdf_hdu_bytes({"meta": {"instrument": {"name": "Liger"}}}))


def write_flags(path: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    flags = np.zeros((NY, NX), dtype=np.uint16)
    flags[rng.integers(0, NY, 20_000), rng.integers(0, NX, 20_000)] |= 1024 | 1
    flags[rng.integers(0, NY, 20_000), rng.integers(0, NX, 20_000)] |= 2048
    np.save(path, flags)
    return flags


def check(path: Path, flags: np.ndarray, with_dq: bool) -> None:
    from irisdq.datamodels.checksum import word_sum
    from irisdq.datamodels.layout import read_hdu_layout

    # The stored int16, mapped: astropy would scale the whole array.
    with fits.open(path, memmap=True, do_not_scale_image_data=True) as hdul:
        stored = hdul["DQ"].data
        assert hdul[0].header["S_DQINIT"] == "COMPLETE"
        assert hdul["DQ"].header["BZERO"] == 32768
        for y in (0, 1, 777, NY - 1):
            row = stored[y].view(">u2") ^ np.uint16(0x8000)
            expected = np.broadcast_to(flags[y, :, None, None], SHAPE[1:]).copy()
            if with_dq:
                expected[::97] |= 4
            assert np.array_equal(row, expected), f"DQ row {y} differs"
    # The DATASUM recorded is the sum of the bytes stored.
    for hdu in read_hdu_layout(path)[1:]:
        if hdu.name == "DQ":
            with open(path, "rb") as stream:
                stream.seek(hdu.data_offset)
                data = stream.read(hdu.end - hdu.data_offset)
            assert int(hdu.header["DATASUM"]) == word_sum(data), "DQ DATASUM"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="irisdq-bench-", dir=args.dir))
    python = [sys.executable, "-c", PROBE]
    try:
        flags_path = work / "flags.npy"
        flags = write_flags(flags_path)
        inputs = {True: work / "with_dq.fits", False: work / "without_dq.fits"}
        for with_dq, path in inputs.items():
            write_liger_ramp(path, with_dq=with_dq)
        size = inputs[True].stat().st_size
        print(f"Liger ramp {NY} x {NX} x {NGROUPS} x {NREADS}: {size / MIB:.0f} MiB "
              f"(DATA + DQ uint16), {args.repeat} run(s) each")  # fmt: skip

        cases = {
            "new file, DQ updated": (True, False),
            "new file, DQ created": (False, False),
            "in place, DQ updated": (True, True),
        }
        # Round by round, every side once: cp, the imports alone, each case.
        times: dict[str, list] = {"cp": [], "imports": [], **{c: [] for c in cases}}
        for _ in range(args.repeat):
            sync()
            times["cp"].append(run(["cp", str(inputs[True]), str(work / "copy.fits")]))
            remove(work / "copy.fits")
            times["imports"].append(run(python))
            for label, (with_dq, in_place) in cases.items():
                ramp = inputs[with_dq]
                out = work / "out.fits"
                if in_place:
                    ramp = work / "in_place.fits"
                    shutil.copyfile(inputs[with_dq], ramp)
                sync()
                argv = [str(ramp), str(flags_path)]
                times[label].append(
                    run([*python, *argv] if in_place else [*python, *argv, str(out)])
                )
                check(ramp if in_place else out, flags, with_dq)
                remove(ramp if in_place else out)
        floor = median(r.wall for r in times["cp"])
        import_wall = median(r.wall for r in times["imports"])
        print(f"  cp                              {floor:6.2f} s")
        import_rss = max(r.maxrss for r in times["imports"])
        print(f"  python + imports only           {import_wall:6.2f} s          "
              f"peak RSS {import_rss / MIB:6.0f} MiB")  # fmt: skip
        worst = 0
        for label, (_, in_place) in cases.items():
            wall = median(r.wall for r in times[label])
            rss = max(r.maxrss for r in times[label])
            worst = max(worst, rss)
            print(f"  {label:30s}  {wall:6.2f} s = {wall / floor:4.1f} x cp, "
                  f"peak RSS {rss / MIB:6.0f} MiB")  # fmt: skip
            if in_place:
                past = median(
                    r.wall - i.wall
                    for r, i in zip(times[label], times["imports"], strict=True)
                )
                print(f"    past imports                  {past:6.2f} s = "
                      f"{past / floor:4.2f} x cp (target: at most 1)")  # fmt: skip
        # In place reads and writes only the readings of flagged pixels (and
        # saves them to the undo journal first); cp reads and writes the file.
        from irisdq.datamodels.dq_patch import changed_spans

        spans = changed_spans(flags, SHAPE, planes_first=True, itemsize=2)
        patched = int((spans[:, 1] - spans[:, 0]).sum()) * 2
        dq_mib = NY * NX * NGROUPS * NREADS * 2 / MIB
        print(f"  bytes: in place reads and writes {patched / MIB:.1f} MiB of "
              f"DQ's {dq_mib:.0f} MiB in {len(spans)} spans (and saves them "
              f"to its journal); cp reads and writes {size / MIB:.0f} MiB")  # fmt: skip
        verdict = "OK" if worst <= 300 * MIB else "OVER"
        print(f"  target: peak RSS <= 300 MiB: {verdict} ({worst / MIB:.0f} MiB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
