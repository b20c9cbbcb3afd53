"""``TMTMaskModel``: a bad-pixel mask reference file (REFTYPE MASK).

Layout: an empty primary HDU with the reference keywords, a ``DQ`` image of
uint32 flags (ny, nx) and a ``DQ_DEF`` table naming the flags.

Three pipelines write masks this way and differ only in details, all read
alike (the ``DQ_DEF`` names decide what each bit means, the extension
names are compared in any case):

- TMT IRIS (2020): ``DATAMODL = 'TMTMaskModel'``, ``REFTYPE = 'MASK'``,
  DQ_DEF VALUE int64;
- JWST (stdatamodels ``MaskModel``): ``DATAMODL = 'MaskModel'``,
  ``TELESCOP = 'JWST'``, DQ_DEF VALUE uint32;
- Liger/IRIS (liger_iris_pipeline ``DQModel``): ``DATAMODL = 'DQModel'``,
  ``REFTYPE = 'dq'``, DQ_DEF VALUE int32 (bit 31 stored as -2**31).

A mask is written in one of them by setting its :attr:`~TMTMaskModel.file_layout`
to that pipeline's :class:`irisdq.layouts.MaskLayout` (a profile's ``mask``).

A mask read from a file is checked like one built in Python, before its
array is allocated: ``DQ`` 2-D, at most :data:`MAX_MASK_AXIS` pixels per
axis, of the shape ``SUBSIZE1/2`` declare, with ``SUBSTRT1/2`` >= 1; flag
values in 0..2**32-1 (a signed ``DQ`` with negative values is an error, not
every flag set); a ``DQ_DEF`` binary table whose values are single bits.

A reference file whose ``DATASUM`` or ``CHECKSUM`` does not match is an
error, as in CRDS, unless the caller accepts it
(``accept_bad_checksums=True`` or ``IRISDQ_ACCEPT_BAD_CHECKSUMS=1``).

The module is at 600 lines in one piece: the checks above run as the
file is read, inside :class:`TMTMaskModel`, and the helpers after it read
and compare the pipeline's ``DQ_DEF`` table the model writes.
"""

import functools
import io
import os
import warnings
from typing import Any, BinaryIO, ClassVar

import numpy as np

from irisdq.datamodels.dq_def_table import read_simple_table
from irisdq.datamodels.hdu_io import (
    DataModelWarning,
    checksum_problems,
    data_sum,
    image_encoding,
    read_image,
)
from irisdq.datamodels.layout import HDULayout, read_hdu_layout
from irisdq.datamodels.model import (
    ArraySpec,
    DataModel,
    _default_author,
)
from irisdq.dqflags import (
    DQDefRow,
    bit_values,
    dq_def_mapping,
    dq_def_values,
    flag_values,
    is_identity,
    pipeline_dq_def,
    remap_flags,
)
from irisdq.errors import DataModelError
from irisdq.layouts import TMT_MASK, detector_shape

__all__ = [
    "ACCEPT_BAD_CHECKSUMS_VARIABLE",
    "DEFAULT_USEAFTER",
    "DQ_DEF_VALUE_DTYPES",
    "MAX_MASK_AXIS",
    "TMTMaskModel",
]

# Early enough that a mask made without a date applies to every exposure.
DEFAULT_USEAFTER = "2000-01-01T00:00:00"

#: Set to 1 to use a mask whose DATASUM or CHECKSUM does not match.
ACCEPT_BAD_CHECKSUMS_VARIABLE = "IRISDQ_ACCEPT_BAD_CHECKSUMS"

#: The most pixels per axis of a mask read from a file: four times an IRIS
#: detector's 4096 (a 1 GiB uint32 array). A larger declaration is refused
#: before anything is allocated.
MAX_MASK_AXIS = 16384

# More rows than any flag table needs (32 bits and their aliases).
_MAX_DQ_DEF_ROWS = 1024

#: The dtypes a ``DQ_DEF`` table's VALUE column is written with: int64
#: (irisdq's TMT masks), uint32 (stdatamodels), int32 (liger_iris_pipeline).
DQ_DEF_VALUE_DTYPES = ("int64", "uint32", "int32")


