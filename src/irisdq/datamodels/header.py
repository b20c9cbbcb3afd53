"""Reading a FITS primary header without touching the data."""

import os

from irisdq.errors import DataModelError


def read_primary_header(path: str | os.PathLike):
    """Return the primary header of a FITS file, reading nothing else.

    Parameters
    ----------
    path : str or os.PathLike
        The FITS file.

    Returns
    -------
    astropy.io.fits.Header

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataModelError
        If the file is not FITS or its primary header is truncated.
    """
    from astropy.io import fits

    path = os.fspath(path)
    with open(path, "rb") as stream:
        if stream.read(6) != b"SIMPLE":
            raise DataModelError(
                f"{path}: not a FITS file (it does not start with SIMPLE); "
                "give a FITS file"
            )
        stream.seek(0)
        try:
            return fits.Header.fromfile(stream)
        except (OSError, ValueError) as exc:
            raise DataModelError(
                f"{path}: cannot read the FITS primary header ({exc}); "
                "the file may be truncated"
            ) from None
