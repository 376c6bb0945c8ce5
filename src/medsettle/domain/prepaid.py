"""Prepaid funds (预付金, DOMAIN.md 8): 先预付后清算, prepay then clear.

Each insured province keeps, per year, a prepaid balance sized from its previous year's cross-province
payments (a parameter: about two months, i.e. N/12 of the year). Each monthly clearing draws it down by the
province's payable of that month; usage (drawn / funded) past the warning threshold raises an alert; a top-up
adds to what is funded and is recorded. Pure: instants are passed in.
"""

from __future__ import annotations

import msgspec

from medsettle.domain.money import BP_PER_UNIT, round_half_up_div
from medsettle.domain.records import Record

MONTHS_PER_YEAR = 12
WARN_THRESHOLD_BP_DEFAULT = 7_000
TOP_UPS_MAX = 366  # a limit on everything: at most one top-up a day is already far more than any province needs


class Draw(Record, kw_only=True):
    month: str  # YYYY-MM cleared
    amount_fen: int  # the province's payable of that month (negative if reversals outweighed settlements)


class TopUp(Record, kw_only=True):
    amount_fen: int
    when_ms: int
    request_id: str = ""


class PrepaidFund(Record, kw_only=True):
    insuplc_admdvs: str  # insured province
    year: int
    balance_set_fen: int  # the balance as set for the year
    sized_from_months: int = 0  # 0: an explicit amount; N: N/12 of the previous year's payments
    warn_threshold_bp: int = WARN_THRESHOLD_BP_DEFAULT
    draws: tuple[Draw, ...] = ()
    top_ups: tuple[TopUp, ...] = ()

    @property
    def topped_up_fen(self) -> int:
        return sum(t.amount_fen for t in self.top_ups)

    @property
    def drawn_fen(self) -> int:
        return sum(d.amount_fen for d in self.draws)

    @property
    def funded_fen(self) -> int:
        return self.balance_set_fen + self.topped_up_fen

    @property
    def balance_fen(self) -> int:
        return self.funded_fen - self.drawn_fen

    @property
    def usage_bp(self) -> int:
        """drawn / funded in basis points, half-up; an unfunded fund that was drawn on is fully used (or more)."""
        if self.funded_fen <= 0:
            return BP_PER_UNIT if self.drawn_fen > 0 else 0
        return max(0, round_half_up_div(self.drawn_fen * BP_PER_UNIT, self.funded_fen))

    @property
    def over_threshold(self) -> bool:
        # Exact comparison, not through the rounded usage: drawn / funded >= threshold.
        if self.funded_fen <= 0:
            return self.drawn_fen > 0
        return self.drawn_fen * BP_PER_UNIT >= self.warn_threshold_bp * self.funded_fen

    def drawn_for(self, month: str) -> bool:
        return any(d.month == month for d in self.draws)


class PrepaidAlert(Record, kw_only=True):
    """Usage passed the warning threshold after a clearing: the insured province should top up."""

    insuplc_admdvs: str
    year: int
    month: str  # the clearing that drew past the threshold
    usage_bp: int
    warn_threshold_bp: int
    balance_fen: int
    funded_fen: int


def size_from_previous_year(previous_year_payable_fen: int, months: int) -> int:
    """months/12 of the previous year's cross-province payments, half-up to the fen."""
    assert 1 <= months <= MONTHS_PER_YEAR, months
    assert previous_year_payable_fen >= 0
    return round_half_up_div(previous_year_payable_fen * months, MONTHS_PER_YEAR)


def new_fund(insuplc_admdvs: str, year: int, balance_fen: int, *, sized_from_months: int = 0,
             warn_threshold_bp: int = WARN_THRESHOLD_BP_DEFAULT, old: PrepaidFund | None = None) -> PrepaidFund:
    """A fund set for the year. Re-setting keeps what was already drawn and topped up: history is not rewritten."""
    assert balance_fen >= 0 and 0 < warn_threshold_bp <= BP_PER_UNIT
    assert old is None or (old.insuplc_admdvs, old.year) == (insuplc_admdvs, year)
    return PrepaidFund(insuplc_admdvs=insuplc_admdvs, year=year, balance_set_fen=balance_fen,
                       sized_from_months=sized_from_months, warn_threshold_bp=warn_threshold_bp,
                       draws=old.draws if old else (), top_ups=old.top_ups if old else ())


def draw(fund: PrepaidFund, month: str, payable_fen: int) -> tuple[PrepaidFund, PrepaidAlert | None]:
    """Draw a month's clearing from the fund, once per month; an alert when usage is past the threshold."""
    assert int(month[:4]) == fund.year, (month, fund.year)
    assert not fund.drawn_for(month), f"{month} already drawn from {fund.insuplc_admdvs}/{fund.year}"
    after = msgspec.structs.replace(fund, draws=(*fund.draws, Draw(month=month, amount_fen=payable_fen)))
    assert after.drawn_fen == fund.drawn_fen + payable_fen
    alert = None
    if after.over_threshold:
        alert = PrepaidAlert(insuplc_admdvs=fund.insuplc_admdvs, year=fund.year, month=month, usage_bp=after.usage_bp,
                             warn_threshold_bp=fund.warn_threshold_bp, balance_fen=after.balance_fen,
                             funded_fen=after.funded_fen)
    return after, alert


def top_up(fund: PrepaidFund, amount_fen: int, when_ms: int, request_id: str = "") -> PrepaidFund:
    assert amount_fen > 0
    assert len(fund.top_ups) < TOP_UPS_MAX, "too many top-ups in one year"
    after = msgspec.structs.replace(
        fund, top_ups=(*fund.top_ups, TopUp(amount_fen=amount_fen, when_ms=when_ms, request_id=request_id)))
    assert after.balance_fen == fund.balance_fen + amount_fen
    return after
