"""What DQ initialization does to one exposure, decided without any I/O.

:func:`plan_dq_init` takes the exposure's keywords and array shape, the mask
chosen for it and any user flags, and returns a :class:`DQInitPlan`: the
status, what to record, and the flags to OR into PIXELDQ and into every
GROUPDQ plane. The step applies one plan to a model in memory or to a file
(through :func:`irisdq.datamodels.ramp_dq.update_ramp_dq`); both paths record
exactly the same thing because they share it.

Examples
--------
>>> import numpy as np
>>> mask = np.zeros((8, 8), dtype=np.uint32)
>>> mask[3, 4] = 1025
>>> choice = MaskChoice(mask, Subarray(), "crds://m.fits", "tmt_0001.pmap")
>>> plan = plan_dq_init({"SUBSTRT1": 3, "SUBSTRT2": 2}, (4, 4), choice)
>>> plan.status, int(plan.pixel_flags[2, 2]), int(plan.group_flags[2, 2])
(<Status.COMPLETE: 'COMPLETE'>, 1025, 1)
>>> for keyword, value in plan.keywords().items():
...     print(keyword, value)
S_DQINIT ('COMPLETE', 'DQ initialization')
R_MASK crds://m.fits
CRDS_CTX ('tmt_0001.pmap', 'CRDS context')
>>> plan_dq_init({}, (4, 4), MaskChoice.not_applicable("tmt_0001.pmap")).status
<Status.SKIPPED: 'SKIPPED'>
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from irisdq.dq_init.core import Subarray, cut_subarray, group_flags, narrow_flags
from irisdq.errors import DataModelError, SubarrayError

__all__ = [
    "DQInitPlan",
    "MaskChoice",
    "Status",
    "given_subarray",
    "plan_dq_init",
    "science_subarray",
]

# The comment of the position cards recorded from the substrt option.
GIVEN_COMMENT = "given with --substrt"

NOT_APPLICABLE = "N/A"


class Status(enum.StrEnum):
    """The outcome of a step on one exposure, as recorded and reported.

    ``COMPLETE`` and ``SKIPPED`` are what the step records (``S_DQINIT``);
    a batch adds ``FAILED`` (the exposure could not be processed),
    ``VERIFIED`` (an earlier output kept by ``--resume``) and ``NOT_RUN``
    (stopped before its turn).
    """

    COMPLETE = "COMPLETE"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    VERIFIED = "VERIFIED"
    NOT_RUN = "NOT_RUN"


@dataclass(frozen=True)
class MaskChoice:
    """The mask chosen for an exposure.

    Attributes
    ----------
    dq : numpy.ndarray or None
        The mask's flags (uint32, 2-D); None when no mask applies (N/A).
    reference : Subarray
        Where the mask lies on the detector.
    record : str
        What ``R_MASK`` records: ``crds://<file>``, a path, or ``'N/A'``.
    context : str or None
        The CRDS context, when CRDS chose.
    """

    dq: np.ndarray | None
    reference: Subarray
    record: str
    context: str | None = None

    @classmethod
    def not_applicable(cls, context: str | None = None) -> "MaskChoice":
        """No mask applies (an override or a CRDS answer of ``N/A``)."""
        return cls(None, Subarray(), NOT_APPLICABLE, context)


@dataclass(frozen=True)
class DQInitPlan:
    """What DQ initialization does to one exposure.

    Attributes
    ----------
    status : Status
        ``COMPLETE`` or ``SKIPPED``.
    mask : str
        What ``R_MASK`` records.
    context : str or None
        What ``CRDS_CTX`` records (nothing when None).
    pixel_flags : numpy.ndarray or None
        (ny, nx): the cut mask with user flags, to OR into PIXELDQ (uint32)
        or into every reading of a narrower DQ array (in its type); None
        when skipped.
    group_flags : numpy.ndarray or None
        uint8 (ny, nx): the DO_NOT_USE bit of ``pixel_flags``, to OR into
        every GROUPDQ plane; None when skipped.
    dropped : dict
        ``{flag name: pixels}`` of the flags a narrow DQ array could not
        hold and the narrow policy left out (empty when none).
    placement : dict
        The SUBSTRT1/2 (and SUBSIZE1/2) cards to record when the position
        of an exposure without them was given (``substrt``); empty
        otherwise.
    """

    status: Status
    mask: str
    context: str | None = None
    pixel_flags: np.ndarray | None = None
    group_flags: np.ndarray | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    placement: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_keywords(
        cls,
        keywords: Mapping[str, Any],
        status_keyword: str = "S_DQINIT",
        reference_keyword: str = "R_MASK",
    ) -> "DQInitPlan | None":
        """The status, mask and context a header records (no flags), or
        None when it records no DQ initialization.

        Examples
        --------
        >>> plan = DQInitPlan.from_keywords({"S_DQINIT": "SKIPPED", "R_MASK": "N/A"})
        >>> plan.status, plan.mask, plan.context
        (<Status.SKIPPED: 'SKIPPED'>, 'N/A', None)
        >>> DQInitPlan.from_keywords({"S_DQINIT": "a typo"}) is None
        True
        """
        status = keywords.get(status_keyword)
        if status not in (Status.COMPLETE, Status.SKIPPED):
            return None
        return cls(
            Status(status), keywords.get(reference_keyword), keywords.get("CRDS_CTX")
        )

    def keywords(
        self, status_keyword: str = "S_DQINIT", reference_keyword: str = "R_MASK"
    ) -> dict[str, Any]:
        """The primary-header keywords to record: ``value`` or
        ``(value, comment)``."""
        keywords: dict[str, Any] = {
            status_keyword: (self.status.value, "DQ initialization"),
            reference_keyword: self.mask,  # a path can be long: no comment
        }
        if self.context:
            keywords["CRDS_CTX"] = (self.context, "CRDS context")
        keywords.update(self.placement)
        return keywords


def science_subarray(keywords: Mapping[str, Any]) -> Subarray | None:
    """Where an exposure lies on the detector, from SUBSTRT1/2, SUBSIZE1/2.

    None when it has no SUBSTRT keywords.

    Examples
    --------
    >>> science_subarray({"SUBSTRT1": 101, "SUBSTRT2": "201"})
    Subarray(xstart=101, ystart=201, xsize=None, ysize=None)
    >>> science_subarray({"SUBSTRT1": "x", "SUBSTRT2": 1})
    Traceback (most recent call last):
    ...
    irisdq.errors.DataModelError: SUBSTRT1 = 'x' is not an integer; fix the header
    """
    if keywords.get("SUBSTRT1") is None or keywords.get("SUBSTRT2") is None:
        return None
    values = []
    for keyword in ("SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2"):
        value = keywords.get(keyword)
        values.append(None if value is None else _integer(keyword, value))
    return Subarray(*values)


def _integer(keyword: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DataModelError(
            f"{keyword} = {value!r} is not an integer; fix the header"
        ) from None


def given_subarray(
    keywords: Mapping[str, Any],
    shape: tuple[int, int],
    substrt: tuple[int, int] | None = None,
) -> tuple[Subarray | None, dict[str, Any]]:
    """Where an exposure lies: its SUBSTRT1/2, or the position given for it.

    A given position applies only to an exposure without SUBSTRT1/2; one
    with them must agree with it.

    Parameters
    ----------
    keywords : mapping
        The exposure's primary-header keywords.
    shape : tuple of int
        ``(ny, nx)`` of the science array.
    substrt : tuple of int, optional
        ``(SUBSTRT1, SUBSTRT2)`` given by the user (1-based column, row).

    Returns
    -------
    subarray : Subarray or None
        Where the science array lies; None when neither says.
    placement : dict
        The cards to record for a given position the keywords lacked:
        SUBSTRT1/2, and SUBSIZE1/2 when absent (``(value, comment)``);
        empty otherwise.

    Raises
    ------
    SubarrayError
        If the keywords' SUBSTRT1/2 differ from `substrt`.

    Examples
    --------
    >>> sub, cards = given_subarray({}, (32, 64), (1025, 9))
    >>> sub
    Subarray(xstart=1025, ystart=9, xsize=64, ysize=32)
    >>> sorted(cards)
    ['SUBSIZE1', 'SUBSIZE2', 'SUBSTRT1', 'SUBSTRT2']
    >>> given_subarray({"SUBSTRT1": 1025, "SUBSTRT2": 9}, (32, 64), (1025, 9))[1]
    {}
    >>> given_subarray({"SUBSTRT1": 1, "SUBSTRT2": 9}, (32, 64), (1025, 9))
    Traceback (most recent call last):
    ...
    irisdq.errors.SubarrayError: the header has SUBSTRT1=1 SUBSTRT2=9 but ...
    """
    science = science_subarray(keywords)
    if substrt is None:
        return science, {}
    xstart, ystart = (int(value) for value in substrt)
    given = {"SUBSTRT1": xstart, "SUBSTRT2": ystart}
    # Both, or only one (a half-edited header): each must agree.
    own = {k: keywords.get(k) for k in given if keywords.get(k) is not None}
    if any(_integer(k, v) != given[k] for k, v in own.items()):
        has = " ".join(f"{k}={v}" for k, v in own.items())
        raise SubarrayError(
            f"the header has {has} but --substrt (substrt) gives "
            f"{xstart},{ystart}; drop the option or make it agree"
        )
    if science is not None:
        return science, {}
    ny, nx = (int(n) for n in shape)
    placement: dict[str, Any] = {
        "SUBSTRT1": (xstart, f"start column, 1-based, {GIVEN_COMMENT}"),
        "SUBSTRT2": (ystart, f"start row, 1-based, {GIVEN_COMMENT}"),
    }
    if keywords.get("SUBSIZE1") is None:
        placement["SUBSIZE1"] = (nx, f"columns, {GIVEN_COMMENT}")
    if keywords.get("SUBSIZE2") is None:
        placement["SUBSIZE2"] = (ny, f"rows, {GIVEN_COMMENT}")
    return Subarray(xstart, ystart, nx, ny), placement


def plan_dq_init(
    keywords: Mapping[str, Any],
    shape: tuple[int, int],
    choice: MaskChoice,
    user_flags: np.ndarray | None = None,
    *,
    dq_bits: int = 32,
    narrow: str | None = None,
    substrt: tuple[int, int] | None = None,
) -> DQInitPlan:
    """Decide what DQ initialization does to one exposure.

    Parameters
    ----------
    keywords : mapping
        The exposure's primary-header keywords (SUBSTRT1/2, SUBSIZE1/2 say
        where it lies).
    shape : tuple of int
        ``(ny, nx)`` of the science array.
    choice : MaskChoice
        The mask, or ``MaskChoice.not_applicable()``.
    user_flags : numpy.ndarray, optional
        Extra flags of the cut mask's shape, ORed in (the mask itself is
        never changed).
    dq_bits : int, optional
        The width of the DQ array the flags go into: 32 (PIXELDQ), or 16
        for a uint16 DQ array, which cannot hold flags 16..31.
    narrow : {None, 'drop', 'do-not-use'}, optional
        What to do with flags a narrow DQ array cannot hold (see
        :func:`irisdq.dq_init.core.narrow_flags`); None refuses them.
    substrt : tuple of int, optional
        ``(SUBSTRT1, SUBSTRT2)``, 1-based column and row of the science
        array's first pixel on the detector, for an exposure whose keywords
        do not say (see :func:`given_subarray`); recorded in
        :attr:`DQInitPlan.placement`.

    Returns
    -------
    DQInitPlan

    Raises
    ------
    SubarrayError
        If the mask does not cover the science array, or `substrt` differs
        from the exposure's own SUBSTRT1/2.
    DataModelError
        If the user flags have another shape than the cut mask.
    NarrowDQError
        If flags do not fit ``dq_bits`` and no `narrow` policy is given.
    """
    if choice.dq is None:
        # Skipped: a given position is still checked and recorded.
        placement = given_subarray(keywords, shape, substrt)[1] if substrt else {}
        return DQInitPlan(
            Status.SKIPPED, choice.record, choice.context, placement=placement
        )
    science, placement = given_subarray(keywords, shape, substrt)
    try:
        cut = cut_subarray(choice.dq, shape, science, choice.reference)
    except SubarrayError as exc:
        if not placement:
            raise
        raise SubarrayError(
            f"{exc}; the position was given with --substrt (substrt): check it"
        ) from None
    if user_flags is not None:
        if user_flags.shape != cut.shape:
            raise DataModelError(
                f"the user DQ has shape {user_flags.shape}; it must have the "
                f"shape of the cut mask, {cut.shape}"
            )
        cut = np.bitwise_or(cut, user_flags)  # a new array: the mask is untouched
    pixel, dropped = narrow_flags(cut, dq_bits, narrow)
    return DQInitPlan(
        Status.COMPLETE,
        choice.record,
        choice.context,
        pixel,
        group_flags(pixel),
        dropped,
        placement,
    )
