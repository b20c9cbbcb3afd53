"""Raw ramps of any layout: which extensions hold what, and opening one.

A *ramp layout* says where a raw ramp keeps its science array and its DQ
arrays. It is given as any object with the attributes of
:class:`irisdq.profiles.RampLayout` (``science``, ``axes``, ``pixel_dq``,
``group_dq``, ``dq``, ``dq_dtype``): this layer reads those attributes and
never imports the profiles. Two kinds exist:

- *split*: a 2-D pixel DQ (uint32, ``(ny, nx)``) and a per-group DQ (uint8,
  the science array's shape), the plane axes ``ny, nx`` last (TMT IRIS and
  JWST: ``PIXELDQ``/``GROUPDQ``; the later Liger: ``DQ``/``DQ_RAW``); the
  per-group DQ may be absent (JWST's guider exposures: ``DQ`` alone);
- *single-DQ*: one DQ array of the science array's shape, of ``dq_dtype``,
  where every reading of a pixel gets its flags (Liger 2025: ``DQ`` uint16,
  ``(ny, nx, ngroups, nreads)``).

:func:`open_ramp` opens a ramp of a given layout, headers only.

Examples
--------
>>> from types import SimpleNamespace
>>> liger = SimpleNamespace(science="DATA", axes=("ny", "nx", "ngroups", "nreads"),
...                         pixel_dq=None, group_dq=None, dq="DQ", dq_dtype="uint16")
>>> arrays = resolve_layout(liger)
>>> arrays.describe(), arrays.planes_first
('DATA (ny, nx, ngroups, nreads), DQ uint16 (ny, nx, ngroups, nreads)', True)
>>> resolve_layout(None).dq_names
('PIXELDQ', 'GROUPDQ')
"""

import builtins
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.layout import read_hdu_layout
from irisdq.datamodels.liger_ramp import LigerRampModel
from irisdq.datamodels.model import ArraySpec, DataModel, _check_cards
from irisdq.datamodels.ramp import RampModel
from irisdq.errors import DataModelError

__all__ = ["LayoutRampModel", "RampArrays", "open_ramp", "resolve_layout"]


class RampArrays(NamedTuple):
    """A ramp layout, checked and resolved (see :func:`resolve_layout`).

    Attributes
    ----------
    science : str
        The science extension.
    axes : tuple of str
        The science array's numpy axes, slowest first.
    pixel_dq, group_dq : str or None
        The split layout's DQ extensions.
    dq : str or None
        The single-DQ layout's DQ extension.
    dq_dtype : numpy.dtype
        The dtype of ``dq`` (uint32 for a split layout).
    """

    science: str
    axes: tuple[str, ...]
    pixel_dq: str | None
    group_dq: str | None
    dq: str | None
    dq_dtype: np.dtype

    @property
    def split(self) -> bool:
        """True for a pixel DQ layout (with or without a per-group DQ)."""
        return self.dq is None

    @property
    def dq_names(self) -> tuple[str, ...]:
        """The DQ extensions, pixel DQ first."""
        return tuple(n for n in (self.pixel_dq, self.group_dq, self.dq) if n)

    @property
    def plane_axes(self) -> tuple[int, int]:
        """The positions of ``ny`` and ``nx`` in :attr:`axes`."""
        return self.axes.index("ny"), self.axes.index("nx")

    @property
    def planes_first(self) -> bool:
        """True when ``ny, nx`` are the first two axes (else the last two)."""
        return self.plane_axes == (0, 1)

    def axes_text(self) -> str:
        """``'(ny, nx, ngroups, nreads)'``."""
        return f"({', '.join(self.axes)})"

    def describe(self) -> str:
        """One line: the science array and the DQ arrays."""
        cube = self.axes_text()
        if self.split:
            pixel = f"{self.science} {cube}, {self.pixel_dq} uint32 (ny, nx)"
            return f"{pixel}, {self.group_dq} uint8 {cube}" if self.group_dq else pixel
        return f"{self.science} {cube}, {self.dq} {self.dq_dtype} {cube}"

    def tree_arrays(self) -> dict[str, str]:
        """ASDF tree attribute -> extension, as the layout's data models
        name them: ``data`` for the science array, each DQ extension's name
        in lower case, and the ``err`` and ``times`` a ramp may carry."""
        names = {"data": self.science}
        names.update((name.lower(), name) for name in self.dq_names)
        names.update(_EXTRA_TREE_ARRAYS)
        return names


# Arrays that DQ initialization passes through but the tree points to.
_EXTRA_TREE_ARRAYS = {"err": "ERR", "times": "TIMES"}

