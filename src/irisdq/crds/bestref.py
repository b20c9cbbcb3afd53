"""Best-reference selection: the functions the pipeline steps call.

A mapping of keywords or parameters is selected for here directly; a file
or a model in memory is first described by :func:`irisdq.exposure.resolve`
(its profile's observatory and keywords, header over ASDF tree), imported
only then, so that selecting for keywords never loads astropy.
"""

import os
from collections.abc import Mapping
from typing import Any

from irisdq.crds.context import Context, Selection, get_context

__all__ = ["bestref", "explain_bestref", "select_reference"]


def select_reference(
    dataset: Any, reftype: str, context: str | None = None
) -> Selection:
    """Choose the reference file for a dataset, whether or not it is cached.

    Parameters
    ----------
    dataset : str, os.PathLike, Mapping or data model
        A mapping of FITS keywords (an ``astropy.io.fits.Header`` is one) or
        of CRDS parameters (``META.INSTRUMENT.NAME``...); or a FITS file or a
        data model in memory (irisdq's, stdatamodels'), selected for in the
        observatory of its profile (:func:`irisdq.exposure.resolve`).
    reftype : str
        The reference type, any case: ``'mask'``.
    context : str, optional
        The pmap to use; see :func:`irisdq.crds.get_context` for the default.

    Returns
    -------
    Selection
        ``filename``, ``path`` (where it is or is expected), ``exists``,
        ``context``, ``uri`` (``crds://<filename>``) and ``explain()``.

    Raises
    ------
    NoMatchError
        Unknown instrument or reference type, or no rule matches.
    MappingError
        A mapping is missing, malformed, unsafe or ambiguous.

    Examples
    --------
    >>> header = {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": "FULL",
    ...           "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00"}
    >>> selection = select_reference(header, "mask", context="tmt_0001.pmap")
    >>> selection.filename, selection.uri, selection.context
    ('tmt_iris_mask_0001.fits', 'crds://tmt_iris_mask_0001.fits', 'tmt_0001.pmap')
    >>> selection.path.parts[-3:]
    ('tmt', 'iris', 'tmt_iris_mask_0001.fits')
    >>> select_reference(header, "dflat", context="tmt_0001.pmap").filename
    'N/A'
    """
    loaded, parameters, reftype = _resolved(dataset, reftype, context)
    return loaded.select(parameters, reftype)


def bestref(
    dataset: Any, reftype: str, context: str | None = None
) -> str | tuple[str, ...] | dict[str, str]:
    """Return the path of the best reference file, or ``'N/A'``.

    Parameters
    ----------
    dataset : str, os.PathLike, Mapping or data model
        As for :func:`select_reference`.
    reftype : str
        The reference type, any case: ``'mask'``.
    context : str, optional
        The pmap to use; see :func:`irisdq.crds.get_context` for the default.

    Returns
    -------
    str, tuple of str or dict
        The file's path in the cache, or ``'N/A'`` when the reference type
        does not apply to the dataset (the step is then skipped). A selector
        that picks several files (Bracket) gives a tuple of paths, a rule
        whose choice is a table of files a dict of paths.

    Raises
    ------
    ReferenceFileError
        If the chosen file is not in the cache; the message gives the exact
        path where it is expected.
    NoMatchError
        Unknown instrument or reference type, or no rule matches; the
        message shows the dataset's values and the rule keys.
    MappingError
        A mapping is missing, malformed, unsafe or ambiguous.

    Examples
    --------
    >>> header = {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": "FULL",
    ...           "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00"}
    >>> bestref(header, "DFLAT", context="tmt_0001.pmap")
    'N/A'
    >>> bestref({**header, "DETECTOR": "IRIS2"}, "mask", context="tmt_0001.pmap")
    Traceback (most recent call last):
    ...
    irisdq.errors.NoMatchError: no MASK reference for this dataset in ...
    """
    loaded, parameters, reftype = _resolved(dataset, reftype, context)
    return loaded.bestref(parameters, reftype)


def explain_bestref(dataset: Any, reftype: str, context: str | None = None) -> str:
    """Return why :func:`bestref` chooses what it does, as text.

    The text names the context, the instrument and reference mappings, the
    dataset values compared, every Match rule with its score or why it was
    eliminated, the use-after date chosen, the result and its path.

    Parameters
    ----------
    dataset, reftype, context
        As for :func:`bestref`.

    Returns
    -------
    str

    Raises
    ------
    NoMatchError, MappingError
        As for :func:`select_reference`.

    Examples
    --------
    >>> header = {"INSTRUME": "IRIS", "DETECTOR": "IRIS1", "SUBARRAY": "FULL",
    ...           "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00"}
    >>> print(explain_bestref(header, "mask", context="tmt_0001.pmap"))
    context    tmt_0001.pmap (given); cache ...
    instrument IRIS -> tmt_iris_0003.imap
    reftype    MASK -> tmt_iris_mask_0001.rmap
    dataset    META.INSTRUMENT.DETECTOR = 'IRIS1'
               META.SUBARRAY.NAME = 'FULL'
               META.OBSERVATION.DATE = '2020-07-13'
               META.OBSERVATION.TIME = '00:00:00'
    Match (line 22) on META.INSTRUMENT.DETECTOR, META.SUBARRAY.NAME:
      ('IRIS1', 'GENERIC') line 23: 'IRIS1' matches 'IRIS1', 'FULL' vs ... -> rank 1
      chose ('IRIS1', 'GENERIC'), rank 1
    UseAfter (line 23) on META.OBSERVATION.DATE, ...: 2020-07-13 00:00:00
      chose 2015-10-01 00:00:00, the latest of 1 use-after date(s) on or before it
    result     tmt_iris_mask_0001.fits
    path       .../references/tmt/iris/tmt_iris_mask_0001.fits (...)
    """
    return select_reference(dataset, reftype, context).explain()


def _resolved(
    dataset: Any, reftype: str, context: str | None
) -> tuple[Context, Any, str]:
    """The context, dataset values and reference type name to select with.

    A file or a model is selected for in its own profile's observatory, by
    the name that observatory gives `reftype` (``dq`` or ``mask``).
    """
    if isinstance(dataset, Mapping) or not (
        isinstance(dataset, str | os.PathLike) or hasattr(dataset, "meta")
    ):
        return get_context(context), dataset, reftype
    from irisdq.exposure import resolve

    exposure = resolve(dataset)
    loaded = exposure.context(context)
    return loaded, exposure.parameters, exposure.reftype_in(loaded, reftype)
