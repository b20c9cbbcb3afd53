"""The IRIS data-quality flag convention (JWST's pixel and group flags).

:data:`pixel` holds the 32 flags of PIXELDQ (and of mask reference files),
:data:`group` the 8 values of GROUPDQ. Both are
:class:`~irisdq.bitmask.BitFlagNameMap` maps, usable as ``flag_name_map``
wherever :mod:`irisdq.bitmask` takes one, and they read like the ``dict``
maps of ``jwst.datamodels.dqflags``: ``pixel['DEAD']``, ``'HOT' in pixel``,
``list(pixel)``. Names are case-insensitive. ``GOOD`` (0) and names retired
from the convention (``UNRELIABLE_ERROR``, ``RESERVED_1``, ...) are accepted
when reading names; decoding always gives the current name.

A reference file made by another tool may use its own bit for a condition
(its DEAD might be bit 3); its ``DQ_DEF`` table names each bit.
:func:`dq_def_mapping` matches the names against the convention and
:func:`remap_flags` rewrites the DQ values.

Examples
--------
>>> from irisdq import dqflags
>>> dqflags.pixel['DEAD'], dqflags.pixel.hot, dqflags.group.JUMP_DET
(1024, 2048, 4)
>>> sorted(dqflags.dqflags_to_mnemonics(1025))
['DEAD', 'DO_NOT_USE']
>>> dqflags.encode_flags('DEAD,HOT')
3072
"""

import difflib
import operator
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from irisdq.bitmask import (
    BitFlagNameMap,
    count_bit_flags,
    decode_bit_flags,
    interpret_bit_flags,
)
from irisdq.errors import FlagError, FlagValueError

__all__ = [
    "DQDefRow",
    "FlagRow",
    "bit_values",
    "count_flags",
    "decode_flags",
    "dq_def_mapping",
    "dq_def_values",
    "dqflags_to_mnemonics",
    "encode_flags",
    "flag_table",
    "flag_values",
    "group",
    "is_identity",
    "pipeline_dq_def",
    "pixel",
    "remap_flags",
]


class PixelFlags(BitFlagNameMap):
    """The 32 pixel flags (PIXELDQ, DQ and mask reference files)."""

    _aliases = {  # noqa: RUF012
        "GOOD": 0,
        "UNRELIABLE_ERROR": 256,
        "UNRELIABLE_RESET": 268435456,
        "RESERVED_1": 16,
        "RESERVED_2": 32,
        "RESERVED_3": 64,
        "RESERVED_4": 128,
    }
    DO_NOT_USE = 1, "Bad pixel. Do not use."
    SATURATED = 2, "Pixel saturated during exposure"
    JUMP_DET = 4, "Jump detected during exposure"
    DROPOUT = 8, "Data lost in transmission"
    OUTLIER = 16, "Flagged by outlier detection"
    PERSISTENCE = 32, "High persistence"
    AD_FLOOR = 64, "Below A/D floor"
    CHARGELOSS = 128, "Charge migration"
    RESERVED = 256, "Reserved"
    NON_SCIENCE = 512, "Pixel not on science portion of detector"
    DEAD = 1024, "Dead pixel"
    HOT = 2048, "Hot pixel"
    WARM = 4096, "Warm pixel"
    LOW_QE = 8192, "Low quantum efficiency"
    RC = 16384, "RC pixel"
    TELEGRAPH = 32768, "Telegraph pixel"
    NONLINEAR = 65536, "Pixel highly nonlinear"
    BAD_REF_PIXEL = 131072, "Reference pixel cannot be used"
    NO_FLAT_FIELD = 262144, "Flat field cannot be measured"
    NO_GAIN_VALUE = 524288, "Gain cannot be measured"
    NO_LIN_CORR = 1048576, "Linearity correction not available"
    NO_SAT_CHECK = 2097152, "Saturation check not available"
    UNRELIABLE_BIAS = 4194304, "Bias variance large"
    UNRELIABLE_DARK = 8388608, "Dark variance large"
    UNRELIABLE_SLOPE = 16777216, "Slope variance large (i.e., noisy pixel)"
    UNRELIABLE_FLAT = 33554432, "Flat variance large"
    OPEN = 67108864, "Open pixel (counts move to adjacent pixels)"
    ADJ_OPEN = 134217728, "Adjacent to open pixel"
    FLUX_ESTIMATED = 268435456, "Pixel flux estimated due to missing/bad data"
    MSA_FAILED_OPEN = 536870912, "Pixel sees light from failed-open shutter"
    OTHER_BAD_PIXEL = 1073741824, "A catch-all flag"
    REFERENCE_PIXEL = 2147483648, "Pixel is a reference pixel"


