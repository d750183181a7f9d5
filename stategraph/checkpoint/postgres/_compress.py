"""Compressing the bytes the PostgreSQL savers store: checkpoints, values, deltas, task writes.

PostgreSQL compresses only values in rows over about 2 KB, and with an LZ scheme that finds
little to remove in text without long repeats; a conversation's messages are mostly such text.
zlib (with Huffman coding) stores them in a half to three quarters of the bytes, for some
microseconds per value. A value is stored compressed only when that saves at least a tenth, and
its type tag then ends in ``+zlib``; a reader of rows written either way decodes both.
"""

from __future__ import annotations

import zlib
from typing import Tuple

from stategraph.errors import DeserializationError

__all__ = ["pack", "unpack"]

SUFFIX = "+zlib"
_MIN_BYTES = 128  # below this a value rarely shrinks enough to pay for the work
_LEVEL = 6


def pack(type_: str, data: bytes) -> Tuple[str, bytes]:
    """``(type, bytes)`` as stored: compressed when it pays."""
    if len(data) < _MIN_BYTES:
        return type_, data
    packed = zlib.compress(data, _LEVEL)
    if len(packed) * 10 > len(data) * 9:
        return type_, data
    return type_ + SUFFIX, packed


def unpack(type_: str, data: bytes) -> Tuple[str, bytes]:
    """The ``(type, bytes)`` a serializer reads, from what ``pack`` stored."""
    if not type_.endswith(SUFFIX):
        return type_, data
    try:
        return type_[: -len(SUFFIX)], zlib.decompress(data)
    except zlib.error as error:
        raise DeserializationError(f"Stored {type_!r} bytes are not valid zlib data: {error}") from error
