"""What stpipe asks of a data model, which every irisdq model has.

stpipe recognises a model by ``crds_observatory``, ``get_crds_parameters``
and ``save``, records an override by its ``override_handle``, and names
outputs from ``meta.filename``. :class:`StpipeModelMixin` gives them to
:class:`~irisdq.datamodels.DataModel`, so that irisdq's models are stpipe's
as they are: none of it imports stpipe.
"""

import os
import shutil
import weakref
from pathlib import Path
from typing import Any

from irisdq.datamodels.layout import HDULayout

__all__ = ["StpipeModelMixin"]


def _model_state(model) -> tuple:
    """What :meth:`StpipeModelMixin.save` compares to know a model unchanged
    since it was read: metadata, extra keywords, and no array in memory."""
    in_memory = tuple(
        sorted(
            attr
            for attr, entry in model._arrays.items()
            if not isinstance(entry, HDULayout)
        )
    )
    return model.meta.to_dict(), model.extra_keywords.tostring(), in_memory


def _names_open_file(path: Path, stream) -> bool:
    """Whether `path` is the file `stream` has open."""
    from irisdq.files import file_identity

    try:
        held = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return file_identity(path) == ("file", held.st_dev, held.st_ino)


class StpipeModelMixin:
    """What stpipe asks of a data model; a base of every irisdq model.

    ``crds_observatory`` and ``get_crds_parameters`` are the dataset's
    profile's, as :func:`irisdq.exposure.resolve` gives them (``ligeriri``
    for a Liger ramp, whatever ``TELESCOP`` says). A model read from a file
    has ``meta.filename`` set to the file's name. ``save`` of a model that
    is still the file it was read from, unchanged, writes nothing when asked
    to save to that file; otherwise it writes through
    :meth:`~irisdq.datamodels.DataModel.write` (unread arrays copied byte
    for byte). An existing file is replaced only with ``overwrite=True`` (or
    :attr:`overwrite` set on the model), except the output a step wrote for
    this model, which its changes update.

    Examples
    --------
    >>> from irisdq.datamodels import LigerRampModel, RampModel
    >>> ramp = RampModel()
    >>> ramp.meta.instrument.detector = "IRIS1"
    >>> ramp.crds_observatory, ramp.get_crds_parameters()["meta.instrument.detector"]
    ('tmt', 'IRIS1')
    >>> liger = LigerRampModel()
    >>> liger.extra_keywords["EXPDTST"] = "20250314093000"
    >>> liger.crds_observatory, liger.get_crds_parameters()["meta.date"]
    ('ligeriri', '2025-03-14 09:30:00')
    """

    #: Whether :meth:`save` replaces an existing file when not told.
    overwrite: bool = False

    # The model's state as read from its file (None: not read from one, so
    # never "unchanged"); the scratch folder of a step's unsaved output,
    # deleted on close; whether a step wrote the model's file for it.
    _read_state: tuple | None = None
    _scratch: Path | None = None
    _step_output: bool = False

    def _opened(self) -> None:
        """Note the model as its file has just been read."""
        self.meta.filename = self.path.name
        self._read_state = _model_state(self)

    @property
    def crds_observatory(self) -> str:
        """The CRDS observatory of the model's profile (``'tmt'``,
        ``'ligeriri'``, ``'jwst'``)."""
        from irisdq.exposure import resolve

        return resolve(self).profile.observatory

    def get_crds_parameters(self) -> dict[str, Any]:
        """The dataset parameters CRDS matches, as ``meta.*`` names.

        Returns
        -------
        dict
            Lower-case dotted names (``'meta.instrument.detector'``), as
            stdatamodels gives them: the header's values, then the ASDF
            tree's where the header is silent.
        """
        from irisdq.exposure import resolve

        parameters = resolve(self).parameters
        return {
            name.lower(): value for name, value in parameters.items() if "." in name
        }

    @property
    def override_handle(self) -> str:
        """How stpipe records this model when it overrides a reference file."""
        return str(self.path) if self.path is not None else f"<{type(self).__name__}>"

    def tree_parameters(self) -> dict[str, Any]:
        """The scalar values of the ``meta`` tree of the ASDF extension of
        the file the model was read from, as CRDS parameters
        (``META.INSTRUMENT.DETECTOR``; see
        :func:`irisdq.datamodels.asdf_meta.meta_parameters`).

        Read from the file the model holds open (or the bytes an unpickled
        model carries), whatever its path names now; once the model is
        closed, from the file at its path, if any. Empty for a new model.
        """
        from irisdq.datamodels.asdf_meta import (
            read_meta_parameters,
            stream_meta_parameters,
        )

        if self._stream is not None and not self._stream.closed:
            with self._io_lock:
                return stream_meta_parameters(
                    self._stream, self._extra_hdus, str(self.path)
                )
        if self.path is not None and self.path.is_file():
            return read_meta_parameters(self.path)
        return {}

    def is_unchanged_file(self) -> bool:
        """Whether the model is still exactly the file it was read from,
        and its path still names that file (not another put in its place)."""
        return (
            self._read_state is not None
            and self._stream is not None
            and not self._stream.closed
            and _model_state(self) == self._read_state
            and _names_open_file(self.path, self._stream)
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

    def _own_scratch(self, folder: Path) -> None:
        """Delete `folder` (a step's unsaved output) when the model closes."""
        self._scratch = folder
        # Removed when the model goes, if close() never came.
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)

    def _drop_scratch(self) -> None:
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
