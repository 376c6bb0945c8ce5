"""From a claim and one view of the store to a computed Settlement (ARCHITECTURE: steps 2 and 3).

`compute` runs on a read snapshot for pre-settlement and for the first attempt of a settlement, and
again inside the write transaction when the snapshot turns out stale (another settlement of the same
person committed in between), so two settlements never spend the same deductible or cap.
"""

from __future__ import annotations

import msgspec

from medsettle.domain import audit, catalog_split, codes, region
from medsettle.domain.adjudication import AdjudicationInput, adjudicate
from medsettle.domain.records import CatalogItem, Claim, FeeLine, Person, Settlement, Stay
from medsettle.service import lookups
from medsettle.store import supervision_book
from medsettle.store.rows import AccumulatorRow
from medsettle.store.view import View


class Computed(msgspec.Struct, frozen=True, kw_only=True):
    """A settlement and the state it was computed from, for the check at commit."""

    settlement: Settlement
    person: Person
    accumulator_row: AccumulatorRow
    lines: tuple[FeeLine, ...]  # the claim's lines as read
    flagged: tuple[audit.Hit, ...] = ()  # audit rules of severity FLAG it hits: flags written with it


def items_for(view: View, province: str, claim: Claim) -> dict[str, CatalogItem | None]:
    """The catalog version for each line's fee date (one look-up per distinct code and date)."""
    found: dict[tuple[str, str], CatalogItem | None] = {}
    items: dict[str, CatalogItem | None] = {}
    for line in claim.lines:
        day_key = (line.med_list_codg, line.fee_ocur_date)
        if day_key not in found:
            found[day_key] = view.catalog_item(province, line.med_list_codg, line.fee_ocur_date)
        items[line.feedetl_sn] = found[day_key]
    return items


def compute(view: View, claim: Claim, person: Person, cert_type: str, setl_time_ms: int,
            stay: Stay | None = None) -> Computed:
    """Check eligibility with the same function as 2001, adjudicate, then apply the audit rules in force (a BLOCK
    refuses, a FLAG is explained and carried to the commit). Raises Refusal."""
    institution = view.institution(claim.fixmedins_code)
    answer = lookups.benefit(view, person, claim.insutype, institution, claim.med_type, claim.setl_date,
                             claim.dise_codg, cert_type, admission_date=stay.begndate if stay is not None else "")
    if not answer.ok:
        raise lookups.refusal_of(answer)
    assert institution is not None
    line = person.line(claim.insutype)
    assert line is not None
    policy = view.policy(line.insuplc_admdvs, claim.insutype, codes.category_of(claim.med_type), line.psn_type,
                         institution.hosp_lv, claim.setl_date)
    assert policy is not None, "the benefit check found it"
    row = view.accumulator_row(person.psn_no, claim.insutype, int(claim.setl_date[:4]))
    items_by_sn = items_for(view, region.province_of(institution.admdvs), claim)
    # Daily quantity limits count what the person's earlier settlements charged on the same day. Every settlement
    # of the person bumps the accumulators' version, so `person_unchanged` covers these reads too.
    used_e4 = {(q.med_list_codg, q.fee_date): view.item_day_cnt_e4(person.psn_no, q.fee_date, q.med_list_codg)
               for q in catalog_split.limited_quantities(claim.lines, items_by_sn)}
    inputs = AdjudicationInput(
        claim=claim,
        person=person,
        institution=institution,
        items_by_sn=items_by_sn,
        policy=policy,
        filing_category=answer.filing_category,
        trt_dcla_detl_sn=answer.trt_dcla_detl_sn,
        accumulators=row.accumulators,
        acct_balc_fen=line.acct_balc_fen,
        setl_id="",  # given at commit, inside the write transaction
        mdtrt_id=stay.mdtrt_id if stay is not None else "",
        setl_time_ms=setl_time_ms,
        stay_admission_dedc_paid_fen=stay.admission_dedc_paid_fen if stay is not None else 0,
        stay_eligible_before_fen=stay.admission_eligible_fen if stay is not None else 0,
        stay_is_later_admission=stay is not None
        and row.accumulators.admissions_inpatient - (1 if stay.admission_counted else 0) > 0,
        first_settlement_of_stay=stay is None or not stay.admission_counted,
        cnt_used_today_e4=used_e4,
    )
    setl = adjudicate(inputs)
    flagged: tuple[audit.Hit, ...] = ()
    rule_set = supervision_book.rules_for(view, region.province_of(institution.admdvs),
                                          region.province_of(line.insuplc_admdvs), claim.setl_date)
    if rule_set.rules:
        hits = audit.evaluate(supervision_book.audit_input(view, rule_set, claim, setl, items_by_sn, stay))
        blocked = audit.refusal_of(hits, claim)
        if blocked is not None:
            raise blocked
        flagged = audit.flags_of(hits)
        setl = audit.explained(setl, flagged)
    return Computed(settlement=setl, person=person, accumulator_row=row, lines=claim.lines, flagged=flagged)


def person_unchanged(view: View, computed: Computed) -> bool:
    """The optimistic check at commit: the person and their year's accumulators are still as `computed` read them
    (any settlement or reversal of the person bumps the accumulators' version)."""
    setl = computed.settlement
    row = view.accumulator_row(setl.psn_no, setl.insutype, setl.accumulator_year)
    return row.version == computed.accumulator_row.version and view.person(setl.psn_no) == computed.person
