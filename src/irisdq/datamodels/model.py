"""The base of irisdq's data models: lazy FITS arrays, metadata, writing.

A model read from a file keeps the file open and reads only its headers;
each array is read the first time it is used (see
:mod:`irisdq.datamodels.hdu_io` for how), and extensions the model does not
know are kept as byte ranges and written back unchanged.
"""

import builtins
import copy
import getpass
import os
import threading
import warnings
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, NamedTuple

import numpy as np

from irisdq.datamodels.atomic import atomic_output
from irisdq.datamodels.files import require_regular_file
from irisdq.datamodels.hdu_io import (
    STRUCTURAL_KEYWORDS,
    DataModelWarning,
    image_encoding,
    read_image,
    verify_hdu,
    write_image_hdu,
)
from irisdq.datamodels.layout import BLOCK, HDULayout, copy_hdu, read_hdu_layout
from irisdq.datamodels.meta import KEYWORDS, Meta, from_keywords, to_keywords
from irisdq.datamodels.portable import PortableModelMixin
from irisdq.datamodels.stpipe_model import StpipeModelMixin
from irisdq.dqflags import flag_values
from irisdq.errors import DataModelError

__all__ = ["ArraySpec", "DataModel"]

_META_KEYWORDS = frozenset(entry.keyword for entry in KEYWORDS)
_COMMENTARY = frozenset({"COMMENT", "HISTORY", ""})


class ArraySpec(NamedTuple):
    """An array of a model and the FITS extension that holds it.

    Attributes
    ----------
    attr : str
        The model attribute (``dq``, ``data``, ``pixeldq``).
    extname : str
        The extension name (``DQ``, ``SCI``, ``PIXELDQ``).
    dtype : numpy.dtype or None
        The dtype of the values; None keeps the dtype the file stores (the
        science array of a ramp layout that does not fix it).
    ndim : int
        The number of dimensions.
    axes : str
        The axes, for messages: ``'(ny, nx)'``.
    required : bool
        Whether a file without the extension is an error.
    """

    attr: str
    extname: str
    dtype: np.dtype
    ndim: int
    axes: str
    required: bool


