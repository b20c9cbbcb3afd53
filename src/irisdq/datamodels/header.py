"""Reading a FITS primary header without touching the data; header text."""

import os

from irisdq.errors import DataModelError

__all__ = ["header_text", "read_keywords", "read_primary_header"]


def header_text(value: str) -> str:
    """Return ``value`` as a FITS header string can hold it.

    FITS header strings are printable ASCII. Any other character (a
    non-ASCII letter of a path, a control character) is written as its
    Python escape, so the value is recorded faithfully instead of failing.

    Examples
    --------
    >>> header_text("masks/tmt_iris_mask_0001.fits")
    'masks/tmt_iris_mask_0001.fits'
    >>> print(header_text("masques/défauts.fits"))
    masques/d\\xe9fauts.fits
    """
    return "".join(
        char if " " <= char <= "~" else char.encode("unicode_escape").decode("ascii")
        for char in value
    )


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


_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})


def read_keywords(path: str | os.PathLike) -> dict:
    """Return the keywords of a FITS file's primary header as a plain dict.

    This is how a file's dataset values reach :mod:`irisdq.crds`, which
    takes keywords, not files. Commentary cards are left out.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataModelError
        If it is not a regular file, not FITS, or a card is not valid FITS.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from astropy.io import fits
    >>> path = Path(tempfile.mkdtemp()) / "raw.fits"
    >>> fits.PrimaryHDU(header=fits.Header([("DETECTOR", "IRIS1")])).writeto(path)
    >>> read_keywords(path)["DETECTOR"]
    'IRIS1'
    """
    from astropy.io.fits.verify import VerifyError

    from irisdq.datamodels.files import require_regular_file

    require_regular_file(path, "a dataset for best-reference selection")
    header = read_primary_header(path)
    try:
        return {
            keyword: value
            for keyword, value in header.items()
            if keyword not in _COMMENTARY
        }
    except (VerifyError, ValueError) as exc:
        # astropy parses a card's value on first use.
        raise DataModelError(
            f"{os.fspath(path)}: a primary header card is not valid FITS "
            f"({' '.join(str(exc).split())}); rewrite that card"
        ) from None
