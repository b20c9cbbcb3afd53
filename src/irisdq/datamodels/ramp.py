"""Raw ramps: one model whose arrays come from its ramp layout.

A raw ramp's arrays and their extensions are those of its
:class:`~irisdq.layouts.RampLayout`: the science array (``data``), the DQ
arrays (``pixeldq`` and ``groupdq`` of a split layout, or ``dq``), and the
``err`` or ``times`` the layout names. :class:`LayoutRampModel` reads and
writes a ramp of any layout; two subclasses name the layouts of irisdq's
own files:

- :class:`RampModel`: TMT IRIS (and JWST), :data:`~irisdq.layouts.TMT_RAMP`:
  ``SCI`` float32 (nints, ngroups, ny, nx), ``PIXELDQ`` uint32 (ny, nx),
  ``GROUPDQ`` uint8 (nints, ngroups, ny, nx), optional ``ERR``;
- :class:`LigerRampModel`: Liger/IRIS 2025 (``liger_iris_pipeline``),
  :data:`~irisdq.layouts.LIGER_RAMP`: ``DATA`` uint16 (ny, nx, ngroups,
  nreads), one ``DQ`` uint16 of the same shape, ``TIMES`` float64
  (ngroups, nreads).

Any other extension (the ``ASDF`` table) is kept and written back byte for
byte; ``DATAMODL`` is ``RampModel``, as both pipelines write it.
:func:`open_ramp` opens a ramp of a given layout as the right model.
"""

import builtins
import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.layout import HDULayout, read_hdu_layout
from irisdq.datamodels.model import ArraySpec, DataModel, _check_cards
from irisdq.errors import DataModelError
from irisdq.layouts import LIGER_RAMP, TMT_RAMP, RampLayout

__all__ = ["LayoutRampModel", "LigerRampModel", "RampModel", "array_specs", "open_ramp"]


def array_specs(layout: RampLayout) -> tuple[ArraySpec, ...]:
    """The arrays of a ramp of `layout`, in the order they are written.

    Examples
    --------
    >>> [(spec.attr, spec.extname) for spec in array_specs(LIGER_RAMP)]
    [('data', 'DATA'), ('dq', 'DQ'), ('times', 'TIMES')]
    """
    cube = layout.axes_text()
    ndim = len(layout.axes)
    science = None if layout.science_dtype is None else np.dtype(layout.science_dtype)
    specs = [ArraySpec("data", layout.science, science, ndim, cube, True)]
    if layout.split:
        specs.append(
            ArraySpec(
                "pixeldq", layout.pixel_dq, np.dtype(np.uint32), 2, "(ny, nx)", False
            )
        )
        if layout.group_dq:
            specs.append(
                ArraySpec(
                    "groupdq", layout.group_dq, np.dtype(np.uint8), ndim, cube, False
                )
            )
    else:
        dq = np.dtype(layout.dq_dtype)
        specs.append(ArraySpec("dq", layout.dq, dq, ndim, cube, False))
    if layout.err:
        specs.append(
            ArraySpec("err", layout.err, np.dtype(np.float32), ndim, cube, False)
        )
    if layout.times:
        readings = [axis for axis in layout.axes if axis not in ("ny", "nx")]
        specs.append(
            ArraySpec(
                "times",
                layout.times,
                np.dtype(np.float64),
                len(readings),
                f"({', '.join(readings)})",
                False,
            )
        )
    return tuple(specs)


