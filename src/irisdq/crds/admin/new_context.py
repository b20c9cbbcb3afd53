"""What a delivery writes into a CRDS cache: :class:`Delivery`.

:func:`~irisdq.crds.admin.planning.plan_delivery` works a delivery out and
:func:`~irisdq.crds.admin.delivery.write_delivery` installs it; both refuse,
through :func:`check_inside`, a file that a link would put outside the cache.
"""

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from irisdq.crds.cache import CacheRoot, observatory_of
from irisdq.errors import IrisDQError

__all__ = ["Delivery", "DeliveryError", "NewMapping"]


class DeliveryError(IrisDQError, ValueError):
    """A reference cannot be delivered, or the new context cannot be written."""


@dataclass(slots=True, eq=False)
class NewMapping:
    """A mapping file that a delivery writes.

    Attributes
    ----------
    name : str
        Its file name, e.g. ``'tmt_0002.pmap'``.
    text : str
        Its whole text, ``sha1sum`` included.
    derived_from : str or None
        The mapping it replaces (None for a new rmap or a copied one).
    old_text : str
        The text of `derived_from` ('' when there is none).
    """

    name: str
    text: str
    derived_from: str | None = None
    old_text: str = ""

    def diff(self) -> str:
        """Return the unified diff from `derived_from` to this mapping."""
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.text.splitlines(keepends=True),
                fromfile=self.derived_from or "/dev/null",
                tofile=self.name,
            )
        )


@dataclass(slots=True, eq=False)
class Delivery:
    """What a delivery writes into a cache.

    Attributes
    ----------
    root : CacheRoot
        The cache.
    base : str
        The context the new one derives from.
    context : str
        The new context (pmap) name.
    mappings : list of NewMapping
        The new rmaps, imaps and pmap, in that order.
    copies : list of NewMapping
        Mappings shipped with irisdq that the old context uses, copied into
        the cache so that it holds both contexts whole.
    references : list of (pathlib.Path, pathlib.Path)
        Each reference file and where it goes in the cache.
    server_config : (pathlib.Path, str) or None
        The ``server_config`` file and its new text, with ``--set-operational``.
    left_behind : list of str
        One line per group of exposures that, from a new mask's USEAFTER
        on, the new context still gives an older mask (see
        :func:`~irisdq.crds.admin.planning.plan_delivery`); empty when every
        exposure the new rule could serve gets it.
    """

    root: CacheRoot
    base: str
    context: str
    mappings: list[NewMapping] = field(default_factory=list)
    copies: list[NewMapping] = field(default_factory=list)
    references: list[tuple[Path, Path]] = field(default_factory=list)
    server_config: tuple[Path, str] | None = None
    left_behind: list[str] = field(default_factory=list)

    def diff(self) -> str:
        """Return the unified diffs of every new mapping, one after another."""
        return "".join(mapping.diff() for mapping in self.mappings)

    @property
    def mapping_folder(self) -> Path:
        """The cache folder of the context's observatory's mappings."""
        return self.root.path / "mappings" / observatory_of(self.base)

    def files(self) -> list[Path]:
        """Return the cache files the delivery writes, in writing order."""
        folder = self.mapping_folder
        paths = [folder / mapping.name for mapping in self.copies]
        paths += [target for _, target in self.references]
        paths += [folder / mapping.name for mapping in self.mappings]
        if self.server_config is not None:
            paths.append(self.server_config[0])
        return paths


def check_inside(delivery: Delivery) -> None:
    """Refuse a delivery any of whose files, links resolved, would be
    written outside the cache (a linked folder inside it). Folders named
    by IRISDQ_CRDS_LINK_ROOTS are shared stores to read, never written."""
    inside = os.path.join(os.path.realpath(delivery.root.path), "")
    for path in delivery.files():
        real = os.path.realpath(path)
        if not real.startswith(inside):
            raise DeliveryError(
                f"{path} leads to {real}, outside the CRDS cache "
                f"{delivery.root.path}, through a link; crds add writes only "
                "inside the cache: replace the link by a folder of the cache"
            )
