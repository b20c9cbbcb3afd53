"""FITS data models: the only code in irisdq that reads or writes FITS.

- :class:`TMTMaskModel`: a bad-pixel mask reference file (``DQ``,
  ``DQ_DEF``);
- :class:`RampModel`: a raw ramp (``SCI``, ``PIXELDQ``, ``GROUPDQ``,
  ``ERR``, and any other extension passed through);
- :class:`LigerRampModel`: a Liger/IRIS 2025 raw ramp (``DATA``, ``DQ``
  uint16 (ny, nx, ngroups, nreads), ``TIMES``, ``ASDF`` passed through);
- :class:`LayoutRampModel`, the model of both: a raw ramp whose arrays
  come from its :class:`~irisdq.layouts.RampLayout`, and
  :func:`open_ramp`, a raw ramp of any layout (``profile.ramp``);
- :func:`open`: the right model for a file, from ``DATAMODL`` or its
  extensions;
- :func:`read_hdu_layout` and :func:`copy_hdu`: the byte offsets of every
  HDU of a file, to copy unchanged extensions through without decoding;
- :func:`read_primary_header`: a primary header alone.

Opening reads headers only; arrays are read on first use (memory-mapped
when the stored bytes are the values). Every write goes through a temporary
file and carries CHECKSUM/DATASUM.
"""

# Every model reads and writes FITS headers with astropy: importing it here,
# once, keeps that cost out of the first call (the command line imports this
# package only when a command needs it, so ``irisdq --help`` stays fast).
import contextlib as _contextlib

import astropy.io.fits  # noqa: F401
from astropy import log as _astropy_log
from astropy.logger import LoggingError as _LoggingError

# astropy sends every Python warning through its own logger, as two lines in
# its own format, once it is imported. irisdq leaves warnings to Python's
# warnings machinery instead, so that filters, pytest and the command line
# (one line per warning) see them as usual.
if _astropy_log.warnings_logging_enabled():
    # Unless someone else took warnings over since: then leave them be.
    with _contextlib.suppress(_LoggingError):
        _astropy_log.disable_warnings_logging()

from irisdq.datamodels.hdu_io import DataModelWarning
from irisdq.datamodels.header import read_keywords, read_primary_header
from irisdq.datamodels.layout import HDULayout, copy_hdu, read_hdu_layout
from irisdq.datamodels.mask import TMTMaskModel
from irisdq.datamodels.meta import Meta
from irisdq.datamodels.model import DataModel
from irisdq.datamodels.opener import open
from irisdq.datamodels.ramp import (
    LayoutRampModel,
    LigerRampModel,
    RampModel,
    open_ramp,
)
from irisdq.dqflags import DQDefRow, remap_flags

__all__ = [
    "DQDefRow",
    "DataModel",
    "DataModelWarning",
    "HDULayout",
    "LayoutRampModel",
    "LigerRampModel",
    "Meta",
    "RampModel",
    "TMTMaskModel",
    "copy_hdu",
    "open",
    "open_ramp",
    "read_hdu_layout",
    "read_keywords",
    "read_primary_header",
    "remap_flags",
]
