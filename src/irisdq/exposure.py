"""What a dataset is, and what selects its reference files: one answer.

Every entry point that needs to know which convention a dataset follows and
with which values CRDS selects its references (the DQ initialization step,
``irisdq crds bestref``, ``irisdq profiles``, the stpipe step and mixin,
``mask info`` and ``mask check``) asks :func:`resolve`. It takes

- a FITS file (its primary header, its extensions' shapes, and the ``meta``
  tree of its ``ASDF`` extension, read without loading any array);
- an irisdq model in memory (:class:`~irisdq.datamodels.RampModel`,
  :class:`~irisdq.datamodels.LigerRampModel`,
  :class:`~irisdq.datamodels.TMTMaskModel`);
- a stdatamodels model in memory (jwst's ``RampModel``, the Liger/IRIS
  pipeline's ``RampModel``...): its FITS keywords are those its schema
  writes to the primary header, its tree is the model's own;
- a mapping of FITS keywords or of CRDS parameters,

and returns an :class:`Exposure`: its profile (:mod:`irisdq.profiles`),
whether it is a raw ramp, a mask or something else, its keywords and its
CRDS parameters. Keywords are merged here and nowhere else: the primary
header's values, and the ASDF tree's where the header is silent (a JWST
ramp whose DETECTOR lives only in the tree is selected by it), which is
how stdatamodels reads such a file too.

Examples
--------
>>> exposure = resolve({"TELESCOP": "JWST", "INSTRUME": "NIRCAM",
...                     "DETECTOR": "NRCA1"})
>>> exposure.profile.name, exposure.parameters["META.INSTRUMENT.DETECTOR"]
('jwst', 'NRCA1')
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irisdq import profiles
from irisdq.profiles import Profile

__all__ = ["Exposure", "keyword_path", "merge_keywords", "resolve"]

#: What a dataset is: a raw ramp of its profile, a bad-pixel mask, or other.
RAMP, MASK, OTHER = "ramp", "mask", "other"

# Tree entries that name the file's kind, under their FITS keywords.
_TREE_KEYWORDS = {"META.MODEL_TYPE": "DATAMODL", "META.REFTYPE": "REFTYPE"}
_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})


@dataclass(frozen=True)
class Exposure:
    """A dataset as reference selection sees it.

    Attributes
    ----------
    source : str
        The file name, or ``<ClassName>`` for a model without a file; what
        messages call the dataset.
    profile : Profile
        The convention it follows: the one asked for, else detected.
    kind : str
        ``'ramp'`` (a raw ramp of :attr:`profile`), ``'mask'`` or
        ``'other'``.
    keywords : dict
        Its primary-header keywords, with the ASDF tree's values (under the
        profile's keywords) where the header has none.
    parameters : dict
        The CRDS parameters its references are selected with (upper-case
        names; a parameter absent is ``UNDEFINED`` to CRDS).
    shapes : dict
        Extension name -> shape (None for tables), as far as known.
    path : Path or None
        The file, when there is one.
    """

    source: str
    profile: Profile
    kind: str
    keywords: dict[str, Any] = field(repr=False)
    parameters: dict[str, Any] = field(repr=False)
    shapes: dict[str, Any] = field(default_factory=dict, repr=False)
    path: Path | None = None

    @property
    def is_ramp(self) -> bool:
        """Whether the dataset is a raw ramp of its profile."""
        return self.kind == RAMP

    def require_ramp(self) -> None:
        """Raise unless the dataset is a raw ramp of :attr:`profile`.

        Raises
        ------
        irisdq.profiles.ProfileError
            Naming the dataset, the extension its profile needs and what it
            has.

        Examples
        --------
        >>> resolve({"INSTRUME": "IRIS"}).require_ramp()
        Traceback (most recent call last):
        ...
        irisdq.profiles.ProfileError: <dict>: profile tmt needs a 4-D SCI ...
        """
        profiles.check_layout(self.profile, self.shapes, self.source)

    def context(self, name: str | None = None):
        """The CRDS context of the profile's observatory (`name` if given;
        see :func:`irisdq.crds.get_context`)."""
        from irisdq import crds

        return crds.get_context(name, self.profile.observatory)

    def reftype_in(self, context: Any, wanted: str | None = None) -> str:
        """The reference type `wanted` (default: the bad-pixel reference) as
        `context` names it for this dataset (``dq`` or ``mask``)."""
        return self.profile.reftype_in(context, self.parameters, wanted)

    def select(self, reftype: str | None = None, context: str | None = None):
        """The CRDS selection (:class:`irisdq.crds.Selection`) of `reftype`
        (default: the bad-pixel reference) for this dataset.

        Examples
        --------
        >>> exposure = resolve({"INSTRUME": "IRIS", "DETECTOR": "IRIS1",
        ...     "SUBARRAY": "FULL", "DATE-OBS": "2020-07-13", "TIME-OBS": "00:00:00"})
        >>> exposure.select(context="tmt_0001.pmap").filename
        'tmt_iris_mask_0001.fits'
        """
        loaded = self.context(context)
        return loaded.select(self.parameters, self.reftype_in(loaded, reftype))

    def bestref(
        self, reftype: str | None = None, context: str | None = None
    ) -> str | tuple[str, ...]:
        """The path of the best reference of `reftype` (default: the
        bad-pixel reference), or ``'N/A'``; see
        :func:`irisdq.crds.bestref`."""
        loaded = self.context(context)
        return loaded.bestref(self.parameters, self.reftype_in(loaded, reftype))


def merge_keywords(
    header: Mapping[str, Any], tree: Mapping[str, Any], profile: Profile
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keywords and CRDS parameters of a dataset from its header and tree.

    Parameters
    ----------
    header : mapping
        The primary header's keywords (commentary and valueless cards are
        left out).
    tree : mapping
        The scalar values of the ASDF ``meta`` tree under their CRDS names
        (:func:`irisdq.datamodels.asdf_meta.meta_parameters`).
    profile : Profile
        Whose keywords the tree's values become.

    Returns
    -------
    keywords, parameters : dict
        The header's keywords, plus the tree's where the header has none;
        the tree's parameters updated by the profile's parameters of those
        keywords.

    Examples
    --------
    >>> keywords, parameters = merge_keywords(
    ...     {"INSTRUME": "NIRCAM", "DETECTOR": None},
    ...     {"META.INSTRUMENT.DETECTOR": "NRCA1", "META.INSTRUMENT.NAME": "MIRI"},
    ...     profiles.PROFILES["jwst"])
    >>> keywords
    {'DETECTOR': 'NRCA1', 'INSTRUME': 'NIRCAM'}
    >>> parameters["META.INSTRUMENT.NAME"], parameters["META.INSTRUMENT.DETECTOR"]
    ('NIRCAM', 'NRCA1')
    """
    keywords: dict[str, Any] = {}
    for parameter, value in tree.items():
        keyword = profile.keyword_of(parameter) or _TREE_KEYWORDS.get(parameter)
        if keyword is not None:
            keywords[keyword] = value
    for key, value in header.items():
        name = str(key).upper()
        if value is not None and name not in _COMMENTARY:
            keywords[name] = value
    parameters = dict(tree)
    parameters.update(profile.crds_parameters(keywords))
    return keywords, parameters


