"""Rules for filings (备案, 2501/2502) and chronic-disease qualifications (门诊慢特病认定, 2503/2504).

Pure functions: each takes the new record, today's date and the parameters of the insured place, and returns
the record to store or raises `reasons.Refusal` (one reason, further independent field problems in `more`).
Looking records up (FILING_NOT_FOUND, QUALIFICATION_NOT_FOUND, whether `reflin_medins_no` is a real institution
of the filed region) is the caller's job.

Validity (DOMAIN.md 4; the numbers are insured-place parameters within national bounds):
- long-term filings (11 relocated retiree, 12 long-term resident, 13 stationed worker) are indefinite: the stored
  `enddate` is always "". The insured place may lock one against change or revocation for
  `longterm_lock_months` from its `begndate`, at most 6 months (a larger parameter is treated as 6).
- temporary filings (21 referral, 22 emergency, 23 other) last at least `tmp_filing_months`, never less than the
  national floor of 6 months (a smaller parameter is treated as 6). Without an `enddate` one is filled in: the last
  day of that many months from `begndate` (see `dates.period_end`); an explicit shorter `enddate` is refused.
- `begndate` is today or later, at most 12 months ahead. Retroactive filing (补办备案): when the person has an open
  inpatient stay in the filed region, `begndate` may go back to the admission date of that stay, not earlier, so
  the stay settles directly at discharge (filings are checked at settlement, not at admission).

Overlap: at most one active long-term filing per person and insutype. Active means not revoked and not ended before
the new filing's `begndate` (long-term filings never end, so in practice: not revoked). A new long-term filing while
one is active is refused with FILING_CONFLICT, naming the `trt_dcla_detl_sn` to revoke first (2502) and, if that one
is still locked, until when. Temporary filings may coexist with each other and with a long-term filing; at
settlement the long-term one is preferred (see `eligibility`).

Long-term filers also enjoy benefits back home (双向享受待遇); that needs no filing rule here.

Chronic qualifications: one record per person, insutype and disease (`opsp_dise_code`, e.g. M03900); two
unrevoked qualifications of the same disease must not overlap in time (QUALIFICATION_CONFLICT).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from medsettle.domain import codes, dates, reasons, region
from medsettle.domain.reasons import Refusal, shown
from medsettle.domain.records import OPEN_END, ChronicQualification, Filing, InsuredPlace, in_period

TMP_FILING_MONTHS_MIN = 6  # national floor of a temporary filing's validity
LONGTERM_LOCK_MONTHS_MAX = 6  # national ceiling of the lock on a long-term filing
FILING_AHEAD_MONTHS_MAX = 12  # a filing may start at most this far after today

_DISE_CODE_RE = re.compile(r"[A-Z][0-9]{5}")


def tmp_filing_months(place: InsuredPlace) -> int:
    """Validity of a temporary filing at `place`, never below the national floor."""
    return max(place.tmp_filing_months, TMP_FILING_MONTHS_MIN)


def longterm_lock_months(place: InsuredPlace) -> int:
    """Lock period of a long-term filing at `place`, never above the national ceiling."""
    return min(max(place.longterm_lock_months, 0), LONGTERM_LOCK_MONTHS_MAX)


def lock_end(filing: Filing, place: InsuredPlace) -> str:
    """First day a long-term filing may be changed or revoked; "" (before every date) when the place sets no lock.

    A lock of 0 months forbids nothing: a filing made to begin later can be revoked before it begins.
    """
    months = longterm_lock_months(place)
    return dates.add_months(filing.begndate, months) if months > 0 else ""


def in_force(record: Filing | ChronicQualification, date: str) -> bool:
    """A filing or a chronic qualification in force on `date`: begun, not ended, not revoked on or before `date`."""
    if record.revoked_date and record.revoked_date <= date:
        return False
    return in_period(record.begndate, record.enddate, date)


def _raise_all(problems: list[Refusal]) -> None:
    if problems:
        raise Refusal.of_all(problems)


def _check_dates(problems: list[Refusal], begndate: str, enddate: str) -> None:
    if not dates.is_date(begndate):
        problems.append(Refusal.invalid("begndate", f"begndate {shown(begndate)} is not a date YYYY-MM-DD"))
    if enddate != OPEN_END and not dates.is_date(enddate):
        problems.append(Refusal.invalid("enddate", f"enddate {shown(enddate)} is not a date YYYY-MM-DD (or empty)"))


def validate_filing(
    filing: Filing,
    today: str,
    place: InsuredPlace,
    *,
    existing: Sequence[Filing],
    open_stay_begndate: str | None,
) -> Filing:
    """Check a new filing (2501) and return it as it is to be stored (enddate and created_date filled in).

    `place`: parameters of the filing's insured province in force today. `existing`: the person's stored filings.
    `open_stay_begndate`: admission date of the person's open inpatient stay in the filed region, if any.
    """
    assert dates.is_date(today), today
    assert open_stay_begndate is None or dates.is_date(open_stay_begndate), open_stay_begndate

    # 1. Shape of each field, independently of the others.
    problems: list[Refusal] = []
    if filing.category not in codes.FILING_CATEGORIES:
        problems.append(Refusal.invalid("category", f"filing category {shown(filing.category)} is not one of "
                                             f"{', '.join(sorted(codes.FILING_CATEGORIES))}"))
    if filing.insutype not in codes.INSUTYPES:
        problems.append(Refusal.invalid("insutype", f"insutype {shown(filing.insutype)} is not one of "
                                             f"{', '.join(sorted(codes.INSUTYPES))}"))
    for field in ("insuplc_admdvs", "mdtrtarea_admvs"):
        code = getattr(filing, field)
        if not region.is_known(code):
            problems.append(Refusal(reasons.UNKNOWN_REGION, field=field,
                                    detail=f"{field} {shown(code)} is not a known region"))
    if region.is_known(filing.mdtrtarea_admvs) and not filing.mdtrtarea_admvs.endswith("00"):
        problems.append(Refusal.invalid("mdtrtarea_admvs", f"a filing names a province (xx0000) or a city (xxxx00), "
                                                    f"not {shown(filing.mdtrtarea_admvs)}"))
    _check_dates(problems, filing.begndate, filing.enddate)
    if filing.category == codes.FILING_REFERRAL and not filing.reflin_medins_no:
        problems.append(Refusal.invalid("reflin_medins_no", "a referral filing names the receiving institution"))
    if filing.revoked_date:
        problems.append(Refusal.invalid("revoked_date", "a new filing cannot already be revoked"))
    _raise_all(problems)

    # 2. Relations between fields and with today.
    assert region.province_of(place.insuplc_admdvs) == region.province_of(filing.insuplc_admdvs), (
        place.insuplc_admdvs, filing.insuplc_admdvs)
    if not region.is_cross_province(filing.insuplc_admdvs, filing.mdtrtarea_admvs):
        problems.append(Refusal(reasons.NOT_CROSS_PROVINCE, field="mdtrtarea_admvs",
                                detail=f"{filing.mdtrtarea_admvs} is in the insured province "
                                       f"{region.province_of(filing.insuplc_admdvs)}"))
    if filing.enddate != OPEN_END and filing.enddate < filing.begndate:
        problems.append(Refusal.invalid("enddate", f"enddate {filing.enddate} is before begndate {filing.begndate}"))
    if filing.begndate < today:
        if open_stay_begndate is None:
            problems.append(Refusal.invalid("begndate", f"begndate {filing.begndate} is before today {today}; only a person "
                                                 "with an open inpatient stay may file retroactively"))
        elif filing.begndate < open_stay_begndate:
            problems.append(Refusal.invalid("begndate", f"a retroactive filing may begin on the admission date "
                                                 f"{open_stay_begndate} of the open stay, not earlier "
                                                 f"({filing.begndate})"))
    ahead_max = dates.add_months(today, FILING_AHEAD_MONTHS_MAX)
    if filing.begndate > ahead_max:
        problems.append(Refusal.invalid("begndate", f"begndate {filing.begndate} is more than {FILING_AHEAD_MONTHS_MAX} "
                                             f"months ahead (latest {ahead_max})"))
    _raise_all(problems)

    # 3. Validity.
    if filing.category in codes.LONG_TERM_FILINGS:
        enddate = OPEN_END  # long-term filings are indefinite
    else:
        months = tmp_filing_months(place)
        shortest = dates.period_end(filing.begndate, months)
        if filing.enddate == OPEN_END:
            enddate = shortest
        elif filing.enddate < shortest:
            raise Refusal.invalid("enddate", f"temporary filings last at least {months} months: from {filing.begndate} "
                                      f"until {shortest} or later, not {filing.enddate}")
        else:
            enddate = filing.enddate

    # 4. At most one active long-term filing per person and insutype.
    if filing.category in codes.LONG_TERM_FILINGS:
        for other in existing:
            if (
                other.trt_dcla_detl_sn != filing.trt_dcla_detl_sn  # the same record validated again
                and other.psn_no == filing.psn_no
                and other.insutype == filing.insutype
                and other.category in codes.LONG_TERM_FILINGS
                and not other.revoked_date
                and (other.enddate == OPEN_END or other.enddate >= filing.begndate)
            ):
                unlock = lock_end(other, place)
                when = f"; it is locked until {unlock}" if today < unlock else ""
                raise Refusal(reasons.FILING_CONFLICT, field="category",
                              detail=f"long-term filing {other.trt_dcla_detl_sn} for {other.mdtrtarea_admvs} is "
                                     f"active: revoke {other.trt_dcla_detl_sn} first{when}")

    return msgspec.structs.replace(filing, enddate=enddate, created_date=filing.created_date or today)


def validate_revoke(filing: Filing, today: str, place: InsuredPlace) -> Filing:
    """Check the revocation (2502) of a stored filing and return it revoked as of today.

    Long-term filings are locked for `longterm_lock_months` (at most 6) from their begndate;
    temporary filings can be revoked at any time.
    """
    assert dates.is_date(today), today
    if filing.revoked_date:
        raise Refusal.invalid("trt_dcla_detl_sn", f"filing {filing.trt_dcla_detl_sn} was already revoked on "
                                           f"{filing.revoked_date}")
    if filing.category in codes.LONG_TERM_FILINGS:
        unlock = lock_end(filing, place)
        if today < unlock:
            raise Refusal(reasons.FILING_LOCKED, field="trt_dcla_detl_sn",
                          detail=f"long-term filing {filing.trt_dcla_detl_sn} can be changed or revoked from {unlock}")
    return msgspec.structs.replace(filing, revoked_date=today)


def validate_qualification(
    qualification: ChronicQualification, today: str, existing: Sequence[ChronicQualification]
) -> ChronicQualification:
    """Check a new chronic-disease qualification (2503) and return it as it is to be stored.

    `existing`: the person's stored qualifications.
    """
    assert dates.is_date(today), today
    q = qualification
    problems: list[Refusal] = []
    if not q.psn_no:
        problems.append(Refusal.invalid("psn_no", "psn_no is required"))
    if not _DISE_CODE_RE.fullmatch(q.opsp_dise_code):
        problems.append(Refusal.invalid("opsp_dise_code", f"disease code {shown(q.opsp_dise_code)} is not a letter and five "
                                                   "digits like M03900"))
    if q.insutype not in codes.INSUTYPES:
        problems.append(Refusal.invalid("insutype", f"insutype {shown(q.insutype)} is not one of "
                                             f"{', '.join(sorted(codes.INSUTYPES))}"))
    if not region.is_known(q.insuplc_admdvs):
        problems.append(Refusal(reasons.UNKNOWN_REGION, field="insuplc_admdvs",
                                detail=f"insuplc_admdvs {shown(q.insuplc_admdvs)} is not a known region"))
    _check_dates(problems, q.begndate, q.enddate)
    if q.revoked_date:
        problems.append(Refusal.invalid("revoked_date", "a new qualification cannot already be revoked"))
    _raise_all(problems)

    if q.enddate != OPEN_END and q.enddate < q.begndate:
        problems.append(Refusal.invalid("enddate", f"enddate {q.enddate} is before begndate {q.begndate}"))
    ahead_max = dates.add_months(today, FILING_AHEAD_MONTHS_MAX)
    if q.begndate > ahead_max:
        problems.append(Refusal.invalid("begndate", f"begndate {q.begndate} is more than {FILING_AHEAD_MONTHS_MAX} months "
                                             f"ahead (latest {ahead_max})"))
    _raise_all(problems)

    for other in existing:
        if (
            other.psn_no == q.psn_no
            and other.insutype == q.insutype
            and other.opsp_dise_code == q.opsp_dise_code
            and not other.revoked_date
            and _overlaps(other.begndate, other.enddate, q.begndate, q.enddate)
        ):
            until = other.enddate or "open-ended"
            raise Refusal(reasons.QUALIFICATION_CONFLICT, field="opsp_dise_code",
                          detail=f"qualification for {q.opsp_dise_code} from {other.begndate} ({until}) overlaps; "
                                 "revoke it first")
    return q


def validate_qualification_revoke(qualification: ChronicQualification, today: str) -> ChronicQualification:
    """Check the revocation (2504) of a stored qualification and return it revoked as of today."""
    assert dates.is_date(today), today
    if qualification.revoked_date:
        raise Refusal.invalid("opsp_dise_code", f"qualification for {qualification.opsp_dise_code} was already revoked on "
                                         f"{qualification.revoked_date}")
    return msgspec.structs.replace(qualification, revoked_date=today)


def _overlaps(begin_a: str, end_a: str, begin_b: str, end_b: str) -> bool:
    """Do two inclusive date ranges overlap ("" = open end)?"""
    a_before_b = end_a != OPEN_END and end_a < begin_b
    b_before_a = end_b != OPEN_END and end_b < begin_a
    return not (a_before_b or b_before_a)
