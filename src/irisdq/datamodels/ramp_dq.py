"""Writing a raw ramp with its DQ arrays updated, streamed, new file or in place.

:func:`update_ramp_dq` is the one file operation of the DQ initialization
step: given a ramp file, primary-header keywords to record and the flags to
OR into its DQ arrays, it writes the result

- to a new file: the extensions it does not change (SCI or DATA, ERR,
  TIMES, ...) are copied byte for byte (CHECKSUM/DATASUM added where they
  lack them), the DQ arrays are written block by block, into a temporary
  file renamed into place
  (:func:`~irisdq.datamodels.atomic.atomic_output`);
- or in place: only the primary header, the DQ extensions and the ASDF
  extension are rewritten (or appended), under the undo journal of
  :func:`~irisdq.datamodels.inplace.update_in_place`; when a rewritten HDU
  would not take exactly the space of the old one (a header that grows, a
  DQ array stored in another type, a longer ASDF tree), the whole file is
  rewritten through a temporary file instead, keeping its permissions and
  owner.

Where the DQ arrays are comes from the ramp layout
(:class:`irisdq.layouts.RampLayout`): by default TMT IRIS's PIXELDQ
(ny, nx) and GROUPDQ (every group plane gets the group flags); a split
layout names its own pixel and per-group DQ extensions; a single-DQ layout
(Liger's DQ uint16 (ny, nx, ngroups, nreads)) has one DQ array where every
reading of a pixel gets the pixel's flags.

Either way the file ends with one ``ASDF`` extension, the metadata tree
stdatamodels reads (:mod:`irisdq.datamodels.asdf_tree`): the input's tree
updated when it had a readable one, else a new one.

Memory is a few blocks of a few MiB (and, for a split layout, the 2-D pixel
DQ) whatever the size of the ramp.

The module is one piece past 600 lines: ``_Plan`` decides, once per
file, what each HDU becomes, and both writers (a new file and in place)
follow that one plan; split apart, the two would each need to re-derive
which HDUs change and where they sit.

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

A Liger ramp, whose one DQ array gets the flags in every group and read:

>>> from irisdq.datamodels import LigerRampModel
>>> from irisdq.layouts import LIGER_RAMP
>>> ramp = LigerRampModel()
>>> ramp.data = np.zeros((4, 4, 2, 3), dtype=np.uint16)
>>> raw = ramp.write(folder / "liger.fits")
>>> result = update_ramp_dq(raw, {"S_DQINIT": "COMPLETE"}, flags.astype(np.uint16),
...                         target=folder / "liger_out.fits", layout=LIGER_RAMP)
>>> with LigerRampModel(folder / "liger_out.fits") as out:
...     out.dq[1, 2].tolist()
[[1025, 1025, 1025], [1025, 1025, 1025]]
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
from irisdq.datamodels.checksum import ALL_ONES
from irisdq.datamodels.dq_patch import changed_spans, patch_spans, prepare_patch
from irisdq.datamodels.hdu_io import (
    array_encoding,
    copy_hdu_with_checksums,
    image_encoding,
    image_header_bytes,
    image_header_size,
    write_image_hdu,
    write_image_hdu_blocks,
)
from irisdq.datamodels.header import header_text
from irisdq.datamodels.layout import HDULayout, read_hdu_layout
from irisdq.datamodels.model import _without
from irisdq.datamodels.ramp import RampModel, open_ramp
from irisdq.dqflags import flag_values
from irisdq.errors import DataModelError, IrisDQError
from irisdq.layouts import TMT_RAMP, RampLayout

__all__ = ["DQArrayChange", "RampDQUpdate", "check_output", "update_ramp_dq"]

# DQ arrays are read, ORed and written in blocks of about this many bytes.
_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class DQArrayChange:
    """A DQ array the input lacked, or had in another shape, and got anew.

    Attributes
    ----------
    name : str
        The extension: ``'PIXELDQ'``, ``'GROUPDQ'``, or the layout's
        (``'DQ'``, ``'DQ_RAW'``).
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
    layout: RampLayout | None = None,
    records: Mapping[str, str] | None = None,
) -> RampDQUpdate:
    """Record ``keywords`` and OR DQ flags into a ramp file, streaming.

    Parameters
    ----------
    source : str or os.PathLike
        The raw ramp (primary header, the science array, optional DQ arrays,
        and any other extensions).
    keywords : mapping
        Primary-header keywords to set: a value or ``(value, comment)``.
        Strings are stored as FITS can hold them (see
        :func:`~irisdq.datamodels.header.header_text`).
    pixel_flags : numpy.ndarray or None
        The flags of each pixel, (ny, nx). A split layout ORs them (uint32)
        into the pixel DQ; a single-DQ layout ORs them (in its ``dq_dtype``;
        values must fit) into every reading of the pixel in its DQ array.
        A DQ array missing or of another shape is created from zeros. None
        leaves the DQ arrays as they are.
    group_flags : numpy.ndarray or None
        A split layout's uint8 (ny, nx) flags, ORed into every plane of the
        per-group DQ (likewise created when needed); required there with
        ``pixel_flags``. Ignored by a single-DQ layout.
    target : str or os.PathLike, optional
        The new file; None changes ``source`` in place.
    overwrite : bool, optional
        Replace an existing regular file at ``target``.
    layout : irisdq.layouts.RampLayout, optional
        The ramp layout (``profile.ramp``); None is the TMT IRIS layout
        (SCI, PIXELDQ, GROUPDQ).
    records : mapping, optional
        FITS keyword -> where under ``meta`` the file's pipeline keeps it in
        the ASDF tree (``profile.tree_records``; see
        :func:`~irisdq.datamodels.asdf_tree.ramp_tree`).

    Returns
    -------
    RampDQUpdate

    Notes
    -----
    The ASDF tree records ``meta.filename``, the output's name. It carries
    stdatamodels' ``_fits_hash`` of the output's headers when the input's
    tree carried one that matched the input's headers (headers and tree
    agreed, and both get the same changes); in place, it carries none.

    Raises
    ------
    DataModelError
        If the file is not a ramp of the layout, has data in its primary
        HDU, has an extension twice, has flags that do not fit its DQ
        dtype or planes, or is being changed in place by another process.
    FileExistsError
        If ``target`` exists and ``overwrite`` is false.
    """
    arrays = TMT_RAMP if layout is None else layout
    if pixel_flags is not None and group_flags is None and arrays.split:
        raise ValueError("group_flags is required with pixel_flags")
    source = Path(source)
    if layout is None:
        ramp = RampModel(source, verify_checksums=False)
    else:
        ramp = open_ramp(source, arrays, verify_checksums=False)
    name = Path(target if target is not None else source).name
    with ramp:
        plan = _Plan.build(
            ramp.hdu_layout, tuple(ramp.shape), arrays, source, keywords,
            pixel_flags, group_flags, records=records, filename=name,
        )  # fmt: skip
    if target is None:
        return plan.write_in_place(source)
    plan.write_copy(source, Path(target), overwrite=overwrite)
    return RampDQUpdate(Path(target), plan.created)


