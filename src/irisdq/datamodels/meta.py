"""Model metadata: an attribute tree mapped to FITS keywords by one table.

:data:`KEYWORDS` is the only place where a metadata attribute meets its FITS
keyword; models read and write primary headers through it. Attribute paths
follow jwst's datamodels (``meta.instrument.detector``,
``meta.subarray.xstart``), so CRDS parameter names such as
``META.INSTRUMENT.DETECTOR`` are the upper-cased paths.

Examples
--------
>>> meta = Meta()
>>> meta.instrument.name = "IRIS"
>>> meta.detector = "IRIS1"          # short alias of meta.instrument.detector
>>> meta.instrument.detector
'IRIS1'
>>> meta.subarray.xstart = 1
>>> to_keywords(meta)
{'INSTRUME': 'IRIS', 'DETECTOR': 'IRIS1', 'SUBSTRT1': 1}
>>> meta.instrument.detectr = "IRIS2"
Traceback (most recent call last):
...
AttributeError: meta.instrument has no attribute 'detectr'; known: detector, ...
"""

import datetime
from typing import Any, NamedTuple

__all__ = [
    "ALIASES",
    "KEYWORDS",
    "Keyword",
    "Meta",
    "MetaGroup",
    "from_keywords",
    "set_keywords",
    "to_keywords",
]


class Keyword(NamedTuple):
    """One metadata attribute and its FITS keyword."""

    path: str
    keyword: str
    kind: type
    comment: str


KEYWORDS: tuple[Keyword, ...] = (
    Keyword("model_type", "DATAMODL", str, "type of data model"),
    Keyword("telescope", "TELESCOP", str, "telescope"),
    Keyword("instrument.name", "INSTRUME", str, "instrument"),
    Keyword("instrument.detector", "DETECTOR", str, "detector"),
    Keyword("instrument.filter", "FILTER", str, "filter"),
    Keyword("instrument.pupil", "PUPIL", str, "pupil"),
    Keyword("reftype", "REFTYPE", str, "reference file type"),
    Keyword("subarray.name", "SUBARRAY", str, "subarray name"),
    Keyword("subarray.xstart", "SUBSTRT1", int, "start column, 1-based"),
    Keyword("subarray.ystart", "SUBSTRT2", int, "start row, 1-based"),
    Keyword("subarray.xsize", "SUBSIZE1", int, "number of columns"),
    Keyword("subarray.ysize", "SUBSIZE2", int, "number of rows"),
    Keyword("observation.date", "DATE-OBS", str, "observation date (UTC)"),
    Keyword("observation.time", "TIME-OBS", str, "observation time (UTC)"),
    Keyword("exposure.type", "EXP_TYPE", str, "exposure type"),
    Keyword("exposure.readpatt", "READPATT", str, "readout pattern"),
    Keyword("exposure.nints", "NINTS", int, "number of integrations"),
    Keyword("exposure.ngroups", "NGROUPS", int, "groups per integration"),
    Keyword("useafter", "USEAFTER", str, "use after this date"),
    Keyword("pedigree", "PEDIGREE", str, "origin of the reference data"),
    Keyword("author", "AUTHOR", str, "author of the file"),
    Keyword("description", "DESCRIP", str, "summary of the file"),
    Keyword("date", "DATE", str, "date the file was written (UTC)"),
    Keyword("filename", "FILENAME", str, "file name"),
    Keyword("cal_step.dq_init", "S_DQINIT", str, "DQ initialization"),
    Keyword("ref_file.mask.name", "R_MASK", str, "MASK reference file"),
    Keyword("ref_file.crds.context_used", "CRDS_CTX", str, "CRDS context"),
)

# Short names the mask recipe uses: ``f.meta.name``, ``f.meta.detector``.
ALIASES = {"name": "instrument.name", "detector": "instrument.detector"}

_BY_PATH = {entry.path: entry for entry in KEYWORDS}
_GROUPS = {
    ".".join(entry.path.split(".")[:depth])
    for entry in KEYWORDS
    for depth in range(1, entry.path.count(".") + 1)
}


def _children(prefix: str) -> list[str]:
    depth = prefix.count(".") + 1 if prefix else 0
    names = {
        path.split(".")[depth]
        for path in (*_BY_PATH, *_GROUPS)
        if path.startswith(prefix + "." if prefix else "") and path.count(".") >= depth
    }
    if not prefix:
        names |= set(ALIASES)
    return sorted(names)


def _coerce(entry: Keyword, value: Any) -> Any:
    if value is None:
        return None
    if entry.kind is int:
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = None
            if number is None or not number.is_integer():
                raise TypeError(
                    f"meta.{entry.path} ({entry.keyword}) must be an integer, "
                    f"not {value!r}"
                )
            return int(number)
        return int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise TypeError(
            f"meta.{entry.path} ({entry.keyword}) must be a string, not {value!r}"
        )
    return str(value)


