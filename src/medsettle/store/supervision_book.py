"""Supervision over the store (就医地管理): the rules in force, the bounded indexes the rules read, and what a
settlement, a reversal or a review writes for supervision in its own transaction.

Rules are reference data: they are read through per-process caches keyed by the snapshot's reference token
(view.REFERENCE_TOKEN, replaced by every push of reference data, rules included), which a settlement's snapshot has
read anyway, so every worker process sees a push at its next snapshot. Indexes are bounded: a person's outpatient
day records reach LOOKBACK_DAYS_MAX back (older ones are pruned as the person settles), a distribution is a
fixed-size sketch, and a settlement adds to at most SKETCH_ITEMS_MAX item distributions.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from medsettle.domain import amount_sketch, audit, audit_rules, clearing, codes, dates, flags, region
from medsettle.domain import supervision_stats as stats
from medsettle.domain.amount_sketch import Distribution
from medsettle.domain.audit import Hit, PersonDay, VisitMark
from medsettle.domain.audit_rules import AuditRule
from medsettle.domain.flags import Flag
from medsettle.domain.records import Claim, Settlement, Stay
from medsettle.process_cache import ProcessCache
from medsettle.store.view import SKETCH_ITEM, SKETCH_VISIT, View, WriteView

RULE_CACHE_ENTRIES_MAX = 256
SKETCH_ITEMS_MAX = 64  # a settlement's first distinct items: the distributions it reads and feeds (a stay: thousands)
# An item's distribution keeps one item of a settlement in SKETCH_ITEM_SAMPLE_EVERY, chosen by a hash of the
# settlement and the item: an unbiased, reproducible sample that spares three writes in four on every settlement.
SKETCH_ITEM_SAMPLE_EVERY = 4
PRUNE_EVERY = 8  # one settlement in 8 (by hash) prunes its person's day records older than the lookback
PRUNE_DAYS_PER_SETTLEMENT_MAX = 8

_rules_lock = threading.Lock()
_rules_cache = ProcessCache(RULE_CACHE_ENTRIES_MAX)  # (token, province, role) -> every version
_in_force_cache = ProcessCache(RULE_CACHE_ENTRIES_MAX * 4)  # (token, treated, insured, date) -> RuleSet
SKETCH_CACHE_S = 60.0
SKETCH_CACHE_ENTRIES_MAX = 200_000
_distribution_cache = ProcessCache(SKETCH_CACHE_ENTRIES_MAX)  # (token, kind, owner, code, day) -> (read at, window)


def _versions(view: View, token: bytes, admdvs: str, role: str) -> tuple[AuditRule, ...]:
    cache_key = (token, admdvs, role)
    found = _rules_cache.get(cache_key)
    if found is None:
        found = tuple(view.audit_rules(admdvs, role))
        with _rules_lock:
            _rules_cache.remember(cache_key, found)
    return found


@dataclass(frozen=True)
class RuleSet:
    """The rules in force for one settlement, and what they read (worked out once per token, provinces and date)."""

    token: bytes
    rules: tuple[AuditRule, ...]
    kinds: frozenset[str]
    lookback_days: int
    item_samples_min: int  # the fewest amounts the rules reading each kind of window ask for (audit.samples_min_floor)
    visit_samples_min: int


def rules_for(view: View, treated_province: str, insured_province: str, date: str) -> RuleSet:
    """The rules in force on `date` for a settlement treated in one province of a person insured in another: the
    place of treatment's (role 1) and the insured place's (role 2), each owner's in rule_id order."""
    token = view.reference_token()
    cache_key = (token, treated_province, insured_province, date)
    found = _in_force_cache.get(cache_key)
    if found is None:
        rules = (audit_rules.in_force(_versions(view, token, treated_province, audit_rules.ROLE_TREATMENT), date)
                 + audit_rules.in_force(_versions(view, token, insured_province, audit_rules.ROLE_INSURED), date))
        found = RuleSet(token=token, rules=rules, kinds=frozenset(rule.kind for rule in rules),
                        lookback_days=audit.lookback_days(rules),
                        item_samples_min=audit.samples_min_floor(rules, audit_rules.LINE_AMOUNT_OUTLIER),
                        visit_samples_min=audit.samples_min_floor(rules, audit_rules.VISIT_AMOUNT_OUTLIER))
        with _rules_lock:
            _in_force_cache.remember(cache_key, found)
    return found


def _distribution(view: View, token: bytes, kind: str, owner: str, code: str, day: int,
                  samples_min: int) -> Distribution | None:
    """A distribution's window on `day` as this process read and merged it at most SKETCH_CACHE_S ago. A quantile of
    90 days moves slowly; an LMDB read and a merge of ~9 slots per item of every settlement do not pay. Keyed by the
    reference token too, so a push of rules (and another store) starts afresh. A window thinner than `samples_min`
    (the rules' fewest) is only counted; one held thin for rules that asked more is read again."""
    cache_key = (token, kind, owner, code, day)
    now = time.monotonic()
    held = _distribution_cache.get(cache_key)
    if held is not None and now - held[0] < SKETCH_CACHE_S and (held[1] is None or held[1].answers(samples_min)):
        return held[1]
    sketch = view.sketch(kind, owner, code)
    found = None if sketch is None else amount_sketch.distribution(sketch, day, samples_min)
    _distribution_cache.remember(cache_key, (now, found))
    return found


