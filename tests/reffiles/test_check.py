import numpy as np
import pytest
from astropy.io import fits

from irisdq.crds import get_context
from irisdq.datamodels import TMTMaskModel
from irisdq.dqflags import DQDefRow
from irisdq.errors import FlagError
from irisdq.reffiles.check import check_mask, check_mask_file

FULL = {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": "FULL"}
SMALL = {
    "INSTRUME": "IRIS",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "CUSTOM",
    "SUBSTRT1": 1,
    "SUBSTRT2": 1,
    "SUBSIZE1": 8,
    "SUBSIZE2": 8,
    "USEAFTER": "2020-01-01T00:00:00",
}


def kinds(findings):
    return [finding.kind for finding in findings]


def test_clean_small_mask_has_no_findings():
    dq = np.zeros((8, 8), np.uint32)
    dq[1, 2] = 1024 | 1
    assert check_mask(dq, None, SMALL, context=get_context("tmt_0001.pmap")) == []


def test_severe_flag_without_do_not_use_names_pixel_and_count():
    dq = np.zeros((8, 8), np.uint32)
    dq[3, 5] = 2048
    dq[4, 4] = 2048
    dq[6, 6] = 4096  # WARM is not severe
    (finding,) = check_mask(dq, None, SMALL)
    assert finding.kind == "do_not_use"
    assert "2 pixel(s) flagged HOT" in finding.message
    assert "(x, y) = (5, 3)" in finding.message


def test_severe_flags_are_configurable():
    dq = np.zeros((8, 8), np.uint32)
    dq[0, 0] = 4096
    assert check_mask(dq, None, SMALL) == []
    assert kinds(check_mask(dq, None, SMALL, severe=["WARM"])) == ["do_not_use"]
    with pytest.raises(FlagError):
        check_mask(dq, None, SMALL, severe=["WRAM"])


def test_negative_values_are_not_flags():
    dq = np.zeros((8, 8), np.int32)
    dq[0, 0] = -1
    assert kinds(check_mask(dq, None, SMALL)) == ["dq_value"]


def test_bits_dq_def_does_not_name():
    dq = np.zeros((8, 8), np.uint32)
    dq[2, 1] = 8 | 64
    rows = [DQDefRow(3, 8, "DEAD", ""), DQDefRow(0, 1, "DO_NOT_USE", "")]
    findings = check_mask(dq, rows, SMALL)
    messages = [f.message for f in findings if f.kind == "dq_value"]
    assert len(messages) == 1
    assert "bit value(s) 64" in messages[0]
    assert "(x, y) = (1, 2)" in messages[0]


def test_severe_flags_are_judged_by_dq_def_names():
    # The file's own bit 3 is DEAD: DEAD without DO_NOT_USE once remapped.
    dq = np.zeros((8, 8), np.uint32)
    dq[0, 0] = 8
    rows = [DQDefRow(3, 8, "DEAD", ""), DQDefRow(0, 1, "DO_NOT_USE", "")]
    assert "do_not_use" in kinds(check_mask(dq, rows, SMALL))
    dq[0, 0] = 9
    assert "do_not_use" not in kinds(check_mask(dq, rows, SMALL))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (DQDefRow(1, 3, "DEAD", ""), "not one bit"),
        (DQDefRow(11, 2048, "DEAD", ""), "2048 is HOT's"),
        (DQDefRow(5, 1024, "DEAD", ""), "BIT is 5 but VALUE is bit 10"),
        (DQDefRow(12, 4096, "SPARKLY", ""), "not a pipeline flag name"),
        (DQDefRow(0, 0, "DEAD", ""), "VALUE 0 is GOOD"),
    ],
)
def test_dq_def_rows(row, message):
    rows = [DQDefRow(0, 1, "DO_NOT_USE", ""), row]
    findings = [
        f for f in check_mask(np.zeros((8, 8)), rows, SMALL) if f.kind == "dq_def"
    ]
    assert len(findings) == 1
    assert message in findings[0].message


def test_dq_def_repeats():
    rows = [DQDefRow(10, 1024, "DEAD", ""), DQDefRow(10, 1024, "DEAD", "")]
    messages = [f.message for f in check_mask(np.zeros((8, 8)), rows, SMALL)]
    assert any("is also 'DEAD'" in m for m in messages)
    assert any("appears twice" in m for m in messages)


@pytest.mark.parametrize(
    ("shape", "changes", "message"),
    [
        ((8, 8), {"SUBSIZE1": 9}, "SUBSIZE1 = 9 but DQ has 8 columns"),
        ((8, 8), {"SUBSTRT2": 0}, "SUBSTRT2 = 0"),
        ((8, 8), {"SUBSTRT1": 4090}, "reaches past the 4096 x 4096"),
        ((8, 8), {"SUBSTRT1": None}, "not both set"),
        ((8, 8), {"SUBARRAY": "FULL", "SUBSIZE1": None, "SUBSIZE2": None}, "FULL"),
        ((8, 8, 2), {}, "2-D image"),
        ((8, 8), {"SUBSIZE1": "8"}, "not an integer"),
    ],
)
def test_placement(shape, changes, message):
    keywords = {**SMALL, **changes}
    keywords = {k: v for k, v in keywords.items() if v is not None}
    findings = check_mask(np.zeros(shape, np.uint32), None, keywords)
    assert kinds(findings) == ["placement"]
    assert message in findings[0].message