class MetaGroup:
    """One level of the metadata tree (``meta.instrument``, ``meta.subarray``).

    Reading an attribute that is known but unset gives None; an unknown
    name is an AttributeError, so a typo cannot go unnoticed.
    """

    __slots__ = ("_prefix", "_values")

    def __init__(self, values: dict[str, Any], prefix: str = "") -> None:
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_prefix", prefix)

    def _path(self, name: str) -> str:
        if not self._prefix and name in ALIASES:
            return ALIASES[name]
        return f"{self._prefix}.{name}" if self._prefix else name

    def _unknown(self, name: str) -> AttributeError:
        where = f"meta.{self._prefix}" if self._prefix else "meta"
        return AttributeError(
            f"{where} has no attribute {name!r}; known: "
            + ", ".join(_children(self._prefix))
        )

    def __getattr__(self, name: str) -> Any:
        # No metadata name starts with "_": such a name is Python asking
        # (copy, pickle), before _values may even be set.
        if name.startswith("_"):
            raise AttributeError(name)
        path = self._path(name)
        if path in _BY_PATH:
            return self._values.get(path)
        if path in _GROUPS:
            return MetaGroup(self._values, path)
        raise self._unknown(name)

    def __setattr__(self, name: str, value: Any) -> None:
        path = self._path(name)
        if path in _GROUPS:
            raise AttributeError(
                f"meta.{path} is a group; set one of its attributes: "
                + ", ".join(_children(path))
            )
        if path not in _BY_PATH:
            raise self._unknown(name)
        value = _coerce(_BY_PATH[path], value)
        if value is None:
            self._values.pop(path, None)
        else:
            self._values[path] = value

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __reduce__(self) -> tuple:
        # A group copied or pickled alone keeps its prefix (and the values).
        return (MetaGroup, (self._values, self._prefix))

    def __dir__(self) -> list[str]:
        return _children(self._prefix)

    def __repr__(self) -> str:
        prefix = self._prefix + "." if self._prefix else ""
        items = {
            path[len(prefix) :]: value
            for path, value in self._values.items()
            if path.startswith(prefix)
        }
        return f"<meta{'.' + self._prefix if self._prefix else ''} {items}>"


class Meta(MetaGroup):
    """The root of a model's metadata tree (``model.meta``).

    Examples
    --------
    >>> meta = Meta()
    >>> meta.subarray.name = "FULL"
    >>> meta.subarray
    <meta.subarray {'name': 'FULL'}>
    >>> meta.subarray.xstart = "first"
    Traceback (most recent call last):
    ...
    TypeError: meta.subarray.xstart (SUBSTRT1) must be an integer, not 'first'
    """

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        super().__init__({} if values is None else dict(values), "")

    def __reduce__(self) -> tuple:
        return (Meta, (self._values,))

    def to_dict(self) -> dict[str, Any]:
        """Return the set attributes as ``{path: value}``, in table order."""
        return {
            entry.path: self._values[entry.path]
            for entry in KEYWORDS
            if entry.path in self._values
        }


def to_keywords(meta: Meta) -> dict[str, Any]:
    """Return the FITS keywords of the set metadata, in table order."""
    return {
        entry.keyword: meta._values[entry.path]
        for entry in KEYWORDS
        if entry.path in meta._values
    }


def from_keywords(header, source: str = "") -> Meta:
    """Return the metadata a FITS header holds.

    Parameters
    ----------
    header : astropy.io.fits.Header or mapping
        A primary header.
    source : str, optional
        The file name, for messages.

    Raises
    ------
    DataModelError
        If a keyword has a value of the wrong type (``SUBSTRT1 = 'a'``).

    Examples
    --------
    >>> from_keywords({"INSTRUME": "IRIS", "SUBSTRT1": 1, "ORIGIN": "x"}).to_dict()
    {'instrument.name': 'IRIS', 'subarray.xstart': 1}
    """
    from irisdq.errors import DataModelError

    meta = Meta()
    for entry in KEYWORDS:
        if entry.keyword not in header:
            continue
        value = header[entry.keyword]
        if entry.kind is str and not isinstance(value, str):
            # FITS writers sometimes store a string keyword as a number
            # (DATE-OBS unquoted); keep its text.
            value = str(value)
        try:
            meta._values[entry.path] = _coerce(entry, value)
        except TypeError:
            raise DataModelError(
                f"{source or 'header'}: keyword {entry.keyword} = {value!r} "
                f"is not {'an integer' if entry.kind is int else 'a string'}"
            ) from None
    return meta


def set_keywords(meta: Meta, keywords) -> None:
    """Set metadata from FITS keywords: ``{keyword: value or (value, comment)}``.

    Raises
    ------
    KeyError
        For a keyword the metadata table does not map.

    Examples
    --------
    >>> meta = Meta()
    >>> set_keywords(meta, {"S_DQINIT": ("COMPLETE", "DQ initialization")})
    >>> meta.cal_step.dq_init
    'COMPLETE'
    """
    paths = {entry.keyword: entry.path for entry in KEYWORDS}
    for keyword, value in keywords.items():
        if keyword not in paths:
            raise KeyError(f"{keyword} is not a keyword of the model metadata")
        value = value[0] if isinstance(value, tuple) else value
        target = meta
        *groups, name = paths[keyword].split(".")
        for group in groups:
            target = getattr(target, group)
        setattr(target, name, value)