def resolve(
    dataset: Any, profile: str | Profile | None = None, *, role: str = "a dataset"
) -> Exposure:
    """The profile, kind, keywords and CRDS parameters of a dataset.

    Parameters
    ----------
    dataset : str, os.PathLike, model or mapping
        A FITS file; an irisdq model; a stdatamodels model (jwst's or the
        Liger/IRIS pipeline's); another object with ``get_crds_parameters``
        and ``crds_observatory``; or a mapping of FITS keywords or CRDS
        parameters (``META.INSTRUMENT.NAME``...).
    profile : str or Profile, optional
        The convention to use instead of the detected one.
    role : str, optional
        What the file is for, for the message when it is not a regular
        file (``'a raw ramp'``).

    Returns
    -------
    Exposure

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    irisdq.errors.DataModelError
        The path is not a regular FITS file.
    irisdq.profiles.ProfileError
        `profile` is not one.
    TypeError
        `dataset` is none of the above.

    Examples
    --------
    >>> exposure = resolve({"INSTRUME": "Liger", "EXPDTST": "20250314093000"},
    ...                    "liger")
    >>> exposure.profile.observatory, exposure.parameters["META.DATE"]
    ('ligeriri', '2025-03-14 09:30:00')
    """
    forced = profile
    if isinstance(forced, str):
        forced = profiles.get_profile(forced)
    if isinstance(dataset, str | os.PathLike):
        return _from_file(Path(dataset), forced, role)
    irisdq_model = _irisdq_model(dataset)
    if irisdq_model is not None:
        return _from_irisdq_model(dataset, irisdq_model, forced)
    if _schema(dataset) is not None:
        return _from_stdatamodel(dataset, forced)
    if hasattr(dataset, "get_crds_parameters"):
        return _from_crds_parameters(dataset, forced)
    if isinstance(dataset, Mapping) or (
        hasattr(dataset, "keys") and hasattr(dataset, "__getitem__")
    ):
        return _from_mapping(dataset, forced)
    raise TypeError(
        "a dataset is a FITS file name, a data model or a mapping of FITS "
        f"keywords or CRDS parameters, not {type(dataset).__name__}"
    )


