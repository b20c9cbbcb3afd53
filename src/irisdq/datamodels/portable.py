"""Copying and pickling a data model: what ``copy``, ``copy.deepcopy`` and
``pickle`` (Dask, multiprocessing) do with one.

A model read from a file holds an open file and, for arrays not read yet and
extensions it does not know, byte ranges of that file. Neither travels by
itself: :class:`PortableModelMixin` says what each copy gets.

- ``copy.copy(model)``: a shallow copy sharing everything, arrays included.
- ``copy.deepcopy(model)``: :meth:`~irisdq.datamodels.DataModel.copy`, whose
  metadata, headers and arrays in memory are the copy's own; arrays still on
  disk stay lazy, read from the same open file when first used (under the
  lock the model and its copies share, so threads may read them at once).
- ``pickle``: a model of its own, with no file behind it. Its arrays in
  memory are pickled as values; the byte ranges it still needs of its file
  (unread arrays, extensions passed through) go with it as bytes, so the
  unpickled model reads and writes them as the original would, on a machine
  that never saw the file. It keeps ``path`` (outputs and messages name it)
  but is never taken for that file: saving it writes. Pickling such a model
  holds those bytes twice for a moment (about 1.3 GiB for a 0.63 GiB ramp
  never read); prefer sending paths where the workers see the files.
"""

import io
import threading
from typing import Any

import numpy as np

from irisdq.datamodels.layout import HDULayout, copy_hdu
from irisdq.errors import DataModelError

__all__ = ["PortableModelMixin"]


class PortableModelMixin:
    """``copy.copy``, ``copy.deepcopy`` and pickling of a data model (see
    the module's description).

    Examples
    --------
    >>> import pickle
    >>> import numpy as np
    >>> from irisdq.datamodels import RampModel
    >>> ramp = RampModel()
    >>> ramp.pixeldq = np.ones((2, 2), dtype=np.uint32)
    >>> ramp.meta.instrument.detector = "IRIS1"
    >>> back = pickle.loads(pickle.dumps(ramp))
    >>> back.meta.instrument.detector, int(back.pixeldq.sum())
    ('IRIS1', 4)
    """

    def __copy__(self) -> Any:
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def __deepcopy__(self, memo: dict) -> Any:
        twin = self.copy()
        memo[id(self)] = twin
        return twin

    def __getstate__(self) -> dict[str, Any]:
        with self._io_lock:
            return self._detached_state()

    def _detached_state(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # What ties the model to its file and to the process: not carried.
        state.pop("_original", None)
        state.pop("_io_lock", None)
        state.update(_stream=None, _layout=None, _read_state=None)
        state.update(_scratch=None, _step_output=False)
        # A memory-mapped array goes as its values (a plain array).
        arrays = {
            attr: entry.view(np.ndarray) if isinstance(entry, np.memmap) else entry
            for attr, entry in self._arrays.items()
        }
        stored = [
            entry for entry in arrays.values() if isinstance(entry, HDULayout)
        ] + list(self._extra_hdus)
        if not stored:
            state["_arrays"] = arrays
            return state
        if self._stream is None or self._stream.closed:
            raise DataModelError(
                f"{self.path}: the model is closed; it cannot be copied or "
                "pickled with arrays or extensions it never read: pickle it "
                "before closing it"
            )
        blob = io.BytesIO()
        moved: dict[int, HDULayout] = {}
        for hdu in stored:
            if hdu.header_offset in moved:
                continue
            start = blob.tell()
            copy_hdu(self._stream, hdu, blob)
            shift = start - hdu.header_offset
            moved[hdu.header_offset] = hdu._replace(
                header_offset=start,
                data_offset=hdu.data_offset + shift,
                end=hdu.end + shift,
            )
        state["_arrays"] = {
            attr: moved[entry.header_offset] if isinstance(entry, HDULayout) else entry
            for attr, entry in arrays.items()
        }
        state["_extra_hdus"] = [moved[hdu.header_offset] for hdu in self._extra_hdus]
        state["_stream"] = blob.getvalue()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        stored = state.pop("_stream")
        self.__dict__.update(state)
        self._stream = None if stored is None else io.BytesIO(stored)
        self._io_lock = threading.RLock()