class DataModel(StpipeModelMixin, PortableModelMixin):
    """Base class of the FITS data models (:class:`TMTMaskModel`, :class:`RampModel`).

    Each is also a model as stpipe expects one (see
    :class:`~irisdq.datamodels.stpipe_model.StpipeModelMixin`).

    Parameters
    ----------
    init : str, os.PathLike or None
        A FITS file to open (headers only; arrays are read on first use), or
        None for an empty model. It must be a regular file: a FIFO or a
        device is refused before it is opened.
    verify_checksums : bool, optional
        Check ``DATASUM``/``CHECKSUM`` of each HDU that is read in full
        (converted arrays, tables) and warn on a mismatch. Memory-mapped
        arrays are checked by :meth:`verify_checksums`.

    Attributes
    ----------
    meta : Meta
        The metadata tree (see :mod:`irisdq.datamodels.meta`).
    extra_keywords : astropy.io.fits.Header
        Primary-header keywords that have no ``meta`` attribute; written
        back as they are.
    path : pathlib.Path or None
        The file the model was read from.
    """

    model_type: ClassVar[str] = ""
    arrays: ClassVar[tuple[ArraySpec, ...]] = ()
    required_keywords: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, init: str | os.PathLike | None = None, *, verify_checksums: bool = True
    ) -> None:
        from astropy.io import fits

        self.meta = Meta()
        self.extra_keywords = fits.Header()
        self.path: Path | None = None
        self._verify = verify_checksums
        self._arrays: dict[str, Any] = {}
        self._ext_headers: dict[str, Any] = {}
        self._extra_hdus: list[HDULayout] = []
        self._layout: list[HDULayout] | None = None
        self._stream: BinaryIO | None = None
        # Held while the open file is read (a seek, then reads): a model
        # and its copies share the file, and may be read by several threads.
        self._io_lock = threading.RLock()
        if init is None:
            return
        if not isinstance(init, str | os.PathLike):
            raise TypeError(
                f"{type(self).__name__}() takes a FITS file name or nothing, "
                f"not {type(init).__name__}"
            )
        require_regular_file(init, f"a {type(self).__name__} file")
        # Kept open for lazy reads until close().
        stream = builtins.open(init, "rb", buffering=0)  # noqa: SIM115
        try:
            self._attach(Path(init), stream, read_hdu_layout(stream))
        except BaseException:
            stream.close()
            raise
        self._opened()

    # -- reading ---------------------------------------------------------

    @classmethod
    def _from_open_file(
        cls,
        path: Path,
        stream: BinaryIO,
        layout: list[HDULayout],
        verify: bool,
        **options: Any,
    ) -> "DataModel":
        model = cls(verify_checksums=verify, **options)
        model._attach(path, stream, layout)
        model._opened()
        return model

    def _attach(self, path: Path, stream: BinaryIO, layout: list[HDULayout]) -> None:
        for hdu in layout:
            _check_cards(hdu, str(path))
        self.path = path
        self._stream = stream
        self._layout = layout
        weakref.finalize(self, stream.close)
        primary = layout[0]
        self.meta = from_keywords(primary.header, str(path))
        self.extra_keywords = _without(primary.header, _META_KEYWORDS)
        if self._verify and primary.data_size == 0:
            self._verify_hdu(primary)
        if primary.data_size:
            warnings.warn(
                f"{path}: the primary HDU has data, which "
                f"{type(self).__name__} does not use; it is not written back",
                DataModelWarning,
                stacklevel=3,
            )
        by_name = {spec.extname: spec for spec in self.arrays}
        for hdu in layout[1:]:
            spec = by_name.get(hdu.name)
            if spec is not None and spec.attr not in self._arrays:
                self._check_extension(spec, hdu)
                self._arrays[spec.attr] = hdu
                self._ext_headers[spec.attr] = hdu.header
            elif not self._claim_hdu(hdu):
                self._extra_hdus.append(hdu)
        for spec in self.arrays:
            if spec.required and spec.attr not in self._arrays:
                raise DataModelError(
                    f"{path}: no {spec.extname} extension; a "
                    f"{type(self).__name__} needs {spec.extname} "
                    f"{_described(spec)}"
                )
        for keyword in self.required_keywords:
            if keyword not in primary.header:
                raise DataModelError(
                    f"{path}: the primary header has no {keyword} keyword, "
                    f"which a {type(self).__name__} needs"
                )

    def _check_extension(self, spec: ArraySpec, hdu: HDULayout) -> None:
        where = f"{self.path}: {spec.extname}"
        if hdu.kind != "IMAGE":
            raise DataModelError(
                f"{where} is a {hdu.kind} extension; it must be an image"
            )
        try:
            encoding = image_encoding(hdu.header)
        except DataModelError as exc:
            # The encoding's message names the extension, not the file.
            raise DataModelError(f"{self.path}: {exc}") from None
        if spec.dtype is None:
            return
        if spec.dtype.kind in "ui" and (
            encoding.scaled or encoding.values.kind not in "ui"
        ):
            raise DataModelError(
                f"{where} holds {encoding.values} values (BITPIX "
                f"{encoding.bitpix}); it must hold {spec.dtype} flags"
            )
        if spec.dtype.kind in "ui" and encoding.values.itemsize > spec.dtype.itemsize:
            raise DataModelError(
                f"{where} holds {encoding.values} values (BITPIX "
                f"{encoding.bitpix}), wider than the {spec.dtype} it must hold"
            )

    def _claim_hdu(self, hdu: HDULayout) -> bool:
        """Let a subclass take an extension it understands (DQ_DEF)."""
        return False

    def _verify_hdu(self, hdu: HDULayout) -> bool:
        """Check an HDU's DATASUM and CHECKSUM, warning on a mismatch.

        A subclass may make a mismatch an error (a reference file).
        """
        return verify_hdu(self._stream, hdu, source=str(self.path))

    def _get(self, attr: str) -> np.ndarray | None:
        entry = self._arrays.get(attr)
        if isinstance(entry, HDULayout):
            with self._io_lock:
                entry = self._arrays.get(attr)
                if isinstance(entry, HDULayout):
                    spec = next(s for s in self.arrays if s.attr == attr)
                    entry = self._load(spec, entry)
                    self._arrays[attr] = entry
        return entry

    def _load(self, spec: ArraySpec, hdu: HDULayout) -> np.ndarray:
        if self._stream is None or self._stream.closed:
            raise DataModelError(
                f"{self.path}: the model is closed; {spec.extname} was never read"
            )
        return read_image(
            self._stream,
            hdu,
            dtype=spec.dtype,
            verify=self._verify,
            source=str(self.path),
        )

    def _set(self, attr: str, value: Any) -> None:
        spec = next(s for s in self.arrays if s.attr == attr)
        if value is None:
            self._arrays.pop(attr, None)
            return
        values = np.asarray(value)
        where = f"{type(self).__name__}.{attr} ({spec.extname})"
        if values.ndim != spec.ndim:
            raise DataModelError(
                f"{where} must be {spec.ndim}-D {spec.axes}; got shape {values.shape}"
            )
        if spec.dtype is not None and spec.dtype.kind in "ui":
            values = flag_values(values, spec.dtype, where)
        elif values.dtype.kind not in "uif":
            raise DataModelError(f"{where} must be numeric, not {values.dtype}")
        elif spec.dtype is not None and values.dtype.newbyteorder("=") != spec.dtype:
            values = values.astype(spec.dtype)
        self._check_shape(spec, values.shape)
        self._arrays[attr] = values

    def _check_shape(self, spec: ArraySpec, shape: tuple[int, ...]) -> None:
        """Let a subclass reject a shape (a mask's detector size)."""

    def _shape(self, attr: str) -> tuple[int, ...] | None:
        entry = self._arrays.get(attr)
        if entry is None:
            return None
        return entry.shape

    # -- metadata --------------------------------------------------------

    def _default_keywords(self) -> dict[str, Any]:
        """Keywords written when ``meta`` does not set them."""
        return {"DATAMODL": self.model_type, "TELESCOP": "TMT"}

    def get_fits_keywords(self) -> dict[str, Any]:
        """Return the primary-header keywords of the model, as it would be written.

        This is what reference selection (``irisdq.crds``) matches against:
        ``INSTRUME``, ``DETECTOR``, ``SUBARRAY``, ``SUBSTRT1/2``,
        ``SUBSIZE1/2``, ``DATE-OBS``, ``TIME-OBS``, ``EXP_TYPE``,
        ``READPATT``, ``FILTER``, ``PUPIL``, ``TELESCOP`` and every other
        keyword the file or the model sets. Defaults that :meth:`write`
        would fill in are included; structural keywords (``NAXIS``,
        ``CHECKSUM``) and commentary cards are not.

        Returns
        -------
        dict
            ``{KEYWORD: value}`` with upper-case keywords.

        Examples
        --------
        >>> from irisdq.datamodels import TMTMaskModel
        >>> mask = TMTMaskModel()
        >>> mask.meta.detector = "IRIS1"
        >>> keywords = mask.get_fits_keywords()
        >>> keywords["INSTRUME"], keywords["DETECTOR"], keywords["SUBARRAY"]
        ('IRIS', 'IRIS1', 'FULL')
        """
        values = self._default_keywords()
        values.update(to_keywords(self.meta))
        keywords = {
            entry.keyword: values[entry.keyword]
            for entry in KEYWORDS
            if entry.keyword in values
        }
        for card in self.extra_keywords.cards:
            if card.keyword not in _COMMENTARY:
                keywords.setdefault(card.keyword, card.value)
        return keywords

    def _primary_header(self, target: Path):
        from astropy.io import fits

        header = fits.Header()
        values = self._default_keywords()
        values.update(to_keywords(self.meta))
        values["DATE"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        values["FILENAME"] = target.name
        for entry in KEYWORDS:
            if entry.keyword in values:
                header[entry.keyword] = _card(values[entry.keyword], entry.comment)
        for card in self.extra_keywords.cards:
            if card.keyword not in _COMMENTARY and card.keyword in header:
                continue
            header.append(card)
        return header

    # -- writing ---------------------------------------------------------

    def _check_before_write(self) -> None:
        """Let a subclass refuse to write an incomplete model."""
        for spec in self.arrays:
            if spec.required and self._arrays.get(spec.attr) is None:
                raise DataModelError(
                    f"{type(self).__name__}.{spec.attr} ({spec.extname}) is not "
                    f"set; give it a {_described(spec)} array before writing"
                )

    def _copy_through(self, spec: ArraySpec) -> bool:
        """Whether an array never read can be copied from the input as bytes."""
        return True

    def _write_extra_hdus(self, stream: BinaryIO) -> None:
        """Let a subclass write its own extensions (DQ_DEF) after the arrays."""

    def write(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model to a FITS file, with CHECKSUM and DATASUM in every HDU.

        The file is written under a temporary name in the target folder
        (created if missing) and renamed into place when complete. Arrays
        that were never read, and extensions the model does not know, are
        copied from the input file byte for byte.

        Parameters
        ----------
        path : str or os.PathLike
            The output file.
        overwrite : bool, optional
            Replace an existing file; without it an existing file is an
            error and nothing is written.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is false.
        DataModelError
            If the model lacks something a file needs (see the subclass).
        """
        target = Path(path)
        self._check_before_write()
        header = self._primary_header(target)
        with atomic_output(
            target, overwrite=overwrite, size_hint=self._size_hint()
        ) as stream:
            write_image_hdu(stream, None, header, primary=True)
            for spec in self.arrays:
                entry = self._arrays.get(spec.attr)
                if entry is None:
                    continue
                if isinstance(entry, HDULayout) and self._copy_through(spec):
                    self._copy_hdu(entry, stream)
                    continue
                write_image_hdu(
                    stream, self._get(spec.attr), self._extension_header(spec)
                )
            self._write_extra_hdus(stream)
            for hdu in self._extra_hdus:
                self._copy_hdu(hdu, stream)
        return target

    def _size_hint(self) -> int:
        """About the size of the file :meth:`write` makes (headers guessed)."""
        size = 4 * BLOCK
        for spec in self.arrays:
            entry = self._arrays.get(spec.attr)
            if isinstance(entry, HDULayout):
                size += entry.end - entry.header_offset
            elif entry is not None:
                size += 4 * BLOCK + -(-entry.nbytes // BLOCK) * BLOCK
        return size + sum(hdu.end - hdu.header_offset for hdu in self._extra_hdus)

    def _copy_hdu(self, hdu: HDULayout, stream: BinaryIO) -> None:
        if self._stream is None or self._stream.closed:
            raise DataModelError(
                f"{self.path}: the model is closed; cannot copy HDU {hdu.index} "
                f"({hdu.name or 'unnamed'}) from it"
            )
        with self._io_lock:
            copy_hdu(self._stream, hdu, stream)

    def _extension_header(self, spec: ArraySpec):
        from astropy.io import fits

        header = fits.Header([("EXTNAME", spec.extname, "extension name")])
        source = self._ext_headers.get(spec.attr)
        if source is not None:
            for card in _without(source, {"EXTNAME"}).cards:
                header.append(card)
        return header

    def copy(self) -> "DataModel":
        """Return a copy whose metadata and arrays can change independently.

        Arrays already in memory are copied; arrays still on disk stay lazy
        and are read from the same file when first used (the copy keeps the
        original's file open).

        Examples
        --------
        >>> from irisdq.datamodels import RampModel
        >>> ramp = RampModel()
        >>> ramp.pixeldq = np.zeros((2, 2), dtype=np.uint32)
        >>> twin = ramp.copy()
        >>> twin.pixeldq[0, 0] = 4
        >>> twin.meta.cal_step.dq_init = "COMPLETE"
        >>> int(ramp.pixeldq[0, 0]), ramp.meta.cal_step.dq_init
        (0, None)
        """
        twin = copy.copy(self)
        twin.meta = Meta(self.meta.to_dict())
        twin.extra_keywords = self.extra_keywords.copy()
        twin._arrays = {
            attr: entry if isinstance(entry, HDULayout) else np.array(entry)
            for attr, entry in self._arrays.items()
        }
        twin._ext_headers = {
            attr: header.copy() for attr, header in self._ext_headers.items()
        }
        twin._extra_hdus = list(self._extra_hdus)
        twin._original = self  # keeps the shared input file open
        # A step's scratch output stays the original's to delete.
        twin._scratch, twin._step_output = None, False
        return twin

    # -- files -----------------------------------------------------------

    @property
    def hdu_layout(self) -> list[HDULayout] | None:
        """The byte layout of the input file's HDUs (None for a new model).

        See :func:`irisdq.datamodels.read_hdu_layout`.
        """
        return self._layout

    def verify_checksums(self) -> bool:
        """Check every HDU of the input file against its DATASUM and CHECKSUM.

        Reads the whole file once, in chunks; a mismatch is a
        :class:`DataModelWarning` (an error for a reference file such as a
        :class:`TMTMaskModel`, unless it accepts bad checksums). Returns
        True when all sums match (or the model was not read from a file).
        """
        if self._layout is None:
            return True
        if self._stream is None or self._stream.closed:
            raise DataModelError(f"{self.path}: the model is closed")
        with self._io_lock:
            results = [self._verify_hdu(hdu) for hdu in self._layout]
        return all(results)

    def close(self) -> None:
        """Close the input file. Arrays already read stay usable; a step's
        scratch output that nobody saved is deleted."""
        if self._stream is not None:
            self._stream.close()
        self._drop_scratch()

    def __enter__(self) -> "DataModel":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        source = f" from {self.path}" if self.path else ""
        arrays = ", ".join(
            f"{spec.attr}{self._shape(spec.attr)}"
            for spec in self.arrays
            if spec.attr in self._arrays
        )
        return f"<{type(self).__name__}{source}: {arrays or 'no arrays'}>"


def _described(spec: ArraySpec) -> str:
    """``'uint32 (ny, nx)'``, or the axes alone when the dtype is not fixed."""
    return spec.axes if spec.dtype is None else f"{spec.dtype} {spec.axes}"


def _check_cards(hdu: HDULayout, source: str) -> None:
    """Raise DataModelError for a header card astropy cannot read.

    astropy parses a card's value when it is first used, so an unreadable
    card (a control character in a string) would otherwise fail later, far
    from the file, as a VerifyError.
    """
    from astropy.io.fits.verify import VerifyError

    for card in hdu.header.cards:
        try:
            card.value  # noqa: B018 - parsing it is the check
        except (VerifyError, ValueError):
            raise DataModelError(
                f"{source}: HDU {hdu.index} ({hdu.name or 'unnamed'}): the "
                f"{card.keyword} card is not valid FITS (a value with a control "
                "character or a missing quote?); rewrite that card"
            ) from None


def _without(header, keywords) -> Any:
    """Return a copy of ``header`` without structural cards and ``keywords``."""
    from astropy.io import fits

    kept = fits.Header()
    for card in header.cards:
        keyword = card.keyword
        if (
            keyword in STRUCTURAL_KEYWORDS
            or keyword in keywords
            or (keyword.startswith("NAXIS") and keyword[5:].isdigit())
        ):
            continue
        kept.append(card)
    return kept


def _card(value: Any, comment: str) -> Any:
    """``(value, comment)``, or the value alone where a string fits on one
    card but not with its comment (a path in R_MASK): astropy would cut the
    comment with a warning. A longer string takes CONTINUE cards, and its
    comment with it."""
    if isinstance(value, str):
        quoted = max(len(value.replace("'", "''")) + 2, 20)
        if quoted <= 70 and 10 + quoted + 3 + len(comment) > 80:
            return value
    return (value, comment)


def _default_author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "irisdq"
