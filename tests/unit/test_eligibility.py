"""Benefit check (2001): a Beijing (Chaoyang, 110105) insured person treated in Guangzhou (Tianhe, 440106)."""

from __future__ import annotations

import msgspec
import pytest

from medsettle.domain import reasons
from medsettle.domain.eligibility import BenefitAnswer, BenefitQuery, check_benefit
from medsettle.domain.records import ChronicQualification, Filing, Institution, InsuranceLine, InsuredPlace, Person

DATE = "2024-06-15"

PERSON = Person(
    psn_no="P110105001",
    psn_name="张三",
    gend="1",
    brdy="1958-04-02",
    certno="110105195804020012",
    card_activated=True,
    insu_lines=(InsuranceLine(insutype="310", psn_type="12", psn_insu_stas="1", insuplc_admdvs="110105"),),
)

HOSPITAL = Institution(
    fixmedins_code="H44010600001",
    fixmedins_name="广州某三甲医院",
    admdvs="440106",
    hosp_lv="3",
)

BEIJING = InsuredPlace(
    insuplc_admdvs="110000",
    begndate="2020-01-01",
    open_med_types=("11", "13", "14", "21", "24"),
    open_dise_codes=("M03900", "M01600", "M00503", "M07803", "M07804", "M08300"),
)


def filing(sn: str = "F0001", **changes) -> Filing:
    """An 'other temporary' filing for Guangzhou city, in force on DATE."""
    values = dict(
        trt_dcla_detl_sn=sn,
        psn_no="P110105001",
        insutype="310",
        insuplc_admdvs="110105",
        mdtrtarea_admvs="440100",
        category="23",
        begndate="2024-06-01",
        enddate="2024-11-30",
        created_date="2024-06-01",
    )
    values.update(changes)
    return Filing(**values)


LONG_TERM_GUANGDONG = filing("F0100", mdtrtarea_admvs="440000", category="11", begndate="2023-01-01", enddate="")


def query(**changes) -> BenefitQuery:
    values = dict(
        person=PERSON,
        insutype="310",
        institution=HOSPITAL,
        med_type="11",
        date=DATE,
        filings=(filing(),),
        insured_place=BEIJING,
        policy_found=True,
        cert_type="01",
    )
    values.update(changes)
    return BenefitQuery(**values)


def codes_of(answer: BenefitAnswer) -> list[str]:
    return [reason.code for reason in answer.reasons]


def person(**changes) -> Person:
    return msgspec.structs.replace(PERSON, **changes)


def hospital(**changes) -> Institution:
    return msgspec.structs.replace(HOSPITAL, **changes)


def line(**changes) -> InsuranceLine:
    return msgspec.structs.replace(PERSON.insu_lines[0], **changes)


# --- the happy paths ------------------------------------------------------------------------------


def test_temporary_city_filing_ok():
    answer = check_benefit(query())
    assert answer == BenefitAnswer(ok=True, filing_category="23", trt_dcla_detl_sn="F0001", insuplc_admdvs="110105")


def test_province_level_filing_covers_any_city_of_it():
    for admdvs in ("440106", "440305", "445302"):  # Guangzhou Tianhe, Shenzhen Nanshan, Yunfu
        answer = check_benefit(query(institution=hospital(admdvs=admdvs), filings=(LONG_TERM_GUANGDONG,)))
        assert answer.ok, admdvs
        assert (answer.filing_category, answer.trt_dcla_detl_sn) == ("11", "F0100")


def test_long_term_preferred_over_temporary():
    answer = check_benefit(query(filings=(filing(), LONG_TERM_GUANGDONG)))
    assert (answer.filing_category, answer.trt_dcla_detl_sn) == ("11", "F0100")


def test_temporary_with_smallest_reduction_preferred():
    referral = filing("F0002", category="21", reflin_medins_no="H44010600001")
    emergency = filing("F0003", category="22")
    assert check_benefit(query(filings=(filing(), referral))).trt_dcla_detl_sn == "F0002"
    assert check_benefit(query(filings=(filing(), referral, emergency))).trt_dcla_detl_sn == "F0003"


def test_filing_of_another_insutype_does_not_count():
    answer = check_benefit(query(filings=(filing(insutype="390"),)))
    assert codes_of(answer) == ["NO_FILING"]


# --- emergency is deemed filed --------------------------------------------------------------------


