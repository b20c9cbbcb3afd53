"""Dataset parameters: the values CRDS compares, taken from a header or model.

CRDS names parameters as data-model paths (``META.INSTRUMENT.DETECTOR``);
FITS headers carry keywords (``DETECTOR``). :data:`KEYWORDS` maps one to
the other. :mod:`irisdq.crds` takes keywords, never files: to select for a
file, read its header first (:func:`irisdq.datamodels.read_keywords`).
"""

import os
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
