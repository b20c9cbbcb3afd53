"""irisdq.batch: sequential runs, a Dask cluster on 127.0.0.1, failure
isolation, resume and temporary files left by killed writers."""

import errno
import os
import socket
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.verify import VerifyError

from builders import write_full_frame_ramp, write_mask, write_night
from irisdq import batch
from irisdq.datamodels import read_hdu_layout
from irisdq.errors import IrisDQError


@pytest.fixture
def files(tmp_path):
    return write_night(tmp_path)


def test_a_local_cluster_listens_on_loopback_only(dask_scheduler):
    from distributed import Client

    with Client(dask_scheduler) as client:
        workers = list(client.scheduler_info()["workers"])
    assert len(workers) == 2
    for address in [dask_scheduler, *workers]:
        assert address.startswith("tcp://127.0.0.1:"), address


def _by_input(results):
    return {Path(r.input).name: r for r in results}


@pytest.mark.slow
def test_a_local_cluster_leaves_the_default_http_port_alone():
    # A dashboard, another run or any server on 8787 must not make a run
    # warn: the scheduler's HTTP server takes a free loopback port.
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen()
    except OSError:
        pass  # 8787 is already taken, as the test wants
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with batch._client(1, None) as client:
                http = client.run_on_scheduler(
                    lambda dask_scheduler: dask_scheduler.http_server.address
                )
    finally:
        holder.close()
    assert [str(w.message) for w in caught] == []
    assert http == "127.0.0.1"


@pytest.mark.parametrize("backend", ["sequential", "scheduler"])
def test_a_bad_file_fails_alone(files, tmp_path, dask_scheduler, backend):
    mask, paths = files
    seen = []
    results = batch.run(
        paths,
        output_dir=tmp_path / "out",
        scheduler=dask_scheduler if backend == "scheduler" else None,
        override_mask=mask,
        progress=lambda result, done, total: seen.append((done, total)),
    )
    assert [r.input for r in results] == [str(p) for p in paths]
    assert sorted(seen) == [(i, 5) for i in range(1, 6)]
    by_input = _by_input(results)
    bad = by_input.pop("corrupt_uncal.fits")
    assert bad.status == batch.FAILED
    assert "corrupt_uncal.fits" in bad.error
    assert "\n" not in bad.error
    for result in by_input.values():
        assert result.status == "COMPLETE"
        assert result.flagged == {"DO_NOT_USE": 1, "DEAD": 1, "HOT": 16}
        with fits.open(result.output) as hdus:
            assert hdus["PIXELDQ"].data[3, 4] == 1025
            assert hdus[0].header["S_DQINIT"] == "COMPLETE"
        if backend == "scheduler":
            assert result.worker in {"0", "1"}
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outputs == [f"r{i}_dqinit.fits" for i in range(4)]


def test_resume_redoes_missing_and_corrupt_outputs(files, tmp_path, dask_scheduler):
    mask, paths = files
    good = paths[:4]
    out = tmp_path / "out"
    first = batch.run(
        good, output_dir=out, scheduler=dask_scheduler, override_mask=mask
    )
    assert all(r.status == "COMPLETE" for r in first)
    (out / "r1_dqinit.fits").unlink()
    corrupt = out / "r2_dqinit.fits"
    corrupt.write_bytes(corrupt.read_bytes()[:-2880])
    flipped = out / "r3_dqinit.fits"
    with open(flipped, "rb") as stream:
        pixeldq = next(h for h in read_hdu_layout(stream) if h.name == "PIXELDQ")
    data = bytearray(flipped.read_bytes())
    data[pixeldq.data_offset + 5] ^= 0xFF  # same size, wrong checksum
    flipped.write_bytes(bytes(data))
    (out / ".r0_dqinit.fits.deadbeef.tmp").write_bytes(b"partial")
    again = batch.run(
        good, output_dir=out, scheduler=dask_scheduler, override_mask=mask, resume=True
    )
    statuses = {name: r.status for name, r in _by_input(again).items()}
    assert statuses == {
        "r0_uncal.fits": "VERIFIED",
        "r1_uncal.fits": "COMPLETE",
        "r2_uncal.fits": "COMPLETE",
        "r3_uncal.fits": "COMPLETE",
    }
    assert _by_input(again)["r0_uncal.fits"].mask == str(mask)
    assert sorted(p.name for p in out.iterdir()) == [
        f"r{i}_dqinit.fits" for i in range(4)
    ]


