"""Record encoding on disk: one schema-version byte, then msgpack of the msgspec Struct.

The version byte lets a later release read old records (and refuse unknown future ones) without
guessing from the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

SCHEMA_VERSION = 1
_VERSION_BYTE = bytes([SCHEMA_VERSION])

_encoder = msgspec.msgpack.Encoder()
_decoders: dict[type, Callable[[bytes | memoryview], Any]] = {}


def encode(record: msgspec.Struct) -> bytes:
    return _VERSION_BYTE + _encoder.encode(record)


def decoder_of(record_type: type[Any]) -> Callable[[bytes | memoryview], Any]:
    """The decode function of one record type; the hottest reads keep it (no dict look-up per call)."""
    decode_one = _decoders.get(record_type)
    if decode_one is None:
        decode_payload = msgspec.msgpack.Decoder(record_type).decode

        def decode_one(data: bytes | memoryview) -> Any:
            if data[0] != SCHEMA_VERSION:
                raise ValueError(f"record schema version {data[0]} not readable by this release ({SCHEMA_VERSION})")
            return decode_payload(data[1:])  # a bytes slice copies ~100 bytes: cheaper than a memoryview

        _decoders[record_type] = decode_one
    return decode_one


def decode(data: bytes | memoryview, record_type: type[Any]) -> Any:
    return decoder_of(record_type)(data)
