"""What DQ initialization did to one exposure: one result type for the
step, a batch, the command line and the JSON report.

Examples
--------
>>> result = DQInitResult("a_uncal.fits", "a_dqinit.fits", Status.COMPLETE,
...                       mask="crds://tmt_iris_mask_0001.fits",
...                       flagged={"DEAD": 3})
>>> print(result.line())
a_dqinit.fits: COMPLETE mask=crds://tmt_iris_mask_0001.fits DEAD=3
>>> print(DQInitResult("b_uncal.fits", status=Status.FAILED, error="bad").line())
b_uncal.fits: FAILED
>>> result.to_dict()["status"]
'COMPLETE'
"""

from dataclasses import dataclass, field, fields
from typing import Any

from irisdq import dqflags
from irisdq.dq_init.plan import DQInitPlan, Status

__all__ = ["DQInitResult"]


@dataclass
class DQInitResult:
    """What happened to one input.

    Attributes
    ----------
    input : str
        The input file (``'<model>'`` for a model without a file).
    output : str or None
        The output file (written, the input itself in place, or kept by a
        resumed batch); None when nothing was written.
    status : Status
        ``COMPLETE`` or ``SKIPPED`` (what the step recorded), ``VERIFIED``
        (an existing output passed its checksums and was kept), ``FAILED``,
        or ``NOT_RUN`` (a batch was interrupted first).
    seconds : float
        Wall time spent on this input.
    mask : str or None
        What ``R_MASK`` records.
    context : str or None
        The CRDS context used.
    flagged : dict
        Pixels of the (cut) mask with each flag set, for flags present.
    error : str or None
        The one-line reason of a failure.
    warnings : list of str
        Warnings logged for this input (in a batch).
    worker : str or None
        The Dask worker that ran it (None in this process).
    """

    input: str
    output: str | None = None
    status: Status = Status.NOT_RUN
    seconds: float = 0.0
    mask: str | None = None
    context: str | None = None
    flagged: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    worker: str | None = None

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @classmethod
    def of(cls, plan: DQInitPlan, input: str, output: str | None) -> "DQInitResult":
        """The result of applying ``plan``: its status, what it recorded,
        and the pixels of its flags per flag."""
        flagged = {}
        if plan.pixel_flags is not None:
            counts = dqflags.count_flags(plan.pixel_flags)
            flagged = {name: count for name, count in counts.items() if count}
        return cls(input, output, plan.status, 0.0, plan.mask, plan.context, flagged)

    @property
    def ok(self) -> bool:
        """True unless the input failed or was not run."""
        return self.status not in (Status.FAILED, Status.NOT_RUN)

    def line(self) -> str:
        """The one-line summary: output, status, mask, pixels per flag.

        A failure is the input and ``FAILED``: its reason is printed where
        errors go, once.
        """
        if self.status is Status.FAILED:
            return f"{self.input}: FAILED"
        flags = " ".join(f"{name}={count}" for name, count in self.flagged.items())
        text = f"{self.output or self.input}: {self.status} mask={self.mask}"
        return f"{text} {flags}" if flags else text

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values["status"] = str(self.status)
        values["flagged"] = dict(self.flagged)
        values["warnings"] = list(self.warnings)
        return values