def test_existing_output_fails_without_overwrite(files, tmp_path):
    mask, paths = files
    out = tmp_path / "out"
    batch.run(paths[:1], output_dir=out, override_mask=mask)
    (result,) = batch.run(paths[:1], output_dir=out, override_mask=mask)
    assert result.status == batch.FAILED
    assert "already exists" in result.error
    (result,) = batch.run(paths[:1], output_dir=out, override_mask=mask, overwrite=True)
    assert result.status == "COMPLETE"


def test_stale_temporaries_are_removed_after_a_run(files, tmp_path):
    mask, paths = files
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".r0_dqinit.fits.0123abcd.tmp"
    stale.write_bytes(b"left by a killed worker")
    other = out / ".somebody_else.tmp"
    other.write_bytes(b"not ours")
    batch.run(paths[:1], output_dir=out, override_mask=mask)
    assert not stale.exists()
    assert other.exists()


def test_parameters_are_checked(files, tmp_path):
    from irisdq.datamodels import TMTMaskModel

    mask, paths = files
    with pytest.raises(IrisDQError, match="give one of workers"):
        batch.run(paths, workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(IrisDQError, match="give one of workers"):
        batch.run(paths, scheduler="tcp://127.0.0.1:1", scheduler_file="s.json")
    for wait in (0, -1, "soon", float("inf"), float("nan")):
        with pytest.raises(IrisDQError, match="wait must be a number of seconds"):
            batch.run(paths, scheduler="tcp://127.0.0.1:1", wait=wait)
    with pytest.raises(IrisDQError, match="at least 0"):
        batch.run(paths, workers=-1)
    with pytest.raises(IrisDQError, match="no parameter 'colour'"):
        batch.run(paths, colour="red")
    with pytest.raises(IrisDQError, match="must be a file name"):
        batch.run(paths, override_mask=TMTMaskModel(mask))
    with pytest.raises(IrisDQError, match="output_file names one file"):
        batch.run(paths, output_file="x.fits")


def test_a_result_is_json_ready(files, tmp_path):
    import json

    mask, paths = files
    (result,) = batch.run(paths[:1], output_dir=tmp_path / "o", override_mask=mask)
    document = json.loads(json.dumps(result.to_dict()))
    assert document["status"] == "COMPLETE"
    assert document["flagged"]["HOT"] == 16
    assert result.ok


def test_too_many_workers_is_an_error(files, monkeypatch):
    """case 10: a local cluster has at most 4 workers per core."""
    mask, paths = files
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with pytest.raises(IrisDQError, match=r"workers=5 is too many .* at most 4"):
        batch.run(paths[:1], workers=5, override_mask=mask)


def test_local_workers_have_a_memory_limit_and_no_retries(dask_scheduler):
    """case 10: each local worker may use a share of the machine's memory,
    and a task whose worker died is not tried on another."""
    from distributed import Client

    with Client(dask_scheduler) as client:
        workers = client.scheduler_info()["workers"].values()
        retries = client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.allowed_failures
        )
    limits = {worker["memory_limit"] for worker in workers}
    assert limits == {batch._worker_memory_limit(2)}
    assert 0 < batch._worker_memory_limit(2) < batch._worker_memory_limit(1)
    assert retries == 0


