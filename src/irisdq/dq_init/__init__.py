"""DQ initialization: the algorithm (:mod:`.core`) and the step (:mod:`.step`).

>>> from irisdq.dq_init import DQInitStep
>>> DQInitStep().status_keyword
'S_DQINIT'
"""

from irisdq.dq_init.step import DQInitStep, DQInitSummary

__all__ = ["DQInitStep", "DQInitSummary"]
