"""Writing a raw ramp with its DQ arrays updated, streamed, new file or in place.

:func:`update_ramp_dq` is the one file operation of the DQ initialization
step: given a ramp file, primary-header keywords to record and the flags to
OR into PIXELDQ and into every GROUPDQ plane, it writes the result

- to a new file: the extensions it does not change (SCI, ERR, ...) are
  copied byte for byte (CHECKSUM/DATASUM added where they lack them),
  PIXELDQ is written from one plane in memory and GROUPDQ plane by plane,
  into a temporary file renamed into place
  (:func:`~irisdq.datamodels.atomic.atomic_output`);
- or in place: only the primary header, the DQ extensions and the ASDF
  extension are rewritten (or appended), under the undo journal of
  :func:`~irisdq.datamodels.inplace.update_in_place`; when a rewritten HDU
  would not take exactly the space of the old one (a header that grows, a
  DQ array stored in another type, a longer ASDF tree), the whole file is
  rewritten through a temporary file instead, keeping its permissions and
  owner.

Either way the file ends with one ``ASDF`` extension, the metadata tree
stdatamodels reads (:mod:`irisdq.datamodels.asdf_tree`): the input's tree
updated when it had a readable one, else a new one.

Memory is a few DQ planes whatever the number of groups.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from irisdq.datamodels import RampModel
>>> folder = Path(tempfile.mkdtemp())
>>> ramp = RampModel()
>>> ramp.data = np.zeros((1, 3, 4, 4), dtype=np.float32)
>>> raw = ramp.write(folder / "raw.fits")
>>> flags = np.zeros((4, 4), dtype=np.uint32)
>>> flags[1, 2] = 1025
>>> result = update_ramp_dq(raw, {"S_DQINIT": ("COMPLETE", "DQ initialization")},
...                         flags, (flags & 1).astype(np.uint8),
...                         target=folder / "out.fits")
>>> [(change.name, change.found) for change in result.created]
[('PIXELDQ', None), ('GROUPDQ', None)]
>>> with RampModel(folder / "out.fits") as out:
...     int(out.pixeldq[1, 2]), out.groupdq[0, :, 1, 2].tolist()
(1025, [1, 1, 1])
"""

import errno
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from irisdq.datamodels import asdf_tree, inplace
from irisdq.datamodels.atomic import atomic_output
from irisdq.datamodels.hdu_io import (
    copy_hdu_with_checksums,
    image_encoding,
    image_header_size,
    write_image_hdu,
    write_image_hdu_blocks,
)
from irisdq.datamodels.header import header_text
from irisdq.datamodels.model import _without
from irisdq.datamodels.ramp import RampModel
from irisdq.errors import DataModelError, IrisDQError

__all__ = ["DQArrayChange", "RampDQUpdate", "check_output", "update_ramp_dq"]

_DQ_NAMES = ("PIXELDQ", "GROUPDQ")


@dataclass(frozen=True)
class DQArrayChange:
    """A DQ array the input lacked, or had in another shape, and got anew.

    Attributes
    ----------
    name : str
        ``'PIXELDQ'`` or ``'GROUPDQ'``.
    found : tuple of int or None
        The shape in the input; None when it had no such extension.
    shape : tuple of int
        The shape written.
    """

    name: str
    found: tuple[int, ...] | None
    shape: tuple[int, ...]


@dataclass
class RampDQUpdate:
    """What :func:`update_ramp_dq` did.

    Attributes
    ----------
    path : pathlib.Path
        The file written (the input itself in place).
    created : list of DQArrayChange
        The DQ arrays made from zeros rather than updated.
    rewritten : bool
        In place, True when the whole file had to be rewritten.
    """

    path: Path
    created: list[DQArrayChange] = field(default_factory=list)
    rewritten: bool = False


def check_output(
    source: str | os.PathLike, target: str | os.PathLike, *, overwrite: bool
) -> None:
    """Refuse, before any work, an output that would replace its input or an
    existing file (without ``overwrite``).

    Raises
    ------
    IrisDQError
        If ``target`` is ``source`` (through any link).
    FileExistsError
        If ``target`` exists and ``overwrite`` is false.
    """
    source, target = Path(source), Path(target)
    if not target.exists():
        return
    if target.resolve() == source.resolve():
        raise IrisDQError(
            f"{source}: the output would replace the input; use --in-place "
            "(inplace=True) or choose another output"
        )
    if not overwrite:
        raise FileExistsError(
            errno.EEXIST,
            "output already exists; use --overwrite (overwrite=True) to replace it",
            str(target),
        )


