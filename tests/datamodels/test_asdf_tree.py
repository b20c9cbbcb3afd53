"""The ASDF extension of irisdq's outputs: the tree, its encoding, and what
update_ramp_dq writes, new file or in place; stdatamodels opening it."""

import io
import subprocess
import sys
import warnings

import asdf
import numpy as np
import pytest
from astropy.io import fits

from builders import asdf_extension, read_asdf_tree, write_full_frame_ramp
from irisdq.datamodels.asdf_tree import (
    ArrayRef,
    asdf_hdu_bytes,
    ramp_tree,
    read_tree,
)
from irisdq.datamodels.hdu_io import DataModelWarning
from irisdq.datamodels.ramp_dq import update_ramp_dq

SHAPE = (1, 3, 16, 16)
KEYWORDS = {
    "S_DQINIT": "COMPLETE",
    "R_MASK": "crds://tmt_iris_mask_0001.fits",
    "CRDS_CTX": "tmt_0001.pmap",
}


def _flags():
    pixel = np.zeros(SHAPE[-2:], dtype=np.uint32)
    pixel[3, 4] = 1025
    return pixel, (pixel & 1).astype(np.uint8)


def _ramp(path, tree=None):
    """A raw IRIS ramp without DQ arrays; with an ASDF extension holding
    ``tree`` when given."""
    write_full_frame_ramp(path, shape=SHAPE)
    if tree is not None:
        with fits.open(path) as hdul:
            hdus = [hdu.copy() for hdu in hdul]
        fits.HDUList([*hdus, asdf_extension(tree)]).writeto(
            path, overwrite=True, checksum=True
        )
    return path


def _names(path):
    with fits.open(path) as hdul:
        return [hdu.name for hdu in hdul]


def _source(node):
    return node["source"] if isinstance(node, dict) else node._source


class TestTree:
    def test_meta_from_header_and_arrays_as_extension_links(self):
        header = fits.Header(
            [("DATAMODL", "RampModel"), ("NINTS", 1), *KEYWORDS.items()]
        )
        arrays = [
            ArrayRef("SCI", 1, SHAPE, np.dtype("float32")),
            ArrayRef("PIXELDQ", 1, SHAPE[-2:], np.dtype("uint32")),
        ]
        tree = ramp_tree(header, arrays)
        assert tree["meta"] == {
            "model_type": "RampModel",
            "exposure": {"nints": 1},
            "cal_step": {"dq_init": "COMPLETE"},
            "ref_file": {
                "mask": {"name": "crds://tmt_iris_mask_0001.fits"},
                "crds": {"context_used": "tmt_0001.pmap"},
            },
        }
        assert dict(tree["pixeldq"]) == {
            "source": "fits:PIXELDQ,1",
            "shape": [16, 16],
            "datatype": "uint32",
            "byteorder": "big",
        }
        assert tree["data"]["source"] == "fits:SCI,1"
        assert "groupdq" not in tree

    def test_previous_tree_updated_relinked_and_unhashed(self):
        previous = {
            "meta": {"cal_step": {"assign_wcs": "COMPLETE", "dq_init": "SKIPPED"}},
            "_fits_hash": "abc",
            "coefficients": np.arange(3.0),
            "err": ArrayRef("ERR", 1, SHAPE, np.dtype("float32")).node(),
            "extra": [ArrayRef("SCI", 1, (1,), np.dtype("float32")).node()],
        }
        tree = ramp_tree(
            {"S_DQINIT": "COMPLETE"},
            [ArrayRef("SCI", 1, SHAPE, np.dtype("float32"))],
            previous,
        )
        assert tree["meta"]["cal_step"] == {
            "assign_wcs": "COMPLETE",
            "dq_init": "COMPLETE",
        }
        # stdatamodels must not take the tree for the new headers' summary.
        assert "_fits_hash" not in tree
        np.testing.assert_array_equal(tree["coefficients"], [0.0, 1.0, 2.0])
        # The output has no ERR: a link to it would break the reader.
        assert "err" not in tree
        assert tree["extra"][0]["shape"] == list(SHAPE)

    def test_extension_bytes_are_a_checksummed_asdf_table(self):
        tree = ramp_tree(KEYWORDS, [ArrayRef("SCI", 1, SHAPE, np.dtype("float32"))])
        raw = fits.PrimaryHDU().header.tostring().encode() + asdf_hdu_bytes(tree)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with fits.open(io.BytesIO(raw), checksum=True) as hdul:
                table = hdul["ASDF"]
                assert table.columns.names == ["ASDF_METADATA"]
                assert len(table.data) == 1
                data = table.data.tobytes()
        with asdf.open(io.BytesIO(data)) as af:
            assert af.tree["meta"]["cal_step"]["dq_init"] == "COMPLETE"
            assert _source(af.tree["data"]) == "fits:SCI,1"

    def test_unreadable_extension_warns_and_gives_none(self):
        with pytest.warns(DataModelWarning, match=r"raw\.fits: its ASDF extension"):
            assert read_tree(b"#ASDF 1.0.0\n%YAML 1.1\n--- [", "raw.fits") is None

    def test_read_tree_keeps_unknown_tags_and_loads_arrays(self):
        tagged = asdf.tagged.TaggedDict({"a": 1}, "tag:example.org/thing-1.0.0")
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            asdf.AsdfFile({"wcs": tagged, "table": np.arange(3.0)}).write_to(buffer)
        tree = read_tree(buffer.getvalue())
        assert tree["wcs"]._tag == "tag:example.org/thing-1.0.0"
        assert tree["wcs"]["a"] == 1
        # Read before the ASDF bytes are closed.
        assert type(tree["table"]) is np.ndarray
        assert tree["table"].tolist() == [0.0, 1.0, 2.0]


