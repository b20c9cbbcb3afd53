"""Dataset parameters: the values CRDS compares, taken from a header or model.

CRDS names parameters as data-model paths (``META.INSTRUMENT.DETECTOR``);
FITS headers carry keywords (``DETECTOR``). :data:`KEYWORDS` maps one to
the other. :mod:`irisdq.crds` takes keywords, never files: to select for a
file, read its header first (:func:`irisdq.datamodels.read_keywords`).
"""

import os
import re
from collections.abc import Mapping
from typing import Any

from irisdq.profiles import JWST_STYLE_PARAMETERS

__all__ = ["KEYWORDS", "dataset_parameters"]

#: CRDS parameter name -> FITS primary-header keyword, as the JWST-style
#: data models (TMT IRIS, JWST) name them; other conventions are in
#: :mod:`irisdq.profiles`.
KEYWORDS = JWST_STYLE_PARAMETERS

_PARAMETER_OF = {keyword: parameter for parameter, keyword in KEYWORDS.items()}
_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})


def dataset_parameters(dataset: Any) -> dict[str, Any]:
    """Return a dataset's parameters keyed by CRDS name, values as found.

    Parameters
    ----------
    dataset : Mapping or data model
        - a mapping of FITS keywords, such as an ``astropy.io.fits.Header``;
        - a mapping keyed by CRDS parameter names (keys containing ``.``,
          any case), such as ``{'META.INSTRUMENT.NAME': 'IRIS'}``;
        - a data model with a ``get_fits_keywords()`` method.

    Returns
    -------
    dict
        CRDS parameter names (upper case) to values. From FITS keywords,
        every name of :data:`KEYWORDS` that is present, plus the keywords
        themselves, so rmaps keyed by FITS keywords work too. A parameter
        absent from the dict is ``UNDEFINED`` to the selectors.

    Raises
    ------
    TypeError
        If `dataset` is none of the above (a file name included: read its
        keywords with :func:`irisdq.datamodels.read_keywords`).

    Examples
    --------
    >>> params = dataset_parameters({"INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    >>> params["META.INSTRUMENT.NAME"], params["META.INSTRUMENT.DETECTOR"]
    ('IRIS', 'IRIS1')
    >>> dataset_parameters({"meta.instrument.name": "IRIS"})
    {'META.INSTRUMENT.NAME': 'IRIS'}
    """
    if type(dataset) is dict:
        return _from_mapping(dataset)
    if _is_fits_header(dataset):
        # Its keywords are FITS keywords, even a record-valued card's
        # 'DP1.AXIS.1', which would make it look like CRDS parameter names.
        return _from_keywords(dataset)
    if hasattr(dataset, "get_fits_keywords"):
        return _from_keywords(dataset.get_fits_keywords())
    if isinstance(dataset, Mapping) or (
        hasattr(dataset, "keys") and hasattr(dataset, "__getitem__")
    ):
        return _from_mapping(dataset)
    hint = (
        "; read a file's keywords first with irisdq.datamodels.read_keywords(path)"
        if isinstance(dataset, str | os.PathLike)
        else ""
    )
    raise TypeError(
        "dataset must be a mapping of FITS keywords or CRDS parameters, or a "
        f"data model with get_fits_keywords(); got {type(dataset).__name__}{hint}"
    )


def _from_mapping(mapping: Any) -> dict[str, Any]:
    for key in mapping:
        if isinstance(key, str) and "." in key:
            return {str(key).upper(): value for key, value in mapping.items()}
    return _from_keywords(mapping)


def _from_keywords(header: Any) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for key, value in header.items():
        if value is None:
            continue
        name = key.upper() if isinstance(key, str) else str(key).upper()
        if name in parameters or name in _COMMENTARY:
            continue
        parameters[name] = value
        parameter = _PARAMETER_OF.get(name)
        if parameter is not None:
            parameters[parameter] = value
    return parameters


# A standard FITS keyword: read from the header's own index of cards.
_STANDARD_KEYWORD = re.compile(r"[A-Z0-9_-]{1,8}")
_ABSENT = object()


