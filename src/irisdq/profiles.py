"""Profiles: the file conventions of one pipeline, declared as data.

A profile says everything irisdq needs to know about the files of one
pipeline family: the CRDS observatory whose cache it reads, the names its
mappings give the bad-pixel reference type, how the dataset's FITS keywords
become the parameters its rmaps compare, where a raw ramp keeps its science
and DQ arrays (extensions, dtypes, axis order), the layout of its mask
reference, and the keywords DQ initialization records. The engine (CRDS
selection, the plan, the streaming writer) is the same for every profile:
adding a convention is adding an entry to :data:`PROFILES`.

Three are declared:

- ``tmt``: the TMT IRIS data models of 2020 (the default);
- ``jwst``: the JWST pipeline's files (jwst, stdatamodels);
- ``liger``: the Liger/IRIS pipeline of 2025 (``liger_iris_pipeline``).

:func:`detect_profile` chooses one from a file's primary header and
extension names; a user may force one (``--profile``).

The layouts a profile names are :mod:`irisdq.layouts`' types, and the
Liger dates it derives come from :mod:`irisdq.liger_dates`. The module is
still one piece past 600 lines: the :class:`Profile` type, the three
profiles declared with it and the functions that choose among them
(:func:`detect_profile`, :func:`mask_profile`, :func:`check_layout`) read
each other's fields, and a reader checks a profile against them here.

Examples
--------
>>> profile = PROFILES["liger"]
>>> profile.observatory, profile.reftypes, profile.reference_keyword
('ligeriri', ('dq', 'mask'), 'R_DQ')
>>> params = profile.crds_parameters({"INSTRUME": "IRIS", "DETECTOR": "IMG1",
...                                   "EXPDTST": "20250314093000"})
>>> params["META.INSTRUMENT.DETECTOR"], params["META.DATE"]
('IMG1', '2025-03-14 09:30:00')
>>> detect_profile({"TELESCOP": "JWST", "INSTRUME": "NIRCAM"}, ["SCI"]).name
'jwst'
"""

import dataclasses
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from irisdq.errors import DataModelError
from irisdq.layouts import LIGER_RAMP, TMT_MASK, TMT_RAMP, MaskLayout, RampLayout
from irisdq.liger_dates import (
    date_from_expdtst,
    date_from_julian,
    liger_date,
    liger_date_problem,
    liger_day,
    liger_time,
)

__all__ = [
    "JWST_STYLE_PARAMETERS",
    "PROFILES",
    "MaskLayout",
    "Profile",
    "ProfileError",
    "RampLayout",
    "check_layout",
    "date_from_expdtst",
    "date_from_julian",
    "detect_profile",
    "get_profile",
    "header_profile",
    "mask_profile",
]


class ProfileError(DataModelError):
    """A profile is unknown, or a file does not have what its profile needs."""


