"""DQ initialization when CRDS itself says the MASK does not apply (N/A).

Two caches: one whose imap maps MASK to N/A, one whose rmap gives N/A for
the IRIS2 detector. Either way the step is skipped, not failed: S_DQINIT =
SKIPPED, R_MASK = N/A, CRDS_CTX names the context, one warning, exit 0; on
the file path (``irisdq dq-init``) and on the RampModel path.
"""

import logging
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from irisdq.crds import update_checksum
from irisdq.datamodels import RampModel
from irisdq.dq_init import DQInit

PMAP = """header = {
    'mapping' : 'PIPELINE',
    'name' : 'tmt_0002.pmap',
    'observatory' : 'TMT',
    'parkey' : ('META.INSTRUMENT.NAME',),
    'sha1sum' : '0',
}

selector = {
    'IRIS' : 'tmt_iris_0004.imap',
}
"""

IMAP = """header = {
    'instrument' : 'IRIS',
    'mapping' : 'INSTRUMENT',
    'name' : 'tmt_iris_0004.imap',
    'observatory' : 'TMT',
    'parkey' : ('REFTYPE',),
    'sha1sum' : '0',
}

selector = {
    'mask' : %r,
}
"""

RMAP = """header = {
    'filekind' : 'MASK',
    'instrument' : 'IRIS',
    'mapping' : 'REFERENCE',
    'name' : 'tmt_iris_mask_0002.rmap',
    'observatory' : 'TMT',
    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.SUBARRAY.NAME'),
                ('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')),
    'sha1sum' : '0',
    'substitutions' : {'META.SUBARRAY.NAME' : {'GENERIC' : 'N/A'}},
}

selector = Match({
    ('IRIS1', 'GENERIC') : UseAfter({
        '2015-10-01 00:00:00' : 'tmt_iris_mask_0001.fits',
    }),
    ('IRIS2', 'GENERIC') : UseAfter({
        '2015-10-01 00:00:00' : 'N/A',
    }),
})
"""


def _write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    update_checksum(path)


@pytest.fixture(params=["imap", "rmap"])
def not_applicable_cache(request, tmp_path, monkeypatch):
    """A cache where MASK is N/A for IRIS2 exposures, by the imap or the rmap."""
    root = tmp_path / "cache"
    mappings = root / "mappings" / "tmt"
    mappings.mkdir(parents=True)
    _write(mappings, "tmt_0002.pmap", PMAP)
    if request.param == "imap":
        _write(mappings, "tmt_iris_0004.imap", IMAP % "N/A")
    else:
        _write(mappings, "tmt_iris_0004.imap", IMAP % "tmt_iris_mask_0002.rmap")
        _write(mappings, "tmt_iris_mask_0002.rmap", RMAP)
    monkeypatch.setenv("CRDS_PATH", str(root))
    return root


def _ramp(path):
    primary = fits.PrimaryHDU()
    primary.header.update(
        {"TELESCOP": "TMT", "INSTRUME": "IRIS", "DETECTOR": "IRIS2",
         "SUBARRAY": "FULL", "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00"}
    )  # fmt: skip
    sci = fits.ImageHDU(np.ones((1, 2, 4, 4), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(path)
    return path


@pytest.mark.slow
def test_file_path_skipped(not_applicable_cache, tmp_path):
    source = _ramp(tmp_path / "a_uncal.fits")
    # A separate process: the user's stderr, with the CLI's own logging.
    done = subprocess.run(
        [sys.executable, "-c", "from irisdq.cli.main import main; exit(main())",
         "dq-init", str(source)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    output = tmp_path / "a_dqinit.fits"
    assert done.stdout.strip() == f"{output}: SKIPPED mask=N/A"
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 1
    assert "no MASK applies (N/A); step skipped" in warnings[0]
    with fits.open(output) as hdul:
        header = hdul[0].header
        assert header["S_DQINIT"] == "SKIPPED"
        assert header["R_MASK"] == "N/A"
        assert header["CRDS_CTX"] == "tmt_0002.pmap"
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "ASDF"]


def test_model_path_skipped(not_applicable_cache, caplog):
    model = RampModel()
    model.meta.instrument.name = "IRIS"
    model.meta.instrument.detector = "IRIS2"
    model.meta.subarray.name = "FULL"
    model.meta.observation.date = "2020-07-13"
    model.meta.observation.time = "00:00:00"
    model.data = np.zeros((1, 2, 4, 4), dtype=np.float32)
    with caplog.at_level(logging.WARNING, logger="irisdq"):
        result = DQInit.call(model)
    # stpipe 0.8, once imported (by the stpipe tests), renames every record
    # to "stpipe" and handles it again: the same record is captured twice.
    skipped = {id(r) for r in caplog.records if "step skipped" in r.getMessage()}
    assert len(skipped) == 1
    assert result.meta.cal_step.dq_init == "SKIPPED"
    assert result.meta.ref_file.mask.name == "N/A"
    assert result.meta.ref_file.crds.context_used == "tmt_0002.pmap"
    assert result.pixeldq is None
