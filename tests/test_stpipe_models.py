"""Models in memory through irisdq's stpipe step, against jwst's own step.

jwst's ``Detector1Pipeline`` passes a stdatamodels ``RampModel`` from step
to step; the Liger/IRIS pipeline its own ``RampModel`` (4-D uint16 DQ).
irisdq's step takes both and returns the same class, changed as the
pipeline's own step changes it. jwst runs here with the stock CRDS client on
a cache it reads offline (``CRDS_MODE=local``, a ``server_config``, no
step-parameter references), the configuration the README gives.

These tests need jwst; they are skipped without it, except when
``IRISDQ_REQUIRE_JWST`` is set (as ``.ci/run`` sets it for the run with the
newest dependencies), where a missing jwst fails them.
"""

import importlib
import os
import pprint
from pathlib import Path

import numpy as np
import pytest

from irisdq.crds import update_checksum


def _require(module: str):
    if os.environ.get("IRISDQ_REQUIRE_JWST"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason="jwst is not installed")


jwst_datamodels = _require("stdatamodels.jwst.datamodels")
dq_init_step = _require("jwst.dq_init.dq_init_step")

from stdatamodels import DataModel  # noqa: E402

from irisdq.stpipe import DQInitStep  # noqa: E402

SHAPE = (2, 3, 8, 8)  # nints, ngroups, ny, nx
MASK = "jwst_nircam_mask_0042.fits"


def write_stock_jwst_cache(root: Path) -> Path:
    """A jwst cache the stock CRDS client reads offline: mappings with the
    header keys it requires, a server_config as it writes one (pprint of a
    dict holding lists), and the folder for NIRCAM references."""
    folder = root / "mappings" / "jwst"
    folder.mkdir(parents=True)
    common = (
        "    'derived_from' : 'irisdq tests',\n    'observatory' : 'JWST',\n"
        "    'sha1sum' : '0',\n"
    )
    texts = {
        "jwst_0001.pmap": "header = {\n" + common + "    'mapping' : 'PIPELINE',\n"
        "    'name' : 'jwst_0001.pmap',\n    'parkey' : ('META.INSTRUMENT.NAME',),\n"
        "}\n\nselector = {\n    'NIRCAM' : 'jwst_nircam_0001.imap',\n}\n",
        "jwst_nircam_0001.imap": "header = {\n" + common + "    'instrument' : "
        "'NIRCAM',\n    'mapping' : 'INSTRUMENT',\n    'name' : "
        "'jwst_nircam_0001.imap',\n    'parkey' : ('REFTYPE',),\n}\n\n"
        "selector = {\n    'mask' : 'jwst_nircam_mask_0001.rmap',\n}\n",
        "jwst_nircam_mask_0001.rmap": "header = {\n" + common + "    'classes' : "
        "('Match', 'UseAfter'),\n    'filekind' : 'MASK',\n    'instrument' : "
        "'NIRCAM',\n    'mapping' : 'REFERENCE',\n    'name' : "
        "'jwst_nircam_mask_0001.rmap',\n    'parkey' : (('META.INSTRUMENT.DETECTOR',),"
        " ('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')),\n}\n\n"
        "selector = Match({\n    ('NRCA1',) : UseAfter({\n"
        f"        '2015-01-01 00:00:00' : '{MASK}',\n    }}),\n}})\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        update_checksum(folder / name)
    config = root / "config" / "jwst"
    config.mkdir(parents=True)
    info = {
        "observatory": "jwst",
        "operational_context": "jwst_0001.pmap",
        "edit_context": "jwst_0001.pmap",
        "last_synced": "2026-01-01 00:00:00",
        "bad_files": "",
        "bad_files_list": [],
        "mappings": sorted(texts),
        "context_history": [],
        "effective_mode": "local",
        "crds_version": {"str": "14.0.3"},
        "reference_url": {},
        "mapping_url": {},
    }
    (config / "server_config").write_text(pprint.pformat(info), encoding="utf-8")
    references = root / "references" / "jwst" / "nircam"
    references.mkdir(parents=True)
    return references


def _nircam(model) -> None:
    meta = model.meta
    meta.telescope = "JWST"
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = "NRCA1"
    meta.instrument.channel = "SHORT"
    meta.instrument.module = "A"
    meta.subarray.name = "FULL"
    meta.subarray.xstart = meta.subarray.ystart = 1
    meta.subarray.xsize = meta.subarray.ysize = 8


@pytest.fixture(scope="module")
def stock_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("stock") / "crds_cache"
    references = write_stock_jwst_cache(root)
    mask = jwst_datamodels.MaskModel(dq=np.zeros((8, 8), dtype=np.uint32))
    _nircam(mask)
    mask.meta.reftype = "MASK"
    mask.meta.useafter = "2015-01-01T00:00:00"
    mask.meta.description = mask.meta.author = "irisdq tests"
    mask.meta.pedigree = "GROUND"
    mask.dq[2, 3] = 1025  # DEAD | DO_NOT_USE
    mask.dq[5, 5] = 2048  # HOT
    mask.dq[7, 0] = 2**31  # REFERENCE_PIXEL
    mask.save(references / MASK)
    return root


@pytest.fixture
def offline(stock_cache, monkeypatch):
    """The settings jwst steps need offline, as the README gives them."""
    monkeypatch.setenv("CRDS_PATH", str(stock_cache))
    monkeypatch.setenv("CRDS_MODE", "local")
    monkeypatch.setenv("CRDS_SERVER_URL", "https://jwst-crds.invalid")
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "True")
    return stock_cache