#: A CRDS parameter's source: a FITS keyword, or a function of the keywords
#: that returns the value or None when it cannot be derived.
ParameterSource = str | Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Profile:
    """The conventions of one pipeline's files.

    Attributes
    ----------
    name : str
        What ``--profile`` takes.
    title : str
        Whose files these are, for people.
    observatory : str
        The CRDS observatory: mappings in ``<cache>/mappings/<observatory>``,
        references in ``<cache>/references/<observatory>``.
    reftypes : tuple of str
        Names of the bad-pixel reference type, the observatory's own first;
        the first one the instrument's imap knows is used.
    parameters : mapping
        CRDS parameter -> FITS keyword, or a function deriving the value.
    ramp : RampLayout
    mask : MaskLayout
    reference_keyword : str
        Records the mask used (``R_MASK``, ``R_DQ``).
    status_keyword, context_keyword : str
        Record the step's status and the CRDS context.
    telescopes, instruments, datamodels : frozenset of str
        The TELESCOP, INSTRUME and DATAMODL values (upper case) that mark
        this profile's files, for :func:`detect_profile`.
    date_parameter : str
        The CRDS parameter of the observation date.
    date_fields : callable
        ``(day, time) -> {keyword: value}``: the keywords that date a
        dataset (``'YYYY-MM-DD'``, ``'HH:MM:SS'``); None drops a keyword.
    date_keywords : str
        The keywords to add when a file has no observation date, as a
        phrase for messages.
    exposure_layouts : mapping
        ``EXP_TYPE`` (lower case) -> the :class:`RampLayout` of exposures
        of that type, where it is not :attr:`ramp` (JWST's guider
        exposures keep one ``DQ`` and no ``GROUPDQ``).
    unsupported : callable or None
        ``keywords -> reason or None``: exposures of this profile that
        irisdq refuses rather than process differently from the pipeline.
    date_check : callable or None
        ``keywords -> phrase or None``: what is wrong with the keywords
        that date a dataset when they give no date (Liger's EXPDTST and
        EXPJDST), naming each keyword and value.
    tree_records : mapping
        Recorded keyword -> where under ``meta`` the pipeline's data models
        keep it in the ASDF tree (jwst: ``cal_step.dq_init``,
        ``ref_file.mask.name``; Liger: ``drs_step.dq_init``,
        ``ref_file.dq.name``), so that its readers find the record.
    """

    name: str
    title: str
    observatory: str
    reftypes: tuple[str, ...]
    parameters: Mapping[str, ParameterSource]
    ramp: RampLayout
    mask: MaskLayout
    reference_keyword: str
    status_keyword: str = "S_DQINIT"
    context_keyword: str = "CRDS_CTX"
    telescopes: frozenset[str] = frozenset()
    instruments: frozenset[str] = frozenset()
    datamodels: frozenset[str] = frozenset()
    date_parameter: str = "META.OBSERVATION.DATE"
    date_fields: Callable[[str, str], dict[str, Any]] = field(
        default=lambda day, time: {"DATE-OBS": day, "TIME-OBS": time}, repr=False
    )
    date_keywords: str = "DATE-OBS = 'YYYY-MM-DD' and TIME-OBS = 'HH:MM:SS'"
    exposure_layouts: Mapping[str, RampLayout] = field(default_factory=dict)
    unsupported: Callable[[Mapping[str, Any]], str | None] | None = field(
        default=None, repr=False
    )
    date_check: Callable[[Mapping[str, Any]], str | None] | None = field(
        default=None, repr=False
    )
    tree_records: Mapping[str, str] = field(
        default_factory=lambda: {
            "S_DQINIT": "cal_step.dq_init",
            "R_MASK": "ref_file.mask.name",
            "CRDS_CTX": "ref_file.crds.context_used",
        }
    )
    _by_keyword: dict[str, list[str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for parameter, source in self.parameters.items():
            if isinstance(source, str):
                self._by_keyword.setdefault(source, []).append(parameter)

    def crds_parameters(self, keywords: Mapping[str, Any]) -> dict[str, Any]:
        """The values the rmaps compare, from a primary header's keywords.

        Returns every keyword itself (upper case; rmaps may be keyed by FITS
        keywords) plus each CRDS parameter of :attr:`parameters` whose
        source is present or can be derived. Blank and commentary cards are
        left out; a missing parameter is ``UNDEFINED`` to the selectors.

        Examples
        --------
        >>> params = PROFILES["tmt"].crds_parameters(
        ...     {"INSTRUME": "IRIS", "DATE-OBS": "2020-07-13", "HISTORY": "x"})
        >>> sorted(params)
        ['DATE-OBS', 'INSTRUME', 'META.INSTRUMENT.NAME', 'META.OBSERVATION.DATE']
        """
        values: dict[str, Any] = {}
        for key, value in keywords.items():
            name = str(key).upper()
            if value is None or name in _COMMENTARY or name in values:
                continue
            values[name] = value
            for parameter in self._by_keyword.get(name, ()):
                values[parameter] = value
        for parameter, source in self.parameters.items():
            if callable(source) and parameter not in values:
                derived = source(values)
                if derived is not None:
                    values[parameter] = derived
        return values

    def ramp_for(self, keywords: Mapping[str, Any]) -> RampLayout:
        """The layout of an exposure with these primary-header keywords:
        the one its ``EXP_TYPE`` has in :attr:`exposure_layouts`, else
        :attr:`ramp`.

        Examples
        --------
        >>> PROFILES["jwst"].ramp_for({"EXP_TYPE": "FGS_ID-STACK"}).arrays()
        ['SCI (nints, ngroups, ny, nx)', 'DQ uint32 (ny, nx)']
        >>> PROFILES["jwst"].ramp_for({"EXP_TYPE": "NRC_IMAGE"}).group_dq
        'GROUPDQ'
        """
        exposure = str(keywords.get("EXP_TYPE") or "").strip().lower()
        return self.exposure_layouts.get(exposure, self.ramp)

    def refusal(self, keywords: Mapping[str, Any]) -> str | None:
        """Why irisdq does not process an exposure of this profile with
        these keywords, or None.

        Examples
        --------
        >>> print(PROFILES["jwst"].refusal({"SUBARRAY": "SUB204STRIPE_SOSS",
        ...                                 "SSTR_NST": 10}))  # doctest: +ELLIPSIS
        superstripe subarray SUB204STRIPE_SOSS (SSTR_NST = 10): ...
        >>> PROFILES["tmt"].refusal({"SSTR_NST": 10}) is None
        True
        """
        return None if self.unsupported is None else self.unsupported(keywords)

    def date_problem(self, keywords: Mapping[str, Any]) -> str | None:
        """Why the keywords give no observation date, naming each keyword
        and its value; None when they give one, or when the profile's date
        comes from one keyword of its own (``DATE-OBS``).

        Examples
        --------
        >>> print(PROFILES["liger"].date_problem({"EXPJDST": 60857.0}))
        ... # doctest: +NORMALIZE_WHITESPACE
        EXPJDST = 60857.0 is not a Julian date of years 1..9999; it looks
        like a Modified Julian Date: the Julian date is MJD + 2400000.5
        (2460857.5)
        >>> PROFILES["liger"].date_problem({"EXPDTST": "20250314093000"}) is None
        True
        """
        return None if self.date_check is None else self.date_check(keywords)

    def keyword_of(self, parameter: str) -> str | None:
        """The FITS keyword a CRDS parameter comes from; None when it is
        derived or not one of the profile's.

        Examples
        --------
        >>> PROFILES["liger"].keyword_of("META.INSTRUMENT.ERA")
        'INSTERA'
        """
        source = self.parameters.get(parameter)
        return source if isinstance(source, str) else None

    def dated(self, keywords: Mapping[str, Any], day: str, time: str) -> dict:
        """`keywords` with the observation date replaced by `day` and `time`.

        Examples
        --------
        >>> PROFILES["liger"].dated({"EXPJDST": 1.0}, "2025-01-02", "03:04:05")
        {'EXPJDST': None, 'EXPDTST': '20250102030405'}
        >>> PROFILES["tmt"].dated({}, "2025-01-02", "03:04:05")
        {'DATE-OBS': '2025-01-02', 'TIME-OBS': '03:04:05'}
        """
        return {**keywords, **self.date_fields(day, time)}

    def reftype_for(self, known: Iterable[str], wanted: str | None = None) -> str:
        """The name under which a context's instrument mapping knows the
        bad-pixel reference type.

        `wanted` (default: the profile's own name) is returned as it is
        unless it is one of :attr:`reftypes` that `known` lacks; then the
        first alias `known` has is used.

        Examples
        --------
        >>> PROFILES["liger"].reftype_for(["dark", "mask"])
        'mask'
        >>> PROFILES["tmt"].reftype_for(["dark"], "DARK")
        'DARK'
        """
        wanted = wanted or self.reftypes[0]
        known = {str(name).lower() for name in known}
        if wanted.lower() in known or wanted.lower() not in self.reftypes:
            return wanted
        return next((name for name in self.reftypes if name in known), wanted)

    def reftype_in(
        self, context: Any, dataset: Mapping[str, Any], wanted: str | None = None
    ) -> str:
        """:meth:`reftype_for` against the reference types a CRDS context
        (:class:`irisdq.crds.Context`) knows for the dataset's instrument
        (its ``META.INSTRUMENT.NAME``, ``UNDEFINED`` when absent, as CRDS
        says)."""
        instrument = dataset.get("META.INSTRUMENT.NAME", "UNDEFINED")
        return self.reftype_for(context.reftypes(instrument), wanted)

    def matches(
        self,
        keywords: Mapping[str, Any],
        extensions: Mapping[str, Any] | Iterable[str],
    ) -> int:
        """How strongly a file looks like this profile's (0: not at all).

        The science extension must be present with as many axes as the
        layout's (when `extensions` maps names to shapes); then each of
        TELESCOP, INSTRUME and DATAMODL that has one of this profile's
        values adds one.
        """
        shapes = _shapes(extensions)
        if self.ramp.science not in shapes:
            return 0
        shape = shapes[self.ramp.science]
        if shape is not None and len(shape) != len(self.ramp.axes):
            return 0
        score = 1
        for keyword, accepted in (
            ("TELESCOP", self.telescopes),
            ("INSTRUME", self.instruments),
            ("DATAMODL", self.datamodels),
        ):
            if str(keywords.get(keyword, "")).strip().upper() in accepted:
                score += 1
        return score

    def describe(self) -> str:
        """Several lines: what the profile expects and records."""
        parameters = [
            f"{name} = {source if isinstance(source, str) else _derived(source)}"
            for name, source in self.parameters.items()
        ]
        marks = ", ".join(
            f"{keyword} {'|'.join(sorted(values))}"
            for keyword, values in (
                ("TELESCOP", self.telescopes),
                ("INSTRUME", self.instruments),
                ("DATAMODL", self.datamodels),
            )
            if values
        )
        indent = " " * 16
        return "\n".join(
            [
                f"{self.name}: {self.title}",
                f"  chosen when   a {len(self.ramp.axes)}-D {self.ramp.science} "
                "extension, then the most of:",
                textwrap.fill(
                    marks, 88, initial_indent=indent, subsequent_indent=indent
                ),
                f"  CRDS          observatory {self.observatory}, reference type "
                f"{' (or '.join(self.reftypes)}{')' * (len(self.reftypes) - 1)}",
                "  parameters    " + f"\n{indent}".join(parameters),
                "  ramp          " + f"\n{indent}".join(self.ramp.arrays()),
                f"  mask          {self.mask.datamodel}: {self.mask.dq} uint32 "
                f"(ny, nx) + {self.mask.dq_def} (VALUE {self.mask.value_dtype}), "
                f"REFTYPE {self.mask.reftype}",
                f"  records       {self.status_keyword}, "
                f"{self.reference_keyword}, {self.context_keyword}",
            ]
        )


_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})


