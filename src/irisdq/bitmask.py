"""
Bit fields to boolean masks: a faster drop-in for ``astropy.nddata.bitmask``.

The public API has the names, parameters, defaults and results of
:mod:`astropy.nddata.bitmask`. On top of it this module

- converts large arrays in pieces, on every core, with no
  temporary array the size of the input;
- fixes defects of the original: names looked up through a map that extends
  a map that extends a map; ``numpy.str_`` input; generators of flags;
  ``'CR' in SomeMap`` and iteration over a map; pickling of maps made with
  :func:`extend_bit_flag_map`;
- accepts names and numbers mixed in one string (``'DEAD+4'``) and any
  whitespace around separators and names;
- adds :func:`decode_bit_flags` (a value to flag names) and
  :func:`count_bit_flags` (an array to a count of elements per flag).

It is one module, longer than the project's usual 600 lines, because it is
a drop-in for one astropy module: code written for
``astropy.nddata.bitmask`` changes its import line only, and finds every
name (maps, exceptions, functions) here. The array engine it drives is
apart, in :mod:`irisdq._bitfield_engine`.

Examples
--------
>>> from irisdq import bitmask
>>> import numpy as np
>>> ST_DQ = bitmask.extend_bit_flag_map('ST_DQ', CR=1, CLOUDY=4, RAINY=8)
>>> bitmask.bitfield_to_boolean_mask([0, 1, 4, 9], ignore_flags='CR',
...                                  flag_name_map=ST_DQ)
array([False, False,  True,  True])
"""

import copyreg
import itertools
import numbers
import sys
import warnings
import weakref
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from irisdq import _bitfield_engine as _engine

__all__ = [
    "BitFlag",
    "BitFlagNameMap",
    "InvalidBitFlag",
    "bitfield_to_boolean_mask",
    "count_bit_flags",
    "decode_bit_flags",
    "extend_bit_flag_map",
    "interpret_bit_flags",
]

_SUPPORTED_FLAGS = _engine.SUPPORTED_FLAGS

_NUMERIC_KINDS = frozenset("biufc")


def _is_bit_flag(n: int) -> bool:
    return n >= 1 and n.bit_count() == 1


def _is_int(n: Any) -> bool:
    # ``np.issubdtype(np.str_('4'), ...)`` would parse the string as a dtype:
    # test the type, never the value.
    return isinstance(n, np.integer) or (
        isinstance(n, numbers.Integral) and not isinstance(n, bool | np.bool_)
    )


class InvalidBitFlag(ValueError):
    """Indicates that a value is not an integer that is a power of 2."""


class _UnknownFlagName(AttributeError, KeyError):
    """A flag name a map does not define.

    It is both an ``AttributeError`` (what ``Map.NAME`` raises, and what
    astropy raises for ``Map['NAME']``) and a ``KeyError`` (what a mapping
    raises for a missing key).
    """

    def __str__(self) -> str:
        return str(self.args[0])


class BitFlag(int):
    """Bit flags: integer values that are powers of 2.

    A flag may carry a docstring, given as ``BitFlag(4, 'Cosmic ray')`` or as
    the tuple ``BitFlag((4, 'Cosmic ray'))``.

    >>> BitFlag(4)
    4
    >>> BitFlag(3)
    Traceback (most recent call last):
    ...
    irisdq.bitmask.InvalidBitFlag: Value '3' is not a valid bit flag: bit flag value must be an integral power of two.
    """

    def __new__(cls, val: Any, doc: str | None = None) -> "BitFlag":
        if isinstance(val, tuple):
            if doc is not None:
                raise ValueError("Flag's doc string cannot be provided twice.")
            val, doc = val

        if not (_is_int(val) and _is_bit_flag(int(val))):
            raise InvalidBitFlag(
                f"Value '{val}' is not a valid bit flag: bit flag value must be "
                "an integral power of two."
            )

        flag = int.__new__(cls, val)
        if doc is not None:
            flag.__doc__ = doc
        return flag


