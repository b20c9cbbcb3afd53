"""How the ASDF extension is written: a plain tree by irisdq with PyYAML,
byte for byte as asdf writes it; any other tree by asdf itself."""

import io
import subprocess
import sys

import asdf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irisdq.datamodels import asdf_tree
from irisdq.datamodels.asdf_tree import ArrayRef, ramp_tree

NEWER_ASDF = asdf_tree._asdf_writes_standard() == (1, 6)


def written_by_asdf(tree: dict) -> bytes:
    buffer = io.BytesIO()
    with asdf_tree._core_asdf() as module:
        module.AsdfFile(asdf_tree._asdf_tagged(tree)).write_to(buffer)
    return buffer.getvalue()


def written_here(tree: dict) -> bytes:
    buffer = io.BytesIO()
    assert asdf_tree._write_plain(tree, buffer)
    return buffer.getvalue()


REFS = [
    ArrayRef("SCI", 1, (1, 2, 4, 4), np.dtype("float32")),
    ArrayRef("PIXELDQ", 1, (4, 4), np.dtype("uint32")),
    ArrayRef("GROUPDQ", 1, (1, 2, 4, 4), np.dtype("uint8")),
]
HEADER = {
    "DATAMODL": "RampModel",
    "TELESCOP": "TMT",
    "INSTRUME": "IRIS",
    "DETECTOR": "IRIS1",
    "SUBARRAY": "FULL",
    "DATE-OBS": "2020-07-13",
    "TIME-OBS": "01:02:03",
    "S_DQINIT": "COMPLETE",
    "R_MASK": "crds://tmt_iris_mask_0001.fits",
    "CRDS_CTX": "tmt_0001.pmap",
}

pytestmark = pytest.mark.skipif(
    not NEWER_ASDF, reason="asdf < 4 writes ASDF standard 1.5: asdf writes the tree"
)


def test_a_ramp_tree_is_written_as_asdf_writes_it():
    tree = ramp_tree(HEADER, REFS)
    assert written_here(tree) == written_by_asdf(tree)


def test_a_tree_without_arrays_is_written_as_asdf_writes_it():
    tree = ramp_tree({"S_DQINIT": "SKIPPED"}, [])
    assert written_here(tree) == written_by_asdf(tree)


# Plain values as a FITS header and a tree carried over hold them.
_SCALARS = (
    st.text(max_size=30)
    | st.integers(-(2**63 - 2), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.slow
@settings(deadline=None, max_examples=60)
@given(meta=st.dictionaries(st.text(min_size=1, max_size=12), _VALUES, max_size=6))
def test_plain_trees_are_written_as_asdf_writes_them(meta):
    tree = {"meta": meta, "data": REFS[0].node(), "extra": [REFS[1].node()]}
    assert written_here(tree) == written_by_asdf(tree)


def test_other_trees_are_left_to_asdf():
    """A tree carried over with another library's tag, a numpy value, an
    integer asdf cannot write as a literal: not written here; asdf writes
    them, the ndarray nodes put inside carried-over nodes included."""
    carried = asdf.tagged.TaggedDict({"a": 1}, "tag:example.org/thing-1.0.0")
    for tree in (
        {"wcs": carried},
        {"meta": {"n": np.int64(3)}},
        {"meta": {"n": 2**63}},
        {"meta": {"n": -(2**63 - 1)}},
    ):
        assert not asdf_tree._write_plain(tree, io.BytesIO())
    carried["array"] = REFS[0].node()
    hdu = asdf_tree.asdf_hdu_bytes({"wcs": carried, "data": REFS[1].node()})
    assert b"!core/ndarray-1.1.0" in hdu
    assert b"tag:example.org/thing-1.0.0" in hdu


def test_writing_a_new_tree_does_not_import_asdf():
    code = (
        "import sys, numpy as np\n"
        "from irisdq.datamodels import asdf_tree as t\n"
        "refs = [t.ArrayRef('SCI', 1, (1, 2, 4, 4), np.dtype('float32'))]\n"
        "t.asdf_hdu_bytes(t.ramp_tree({'S_DQINIT': 'COMPLETE'}, refs))\n"
        "print('asdf' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert run.stdout == "False\n"
