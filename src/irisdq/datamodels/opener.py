"""``open(path)``: the right data model for a FITS file."""

import builtins
import os
from pathlib import Path

from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.layout import HDULayout, read_hdu_layout
from irisdq.datamodels.mask import TMTMaskModel
from irisdq.datamodels.model import DataModel, _check_cards
from irisdq.datamodels.ramp import LigerRampModel, RampModel
from irisdq.errors import DataModelError

__all__ = ["MODEL_TYPES", "open"]

# DATAMODL values and the class that reads them; older IRIS tools wrote
# TMTRampModel, jwst masks say MaskModel and Liger/IRIS masks DQModel.
MODEL_TYPES: dict[str, type[DataModel]] = {
    "RampModel": RampModel,
    "TMTRampModel": RampModel,
    "TMTMaskModel": TMTMaskModel,
    "MaskModel": TMTMaskModel,
    "DQModel": TMTMaskModel,
}


def open(
    path: str | os.PathLike | DataModel,
    *,
    verify_checksums: bool = True,
    accept_bad_checksums: bool | None = None,
) -> DataModel:
    """Open a FITS file as the data model it holds, reading headers only.

    The class comes from ``DATAMODL`` (see :data:`MODEL_TYPES`); without
    it, from the extensions: ``SCI`` makes a :class:`RampModel`, ``DATA``
    without ``SCI`` a :class:`LigerRampModel` (also when ``DATAMODL`` is
    ``RampModel``, as the Liger/IRIS pipeline writes it), ``DQ`` without
    either a :class:`TMTMaskModel`.

    Parameters
    ----------
    path : str, os.PathLike or DataModel
        The file (a model is returned as it is).
    verify_checksums : bool, optional
        Passed to the model.
    accept_bad_checksums : bool, optional
        Passed to a :class:`TMTMaskModel`, whose bad checksums are errors
        unless accepted (see there).

    Raises
    ------
    TypeError
        If `path` is neither a file name nor an irisdq model.
    FileNotFoundError
        If the file does not exist.
    DataModelError
        If the path is not a regular file (a FIFO, a folder), or the file is
        not FITS, is truncated, has a card astropy cannot parse, or is
        neither model.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from irisdq import datamodels
    >>> mask = datamodels.TMTMaskModel()
    >>> mask.meta.detector = "IRIS1"
    >>> mask.dq = np.zeros((4096, 4096), dtype=np.uint32)
    >>> out = mask.write(pathlib.Path(tempfile.mkdtemp()) / "m.fits")
    >>> with datamodels.open(out) as model:
    ...     type(model).__name__
    'TMTMaskModel'
    """
    if isinstance(path, DataModel):
        return path
    if not isinstance(path, str | os.PathLike):
        # An int would be taken for a file descriptor.
        raise TypeError(
            f"open() takes a FITS file name or an irisdq data model, not "
            f"{type(path).__name__} {path!r}"
        )
    require_regular_file(path, "a FITS input")
    # The model keeps the file open for lazy reads; close() releases it.
    stream = builtins.open(path, "rb", buffering=0)  # noqa: SIM115
    try:
        layout = read_hdu_layout(stream)
        for hdu in layout:
            _check_cards(hdu, os.fspath(path))
        cls = _model_class(layout, os.fspath(path))
        options = {}
        if issubclass(cls, TMTMaskModel) and accept_bad_checksums is not None:
            options["accept_bad_checksums"] = accept_bad_checksums
        return cls._from_open_file(
            Path(path), stream, layout, verify_checksums, **options
        )
    except BaseException:
        stream.close()
        raise


def _model_class(layout: list[HDULayout], source: str) -> type[DataModel]:
    declared = str(layout[0].header.get("DATAMODL", "")).strip()
    names = {hdu.name for hdu in layout[1:]}
    liger = "DATA" in names and "SCI" not in names
    if declared in MODEL_TYPES:
        cls = MODEL_TYPES[declared]
        # Both pipelines call their ramp RampModel; the extensions tell.
        return LigerRampModel if cls is RampModel and liger else cls
    if "SCI" in names:
        return RampModel
    if liger:
        return LigerRampModel
    if "DQ" in names:
        return TMTMaskModel
    said = f"DATAMODL = {declared!r}" if declared else "no DATAMODL"
    raise DataModelError(
        f"{source}: neither a ramp nor a mask ({said}, and no SCI, DATA or DQ "
        f"extension among {sorted(names) or 'no extensions'}); irisdq reads "
        f"{', '.join(sorted(MODEL_TYPES))} files"
    )
