"""irisdq.batch: sequential runs, a Dask cluster on 127.0.0.1, failure
isolation, resume and temporary files left by killed writers."""

import socket
import warnings
from pathlib import Path

import pytest
from astropy.io import fits

from builders import write_night
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
    with pytest.raises(IrisDQError, match="either workers"):
        batch.run(paths, workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(IrisDQError, match="at least 1"):
        batch.run(paths, workers=0)
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
