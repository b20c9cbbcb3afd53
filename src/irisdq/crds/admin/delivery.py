"""Delivering a mask into a CRDS cache as a new context.

:func:`deliver` plans the delivery
(:func:`~irisdq.crds.admin.planning.plan_delivery`: the next-numbered rmap
with the rule inserted, the next imap and pmap pointing at it, each with
``derived_from`` and a correct ``sha1sum``; existing mappings are never
edited), then :func:`write_delivery` installs the new files all or nothing.

The mapping text is generated without any file access
(:func:`~irisdq.crds.admin.mapping_text.format_mapping`), in CRDS's layout,
so that both irisdq's parser and the stock ``crds`` client load it.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from irisdq.crds.admin.new_context import Delivery, DeliveryError, check_inside
from irisdq.crds.admin.planning import plan_delivery
from irisdq.errors import IrisDQError

__all__ = ["deliver", "write_delivery"]


def write_delivery(delivery: Delivery) -> None:
    """Install a delivery's files in the cache, all of them or none.

    Every file is first written to a temporary file beside its final name;
    only when all are written are they moved in, new files by hard link
    (which never replaces a file that appeared meanwhile), ``server_config``
    last, by rename. On any failure the files already moved in, the
    temporary files and the folders made are removed, leaving the cache as
    it was.

    Raises
    ------
    DeliveryError
        If a file would be written outside the cache through a link, or
        writing or moving a file fails (the cache is left as it was).
    """
    check_inside(delivery)
    created: list[Path] = []
    staged: list[tuple[Path, Path, bool]] = []
    installed: list[Path] = []
    folder = delivery.mapping_folder
    try:
        for mapping in delivery.copies:
            staged.append(_stage_text(folder / mapping.name, mapping.text, created))
        for source, target in delivery.references:
            staged.append(_stage_copy(source, target, created))
        for mapping in delivery.mappings:
            staged.append(_stage_text(folder / mapping.name, mapping.text, created))
        if delivery.server_config is not None:
            path, text = delivery.server_config
            temporary, _, _ = _stage_text(path, text, created)
            staged.append((temporary, path, True))
        for temporary, final, replace in staged:
            _install(temporary, final, replace)
            installed.append(final)
    except (OSError, IrisDQError) as exc:
        # server_config is moved in last: every file moved in is a new one.
        for final in reversed(installed):
            _remove(final)
        for temporary, _, _ in staged:
            _remove(temporary)
        for made in reversed(created):
            with contextlib.suppress(OSError):
                made.rmdir()
        if isinstance(exc, FileExistsError):
            # Names are chosen when planned: a delivery that ran meanwhile
            # took them (a hard link never replaces a file).
            raise DeliveryError(
                f"another delivery got there first: {exc.filename2 or exc.filename} "
                f"appeared in {delivery.root.path} after context "
                f"{delivery.context} was planned; nothing was changed: run the "
                "delivery again, to derive from the cache as it is now"
            ) from exc
        raise DeliveryError(
            f"writing context {delivery.context} into {delivery.root.path} "
            f"failed ({exc}); nothing was changed"
        ) from exc


def _make_folder(folder: Path, created: list[Path]) -> None:
    missing = []
    for parent in (folder, *folder.parents):
        if parent.is_dir():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)


def _stage_text(final: Path, text: str, created: list[Path]) -> tuple[Path, Path, bool]:
    _make_folder(final.parent, created)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    with os.fdopen(handle, "wb") as stream:
        stream.write(text.encode("utf-8"))
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(name, 0o644)
    return Path(name), final, False


def _stage_copy(
    source: Path, final: Path, created: list[Path]
) -> tuple[Path, Path, bool]:
    _make_folder(final.parent, created)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    with os.fdopen(handle, "wb") as stream, source.open("rb") as origin:
        shutil.copyfileobj(origin, stream, 1 << 20)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(name, 0o644)
    return Path(name), final, False


def _install(temporary: Path, final: Path, replace: bool) -> None:
    if replace:
        if final.is_symlink() or (final.exists() and not final.is_file()):
            raise DeliveryError(f"{final} is not a regular file; refused to replace it")
        os.replace(temporary, final)
        return
    # A hard link fails if the name exists: nothing is ever overwritten.
    os.link(temporary, final)
    os.unlink(temporary)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def deliver(
    references: list[str | os.PathLike],
    context: str | None = None,
    *,
    dry_run: bool = False,
    replace: bool = False,
    set_operational: bool = False,
    subarray: str | None = None,
) -> Delivery:
    """Deliver masks into the cache as a new context (see the module doc).

    Parameters
    ----------
    references : list of path
        The masks.
    context : str, optional
        The context to derive from (default: the one in use).
    dry_run : bool, optional
        Work out the delivery and write nothing.
    replace, set_operational : bool, optional
        See :func:`~irisdq.crds.admin.planning.plan_delivery`.
    subarray : str, optional
        See :func:`~irisdq.crds.admin.planning.plan_delivery`.

    Returns
    -------
    Delivery
        What was written (or would be, with `dry_run`).
    """
    delivery = plan_delivery(
        references,
        context,
        replace=replace,
        set_operational=set_operational,
        subarray=subarray,
    )
    if not dry_run:
        write_delivery(delivery)
    return delivery
