"""irisdq.exposure: every entry point gives the same answer on the same files.

The files are written by their pipelines' own code where it exists: the JWST
ramp and masks by stdatamodels (then the ramp's DETECTOR card is removed,
so that only its ASDF tree names the detector), the TMT ramp by irisdq, the
Liger ramp as liger_iris_pipeline lays it out (astropy). Each entry point
(the library's resolver and ``crds.bestref``, the step, ``irisdq crds
bestref``, ``irisdq profiles``, the stpipe step and mixin, the batch runner,
models in memory) must name the same profile and the same mask.
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from builders import (
    write_foreign_mask,
    write_full_frame_ramp,
    write_liger_ramp,
    write_observatory_cache,
    write_shipped_cache,
)
from irisdq import batch, crds, datamodels
from irisdq.cli.main import main
from irisdq.dq_init import DQInit
from irisdq.exposure import merge_keywords, resolve
from irisdq.profiles import PROFILES, ProfileError

stdatamodels = pytest.importorskip("stdatamodels.jwst.datamodels")

JWST_PARKEY = (
    ("META.INSTRUMENT.DETECTOR",),
    ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME"),
)
JWST_RULES = (
    "Match({\n"
    "    ('NRCA1',) : UseAfter({'2015-01-01 00:00:00' :"
    " 'jwst_nircam_mask_0042.fits'}),\n"
    "    ('NRCB1',) : UseAfter({'2015-01-01 00:00:00' :"
    " 'jwst_nircam_mask_0007.fits'}),\n"
    "})\n"
)
LIGER_PARKEY = (("META.INSTRUMENT.DETECTOR", "META.INSTRUMENT.ERA"), ("META.DATE",))
LIGER_RULES = (
    "Match({('IMG', '0.0.1') : UseAfter("
    "{'2025-01-01 00:00:00' : 'ligeriri_liger_dq_0003.fits'})})"
)
LIGER_SHAPE = (8, 6, 3, 2)  # ny, nx, ngroups, nreads


def _jwst_meta(model, detector: str) -> None:
    model.meta.telescope = "JWST"
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = detector
    model.meta.subarray.name = "FULL"
    model.meta.subarray.xstart = 1
    model.meta.subarray.ystart = 1
    model.meta.subarray.xsize = 8
    model.meta.subarray.ysize = 8


def write_jwst_mask(path: Path, detector: str, pixel: tuple[int, int]) -> Path:
    """A NIRCAM MaskModel written by stdatamodels: DO_NOT_USE|DEAD at pixel."""
    mask = stdatamodels.MaskModel(dq=np.zeros((8, 8), dtype=np.uint32))
    _jwst_meta(mask, detector)
    mask.meta.reftype = "MASK"
    mask.meta.useafter = "2015-01-01T00:00:00"
    mask.meta.description = "test"
    mask.meta.author = "irisdq tests"
    mask.meta.pedigree = "GROUND"
    mask.dq[pixel] = 1025
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask.save(path)
    return path


def write_jwst_ramp(path: Path) -> Path:
    """A NIRCAM NRCA1 RampModel written by stdatamodels, its DETECTOR card
    then removed: the ASDF tree alone names the detector."""
    ramp = stdatamodels.RampModel((1, 2, 8, 8))
    _jwst_meta(ramp, "NRCA1")
    ramp.meta.observation.date = "2022-07-01"
    ramp.meta.observation.time = "00:00:00"
    ramp.meta.exposure.type = "NRC_IMAGE"
    ramp.save(path)
    with fits.open(path, mode="update") as hdul:
        del hdul[0].header["DETECTOR"]
    return path


@pytest.fixture
def files(home, tmp_path):
    """A TMT, a JWST (DETECTOR in the ASDF tree only) and a Liger ramp, and
    a cache whose contexts choose a mask for each; name -> (ramp, profile,
    the mask chosen)."""
    cache = home / "crds_cache"
    write_shipped_cache(cache)
    references = write_observatory_cache(
        cache, "jwst", "nircam", "mask", JWST_PARKEY, JWST_RULES
    )
    write_jwst_mask(references / "jwst_nircam_mask_0042.fits", "NRCA1", (2, 3))
    write_jwst_mask(references / "jwst_nircam_mask_0007.fits", "NRCB1", (4, 5))
    references = write_observatory_cache(
        cache, "ligeriri", "liger", "dq", LIGER_PARKEY, LIGER_RULES
    )
    dq = np.zeros(LIGER_SHAPE[:2], dtype=np.uint32)
    dq[3, 4] = 1025
    rows = [(0, 1, "DO_NOT_USE", ""), (10, 1024, "DEAD", "")]
    write_foreign_mask(
        references / "ligeriri_liger_dq_0003.fits",
        dq,
        rows,
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    inputs = tmp_path / "in"
    inputs.mkdir()
    return {
        "tmt": (
            write_full_frame_ramp(inputs / "tmt_uncal.fits"),
            "tmt",
            "tmt_iris_mask_0001.fits",
        ),
        "jwst": (
            write_jwst_ramp(inputs / "jwst_uncal.fits"),
            "jwst",
            "jwst_nircam_mask_0042.fits",
        ),
        "liger": (
            write_liger_ramp(inputs / "liger_uncal.fits", *LIGER_SHAPE),
            "liger",
            "ligeriri_liger_dq_0003.fits",
        ),
    }


class _MixinStep:
    """A step of another pipeline that selects through LocalCRDSMixin."""

    @staticmethod
    def make():
        from stpipe import Step

        from irisdq.stpipe import LocalCRDSMixin

        class AnyStep(LocalCRDSMixin, Step):
            reference_file_types = ["mask"]  # noqa: RUF012

            def process(self, input):
                return input

        return AnyStep()


def _answers(path: Path, tmp_path: Path, capsys) -> dict[str, tuple[str, str]]:
    """(profile, mask file name) from every entry point, for one file."""
    answers = {}
    exposure = resolve(path)
    answers["resolve"] = exposure.profile.name, exposure.select().filename
    answers["crds.bestref"] = (
        exposure.profile.name,
        Path(crds.bestref(path, "mask")).name,
    )
    selection = crds.select_reference(path, "mask")
    answers["crds.select_reference"] = exposure.profile.name, selection.filename

    assert main(["profiles", str(path)]) == 0
    shown = capsys.readouterr().out
    profile_shown = shown.split(": ", 1)[1].split()[0]
    assert main(["crds", "bestref", str(path), "--reftype", "mask"]) == 0
    answers["cli"] = profile_shown, Path(capsys.readouterr().out.strip()).name

    out = tmp_path / "step"
    step = DQInit(output_dir=out)
    step.run(path)
    answers["step"] = _recorded(step.summary.output)

    from irisdq.stpipe import DQInitStep as StpipeStep

    stpipe_out = tmp_path / "stpipe"
    StpipeStep.call(str(path), output_dir=str(stpipe_out), save_results=True)
    answers["stpipe step"] = _recorded(next(stpipe_out.glob("*_dqinit.fits")))

    mixin = _MixinStep.make()
    answers["stpipe mixin"] = (
        exposure.profile.name,
        Path(mixin.get_reference_file(str(path), "mask")).name,
    )

    [result] = batch.run([path], output_dir=tmp_path / "batch")
    answers["batch"] = _recorded(result.output)

    with datamodels.open(path) as model:
        in_memory = resolve(model)
        answers["irisdq model"] = in_memory.profile.name, in_memory.select().filename
    return answers


def _recorded(output) -> tuple[str, str]:
    """The profile and mask an output's header records (R_MASK or R_DQ)."""
    header = fits.getheader(output)
    for profile in PROFILES.values():
        if profile.reference_keyword in header:
            break
    name = header[profile.reference_keyword].removeprefix("crds://")
    kind = resolve(output).profile.name
    return kind, name


