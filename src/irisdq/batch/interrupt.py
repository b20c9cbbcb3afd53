"""An interrupted batch: the exception that carries what finished."""

from irisdq.batch.request import FileResult


class BatchInterrupted(KeyboardInterrupt):
    """The run was interrupted; ``results`` holds what finished (and
    ``NOT_RUN`` for the rest)."""

    def __init__(self, results: list[FileResult]) -> None:
        super().__init__("interrupted")
        self.results = results
