"""irisdq's lazy models with what stpipe expects of a model.

:class:`RampModel`, :class:`LigerRampModel` and :class:`TMTMaskModel` are
irisdq's models (:mod:`irisdq.datamodels`) with ``crds_observatory``,
``get_crds_parameters``, ``save`` and ``meta.filename``, which stpipe asks
of the models a step takes and returns; :func:`open_model` opens a file (or
adopts an irisdq model) as one of them.
"""

import os
import shutil
import weakref
from pathlib import Path
from typing import Any

from irisdq import crds, profiles
from irisdq import datamodels as _datamodels
from irisdq.exposure import resolve

__all__ = [
    "LigerRampModel",
    "RampModel",
    "StpipeModelMixin",
    "TMTMaskModel",
    "open_model",
]


def _model_state(model) -> tuple:
    """What :meth:`StpipeModelMixin.save` compares to know a model unchanged
    since it was read: metadata, extra keywords, and no array in memory."""
    in_memory = tuple(
        sorted(
            attr
            for attr, entry in model._arrays.items()
            if not isinstance(entry, _datamodels.HDULayout)
        )
    )
    return model.meta.to_dict(), model.extra_keywords.tostring(), in_memory


class StpipeModelMixin:
    """What stpipe asks of a data model, added to an irisdq model.

    stpipe recognises a model by ``crds_observatory``,
    ``get_crds_parameters`` and ``save``, and names outputs from
    ``meta.filename``. ``save`` of a model that is still the file it was
    read from, unchanged, writes nothing when asked to save to that file;
    otherwise it writes through :meth:`~irisdq.datamodels.DataModel.write`
    (unread arrays copied byte for byte). An existing file is replaced only
    with ``overwrite=True`` (or :attr:`overwrite` set on the model), except
    the output a step wrote for this model, which its changes update.
    """

    #: Whether :meth:`save` replaces an existing file when not told.
    overwrite: bool = False

    def __init__(self, init: Any = None, **kwargs: Any) -> None:
        super().__init__(init, **kwargs)
        self._adapted(read_from_file=init is not None)

    @classmethod
    def adopt(cls, model, *, read_from_file: bool = False):
        """Make an irisdq model of the matching class an instance of ``cls``.

        Parameters
        ----------
        model : irisdq.datamodels.DataModel
            A model of ``cls``'s irisdq base class (or a ``cls``); it is
            changed in place.
        read_from_file : bool, optional
            Whether the model is its file as just opened: only such a model
            is saved, or processed, through its file while unchanged.

        Returns
        -------
        the same model, now a ``cls``
        """
        base = cls.__bases__[-1]
        if type(model) not in (base, cls):
            raise TypeError(f"{cls.__name__} adopts a {base.__name__}, not {model!r}")
        # The adapter adds methods only, so the object's state fits as it is.
        model.__class__ = cls
        model._adapted(read_from_file)
        return model

    def _adapted(self, read_from_file: bool) -> None:
        self._scratch: Path | None = None
        self._step_output = False
        if self.path is not None:
            self.meta.filename = self.path.name
        self._read_state = _model_state(self) if read_from_file else None

    @property
    def crds_observatory(self) -> str:
        """The CRDS observatory, from ``TELESCOP`` (``'tmt'``)."""
        return str(self.meta.telescope or "TMT").strip().lower()

    def get_crds_parameters(self) -> dict[str, Any]:
        """The dataset parameters CRDS matches, as ``meta.*`` names.

        Returns
        -------
        dict
            Lower-case dotted names (``'meta.instrument.detector'``), as
            stdatamodels gives them.
        """
        parameters = crds.dataset_parameters(self)
        return {
            name.lower(): value for name, value in parameters.items() if "." in name
        }

    @property
    def override_handle(self) -> str:
        """How stpipe records this model when it overrides a reference file."""
        return str(self.path) if self.path is not None else f"<{type(self).__name__}>"

    def is_unchanged_file(self) -> bool:
        """Whether the model is still exactly the file it was read from."""
        return (
            self._read_state is not None
            and self._stream is not None
            and not self._stream.closed
            and _model_state(self) == self._read_state
        )

    def save(
        self,
        path: str | os.PathLike | Any,
        dir_path: str | os.PathLike | None = None,
        *args: Any,
        overwrite: bool | None = None,
        **kwargs: Any,
    ) -> str:
        """Save the model to a FITS file, as stpipe saves results.

        Parameters
        ----------
        path : str, os.PathLike or callable
            The file; a callable gets ``meta.filename`` and returns it.
        dir_path : str or os.PathLike, optional
            A folder that replaces the folder of ``path``.
        overwrite : bool, optional
            Replace an existing file (default: :attr:`overwrite`).

        Returns
        -------
        str
            The file written (or already there).
        """
        if callable(path):
            path = path(self.meta.filename)
        target = Path(path)
        if dir_path is not None:
            target = Path(dir_path) / target.name
        itself = (
            self.path is not None
            and target.exists()
            and os.path.samefile(target, self.path)
        )
        if itself and self.is_unchanged_file():
            return str(target)
        if itself and self._step_output:
            # The file the step wrote for this very model: saving the model
            # after a change (finalize_result, a hook) updates it.
            overwrite = True
        elif overwrite is None:
            overwrite = self.overwrite
        self.write(target, overwrite=overwrite)
        return str(target)

    def close(self) -> None:
        """Close the file; a scratch output nobody saved is deleted."""
        super().close()
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def _own_scratch(self, folder: Path) -> None:
        self._scratch = folder
        # Removed when the model goes, if close() never came.
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)