def _shapes(extensions) -> dict[str, tuple[int, ...] | None]:
    """Extension names (upper case) -> shape, or None where unknown."""
    if isinstance(extensions, Mapping):
        return {
            str(name).upper(): None if shape is None else tuple(shape)
            for name, shape in extensions.items()
        }
    return {str(name).upper(): None for name in extensions}


def _derived(source: Callable) -> str:
    return (source.__doc__ or source.__name__).strip().splitlines()[0].rstrip(".")


# -- the profiles -------------------------------------------------------------------

#: CRDS parameters of the JWST-style data models (TMT IRIS 2020 and JWST),
#: and the FITS keywords they come from.
JWST_STYLE_PARAMETERS: dict[str, str] = {
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

TMT = Profile(
    name="tmt",
    title="TMT IRIS data models (2020): TMTMaskModel, RampModel",
    observatory="tmt",
    reftypes=("mask", "dq"),
    parameters=JWST_STYLE_PARAMETERS,
    ramp=TMT_RAMP,
    mask=TMT_MASK,
    reference_keyword="R_MASK",
    telescopes=frozenset({"TMT"}),
    instruments=frozenset({"IRIS"}),
    datamodels=frozenset({"RAMPMODEL", "TMTRAMPMODEL"}),
)

# jwst's RampModel holds a float32 SCI: a Level1bModel's integer counts are
# refused by jwst's step (stdatamodels cannot convert them), and here.
_JWST_FLOAT_RAMP = dataclasses.replace(TMT_RAMP, science_kinds="f")

# jwst.lib.exposure_types.FGS_GUIDE_EXP_TYPES: GuiderRawModel exposures,
# whose flags jwst's dq_init ORs into DQ (ny, nx); they have no GROUPDQ.
_JWST_GUIDER = RampLayout(
    science="SCI",
    axes=("nints", "ngroups", "ny", "nx"),
    pixel_dq="DQ",
    science_kinds="f",
)
_FGS_GUIDE_EXP_TYPES = (
    "fgs_acq1",
    "fgs_acq2",
    "fgs_fineguide",
    "fgs_id-image",
    "fgs_id-stack",
    "fgs_track",
)


def _jwst_unsupported(keywords: Mapping[str, Any]) -> str | None:
    """superstripe subarrays"""
    stripes = keywords.get("SSTR_NST")
    model = str(keywords.get("DATAMODL") or "").strip()
    try:
        striped = stripes is not None and int(stripes) > 0
    except (TypeError, ValueError):
        striped = False
    if not striped and model != "SuperstripeRampModel":
        return None
    name = str(keywords.get("SUBARRAY") or "").strip() or "UNDEFINED"
    return (
        f"superstripe subarray {name} (SSTR_NST = {stripes}): its PIXELDQ has "
        "one plane per stripe, cut from the mask along the stripes, which "
        "irisdq does not build; run jwst's dq_init step on this exposure"
    )


JWST = Profile(
    name="jwst",
    title="JWST pipeline files (jwst, stdatamodels): MaskModel, RampModel",
    observatory="jwst",
    reftypes=("mask", "dq"),
    parameters=JWST_STYLE_PARAMETERS,
    ramp=_JWST_FLOAT_RAMP,
    exposure_layouts=dict.fromkeys(_FGS_GUIDE_EXP_TYPES, _JWST_GUIDER),
    unsupported=_jwst_unsupported,
    mask=MaskLayout("MaskModel", "MASK", {"*": "JWST"}, "uint32"),
    reference_keyword="R_MASK",
    telescopes=frozenset({"JWST"}),
    instruments=frozenset({"NIRCAM", "NIRSPEC", "NIRISS", "MIRI", "FGS"}),
    datamodels=frozenset({"RAMPMODEL"}),
)

LIGER = Profile(
    name="liger",
    title="Liger/IRIS pipeline of 2025 (liger_iris_pipeline): DQModel, RampModel",
    observatory="ligeriri",
    reftypes=("dq", "mask"),
    parameters={
        "META.INSTRUMENT.NAME": "INSTRUME",
        "META.INSTRUMENT.DETECTOR": "DETECTOR",
        "META.INSTRUMENT.ERA": "INSTERA",
        "META.EXPOSURE.READMODE": "READMODE",
        "META.EXPOSURE.IMTYPE": "IMTYPE",
        "META.DATE": liger_date,
        "META.OBSERVATION.DATE": liger_day,
        "META.OBSERVATION.TIME": liger_time,
        "META.SUBARRAY.NAME": "SUBARRAY",
        "META.SUBARRAY.XSTART": "SUBSTRT1",
        "META.SUBARRAY.YSTART": "SUBSTRT2",
        "META.SUBARRAY.XSIZE": "SUBSIZE1",
        "META.SUBARRAY.YSIZE": "SUBSIZE2",
        "META.TELESCOPE": "TELESCOP",
    },
    ramp=LIGER_RAMP,
    # TELESCOP as liger_iris_pipeline's own test files give it.
    mask=MaskLayout("DQModel", "dq", {"IRIS": "TMT", "LIGER": "Keck-I"}, "int32"),
    reference_keyword="R_DQ",
    telescopes=frozenset({"TMT", "KECK-I", "KECK I", "KECK"}),
    instruments=frozenset({"IRIS", "LIGER"}),
    datamodels=frozenset({"RAMPMODEL"}),
    date_parameter="META.DATE",
    date_fields=lambda day, time: {
        "EXPJDST": None,
        "EXPDTST": day.replace("-", "") + time.replace(":", ""),
    },
    date_keywords="EXPDTST = 'YYYYMMDDHHMMSS' (or EXPJDST, the Julian date)",
    date_check=liger_date_problem,
    # liger_iris_pipeline's schemas: drs_steps and reference_files.
    tree_records={
        "S_DQINIT": "drs_step.dq_init",
        "R_DQ": "ref_file.dq.name",
        "CRDS_CTX": "ref_file.crds.context_used",
    },
)

#: Every profile by name; the first is the default.
PROFILES: dict[str, Profile] = {p.name: p for p in (TMT, JWST, LIGER)}


def get_profile(name: str) -> Profile:
    """The profile called `name` (any case).

    Raises
    ------
    ProfileError
        If there is no such profile.

    Examples
    --------
    >>> get_profile("JWST").observatory
    'jwst'
    """
    try:
        return PROFILES[str(name).strip().lower()]
    except KeyError:
        raise ProfileError(
            f"unknown profile {name!r}; choose one of {', '.join(PROFILES)} "
            "(irisdq profiles lists them)"
        ) from None


def detect_profile(
    keywords: Mapping[str, Any],
    extensions: Mapping[str, Any] | Iterable[str],
    source: str = "the file",
) -> Profile:
    """The profile a file follows, from its primary header and extensions.

    The science extension (and its number of axes, when `extensions` maps
    names to shapes) decides the layout; among the profiles that have it,
    the one whose TELESCOP, INSTRUME and DATAMODL values match most wins,
    the earlier in :data:`PROFILES` on a tie.

    Raises
    ------
    ProfileError
        If no profile's science extension is in the file.

    Examples
    --------
    >>> detect_profile({"TELESCOP": "TMT", "INSTRUME": "IRIS"}, ["SCI"]).name
    'tmt'
    >>> detect_profile({"INSTRUME": "Liger"}, {"DATA": (8, 8, 2, 4)}).name
    'liger'
    """
    shapes = _shapes(extensions)
    best, best_score = None, 0
    for profile in PROFILES.values():
        score = profile.matches(keywords, shapes)
        if score > best_score:
            best, best_score = profile, score
    if best is not None:
        return best
    # A science extension with the wrong number of axes: its profile (the
    # best by header), so that reading the file says what is wrong with it.
    named = [p for p in PROFILES.values() if p.ramp.science in shapes]
    if named:
        return max(named, key=lambda p: p.matches(keywords, [p.ramp.science]))
    by_extension: dict[str, list[str]] = {}
    for profile in PROFILES.values():
        by_extension.setdefault(profile.ramp.science, []).append(profile.name)
    wanted = " and ".join(
        f"no {name} extension ({', '.join(names)})"
        for name, names in by_extension.items()
    )
    raise ProfileError(
        f"{source}: not a raw ramp of any profile: {wanted}; it has "
        f"{_found(shapes)}. Give --profile to say which layout it follows"
    )


def header_profile(keywords: Mapping[str, Any]) -> Profile:
    """The profile whose TELESCOP, INSTRUME and DATAMODL values a header
    matches most, whatever the file's extensions (tmt on a tie): for
    products that are not raw ramps.

    Examples
    --------
    >>> header_profile({"TELESCOP": "JWST"}).name, header_profile({}).name
    ('jwst', 'tmt')
    """
    return max(PROFILES.values(), key=lambda p: p.matches(keywords, [p.ramp.science]))


def mask_profile(keywords: Mapping[str, Any]) -> Profile:
    """The profile of a mask reference file, from its DATAMODL (else its
    TELESCOP); tmt when neither tells.

    Examples
    --------
    >>> mask_profile({"DATAMODL": "DQModel"}).name, mask_profile({}).name
    ('liger', 'tmt')
    """
    datamodel = str(keywords.get("DATAMODL", "")).strip().upper()
    for profile in PROFILES.values():
        if profile.mask.datamodel.upper() == datamodel:
            return profile
    telescope = str(keywords.get("TELESCOP", "")).strip().upper()
    for profile in PROFILES.values():
        if telescope and telescope == str(profile.mask.telescopes.get("*", "")).upper():
            return profile
    return PROFILES["tmt"]


def check_layout(
    profile: Profile, extensions: Mapping[str, Any] | Iterable[str], source: str
) -> None:
    """Refuse a file that lacks its profile's science extension.

    Raises
    ------
    ProfileError
        Naming the extension missing (or its axes) and the profile that
        would fit.

    Examples
    --------
    >>> check_layout(PROFILES["liger"], {"SCI": (1, 2, 8, 8)}, "raw.fits")
    Traceback (most recent call last):
    ...
    irisdq.profiles.ProfileError: raw.fits: profile liger needs a 4-D DATA ... tmt
    """
    shapes = _shapes(extensions)
    if profile.matches({}, shapes):
        return
    fits = [p.name for p in PROFILES.values() if p.matches({}, shapes)]
    hint = f": it looks like profile {fits[0]}" if fits else ": not a raw ramp"
    raise ProfileError(
        f"{source}: profile {profile.name} needs a {len(profile.ramp.axes)}-D "
        f"{profile.ramp.science} extension ({', '.join(profile.ramp.axes)}); "
        f"the file has {_found(shapes)}{hint}"
    )


def _found(shapes: Mapping[str, Any]) -> str:
    listed = [
        name if shape is None else f"{name} {shape}"
        for name, shape in shapes.items()
        if name
    ]
    return ", ".join(listed) if listed else "no extensions"
