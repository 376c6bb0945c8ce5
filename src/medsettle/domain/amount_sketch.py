"""A bounded, exact-integer distribution of recent amounts: what "far above the usual range" is measured against.

A log-linear histogram (8 buckets per doubling, so a bucket spans at most 12.5% of its lower edge), kept in
10-day slots; only the slots of the last 90 days count and older ones are dropped when the sketch is next
written. One record per item of a place of treatment and per institution and clearing type; its size is bounded
by slots x distinct buckets (at most 9 x 320), whatever the volume. A quantile is read as the upper edge of the
bucket holding it, so it overstates the true value by at most 12.5%: an outlier judged against it is at least as
far out as the rule says. All integers: no float ever touches an amount.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
from collections.abc import Iterable
from typing import Protocol, TypeVar

import msgspec

from medsettle.domain.money import BP_PER_UNIT, round_half_up_div
from medsettle.domain.records import Record

SUB_BITS = 3  # 2^3 = 8 buckets per doubling
SLOT_DAYS = 10
WINDOW_DAYS = 90
SLOTS_KEPT = WINDOW_DAYS // SLOT_DAYS  # the current slot and the 8 before it: 81-90 days
AMOUNT_FEN_MAX = 2**48  # ~2.8 trillion yuan: no amount on the wire comes near


class _HasDay0(Protocol):
    @property
    def day0(self) -> int: ...


_S = TypeVar("_S", bound=_HasDay0)


class Slot(Record, kw_only=True):
    day0: int  # first day of the slot, as a day number (date.toordinal), a multiple of SLOT_DAYS
    counts: dict[int, int]  # bucket -> amounts counted (> 0); a new Slot for every change, never mutated


class AmountSketch(Record, kw_only=True):
    slots: tuple[Slot, ...] = ()  # ascending day0


def day_number(date: str) -> int:
    return datetime.date.fromisoformat(date).toordinal()


def bucket_of(amount_fen: int) -> int:
    """The bucket of an amount: its power of two and the next SUB_BITS bits below the leading one."""
    assert 0 <= amount_fen < AMOUNT_FEN_MAX, amount_fen
    if amount_fen < 2**SUB_BITS:
        return amount_fen  # small amounts get a bucket each
    exponent = amount_fen.bit_length() - 1
    mantissa = (amount_fen >> (exponent - SUB_BITS)) - 2**SUB_BITS
    return (exponent - SUB_BITS + 1) * 2**SUB_BITS + mantissa


BUCKETS = bucket_of(AMOUNT_FEN_MAX - 1) + 1  # every bucket is below this (368)


def bucket_upper_fen(bucket: int) -> int:
    """The largest amount in a bucket."""
    if bucket < 2**SUB_BITS:
        return bucket
    exponent = bucket // 2**SUB_BITS + SUB_BITS - 1
    mantissa = bucket % 2**SUB_BITS + 2**SUB_BITS
    return ((mantissa + 1) << (exponent - SUB_BITS)) - 1


def slot_start(day: int) -> int:
    return day - day % SLOT_DAYS


def _live(sketch: AmountSketch, day: int) -> tuple[Slot, ...]:
    oldest = slot_start(day) - (SLOTS_KEPT - 1) * SLOT_DAYS
    return tuple(slot for slot in sketch.slots if slot.day0 >= oldest)


def kept_slots(slots: tuple[_S, ...], day: int) -> tuple[tuple[_S, ...], _S | None]:
    """What counting amounts on `day` keeps of a sketch's slots (anything with a `day0`, ascending): the earlier slots
    still in the window, and the current slot when it goes on (None: a new one starts, empty). The store applies it
    to slots it has not decoded (WriteView.add_to_sketch)."""
    start = slot_start(day)
    oldest = start - (SLOTS_KEPT - 1) * SLOT_DAYS
    if slots and slots[-1].day0 == start and slots[0].day0 >= oldest:  # the common case
        return slots[:-1], slots[-1]
    return tuple(slot for slot in slots if oldest <= slot.day0 < start), None


def counted(counts: dict[int, int], amounts_fen: Iterable[int]) -> dict[int, int]:
    """A slot's counts with `amounts_fen` counted: a new dict (a slot's is never changed)."""
    counts = dict(counts)
    for amount_fen in amounts_fen:
        bucket = bucket_of(amount_fen)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def add(sketch: AmountSketch, day: int, amounts_fen: Iterable[int]) -> AmountSketch:
    """The sketch with `amounts_fen` counted on `day`; slots older than the window dropped."""
    earlier, current = kept_slots(sketch.slots, day)
    slots = (*earlier, Slot(day0=slot_start(day), counts=counted(current.counts if current else {}, amounts_fen)))
    assert len(slots) <= SLOTS_KEPT
    return AmountSketch(slots=slots)


def count(sketch: AmountSketch, day: int) -> int:
    return sum(sum(slot.counts.values()) for slot in _live(sketch, day))


class Distribution(msgspec.Struct, gc=False):  # integers only: no cycles, and ~10^5 cached need no tracking
    """A sketch's live window on one day, merged: its buckets ascending, and how many amounts fall at or below each.
    Made once per distribution read (the store's readers keep it a while), then asked for every line: a quantile is a
    binary search once per window, then remembered, not a pass over the window's ~9 x 80 bucket counts. Merged at
    once, not when first asked: the decoded slots take ~2 KB against ~200 bytes merged (~93 MB against 9 for the
    45,777 windows of a 5,000-item bench).

    A thin window (fewer amounts than the rules that read it ask for: samples_min) is not merged at all: its total
    is all a rule reads of it (no threshold either way), and most windows of a catalog's items are thin (92% of those
    a bench of 5,000 items a province reads)."""

    total: int = 0  # amounts counted in the window
    buckets: tuple[int, ...] = ()  # empty when thin
    at_or_below: tuple[int, ...] = ()  # cumulative counts, ascending; the last is the total. Empty when thin
    _last_quantile: tuple[int, int] = (0, 0)  # (quantile_bp, its bucket): a window is asked by one rule, line by line

    def answers(self, samples_min: int) -> bool:
        """Whether the window serves rules that ask for at least `samples_min` amounts: merged (an empty one is), or
        thin and too thin for them as well."""
        thin = self.total > 0 and not self.at_or_below
        return not thin or self.total < samples_min

    def quantile_bucket(self, quantile_bp: int) -> int:
        """The bucket holding the quantile (the smallest whose cumulative count reaches its rank); merged, not empty."""
        last_bp, found = self._last_quantile
        if last_bp != quantile_bp:
            assert 0 < quantile_bp < BP_PER_UNIT and self.at_or_below
            rank = -(-self.total * quantile_bp // BP_PER_UNIT)  # ceil: the smallest amount at or above the quantile
            found = self.buckets[bisect.bisect_left(self.at_or_below, rank)]
            self._last_quantile = (quantile_bp, found)  # one assignment: whole for any thread that reads it
        return found


def distribution(sketch: AmountSketch, day: int, samples_min: int = 0) -> Distribution:
    """The amounts counted in the window ending on `day`, merged across its slots; only counted when fewer than
    `samples_min` (a thin window: Distribution.answers)."""
    live = _live(sketch, day)
    total = sum([sum(slot.counts.values()) for slot in live])
    if total < samples_min:
        return Distribution(total=total)
    sparse = sum([len(slot.counts) for slot in live]) <= SPARSE_ENTRIES_MAX
    buckets, at_or_below = _merged_sparse(live) if sparse else _merged_dense(live)
    assert total == (at_or_below[-1] if at_or_below else 0)
    return Distribution(total=total, buckets=buckets, at_or_below=at_or_below)


# Most items of a catalog are billed now and then: their window holds few counts (in a bench of 5,000 items a
# province, three in five of the windows a settlement reads first hold fewer than 20). A dict and a sort merge 3 in
# ~1.8 us where the list below takes 6.4 for its pass over every bucket; the list is the cheaper from ~300 counts.
SPARSE_ENTRIES_MAX = 200


def _merged_sparse(live: tuple[Slot, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    merged: dict[int, int] = {}
    for slot in live:
        for bucket, n in slot.counts.items():
            merged[bucket] = merged.get(bucket, 0) + n
    buckets = tuple(sorted(merged))
    return buckets, tuple(itertools.accumulate(merged[b] for b in buckets))


def _merged_dense(live: tuple[Slot, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    # Buckets are small integers (below BUCKETS): a list merges ~9 slots of ~80 counts in 29 us where a dict took 45,
    # and it comes out sorted.
    totals = [0] * BUCKETS
    for slot in live:
        for bucket, n in slot.counts.items():
            totals[bucket] += n
    buckets = tuple(bucket for bucket, n in enumerate(totals) if n)
    return buckets, tuple(itertools.accumulate(totals[b] for b in buckets))


def quantile_upper_fen(dist: Distribution, quantile_bp: int) -> tuple[int, int]:
    """(amounts counted in the window, the upper edge of the bucket holding the quantile); (0, 0) when empty."""
    if not dist.total:
        return 0, 0
    return dist.total, bucket_upper_fen(dist.quantile_bucket(quantile_bp))


def may_exceed_quantile(dist: Distribution, quantile_bp: int, amount_fen: int) -> bool:
    """False when `amount_fen` is surely at or below the quantile: the quantile's bucket is not below the amount's.
    Asked for every line: most amounts are ordinary."""
    return dist.total > 0 and dist.quantile_bucket(quantile_bp) < bucket_of(amount_fen)


def threshold_fen(quantile_fen: int, factor_bp: int) -> int:
    """factor x the quantile, rounded once."""
    return round_half_up_div(quantile_fen * factor_bp, BP_PER_UNIT)
