"""The end of a batch run from the command line: the table of results,
and the JSON report (checked before the run, written atomically after)."""

from irisdq.batch.request import _identity, output_path
from irisdq.errors import IrisDQError


def print_table(results, stream) -> None:
    """The final table: file, status, seconds, mask used, pixels flagged
    (for a failure, its reason)."""
    from irisdq.dq_init.plan import Status

    rows = [("file", "status", "seconds", "mask", "flagged")]
    for result in results:
        flagged = (
            " ".join(f"{name}={count}" for name, count in result.flagged.items()) or "-"
        )
        if result.status is Status.FAILED:
            flagged = _reason(result)
        rows.append(
            (
                result.input,
                result.status,
                f"{result.seconds:.2f}" if result.status is not Status.NOT_RUN else "-",
                result.mask or "-",
                flagged,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]).rstrip(), file=stream)


def _reason(result) -> str:
    """A failure's reason as the table gives it: without the input's name,
    which its first column shows (a reason naming another file keeps it)."""
    reason = result.error or ""
    named = f"{result.input}: "
    return reason[len(named) :] if reason.startswith(named) else reason


def check_report(
    path,
    files,
    params,
    *,
    output_dir=None,
    scheduler=None,
    scheduler_file=None,
    resume: bool = False,
) -> bool:
    """Check the --report file before the run; return whether it replaces
    an existing file.

    The report may not be an input of the run (a ramp, the mask, the DQ
    reference, the user DQ, the scheduler file) nor one of its outputs,
    under any name. An existing file is replaced only with --overwrite, or
    with --resume when it is an earlier report; never a FITS file, nor
    anything but a regular file.

    Parameters
    ----------
    path : str
        The --report file.
    files : list of str
        The inputs of the run.
    params : dict
        The step parameters of the run, as :func:`irisdq.batch.run` takes
        them: they place the outputs and name the mask
        (``override_mask``), the DQ reference (``override_dq``) and the user
        DQ (``user_supplied_dq``);
        ``overwrite`` lets an existing report be replaced.
    output_dir : str, optional
        The folder of the outputs (--output-dir).
    scheduler, scheduler_file : str, optional
        The scheduler file, or address, of the run (--scheduler,
        --scheduler-file).
    resume : bool, optional
        The run resumes (--resume): an earlier report may be replaced.

    Returns
    -------
    bool
        True when the report replaces an existing file.

    Raises
    ------
    IrisDQError
        If the report would replace an input, an output or a FITS file.
    FileExistsError
        If the report exists and may not be replaced, or is not a regular
        file.
    """
    import errno
    from pathlib import Path

    from irisdq.datamodels.atomic import check_replaceable

    target = Path(path)
    existing = check_replaceable(target)
    own = _identity(target)
    roles = [("input", name) for name in files]
    for role, name in (
        ("mask", params.get("override_mask")),
        ("DQ reference", params.get("override_dq")),
        ("user DQ", params.get("user_supplied_dq")),
        ("scheduler file", scheduler),
        ("scheduler file", scheduler_file),
    ):
        if name and Path(name).exists():
            roles.append((role, name))
    where = {k: v for k, v in params.items() if v is not None}
    if output_dir is not None:
        where["output_dir"] = output_dir
    for name in files:
        try:
            roles.append(("output", str(output_path(name, where))))
        except (IrisDQError, OSError, ValueError):
            continue  # the run reports it for that file
    for role, name in roles:
        if _identity(Path(name)) == own:
            raise IrisDQError(
                f"--report {path} is the {role} {name} of this run; give the "
                "report a name of its own"
            )
    if existing is None:
        return False
    if _looks_like_fits(target):
        raise IrisDQError(
            f"--report {path} is a FITS file; a report replaces only a report: "
            "give it a name of its own"
        )
    if not (params.get("overwrite") or (resume and _is_report(target))):
        raise FileExistsError(
            errno.EEXIST,
            "already exists; use --overwrite to replace the report, or "
            "another --report name",
            str(path),
        )
    return True


def _looks_like_fits(path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(9) == b"SIMPLE  ="
    except OSError:
        return False


def _is_report(path) -> bool:
    import json

    try:
        with open(path, "rb") as stream:
            document = json.loads(stream.read(64 << 20))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return (
        isinstance(document, dict)
        and isinstance(document.get("files"), list)
        and {"total", "failed", "interrupted"} <= set(document)
    )


def write_report(
    path, results, seconds: float, interrupted: bool, *, overwrite: bool = False
) -> None:
    """Write the results as JSON, atomically (see
    :func:`irisdq.datamodels.atomic.atomic_output`): a failed write leaves
    no file behind, nor a temporary one.

    Parameters
    ----------
    path : str or os.PathLike
        The report file.
    results : list of irisdq.batch.FileResult
        One per input.
    seconds : float
        The wall time of the run.
    interrupted : bool
        Whether the run was interrupted.
    overwrite : bool, optional
        Replace an existing report (checked by :func:`check_report`).

    Raises
    ------
    FileExistsError
        If the report exists and ``overwrite`` is false.
    OSError
        If the report cannot be written; the error names it.
    """
    import io
    import json

    from irisdq.datamodels.atomic import atomic_output
    from irisdq.dq_init.plan import Status

    document = {
        "files": [result.to_dict() for result in results],
        "total": len(results),
        "failed": sum(result.status is Status.FAILED for result in results),
        "interrupted": interrupted,
        "seconds": round(seconds, 3),
    }
    try:
        with atomic_output(path, overwrite=overwrite) as stream:
            text = io.TextIOWrapper(stream, encoding="utf-8")
            try:
                json.dump(document, text, indent=2)
                text.write("\n")
            finally:
                # Flushed, and the stream left to atomic_output to close.
                text.detach()
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