def _ramp(dq: str = "default"):
    """A NIRCAM RampModel in memory: its DQ arrays as stdatamodels creates
    them (zeros), holding flags of their own, or of the wrong shape."""
    data = np.ones(SHAPE, dtype=np.float32)
    ramp = jwst_datamodels.RampModel(data=data)
    if dq == "flags":
        ramp.pixeldq[1, 1] = 4
        ramp.groupdq[0, 1, 6, 6] = 2
    elif dq == "read-only":
        ramp.pixeldq.flags.writeable = False
    elif dq == "wrong shape":
        ramp.pixeldq = np.full((4, 4), 8, dtype=np.uint32)
        ramp.groupdq = np.full((1, 1, 4, 4), 8, dtype=np.uint8)
    _nircam(ramp)
    ramp.meta.observation.date = "2022-07-01"
    ramp.meta.observation.time = "00:00:00"
    ramp.meta.exposure.type = "NRC_IMAGE"
    ramp.meta.exposure.readpatt = "RAPID"
    ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = SHAPE[:2]
    ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 1, 0
    ramp.meta.exposure.frame_divisor = 1
    return ramp


@pytest.mark.parametrize("dq", ["default", "flags", "read-only", "wrong shape"])
def test_a_jwst_ramp_in_memory_is_changed_as_jwsts_own_step_changes_it(offline, dq):
    ramp = _ramp(dq)
    before = ramp.copy()
    theirs = dq_init_step.DQInitStep.call(ramp.copy())
    ours = DQInitStep.call(ramp)
    assert type(ours) is type(ramp) is jwst_datamodels.RampModel
    np.testing.assert_array_equal(ours.pixeldq, theirs.pixeldq)
    np.testing.assert_array_equal(ours.groupdq, theirs.groupdq)
    assert ours.pixeldq.dtype == theirs.pixeldq.dtype == np.uint32
    assert ours.groupdq.dtype == theirs.groupdq.dtype == np.uint8
    assert ours.meta.cal_step.dq_init == theirs.meta.cal_step.dq_init == "COMPLETE"
    assert ours.meta.ref_file.mask.name == f"crds://{MASK}"
    assert theirs.meta.ref_file.mask.name == f"crds://{MASK}"
    assert ours.pixeldq.shape == SHAPE[2:]
    assert ours.groupdq.shape == SHAPE
    assert int(ours.pixeldq[2, 3]) == 1025
    assert int(ours.pixeldq[7, 0]) == 2**31
    assert int(ours.groupdq[1, 2, 2, 3]) == 1
    # The model passed in is left as it was.
    assert ramp.meta.cal_step.dq_init is None
    np.testing.assert_array_equal(ramp.pixeldq, before.pixeldq)
    np.testing.assert_array_equal(ramp.groupdq, before.groupdq)