class TestUpdateRampDQ:
    def test_new_file_gets_one_asdf_extension_last(self, tmp_path):
        raw = _ramp(tmp_path / "raw.fits")
        out = tmp_path / "out.fits"
        update_ramp_dq(raw, KEYWORDS, *_flags(), target=out)
        assert _names(out) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        tree = read_asdf_tree(out)
        assert tree["meta"]["cal_step"] == {"dq_init": "COMPLETE"}
        assert tree["meta"]["instrument"] == {"name": "IRIS", "detector": "IRIS1"}
        assert [_source(tree[n]) for n in ("data", "pixeldq", "groupdq")] == [
            "fits:SCI,1",
            "fits:PIXELDQ,1",
            "fits:GROUPDQ,1",
        ]

    def test_input_tree_replaced_not_duplicated(self, tmp_path):
        raw = _ramp(tmp_path / "raw.fits", {"meta": {"origin": "STScI"}})
        once, twice = tmp_path / "once.fits", tmp_path / "twice.fits"
        update_ramp_dq(raw, KEYWORDS, *_flags(), target=once)
        update_ramp_dq(once, {"S_DQINIT": "SKIPPED"}, target=twice)
        assert _names(twice) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        meta = read_asdf_tree(twice)["meta"]
        assert meta["origin"] == "STScI"
        assert meta["cal_step"] == {"dq_init": "SKIPPED"}

    def test_in_place_same_size_tree_rewritten_where_it_is(self, tmp_path):
        raw = _ramp(tmp_path / "raw.fits", {"meta": {"origin": "STScI"}})
        update_ramp_dq(raw, KEYWORDS, *_flags())
        inode, size = raw.stat().st_ino, raw.stat().st_size
        result = update_ramp_dq(raw, {"S_DQINIT": "SKIPPED"})
        assert not result.rewritten
        assert (raw.stat().st_ino, raw.stat().st_size) == (inode, size)
        assert read_asdf_tree(raw)["meta"]["cal_step"] == {"dq_init": "SKIPPED"}
        with fits.open(raw, checksum=True) as hdul:
            assert all(hdu.verify_checksum() == 1 for hdu in hdul)

    def test_in_place_appends_a_tree_the_input_lacked(self, tmp_path):
        raw = _ramp(tmp_path / "raw.fits")
        result = update_ramp_dq(raw, KEYWORDS, *_flags())
        assert not result.rewritten
        assert _names(raw) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        assert read_asdf_tree(raw)["meta"]["cal_step"] == {"dq_init": "COMPLETE"}

    def test_in_place_tree_that_outgrows_its_blocks_rewrites_the_file(self, tmp_path):
        # The input's tree fills its 2880-byte block all but a little: with
        # the metadata added it needs a second block.
        filler = ""
        while len(asdf_hdu_bytes({"note": filler + "x" * 64})) == 2 * 2880:
            filler += "x" * 64
        raw = _ramp(tmp_path / "raw.fits", {"note": filler})
        result = update_ramp_dq(raw, KEYWORDS, *_flags())
        assert result.rewritten
        assert _names(raw) == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        tree = read_asdf_tree(raw)
        assert tree["note"] == filler
        assert tree["meta"]["cal_step"] == {"dq_init": "COMPLETE"}


