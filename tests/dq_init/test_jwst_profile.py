"""``irisdq dq-init`` on JWST pipeline files gives what jwst's DQInitStep gives.

The files are laid out as jwst (stdatamodels) writes them, with astropy: a
NIRCam ``RampModel`` (SCI float32 (nints, ngroups, ny, nx), PIXELDQ and
GROUPDQ present or absent, an ASDF extension) and a full-frame 2048 x 2048
``MaskModel`` (DQ uint32, DQ_DEF with columns BIT int32, VALUE uint32, NAME,
DESCRIPTION). The expected PIXELDQ and GROUPDQ are computed here with plain
numpy from the rules of jwst's source, each marked below with where it comes
from (jwst 3.0.0, stdatamodels 6.0.0); ``benchmarks/jwst_compare.py`` checks
the same against jwst itself. jwst is not needed. The command runs with
``--profile jwst`` and, through CRDS, also with the profile detected from
the file.
"""

import shutil

import numpy as np
import pytest
from astropy.io import fits

from builders import asdf_extension
from irisdq.cli.main import main
from irisdq.crds import update_checksum

FULL = ("FULL", 1, 1, 2048, 2048)  # SUBARRAY, SUBSTRT1, SUBSTRT2, SUBSIZE1, SUBSIZE2
SUB640 = ("SUB640", 1, 1409, 640, 640)

# [flags] JWST's standard pixel flags (stdatamodels/dqflags.py, ``pixel``;
# jwst.datamodels.dqflags re-exports them).
JWST_FLAGS = {
    "DO_NOT_USE": 1,
    "DEAD": 1024,
    "HOT": 2048,
    "NO_LIN_CORR": 1 << 20,
    "REFERENCE_PIXEL": 1 << 31,
}
# [group flag] jwst/dq_init/dq_initialization.py, do_dqinit:
# ``groupdq |= mask_array & dqflags.group["DO_NOT_USE"]``; the group
# DO_NOT_USE is 1 (stdatamodels/dqflags.py, ``group``).
GROUP_DO_NOT_USE = 1

STANDARD_DEF = list(JWST_FLAGS.items())
# The same names at other values, and a name no JWST flag has.
NONSTANDARD_DEF = [
    ("DEAD", 1),
    ("HOT", 2),
    ("DO_NOT_USE", 4),
    ("NO_LIN_CORR", 8),
    ("REFERENCE_PIXEL", 16),
    ("NOT_A_JWST_FLAG", 32),
]


# A bit that no row of either DQ_DEF names.
UNNAMED = 64


def stored_mask(dq_def, seed=0, unnamed=False) -> np.ndarray:
    """Mask values as stored in the file under `dq_def`, with pixels of
    :data:`UNNAMED` if `unnamed`."""
    values = dict(dq_def)
    rng = np.random.default_rng(seed)
    dq = np.zeros((2048, 2048), dtype=np.uint32)
    for flags in (
        values["DO_NOT_USE"] | values["DEAD"],
        values["HOT"],
        values["DO_NOT_USE"],
        values["NO_LIN_CORR"],
        values.get("NOT_A_JWST_FLAG", 0),
        UNNAMED if unnamed else 0,
    ):
        dq[rng.integers(0, 2048, 3000), rng.integers(0, 2048, 3000)] |= flags
    for border in np.s_[:4, :], np.s_[-4:, :], np.s_[:, :4], np.s_[:, -4:]:
        dq[border] |= values["REFERENCE_PIXEL"]
    return dq


