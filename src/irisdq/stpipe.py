"""irisdq as an stpipe step, and irisdq's CRDS for any stpipe step.

Needs the ``stpipe`` extra (``pip install "irisdq[stpipe]"``). irisdq
registers its step in stpipe's ``stpipe.steps`` entry-point group, so
``stpipe list`` shows it and ``strun`` runs it by alias::

    strun irisdq::dq_init raw_uncal.fits [--override_mask=PATH|N/A] [--output_dir=DIR]
    strun irisdq::dq_init liger_raw.fits [--override_dq=PATH|N/A] [--narrow_dq=drop]
    strun irisdq::dq_init sample_ramp.fits --override_mask=PATH --substrt=1025,1
    strun irisdq::dq_init --save-parameters dq_init.asdf     # a parameter file
    strun dq_init.asdf raw_uncal.fits

- :class:`DQInitStep`: :class:`irisdq.dq_init.DQInitStep` as an stpipe
  ``Step`` for every profile (same parameters, same results: ``S_DQINIT``,
  ``R_MASK`` or ``R_DQ``, ``CRDS_CTX``, ``<base>_dqinit.fits``), for
  ``strun`` and a pipeline's ``step_defs``. A file in gives a file out,
  streamed: the science array is never loaded.
- :class:`LocalCRDSMixin`: reference files for any stpipe step or pipeline
  from a local CRDS cache of any observatory, through :mod:`irisdq.crds`
  instead of the stock CRDS client (which refuses ``tmt``); no CRDS
  step-parameter (``pars-*``) lookup.
- :class:`RampModel`, :class:`LigerRampModel`, :class:`TMTMaskModel`:
  irisdq's lazy models with what stpipe expects of a model
  (``crds_observatory``, ``get_crds_parameters``, ``save``,
  ``meta.filename``).

Errors of irisdq (a missing mask, a bad path, no CRDS match) leave a step
or pipeline that uses the mixin as :class:`StepError`: under ``strun`` that
is one ``ERROR`` log line, stpipe's message box and exit status 2, without a
traceback.
"""

import logging
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from stpipe import Pipeline, Step, config_parser
from stpipe.exceptions import StpipeExitException

from irisdq import crds, profiles
from irisdq import datamodels as _datamodels
from irisdq.dq_init import DQInitStep as _DQInitStep
from irisdq.dq_init.memory import is_stdatamodel
from irisdq.errors import IrisDQError
from irisdq.exposure import resolve
from irisdq.step import KNOWN_SUFFIXES, NOT_APPLICABLE

__all__ = [
    "DQInitStep",
    "LigerRampModel",
    "LocalCRDSMixin",
    "RampModel",
    "StepError",
    "StpipeModelMixin",
    "TMTMaskModel",
    "get_steps",
    "open_model",
]

log = logging.getLogger(__name__)

_SUFFIX_RE = re.compile(r"_(" + "|".join(KNOWN_SUFFIXES) + r")$", re.IGNORECASE)


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


# -- models -------------------------------------------------------------------


def _model_state(model) -> tuple:
    """What :meth:`StpipeModelMixin.save` compares to know a model unchanged
    since it was read: metadata, extra keywords, and no array in memory."""
    in_memory = tuple(
        sorted(
            attr
            for attr, entry in model._arrays.items()
            if not isinstance(entry, _datamodels.HDULayout)
        )
    )
    return model.meta.to_dict(), model.extra_keywords.tostring(), in_memory


