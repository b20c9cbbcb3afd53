"""The DQ initialization of one exposure was DQInitStep; the name now
belongs to the stpipe step alone, and the old import says where each went."""

import re

import pytest

import irisdq.dq_init

MOVED = (
    "irisdq.dq_init.DQInitStep is now irisdq.dq_init.DQInit (same parameters); "
    "the stpipe step is irisdq.stpipe.DQInitStep"
)


def test_the_old_name_says_where_each_class_went():
    with pytest.raises(ImportError) as raised:
        irisdq.dq_init.DQInitStep  # noqa: B018
    assert str(raised.value) == MOVED


def test_importing_the_old_name_fails_with_that_line():
    with pytest.raises(ImportError, match=re.escape(MOVED)):
        from irisdq.dq_init import DQInitStep  # noqa: F401


def test_the_new_name_is_the_engine():
    from irisdq.dq_init import DQInit
    from irisdq.step import Step

    assert issubclass(DQInit, Step)
    assert DQInit.class_alias == "dq_init"
    with pytest.raises(AttributeError, match="has no attribute 'DQInitSteps'"):
        irisdq.dq_init.DQInitSteps  # noqa: B018
