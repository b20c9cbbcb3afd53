"""Dataset parameters: the values CRDS compares, taken from a header or model.

CRDS names parameters as data-model paths (``META.INSTRUMENT.DETECTOR``);
FITS headers carry keywords (``DETECTOR``). :data:`KEYWORDS` maps one to
the other. Reading a FITS file goes through :mod:`irisdq.datamodels`, the
only layer that touches FITS.
"""

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["KEYWORDS", "dataset_parameters"]

#: CRDS parameter name -> FITS primary-header keyword.
KEYWORDS = {
    "META.INSTRUMENT.NAME": "INSTRUME",
    "META.INSTRUMENT.DETECTOR": "DETECTOR",
    "META.SUBARRAY.NAME": "SUBARRAY",
    "META.OBSERVATION.DATE": "DATE-OBS",
    "META.OBSERVATION.TIME": "TIME-OBS",
    "META.EXPOSURE.TYPE": "EXP_TYPE",
    "META.EXPOSURE.READPATT": "READPATT",
    "META.INSTRUMENT.FILTER": "FILTER",
    "META.INSTRUMENT.PUPIL": "PUPIL",
    "META.SUBARRAY.XSTART": "SUBSTRT1",
    "META.SUBARRAY.YSTART": "SUBSTRT2",
    "META.SUBARRAY.XSIZE": "SUBSIZE1",
    "META.SUBARRAY.YSIZE": "SUBSIZE2",
    "META.TELESCOPE": "TELESCOP",
}

_PARAMETER_OF = {keyword: parameter for parameter, keyword in KEYWORDS.items()}
_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})


def dataset_parameters(dataset: Any) -> dict[str, Any]:
    """Return a dataset's parameters keyed by CRDS name, values as found.

    Parameters
    ----------
    dataset : str, os.PathLike, Mapping or data model
        - a path to a FITS file, whose primary header is read;
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
        If `dataset` is none of the above.
    DataModelError
        If a FITS file is not a regular file or has a card that is not
        valid FITS.

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
    if isinstance(dataset, str | os.PathLike):
        from astropy.io.fits.verify import VerifyError

        from irisdq.datamodels import read_primary_header
        from irisdq.datamodels.files import require_regular_file
        from irisdq.errors import DataModelError

        require_regular_file(dataset, "a dataset for best-reference selection")
        header = read_primary_header(dataset)
        try:
            return _from_keywords(header)
        except (VerifyError, ValueError) as exc:
            # astropy parses a card's value on first use.
            raise DataModelError(
                f"{os.fspath(dataset)}: a primary header card is not valid FITS "
                f"({' '.join(str(exc).split())}); rewrite that card"
            ) from None
    if hasattr(dataset, "get_fits_keywords"):
        return _from_keywords(dataset.get_fits_keywords())
    if isinstance(dataset, Mapping) or (
        hasattr(dataset, "keys") and hasattr(dataset, "__getitem__")
    ):
        return _from_mapping(dataset)
    raise TypeError(
        "dataset must be a FITS file path, a mapping of FITS keywords or CRDS "
        "parameters, or a data model with get_fits_keywords(); "
        f"got {type(dataset).__name__}"
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