class StpipeModelMixin:
    """What stpipe asks of a data model, added to an irisdq model.

    stpipe recognises a model by ``crds_observatory``,
    ``get_crds_parameters`` and ``save``, and names outputs from
    ``meta.filename``. ``save`` of a model that is still the file it was
    read from, unchanged, writes nothing when asked to save to that file;
    otherwise it writes through :meth:`~irisdq.datamodels.DataModel.write`
    (unread arrays copied byte for byte). An existing file is replaced only
    with ``overwrite=True`` (or :attr:`overwrite` set on the model), except
    the output a step wrote for this model, which its changes update.
    """

    #: Whether :meth:`save` replaces an existing file when not told.
    overwrite: bool = False

    def __init__(self, init: Any = None, **kwargs: Any) -> None:
        super().__init__(init, **kwargs)
        self._adapted(read_from_file=init is not None)

    @classmethod
    def adopt(cls, model, *, read_from_file: bool = False):
        """Make an irisdq model of the matching class an instance of ``cls``.

        Parameters
        ----------
        model : irisdq.datamodels.DataModel
            A model of ``cls``'s irisdq base class (or a ``cls``); it is
            changed in place.
        read_from_file : bool, optional
            Whether the model is its file as just opened: only such a model
            is saved, or processed, through its file while unchanged.

        Returns
        -------
        the same model, now a ``cls``
        """
        base = cls.__bases__[-1]
        if type(model) not in (base, cls):
            raise TypeError(f"{cls.__name__} adopts a {base.__name__}, not {model!r}")
        # The adapter adds methods only, so the object's state fits as it is.
        model.__class__ = cls
        model._adapted(read_from_file)
        return model

    def _adapted(self, read_from_file: bool) -> None:
        self._scratch: Path | None = None
        self._step_output = False
        if self.path is not None:
            self.meta.filename = self.path.name
        self._read_state = _model_state(self) if read_from_file else None

    @property
    def crds_observatory(self) -> str:
        """The CRDS observatory, from ``TELESCOP`` (``'tmt'``)."""
        return str(self.meta.telescope or "TMT").strip().lower()

    def get_crds_parameters(self) -> dict[str, Any]:
        """The dataset parameters CRDS matches, as ``meta.*`` names.

        Returns
        -------
        dict
            Lower-case dotted names (``'meta.instrument.detector'``), as
            stdatamodels gives them.
        """
        parameters = crds.dataset_parameters(self)
        return {
            name.lower(): value for name, value in parameters.items() if "." in name
        }

    @property
    def override_handle(self) -> str:
        """How stpipe records this model when it overrides a reference file."""
        return str(self.path) if self.path is not None else f"<{type(self).__name__}>"

    def is_unchanged_file(self) -> bool:
        """Whether the model is still exactly the file it was read from."""
        return (
            self._read_state is not None
            and self._stream is not None
            and not self._stream.closed
            and _model_state(self) == self._read_state
        )

    def save(
        self,
        path: str | os.PathLike | Any,
        dir_path: str | os.PathLike | None = None,
        *args: Any,
        overwrite: bool | None = None,
        **kwargs: Any,
    ) -> str:
        """Save the model to a FITS file, as stpipe saves results.

        Parameters
        ----------
        path : str, os.PathLike or callable
            The file; a callable gets ``meta.filename`` and returns it.
        dir_path : str or os.PathLike, optional
            A folder that replaces the folder of ``path``.
        overwrite : bool, optional
            Replace an existing file (default: :attr:`overwrite`).

        Returns
        -------
        str
            The file written (or already there).
        """
        if callable(path):
            path = path(self.meta.filename)
        target = Path(path)
        if dir_path is not None:
            target = Path(dir_path) / target.name
        itself = (
            self.path is not None
            and target.exists()
            and os.path.samefile(target, self.path)
        )
        if itself and self.is_unchanged_file():
            return str(target)
        if itself and self._step_output:
            # The file the step wrote for this very model: saving the model
            # after a change (finalize_result, a hook) updates it.
            overwrite = True
        elif overwrite is None:
            overwrite = self.overwrite
        self.write(target, overwrite=overwrite)
        return str(target)

    def close(self) -> None:
        """Close the file; a scratch output nobody saved is deleted."""
        super().close()
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def _own_scratch(self, folder: Path) -> None:
        self._scratch = folder
        # Removed when the model goes, if close() never came.
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)


class RampModel(StpipeModelMixin, _datamodels.RampModel):
    """:class:`irisdq.datamodels.RampModel` as stpipe expects a model.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = RampModel()
    >>> ramp.meta.instrument.detector = "IRIS1"
    >>> ramp.crds_observatory, ramp.get_crds_parameters()["meta.instrument.detector"]
    ('tmt', 'IRIS1')
    """


