"""The thresholds of the bad-pixel rules and their defaults.

Kept apart from :mod:`irisdq.reffiles.badpix` and free of numpy, so that
the command line can show the defaults without loading numpy.

Examples
--------
>>> Thresholds().dead, Thresholds(hot=5.0).hot
(0.05, 5.0)
"""

import math
from dataclasses import asdict, dataclass

from irisdq.errors import IrisDQError

__all__ = ["DEFAULT_DO_NOT_USE", "Thresholds"]

# Flags that also get DO_NOT_USE unless the caller says otherwise: pixels
# whose values carry no usable signal (DEAD, OPEN), are swamped by dark
# current (HOT), or are not light-sensitive (REFERENCE_PIXEL).
DEFAULT_DO_NOT_USE = ("DEAD", "HOT", "OPEN", "REFERENCE_PIXEL")


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of the bad-pixel rules, with their defaults.

    Attributes
    ----------
    dead : float
        A pixel whose normalised flat response is below this is DEAD
        (jwst_reffiles' ``max_dead_norm_signal``, 0.05, its
        ``absolute_rate`` search).
    low_qe : float
        A pixel at or above ``dead`` and below this is LOW_QE, or OPEN when
        its neighbours are high (``max_low_qe_norm_signal``, 0.5).
    open_neighbour : float
        A low pixel all of whose 4 side neighbours have a response above
        this is OPEN, and its 8 neighbours ADJ_OPEN
        (``max_open_adj_norm_signal``, 1.05).
    hot : float
        A dark rate above this (in the darks' units, e.g. DN/s) is HOT.
    warm : float
        A dark rate above this and at most ``hot`` is WARM.
    noisy_sigma : float
        A pixel whose variance across the darks is too large for the
        detector's typical noise at this significance, in standard
        deviations of a normal distribution, is noisy (5, as jwst_reffiles'
        ``noisy_threshold``; see :func:`noisy_threshold`).
    illumination_box : int
        The side, in pixels, of the boxes whose medians model the
        large-scale illumination of the flats (see :func:`illumination`).
    """

    dead: float = 0.05
    low_qe: float = 0.5
    open_neighbour: float = 1.05
    hot: float = 1.0
    warm: float = 0.1
    noisy_sigma: float = 5.0
    illumination_box: int = 32

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not math.isfinite(value) or value <= 0:
                raise IrisDQError(
                    f"threshold {name} = {value!r} must be a positive number"
                )
        if not self.dead < self.low_qe < self.open_neighbour:
            raise IrisDQError(
                f"thresholds must satisfy dead < low_qe < open_neighbour; got "
                f"{self.dead}, {self.low_qe}, {self.open_neighbour}"
            )
        if not self.warm < self.hot:
            raise IrisDQError(
                f"threshold warm = {self.warm} must be below hot = {self.hot}"
            )
        if int(self.illumination_box) != self.illumination_box:
            raise IrisDQError(
                f"illumination_box = {self.illumination_box!r} must be a whole "
                "number of pixels"
            )