def test_stdatamodels_opens_an_output(tmp_path):
    datamodels = pytest.importorskip(
        "stdatamodels.jwst.datamodels",
        reason="stdatamodels not installed (pip install 'irisdq[test]')",
    )
    raw = _ramp(tmp_path / "raw.fits")
    out = tmp_path / "raw_dqinit.fits"
    update_ramp_dq(raw, KEYWORDS, *_flags(), target=out)
    with warnings.catch_warnings():
        # jwst's schemas know neither TMT nor IRIS: validation warnings only.
        warnings.simplefilter("ignore")
        with datamodels.open(out) as model:
            assert type(model).__name__ == "RampModel"
            assert model.meta.cal_step.dq_init == "COMPLETE"
            assert model.meta.ref_file.mask.name == "crds://tmt_iris_mask_0001.fits"
            assert model.meta.ref_file.crds.context_used == "tmt_0001.pmap"
            assert model.pixeldq.dtype == np.uint32
            assert model.groupdq.dtype == np.uint8
            assert int(model.pixeldq[3, 4]) == 1025
            assert model.groupdq[0, :, 3, 4].tolist() == [1, 1, 1]
            assert model.data.shape == SHAPE
    from stdatamodels import asdf_in_fits

    # The arrays are links to the FITS extensions, not copies in the tree.
    with fits.open(out) as hdul:
        assert hdul["ASDF"].header["NAXIS1"] < 4096
    tree = asdf_in_fits.open(out).tree
    np.testing.assert_array_equal(tree["pixeldq"][3, 4], 1025)