def test_an_override_and_a_skip_in_memory(offline, tmp_path):
    ramp = _ramp()
    skipped = DQInitStep.call(ramp, override_mask="N/A")
    assert skipped.meta.cal_step.dq_init == "SKIPPED"
    assert skipped.meta.ref_file.mask.name == "N/A"
    assert not skipped.pixeldq.any()
    mask = offline / "references" / "jwst" / "nircam" / MASK
    given = DQInitStep.call(ramp, override_mask=str(mask))
    assert given.meta.ref_file.mask.name == str(mask)
    assert int(given.groupdq[1, 2, 2, 3]) == 1


@pytest.mark.slow
def test_jwsts_detector1_with_irisdqs_dq_init_gives_jwsts_dq(offline, tmp_path):
    """Prefetch included: the step declares the reference type the jwst
    observatory knows (it declared ['mask', 'dq'], and the stock client was
    asked for a 'dq' that jwst has not)."""
    # Imported here: jwst's pipelines take seconds to import, which the
    # fast subset (without slow tests) would pay at collection.
    pipeline = _require("jwst.pipeline").Detector1Pipeline
    raw = tmp_path / "raw_uncal.fits"
    _ramp().save(raw)
    skip = {
        name: {"skip": True}
        for name in pipeline.step_defs
        if name not in ("group_scale", "dq_init")
    }

    class WithIrisdq(pipeline):
        step_defs = {**pipeline.step_defs, "dq_init": DQInitStep}  # noqa: RUF012

    theirs = pipeline.call(str(raw), steps=skip)
    ours = WithIrisdq.call(str(raw), steps=skip)
    # Inside a pipeline the step changes the model it is given, as jwst's
    # steps do (no copy of the ramp).
    in_pipeline = WithIrisdq(steps=skip)
    given = _ramp()
    assert in_pipeline.dq_init.run(given) is given
    assert given.meta.cal_step.dq_init == "COMPLETE"
    assert type(ours) is type(theirs)
    np.testing.assert_array_equal(ours.pixeldq, theirs.pixeldq)
    np.testing.assert_array_equal(ours.groupdq, theirs.groupdq)
    assert int(ours.pixeldq[2, 3]) == 1025
    assert ours.meta.cal_step.dq_init == "COMPLETE"
    assert ours.meta.ref_file.mask.name == f"crds://{MASK}"
    assert DQInitStep.reference_file_types == ["mask"]
    # irisdq's lines go through stpipe's logger names, which jwst's log
    # configuration covers: they are in the pipeline's log records.
    logged = "\n".join(ours.cal_logs.calwebb_detector1)
    assert "Using MASK reference file" in logged, logged[-3000:]
    assert f"crds://{MASK}" in logged
    assert "- stpipe.WithIrisdq.dq_init - INFO - Using MASK reference" in logged


# -- the Liger/IRIS pipeline's RampModel ---------------------------------------

#: liger_iris_pipeline's RampModel (its 2025-08 master), as its schemas
#: declare the parts DQ initialization reads and writes: DATA and DQ uint16
#: (ny, nx, ngroups, nreads), TIMES, the instrument and exposure keywords,
#: meta.drs_step.dq_init (S_DQINIT) and meta.ref_file.data_quality.name
#: (R_DQ); its CRDS observatory is ligeriri. (liger_iris_pipeline needs
#: numpy<2 and stpipe 0.8; the same step run on its own class in such an
#: environment gives the same result.)
LIGER_SCHEMA = {
    "$schema": "http://stsci.edu/schemas/fits-schema/fits-schema",
    "type": "object",
    "properties": {
        "meta": {
            "type": "object",
            "properties": {
                "telescope": {"type": "string", "fits_keyword": "TELESCOP"},
                "model_type": {"type": "string", "fits_keyword": "DATAMODL"},
                "instrument": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "fits_keyword": "INSTRUME"},
                        "era": {"type": "string", "fits_keyword": "INSTERA"},
                        "detector": {"type": "string", "fits_keyword": "DETECTOR"},
                    },
                },
                "exposure": {
                    "type": "object",
                    "properties": {
                        "jd_start": {"type": "number", "fits_keyword": "EXPJDST"},
                        "datetime_start": {"type": "string", "fits_keyword": "EXPDTST"},
                    },
                },
                "drs_step": {
                    "type": "object",
                    "properties": {
                        "dq_init": {"type": "string", "fits_keyword": "S_DQINIT"}
                    },
                },
                "ref_file": {
                    "type": "object",
                    "properties": {
                        "data_quality": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string", "fits_keyword": "R_DQ"}
                            },
                        }
                    },
                },
            },
        },
        "data": {"fits_hdu": "DATA", "ndim": 4, "datatype": "uint16"},
        "dq": {"fits_hdu": "DQ", "default": 0, "ndim": 4, "datatype": "uint16"},
        "times": {"fits_hdu": "TIMES", "ndim": 2, "datatype": "float64"},
    },
}


