import numpy as np
import pytest

from irisdq.errors import IrisDQError
from irisdq.reffiles.thresholds import Thresholds


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dead": -1}, "dead = -1"),
        ({"hot": np.nan}, "hot = nan"),
        ({"dead": 0.6}, "dead < low_qe < open_neighbour"),
        ({"warm": 2.0}, "warm = 2.0 must be below hot"),
        ({"illumination_box": 2.5}, "whole number"),
    ],
)
def test_thresholds_refuse_inconsistent_values(changes, message):
    with pytest.raises(IrisDQError, match=message):
        Thresholds(**changes)