@pytest.mark.slow
def test_a_worker_that_dies_fails_its_file_only(files, tmp_path, monkeypatch):
    """case 10: a task killed with its worker (a runaway past the memory
    limit) ends as FAILED for that file, named; the others complete."""
    mask, paths = files
    real = batch.process_file

    def dies_on_r1(path, params, resume=False, request=None):
        if Path(path).name == "r1_uncal.fits":
            os._exit(1)
        return real(path, params, resume, request)

    monkeypatch.setattr(batch.dask_tasks, "process_file", dies_on_r1)
    results = batch.run(
        paths[:3], output_dir=tmp_path / "out", workers=1, override_mask=mask
    )
    statuses = {name: r.status for name, r in _by_input(results).items()}
    assert statuses == {
        "r0_uncal.fits": "COMPLETE",
        "r1_uncal.fits": "FAILED",
        "r2_uncal.fits": "COMPLETE",
    }
    error = _by_input(results)["r1_uncal.fits"].error
    assert error == (
        f"{paths[1]}: the Dask worker processing it died (killed, or over its "
        "memory limit); the other files went on"
    )


def test_two_inputs_with_one_output_are_refused(tmp_path):
    """case 18: x_uncal.fits and x_raw.fits both write x_dqinit.fits: an
    error naming both, before anything is written."""
    mask = write_mask(tmp_path / "mask.fits")
    first = write_full_frame_ramp(tmp_path / "x_uncal.fits")
    second = write_full_frame_ramp(tmp_path / "x_raw.fits")
    out = tmp_path / "out"
    with pytest.raises(IrisDQError) as caught:
        batch.run([first, second], output_dir=out, override_mask=mask, overwrite=True)
    assert str(caught.value).startswith(
        f"{first} and {second} would both write {out / 'x_dqinit.fits'};"
    )
    assert not out.exists()


def test_an_output_that_is_another_input_is_refused(tmp_path):
    """case 18: x_uncal.fits writes x_dqinit.fits, which is another input."""
    mask = write_mask(tmp_path / "mask.fits")
    first = write_full_frame_ramp(tmp_path / "x_uncal.fits")
    second = write_full_frame_ramp(tmp_path / "x_dqinit.fits")
    before = second.read_bytes()
    with pytest.raises(IrisDQError, match="which is the input"):
        batch.run([first, second], override_mask=mask, overwrite=True)
    assert second.read_bytes() == before


def _strip_sums(path: Path, name: str) -> None:
    """Turn the CHECKSUM and DATASUM cards of HDU ``name`` into comments,
    in place: the other HDUs keep valid sums."""
    data = bytearray(path.read_bytes())
    with open(path, "rb") as stream:
        hdu = next(h for h in read_hdu_layout(stream) if h.name == name)
    for keyword in (b"CHECKSUM", b"DATASUM "):
        at = data.index(keyword, hdu.header_offset, hdu.data_offset)
        data[at : at + 8] = b"COMMENT "
    path.write_bytes(bytes(data))


def test_resume_verifies_every_hdu(tmp_path):
    """case 20: --resume keeps an output only if every HDU carries sums that
    match: an SCI without sums, or with a flipped bit and no sums, is redone."""
    mask = write_mask(tmp_path / "mask.fits")
    kept = write_full_frame_ramp(tmp_path / "kept_uncal.fits")
    stripped = write_full_frame_ramp(tmp_path / "stripped_uncal.fits")
    flipped = tmp_path / "flipped_uncal.fits"
    with fits.open(kept) as hdus:  # the same ramp, written without sums
        hdus.writeto(flipped, checksum=False)
    paths = [kept, stripped, flipped]
    out = tmp_path / "out"
    first = batch.run(paths, output_dir=out, override_mask=mask)
    assert [r.status for r in first] == ["COMPLETE"] * 3
    _strip_sums(out / "stripped_dqinit.fits", "SCI")
    output = out / "flipped_dqinit.fits"
    with open(output, "rb") as stream:
        sci = next(h for h in read_hdu_layout(stream) if h.name == "SCI")
    data = bytearray(output.read_bytes())
    data[sci.data_offset + 7] ^= 0x01  # one bit of one pixel
    output.write_bytes(bytes(data))
    again = batch.run(paths, output_dir=out, override_mask=mask, resume=True)
    assert [r.status for r in again] == ["VERIFIED", "COMPLETE", "COMPLETE"]
    with fits.open(output) as hdus:
        assert hdus["SCI"].data[0, 0, 0, 1] == 1.0  # made again from the input


