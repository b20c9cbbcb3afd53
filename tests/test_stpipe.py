"""irisdq.stpipe: the DQ init step under stpipe (strun, step_defs, parameter
files) and the local-CRDS mixin serving other steps."""

import importlib.metadata
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import asdf
import numpy as np
import pytest
from astropy.io import fits

from builders import (
    write_foreign_mask,
    write_full_frame_ramp,
    write_liger_ramp,
    write_mask,
    write_observatory_cache,
)

pytest.importorskip(
    "stpipe", reason="stpipe is not installed (pip install 'irisdq[stpipe]')"
)

from stpipe import Pipeline, Step
from stpipe.datamodel import AbstractDataModel

import irisdq
from irisdq import datamodels
from irisdq.crds import update_checksum
from irisdq.errors import IrisDQError
from irisdq.stpipe import (
    DQInitStep,
    LigerRampModel,
    LocalCRDSMixin,
    RampModel,
    StepError,
    TMTMaskModel,
)

MASK = "tmt_iris_mask_0001.fits"
DARK = "tmt_iris_dark_0001.fits"
SOURCE = Path(irisdq.__file__).resolve().parents[1]
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# Runs a console script of the installed stpipe as its own executable does,
# whatever module the stpipe version keeps it in.
CONSOLE = (
    "import sys; from importlib.metadata import entry_points; "
    "name = sys.argv.pop(1); sys.argv[0] = name; "
    "(script,) = entry_points(group='console_scripts', name=name); "
    "sys.exit(script.load()())"
)


@pytest.fixture
def cache(home):
    """~/crds_cache holding the MASK the shipped TMT context chooses."""
    return write_mask(home / "crds_cache" / "references" / "tmt" / "iris" / MASK)


@pytest.fixture
def raw(tmp_path):
    return write_full_frame_ramp(tmp_path / "raw_uncal.fits")


def _declared_entry_points() -> dict[str, str]:
    table = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    return table["project"]["entry-points"]["stpipe.steps"]


@pytest.fixture(scope="module")
def metadata_path(tmp_path_factory):
    """A folder for PYTHONPATH that makes stpipe see irisdq's entry point.

    An irisdq installed from this checkout declares it already (CI). A
    development install made before the entry point existed does not; then
    the folder holds irisdq's metadata with the entry point of pyproject.toml.
    """
    declared = _declared_entry_points()
    installed = {
        entry.name: entry.value
        for entry in importlib.metadata.entry_points(group="stpipe.steps")
        if entry.dist is not None and entry.dist.name == "irisdq"
    }
    if installed == declared:
        return None
    folder = tmp_path_factory.mktemp("metadata")
    info = folder / f"irisdq-{irisdq.__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: irisdq\nVersion: {irisdq.__version__}\n"
    )
    lines = [f"{name} = {value}" for name, value in declared.items()]
    (info / "entry_points.txt").write_text("[stpipe.steps]\n" + "\n".join(lines))
    return folder


@pytest.fixture
def console(metadata_path, tmp_path):
    """Run ``strun ARGS`` or ``stpipe ARGS`` in tmp_path; return the result."""
    paths = [str(SOURCE), os.environ.get("PYTHONPATH", "")]
    if metadata_path is not None:
        paths.insert(0, str(metadata_path))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}

    def run(command, *args):
        return subprocess.run(
            [sys.executable, "-c", CONSOLE, command, *map(str, args)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def _header(path):
    return fits.getheader(path)


# -- the command line ---------------------------------------------------------


@pytest.mark.slow
def test_stpipe_list_shows_the_step(console):
    listed = console("stpipe", "list")
    assert listed.returncode == 0, listed.stderr
    assert "irisdq.stpipe.DQInitStep (dq_init)" in listed.stdout.splitlines()


@pytest.mark.slow
def test_strun_selects_the_mask_through_crds_and_streams_a_file(cache, raw, console):
    done = console("strun", "irisdq::dq_init", raw.name)
    assert done.returncode == 0, done.stderr
    output = raw.parent / "raw_dqinit.fits"  # _uncal replaced, in the cwd
    header = _header(output)
    assert header["S_DQINIT"] == "COMPLETE"
    assert header["R_MASK"] == f"crds://{MASK}"
    assert header["CRDS_CTX"] == "tmt_0001.pmap"
    with datamodels.RampModel(output) as result:
        assert result.pixeldq[3, 4] == 1024 | 1
        assert result.groupdq[0, 1, 3, 4] == 1
        np.testing.assert_array_equal(result.data, 1)
    assert [p.name for p in raw.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_parameter_file_round_trip(raw, console, tmp_path):
    saved = console(
        "strun",
        "irisdq::dq_init",
        "--save-parameters",
        "dq_init.asdf",
        "--override_mask=N/A",
        "--output_dir=out",
    )
    assert saved.returncode == 0, saved.stderr
    with asdf.open(tmp_path / "dq_init.asdf") as saved_file:
        # The public name, which the entry point and get_steps() give too.
        assert saved_file.tree["class"] == "irisdq.stpipe.DQInitStep"

    done = console("strun", "dq_init.asdf", raw.name)
    assert done.returncode == 0, done.stderr
    header = _header(tmp_path / "out" / "raw_dqinit.fits")
    assert header["S_DQINIT"] == "SKIPPED"  # no CRDS cache: N/A came back
    assert header["R_MASK"] == "N/A"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["missing_uncal.fits"], "missing_uncal.fits"),
        (["raw_uncal.fits", "--override_mask=no_mask.fits"], "no_mask.fits"),
    ],
)
def test_strun_errors_are_one_line_without_traceback(raw, console, args, named):
    failed = console("strun", "irisdq::dq_init", *args)
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr + failed.stdout
    errors = [line for line in failed.stderr.splitlines() if " - ERROR - " in line]
    assert len(errors) == 1
    assert named in errors[0]
    assert not (raw.parent / "raw_dqinit.fits").exists()


