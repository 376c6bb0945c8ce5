"""Monthly clearing (清算) between provinces (DOMAIN.md 8): pure statement math over pair totals.

A pair is (insured province -> province of treatment). Its totals are the sums over the settlements dated in
the month; a reversal is itself a settlement record with every amount negated and its own (later) setl_date,
so it counts in the month it happens, with setl_cnt -1. The insured place owes the place of treatment the
fund part and the personal-account part of every settlement: that sum is what a pair clears.

Per province: receivable (as place of treatment), payable (as insured place), net = receivable - payable;
the nets of a statement sum to zero. A statement has one canonical byte form (fixed field order, pairs and
positions sorted by code), so generating it twice gives byte-identical output, and its digest names it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import msgspec

from medsettle.domain import region
from medsettle.domain.records import Document, Record, Settlement

MONTH_RE = re.compile(r"(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])")  # ASCII digits; fullmatch: no trailing newline
PAIRS_MAX = 32 * 32  # every ordered pair of the 32 provincial units, self-pairs included (never cross-province)


class Totals(Record, kw_only=True):
    """Sums of one pair in one month; also the stored aggregate row, kept current at commit time."""

    setl_cnt: int = 0  # +1 per settlement, -1 per reversal
    medfee_sumamt_fen: int = 0
    fund_pay_sumamt_fen: int = 0
    acct_pay_fen: int = 0

    @property
    def clearing_fen(self) -> int:
        """What the insured place owes the place of treatment for these settlements."""
        return self.fund_pay_sumamt_fen + self.acct_pay_fen

    @property
    def is_zero(self) -> bool:
        return not (self.setl_cnt or self.medfee_sumamt_fen or self.fund_pay_sumamt_fen or self.acct_pay_fen)


class PairLine(Document, kw_only=True):
    insuplc_admdvs: str  # insured province
    mdtrtarea_admvs: str  # province of treatment
    setl_cnt: int
    medfee_sumamt_fen: int
    fund_pay_sumamt_fen: int
    acct_pay_fen: int


class Position(Document, kw_only=True):
    admdvs: str  # province
    receivable_fen: int  # owed to it as place of treatment
    payable_fen: int  # owed by it as insured place
    net_fen: int  # receivable - payable


class Statement(Document, kw_only=True):
    month: str  # YYYY-MM
    pairs: tuple[PairLine, ...]
    positions: tuple[Position, ...]

    def position(self, admdvs: str) -> Position | None:
        for position in self.positions:
            if position.admdvs == admdvs:
                return position
        return None


def is_month(text: str) -> bool:
    return MONTH_RE.fullmatch(text) is not None


def month_of(date: str) -> str:
    """"2026-03-02" -> "2026-03"."""
    return date[:7]


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"


def pair_of(setl: Settlement) -> tuple[str, str]:
    """(insured province, province of treatment) of a settlement."""
    return region.province_of(setl.insuplc_admdvs), region.province_of(setl.mdtrtarea_admvs)


def totals_of(setl: Settlement) -> Totals:
    """What one settlement adds to its pair: a reversal carries negated amounts and counts -1."""
    return Totals(setl_cnt=-1 if setl.reversed_setl_id else 1, medfee_sumamt_fen=setl.medfee_sumamt_fen,
                  fund_pay_sumamt_fen=setl.fund_pay_sumamt_fen, acct_pay_fen=setl.acct_pay_fen)


def add(base: Totals, delta: Totals) -> Totals:
    return Totals(setl_cnt=base.setl_cnt + delta.setl_cnt,
                  medfee_sumamt_fen=base.medfee_sumamt_fen + delta.medfee_sumamt_fen,
                  fund_pay_sumamt_fen=base.fund_pay_sumamt_fen + delta.fund_pay_sumamt_fen,
                  acct_pay_fen=base.acct_pay_fen + delta.acct_pay_fen)


def totals_from_ledger(settlements: Iterable[Settlement], month: str) -> dict[tuple[str, str], Totals]:
    """The brute-force path: pair totals of `month` from every settlement record (tests, benchmarks, audits)."""
    found: dict[tuple[str, str], Totals] = {}
    for setl in settlements:
        if month_of(setl.setl_date) == month:
            pair = pair_of(setl)
            found[pair] = add(found.get(pair, Totals()), totals_of(setl))
    return found


def statement(month: str, pair_totals: Iterable[tuple[tuple[str, str], Totals]]) -> Statement:
    """The statement of `month` from its pair totals (any order). Pairs that net to nothing are left out."""
    assert is_month(month), month
    merged: dict[tuple[str, str], Totals] = {}
    for pair, totals in pair_totals:
        merged[pair] = add(merged.get(pair, Totals()), totals)
    assert len(merged) <= PAIRS_MAX
    kept = [(pair, t) for pair, t in sorted(merged.items()) if not t.is_zero]
    pairs = tuple(
        PairLine(insuplc_admdvs=insured, mdtrtarea_admvs=treated, setl_cnt=t.setl_cnt,
                 medfee_sumamt_fen=t.medfee_sumamt_fen, fund_pay_sumamt_fen=t.fund_pay_sumamt_fen,
                 acct_pay_fen=t.acct_pay_fen)
        for (insured, treated), t in kept
    )
    receivable: dict[str, int] = {}
    payable: dict[str, int] = {}
    for (insured, treated), t in kept:
        receivable[treated] = receivable.get(treated, 0) + t.clearing_fen
        payable[insured] = payable.get(insured, 0) + t.clearing_fen
    positions = tuple(
        Position(admdvs=code, receivable_fen=receivable.get(code, 0), payable_fen=payable.get(code, 0),
                 net_fen=receivable.get(code, 0) - payable.get(code, 0))
        for code in sorted(receivable.keys() | payable.keys())
    )
    result = Statement(month=month, pairs=pairs, positions=positions)
    check(result)
    return result


def check(stmt: Statement) -> None:
    """The statement's invariants: nets sum to zero, receivables equal payables, canonical order."""
    assert sum(p.net_fen for p in stmt.positions) == 0, "nets of a clearing statement sum to zero"
    assert sum(p.receivable_fen for p in stmt.positions) == sum(p.payable_fen for p in stmt.positions)
    keys = [(line.insuplc_admdvs, line.mdtrtarea_admvs) for line in stmt.pairs]
    assert keys == sorted(set(keys)), "pairs are unique and sorted"
    codes = [p.admdvs for p in stmt.positions]
    assert codes == sorted(set(codes)), "positions are unique and sorted"


_encoder = msgspec.json.Encoder()


def canonical_bytes(stmt: Statement) -> bytes:
    """One byte form per statement: JSON in struct field order, sorted pairs and positions, integers only."""
    check(stmt)
    return _encoder.encode(stmt)


def digest(canonical: bytes) -> str:
    return hashlib.blake2b(canonical, digest_size=32).hexdigest()


def decode(canonical: bytes) -> Statement:
    return msgspec.json.decode(canonical, type=Statement)