class BitFlagNameMeta(type):
    """Metaclass of bit flag name maps.

    A map is a class whose public attributes are :class:`BitFlag` values.
    Names are looked up case-insensitively through every base class, as
    attributes (``Map.CR``, ``Map.cr``) or as items (``Map['CR']``). A map is
    read-only once created, supports ``in``, ``len`` and iteration over its
    names (base maps' names first), and pickles by value even when it was
    made at run time by :func:`extend_bit_flag_map`.

    A map may also define ``_aliases``: extra names (such as ``GOOD = 0`` or
    a retired name) accepted by lookups but not listed by iteration.
    """

    def __new__(mcls, name, bases, members):
        own = {k: v for k, v in members.items() if not k.startswith("_")}
        inherited = _merged_lookup(bases)
        for key in own:
            if key.lower() in inherited:
                raise AttributeError(f"Bit flag '{key:s}' was already defined.")
        flags = {k: v if isinstance(v, BitFlag) else BitFlag(v) for k, v in own.items()}
        aliases = {k.lower(): int(v) for k, v in members.get("_aliases", {}).items()}
        namespace = {
            "__version__": "",
            **members,
            **flags,
            "_own_flags": flags,
            "_own_aliases": aliases,
            "_locked": True,
        }
        namespace.pop("_aliases", None)
        cls = super().__new__(mcls, name, bases, namespace)
        cls._rebuild_lookup()
        return cls

    def _rebuild_lookup(cls) -> None:
        flags: dict[str, BitFlag] = {}
        for base in reversed(cls.__mro__):
            flags.update(base.__dict__.get("_own_flags", {}))
        aliases: dict[str, int] = {}
        for base in reversed(cls.__mro__):
            aliases.update(base.__dict__.get("_own_aliases", {}))
        lookup = {**aliases, **{k.lower(): v for k, v in flags.items()}}
        type.__setattr__(cls, "_all_flags", flags)
        type.__setattr__(cls, "_lookup", lookup)

    def __setattr__(cls, name, val):
        if name == "__version__":
            raise AttributeError("Version cannot be modified.")
        raise AttributeError(
            f"Bit flags are read-only. Unable to reassign attribute {name}"
        )

    def __delattr__(cls, name):
        raise AttributeError(f"{cls.__name__}: cannot delete BitFlagNameMap member.")

    def __delitem__(cls, name):
        raise AttributeError(f"{cls.__name__}: cannot delete BitFlagNameMap member.")

    def __getattr__(cls, name):
        # Only called when normal lookup fails: private names are not flags.
        if name.startswith("__") or name in {"_lookup", "_all_flags"}:
            raise AttributeError(name)
        try:
            return cls._lookup[name.lower()]
        except KeyError:
            raise _UnknownFlagName(f"Flag '{name}' not defined") from None

    def __getitem__(cls, key):
        if not isinstance(key, str):
            raise _UnknownFlagName(f"Flag '{key}' not defined: flag names are str")
        try:
            return cls._lookup[key.lower()]
        except KeyError:
            raise _UnknownFlagName(f"Flag '{key}' not defined") from None

    def __contains__(cls, key) -> bool:
        return isinstance(key, str) and key.lower() in cls._lookup

    def __iter__(cls) -> Iterator[str]:
        return iter(cls._all_flags)

    def __len__(cls) -> int:
        return len(cls._all_flags)

    def __add__(cls, items):
        if not isinstance(items, dict):
            if not isinstance(items[0], tuple | list):
                items = [items]
            items = dict(items)
        return extend_bit_flag_map(
            cls.__name__ + "_" + "_".join(list(items)), cls, **items
        )

    def __iadd__(cls, other):
        raise NotImplementedError(
            "Unary '+' is not supported. Use binary operator instead."
        )

    def __repr__(cls) -> str:
        return f"<BitFlagNameMap '{cls.__name__}'>"


def _merged_lookup(bases) -> dict:
    merged: dict = {}
    for base in bases:
        merged.update(getattr(base, "_lookup", {}))
    return merged


class BitFlagNameMap(metaclass=BitFlagNameMeta):
    """
    A base class for bit flag name maps used to describe data quality (DQ)
    flags of images by providing a mapping from a mnemonic flag name to a flag
    value.

    Mapping for a specific instrument should subclass this class.
    Subclasses should define flags as class attributes with integer values
    that are powers of 2. Each bit flag may also contain a string
    comment following the flag value.

    Examples
    --------
        >>> from irisdq.bitmask import BitFlagNameMap
        >>> class ST_DQ(BitFlagNameMap):
        ...     __version__ = '1.0.0'  # optional
        ...     CR = 1, 'Cosmic Ray'
        ...     CLOUDY = 4  # no docstring comment
        ...     RAINY = 8, 'Dome closed'
        ...
        >>> class ST_CAM1_DQ(ST_DQ):
        ...     HOT = 16
        ...     DEAD = 32
        >>> ST_CAM1_DQ['cr'], 'HOT' in ST_CAM1_DQ, list(ST_CAM1_DQ)
        (1, True, ['CR', 'CLOUDY', 'RAINY', 'HOT', 'DEAD'])

    """