def write_jwst_mask(path, dq_def, *, seed=0, unnamed=False) -> np.ndarray:
    """A full-frame NRCA1 MaskModel as stdatamodels writes it; returns the
    stored DQ."""
    dq = stored_mask(dq_def, seed, unnamed)
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "DATAMODL": "MaskModel",
            "TELESCOP": "JWST",
            "REFTYPE": "MASK",
            "PEDIGREE": "DUMMY",
            "DESCRIP": "test mask",
            "AUTHOR": "irisdq tests",
            "USEAFTER": "2015-10-01T00:00:00",
            "INSTRUME": "NIRCAM",
            "DETECTOR": "NRCA1",
            "SUBARRAY": "FULL",
            "SUBSTRT1": 1,
            "SUBSTRT2": 1,
            "SUBSIZE1": 2048,
            "SUBSIZE2": 2048,
        }
    )
    values = [value for _, value in dq_def]
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[v.bit_length() - 1 for v in values]),
            # uint32 as stdatamodels stores it: int32 with TZERO 2**31.
            fits.Column("VALUE", "J", bzero=2**31, array=np.array(values, np.uint32)),
            fits.Column("NAME", "40A", array=[name for name, _ in dq_def]),
            fits.Column("DESCRIPTION", "80A", array=[f"{n} pixel" for n, _ in dq_def]),
        ],
        name="DQ_DEF",
    )
    fits.HDUList(
        [
            primary,
            fits.ImageHDU(dq, name="DQ", uint=True),
            table,
            asdf_extension({"meta": {"reftype": "MASK"}}),
        ]
    ).writeto(path)
    return dq


def write_jwst_ramp(path, subarray, *, nints=2, ngroups=2, pixeldq=None, groupdq=None):
    """A raw NIRCam RampModel as stdatamodels writes it (PIXELDQ and
    GROUPDQ only when given)."""
    name, xstart, ystart, xsize, ysize = subarray
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "DATAMODL": "RampModel",
            "TELESCOP": "JWST",
            "DATE-OBS": "2023-01-15",
            "TIME-OBS": "12:00:00",
            "INSTRUME": "NIRCAM",
            "DETECTOR": "NRCA1",
            "MODULE": "A",
            "CHANNEL": "SHORT",
            "FILTER": "F200W",
            "PUPIL": "CLEAR",
            "EXP_TYPE": "NRC_IMAGE",
            "READPATT": "RAPID",
            "NINTS": nints,
            "NGROUPS": ngroups,
            "SUBARRAY": name,
            "SUBSTRT1": xstart,
            "SUBSTRT2": ystart,
            "SUBSIZE1": xsize,
            "SUBSIZE2": ysize,
        }
    )
    sci = np.full((nints, ngroups, ysize, xsize), 1000.0, dtype=np.float32)
    hdus = [primary, fits.ImageHDU(sci, name="SCI")]
    if pixeldq is not None:
        hdus.append(fits.ImageHDU(pixeldq, name="PIXELDQ", uint=True))
    if groupdq is not None:
        hdus.append(fits.ImageHDU(groupdq, name="GROUPDQ"))
    hdus.append(asdf_extension({"meta": {"exposure": {"type": "NRC_IMAGE"}}}))
    fits.HDUList(hdus).writeto(path)
    return path


def jwst_expected(stored, dq_def, subarray, shape, pixeldq=None, groupdq=None):
    """PIXELDQ and GROUPDQ as jwst's DQInitStep makes them, in plain numpy."""
    # [dynamic_mask] stdatamodels/dynamicdq.py, run when the step opens the
    # mask as a MaskModel (DefaultDQMixin): a pixel gets the standard flag
    # of NAME where its stored value has a bit of that row's VALUE; a NAME
    # that is no standard flag is ignored; stored bits no row names are lost.
    flags = np.zeros_like(stored)
    for name, value in dq_def:
        if name in JWST_FLAGS:
            flags[(stored & np.uint32(value)) != 0] |= np.uint32(JWST_FLAGS[name])
    # [subarray] jwst/lib/reffile_utils.py, get_subarray_model: rows
    # SUBSTRT2(sci) - SUBSTRT2(ref) onwards, SUBSIZE2(sci) of them; columns
    # alike (the mask starts at 1, 1).
    _, xstart, ystart, xsize, ysize = subarray
    cut = flags[ystart - 1 : ystart - 1 + ysize, xstart - 1 : xstart - 1 + xsize]
    # [check_dimensions] jwst/dq_init/dq_initialization.py: a missing
    # PIXELDQ or GROUPDQ starts as zeros (uint32, uint8).
    nints, ngroups = shape
    if pixeldq is None:
        pixeldq = np.zeros((ysize, xsize), np.uint32)
    if groupdq is None:
        groupdq = np.zeros((nints, ngroups, ysize, xsize), np.uint8)
    # [do_dqinit] jwst/dq_init/dq_initialization.py: pixeldq |= mask_array;
    # groupdq |= mask_array & DO_NOT_USE, broadcast over integrations and
    # groups.
    pixeldq = pixeldq | cut
    groupdq = groupdq | (cut & GROUP_DO_NOT_USE).astype(np.uint8)
    return pixeldq, groupdq


