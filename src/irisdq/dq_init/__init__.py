"""DQ initialization: the algorithm (:mod:`.core`), the decision for one
exposure (:mod:`.plan`), its result (:mod:`.result`) and the DQ
initialization of one exposure, :class:`DQInit` (:mod:`.step`).

:class:`DQInit`, which reads and writes FITS files, is imported on first
use, so ``import irisdq.dq_init.core`` (or ``.plan``) stays free of astropy.
The stpipe step is :class:`irisdq.stpipe.DQInitStep`.

>>> from irisdq.dq_init import DQInit
>>> DQInit().status_keyword
'S_DQINIT'
"""

from irisdq.dq_init.plan import Status
from irisdq.dq_init.result import DQInitResult

__all__ = ["DQInit", "DQInitResult", "DQInitSummary", "Status"]

# The summary a run leaves in ``DQInit.summary``: the one result type.
DQInitSummary = DQInitResult


def __getattr__(name: str):
    if name == "DQInit":
        from irisdq.dq_init.step import DQInit

        return DQInit
    if name == "DQInitStep":
        # The old name must not silently mean something else. An ImportError,
        # not an AttributeError: ``from irisdq.dq_init import DQInitStep``
        # replaces an AttributeError from here by a bare "cannot import
        # name", and this line is what the reader needs.
        raise ImportError(
            "irisdq.dq_init.DQInitStep is now irisdq.dq_init.DQInit (same "
            "parameters); the stpipe step is irisdq.stpipe.DQInitStep"
        )
    raise AttributeError(f"module 'irisdq.dq_init' has no attribute {name!r}")
