"""DQ initialization through each profile's CRDS observatory, and the
narrow-DQ policy (files of the SCI layout; Liger ramps are in
tests/cli/test_dq_init_liger.py)."""

import numpy as np
import pytest
from astropy.io import fits

from builders import asdf_extension, write_observatory_cache
from irisdq.crds import clear_cache
from irisdq.dq_init import DQInit
from irisdq.dq_init.core import NarrowDQError, Subarray, narrow_flags
from irisdq.dq_init.plan import MaskChoice, plan_dq_init
from irisdq.errors import MappingError, NoMatchError

JWST_HEADER = {
    "DATAMODL": "RampModel",
    "TELESCOP": "JWST",
    "INSTRUME": "NIRCAM",
    "DETECTOR": "NRCA1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2023-01-01",
    "TIME-OBS": "00:00:00",
}
JWST_RULES = """Match({
    ('NRCA1', 'FULL') : UseAfter({
        '2022-01-01 00:00:00' : 'jwst_nircam_mask_0042.fits',
    }),
})"""
JWST_PARKEY = (
    ("META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME"),
    ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME"),
)


@pytest.fixture
def jwst_cache(tmp_path, monkeypatch, build):
    root = tmp_path / "jwst_cache"
    references = write_observatory_cache(
        root, "jwst", "nircam", "mask", JWST_PARKEY, JWST_RULES
    )
    dq = np.zeros((10, 10), dtype=np.uint32)
    dq[3, 7] = 1024 | 1
    build.small_mask(references / "jwst_nircam_mask_0042.fits", dq)
    monkeypatch.setenv("CRDS_PATH", str(root))
    clear_cache()
    return root


@pytest.fixture
def jwst_ramp(build):
    def write(path, **header):
        return build.ramp(path, start=None, header={**JWST_HEADER, **header})

    return write


class TestObservatory:
    def test_a_jwst_file_selects_through_the_jwst_context(
        self, tmp_path, jwst_cache, jwst_ramp
    ):
        raw = jwst_ramp(tmp_path / "jw_uncal.fits")
        out = DQInit.call(raw, output_dir=tmp_path / "out")
        with fits.open(out) as hdul:
            header = hdul[0].header
            assert header["R_MASK"] == "crds://jwst_nircam_mask_0042.fits"
            assert header["CRDS_CTX"] == "jwst_0001.pmap"
            assert "R_DQ" not in header
            assert int(hdul["PIXELDQ"].data[3, 7]) == 1025
            assert np.count_nonzero(hdul["PIXELDQ"].data) == 1
            assert hdul["GROUPDQ"].data[:, :, 3, 7].tolist() == [[1, 1, 1, 1]]

    def test_crds_observatory_forces_the_context(
        self, tmp_path, jwst_cache, monkeypatch, build
    ):
        # An IRIS file, selected in the jwst cache: the jwst context has no IRIS.
        raw = build.ramp(tmp_path / "iris_uncal.fits", start=None)
        monkeypatch.setenv("CRDS_OBSERVATORY", "jwst")
        with pytest.raises(
            NoMatchError, match="instrument IRIS is not in context jwst_0001"
        ):
            DQInit.call(raw, output_dir=tmp_path / "out")

    def test_the_text_none_is_no_observatory(
        self, tmp_path, jwst_cache, monkeypatch, jwst_ramp
    ):
        # Importing the stock crds package puts CRDS_OBSERVATORY='None' there.
        monkeypatch.setenv("CRDS_OBSERVATORY", "None")
        raw = jwst_ramp(tmp_path / "jw_uncal.fits")
        out = DQInit.call(raw, output_dir=tmp_path / "out")
        assert fits.getval(out, "CRDS_CTX") == "jwst_0001.pmap"

    def test_a_context_of_another_observatory_is_refused(
        self, tmp_path, jwst_cache, monkeypatch, jwst_ramp
    ):
        monkeypatch.setenv("CRDS_CONTEXT", "tmt_0001.pmap")
        raw = jwst_ramp(tmp_path / "jw_uncal.fits")
        with pytest.raises(
            MappingError,
            match="is a context of observatory tmt, but a jwst context is needed",
        ):
            DQInit.call(raw, output_dir=tmp_path / "out")

    def test_no_context_of_the_observatory(self, tmp_path, monkeypatch, jwst_ramp):
        monkeypatch.setenv("CRDS_PATH", str(tmp_path))
        raw = jwst_ramp(tmp_path / "jw_uncal.fits")
        with pytest.raises(
            MappingError,
            match=r"no jwst context: .*mappings/jwst holds no jwst_\*\.pmap",
        ):
            DQInit.call(raw, output_dir=tmp_path / "out")

    def test_operational_context_missing_from_the_cache_is_passed_over(
        self, tmp_path, jwst_cache
    ):
        config = jwst_cache / "config" / "jwst"
        config.mkdir(parents=True)
        (config / "server_config").write_text(
            "{'operational_context': 'jwst_0999.pmap'}"
        )
        from irisdq.crds import cache_root, default_context

        name, source = default_context(cache_root(), "jwst")
        assert name == "jwst_0001.pmap"
        assert source.endswith("names jwst_0999.pmap, which is not there")

    def test_a_date_missing_names_the_profiles_keywords(
        self, tmp_path, jwst_cache, jwst_ramp
    ):
        raw = jwst_ramp(tmp_path / "jw_uncal.fits", **{"DATE-OBS": ""})
        with pytest.raises(
            NoMatchError, match="add DATE-OBS = 'YYYY-MM-DD' and TIME-OBS"
        ):
            DQInit.call(raw, output_dir=tmp_path / "out")

    def test_a_forced_profile_that_does_not_fit(self, tmp_path, jwst_cache, jwst_ramp):
        raw = jwst_ramp(tmp_path / "jw_uncal.fits")
        with pytest.raises(Exception, match="profile liger needs a 4-D DATA extension"):
            DQInit.call(raw, output_dir=tmp_path / "out", profile="liger")

    def test_override_dq_is_override_mask(self, tmp_path, jwst_cache, jwst_ramp):
        raw = jwst_ramp(tmp_path / "jw_uncal.fits")
        out = DQInit.call(raw, output_dir=tmp_path / "out", override_dq="N/A")
        assert fits.getval(out, "S_DQINIT") == "SKIPPED"
        with pytest.raises(Exception, match="give one of them"):
            DQInit.call(
                raw, output_dir=tmp_path / "o2", override_dq="N/A", override_mask="N/A"
            )


