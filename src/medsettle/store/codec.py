"""Record encoding on disk: one schema-version byte, then msgpack of the msgspec Struct.

The version byte lets a later release read old records (and refuse unknown future ones) without
guessing from the payload.
"""

from __future__ import annotations

from typing import Any

import msgspec

SCHEMA_VERSION = 1
_VERSION_BYTE = bytes([SCHEMA_VERSION])

_encoder = msgspec.msgpack.Encoder()
_decoders: dict[type, msgspec.msgpack.Decoder] = {}


def encode(record: msgspec.Struct) -> bytes:
    return _VERSION_BYTE + _encoder.encode(record)


def decode(data: bytes | memoryview, record_type: type[Any]) -> Any:
    decoder = _decoders.get(record_type)
    if decoder is None:
        decoder = _decoders[record_type] = msgspec.msgpack.Decoder(record_type)
    version = data[0]
    if version != SCHEMA_VERSION:
        raise ValueError(f"record schema version {version} not readable by this release ({SCHEMA_VERSION})")
    return decoder.decode(data[1:])  # a bytes slice copies ~100 bytes: cheaper than a memoryview


def decoder_of(record_type: type[Any]):
    """A decode function bound to one record type, for the hottest reads (no dict look-up per call)."""
    decode_payload = msgspec.msgpack.Decoder(record_type).decode

    def decode_one(data: bytes | memoryview) -> Any:
        if data[0] != SCHEMA_VERSION:
            raise ValueError(f"record schema version {data[0]} not readable by this release ({SCHEMA_VERSION})")
        return decode_payload(data[1:])

    return decode_one