def update_ramp_dq(
    source: str | os.PathLike,
    keywords: Mapping[str, Any],
    pixel_flags: np.ndarray | None = None,
    group_flags: np.ndarray | None = None,
    *,
    target: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> RampDQUpdate:
    """Record ``keywords`` and OR DQ flags into a ramp file, streaming.

    Parameters
    ----------
    source : str or os.PathLike
        The raw ramp (primary header, SCI, optional PIXELDQ, GROUPDQ, ERR and
        any other extensions).
    keywords : mapping
        Primary-header keywords to set: a value or ``(value, comment)``.
        Strings are stored as FITS can hold them (see
        :func:`~irisdq.datamodels.header.header_text`).
    pixel_flags : numpy.ndarray or None
        uint32 (ny, nx), ORed into PIXELDQ (created from zeros when missing
        or of another shape). None leaves the DQ arrays as they are.
    group_flags : numpy.ndarray or None
        uint8 (ny, nx), ORed into every (integration, group) plane of
        GROUPDQ (likewise created when needed). Required with
        ``pixel_flags``.
    target : str or os.PathLike, optional
        The new file; None changes ``source`` in place.
    overwrite : bool, optional
        Replace an existing regular file at ``target``.

    Returns
    -------
    RampDQUpdate

    Raises
    ------
    DataModelError
        If the file is not a ramp, has data in its primary HDU, has an
        extension twice, or is being changed in place by another process.
    FileExistsError
        If ``target`` exists and ``overwrite`` is false.
    """
    if pixel_flags is not None and group_flags is None:
        raise ValueError("group_flags is required with pixel_flags")
    source = Path(source)
    with RampModel(source, verify_checksums=False) as ramp:
        plan = _Plan.build(ramp, source, keywords, pixel_flags, group_flags)
        if target is None:
            return plan.write_in_place(source)
        plan.write_copy(source, Path(target), overwrite=overwrite)
        return RampDQUpdate(Path(target), plan.created)


@dataclass
class _Plan:
    """Everything needed to write one ramp file."""

    ramp: Any
    source: Path
    header: Any
    pixel_flags: np.ndarray | None
    group_flags: np.ndarray | None
    cube: tuple[int, int, int, int]
    pixeldq: np.ndarray | None = None
    pixeldq_hdu: Any = None
    groupdq_hdu: Any = None
    created: list[DQArrayChange] = field(default_factory=list)
    asdf_hdu: bytes = b""

    @classmethod
    def build(cls, ramp, source: Path, keywords, pixel_flags, group_flags) -> "_Plan":
        layout = ramp.hdu_layout
        primary = layout[0]
        if primary.data_size:
            raise DataModelError(
                f"{source}: the primary HDU holds data; a ramp keeps its arrays "
                "in extensions (SCI, PIXELDQ, GROUPDQ)"
            )
        names = _names(layout)
        for name in ("SCI", *_DQ_NAMES):
            if names.count(name) > 1:
                raise DataModelError(
                    f"{source}: has {names.count(name)} {name} extensions; a ramp "
                    f"has one. Remove the extra {name} before DQ initialization"
                )
        header = primary.header.copy()
        for keyword, value in keywords.items():
            value, comment = value if isinstance(value, tuple) else (value, None)
            if isinstance(value, str):
                value = header_text(value)
            # A long value (a path) goes without its comment, so that astropy
            # need not cut one.
            header[keyword] = (value, comment) if comment else value
        plan = cls(ramp, source, header, pixel_flags, group_flags, tuple(ramp.shape))
        if pixel_flags is not None:
            plan._plan_dq(layout)
        plan.asdf_hdu = plan._asdf_hdu(layout)
        return plan

    def _plan_dq(self, layout) -> None:
        """Which DQ arrays are updated and which are made anew."""
        pixel_flags, group_flags = self.pixel_flags, self.group_flags
        ny, nx = self.cube[-2:]
        if pixel_flags.shape != (ny, nx) or group_flags.shape != (ny, nx):
            raise DataModelError(
                f"{self.source}: the flags are {pixel_flags.shape} but the ramp's "
                f"planes are {(ny, nx)}"
            )
        by_name = {hdu.name: hdu for hdu in layout[1:]}
        found = by_name.get("PIXELDQ")
        if found is not None and found.shape == (ny, nx):
            self.pixeldq_hdu = found
            self.pixeldq = self.ramp.pixeldq
            np.bitwise_or(self.pixeldq, pixel_flags, out=self.pixeldq)
        else:
            self.created.append(_change("PIXELDQ", found, (ny, nx)))
            # Nothing to OR into: the flags are PIXELDQ (only read here).
            self.pixeldq = pixel_flags
        found = by_name.get("GROUPDQ")
        if found is not None and found.shape == self.cube:
            self.groupdq_hdu = found
        else:
            self.created.append(_change("GROUPDQ", found, self.cube))

    def _asdf_hdu(self, layout) -> bytes:
        """The output's ASDF extension: the input's tree (if readable)
        updated, or a new one."""
        previous = None
        old = [hdu for hdu in layout[1:] if hdu.name == asdf_tree.ASDF_EXTENSION]
        if old:
            with open(self.source, "rb", buffering=0) as stream:
                data = os.pread(stream.fileno(), old[0].data_size, old[0].data_offset)
            previous = asdf_tree.read_tree(data, str(self.source))
        return asdf_tree.asdf_hdu_bytes(
            asdf_tree.ramp_tree(self.header, self._array_refs(layout), previous)
        )

    def _array_refs(self, layout) -> list[asdf_tree.ArrayRef]:
        """The image extensions of the output that the tree can point to."""
        updating = self.pixel_flags is not None
        refs = []
        for hdu in layout[1:]:
            if hdu.kind != "IMAGE" or not hdu.name:
                continue
            if updating and hdu.name in _DQ_NAMES:
                continue
            encoding = image_encoding(hdu.header)
            # BSCALE/BZERO scaled values have no stored array to point to.
            if not encoding.scaled:
                refs.append(
                    asdf_tree.ArrayRef(hdu.name, hdu.ver, hdu.shape, encoding.values)
                )
        if updating:
            for hdu, name, shape, dtype in (
                (self.pixeldq_hdu, "PIXELDQ", self.cube[-2:], np.dtype(np.uint32)),
                (self.groupdq_hdu, "GROUPDQ", self.cube, np.dtype(np.uint8)),
            ):
                ver = 1 if hdu is None else hdu.ver
                refs.append(asdf_tree.ArrayRef(name, ver, shape, dtype))
        return refs

    # -- the arrays as written ----------------------------------------------

    def _dq_header(self, name: str, existing):
        from astropy.io import fits

        header = fits.Header([("EXTNAME", name, "extension name")])
        if existing is not None:
            for card in _without(existing.header, {"EXTNAME"}).cards:
                header.append(card)
        return header

    def _group_planes(self, stream) -> Iterator[np.ndarray]:
        """GROUPDQ plane by plane: the input's ORed with the flags, or the
        flags alone."""
        nplanes = self.cube[0] * self.cube[1]
        if self.groupdq_hdu is None:
            for _ in range(nplanes):
                yield self.group_flags
            return
        encoding = image_encoding(self.groupdq_hdu.header)
        plane = np.empty(self.group_flags.shape, dtype=np.uint8)
        for index in range(nplanes):
            offset = self.groupdq_hdu.data_offset + index * plane.nbytes
            # Read then write one plane at a time: in place, each read comes
            # before the write of the same bytes.
            count = os.preadv(stream.fileno(), [memoryview(plane)], offset)
            if count != plane.nbytes:
                raise DataModelError(
                    f"{self.source}: GROUPDQ ends early; the file is truncated"
                )
            if encoding.flip:
                np.bitwise_xor(plane, np.uint8(encoding.flip), out=plane)
            np.bitwise_or(plane, self.group_flags, out=plane)
            yield plane

    def _write_pixeldq(self, stream) -> None:
        header = self._dq_header("PIXELDQ", self.pixeldq_hdu)
        write_image_hdu(stream, np.asarray(self.pixeldq, dtype=np.uint32), header)

    def _write_groupdq(self, stream, source) -> None:
        header = self._dq_header("GROUPDQ", self.groupdq_hdu)
        write_image_hdu_blocks(
            stream, self._group_planes(source), self.cube, np.uint8, header
        )

    def _dq_bytes(self) -> int:
        if self.pixel_flags is None:
            return 0
        return 4 * self.pixel_flags.size + math.prod(self.cube) + 4 * 2880

    # -- a new file ------------------------------------------------------------

    def write_copy(self, source_path: Path, target: Path, *, overwrite: bool) -> None:
        layout = self.ramp.hdu_layout
        size_hint = layout[-1].end + self._dq_bytes() + len(self.asdf_hdu)
        with (
            open(source_path, "rb", buffering=0) as source,
            atomic_output(target, overwrite=overwrite, size_hint=size_hint) as out,
        ):
            write_image_hdu(out, None, self.header, primary=True)
            writers = {
                "PIXELDQ": lambda: self._write_pixeldq(out),
                "GROUPDQ": lambda: self._write_groupdq(out, source),
            }
            updating = self.pixel_flags is not None
            names = _names(layout)
            # Arrays the input lacks go right after SCI, as in jwst.
            missing = [n for n in writers if n not in names] if updating else []
            for hdu in layout[1:]:
                if hdu.name == asdf_tree.ASDF_EXTENSION:
                    continue  # replaced by the updated tree, at the end
                if updating and hdu.name in writers:
                    writers[hdu.name]()
                else:
                    copy_hdu_with_checksums(source, hdu, out)
                if hdu.name == "SCI":
                    for name in missing:
                        writers[name]()
                    missing = []
            # Last, as stdatamodels places it.
            out.write(self.asdf_hdu)

    # -- the input file itself ---------------------------------------------------

    def write_in_place(self, path: Path) -> RampDQUpdate:
        regions = self._in_place_regions()
        if regions is None:
            self._rewrite_whole(path)
            return RampDQUpdate(path, self.created, rewritten=True)
        layout = self.ramp.hdu_layout
        with inplace.update_in_place(path, regions) as stream:
            end = layout[-1].end
            if self.pixel_flags is not None:
                if self.pixeldq_hdu is not None:
                    stream.seek(self.pixeldq_hdu.header_offset)
                    self._write_pixeldq(stream)
                if self.groupdq_hdu is not None:
                    stream.seek(self.groupdq_hdu.header_offset)
                    self._write_groupdq(stream, stream)
                stream.seek(end)
                stream.truncate(end)
                if self.pixeldq_hdu is None:
                    self._write_pixeldq(stream)
                if self.groupdq_hdu is None:
                    self._write_groupdq(stream, stream)
            old = self._old_asdf()
            if old is None:
                if self.pixel_flags is None:
                    stream.seek(end)
                    stream.truncate(end)
                stream.write(self.asdf_hdu)
            else:
                stream.seek(old.header_offset)
                stream.write(self.asdf_hdu)
            stream.seek(0)
            write_image_hdu(stream, None, self.header, primary=True)
        return RampDQUpdate(path, self.created)

    def _in_place_regions(self) -> list[tuple[int, int]] | None:
        """The byte ranges an in-place rewrite changes, or None when some
        rewritten HDU would not take exactly the space of the old one."""
        layout = self.ramp.hdu_layout
        primary = layout[0]
        size = image_header_size((), np.uint8, self.header, primary=True)
        if size != primary.data_offset:
            return None
        regions = [(0, primary.data_offset)]
        names = _names(layout)
        if names.count(asdf_tree.ASDF_EXTENSION) > 1:
            return None  # the rewrite keeps one
        old = self._old_asdf()
        if old is not None:
            if old.end - old.header_offset != len(self.asdf_hdu):
                return None
            regions.append((old.header_offset, old.end))
        if self.pixel_flags is None:
            return regions
        for hdu, name, shape, dtype in (
            (self.pixeldq_hdu, "PIXELDQ", self.pixel_flags.shape, np.dtype(np.uint32)),
            (self.groupdq_hdu, "GROUPDQ", self.cube, np.dtype(np.uint8)),
        ):
            if hdu is None:
                if name in _names(layout):
                    return None  # a wrongly shaped array to replace
                continue
            header = image_header_size(shape, dtype, self._dq_header(name, hdu))
            # Both the header and the data must take the same bytes: a DQ
            # array stored narrower (int16, uint8) would overrun the next HDU.
            if (
                header != hdu.data_offset - hdu.header_offset
                or hdu.data_size != math.prod(shape) * dtype.itemsize
            ):
                return None
            regions.append((hdu.header_offset, hdu.end))
        return regions

    def _old_asdf(self):
        return next(
            (
                hdu
                for hdu in self.ramp.hdu_layout[1:]
                if hdu.name == asdf_tree.ASDF_EXTENSION
            ),
            None,
        )

    def _rewrite_whole(self, path: Path) -> None:
        real = Path(os.path.realpath(path))
        status = real.stat()
        if not status.st_mode & 0o222:
            raise DataModelError(
                f"{path}: is read-only; make it writable (chmod u+w) to change it "
                "in place, or write a new file"
            )
        if status.st_nlink > 1:
            raise DataModelError(
                f"{path}: has {status.st_nlink} hard links, and its headers or "
                "ASDF metadata no longer fit where they are, which needs a new "
                "file: the links would be split. Write a new file instead (drop "
                "--in-place)"
            )
        if inplace.pending(real):
            raise DataModelError(
                f"{path}: another process is changing this file in place"
            )
        self.write_copy(real, real, overwrite=True)


def _change(name: str, found, shape) -> DQArrayChange:
    return DQArrayChange(name, None if found is None else tuple(found.shape), shape)


def _names(layout) -> list[str]:
    return [hdu.name for hdu in layout[1:]]