class _LazyParameters:
    """A read-only mapping of CRDS parameters over ``_value(name)``, which
    gives a parameter's value or ``_ABSENT``."""

    __slots__ = ()

    def get(self, name: str, default: Any = None) -> Any:
        value = self._value(name)
        return default if value is _ABSENT else value

    def __contains__(self, name: str) -> bool:
        return self._value(name) is not _ABSENT

    def __getitem__(self, name: str) -> Any:
        value = self._value(name)
        if value is _ABSENT:
            raise KeyError(name)
        return value


class _FitsHeaderParameters(_LazyParameters):
    """The CRDS parameters of an ``astropy.io.fits.Header``, read on demand.

    :func:`dataset_parameters` reads every card (a FITS header has hundreds,
    and astropy's ``Card.value`` costs microseconds each); a selection needs
    four to eight. Each parameter is read here as ``dataset_parameters``
    would give it: its keyword's first card, None (undefined) as absent.
    A card astropy has parsed already is read without its ``value``
    property (which looks up astropy's configuration on every call), its
    text stripped of trailing blanks as that property does by default (and
    as conditioning does anyway); any other card goes through the public
    API.
    """

    __slots__ = ("_cards", "_header", "_indices")

    def __init__(self, header: Any):
        self._header = header
        self._indices = getattr(header, "_keyword_indices", None)
        self._cards = getattr(header, "_cards", None)

    def _value(self, name: str) -> Any:
        keyword = KEYWORDS.get(name, name)
        if keyword in _COMMENTARY or name != name.upper():
            return _ABSENT
        if self._indices is not None and _STANDARD_KEYWORD.fullmatch(keyword):
            found = self._indices.get(keyword)
            if not found:
                return _ABSENT
            card = self._cards[found[0]]
            value = card._value
            if value is not None and card.field_specifier is None:
                if type(value) is str:
                    return value.rstrip()
                if type(value) in (int, float, bool):
                    return value
                return _ABSENT if type(value).__name__ == "Undefined" else value
        value = self._header.get(keyword)
        return _ABSENT if value is None else value


class _KeywordParameters(_LazyParameters):
    """The CRDS parameters of a plain dict of upper-case FITS keywords, read
    on demand: the values :func:`dataset_parameters` gives, without
    building them all for the few a selection asks for."""

    __slots__ = ("_keywords",)

    def __init__(self, keywords: dict):
        self._keywords = keywords

    def _value(self, name: str) -> Any:
        keyword = KEYWORDS.get(name, name)
        if keyword in _COMMENTARY:
            return _ABSENT
        value = self._keywords.get(keyword)
        return _ABSENT if value is None else value

    def get(self, name: str, default: Any = None) -> Any:
        # _value inlined: a selection calls this for every parameter.
        keyword = KEYWORDS.get(name, name)
        value = self._keywords.get(keyword)
        if value is None or keyword in _COMMENTARY:
            return default
        return value


def parameter_lookup(dataset: Any) -> Any:
    """Return a dataset's parameters for a selection: a mapping that gives
    the values :func:`dataset_parameters` gives, reading a FITS header only
    for the parameters asked for.

    Examples
    --------
    >>> from astropy.io import fits
    >>> header = fits.Header({"INSTRUME": "IRIS", "DETECTOR": "IRIS1 "})
    >>> lookup = parameter_lookup(header)
    >>> lookup["META.INSTRUMENT.DETECTOR"], "META.SUBARRAY.NAME" in lookup
    ('IRIS1', False)
    >>> parameter_lookup({"INSTRUME": "IRIS"})["META.INSTRUMENT.NAME"]
    'IRIS'
    >>> parameter_lookup({"meta.instrument.name": "IRIS"})
    {'META.INSTRUMENT.NAME': 'IRIS'}
    """
    if type(dataset) is dict:
        # Upper-case keywords without dots (the usual header dict) are read
        # as they are; any other dict is converted whole.
        for key in dataset:
            if type(key) is not str or "." in key or not key.isupper():
                return _from_mapping(dataset)
        return _KeywordParameters(dataset)
    if _is_fits_header(dataset):
        return _FitsHeaderParameters(dataset)
    return dataset_parameters(dataset)


def _is_fits_header(dataset: Any) -> bool:
    return type(dataset).__module__.startswith("astropy.io.fits") and hasattr(
        dataset, "cards"
    )
