"""Institution reconciliation (对账, DOMAIN.md 8): 3201 totals and 3202 detail, against the core's ledger.

A reversal is its own settlement (own setl_id, negated amounts, counted -1), as in clearing, so an
institution that books reversals as they happen reconciles without special cases.
"""

from __future__ import annotations

from collections.abc import Iterable

from medsettle.domain import clearing
from medsettle.domain.records import Record, Settlement


class Item(Record, kw_only=True):
    """One settlement as a side holds it: the amounts reconciliation compares."""

    setl_id: str
    medfee_sumamt_fen: int
    fund_pay_sumamt_fen: int
    acct_pay_fen: int


class Difference(Record, kw_only=True):
    setl_id: str
    institution: Item
    core: Item


class Detail(Record, kw_only=True):
    missing_in_core: tuple[Item, ...]  # listed by the institution, unknown to the core
    missing_at_institution: tuple[Item, ...]  # held by the core, not listed
    amounts_differ: tuple[Difference, ...]

    @property
    def match(self) -> bool:
        return not (self.missing_in_core or self.missing_at_institution or self.amounts_differ)


def item_of(setl: Settlement) -> Item:
    return Item(setl_id=setl.setl_id, medfee_sumamt_fen=setl.medfee_sumamt_fen,
                fund_pay_sumamt_fen=setl.fund_pay_sumamt_fen, acct_pay_fen=setl.acct_pay_fen)


def totals(settlements: Iterable[Settlement]) -> clearing.Totals:
    result = clearing.Totals()
    for setl in settlements:
        result = clearing.add(result, clearing.totals_of(setl))
    return result


def detail(institution: Iterable[Item], core: Iterable[Item]) -> Detail:
    """Exactly the settlements that differ, each list sorted by setl_id. setl_ids are unique on each side."""
    theirs = {item.setl_id: item for item in institution}
    ours = {item.setl_id: item for item in core}
    missing_in_core = tuple(theirs[sid] for sid in sorted(theirs.keys() - ours.keys()))
    missing_at_institution = tuple(ours[sid] for sid in sorted(ours.keys() - theirs.keys()))
    differ = tuple(Difference(setl_id=sid, institution=theirs[sid], core=ours[sid])
                   for sid in sorted(theirs.keys() & ours.keys()) if theirs[sid] != ours[sid])
    found = Detail(missing_in_core=missing_in_core, missing_at_institution=missing_at_institution,
                   amounts_differ=differ)
    # Two paths to the same answer: every setl_id of either side is either equal on both or named once.
    named = len(missing_in_core) + len(missing_at_institution) + len(differ)
    equal = sum(1 for sid in theirs.keys() & ours.keys() if theirs[sid] == ours[sid])
    assert named + equal == len(theirs.keys() | ours.keys())
    return found