# -- the step in Python --------------------------------------------------------


def test_override_path_writes_into_output_dir(raw, tmp_path):
    mask = write_mask(tmp_path / "my_mask.fits")
    result = DQInitStep.call(
        str(raw),
        override_mask=str(mask),
        output_dir=str(tmp_path / "out"),
        save_results=True,
    )
    output = tmp_path / "out" / "raw_dqinit.fits"
    assert isinstance(result, AbstractDataModel)
    assert result.meta.filename == "raw_dqinit.fits"
    assert os.path.samefile(result.path, output)
    assert _header(output)["R_MASK"] == str(mask)
    assert "CRDS_CTX" not in _header(output)
    result.close()


def test_same_file_as_irisdqs_own_step(cache, raw, tmp_path):
    from irisdq.dq_init import DQInit

    ours = DQInit.call(str(raw), output_dir=str(tmp_path / "irisdq"))
    with DQInitStep.call(
        str(raw), output_dir=str(tmp_path / "stpipe"), save_results=True
    ) as result:
        assert result.path.read_bytes() == ours.read_bytes()


@pytest.mark.slow
def test_existing_output_needs_overwrite(raw, tmp_path):
    mask = str(write_mask(tmp_path / "my_mask.fits"))
    DQInitStep.call(
        str(raw), override_mask=mask, save_results=True, output_dir=str(tmp_path)
    ).close()
    with pytest.raises(
        StepError,
        match=r"already exists; replace it with overwrite=True \(strun: --overwrite=",
    ) as info:
        DQInitStep.call(
            str(raw), override_mask=mask, save_results=True, output_dir=str(tmp_path)
        )
    assert isinstance(info.value, IrisDQError)
    assert info.value.exit_status == 2
    DQInitStep.call(
        str(raw),
        override_mask=mask,
        save_results=True,
        output_dir=str(tmp_path),
        overwrite=True,
    ).close()


def test_step_error_survives_pickling():
    error = pickle.loads(pickle.dumps(StepError("raw.fits: bad", 2)))
    assert isinstance(error, StepError)
    assert (str(error), error.exit_status) == ("raw.fits: bad", 2)