class _RuntimeMaps:
    """Where maps made at run time can be found by ``module.qualname`` lookup.

    ``cloudpickle`` (used by Dask) pickles a class it cannot find by name by
    re-creating it attribute by attribute, which a read-only map refuses.
    Giving runtime maps a qualified name that resolves here makes it hand
    them to the ``copyreg`` reducer below, which pickles them by value.
    """

    def __init__(self) -> None:
        self._maps: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._count = itertools.count()

    def add(self, cls) -> None:
        key = f"{cls.__name__}_{next(self._count)}"
        self._maps[key] = cls
        type.__setattr__(cls, "__qualname__", f"_runtime_maps.{key}")

    def __getattr__(self, key):
        try:
            return self._maps[key]
        except KeyError:
            raise AttributeError(key) from None


_runtime_maps = _RuntimeMaps()


def _make_runtime_map(name, bases, members):
    cls = BitFlagNameMeta(name, bases, members)
    _runtime_maps.add(cls)
    return cls


def _rebuild_map(name, bases, flags, version, aliases):
    """Re-create a map in another process (the target of pickling)."""
    return _make_runtime_map(
        name, bases, {"__version__": version, "_aliases": aliases, **flags}
    )


def _reduce_map(cls):
    module = sys.modules.get(cls.__module__)
    if module is not None and getattr(module, cls.__qualname__, None) is cls:
        return cls.__qualname__  # importable: pickle by reference
    flags = {
        k: (int(v), vars(v).get("__doc__"))
        for k, v in cls.__dict__["_own_flags"].items()
    }
    return _rebuild_map, (
        cls.__name__,
        cls.__bases__,
        flags,
        cls.__dict__.get("__version__", ""),
        dict(cls.__dict__["_own_aliases"]),
    )


copyreg.pickle(BitFlagNameMeta, _reduce_map)


def extend_bit_flag_map(cls_name, base_cls=BitFlagNameMap, **kwargs):
    """
    A convenience function for creating bit flags maps by subclassing an
    existing map and adding additional flags supplied as keyword arguments.

    Parameters
    ----------
    cls_name : str
        Class name of the bit flag map to be created.

    base_cls : BitFlagNameMap, optional
        Base class for the new bit flag map.

    **kwargs : int
        Each supplied keyword argument will be used to define bit flag
        names in the new map. In addition to bit flag names, ``__version__`` is
        allowed to indicate the version of the newly created map. Names
        compare case-insensitively: a name the base map or another keyword
        already has is accepted only with the same value.

    Examples
    --------
    >>> from irisdq.bitmask import extend_bit_flag_map
    >>> ST_DQ = extend_bit_flag_map('ST_DQ', __version__='1.0.0', CR=1, CLOUDY=4, RAINY=8)
    >>> ST_CAM1_DQ = extend_bit_flag_map('ST_CAM1_DQ', ST_DQ, HOT=16, DEAD=32)
    >>> ST_CAM1_DQ['HOT']  # <-- Access flags as dictionary keys
    16
    >>> ST_CAM1_DQ.HOT  # <-- Access flags as class attributes
    16

    Maps made this way can be pickled and sent to other processes:

        >>> import pickle
        >>> pickle.loads(pickle.dumps(ST_CAM1_DQ))['cloudy']
        4

    """
    version = kwargs.pop("__version__", "")
    # Names compare case-insensitively, among the new ones too (as astropy):
    # READOUT_ERR=16 with readout_err=128 is one flag given two values.
    known_values = dict(_merged_lookup((base_cls,)))
    flags = {}
    for key, value in kwargs.items():
        flag = BitFlag(value)
        known = known_values.get(key.lower())
        if known is None:
            flags[key] = flag
            known_values[key.lower()] = flag
        elif known != int(flag):
            raise AttributeError(
                f"Bit flags are read-only. Unable to reassign attribute {key}"
            )
    return _make_runtime_map(cls_name, (base_cls,), {"__version__": version, **flags})