class GroupFlags(BitFlagNameMap):
    """The group flags (GROUPDQ): the first eight pixel flags in use."""

    _aliases = {"GOOD": 0}  # noqa: RUF012
    DO_NOT_USE = 1, "Bad pixel. Do not use."
    SATURATED = 2, "Pixel saturated during exposure"
    JUMP_DET = 4, "Jump detected during exposure"
    DROPOUT = 8, "Data lost in transmission"
    PERSISTENCE = 32, "High persistence"
    AD_FLOOR = 64, "Below A/D floor"
    CHARGELOSS = 128, "Charge migration"


pixel = PixelFlags
group = GroupFlags

_WIDTH = {PixelFlags: 32, GroupFlags: 8}


def _width(flag_map) -> int:
    return _WIDTH.get(flag_map, 64)


def _check_value(value, flag_map) -> int:
    nbits = _width(flag_map)
    try:
        number = int(value, 0) if isinstance(value, str) else operator.index(value)
    except (TypeError, ValueError):
        raise FlagError(
            f"flag value {value!r} is not an integer; give a number such as 1025"
        ) from None
    if not 0 <= number < 1 << nbits:
        raise FlagError(
            f"flag value {value!r} is outside 0..{(1 << nbits) - 1} "
            f"({nbits}-bit {_map_label(flag_map)} DQ)"
        )
    return number


def _map_label(flag_map) -> str:
    return "group" if flag_map is GroupFlags else "pixel"


def dqflags_to_mnemonics(value, mnemonic_map=pixel) -> set[str]:
    """Return the set of current flag names of the bits set in ``value``.

    Parameters
    ----------
    value : int
        A DQ value, 0 <= value < 2**32.
    mnemonic_map : BitFlagNameMap, optional
        :data:`pixel` (default) or :data:`group`.

    Returns
    -------
    set of str
        The names of the set bits; an empty set for 0.

    Examples
    --------
    >>> sorted(dqflags_to_mnemonics(3072))
    ['DEAD', 'HOT']
    >>> dqflags_to_mnemonics(0)
    set()
    """
    return set(decode_flags(value, mnemonic_map)) - {"GOOD"}


def decode_flags(value, flag_map=pixel) -> list[str]:
    """Return the current names of the bits set in ``value``, lowest first.

    ``0`` decodes to ``['GOOD']``. A value given as a string may be decimal
    or prefixed hexadecimal (``'0x400'``).

    Raises
    ------
    FlagError
        If ``value`` is not an integer that fits the map's DQ width, or has
        a bit the map does not name.

    Examples
    --------
    >>> decode_flags(1025)
    ['DO_NOT_USE', 'DEAD']
    >>> decode_flags('0x800')
    ['HOT']
    >>> decode_flags(0)
    ['GOOD']
    """
    number = _check_value(value, flag_map)
    if number == 0:
        return ["GOOD"]
    names = decode_bit_flags(number, flag_map)
    unnamed = [name for name in names if name.isdigit()]
    if unnamed:
        raise FlagError(
            f"flag value {value!r} has bit value {unnamed[0]}, which no "
            f"{_map_label(flag_map)} flag names; see 'irisdq flags table'"
        )
    return names


