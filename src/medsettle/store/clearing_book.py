"""Clearing over the store: statements from the commit-time aggregates, month close, prepaid draw-down.

Shared by ClearingService and the `medsettle clearing run` command (which reads the store directly), so
both produce the same bytes. Reads only the month's aggregate rows (at most 32 x 32), never the ledger;
`ledger_statement` is the brute-force recomputation that checks them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from medsettle.domain import clearing, prepaid, reasons
from medsettle.domain.prepaid import PrepaidAlert, PrepaidFund
from medsettle.domain.reasons import Refusal
from medsettle.store.rows import ClosedMonth
from medsettle.store.view import View, WriteView


@dataclass(frozen=True)
class Book:
    """A month's statement with its canonical bytes and digest, and whether it is closed (frozen)."""

    statement: clearing.Statement
    canonical: bytes
    digest: str
    closed: ClosedMonth | None = None


@dataclass
class CloseResult:
    book: Book
    already_closed: bool
    funds: list[PrepaidFund] = field(default_factory=list)  # funds drawn by this close
    alerts: list[PrepaidAlert] = field(default_factory=list)  # alerts this close raised


def book(view: View, month: str, insured: frozenset[str] | None = None) -> Book:
    """The month's statement: the frozen one if closed, else computed from the aggregates. `insured`: a shard's own
    insured provinces, whose part it answers for (clearing.part_of); None for a single host."""
    closed = view.closed_month(month)
    if closed is not None:
        stmt = clearing.decode(closed.statement)
        assert clearing.canonical_bytes(stmt) == closed.statement and clearing.digest(closed.statement) == closed.digest
        part = stmt if insured is None else clearing.part_of(stmt, insured)
        if part is stmt:
            return Book(statement=stmt, canonical=closed.statement, digest=closed.digest, closed=closed)
        canonical = clearing.canonical_bytes(part)
        return Book(statement=part, canonical=canonical, digest=clearing.digest(canonical), closed=closed)
    stmt = clearing.statement(month, [(pair, totals) for pair, totals in view.clearing_totals(month)
                                      if insured is None or pair[0] in insured])
    canonical = clearing.canonical_bytes(stmt)
    return Book(statement=stmt, canonical=canonical, digest=clearing.digest(canonical))


def ledger_statement(view: View, month: str) -> clearing.Statement:
    """Brute force: every settlement and deduction ever written, scanned. For checks and benchmarks, never on a
    request."""
    return clearing.statement(month, clearing.totals_from_ledger(view.all_settlements(), month,
                                                                 view.all_deductions()).items())


def previous_year_payable_fen(view: View, province: str, year: int) -> int:
    """What `province` owed as insured place over the year before `year`, from the aggregates."""
    total = 0
    for mon in range(1, 13):
        for (insured, _), totals in view.clearing_totals(f"{year - 1}-{mon:02d}"):
            if insured == province:
                total += totals.clearing_fen
    return total


def _draw(view: WriteView, fund: PrepaidFund, month: str, payable_fen: int) -> tuple[PrepaidFund, PrepaidAlert | None]:
    fund, alert = prepaid.draw(fund, month, payable_fen)
    view.put_prepaid_fund(fund)
    if alert is not None:
        view.put_prepaid_alert(alert)
    return fund, alert


def check_closable(month: str, today: str) -> None:
    """Only a month that has ended closes: settlements may still arrive in the current one."""
    current = clearing.month_of(today)
    if month >= current:
        raise Refusal(reasons.MONTH_NOT_CLOSABLE, field="month",
                      detail=f"{month} has not ended (current month {current}): settlements may still arrive")


def close_month(view: WriteView, month: str, today: str, now_ms: int, who: str = "",
                insured: frozenset[str] | None = None) -> CloseResult:
    """Freeze the month's statement (a shard: its part, `insured`) and draw each insured province's payable from its
    prepaid fund.

    Closing a closed month changes nothing and answers the frozen statement (idempotent in effect).
    """
    check_closable(month, today)
    current = book(view, month, insured)
    if current.closed is not None:
        return CloseResult(book=current, already_closed=True)
    closed = ClosedMonth(month=month, statement=current.canonical, digest=current.digest, closed_ms=now_ms,
                         closed_by=who)
    view.put_closed_month(closed)
    result = CloseResult(book=dataclasses.replace(current, closed=closed), already_closed=False)
    year = int(month[:4])
    for position in current.statement.positions:
        fund = view.prepaid_fund(position.admdvs, year)
        if fund is None or position.payable_fen == 0:
            continue
        fund, alert = _draw(view, fund, month, position.payable_fen)
        result.funds.append(fund)
        if alert is not None:
            result.alerts.append(alert)
    return result


def set_fund(view: WriteView, fund: PrepaidFund) -> tuple[PrepaidFund, list[PrepaidAlert]]:
    """Store a fund set for its year, then draw the months of that year already closed and not yet drawn."""
    alerts = []
    for mon in range(1, 13):
        month = f"{fund.year}-{mon:02d}"
        closed = view.closed_month(month)
        if closed is None or fund.drawn_for(month):
            continue
        position = clearing.decode(closed.statement).position(fund.insuplc_admdvs)
        if position is not None and position.payable_fen:
            fund, alert = prepaid.draw(fund, month, position.payable_fen)
            if alert is not None:
                view.put_prepaid_alert(alert)
                alerts.append(alert)
    view.put_prepaid_fund(fund)
    return fund, alerts
