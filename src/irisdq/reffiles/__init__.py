"""Building bad-pixel masks from calibration data, and checking them.

- :mod:`irisdq.reffiles.thresholds`: the rules' thresholds and defaults;
- :mod:`irisdq.reffiles.badpix`: the rules, as plain functions on numpy
  arrays (flat response -> DEAD, LOW_QE, OPEN, ADJ_OPEN; dark rate and
  scatter -> HOT, WARM, noisy);
- :mod:`irisdq.reffiles.build`: :func:`build_mask`, which streams flat and
  dark files (rate images, rate cubes or ramps) through the rules in row
  blocks and makes a :class:`~irisdq.datamodels.TMTMaskModel`;
- :mod:`irisdq.reffiles.report`: the text report and the pictures;
- :mod:`irisdq.reffiles.pixels`: masks from lists of pixels (CSV,
  coordinates) and the summary ``irisdq mask info`` prints;
- :mod:`irisdq.reffiles.check`: the problems of a mask before delivery
  (``irisdq mask check``).

Submodules are imported on demand; see ``docs/mask_build.rst``.
"""