def test_cleanup_spares_a_temporary_another_run_is_writing(files, tmp_path):
    """case 21: a temporary held locked by a live writer (another run
    writing the same output) survives this run's cleanup; a stale one goes."""
    import fcntl

    mask, paths = files
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".r0_dqinit.fits.0123abcd.tmp"
    stale.write_bytes(b"left by a killed worker")
    live = out / ".r0_dqinit.fits.89abcdef.tmp"
    live.write_bytes(b"being written by another run")
    with open(live, "rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)
        (result,) = batch.run(paths[:1], output_dir=out, override_mask=mask)
        assert result.status == "COMPLETE"
        assert live.read_bytes() == b"being written by another run"
    assert not stale.exists()


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        OSError(errno.EINVAL, os.strerror(errno.EINVAL)),
        ValueError("too many values to unpack (expected 4)"),
        VerifyError("\nVerification reported errors:\nHDU 1:\n    Card 8:"),
    ],
    ids=["ENOSPC", "EINVAL", "unpack", "VerifyError"],
)
def test_an_error_without_a_file_name_gets_the_input(files, tmp_path, error):
    """case 12: an I/O error, a ValueError, astropy's VerifyError: one line
    naming the input (a full disk names the output being written)."""
    mask, paths = files

    def fails(*args, **kwargs):
        raise error

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("irisdq.datamodels.ramp_dq.write_image_hdu", fails)
        result = batch.process_file(
            str(paths[0]),
            {"output_dir": str(tmp_path / "out"), "override_mask": str(mask)},
        )
    assert result.status == batch.FAILED
    full_disk = getattr(error, "errno", 0) == errno.ENOSPC
    written = tmp_path / "out" / paths[0].name.replace("_uncal", "_dqinit")
    expected = {
        OSError: f"{written if full_disk else paths[0]}: "
        f"{getattr(error, 'strerror', '')}",
        ValueError: f"{paths[0]}: ValueError: too many values to unpack (expected 4)",
        VerifyError: f"{paths[0]}: VerifyError: Verification reported errors: "
        "HDU 1: Card 8:",
    }[type(error)]
    assert result.error == expected
    assert list((tmp_path / "out").iterdir()) == []


def test_a_bad_header_card_is_one_warning_line(files, tmp_path, capsys):
    """case 12: astropy's warning about a non-standard card is one line,
    naming the file, among the file's warnings, and nothing on stderr."""
    mask, paths = files
    data = bytearray(paths[0].read_bytes())
    at = data.index(b"TIME-OBS")
    data[at : at + 80] = b'\x01garbage = "abc'.ljust(80)
    odd = tmp_path / "odd_uncal.fits"
    odd.write_bytes(bytes(data))
    result = batch.process_file(
        str(odd), {"output_dir": str(tmp_path / "out"), "override_mask": str(mask)}
    )
    assert result.status == "COMPLETE"
    odd_lines = [line for line in result.warnings if "keyword is invalid" in line]
    assert len(odd_lines) == 1
    assert odd_lines[0].startswith(f"{odd}: AstropyUserWarning: ")
    assert "\n" not in odd_lines[0]
    assert capsys.readouterr().err == ""


