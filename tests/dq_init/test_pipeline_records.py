"""Outputs that their own pipeline's readers open: the step and reference
recorded where each profile's data models keep them, ``meta.filename`` the
output's name, and stdatamodels' ``_fits_hash`` exactly as stdatamodels
computes it when the input's headers and tree agreed."""

import io
import warnings

import numpy as np
import pytest
from astropy.io import fits

from builders import asdf_extension, write_foreign_mask, write_liger_ramp
from irisdq.cli.main import main
from irisdq.datamodels.asdf_tree import fits_hash

fits_support = pytest.importorskip(
    "stdatamodels.fits_support", reason="stdatamodels is the peer of the hash"
)
datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")


def tree_of(path) -> dict:
    import asdf

    with fits.open(path) as hdus:
        data = hdus["ASDF"].data.tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fits: links outside stdatamodels
        with asdf.open(io.BytesIO(data), ignore_unrecognized_tag=True) as af:
            return {key: af.tree[key] for key in af.tree if key != "asdf_library"}


def their_hash(path) -> str:
    with fits.open(path) as hdus:
        return fits_support.fits_hash(hdus)


def jwst_files(folder):
    """A MIRI ramp and mask as stdatamodels writes them (the ramp's tree
    has a _fits_hash of its headers)."""
    ramp = datamodels.RampModel(data=np.zeros((1, 2, 8, 8), np.float32))
    ramp.meta.instrument.name, ramp.meta.instrument.detector = "MIRI", "MIRIMAGE"
    ramp.meta.subarray.xstart = ramp.meta.subarray.ystart = 1
    ramp.save(folder / "r_uncal.fits")
    mask = datamodels.MaskModel(dq=np.zeros((8, 8), np.uint32))
    mask.dq[2, 3] = 1025
    mask.meta.instrument.name = "MIRI"
    mask.save(folder / "mask.fits")
    return folder / "r_uncal.fits", folder / "mask.fits"


def test_fits_hash_is_stdatamodels_own(tmp_path):
    raw, _ = jwst_files(tmp_path)
    with open(raw, "rb") as stream:
        from irisdq.datamodels import read_hdu_layout

        hdus = read_hdu_layout(stream)
        blocks = []
        for hdu in hdus:
            if hdu.name != "ASDF":
                stream.seek(hdu.header_offset)
                blocks.append(stream.read(hdu.data_offset - hdu.header_offset))
    assert fits_hash(blocks) == their_hash(raw)
    assert tree_of(raw)["_fits_hash"] == their_hash(raw)


def test_a_jwst_output_carries_the_hash_of_its_own_headers(tmp_path):
    raw, mask = jwst_files(tmp_path)
    out = tmp_path / "r_dqinit.fits"

    assert main(["dq-init", str(raw), "--override-mask", str(mask)]) == 0

    tree = tree_of(out)
    assert tree["_fits_hash"] == their_hash(out)
    assert tree["_fits_hash"] != tree_of(raw)["_fits_hash"]
    assert tree["meta"]["filename"] == "r_dqinit.fits"
    assert tree["meta"]["cal_step"]["dq_init"] == "COMPLETE"
    assert tree["meta"]["ref_file"]["mask"]["name"] == str(mask)
    assert fits.getheader(out)["FILENAME"] == "r_dqinit.fits"
    with datamodels.open(out) as model:
        assert model.meta.filename == "r_dqinit.fits"
        assert model.meta.cal_step.dq_init == "COMPLETE"
        assert model.pixeldq[2, 3] == 1025


def test_no_hash_when_the_input_headers_and_tree_disagree(tmp_path):
    raw, mask = jwst_files(tmp_path)
    # A header changed after stdatamodels saved the file: the tree's hash is
    # stale, so the tree cannot be trusted to agree with the headers.
    with fits.open(raw, mode="update") as hdus:
        hdus[0].header["DETECTOR"] = "MIRIFUSHORT"
    out = tmp_path / "o.fits"

    assert (
        main(["dq-init", str(raw), "--override-mask", str(mask), "-o", str(out)]) == 0
    )

    tree = tree_of(out)
    assert "_fits_hash" not in tree
    assert tree["meta"]["filename"] == "o.fits"
    with datamodels.open(out) as model:
        assert model.meta.instrument.detector == "MIRIFUSHORT"


def test_no_hash_for_a_tree_that_never_had_one(tmp_path, mask_file):
    raw = tmp_path / "r_uncal.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(np.zeros((1, 2, 16, 16), np.float32), name="SCI"),
            asdf_extension({"meta": {"instrument": {"name": "IRIS"}}}),
        ]
    ).writeto(raw)
    with fits.open(raw, mode="update") as hdus:
        hdus[0].header.update(
            {"TELESCOP": "TMT", "INSTRUME": "IRIS", "DETECTOR": "IRIS1"}
        )
        hdus[0].header.update({"SUBSTRT1": 1, "SUBSTRT2": 1})
    # The mask is 4096 x 4096; the ramp its first 16 x 16.
    assert main(["dq-init", str(raw), "--override-mask", str(mask_file)]) == 0
    assert "_fits_hash" not in tree_of(tmp_path / "r_dqinit.fits")


def test_in_place_a_hash_written_is_always_right(tmp_path):
    raw, mask = jwst_files(tmp_path)

    assert main(["dq-init", str(raw), "--override-mask", str(mask), "--in-place"]) == 0

    tree = tree_of(raw)
    assert tree.get("_fits_hash") in (None, their_hash(raw))
    assert tree["meta"]["cal_step"]["dq_init"] == "COMPLETE"


def liger_ramp_with_hash(path):
    """A Liger ramp whose tree has the _fits_hash of its headers, as
    liger_iris_pipeline (on stdatamodels) writes it."""
    write_liger_ramp(path, 8, 8, 2, 2, header={"FILENAME": path.name})
    with fits.open(path) as hdus:
        digest = fits_support.fits_hash(hdus)
        kept = [hdu.copy() for hdu in hdus if hdu.name != "ASDF"]
    tree = {
        "meta": {
            "instrument": {"name": "Liger", "detector": "IMG"},
            "filename": path.name,
        },
        "_fits_hash": digest,
    }
    fits.HDUList([*kept, asdf_extension(tree)]).writeto(path, overwrite=True)
    return path


def test_liger_records_where_its_schemas_keep_them(tmp_path):
    raw = liger_ramp_with_hash(tmp_path / "liger_raw.fits")
    dq = np.zeros((8, 8), np.uint32)
    dq[1, 2] = 1024
    mask = write_foreign_mask(
        tmp_path / "dq.fits", dq, [(10, 1024, "DEAD", "dead")], style="liger"
    )
    out = tmp_path / "liger_dqinit.fits"

    assert main(["dq-init", str(raw), "--override-dq", str(mask), "-o", str(out)]) == 0

    tree = tree_of(out)
    meta = tree["meta"]
    assert meta["drs_step"]["dq_init"] == "COMPLETE"
    assert meta["ref_file"]["dq"]["name"] == str(mask)
    assert "cal_step" not in meta
    assert "mask" not in meta["ref_file"]
    assert meta["filename"] == "liger_dqinit.fits"
    assert tree["_fits_hash"] == their_hash(out)
    header = fits.getheader(out)
    assert header["R_DQ"] == str(mask)
    assert header["FILENAME"] == "liger_dqinit.fits"
