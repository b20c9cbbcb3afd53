"""Raw ramps of any layout: which extensions hold what, and opening one.

A *ramp layout* (:class:`irisdq.layouts.RampLayout`, a profile's
``ramp``) says where a raw ramp keeps its science array and its DQ arrays:
split into a pixel DQ and a per-group DQ (TMT IRIS and JWST), or one DQ of
the science array's shape (Liger 2025). :func:`open_ramp` opens a ramp of a
given layout, headers only.
"""

import builtins
import dataclasses
import os
from pathlib import Path

import numpy as np

from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.layout import read_hdu_layout
from irisdq.datamodels.liger_ramp import LigerRampModel
from irisdq.datamodels.model import ArraySpec, DataModel, _check_cards
from irisdq.datamodels.ramp import RampModel
from irisdq.errors import DataModelError
from irisdq.layouts import LIGER_RAMP, TMT_RAMP, RampLayout

__all__ = ["LayoutRampModel", "open_ramp"]


def _stored(layout: RampLayout) -> RampLayout:
    """The layout without what only DQ initialization checks (the science
    dtype kinds): two layouts that store alike open as the same model."""
    return dataclasses.replace(layout, science_kinds="")


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
    layout : irisdq.layouts.RampLayout
        The ramp layout.
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM of an array read in full do not match.
    """

    model_type = "RampModel"

    def __init__(
        self,
        init: str | os.PathLike | None = None,
        *,
        layout: RampLayout,
        verify_checksums: bool = True,
    ) -> None:
        self.ramp_arrays = layout
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


def _specs(arrays: RampLayout) -> tuple[ArraySpec, ...]:
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
        specs.append(
            ArraySpec("dq", arrays.dq, np.dtype(arrays.dq_dtype), ndim, cube, False)
        )
    return tuple(specs)


def open_ramp(
    path: str | os.PathLike,
    layout: RampLayout | None,
    *,
    verify_checksums: bool = True,
) -> DataModel:
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
    >>> from irisdq.layouts import RampLayout
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
    arrays = TMT_RAMP if layout is None else layout
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
        if _stored(arrays) == TMT_RAMP:
            return RampModel._from_open_file(Path(path), stream, hdus, verify_checksums)
        if _stored(arrays) == LIGER_RAMP:
            return LigerRampModel._from_open_file(
                Path(path), stream, hdus, verify_checksums
            )
        model = LayoutRampModel(layout=arrays, verify_checksums=verify_checksums)
        model._attach(Path(path), stream, hdus)
        return model
    except BaseException:
        stream.close()
        raise