# -- the kinds of dataset ----------------------------------------------------


def _classify(
    keywords: Mapping[str, Any],
    shapes: Mapping[str, Any],
    forced: Profile | None,
    source: str,
) -> tuple[Profile, str]:
    """The profile and kind of a dataset from its keywords and extensions."""
    if forced is not None:
        if forced.matches({}, shapes):
            return forced, RAMP
        return forced, MASK if _looks_like_mask(keywords, shapes) else OTHER
    try:
        detected = profiles.detect_profile(keywords, shapes, source)
    except profiles.ProfileError:
        detected = None
    if detected is not None and detected.matches({}, shapes):
        return detected, RAMP
    if _looks_like_mask(keywords, shapes):
        return profiles.mask_profile(keywords), MASK
    # A science extension of the wrong axes keeps its profile, for messages.
    return detected or profiles.header_profile(keywords), OTHER


def _looks_like_mask(keywords: Mapping[str, Any], shapes: Mapping[str, Any]) -> bool:
    datamodel = str(keywords.get("DATAMODL", "")).strip().upper()
    reftype = str(keywords.get("REFTYPE", "")).strip().lower()
    known = {p.mask.datamodel.upper() for p in profiles.PROFILES.values()}
    reftypes = {name for p in profiles.PROFILES.values() for name in p.reftypes}
    if datamodel in known or reftype in reftypes:
        return True
    # An undeclared file with flags and no science array, as a mask is kept.
    sciences = {p.ramp.science for p in profiles.PROFILES.values()}
    names = {str(name).upper() for name in shapes}
    return "DQ" in names and not names & sciences


def _from_file(path: Path, forced: Profile | None, role: str) -> Exposure:
    from irisdq.datamodels import read_hdu_layout
    from irisdq.datamodels.asdf_meta import stream_meta_parameters
    from irisdq.datamodels.files import require_regular_file
    from irisdq.datamodels.header import read_keywords
    from irisdq.datamodels.layout import extension_shapes

    require_regular_file(path, role)
    header = read_keywords(path)
    source = str(path)
    with open(path, "rb", buffering=0) as stream:
        layout = read_hdu_layout(stream)
        tree = stream_meta_parameters(stream, layout[1:], source)
    shapes = extension_shapes(layout)
    profile, kind = _classify(header, shapes, forced, source)
    keywords, parameters = merge_keywords(header, tree, profile)
    return Exposure(source, profile, kind, keywords, parameters, shapes, path)


def _irisdq_model(dataset: Any) -> str | None:
    """``'ramp'``, ``'liger'`` or ``'mask'`` for an irisdq model, else None."""
    from irisdq.datamodels import DataModel

    if not isinstance(dataset, DataModel):
        return None
    from irisdq.datamodels import LigerRampModel, RampModel, TMTMaskModel

    for cls, name in (
        (LigerRampModel, "liger"),
        (RampModel, RAMP),
        (TMTMaskModel, MASK),
    ):
        if isinstance(dataset, cls):
            return name
    return OTHER


def _from_irisdq_model(model: Any, which: str, forced: Profile | None) -> Exposure:
    path = model.path
    source = str(path) if path is not None else f"<{type(model).__name__}>"
    header = model.get_fits_keywords()
    if which == "liger":
        profile, shapes, kind = profiles.PROFILES["liger"], {"DATA": model.shape}, RAMP
        if forced is not None and forced is not profile:
            profile, kind = forced, RAMP if forced.matches({}, shapes) else OTHER
    elif which == RAMP:
        shapes = {"SCI": model.shape}
        profile, kind = _classify(header, shapes, forced, source)
    elif which == MASK:
        shapes = {"DQ": None}
        profile, kind = forced or profiles.mask_profile(header), MASK
    else:
        shapes = {}
        profile, kind = forced or profiles.header_profile(header), OTHER
    keywords, parameters = merge_keywords(header, model.tree_parameters(), profile)
    return Exposure(source, profile, kind, keywords, parameters, shapes, path)


def _schema(model: Any) -> Mapping | None:
    """A stdatamodels model's schema, or None for anything else."""
    schema = getattr(model, "schema", None)
    instance = getattr(model, "instance", None)
    if isinstance(schema, Mapping) and isinstance(instance, Mapping):
        return schema
    return None