class LigerRampModel(StpipeModelMixin, _datamodels.LigerRampModel):
    """:class:`irisdq.datamodels.LigerRampModel` as stpipe expects a model.

    Its CRDS observatory is ``ligeriri`` and its CRDS parameters are those
    of the ``liger`` profile (``META.DATE`` from ``EXPDTST``...), whatever
    ``TELESCOP`` says (``Keck-I`` for Liger, ``TMT`` for IRIS).

    Examples
    --------
    >>> ramp = LigerRampModel()
    >>> ramp.meta.instrument.detector = "IMG1"
    >>> ramp.extra_keywords["EXPDTST"] = "20250314093000"
    >>> parameters = ramp.get_crds_parameters()
    >>> ramp.crds_observatory, parameters["meta.date"]
    ('ligeriri', '2025-03-14 09:30:00')
    """

    @property
    def crds_observatory(self) -> str:
        """The CRDS observatory of the Liger/IRIS pipeline: ``'ligeriri'``."""
        return _LIGER.observatory

    def get_crds_parameters(self) -> dict[str, Any]:
        """The dataset parameters a ``ligeriri`` context matches, as
        ``meta.*`` names: the header's, then the ASDF tree's where the
        header is silent.

        Returns
        -------
        dict
            Lower-case dotted names (``'meta.instrument.detector'``).
        """
        return {
            name.lower(): value
            for name, value in _liger_parameters(self).items()
            if "." in name
        }


class TMTMaskModel(StpipeModelMixin, _datamodels.TMTMaskModel):
    """:class:`irisdq.datamodels.TMTMaskModel` as stpipe expects a model
    (for ``override_mask`` given a model in Python)."""


_ADAPTERS = {
    _datamodels.RampModel: RampModel,
    _datamodels.LigerRampModel: LigerRampModel,
    _datamodels.TMTMaskModel: TMTMaskModel,
}

_LIGER = profiles.get_profile("liger")


def _liger_parameters(model) -> dict[str, Any]:
    """The ``liger`` profile's CRDS parameters of a Liger ramp model."""
    return resolve(model, _LIGER).parameters


def open_model(init: Any) -> StpipeModelMixin:
    """Open a FITS file (or adopt an irisdq model) as a stpipe-ready model.

    Parameters
    ----------
    init : str, os.PathLike or irisdq.datamodels.DataModel
        A ramp or mask file (headers only are read), or a model.

    Returns
    -------
    RampModel, LigerRampModel or TMTMaskModel
    """
    if isinstance(init, StpipeModelMixin):
        return init
    opened = isinstance(init, str | os.PathLike)
    model = _datamodels.open(init) if opened else init
    for base, adapter in _ADAPTERS.items():
        if type(model) is base:
            return adapter.adopt(model, read_from_file=opened)
    raise TypeError(f"cannot open {init!r} as an irisdq data model")


# -- CRDS ---------------------------------------------------------------------


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
    #: :class:`irisdq.dq_init.DQInitStep`, from the default context.)
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


# -- the DQ initialization step ---------------------------------------------------


