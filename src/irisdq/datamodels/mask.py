"""``TMTMaskModel``: a bad-pixel mask reference file (REFTYPE MASK).

Layout: an empty primary HDU with the reference keywords, a ``DQ`` image of
uint32 flags (ny, nx) and a ``DQ_DEF`` table naming the flags.
"""

import functools
import io
import re
import warnings
from typing import Any, BinaryIO, ClassVar

import numpy as np

from irisdq.datamodels.hdu_io import DataModelWarning, verify_hdu
from irisdq.datamodels.layout import HDULayout, read_hdu_layout
from irisdq.datamodels.model import ArraySpec, DataModel, _default_author
from irisdq.dqflags import (
    DQDefRow,
    dq_def_mapping,
    is_identity,
    pipeline_dq_def,
    remap_flags,
)
from irisdq.errors import DataModelError

__all__ = ["DEFAULT_USEAFTER", "TMTMaskModel", "detector_shape"]

# Early enough that a mask made without a date applies to every exposure.
DEFAULT_USEAFTER = "2000-01-01T00:00:00"

_IRIS_DETECTOR = re.compile(r"IRIS\d+")


def detector_shape(detector: str | None) -> tuple[int, int] | None:
    """Return the full-frame (ny, nx) of a detector, or None if unknown.

    IRIS detectors (``IRIS1``, ``IRIS2``, ...) are 4096 x 4096 H4RG arrays.

    Examples
    --------
    >>> detector_shape("IRIS1"), detector_shape("NRCA1")
    ((4096, 4096), None)
    """
    if detector and _IRIS_DETECTOR.fullmatch(detector.strip().upper()):
        return (4096, 4096)
    return None


class TMTMaskModel(DataModel):
    """A bad-pixel mask: ``dq``, uint32 (ny, nx), in the pipeline's flags.

    Parameters
    ----------
    init : str, os.PathLike or None
        A mask file to open, or None for a new mask.
    verify_checksums : bool, optional
        Warn when DATASUM/CHECKSUM do not match the contents.

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

    :meth:`write` fills in ``TELESCOP='TMT'``, ``INSTRUME='IRIS'``,
    ``REFTYPE='MASK'``, ``SUBARRAY='FULL'``, ``SUBSTRT1/2=1``,
    ``SUBSIZE1/2`` from the shape, ``USEAFTER`` (2000-01-01), ``PEDIGREE``
    (``GROUND``), ``AUTHOR`` (the user) and ``DESCRIP`` unless ``meta``
    sets them.

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
    required_keywords = ("INSTRUME", "DETECTOR")

    def __init__(self, init=None, *, verify_checksums: bool = True) -> None:
        self._mapping: dict[int, int] | None = None
        self._named_bits = 0
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

    def _check_before_write(self) -> None:
        super()._check_before_write()
        if not self.meta.instrument.detector:
            raise DataModelError(
                "TMTMaskModel.meta.detector (DETECTOR) is not set; a mask "
                "belongs to one detector: set e.g. meta.detector = 'IRIS1'"
            )
        self._check_shape(self.arrays[0], self.shape)

    def _default_keywords(self) -> dict[str, Any]:
        keywords = super()._default_keywords()
        instrument = self.meta.instrument.name or "IRIS"
        detector = self.meta.instrument.detector or ""
        keywords.update(
            {
                "INSTRUME": instrument,
                "REFTYPE": "MASK",
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

        self._stream.seek(hdu.header_offset)
        raw = self._stream.read(hdu.end - hdu.header_offset)
        if _is_pipeline_dq_def(hdu, raw):
            # The pipeline's own flags (as irisdq writes them): nothing to remap.
            return True
        if self._verify:
            verify_hdu(self._stream, hdu, source=str(self.path))
        try:
            table = fits.BinTableHDU.fromstring(raw)
            data = table.data
            names = {name.upper(): name for name in data.columns.names}
            rows = [
                DQDefRow(
                    int(row[names["BIT"]]) if "BIT" in names else -1,
                    int(row[names["VALUE"]]),
                    str(row[names["NAME"]]).strip(),
                    str(row[names["DESCRIPTION"]]).strip()
                    if "DESCRIPTION" in names
                    else "",
                )
                for row in data
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
        return True

    def _copy_through(self, spec: ArraySpec) -> bool:
        return self._mapping is None

    def _load(self, spec: ArraySpec, hdu: HDULayout) -> np.ndarray:
        dq = super()._load(spec, hdu)
        if self._mapping is None:
            return dq
        present = int(np.bitwise_or.reduce(dq, axis=None))
        if present & ~self._named_bits:
            warnings.warn(
                f"{self.path}: DQ uses bit value(s) "
                f"{_bit_values(present & ~self._named_bits)} that DQ_DEF does "
                "not name; they are dropped",
                DataModelWarning,
                stacklevel=4,
            )
        return remap_flags(dq, self._mapping)

    def _write_extra_hdus(self, stream: BinaryIO) -> None:
        stream.write(_pipeline_dq_def_hdu())


_PIPELINE_COLUMNS = (
    ("BIT", "J"),
    ("VALUE", "K"),
    ("NAME", "40A"),
    ("DESCRIPTION", "80A"),
)


@functools.cache
def _pipeline_dq_def_data() -> bytes:
    """The data of the pipeline's DQ_DEF table, as FITS stores it."""
    rows = pipeline_dq_def()
    table = np.array(
        [(r.bit, r.value, r.name.encode(), r.description.encode()) for r in rows],
        dtype=[
            ("BIT", ">i4"),
            ("VALUE", ">i8"),
            ("NAME", "S40"),
            ("DESCRIPTION", "S80"),
        ],
    )
    return table.tobytes()


def _is_pipeline_dq_def(hdu: HDULayout, raw: bytes) -> bool:
    """Whether a DQ_DEF extension holds exactly the pipeline's flag table.

    Compares the column layout and the data bytes, which is much cheaper than
    decoding the table with astropy: reading a mask that irisdq wrote stays
    fast.
    """
    header = hdu.header
    if header.get("TFIELDS") != len(_PIPELINE_COLUMNS):
        return False
    for number, (name, form) in enumerate(_PIPELINE_COLUMNS, start=1):
        if str(header.get(f"TTYPE{number}", "")).strip().upper() != name:
            return False
        if str(header.get(f"TFORM{number}", "")).strip().upper() != form:
            return False
    start = hdu.data_offset - hdu.header_offset
    return raw[start : start + hdu.data_size] == _pipeline_dq_def_data()


@functools.cache
def _pipeline_dq_def_hdu() -> bytes:
    """The DQ_DEF extension of the pipeline flags, as bytes with checksums.

    It is the same for every mask, and building a table with astropy costs
    more than writing the 64 MiB of DQ, so it is built once.
    """
    from astropy.io import fits

    rows = pipeline_dq_def()
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[row.bit for row in rows]),
            fits.Column("VALUE", "K", array=[row.value for row in rows]),
            fits.Column("NAME", "40A", array=[row.name for row in rows]),
            fits.Column("DESCRIPTION", "80A", array=[row.description for row in rows]),
        ],
        name="DQ_DEF",
    )
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buffer, checksum=True)
    hdu = read_hdu_layout(buffer)[1]
    return buffer.getvalue()[hdu.header_offset : hdu.end]


def _bit_values(value: int) -> str:
    return ", ".join(str(1 << bit) for bit in range(32) if value >> bit & 1)