def read_dq(path):
    with fits.open(path) as hdus:
        return (
            np.array(hdus["PIXELDQ"].data),
            np.array(hdus["GROUPDQ"].data),
            {k: hdus[0].header.get(k) for k in ("S_DQINIT", "R_MASK", "CRDS_CTX")},
            [hdu.name for hdu in hdus],
        )


def assert_same(actual, expected):
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected)


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    """NRCA1 masks, each as (path, stored DQ, DQ_DEF): the standard values;
    other values (with a name no JWST flag has, and bits the table does not
    name); the standard values with bits the table does not name."""
    folder = tmp_path_factory.mktemp("jwst_masks")
    kinds = {
        "standard": ("jwst_nircam_mask_0001.fits", STANDARD_DEF, False),
        "nonstandard": ("jwst_nircam_mask_0002.fits", NONSTANDARD_DEF, True),
        "standard_unnamed": ("jwst_nircam_mask_0003.fits", STANDARD_DEF, True),
    }
    masks = {}
    for seed, (kind, (name, dq_def, unnamed)) in enumerate(kinds.items()):
        path = folder / name
        stored = write_jwst_mask(path, dq_def, seed=seed, unnamed=unnamed)
        masks[kind] = (path, stored, dq_def)
    return masks


@pytest.mark.parametrize(
    ("kind", "subarray", "with_dq"),
    [
        pytest.param("standard", FULL, False, id="standard-full-raw"),
        pytest.param("standard", SUB640, True, id="standard-sub640-dq"),
        pytest.param("nonstandard", SUB640, False, id="nonstandard-sub640-raw"),
        pytest.param("nonstandard", FULL, True, id="nonstandard-full-dq"),
        pytest.param(
            "standard_unnamed",
            SUB640,
            False,
            id="standard_unnamed",
        ),
    ],
)
def test_override_mask_as_jwst(tmp_path, masks, kind, subarray, with_dq):
    mask, stored, dq_def = masks[kind]
    nints, ngroups, ysize, xsize = 2, 2, subarray[4], subarray[3]
    pixeldq = groupdq = None
    if with_dq:
        # Flags an earlier step set: both sides keep them.
        pixeldq = np.zeros((ysize, xsize), np.uint32)
        pixeldq[5, 7] = 1 << 30
        groupdq = np.zeros((nints, ngroups, ysize, xsize), np.uint8)
        groupdq[1, 0, 9, 3] = 4
    raw = write_jwst_ramp(
        tmp_path / "jw01_nrca1_uncal.fits", subarray, pixeldq=pixeldq, groupdq=groupdq
    )
    out = tmp_path / "out.fits"

    command = ["dq-init", str(raw), "--profile", "jwst", "--override-mask", str(mask)]
    assert main([*command, "-o", str(out)]) == 0

    expected_pixeldq, expected_groupdq = jwst_expected(
        stored, dq_def, subarray, (nints, ngroups), pixeldq, groupdq
    )
    actual_pixeldq, actual_groupdq, keywords, names = read_dq(out)
    assert_same(actual_pixeldq, expected_pixeldq)
    assert_same(actual_groupdq, expected_groupdq)
    # The case tests something: DO_NOT_USE and bit 31 reach the cut.
    assert np.any(expected_groupdq)
    assert np.any(expected_pixeldq >> 31)
    assert keywords["S_DQINIT"] == "COMPLETE"
    assert keywords["R_MASK"] == str(mask)
    assert "ASDF" in names