#: The TMT IRIS (and JWST) layout, the default.
TMT_ARRAYS = RampArrays(
    science="SCI",
    axes=("nints", "ngroups", "ny", "nx"),
    pixel_dq="PIXELDQ",
    group_dq="GROUPDQ",
    dq=None,
    dq_dtype=np.dtype(np.uint32),
)

_LIGER_ARRAYS = RampArrays(
    science="DATA",
    axes=("ny", "nx", "ngroups", "nreads"),
    pixel_dq=None,
    group_dq=None,
    dq="DQ",
    dq_dtype=np.dtype(np.uint16),
)


def resolve_layout(layout: Any) -> RampArrays:
    """Check a ramp layout and return it as :class:`RampArrays`.

    Parameters
    ----------
    layout : object or None
        Anything with the attributes of :class:`irisdq.profiles.RampLayout`;
        None is the TMT IRIS layout.

    Raises
    ------
    ValueError
        If the layout cannot describe a ramp: no ``ny``/``nx`` axes next to
        each other, both or neither kind of DQ, a split layout whose planes
        are not its last two axes, a single DQ whose planes are neither
        first nor last, or a DQ dtype that is not an unsigned integer.
    """
    if layout is None:
        return TMT_ARRAYS
    if isinstance(layout, RampArrays):
        return layout
    arrays = RampArrays(
        science=str(layout.science).upper(),
        axes=tuple(layout.axes),
        pixel_dq=_name(layout.pixel_dq),
        group_dq=_name(layout.group_dq),
        dq=_name(layout.dq),
        dq_dtype=np.dtype(layout.dq_dtype if layout.dq else np.uint32),
    )
    what = f"ramp layout {arrays.axes}"
    if "ny" not in arrays.axes or "nx" not in arrays.axes:
        raise ValueError(f"{what}: the axes must include ny and nx")
    y, x = arrays.plane_axes
    if x != y + 1:
        raise ValueError(f"{what}: nx must follow ny")
    if arrays.dq is None:
        # A pixel DQ alone is JWST's guider layout (GuiderRawModel: SCI, DQ).
        if not arrays.pixel_dq:
            raise ValueError(f"{what}: give dq, or pixel_dq (and group_dq)")
        if x != len(arrays.axes) - 1:
            raise ValueError(f"{what}: a split layout keeps ny, nx last")
    else:
        if arrays.pixel_dq or arrays.group_dq:
            raise ValueError(f"{what}: give dq, or pixel_dq and group_dq, not both")
        if arrays.dq_dtype.kind != "u":
            raise ValueError(f"{what}: dq_dtype {arrays.dq_dtype} is not unsigned")
        if y != 0 and x != len(arrays.axes) - 1:
            raise ValueError(f"{what}: ny, nx must be the first or last two axes")
    names = (arrays.science, *arrays.dq_names)
    if len(set(names)) != len(names):
        raise ValueError(f"{what}: an extension name is used twice: {names}")
    return arrays


def _name(value: Any) -> str | None:
    return str(value).upper() if value else None


class LayoutRampModel(DataModel):
    """A raw ramp of a layout with no model of its own; headers only.

    Its arrays are named by their role: ``data`` (the science array, in the
    dtype the file stores), ``pixeldq`` and ``groupdq`` (a split layout) or
    ``dq`` (a single-DQ layout). It exists to read a ramp's keywords and
    shapes; :func:`open_ramp` returns it for layouts other than TMT IRIS and
    Liger 2025.

    Parameters
    ----------
    init : str, os.PathLike or None
        The ramp file.
    layout : object
        The ramp layout (see :func:`resolve_layout`).
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM of an array read in full do not match.
    """

    model_type = "RampModel"

    def __init__(
        self,
        init: str | os.PathLike | None = None,
        *,
        layout: Any,
        verify_checksums: bool = True,
    ) -> None:
        self.ramp_arrays = resolve_layout(layout)
        self.arrays = _specs(self.ramp_arrays)
        super().__init__(init, verify_checksums=verify_checksums)

    def _check_extension(self, spec: ArraySpec, hdu) -> None:
        super()._check_extension(spec, hdu)
        arrays = self.ramp_arrays
        if spec.attr == "data" and len(hdu.shape) != len(arrays.axes):
            raise DataModelError(
                f"{self.path}: {arrays.science} has shape {hdu.shape}; a ramp "
                f"laid out as {arrays.describe()} needs a {len(arrays.axes)}-D "
                f"{arrays.science} {arrays.axes_text()}"
            )

    @property
    def data(self) -> np.ndarray | None:
        """The science array, as the file stores it."""
        return self._get("data")

    @property
    def pixeldq(self) -> np.ndarray | None:
        """The split layout's pixel DQ, uint32 (ny, nx), or None."""
        return self._get("pixeldq")

    @property
    def groupdq(self) -> np.ndarray | None:
        """The split layout's per-group DQ, uint8, or None."""
        return self._get("groupdq")

    @property
    def dq(self) -> np.ndarray | None:
        """The single-DQ layout's DQ array, or None."""
        return self._get("dq")

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The science array's numpy shape, known without reading it."""
        return self._shape("data")