def _split_flag_string(text: str) -> tuple[list[str], bool]:
    """Split a flag string into stripped tokens; return them and the flip."""
    flip = False
    bitflip_pos = text.find("~")
    if bitflip_pos == 0:
        flip = True
        text = text[1:].lstrip()
    elif bitflip_pos > 0:
        raise ValueError("Bitwise-NOT must precede bit flag list.")

    while True:
        nlpar = text.count("(")
        nrpar = text.count(")")
        if nlpar == 0 and nrpar == 0:
            break
        if nlpar != nrpar:
            raise ValueError("Unbalanced parentheses in bit flag list.")
        if text.find("(") > 0 or text.rfind(")") < len(text) - 1:
            raise ValueError(
                "Incorrect syntax (incorrect use of parenthesis) in bit flag list."
            )
        text = text[1:-1].strip()

    separators = [sep for sep in ",+|" if sep in text]
    if len(separators) > 1:
        raise ValueError(
            "Only one type of bit flag separator may be used in one "
            "expression. Allowed separators are: '+', '|', or ','."
        )
    if separators:
        tokens = text.split(separators[0])
    elif text == "":
        raise ValueError(
            "Empty bit flag lists not allowed when either bitwise-NOT "
            "or parenthesis are present."
        )
    else:
        tokens = [text]
    return [token.strip() for token in tokens], flip


class _UnknownFlagToken(_UnknownFlagName, ValueError):
    """A token of a flag string that is neither a number nor a defined name.

    astropy reads a whole string as numbers when its first token is one
    (then ``int('')`` or ``int('DEAD')`` raises ValueError) and as names
    otherwise (then the map raises AttributeError). irisdq reads each token
    as either, so its error is an instance of both, and code catching what
    astropy raises catches it.
    """


def _token_value(token: str, flag_name_map) -> tuple[int, bool]:
    """Return a token's value and whether it came from a flag name."""
    try:
        return int(token), False
    except ValueError:
        if flag_name_map is None:
            raise
    try:
        value = flag_name_map[token]
    except _UnknownFlagName as exc:
        raise _UnknownFlagToken(str(exc)) from None
    except (AttributeError, KeyError) as exc:
        # A plain dict, or another map type, that lacks the name.
        raise _UnknownFlagToken(f"Flag '{token}' not defined") from exc
    return int(value), True


def _combine(values: list[int], named: list[bool], allow_non_flags: bool) -> int:
    if len(set(values)) != len(values):
        warnings.warn("Duplicate bit flags will be ignored", stacklevel=4)
    bitmask = 0
    for value, from_name in sorted(set(zip(values, named, strict=True))):
        if from_name and value == 0:
            continue  # GOOD = 0 by name contributes nothing
        if not allow_non_flags and not _is_bit_flag(value):
            raise ValueError(
                f"Input list contains invalid (not powers of two) bit flag: {value}"
            )
        bitmask |= value
    return bitmask


def _interpret_string(text: str, flag_name_map) -> int | None:
    text = text.strip()
    if text.upper() in ("", "NONE", "INDEF"):
        return None
    tokens, flip = _split_flag_string(text)
    pairs = [_token_value(token, flag_name_map) for token in tokens]
    values = [value for value, _ in pairs]
    named = [from_name for _, from_name in pairs]
    bitmask = _combine(values, named, allow_non_flags=len(tokens) == 1)
    return ~bitmask if flip else bitmask


@lru_cache(maxsize=256)
def _interpret_string_cached(text: str, flag_name_map) -> int | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return _interpret_string(text, flag_name_map)


