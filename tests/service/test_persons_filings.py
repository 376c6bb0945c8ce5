"""PersonService and FilingService through a real in-process server (issue: filing and eligibility)."""

from __future__ import annotations

import grpc
import pytest

from medsettle.v1 import filing_pb2, filing_pb2_grpc, person_pb2, person_pb2_grpc
from tests.conftest import rpc_error_info


@pytest.fixture
def stubs(world, served):
    return (person_pb2_grpc.PersonServiceStub(served.channel), filing_pb2_grpc.FilingServiceStub(served.channel),
            served)


def refused(served, call):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        served.run(call)
    return caught.value


def benefit(persons, served, psn_no, fixmedins_code, med_type="11", **kwargs):
    return served.run(persons.CheckBenefit(person_pb2.CheckBenefitRequest(
        person=person_pb2.PersonRef(psn_no=psn_no), fixmedins_code=fixmedins_code, med_type=med_type, **kwargs)))


def codes_of(answer):
    return [r.code for r in answer.reasons]


def test_get_person_by_psn_no_and_by_each_credential(stubs, world):
    persons, _, served = stubs
    for ref in (person_pb2.PersonRef(psn_no="P001"),
                person_pb2.PersonRef(mdtrt_cert_type="01", mdtrt_cert_no="EV001"),
                person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no="110105196005011234"),
                person_pb2.PersonRef(mdtrt_cert_type="03", mdtrt_cert_no="C001", card_sn="SN001")):
        answer = served.run(persons.GetPerson(person_pb2.GetPersonRequest(person=ref)))
        assert answer.baseinfo.psn_no == "P001"
        assert answer.baseinfo.insuinfo[0].balc == 100_000
        assert [f.trt_dcla_detl_sn for f in answer.filings] == ["F001"]
        assert [q.opsp_dise_code for q in answer.qualifications] == ["M03900"]
    error = refused(served, persons.GetPerson(person_pb2.GetPersonRequest(
        person=person_pb2.PersonRef(mdtrt_cert_type="03", mdtrt_cert_no="C001", card_sn="WRONG"))))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = refused(served, persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="NOPE"))))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert rpc_error_info(error)[0] == ["PERSON_NOT_FOUND"]


def test_check_benefit_ok_with_long_term_filing(stubs, world):
    persons, _, served = stubs
    answer = benefit(persons, served, "P001", world.GZ_HOSPITAL)
    assert answer.ok and answer.filing_category == "12" and answer.trt_dcla_detl_sn == "F001"


def test_check_benefit_refusals(stubs, world):
    persons, _, served = stubs
    # suspended person
    assert "INSU_STATUS_ABNORMAL" in codes_of(benefit(persons, served, "P003", world.GZ_HOSPITAL))
    # institution not networked for general outpatient, but networked for inpatient
    assert codes_of(benefit(persons, served, "P001", world.SZ_HOSPITAL)) == ["INSTITUTION_NOT_NETWORKED"]
    assert benefit(persons, served, "P001", world.SZ_HOSPITAL, med_type="21").ok
    # filing for another province
    assert codes_of(benefit(persons, served, "P001", world.SH_HOSPITAL)) == ["FILING_OTHER_REGION"]
    # city filing (Guangzhou) used in Shenzhen: another city of the same province
    assert "FILING_OTHER_REGION" in codes_of(benefit(persons, served, "P002", world.SZ_HOSPITAL, med_type="21"))
    # expired filing
    assert codes_of(benefit(persons, served, "P005", world.GZ_HOSPITAL)) == ["FILING_EXPIRED"]
    # not cross-province
    assert codes_of(benefit(persons, served, "P001", world.BJ_HOSPITAL)) == ["NOT_CROSS_PROVINCE"]
    # chronic: qualified for M03900 (open) but not for M01600 (open), and M00503 not open at all
    assert benefit(persons, served, "P001", world.GZ_HOSPITAL, med_type="14", dise_codg="M03900").ok
    assert codes_of(benefit(persons, served, "P001", world.GZ_HOSPITAL, med_type="14", dise_codg="M01600")) == [
        "CHRONIC_NOT_QUALIFIED"]
    assert "DISEASE_NOT_OPEN" in codes_of(benefit(persons, served, "P001", world.GZ_HOSPITAL, med_type="14",
                                                  dise_codg="M00503"))
    # emergency is deemed filed even with only an expired filing
    answer = benefit(persons, served, "P005", world.GZ_HOSPITAL, med_type="13")
    assert answer.ok and answer.filing_category == "22"


