"""Key encodings. Parts are ASCII, joined by NUL, so that keys sort by their parts in order.

NUL sorts below every printable character, so "A\0..." < "AB\0...": a shorter code never
interleaves with a longer one sharing its prefix, and a prefix scan over parts is exact. Dates are
"YYYY-MM-DD", which sort as dates; years and sequence numbers are zero-padded.
"""

from __future__ import annotations

SEP = b"\x00"
MAX_PART_BYTES = 64  # a bound on every key part: codes, ids and dates are all short


def key(*parts: str) -> bytes:
    # Joined, then encoded and checked whole: a NUL inside a part shows as one separator too many (a key is built
    # for every read and write of a settlement, about twenty times).
    raw = "\x00".join(parts).encode("ascii")
    # A key no longer than the bound holds no part longer than it: most keys are, and skip measuring each part.
    assert raw.count(SEP) == len(parts) - 1 and (
        len(raw) <= MAX_PART_BYTES or max(map(len, parts)) <= MAX_PART_BYTES), parts
    return raw


def prefix(*parts: str) -> bytes:
    """Prefix that matches every key whose leading parts are exactly `parts`."""
    return key(*parts) + SEP


def parts(raw: bytes) -> list[str]:
    return [part.decode("ascii") for part in bytes(raw).split(SEP)]


def seq(number: int, width: int = 12) -> str:
    assert 0 <= number < 10**width
    return str(number).zfill(width)
