"""Record encoding on disk: one format byte, then msgpack of the msgspec Struct.

Formats:
  1  msgpack with records as maps (field names repeated): what releases before array records wrote. Still read;
     `medsettle migrate` rewrites such records in format 2 or 3.
  2  msgpack with records as arrays (records.Record is array_like)
  3  format 2 compressed with zlib (what releases before format 4 wrote for large records). Still read.
  4  format 2 compressed with LZ4 (block, size stored), for records of COMPRESS_FROM_BYTES and more

The format byte lets a release read old records (and refuse unknown future ones) without guessing from the payload.
Size matters for the file, not only the CPU: LMDB keeps a value of more than about 2,000 bytes on overflow pages of
its own (whole 4 KiB pages), and half-splits leaf pages whose values are large, so a 10-line settlement stored as a
map (about 5 KB: field names and bilingual explanation texts) took two pages of file. As an array it is 2.3 KB and
compressed 1.2 KB: several fit in a leaf page.

Why LZ4 and not zlib: a durable settlement is compressed on the group-commit writer's thread, under the write lock.
zlib (level 1) took 40-55 us of a 10-line settlement's ~3 KB and LZ4 takes 5 (decompressing: 15 against 0.7), for
1.8 KB instead of 1.5 KB: still one leaf-page share, well under LMDB's overflow threshold (bench/RESULTS.md, issue 15).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import lz4.block
import msgspec

LEGACY_MAP = 1
ARRAY = 2
ARRAY_ZLIB = 3
ARRAY_LZ4 = 4
FORMATS = (LEGACY_MAP, ARRAY, ARRAY_ZLIB, ARRAY_LZ4)
COMPRESS_FROM_BYTES = 1024  # below this, compression saves no page and costs a few microseconds
_ARRAY_BYTE = bytes([ARRAY])
_ARRAY_LZ4_BYTE = bytes([ARRAY_LZ4])
_lz4_compress = lz4.block.compress
_lz4_decompress = lz4.block.decompress

_encoder = msgspec.msgpack.Encoder()
_decoders: dict[type, Callable[[bytes | memoryview], Any]] = {}


def encode(record: msgspec.Struct) -> bytes:
    payload = _encoder.encode(record)
    if len(payload) < COMPRESS_FROM_BYTES:
        return _ARRAY_BYTE + payload
    return _ARRAY_LZ4_BYTE + _lz4_compress(payload)


def decoder_of(record_type: type[Any]) -> Callable[[bytes | memoryview], Any]:
    """The decode function of one record type; the hottest reads keep it (no dict look-up per call)."""
    decode_one = _decoders.get(record_type)
    if decode_one is None:
        decode_payload = msgspec.msgpack.Decoder(record_type).decode
        info = msgspec.inspect.type_info(record_type)

        def decode_one(data: bytes | memoryview) -> Any:
            fmt = data[0]
            if fmt == ARRAY:
                return decode_payload(data[1:])  # a bytes slice copies ~100 bytes: cheaper than a memoryview
            if fmt == ARRAY_LZ4:
                return decode_payload(_lz4_decompress(data[1:]))
            if fmt == ARRAY_ZLIB:
                return decode_payload(zlib.decompress(data[1:]))
            if fmt == LEGACY_MAP:
                return msgspec.convert(_arrays_of(msgspec.msgpack.decode(data[1:]), info), record_type)
            raise ValueError(f"record format {fmt} not readable by this release (formats {FORMATS})")

        _decoders[record_type] = decode_one
    return decode_one


def decode(data: bytes | memoryview, record_type: type[Any]) -> Any:
    return decoder_of(record_type)(data)


def is_current(data: bytes | memoryview) -> bool:
    """Whether a stored value is in a format this release writes (else `medsettle migrate` rewrites it)."""
    return data[0] in (ARRAY, ARRAY_ZLIB, ARRAY_LZ4)


def _arrays_of(value: Any, info: msgspec.inspect.Type) -> Any:
    """A legacy value (records as maps, decoded untyped) in the shape of the current types (array records)."""
    if isinstance(info, msgspec.inspect.StructType):
        if not info.array_like or not isinstance(value, dict):
            return value if not isinstance(value, dict) else {
                field.encode_name: _arrays_of(value[field.encode_name], field.type)
                for field in info.fields if field.encode_name in value}
        row = []
        for field in info.fields:
            if field.encode_name in value:
                row.append(_arrays_of(value[field.encode_name], field.type))
            elif field.default is not msgspec.NODEFAULT:
                row.append(msgspec.to_builtins(field.default))
            elif field.default_factory is not msgspec.NODEFAULT:
                row.append(msgspec.to_builtins(field.default_factory()))
            else:
                row.append(None)  # a required field missing: convert() names it
        return row
    if isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.VarTupleType, msgspec.inspect.SetType,
                         msgspec.inspect.FrozenSetType)) and isinstance(value, list):
        return [_arrays_of(item, info.item_type) for item in value]
    if isinstance(info, msgspec.inspect.TupleType) and isinstance(value, list):
        return [_arrays_of(item, item_info) for item, item_info in zip(value, info.item_types, strict=False)]
    if isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            if isinstance(member, msgspec.inspect.StructType) and isinstance(value, dict):
                return _arrays_of(value, member)
    return value