def test_unsaved_result_is_a_scratch_file_removed_on_close(raw, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = DQInitStep.call(str(raw), override_mask="N/A")
    scratch = result.path.parent
    assert scratch.name.startswith(".irisdq-")
    assert scratch.parent == tmp_path
    assert result.meta.cal_step.dq_init == "SKIPPED"
    kept = Path(result.save(tmp_path / "kept.fits"))
    result.close()
    assert not scratch.exists()
    assert _header(kept)["S_DQINIT"] == "SKIPPED"


def test_an_unsaved_result_pickled_outlives_its_scratch_file(raw, tmp_path):
    """A step's unsaved result sent to another process (Dask, multiprocessing)
    carries its arrays: the scratch file may go with the original."""
    mask = write_mask(tmp_path / "my_mask.fits")
    result = DQInitStep.call(str(raw), override_mask=str(mask))
    expected = np.array(result.pixeldq)
    back = pickle.loads(pickle.dumps(result))
    scratch = result.path.parent
    result.close()
    assert not scratch.exists()
    np.testing.assert_array_equal(back.pixeldq, expected)
    assert back.pixeldq[5, 0] == 2048
    written = Path(back.save(tmp_path / "kept.fits"))
    assert _header(written)["S_DQINIT"] == "COMPLETE"
    back.close()
    assert written.exists()


def test_sci_is_never_decoded_for_a_file(cache, raw, tmp_path, monkeypatch):
    load = datamodels.DataModel._load

    def refuse_sci(self, spec, hdu):
        assert spec.extname != "SCI", "SCI was read into memory"
        return load(self, spec, hdu)

    monkeypatch.setattr(datamodels.DataModel, "_load", refuse_sci)
    result = DQInitStep.call(
        str(raw), output_dir=str(tmp_path / "out"), save_results=True
    )
    assert result.is_unchanged_file()
    assert result.pixeldq[3, 4] == 1025  # DQ arrays may be read; SCI is not
    result.close()


def test_model_in_memory_with_a_mask_model(tmp_path):
    ramp = datamodels.RampModel()
    ramp.meta.instrument.detector = "IRIS1"
    ramp.data = np.zeros((1, 2, 16, 16), dtype=np.float32)
    with TMTMaskModel(write_mask(tmp_path / "m.fits")) as mask:
        result = DQInitStep.call(ramp, override_mask=mask)
    assert isinstance(result, RampModel)
    assert result.pixeldq[5, 0] == 2048
    assert result.meta.ref_file.mask.name == str(tmp_path / "m.fits")
    assert ramp.pixeldq is None  # the input is not changed
    written = Path(result.save(tmp_path / "ramp_dqinit.fits"))
    assert _header(written)["S_DQINIT"] == "COMPLETE"


def test_a_model_is_streamed_from_its_file_only_while_unchanged(
    raw, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    mask = str(write_mask(tmp_path / "m.fits"))
    with RampModel(raw) as ramp:
        streamed = DQInitStep.call(ramp, override_mask=mask)
        assert streamed.path.parent.name.startswith(".irisdq-")  # a new file
        assert streamed.is_unchanged_file()

        ramp.pixeldq = np.full((16, 16), 4, dtype=np.uint32)  # not in the file
        changed = DQInitStep.call(ramp, override_mask=mask)
        assert changed.pixeldq[3, 4] == 4 | 1024 | 1
        assert not changed.is_unchanged_file()
        saved = Path(changed.save(tmp_path / "changed.fits"))
    with datamodels.RampModel(saved) as back:
        assert back.pixeldq[0, 0] == 4
    streamed.close()


def test_a_model_whose_path_now_names_another_file_is_not_that_file(
    raw, tmp_path, monkeypatch
):
    """Another file put in place of a model's file after it was opened: the
    step initializes the model's own data, not the newcomer's, and saving
    the model onto its path writes it rather than keep the newcomer."""
    monkeypatch.chdir(tmp_path)
    mask = str(write_mask(tmp_path / "m.fits"))
    newcomer = write_full_frame_ramp(tmp_path / "new.fits", shape=(1, 3, 16, 16))
    with RampModel(raw) as ramp:
        assert ramp.is_unchanged_file()
        os.replace(newcomer, raw)
        assert not ramp.is_unchanged_file()
        result = DQInitStep.call(ramp, override_mask=mask)
        assert result.groupdq.shape == (1, 2, 16, 16)  # the model's own ramp
        assert result.pixeldq[3, 4] == 1025
        with pytest.raises(FileExistsError):
            ramp.save(raw)
        ramp.save(raw, overwrite=True)
    with RampModel(raw) as back:
        assert back.shape == (1, 2, 16, 16)


def test_saving_a_changed_result_updates_its_own_file_only(raw, tmp_path):
    mask = str(write_mask(tmp_path / "m.fits"))
    result = DQInitStep.call(
        str(raw), override_mask=mask, save_results=True, output_dir=str(tmp_path)
    )
    result.meta.exposure.readpatt = "CDS"  # as a finalize_result might
    assert Path(result.save(result.path)).name == "raw_dqinit.fits"
    assert _header(result.path)["READPATT"] == "CDS"
    result.close()

    with RampModel(raw) as ramp:  # a file the step did not write is kept
        ramp.meta.exposure.readpatt = "CDS"
        with pytest.raises(FileExistsError):
            ramp.save(raw)
    assert "READPATT" not in _header(raw)


def test_models_meet_stpipes_contract(raw):
    with RampModel(raw) as ramp:
        assert isinstance(ramp, AbstractDataModel)
        assert ramp.crds_observatory == "tmt"
        assert ramp.meta.filename == "raw_uncal.fits"
        parameters = ramp.get_crds_parameters()
        assert parameters["meta.instrument.detector"] == "IRIS1"
        assert parameters["meta.observation.date"] == "2020-07-13"


# -- a pipeline, and the mixin serving another reference type ------------------


class DarkStep(LocalCRDSMixin, Step):
    """A stand-in dark step: looks up its DARK and remembers it."""

    class_alias = "test_dark"
    reference_file_types = ["dark"]  # noqa: RUF012

    def process(self, input):
        self.dark_used = self.get_reference_file(input, "dark")
        return input


class Detector1(LocalCRDSMixin, Pipeline):
    """DQ initialization then the dark step, as an IRIS pipeline would."""

    step_defs = {"dq_init": DQInitStep, "dark": DarkStep}  # noqa: RUF012

    def process(self, input):
        result = self.dq_init.run(input)
        return self.dark.run(result)


def _write_dark_context(home):
    """tmt_0002.pmap: the shipped MASK rmap, and a DARK rmap for IRIS1."""
    folder = home / "crds_cache" / "mappings" / "tmt"
    folder.mkdir(parents=True)
    mappings = {
        "tmt_0002.pmap": (
            "header = {'mapping': 'PIPELINE', 'name': 'tmt_0002.pmap', "
            "'observatory': 'TMT', 'parkey': ('META.INSTRUMENT.NAME',), "
            "'sha1sum': ''}\nselector = {'IRIS': 'tmt_iris_0004.imap'}\n"
        ),
        "tmt_iris_0004.imap": (
            "header = {'mapping': 'INSTRUMENT', 'name': 'tmt_iris_0004.imap', "
            "'instrument': 'IRIS', 'observatory': 'TMT', 'parkey': ('REFTYPE',), "
            "'sha1sum': ''}\nselector = {'mask': 'tmt_iris_mask_0001.rmap', "
            "'dark': 'tmt_iris_dark_0001.rmap'}\n"
        ),
        "tmt_iris_dark_0001.rmap": (
            "header = {'mapping': 'REFERENCE', 'name': 'tmt_iris_dark_0001.rmap', "
            "'instrument': 'IRIS', 'observatory': 'TMT', 'filekind': 'DARK', "
            "'parkey': (('META.INSTRUMENT.DETECTOR',), "
            "('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')), 'sha1sum': ''}\n"
            "selector = Match({('IRIS1',): UseAfter({'2015-10-01 00:00:00': "
            f"'{DARK}'}})}})\n"
        ),
    }
    for name, text in mappings.items():
        (folder / name).write_text(text, encoding="utf-8")
        update_checksum(folder / name)


@pytest.mark.slow
def test_pipeline_step_defs_with_a_second_reference_type(cache, raw, tmp_path, home):
    _write_dark_context(home)
    dark = cache.parent / DARK
    dark.write_bytes(b"a dark reference")
    pipeline = Detector1(output_dir=str(tmp_path / "out"), save_results=True)
    result = pipeline.run(str(raw))

    assert pipeline.dark.dark_used == str(dark)
    output = tmp_path / "out" / "raw_uncal_detector1.fits"
    header = _header(output)
    assert header["S_DQINIT"] == "COMPLETE"
    assert header["R_MASK"] == f"crds://{MASK}"
    assert header["CRDS_CTX"] == "tmt_0002.pmap"  # the cache's newest context
    scratch = result.path.parent
    result.close()
    assert not scratch.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [output.name]


def test_pipeline_checks_every_reference_before_any_work(
    cache, raw, tmp_path, home, monkeypatch
):
    _write_dark_context(home)  # the DARK file itself is missing

    def must_not_run(self, input):
        raise AssertionError("DQ initialization ran before the references were checked")

    monkeypatch.setattr(DQInitStep, "process", must_not_run)
    pipeline = Detector1(output_dir=str(tmp_path / "out"), save_results=True)
    with pytest.raises(StepError, match=f"^{raw}: DARK .*{DARK}.*expected at"):
        pipeline.run(str(raw))
    assert [p.name for p in tmp_path.rglob("*.fits")] == [raw.name]


def test_override_of_another_reference_type_skips_crds(raw, tmp_path):
    # No CRDS cache at all: an override must not need one, before or during
    # the run.
    dark = tmp_path / "my_dark.fits"
    step = DarkStep(override_dark=str(dark))
    step.run(str(raw))
    assert step.dark_used == str(dark)


def test_reference_type_mapped_to_not_applicable(cache, raw, home):
    _write_dark_context(home)
    imap = home / "crds_cache" / "mappings" / "tmt" / "tmt_iris_0004.imap"
    text = imap.read_text(encoding="utf-8")
    imap.write_text(text.replace("'tmt_iris_dark_0001.rmap'", "'N/A'"))
    update_checksum(imap)
    step = DarkStep()
    step.run(str(raw))
    assert step.dark_used == "N/A"


class PlainStep(LocalCRDSMixin, Step):
    """A step without reference files."""

    class_alias = "test_plain"
    reference_file_types = []  # noqa: RUF012

    def process(self, input):
        return input


def test_step_without_reference_types_needs_no_crds_cache(raw):
    assert PlainStep.call(str(raw)) == str(raw)


def test_reference_lookup_for_a_list_or_a_foreign_model(cache, raw):
    class Foreign:
        """An stpipe model of another package: CRDS parameters only."""

        def get_crds_parameters(self):
            with RampModel(raw) as ramp:
                return ramp.get_crds_parameters()

    step = DQInitStep()
    expected = str(cache)
    assert step.get_reference_file([str(raw)], "mask") == expected
    assert step.get_reference_file(Foreign(), "mask") == expected
    with pytest.raises(TypeError, match="an empty list has no dataset"):
        step.get_reference_file([], "mask")


def test_the_stpipe_models_are_irisdqs_own(raw, tmp_path):
    assert RampModel is datamodels.RampModel
    assert LigerRampModel is datamodels.LigerRampModel
    assert TMTMaskModel is datamodels.TMTMaskModel
    with datamodels.open(raw) as ramp:
        assert type(ramp) is RampModel
        assert ramp.is_unchanged_file()
        assert ramp.meta.filename == "raw_uncal.fits"
        assert datamodels.open(ramp) is ramp
    with datamodels.open(write_mask(tmp_path / "m.fits")) as mask:
        assert type(mask) is TMTMaskModel
        assert mask.override_handle == str(tmp_path / "m.fits")
    memory = RampModel()
    assert not memory.is_unchanged_file()
    assert memory.override_handle == "<RampModel>"
    with pytest.raises(TypeError, match="not int 42"):
        datamodels.open(42)  # not file descriptor 42


def test_a_copy_leaves_the_scratch_output_to_its_original(raw, tmp_path):
    mask = str(write_mask(tmp_path / "m.fits"))
    result = DQInitStep.call(str(raw), override_mask=mask)
    scratch = result.path.parent
    twin = result.copy()
    assert twin.pixeldq[3, 4] == 1024 | 1
    twin.close()
    assert scratch.is_dir()  # the result's, deleted when the result closes
    result.close()
    assert not scratch.exists()


def test_step_refuses_an_input_that_is_not_a_ramp():
    with pytest.raises(
        TypeError,
        match="takes a ramp file name, a RampModel or a LigerRampModel, not int",
    ):
        DQInitStep.call(42)


def test_step_without_input_does_nothing(caplog):
    assert DQInitStep().run() is None
    assert "no input file given; nothing to do" in caplog.text


def test_error_for_a_model_names_its_file(raw, tmp_path):
    with RampModel(raw) as ramp, pytest.raises(StepError) as info:
        DQInitStep.call(ramp, override_mask=str(tmp_path / "no_mask.fits"))
    assert str(info.value).startswith(f"{raw}: ")
    assert "no_mask.fits" in str(info.value)
    assert [p.name for p in tmp_path.rglob(".irisdq-*")] == []


def test_save_takes_a_name_function_and_a_folder(tmp_path):
    with TMTMaskModel(write_mask(tmp_path / "m.fits")) as mask:
        mask.meta.filename = "m.fits"
        saved = mask.save(lambda name: f"copy_{name}", dir_path=tmp_path / "out")
    assert saved == str(tmp_path / "out" / "copy_m.fits")
    with datamodels.TMTMaskModel(saved) as back:
        assert back.dq[5, 0] == 2048


# -- Liger/IRIS ramps, and the profile parameters --------------------------------

LIGER_SHAPE = (12, 10, 3, 2)  # ny, nx, ngroups, nreads
LIGER_DQ = "ligeriri_liger_dq_0007.fits"
LIGER_PARKEY = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
LIGER_RULES = (
    f"Match({{('IMG', '0.0.1') : UseAfter({{'2025-01-01 00:00:00' : '{LIGER_DQ}'}})}})"
)
LIGER_ROWS = [
    (0, 1, "DO_NOT_USE", ""),
    (10, 1024, "DEAD", ""),
    (11, 2048, "HOT", ""),
    (16, 65536, "NONLINEAR", ""),
]


def _write_liger_dq(path, *, high=False):
    """A Liger/IRIS DQ reference (DQModel): DEAD|DO_NOT_USE at (3, 7), HOT
    at (5, 2) and, with ``high``, NONLINEAR (bit 16) at (8, 1)."""
    dq = np.zeros(LIGER_SHAPE[:2], dtype=np.uint32)
    dq[3, 7] = 1024 | 1
    dq[5, 2] = 2048
    if high:
        dq[8, 1] = 65536
    header = {"INSTRUME": "Liger", "DETECTOR": "IMG"}
    return write_foreign_mask(path, dq, LIGER_ROWS, style="liger", header=header)


@pytest.fixture
def liger_cache(home):
    """~/crds_cache with a ligeriri context choosing LIGER_DQ (reftype dq)."""
    references = write_observatory_cache(
        home / "crds_cache", "ligeriri", "liger", "dq", LIGER_PARKEY, LIGER_RULES
    )
    return _write_liger_dq(references / LIGER_DQ)


@pytest.fixture
def liger_raw(tmp_path):
    return write_liger_ramp(tmp_path / "liger_uncal.fits", *LIGER_SHAPE)


def _liger_dq(path):
    with fits.open(path) as hdul:
        return hdul["DQ"].data.astype(np.uint16), hdul[0].header


def _expected_liger_dq(high_flag=0):
    expected = np.zeros(LIGER_SHAPE, dtype=np.uint16)
    expected[3, 7] = 1024 | 1
    expected[5, 2] = 2048
    expected[8, 1] = high_flag
    return expected


class RecordingDQInitStep(DQInitStep):
    """DQInitStep keeping what it gives finalize_result."""

    def finalize_result(self, result, reference_files_used):
        self.used = list(reference_files_used)


@pytest.mark.slow
def test_strun_on_a_liger_ramp_selects_its_dq_in_a_ligeriri_cache(
    liger_cache, liger_raw, console, tmp_path
):
    done = console("strun", "irisdq::dq_init", liger_raw.name)
    assert done.returncode == 0, done.stderr
    dq, header = _liger_dq(tmp_path / "liger_dqinit.fits")
    assert header["S_DQINIT"] == "COMPLETE"
    assert header["R_DQ"] == f"crds://{LIGER_DQ}"
    assert header["CRDS_CTX"] == "ligeriri_0001.pmap"
    assert "R_MASK" not in header
    np.testing.assert_array_equal(dq, _expected_liger_dq())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_strun_override_dq_on_a_liger_ramp(liger_raw, console, tmp_path):
    # No CRDS cache at all: the override is the reference.
    _write_liger_dq(tmp_path / "my_dq.fits")
    done = console(
        "strun", "irisdq::dq_init", liger_raw.name, "--override_dq=my_dq.fits"
    )
    assert done.returncode == 0, done.stderr
    dq, header = _liger_dq(tmp_path / "liger_dqinit.fits")
    assert header["R_DQ"] == "my_dq.fits"
    assert "CRDS_CTX" not in header
    np.testing.assert_array_equal(dq, _expected_liger_dq())


def test_liger_result_is_a_lazy_stpipe_model_of_its_scratch_file(
    liger_cache, liger_raw, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    step = RecordingDQInitStep()
    result = step.run(str(liger_raw))
    assert type(result) is LigerRampModel
    assert isinstance(result, AbstractDataModel)
    assert step.used == [("dq", f"crds://{LIGER_DQ}")]
    assert result.crds_observatory == "ligeriri"
    assert result.get_crds_parameters()["meta.date"] == "2025-03-14 09:30:00"
    assert result.is_unchanged_file()
    scratch = result.path.parent
    assert scratch.name.startswith(".irisdq-")
    np.testing.assert_array_equal(result.dq, _expected_liger_dq())
    kept = Path(result.save(tmp_path / "kept.fits"))
    result.close()
    assert not scratch.exists()
    assert _liger_dq(kept)[1]["R_DQ"] == f"crds://{LIGER_DQ}"


def test_liger_model_changed_in_memory_is_streamed_from_a_scratch_copy(
    liger_cache, liger_raw, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with datamodels.open(liger_raw) as ramp:
        assert type(ramp) is LigerRampModel
        ramp.dq = np.full(LIGER_SHAPE, 4, dtype=np.uint16)  # not in the file
        result = DQInitStep.call(ramp, output_dir=str(tmp_path), save_results=True)
    dq, header = _liger_dq(tmp_path / "liger_dqinit.fits")
    np.testing.assert_array_equal(dq, _expected_liger_dq() | 4)
    assert header["R_DQ"] == f"crds://{LIGER_DQ}"
    assert type(result) is LigerRampModel
    result.close()
    assert [p.name for p in tmp_path.rglob(".irisdq-*")] == []
    with fits.open(liger_raw) as hdul:
        assert "DQ" not in hdul  # the input is not changed


def test_liger_error_for_a_changed_model_names_its_file(liger_raw, tmp_path):
    with datamodels.open(liger_raw) as ramp:
        ramp.meta.instrument.detector = "IMG2"
        with pytest.raises(StepError) as info:
            DQInitStep.call(ramp, override_dq=str(tmp_path / "no_dq.fits"))
    assert str(info.value).startswith(f"{liger_raw}: ")
    assert "no_dq.fits" in str(info.value)
    assert ".irisdq-" not in str(info.value)
    assert [p.name for p in tmp_path.rglob(".irisdq-*")] == []


def test_liger_model_built_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    reference = str(_write_liger_dq(tmp_path / "my_dq.fits"))
    ramp = datamodels.LigerRampModel()
    ramp.data = np.zeros(LIGER_SHAPE, dtype=np.uint16)
    with DQInitStep.call(ramp, override_dq=reference) as result:
        assert type(result) is LigerRampModel
        np.testing.assert_array_equal(result.dq, _expected_liger_dq())
        assert result.meta.cal_step.dq_init == "COMPLETE"
    with pytest.raises(StepError, match=r"^<LigerRampModel>: profile tmt needs"):
        DQInitStep.call(ramp, override_dq=reference, profile="tmt")
    assert [p.name for p in tmp_path.iterdir()] == ["my_dq.fits"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "flag"), [("drop", 0), ("do-not-use", 1)], ids=["drop", "do-not-use"]
)
def test_narrow_dq_for_flags_a_uint16_dq_cannot_hold(liger_raw, tmp_path, policy, flag):
    reference = str(_write_liger_dq(tmp_path / "high_dq.fits", high=True))
    with pytest.raises(StepError, match="NONLINEAR"):
        DQInitStep.call(str(liger_raw), override_dq=reference)
    DQInitStep.call(
        str(liger_raw),
        override_dq=reference,
        narrow_dq=policy,
        output_dir=str(tmp_path / "out"),
        save_results=True,
    ).close()
    dq, _ = _liger_dq(tmp_path / "out" / "liger_dqinit.fits")
    np.testing.assert_array_equal(dq, _expected_liger_dq(flag))


@pytest.mark.slow
def test_profile_is_checked_against_the_file(raw, console, tmp_path):
    mask = str(write_mask(tmp_path / "m.fits"))
    with pytest.raises(StepError, match=f"^{raw}: .*DATA"):
        DQInitStep.call(str(raw), override_mask=mask, profile="liger")
    with DQInitStep.call(str(raw), override_mask=mask, profile="jwst") as result:
        assert type(result) is RampModel
        assert result.pixeldq[3, 4] == 1024 | 1
    refused = console("strun", "irisdq::dq_init", raw.name, "--profile=hst")
    assert refused.returncode != 0
    assert "'profile'" in refused.stderr
    assert not (tmp_path / "raw_dqinit.fits").exists()


@pytest.mark.slow
def test_parameter_file_round_trip_of_the_liger_parameters(
    liger_raw, console, tmp_path
):
    _write_liger_dq(tmp_path / "high_dq.fits", high=True)
    saved = console(
        "strun",
        "irisdq::dq_init",
        "--save-parameters",
        "liger.asdf",
        "--profile=liger",
        "--narrow_dq=do-not-use",
        "--override_dq=high_dq.fits",
    )
    assert saved.returncode == 0, saved.stderr

    done = console("strun", "liger.asdf", liger_raw.name)
    assert done.returncode == 0, done.stderr
    dq, header = _liger_dq(tmp_path / "liger_dqinit.fits")
    assert header["R_DQ"] == "high_dq.fits"
    np.testing.assert_array_equal(dq, _expected_liger_dq(1))


class LigerDetector1(LocalCRDSMixin, Pipeline):
    """A Liger/IRIS pipeline's first step."""

    step_defs = {"dq_init": DQInitStep}  # noqa: RUF012

    def process(self, input):
        return self.dq_init.run(input)


@pytest.mark.slow
def test_pipeline_passes_a_liger_result_on(liger_cache, liger_raw, tmp_path):
    pipeline = LigerDetector1(output_dir=str(tmp_path / "out"), save_results=True)
    result = pipeline.run(str(liger_raw))
    assert type(result) is LigerRampModel
    output = tmp_path / "out" / "liger_uncal_ligerdetector1.fits"
    dq, header = _liger_dq(output)
    assert header["R_DQ"] == f"crds://{LIGER_DQ}"
    np.testing.assert_array_equal(dq, _expected_liger_dq())
    result.close()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [output.name]


@pytest.mark.parametrize("kind", ["tmt", "liger"])
def test_pipeline_checks_the_dq_reference_of_the_files_profile_first(
    cache, liger_cache, raw, liger_raw, tmp_path, monkeypatch, kind
):
    missing = {"tmt": cache, "liger": liger_cache}[kind]
    missing.unlink()

    def must_not_run(self, input):
        raise AssertionError("DQ initialization ran before the references were checked")

    monkeypatch.setattr(DQInitStep, "process", must_not_run)
    input = {"tmt": raw, "liger": liger_raw}[kind]
    pipeline = LigerDetector1(output_dir=str(tmp_path / "out"), save_results=True)
    with pytest.raises(StepError, match=f"^{input}: .*{missing.name}.*expected at"):
        pipeline.run(str(input))
    assert sorted(p.name for p in tmp_path.rglob("*.fits")) == sorted(
        [raw.name, liger_raw.name]
    )


@pytest.mark.slow
def test_pipeline_checks_an_override_a_model_or_a_forced_profile_as_the_step(
    cache, liger_raw, raw, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    # The Liger ramp's reference is overridden: no ligeriri cache needed.
    reference = str(_write_liger_dq(tmp_path / "my_dq.fits"))
    pipeline = LigerDetector1(steps={"dq_init": {"override_dq": reference}})
    with pipeline.run(str(liger_raw)) as result:
        np.testing.assert_array_equal(result.dq, _expected_liger_dq())
    # A profile given is the one whose context is checked: jwst, not here.
    forced = LigerDetector1(steps={"dq_init": {"profile": "jwst"}})
    with pytest.raises(StepError, match=f"^{raw}: no jwst context"):
        forced.run(str(raw))
    # A model in memory is checked in the tmt cache, whose MASK is missing.
    cache.unlink()
    ramp = datamodels.RampModel()
    ramp.meta.instrument.name = "IRIS"
    ramp.meta.instrument.detector = "IRIS1"
    ramp.meta.observation.date = "2020-07-13"
    ramp.meta.observation.time = "00:00:00"
    ramp.data = np.zeros((1, 2, 16, 16), dtype=np.float32)
    with pytest.raises(StepError, match=f"{MASK}.*expected at"):
        LigerDetector1().run(ramp)
    # Not a ramp: the step's own error, not one of the check.
    with pytest.raises(TypeError, match="takes a ramp file name"):
        LigerDetector1().run(42)


class LigerDetector1WithDark(LocalCRDSMixin, Pipeline):
    """A Liger/IRIS pipeline: DQ initialization, then a dark step of its own."""

    step_defs = {"dq_init": DQInitStep, "dark": DarkStep}  # noqa: RUF012

    def process(self, input):
        return self.dark.run(self.dq_init.run(input))


def test_another_step_of_a_liger_pipeline_gets_its_reference_the_liger_way(
    liger_cache, liger_raw, home, tmp_path
):
    """The mixin selects a dark step's DARK in the ligeriri context, by the
    Liger parameters (INSTERA, META.DATE from EXPDTST), as DQInitStep does."""
    darks = [
        "'2025-01-01 00:00:00' : 'liger_dark_2025.fits'",
        "'2025-06-01 00:00:00' : 'liger_dark_later.fits'",
    ]
    rules = f"Match({{('IMG', '0.0.1') : UseAfter({{{', '.join(darks)}}})}})"
    dark_cache = tmp_path / "dark_cache"
    write_observatory_cache(
        dark_cache, "ligeriri", "liger", "dark", LIGER_PARKEY, rules, "0002"
    )
    # One cache: the dq context's mappings beside the dark ones, one pmap
    # naming both rmaps.
    folder = home / "crds_cache" / "mappings" / "ligeriri"
    shutil.copy(dark_cache / "mappings/ligeriri/ligeriri_liger_dark_0002.rmap", folder)
    imap = folder / "ligeriri_liger_0001.imap"
    imap.write_text(
        imap.read_text().replace(
            "selector = {\n",
            "selector = {\n    'dark' : 'ligeriri_liger_dark_0002.rmap',\n",
        )
    )
    update_checksum(imap)
    update_checksum(folder / "ligeriri_0001.pmap")
    dark = home / "crds_cache/references/ligeriri/liger/liger_dark_2025.fits"
    dark.write_bytes(b"")  # looked up by name only
    pipeline = LigerDetector1WithDark(output_dir=str(tmp_path / "out"))
    result = pipeline.run(str(liger_raw))  # EXPDTST 2025-03-14: the 2025 dark
    assert pipeline.dark.dark_used == str(dark)
    result.close()


@pytest.mark.slow
def test_strun_says_how_to_overwrite_in_its_own_syntax(raw, console, tmp_path):
    """strun takes --overwrite=True only (its options all take a value):
    the message for an existing output says so."""
    write_mask(tmp_path / "my_mask.fits")
    args = ("strun", "irisdq::dq_init", raw.name, "--override_mask=my_mask.fits")
    assert console(*args).returncode == 0
    again = console(*args)
    assert again.returncode == 2
    assert (
        "raw_dqinit.fits: output already exists; replace it with overwrite=True "
        "(strun: --overwrite=True)"
    ) in again.stderr
    assert "use --overwrite" not in again.stdout + again.stderr
    bare = console(*args, "--overwrite")
    assert bare.returncode == 2
    assert "--overwrite: expected one argument" in bare.stderr
    assert console(*args, "--overwrite=True").returncode == 0


def test_a_pipeline_logs_its_inputs_not_scratch_files(
    raw, liger_raw, tmp_path, monkeypatch, caplog
):
    """An unsaved result lives in a scratch folder until saved; the log
    names the input the user gave (or the model), never the scratch file."""
    monkeypatch.chdir(tmp_path)
    mask = str(write_mask(tmp_path / "my_mask.fits"))
    caplog.set_level(logging.INFO)
    with DQInitStep.call(str(raw), override_mask=mask) as result:
        assert result.path.parent.name.startswith(".irisdq-")
    reference = str(_write_liger_dq(tmp_path / "my_dq.fits"))
    with datamodels.open(liger_raw) as ramp:
        # Changed in memory: streamed from a scratch copy.
        ramp.dq = np.full(LIGER_SHAPE, 4, dtype=np.uint16)
        DQInitStep.call(ramp, override_dq=reference).close()
    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if ".irisdq-" in m], messages
    assert f"{raw}: COMPLETE mask={mask}" in "\n".join(messages)
    assert f"{liger_raw}: COMPLETE mask={reference}" in "\n".join(messages)


@pytest.mark.slow
def test_substrt_places_a_ramp_without_substrt(console, tmp_path):
    """``substrt`` is the dq-init option --substrt: a ramp smaller than the
    mask and without SUBSTRT1/2 is placed, and the output records it."""
    mask = str(write_mask(tmp_path / "m.fits"))
    raw = write_full_frame_ramp(tmp_path / "sample_uncal.fits", shape=(1, 2, 8, 8))
    with pytest.raises(StepError, match="--substrt COL,ROW"):
        DQInitStep.call(str(raw), override_mask=mask)
    with DQInitStep.call(str(raw), override_mask=mask, substrt=[2, 1]) as result:
        # Mask pixel (row 3, col 4) is ramp pixel (3 - 1 + 1, 4 - 2 + 1) - 1.
        assert result.pixeldq[3, 3] == 1024 | 1
        assert (result.meta.subarray.xstart, result.meta.subarray.ystart) == (2, 1)
    done = console(
        "strun", "irisdq::dq_init", raw.name, "--override_mask=m.fits", "--substrt=2,1"
    )
    assert done.returncode == 0, done.stderr
    with fits.open(tmp_path / "sample_dqinit.fits") as hdul:
        assert hdul["PIXELDQ"].data[3, 3] == 1024 | 1
        assert np.all(hdul["PIXELDQ"].data[5] == 2048)
        header = hdul[0].header
        assert (header["SUBSTRT1"], header["SUBSTRT2"]) == (2, 1)
        assert "given with --substrt" in header.comments["SUBSTRT1"]
    refused = console(
        "strun", "irisdq::dq_init", raw.name, "--override_mask=m.fits", "--substrt=0,1"
    )
    assert refused.returncode != 0
    assert "two positive integers" in refused.stderr