class RampModel(StpipeModelMixin, _datamodels.RampModel):
    """:class:`irisdq.datamodels.RampModel` as stpipe expects a model.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = RampModel()
    >>> ramp.meta.instrument.detector = "IRIS1"
    >>> ramp.crds_observatory, ramp.get_crds_parameters()["meta.instrument.detector"]
    ('tmt', 'IRIS1')
    """


class LigerRampModel(StpipeModelMixin, _datamodels.LigerRampModel):
    """:class:`irisdq.datamodels.LigerRampModel` as stpipe expects a model.

    Its CRDS observatory is ``ligeriri`` and its CRDS parameters are those
    of the ``liger`` profile (``META.DATE`` from ``EXPDTST``...), whatever
    ``TELESCOP`` says (``Keck-I`` for Liger, ``TMT`` for IRIS).

    Examples
    --------
    >>> ramp = LigerRampModel()
    >>> ramp.meta.instrument.detector = "IMG1"
    >>> ramp.extra_keywords["EXPDTST"] = "20250314093000"
    >>> parameters = ramp.get_crds_parameters()
    >>> ramp.crds_observatory, parameters["meta.date"]
    ('ligeriri', '2025-03-14 09:30:00')
    """

    @property
    def crds_observatory(self) -> str:
        """The CRDS observatory of the Liger/IRIS pipeline: ``'ligeriri'``."""
        return _LIGER.observatory

    def get_crds_parameters(self) -> dict[str, Any]:
        """The dataset parameters a ``ligeriri`` context matches, as
        ``meta.*`` names: the header's, then the ASDF tree's where the
        header is silent.

        Returns
        -------
        dict
            Lower-case dotted names (``'meta.instrument.detector'``).
        """
        return {
            name.lower(): value
            for name, value in _liger_parameters(self).items()
            if "." in name
        }


class TMTMaskModel(StpipeModelMixin, _datamodels.TMTMaskModel):
    """:class:`irisdq.datamodels.TMTMaskModel` as stpipe expects a model
    (for ``override_mask`` given a model in Python)."""


_ADAPTERS = {
    _datamodels.RampModel: RampModel,
    _datamodels.LigerRampModel: LigerRampModel,
    _datamodels.TMTMaskModel: TMTMaskModel,
}

_LIGER = profiles.get_profile("liger")


def _liger_parameters(model) -> dict[str, Any]:
    """The ``liger`` profile's CRDS parameters of a Liger ramp model."""
    return resolve(model, _LIGER).parameters


def open_model(init: Any) -> StpipeModelMixin:
    """Open a FITS file (or adopt an irisdq model) as a stpipe-ready model.

    Parameters
    ----------
    init : str, os.PathLike or irisdq.datamodels.DataModel
        A ramp or mask file (headers only are read), or a model.

    Returns
    -------
    RampModel, LigerRampModel or TMTMaskModel
    """
    if isinstance(init, StpipeModelMixin):
        return init
    opened = isinstance(init, str | os.PathLike)
    model = _datamodels.open(init) if opened else init
    for base, adapter in _ADAPTERS.items():
        if type(model) is base:
            return adapter.adopt(model, read_from_file=opened)
    raise TypeError(f"cannot open {init!r} as an irisdq data model")