class TMTMaskModel(DataModel):
    """A bad-pixel mask: ``dq``, uint32 (ny, nx), in the pipeline's flags.

    Parameters
    ----------
    init : str, os.PathLike or None
        A mask file to open, or None for a new mask.
    verify_checksums : bool, optional
        Check DATASUM/CHECKSUM of each HDU that is read (False skips the
        check).
    accept_bad_checksums : bool, optional
        What a checksum that does not match is: an error
        (:class:`~irisdq.errors.DataModelError`, the default) or, if True,
        a :class:`DataModelWarning` and an entry of ``checksum_problems``.
        By default the environment variable ``IRISDQ_ACCEPT_BAD_CHECKSUMS``
        decides (``1`` accepts).

    Attributes
    ----------
    checksum_problems : list of str
        The checksum mismatches found so far (with accepted bad checksums).

    Notes
    -----
    ``meta.name`` and ``meta.detector`` are short for
    ``meta.instrument.name`` (``INSTRUME``) and ``meta.instrument.detector``
    (``DETECTOR``). Assigning ``dq`` accepts any array of integral values in
    0..2**32-1 (the float zeros of ``np.zeros`` included) and stores uint32;
    a full-frame mask of an IRIS detector must be 4096 x 4096.

    A file whose ``DQ_DEF`` table gives its own bit values is read in the
    pipeline's flags: each bit is mapped to the pipeline flag of the same
    name, and a name the pipeline does not know is dropped with a
    :class:`DataModelWarning`.

    :meth:`write` fills in ``DATAMODL``, ``TELESCOP`` (the one of its
    instrument) and ``REFTYPE`` from :attr:`file_layout` (a
    :class:`~irisdq.layouts.MaskLayout`: ``TMTMaskModel``, ``TMT``,
    ``MASK`` by default),
    ``INSTRUME='IRIS'``, ``SUBARRAY='FULL'``, ``SUBSTRT1/2=1``,
    ``SUBSIZE1/2`` from the shape, ``USEAFTER`` (2000-01-01), ``PEDIGREE``
    (``GROUND``), ``AUTHOR`` (the user) and ``DESCRIP`` unless ``meta``
    sets them. The ``DQ_DEF`` table it writes names the pipeline's flags,
    its VALUE column of ``file_layout.value_dtype``.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> f = TMTMaskModel()
    >>> f.meta.name = "IRIS"
    >>> f.meta.detector = "IRIS1"
    >>> f.dq = np.zeros((4096, 4096))
    >>> f.dq[10, 20] = 1024                      # row 10, column 20: DEAD
    >>> f.dq.dtype, int(f.dq.sum())
    (dtype('uint32'), 1024)
    >>> out = f.write(pathlib.Path(tempfile.mkdtemp()) / "mask.fits")
    >>> with TMTMaskModel(out) as back:
    ...     back.meta.subarray.name, int(back.dq[10, 20])
    ('FULL', 1024)
    """

    model_type: ClassVar[str] = "TMTMaskModel"
    arrays = (ArraySpec("dq", "DQ", np.dtype(np.uint32), 2, "(ny, nx)", True),)
    # Checked in _attach, by the file's own model: a jwst MaskModel need
    # not name its detector (jwst's tests build masks without one).
    required_keywords = ()

    def __init__(
        self,
        init=None,
        *,
        verify_checksums: bool = True,
        accept_bad_checksums: bool | None = None,
    ) -> None:
        self._mapping: dict[int, int] | None = None
        #: How :meth:`write` lays the file out (a new mask: TMT's).
        self.file_layout = TMT_MASK
        self._named_bits = 0
        self._only_named = False
        self._accept_bad = accept_bad_checksums
        self.checksum_problems: list[str] = []
        super().__init__(init, verify_checksums=verify_checksums)

    @property
    def dq(self) -> np.ndarray | None:
        """The flags, uint32 (ny, nx); read from the file on first use."""
        return self._get("dq")

    @dq.setter
    def dq(self, value: Any) -> None:
        self._set("dq", value)

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape of ``dq``, known without reading it."""
        return self._shape("dq")

    @property
    def dq_def(self) -> list[DQDefRow]:
        """The ``DQ_DEF`` rows written with the mask: the pipeline's flags."""
        return pipeline_dq_def()

    # -- shape rules -----------------------------------------------------

    def _expected_shape(self) -> tuple[tuple[int, int] | None, str]:
        subarray = (self.meta.subarray.name or "FULL").strip().upper()
        if subarray == "FULL":
            detector = self.meta.instrument.detector
            return detector_shape(detector), f"a full-frame {detector} mask"
        ysize, xsize = self.meta.subarray.ysize, self.meta.subarray.xsize
        if ysize is not None and xsize is not None:
            return (ysize, xsize), (
                f"subarray {subarray} (SUBSIZE2, SUBSIZE1 = {ysize}, {xsize})"
            )
        return None, ""

    def _check_shape(self, spec: ArraySpec, shape: tuple[int, ...]) -> None:
        expected, what = self._expected_shape()
        if expected is not None and tuple(shape) != expected:
            raise DataModelError(
                f"TMTMaskModel.dq has shape {tuple(shape)} but {what} is "
                f"{expected}; give a {expected} array, or set meta.subarray "
                "(name, xstart, ystart, xsize, ysize) for a subarray mask"
            )

    # -- checks of a file ------------------------------------------------

    def _check_extension(self, spec: ArraySpec, hdu: HDULayout) -> None:
        super()._check_extension(spec, hdu)
        shape = hdu.shape
        where = f"{self.path}: DQ"
        if len(shape) != 2:
            raise DataModelError(
                f"{where} has {len(shape)} axes, shape {shape}; a mask's DQ must "
                "be a 2-D image (ny, nx): write the flags as one 2-D array"
            )
        if min(shape) < 1:
            raise DataModelError(
                f"{where} has shape {shape}, no pixels; a mask needs at least "
                "one row and one column of flags"
            )
        if max(shape) > MAX_MASK_AXIS:
            raise DataModelError(
                f"{where} declares {shape[0]} x {shape[1]} pixels (NAXIS2 x "
                f"NAXIS1); a mask may have at most {MAX_MASK_AXIS} per axis (an "
                "IRIS detector has 4096), so it is not read: check the header"
            )

    def _attach(self, path, stream, layout) -> None:
        super()._attach(path, stream, layout)
        header = layout[0].header
        model = str(header.get("DATAMODL") or "").strip() or self.model_type
        # Only irisdq's own TMT masks must name their detector; stdatamodels'
        # MaskModel and Liger's DQModel select by their rmaps alone.
        needed = ("INSTRUME", "DETECTOR") if model == self.model_type else ()
        for keyword in needed:
            if keyword not in header:
                raise DataModelError(
                    f"{path}: the primary header has no {keyword} keyword, "
                    f"which a {model} needs"
                )
        subarray = self.meta.subarray
        for keyword, value in (
            ("SUBSTRT1", subarray.xstart),
            ("SUBSTRT2", subarray.ystart),
        ):
            if value is not None and value < 1:
                raise DataModelError(
                    f"{path}: {keyword} = {value}; the start of a mask's subarray "
                    "is 1-based, so it must be 1 or more: fix the header"
                )
        shape = self.shape
        sizes = (subarray.ysize, subarray.xsize)
        if None not in sizes and tuple(shape) != sizes:
            raise DataModelError(
                f"{path}: DQ has shape {shape} (ny, nx) but SUBSIZE2, SUBSIZE1 = "
                f"{sizes[0]}, {sizes[1]}; the sizes must match the array: fix "
                "the header or the array"
            )

    def _accepts_bad_checksums(self) -> bool:
        if self._accept_bad is not None:
            return self._accept_bad
        value = os.environ.get(ACCEPT_BAD_CHECKSUMS_VARIABLE, "").strip().lower()
        return value not in ("", "0", "false", "no", "off")

    def _verify_hdu(self, hdu: HDULayout) -> bool:
        problems = _checksum_problems(self._stream, hdu, str(self.path))
        if not problems:
            return True
        self.checksum_problems.extend(problems)
        if not self._accepts_bad_checksums():
            raise DataModelError(
                f"{problems[0]}; a reference file that fails its checksum is "
                "not used: get an intact copy, or set "
                f"{ACCEPT_BAD_CHECKSUMS_VARIABLE}=1 (accept_bad_checksums=True "
                "in Python) to use it anyway"
            )
        for problem in problems:
            warnings.warn(problem, DataModelWarning, stacklevel=4)
        return False

    def _check_before_write(self) -> None:
        super()._check_before_write()
        layout = self.file_layout
        if layout.value_dtype not in DQ_DEF_VALUE_DTYPES:
            raise DataModelError(
                f"TMTMaskModel.file_layout.value_dtype is {layout.value_dtype!r}; "
                f"a DQ_DEF VALUE column is one of {', '.join(DQ_DEF_VALUE_DTYPES)}"
            )
        if str(layout.dq).strip().upper() != "DQ":
            raise DataModelError(
                f"TMTMaskModel.file_layout.dq is {layout.dq!r}; irisdq writes a "
                "mask's flags in a DQ extension only"
            )
        if not str(layout.dq_def).strip() or str(layout.dq_def).upper() == "DQ":
            raise DataModelError(
                f"TMTMaskModel.file_layout.dq_def is {layout.dq_def!r}; name the "
                "flag table's extension (DQ_DEF), not blank and not DQ"
            )
        if not self.meta.instrument.detector:
            raise DataModelError(
                "TMTMaskModel.meta.detector (DETECTOR) is not set; a mask "
                "belongs to one detector: set e.g. meta.detector = 'IRIS1'"
            )
        self._check_shape(self.arrays[0], self.shape)

    def _default_keywords(self) -> dict[str, Any]:
        keywords = super()._default_keywords()
        layout = self.file_layout
        instrument = self.meta.instrument.name or "IRIS"
        detector = self.meta.instrument.detector or ""
        telescope = layout.telescope_for(instrument)
        if telescope is None:
            keywords.pop("TELESCOP", None)
        else:
            keywords["TELESCOP"] = telescope
        keywords.update(
            {
                "DATAMODL": layout.datamodel,
                "INSTRUME": instrument,
                "REFTYPE": layout.reftype,
                "SUBARRAY": "FULL",
                "SUBSTRT1": 1,
                "SUBSTRT2": 1,
                "USEAFTER": DEFAULT_USEAFTER,
                "PEDIGREE": "GROUND",
                "AUTHOR": _default_author(),
                "DESCRIP": f"{instrument} {detector} bad-pixel mask".replace("  ", " "),
            }
        )
        if self.shape is not None:
            keywords["SUBSIZE1"] = int(self.shape[1])
            keywords["SUBSIZE2"] = int(self.shape[0])
        return keywords

    # -- DQ_DEF ----------------------------------------------------------

    def _claim_hdu(self, hdu: HDULayout) -> bool:
        if hdu.name != "DQ_DEF":
            return False
        from astropy.io import fits

        if hdu.kind != "BINTABLE":
            raise DataModelError(
                f"{self.path}: DQ_DEF is a {hdu.kind} extension; it must be a "
                "binary table with columns BIT, VALUE, NAME and DESCRIPTION"
            )
        self._stream.seek(hdu.header_offset)
        raw = self._stream.read(hdu.end - hdu.header_offset)
        if _is_pipeline_dq_def(hdu, raw):
            # The pipeline's own flags (as irisdq writes them): nothing to remap.
            return True
        if self._verify:
            self._verify_hdu(hdu)
        _check_table_size(hdu, str(self.path))
        start = hdu.data_offset - hdu.header_offset
        data = read_simple_table(hdu.header, raw[start : start + hdu.data_size])
        try:
            if data is not None:
                names = {name.upper(): name for name in data.dtype.names}
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the error below says it all
                    data = fits.BinTableHDU.fromstring(raw).data
                    names = {name.upper(): name for name in data.columns.names}
        except Exception as exc:
            # astropy decodes a damaged table header with asserts, key and
            # index errors, whatever the card: any failure means the same.
            raise DataModelError(
                f"{self.path}: cannot read the DQ_DEF table "
                f"({' '.join(str(exc).split()) or type(exc).__name__}); it must "
                "be a binary table with columns BIT, VALUE, NAME and DESCRIPTION"
            ) from None
        try:
            values = dq_def_values(data[names["VALUE"]])
            rows = [
                DQDefRow(
                    int(row[names["BIT"]]) if "BIT" in names else -1,
                    int(value),
                    str(row[names["NAME"]]).strip(),
                    str(row[names["DESCRIPTION"]]).strip()
                    if "DESCRIPTION" in names
                    else "",
                )
                for row, value in zip(data, values, strict=True)
            ]
        except KeyError as exc:
            raise DataModelError(
                f"{self.path}: DQ_DEF has no {exc.args[0]} column; it needs "
                "BIT, VALUE, NAME and DESCRIPTION"
            ) from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise DataModelError(
                f"{self.path}: cannot read the DQ_DEF table ({exc})"
            ) from None
        for number, row in enumerate(rows, start=1):
            if not 0 <= row.value < 1 << 32 or row.value & (row.value - 1):
                raise DataModelError(
                    f"{self.path}: DQ_DEF row {number} ({row.name!r}) has VALUE "
                    f"{row.value}; each VALUE must be one flag bit (a power of two "
                    "below 2**32) or 0: fix the table"
                )
        mapping, unknown = dq_def_mapping(rows)
        self._named_bits = 0
        for row in rows:
            self._named_bits |= row.value
        for row in unknown:
            warnings.warn(
                f"{self.path}: DQ_DEF flag {row.name!r} (value {row.value}) is "
                "not a pipeline flag name; its pixels lose that flag",
                DataModelWarning,
                stacklevel=4,
            )
        if unknown or not is_identity(mapping):
            self._mapping = mapping
        else:
            # Values already the pipeline's: only bits the table does not
            # name go, as in jwst (a DQ_DEF defines every bit the mask has).
            self._only_named = True
        return True

    def _copy_through(self, spec: ArraySpec) -> bool:
        return self._mapping is None and not self._only_named

    def _load(self, spec: ArraySpec, hdu: HDULayout) -> np.ndarray:
        if self._stream is None or self._stream.closed:
            raise DataModelError(
                f"{self.path}: the model is closed; {spec.extname} was never read"
            )
        if self._verify:
            self._verify_hdu(hdu)
        source = str(self.path)
        if image_encoding(hdu.header).values.kind == "i":
            # Read signed values as they are: a cast to uint32 would turn -1
            # into every flag set.
            stored = read_image(self._stream, hdu, verify=False, source=source)
            try:
                dq = flag_values(stored, spec.dtype, f"{source}: DQ")
            except DataModelError as exc:
                raise DataModelError(
                    f"{exc}; a mask holds flag values in 0..4294967295: rewrite "
                    "it with non-negative flags (uint32)"
                ) from None
        else:
            dq = read_image(
                self._stream, hdu, dtype=spec.dtype, verify=False, source=source
            )
        if self._mapping is None and not self._only_named:
            return dq
        present = int(np.bitwise_or.reduce(dq, axis=None))
        unnamed = present & ~self._named_bits
        if unnamed:
            warnings.warn(
                f"{self.path}: DQ uses bit value(s) {bit_values(unnamed)} that "
                "DQ_DEF does not name; they are dropped",
                DataModelWarning,
                stacklevel=4,
            )
        if self._mapping is not None:
            return remap_flags(dq, self._mapping)
        if unnamed:
            np.bitwise_and(dq, np.uint32(self._named_bits), out=dq)
        return dq

    def _write_extra_hdus(self, stream: BinaryIO) -> None:
        layout = self.file_layout
        stream.write(_pipeline_dq_def_hdu(layout.value_dtype, str(layout.dq_def)))


