"""Reading rows of image planes from a FITS file, a few rows at a time.

Calibration inputs (flat fields, darks) are large: ten 4096 x 4096 frames
of float32 are 640 MiB, and a ramp is several GiB. Algorithms that combine
them pixel by pixel only need the same few rows of every frame at once.
:class:`ImagePlanes` reads any rows of any plane of an image HDU, in any
FITS encoding (big-endian floats, BZERO-offset unsigned integers, BSCALE
scaling), as native float32, with one ``pread`` per call and no full-size
buffer.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from astropy.io import fits
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cube.fits"
>>> cube = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
>>> fits.PrimaryHDU(cube).writeto(path)
>>> with ImagePlanes(path) as planes:
...     planes.leading_shape, planes.shape, planes.read((1,), 1, 3)
((2,), (3, 4), array([[16., 17., 18., 19.],
       [20., 21., 22., 23.]], dtype=float32))
"""

import builtins
import math
import os
from pathlib import Path

import numpy as np

from irisdq.datamodels.hdu_io import image_encoding
from irisdq.datamodels.layout import HDULayout, read_hdu_layout
from irisdq.errors import DataModelError

__all__ = ["ImagePlanes"]


class ImagePlanes:
    """The planes of a FITS image, read row range by row range.

    The image is the ``SCI`` extension when there is one, else the first
    HDU with image data (the primary array of a plain ``writeto``). Its last
    two axes are (ny, nx); the axes before them index the planes (none for a
    2-D image, ``(nints,)`` for a 3-D cube, ``(nints, ngroups)`` for a ramp).

    Parameters
    ----------
    path : str or os.PathLike
        The FITS file. It is opened for reading and kept open until
        :meth:`close`.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    extname : str
        The name of the HDU read (``'SCI'``, ``'PRIMARY'``, ...).
    shape : tuple of int
        (ny, nx).
    leading_shape : tuple of int
        The shape of the axes before (ny, nx).
    primary_header : astropy.io.fits.Header
        The primary header (``TGROUP``, ``DETECTOR``, ...).

    Raises
    ------
    DataModelError
        If the file is not FITS, has no image data, or its image has fewer
        than 2 or more than 4 axes.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        # Kept open for the reads to come; close() releases it.
        self._stream = builtins.open(self.path, "rb", buffering=0)  # noqa: SIM115
        try:
            layout = read_hdu_layout(self._stream)
            self._hdu = _choose_image(layout, self.path)
            self._encoding = image_encoding(self._hdu.header)
        except BaseException:
            self._stream.close()
            raise
        self.primary_header = layout[0].header
        self.extname = self._hdu.name or f"HDU {self._hdu.index}"
        full = self._hdu.shape
        if not 2 <= len(full) <= 4:
            self._stream.close()
            raise DataModelError(
                f"{self.path}: {self.extname} has shape {full}; give a 2-D "
                "image (ny, nx), a 3-D cube (nints, ny, nx) or a 4-D ramp "
                "(nints, ngroups, ny, nx)"
            )
        self.shape: tuple[int, int] = (int(full[-2]), int(full[-1]))
        self.leading_shape: tuple[int, ...] = tuple(int(n) for n in full[:-2])

    def read(self, plane: tuple[int, ...], start: int, stop: int) -> np.ndarray:
        """Return rows ``start:stop`` of one plane as native float32.

        Parameters
        ----------
        plane : tuple of int
            The index of the plane along the leading axes (``()`` for a 2-D
            image).
        start, stop : int
            The rows, as in a slice (0 <= start <= stop <= ny).

        Returns
        -------
        numpy.ndarray
            float32 (stop - start, nx), a new array.
        """
        ny, nx = self.shape
        inside = len(plane) == len(self.leading_shape) and all(
            0 <= index < length
            for index, length in zip(plane, self.leading_shape, strict=True)
        )
        if not inside or not 0 <= start <= stop <= ny:
            raise IndexError(
                f"{self.path}: no rows {start}:{stop} of plane {plane} in an "
                f"image of planes {self.leading_shape} and shape {self.shape}"
            )
        flat_plane = (
            int(np.ravel_multi_index(plane, self.leading_shape)) if plane else 0
        )
        stored = self._encoding.stored
        offset = self._hdu.data_offset + stored.itemsize * (
            flat_plane * ny * nx + start * nx
        )
        count = (stop - start) * nx
        raw = os.pread(self._stream.fileno(), count * stored.itemsize, offset)
        if len(raw) != count * stored.itemsize:
            raise DataModelError(
                f"{self.path}: ends in the middle of {self.extname}; the file "
                "is truncated"
            )
        values = np.frombuffer(raw, dtype=stored).reshape(stop - start, nx)
        encoding = self._encoding
        if encoding.flip:
            # Flip the offset bit in an unsigned view of the stored words,
            # then read them as the values (uint32 from int32 + BZERO).
            bits = values.astype(stored.newbyteorder("=")).view(f"u{stored.itemsize}")
            bits ^= bits.dtype.type(encoding.flip)
            return bits.view(encoding.values).astype(np.float32)
        if encoding.scaled:
            return (values * encoding.bscale + encoding.bzero).astype(np.float32)
        return values.astype(np.float32)

    @property
    def nbytes(self) -> int:
        """The bytes of image data in the file."""
        return self._hdu.data_size

    def close(self) -> None:
        """Close the file."""
        self._stream.close()

    def __enter__(self) -> "ImagePlanes":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<ImagePlanes {self.path} {self.extname}: planes "
            f"{self.leading_shape} of {self.shape}>"
        )


def _choose_image(layout: list[HDULayout], path: Path) -> HDULayout:
    images = [
        hdu for hdu in layout if hdu.kind in ("PRIMARY", "IMAGE") and hdu.data_size > 0
    ]
    if not images:
        raise DataModelError(
            f"{path}: no image data; give a FITS image (a SCI extension or a "
            "primary array)"
        )
    chosen = next((hdu for hdu in images if hdu.name == "SCI"), images[0])
    if math.prod(chosen.shape) == 0:
        raise DataModelError(f"{path}: {chosen.name} is empty")
    return chosen
