"""An interrupted batch: the exception that carries what finished, and
SIGTERM turned into the same interrupt."""

from irisdq.batch.request import FileResult


class BatchInterrupted(KeyboardInterrupt):
    """The run was interrupted; ``results`` holds what finished (and
    ``NOT_RUN`` for the rest)."""

    def __init__(self, results: list[FileResult]) -> None:
        super().__init__("interrupted")
        self.results = results


class sigterm_as_interrupt:
    """Turn SIGTERM into KeyboardInterrupt, so that a terminated run cleans
    up and reports like an interrupted one."""

    def __enter__(self):
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc_info):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False
