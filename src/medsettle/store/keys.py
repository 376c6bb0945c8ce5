"""Key encodings. Parts are ASCII, joined by NUL, so that keys sort by their parts in order.

NUL sorts below every printable character, so "A\0..." < "AB\0...": a shorter code never
interleaves with a longer one sharing its prefix, and a prefix scan over parts is exact. Dates are
"YYYY-MM-DD", which sort as dates; years and sequence numbers are zero-padded.
"""

from __future__ import annotations

SEP = b"\x00"
MAX_PART_BYTES = 64  # a bound on every key part: codes, ids and dates are all short


def key(*parts: str) -> bytes:
    encoded = [part.encode("ascii") for part in parts]
    for part in encoded:
        assert len(part) <= MAX_PART_BYTES and SEP not in part, part
    return SEP.join(encoded)


def prefix(*parts: str) -> bytes:
    """Prefix that matches every key whose leading parts are exactly `parts`."""
    return key(*parts) + SEP


def parts(raw: bytes) -> list[str]:
    return [part.decode("ascii") for part in bytes(raw).split(SEP)]


def seq(number: int, width: int = 12) -> str:
    assert 0 <= number < 10**width
    return str(number).zfill(width)
