"""The ``DQ_DEF`` table of a reference file, and remapping its flags by name.

A mask made by another tool may use its own bit for a condition (its DEAD
might be bit 3). Its ``DQ_DEF`` table names each bit; :func:`dq_def_mapping`
matches the names against the pipeline convention (:mod:`irisdq.dqflags`)
and :func:`remap_flags` rewrites the DQ values. Pure numpy, no I/O.

Examples
--------
>>> import numpy as np
>>> rows = [DQDefRow(0, 1, "DEAD", "dead"), DQDefRow(1, 2, "HOT", "hot")]
>>> mapping, unknown = dq_def_mapping(rows)
>>> mapping, unknown
({1: 1024, 2: 2048}, [])
>>> remap_flags(np.array([0, 1, 2, 3], dtype=np.uint32), mapping)
array([   0, 1024, 2048, 3072], dtype=uint32)
"""

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from irisdq import dqflags

__all__ = [
    "DQDefRow",
    "dq_def_mapping",
    "is_identity",
    "pipeline_dq_def",
    "remap_flags",
]


class DQDefRow(NamedTuple):
    """One row of a ``DQ_DEF`` table."""

    bit: int
    value: int
    name: str
    description: str


def pipeline_dq_def(flag_map=dqflags.pixel) -> list[DQDefRow]:
    """Return the ``DQ_DEF`` rows of the pipeline's own flags.

    Examples
    --------
    >>> pipeline_dq_def()[10]
    DQDefRow(bit=10, value=1024, name='DEAD', description='Dead pixel')
    """
    return [
        DQDefRow(row.bit, row.value, row.name, row.description)
        for row in dqflags.flag_table(flag_map)
    ]


def dq_def_mapping(
    rows: Iterable[DQDefRow], flag_map=dqflags.pixel
) -> tuple[dict[int, int], list[DQDefRow]]:
    """Match ``DQ_DEF`` rows to pipeline flags by name.

    Parameters
    ----------
    rows : iterable of DQDefRow
        The table of a file. Names compare case-insensitively and accept
        the convention's aliases (``UNRELIABLE_ERROR``).
    flag_map : BitFlagNameMap, optional
        The pipeline flags (:data:`irisdq.dqflags.pixel`).

    Returns
    -------
    mapping : dict
        ``{file value: pipeline value}`` for every row whose name is a
        pipeline flag (``GOOD`` rows, value 0, are left out).
    unknown : list of DQDefRow
        The rows whose name is not a pipeline flag: their bits are dropped.

    Examples
    --------
    >>> dq_def_mapping([DQDefRow(3, 8, "dead", ""), DQDefRow(4, 16, "SPARKLY", "")])
    ({8: 1024}, [DQDefRow(bit=4, value=16, name='SPARKLY', description='')])
    """
    mapping: dict[int, int] = {}
    unknown: list[DQDefRow] = []
    for row in rows:
        name = str(row.name).strip()
        if name.upper() not in flag_map:
            unknown.append(row)
            continue
        value = int(row.value)
        if value:
            mapping[value] = mapping.get(value, 0) | int(flag_map[name.upper()])
    return mapping, unknown


def is_identity(mapping: dict[int, int]) -> bool:
    """True when every value maps to itself (the file uses pipeline flags).

    Examples
    --------
    >>> is_identity({1024: 1024}), is_identity({8: 1024})
    (True, False)
    """
    return all(source == target for source, target in mapping.items())


def remap_flags(dq: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """Return ``dq`` with each bit replaced by the flags it maps to.

    Bits that no key of ``mapping`` covers are dropped. A key with several
    bits maps each of them. The work is four table look-ups per value (one
    per byte), in chunks, whatever the number of flags.

    Parameters
    ----------
    dq : numpy.ndarray
        Unsigned integer DQ values (up to 32 bits).
    mapping : dict
        ``{file value: pipeline value}``, as from :func:`dq_def_mapping`.

    Returns
    -------
    numpy.ndarray
        A new uint32 array of the same shape.

    Examples
    --------
    >>> remap_flags(np.array([[5, 4]], dtype=np.uint32), {4: 1, 1: 1024})
    array([[1025,    1]], dtype=uint32)
    """
    dq = np.asarray(dq)
    bit_targets = [0] * 32
    for source, target in mapping.items():
        for bit in range(32):
            if int(source) >> bit & 1:
                bit_targets[bit] |= int(target)
    tables = []
    for byte in range(4):
        targets = bit_targets[8 * byte : 8 * byte + 8]
        if not any(targets):
            continue
        values = np.arange(256)
        table = np.zeros(256, dtype=np.uint32)
        for bit, target in enumerate(targets):
            table[(values >> bit & 1).astype(bool)] |= np.uint32(target)
        tables.append((8 * byte, table))
    out = np.zeros(dq.shape, dtype=np.uint32)
    flat_in = dq.reshape(-1)
    flat_out = out.reshape(-1)
    step = 1 << 18
    for start in range(0, flat_in.size, step):
        chunk = flat_in[start : start + step].astype(np.uint32, copy=False)
        target = flat_out[start : start + step]
        for shift, table in tables:
            target |= table[(chunk >> np.uint32(shift)) & np.uint32(0xFF)]
    return out
