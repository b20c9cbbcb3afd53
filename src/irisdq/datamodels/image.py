"""Reading a plain FITS image of DQ flags (a user-supplied DQ array)."""

import builtins
import os

import numpy as np

from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.hdu_io import read_image
from irisdq.datamodels.layout import read_hdu_layout
from irisdq.datamodels.mask import MAX_MASK_AXIS
from irisdq.dqflags import flag_values
from irisdq.errors import DataModelError

__all__ = ["read_flag_image"]


def read_flag_image(path: str | os.PathLike) -> np.ndarray:
    """Return the DQ flags of a FITS image as uint32.

    The image is the ``DQ`` extension when there is one, else the first HDU
    with image data (the primary HDU of a plain ``writeto``). Its values may
    be stored as any integer or float type, but must be integers in
    0..2**32-1. It must be 2-D with at most
    :data:`~irisdq.datamodels.mask.MAX_MASK_AXIS` pixels per axis, which is
    checked before anything is read.

    Parameters
    ----------
    path : str or os.PathLike
        The FITS file.

    Returns
    -------
    numpy.ndarray
        uint32 flags.

    Raises
    ------
    DataModelError
        If the path is not a regular file, the file has no image, the image
        is not 2-D or too large, or a value is not a flag value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "user_dq.fits"
    >>> fits.PrimaryHDU(np.array([[0, 1024], [2048, 0]], dtype=np.int16)).writeto(path)
    >>> read_flag_image(path)
    array([[   0, 1024],
           [2048,    0]], dtype=uint32)
    """
    path = os.fspath(path)
    require_regular_file(path, "a user DQ image")
    with builtins.open(path, "rb") as stream:
        layout = read_hdu_layout(stream)
        images = [
            hdu
            for hdu in layout
            if hdu.kind in ("PRIMARY", "IMAGE") and hdu.data_size > 0
        ]
        if not images:
            raise DataModelError(f"{path}: no image data; give a FITS image of flags")
        chosen = next((hdu for hdu in images if hdu.name == "DQ"), images[0])
        where = f"{path} ({chosen.name or 'HDU ' + str(chosen.index)})"
        shape = chosen.shape
        if len(shape) != 2 or max(shape) > MAX_MASK_AXIS:
            # Checked from the header: nothing of a huge image is allocated.
            raise DataModelError(
                f"{where}: shape {shape}; user DQ flags are a 2-D image of at "
                f"most {MAX_MASK_AXIS} pixels per axis, the shape of the cut mask"
            )
        values = np.array(read_image(stream, chosen, source=path))
    return flag_values(values, np.dtype(np.uint32), where)