def write_jwst_cache(root, masks):
    """A JWST CRDS cache: jwst_9999.pmap -> NIRCam imap -> a mask rmap keyed
    like jwst's (detector, subarray; date, time with UseAfter)."""
    mappings = root / "mappings" / "jwst"
    references = root / "references" / "jwst" / "nircam"
    mappings.mkdir(parents=True)
    references.mkdir(parents=True)
    texts = {
        "jwst_9999.pmap": "header = {\n    'mapping' : 'PIPELINE',\n"
        "    'name' : 'jwst_9999.pmap',\n    'observatory' : 'JWST',\n"
        "    'parkey' : ('META.INSTRUMENT.NAME',),\n    'sha1sum' : '0',\n}\n\n"
        "selector = {\n    'NIRCAM' : 'jwst_nircam_9999.imap',\n}\n",
        "jwst_nircam_9999.imap": "header = {\n    'instrument' : 'NIRCAM',\n"
        "    'mapping' : 'INSTRUMENT',\n    'name' : 'jwst_nircam_9999.imap',\n"
        "    'observatory' : 'JWST',\n    'parkey' : ('REFTYPE',),\n"
        "    'sha1sum' : '0',\n}\n\n"
        "selector = {\n    'MASK' : 'jwst_nircam_mask_9999.rmap',\n}\n",
        "jwst_nircam_mask_9999.rmap": "header = {\n"
        "    'classes' : ('Match', 'UseAfter'),\n    'filekind' : 'MASK',\n"
        "    'instrument' : 'NIRCAM',\n    'mapping' : 'REFERENCE',\n"
        "    'name' : 'jwst_nircam_mask_9999.rmap',\n    'observatory' : 'JWST',\n"
        "    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.SUBARRAY.NAME'), "
        "('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')),\n"
        "    'sha1sum' : '0',\n"
        "    'substitutions' : {'META.SUBARRAY.NAME' : {'GENERIC' : 'N/A'}},\n"
        "}\n\nselector = Match({\n"
        "    ('NRCA1', 'GENERIC') : UseAfter({\n"
        "        '2015-10-01 00:00:00' : 'jwst_nircam_mask_0002.fits',\n"
        "        '2030-01-01 00:00:00' : 'jwst_nircam_mask_0001.fits',\n"
        "    }),\n})\n",
    }
    for name, text in texts.items():
        (mappings / name).write_text(text)
        update_checksum(mappings / name)
    for path, _, _ in masks.values():
        shutil.copyfile(path, references / path.name)


@pytest.mark.parametrize(
    "profile", [["--profile", "jwst"], []], ids=["forced", "detected"]
)
def test_crds_choice_as_jwst(tmp_path, masks, monkeypatch, profile):
    cache = tmp_path / "jwst_cache"
    write_jwst_cache(cache, masks)
    monkeypatch.setenv("CRDS_PATH", str(cache))
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_9999.pmap")
    raw = write_jwst_ramp(tmp_path / "jw01_nrca1_uncal.fits", SUB640, nints=1)
    out = tmp_path / "out.fits"

    assert main(["dq-init", str(raw), *profile, "-o", str(out)]) == 0

    # The exposure of 2023 gets the mask used after 2015, not the one of 2030.
    _, stored, dq_def = masks["nonstandard"]
    expected_pixeldq, expected_groupdq = jwst_expected(stored, dq_def, SUB640, (1, 2))
    actual_pixeldq, actual_groupdq, keywords, _ = read_dq(out)
    assert_same(actual_pixeldq, expected_pixeldq)
    assert_same(actual_groupdq, expected_groupdq)
    # As jwst records them (stpipe: R_MASK 'crds://<file>', CRDS_CTX the
    # context used).
    assert keywords == {
        "S_DQINIT": "COMPLETE",
        "R_MASK": "crds://jwst_nircam_mask_0002.fits",
        "CRDS_CTX": "jwst_9999.pmap",
    }
