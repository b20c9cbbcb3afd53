"""What a batch asks of each file and what it gets back: the step
parameters that travel to the workers, where each output goes, the
reference and options the client chooses (:class:`Request`), and one
:data:`FileResult` per input."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irisdq.dq_init.plan import Status
from irisdq.dq_init.result import DQInitResult
from irisdq.errors import IrisDQError

FAILED = Status.FAILED
VERIFIED = Status.VERIFIED
NOT_RUN = Status.NOT_RUN


# Step parameters that can travel to other processes: names of files, flags.
_PATH_PARAMS = ("override_mask", "user_supplied_dq", "output_file", "output_dir")
_FLAG_PARAMS = ("inplace", "overwrite")


# One result per input: the DQ initialization result type.
FileResult = DQInitResult


def _task_params(
    paths: list[str], output_dir: Any, step_params: dict[str, Any]
) -> dict[str, Any]:
    """Check the step parameters and keep them small and picklable."""
    from irisdq.dq_init import DQInit

    known = set(DQInit.parameter_defaults())
    params: dict[str, Any] = {}
    for name, value in {**step_params, "output_dir": output_dir}.items():
        if name not in known:
            raise IrisDQError(
                f"DQInit has no parameter {name!r}; its parameters are: "
                f"{', '.join(sorted(known))}"
            )
        if value is None:
            continue
        if name in _PATH_PARAMS:
            if not isinstance(value, str | os.PathLike):
                raise IrisDQError(
                    f"{name} must be a file name to run in a batch, not "
                    f"{type(value).__name__} (each task opens its own files)"
                )
            value = str(value)
        elif name in _FLAG_PARAMS:
            value = bool(value)
        params[name] = value
    if params.get("output_file") and len(paths) > 1:
        raise IrisDQError(
            f"output_file names one file but {len(paths)} inputs were given; "
            "use output_dir"
        )
    return params


def _check_outputs(paths: list[str], params: dict[str, Any]) -> None:
    """Refuse two inputs that write one output, and an output that would
    replace another input, before anything is processed."""
    inputs: dict[tuple, str] = {}
    for path in paths:
        inputs.setdefault(_identity(Path(path)), path)
    writers: dict[tuple, str] = {}
    for path in paths:
        try:
            target = output_path(path, params)
        except (IrisDQError, OSError, ValueError):
            continue  # the task reports it for this file
        key = _identity(target)
        if key in writers:
            raise IrisDQError(
                f"{writers[key]} and {path} would both write {target}; the "
                "first output would be lost: run them separately or rename one"
            )
        writers[key] = path
        other = inputs.get(key)
        if other is not None and _identity(Path(path)) != key:
            raise IrisDQError(
                f"{path} would write {target}, which is the input {other}; "
                "use --output-dir (output_dir) or run them separately"
            )


def _identity(path: Path) -> tuple:
    from irisdq.datamodels.files import file_identity

    # The same file under two names (a link, ../) is one file.
    return file_identity(path)


def output_path(path: str, params: dict[str, Any]) -> Path:
    """Where the step writes the output of ``path``.

    Parameters
    ----------
    path : str
        The input file.
    params : dict
        The step parameters (``output_dir``, ``output_file``, ``inplace``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> output_path("night/a_uncal.fits", {"output_dir": "out"}).as_posix()
    'out/a_dqinit.fits'
    """
    from irisdq.dq_init import DQInit

    if params.get("inplace"):
        return Path(path)
    step = DQInit(**{k: v for k, v in params.items() if k != "override_mask"})
    return Path(step.output_path(Path(path)))


@dataclass(frozen=True)
class Request:
    """What the client decided for one file: the reference and the option
    keywords to record. A worker applies it and selects nothing.

    Attributes
    ----------
    reference : irisdq.dq_init.step.ReferenceChoice
        The mask to read (absolute path on a worker), what ``R_MASK``
        records and the CRDS context.
    options : dict
        The option keywords to record (``R_USERDQ``, ``NARROWDQ``).
    substrt : tuple of int or None
        The position given for ramps without SUBSTRT1/2 (``substrt``).
    version : str or None
        The irisdq version of the process that chose: a worker of another
        version refuses the file (see :func:`~irisdq.batch.task.process_file`).
    """

    reference: Any
    options: dict[str, str]
    substrt: tuple[int, int] | None = None
    version: str | None = None

    def mismatch(self, recorded: Any, header: Any) -> str | None:
        """What differs between an output's record and this request, or
        None when it was made by the same request."""
        expected = {
            "S_DQINIT": (recorded.status, self.reference.status),
            "the mask": (recorded.mask, self.reference.record),
            "CRDS_CTX": (recorded.context, self.reference.context),
        }
        for keyword in ("R_USERDQ", "NARROWDQ"):
            expected[keyword] = (header.get(keyword), self.options.get(keyword))
        wanted = None if self.substrt is None else "{},{}".format(*self.substrt)
        expected["--substrt"] = (_given_position(header, wanted), wanted)
        for what, (found, wanted) in expected.items():
            if found != wanted:
                found = "none" if found is None else repr(str(found))
                wanted = "none" if wanted is None else repr(str(wanted))
                return f"{what} {found}, this run {wanted}"
        return None


def _given_position(header: Any, wanted: str | None) -> str | None:
    """The position an output records, as ``"COL,ROW"``, to compare with
    ``wanted``: its SUBSTRT1/2 when a position is wanted (the ramp's own or
    the one given), else only one that was given (their comment says so),
    else None."""
    from irisdq.dq_init.plan import GIVEN_COMMENT

    if "SUBSTRT1" not in header or "SUBSTRT2" not in header:
        return None
    if wanted is None and GIVEN_COMMENT not in header.comments["SUBSTRT1"]:
        return None
    return f"{header['SUBSTRT1']},{header['SUBSTRT2']}"


def make_request(path: str, params: dict[str, Any]) -> Request:
    """Choose the reference for ``path`` and the options to record, in this
    process, from its settings (``CRDS_PATH``, ``CRDS_CONTEXT``).

    Parameters
    ----------
    path : str
        The raw ramp.
    params : dict
        :class:`~irisdq.dq_init.DQInit` parameters (paths and flags).

    Returns
    -------
    Request

    Raises
    ------
    IrisDQError or OSError
        If the file's headers cannot be read or CRDS chooses nothing.

    Examples
    --------
    >>> request = make_request("a_uncal.fits", {"override_mask": "N/A"})
    >>> request.reference.record, request.options
    ('N/A', {})
    """
    from irisdq import __version__
    from irisdq.dq_init import DQInit

    step = DQInit(**params)
    return Request(
        step.choose_reference(path),
        step.option_keywords(),
        step.position(),
        __version__,
    )
