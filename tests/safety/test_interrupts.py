"""Stop ``irisdq dq-init`` at every write and check that no data is lost.

Each scenario is run once cleanly, to learn its result and how many
file-changing operations it makes; then once per operation with a fault at
that operation: SIGKILL, a real SIGINT or SIGTERM, or ENOSPC (a full disk).
After every run:

- the input is byte for byte what it was (copy mode); in place, it is the
  original or the complete result, or (SIGKILL only) it has an undo journal
  and the next in-place run repairs it and completes;
- a file under the output name is complete (the clean run's bytes, every
  checksum valid);
- the exit code is the command's (130 interrupted, 2 an error) and stderr
  has no traceback;
- no temporary file is left, except by SIGKILL, and the next run removes it.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import faults
from builders import asdf_extension, write_full_frame_ramp, write_liger_ramp, write_mask

# Fault injection and hostile inputs: left out of the fast subset.
pytestmark = pytest.mark.safety

SHAPE = (1, 3, 32, 32)


@pytest.fixture(scope="module")
def server():
    server = faults.Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The mask, a raw ramp (SCI and an ASDF tree, no DQ arrays), the same
    ramp after DQ initialization, and a raw ramp whose primary header is
    full, so that the keywords DQ init records need one more block."""
    folder = tmp_path_factory.mktemp("inputs")
    mask = write_mask(folder / "mask.fits", shape=SHAPE[-2:])
    raw = write_full_frame_ramp(folder / "raw.fits", shape=SHAPE)
    with fits.open(raw) as hdul:
        table = asdf_extension({"meta": {"instrument": {"name": "IRIS"}}})
        fits.HDUList([*hdul, table]).writeto(raw, overwrite=True, checksum=True)
    processed = folder / "processed.fits"
    from irisdq.dq_init import DQInit

    DQInit.call(str(raw), override_mask=str(mask), output_file=str(processed))
    full = folder / "full_header.fits"
    with fits.open(raw) as hdul:
        header = hdul[0].header
        while len(header) < 35 - 1:  # with END, exactly one block
            header[f"FILL{len(header)}"] = "padding"
        hdul.writeto(full, checksum=True)
    assert len(fits.Header.fromfile(full).tostring()) == 2880
    return {"mask": mask, "raw": raw, "processed": processed, "full": full}


SCENARIOS = {
    # name: (input file, in place?)
    "copy-raw": ("raw", False),
    "copy-processed": ("processed", False),
    "in-place-raw": ("raw", True),
    "in-place-processed": ("processed", True),
    "in-place-header-grows": ("full", True),
}


def _argv(folder: Path, in_place: bool, mask: Path) -> list[str]:
    argv = ["dq-init", str(folder / "ramp.fits"), "--override-mask", str(mask)]
    if in_place:
        return [*argv, "--in-place"]
    return [*argv, "-o", str(folder / "out.fits"), "--overwrite"]


def _result(folder: Path, in_place: bool) -> Path:
    return folder / ("ramp.fits" if in_place else "out.fits")


def _fresh(tmp: Path, name: str, source: Path) -> Path:
    folder = tmp / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(source, folder / "ramp.fits")
    return folder


def _all_checksums_valid(path: Path) -> bool:
    with fits.open(path) as hdul:
        return all(hdu.verify_checksum() == 1 for hdu in hdul)


def _leftovers(folder: Path, in_place: bool) -> list[str]:
    expected = {"ramp.fits"} if in_place else {"ramp.fits", "out.fits"}
    return sorted(p.name for p in folder.iterdir() if p.name not in expected)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("action", ["kill", "int", "term", "enospc"])
def test_fault_at_every_operation(tmp_path, server, files, scenario, action):
    name, in_place = SCENARIOS[scenario]
    mask = files["mask"]
    _check_every_operation(
        server, tmp_path, files[name], in_place, action,
        lambda folder: _argv(folder, in_place, mask),
    )  # fmt: skip


def _check_every_operation(
    server, tmp_path, source, in_place, action, argv_for, entry=None
) -> None:
    """Run once cleanly, then once faulted at each operation, and check
    what every run left (see the module's docstring)."""
    original = source.read_bytes()
    logs = tmp_path / "logs"

    folder = _fresh(tmp_path, "clean", source)
    clean = server.run(argv_for(folder), logs=logs, cwd=folder, entry=entry)
    assert clean.exitcode == 0, clean.stderr
    expected = _result(folder, in_place).read_bytes()
    assert _all_checksums_valid(_result(folder, in_place))
    assert _leftovers(folder, in_place) == []
    assert clean.operations > 5

    for at in range(1, clean.operations + 1):
        folder = _fresh(tmp_path, f"at{at}", source)
        argv = argv_for(folder)
        run = server.run(argv, logs=logs, cwd=folder, at=at, action=action, entry=entry)
        where = f"{source.name}, {action} at operation {at} ({run.last})"
        assert "Traceback" not in run.stderr, where
        result = _result(folder, in_place)
        now = (folder / "ramp.fits").read_bytes()
        if not in_place:
            assert now == original, f"{where}: the input changed"
            if result.exists():
                assert result.read_bytes() == expected, f"{where}: partial output"
        if action == "kill":
            assert run.exitcode == -9, where
            if in_place and not faults_journal(folder):
                assert now in (original, expected), f"{where}: damaged input"
            # The next run repairs, completes and leaves nothing behind.
            again = server.run(argv, logs=logs, cwd=folder, entry=entry)
            assert again.exitcode == 0, f"{where}: rerun: {again.stderr}"
            assert result.read_bytes() == expected, f"{where}: rerun result"
            assert _leftovers(folder, in_place) == [], where
            continue
        if action == "enospc":
            assert run.exitcode in (0, 2), where
            if run.exitcode == 2:
                errors = [
                    line
                    for line in run.stderr.splitlines()
                    if line.startswith("irisdq: error:")
                ]
                assert len(errors) == 1, run.stderr
                assert "No space left on device" in errors[0], where
                assert str(folder) in errors[0], where
        else:
            assert run.exitcode in (0, 130), where
        if in_place:
            assert now in (original, expected), f"{where}: damaged input"
        assert _leftovers(folder, in_place) == [], where