@pytest.mark.parametrize("med_type", ["13", "24"])
def test_emergency_deemed_filed(med_type):
    answer = check_benefit(query(med_type=med_type, filings=()))
    assert answer.ok
    assert (answer.filing_category, answer.trt_dcla_detl_sn) == ("22", "")


@pytest.mark.parametrize("med_type", ["13", "24"])
def test_emergency_uses_a_covering_long_term_filing(med_type):
    answer = check_benefit(query(med_type=med_type, filings=(LONG_TERM_GUANGDONG,)))
    assert (answer.ok, answer.filing_category, answer.trt_dcla_detl_sn) == (True, "11", "F0100")


def test_emergency_uses_an_emergency_filing_but_not_a_larger_reduction():
    emergency = filing("F0003", category="22")
    answer = check_benefit(query(med_type="13", filings=(filing(), emergency)))
    assert (answer.filing_category, answer.trt_dcla_detl_sn) == ("22", "F0003")
    answer = check_benefit(query(med_type="13", filings=(filing(),)))  # only 'other temporary' (up to 20 points)
    assert (answer.ok, answer.filing_category, answer.trt_dcla_detl_sn) == (True, "22", "")


def test_emergency_deemed_filed_even_with_a_filing_for_another_region():
    answer = check_benefit(query(med_type="24", filings=(filing(mdtrtarea_admvs="310000"),)))
    assert (answer.ok, answer.filing_category) == (True, "22")


# --- filing problems ------------------------------------------------------------------------------


def test_no_filing():
    answer = check_benefit(query(filings=()))
    assert answer.reasons == (reasons.NO_FILING,)
    assert answer.reasons[0].remedy == reasons.REMEDY_FILE_ONLINE
    assert not answer.ok
    assert (answer.filing_category, answer.trt_dcla_detl_sn) == ("", "")


def test_city_filing_for_another_city_of_the_same_province():
    answer = check_benefit(query(filings=(filing(mdtrtarea_admvs="440300"),)))  # Shenzhen, treated in Guangzhou
    assert codes_of(answer) == ["FILING_OTHER_REGION"]


def test_filing_for_another_province():
    answer = check_benefit(query(filings=(filing(mdtrtarea_admvs="310000"),)))  # Shanghai
    assert codes_of(answer) == ["FILING_OTHER_REGION"]


def test_expired_temporary_filing():
    expired = filing(begndate="2023-11-01", enddate="2024-04-30")
    answer = check_benefit(query(filings=(expired,)))
    assert codes_of(answer) == ["FILING_EXPIRED"]


def test_revoked_or_future_filing_is_no_filing():
    assert codes_of(check_benefit(query(filings=(filing(revoked_date="2024-06-10"),)))) == ["NO_FILING"]
    assert codes_of(check_benefit(query(filings=(filing(begndate="2024-07-01", enddate="2024-12-31"),)))) == [
        "NO_FILING"]
    # revoked after the visit date: still in force on it
    assert check_benefit(query(filings=(filing(revoked_date="2024-06-16"),))).ok


def test_referral_to_another_institution():
    referral = filing("F0002", category="21", reflin_medins_no="H44010400007")
    answer = check_benefit(query(filings=(referral,)))
    assert codes_of(answer) == ["FILING_OTHER_INSTITUTION"]
    # naming this institution, it counts
    answer = check_benefit(query(filings=(msgspec.structs.replace(referral, reflin_medins_no="H44010600001"),)))
    assert (answer.ok, answer.filing_category, answer.trt_dcla_detl_sn) == (True, "21", "F0002")
    # another covering filing is used instead
    answer = check_benefit(query(filings=(referral, filing("F0004"))))
    assert (answer.ok, answer.trt_dcla_detl_sn) == (True, "F0004")


@pytest.mark.parametrize(
    ("filings", "code"),
    [((), "NO_FILING"),
     ((filing(enddate="2024-06-14", begndate="2023-12-15"),), "FILING_EXPIRED"),
     ((filing(mdtrtarea_admvs="310000"),), "FILING_OTHER_REGION")],
)
def test_open_stay_remedy_is_file_before_discharge(filings, code):
    answer = check_benefit(query(med_type="21", filings=filings, admission_date=DATE))
    assert codes_of(answer) == [code]
    assert answer.reasons[0].remedy == reasons.REMEDY_FILE_BEFORE_DISCHARGE
    assert answer.reasons[0].zh == getattr(reasons, code).zh
    # the shared Reason constant is untouched
    assert getattr(reasons, code).remedy == reasons.REMEDY_FILE_ONLINE
    closed = check_benefit(query(med_type="21", filings=filings))
    assert closed.reasons[0].remedy == reasons.REMEDY_FILE_ONLINE


