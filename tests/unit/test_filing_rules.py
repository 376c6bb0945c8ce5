"""Filing (备案) and chronic-qualification rules, and the date helpers they use."""

from __future__ import annotations

import msgspec
import pytest

from medsettle.domain import dates, reasons
from medsettle.domain.filing_rules import (
    in_force,
    validate_filing,
    validate_qualification,
    validate_qualification_revoke,
    validate_revoke,
)
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import ChronicQualification, Filing, InsuredPlace

TODAY = "2024-03-01"

# Beijing (insured place) with national-default parameters: temporary filings 6 months, long-term lock 6 months.
BEIJING = InsuredPlace(
    insuplc_admdvs="110000",
    begndate="2020-01-01",
    open_med_types=("11", "13", "14", "21", "24"),
    open_dise_codes=("M03900", "M01600"),
)


def place(**changes) -> InsuredPlace:
    values = {name: getattr(BEIJING, name) for name in BEIJING.__struct_fields__}
    values.update(changes)
    return InsuredPlace(**values)


def filing(**changes) -> Filing:
    """An 'other temporary' filing by a Beijing (Chaoyang) employee for care in Guangzhou, starting today."""
    values = dict(
        trt_dcla_detl_sn="F0001",
        psn_no="P110105001",
        insutype="310",
        insuplc_admdvs="110105",
        mdtrtarea_admvs="440100",
        category="23",
        begndate=TODAY,
    )
    values.update(changes)
    return Filing(**values)


def validate(f: Filing, today: str = TODAY, at: InsuredPlace = BEIJING, existing=(), stay: str | None = None) -> Filing:
    return validate_filing(f, today, at, existing=existing, open_stay_begndate=stay)