# The VALUE column of each dtype: its TFORM and TZERO (uint32 is stored as
# int32 with an offset of 2**31, as astropy and stdatamodels write it).
_VALUE_FORMS = {"int64": ("K", None), "uint32": ("J", 2**31), "int32": ("J", None)}
_PIPELINE_COLUMNS = ("BIT", "VALUE", "NAME", "DESCRIPTION")
_PIPELINE_FORMS = ("J", None, "40A", "80A")


def _is_pipeline_dq_def(hdu: HDULayout, raw: bytes) -> bool:
    """Whether a DQ_DEF extension holds exactly the pipeline's flag table.

    Compares the column layout and the data bytes with the table irisdq
    writes for the same VALUE column, which is much cheaper than decoding
    the table with astropy: reading a mask that irisdq wrote stays fast.
    """
    header = hdu.header
    if header.get("TFIELDS") != len(_PIPELINE_COLUMNS):
        return False
    if header.get("NAXIS2") != len(pipeline_dq_def()):
        return False  # without building the pipeline's table to compare
    value_form = str(header.get("TFORM2", "")).strip().upper()
    value_zero = header.get("TZERO2")
    dtype = next(
        (
            name
            for name, (form, zero) in _VALUE_FORMS.items()
            if form == value_form and zero == value_zero
        ),
        None,
    )
    if dtype is None:
        return False
    for number, (name, form) in enumerate(
        zip(_PIPELINE_COLUMNS, _PIPELINE_FORMS, strict=True), start=1
    ):
        if str(header.get(f"TTYPE{number}", "")).strip().upper() != name:
            return False
        if form and str(header.get(f"TFORM{number}", "")).strip().upper() != form:
            return False
    for keyword in ("TSCAL2", "TZERO1", "TZERO3", "TZERO4"):
        if keyword in header:
            return False
    start = hdu.data_offset - hdu.header_offset
    return raw[start : start + hdu.data_size] == _pipeline_dq_def_data(dtype)