@pytest.mark.parametrize("which", ["tmt", "jwst", "liger"])
def test_every_entry_point_gives_the_same_answer(which, files, tmp_path, capsys):
    path, profile, mask = files[which]
    answers = _answers(path, tmp_path, capsys)
    assert set(answers.values()) == {(profile, mask)}, answers


def test_a_detector_in_the_asdf_tree_only_selects_in_memory_as_on_disk(files):
    """jwst's own reader gives the model the tree's DETECTOR: the model in
    memory and the file name the same mask, by the same parameters."""
    path, _, mask = files["jwst"]
    assert "DETECTOR" not in fits.getheader(path)
    on_disk = resolve(path)
    with stdatamodels.open(path) as model:
        in_memory = resolve(model)
    assert in_memory.profile is on_disk.profile
    assert in_memory.is_ramp
    assert on_disk.is_ramp
    for parameter in on_disk.profile.parameters:
        assert in_memory.parameters.get(parameter) == on_disk.parameters.get(
            parameter
        ), parameter
    assert on_disk.keywords["DETECTOR"] == "NRCA1"
    assert in_memory.select().filename == on_disk.select().filename == mask


def test_an_irisdq_model_reads_the_tree_of_its_own_file(files, tmp_path):
    """irisdq's model of the ASDF-only DETECTOR ramp takes the tree from the
    file it holds open: pickled to where the file is not, or after another
    file took its name, it names the same detector and mask."""
    import os
    import pickle

    path, _, mask = files["jwst"]
    model = datamodels.open(path)
    assert resolve(model).keywords["DETECTOR"] == "NRCA1"
    travelled = pickle.loads(pickle.dumps(model))
    # Another ramp, of detector NRCB1, now has the file's name.
    other = stdatamodels.RampModel((1, 2, 8, 8))
    _jwst_meta(other, "NRCB1")
    other.meta.observation.date = "2022-07-01"
    other.meta.observation.time = "00:00:00"
    other.save(tmp_path / "other.fits")
    with fits.open(tmp_path / "other.fits", mode="update") as hdul:
        del hdul[0].header["DETECTOR"]
    os.replace(tmp_path / "other.fits", path)
    assert resolve(path).keywords["DETECTOR"] == "NRCB1"
    for held in (model, travelled):
        exposure = resolve(held)
        assert exposure.keywords["DETECTOR"] == "NRCA1"
        assert exposure.select().filename == mask
    model.close()


