"""Flags for joint review (联审互查, DOMAIN.md 9) and who may see, raise and decide them.

A flag is raised by an audit rule of severity FLAG in the settlement's own transaction, or by the insured place on
a settlement of its insured (协查请求). It is open until the place of treatment decides it: cleared, or confirmed
with an amount to deduct (拒付). A confirmed deduction lowers what the insured place owes the place of treatment in
the clearing of the month it is confirmed in, as a line of its own, and the place of treatment recovers it from
the institution (its reconciliation shows it). A reversal of the settlement afterwards gives the deduction back in
the reversal's month: the reversal already returns every fen the funds paid.

Who may do what, in DOMAIN.md's words (callers are verified identities: an institution, a province's platform, or
the national platform):
- see a flag: the place of treatment (it reviews the care of its institutions), the insured place (it sees every
  flag on its insured), the institution whose settlement it is (whoever can fix a cause must be able to see it),
  and the national platform (supervision);
- raise a flag on a settlement (协查请求): the insured place of that settlement;
- decide a flag (clear, or confirm with a deduction): the place of treatment only;
- push audit rules: the province that owns them, or the national platform.
"""

from __future__ import annotations

import msgspec

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import Record

INSTITUTION, PROVINCE, NATIONAL = "institution", "province", "national"

STATUS_OPEN = "OPEN"
STATUS_CLEARED = "CLEARED"
STATUS_CONFIRMED = "CONFIRMED"
STATUSES = frozenset({STATUS_OPEN, STATUS_CLEARED, STATUS_CONFIRMED})
DECISION_CLEAR = "CLEAR"
DECISION_CONFIRM = "CONFIRM"
DECISIONS = frozenset({DECISION_CLEAR, DECISION_CONFIRM})
SOURCE_RULE = "RULE"
SOURCE_REQUEST = "REQUEST"  # 协查请求 of the insured place
REQUEST_RULE_ID = "REQUEST"  # the rule_id a raised flag is counted under
NOTE_CHARS_MAX = 500


class Viewer(Record, kw_only=True):
    """A verified caller as the rules see it: its kind and its id (a fixmedins_code, a province xx0000, a name)."""

    kind: str
    id: str


class Evidence(Record, kw_only=True):
    kind: str
    ref: str
    detail: str = ""


class Review(Record, kw_only=True):
    who: str
    when_ms: int
    decision: str
    deduct_fen: int = 0
    note: str = ""


class Flag(Record, kw_only=True):
    flag_id: str  # "G" + flag date (YYYYMMDD) + sequence: sorts by date
    flag_date: str
    source: str  # SOURCE_RULE or SOURCE_REQUEST
    rule_id: str
    rule_kind: str = ""
    rule_admdvs: str = ""
    rule_role: str = ""
    rule_name: str = ""
    setl_id: str
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str
    insuplc_admdvs: str  # insured province
    mdtrtarea_admvs: str  # province of treatment
    setl_date: str
    feedetl_sns: tuple[str, ...] = ()
    amount_fen: int  # the amount the flag is about (its lines, or the settlement)
    clearing_fen: int  # what the insured place owes for the settlement: the most any deduction can take
    evidence: tuple[Evidence, ...] = ()
    zh: str = ""
    en: str = ""
    raised_by: str = ""
    created_ms: int
    status: str = STATUS_OPEN
    reviews: tuple[Review, ...] = ()
    deduct_fen: int = 0  # confirmed deduction
    deduct_date: str = ""
    given_back_by: str = ""  # setl_id of the reversal that gave the deduction back


def may_see(viewer: Viewer, flag: Flag) -> bool:
    if viewer.kind == NATIONAL:
        return True
    if viewer.kind == PROVINCE:
        return viewer.id in (flag.mdtrtarea_admvs, flag.insuplc_admdvs)
    return viewer.kind == INSTITUTION and viewer.id == flag.fixmedins_code


def may_decide(viewer: Viewer, flag: Flag) -> bool:
    return viewer.kind == PROVINCE and viewer.id == flag.mdtrtarea_admvs


def may_raise(viewer: Viewer, insured_province: str) -> bool:
    return viewer.kind == PROVINCE and viewer.id == insured_province


def may_push_rules(viewer: Viewer, admdvs: str) -> bool:
    return viewer.kind == NATIONAL or (viewer.kind == PROVINCE and viewer.id == admdvs)


def may_see_row(viewer: Viewer, mdtrtarea_admvs: str, insuplc_admdvs: str, fixmedins_code: str) -> bool:
    """Statistics rows follow the flags' rule: the two provinces, the institution, the national platform."""
    if viewer.kind == NATIONAL:
        return True
    if viewer.kind == PROVINCE:
        return viewer.id in (mdtrtarea_admvs, insuplc_admdvs)
    return viewer.kind == INSTITUTION and viewer.id == fixmedins_code


def not_permitted(what: str) -> Refusal:
    return Refusal(reasons.SUPERVISION_NOT_PERMITTED, detail=what)


def review(flag: Flag, viewer: Viewer, decision: str, deduct_fen: int, *, deducted_elsewhere_fen: int,
           settlement_reversed: bool, when_ms: int, date: str, note: str = "") -> Flag:
    """The flag decided. Refuses: a caller who may not decide, a flag already decided, a deduction on a clearing
    or a reversed settlement, or one past what the settlement's funds paid less other flags' deductions."""
    if not may_decide(viewer, flag):
        raise not_permitted(f"only the place of treatment {flag.mdtrtarea_admvs} decides this flag")
    if flag.status != STATUS_OPEN:
        raise Refusal(reasons.FLAG_ALREADY_DECIDED, field="flag_id", detail=f"{flag.flag_id} is {flag.status}")
    if decision not in DECISIONS:
        raise Refusal.invalid("decision", "CLEAR or CONFIRM")
    if deduct_fen < 0 or (decision == DECISION_CLEAR and deduct_fen):
        raise Refusal.invalid("deduct", "a deduction is a non-negative amount, only when confirming")
    if deduct_fen and settlement_reversed:
        raise Refusal(reasons.DEDUCTION_TOO_LARGE, field="deduct",
                      detail=f"settlement {flag.setl_id} is reversed: the funds were given back already")
    room_fen = flag.clearing_fen - deducted_elsewhere_fen
    if deduct_fen > room_fen:
        raise Refusal(reasons.DEDUCTION_TOO_LARGE, field="deduct",
                      detail=f"at most {room_fen} fen of {flag.clearing_fen} is left to deduct")
    if len(note) > NOTE_CHARS_MAX:
        raise Refusal.invalid("note", f"at most {NOTE_CHARS_MAX} characters")
    status = STATUS_CONFIRMED if decision == DECISION_CONFIRM else STATUS_CLEARED
    entry = Review(who=f"{viewer.kind}:{viewer.id}", when_ms=when_ms, decision=decision, deduct_fen=deduct_fen,
                   note=note)
    return msgspec.structs.replace(flag, status=status, reviews=flag.reviews + (entry,), deduct_fen=deduct_fen,
                                   deduct_date=date if deduct_fen else "")