class _NamingLogger(logging.LoggerAdapter):
    """A logger that names files as the user knows them: each ``(path,
    shown)`` pair's path, in the message and its arguments, is logged as
    ``shown`` (a scratch output as its input, a model's scratch copy as the
    model)."""

    def __init__(self, logger: logging.Logger, names: Sequence[tuple[str, str]]):
        super().__init__(logger, {})
        # The longest first: a scratch output may contain a scratch input.
        self.names = sorted(names, key=lambda pair: -len(pair[0]))

    def _named(self, value: Any) -> Any:
        if not isinstance(value, str | os.PathLike):
            return value
        text = os.fspath(value)
        for path, shown in self.names:
            text = text.replace(path, shown)
        return text

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log as the wrapped logger does, with the files renamed."""
        if self.names:
            msg, args = self._named(msg), tuple(self._named(a) for a in args)
        super().log(level, msg, *args, **kwargs)


class DQInitStep(LocalCRDSMixin, Step):
    """Initialize the DQ arrays of a raw ramp from the bad-pixel reference.

    The stpipe face of :class:`irisdq.dq_init.DQInitStep`: the same
    parameters and results, for every profile (:mod:`irisdq.profiles`).
    ``profile`` (``tmt``, ``jwst``, ``liger``) forces a file convention,
    otherwise each file's is detected. ``override_mask`` (or
    ``override_dq``, the Liger/IRIS pipeline's name for the same reference;
    give one) is a path, a :class:`TMTMaskModel` or ``'N/A'`` (skip:
    ``S_DQINIT = SKIPPED``); otherwise the reference is the CRDS best
    reference from the local cache of the profile's observatory
    (``R_MASK``, or ``R_DQ`` for Liger, ``= crds://<file>``; ``CRDS_CTX``).
    ``user_supplied_dq`` is a FITS image of extra flags ORed into the mask.
    ``narrow_dq`` says what becomes of flags 16..31 in a uint16 DQ (Liger):
    refused by default, ``drop`` or ``do-not-use``. ``substrt`` (``COL,ROW``,
    1-based) places a ramp without SUBSTRT1/SUBSTRT2 on the detector and is
    recorded in the output.

    A file in is streamed into ``<base>_dqinit.fits`` (``_uncal``,
    ``_ramp``... replaced) in ``output_dir`` (default: the current folder, as
    stpipe names outputs) when the result is saved (``strun``,
    ``save_results``, ``output_file``); otherwise into a scratch file that
    the returned model (:class:`RampModel`, :class:`LigerRampModel` for a
    Liger ramp) deletes when closed, unless saved. An existing output is
    replaced only with ``overwrite``. A :class:`RampModel` in memory is
    processed in memory; a :class:`LigerRampModel` changed in memory is
    written to a scratch file first and streamed from it.
    """

    class_alias = "dq_init"
    spec = """
    user_supplied_dq = string(default=None)  # FITS image of flags ORed into the mask
    profile = option('tmt', 'jwst', 'liger', default=None)  # default: the file's
    narrow_dq = option('drop', 'do-not-use', default=None)  # flags 16..31 in uint16 DQ
    substrt = int_list(min=2, max=2, default=None)  # COL,ROW: a ramp without SUBSTRT
    overwrite = boolean(default=False)  # replace an existing output (--overwrite=True)
    override_dq = is_string_or_datamodel(default=None)  # override_mask by Liger's name
    """
    #: The bad-pixel reference, by the name the tmt and jwst observatories
    #: give it: a pipeline's prefetch asks its own CRDS for these. ``dq``,
    #: the Liger/IRIS pipeline's name of the same reference, is the
    #: ``override_dq`` parameter; the step selects by the name the
    #: dataset's own context knows.
    reference_file_types: ClassVar = ["mask"]
    _override_types: ClassVar = ("mask", "dq")

    @classmethod
    def _datamodels_open(cls, init: Any, **kwargs: Any) -> StpipeModelMixin:
        return open_model(init)

    def default_suffix(self) -> str:
        """``dqinit``: outputs are ``<base>_dqinit.fits``."""
        return "dqinit"

    @staticmethod
    def remove_suffix(name: str) -> tuple[str, str]:
        """Drop a known product suffix (``_uncal``, ``_ramp``...) from a name."""
        return _SUFFIX_RE.sub("", name), "_"

    def _irisdq_parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        for reftype in self._override_types:
            override = getattr(self, f"override_{reftype}", None)
            if isinstance(override, str):
                # strun's values are str subclasses; irisdq records a plain str.
                override = str(override) if override.strip() else None
            parameters[f"override_{reftype}"] = override
        for name in ("user_supplied_dq", "profile", "narrow_dq"):
            value = getattr(self, name)
            parameters[name] = str(value) if value else None
        substrt = getattr(self, "substrt", None)
        parameters["substrt"] = None if substrt is None else tuple(substrt)
        return parameters

    def _inner(
        self, names: Sequence[tuple[str, str]] = (), **parameters: Any
    ) -> _DQInitStep:
        """irisdq's step with this step's parameters, logging under this
        step's stpipe logger name (``stpipe.dq_init``, or
        ``stpipe.<pipeline>.dq_init`` in a pipeline), which every stpipe log
        configuration covers (jwst's configures ``stpipe`` and ``jwst``
        only, not ``irisdq``); each ``(path, shown)`` of `names` is logged
        as ``shown``."""
        inner = _DQInitStep(**self._irisdq_parameters(), **parameters)
        name = getattr(self, "qualified_name", None) or f"stpipe.{self.name}"
        inner.log = _NamingLogger(logging.getLogger(name), names)
        return inner

    def process(self, input: Any = None) -> StpipeModelMixin | None:
        """Run irisdq's DQ initialization on a ramp file or model.

        Returns
        -------
        RampModel, LigerRampModel or None
            The result: the output file, opened lazily, for a file; the
            changed copy for a :class:`RampModel` in memory. None without an
            input (``strun irisdq::dq_init --save-parameters p.asdf`` only
            saves parameters).
        """
        if input is None:
            log.warning("%s: no input file given; nothing to do", self.name)
            return None
        if isinstance(input, str | os.PathLike):
            result = self._process_file(Path(input))
        elif isinstance(input, StpipeModelMixin) and input.is_unchanged_file():
            result = self._process_file(input.path)
        elif isinstance(input, _datamodels.RampModel):
            inner = self._inner()
            result = RampModel.adopt(inner.run(input))
            self._record(inner, result)
        elif isinstance(input, _datamodels.LigerRampModel):
            result = self._process_liger_model(input)
        elif is_stdatamodel(input):
            # jwst's or the Liger/IRIS pipeline's model: changed in memory
            # and returned as its own class, as its pipeline's step would: a
            # copy when called alone, the model itself inside a pipeline
            # (jwst's steps copy only when they have no parent).
            inner = self._inner(inplace=self.parent is not None)
            result = inner.run(input)
            self._record(inner, result)
            return result
        else:
            raise TypeError(
                f"DQInitStep takes a ramp file name, a RampModel or a "
                f"LigerRampModel, not {type(input).__name__}"
            )
        result.overwrite = bool(self.overwrite)
        return result

    def _process_liger_model(self, model) -> StpipeModelMixin:
        # irisdq initializes a Liger ramp in its file only: the model, as it
        # is now, goes to a scratch file beside the output, streamed from
        # there and deleted after.
        name = model.path.name if model.path is not None else "ramp.fits"
        label = model.path if model.path is not None else "<LigerRampModel>"
        folder = Path(os.path.abspath(self.make_output_path())).parent
        folder.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".irisdq-", dir=folder))
        try:
            written = model.write(scratch / name)
            return self._process_file(written, label=label)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _process_file(
        self, path: Path, label: str | os.PathLike | None = None
    ) -> StpipeModelMixin:
        if self.save_results:
            # Written where stpipe will save the result, so that saving it
            # finds the file already there.
            target, scratch = Path(self.make_output_path()), None
            overwrite = bool(self.overwrite)
        else:
            # Absolute: the model outlives a change of the working folder.
            folder = Path(os.path.abspath(self.make_output_path())).parent
            folder.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".irisdq-", dir=folder))
            target, overwrite = scratch / path.name, False
        # The log names the input (the model's file) and no scratch file:
        # a scratch output is not a result until saved.
        shown = os.fspath(label) if label is not None else str(path)
        names = [(str(target), shown)] if scratch is not None else []
        if label is not None:
            names.append((str(path), shown))
        inner = self._inner(names, output_file=target, overwrite=overwrite)
        try:
            try:
                written = inner.run(path)
            except FileExistsError as exc:
                # strun's options take a value: --overwrite alone is refused.
                raise FileExistsError(
                    exc.errno,
                    "output already exists; replace it with overwrite=True "
                    "(strun: --overwrite=True)",
                    exc.filename,
                ) from None
            except IrisDQError as exc:
                if label is None:
                    raise
                # A model's scratch copy: the message names the model's file.
                message = str(exc).replace(str(path), os.fspath(label))
                raise type(exc)(message) from None
            result = open_model(written)
        except BaseException:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        result._step_output = True
        if scratch is not None:
            result._own_scratch(scratch)
        self._record(inner, result)
        return result

    def _record(self, inner: _DQInitStep, result: Any) -> None:
        # Under the reference type the result's profile names it (R_DQ: dq).
        reftype = resolve(result, self.profile).profile.reftypes[0]
        self._reference_files_used.append((reftype, inner.summary.mask))

    def _precache_references(self, input_file: Any) -> None:
        # irisdq's step selects the mask itself (recording crds://<file> and
        # the context); checking first would only read the header twice.
        return None

    def check_references(self, input_file: Any) -> None:
        """Check, before a pipeline does any work, that the bad-pixel
        reference this step will use for ``input_file`` is in the cache.

        The reference is looked up as the step looks it up: in the CRDS
        context of the file's profile, under that profile's reference type
        (``dq`` in a ``ligeriri`` context); nothing is checked when it is
        overridden.

        Raises
        ------
        irisdq.errors.ReferenceFileError
            The chosen file is not in the cache.
        irisdq.errors.NoMatchError
            No rule matches the dataset.
        """
        for reftype in self._override_types:
            override = self.get_ref_override(reftype)
            if override is not None:
                log.info(
                    "Override for %s reference file is %r", reftype.upper(), override
                )
                return
        found = _profile_dataset(input_file, self.profile, ramps_only=True)
        if found is None:
            return  # not a ramp: the step itself says so
        profile, dataset = found
        context = crds.get_context(observatory=profile.observatory)
        reftype = profile.reftype_in(context, dataset)
        found = context.bestref(dataset, reftype)
        log.info("Prefetch for %s reference file is %r", reftype.upper(), found)