def test_a_closed_irisdq_model_reads_the_tree_at_its_path(files):
    """Closed, a model has no open file: its tree is read from its path
    while a file is there, and is empty once none is."""
    import os

    path, _, mask = files["jwst"]
    model = datamodels.open(path)
    model.close()
    exposure = resolve(model)
    assert exposure.keywords["DETECTOR"] == "NRCA1"
    assert exposure.select().filename == mask
    os.remove(path)
    assert "DETECTOR" not in resolve(model).keywords


def test_bestref_of_a_path_uses_the_files_observatory(files):
    """crds.bestref(path) raised TypeError; it selects in the file's own
    observatory, under the name that observatory gives the reference."""
    path, _, mask = files["liger"]
    assert Path(crds.bestref(path, "mask")).name == mask
    assert Path(crds.bestref(str(path), "dq")).name == mask
    assert "ligeriri_liger_dq_0003.fits" in crds.explain_bestref(path, "mask")


def test_header_values_win_over_the_tree():
    keywords, parameters = merge_keywords(
        {"DETECTOR": "NRCB1", "HISTORY": "x", "FILTER": None},
        {"META.INSTRUMENT.DETECTOR": "NRCA1", "META.INSTRUMENT.FILTER": "F200W"},
        PROFILES["jwst"],
    )
    assert keywords == {"DETECTOR": "NRCB1", "FILTER": "F200W"}
    assert parameters["META.INSTRUMENT.DETECTOR"] == "NRCB1"
    assert parameters["META.INSTRUMENT.FILTER"] == "F200W"


def test_masks_and_other_files_are_told_apart(files, tmp_path):
    jwst_mask = Path(crds.bestref(files["jwst"][0], "mask"))
    liger_mask = Path(crds.bestref(files["liger"][0], "dq"))
    assert (resolve(jwst_mask).kind, resolve(jwst_mask).profile.name) == (
        "mask",
        "jwst",
    )
    assert (resolve(liger_mask).kind, resolve(liger_mask).profile.name) == (
        "mask",
        "liger",
    )
    flat = tmp_path / "flat.fits"
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2)), name="SCI")]
    ).writeto(flat)
    other = resolve(flat)
    assert other.kind == "other"
    assert not other.is_ramp
    with pytest.raises(ProfileError, match=r"flat\.fits: profile tmt needs a 4-D SCI"):
        other.require_ramp()
    # A profile asked for is used, whatever the file looks like.
    assert resolve(jwst_mask, "liger").profile.name == "liger"


def test_models_and_mappings(files):
    path = files["tmt"][0]
    with datamodels.open(path) as model:
        assert resolve(model, "jwst").profile.name == "jwst"
    by_parameters = resolve({"meta.telescope": "JWST", "meta.instrument.name": "X"})
    assert by_parameters.profile.name == "jwst"
    assert by_parameters.parameters["META.INSTRUMENT.NAME"] == "X"

    class Foreign:
        crds_observatory = "ligeriri"

        def get_crds_parameters(self):
            return {"meta.instrument.name": "IRIS"}

    foreign = resolve(Foreign())
    assert foreign.profile.name == "liger"
    assert foreign.parameters == {"META.INSTRUMENT.NAME": "IRIS"}
    with pytest.raises(TypeError, match="not int"):
        resolve(3)
    mask_model = datamodels.TMTMaskModel()
    assert resolve(mask_model).kind == "mask"


def test_a_real_selection_loads_no_astropy():
    """Selecting for keywords, through the shipped context, reads mappings
    only: neither astropy nor irisdq's FITS layer is loaded."""
    code = (
        "import sys, irisdq.crds as crds\n"
        "header = {'INSTRUME': 'IRIS', 'DETECTOR': 'IRIS1', 'SUBARRAY': 'FULL',\n"
        "          'DATE-OBS': '2020-07-13', 'TIME-OBS': '00:00:00'}\n"
        "s = crds.select_reference(header, 'mask', context='tmt_0001.pmap')\n"
        "assert s.filename == 'tmt_iris_mask_0001.fits', s.filename\n"
        "crds.explain_bestref(header, 'mask', context='tmt_0001.pmap')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'astropy'\n"
        "             or m.startswith('irisdq.datamodels')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_exposure_selects_and_models_of_every_kind(files):
    path, _, mask = files["tmt"]
    assert Path(resolve(path).bestref()).name == mask
    liger_path = files["liger"][0]
    with datamodels.open(liger_path) as liger:
        assert resolve(liger).is_ramp
        forced = resolve(liger, "tmt")
        assert (forced.profile.name, forced.kind) == ("tmt", "other")
    # A jwst model says nothing of its telescope: its pipeline's observatory
    # (crds_observatory) names the profile.
    bare = stdatamodels.RampModel((1, 2, 4, 4))
    exposure = resolve(bare)
    assert (exposure.profile.name, exposure.kind) == ("jwst", "ramp")
    assert resolve(bare, "liger").kind == "other"
