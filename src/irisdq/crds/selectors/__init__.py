"""The seven CRDS selectors, built once from a parsed rmap and then queried.

A selector works on one level of the rmap's ``parkey``; a choice is a file
name, ``N/A``, a tuple of names, or a selector for the next level. Building
checks everything that can be checked without a dataset (key syntax, dates,
versions, numbers, nesting depth), so a malformed rmap fails when it is
loaded, with its file and line, and a lookup only compares values.

Lookups take a dict of conditioned dataset values keyed by parameter name
and an optional ``trace`` list; when a list is given, each selector appends
lines telling what it compared and chose (the ``--explain`` text).

The modules: :mod:`~irisdq.crds.selectors.base` (the :class:`Selector`
base, :class:`SelectionFailed`), :mod:`~irisdq.crds.selectors.match`
(:class:`MatchSelector`, which ranks rules by their keys),
:mod:`~irisdq.crds.selectors.ordered` (the selectors over ordered keys:
dates, numbers, versions) and :mod:`~irisdq.crds.selectors.build`
(:func:`build_selector`, which checks an rmap's selector call and builds the
tree).
"""

from irisdq.crds.selectors.base import (
    DEFAULT_SUBSTITUTIONS,
    InvalidDataset,
    SelectionFailed,
    Selector,
)
from irisdq.crds.selectors.build import build_selector
from irisdq.crds.selectors.match import MatchSelector
from irisdq.crds.selectors.ordered import (
    BracketSelector,
    ClosestTimeSelector,
    GeometricallyNearestSelector,
    SelectVersionSelector,
    UseAfterSelector,
    VersionAfterSelector,
)

__all__ = [
    "DEFAULT_SUBSTITUTIONS",
    "BracketSelector",
    "ClosestTimeSelector",
    "GeometricallyNearestSelector",
    "InvalidDataset",
    "MatchSelector",
    "SelectVersionSelector",
    "SelectionFailed",
    "Selector",
    "UseAfterSelector",
    "VersionAfterSelector",
    "build_selector",
]
