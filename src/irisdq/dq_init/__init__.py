"""DQ initialization: the algorithm (:mod:`.core`), the decision for one
exposure (:mod:`.plan`), its result (:mod:`.result`) and the step
(:mod:`.step`).

The step, which reads and writes FITS files, is imported on first use, so
``import irisdq.dq_init.core`` (or ``.plan``) stays free of astropy.

>>> from irisdq.dq_init import DQInitStep
>>> DQInitStep().status_keyword
'S_DQINIT'
"""

from irisdq.dq_init.plan import Status
from irisdq.dq_init.result import DQInitResult

__all__ = ["DQInitResult", "DQInitStep", "DQInitSummary", "Status"]

# The summary a step run leaves in ``step.summary``: the one result type.
DQInitSummary = DQInitResult


def __getattr__(name: str):
    if name == "DQInitStep":
        from irisdq.dq_init.step import DQInitStep

        return DQInitStep
    raise AttributeError(f"module 'irisdq.dq_init' has no attribute {name!r}")