class LayoutRampModel(DataModel):
    """A raw ramp of a given layout; opening one reads its headers only.

    Its arrays are attributes named by their role: ``data`` (the science
    array), ``pixeldq`` and ``groupdq`` (a split layout) or ``dq`` (a
    single-DQ layout), and ``err`` or ``times`` when the layout has them;
    each is None until set or when the file has none. Assigning one checks
    its number of dimensions and converts it to the layout's dtype.

    Parameters
    ----------
    init : str, os.PathLike or None
        A ramp file to open, or None for a new ramp.
    layout : irisdq.layouts.RampLayout, optional
        The layout (a profile's ``ramp``); a subclass that names its own
        (:class:`RampModel`, :class:`LigerRampModel`) needs none.
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM of an array read in full do not match.

    Attributes
    ----------
    layout : irisdq.layouts.RampLayout
        Where the ramp keeps its arrays.

    Notes
    -----
    A DQ array of another shape, or stored as a narrower integer type,
    opens as it is, so that DQ initialization can replace or convert it.
    Only the science array's number of dimensions is checked: its values
    are counts, which DQ initialization copies through without reading
    them. An array that is never read is copied to the output of
    :meth:`write` byte for byte; ``hdu_layout`` gives the byte offsets of
    every HDU of the input.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from irisdq.layouts import RampLayout
    >>> guider = RampLayout("SCI", ("nints", "ngroups", "ny", "nx"), pixel_dq="DQ")
    >>> ramp = LayoutRampModel(layout=guider)
    >>> ramp.data = np.zeros((1, 2, 3, 3), dtype=np.float32)
    >>> ramp.pixeldq = np.ones((3, 3), dtype=np.uint32)
    >>> out = ramp.write(pathlib.Path(tempfile.mkdtemp()) / "guider.fits")
    >>> with LayoutRampModel(out, layout=guider) as back:
    ...     back.shape, int(back.pixeldq.sum()), back.array_shape("pixeldq")
    ((1, 2, 3, 3), 9, (3, 3))
    """

    model_type: ClassVar[str] = "RampModel"
    #: The layout a subclass names; an instance may be given its own.
    layout: RampLayout | None = None
    _array_attrs: frozenset[str] = frozenset()

    def __init_subclass__(cls, **options: Any) -> None:
        super().__init_subclass__(**options)
        if cls.__dict__.get("layout") is not None:
            cls.arrays = array_specs(cls.layout)
            cls._array_attrs = frozenset(spec.attr for spec in cls.arrays)

    def __init__(
        self,
        init: str | os.PathLike | None = None,
        *,
        layout: RampLayout | None = None,
        verify_checksums: bool = True,
    ) -> None:
        if layout is not None and layout != type(self).layout:
            self.layout = layout
            self.arrays = array_specs(layout)
            self._array_attrs = frozenset(spec.attr for spec in self.arrays)
        elif self.layout is None:
            raise TypeError(
                f"{type(self).__name__}() needs a layout: give layout= (a "
                "profile's ramp, an irisdq.layouts.RampLayout)"
            )
        super().__init__(init, verify_checksums=verify_checksums)

    # The arrays of the layout, as attributes.

    def __getattr__(self, name: str) -> Any:
        # Called only when the usual lookup fails: the layout's arrays.
        if not name.startswith("_") and name in self._array_attrs:
            return self._get(name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._array_attrs:
            self._set(name, value)
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._array_attrs})

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The science array's numpy shape, known without reading it."""
        return self._shape("data")

    def array_shape(self, name: str) -> tuple[int, ...] | None:
        """Return the shape of one of the layout's arrays (``data``,
        ``pixeldq``, ``dq``...).

        Read from the header when the array has not been read; None when the
        model has no such array.
        """
        if name not in self._array_attrs:
            raise AttributeError(f"{type(self).__name__} has no array {name!r}")
        return self._shape(name)

    def _check_extension(self, spec: ArraySpec, hdu: HDULayout) -> None:
        if spec.attr != "data":
            super()._check_extension(spec, hdu)
            return
        # Counts, not flags: any numeric image, of the layout's dimensions.
        super()._check_extension(spec._replace(dtype=None), hdu)
        if len(hdu.shape) != len(self.layout.axes):
            raise DataModelError(
                f"{self.path}: {spec.extname} has shape {hdu.shape}; "
                f"{_needs(type(self), self.layout)}"
            )


def _needs(cls: type, layout: RampLayout) -> str:
    """What a ramp's science array must be: ``'a RampModel needs 4-D float32
    SCI (nints, ngroups, ny, nx)'``; a layout no class names is spelt out."""
    ndim = f"{len(layout.axes)}-D"
    if cls.layout == layout:
        dtype = f"{layout.science_dtype} " if layout.science_dtype else ""
        return (
            f"a {cls.__name__} needs {ndim} {dtype}{layout.science} "
            f"{layout.axes_text()}"
        )
    return (
        f"a ramp laid out as {layout.describe()} needs a {ndim} "
        f"{layout.science} {layout.axes_text()}"
    )