@functools.cache
def _pipeline_dq_def_hdu(value_dtype: str = "int64", extname: str = "DQ_DEF") -> bytes:
    """The DQ_DEF extension irisdq writes: the pipeline flags with a VALUE
    column of `value_dtype`, as astropy writes it, with checksums.

    It is the same for every mask, and building a table with astropy costs
    more than writing the 64 MiB of DQ, so it is built once.
    """
    from astropy.io import fits

    rows = pipeline_dq_def()
    form, zero = _VALUE_FORMS[value_dtype]
    values = np.array([row.value for row in rows], dtype=np.uint32)
    if value_dtype == "int32":
        # liger_iris_pipeline's int32 column keeps bit 31 as -2**31.
        value_column = fits.Column("VALUE", form, array=values.view(np.int32))
    elif value_dtype == "uint32":
        value_column = fits.Column("VALUE", form, bzero=zero, array=values)
    else:
        value_column = fits.Column("VALUE", form, array=values.astype(np.int64))
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[row.bit for row in rows]),
            value_column,
            fits.Column("NAME", "40A", array=[row.name for row in rows]),
            fits.Column("DESCRIPTION", "80A", array=[row.description for row in rows]),
        ],
        name=extname,
    )
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buffer, checksum=True)
    hdu = read_hdu_layout(buffer)[1]
    return buffer.getvalue()[hdu.header_offset : hdu.end]


