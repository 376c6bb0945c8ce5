"""Monthly clearing (清算) between provinces (DOMAIN.md 8): pure statement math over pair totals.

A pair is (insured province -> province of treatment). Its totals are the sums over the settlements dated in
the month; a reversal is itself a settlement record with every amount negated and its own (later) setl_date,
so it counts in the month it happens, with setl_cnt -1. The insured place owes the place of treatment the
fund part and the personal-account part of every settlement: that sum is what a pair clears.

A confirmed deduction (拒付, DOMAIN.md 9) lowers what the insured place owes the place of treatment in the month it
is confirmed in, as a line of its own (`deductions`); a reversal of a deducted settlement gives the deduction back
(a negative deduction) in the reversal's month, since the reversal returns every fen the funds paid.

Per province: receivable (as place of treatment), payable (as insured place), both after deductions,
net = receivable - payable; the nets of a statement sum to zero. A statement has one canonical byte form (fixed field order, pairs and
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
    deduction_cnt: int = 0  # +1 per confirmed deduction, -1 per deduction given back by a reversal
    deducted_fen: int = 0

    @property
    def clearing_fen(self) -> int:
        """What the insured place owes the place of treatment for these settlements, after deductions."""
        return self.fund_pay_sumamt_fen + self.acct_pay_fen - self.deducted_fen

    @property
    def settlements_zero(self) -> bool:
        return not (self.setl_cnt or self.medfee_sumamt_fen or self.fund_pay_sumamt_fen or self.acct_pay_fen)

    @property
    def deductions_zero(self) -> bool:
        return not (self.deduction_cnt or self.deducted_fen)

    @property
    def is_zero(self) -> bool:
        return self.settlements_zero and self.deductions_zero


class Deduction(Record, kw_only=True):
    """A confirmed deduction (拒付) as the clearing and the institution's reconciliation count it; its give-back by a
    reversal is a Deduction of the negated amount."""

    flag_id: str
    setl_id: str
    fixmedins_code: str
    insuplc_admdvs: str  # insured province
    mdtrtarea_admvs: str  # province of treatment
    date: str  # confirmed (or given back) on
    amount_fen: int  # > 0 deducted, < 0 given back
    reversal_setl_id: str = ""  # on a give-back: the reversal that gave it back


class DeductionLine(Record, kw_only=True):
    """A pair's deductions of a month: its own line of the statement."""

    insuplc_admdvs: str
    mdtrtarea_admvs: str
    deduction_cnt: int
    deducted_fen: int


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
    # Omitted when empty (Record's omit_defaults): a month without deductions keeps the canonical bytes it always had.
    deductions: tuple[DeductionLine, ...] = ()

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


def totals_of_deduction(deduction: Deduction) -> Totals:
    return Totals(deduction_cnt=1 if deduction.amount_fen > 0 else -1, deducted_fen=deduction.amount_fen)


def add(base: Totals, delta: Totals) -> Totals:
    return Totals(setl_cnt=base.setl_cnt + delta.setl_cnt,
                  medfee_sumamt_fen=base.medfee_sumamt_fen + delta.medfee_sumamt_fen,
                  fund_pay_sumamt_fen=base.fund_pay_sumamt_fen + delta.fund_pay_sumamt_fen,
                  acct_pay_fen=base.acct_pay_fen + delta.acct_pay_fen,
                  deduction_cnt=base.deduction_cnt + delta.deduction_cnt,
                  deducted_fen=base.deducted_fen + delta.deducted_fen)


def totals_from_ledger(settlements: Iterable[Settlement], month: str,
                       deductions: Iterable[Deduction] = ()) -> dict[tuple[str, str], Totals]:
    """The brute-force path: pair totals of `month` from every settlement and deduction record (tests, benchmarks,
    audits)."""
    found: dict[tuple[str, str], Totals] = {}
    for setl in settlements:
        if month_of(setl.setl_date) == month:
            pair = pair_of(setl)
            found[pair] = add(found.get(pair, Totals()), totals_of(setl))
    for deduction in deductions:
        if month_of(deduction.date) == month:
            pair = (deduction.insuplc_admdvs, deduction.mdtrtarea_admvs)
            found[pair] = add(found.get(pair, Totals()), totals_of_deduction(deduction))
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
        for (insured, treated), t in kept if not t.settlements_zero
    )
    deductions = tuple(
        DeductionLine(insuplc_admdvs=insured, mdtrtarea_admvs=treated, deduction_cnt=t.deduction_cnt,
                      deducted_fen=t.deducted_fen)
        for (insured, treated), t in kept if not t.deductions_zero
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
    result = Statement(month=month, pairs=pairs, positions=positions, deductions=deductions)
    check(result)
    return result


def gathered(month: str, parts: Iterable[Statement]) -> Statement:
    """The statement of `month` from the statements of shards (each holds the pairs of its insured provinces): the
    same statement, byte for byte, as one host holding every settlement would make. A pair found on two shards (a
    province moved between them within the month) is added up like any pair's settlements."""
    pair_totals: list[tuple[tuple[str, str], Totals]] = []
    for part in parts:
        assert part.month == month, (part.month, month)
        check(part)
        pair_totals += [((p.insuplc_admdvs, p.mdtrtarea_admvs),
                         Totals(setl_cnt=p.setl_cnt, medfee_sumamt_fen=p.medfee_sumamt_fen,
                                fund_pay_sumamt_fen=p.fund_pay_sumamt_fen, acct_pay_fen=p.acct_pay_fen))
                        for p in part.pairs]
        pair_totals += [((d.insuplc_admdvs, d.mdtrtarea_admvs),
                         Totals(deduction_cnt=d.deduction_cnt, deducted_fen=d.deducted_fen)) for d in part.deductions]
    return statement(month, pair_totals)


def part_of(stmt: Statement, insured_provinces: frozenset[str]) -> Statement:
    """The part of a statement a shard answers for: the pairs (and deduction lines) of the insured provinces it owns.
    A shard whose store began as a copy of another's (a new shard, docs/operations.md) may hold other provinces'
    aggregates too; they are the other shard's to report."""
    kept = Statement(month=stmt.month,
                     pairs=tuple(p for p in stmt.pairs if p.insuplc_admdvs in insured_provinces), positions=(),
                     deductions=tuple(d for d in stmt.deductions if d.insuplc_admdvs in insured_provinces))
    return gathered(stmt.month, [kept]) if (kept.pairs, kept.deductions) != (stmt.pairs, stmt.deductions) else stmt


def check(stmt: Statement) -> None:
    """The statement's invariants: nets sum to zero, receivables equal payables, canonical order."""
    assert sum(p.net_fen for p in stmt.positions) == 0, "nets of a clearing statement sum to zero"
    assert sum(p.receivable_fen for p in stmt.positions) == sum(p.payable_fen for p in stmt.positions)
    for lines in (stmt.pairs, stmt.deductions):
        keys = [(line.insuplc_admdvs, line.mdtrtarea_admvs) for line in lines]
        assert keys == sorted(set(keys)), "pairs and deduction lines are unique and sorted"
    owed = sum(p.fund_pay_sumamt_fen + p.acct_pay_fen for p in stmt.pairs) - sum(d.deducted_fen for d in stmt.deductions)
    assert owed == sum(p.receivable_fen for p in stmt.positions), "positions add up the pairs less the deductions"
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