def test_card_not_activated_but_e_voucher_works(stubs, world):
    persons, _, served = stubs
    card = served.run(persons.CheckBenefit(person_pb2.CheckBenefitRequest(
        person=person_pb2.PersonRef(mdtrt_cert_type="03", mdtrt_cert_no="C004", card_sn="SN004"),
        fixmedins_code=world.GZ_HOSPITAL, med_type="11")))
    assert codes_of(card) == ["CARD_NOT_ACTIVATED"]
    assert card.reasons[0].remedy == "USE_E_VOUCHER" and card.reasons[0].message_zh
    voucher = served.run(persons.CheckBenefit(person_pb2.CheckBenefitRequest(
        person=person_pb2.PersonRef(mdtrt_cert_type="01", mdtrt_cert_no="EV004"),
        fixmedins_code=world.GZ_HOSPITAL, med_type="11")))
    assert voucher.ok


def test_filing_lifecycle_idempotent_and_locked(stubs, world, clock):
    persons, filings, served = stubs
    request = filing_pb2.CreateFilingRequest(request_id="bj-0001", psn_no="P005", mdtrtarea_admvs="310000",
                                             category="23")
    first = served.run(filings.CreateFiling(request))
    assert first.filing.begndate == "2026-03-02" and first.filing.enddate == "2026-09-01"
    assert first.filing.insuplc_admdvs == "110105"
    again = served.run(filings.CreateFiling(request))
    assert again.SerializeToString() == first.SerializeToString()  # a retry gets the original answer
    changed = filing_pb2.CreateFilingRequest(request_id="bj-0001", psn_no="P005", mdtrtarea_admvs="440000",
                                             category="23")
    error = refused(served, filings.CreateFiling(changed))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert rpc_error_info(error)[0] == ["REQUEST_ID_REUSED"]
    assert benefit(persons, served, "P005", world.SH_HOSPITAL).ok

    # a second long-term filing conflicts with P001's; revoking P001's inside the lock period is refused
    error = refused(served, filings.CreateFiling(filing_pb2.CreateFilingRequest(
        request_id="bj-0002", psn_no="P001", mdtrtarea_admvs="310000", category="12")))
    assert rpc_error_info(error)[0] == ["FILING_CONFLICT"]
    clock.advance_days(-300)  # 2025-05-06: before F001 even began
    served.run(filings.CreateFiling(filing_pb2.CreateFilingRequest(
        request_id="bj-0003", psn_no="P002", mdtrtarea_admvs="310000", category="21",
        reflin_medins_no=world.SH_HOSPITAL)))
    clock.advance_days(300)
    listed = served.run(filings.ListFilings(filing_pb2.ListFilingsRequest(psn_no="P002")))
    assert sorted(f.category for f in listed.filings) == ["21", "23"]


def test_long_term_lock_period(stubs, world, clock):
    _, filings, served = stubs
    clock.advance_days(-250)  # 2025-06-25: F001 (from 2025-06-01) is locked for 6 months
    error = refused(served, filings.RevokeFiling(filing_pb2.RevokeFilingRequest(
        request_id="r1", psn_no="P001", trt_dcla_detl_sn="F001")))
    assert rpc_error_info(error)[0] == ["FILING_LOCKED"]
    clock.advance_days(250)
    revoked = served.run(filings.RevokeFiling(filing_pb2.RevokeFilingRequest(
        request_id="r2", psn_no="P001", trt_dcla_detl_sn="F001")))
    assert revoked.filing.revoked_date == "2026-03-02"