def audit_input(view: View, rule_set: RuleSet, claim: Claim, setl: Settlement, items_by_sn,
                stay: Stay | None) -> audit.AuditInput:
    """What the rules in force read, and nothing more, from the same snapshot as the settlement."""
    kinds, lookback, token = rule_set.kinds, rule_set.lookback_days, rule_set.token
    days: dict[str, PersonDay] = {}
    if lookback:
        days = view.person_days(claim.psn_no, dates.add_days(claim.setl_date, 1 - lookback), claim.setl_date)
    open_stays: tuple[Stay, ...] = ()
    if kinds & audit.READS_OPEN_STAYS and stay is None:
        open_stays = tuple(s for s in (view.stay(i) for i in view.open_stay_ids(claim.psn_no)) if s is not None)
    other_stays: tuple[Stay, ...] = ()
    if kinds & audit.READS_OTHER_STAYS and stay is not None:
        other_stays = tuple(view.person_stays(claim.psn_no))
    province = region.province_of(claim.mdtrtarea_admvs)
    day = amount_sketch.day_number(claim.setl_date)
    item_sketches: dict[str, Distribution] = {}
    if kinds & audit.READS_ITEM_SKETCHES:
        for code in _items(setl)[:SKETCH_ITEMS_MAX]:
            found = _distribution(view, token, SKETCH_ITEM, province, code, day, rule_set.item_samples_min)
            if found is not None:
                item_sketches[code] = found
    visit_sketch = None
    if kinds & audit.READS_VISIT_SKETCH:
        visit_sketch = _distribution(view, token, SKETCH_VISIT, claim.fixmedins_code, setl.clr_type, day,
                                     rule_set.visit_samples_min)
    return audit.AuditInput(claim=claim, settlement=setl, items_by_sn=items_by_sn, rules=rule_set.rules, days=days,
                            open_stays=open_stays, stay=stay, other_stays=other_stays, item_sketches=item_sketches,
                            visit_sketch=visit_sketch)


def _items(setl: Settlement) -> tuple[str, ...]:
    """The settlement's distinct items, in line order."""
    return tuple(dict.fromkeys(line.med_list_codg for line in setl.lines))


def sampled(setl_id: str, item_codes: Sequence[str]) -> list[str]:
    """The items whose amounts the settlement feeds: those whose crc32 of "<setl_id>/<code>" is a multiple of
    SKETCH_ITEM_SAMPLE_EVERY (the settlement's part of the checksum taken once: crc32 runs on from a prefix's)."""
    prefix_crc = zlib.crc32(f"{setl_id}/".encode("ascii"))
    return [code for code in item_codes
            if zlib.crc32(code.encode("ascii"), prefix_crc) % SKETCH_ITEM_SAMPLE_EVERY == 0]


def _new_flag_id(view: WriteView, date: str) -> str:
    return f"G{date.replace('-', '')}{view.next_id('G'):012d}"


def new_flag(view: WriteView, setl: Settlement, *, source: str, rule: AuditRule | None, hit: Hit | None,
             raised_by: str, when_ms: int, date: str, zh: str = "", en: str = "") -> Flag:
    """A flag on `setl`, written with its indexes (the caller counts it in the statistics)."""
    insured, treated = clearing.pair_of(setl)
    flag = Flag(
        flag_id=_new_flag_id(view, date), flag_date=date, source=source,
        rule_id=rule.rule_id if rule else flags.REQUEST_RULE_ID, rule_kind=rule.kind if rule else "",
        rule_admdvs=rule.admdvs if rule else "", rule_role=rule.role if rule else "",
        rule_name=rule.name if rule else "",
        setl_id=setl.setl_id, mdtrt_id=setl.mdtrt_id, psn_no=setl.psn_no, fixmedins_code=setl.fixmedins_code,
        insuplc_admdvs=insured, mdtrtarea_admvs=treated, setl_date=setl.setl_date,
        feedetl_sns=hit.feedetl_sns if hit else (), amount_fen=hit.amount_fen if hit else setl.medfee_sumamt_fen,
        clearing_fen=setl.fund_pay_sumamt_fen + setl.acct_pay_fen, evidence=hit.evidence if hit else (),
        zh=hit.zh if hit else zh, en=hit.en if hit else en, raised_by=raised_by, created_ms=when_ms)
    view.put_flag(flag, new=True)
    return flag