def refused(f: Filing, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as info:
        validate(f, **kwargs)
    return info.value


# --- dates ----------------------------------------------------------------------------------------


def test_is_date():
    assert dates.is_date("2024-02-29")
    assert not dates.is_date("2023-02-29")
    assert not dates.is_date("2024-02-30")
    assert not dates.is_date("20240301")
    assert not dates.is_date("2024-3-1")
    assert not dates.is_date("2024-03-01T00:00")
    assert not dates.is_date("")


def test_add_months_clamps_to_month_end():
    assert dates.add_months("2024-01-31", 1) == "2024-02-29"
    assert dates.add_months("2023-01-31", 1) == "2023-02-28"
    assert dates.add_months("2024-08-31", 6) == "2025-02-28"
    assert dates.add_months("2024-03-01", 12) == "2025-03-01"
    assert dates.add_months("2024-02-29", 12) == "2025-02-28"
    assert dates.add_months("2024-12-15", 1) == "2025-01-15"
    assert dates.add_months("2024-01-15", -1) == "2023-12-15"


def test_period_end():
    assert dates.period_end("2024-03-01", 6) == "2024-08-31"
    assert dates.period_end("2024-01-15", 6) == "2024-07-14"
    # the day "2025-02-31" does not exist: the period runs to the end of February, never shorter than 6 months
    assert dates.period_end("2024-08-31", 6) == "2025-02-28"
    assert dates.period_end("2024-08-28", 6) == "2025-02-27"


def test_age_on():
    assert dates.age_on("1960-06-15", "2024-06-14") == 63
    assert dates.age_on("1960-06-15", "2024-06-15") == 64
    assert dates.age_on("2000-02-29", "2023-02-28") == 22
    assert dates.age_on("2000-02-29", "2023-03-01") == 23
    assert dates.age_on("2024-03-01", "2024-03-01") == 0


# --- validity by category -------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["11", "12", "13"])
def test_long_term_filing_is_indefinite(category):
    stored = validate(filing(category=category, enddate="2024-12-31"))
    assert stored.enddate == ""
    assert stored.created_date == TODAY
    assert stored.begndate == TODAY


@pytest.mark.parametrize("category", ["22", "23"])
def test_temporary_filing_defaults_to_six_months(category):
    stored = validate(filing(category=category))
    assert stored.enddate == "2024-08-31"  # begin + 6 months - 1 day


def test_referral_filing_defaults_to_six_months():
    stored = validate(filing(category="21", reflin_medins_no="H44010600001", fixmedins_code="H11010500001"))
    assert stored.enddate == "2024-08-31"
    assert stored.reflin_medins_no == "H44010600001"


@pytest.mark.parametrize("category", ["21", "22", "23"])
def test_temporary_filing_shorter_than_six_months_refused(category):
    refusal = refused(filing(category=category, reflin_medins_no="H44010600001", enddate="2024-08-30"))
    assert refusal.reason is reasons.INVALID_ARGUMENT
    assert refusal.field == "enddate"
    assert "at least 6 months" in refusal.detail
    assert "2024-08-31" in refusal.detail


def test_temporary_filing_longer_end_kept():
    assert validate(filing(enddate="2024-08-31")).enddate == "2024-08-31"
    assert validate(filing(enddate="2025-02-28")).enddate == "2025-02-28"


def test_temporary_filing_at_month_end_never_shorter_than_six_months():
    assert validate(filing(begndate="2024-08-31"), today="2024-08-31").enddate == "2025-02-28"


def test_place_with_twelve_month_temporary_filings():
    twelve = place(tmp_filing_months=12)
    assert validate(filing(), at=twelve).enddate == "2025-02-28"
    refusal = refused(filing(enddate="2024-12-31"), at=twelve)
    assert refusal.field == "enddate"
    assert "at least 12 months" in refusal.detail


def test_place_below_national_floor_treated_as_six_months():
    assert validate(filing(), at=place(tmp_filing_months=3)).enddate == "2024-08-31"
    assert refused(filing(enddate="2024-06-30"), at=place(tmp_filing_months=3)).field == "enddate"


# --- dates of a new filing ------------------------------------------------------------------------


def test_begndate_in_the_past_without_a_stay_refused():
    refusal = refused(filing(begndate="2024-02-20"))
    assert refusal.reason is reasons.INVALID_ARGUMENT
    assert refusal.field == "begndate"
    assert "retroactive" in refusal.detail


def test_retroactive_filing_back_to_admission_date_with_open_stay():
    stored = validate(filing(category="23", begndate="2024-02-20"), stay="2024-02-20")
    assert stored.begndate == "2024-02-20"
    assert stored.enddate == "2024-08-19"
    assert stored.created_date == TODAY
    # a later begndate is also fine
    assert validate(filing(begndate="2024-02-25"), stay="2024-02-20").begndate == "2024-02-25"


def test_retroactive_filing_not_before_admission_date():
    refusal = refused(filing(begndate="2024-02-19"), stay="2024-02-20")
    assert refusal.field == "begndate"
    assert "2024-02-20" in refusal.detail


def test_begndate_at_most_one_year_ahead():
    assert validate(filing(begndate="2025-03-01")).begndate == "2025-03-01"
    refusal = refused(filing(begndate="2025-03-02"))
    assert refusal.reason is reasons.INVALID_ARGUMENT
    assert refusal.field == "begndate"
    assert "12 months ahead" in refusal.detail


def test_end_before_begin_refused():
    refusal = refused(filing(begndate="2024-04-01", enddate="2024-03-31"))
    assert refusal.reason is reasons.INVALID_ARGUMENT
    assert refusal.field == "enddate"


@pytest.mark.parametrize(("field", "value"), [("begndate", "2024-02-30"), ("begndate", "20240301"),
                                              ("enddate", "2024/12/31")])
def test_malformed_dates_refused(field, value):
    refusal = refused(filing(**{field: value}))
    assert refusal.reason is reasons.INVALID_ARGUMENT
    assert refusal.field == field


# --- other fields ---------------------------------------------------------------------------------


def test_unknown_category_and_insutype_refused():
    assert refused(filing(category="31")).field == "category"
    refusal = refused(filing(insutype="999"))
    assert (refusal.reason, refusal.field) == (reasons.INVALID_ARGUMENT, "insutype")


@pytest.mark.parametrize(("field", "value"), [("insuplc_admdvs", "990105"), ("insuplc_admdvs", "11010"),
                                              ("mdtrtarea_admvs", "990100"), ("mdtrtarea_admvs", "44010A")])
def test_unknown_region_refused(field, value):
    refusal = refused(filing(**{field: value}))
    assert refusal.reason is reasons.UNKNOWN_REGION
    assert refusal.field == field


def test_filed_region_must_be_province_or_city():
    assert validate(filing(mdtrtarea_admvs="440000")).mdtrtarea_admvs == "440000"
    refusal = refused(filing(mdtrtarea_admvs="440106"))  # a district
    assert (refusal.reason, refusal.field) == (reasons.INVALID_ARGUMENT, "mdtrtarea_admvs")


def test_filing_within_the_insured_province_refused():
    refusal = refused(filing(mdtrtarea_admvs="110100"))
    assert refusal.reason is reasons.NOT_CROSS_PROVINCE
    assert refusal.field == "mdtrtarea_admvs"


def test_referral_needs_receiving_institution():
    refusal = refused(filing(category="21"))
    assert (refusal.reason, refusal.field) == (reasons.INVALID_ARGUMENT, "reflin_medins_no")


def test_new_filing_cannot_be_revoked_already():
    assert refused(filing(revoked_date=TODAY)).field == "revoked_date"


def test_independent_problems_reported_together():
    refusal = refused(filing(category="21", insutype="999", mdtrtarea_admvs="990100", begndate="2024-13-01"))
    assert [(r.reason.code, r.field) for r in refusal.all] == [
        ("INVALID_ARGUMENT", "insutype"),
        ("UNKNOWN_REGION", "mdtrtarea_admvs"),
        ("INVALID_ARGUMENT", "begndate"),
        ("INVALID_ARGUMENT", "reflin_medins_no"),
    ]


# --- overlap --------------------------------------------------------------------------------------

LONG_TERM_SHENZHEN = Filing(
    trt_dcla_detl_sn="F0000", psn_no="P110105001", insutype="310", insuplc_admdvs="110105",
    mdtrtarea_admvs="440300", category="11", begndate="2023-01-01", created_date="2023-01-01",
)


def test_second_active_long_term_filing_conflicts():
    refusal = refused(filing(category="12"), existing=[LONG_TERM_SHENZHEN])
    assert refusal.reason is reasons.FILING_CONFLICT
    assert "revoke F0000" in refusal.detail
    assert "locked" not in refusal.detail


def test_conflict_names_the_lock_when_the_existing_filing_is_still_locked():
    recent = msgspec.structs.replace(LONG_TERM_SHENZHEN, begndate="2024-01-01")
    refusal = refused(filing(category="13"), existing=[recent])
    assert refusal.reason is reasons.FILING_CONFLICT
    assert "locked until 2024-07-01" in refusal.detail


def test_long_term_filing_after_revocation_allowed():
    revoked = msgspec.structs.replace(LONG_TERM_SHENZHEN, revoked_date="2024-02-01")
    assert validate(filing(category="11"), existing=[revoked]).category == "11"


def test_long_term_filing_for_another_insutype_allowed():
    assert validate(filing(category="11", insutype="390"), existing=[LONG_TERM_SHENZHEN]).insutype == "390"


def test_temporary_filings_coexist_with_long_term_and_each_other():
    other = validate(filing(trt_dcla_detl_sn="F0002"))
    stored = validate(filing(trt_dcla_detl_sn="F0003", category="22"), existing=[LONG_TERM_SHENZHEN, other])
    assert stored.category == "22"


# --- revocation and lock --------------------------------------------------------------------------

LONG_TERM_GUANGZHOU = Filing(
    trt_dcla_detl_sn="F0100", psn_no="P110105001", insutype="310", insuplc_admdvs="110105",
    mdtrtarea_admvs="440100", category="12", begndate="2024-03-01", created_date="2024-03-01",
)


def test_long_term_filing_locked_for_six_months():
    with pytest.raises(Refusal) as info:
        validate_revoke(LONG_TERM_GUANGZHOU, "2024-08-31", BEIJING)
    assert info.value.reason is reasons.FILING_LOCKED
    assert "2024-09-01" in info.value.detail


def test_long_term_filing_revocable_after_lock():
    revoked = validate_revoke(LONG_TERM_GUANGZHOU, "2024-09-01", BEIJING)
    assert revoked.revoked_date == "2024-09-01"
    assert revoked.trt_dcla_detl_sn == "F0100"


def test_lock_period_is_a_place_parameter_capped_at_six_months():
    assert validate_revoke(LONG_TERM_GUANGZHOU, "2024-06-01", place(longterm_lock_months=3)).revoked_date
    with pytest.raises(Refusal):
        validate_revoke(LONG_TERM_GUANGZHOU, "2024-05-31", place(longterm_lock_months=3))
    # 12 months is beyond the national ceiling: treated as 6
    assert validate_revoke(LONG_TERM_GUANGZHOU, "2024-09-01", place(longterm_lock_months=12)).revoked_date
    assert validate_revoke(LONG_TERM_GUANGZHOU, "2024-03-01", place(longterm_lock_months=0)).revoked_date


def test_temporary_filing_revocable_anytime():
    stored = validate(filing())
    assert validate_revoke(stored, TODAY, BEIJING).revoked_date == TODAY
    assert validate_revoke(stored, "2024-03-02", BEIJING).revoked_date == "2024-03-02"


def test_revoking_twice_refused():
    revoked = validate_revoke(validate(filing()), TODAY, BEIJING)
    with pytest.raises(Refusal) as info:
        validate_revoke(revoked, "2024-03-05", BEIJING)
    assert info.value.reason is reasons.INVALID_ARGUMENT
    assert "already revoked" in info.value.detail


def test_filing_in_force():
    stored = validate(filing())  # 2024-03-01 .. 2024-08-31
    assert not in_force(stored, "2024-02-29")
    assert in_force(stored, "2024-03-01")
    assert in_force(stored, "2024-08-31")
    assert not in_force(stored, "2024-09-01")
    revoked = validate_revoke(stored, "2024-05-01", BEIJING)
    assert in_force(revoked, "2024-04-30")
    assert not in_force(revoked, "2024-05-01")
    assert in_force(LONG_TERM_GUANGZHOU, "2099-12-31")


# --- chronic qualifications -----------------------------------------------------------------------


def qualification(**changes) -> ChronicQualification:
    values = dict(psn_no="P110105001", insutype="310", opsp_dise_code="M03900", insuplc_admdvs="110105",
                  begndate="2024-01-01")
    values.update(changes)
    return ChronicQualification(**values)


def test_qualification_accepted():
    q = qualification(enddate="2024-12-31")
    assert validate_qualification(q, TODAY, ()) == q


@pytest.mark.parametrize("code", ["", "M0390", "M039000", "m03900", "003900", "M039A0"])
def test_qualification_disease_code_shape(code):
    with pytest.raises(Refusal) as info:
        validate_qualification(qualification(opsp_dise_code=code), TODAY, ())
    assert (info.value.reason, info.value.field) == (reasons.INVALID_ARGUMENT, "opsp_dise_code")


def test_qualification_bad_input():
    with pytest.raises(Refusal) as info:
        validate_qualification(qualification(enddate="2023-12-31"), TODAY, ())
    assert info.value.field == "enddate"
    with pytest.raises(Refusal) as info:
        validate_qualification(qualification(insuplc_admdvs="990000"), TODAY, ())
    assert info.value.reason is reasons.UNKNOWN_REGION
    with pytest.raises(Refusal) as info:
        validate_qualification(qualification(begndate="2024-02-30"), TODAY, ())
    assert info.value.field == "begndate"


def test_qualification_overlap_conflicts():
    held = qualification(begndate="2023-01-01")
    with pytest.raises(Refusal) as info:
        validate_qualification(qualification(begndate="2024-06-01"), TODAY, (held,))
    assert info.value.reason is reasons.QUALIFICATION_CONFLICT
    # other disease, ended before, or revoked: no conflict
    assert validate_qualification(qualification(opsp_dise_code="M01600"), TODAY, (held,))
    ended = qualification(begndate="2023-01-01", enddate="2023-12-31")
    assert validate_qualification(qualification(begndate="2024-01-01"), TODAY, (ended,))
    revoked = validate_qualification_revoke(held, "2024-02-01")
    assert validate_qualification(qualification(), TODAY, (revoked,))


def test_qualification_revoke():
    q = qualification()
    revoked = validate_qualification_revoke(q, TODAY)
    assert revoked.revoked_date == TODAY
    assert in_force(q, "2024-03-01")
    assert not in_force(revoked, "2024-03-01")
    assert in_force(revoked, "2024-02-29")
    with pytest.raises(Refusal) as info:
        validate_qualification_revoke(revoked, "2024-03-02")
    assert info.value.reason is reasons.INVALID_ARGUMENT