def encode_flags(spec, flag_map=pixel) -> int:
    """Return the DQ value of flag names and numbers.

    Parameters
    ----------
    spec : str, int or iterable
        Anything :func:`irisdq.bitmask.interpret_bit_flags` accepts with
        ``flag_name_map=flag_map``: ``'DEAD,HOT'``, ``'dead+4'``,
        ``['DEAD', 'HOT']``, ``'~DEAD'`` (every bit of the DQ width but DEAD).
    flag_map : BitFlagNameMap, optional
        :data:`pixel` (default) or :data:`group`.

    Raises
    ------
    FlagError
        Naming the token that is not a flag name or a valid value.

    Examples
    --------
    >>> encode_flags('DEAD, HOT')
    3072
    >>> encode_flags(['do_not_use', 'dead'])
    1025
    >>> hex(encode_flags('~DEAD'))
    '0xfffffbff'
    >>> encode_flags('DEAD,HTO')
    Traceback (most recent call last):
    ...
    irisdq.errors.FlagError: unknown pixel flag name 'HTO' in 'DEAD,HTO'; ...
    """
    try:
        value = interpret_bit_flags(spec, flag_name_map=flag_map)
    except (AttributeError, KeyError, ValueError, TypeError) as exc:
        raise FlagError(_explain_bad_spec(spec, flag_map, exc)) from None
    if value is None:
        return 0
    nbits = _width(flag_map)
    if value < 0:
        value &= (1 << nbits) - 1
    return _check_value(value, flag_map)


def _tokens(spec) -> list[str]:
    if isinstance(spec, str):
        text = spec
        for char in "~()+|":
            text = text.replace(char, ",")
        return [token.strip() for token in text.split(",") if token.strip()]
    if isinstance(spec, Iterable):
        return [str(token).strip() for token in spec]
    return [str(spec)]


def _explain_bad_spec(spec, flag_map, exc: Exception) -> str:
    label = _map_label(flag_map)
    for token in _tokens(spec):
        try:
            number = int(token)
        except ValueError:
            if token not in flag_map:
                known = ", ".join(flag_map)
                close = difflib.get_close_matches(token.upper(), list(flag_map), n=3)
                guess = f"did you mean {' or '.join(close)}? " if close else ""
                return (
                    f"unknown {label} flag name {token!r} in {spec!r}; "
                    f"{guess}known names: {known}"
                )
            continue
        if number < 0 or number.bit_count() != 1:
            return (
                f"{token!r} in {spec!r} is not a single flag (a power of two); "
                "give flag names or powers of two"
            )
    return f"cannot read flags {spec!r}: {exc}"


def count_flags(dq, flag_map=pixel) -> dict[str, int]:
    """Count the pixels that have each flag set.

    Parameters
    ----------
    dq : array_like
        An integer DQ array (PIXELDQ, a mask's DQ, GROUPDQ).
    flag_map : BitFlagNameMap, optional
        :data:`pixel` (default) or :data:`group`.

    Returns
    -------
    dict
        ``{name: count}`` for every flag of the map, in increasing order of
        value; a pixel with several flags counts once for each.

    Examples
    --------
    >>> import numpy as np
    >>> dq = np.zeros((4, 4), dtype=np.uint32)
    >>> dq[0, :2] = pixel.DEAD | pixel.DO_NOT_USE
    >>> dq[3, 3] = pixel.HOT
    >>> {name: n for name, n in count_flags(dq).items() if n}
    {'DO_NOT_USE': 2, 'DEAD': 2, 'HOT': 1}
    """
    return count_bit_flags(np.asarray(dq), flag_map)


class FlagRow(NamedTuple):
    """One row of the flag table."""

    bit: int
    value: int
    name: str
    description: str
    aliases: tuple[str, ...]


def flag_table(flag_map=pixel) -> list[FlagRow]:
    """Return the flag convention as rows: bit, value, name, description, aliases.

    Examples
    --------
    >>> flag_table()[10]
    FlagRow(bit=10, value=1024, name='DEAD', description='Dead pixel', aliases=())
    >>> flag_table()[8].aliases
    ('UNRELIABLE_ERROR',)
    """
    aliases: dict[int, list[str]] = {}
    for base in flag_map.__mro__:
        for alias, value in base.__dict__.get("_own_aliases", {}).items():
            aliases.setdefault(value, []).append(alias.upper())
    rows = []
    for name in flag_map:
        value = int(flag_map[name])
        rows.append(
            FlagRow(
                bit=value.bit_length() - 1,
                value=value,
                name=name,
                description=vars(flag_map[name]).get("__doc__") or "",
                aliases=tuple(aliases.get(value, ())),
            )
        )
    return rows