def _specs(arrays: RampArrays) -> tuple[ArraySpec, ...]:
    cube = arrays.axes_text()
    ndim = len(arrays.axes)
    specs = [ArraySpec("data", arrays.science, None, ndim, cube, True)]
    if arrays.split:
        specs.append(
            ArraySpec(
                "pixeldq", arrays.pixel_dq, np.dtype(np.uint32), 2, "(ny, nx)", False
            )
        )
        if arrays.group_dq:
            specs.append(
                ArraySpec(
                    "groupdq", arrays.group_dq, np.dtype(np.uint8), ndim, cube, False
                )
            )
    else:
        specs.append(ArraySpec("dq", arrays.dq, arrays.dq_dtype, ndim, cube, False))
    return tuple(specs)


def open_ramp(
    path: str | os.PathLike, layout: Any, *, verify_checksums: bool = True
) -> DataModel:
    """Open a raw ramp of the given layout, reading its headers only.

    Parameters
    ----------
    path : str or os.PathLike
        The ramp file.
    layout : object or None
        The ramp layout (``profile.ramp``; see :func:`resolve_layout`);
        None is the TMT IRIS layout.
    verify_checksums : bool, optional
        Passed to the model.

    Returns
    -------
    DataModel
        A :class:`RampModel` for the TMT IRIS / JWST layout, a
        :class:`LigerRampModel` for Liger 2025's, else a
        :class:`LayoutRampModel`; each has ``get_fits_keywords()``,
        ``shape`` (the science array's), ``hdu_layout``, and closes as a
        context manager. A DQ array of another shape or a narrower integer
        type opens as it is (DQ initialization replaces or converts it).

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
    >>> from types import SimpleNamespace
    >>> split = SimpleNamespace(science="DATA", axes=("nreads", "ny", "nx"),
    ...                         pixel_dq="DQ", group_dq="DQ_RAW", dq=None,
    ...                         dq_dtype="uint32")
    >>> ramp = LigerRampModel()
    >>> ramp.data = np.zeros((4, 4, 2, 3), dtype=np.uint16)
    >>> out = ramp.write(pathlib.Path(tempfile.mkdtemp()) / "liger.fits")
    >>> open_ramp(out, split)
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: ...: DATA has shape (4, 4, 2, 3); a ramp laid out
    as DATA (nreads, ny, nx), ... needs a 3-D DATA (nreads, ny, nx)
    """
    arrays = resolve_layout(layout)
    require_regular_file(path, "a raw ramp")
    # The model keeps the file open for lazy reads; close() releases it.
    stream = builtins.open(path, "rb", buffering=0)  # noqa: SIM115
    try:
        hdus = read_hdu_layout(stream)
        for hdu in hdus:
            _check_cards(hdu, os.fspath(path))
        science = next((h for h in hdus[1:] if h.name == arrays.science), None)
        if science is None:
            names = ", ".join(h.name for h in hdus[1:] if h.name) or "none"
            raise DataModelError(
                f"{path}: no {arrays.science} extension (extensions: {names}); a "
                f"ramp laid out as {arrays.describe()} needs one"
            )
        if len(science.shape) != len(arrays.axes):
            raise DataModelError(
                f"{path}: {arrays.science} has shape {science.shape}; a ramp laid "
                f"out as {arrays.describe()} needs a {len(arrays.axes)}-D "
                f"{arrays.science} {arrays.axes_text()}"
            )
        if arrays == TMT_ARRAYS:
            return RampModel._from_open_file(Path(path), stream, hdus, verify_checksums)
        if arrays == _LIGER_ARRAYS:
            return LigerRampModel._from_open_file(
                Path(path), stream, hdus, verify_checksums
            )
        model = LayoutRampModel(layout=arrays, verify_checksums=verify_checksums)
        model._attach(Path(path), stream, hdus)
        return model
    except BaseException:
        stream.close()
        raise
