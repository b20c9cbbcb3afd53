"""The base of the selectors: :class:`Selector`, and how a lookup fails."""

import operator
from collections.abc import Iterator
from typing import Any

__all__ = ["DEFAULT_SUBSTITUTIONS", "InvalidDataset", "SelectionFailed", "Selector"]

#: Substitutions CRDS applies to every rmap's Match keys; an rmap's own
#: substitutions for a parameter replace these.
DEFAULT_SUBSTITUTIONS = {
    "META.SUBARRAY.NAME": {"GENERIC": "N/A"},
    "SUBARRAY": {"GENERIC": "N/A"},
}


class SelectionFailed(Exception):
    """A selector found nothing for the dataset; ``str()`` says why.

    A Match tries its next rank of rules after a failure of a nested
    selector, unless the failure is :class:`InvalidDataset`.
    """


class InvalidDataset(SelectionFailed):
    """A dataset value the selector cannot use (not a date, a number, a
    version, or a value the rules never name): no other rule is tried, as
    in CRDS."""


Choice = Any  # str | tuple[str, ...] | Selector


class Selector:
    """Base of the selectors: one parkey level and the choices under it.

    Attributes
    ----------
    parameters : tuple of str
        The dataset parameters this level compares.
    filename : str
        The rmap the selector comes from.
    line : int
        The line of the selector call.
    """

    kind = "Selector"

    def __init__(self, parameters: tuple[str, ...], filename: str, line: int):
        self.parameters = parameters
        self.filename = filename
        self.line = line
        if len(parameters) == 1:
            (name,) = parameters
            self._values = lambda values: (values[name],)
        elif parameters:
            self._values = operator.itemgetter(*parameters)
        else:
            self._values = lambda values: ()

    def choose(self, values: dict[str, str], trace: list[str] | None = None) -> Any:
        """Return the choice for conditioned dataset `values`.

        Raises
        ------
        SelectionFailed
            If nothing matches.
        """
        raise NotImplementedError

    def choices(self) -> Iterator[Choice]:
        """Yield every choice of this level."""
        raise NotImplementedError

    def leaves(self) -> Iterator[str]:
        """Yield every file name (and ``N/A``) reachable from this selector."""
        for choice in self.choices():
            if isinstance(choice, Selector):
                yield from choice.leaves()
            elif isinstance(choice, tuple):
                yield from choice
            elif isinstance(choice, dict):
                yield from choice.values()
            else:
                yield choice

    def _show(self, values: dict[str, str]) -> str:
        shown = ", ".join(f"{name}={values[name]!r}" for name in self.parameters)
        return f"{self.kind} at line {self.line} on {shown}"

    def _head(self) -> str:
        return f"{self.kind} (line {self.line}) on {', '.join(self.parameters)}:"


def resolve_choice(
    choice: Choice, values: dict[str, str], trace: list[str] | None
) -> Any:
    """Return the final choice, descending into a nested selector."""
    if isinstance(choice, Selector):
        return choice.choose(values, trace)
    return "N/A" if choice == "N/A" else choice