# --- the person -----------------------------------------------------------------------------------


def test_person_not_found_only():
    answer = check_benefit(query(person=None, institution=None, insured_place=None, policy_found=False, filings=()))
    assert answer == BenefitAnswer(ok=False, reasons=(reasons.PERSON_NOT_FOUND,))


def test_suspended_person():
    answer = check_benefit(query(person=person(insu_lines=(line(psn_insu_stas="2"),))))
    assert codes_of(answer) == ["INSU_STATUS_ABNORMAL"]
    assert answer.insuplc_admdvs == "110105"


def test_insutype_not_held():
    answer = check_benefit(query(insutype="390", insured_place=None, policy_found=False))
    assert codes_of(answer) == ["INSUTYPE_NOT_HELD"]
    assert answer.insuplc_admdvs == ""


def test_card_not_activated_with_card_but_ok_with_e_voucher():
    inactive = person(card_activated=False)
    answer = check_benefit(query(person=inactive, cert_type="03"))
    assert codes_of(answer) == ["CARD_NOT_ACTIVATED"]
    assert answer.reasons[0].remedy == reasons.REMEDY_USE_EVOUCHER
    assert check_benefit(query(person=inactive, cert_type="01")).ok
    assert check_benefit(query(person=PERSON, cert_type="03")).ok


# --- the institution ------------------------------------------------------------------------------


def test_institution_not_found():
    answer = check_benefit(query(institution=None))
    assert codes_of(answer) == ["INSTITUTION_NOT_FOUND"]


def test_not_cross_province():
    beijing_hospital = hospital(fixmedins_code="H11010800001", admdvs="110108")
    answer = check_benefit(query(institution=beijing_hospital, filings=()))
    assert codes_of(answer) == ["NOT_CROSS_PROVINCE"]


@pytest.mark.parametrize(
    ("med_type", "flag"),
    [("11", "networked_outpatient"), ("13", "networked_outpatient"), ("14", "networked_chronic"),
     ("21", "networked_inpatient"), ("24", "networked_inpatient")],
)
def test_institution_not_networked(med_type, flag):
    qualified = (ChronicQualification(psn_no="P110105001", insutype="310", opsp_dise_code="M03900",
                                      insuplc_admdvs="110105", begndate="2024-01-01"),)
    base = query(med_type=med_type, dise_codg="M03900", qualifications=qualified)
    assert check_benefit(base).ok
    answer = check_benefit(msgspec.structs.replace(base, institution=hospital(**{flag: False})))
    assert codes_of(answer) == ["INSTITUTION_NOT_NETWORKED"]


def test_networked_flags_are_per_medical_type():
    outpatient_only = hospital(networked_inpatient=False, networked_chronic=False)
    assert check_benefit(query(institution=outpatient_only, med_type="11")).ok
    assert codes_of(check_benefit(query(institution=outpatient_only, med_type="21"))) == ["INSTITUTION_NOT_NETWORKED"]


def test_institution_outside_its_validity_not_networked():
    answer = check_benefit(query(institution=hospital(enddate="2024-06-14")))
    assert codes_of(answer) == ["INSTITUTION_NOT_NETWORKED"]


# --- the insured place ----------------------------------------------------------------------------


def test_med_type_not_open():
    outpatient_closed = msgspec.structs.replace(BEIJING, open_med_types=("21", "24"))
    assert codes_of(check_benefit(query(insured_place=outpatient_closed))) == ["MED_TYPE_NOT_OPEN"]
    assert check_benefit(query(insured_place=outpatient_closed, med_type="21")).ok
    assert codes_of(check_benefit(query(insured_place=None))) == ["MED_TYPE_NOT_OPEN"]


def test_unknown_med_type_not_open():
    assert codes_of(check_benefit(query(med_type="99"))) == ["INSTITUTION_NOT_NETWORKED", "MED_TYPE_NOT_OPEN"]


HYPERTENSION = ChronicQualification(psn_no="P110105001", insutype="310", opsp_dise_code="M03900",
                                    insuplc_admdvs="110105", begndate="2024-01-01", enddate="2024-12-31")