def interpret_bit_flags(bit_flags, flip_bits=None, flag_name_map=None):
    """
    Converts input bit flags to a single integer value (bit mask) or `None`.

    When input is a list of flags (either a Python list of integer flags or a
    string of comma-, ``'|'``-, or ``'+'``-separated list of flags),
    the returned bit mask is obtained by summing input flags.

    .. note::
        In order to flip the bits of the returned bit mask,
        for input of `str` type, prepend '~' to the input string. '~' must
        be prepended to the *entire string* and not to each bit flag! For
        input that is already a bit mask or a Python list of bit flags, set
        ``flip_bits`` for `True` in order to flip the bits of the returned
        bit mask.

    Parameters
    ----------
    bit_flags : int, str, list, None
        An integer bit mask or flag, `None`, a string of comma-, ``'|'``- or
        ``'+'``-separated list of integer bit flags or mnemonic flag names,
        or a Python list (or any iterable, a generator included) of integer
        bit flags. If ``bit_flags`` is a `str` (``numpy.str_`` included) and
        if it is prepended with '~', then the output bit mask will have
        its bits flipped (compared to simple sum of input flags).
        For input ``bit_flags`` that is already a bit mask or a Python list
        of bit flags, bit-flipping can be controlled through ``flip_bits``
        parameter.

        A string may mix flag names and numbers (``'DEAD+4'``), and
        whitespace around separators, names and parentheses is ignored.

        .. note::
            When ``bit_flags`` is a list of flag names, the ``flag_name_map``
            parameter must be provided.

        .. note::
            Only one flag separator is supported at a time. ``bit_flags``
            string should not mix ``','``, ``'+'``, and ``'|'`` separators.

    flip_bits : bool, None
        Indicates whether or not to flip the bits of the returned bit mask
        obtained from input bit flags. This parameter must be set to `None`
        when input ``bit_flags`` is either `None` or a Python list of flags.

    flag_name_map : BitFlagNameMap or dict
         A `BitFlagNameMap` (names compared case-insensitively) or a `dict`
         (names compared exactly) that provides mapping from mnemonic
         bit flag names to integer bit values in order to translate mnemonic
         flags to numeric values.

    Returns
    -------
    bitmask : int or None
        Returns an integer bit mask formed from the input bit value or `None`
        if input ``bit_flags`` parameter is `None` or an empty string.
        If input string value was prepended with '~' (or ``flip_bits`` was set
        to `True`), then returned value will have its bits flipped
        (inverse mask).

    Examples
    --------
    >>> from irisdq.bitmask import interpret_bit_flags, extend_bit_flag_map
    >>> ST_DQ = extend_bit_flag_map('ST_DQ', CR=1, CLOUDY=4, RAINY=8, HOT=16, DEAD=32)
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags(28))
    '0000000000011100'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags('4,8,16'))
    '0000000000011100'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags('CLOUDY,RAINY,HOT', flag_name_map=ST_DQ))
    '0000000000011100'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags('~4,8,16'))
    '1111111111100011'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags('~(4+8+16)'))
    '1111111111100011'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags('~(CLOUDY+RAINY+HOT)',
    ... flag_name_map=ST_DQ))
    '1111111111100011'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags([4, 8, 16]))
    '0000000000011100'
    >>> "{0:016b}".format(0xFFFF & interpret_bit_flags([4, 8, 16], flip_bits=True))
    '1111111111100011'

    Names and numbers may be mixed, with any spacing:

        >>> interpret_bit_flags(' cloudy | 8 | HOT ', flag_name_map=ST_DQ)
        28

    """
    has_flip_bits = flip_bits is not None
    flip_bits = bool(flip_bits)

    if _is_int(bit_flags):
        return ~int(bit_flags) if flip_bits else int(bit_flags)

    if bit_flags is None:
        if has_flip_bits:
            raise TypeError(
                "Keyword argument 'flip_bits' must be set to 'None' when "
                "input 'bit_flags' is None."
            )
        return None

    if isinstance(bit_flags, str):
        if has_flip_bits:
            raise TypeError(
                "Keyword argument 'flip_bits' is not permitted for "
                "comma-separated string lists of bit flags. Prepend '~' to "
                "the string to indicate bit-flipping."
            )
        text = str(bit_flags)
        try:
            return _interpret_string_cached(text, flag_name_map)
        except (TypeError, UserWarning):
            # An unhashable map (a dict) or a warning to show: no caching.
            return _interpret_string(text, flag_name_map)

    if hasattr(bit_flags, "__iter__"):
        flags = list(bit_flags)  # a generator can be read only once
        if all(_is_int(flag) for flag in flags):
            values = [int(flag) for flag in flags]
            named = [False] * len(values)
        elif flag_name_map is not None and all(isinstance(f, str) for f in flags):
            values = [int(flag_name_map[f]) for f in flags]
            named = [True] * len(values)
        else:
            raise TypeError(
                "Every bit flag in a list must be either an "
                "integer flag value or a 'str' flag name."
            )
        bitmask = _combine(values, named, allow_non_flags=False)
        return ~bitmask if flip_bits else bitmask

    raise TypeError("Unsupported type for argument 'bit_flags'.")