@pytest.fixture(scope="module")
def liger_files(tmp_path_factory):
    """Liger ramps (DATA, DQ uint16 (ny, nx, ngroups, nreads), TIMES, ASDF):
    one with a DQ holding bits already, one without DQ, and one whose
    primary header is full, so that the keywords need one more block."""
    folder = tmp_path_factory.mktemp("liger")
    # Large enough that in place patches the flagged readings of DQ (rather
    # than rewrite it whole, which costs less on a smaller one).
    shape = (32, 24, 10, 4)
    dq = np.zeros(shape, dtype=np.uint16)
    dq[3, 7, 1, 1] = 0x8000
    with_dq = write_liger_ramp(folder / "with_dq.fits", *shape, dq=dq)
    without_dq = write_liger_ramp(folder / "without_dq.fits", *shape)
    fill = {f"FILL{i}": "padding" for i in range(35 - 1 - 14)}
    full = write_liger_ramp(folder / "full.fits", *shape, header=fill, dq=dq)
    assert len(fits.Header.fromfile(full).tostring()) == 2880
    return {"with-dq": with_dq, "without-dq": without_dq, "full-header": full}


LIGER_SCENARIOS = {
    # name: (input file, in place?)
    "copy": ("with-dq", False),
    "copy-creates-dq": ("without-dq", False),
    "in-place": ("with-dq", True),
    "in-place-appends-dq": ("without-dq", True),
    "in-place-header-grows": ("full-header", True),
}


@pytest.mark.parametrize("scenario", LIGER_SCENARIOS)
@pytest.mark.parametrize("action", ["kill", "int", "enospc"])
def test_fault_at_every_operation_on_a_liger_ramp(
    tmp_path, server, liger_files, scenario, action
):
    """The same guarantees for the Liger layout, through update_ramp_dq."""
    name, in_place = LIGER_SCENARIOS[scenario]

    def argv_for(folder: Path) -> list[str]:
        where = ["--in-place"] if in_place else ["-o", str(folder / "out.fits")]
        return [str(folder / "ramp.fits"), *where, "--profile", "liger"]

    _check_every_operation(
        server, tmp_path, liger_files[name], in_place, action, argv_for,
        entry="update_ramp_dq_command",
    )  # fmt: skip


def faults_journal(folder: Path) -> bool:
    return any(p.name.endswith(".irisdq-undo") for p in folder.iterdir())


def test_sigint_in_place_gives_the_complete_file(tmp_path, server, files):
    """Ctrl-C while the file is being changed in place: held until the
    change is complete, then the run ends as interrupted."""
    folder = _fresh(tmp_path, "clean", files["raw"])
    argv = _argv(folder, True, files["mask"])
    clean = server.run(argv, logs=tmp_path / "logs", cwd=folder)
    expected = (folder / "ramp.fits").read_bytes()
    complete = 0
    for at in range(1, clean.operations + 1):
        folder = _fresh(tmp_path, f"at{at}", files["raw"])
        argv = _argv(folder, True, files["mask"])
        run = server.run(argv, logs=tmp_path / "logs", cwd=folder, at=at, action="int")
        complete += (folder / "ramp.fits").read_bytes() == expected
        assert run.exitcode == 130 or (folder / "ramp.fits").read_bytes() == expected
    # Once the undo journal is written the change always completes.
    assert complete >= clean.operations // 2


def test_real_signals_at_random_instants(tmp_path, files):
    """SIGINT, SIGTERM and SIGKILL from outside, at times spread over a run
    of the real command on a larger ramp, in place."""
    import os
    import signal
    import subprocess
    import sys
    import time

    ramp = write_full_frame_ramp(tmp_path / "big.fits", shape=(1, 8, 512, 512))
    mask = write_mask(tmp_path / "mask.fits", shape=(512, 512))
    original = ramp.read_bytes()
    command = [sys.executable, "-m", "irisdq.cli.main"]
    argv = ["dq-init", str(ramp), "--override-mask", str(mask), "--in-place"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = time.perf_counter()
    subprocess.run([*command, *argv], check=True, env=env, capture_output=True)
    duration = time.perf_counter() - start
    expected = ramp.read_bytes()
    rng = np.random.default_rng(7)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL) * 3:
        ramp.write_bytes(original)
        process = subprocess.Popen(
            [*command, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        process.send_signal(number)
        _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr
        if number != signal.SIGKILL or not faults_journal(tmp_path):
            assert ramp.read_bytes() in (original, expected)
        subprocess.run([*command, *argv], check=True, env=env, capture_output=True)
        assert ramp.read_bytes() == expected
        assert not faults_journal(tmp_path)