def test_chronic_qualified():
    answer = check_benefit(query(med_type="14", dise_codg="M03900", qualifications=(HYPERTENSION,)))
    assert answer.ok


def test_chronic_not_qualified():
    for qualifications in [
        (),
        (msgspec.structs.replace(HYPERTENSION, opsp_dise_code="M01600"),),  # another disease
        (msgspec.structs.replace(HYPERTENSION, insutype="390"),),  # another insutype
        (msgspec.structs.replace(HYPERTENSION, enddate="2024-06-14"),),  # ended
        (msgspec.structs.replace(HYPERTENSION, revoked_date="2024-06-01"),),  # revoked
    ]:
        answer = check_benefit(query(med_type="14", dise_codg="M03900", qualifications=qualifications))
        assert codes_of(answer) == ["CHRONIC_NOT_QUALIFIED"], qualifications
        assert answer.reasons[0].remedy == reasons.REMEDY_CONTACT_INSURED_PLACE


def test_disease_not_open():
    only_dialysis = msgspec.structs.replace(BEIJING, open_dise_codes=("M07803", "M07804"))
    answer = check_benefit(query(med_type="14", dise_codg="M03900", qualifications=(HYPERTENSION,),
                                 insured_place=only_dialysis))
    assert codes_of(answer) == ["DISEASE_NOT_OPEN"]


def test_no_policy():
    answer = check_benefit(query(policy_found=False))
    assert codes_of(answer) == ["NO_POLICY"]
    assert answer.filing_category == "23"


# --- many reasons at once -------------------------------------------------------------------------


def test_suspended_and_no_filing_both_listed():
    answer = check_benefit(query(person=person(insu_lines=(line(psn_insu_stas="9"),)), filings=()))
    assert codes_of(answer) == ["INSU_STATUS_ABNORMAL", "NO_FILING"]


def test_every_reason_in_stable_order():
    answer = check_benefit(query(
        person=person(card_activated=False, insu_lines=(line(psn_insu_stas="2"),)),
        cert_type="03",
        institution=hospital(networked_chronic=False),
        med_type="14",
        dise_codg="M09999",
        insured_place=msgspec.structs.replace(BEIJING, open_med_types=("21",)),
        filings=(filing(mdtrtarea_admvs="440300"),),
        policy_found=False,
    ))
    assert not answer.ok
    assert codes_of(answer) == [
        "INSU_STATUS_ABNORMAL",
        "CARD_NOT_ACTIVATED",
        "INSTITUTION_NOT_NETWORKED",
        "MED_TYPE_NOT_OPEN",
        "DISEASE_NOT_OPEN",
        "CHRONIC_NOT_QUALIFIED",
        "FILING_OTHER_REGION",
        "NO_POLICY",
    ]


def test_insutype_not_held_skips_what_needs_the_insured_region():
    answer = check_benefit(query(insutype="390", insured_place=None, policy_found=False, cert_type="03",
                                 person=person(card_activated=False), institution=None))
    assert codes_of(answer) == ["INSUTYPE_NOT_HELD", "CARD_NOT_ACTIVATED", "INSTITUTION_NOT_FOUND"]


def test_a_stay_admitted_within_a_temporary_filing_settles_after_the_filing_ends():
    """Any visit within the validity settles directly (DOMAIN.md 4): a stay admitted on 2024-11-25 under a filing
    ending 2024-11-30 is such a visit, and its discharge settlement on 2024-12-05 uses that filing."""
    ends_soon = filing("F0300")
    stay = query(med_type="21", date="2024-12-05", filings=(ends_soon,), admission_date="2024-11-25")
    answer = check_benefit(stay)
    assert answer.ok and answer.trt_dcla_detl_sn == "F0300" and answer.filing_category == "23"
    # An outpatient visit after the end, or a stay admitted after it, is outside the validity.
    assert codes_of(check_benefit(query(date="2024-12-05", filings=(ends_soon,)))) == ["FILING_EXPIRED"]
    late = query(med_type="21", date="2024-12-05", filings=(ends_soon,), admission_date="2024-12-01")
    assert codes_of(check_benefit(late)) == ["FILING_EXPIRED"]
    # A filing revoked during the stay no longer covers it.
    revoked = filing("F0300", revoked_date="2024-11-28")
    stay_revoked = query(med_type="21", date="2024-12-05", filings=(revoked,), admission_date="2024-11-25")
    assert not check_benefit(stay_revoked).ok