def bitfield_to_boolean_mask(
    bitfield,
    ignore_flags=0,
    flip_bits=None,
    good_mask_value=False,
    dtype=np.bool_,
    flag_name_map=None,
):
    """
    bitfield_to_boolean_mask(bitfield, ignore_flags=None, flip_bits=None, \
good_mask_value=False, dtype=numpy.bool_)
    Converts an array of bit fields to a boolean (or integer) mask array
    according to a bit mask constructed from the supplied bit flags (see
    ``ignore_flags`` parameter).

    This function is particularly useful to convert data quality arrays to
    boolean masks with selective filtering of DQ flags. Large arrays are
    converted in cache-sized chunks on every core, with no temporary array
    the size of the input.

    Parameters
    ----------
    bitfield : ndarray
        An array of bit flags. By default, values different from zero are
        interpreted as "bad" values and values equal to zero are considered
        as "good" values. However, see ``ignore_flags`` parameter on how to
        selectively ignore some bits in the ``bitfield`` array data.

    ignore_flags : int, str, list, None (default = 0)
        An integer bit mask, `None`, a Python list of bit flags, a comma-,
        or ``'|'``-separated, ``'+'``-separated string list of integer
        bit flags or mnemonic flag names that indicate what bits in the input
        ``bitfield`` should be *ignored* (i.e., zeroed), or `None`.
        See :func:`interpret_bit_flags` for every accepted form.

        .. note::
            When ``bit_flags`` is a list of flag names, the ``flag_name_map``
            parameter must be provided.

        | Setting ``ignore_flags`` to `None` effectively will make
          `bitfield_to_boolean_mask` interpret all ``bitfield`` elements
          as "good" regardless of their value.

        | When ``ignore_flags`` argument is an integer bit mask, it will be
          combined using bitwise-NOT and bitwise-AND with each element of the
          input ``bitfield`` array (``~ignore_flags & bitfield``). If the
          resultant bitfield element is non-zero, that element will be
          interpreted as a "bad" in the output boolean mask and it will be
          interpreted as "good" otherwise. ``flip_bits`` parameter may be used
          to flip the bits (``bitwise-NOT``) of the bit mask thus effectively
          changing the meaning of the ``ignore_flags`` parameter from "ignore"
          to "use only" these flags.

        .. note::

            Setting ``ignore_flags`` to 0 effectively will assume that all
            non-zero elements in the input ``bitfield`` array are to be
            interpreted as "bad".

        | When ``ignore_flags`` argument is a Python list of integer bit
          flags, these flags are added together to create an integer bit mask.
          Each item in the list must be a flag, i.e., an integer that is an
          integer power of 2. In order to flip the bits of the resultant
          bit mask, use ``flip_bits`` parameter.

        | Alternatively, ``ignore_flags`` may be a string of comma- or
          ``'+'``(or ``'|'``)-separated list of integer bit flags that should
          be added (bitwise OR) together to create an integer bit mask.
          For example, both ``'4,8'``, ``'4|8'``, and ``'4+8'`` are equivalent
          and indicate that bit flags 4 and 8 in the input ``bitfield``
          array should be ignored when generating boolean mask.

        .. note::

            ``'None'``, ``'INDEF'``, and empty (or all white space) strings
            are special values of string ``ignore_flags`` that are
            interpreted as `None`.

        .. note::

            Each item in the list must be a flag, i.e., an integer that is an
            integer power of 2. In addition, for convenience, an arbitrary
            **single** integer is allowed and it will be interpreted as an
            integer bit mask. For example, instead of ``'4,8'`` one could
            simply provide string ``'12'``.

        .. note::

            When ``ignore_flags`` is a `str` and when it is prepended with
            '~', then the meaning of ``ignore_flags`` parameters will be
            reversed: now it will be interpreted as a list of bit flags to be
            *used* (or *not ignored*) when deciding which elements of the
            input ``bitfield`` array are "bad". Following this convention,
            an ``ignore_flags`` string value of ``'~0'`` would be equivalent
            to setting ``ignore_flags=None``.

        .. warning::

            Because prepending '~' to a string ``ignore_flags`` is equivalent
            to setting ``flip_bits`` to `True`, ``flip_bits`` cannot be used
            with string ``ignore_flags`` and it must be set to `None`.

    flip_bits : bool, None (default = None)
        Specifies whether or not to invert the bits of the bit mask either
        supplied directly through ``ignore_flags`` parameter or built from the
        bit flags passed through ``ignore_flags`` (only when bit flags are
        passed as Python lists of integer bit flags). Setting ``flip_bits``
        to `None` means that no bit flipping will be performed. Bit flipping
        for string lists of bit flags must be specified by prepending '~' to
        string bit flag lists.

    good_mask_value : int, bool (default = False)
        The value given to "good" elements (those that are 0 after zeroing
        the bits specified by ``ignore_flags``): when non-zero, good elements
        are `True` (or 1) and bad ones `False` (or 0); when zero, good
        elements are `False` (or 0) and bad ones `True` (or 1).

    dtype : data-type (default = ``numpy.bool_``)
        The desired data-type for the output binary mask array.

    flag_name_map : BitFlagNameMap or dict
         Mapping from mnemonic bit flag names to integer bit values, used to
         translate flag names in ``ignore_flags``.

    Returns
    -------
    mask : ndarray
        Returns an array of the same dimensionality as the input ``bitfield``
        array whose elements can have two possible values,
        e.g., ``numpy.True_`` or ``numpy.False_`` (or 1 or 0 for integer
        ``dtype``) according to values of to the input ``bitfield`` elements,
        ``ignore_flags`` parameter, and the ``good_mask_value`` parameter.

    Raises
    ------
    TypeError
        If ``bitfield`` is not of an integer type.

    Examples
    --------
        >>> from irisdq import bitmask
        >>> import numpy as np
        >>> dqarr = np.asarray([[0, 0, 1, 2, 0, 8, 12, 0],
        ...                     [10, 4, 0, 0, 0, 16, 6, 0]])
        >>> flag_map = bitmask.extend_bit_flag_map(
        ...     'ST_DQ', CR=2, CLOUDY=4, RAINY=8, HOT=16, DEAD=32
        ... )
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags=0,
        ...                                  dtype=int)
        array([[0, 0, 1, 1, 0, 1, 1, 0],
               [1, 1, 0, 0, 0, 1, 1, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags=0,
        ...                                  dtype=bool)
        array([[False, False,  True,  True, False,  True,  True, False],
               [ True,  True, False, False, False,  True,  True, False]]...)
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags=6,
        ...                                  good_mask_value=0, dtype=int)
        array([[0, 0, 1, 0, 0, 1, 1, 0],
               [1, 0, 0, 0, 0, 1, 0, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags=~6,
        ...                                  good_mask_value=0, dtype=int)
        array([[0, 0, 0, 1, 0, 0, 1, 0],
               [1, 1, 0, 0, 0, 0, 1, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags=6, dtype=int,
        ...                                  flip_bits=True, good_mask_value=0)
        array([[0, 0, 0, 1, 0, 0, 1, 0],
               [1, 1, 0, 0, 0, 0, 1, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags='~(2+4)',
        ...                                  good_mask_value=0, dtype=int)
        array([[0, 0, 0, 1, 0, 0, 1, 0],
               [1, 1, 0, 0, 0, 0, 1, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags=[2, 4],
        ...                                  flip_bits=True, good_mask_value=0,
        ...                                  dtype=int)
        array([[0, 0, 0, 1, 0, 0, 1, 0],
               [1, 1, 0, 0, 0, 0, 1, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags='~(CR,CLOUDY)',
        ...                                  good_mask_value=0, dtype=int,
        ...                                  flag_name_map=flag_map)
        array([[0, 0, 0, 1, 0, 0, 1, 0],
               [1, 1, 0, 0, 0, 0, 1, 0]])
        >>> bitmask.bitfield_to_boolean_mask(dqarr, ignore_flags='~(CR+CLOUDY)',
        ...                                  good_mask_value=0, dtype=int,
        ...                                  flag_name_map=flag_map)
        array([[0, 0, 0, 1, 0, 0, 1, 0],
               [1, 1, 0, 0, 0, 0, 1, 0]])

    """
    bitfield = np.asarray(bitfield)
    if not np.issubdtype(bitfield.dtype, np.integer):
        raise TypeError("Input bitfield array must be of integer type.")

    ignore_mask = interpret_bit_flags(
        ignore_flags, flip_bits=flip_bits, flag_name_map=flag_name_map
    )

    if ignore_mask is None:
        if good_mask_value:
            return np.ones_like(bitfield, dtype=dtype)
        return np.zeros_like(bitfield, dtype=dtype)

    keep = _engine.keep_bits(ignore_mask, bitfield.dtype)
    out_dtype = np.dtype(dtype)

    if bitfield.size <= _engine.CHUNK_ELEMENTS:
        mask = np.bitwise_and(bitfield, keep)
        mask = np.asarray(np.equal(mask, 0) if good_mask_value else mask != 0)
        return mask.astype(out_dtype, copy=False)

    if out_dtype.kind not in _NUMERIC_KINDS:
        mask = bitfield_to_boolean_mask(bitfield, ignore_mask, None, good_mask_value)
        return mask.astype(out_dtype)

    out = np.empty_like(bitfield, dtype=out_dtype)
    src, dst = _engine.flat_view(bitfield), _engine.flat_view(out)
    if src is None or dst is None:
        # A strided view: the ufunc buffers the cast to bool (no full copy).
        flags = out if out_dtype == np.bool_ else np.empty(bitfield.shape, bool)
        np.bitwise_and(bitfield, keep, out=flags, casting="unsafe")
        if good_mask_value:
            np.logical_not(flags, out=flags)
        if flags is not out:
            np.copyto(out, flags)
        return out
    all_bits = int(keep) == int(_engine.keep_bits(0, bitfield.dtype))
    _engine.convert_flat(src, dst, keep, all_bits, good_mask_value)
    return out


