"""The FITS checksum convention: 32-bit ones' complement sums and their encoding.

A FITS HDU carries ``DATASUM`` (the sum of its data, as a decimal string) and
``CHECKSUM`` (16 characters chosen so that the sum of the whole HDU, header
and data, is all ones). The sums are over big-endian 32-bit words with an
end-around carry, which is addition modulo 2**32 - 1: that is what lets the
data be summed chunk by chunk while it is written or read.

Examples
--------
>>> import numpy as np
>>> words = np.array([1, 2, 0xFFFFFFFF], dtype=">u4")
>>> word_sum(words)
3
>>> encode_checksum(0)
'0000000000000000'
"""

import numpy as np

__all__ = [
    "ALL_ONES",
    "add_sums",
    "encode_checksum",
    "native_word_sum",
    "word_sum",
]

ALL_ONES = 0xFFFFFFFF

# ASCII punctuation between the digits and the letters, which the encoding
# avoids so that CHECKSUM is alphanumeric (FITS standard, appendix J).
_EXCLUDED = frozenset(b":;<=>?@[\\]^_`")


def add_sums(*sums: int) -> int:
    """Add 32-bit ones' complement sums.

    Examples
    --------
    >>> add_sums(0xFFFFFFFF, 1)
    1
    >>> add_sums(0, 0)
    0
    """
    total = sum(sums)
    while total >> 32:
        total = (total & ALL_ONES) + (total >> 32)
    return total


def native_word_sum(words: np.ndarray) -> int:
    """Return the ones' complement sum of 32-bit words given as native uint32.

    ``words`` (contiguous) holds the integer value of each big-endian word
    of the file, already in the machine's byte order, which is the fast
    case.

    Examples
    --------
    >>> native_word_sum(np.array([0xFFFFFFFF, 2, 7], dtype=np.uint32))
    9
    """
    words = np.ascontiguousarray(words, dtype=np.uint32).reshape(-1)
    total = 0
    if words.size % 2:
        total = int(words[-1])
        words = words[:-1]
    # Summing pairs of words as native uint64 avoids numpy's slow
    # uint32 -> uint64 cast. Because 2**32 = 1 modulo 2**32 - 1, the sum of
    # the pairs is already the sum wanted, except for the wrap-arounds of the
    # uint64 total, which the separate sum of the high words recovers.
    pairs = words.view(np.uint64)
    wrapped = int(np.add.reduce(pairs))
    high = int(np.add.reduce(pairs >> np.uint64(32)))
    low = (wrapped - (high << 32)) % (1 << 64)
    return add_sums(total, low, high)


def word_sum(data) -> int:
    """Return the ones' complement sum of the big-endian words of ``data``.

    Parameters
    ----------
    data : bytes-like or numpy.ndarray
        Bytes as they are in the file. A length that is not a multiple of
        four is padded with zeros, as the FITS fill would be.

    Examples
    --------
    >>> word_sum(b"\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x02")
    3
    >>> word_sum(b"\\x01")
    16777216
    """
    raw = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    extra = raw.size % 4
    total = 0
    if extra:
        tail = bytes(raw[raw.size - extra :]) + b"\0" * (4 - extra)
        total = int.from_bytes(tail, "big")
        raw = raw[: raw.size - extra]
    words = raw.view(">u4")
    return add_sums(total, int(np.add.reduce(words, dtype=np.uint64)))


def encode_checksum(value: int) -> str:
    """Return the 16-character ASCII encoding of a 32-bit checksum value.

    ``CHECKSUM`` is the encoding of the complement of the HDU's sum taken
    with ``CHECKSUM = '0000000000000000'``.

    Examples
    --------
    >>> encode_checksum(0xFFFFFFFF)
    'orrrrooooooooooo'
    """
    ascii_codes = [0] * 16
    for i, byte in enumerate(int(value & ALL_ONES).to_bytes(4, "big")):
        quotient, remainder = divmod(byte, 4)
        quotient += ord("0")
        chars = [quotient + remainder, quotient, quotient, quotient]
        moved = True
        while moved:
            moved = False
            for j in (0, 2):
                while chars[j] in _EXCLUDED or chars[j + 1] in _EXCLUDED:
                    chars[j] += 1
                    chars[j + 1] -= 1
                    moved = True
        for j, char in enumerate(chars):
            ascii_codes[4 * j + i] = char
    # The standard rotates the string one place to the right.
    return bytes(ascii_codes[(k + 15) % 16] for k in range(16)).decode("ascii")