def test_bad_filing_input_is_refused_with_fields_and_writes_nothing(stubs, world, store):
    _, filings, served = stubs
    before = store.counts()
    cases = [
        (dict(mdtrtarea_admvs="999999", category="23"), "UNKNOWN_REGION", "mdtrtarea_admvs"),
        (dict(mdtrtarea_admvs="310000", category="23", begndate="2026-05-01", enddate="2026-04-01"),
         "INVALID_ARGUMENT", "enddate"),
        (dict(mdtrtarea_admvs="310000", category="21"), "INVALID_ARGUMENT", "reflin_medins_no"),
        (dict(mdtrtarea_admvs="310000", category="99"), "INVALID_ARGUMENT", "category"),
        (dict(mdtrtarea_admvs="310000", category="23", begndate="2026-02-01"), "INVALID_ARGUMENT", "begndate"),
        (dict(mdtrtarea_admvs="310000", category="23", begndate="2026-13-01"), "INVALID_ARGUMENT", "begndate"),
        (dict(mdtrtarea_admvs="110100", category="23"), "NOT_CROSS_PROVINCE", "mdtrtarea_admvs"),
    ]
    for n, (fields, reason, field) in enumerate(cases):
        error = refused(served, filings.CreateFiling(filing_pb2.CreateFilingRequest(
            request_id=f"bad-{n}", psn_no="P005", **fields)))
        codes, metadata, violations = rpc_error_info(error)
        assert codes[0] == reason, (fields, codes)
        assert metadata["field"] == field and field in violations
        assert "|" in error.details()  # Chinese | English
    assert store.counts() == before


def test_referral_filing_by_referring_hospital_and_revoke(stubs, world):
    persons, filings, served = stubs
    made = served.run(filings.CreateReferralFiling(filing_pb2.CreateReferralFilingRequest(
        request_id="ref-1", fixmedins_code=world.BJ_REFERRING, psn_no="P005", reflin_medins_no=world.SH_HOSPITAL)))
    assert made.filing.category == "21" and made.filing.mdtrtarea_admvs == "310100"
    assert benefit(persons, served, "P005", world.SH_HOSPITAL).filing_category == "21"
    error = refused(served, filings.RevokeReferralFiling(filing_pb2.RevokeReferralFilingRequest(
        request_id="ref-2", fixmedins_code=world.GZ_HOSPITAL, psn_no="P005",
        trt_dcla_detl_sn=made.filing.trt_dcla_detl_sn)))
    assert rpc_error_info(error)[0] == ["FILING_NOT_FOUND"]  # only the referring hospital revokes its referral
    served.run(filings.RevokeReferralFiling(filing_pb2.RevokeReferralFilingRequest(
        request_id="ref-3", fixmedins_code=world.BJ_REFERRING, psn_no="P005",
        trt_dcla_detl_sn=made.filing.trt_dcla_detl_sn)))
    assert codes_of(benefit(persons, served, "P005", world.SH_HOSPITAL)) == ["NO_FILING"]


def test_chronic_qualification_create_list_revoke(stubs, world):
    persons, filings, served = stubs
    served.run(filings.CreateChronicQualification(filing_pb2.CreateChronicQualificationRequest(
        request_id="q1", psn_no="P001", opsp_dise_code="M01600")))
    assert benefit(persons, served, "P001", world.GZ_HOSPITAL, med_type="14", dise_codg="M01600").ok
    listed = served.run(filings.ListChronicQualifications(filing_pb2.ListChronicQualificationsRequest(psn_no="P001")))
    assert sorted(q.opsp_dise_code for q in listed.qualifications) == ["M01600", "M03900"]
    served.run(filings.RevokeChronicQualification(filing_pb2.RevokeChronicQualificationRequest(
        request_id="q2", psn_no="P001", opsp_dise_code="M01600")))
    assert codes_of(benefit(persons, served, "P001", world.GZ_HOSPITAL, med_type="14", dise_codg="M01600")) == [
        "CHRONIC_NOT_QUALIFIED"]
