"""irisdq as an stpipe step, and irisdq's CRDS for any stpipe step.

Needs the ``stpipe`` extra (``pip install "irisdq[stpipe]"``). irisdq
registers its step in stpipe's ``stpipe.steps`` entry-point group, so
``stpipe list`` shows it and ``strun`` runs it by alias::

    strun irisdq::dq_init raw_uncal.fits [--override_mask=PATH|N/A] [--output_dir=DIR]
    strun irisdq::dq_init liger_raw.fits [--override_dq=PATH|N/A] [--narrow_dq=drop]
    strun irisdq::dq_init sample_ramp.fits --override_mask=PATH --substrt=1025,1
    strun irisdq::dq_init --save-parameters dq_init.asdf     # a parameter file
    strun dq_init.asdf raw_uncal.fits

- :class:`DQInitStep`: :class:`irisdq.dq_init.DQInit` as an stpipe
  ``Step`` for every profile (same parameters, same results: ``S_DQINIT``,
  ``R_MASK`` or ``R_DQ``, ``CRDS_CTX``, ``<base>_dqinit.fits``), for
  ``strun`` and a pipeline's ``step_defs``. A file in gives a file out,
  streamed: the science array is never loaded.
- :class:`LocalCRDSMixin`: reference files for any stpipe step or pipeline
  from a local CRDS cache of any observatory, through :mod:`irisdq.crds`
  instead of the stock CRDS client (which refuses ``tmt``); no CRDS
  step-parameter (``pars-*``) lookup.
- :class:`RampModel`, :class:`LigerRampModel`, :class:`TMTMaskModel`:
  irisdq's lazy models (:mod:`irisdq.datamodels`, the same classes), which
  have what stpipe expects of a model (``crds_observatory``,
  ``get_crds_parameters``, ``save``, ``meta.filename``:
  :class:`StpipeModelMixin`). :func:`irisdq.datamodels.open` opens a file
  as one.

Errors of irisdq (a missing mask, a bad path, no CRDS match) leave a step
or pipeline that uses the mixin as :class:`StepError`: under ``strun`` that
is one ``ERROR`` log line, stpipe's message box and exit status 2, without a
traceback.
"""

from irisdq.datamodels import LigerRampModel, RampModel, TMTMaskModel
from irisdq.datamodels.stpipe_model import StpipeModelMixin
from irisdq.stpipe.references import LocalCRDSMixin, StepError
from irisdq.stpipe.step import DQInitStep

__all__ = [
    "DQInitStep",
    "LigerRampModel",
    "LocalCRDSMixin",
    "RampModel",
    "StepError",
    "StpipeModelMixin",
    "TMTMaskModel",
    "get_steps",
]

# Named by their public path, as stpipe records a step's class in the
# parameter files it saves (``class: irisdq.stpipe.DQInitStep``).
for _public in (DQInitStep, LocalCRDSMixin, StepError):
    _public.__module__ = __name__
del _public


def get_steps() -> list[tuple[str, str, bool]]:
    """The steps irisdq registers in stpipe's ``stpipe.steps`` entry points.

    Returns
    -------
    list of (str, str, bool)
        The class's full name, its alias and whether it is a pipeline, as
        stpipe expects (``strun irisdq::dq_init``).

    Examples
    --------
    >>> get_steps()
    [('irisdq.stpipe.DQInitStep', 'dq_init', False)]
    """
    return [("irisdq.stpipe.DQInitStep", "dq_init", False)]