def test_sequential_resume_redoes_missing_truncated_and_unprocessed(files, tmp_path):
    """Outputs checked in this process: a missing one, one cut off inside a
    header, and a checksummed ramp that the step never processed are made
    again; a good one is kept."""
    mask, paths = files
    good = paths[:4]
    out = tmp_path / "out"
    batch.run(good, output_dir=out, override_mask=mask)
    (out / "r1_dqinit.fits").unlink()
    truncated = out / "r2_dqinit.fits"
    truncated.write_bytes(truncated.read_bytes()[:4000])
    (out / "r3_dqinit.fits").write_bytes(good[3].read_bytes())  # sums, no record
    again = batch.run(good, output_dir=out, override_mask=mask, resume=True)
    assert [r.status for r in again] == ["VERIFIED", "COMPLETE", "COMPLETE", "COMPLETE"]
    with fits.open(out / "r3_dqinit.fits") as hdus:
        assert hdus[0].header["S_DQINIT"] == "COMPLETE"


def test_interrupt_keeps_the_results_so_far(files, tmp_path, monkeypatch):
    mask, paths = files
    out = tmp_path / "out"
    process = batch.process_file

    def interrupted_at_the_second(path, params, resume=False):
        if Path(path).name == "r1_uncal.fits":
            (out / ".r1_dqinit.fits.0badc0de.tmp").write_bytes(b"partial")
            raise KeyboardInterrupt
        return process(path, params, resume)

    monkeypatch.setattr(batch.task, "process_file", interrupted_at_the_second)
    with pytest.raises(batch.BatchInterrupted) as info:
        batch.run(paths[:3], output_dir=out, override_mask=mask)
    assert isinstance(info.value, KeyboardInterrupt)
    assert [r.status for r in info.value.results] == ["COMPLETE", "NOT_RUN", "NOT_RUN"]
    assert sorted(p.name for p in out.iterdir()) == ["r0_dqinit.fits"]


def test_workers_must_be_a_whole_number(files):
    _, paths = files
    with pytest.raises(IrisDQError, match="workers must be a whole number, not 'two'"):
        batch.run(paths[:1], workers="two")


def test_scheduler_given_by_name(tmp_path):
    assert batch._scheduler_address("127.0.0.1:8786") == "127.0.0.1:8786"
    missing = tmp_path / "scheduler.json"
    with pytest.raises(IrisDQError, match=f"^{missing}: no such scheduler file; "):
        batch._scheduler_address(missing)


def test_workers_0_runs_in_this_process(files, tmp_path, monkeypatch):
    """issue 14 item 5: workers=0 means "in this process", as in the demo."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # not even needed
    mask, paths = files
    results = batch.run(
        paths[:1], workers=0, output_dir=tmp_path / "out", override_mask=mask
    )
    assert [str(r.status) for r in results] == ["COMPLETE"]
    assert results[0].worker is None


@pytest.mark.parametrize("where", [{"workers": 2}, {"scheduler": "tcp://127.0.0.1:1"}])
def test_no_dask_says_how_to_install_it(files, tmp_path, monkeypatch, where):
    """issue 14 item 1: without the dask extra, a cluster is one IrisDQError
    saying what to install, before any file is touched."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    mask, paths = files
    with pytest.raises(IrisDQError, match=r'pip install "irisdq\[dask\]"'):
        batch.run(paths, output_dir=tmp_path / "out", override_mask=mask, **where)
    assert not (tmp_path / "out").exists()


def test_progress_true_draws_a_bar(files, tmp_path, capsys):
    """Progress: batch.run(progress=True) draws a tqdm bar on stderr (a
    widget in a notebook), cleared at the end; stdout is untouched."""
    mask, paths = files
    results = batch.run(
        paths[:2], output_dir=tmp_path / "out", override_mask=mask, progress=True
    )
    assert [str(r.status) for r in results] == ["COMPLETE", "COMPLETE"]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "| 2/2 [" in captured.err
    assert "0 failed" in captured.err


def test_no_progress_off_a_terminal(files, tmp_path, capsys):
    """Progress: by default nothing is drawn when stderr is not a terminal."""
    mask, paths = files
    batch.run(paths[:1], output_dir=tmp_path / "out", override_mask=mask)
    assert capsys.readouterr().err == ""