def test_full_frame_must_start_at_one():
    keywords = {**FULL, "SUBSTRT1": 3}
    findings = check_mask(np.zeros((4096, 4096), np.uint32), None, keywords)
    assert [f.message for f in findings] == [
        "SUBARRAY = FULL but SUBSTRT1 = 3; a full frame starts at 1"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DETECTOR": None}, "DETECTOR is missing"),
        ({"DETECTOR": "IRIS2"}, "no rule of tmt_iris_mask_0001.rmap"),
        ({"USEAFTER": None}, "USEAFTER is missing"),
        ({"USEAFTER": "last week"}, "not a date"),
        ({"INSTRUME": "NIRSPEC"}, "instrument NIRSPEC is not in context"),
    ],
)
def test_selection_keywords(changes, message):
    keywords = {k: v for k, v in {**SMALL, **changes}.items() if v is not None}
    findings = check_mask(
        np.zeros((8, 8), np.uint32),
        None,
        keywords,
        context=get_context("tmt_0001.pmap"),
    )
    assert "selection" in kinds(findings)
    assert any(message in f.message for f in findings), findings


def write_small(path, dq, dq_def=None, **keywords):
    header = fits.Header({**SMALL, "DATAMODL": "TMTMaskModel", **keywords})
    hdus = [fits.PrimaryHDU(header=header), fits.ImageHDU(dq, name="DQ", uint=True)]
    if dq_def is not None:
        hdus.append(
            fits.BinTableHDU.from_columns(
                [
                    fits.Column("BIT", "J", array=[r.bit for r in dq_def]),
                    fits.Column("VALUE", "K", array=[r.value for r in dq_def]),
                    fits.Column("NAME", "20A", array=[r.name for r in dq_def]),
                    fits.Column("DESCRIPTION", "20A", array=[r.name for r in dq_def]),
                ],
                name="DQ_DEF",
            )
        )
    fits.HDUList(hdus).writeto(path, checksum=True)
    return path


def test_file_reads_stored_bits_not_remapped(tmp_path):
    dq = np.zeros((8, 8), np.uint32)
    dq[0, 0] = 8 | 16
    rows = [DQDefRow(3, 8, "DEAD", ""), DQDefRow(0, 1, "DO_NOT_USE", "")]
    findings = check_mask_file(write_small(tmp_path / "m.fits", dq, rows))
    assert kinds(findings) == ["dq_def", "dq_value", "do_not_use"]
    # The DQ_DEF row for DEAD uses another bit than the convention's.
    assert "1024" in findings[0].message


def test_file_dq_def_not_one_bit_is_a_finding_not_an_error(tmp_path):
    rows = [DQDefRow(0, 3, "DEAD", "")]
    path = write_small(tmp_path / "m.fits", np.zeros((8, 8), np.uint32), rows)
    assert kinds(check_mask_file(path)) == ["dq_def"]


def test_file_bad_checksum(tmp_path):
    path = write_small(tmp_path / "m.fits", np.zeros((8, 8), np.uint32))
    data = bytearray(path.read_bytes())
    data[2 * 2880 + 5] ^= 1  # one DQ value, after the primary and DQ headers
    path.write_bytes(bytes(data))
    findings = check_mask_file(path)
    assert "checksum" in kinds(findings)
    assert any("DATASUM" in f.message for f in findings)


def test_file_written_by_model_is_clean(tmp_path):
    mask = TMTMaskModel()
    mask.meta.detector = "IRIS1"
    mask.dq = np.zeros((4096, 4096), np.uint32)
    path = mask.write(tmp_path / "mask.fits")
    assert check_mask_file(path, context=get_context("tmt_0001.pmap")) == []


def test_flags_a_liger_dq_cannot_hold_are_reported(tmp_path):
    from builders import write_foreign_mask

    dq = np.zeros((16, 16), dtype=np.uint32)
    dq[0, :] = 1 << 31  # REFERENCE_PIXEL
    dq[5, 5] = (1 << 24) | 1  # UNRELIABLE_SLOPE
    rows = [
        (0, 1, "DO_NOT_USE", ""),
        (24, 1 << 24, "UNRELIABLE_SLOPE", ""),
        (31, 1 << 31, "REFERENCE_PIXEL", ""),
    ]
    path = write_foreign_mask(
        tmp_path / "liger.fits",
        dq,
        rows,
        style="liger",
        header={"INSTRUME": "Liger", "DETECTOR": "IMG"},
    )
    findings = [f for f in check_mask_file(path) if f.kind == "dq_bits"]
    assert len(findings) == 1
    text = str(findings[0])
    assert "bits 0-15 only" in text
    assert "UNRELIABLE_SLOPE (1 pixel)" in text
    assert "REFERENCE_PIXEL (16 pixels)" in text
    # The same flags are fine in a TMT mask: its ramps' PIXELDQ has 32 bits.
    assert not [
        f for f in check_mask(dq, None, {"DETECTOR": "IRIS1"}) if f.kind == "dq_bits"
    ]