def record_settlement(view: WriteView, setl: Settlement, flagged: Sequence[Hit], when_ms: int) -> tuple[Flag, ...]:
    """What a new settlement writes for supervision, in its own transaction: its visit in the person's day record
    (outpatient), its amounts in the distributions, its flags, and the day's statistics."""
    assert not setl.reversed_setl_id and setl.setl_id
    insured, treated = clearing.pair_of(setl)
    items = _items(setl)
    if setl.clr_type == codes.CLR_TYPE_OUTPATIENT:
        day = view.person_day(setl.psn_no, setl.setl_date) or PersonDay()
        mark = VisitMark(setl_id=setl.setl_id, fixmedins_code=setl.fixmedins_code, med_type=setl.med_type,
                         items=items)
        view.put_person_day(setl.psn_no, setl.setl_date, PersonDay(visits=day.visits + (mark,)))
        if zlib.crc32(setl.setl_id.encode("ascii")) % PRUNE_EVERY == 0:  # reads skip old days anyway: prune lazily
            view.prune_person_days(setl.psn_no, dates.add_days(setl.setl_date, -audit_rules.LOOKBACK_DAYS_MAX),
                                   PRUNE_DAYS_PER_SETTLEMENT_MAX)
    day_no = amount_sketch.day_number(setl.setl_date)
    amounts: dict[str, list[int]] = {code: [] for code in sampled(setl.setl_id, items[:SKETCH_ITEMS_MAX])}
    for line in setl.lines:
        if line.med_list_codg in amounts:
            amounts[line.med_list_codg].append(line.det_item_fee_sumamt_fen)
    for code, item_amounts in amounts.items():
        view.add_to_sketch(SKETCH_ITEM, treated, code, day_no, item_amounts)
    view.add_to_sketch(SKETCH_VISIT, setl.fixmedins_code, setl.clr_type, day_no, (setl.medfee_sumamt_fen,))
    written = tuple(new_flag(view, setl, source=flags.SOURCE_RULE, rule=hit.rule, hit=hit, raised_by="rule",
                             when_ms=when_ms, date=setl.setl_date) for hit in flagged)
    view.add_stats(setl.setl_date, treated, insured, setl.fixmedins_code,
                   stats.add(stats.of_settlement(setl), stats.of_flags(f.rule_id for f in written)))
    return written


def record_reversal(view: WriteView, original: Settlement, reversal: Settlement) -> None:
    """What a reversal writes for supervision, in its own transaction: the visit leaves the person's day record,
    the day's statistics count it, and every deduction confirmed on the original is given back."""
    insured, treated = clearing.pair_of(original)
    if original.clr_type == codes.CLR_TYPE_OUTPATIENT:
        day = view.person_day(original.psn_no, original.setl_date)
        if day is not None:  # pruned when it is older than every rule looks back
            kept = tuple(v for v in day.visits if v.setl_id != original.setl_id)
            view.put_person_day(original.psn_no, original.setl_date, PersonDay(visits=kept))
    delta = stats.of_settlement(reversal)
    for flag_id in view.flag_ids_of_settlement(original.setl_id):
        flag = view.flag(flag_id)
        assert flag is not None
        if flag.deduct_fen and not flag.given_back_by:
            view.put_flag(msgspec.structs.replace(flag, given_back_by=reversal.setl_id), new=False)
            view.add_deduction(clearing.Deduction(
                flag_id=flag.flag_id, setl_id=original.setl_id, fixmedins_code=original.fixmedins_code,
                insuplc_admdvs=insured, mdtrtarea_admvs=treated, date=reversal.setl_date,
                amount_fen=-flag.deduct_fen, reversal_setl_id=reversal.setl_id))
            delta = stats.add(delta, stats.of_deduction(-flag.deduct_fen))
    view.add_stats(reversal.setl_date, treated, insured, original.fixmedins_code, delta)


def deducted_elsewhere_fen(view: View, flag: Flag) -> int:
    """Deductions confirmed (and not given back) on the same settlement by its other flags."""
    total = 0
    for flag_id in view.flag_ids_of_settlement(flag.setl_id):
        other = view.flag(flag_id)
        assert other is not None
        if other.flag_id != flag.flag_id and other.deduct_fen and not other.given_back_by:
            total += other.deduct_fen
    return total


def record_decision(view: WriteView, decided: Flag) -> None:
    """A decided flag, and its deduction into the clearing and the statistics of the day it is confirmed."""
    view.put_flag(decided, new=False)
    if decided.deduct_fen:
        view.add_deduction(clearing.Deduction(
            flag_id=decided.flag_id, setl_id=decided.setl_id, fixmedins_code=decided.fixmedins_code,
            insuplc_admdvs=decided.insuplc_admdvs, mdtrtarea_admvs=decided.mdtrtarea_admvs, date=decided.deduct_date,
            amount_fen=decided.deduct_fen))
        view.add_stats(decided.deduct_date, decided.mdtrtarea_admvs, decided.insuplc_admdvs, decided.fixmedins_code,
                       stats.of_deduction(decided.deduct_fen))
