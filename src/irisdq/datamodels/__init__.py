"""FITS data models: the only code in irisdq that reads or writes FITS."""

from irisdq.datamodels.header import read_primary_header

__all__ = ["read_primary_header"]
