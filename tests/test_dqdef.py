import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from irisdq.dqflags import remap_flags


def _naive(dq, mapping):
    out = np.zeros(dq.shape, dtype=np.uint32)
    for source, target in mapping.items():
        for bit in range(32):
            if source >> bit & 1:
                out |= np.where(dq & np.uint32(1 << bit), np.uint32(target), 0).astype(
                    np.uint32
                )
    return out


@pytest.mark.slow
@given(
    arrays(np.uint32, (7, 5)),
    st.dictionaries(
        st.integers(0, 31).map(lambda b: 1 << b), st.integers(0, 2**32 - 1), max_size=8
    ),
)
def test_remap_equals_bit_by_bit(dq, mapping):
    np.testing.assert_array_equal(remap_flags(dq, mapping), _naive(dq, mapping))
