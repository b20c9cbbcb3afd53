"""The checks of every input path, as :mod:`irisdq.files` defines them
(kept here for the models' imports; they need no FITS library)."""

from irisdq.files import file_identity, refuse_output_over_input, require_regular_file

__all__ = ["file_identity", "refuse_output_over_input", "require_regular_file"]
