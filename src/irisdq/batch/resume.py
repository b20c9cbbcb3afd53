"""Resuming a batch: an existing output made by the same request and
passing its checksums is kept; temporary files of killed writers are
removed."""

from typing import Any

from irisdq.batch.request import VERIFIED, FileResult, Request, output_path
from irisdq.errors import IrisDQError


def _verified_output(
    path: str, params: dict[str, Any], request: Request, notes: list[str]
) -> FileResult | None:
    """The result for an existing output made by the same request (its
    record matches ``request``) whose every HDU carries CHECKSUM and
    DATASUM and passes them, else None; an output made by another request
    is named in ``notes``."""
    import warnings

    from irisdq.datamodels import open as open_model
    from irisdq.datamodels import read_primary_header

    target = output_path(path, params)
    if not target.is_file():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The model of the output's own layout (a Liger ramp, too).
            with open_model(target, verify_checksums=False) as model:
                # An HDU without its sums cannot be verified: the output is
                # made again rather than trusted.
                for hdu in model.hdu_layout:
                    if "CHECKSUM" not in hdu.header or "DATASUM" not in hdu.header:
                        return None
                if not model.verify_checksums():
                    return None
            header = read_primary_header(target)
    except (IrisDQError, OSError, ValueError):
        return None
    from irisdq.dq_init import DQInit

    recorded = DQInit(**params).recorded(header)
    if recorded is None:
        return None
    differs = request.mismatch(recorded, header)
    if differs is not None:
        notes.append(f"{target}: made by another request ({differs}); made again")
        return None
    return FileResult(
        path,
        output=str(target),
        status=VERIFIED,
        mask=recorded.mask,
        context=recorded.context,
    )


def _remove_stale_temporaries(paths: list[str], params: dict[str, Any]) -> None:
    """Remove the temporary files of outputs whose writer was killed.

    The step writes its output through a temporary file beside it; a worker
    killed mid-write leaves that file behind. A temporary file whose writer
    is still at work (another run writing the same output) holds a lock and
    is left alone.
    """
    from irisdq.datamodels.atomic import remove_abandoned_temporaries

    for path in paths:
        try:
            target = output_path(path, params)
        except (IrisDQError, OSError, ValueError):
            continue
        remove_abandoned_temporaries(target)
