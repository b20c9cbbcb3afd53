"""Fixtures shared by every test."""

import os
import signal
import sys

import pytest
from hypothesis import settings

from irisdq.crds import clear_cache

# Property tests draw the same examples on every run ("repeatable"), so a
# run's result depends on the code alone. HYPOTHESIS_PROFILE=explore draws
# new random examples on each run (500 for a test that sets no count) to
# search for new failures; a failure found that way gets an @example or a
# test of its own.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile(
    "explore",
    derandomize=False,
    print_blob=True,
    max_examples=500,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(autouse=True)
def home(tmp_path_factory, monkeypatch):
    """A fresh home folder and no CRDS variables, for every test.

    Nothing a test does can reach the real ``~/crds_cache``; the default
    cache of a test is ``<home>/crds_cache``, as on a fresh machine.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "CRDS_PATH",
        "CRDS_CONTEXT",
        "CRDS_OBSERVATORY",
        "CRDS_IGNORE_MAPPING_CHECKSUM",
        "IRISDQ_CRDS_LINK_ROOTS",
        "IRISDQ_ACCEPT_BAD_CHECKSUMS",
    ):
        monkeypatch.delenv(name, raising=False)
    clear_cache()
    yield home
    clear_cache()


@pytest.fixture(autouse=True)
def signal_handlers_kept():
    """Fail a test that leaves another SIGINT or SIGTERM handler behind.

    The interrupt tests need Python's own handlers; a handler left by one
    test (a library that installs its own on import) made them fail far
    from the cause. The handlers are put back either way.
    """
    numbers = (signal.SIGINT, signal.SIGTERM)
    before = {number: signal.getsignal(number) for number in numbers}
    yield
    left = []
    for number, handler in before.items():
        if signal.getsignal(number) is not handler:
            left.append(signal.Signals(number).name)
            signal.signal(number, handler)
    if left:
        pytest.fail(f"the test left its own {' and '.join(left)} handler installed")


@pytest.fixture(autouse=True)
def no_stpipe_delegation():
    """Keep stpipe 0.8's log delegation out of tests that run no step.

    Once imported, stpipe 0.8 hands every record of the main thread's other
    loggers to its own logger as well, renamed ``stpipe`` (its
    ``DelegationHandler``, which later stpipe releases dropped), so a test
    that counts irisdq's log records saw each one twice, under another name,
    whenever an earlier test had imported stpipe. A step that runs sets its
    own delegation and puts this back when it ends.
    """
    delegator = getattr(sys.modules.get("stpipe.log"), "delegator", None)
    if delegator is None:
        yield
        return
    saved = delegator.log
    delegator.log = None
    yield
    delegator.log = saved


@pytest.fixture(scope="session")
def dask_scheduler():
    """The address of one local Dask cluster of 2 workers for the session,
    built as ``irisdq.batch.run(workers=2)`` builds it."""
    from irisdq import batch

    with batch._client(2, None) as client:
        yield client.scheduler.address


def pytest_collection_finish(session):
    """Objects alive once the tests are collected (the imported modules of
    numpy, astropy, asdf, jwst, ...) are left out of later garbage
    collections, which otherwise scan them again and again."""
    import gc

    gc.collect()
    gc.freeze()