def decode_bit_flags(value, flag_name_map) -> list[str]:
    """Return the names of the flags set in an integer value.

    Each set bit is named by the first name the map gives its value; bits
    the map does not name are reported as their decimal value.

    Parameters
    ----------
    value : int
        A bit field value (a non-negative integer).
    flag_name_map : BitFlagNameMap or dict
        The flag names to use.

    Returns
    -------
    list of str
        Names in increasing order of bit value.

    Examples
    --------
    >>> from irisdq.bitmask import decode_bit_flags, extend_bit_flag_map
    >>> ST_DQ = extend_bit_flag_map('ST_DQ', CR=1, CLOUDY=4, RAINY=8)
    >>> decode_bit_flags(13, ST_DQ)
    ['CR', 'CLOUDY', 'RAINY']
    >>> decode_bit_flags(18, ST_DQ)
    ['2', '16']
    """
    if not _is_int(value) or int(value) < 0:
        raise ValueError(f"cannot decode {value!r}: expected an integer >= 0")
    value = int(value)
    names = _names_by_value(flag_name_map)
    decoded = []
    bit = 1
    while bit <= value:
        if value & bit:
            decoded.append(names.get(bit, str(bit)))
        bit <<= 1
    return decoded


def _names_by_value(flag_name_map) -> dict[int, str]:
    items = (
        flag_name_map.items()
        if isinstance(flag_name_map, Mapping)
        else ((name, flag_name_map[name]) for name in flag_name_map)
    )
    names: dict[int, str] = {}
    for name, value in items:
        names.setdefault(int(value), name)
    return names