def test_a_scheduler_gets_absolute_paths(tmp_path, monkeypatch, dask_scheduler):
    """issue 14 item 2: the workers have their own working folder: relative
    inputs, mask and output folder are resolved before they are sent, and
    the results keep the names given."""
    mask, paths = write_night(tmp_path)
    monkeypatch.chdir(tmp_path)
    results = batch.run(
        [paths[0].name],
        output_dir="out",
        override_mask=mask.name,
        scheduler=dask_scheduler,
    )
    assert [(r.input, str(r.status)) for r in results] == [
        ("r0_uncal.fits", "COMPLETE")
    ]
    assert results[0].output == os.path.join("out", "r0_dqinit.fits")
    # R_MASK records the mask as given, as a run in this process does.
    assert results[0].mask == "mask.fits"
    with fits.open(tmp_path / "out" / "r0_dqinit.fits") as hdus:
        assert hdus[0].header["R_MASK"] == "mask.fits"


def test_a_worker_of_another_irisdq_version_refuses_its_files(
    tmp_path, monkeypatch, dask_scheduler
):
    """The same request must give the same output everywhere: a worker
    whose irisdq is not the client's fails each file it is sent, naming
    both versions, and writes nothing."""
    import irisdq

    mask, paths = write_night(tmp_path)
    ours = irisdq.__version__
    monkeypatch.setattr(irisdq, "__version__", "99.0")  # the client only
    results = batch.run(
        paths[:2], output_dir=tmp_path / "out", override_mask=mask,
        scheduler=dask_scheduler,
    )  # fmt: skip
    assert [str(r.status) for r in results] == ["FAILED", "FAILED"]
    for result in results:
        assert result.error.startswith(f"{result.input}: Dask worker ")
        assert result.error.endswith(
            f" runs irisdq {ours}, the run irisdq 99.0; install irisdq 99.0 "
            "on every worker, so that each file gets the answer the run chose"
        )
    assert not (tmp_path / "out").exists()
    # In one process the request is this process's own.
    [result] = batch.run(paths[:1], output_dir=tmp_path / "out", override_mask=mask)
    assert str(result.status) == "COMPLETE"


_NO_MAIN_GUARD = """
from irisdq import batch
from irisdq.errors import IrisDQError
try:
    batch.run([{ramp!r}], output_dir={out!r}, workers=1, override_mask={mask!r})
except IrisDQError as exc:
    print(exc)
"""