def flag_values(values, dtype=np.uint32, where: str = "flags") -> np.ndarray:
    """Return ``values`` as an array of ``dtype`` flags, if every value is one.

    Booleans and unsigned integers that fit are taken as they are; signed
    integers and floats must be whole numbers in ``0 .. max(dtype)``.

    Raises
    ------
    FlagValueError
        If a value is negative, fractional, too large, or not a number; the
        message names ``where``, the count and the first bad value.

    Examples
    --------
    >>> flag_values([0, 1024.0, 3], np.uint32, "user DQ")
    array([   0, 1024,    3], dtype=uint32)
    >>> flag_values([0, -1], np.uint8, "user DQ")
    Traceback (most recent call last):
    ...
    irisdq.errors.FlagValueError: user DQ: 1 value(s) are not integers in 0..255 ...
    """
    values = np.asarray(values)
    dtype = np.dtype(dtype)
    limit = np.iinfo(dtype).max
    if values.dtype == dtype:
        return values
    if values.dtype.kind == "b":
        return values.astype(dtype)
    if values.dtype.kind == "u" and values.dtype.itemsize <= dtype.itemsize:
        return values.astype(dtype)
    if values.dtype.kind not in "uif":
        raise FlagValueError(
            f"{where} must hold integer flag values, not {values.dtype} data"
        )
    with np.errstate(invalid="ignore"):
        if values.dtype.kind == "f":
            bad = ~((values >= 0) & (values <= limit) & (np.trunc(values) == values))
        elif values.dtype.kind == "i":
            bad = (values < 0) | (values > limit)
        else:
            bad = values > limit
    count = int(np.count_nonzero(bad))
    if count:
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise FlagValueError(
            f"{where}: {count} value(s) are not integers in 0..{limit} "
            f"({dtype} flags), e.g. {values[index].item()!r} at index {index}"
        )
    return values.astype(dtype)


# -- DQ_DEF tables: a file's own bits, remapped by name --------------------


class DQDefRow(NamedTuple):
    """One row of a ``DQ_DEF`` table."""

    bit: int
    value: int
    name: str
    description: str


def pipeline_dq_def(flag_map=pixel) -> list[DQDefRow]:
    """Return the ``DQ_DEF`` rows of the pipeline's own flags.

    Examples
    --------
    >>> pipeline_dq_def()[10]
    DQDefRow(bit=10, value=1024, name='DEAD', description='Dead pixel')
    """
    return [
        DQDefRow(row.bit, row.value, row.name, row.description)
        for row in flag_table(flag_map)
    ]


def dq_def_values(column) -> np.ndarray:
    """The VALUE column of a ``DQ_DEF`` table as Python-sized integers.

    liger_iris_pipeline declares VALUE int32, which holds bit 31
    (REFERENCE_PIXEL, 2**31) only as its bit pattern, -2**31: a signed
    32-bit column is read as the unsigned bits it stores. Other columns
    (int64 as irisdq writes, uint32 as stdatamodels writes) are taken as
    they are, so a negative int64 value stays negative, and wrong.

    Examples
    --------
    >>> dq_def_values(np.array([1, -2**31], dtype=">i4")).tolist()
    [1, 2147483648]
    >>> dq_def_values(np.array([-1], dtype=np.int64)).tolist()
    [-1]
    """
    values = np.asarray(column)
    if values.dtype.kind == "i" and values.dtype.itemsize == 4:
        return values.astype(np.int64) & 0xFFFFFFFF
    return values.astype(np.int64) if values.dtype.kind in "iub" else values


def dq_def_mapping(
    rows: Iterable[DQDefRow], flag_map=pixel
) -> tuple[dict[int, int], list[DQDefRow]]:
    """Match ``DQ_DEF`` rows to pipeline flags by name.

    Parameters
    ----------
    rows : iterable of DQDefRow
        The table of a file. Names compare case-insensitively and accept
        the convention's aliases (``UNRELIABLE_ERROR``).
    flag_map : BitFlagNameMap, optional
        The pipeline flags (:data:`pixel`).

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


def bit_values(value: int) -> str:
    """The single-bit values set in `value`, lowest first, for messages.

    Examples
    --------
    >>> bit_values(64 | 2048 | 2**31)
    '64, 2048, 2147483648'
    """
    return ", ".join(str(1 << bit) for bit in range(32) if value >> bit & 1)


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
