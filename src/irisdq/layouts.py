"""Layouts: where files keep their arrays, and where arrays lie on a detector.

The bottom layer of irisdq's conventions, read by the profiles, the data
models and the algorithms alike:

- :class:`RampLayout`: the extensions, axes and dtypes of a raw ramp;
- :class:`MaskLayout`: how a pipeline writes its bad-pixel reference file;
- :class:`Subarray`: where an array lies on the detector (SUBSTRT1/2);
- :func:`detector_shape`: the full-frame shape of a detector;
- :data:`TMT_RAMP`, :data:`LIGER_RAMP` and :data:`TMT_MASK`: the layouts of
  irisdq's own data models (``RampModel``, ``LigerRampModel``, a new
  ``TMTMaskModel``).

It imports nothing but the standard library, so that the profiles can be
listed (``irisdq --help``, ``irisdq profiles``) without loading numpy.

Examples
--------
>>> liger = RampLayout("data", ("ny", "nx", "ngroups", "nreads"), dq="DQ",
...                    dq_dtype="uint16")
>>> liger.science, liger.planes_first, liger.dq_bits
('DATA', True, 16)
>>> liger.describe()
'DATA (ny, nx, ngroups, nreads), DQ uint16 (ny, nx, ngroups, nreads)'
>>> TMT_RAMP.dq_extensions
('PIXELDQ', 'GROUPDQ')
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LIGER_RAMP",
    "TMT_MASK",
    "TMT_RAMP",
    "MaskLayout",
    "RampLayout",
    "Subarray",
    "detector_shape",
]

# The DQ dtypes a single-DQ layout may have, and their widths in bits.
_UNSIGNED_BITS = {"uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}


@dataclass(frozen=True)
class RampLayout:
    """Where a raw ramp keeps its arrays.

    Two kinds exist:

    - *split*: a 2-D pixel DQ (uint32, ``(ny, nx)``) and a per-group DQ
      (uint8, the science array's shape), the plane axes ``ny, nx`` last
      (TMT IRIS and JWST: ``PIXELDQ``/``GROUPDQ``); the per-group DQ may be
      absent (JWST's guider exposures: ``DQ`` alone);
    - *single-DQ*: one DQ array of the science array's shape, of
      ``dq_dtype``, where every reading of a pixel gets its flags (Liger
      2025: ``DQ`` uint16, ``(ny, nx, ngroups, nreads)``), the plane axes
      first or last.

    Extension names are kept in upper case, as FITS compares them.

    Attributes
    ----------
    science : str
        The extension of the science ramp (``SCI``, ``DATA``).
    axes : tuple of str
        The names of the science array's numpy axes, slowest first. ``ny``
        and ``nx`` are the detector rows and columns; the others are
        repeated readings of the same pixels.
    pixel_dq, group_dq : str or None
        The extensions of the 2-D pixel DQ (uint32, ``(ny, nx)``) and of
        the per-group DQ (uint8, the science array's shape), when the
        layout splits them (JWST's convention).
    dq : str or None
        The one DQ extension of a layout that does not split them: the
        science array's shape, every reading of a pixel gets its flags.
    dq_dtype : str
        The dtype of ``dq`` (``uint16`` holds flags 0..15 only); ``uint32``
        for a split layout.
    science_kinds : str
        The numpy dtype kinds the science array may have (``'f'``: floating
        point only, as jwst's RampModel); empty for any.
    science_dtype : str or None
        The dtype the ramp's data model gives the science array (``float32``
        for TMT IRIS's SCI, ``uint16`` for Liger's DATA); None keeps the
        dtype the file stores.
    err : str or None
        The extension of the science array's errors (float32, its shape).
    times : str or None
        The extension of the time of each reading (float64, the science
        axes other than ``ny`` and ``nx``).

    The data models (:class:`irisdq.datamodels.LayoutRampModel`) take their
    arrays from these fields: ``data``, ``pixeldq`` and ``groupdq`` or
    ``dq``, ``err`` and ``times``.

    Raises
    ------
    ValueError
        If the layout cannot describe a ramp: no ``ny``/``nx`` axes next to
        each other, both or neither kind of DQ, a split layout whose planes
        are not its last two axes, a single DQ whose planes are neither
        first nor last, a DQ dtype that is not an unsigned integer, or an
        extension named twice.
    """

    science: str
    axes: tuple[str, ...]
    pixel_dq: str | None = None
    group_dq: str | None = None
    dq: str | None = None
    dq_dtype: str = "uint32"
    science_kinds: str = ""
    science_dtype: str | None = None
    err: str | None = None
    times: str | None = None

    def __post_init__(self) -> None:
        for attr in ("pixel_dq", "group_dq", "dq", "err", "times"):
            object.__setattr__(self, attr, _extension(getattr(self, attr)))
        object.__setattr__(self, "science", _extension(self.science) or "")
        object.__setattr__(self, "axes", tuple(str(axis) for axis in self.axes))
        dtype = _dtype_name(self.dq_dtype) if self.dq else "uint32"
        object.__setattr__(self, "dq_dtype", dtype)
        if self.science_dtype is not None:
            object.__setattr__(self, "science_dtype", _dtype_name(self.science_dtype))
        self._check()

    def _check(self) -> None:
        what = f"ramp layout {self.axes}"
        if not self.science:
            raise ValueError(f"{what}: name the science extension")
        if "ny" not in self.axes or "nx" not in self.axes:
            raise ValueError(f"{what}: the axes must include ny and nx")
        y, x = self.plane_axes()
        if x != y + 1:
            raise ValueError(f"{what}: nx must follow ny")
        if self.dq is None:
            # A pixel DQ alone is JWST's guider layout (GuiderRawModel: SCI, DQ).
            if not self.pixel_dq:
                raise ValueError(f"{what}: give dq, or pixel_dq (and group_dq)")
            if x != len(self.axes) - 1:
                raise ValueError(f"{what}: a split layout keeps ny, nx last")
        else:
            if self.pixel_dq or self.group_dq:
                raise ValueError(f"{what}: give dq, or pixel_dq and group_dq, not both")
            if self.dq_dtype not in _UNSIGNED_BITS:
                raise ValueError(
                    f"{what}: dq_dtype {self.dq_dtype} is not unsigned; give one "
                    f"of {', '.join(_UNSIGNED_BITS)}"
                )
            if y != 0 and x != len(self.axes) - 1:
                raise ValueError(f"{what}: ny, nx must be the first or last two axes")
        names = (self.science, *self.dq_extensions)
        names += tuple(name for name in (self.err, self.times) if name)
        if len(set(names)) != len(names):
            raise ValueError(f"{what}: an extension name is used twice: {names}")

    @property
    def split(self) -> bool:
        """True for a pixel DQ layout (with or without a per-group DQ)."""
        return self.dq is None

    @property
    def dq_extensions(self) -> tuple[str, ...]:
        """The DQ extensions DQ initialization writes, pixel DQ first."""
        return tuple(n for n in (self.pixel_dq, self.group_dq, self.dq) if n)

    @property
    def dq_bits(self) -> int:
        """How many flag bits the pixel flags can keep (32, or 16 for a
        ``uint16`` DQ array)."""
        return 32 if self.dq is None else _UNSIGNED_BITS[self.dq_dtype]

    def plane_axes(self) -> tuple[int, int]:
        """The positions of ``ny`` and ``nx`` in :attr:`axes`."""
        return self.axes.index("ny"), self.axes.index("nx")

    @property
    def planes_first(self) -> bool:
        """True when ``ny, nx`` are the first two axes (else the last two)."""
        return self.plane_axes() == (0, 1)

    def axes_text(self) -> str:
        """``'(ny, nx, ngroups, nreads)'``."""
        return f"({', '.join(self.axes)})"

    def arrays(self) -> list[str]:
        """The science array and the DQ arrays, each with its type and axes.

        Examples
        --------
        >>> RampLayout("DATA", ("ny", "nx", "nreads"), dq="DQ").arrays()
        ['DATA (ny, nx, nreads)', 'DQ uint32 (ny, nx, nreads)']
        """
        cube = self.axes_text()
        if self.dq:
            return [f"{self.science} {cube}", f"{self.dq} {self.dq_dtype} {cube}"]
        listed = [f"{self.science} {cube}", f"{self.pixel_dq} uint32 (ny, nx)"]
        if self.group_dq:
            listed.append(f"{self.group_dq} uint8 {cube}")
        return listed

    def describe(self) -> str:
        """One line: the science array and the DQ arrays."""
        return ", ".join(self.arrays())

    def tree_arrays(self) -> dict[str, str]:
        """ASDF tree attribute -> extension, as the layout's data models
        name them: ``data`` for the science array, each DQ extension's name
        in lower case, and the ``err`` and ``times`` a ramp may carry."""
        names = {"data": self.science}
        names.update((name.lower(), name) for name in self.dq_extensions)
        names.update(_EXTRA_TREE_ARRAYS)
        return names


def _extension(value: Any) -> str | None:
    return str(value).strip().upper() if value else None


def _dtype_name(value: Any) -> str:
    """``'uint16'`` for a numpy dtype or type, or the name given."""
    return str(getattr(value, "name", None) or getattr(value, "__name__", value))


# Arrays that DQ initialization passes through but the tree points to.
_EXTRA_TREE_ARRAYS = {"err": "ERR", "times": "TIMES"}

#: The TMT IRIS data models' ramp (2020), also JWST's: the layout of
#: ``irisdq.datamodels.RampModel``.
TMT_RAMP = RampLayout(
    science="SCI",
    axes=("nints", "ngroups", "ny", "nx"),
    pixel_dq="PIXELDQ",
    group_dq="GROUPDQ",
    science_dtype="float32",
    err="ERR",
)

#: The Liger/IRIS pipeline's ramp (2025): the layout of
#: ``irisdq.datamodels.LigerRampModel``.
LIGER_RAMP = RampLayout(
    science="DATA",
    axes=("ny", "nx", "ngroups", "nreads"),
    dq="DQ",
    dq_dtype="uint16",
    science_dtype="uint16",
    times="TIMES",
)


@dataclass(frozen=True)
class MaskLayout:
    """The bad-pixel reference file of a pipeline, as it writes it.

    Attributes
    ----------
    datamodel : str
        ``DATAMODL`` of the reference (``TMTMaskModel``, ``MaskModel``,
        ``DQModel``).
    reftype : str
        ``REFTYPE`` written in its header, as that pipeline spells it
        (``MASK``, ``dq``).
    telescopes : mapping
        ``TELESCOP`` written, by ``INSTRUME`` (upper case); ``'*'`` for any
        other instrument (none written when absent).
    value_dtype : str
        The type of the flag table's VALUE column as that pipeline writes
        it (``int32`` stores bit 31 as -2**31).
    dq, dq_def : str
        The extensions of the flags (uint32, ``(ny, nx)``) and of the table
        naming them (columns BIT, VALUE, NAME, DESCRIPTION).

    Examples
    --------
    >>> jwst = MaskLayout("MaskModel", "MASK", {"*": "JWST"}, "uint32")
    >>> jwst.telescope_for("NIRCAM"), jwst.dq_def
    ('JWST', 'DQ_DEF')
    """

    datamodel: str
    reftype: str
    telescopes: Mapping[str, str] = field(default_factory=dict)
    value_dtype: str = "int64"
    dq: str = "DQ"
    dq_def: str = "DQ_DEF"

    def telescope_for(self, instrument: str | None) -> str | None:
        """``TELESCOP`` of a mask of `instrument`, or None.

        Examples
        --------
        >>> MaskLayout("DQModel", "dq", {"LIGER": "Keck-I"}).telescope_for("Liger")
        'Keck-I'
        """
        telescopes = self.telescopes
        return telescopes.get(str(instrument).strip().upper(), telescopes.get("*"))


#: The TMT IRIS mask (``TMTMaskModel``): what a new mask is written as.
TMT_MASK = MaskLayout("TMTMaskModel", "MASK", {"*": "TMT"})


@dataclass(frozen=True)
class Subarray:
    """Where an array lies on the detector, as FITS headers give it.

    ``xstart`` (SUBSTRT1) is the 1-based first column, numpy's last axis;
    ``ystart`` (SUBSTRT2) the 1-based first row. ``xsize``/``ysize``
    (SUBSIZE1/SUBSIZE2) are optional: the arrays' own shapes are what count.

    Examples
    --------
    >>> Subarray(xstart=3, ystart=2).describe()
    'SUBSTRT1=3 SUBSTRT2=2'
    """

    xstart: int = 1
    ystart: int = 1
    xsize: int | None = None
    ysize: int | None = None

    def describe(self) -> str:
        """The position as its keywords: ``'SUBSTRT1=3 SUBSTRT2=2'``."""
        size = (
            f", SUBSIZE1={self.xsize} SUBSIZE2={self.ysize}"
            if self.xsize is not None or self.ysize is not None
            else ""
        )
        return f"SUBSTRT1={self.xstart} SUBSTRT2={self.ystart}{size}"


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