@functools.cache
def _pipeline_dq_def_data(value_dtype: str = "int64") -> bytes:
    """The data of the pipeline's DQ_DEF table, as FITS stores it (the data
    of :func:`_pipeline_dq_def_hdu`).

    Built with numpy: each mask read compares its table with it, and
    astropy's binary tables import ``astropy.table`` (0.15 s, more than the
    rest of a step's reading).
    """
    rows = pipeline_dq_def()
    form, zero = _VALUE_FORMS[value_dtype]
    values = np.array([row.value for row in rows], dtype=np.uint32)
    if value_dtype == "int32":
        stored = values.view(np.int32)  # bit 31 as -2**31, as Liger keeps it
    else:
        stored = values.astype(np.int64) - (zero or 0)
    table = np.zeros(
        len(rows),
        dtype=[
            ("BIT", ">i4"),
            ("VALUE", ">i8" if form == "K" else ">i4"),
            ("NAME", "S40"),
            ("DESCRIPTION", "S80"),
        ],
    )
    table["BIT"] = [row.bit for row in rows]
    table["VALUE"] = stored
    table["NAME"] = [row.name.encode("ascii") for row in rows]
    table["DESCRIPTION"] = [row.description.encode("ascii") for row in rows]
    return table.tobytes()


def _check_table_size(hdu: HDULayout, source: str) -> None:
    """Refuse a DQ_DEF header that would make astropy build a huge table.

    A flag table has a few columns and at most a row per bit (and aliases);
    astropy's decoding time grows with the declared number of columns.
    """
    for keyword, limit in (("TFIELDS", 999), ("NAXIS2", _MAX_DQ_DEF_ROWS)):
        value = hdu.header.get(keyword)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not (0 <= value <= limit)
        ):
            raise DataModelError(
                f"{source}: DQ_DEF has {keyword} = {value!r}; a flag table has "
                f"0 to {limit}: fix the table"
            )


def _checksum_problems(stream: BinaryIO, hdu: HDULayout, source: str) -> list[str]:
    """Return what is wrong with an HDU's DATASUM and CHECKSUM (nothing: [])."""
    header = hdu.header
    if "DATASUM" not in header and "CHECKSUM" not in header:
        return []
    return checksum_problems(
        stream, hdu, data_sum(stream, hdu, source=source), source=source
    )