class LigerRampModel(DataModel):
    """The Liger/IRIS pipeline's RampModel (see :data:`LIGER_SCHEMA`)."""

    def __init__(self, init=None, **kwargs):
        super().__init__(init, schema=LIGER_SCHEMA, **kwargs)

    @property
    def crds_observatory(self):
        return "ligeriri"


def test_a_liger_ramp_in_memory_keeps_its_class_and_4d_dq(home, tmp_path):
    from builders import write_foreign_mask, write_observatory_cache

    references = write_observatory_cache(
        home / "crds_cache",
        "ligeriri",
        "liger",
        "dq",
        (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",)),
        "Match({('IMG', '0.0.1') : UseAfter("
        "{'2025-01-01 00:00:00' : 'ligeriri_liger_dq_0003.fits'})})",
    )
    flags = np.zeros((6, 5), dtype=np.uint32)
    flags[3, 4] = 1025
    write_foreign_mask(
        references / "ligeriri_liger_dq_0003.fits",
        flags,
        [(0, 1, "DO_NOT_USE", ""), (10, 1024, "DEAD", "")],
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    ramp = LigerRampModel(data=np.zeros((6, 5, 3, 2), dtype=np.uint16))
    ramp.meta.instrument.name = "Liger"
    ramp.meta.instrument.detector = "IMG"
    ramp.meta.instrument.era = "0.0.1"
    ramp.meta.exposure.datetime_start = "20250314093000"
    result = DQInitStep.call(ramp)
    assert type(result) is LigerRampModel
    assert result.dq.shape == (6, 5, 3, 2)
    assert result.dq.dtype == np.uint16
    expected = np.zeros((6, 5, 3, 2), dtype=np.uint16)
    expected[3, 4] = 1025
    np.testing.assert_array_equal(result.dq, expected)
    assert result.meta.drs_step.dq_init == "COMPLETE"
    assert (
        result.meta.ref_file.data_quality.name == "crds://ligeriri_liger_dq_0003.fits"
    )
    assert ramp.instance.get("dq") is None


@pytest.mark.slow
def test_the_readmes_offline_jwst_block(offline, home, tmp_path, monkeypatch, capsys):
    """The README's block runs as shown: jwst's Detector1 with irisdq's
    step, offline, on a cache as the stock client keeps it."""
    import shutil

    from test_readme import _python_blocks

    shutil.copytree(offline, home / "crds_cache")
    monkeypatch.chdir(tmp_path)
    _ramp().save(tmp_path / "jw_uncal.fits")
    for name in ("CRDS_PATH", "CRDS_MODE", "STPIPE_DISABLE_CRDS_STEPPARS"):
        monkeypatch.setenv(name, "set by the block")
    block = _python_blocks()["jwst-offline"]
    namespace: dict = {}
    capsys.readouterr()
    exec(block, namespace)
    shown = [line.removeprefix("# ") for line in block.splitlines()[-1:]]
    assert capsys.readouterr().out.splitlines()[-1:] == shown
    assert os.environ["CRDS_PATH"] == str(home / "crds_cache")


def test_a_model_without_a_reference_entry_records_the_status_only():
    from irisdq.dq_init.memory import record_plan
    from irisdq.dq_init.plan import DQInitPlan, Status
    from irisdq.profiles import PROFILES

    schema = {
        "type": "object",
        "properties": {
            "meta": {
                "type": "object",
                "properties": {
                    "cal_step": {
                        "type": "object",
                        "properties": {"dq_init": {"type": "string"}},
                    }
                },
            }
        },
    }
    model = DataModel(schema=schema)
    record_plan(model, DQInitPlan(Status.SKIPPED, "N/A"), PROFILES["jwst"])
    assert model.meta.cal_step.dq_init == "SKIPPED"
    assert "ref_file" not in model.instance["meta"]