def _schema_entries(schema: Mapping) -> tuple[list, dict[str, str]]:
    """The primary-header keywords a stdatamodels schema writes, as (tree
    path, keyword), and the extension each top-level array goes to."""
    keywords: list[tuple[tuple[str, ...], str]] = []
    arrays: dict[str, str] = {}
    stack: list[tuple[Mapping, tuple[str, ...]]] = [(schema, ())]
    while stack:
        node, where = stack.pop()
        keyword = node.get("fits_keyword")
        if isinstance(keyword, str) and node.get("fits_hdu", "PRIMARY") == "PRIMARY":
            keywords.append((where, keyword.upper()))
        hdu = node.get("fits_hdu")
        if len(where) == 1 and isinstance(hdu, str) and keyword is None:
            arrays[where[0]] = hdu.upper()
        for combiner in ("allOf", "anyOf", "oneOf"):
            for child in node.get(combiner, ()) or ():
                if isinstance(child, Mapping):
                    stack.append((child, where))
        children = node.get("properties")
        if isinstance(children, Mapping):
            for name, child in children.items():
                if isinstance(child, Mapping):
                    stack.append((child, (*where, str(name))))
    return keywords, arrays


def keyword_path(schema: Mapping, keyword: str) -> tuple[str, ...] | None:
    """Where a stdatamodels schema keeps the primary-header `keyword`, as a
    path of attribute names, or None.

    Examples
    --------
    >>> keyword_path({"properties": {"meta": {"properties": {"instrument": {
    ...     "properties": {"detector": {"fits_keyword": "DETECTOR"}}}}}}}, "DETECTOR")
    ('meta', 'instrument', 'detector')
    """
    entries, _ = _schema_entries(schema)
    return next((where for where, name in entries if name == keyword.upper()), None)


def _tree_value(tree: Mapping, where: tuple[str, ...]) -> Any:
    node: Any = tree
    for name in where:
        if not isinstance(node, Mapping) or name not in node:
            return None
        node = node[name]
    return node if isinstance(node, str | int | float | bool) else None


def _from_stdatamodel(model: Any, forced: Profile | None) -> Exposure:
    from irisdq.datamodels.asdf_meta import meta_parameters

    tree = model.instance
    entries, arrays = _schema_entries(_schema(model))
    header = {}
    for where, keyword in entries:
        value = _tree_value(tree, where)
        if value is not None:
            header.setdefault(keyword, value)
    shapes = {
        hdu: getattr(tree[name], "shape", None)
        for name, hdu in arrays.items()
        if tree.get(name) is not None
    }
    filename = getattr(getattr(model, "meta", None), "filename", None)
    source = str(filename) if filename else f"<{type(model).__name__}>"
    observatory = str(getattr(model, "crds_observatory", "") or "").lower()
    if forced is None:
        profile, kind = _classify(header, shapes, None, source)
        by_observatory = _observatory_profile(observatory)
        if by_observatory is not None and by_observatory is not profile:
            # The model's own pipeline says whose it is.
            profile = by_observatory
            kind = RAMP if profile.matches({}, shapes) else kind
    else:
        profile, kind = _classify(header, shapes, forced, source)
    keywords, parameters = merge_keywords(header, meta_parameters(tree), profile)
    # In memory: the model, not the file it may have come from.
    return Exposure(source, profile, kind, keywords, parameters, shapes)


def _observatory_profile(observatory: str) -> Profile | None:
    return next(
        (p for p in profiles.PROFILES.values() if p.observatory == observatory), None
    )


def _from_crds_parameters(model: Any, forced: Profile | None) -> Exposure:
    observatory = str(getattr(model, "crds_observatory", "") or "").lower()
    profile = forced or _observatory_profile(observatory) or profiles.PROFILES["tmt"]
    parameters = {
        str(name).upper(): value for name, value in model.get_crds_parameters().items()
    }
    source = f"<{type(model).__name__}>"
    return Exposure(source, profile, OTHER, {}, parameters)


def _from_mapping(mapping: Any, forced: Profile | None) -> Exposure:
    items = dict(mapping.items())
    source = f"<{type(mapping).__name__}>"
    if any(isinstance(key, str) and "." in key for key in items):
        parameters = {str(key).upper(): value for key, value in items.items()}
        marks = {
            "TELESCOP": parameters.get("META.TELESCOPE", ""),
            "INSTRUME": parameters.get("META.INSTRUMENT.NAME", ""),
        }
        profile = forced or profiles.header_profile(marks)
        return Exposure(source, profile, OTHER, {}, parameters)
    profile, kind = _classify(items, {}, forced, source)
    keywords, parameters = merge_keywords(items, {}, profile)
    return Exposure(source, profile, kind, keywords, parameters)
