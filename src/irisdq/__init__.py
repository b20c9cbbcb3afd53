"""irisdq: data-quality initialization for the TMT IRIS calibration pipeline.

The package is organised in layers (see docs/layout.md):

- :mod:`irisdq.bitmask`: bit fields to boolean masks (astropy-compatible);
- :mod:`irisdq.dqflags`: the IRIS (JWST) flag convention, with names;
- :mod:`irisdq.errors`: the one error hierarchy every layer raises.

Submodules are imported on demand so that ``import irisdq`` stays cheap.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
