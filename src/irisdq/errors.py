"""The error hierarchy of irisdq.

Every error irisdq raises on purpose derives from :class:`IrisDQError`. The
message says what was wrong, where (file, keyword, value) and what to do, on
one line, so the command line can print it as it is and exit with code 2.
"""

__all__ = [
    "DataModelError",
    "FlagError",
    "FlagValueError",
    "IrisDQError",
    "MappingError",
    "NoMatchError",
    "ReferenceFileError",
    "SubarrayError",
]


class IrisDQError(Exception):
    """Base class of every error irisdq raises on purpose."""


class FlagError(IrisDQError, ValueError):
    """A DQ flag name or value that the flag convention does not know."""


class MappingError(IrisDQError, ValueError):
    """A CRDS mapping file that is missing, malformed, unsafe or inconsistent."""


class NoMatchError(IrisDQError, LookupError):
    """CRDS found no reference file for a dataset's parameters."""


class ReferenceFileError(IrisDQError, FileNotFoundError):
    """A reference file that is selected but missing or unreadable."""


class DataModelError(IrisDQError, ValueError):
    """A FITS file that does not have the layout a data model needs."""


class FlagValueError(FlagError, DataModelError):
    """An array meant to hold DQ flags holds values that are not flags
    (negative, fractional, too large for its type)."""


class SubarrayError(IrisDQError, ValueError):
    """A subarray that cannot be cut out of a reference array."""
