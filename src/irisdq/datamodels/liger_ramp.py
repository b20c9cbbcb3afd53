"""``LigerRampModel``: a raw ramp of the Liger/IRIS pipeline (2025).

Layout (``liger_iris_pipeline`` ``RampModel``): a primary header, ``DATA``
uint16 of numpy shape (ny, nx, ngroups, nreads) (FITS ``NAXIS1`` = nreads,
``NAXIS4`` = ny), one ``DQ`` uint16 of the same shape, ``TIMES`` float64
(ngroups, nreads), and an ``ASDF`` extension; any other extension is kept
and written back byte for byte. ``DATAMODL`` is ``RampModel``, as that
pipeline writes it.
"""

from typing import Any, ClassVar

import numpy as np

from irisdq.datamodels.model import ArraySpec, DataModel
from irisdq.errors import DataModelError

__all__ = ["LigerRampModel"]

_CUBE = "(ny, nx, ngroups, nreads)"


class LigerRampModel(DataModel):
    """A Liger/IRIS raw ramp; opening one reads its headers only.

    Parameters
    ----------
    init : str, os.PathLike or None
        A ramp file to open, or None for a new ramp.
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM of an array read in full do not match.

    Attributes
    ----------
    data : numpy.ndarray
        ``DATA``, uint16 (ny, nx, ngroups, nreads): the raw counts.
    dq : numpy.ndarray or None
        ``DQ``, uint16, the shape of ``data``: every read of a pixel carries
        its flags. None when the file has none.
    times : numpy.ndarray or None
        ``TIMES``, float64 (ngroups, nreads): the time of each read.

    Notes
    -----
    A ``DQ`` of another shape, or stored as another integer type no wider
    than 16 bits (the pipeline's test files use int16), opens as it is, so
    that DQ initialization can replace or convert it. An array never read
    is copied to the output of :meth:`write` byte for byte.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> ramp = LigerRampModel()
    >>> ramp.data = np.zeros((8, 6, 3, 2), dtype=np.uint16)
    >>> ramp.times = np.arange(6, dtype=np.float64).reshape(3, 2)
    >>> out = ramp.write(pathlib.Path(tempfile.mkdtemp()) / "ramp.fits")
    >>> with LigerRampModel(out) as back:
    ...     back.shape, back.dq, back.get_fits_keywords()["DATAMODL"]
    ((8, 6, 3, 2), None, 'RampModel')
    """

    model_type: ClassVar[str] = "RampModel"
    arrays = (
        ArraySpec("data", "DATA", np.dtype(np.uint16), 4, _CUBE, True),
        ArraySpec("dq", "DQ", np.dtype(np.uint16), 4, _CUBE, False),
        ArraySpec(
            "times", "TIMES", np.dtype(np.float64), 2, "(ngroups, nreads)", False
        ),
    )

    def _check_extension(self, spec: ArraySpec, hdu) -> None:
        if spec.attr == "data":
            # Counts, not flags: only the shape matters to DQ initialization,
            # which copies DATA through without reading it.
            if hdu.kind != "IMAGE":
                raise DataModelError(
                    f"{self.path}: DATA is a {hdu.kind} extension; it must be an image"
                )
            if len(hdu.shape) != 4:
                raise DataModelError(
                    f"{self.path}: DATA has shape {hdu.shape}; a LigerRampModel "
                    f"needs 4-D uint16 DATA {_CUBE}"
                )
            return
        super()._check_extension(spec, hdu)

    @property
    def data(self) -> np.ndarray | None:
        """``DATA``, uint16 (ny, nx, ngroups, nreads)."""
        return self._get("data")

    @data.setter
    def data(self, value: Any) -> None:
        self._set("data", value)

    @property
    def dq(self) -> np.ndarray | None:
        """``DQ``, uint16 (ny, nx, ngroups, nreads), or None."""
        return self._get("dq")

    @dq.setter
    def dq(self, value: Any) -> None:
        self._set("dq", value)

    @property
    def times(self) -> np.ndarray | None:
        """``TIMES``, float64 (ngroups, nreads), or None."""
        return self._get("times")

    @times.setter
    def times(self, value: Any) -> None:
        self._set("times", value)

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape of ``DATA`` (ny, nx, ngroups, nreads), known without
        reading it."""
        return self._shape("data")

    def array_shape(self, name: str) -> tuple[int, ...] | None:
        """Return the shape of ``data``, ``dq`` or ``times``.

        Read from the header when the array has not been read; None when the
        model has no such array.
        """
        if name not in {spec.attr for spec in self.arrays}:
            raise AttributeError(f"LigerRampModel has no array {name!r}")
        return self._shape(name)