class RampModel(LayoutRampModel):
    """A raw ramp of TMT IRIS (and JWST); opening one reads its headers only.

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

    layout = TMT_RAMP


class LigerRampModel(LayoutRampModel):
    """A Liger/IRIS raw ramp (2025); opening one reads its headers only.

    Parameters
    ----------
    init : str, os.PathLike or None
        A ramp file to open, or None for a new ramp.
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM of an array read in full do not match.

    Attributes
    ----------
    data : numpy.ndarray
        ``DATA``, uint16 (ny, nx, ngroups, nreads): the raw counts (FITS
        ``NAXIS1`` = nreads, ``NAXIS4`` = ny).
    dq : numpy.ndarray or None
        ``DQ``, uint16, the shape of ``data``: every read of a pixel carries
        its flags. None when the file has none.
    times : numpy.ndarray or None
        ``TIMES``, float64 (ngroups, nreads): the time of each read.

    Notes
    -----
    A ``DQ`` of another shape, or stored as another integer type no wider
    than 16 bits (the pipeline's test files use int16), opens as it is, so
    that DQ initialization can replace or convert it.

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

    layout = LIGER_RAMP


# The models named after a layout, by what they store (whatever science
# dtype kinds DQ initialization accepts).
_NAMED = {TMT_RAMP: RampModel, LIGER_RAMP: LigerRampModel}


def _model_class(layout: RampLayout) -> type[LayoutRampModel]:
    return _NAMED.get(dataclasses.replace(layout, science_kinds=""), LayoutRampModel)


def open_ramp(
    path: str | os.PathLike,
    layout: RampLayout | None,
    *,
    verify_checksums: bool = True,
) -> LayoutRampModel:
    """Open a raw ramp of the given layout, reading its headers only.

    Parameters
    ----------
    path : str or os.PathLike
        The ramp file.
    layout : irisdq.layouts.RampLayout or None
        The ramp layout (``profile.ramp``); None is the TMT IRIS layout.
    verify_checksums : bool, optional
        Passed to the model.

    Returns
    -------
    LayoutRampModel
        A :class:`RampModel` for the TMT IRIS / JWST layout, a
        :class:`LigerRampModel` for Liger 2025's, else a
        :class:`LayoutRampModel` of `layout`; each has
        ``get_fits_keywords()``, ``shape`` (the science array's),
        ``hdu_layout``, and closes as a context manager. A DQ array of
        another shape or a narrower integer type opens as it is (DQ
        initialization replaces or converts it).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataModelError
        If the file is not FITS, lacks the science extension or has it with
        the wrong number of dimensions (the message names the extension and
        the layout), or holds a DQ array that is not integer or is wider
        than the layout's.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> split = RampLayout("DATA", ("nreads", "ny", "nx"), pixel_dq="DQ",
    ...                    group_dq="DQ_RAW")
    >>> ramp = LigerRampModel()
    >>> ramp.data = np.zeros((4, 4, 2, 3), dtype=np.uint16)
    >>> out = ramp.write(pathlib.Path(tempfile.mkdtemp()) / "liger.fits")
    >>> open_ramp(out, split)
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: ...: DATA has shape (4, 4, 2, 3); a ramp laid out
    as DATA (nreads, ny, nx), ... needs a 3-D DATA (nreads, ny, nx)
    """
    layout = TMT_RAMP if layout is None else layout
    require_regular_file(path, "a raw ramp")
    # The model keeps the file open for lazy reads; close() releases it.
    stream = builtins.open(path, "rb", buffering=0)  # noqa: SIM115
    try:
        hdus = read_hdu_layout(stream)
        for hdu in hdus:
            _check_cards(hdu, os.fspath(path))
        science = next((h for h in hdus[1:] if h.name == layout.science), None)
        if science is None:
            names = ", ".join(h.name for h in hdus[1:] if h.name) or "none"
            raise DataModelError(
                f"{path}: no {layout.science} extension (extensions: {names}); a "
                f"ramp laid out as {layout.describe()} needs one"
            )
        if len(science.shape) != len(layout.axes):
            raise DataModelError(
                f"{path}: {layout.science} has shape {science.shape}; "
                f"{_needs(LayoutRampModel, layout)}"
            )
        cls = _model_class(layout)
        options = {} if cls is not LayoutRampModel else {"layout": layout}
        model = cls(verify_checksums=verify_checksums, **options)
        model._attach(Path(path), stream, hdus)
        return model
    except BaseException:
        stream.close()
        raise