@pytest.mark.slow
def test_a_script_without_a_main_guard_is_told_what_to_do(tmp_path):
    """issue 14 item 3: batch.run(workers=N) in a script without
    'if __name__ == "__main__":' ends with one line saying to add it, in the
    script and in each worker that imported it, not tracebacks."""
    import subprocess

    mask, paths = write_night(tmp_path)
    script = tmp_path / "script.py"
    script.write_text(
        _NO_MAIN_GUARD.format(
            ramp=str(paths[0]), out=str(tmp_path / "out"), mask=str(mask)
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    guard = "must call it under 'if __name__ == \"__main__\":'"
    assert done.stdout.startswith("the local Dask cluster did not start (")
    assert guard in done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines
    assert all(line.startswith("irisdq: error: a script") for line in lines)
    assert not (tmp_path / "out").exists()


# -- resume keeps only what the same request made ---------------------------


def _made_again(results) -> list[str]:
    return [line for r in results for line in r.warnings if "made again" in line]


def test_resume_redoes_an_output_of_another_mask_user_dq_or_narrow_policy(
    files, tmp_path
):
    """An output whose checksums hold but whose record differs from what
    this run would record (the mask, the user DQ, the narrow policy) is
    made again, and the run says why; the same request keeps it."""
    import shutil

    mask, paths = files
    other = shutil.copy(mask, tmp_path / "other_mask.fits")
    extra = tmp_path / "extra.fits"
    fits.PrimaryHDU(np.zeros((16, 16), dtype=np.uint32)).writeto(extra)
    out = tmp_path / "out"
    first = {"output_dir": out, "override_mask": mask}
    assert batch.run(paths[:1], **first)[0].status == "COMPLETE"
    target = out / "r0_dqinit.fits"
    changes = [
        ({"override_mask": other}, f"the mask '{mask}', this run '{other}'"),
        ({"user_supplied_dq": extra}, f"R_USERDQ none, this run '{extra}'"),
        ({"narrow_dq": "drop"}, "NARROWDQ none, this run 'drop'"),
    ]
    for change, why in changes:
        request = {**first, **change}
        [result] = batch.run(paths[:1], resume=True, **request)
        assert result.status == "COMPLETE", change
        assert _made_again([result]) == [
            f"{target}: made by another request ({why}); made again"
        ]
        [kept] = batch.run(paths[:1], resume=True, **request)
        assert kept.status == "VERIFIED", change
        assert not kept.warnings
        first = request
    with fits.open(target) as hdus:
        header = hdus[0].header
        assert header["R_MASK"] == str(other)
        assert header["R_USERDQ"] == str(extra)
        assert header["NARROWDQ"] == "drop"


def test_resume_redoes_an_output_of_another_context(tmp_path, monkeypatch):
    """The mask CRDS would choose now, and the context, are compared: an
    output of an override is made again when CRDS chooses, and an output
    of tmt_0001.pmap when the cache's context is tmt_0002.pmap."""
    from builders import write_shipped_cache
    from irisdq.crds import clear_cache
    from irisdq.crds.admin.checksum import update_checksum

    cache = tmp_path / "cache"
    chosen = write_shipped_cache(cache)
    monkeypatch.setenv("CRDS_PATH", str(cache))
    ramp = write_full_frame_ramp(tmp_path / "a_uncal.fits")
    out = tmp_path / "out"
    batch.run([ramp], output_dir=out, override_mask=chosen)
    [result] = batch.run([ramp], output_dir=out, resume=True)
    assert result.status == "COMPLETE"
    assert result.context == "tmt_0001.pmap"
    assert _made_again([result]) == [
        f"{out / 'a_dqinit.fits'}: made by another request (the mask "
        f"'{chosen}', this run 'crds://tmt_iris_mask_0001.fits'); made again"
    ]
    assert batch.run([ramp], output_dir=out, resume=True)[0].status == "VERIFIED"

    mappings = cache / "mappings" / "tmt"
    text = (mappings / "tmt_0001.pmap").read_text()
    (mappings / "tmt_0002.pmap").write_text(text.replace("tmt_0001", "tmt_0002"))
    update_checksum(mappings / "tmt_0002.pmap")
    clear_cache()
    [result] = batch.run([ramp], output_dir=out, resume=True)
    assert result.status == "COMPLETE"
    assert result.context == "tmt_0002.pmap"
    assert _made_again([result]) == [
        f"{out / 'a_dqinit.fits'}: made by another request (CRDS_CTX "
        "'tmt_0001.pmap', this run 'tmt_0002.pmap'); made again"
    ]


# -- waiting for a scheduler and its workers --------------------------------


@pytest.fixture
def quick_notice(monkeypatch):
    """Say what the run waits for after 0.2 s instead of a few seconds."""
    monkeypatch.setattr(batch.scheduler, "NOTICE_SECONDS", 0.2)


def _scheduler_without_workers():
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=0,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )


@pytest.mark.slow  # waits out its --wait limit by design
def test_no_worker_says_what_it_waits_for_and_wait_ends_it(
    files, tmp_path, quick_notice, caplog
):
    """A scheduler with no worker: the run says it waits, for what and how
    to start one, then --wait ends it with one line; nothing was written."""
    mask, paths = files
    with _scheduler_without_workers() as cluster:
        address = cluster.scheduler_address
        with pytest.raises(IrisDQError) as raised:
            batch.run(
                paths[:2],
                output_dir=tmp_path / "out",
                override_mask=mask,
                scheduler=address,
                wait=3,
            )
    assert str(raised.value) == (
        f"no Dask worker connected to the scheduler at {address} in 3 s "
        f"(--wait); start one (dask worker {address})"
    )
    said = [r.getMessage() for r in caplog.records if r.name == "irisdq.batch"]
    assert len(said) == 1
    assert said[0].startswith(
        f"waiting for a Dask worker to connect to the scheduler at {address} "
        "(2 file(s) to run) ("
    )
    assert said[0].endswith(
        f"s so far); start one (dask worker {address}); the run ends after 3 s"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_scheduler_that_does_not_answer_is_waited_for(files, quick_notice, caplog):
    _, paths = files
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(IrisDQError) as raised:
        batch.run(paths[:1], scheduler=address, wait=0.8)
    assert str(raised.value) == (
        f"the Dask scheduler at {address} did not answer in 0.8 s (--wait); "
        "start it (dask scheduler), or check the address"
    )
    said = [r.getMessage() for r in caplog.records if r.name == "irisdq.batch"]
    assert len(said) == 1
    assert f"the Dask scheduler at {address} to answer" in said[0]
    assert "--wait" not in said[0]


@pytest.mark.slow
def test_a_scheduler_file_is_waited_for(files, tmp_path, quick_notice, caplog):
    """The file a job has not written yet is waited for; once written, its
    scheduler runs the files."""
    import json
    import threading

    mask, paths = files
    scheduler_file = tmp_path / "job" / "scheduler.json"
    with batch._client(1, None) as client:
        address = client.scheduler.address

        def write_later():
            time.sleep(0.6)
            scheduler_file.parent.mkdir()
            scheduler_file.write_text(json.dumps({"address": address}))

        writer = threading.Thread(target=write_later)
        writer.start()
        try:
            results = batch.run(
                paths[:2],
                output_dir=tmp_path / "out",
                override_mask=mask,
                scheduler_file=scheduler_file,
                wait=30,
            )
        finally:
            writer.join()
    assert [str(r.status) for r in results] == ["COMPLETE", "COMPLETE"]
    said = [r.getMessage() for r in caplog.records if r.name == "irisdq.batch"]
    assert len(said) == 1
    assert said[0].startswith(
        f"waiting for the scheduler file {scheduler_file} to appear ("
    )
    never = tmp_path / "never.json"
    with pytest.raises(IrisDQError, match=f"^the scheduler file {never} did not "):
        batch.run(paths[:1], scheduler_file=never, wait=0.3)


def test_a_skipped_step_on_a_scheduler_records_what_this_process_does(
    files, tmp_path, dask_scheduler
):
    """override_mask='N/A' travels as is (not made a path): SKIPPED there
    as here, the same record."""
    _, paths = files
    here = batch.run(paths[:1], output_dir=tmp_path / "here", override_mask="n/a")
    there = batch.run(
        paths[:1],
        output_dir=tmp_path / "there",
        override_mask="n/a",
        scheduler=dask_scheduler,
    )
    assert [(str(r.status), r.mask) for r in here + there] == [("SKIPPED", "N/A")] * 2
    with fits.open(tmp_path / "there" / "r0_dqinit.fits") as hdus:
        assert hdus[0].header["S_DQINIT"] == "SKIPPED"
        assert hdus[0].header["R_MASK"] == "N/A"


def test_an_empty_scheduler_file_is_one_being_written(files, tmp_path, quick_notice):
    """A scheduler file still empty (its scheduler is writing it) is waited
    for like a missing one; one that is not JSON is an error at once."""
    _, paths = files
    empty = tmp_path / "scheduler.json"
    empty.write_text("")
    with pytest.raises(IrisDQError, match=f"^the scheduler file {empty} did not "):
        batch.run(paths[:1], scheduler_file=empty, wait=0.3)
    empty.write_text("{not json")
    with pytest.raises(IrisDQError, match="not a Dask scheduler file"):
        batch.run(paths[:1], scheduler_file=empty, wait=0.3)
