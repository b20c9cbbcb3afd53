"""The DQ initialization as an stpipe step (``strun irisdq::dq_init``).

:class:`DQInitStep` runs :class:`irisdq.dq_init.DQInit` under stpipe,
for ``strun`` and a pipeline's ``step_defs``.
"""

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from stpipe import Step

from irisdq import crds
from irisdq import datamodels as _datamodels
from irisdq.datamodels.stpipe_model import StpipeModelMixin
from irisdq.dq_init import DQInit
from irisdq.dq_init.memory import is_stdatamodel
from irisdq.errors import IrisDQError
from irisdq.exposure import resolve
from irisdq.step import KNOWN_SUFFIXES
from irisdq.stpipe.references import LocalCRDSMixin, _profile_dataset

__all__ = ["DQInitStep"]

# The package's logger: records keep the name they had when irisdq.stpipe
# was one module.
log = logging.getLogger("irisdq.stpipe")

_SUFFIX_RE = re.compile(r"_(" + "|".join(KNOWN_SUFFIXES) + r")$", re.IGNORECASE)


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

    :class:`irisdq.dq_init.DQInit` as an stpipe step, for every profile
    (:mod:`irisdq.profiles`): the same parameters, documented there
    (``override_mask`` or ``override_dq``, ``user_supplied_dq``,
    ``profile``, ``narrow_dq``, ``substrt``, ``overwrite``), and the same
    results. What is stpipe's own:

    A file in is streamed into ``<base>_dqinit.fits`` (``_uncal``,
    ``_ramp``... replaced) in ``output_dir`` (default: the current folder, as
    stpipe names outputs) when the result is saved (``strun``,
    ``save_results``, ``output_file``); otherwise into a scratch file that
    the returned model (:class:`RampModel`, :class:`LigerRampModel` for a
    Liger ramp) deletes when closed, unless saved. An existing output is
    replaced only with ``overwrite``. A :class:`RampModel` in memory is
    processed in memory; a :class:`LigerRampModel` changed in memory is
    written to a scratch file first and streamed from it. Errors leave the
    step as :class:`StepError`.
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
        return _datamodels.open(init)

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
    ) -> DQInit:
        """irisdq's step with this step's parameters, logging under this
        step's stpipe logger name (``stpipe.dq_init``, or
        ``stpipe.<pipeline>.dq_init`` in a pipeline), which every stpipe log
        configuration covers (jwst's configures ``stpipe`` and ``jwst``
        only, not ``irisdq``); each ``(path, shown)`` of `names` is logged
        as ``shown``."""
        inner = DQInit(**self._irisdq_parameters(), **parameters)
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
            result = inner.run(input)
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
            result = _datamodels.open(written)
        except BaseException:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        result._step_output = True
        if scratch is not None:
            result._own_scratch(scratch)
        self._record(inner, result)
        return result

    def _record(self, inner: DQInit, result: Any) -> None:
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
