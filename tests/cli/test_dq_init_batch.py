"""``irisdq dq-init`` over many files: --workers, --scheduler, --resume,
--report, the progress display, and interruption."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders import write_full_frame_ramp as write_ramp
from builders import write_mask, write_night
from irisdq import batch, dqflags
from irisdq.batch.progress import BatchDisplay
from irisdq.cli.main import main
from irisdq.datamodels import RampModel


@pytest.fixture
def night(tmp_path):
    return write_night(tmp_path)


def check_report(report: Path) -> dict:
    """The report says what the files say."""
    document = json.loads(report.read_text())
    assert document["total"] == len(document["files"])
    assert document["failed"] == sum(f["status"] == "FAILED" for f in document["files"])
    for entry in document["files"]:
        if entry["status"] == "FAILED":
            assert entry["output"] is None
            assert entry["error"]
            continue
        with RampModel(entry["output"]) as model:
            assert model.verify_checksums()
            header = model.get_fits_keywords()
            pixeldq = model.pixeldq
        assert header["S_DQINIT"] == "COMPLETE"
        assert header["R_MASK"] == entry["mask"]
        if entry["status"] == "COMPLETE":
            counts = {k: v for k, v in dqflags.count_flags(pixeldq).items() if v}
            assert entry["flagged"] == counts
    return document


@pytest.mark.slow
def test_local_workers_one_corrupt_exit_1(night, tmp_path, capsys):
    mask, paths = night
    report = tmp_path / "report.json"
    code = main(
        ["dq-init", *map(str, paths), "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask), "--workers", "2", "--report", str(report)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"r{i}_dqinit.fits" for i in range(4)
    ]
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "corrupt_uncal.fits" in errors[0]
    assert "Traceback" not in captured.err
    assert "distributed" not in captured.err
    lines = captured.out.splitlines()
    assert lines[5].split()[:2] == ["file", "status"]
    assert lines[-1].startswith("5 file(s): ")
    assert "1 failed" in lines[-1]
    document = check_report(report)
    statuses = sorted(f["status"] for f in document["files"])
    assert statuses == ["COMPLETE"] * 4 + ["FAILED"]
    assert {f["flagged"]["HOT"] for f in document["files"] if f["flagged"]} == {16}


def test_resume_redoes_exactly_the_missing_and_truncated(
    night, tmp_path, dask_scheduler, capsys
):
    mask, paths = night
    good = [str(p) for p in paths[:4]]
    out = tmp_path / "out"
    common = ["--output-dir", str(out), "--override-mask", str(mask)]
    assert main(["dq-init", *good, *common, "--scheduler", dask_scheduler]) == 0
    (out / "r1_dqinit.fits").unlink()
    truncated = out / "r3_dqinit.fits"
    truncated.write_bytes(truncated.read_bytes()[:6000])
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    report = tmp_path / "resume.json"
    code = main(
        ["dq-init", *good, *common, "--scheduler", dask_scheduler, "--resume",
         "--report", str(report)]
    )  # fmt: skip
    assert code == 0
    document = check_report(report)
    statuses = {Path(f["input"]).name: f["status"] for f in document["files"]}
    assert statuses == {
        "r0_uncal.fits": "VERIFIED",
        "r1_uncal.fits": "COMPLETE",
        "r2_uncal.fits": "VERIFIED",
        "r3_uncal.fits": "COMPLETE",
    }
    for name in ("r0_dqinit.fits", "r2_dqinit.fits"):
        assert (out / name).stat().st_mtime_ns == mtimes[name]
    totals = capsys.readouterr().out.splitlines()[-1]
    assert "2 complete" in totals
    assert "2 verified" in totals


def test_scheduler_file(night, tmp_path, dask_scheduler, capsys):
    mask, paths = night
    scheduler_file = tmp_path / "scheduler.json"
    scheduler_file.write_text(json.dumps({"address": dask_scheduler}))
    code = main(
        ["dq-init", str(paths[0]), "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask), "--scheduler", str(scheduler_file)]
    )  # fmt: skip
    assert code == 0
    assert (tmp_path / "out" / "r0_dqinit.fits").is_file()
    assert "1 complete" in capsys.readouterr().out


def test_usage_errors(night, capsys):
    _, paths = night
    with pytest.raises(SystemExit):
        main(["dq-init", str(paths[0]), "--workers", "-1"])
    with pytest.raises(SystemExit):
        main(["dq-init", str(paths[0]), "--workers", "2", "--scheduler", "x"])
    assert main(["dq-init", str(paths[0]), "--in-place", "--resume"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_terminal_display_redraws_one_line():
    """Progress: on a terminal, a tqdm bar redrawn on one line and cleared
    at the end."""
    stream = io.StringIO()
    display = BatchDisplay(3, live=True, stream=stream)
    ok = batch.FileResult("a.fits", "a_dqinit.fits", "COMPLETE", 0.1)
    bad = batch.FileResult("b.fits", None, "FAILED", 0.1, error="b.fits: broken")
    display.update(ok, 1, 3)
    display.update(bad, 2, 3)
    assert display.bar.n == 2
    display.close()
    text = stream.getvalue()
    assert "| 2/3 [" in text
    assert "1 failed" in text
    assert "\n" not in text
    assert text.rstrip(" ").endswith("\r")  # cleared


def test_the_terminal_display_writes_errors_above_the_bar(capsys):
    display = BatchDisplay(2, live=True, stream=sys.stderr)
    bad = batch.FileResult("b.fits", None, "FAILED", 0.1, error="b.fits: broken")
    display.update(bad, 1, 2)
    display.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.split("\n") if "irisdq" in line]
    assert [line.split("\r")[-1] for line in lines] == ["irisdq: error: b.fits: broken"]


# irisdq refuses a FIFO as input; this start-up hook of the CLI's processes
# (its Dask workers included) lets the test's FIFO through, so that reading it
# blocks and the run is interrupted with work in progress.
_LET_FIFOS_THROUGH = """
from irisdq.datamodels import files
files.require_regular_file.__code__ = (lambda path, role, *, error=None: None).__code__
"""


def _run_until_first_output(tmp_path, extra, send):
    """Start the CLI on a ramp, a FIFO that blocks its reader, and another
    ramp; signal it once the first output exists."""
    mask = write_mask(tmp_path / "mask.fits", shape=(64, 64))
    first = write_ramp(tmp_path / "a_uncal.fits", shape=(1, 2, 64, 64))
    blocked = tmp_path / "b_uncal.fits"
    os.mkfifo(blocked)
    last = write_ramp(tmp_path / "c_uncal.fits", shape=(1, 2, 64, 64))
    out = tmp_path / "out"
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_LET_FIFOS_THROUGH)
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "irisdq.cli.main", "dq-init", str(first),
         str(blocked), str(last), "--output-dir", str(out), "--override-mask",
         str(mask), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (out / "a_dqinit.fits").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)
    process.send_signal(send)
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout, stderr, out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "send"),
    [(["--workers", "2"], signal.SIGINT), ([], signal.SIGTERM)],
    ids=["sigint-workers", "sigterm-sequential"],
)
def test_interrupt_stops_cleanly(tmp_path, extra, send):
    code, stdout, stderr, out = _run_until_first_output(tmp_path, extra, send)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted; 3 file(s)" in stdout
    assert "b_uncal.fits" in stdout
    assert "NOT_RUN" in stdout
    names = sorted(p.name for p in out.iterdir())
    assert not [name for name in names if name.startswith(".")]
    assert "a_dqinit.fits" in names
    assert "b_dqinit.fits" not in names
    for name in names:
        with RampModel(out / name) as model:
            assert model.verify_checksums()


def _run(night, tmp_path, *extra):
    mask, paths = night
    return main(
        ["dq-init", *map(str, paths[:2]), "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask), *extra]
    )  # fmt: skip


def test_report_refuses_existing_file(night, tmp_path, capsys):
    """case 4: an existing --report file is replaced only with --overwrite,
    and the check comes before any file is processed."""
    report = tmp_path / "notes.txt"
    report.write_text("keep me")
    assert _run(night, tmp_path, "--report", str(report)) == 2
    err = capsys.readouterr().err
    assert err == (
        f"irisdq: error: {report}: already exists; use --overwrite to replace "
        "the report, or another --report name\n"
    )
    assert report.read_text() == "keep me"
    assert not (tmp_path / "out").exists()
    assert _run(night, tmp_path, "--report", str(report), "--overwrite") == 0
    assert check_report(report)["total"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("role", ["input", "mask", "output", "fits"])
def test_report_never_replaces_a_file_of_the_run(night, tmp_path, capsys, role):
    """case 4: even with --overwrite, the report is never an input, the mask,
    an output (under any name), nor any FITS file (a CRDS mask)."""
    mask, paths = night
    out = tmp_path / "out"
    out.mkdir()
    (out / "r0_dqinit.fits").write_bytes(paths[0].read_bytes())
    crds_mask = write_mask(tmp_path / "tmt_iris_mask_0001.fits")
    report = {
        "input": paths[1],
        "mask": mask,
        "output": tmp_path / "out" / ".." / "out" / "r0_dqinit.fits",
        "fits": crds_mask,
    }[role]
    before = report.read_bytes()
    assert _run(night, tmp_path, "--report", str(report), "--overwrite") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"irisdq: error: --report {report} is ")
    assert report.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["r0_dqinit.fits"]


def test_report_write_failure_leaves_nothing(night, tmp_path, capsys, monkeypatch):
    """case 4: a report that fails half-written (a full disk) leaves neither
    a file nor a temporary, and the error names it."""
    import errno

    def half_then_full(document, stream, **kwargs):
        stream.write('{"files": [')
        stream.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(json, "dump", half_then_full)
    report = tmp_path / "reports" / "run.json"
    assert _run(night, tmp_path, "--report", str(report)) == 2
    err = capsys.readouterr().err
    assert err == f"irisdq: error: {report}: No space left on device\n"
    assert list(report.parent.iterdir()) == []


def test_resume_replaces_its_own_earlier_report(night, tmp_path):
    """case 4: --resume may replace an earlier report (and only a report)."""
    report = tmp_path / "run.json"
    assert _run(night, tmp_path, "--report", str(report)) == 0
    assert _run(night, tmp_path, "--report", str(report), "--resume") == 0
    statuses = {f["status"] for f in check_report(report)["files"]}
    assert statuses == {"VERIFIED"}


def test_too_many_workers_is_one_line(night, tmp_path, capsys):
    """case 10: --workers is bounded by the machine: one line, exit 2."""
    assert _run(night, tmp_path, "--workers", "1000000000") == 2
    err = capsys.readouterr().err
    assert err.startswith("irisdq: error: workers=1000000000 is too many for a ")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["fits", "text", "folder", "fifo"])
def test_scheduler_that_is_not_a_scheduler_file(night, tmp_path, capsys, kind):
    """case 11: --scheduler given a FITS file, a text file, a folder or a
    FIFO: one line naming it and saying what a scheduler file is."""
    mask, _ = night
    given = {
        "fits": mask,
        "text": tmp_path / "notes.txt",
        "folder": tmp_path,
        "fifo": tmp_path / "pipe",
    }[kind]
    if kind == "text":
        given.write_text("tcp://127.0.0.1:8786\n")
    elif kind == "fifo":
        os.mkfifo(given)
    assert _run(night, tmp_path, "--scheduler", str(given)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"irisdq: error: {given}: ")
    assert "a Dask scheduler file is the JSON file a scheduler writes" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_two_inputs_one_output_exit_2(tmp_path, capsys):
    """case 18: x_uncal.fits and x_raw.fits with --overwrite: exit 2 naming
    both, nothing written."""
    mask = write_mask(tmp_path / "mask.fits")
    first = write_ramp(tmp_path / "x_uncal.fits")
    second = write_ramp(tmp_path / "x_raw.fits")
    code = main(
        ["dq-init", str(first), str(second), "--override-mask", str(mask),
         "--overwrite"]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        f"irisdq: error: {first} and {second} would both write "
        f"{tmp_path / 'x_dqinit.fits'}; the first output would be lost: run "
        "them separately or rename one\n"
    )
    assert not (tmp_path / "x_dqinit.fits").exists()


def test_interrupt_in_process_prints_the_table_exit_130(
    night, tmp_path, monkeypatch, capsys
):
    mask, paths = night
    process = batch.process_file

    def interrupted_at_the_second(path, params, resume=False):
        if Path(path).name == "r1_uncal.fits":
            raise KeyboardInterrupt
        return process(path, params, resume)

    monkeypatch.setattr(batch.task, "process_file", interrupted_at_the_second)
    report = tmp_path / "report.json"
    code = main(
        ["dq-init", *map(str, paths[:3]), "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask), "--report", str(report)]
    )  # fmt: skip
    assert code == 130
    out = capsys.readouterr().out
    assert "interrupted; 3 file(s)" in out
    assert out.count("NOT_RUN") == 2
    document = json.loads(report.read_text())
    assert document["interrupted"] is True


def test_more_usage_errors(night, tmp_path, capsys):
    _, paths = night
    with pytest.raises(SystemExit):
        main(["dq-init", str(paths[0]), "--workers", "two"])
    assert "must be a whole number >= 0, not 'two'" in capsys.readouterr().err
    output = tmp_path / "x.fits"
    assert main(["dq-init", str(paths[0]), "-o", str(output), "--in-place"]) == 2
    assert capsys.readouterr().err == (
        "irisdq: error: --in-place writes into the input; drop -o/--output\n"
    )
    assert not output.exists()


def test_workers_0_runs_in_this_process(night, tmp_path, capsys, monkeypatch):
    """issue 14 item 5: --workers 0 means "in this process", as for the demo."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    mask, paths = night
    code = main(
        ["dq-init", str(paths[0]), "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask), "--workers", "0"]
    )  # fmt: skip
    assert code == 0
    assert (tmp_path / "out" / "r0_dqinit.fits").is_file()


@pytest.mark.parametrize(
    "option", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:1"]]
)
def test_no_dask_is_one_line_saying_what_to_install(
    night, tmp_path, capsys, monkeypatch, option
):
    """issue 14 item 1: without the dask extra, --workers/--scheduler is one
    line naming the option and the install command, exit 2, no traceback."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    mask, paths = night
    code = main(
        ["dq-init", *map(str, paths), "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask), *option]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"irisdq: error: {option[0]} needs Dask's distributed")
    assert 'pip install "irisdq[dask]"' in err
    assert not (tmp_path / "out").exists()


def test_a_failure_is_printed_once_per_channel(night, tmp_path, capsys):
    """issue 14 item 8: a failed file's reason is printed once on stderr
    and once on stdout (in the table; its progress line says FAILED)."""
    mask, paths = night
    corrupt = str(paths[-1])
    code = main(
        ["dq-init", str(paths[0]), corrupt, "--output-dir", str(tmp_path / "out"),
         "--override-mask", str(mask)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    reason = captured.err.strip().removeprefix("irisdq: error: ")
    assert captured.err == f"irisdq: error: {reason}\n"
    assert reason.startswith(corrupt)
    # In the table, without the name its first column shows.
    assert captured.out.count(reason.removeprefix(f"{corrupt}: ")) == 1
    assert reason not in captured.out
    assert f"[2/2] {corrupt}: FAILED\n" in captured.out


# -- a scheduler and workers started apart, as on a real cluster ------------


@pytest.fixture(scope="module")
def apart(tmp_path_factory):
    """The scheduler file of a `dask scheduler` and two `dask worker`
    processes started apart: another working folder, HOME and environment
    (no CRDS_PATH), irisdq on their PYTHONPATH."""
    from dask_processes import external_cluster

    with external_cluster(tmp_path_factory.mktemp("cluster"), workers=2) as found:
        yield found


def _records(path: Path) -> dict:
    """The record, the DQ arrays and the ASDF tree's step entry of an output."""
    from astropy.io import fits

    with fits.open(path) as hdus:
        header = hdus[0].header
        return {
            "keywords": {
                k: header.get(k)
                for k in ("S_DQINIT", "R_MASK", "CRDS_CTX", "R_USERDQ", "NARROWDQ")
            },
            "pixeldq": hdus["PIXELDQ"].data.tobytes(),
            "groupdq": hdus["GROUPDQ"].data.tobytes(),
        }


def _entries(report: Path) -> dict:
    document = json.loads(report.read_text())
    keep = ("status", "mask", "context", "flagged", "error", "output")
    return {f["input"]: {k: f[k] for k in keep} for f in document["files"]}


@pytest.mark.slow
def test_workers_started_apart_use_the_clients_choice(
    tmp_path, monkeypatch, apart, capsys
):
    """The client chooses the mask from its own CRDS_PATH (relative, in its
    own folder); workers with another HOME, folder and no CRDS_PATH give the
    outputs and records of a run in this process."""
    from builders import write_shipped_cache

    monkeypatch.chdir(tmp_path)
    write_shipped_cache(tmp_path / "cache")
    monkeypatch.setenv("CRDS_PATH", "cache")
    _, paths = write_night(tmp_path / "raw")
    names = [os.path.relpath(p, tmp_path) for p in paths]
    runs = {"here": ["--workers", "0"], "apart": ["--scheduler-file", apart]}
    for run, where in runs.items():
        code = main(
            ["dq-init", *names, "--output-dir", f"out-{run}",
             "--report", f"{run}.json", *where]
        )  # fmt: skip
        assert code == 1, capsys.readouterr()
    here, there = _entries(Path("here.json")), _entries(Path("apart.json"))
    for name in names:
        mine = {**here[name], "output": None}
        theirs = {**there[name], "output": None}
        assert mine == theirs, name
    assert here[names[0]]["mask"] == "crds://tmt_iris_mask_0001.fits"
    assert here[names[0]]["context"] == "tmt_0001.pmap"
    document = json.loads(Path("apart.json").read_text())
    ran = {f["worker"] for f in document["files"] if f["status"] == "COMPLETE"}
    assert ran
    assert ran <= {"apart-0", "apart-1"}
    for path in paths[:4]:
        name = path.name.replace("_uncal", "_dqinit")
        assert _records(Path("out-here", name)) == _records(Path("out-apart", name))
    # Resumed there, each output made by the same request is kept.
    code = main(
        ["dq-init", *names[:4], "--output-dir", "out-apart", "--resume",
         "--report", "resumed.json", "--scheduler", apart]
    )  # fmt: skip
    assert code == 0
    statuses = {e["status"] for e in _entries(Path("resumed.json")).values()}
    assert statuses == {"VERIFIED"}


@pytest.mark.slow  # waits out its --wait limit by design
def test_wait_ends_a_run_with_no_worker(night, tmp_path, capsys, caplog, monkeypatch):
    """No worker connects: the run says what it waits for (a warning, on
    stderr), then --wait ends it with one line and exit status 2."""
    from distributed import LocalCluster

    monkeypatch.setattr(batch.scheduler, "NOTICE_SECONDS", 0.2)
    with LocalCluster(
        n_workers=0,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        address = cluster.scheduler_address
        scheduler_file = tmp_path / "scheduler.json"
        scheduler_file.write_text(json.dumps({"address": address}))
        code = _run(night, tmp_path, "--scheduler-file", str(scheduler_file),
                    "--wait", "3")  # fmt: skip
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    said = [
        (r.levelname, r.getMessage())
        for r in caplog.records
        if r.name.startswith("irisdq")
    ]
    assert len(said) == 1
    assert said[0][0] == "WARNING"
    assert said[0][1].startswith(
        f"waiting for a Dask worker to connect to the scheduler at {address} "
        "(2 file(s) to run) ("
    )
    assert err == [
        f"irisdq: error: no Dask worker connected to the scheduler at {address} "
        f"in 3 s (--wait); start one (dask worker {address})"
    ]


def test_wait_needs_a_scheduler(night, tmp_path, capsys):
    assert _run(night, tmp_path, "--wait", "5") == 2
    assert capsys.readouterr().err == (
        "irisdq: error: --wait limits the wait for an existing scheduler: give "
        "--scheduler or --scheduler-file with it\n"
    )
    for bad in ("0", "-3", "soon", "inf"):
        with pytest.raises(SystemExit):
            _run(night, tmp_path, "--scheduler-file", "s.json", "--wait", bad)
        assert "must be a number of seconds > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run(night, tmp_path, "--scheduler-file", "s.json", "--scheduler", "x:1")


def test_each_failure_is_given_once(night, tmp_path, capsys):
    """A failure's reason is one line on stderr, naming the file, and one
    cell of the table, without the name its first column shows; a reason
    about another file (the output) keeps that file's name."""
    mask, paths = night
    out = tmp_path / "out"
    common = ["--output-dir", str(out), "--override-mask", str(mask)]
    assert main(["dq-init", str(paths[0]), *common]) == 0
    capsys.readouterr()
    assert main(["dq-init", str(paths[0]), str(paths[4]), *common]) == 1
    captured = capsys.readouterr()
    exists = f"{out / 'r0_dqinit.fits'}: output already exists; use --overwrite"
    corrupt = "cannot read the header of HDU 1 at byte 2880"
    errors = captured.err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"irisdq: error: {exists}")
    assert errors[1].startswith(f"irisdq: error: {paths[4]}: {corrupt}")
    rows = {line.split()[0]: line for line in captured.out.splitlines()[2:-1]}
    assert rows[str(paths[4])].split("  ")[-1].strip().startswith(corrupt)
    assert f" -     {exists}" in rows[str(paths[0])]
    for reason in (exists, corrupt):
        assert (captured.out + captured.err).count(reason) == 2  # stderr, table
    assert captured.out.count(str(paths[4])) == 2  # its progress line and row


# -- the README's scheduler examples, run -----------------------------------

# A stand-in for SLURM's commands: sbatch runs the job script in the
# background (with the submitter's environment, as SLURM's default
# --export=ALL does) and prints its job id; scancel ends the job.
_SBATCH = """#!/bin/bash
job=$(mktemp "$STANDIN_JOBS/job.XXXXXX")
cp "$1" "$job.sh"
setsid bash "$job.sh" > "$job.log" 2>&1 < /dev/null &
echo $! >> "$STANDIN_JOBS/ids"
echo "Submitted batch job $!"
"""
_SCANCEL = """#!/bin/bash
for id in "$@"; do kill -TERM -- "-$id" 2>/dev/null; done
exit 0
"""


def _readme_block(kind: str, setup: str) -> str:
    from test_readme import checked_blocks

    [body] = [body for name, body in checked_blocks(kind) if name == setup]
    return body


def _write_raw(folder: Path) -> list[Path]:
    folder.mkdir()
    return [write_ramp(folder / f"{name}_uncal.fits") for name in ("a", "b")]


def _assert_chosen_by_the_client(outputs: list[Path]) -> None:
    from astropy.io import fits

    for output in outputs:
        with fits.open(output) as hdus:
            header = hdus[0].header
            assert header["S_DQINIT"] == "COMPLETE"
            assert header["R_MASK"] == "crds://tmt_iris_mask_0001.fits"
            assert header["CRDS_CTX"] == "tmt_0001.pmap"
            assert (hdus["PIXELDQ"].data[5] == 2048).all()


@pytest.mark.slow
def test_the_readme_scheduler_example_runs(tmp_path, monkeypatch, capsys):
    """The README's scheduler block, command by command: the scheduler and
    workers are processes of their own (another HOME, no CRDS_PATH), started
    without waiting for each other, as a shell's `&` starts them."""
    import contextlib
    import glob
    import shlex

    from builders import write_shipped_cache
    from dask_processes import started
    from test_readme import commands

    monkeypatch.chdir(tmp_path)
    write_shipped_cache(tmp_path / "crds_cache")
    _write_raw(tmp_path / "raw")
    with contextlib.ExitStack() as stack:
        for number, (command, expected) in enumerate(
            commands(_readme_block("console", "scheduler"))
        ):
            argv = shlex.split(command.replace("$PWD", str(tmp_path)), comments=True)
            if argv[0] == "export":
                name, value = argv[1].split("=", 1)
                monkeypatch.setenv(name, value)
            elif argv[0] == "dask":
                assert argv[-1] == "&", command
                home = tmp_path.parent / f"{tmp_path.name}-home-{number}"
                stack.enter_context(started(argv[:-1], tmp_path, home))
            else:
                assert argv[0] == "irisdq", command
                words = [w for a in argv[1:] for w in sorted(glob.glob(a)) or [a]]
                assert main(words) == 0, capsys.readouterr()
                assert not expected
    _assert_chosen_by_the_client(
        [tmp_path / "out" / f"{name}_dqinit.fits" for name in ("a", "b")]
    )


@pytest.mark.slow
def test_the_readme_slurm_recipe_runs_with_a_local_stand_in(
    tmp_path, monkeypatch, capsys
):
    """The README's dask-jobqueue recipe as it is, with sbatch and scancel
    replaced by a stand-in that runs each job script here: two jobs start
    `dask worker`, the files run, and closing the cluster ends the jobs."""
    from builders import write_shipped_cache
    from dask_processes import SOURCE

    commands = tmp_path / "bin"
    commands.mkdir()
    for name, text in (("sbatch", _SBATCH), ("scancel", _SCANCEL)):
        (commands / name).write_text(text)
        (commands / name).chmod(0o755)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    monkeypatch.setenv("STANDIN_JOBS", str(jobs))
    monkeypatch.setenv("PATH", f"{commands}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", SOURCE)
    write_shipped_cache(tmp_path / "crds_cache")
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "crds_cache"))
    monkeypatch.chdir(tmp_path)
    _write_raw(tmp_path / "raw")
    # Importing dask_jobqueue replaces the SIGINT handler of the whole
    # process (its runner module exits on SIGINT); later tests need Python's.
    sigint = signal.getsignal(signal.SIGINT)
    try:
        exec(_readme_block("python", "slurm"), {})
    finally:
        signal.signal(signal.SIGINT, sigint)
        ids = (jobs / "ids").read_text().split() if (jobs / "ids").exists() else []
        ended = []
        for job in ids:
            ended.append(_ended(int(job)))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(job), signal.SIGKILL)
    assert capsys.readouterr().out == "2 of 2 files done\n"
    assert len(ids) == 2
    assert all(ended), "scancel did not end every job"
    scripts = sorted(jobs.glob("job.*.sh"))
    assert "distributed.cli.dask_worker" in scripts[0].read_text()
    _assert_chosen_by_the_client(
        [tmp_path / "out" / f"{name}_dqinit.fits" for name in ("a", "b")]
    )


def _ended(pid: int, timeout: float = 20.0) -> bool:
    """Whether the job's process group is gone within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_report_never_replaces_the_dq_reference(night, tmp_path, capsys):
    """case 4: --override-dq names an input of the run too: even a file that
    is no FITS file (each ramp then fails on it) is not replaced by the
    report, with --overwrite."""
    reference = tmp_path / "liger_dq.json"
    reference.write_text('{"not": "a mask"}')
    before = reference.read_bytes()
    status = _run(
        night, tmp_path, "--override-dq", str(reference),
        "--report", str(reference), "--overwrite",
    )  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert err == (
        f"irisdq: error: --report {reference} is the DQ reference {reference} "
        "of this run; give the report a name of its own\n"
    )
    assert reference.read_bytes() == before
    assert not (tmp_path / "out").exists()
