"""``RampModel``: a raw up-the-ramp exposure.

Layout: a primary header, ``SCI`` float32 (nints, ngroups, ny, nx),
``PIXELDQ`` uint32 (ny, nx), ``GROUPDQ`` uint8 (nints, ngroups, ny, nx),
optional ``ERR``; any other extension (the ``ASDF`` table of older IRIS
files) is kept and written back byte for byte.
"""

from typing import Any, ClassVar

import numpy as np

from irisdq.datamodels.model import ArraySpec, DataModel

__all__ = ["RampModel"]

_CUBE = "(nints, ngroups, ny, nx)"


class RampModel(DataModel):
    """A raw ramp; opening one reads its headers only.

    Parameters
    ----------
    init : str, os.PathLike or None
        A ramp file to open, or None for a new ramp.
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM of an array read in full do not match.

    Attributes
    ----------
    data : numpy.ndarray
        ``SCI``: a read-only-file, copy-on-write memory map of the stored
        big-endian float32 (nothing is read until used).
    pixeldq : numpy.ndarray or None
        ``PIXELDQ`` as uint32, read in one chunked pass (FITS stores it as
        int32 with BZERO); None when the file has none.
    groupdq : numpy.ndarray or None
        ``GROUPDQ``: a copy-on-write memory map of uint8; None when absent.
    err : numpy.ndarray or None
        ``ERR``, like ``data``; None when absent.

    Notes
    -----
    ``PIXELDQ`` or ``GROUPDQ`` of the wrong shape are opened as they are, so
    that the DQ initialization step can replace them. An array that is
    never read is copied to the output of :meth:`write` byte for byte.
    ``hdu_layout`` gives the byte offsets of every HDU of the input.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> ramp = RampModel()
    >>> ramp.meta.instrument.name, ramp.meta.instrument.detector = "IRIS", "IRIS1"
    >>> ramp.data = np.zeros((1, 4, 10, 10), dtype=np.float32)
    >>> ramp.pixeldq = np.zeros((10, 10), dtype=np.uint32)
    >>> out = ramp.write(pathlib.Path(tempfile.mkdtemp()) / "ramp.fits")
    >>> with RampModel(out) as back:
    ...     back.shape, back.pixeldq.dtype, back.groupdq
    ((1, 4, 10, 10), dtype('uint32'), None)
    """

    model_type: ClassVar[str] = "RampModel"
    arrays = (
        ArraySpec("data", "SCI", np.dtype(np.float32), 4, _CUBE, True),
        ArraySpec("pixeldq", "PIXELDQ", np.dtype(np.uint32), 2, "(ny, nx)", False),
        ArraySpec("groupdq", "GROUPDQ", np.dtype(np.uint8), 4, _CUBE, False),
        ArraySpec("err", "ERR", np.dtype(np.float32), 4, _CUBE, False),
    )

    def _check_extension(self, spec: ArraySpec, hdu) -> None:
        super()._check_extension(spec, hdu)
        from irisdq.errors import DataModelError

        if spec.attr == "data" and len(hdu.shape) != 4:
            raise DataModelError(
                f"{self.path}: SCI has shape {hdu.shape}; a RampModel needs "
                f"4-D float32 {_CUBE}"
            )

    @property
    def data(self) -> np.ndarray | None:
        """``SCI``, float32 (nints, ngroups, ny, nx)."""
        return self._get("data")

    @data.setter
    def data(self, value: Any) -> None:
        self._set("data", value)

    @property
    def pixeldq(self) -> np.ndarray | None:
        """``PIXELDQ``, uint32 (ny, nx), or None."""
        return self._get("pixeldq")

    @pixeldq.setter
    def pixeldq(self, value: Any) -> None:
        self._set("pixeldq", value)

    @property
    def groupdq(self) -> np.ndarray | None:
        """``GROUPDQ``, uint8 (nints, ngroups, ny, nx), or None."""
        return self._get("groupdq")

    @groupdq.setter
    def groupdq(self, value: Any) -> None:
        self._set("groupdq", value)

    @property
    def err(self) -> np.ndarray | None:
        """``ERR``, float32 (nints, ngroups, ny, nx), or None."""
        return self._get("err")

    @err.setter
    def err(self, value: Any) -> None:
        self._set("err", value)

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape of ``SCI`` (nints, ngroups, ny, nx), known without reading it."""
        return self._shape("data")

    def array_shape(self, name: str) -> tuple[int, ...] | None:
        """Return the shape of ``data``, ``pixeldq``, ``groupdq`` or ``err``.

        Read from the header when the array has not been read; None when the
        model has no such array.
        """
        if name not in {spec.attr for spec in self.arrays}:
            raise AttributeError(f"RampModel has no array {name!r}")
        return self._shape(name)
