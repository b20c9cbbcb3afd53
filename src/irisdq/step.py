"""A small pipeline-step base, in the manner of stpipe's ``Step``.

A step declares its parameters with defaults in ``spec`` and the reference
types it uses in ``reference_file_types``; each reference type gets an
``override_<reftype>`` parameter automatically (a path, a model, or
``'N/A'`` to skip). ``Step.call(input, **params)`` runs it once, as in the
JWST pipeline. Steps log through the standard ``logging`` module under the
``irisdq`` logger, record their status keyword (``S_<NAME>``) and the
reference files they used (``R_<REFTYPE>``, ``CRDS_CTX``), and name their
output ``<base>_<suffix>.fits``.

Examples
--------
>>> class Double(Step):
...     class_alias = "double"
...     spec = {"factor": 2}
...     def process(self, value):
...         return value * self.factor
>>> Double.call(21)
42
>>> Double.call(2, factor=5)
10
>>> Double(scale=3)
Traceback (most recent call last):
...
TypeError: Double has no parameter 'scale'; its parameters are: factor, ...
>>> Double().output_path("/data/jw_0001_uncal.fits")
PosixPath('/data/jw_0001_double.fits')
"""

import logging
import os
import re
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["KNOWN_SUFFIXES", "NOT_APPLICABLE", "RESULT_RECORD", "Step"]

NOT_APPLICABLE = "N/A"

#: Set (True) on the log record of a step's result line, so that a command
#: that prints each result itself can leave the record out of its log.
RESULT_RECORD = "irisdq_result"

# Suffixes that name a pipeline product; an input's suffix among these is
# replaced by the step's own rather than appended to.
KNOWN_SUFFIXES = (
    "uncal",
    "raw",
    "ramp",
    "dqinit",
    "dq_init",
    "saturation",
    "superbias",
    "refpix",
    "linearity",
    "dark",
    "dark_current",
    "jump",
    "rate",
    "rateints",
    "cal",
    "calints",
)
_SUFFIX_RE = re.compile(r"_(" + "|".join(KNOWN_SUFFIXES) + r")$", re.IGNORECASE)
_FITS_EXTENSIONS = (".fits", ".fit", ".fts")

COMMON_SPEC: dict[str, Any] = {
    "output_file": None,
    "output_dir": None,
    "inplace": False,
    "overwrite": False,
}


class Step:
    """Base class of irisdq's pipeline steps.

    Subclasses set ``class_alias`` (e.g. ``'dq_init'``), ``spec`` (their own
    parameters and defaults), ``reference_file_types``, ``output_suffix``
    and implement :meth:`process`.
    """

    class_alias: ClassVar[str] = "step"
    spec: ClassVar[dict[str, Any]] = {}
    reference_file_types: ClassVar[tuple[str, ...]] = ()
    output_suffix: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        defaults = self.parameter_defaults()
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no parameter {unknown[0]!r}; its "
                f"parameters are: {', '.join(defaults)}"
            )
        for name, default in defaults.items():
            setattr(self, name, params.get(name, default))
        self.log = logging.getLogger(f"irisdq.{self.class_alias}")

    @classmethod
    def parameter_defaults(cls) -> dict[str, Any]:
        """Every parameter of the step with its default, overrides included."""
        overrides = {
            f"override_{reftype}": None for reftype in cls.reference_file_types
        }
        return {**cls.spec, **overrides, **COMMON_SPEC}

    @property
    def parameters(self) -> dict[str, Any]:
        """The step's current parameter values."""
        return {name: getattr(self, name) for name in self.parameter_defaults()}

    @classmethod
    def call(cls, input: Any, **params: Any) -> Any:
        """Create the step with ``params`` and run it on ``input``."""
        return cls(**params).run(input)

    def run(self, input: Any) -> Any:
        """Run the step on ``input`` and return its result."""
        self.log.debug("%s parameters: %s", type(self).__name__, self.parameters)
        return self.process(input)

    def process(self, input: Any) -> Any:
        """The step's work; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement process()")

    @property
    def status_keyword(self) -> str:
        """The FITS keyword that records the step's status (``S_DQINIT``)."""
        return "S_" + self.class_alias.replace("_", "").upper()[:6]

    @staticmethod
    def reference_keyword(reftype: str) -> str:
        """The FITS keyword that records a reference file (``R_MASK``)."""
        return "R_" + reftype.upper()[:6]

    def reference_override(self, reftype: str) -> Any:
        """The user's override for ``reftype``: a path, a model, 'N/A' or None.

        Only ``'N/A'`` (in any case) means "skip"; any other text is a path,
        so that a file named ``none`` or ``NA`` is used, not ignored.
        """
        override = getattr(self, f"override_{reftype.lower()}")
        if isinstance(override, str) and override.upper() == NOT_APPLICABLE:
            return NOT_APPLICABLE
        return override

    def output_path(self, input_path: str | os.PathLike) -> Path:
        """Where the output of ``input_path`` goes.

        ``output_file`` wins (relative to ``output_dir`` when both are set);
        otherwise ``<base>_<suffix>.fits`` in ``output_dir``, or beside the
        input, where ``<base>`` is the input's name less a known product
        suffix (``_uncal``, ``_ramp``, ...).
        """
        input_path = Path(input_path)
        folder = Path(self.output_dir) if self.output_dir else input_path.parent
        if self.output_file:
            output = Path(self.output_file)
            return (
                output
                if output.is_absolute() or not self.output_dir
                else (folder / output)
            )
        name = input_path.name
        for extension in _FITS_EXTENSIONS:
            if name.lower().endswith(extension):
                name = name[: -len(extension)]
                break
        base = _SUFFIX_RE.sub("", name)
        suffix = self.output_suffix or self.class_alias
        return folder / f"{base}_{suffix}.fits"
