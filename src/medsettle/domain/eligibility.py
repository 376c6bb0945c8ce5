"""Benefit check (待遇检查, 2001): may this person settle this visit directly, and under which filing?

`check_benefit` is a pure function of everything looked up for the visit. It lists EVERY reason that applies, in a
stable order (the order of the checks below), so that a refusal says at once all that is missing (DOMAIN.md 4, 5):

1. person: PERSON_NOT_FOUND (then nothing else), INSUTYPE_NOT_HELD, INSU_STATUS_ABNORMAL,
   CARD_NOT_ACTIVATED (card "03" only; an e-voucher "01" works with a card not yet activated);
2. institution: INSTITUTION_NOT_FOUND, NOT_CROSS_PROVINCE, INSTITUTION_NOT_NETWORKED (for this med_type, or outside
   the institution's begndate/enddate);
3. insured place: MED_TYPE_NOT_OPEN; chronic outpatient (14): DISEASE_NOT_OPEN, CHRONIC_NOT_QUALIFIED;
4. filing: FILING_OTHER_INSTITUTION, FILING_OTHER_REGION, FILING_EXPIRED or NO_FILING (at most one of them);
5. policy: NO_POLICY.
Checks that need the insurance line (insured region) are skipped when it is missing; the filing check is skipped
when the visit is not cross-province (there is nothing to file for).

Filing choice. A filing counts when it is for this insutype, in force on the visit date (for a stay: on the
settlement date or on the admission date), its region (province or
city) covers the institution's region, and, for a referral, it names this institution as the receiving one. Among
those: long-term first (no reduction), then temporary by smallest reduction (22 emergency, 21 referral, 23 other).
Emergency visits (13, 24) are deemed filed (视同已备案) as category "22" with no `trt_dcla_detl_sn`; a counting
long-term or emergency filing still takes precedence, while a deemed emergency takes precedence over a referral or
other temporary filing, whose reduction may be larger.

Long-term filers also enjoy benefits back home (双向享受待遇); the core settles cross-province visits only, so
nothing here depends on it.

Remedies: the filing reasons carry "file online now"; for an open inpatient stay (`admission_date` given)
they say "file before discharge" instead (补办备案: the stay then settles directly).
"""

from __future__ import annotations

import msgspec

from medsettle.domain import codes, reasons, region
from medsettle.domain.filing_rules import in_force
from medsettle.domain.reasons import Reason
from medsettle.domain.records import (
    OPEN_END,
    ChronicQualification,
    Filing,
    Institution,
    InsuredPlace,
    Person,
    in_period,
)


class BenefitQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the benefit check reads, looked up by the caller in one snapshot."""

    person: Person | None
    insutype: str
    institution: Institution | None
    med_type: str
    date: str  # visit (settlement) date YYYY-MM-DD
    dise_codg: str = ""  # chronic (14): the disease treated
    filings: tuple[Filing, ...] = ()  # all of the person's filings
    qualifications: tuple[ChronicQualification, ...] = ()  # all of the person's chronic qualifications
    insured_place: InsuredPlace | None = None  # parameters of the insured province in force at `date`
    policy_found: bool = False  # a policy row exists for this person/category/level at `date`
    cert_type: str = ""  # mdtrt_cert_type used: "03" card needs card_activated; "01" e-voucher does not
    # Inpatient: the admission date of the open stay ("" when there is none). A filing in force that day covers the
    # whole stay, and while the stay is open a filing can still be made before discharge.
    admission_date: str = ""


class BenefitAnswer(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    reasons: tuple[Reason, ...] = ()
    filing_category: str = ""  # category used; "22" when an emergency is deemed filed
    trt_dcla_detl_sn: str = ""  # filing used; "" when deemed filed or none
    insuplc_admdvs: str = ""  # insured region of the insurance line


# Preference among counting filings: lower ranks first. Long-term carries no reduction; among temporary filings
# the national reduction ceilings are 10 points for emergency and referral and 20 for other temporary.
_RANK = {"11": 0, "12": 0, "13": 0, "22": 1, "21": 2, "23": 3}

# What `_choose_filing` can answer: only warnings at admission, since a filing can still be made before discharge.
FILING_REASON_CODES = frozenset({
    reasons.NO_FILING.code, reasons.FILING_EXPIRED.code, reasons.FILING_OTHER_REGION.code,
    reasons.FILING_OTHER_INSTITUTION.code,
})


def _networked(institution: Institution, med_type: str) -> bool:
    if med_type in codes.INPATIENT_MED_TYPES:
        return institution.networked_inpatient
    if med_type == codes.MED_TYPE_CHRONIC_OUTPATIENT:
        return institution.networked_chronic
    if med_type in codes.OUTPATIENT_MED_TYPES:
        return institution.networked_outpatient
    return False  # an unknown medical type is networked nowhere (and reported as not open)


def _in_force_for_visit(filing: Filing, req: BenefitQuery) -> bool:
    """In force on the settlement date or, for a stay, on its admission date: a stay admitted within a filing's
    validity is a visit within the validity (DOMAIN.md 4) and settles directly even when the filing's period ends
    before discharge. A revoked filing covers nothing it has not already settled."""
    if in_force(filing, req.date):
        return True
    return bool(req.admission_date) and not filing.revoked_date and in_force(filing, req.admission_date)


def _choose_filing(req: BenefitQuery, institution: Institution) -> tuple[Filing | None, Reason | None]:
    """The counting filing to use, or the filing reason when none counts (emergency handled by the caller)."""
    in_force = [f for f in req.filings if f.insutype == req.insutype and _in_force_for_visit(f, req)]
    covering = [f for f in in_force if region.covers(f.mdtrtarea_admvs, institution.admdvs)]
    counting = [
        f for f in covering
        if f.category != codes.FILING_REFERRAL or f.reflin_medins_no == institution.fixmedins_code
    ]
    if counting:
        best = min(counting, key=lambda f: (_RANK.get(f.category, 9), f.category, f.begndate, f.trt_dcla_detl_sn))
        return best, None
    if covering:  # only referral filings to another receiving institution
        return None, reasons.FILING_OTHER_INSTITUTION
    if in_force:
        return None, reasons.FILING_OTHER_REGION
    expired = any(
        f.insutype == req.insutype
        and not f.revoked_date
        and f.enddate != OPEN_END
        and f.enddate < req.date
        and region.covers(f.mdtrtarea_admvs, institution.admdvs)
        for f in req.filings
    )
    if expired:
        return None, reasons.FILING_EXPIRED
    return None, reasons.NO_FILING


def check_benefit(req: BenefitQuery) -> BenefitAnswer:
    """May this person settle this visit directly (DOMAIN.md 4, 5)? Lists every reason that applies."""
    person = req.person
    if person is None:
        return BenefitAnswer(ok=False, reasons=(reasons.PERSON_NOT_FOUND,))

    found: list[Reason] = []
    line = person.line(req.insutype)
    if line is None:
        found.append(reasons.INSUTYPE_NOT_HELD)
    elif line.psn_insu_stas != codes.INSU_STATUS_NORMAL:
        found.append(reasons.INSU_STATUS_ABNORMAL)
    if req.cert_type == codes.CERT_SOCIAL_CARD and not person.card_activated:
        found.append(reasons.CARD_NOT_ACTIVATED)

    institution = req.institution
    cross_province = False
    if institution is None:
        found.append(reasons.INSTITUTION_NOT_FOUND)
    else:
        if line is not None:
            cross_province = region.is_cross_province(line.insuplc_admdvs, institution.admdvs)
            if not cross_province:
                found.append(reasons.NOT_CROSS_PROVINCE)
        if not _networked(institution, req.med_type) or not in_period(
            institution.begndate, institution.enddate, req.date
        ):
            found.append(reasons.INSTITUTION_NOT_NETWORKED)

    place = req.insured_place
    if line is not None:
        if place is None or req.med_type not in codes.MED_TYPES or req.med_type not in place.open_med_types:
            found.append(reasons.MED_TYPE_NOT_OPEN)
        if req.med_type == codes.MED_TYPE_CHRONIC_OUTPATIENT:
            if place is not None and req.dise_codg not in place.open_dise_codes:
                found.append(reasons.DISEASE_NOT_OPEN)
            qualified = any(
                q.insutype == req.insutype
                and q.opsp_dise_code == req.dise_codg
                and in_force(q, req.date)
                for q in req.qualifications
            )
            if not qualified:
                found.append(reasons.CHRONIC_NOT_QUALIFIED)

    filing_category = ""
    trt_dcla_detl_sn = ""
    if line is not None and institution is not None and cross_province:
        chosen, missing = _choose_filing(req, institution)
        emergency = req.med_type in codes.EMERGENCY_MED_TYPES
        # Deemed filed (视同已备案) ranks right after a real emergency filing (which has a trt_dcla_detl_sn)
        # and before a referral or other temporary filing, whose reduction may be larger.
        if emergency and (chosen is None or _RANK[chosen.category] > _RANK[codes.FILING_EMERGENCY]):
            filing_category = codes.FILING_EMERGENCY
        elif chosen is not None:
            filing_category = chosen.category
            trt_dcla_detl_sn = chosen.trt_dcla_detl_sn
        else:
            assert missing is not None and missing.code in FILING_REASON_CODES
            if req.admission_date:
                missing = msgspec.structs.replace(missing, remedy=reasons.REMEDY_FILE_BEFORE_DISCHARGE)
            found.append(missing)

    if line is not None and not req.policy_found:
        found.append(reasons.NO_POLICY)

    return BenefitAnswer(
        ok=not found,
        reasons=tuple(found),
        filing_category=filing_category,
        trt_dcla_detl_sn=trt_dcla_detl_sn,
        insuplc_admdvs=line.insuplc_admdvs if line is not None else "",
    )