@pytest.mark.slow
def test_writing_a_tree_loads_no_other_packages_asdf_plugins():
    """asdf loads the plugins of every package that registers one (stpipe
    among them): seconds of imports per process, and stpipe 0.8 took over
    logging, so each warning of `irisdq dq-init` was printed three times."""
    code = (
        "import logging, sys, warnings\n"
        "handlers, show = list(logging.getLogger().handlers), warnings.showwarning\n"
        "from irisdq.datamodels import asdf_tree as t\n"
        "hdu = t.asdf_hdu_bytes(t.ramp_tree({'S_DQINIT': 'X'}, []))\n"
        "tree = t.read_tree(hdu[2880:].rstrip(bytes(1)))\n"
        "assert tree['meta'] == {'cal_step': {'dq_init': 'X'}}, tree\n"
        "assert logging.getLogger().handlers == handlers\n"
        "assert warnings.showwarning is show\n"
        "print(sorted({name.split('.')[0] for name in sys.modules}"
        " & {'stpipe', 'crds', 'stdatamodels', 'gwcs', 'asdf_astropy'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def _aliased_tree(levels: int) -> bytes:
    """An ASDF file whose tree nests ``levels`` lists of nine aliases of
    the list before: 9**levels nodes once expanded."""
    lines = ["#ASDF 1.0.0", "#ASDF_STANDARD 1.5.0", "%YAML 1.1",
             "%TAG ! tag:stsci.edu:asdf/", "--- !core/asdf-1.1.0",
             "l0: &l0 [x, x, x, x, x, x, x, x, x]"]  # fmt: skip
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines += [f"meta: {{instrument: {{name: Liger}}, top: *l{levels - 1}}}", "..."]
    return ("\n".join(lines) + "\n").encode()


def test_an_alias_bomb_is_not_expanded():
    # asdf walks each alias anew to validate the tree: 400 bytes, 9**9
    # nodes, hours; refused before asdf reads it.
    with pytest.warns(DataModelWarning, match="its YAML aliases expand the tree by"):
        assert read_tree(_aliased_tree(9), "bomb.fits") is None


def test_a_few_aliases_are_read():
    tree = read_tree(_aliased_tree(3))
    assert tree["meta"]["instrument"]["name"] == "Liger"
    assert len(tree["meta"]["top"]) == 9
    assert tree["meta"]["top"][8][8] == ["x"] * 9


@pytest.mark.parametrize(
    ("opening", "closing"), [(b"[", b"]"), (b"{a: ", b"}")], ids=["lists", "dicts"]
)
def test_deep_nesting_is_not_read(opening, closing):
    # 100000 levels crashed the interpreter inside asdf (lists) or took
    # minutes (mappings); refused at the 201st level, or by libyaml itself,
    # whose scanner (in some builds) stops at its own depth limit first.
    depth = 100_000
    data = (
        b"#ASDF 1.0.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n"
        b"--- !core/asdf-1.1.0\nmeta: {a: " + opening * depth
        + b"1" * (opening != b"[") + closing * depth + b"}\n...\n"
    )  # fmt: skip
    refused = "its YAML nests more than 200 levels|exceeded maximum nesting depth"
    with pytest.warns(DataModelWarning, match=refused):
        assert read_tree(data, "deep.fits") is None


def test_a_tree_150_levels_deep_is_read():
    data = (
        b"#ASDF 1.0.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n"
        b"--- !core/asdf-1.1.0\nmeta: {a: " + b"[" * 150 + b"]" * 150 + b"}\n...\n"
    )
    tree = read_tree(data)
    assert isinstance(tree["meta"]["a"], list)


# Trees read without asdf (plain values, fits: arrays) and trees left to it.
_HEAD = "#ASDF 1.0.0\n#ASDF_STANDARD 1.6.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n"
_LIBRARY = (
    "asdf_library: !core/software-1.0.0 {name: asdf, version: 5.4.0}\n"
    "history:\n  extensions:\n  - !core/extension_metadata-1.0.0\n"
    "    extension_class: asdf.extension._manifest.ManifestExtension\n"
    "    software: !core/software-1.0.0 {name: asdf, version: 5.4.0}\n"
)
_PLAIN_TREES = {
    "jwst-ramp": (
        "_fits_hash: b3cc95b4\n"
        "data: !core/ndarray-1.1.0\n  source: fits:SCI,1\n  datatype: float32\n"
        "  byteorder: big\n  shape: [2, 4, 8, 8]\n"
        "meta:\n  date: '2026-12-04T18:51:26.780'\n"
        "  exposure: {ngroups: 4, nints: 2, readpatt: RAPID}\n"
        "  instrument: {detector: NRCA1, name: NIRCAM}\n"
        "pixeldq: !core/ndarray-1.0.0 {source: 'fits:PIXELDQ,1', datatype: uint32,"
        " byteorder: big, shape: [8, 8]}\n"
    ),
    "scalars": (
        "meta:\n  when: 2024-01-02 03:04:05\n  day: 2024-01-02\n  ok: yes\n"
        "  none: ~\n  big: 123456789012\n  ratio: 1.5e3\n  octal: 0o17\n"
        "  text: !!str 12\n  list: [1, [2, 3], {a: b}]\n  anchor: &a {x: 1}\n"
        "  alias: *a\n"
    ),
}
_OTHER_TREES = {
    "other-tag": "wcs: !<tag:stsci.edu:gwcs/wcs-1.2.0> {name: ''}\n",
    "tagged-scalar": "meta: {unit: !<tag:astropy.org:astropy/units/unit-1.0.0> m}\n",
    "inline-array": "table: !core/ndarray-1.1.0 {data: [1, 2], datatype: int64,"
    " shape: [2]}\n",
    "block-array": "table: !core/ndarray-1.1.0 {source: 0, datatype: int64,"
    " shape: [2]}\n",
    "omap": "meta: !!omap [{b: 1}, {a: 2}]\n",
}


def _comparable(node):
    if isinstance(node, dict):
        if "source" in node or hasattr(node, "_source"):
            return ("array", _source(node))
        return (type(node).__name__, {k: _comparable(v) for k, v in node.items()})
    if isinstance(node, list):
        return [_comparable(item) for item in node]
    if hasattr(node, "_source"):
        return ("array", node._source)
    return (type(node).__name__, node)


@pytest.mark.parametrize("name", _PLAIN_TREES)
def test_a_plain_tree_is_read_without_asdf_as_asdf_reads_it(monkeypatch, name):
    from irisdq.datamodels import asdf_tree

    data = f"{_HEAD}--- !core/asdf-1.1.0\n{_LIBRARY}{_PLAIN_TREES[name]}...\n"
    data = data.encode()
    plain = asdf_tree._read_plain(data)
    assert plain is not None
    monkeypatch.setattr(asdf_tree, "_read_plain", lambda data: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asdf reads it without complaint
        by_asdf = read_tree(data)
    assert list(plain) == list(by_asdf)
    assert _comparable(plain) == _comparable(by_asdf)
    assert "asdf_library" not in plain
    assert "history" not in plain


@pytest.mark.parametrize("name", _OTHER_TREES)
def test_other_trees_are_left_to_asdf(name):
    from irisdq.datamodels import asdf_tree

    data = f"{_HEAD}--- !core/asdf-1.1.0\n{_OTHER_TREES[name]}...\n".encode()
    assert asdf_tree._read_plain(data) is None


def test_a_tree_followed_by_blocks_is_left_to_asdf():
    from irisdq.datamodels import asdf_tree

    buffer = io.BytesIO()
    asdf.AsdfFile({"table": np.arange(3.0)}).write_to(buffer)
    assert asdf_tree._read_plain(buffer.getvalue()) is None
    assert read_tree(buffer.getvalue())["table"].tolist() == [0.0, 1.0, 2.0]


def test_reading_a_raw_ramps_tree_does_not_import_asdf(tmp_path):
    # The tree is written here (asdf < 4 writes it with asdf) and only read
    # in the fresh interpreter, which must not import asdf to read it.
    ref = ArrayRef("SCI", 1, (1, 2, 4, 4), np.dtype("f4"))
    hdu = asdf_hdu_bytes(ramp_tree({"S_DQINIT": "X"}, [ref]))
    stored = tmp_path / "tree.asdf"
    stored.write_bytes(hdu[2880:].rstrip(bytes(1)))
    code = (
        "import sys, pathlib\n"
        "from irisdq.datamodels import asdf_tree as t\n"
        f"tree = t.read_tree(pathlib.Path({str(stored)!r}).read_bytes())\n"
        "assert tree['meta'] == {'cal_step': {'dq_init': 'X'}}, tree\n"
        "assert tree['data']._source == 'fits:SCI,1', tree\n"
        "print('asdf' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False\n"