def _jwst_file(path, header, tree=None):
    """A JWST-layout raw ramp with exactly the header given."""
    primary = fits.PrimaryHDU()
    primary.header.update(header)
    hdus = [primary, fits.ImageHDU(np.zeros((1, 2, 10, 10), np.float32), name="SCI")]
    if tree is not None:
        hdus.append(asdf_extension(tree))
    fits.HDUList(hdus).writeto(path)
    return path


WITHOUT_DETECTOR = {k: v for k, v in JWST_HEADER.items() if k != "DETECTOR"}


class TestAsdfTree:
    def test_a_value_only_the_tree_has_is_used(self, tmp_path, jwst_cache):
        tree = {"meta": {"instrument": {"name": "NIRCAM", "detector": "NRCA1"}}}
        raw = _jwst_file(tmp_path / "jw_uncal.fits", WITHOUT_DETECTOR, tree)
        out = DQInit.call(raw, output_dir=tmp_path / "out")
        assert fits.getval(out, "R_MASK") == "crds://jwst_nircam_mask_0042.fits"

    def test_the_header_wins_over_the_tree(self, tmp_path, jwst_cache):
        tree = {"meta": {"instrument": {"detector": "NRCB4"}}}
        raw = _jwst_file(tmp_path / "jw_uncal.fits", JWST_HEADER, tree)
        out = DQInit.call(raw, output_dir=tmp_path / "out")
        assert fits.getval(out, "R_MASK") == "crds://jwst_nircam_mask_0042.fits"

    def test_without_either_no_rule_matches(self, tmp_path, jwst_cache):
        raw = _jwst_file(tmp_path / "jw_uncal.fits", WITHOUT_DETECTOR)
        with pytest.raises(NoMatchError, match="DETECTOR='UNDEFINED'"):
            DQInit.call(raw, output_dir=tmp_path / "out")


class TestNarrow:
    flags = np.array([[1, 1024, 65536], [2**31 | 2, 0, 2**16 | 2**17]], np.uint32)

    def test_refused_by_default_with_each_flag_and_count(self):
        with pytest.raises(NarrowDQError) as info:
            narrow_flags(self.flags, 16)
        assert (
            "cannot hold flags NONLINEAR (2 pixels), BAD_REF_PIXEL (1 pixel), "
            "REFERENCE_PIXEL (1 pixel); choose --narrow-dq=drop" in str(info.value)
        )

    def test_drop(self):
        narrow, dropped = narrow_flags(self.flags, 16, "drop")
        assert narrow.dtype == np.uint16
        assert narrow.tolist() == [[1, 1024, 0], [2, 0, 0]]
        assert dropped == {"NONLINEAR": 2, "BAD_REF_PIXEL": 1, "REFERENCE_PIXEL": 1}

    def test_do_not_use(self):
        narrow, _ = narrow_flags(self.flags, 16, "do-not-use")
        assert narrow.tolist() == [[1, 1024, 1], [3, 0, 1]]

    def test_flags_that_fit_pass_unchanged_whatever_the_policy(self):
        low = np.array([1, 1024, 2**15], np.uint32)
        for policy in (None, "drop", "do-not-use"):
            narrow, dropped = narrow_flags(low, 16, policy)
            assert narrow.tolist() == [1, 1024, 2**15]
            assert dropped == {}

    def test_32_bits_keep_everything(self):
        narrow, dropped = narrow_flags(self.flags, 32)
        assert narrow is self.flags
        assert dropped == {}

    def test_unknown_policy(self):
        with pytest.raises(
            ValueError, match="narrow policy must be one of drop, do-not-use"
        ):
            narrow_flags(self.flags, 16, "keep")

    def test_the_plan_narrows_and_reports(self):
        choice = MaskChoice(self.flags, Subarray(), "m.fits")
        plan = plan_dq_init({}, (2, 3), choice, dq_bits=16, narrow="drop")
        assert plan.pixel_flags.dtype == np.uint16
        assert plan.dropped == {
            "NONLINEAR": 2,
            "BAD_REF_PIXEL": 1,
            "REFERENCE_PIXEL": 1,
        }
        assert plan.group_flags.tolist() == [[1, 0, 0], [0, 0, 0]]