def count_bit_flags(bitfield, flag_name_map) -> dict[str, int]:
    """Count the elements of an array that have each flag set.

    Every flag of the map is reported, in increasing order of value, zero
    counts included; set bits the map does not name are added under their
    decimal value. An element with several flags counts once for each.

    Parameters
    ----------
    bitfield : array_like
        An integer array of bit fields.
    flag_name_map : BitFlagNameMap or dict
        The flag names to use.

    Returns
    -------
    dict
        ``{name: number of elements with that flag set}``.

    Examples
    --------
    >>> from irisdq.bitmask import count_bit_flags, extend_bit_flag_map
    >>> ST_DQ = extend_bit_flag_map('ST_DQ', CR=1, CLOUDY=4)
    >>> count_bit_flags([[0, 1, 5], [4, 5, 2]], ST_DQ)
    {'CR': 3, '2': 1, 'CLOUDY': 3}
    """
    bitfield = np.asarray(bitfield)
    if not np.issubdtype(bitfield.dtype, np.integer):
        raise TypeError("Input bitfield array must be of integer type.")
    nbits = bitfield.dtype.itemsize * 8
    unsigned = bitfield.view(f"u{bitfield.dtype.itemsize}")
    flat = _engine.flat_view(unsigned)
    if flat is None:
        flat = unsigned.ravel()
    counts = [0] * nbits
    present = 0
    step = _engine.chunk_elements(flat.dtype)
    tmp = np.empty(min(flat.size, step), dtype=flat.dtype)
    for start in range(0, flat.size, step):
        chunk = flat[start : start + step]
        bits_here = int(np.bitwise_or.reduce(chunk))
        present |= bits_here
        for bit in range(bits_here.bit_length()):
            if bits_here >> bit & 1:
                one_bit = np.bitwise_and(chunk, 1 << bit, out=tmp[: chunk.size])
                counts[bit] += int(np.count_nonzero(one_bit))
    names = _names_by_value(flag_name_map)
    result = {}
    for bit in range(nbits):
        value = 1 << bit
        if value in names:
            result[names[value]] = counts[bit]
        elif present & value:
            result[str(value)] = counts[bit]
    return result
