"""irisdq's CRDS for any stpipe step or pipeline, and its errors there.

:class:`LocalCRDSMixin` gives a step or pipeline its reference files from a
local CRDS cache of any observatory through :mod:`irisdq.crds`;
:class:`StepError` is an irisdq error as ``strun`` reports one (a log line
and exit status 2, no traceback).
"""

import logging
import os
from collections.abc import Sequence
from typing import Any, ClassVar

from stpipe import Pipeline, config_parser
from stpipe.exceptions import StpipeExitException

from irisdq import crds, profiles
from irisdq.errors import IrisDQError
from irisdq.exposure import resolve
from irisdq.step import NOT_APPLICABLE

__all__ = ["LocalCRDSMixin", "StepError"]

# The package's logger: records keep the name they had when irisdq.stpipe
# was one module.
log = logging.getLogger("irisdq.stpipe")


class StepError(IrisDQError, StpipeExitException):
    """An irisdq error raised out of an stpipe step or pipeline.

    ``strun`` exits with :attr:`exit_status` (2) on it instead of printing a
    traceback. The original error is the ``__cause__``.
    """

    def __init__(self, message: str, exit_status: int = 2) -> None:
        super().__init__(exit_status, message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Rebuilt from the message (Exception pickles ``args``, which here
        # start with the exit status): it travels to and from Dask workers.
        return type(self), (self.message, self.exit_status)


def _label(input: Any) -> str | None:
    """The input's file name for messages, if it has one."""
    if isinstance(input, str | os.PathLike):
        return os.fspath(input)
    path = getattr(input, "path", None)
    return str(path) if path is not None else None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _first(input: Any) -> Any:
    if isinstance(input, Sequence) and not isinstance(input, str):
        if not input:
            raise TypeError("an empty list has no dataset to select references for")
        return input[0]
    return input


def _profile_dataset(
    input: Any, forced: str | None = None, *, ramps_only: bool = False
) -> tuple[profiles.Profile, dict[str, Any]] | None:
    """The profile of a dataset (a path, a model, or parameters) and the
    CRDS parameters to select its references with, as
    :func:`irisdq.exposure.resolve` gives them; with `ramps_only`, None for
    a dataset that is not a raw ramp of any profile."""
    try:
        exposure = resolve(_first(input), forced)
    except TypeError:
        if ramps_only:
            return None  # not a dataset: the step itself says so
        raise
    if ramps_only and not exposure.is_ramp:
        return None
    return exposure.profile, exposure.parameters


class LocalCRDSMixin:
    """Reference files for an stpipe step or pipeline from a local CRDS cache.

    Put it before ``Step`` or ``Pipeline`` in the bases::

        class DarkCurrentStep(LocalCRDSMixin, Step):
            reference_file_types = ["dark"]

            def process(self, input):
                dark = self.get_reference_file(input, "dark")   # a path, or 'N/A'
                ...

    References come from :mod:`irisdq.crds` (``$CRDS_PATH``, default
    ``~/crds_cache``), with no server and no stock CRDS client, selected
    the way the dataset's profile says (:mod:`irisdq.profiles`: a Liger/IRIS
    ramp by INSTERA, ``META.DATE`` from EXPDTST..., in the ``ligeriri``
    context; a JWST file in the ``jwst`` one): context :attr:`crds_context`,
    else ``$CRDS_CONTEXT``, else the cache's operational or newest pmap of
    that observatory. ``dq`` and ``mask`` are one reference type under two
    names. What stpipe would ask CRDS for goes there instead:

    - :meth:`get_reference_file`: ``override_<reftype>`` if set, else the
      best reference; records ``crds://<file>`` (or the override) for
      ``finalize_result``;
    - the reference pre-check before a step or pipeline runs
      (``_precache_references``): every reference type of every step that
      runs, so a missing file fails before any work; a step of the pipeline
      with a ``check_references(input)`` method checks its own (as
      :class:`DQInitStep` does, in the context of the file's profile);
    - no CRDS step-parameter (``pars-<step>``) references: parameters come
      from the class spec, parameter files and keyword arguments only.

    An irisdq error in :meth:`run` (a missing reference, no match, a bad
    input) is raised again as :class:`StepError`, which ``strun`` reports
    without a traceback (exit status 2).
    """

    spec = """
    output_ext = string(default='.fits')  # output file extension
    """

    #: The pmap to select from (``'tmt_0002.pmap'``); None for irisdq's
    #: default. (:class:`DQInitStep` selects its mask inside
    #: :class:`irisdq.dq_init.DQInit`, from the default context.)
    crds_context: ClassVar[str | None] = None

    @classmethod
    def _crds_context(cls, observatory: str | None = None) -> crds.Context:
        return crds.get_context(cls.crds_context, observatory)

    def get_reference_file(self, input_file: Any, reference_file_type: str) -> Any:
        """Return the reference file of ``reference_file_type`` for a dataset.

        Parameters
        ----------
        input_file : str, os.PathLike or model
            The dataset: a FITS file, an irisdq model or any stpipe model
            (``get_crds_parameters``).
        reference_file_type : str
            The reference type (``'mask'``, ``'dark'``).

        Returns
        -------
        str or model
            The override (a path, a model or ``'N/A'``) when
            ``override_<reftype>`` is set; else the path of the best reference
            in the cache, or ``'N/A'`` when the type does not apply.

        Raises
        ------
        irisdq.errors.ReferenceFileError
            The chosen file is not in the cache (the message gives the path).
        irisdq.errors.NoMatchError
            No rule matches the dataset.
        """
        override = self.get_ref_override(reference_file_type)
        if override is not None:
            recorded = getattr(override, "override_handle", override)
            self._reference_files_used.append((reference_file_type, str(recorded)))
            return override
        # Read a file's header once for both the choice and the path.
        profile, parameters = _profile_dataset(input_file)
        context = self._crds_context(profile.observatory)
        reftype = profile.reftype_in(context, parameters, reference_file_type)
        selection = context.select(parameters, reftype)
        if selection.not_applicable:
            self._reference_files_used.append((reference_file_type, NOT_APPLICABLE))
            return NOT_APPLICABLE
        path = context.bestref(parameters, reftype)
        self._reference_files_used.append((reference_file_type, selection.uri))
        return path

    @classmethod
    def _get_crds_parameters(cls, dataset: Any) -> tuple[dict[str, Any], str]:
        profile, parameters = _profile_dataset(dataset)
        observatory = cls._crds_context(profile.observatory).pmap.observatory
        return parameters, observatory.lower()

    @classmethod
    def get_config_from_reference(
        cls, dataset: Any, disable: bool | None = None, crds_observatory: Any = None
    ):
        """No step-parameter references: an empty configuration."""
        return cls._no_parameters()

    @classmethod
    def _get_config_from_parameters(cls, crds_parameters: Any, crds_observatory: Any):
        return cls._no_parameters()

    @classmethod
    def _no_parameters(cls):
        # stpipe < 1 has no _empty_config(); a pipeline's needs its steps.
        config = config_parser.ConfigObj()
        if issubclass(cls, Pipeline):
            config["steps"] = {}
        return config

    def get_pars(self, full_spec: bool = True) -> dict[str, Any]:
        """The step's parameters, with the reference overrides that are set.

        stpipe leaves ``override_<reftype>`` out, so a parameter file saved
        with ``--override_mask=N/A`` would forget it; here it is kept.
        """
        pars = super().get_pars(full_spec=full_spec)
        if not isinstance(self, Pipeline):
            reftypes = getattr(self, "_override_types", self.reference_file_types)
            for reftype in reftypes:
                name = f"override_{reftype}"
                value = getattr(self, name, None)
                if isinstance(value, str):
                    pars[name] = str(value)
        return pars

    def _precache_references(self, input_file: Any) -> None:
        if isinstance(self, Pipeline):
            # A step that knows how it selects its references (per file
            # convention, as DQInitStep does) checks them itself.
            steps = self._unskipped_steps
            checked = [step for step in steps if hasattr(step, "check_references")]
            for step in checked:
                step.check_references(input_file)
            reftypes = sorted(
                {
                    reftype
                    for step in steps
                    if step not in checked
                    for reftype in step.reference_file_types
                }
            )
        else:
            reftypes = sorted(set(self.reference_file_types))
        if not reftypes:
            return
        overrides = {
            reftype: override
            for reftype in reftypes
            if (override := self.get_ref_override(reftype)) is not None
        }
        for reftype, override in overrides.items():
            log.info("Override for %s reference file is %r", reftype.upper(), override)
        selected = [reftype for reftype in reftypes if reftype not in overrides]
        if not selected:
            return
        profile, dataset = _profile_dataset(input_file)
        context = self._crds_context(profile.observatory)
        for wanted in selected:
            reftype = profile.reftype_in(context, dataset, wanted)
            found = context.bestref(dataset, reftype)
            log.info("Prefetch for %s reference file is %r", reftype.upper(), found)

    def run(self, *args: Any) -> Any:
        """Run as stpipe does; irisdq errors become :class:`StepError`."""
        try:
            return super().run(*args)
        except StpipeExitException:
            raise
        except (IrisDQError, OSError) as exc:
            message = _one_line(exc)
            label = _label(args[0]) if args else None
            if label and label not in message:
                message = f"{label}: {message}"
            log.error("%s", message)
            raise StepError(message) from exc
