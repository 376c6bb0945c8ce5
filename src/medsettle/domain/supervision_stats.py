"""Supervision statistics (DOMAIN.md 9): per day x province of treatment x insured province x institution,
kept as the settlements happen, never scanned from the ledger later.

The direct settlement rate is settled / (settled + refused). A refusal is a filing problem when every reason it
gives is a filing reason (no filing, expired, another region, another institution): filing would have let it
through, so the person (or the referring hospital) is who can fix it. A refusal counts once, under its first
reason (the one that leads the answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from medsettle.domain import eligibility
from medsettle.domain.money import BP_PER_UNIT, round_half_up_div
from medsettle.domain.records import Record, Settlement

UNKNOWN_REGION = "000000"  # a refusal whose person or institution is not known


class Count(Record, kw_only=True):
    code: str  # a reason code, or a rule_id
    n: int


class DayStats(Record, kw_only=True):
    setl_cnt: int = 0  # settlements (reversals not subtracted: they are counted on their own)
    reversal_cnt: int = 0
    medfee_sumamt_fen: int = 0  # net of reversals
    fund_pay_sumamt_fen: int = 0  # net of reversals
    refused_cnt: int = 0
    filing_refused_cnt: int = 0
    refusals: tuple[Count, ...] = ()  # by first reason, sorted by code
    flags: tuple[Count, ...] = ()  # by rule_id, sorted
    deduction_cnt: int = 0  # confirmed deductions (a give-back counts -1)
    deducted_fen: int = 0


def _merge(a: tuple[Count, ...], b: Iterable[Count]) -> tuple[Count, ...]:
    if b == ():  # most days' rows meet a settlement with no flag and no refusal: `a` is already sorted, no zeros
        return a
    merged = {c.code: c.n for c in a}
    for c in b:
        merged[c.code] = merged.get(c.code, 0) + c.n
    return tuple(Count(code=code, n=n) for code, n in sorted(merged.items()) if n)


def add(a: DayStats, b: DayStats) -> DayStats:
    return DayStats(
        setl_cnt=a.setl_cnt + b.setl_cnt, reversal_cnt=a.reversal_cnt + b.reversal_cnt,
        medfee_sumamt_fen=a.medfee_sumamt_fen + b.medfee_sumamt_fen,
        fund_pay_sumamt_fen=a.fund_pay_sumamt_fen + b.fund_pay_sumamt_fen,
        refused_cnt=a.refused_cnt + b.refused_cnt, filing_refused_cnt=a.filing_refused_cnt + b.filing_refused_cnt,
        refusals=_merge(a.refusals, b.refusals), flags=_merge(a.flags, b.flags),
        deduction_cnt=a.deduction_cnt + b.deduction_cnt, deducted_fen=a.deducted_fen + b.deducted_fen)


def total(rows: Iterable[DayStats]) -> DayStats:
    result = DayStats()
    for row in rows:
        result = add(result, row)
    return result


def of_settlement(setl: Settlement) -> DayStats:
    """A settlement counts +1; a reversal counts as a reversal, its negated amounts netting the day's sums."""
    return DayStats(setl_cnt=0 if setl.reversed_setl_id else 1, reversal_cnt=1 if setl.reversed_setl_id else 0,
                    medfee_sumamt_fen=setl.medfee_sumamt_fen, fund_pay_sumamt_fen=setl.fund_pay_sumamt_fen)


def is_filing_problem(reason_codes: Sequence[str]) -> bool:
    return bool(reason_codes) and all(code in eligibility.FILING_REASON_CODES for code in reason_codes)


def of_refusal(reason_codes: Sequence[str]) -> DayStats:
    assert reason_codes
    return DayStats(refused_cnt=1, filing_refused_cnt=1 if is_filing_problem(reason_codes) else 0,
                    refusals=(Count(code=reason_codes[0], n=1),))


def of_flags(rule_ids: Iterable[str]) -> DayStats:
    return DayStats(flags=_merge((), (Count(code=rule_id, n=1) for rule_id in rule_ids)))


def of_deduction(amount_fen: int) -> DayStats:
    """A confirmed deduction (positive) or its give-back by a reversal (negative)."""
    return DayStats(deduction_cnt=1 if amount_fen > 0 else -1, deducted_fen=amount_fen)


def rate_bp(part: int, whole: int) -> int:
    """part / whole in basis points, rounded once; 0 when there is nothing to divide."""
    return round_half_up_div(part * BP_PER_UNIT, whole) if whole else 0


def direct_settlement_rate_bp(stats: DayStats) -> int:
    return rate_bp(stats.setl_cnt, stats.setl_cnt + stats.refused_cnt)


def filing_share_bp(stats: DayStats) -> int:
    return rate_bp(stats.filing_refused_cnt, stats.refused_cnt)