@dataclass
class _DQArray:
    """One DQ extension of the output and how its values are made.

    The flags of pixel (y, x) go into every element whose plane indices are
    (y, x): the plane axes ``ny, nx`` are either the last two axes (a pixel
    DQ, a per-group DQ: each plane gets the flags) or the first two (a
    Liger DQ: each row of pixels holds all their readings).
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    flags: np.ndarray
    planes_first: bool
    hdu: HDULayout | None = None  # the input's array updated; None: made anew
    # In place, the elements the flags change, when only they are rewritten.
    spans: np.ndarray | None = None

    def patchable(self) -> bool:
        """True when the input's array is stored as it is written, so that
        only the elements the flags change need writing in place."""
        if self.hdu is None:
            return False
        stored, written = image_encoding(self.hdu.header), array_encoding(self.dtype)
        return not stored.scaled and (stored.bitpix, stored.flip) == (
            written.bitpix,
            written.flip,
        )

    @property
    def data_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def blocks(self, fd: int, source: Path) -> Iterator[np.ndarray]:
        """The array's values in C order, a few MiB at a time.

        Each block is read from the input (``fd``) just before it is
        yielded, so that in place every read comes before the write of the
        same bytes.
        """
        ny, nx = self.flags.shape
        if self.planes_first:
            planes, per_row = 1, nx * math.prod(self.shape[2:])
        else:
            planes, per_row = math.prod(self.shape[:-2]), nx
        rows = max(1, min(ny, _BLOCK_BYTES // (per_row * self.dtype.itemsize)))
        encoding = None if self.hdu is None else image_encoding(self.hdu.header)
        for plane in range(planes):
            for first in range(0, ny, rows):
                last = min(ny, first + rows)
                flags = self.flags[first:last]
                if self.planes_first:
                    flags = flags.reshape(last - first, nx, 1)
                if encoding is None:
                    if self.planes_first:
                        flags = np.broadcast_to(
                            flags, (last - first, nx, per_row // nx)
                        )
                    yield flags
                    continue
                start = plane * ny * nx + first * per_row
                values = self._read(
                    fd, encoding, start, (last - first) * per_row, source
                )
                values = values.reshape(flags.shape[:2] + (-1,) * self.planes_first)
                np.bitwise_or(values, flags, out=values)
                yield values

    def _read(self, fd: int, encoding, start: int, count: int, source: Path):
        """``count`` values from element ``start`` of the input's array, as
        ``dtype`` (the BZERO offset of unsigned types undone in the block)."""
        itemsize = encoding.stored.itemsize
        buffer = np.empty(count * itemsize, dtype=np.uint8)
        got = os.preadv(
            fd, [memoryview(buffer)], self.hdu.data_offset + start * itemsize
        )
        if got != buffer.nbytes:
            raise DataModelError(
                f"{source}: {self.name} ends early; the file is truncated"
            )
        unsigned = np.dtype(f"u{itemsize}")
        values = buffer.view(unsigned.newbyteorder(">")).astype(unsigned)
        if encoding.flip:
            np.bitwise_xor(values, unsigned.type(encoding.flip), out=values)
        values = values.view(encoding.values.newbyteorder("="))
        if values.dtype != self.dtype:
            # A narrower or signed integer DQ, cast as the data models cast
            # it when they read it (an int16 -1 becomes all ones).
            values = values.astype(self.dtype, casting="unsafe")
        return values


@dataclass
class _Plan:
    """Everything needed to write one ramp file."""

    hdus: list[HDULayout]
    arrays: RampLayout
    source: Path
    header: Any
    updating: bool
    dq: list[_DQArray] = field(default_factory=list)
    created: list[DQArrayChange] = field(default_factory=list)
    asdf_hdu: bytes = b""
    tree: dict = field(default_factory=dict)
    # The input's tree had a _fits_hash matching its headers: the output's
    # tree gets the hash of the output's headers.
    hashed: bool = False

    @classmethod
    def build(
        cls, hdus, shape, arrays: RampLayout, source: Path, keywords,
        pixel_flags, group_flags, *, records=None, filename=None,
    ) -> "_Plan":  # fmt: skip
        primary = hdus[0]
        if primary.data_size:
            raise DataModelError(
                f"{source}: the primary HDU holds data; a ramp keeps its arrays "
                f"in extensions ({', '.join((arrays.science, *arrays.dq_extensions))})"
            )
        names = _names(hdus)
        for name in (arrays.science, *arrays.dq_extensions):
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
        if filename and "FILENAME" in header:
            # stdatamodels writes the file's own name there, as in the tree.
            header["FILENAME"] = header_text(filename)
        plan = cls(hdus, arrays, source, header, pixel_flags is not None)
        if plan.updating:
            plan._plan_dq(shape, pixel_flags, group_flags)
        plan.asdf_hdu = plan._asdf_hdu(records, filename)
        return plan

    def _plan_dq(self, shape, pixel_flags, group_flags) -> None:
        """Which DQ arrays are updated and which are made anew."""
        arrays = self.arrays
        y, x = arrays.plane_axes()
        planes = (shape[y], shape[x])
        if arrays.split:
            wanted = [(arrays.pixel_dq, planes, np.dtype(np.uint32), pixel_flags)]
            if arrays.group_dq:
                wanted.append((arrays.group_dq, shape, np.dtype(np.uint8), group_flags))
        else:
            wanted = [(arrays.dq, shape, np.dtype(arrays.dq_dtype), pixel_flags)]
        by_name = {hdu.name: hdu for hdu in self.hdus[1:]}
        for name, dq_shape, dtype, flags in wanted:
            flags = np.asarray(flags)
            if flags.shape != planes:
                raise DataModelError(
                    f"{self.source}: the flags for {name} are {flags.shape} but "
                    f"the ramp's planes are {planes}"
                )
            flags = flag_values(flags, dtype, f"{self.source}: the flags for {name}")
            dq = _DQArray(name, dq_shape, dtype, flags, arrays.planes_first)
            found = by_name.get(name)
            if found is not None and found.shape == dq_shape:
                dq.hdu = found
            else:
                self.created.append(_change(name, found, dq_shape))
            self.dq.append(dq)

    def _asdf_hdu(self, records=None, filename=None) -> bytes:
        """The output's ASDF extension: the input's tree (if readable)
        updated, or a new one."""
        previous = None
        old = [hdu for hdu in self.hdus[1:] if hdu.name == asdf_tree.ASDF_EXTENSION]
        if old:
            with open(self.source, "rb", buffering=0) as stream:
                data = os.pread(stream.fileno(), old[0].data_size, old[0].data_offset)
                previous = asdf_tree.read_tree(data, str(self.source))
                if previous is not None and asdf_tree.FITS_HASH in previous:
                    digest = _headers_hash(stream.fileno(), self.hdus)
                    self.hashed = previous[asdf_tree.FITS_HASH] == digest
        self.tree = asdf_tree.ramp_tree(
            self.header,
            self._array_refs(),
            previous,
            self.arrays.tree_arrays(),
            records=records,
            filename=filename,
        )
        return asdf_tree.asdf_hdu_bytes(self.tree)

    def _array_refs(self) -> list[asdf_tree.ArrayRef]:
        """The image extensions of the output that the tree can point to."""
        written = {dq.name for dq in self.dq}
        refs = []
        for hdu in self.hdus[1:]:
            if hdu.kind != "IMAGE" or not hdu.name or hdu.name in written:
                continue
            encoding = image_encoding(hdu.header)
            # BSCALE/BZERO scaled values have no stored array to point to.
            if not encoding.scaled:
                refs.append(
                    asdf_tree.ArrayRef(hdu.name, hdu.ver, hdu.shape, encoding.values)
                )
        for dq in self.dq:
            ver = 1 if dq.hdu is None else dq.hdu.ver
            refs.append(asdf_tree.ArrayRef(dq.name, ver, dq.shape, dq.dtype))
        return refs

    # -- the arrays as written ----------------------------------------------

    def _dq_header(self, dq: _DQArray):
        from astropy.io import fits

        header = fits.Header([("EXTNAME", dq.name, "extension name")])
        if dq.hdu is not None:
            for card in _without(dq.hdu.header, {"EXTNAME"}).cards:
                header.append(card)
        return header

    def _write_dq(self, stream, source, dq: _DQArray) -> None:
        blocks = dq.blocks(source.fileno(), self.source)
        write_image_hdu_blocks(stream, blocks, dq.shape, dq.dtype, self._dq_header(dq))

    def _dq_bytes(self) -> int:
        return sum(math.prod(dq.shape) * dq.dtype.itemsize + 2 * 2880 for dq in self.dq)

    # -- a new file ------------------------------------------------------------

    def write_copy(self, source_path: Path, target: Path, *, overwrite: bool) -> None:
        size_hint = self.hdus[-1].end + self._dq_bytes() + len(self.asdf_hdu)
        with (
            open(source_path, "rb", buffering=0) as source,
            atomic_output(target, overwrite=overwrite, size_hint=size_hint) as out,
        ):
            write_image_hdu(out, None, self.header, primary=True)
            by_name = {dq.name: dq for dq in self.dq}
            names = _names(self.hdus)
            # Arrays the input lacks go right after the science array, as in jwst.
            missing = [dq for dq in self.dq if dq.name not in names]
            for hdu in self.hdus[1:]:
                if hdu.name == asdf_tree.ASDF_EXTENSION:
                    continue  # replaced by the updated tree, at the end
                if hdu.name in by_name:
                    self._write_dq(out, source, by_name[hdu.name])
                else:
                    copy_hdu_with_checksums(source, hdu, out)
                if hdu.name == self.arrays.science:
                    for dq in missing:
                        self._write_dq(out, source, dq)
                    missing = []
            # Last, as stdatamodels places it.
            if self.hashed:
                out.write(self._hashed_asdf_hdu(out))
            else:
                out.write(self.asdf_hdu)

    def _hashed_asdf_hdu(self, out) -> bytes:
        """The ASDF extension with the hash of the headers written to
        ``out`` so far (every HDU but ASDF)."""
        position = out.tell()
        with open(out.fileno(), "rb", buffering=0, closefd=False) as reader:
            written = read_hdu_layout(reader)
        out.seek(position)
        digest = _headers_hash(out.fileno(), written)
        return asdf_tree.asdf_hdu_bytes({**self.tree, asdf_tree.FITS_HASH: digest})

    # -- the input file itself ---------------------------------------------------

    def write_in_place(self, path: Path) -> RampDQUpdate:
        regions = self._in_place_regions()
        if regions is None:
            self._rewrite_whole(path)
            return RampDQUpdate(path, self.created, rewritten=True)
        with inplace.change_in_place(path) as change:
            stream = change.stream
            prepared = self._save_journal(change, regions)
            end = self.hdus[-1].end
            for dq in self.dq:
                if dq.spans is not None:
                    self._patch_dq(stream, dq, *prepared[dq.name])
                elif dq.hdu is not None:
                    stream.seek(dq.hdu.header_offset)
                    self._write_dq(stream, stream, dq)
            if self.updating:
                stream.seek(end)
                stream.truncate(end)
            for dq in self.dq:
                if dq.hdu is None:
                    self._write_dq(stream, stream, dq)
            old = self._old_asdf()
            if old is None:
                if not self.updating:
                    stream.seek(end)
                    stream.truncate(end)
                stream.write(self.asdf_hdu)
            else:
                stream.seek(old.header_offset)
                stream.write(self.asdf_hdu)
            stream.seek(0)
            write_image_hdu(stream, None, self.header, primary=True)
        return RampDQUpdate(path, self.created)

    def _save_journal(self, change: inplace.InPlaceChange, regions: np.ndarray):
        """Save the undo journal of the in-place change; return, by the name
        of each DQ array patched, its patch read for the journal (or None)
        and its stored DATASUM (or None).

        The flagged readings of a DQ array whose stored DATASUM can be
        updated are read once, before the journal, which saves them as
        read; any other DQ's are saved by the journal, and read again when
        patched.
        """
        fd = change.stream.fileno()
        prepared = {}
        journaled = [regions]
        for dq in self.dq:
            if dq.spans is None:
                continue
            hdu = dq.hdu
            fill = hdu.end - hdu.data_offset - dq.data_bytes
            stored = _stored_datasum(fd, hdu, fill)
            patch = None
            if stored and dq.data_bytes % 4 == 0:
                patch = prepare_patch(
                    fd, hdu.data_offset, dq.shape, dq.dtype, dq.flags,
                    dq.planes_first, dq.spans,
                )  # fmt: skip
            if patch is None:
                journaled.append(hdu.data_offset + dq.spans * dq.dtype.itemsize)
            prepared[dq.name] = (patch, stored)
        change.save(
            np.concatenate(journaled),
            [(p.byte_spans, p.old) for p, _ in prepared.values() if p is not None],
        )
        return prepared

    def _in_place_regions(self) -> np.ndarray | None:
        """The byte ranges an in-place rewrite changes ((n, 2) start, stop),
        or None when some rewritten HDU would not take exactly the space of
        the old one. The elements of flagged pixels a DQ array gets
        (``dq.spans``) are not among them: :meth:`_save_journal` adds them."""
        primary = self.hdus[0]
        size = image_header_size((), np.uint8, self.header, primary=True)
        if size != primary.data_offset:
            return None
        regions = [(0, primary.data_offset)]
        names = _names(self.hdus)
        if names.count(asdf_tree.ASDF_EXTENSION) > 1:
            return None  # the rewrite keeps one
        old = self._old_asdf()
        if old is not None:
            if old.end - old.header_offset != len(self.asdf_hdu):
                return None
            regions.append((old.header_offset, old.end))
        for dq in self.dq:
            hdu = dq.hdu
            if hdu is None:
                if dq.name in names:
                    return None  # a wrongly shaped array to replace
                continue
            header = image_header_size(dq.shape, dq.dtype, self._dq_header(dq))
            # Both the header and the data must take the same bytes: a DQ
            # array stored narrower (int16, uint8) would overrun the next HDU.
            if (
                header != hdu.data_offset - hdu.header_offset
                or hdu.data_size != dq.data_bytes
            ):
                return None
            spans = None
            if dq.patchable():
                spans = changed_spans(
                    dq.flags, dq.shape, planes_first=dq.planes_first,
                    itemsize=dq.dtype.itemsize,
                )  # fmt: skip
            if spans is None or not _patching_pays(spans, dq.data_bytes):
                regions.append((hdu.header_offset, hdu.end))
                continue
            # Only the header, the elements of flagged pixels and the fill.
            dq.spans = spans
            regions.append((hdu.header_offset, hdu.data_offset))
            if hdu.end > hdu.data_offset + dq.data_bytes:
                regions.append((hdu.data_offset + dq.data_bytes, hdu.end))
        return np.array(regions, dtype=np.int64)

    def _patch_dq(self, stream, dq: _DQArray, patch, stored: int | None) -> None:
        """Write the elements of ``dq.spans`` with the flags ORed in (the
        ``patch`` read for the journal, or read now), and the header a full
        rewrite would give: its DATASUM the ``stored`` one updated by the
        change, or summed over the whole array."""
        hdu = dq.hdu
        fd = stream.fileno()
        fill = hdu.end - hdu.data_offset - dq.data_bytes
        if patch is None:
            datasum = patch_spans(
                fd, hdu.data_offset, dq.shape, dq.dtype, dq.flags, dq.planes_first,
                dq.spans, dq.name, self.source, datasum=stored,
            )  # fmt: skip
        else:
            patch.write(fd)
            datasum = (stored + patch.change) % ALL_ONES
        if not datasum:
            # 0 modulo 2**32 - 1: all ones, or 0 for an array now all zero
            # words. The array read says which (ORing the flags in again
            # changes nothing).
            datasum = patch_spans(
                fd, hdu.data_offset, dq.shape, dq.dtype, dq.flags, dq.planes_first,
                dq.spans, dq.name, self.source,
            )  # fmt: skip
        header = image_header_bytes(dq.shape, dq.dtype, self._dq_header(dq), datasum)
        if fill:
            stream.seek(hdu.data_offset + dq.data_bytes)
            stream.write(b"\0" * fill)
        stream.seek(hdu.header_offset)
        stream.write(header)

    def _old_asdf(self):
        return next(
            (hdu for hdu in self.hdus[1:] if hdu.name == asdf_tree.ASDF_EXTENSION),
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


# What writing a DQ array in place costs, measured on the benchmarks' ramps
# (benchmarks/dq_init.py, benchmarks/dq_init_layouts.py): patching its
# flagged elements, about 16 ns an element and 3 us a span (a write call
# each); rewriting it whole (and saving it to the journal), about 1 ns a
# byte.
_PATCH_NS_PER_ELEMENT = 16
_PATCH_NS_PER_SPAN = 3000
_REWRITE_NS_PER_BYTE = 1


def _patching_pays(spans: np.ndarray, data_bytes: int) -> bool:
    """Whether patching ``spans`` of a DQ array costs less than rewriting
    its ``data_bytes`` whole. A mask of scattered bad pixels (1 in 400) on a
    Liger DQ, a pixel's 40 readings side by side, is patched: 5 MiB of
    320 MiB. On a TMT PIXELDQ, one element a pixel, it is not (a write call
    for 4 bytes costs more than rewriting 4 KiB), nor are the group flags
    of every plane of a uint8 GROUPDQ, whose spans join over a third of it.

    Examples
    --------
    >>> _patching_pays(np.array([[0, 40], [40_000, 40_040]]), 2 * 4_000_000)
    True
    >>> _patching_pays(np.array([[0, 3_000_000]]), 8_000_000)
    False
    """
    elements = int((spans[:, 1] - spans[:, 0]).sum())
    cost = elements * _PATCH_NS_PER_ELEMENT + len(spans) * _PATCH_NS_PER_SPAN
    return cost < data_bytes * _REWRITE_NS_PER_BYTE


def _stored_datasum(fd: int, hdu: HDULayout, fill: int) -> int | None:
    """The array's sum as its header records it (``DATASUM``), when the fill
    after it is zeros as the rewrite leaves it; None when that is not known.

    A stored sum that does not match the array stays off by as much after
    the change in place: irisdq vouches only for the bytes it reads.
    """
    text = str(hdu.header.get("DATASUM", "")).strip()
    if not text.isdigit() or not 0 < int(text) <= ALL_ONES:
        return None
    if fill and os.pread(fd, fill, hdu.end - fill).strip(b"\0"):
        return None
    return int(text)


def _headers_hash(fd: int, hdus) -> str:
    """stdatamodels' ``_fits_hash`` of a file's HDUs (ASDF left out)."""
    return asdf_tree.fits_hash(
        os.pread(fd, hdu.data_offset - hdu.header_offset, hdu.header_offset)
        for hdu in hdus
        if hdu.name != asdf_tree.ASDF_EXTENSION
    )


def _change(name: str, found, shape) -> DQArrayChange:
    return DQArrayChange(name, None if found is None else tuple(found.shape), shape)


def _names(hdus) -> list[str]:
    return [hdu.name for hdu in hdus[1:]]
