"""SettlementService end to end through a real in-process server, with hand-computed expectations.

World (tests/world.py): P001 is a Beijing employee in service with a long-term filing for Guangdong and
100,000 fen in the personal account; at a level-3 hospital his outpatient policy is deductible 180,000 fen a
year, 90%, cap 2,000,000; inpatient deductible 130,000 per admission (65,000 for later ones), 90%.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from medsettle.v1 import common_pb2, person_pb2, person_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from tests.conftest import business_counts, rpc_error_info


@pytest.fixture
def api(world, served):
    """Settlements as each hospital makes them; person look-ups as national operations."""
    return (settlement_pb2_grpc.SettlementServiceStub(served.as_gateway()),
            person_pb2_grpc.PersonServiceStub(served.channel))


def line(sn: str, code: str, cnt: str, pric: str, amount_fen: int, date: str = "2026-03-02") -> common_pb2.FeeLine:
    return common_pb2.FeeLine(feedetl_sn=sn, med_list_codg=code, cnt=cnt, pric=pric, det_item_fee_sumamt=amount_fen,
                              fee_ocur_time=date)


def claim(psn_no: str, fixmedins_code: str, lines, med_type: str = "11", acct: bool = False, dise: str = ""):
    return settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no=psn_no), fixmedins_code=fixmedins_code,
                                          med_type=med_type, fee_lines=lines, dise_codg=dise, acct_used_flag=acct,
                                          medfee_sumamt=sum(x.det_item_fee_sumamt for x in lines))


VISIT_1 = [
    line("1", "XA001", "2", "100.00", 20_000),  # class A
    line("2", "XB001", "1", "4.52", 452),  # class B 10%: 45 first, 407 in scope
    line("3", "XC001", "1", "30", 3_000),  # class C
    line("4", "S0001", "1", "80", 8_000),  # ceiling 50 yuan: 3,000 over
]
VISIT_2 = [line("1", "XA001", "10", "200", 200_000)]


def accumulators(persons, served, psn_no="P001"):
    return served.run(persons.GetAccumulators(person_pb2.GetAccumulatorsRequest(psn_no=psn_no))).accumulators


def settle(stub, served, request_id, c):
    return served.run(stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(request_id=request_id, claim=c)))


def refused(served, call):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        served.run(call)
    return caught.value


def test_outpatient_settle_deductible_across_visits_account_and_reversal(api, served, world):
    stub, persons = api
    first = settle(stub, served, "GZ-0001", claim("P001", world.GZ_HOSPITAL, VISIT_1, acct=True)).settlement
    assert (first.medfee_sumamt, first.fulamt_ownpay_amt, first.overlmt_selfpay, first.preselfpay_amt,
            first.inscp_scp_amt) == (31_452, 3_000, 3_000, 45, 25_407)
    assert (first.act_pay_dedc, first.hifp_pay, first.fund_pay_sumamt) == (25_407, 0, 0)
    assert (first.psn_part_amt, first.acct_pay, first.psn_cash_pay, first.balc) == (31_452, 31_452, 0, 68_548)
    assert first.filing_category == "12" and first.setl_id.startswith("S20260302")
    steps = [x.code for x in first.explanation]
    assert steps[:3] == ["CATALOG", "LINES", "POLICY"]
    assert {"DEDUCTIBLE_LEFT_BEFORE", "DEDUCTIBLE_PAID", "DEDUCTIBLE_LEFT_AFTER", "RATIO", "CAP_LEFT"} <= set(steps)
    assert all(x.text_zh and x.text_en for x in first.explanation)

    second = settle(stub, served, "GZ-0002", claim("P001", world.GZ_HOSPITAL, VISIT_2, acct=True)).settlement
    # deductible left 180,000 - 25,407 = 154,593; eligible 45,407; 90% = 40,866.3 -> 40,866
    assert (second.act_pay_dedc, second.hifp_pay, second.pool_prop_selfpay) == (154_593, 40_866, 9000)
    assert (second.psn_part_amt, second.acct_pay, second.psn_cash_pay, second.balc) == (159_134, 68_548, 90_586, 0)
    assert {(d.fund_pay_type, d.fund_payamt) for d in second.setldetail} >= {("310100", 40_866), ("310200", 68_548)}
    acc = accumulators(persons, served)
    assert (acc.dedc_outpatient, acc.hifp_outpatient, acc.hifp_overall, acc.visits_outpatient) == (180_000, 40_866,
                                                                                                    40_866, 2)

    reversal = served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="GZ-0003", fixmedins_code=world.GZ_HOSPITAL, setl_id=second.setl_id))).settlement
    assert (reversal.medfee_sumamt, reversal.hifp_pay, reversal.acct_pay, reversal.reversed_setl_id) == (
        -200_000, -40_866, -68_548, second.setl_id)
    assert reversal.balc == 68_548
    acc = accumulators(persons, served)
    assert (acc.dedc_outpatient, acc.hifp_outpatient, acc.visits_outpatient) == (25_407, 0, 1)
    again = refused(served, stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="GZ-0004", fixmedins_code=world.GZ_HOSPITAL, setl_id=second.setl_id)))
    assert rpc_error_info(again)[0] == ["ALREADY_REVERSED"]
    looked_up = served.run(stub.GetSettlement(settlement_pb2.GetSettlementRequest(
        fixmedins_code=world.GZ_HOSPITAL, setl_id=second.setl_id))).settlement
    assert looked_up.reversal_setl_id == reversal.setl_id
    person = served.run(persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P001"))))
    assert person.baseinfo.insuinfo[0].balc == 68_548


def test_pre_settle_equals_settle_and_commits_nothing(api, served, world, store):
    stub, _ = api
    before = business_counts(store)
    pre = served.run(stub.PreSettleOutpatient(settlement_pb2.PreSettleOutpatientRequest(
        claim=claim("P001", world.GZ_HOSPITAL, VISIT_1)))).settlement
    assert business_counts(store) == before
    real = settle(stub, served, "GZ-0101", claim("P001", world.GZ_HOSPITAL, VISIT_1)).settlement
    assert pre.setl_id == "" and real.setl_id
    pre.setl_id, pre.mdtrt_id = real.setl_id, real.mdtrt_id
    assert pre == real


def test_retry_returns_the_same_answer_and_reuse_is_refused(api, served, world):
    stub, persons = api
    request = settlement_pb2.SettleOutpatientRequest(request_id="GZ-0201", claim=claim("P001", world.GZ_HOSPITAL,
                                                                                        VISIT_1))
    first = served.run(stub.SettleOutpatient(request))
    again = served.run(stub.SettleOutpatient(request))
    assert again.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)
    assert accumulators(persons, served).visits_outpatient == 1  # counted once
    other = settlement_pb2.SettleOutpatientRequest(request_id="GZ-0201", claim=claim("P001", world.GZ_HOSPITAL,
                                                                                      VISIT_2))
    error = refused(served, stub.SettleOutpatient(other))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS and rpc_error_info(error)[0] == ["REQUEST_ID_REUSED"]


def test_retries_answer_byte_for_byte_after_the_settlement_was_reversed(api, served, world, store):
    """A settlement's answer is kept as a reference to the settlement record (not a second copy); the reversal later
    marks that record, and a retry must still get the answer as first given."""
    stub, _ = api
    gz = world.GZ_HOSPITAL
    settle_request = settlement_pb2.SettleOutpatientRequest(request_id="GZ-0401", claim=claim("P001", gz, VISIT_1))
    first = served.run(stub.SettleOutpatient(settle_request))
    reverse_request = settlement_pb2.ReverseSettlementRequest(request_id="GZ-0402", fixmedins_code=gz,
                                                              setl_id=first.settlement.setl_id)
    reversal = served.run(stub.ReverseSettlement(reverse_request))
    assert served.run(stub.SettleOutpatient(settle_request)).SerializeToString() == first.SerializeToString()
    assert served.run(stub.ReverseSettlement(reverse_request)).SerializeToString() == reversal.SerializeToString()
    with store.read() as view:
        assert view.settlement(first.settlement.setl_id).reversal_setl_id == reversal.settlement.setl_id
        record = view.request(gz, "GZ-0401")
        assert record.answer_is_settlement and record.response == b""

    admitted = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="GZ-0403", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=gz, med_type="21",
        begndate="2026-03-01")))
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="GZ-0404", fixmedins_code=gz, mdtrt_id=admitted.mdtrt_id,
        fee_lines=[line("0001", "XA001", "5", "1000", 500_000)])))
    inpatient_request = settlement_pb2.SettleInpatientRequest(request_id="GZ-0405", fixmedins_code=gz,
                                                              mdtrt_id=admitted.mdtrt_id)
    inpatient = served.run(stub.SettleInpatient(inpatient_request))
    undone = served.run(stub.ReverseByRequestId(settlement_pb2.ReverseByRequestIdRequest(
        request_id="GZ-0406", fixmedins_code=gz, original_request_id="GZ-0405")))
    assert undone.undone
    assert served.run(stub.SettleInpatient(inpatient_request)).SerializeToString() == inpatient.SerializeToString()


def test_chong_zheng_after_a_lost_answer_and_for_a_request_never_seen(api, served, world):
    stub, persons = api
    settle(stub, served, "GZ-0301", claim("P001", world.GZ_HOSPITAL, VISIT_2))  # the gateway never saw this answer
    undo = settlement_pb2.ReverseByRequestIdRequest(request_id="GZ-0302", fixmedins_code=world.GZ_HOSPITAL,
                                                    original_request_id="GZ-0301")
    answer = served.run(stub.ReverseByRequestId(undo))
    assert answer.undone and answer.original_method == "SettleOutpatient" and answer.reversal.medfee_sumamt == -200_000
    assert served.run(stub.ReverseByRequestId(undo)) == answer  # 冲正 is itself idempotent
    acc = accumulators(persons, served)
    assert (acc.dedc_outpatient, acc.visits_outpatient) == (0, 0)

    never = served.run(stub.ReverseByRequestId(settlement_pb2.ReverseByRequestIdRequest(
        request_id="GZ-0303", fixmedins_code=world.GZ_HOSPITAL, original_request_id="GZ-0304")))
    assert not never.undone
    late = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="GZ-0304", claim=claim("P001", world.GZ_HOSPITAL, VISIT_1))))
    assert rpc_error_info(late)[0] == ["REQUEST_ID_REUSED"]  # a voided id can never take effect later
    assert accumulators(persons, served).visits_outpatient == 0


def test_refusals_name_the_line_and_write_nothing(api, served, world, store):
    stub, _ = api
    before = business_counts(store)
    bad_lines = [line("1", "NOPE1", "1", "10", 1_000), line("2", "XA001", "3", "1.005", 302)]  # 3 x 1.005 = 3.015 -> 302
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="GZ-0401", claim=claim("P001", world.GZ_HOSPITAL, bad_lines))))
    codes, metadata, fields = rpc_error_info(error)
    assert codes == ["UNKNOWN_CATALOG_ITEM"] and metadata["feedetl_sn"] == "1"
    inconsistent = [line("1", "XA001", "3", "1.005", 301)]
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="GZ-0402", claim=claim("P001", world.GZ_HOSPITAL, inconsistent))))
    assert rpc_error_info(error)[0] == ["AMOUNT_INCONSISTENT"]
    wrong_total = claim("P001", world.GZ_HOSPITAL, VISIT_1)
    wrong_total.medfee_sumamt += 1
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(request_id="GZ-0403",
                                                                                       claim=wrong_total)))
    assert rpc_error_info(error)[0] == ["TOTAL_INCONSISTENT"]
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="GZ-0404", claim=claim("P003", world.GZ_HOSPITAL, VISIT_1))))
    assert rpc_error_info(error)[0] == ["INSU_STATUS_ABNORMAL"]  # the same reason CheckBenefit gives
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="GZ-0405", claim=claim("P001", world.GZ_HOSPITAL, [line("1", "XA001", "1.5", "2", 300)],
                                          med_type="14", dise="M01600"))))
    assert rpc_error_info(error)[0] == ["CHRONIC_NOT_QUALIFIED"]
    assert business_counts(store) == before


def test_chronic_outpatient_with_qualified_disease(api, served, world):
    stub, persons = api
    setl = settle(stub, served, "GZ-0501", claim("P001", world.GZ_HOSPITAL, [line("1", "XA001", "10", "100", 100_000)],
                                                 med_type="14", dise="M03900")).settlement
    # chronic deductible 0, 90%, disease cap 300,000
    assert (setl.act_pay_dedc, setl.hifp_pay) == (0, 90_000)
    acc = accumulators(persons, served)
    assert acc.hifp_chronic == 90_000 and dict(acc.hifp_by_disease) == {"M03900": 90_000}


def test_inpatient_flow_mid_stay_settlement_reversal_and_discharge(api, served, world, store):
    stub, persons = api
    gz = world.GZ_HOSPITAL
    admitted = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="IP-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=gz, med_type="21",
        begndate="2026-02-27")))
    mdtrt_id = admitted.mdtrt_id
    upload = settlement_pb2.UploadInpatientFeesRequest(request_id="IP-2", fixmedins_code=gz, mdtrt_id=mdtrt_id,
                                                      fee_lines=[line("0001", "XA001", "5", "1000", 500_000),
                                                                 line("0002", "XB001", "10", "4.52", 4_520),
                                                                 line("0003", "XF001", "1", "50", 5_000)])
    assert served.run(stub.UploadInpatientFees(upload)).lines_added == 3
    resent = settlement_pb2.UploadInpatientFeesRequest(request_id="IP-3", fixmedins_code=gz, mdtrt_id=mdtrt_id,
                                                      fee_lines=list(upload.fee_lines))
    assert served.run(stub.UploadInpatientFees(resent)).lines_already_held == 3  # not counted twice
    cancel_me = settlement_pb2.UploadInpatientFeesRequest(request_id="IP-4", fixmedins_code=gz, mdtrt_id=mdtrt_id,
                                                         fee_lines=[line("0009", "XA001", "1", "1", 100)])
    served.run(stub.UploadInpatientFees(cancel_me))
    assert served.run(stub.CancelInpatientFees(settlement_pb2.CancelInpatientFeesRequest(
        request_id="IP-5", fixmedins_code=gz, mdtrt_id=mdtrt_id, feedetl_sn=["0009"]))).stay_line_count == 3

    pre = served.run(stub.PreSettleInpatient(settlement_pb2.PreSettleInpatientRequest(fixmedins_code=gz,
                                                                                      mdtrt_id=mdtrt_id))).settlement
    first = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="IP-6", fixmedins_code=gz, mdtrt_id=mdtrt_id))).settlement
    # 509,520 = 500,000 A + 4,520 B (452 first) + 5,000 women-only item for a man (fully self-paid)
    assert (first.medfee_sumamt, first.fulamt_ownpay_amt, first.preselfpay_amt, first.inscp_scp_amt) == (
        509_520, 5_000, 452, 504_068)
    assert (first.act_pay_dedc, first.hifp_pay, first.psn_cash_pay) == (130_000, 336_661, 172_859)
    assert [x.lmt_reason for x in first.lines if x.feedetl_sn == "0003"] == ["LMT_SEX"]
    assert pre.hifp_pay == first.hifp_pay and first.clr_type == "21"

    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="IP-7", fixmedins_code=gz, mdtrt_id=mdtrt_id, fee_lines=[line("0004", "XA001", "1", "100", 10_000)])))
    second = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="IP-8", fixmedins_code=gz, mdtrt_id=mdtrt_id))).settlement
    assert (second.medfee_sumamt, second.act_pay_dedc, second.hifp_pay) == (10_000, 0, 9_000)  # newer lines only
    error = refused(served, stub.CancelInpatientFees(settlement_pb2.CancelInpatientFeesRequest(
        request_id="IP-9", fixmedins_code=gz, mdtrt_id=mdtrt_id, feedetl_sn=["0004"])))
    assert rpc_error_info(error)[1]["feedetl_sn"] == "0004"  # a settled line cannot be cancelled

    assert served.run(stub.Discharge(settlement_pb2.DischargeRequest(
        request_id="IP-10", fixmedins_code=gz, mdtrt_id=mdtrt_id))).unsettled_line_count == 0
    error = refused(served, stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="IP-11", fixmedins_code=gz, mdtrt_id=mdtrt_id)))
    assert rpc_error_info(error)[0] == ["STAY_NOT_OPEN"]

    served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="IP-12", fixmedins_code=gz, setl_id=second.setl_id)))
    again = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="IP-13", fixmedins_code=gz, mdtrt_id=mdtrt_id))).settlement
    assert (again.medfee_sumamt, again.act_pay_dedc, again.hifp_pay) == (10_000, 0, 9_000)  # its lines came back
    acc = accumulators(persons, served)
    assert (acc.hifp_inpatient, acc.admissions_inpatient) == (336_661 + 9_000, 1)
    with store.read() as view:  # the admission's bands go on from what its settlements in force made eligible
        stay = view.stay(mdtrt_id)
        assert stay.admission_eligible_fen == (504_068 - 130_000) + 10_000 and stay.admission_dedc_paid_fen == 130_000


def test_retroactive_filing_lets_the_stay_settle(api, served, world):
    from medsettle.v1 import filing_pb2, filing_pb2_grpc

    stub, _ = api
    filings = filing_pb2_grpc.FilingServiceStub(served.channel)
    admitted = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="RF-1", person=person_pb2.PersonRef(psn_no="P005"), fixmedins_code=world.SH_HOSPITAL,
        med_type="21", begndate="2026-02-25")))
    assert [w.code for w in admitted.warnings] == ["NO_FILING"]
    assert admitted.warnings[0].remedy == "FILE_BEFORE_DISCHARGE"
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="RF-2", fixmedins_code=world.SH_HOSPITAL, mdtrt_id=admitted.mdtrt_id,
        fee_lines=[line("1", "XA001", "1", "100", 10_000, "2026-02-25")])))
    error = refused(served, stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="RF-3", fixmedins_code=world.SH_HOSPITAL, mdtrt_id=admitted.mdtrt_id)))
    assert rpc_error_info(error)[0] == ["NO_FILING"]
    served.run(filings.CreateFiling(filing_pb2.CreateFilingRequest(
        request_id="RF-4", psn_no="P005", mdtrtarea_admvs="310000", category="23", begndate="2026-02-25")))
    setl = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="RF-5", fixmedins_code=world.SH_HOSPITAL, mdtrt_id=admitted.mdtrt_id))).settlement
    assert setl.filing_category == "23" and setl.medfee_sumamt == 10_000


def test_concurrent_settlements_of_one_person_never_double_spend(api, served, world, store):
    stub, persons = api
    big = [line("1", "XA001", "10", "1000", 1_000_000)]
    requests = [settlement_pb2.SettleOutpatientRequest(request_id=f"CC-{n:03d}", claim=claim("P002", world.GZ_HOSPITAL,
                                                                                             big)) for n in range(40)]

    async def all_at_once():
        return await asyncio.gather(*(stub.SettleOutpatient(r) for r in requests))

    answers = [a.settlement for a in served.run(all_at_once())]
    assert sum(s.act_pay_dedc for s in answers) == 180_000  # the deductible is spent exactly once
    assert sum(s.hifp_pay for s in answers) == 2_000_000  # the outpatient cap binds and is never exceeded
    acc = accumulators(persons, served, "P002")
    assert acc.dedc_outpatient == 180_000 and acc.hifp_outpatient == 2_000_000
    assert acc.hifmi == sum(s.hifmi_pay for s in answers) and acc.visits_outpatient == 40
    assert acc.inscp_burden == sum(s.inscp_scp_amt - s.hifp_pay for s in answers)
    assert served.app.writer.batches < 40  # they shared commits


def test_stay_line_limit_and_admission_refusals(api, served, world):
    import dataclasses

    stub, _ = api
    served.app.limits = dataclasses.replace(served.app.limits, lines_per_stay_max=3)
    error = refused(served, stub.Admit(settlement_pb2.AdmitRequest(
        request_id="LL-0", person=person_pb2.PersonRef(psn_no="P003"), fixmedins_code=world.GZ_HOSPITAL,
        med_type="21")))
    assert rpc_error_info(error)[0] == ["INSU_STATUS_ABNORMAL"]  # only filing problems wait until settlement
    mdtrt_id = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="LL-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=world.GZ_HOSPITAL,
        med_type="21"))).mdtrt_id
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="LL-2", fixmedins_code=world.GZ_HOSPITAL, mdtrt_id=mdtrt_id,
        fee_lines=[line(f"{n}", "XA001", "1", "1", 100) for n in range(3)])))
    error = refused(served, stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="LL-3", fixmedins_code=world.GZ_HOSPITAL, mdtrt_id=mdtrt_id,
        fee_lines=[line("9", "XA001", "1", "1", 100)])))
    assert rpc_error_info(error)[0] == ["LINES_LIMIT"]
    error = refused(served, stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="LL-4", fixmedins_code=world.SH_HOSPITAL, mdtrt_id=mdtrt_id,
        fee_lines=[line("9", "XA001", "1", "1", 100)])))
    assert rpc_error_info(error)[0] == ["STAY_NOT_OPEN"]  # another institution cannot touch this stay
    assert served.run(stub.CancelInpatientFees(settlement_pb2.CancelInpatientFeesRequest(
        request_id="LL-5", fixmedins_code=world.GZ_HOSPITAL, mdtrt_id=mdtrt_id,
        feedetl_sn=["0000"]))).lines_cancelled == 3


def test_an_inpatient_settlement_computed_on_a_stale_snapshot_is_computed_again(api, served, world, store):
    """SettleInpatient computes on a snapshot and commits that result only if the stay, its unsettled lines, the
    person and the accumulators are unchanged under the write lock; otherwise it computes again there."""
    from medsettle.service import settlements as module

    stub, _ = api
    mdtrt_id = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="ST-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=world.GZ_HOSPITAL,
        med_type="21"))).mdtrt_id
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="ST-2", fixmedins_code=world.GZ_HOSPITAL, mdtrt_id=mdtrt_id,
        fee_lines=[line("1", "XA001", "1", "100", 10_000)])))
    servicer = module.SettlementServicer(served.app)
    with store.read() as view:
        computed, stay = servicer._inpatient(view, world.GZ_HOSPITAL, mdtrt_id, False, 0, served.app.clock.now_ms())
        assert module._still_as_read(view, computed, stay, view.stay_lines(mdtrt_id))
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="ST-3", fixmedins_code=world.GZ_HOSPITAL, mdtrt_id=mdtrt_id,
        fee_lines=[line("2", "XA001", "1", "100", 10_000)])))
    with store.read() as view:
        assert not module._still_as_read(view, computed, stay, view.stay_lines(mdtrt_id))
    setl = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="ST-4", fixmedins_code=world.GZ_HOSPITAL, mdtrt_id=mdtrt_id))).settlement
    assert setl.medfee_sumamt == 20_000  # both lines


def test_a_retry_gets_its_first_answer_even_after_the_world_moved_on(api, served, world, clock):
    """DOMAIN.md 7: the same id and payload returns the original answer — also when the same request would now
    be refused (the filing has expired, the stay was discharged)."""
    stub, _ = api
    settle_request = settlement_pb2.SettleOutpatientRequest(
        request_id="MO-1", claim=claim("P002", world.GZ_HOSPITAL, VISIT_1))  # temporary filing until 2026-06-30
    first = served.run(stub.SettleOutpatient(settle_request))
    mdtrt_id = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="MO-2", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=world.GZ_HOSPITAL,
        med_type="21"))).mdtrt_id
    upload = settlement_pb2.UploadInpatientFeesRequest(request_id="MO-3", fixmedins_code=world.GZ_HOSPITAL,
                                                       mdtrt_id=mdtrt_id, fee_lines=[line("1", "XA001", "1", "1", 100)])
    uploaded = served.run(stub.UploadInpatientFees(upload))
    served.run(stub.Discharge(settlement_pb2.DischargeRequest(request_id="MO-4", fixmedins_code=world.GZ_HOSPITAL,
                                                              mdtrt_id=mdtrt_id)))
    clock.advance_days(200)  # 2026-09-18: P002's filing has expired, the stay is closed

    assert served.run(stub.SettleOutpatient(settle_request)) == first
    assert served.run(stub.UploadInpatientFees(upload)) == uploaded
    fresh = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="MO-5", claim=claim("P002", world.GZ_HOSPITAL, VISIT_1))))
    assert rpc_error_info(fresh)[0] == ["FILING_EXPIRED"]


def test_chong_zheng_of_inpatient_messages(api, served, world, store):
    """2601 undoes an upload batch (its lines only), a settlement of a stay (the admission is no longer counted and
    its lines are unsettled again) and an admission with nothing settled; what it cannot undo it refuses."""
    stub, persons = api
    gz = world.GZ_HOSPITAL

    def undo(request_id: str, original: str):
        return stub.ReverseByRequestId(settlement_pb2.ReverseByRequestIdRequest(
            request_id=request_id, fixmedins_code=gz, original_request_id=original))

    mdtrt_id = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="CZ-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=gz, med_type="21"))).mdtrt_id
    for n, sns in ((2, ("1", "2")), (3, ("3",))):
        served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
            request_id=f"CZ-{n}", fixmedins_code=gz, mdtrt_id=mdtrt_id,
            fee_lines=[line(sn, "XA001", "1", "1000", 100_000) for sn in sns])))
    assert served.run(undo("CZ-4", "CZ-3")).original_method == "UploadInpatientFees"
    settled = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="CZ-5", fixmedins_code=gz, mdtrt_id=mdtrt_id))).settlement
    assert sorted(x.feedetl_sn for x in settled.lines) == ["1", "2"]  # line 3 went with its batch
    assert accumulators(persons, served).admissions_inpatient == 1

    error = refused(served, undo("CZ-6", "CZ-1"))
    assert rpc_error_info(error)[0] == ["NOT_REVERSIBLE"]  # the stay has a settlement in force
    reversed_ = served.run(undo("CZ-7", "CZ-5"))
    assert reversed_.undone and reversed_.reversal.medfee_sumamt == -200_000
    acc = accumulators(persons, served)
    assert (acc.admissions_inpatient, acc.hifp_inpatient, acc.hifp_overall) == (0, 0, 0)
    with store.read() as view:
        assert [held.setl_id for held in view.stay_lines(mdtrt_id)] == ["", ""]
        assert view.stay(mdtrt_id).admission_dedc_paid_fen == 0 and not view.stay(mdtrt_id).admission_counted

    assert served.run(undo("CZ-8", "CZ-1")).undone  # now the admission itself can go
    with store.read() as view:
        assert view.stay(mdtrt_id).enddate and view.stay_lines(mdtrt_id) == []
    error = refused(served, undo("CZ-9", "CZ-8"))
    assert rpc_error_info(error)[0] == ["NOT_REVERSIBLE"]  # a 冲正 is not itself undone by 冲正


def test_a_daily_quantity_limit_counts_the_persons_earlier_settlements_of_the_day(api, served, world, store):
    """DOMAIN.md 6.1 and 9: quantity over the daily limit. XQ001 may be given 2 units a day: 1.5 units settled in
    the morning leave 0.5, so a second visit's 1 unit is fully self-paid (LMT_QUANTITY); reversing the morning's
    settlement gives its 1.5 back, so a third visit's 1 unit is covered again."""
    with store.write() as view:
        view.put_catalog_item(world.GD, world.item("XQ001", "01", lmt_cnt_per_day_e4=20_000))
    stub, _ = api
    gz = world.GZ_HOSPITAL
    morning = settle(stub, served, "DQ-1", claim("P001", gz, [line("1", "XQ001", "1.5", "10", 1_500)])).settlement
    assert (morning.inscp_scp_amt, morning.fulamt_ownpay_amt) == (1_500, 0)
    noon = settle(stub, served, "DQ-2", claim("P001", gz, [line("1", "XQ001", "1", "10", 1_000)])).settlement
    assert (noon.inscp_scp_amt, noon.fulamt_ownpay_amt) == (0, 1_000)
    assert [x.lmt_reason for x in noon.lines] == ["LMT_QUANTITY"]
    yesterday = settle(stub, served, "DQ-3", claim("P001", gz, [line("1", "XQ001", "2", "10", 2_000, "2026-03-01")]))
    assert yesterday.settlement.inscp_scp_amt == 2_000  # another day, another limit
    served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="DQ-4", fixmedins_code=gz, setl_id=morning.setl_id)))
    evening = settle(stub, served, "DQ-5", claim("P001", gz, [line("1", "XQ001", "1", "10", 1_000)])).settlement
    assert (evening.inscp_scp_amt, evening.fulamt_ownpay_amt) == (1_000, 0)  # 1 (noon, charged) + 1 <= 2
    with store.read() as view:  # what the day has charged: noon's and the evening's unit, not the reversed 1.5
        assert view.item_day_cnt_e4("P001", "2026-03-02", "XQ001") == 20_000
        assert view.item_day_cnt_e4("P001", "2026-03-01", "XQ001") == 20_000


def test_a_stay_admitted_within_a_temporary_filing_settles_after_it_ends(api, served, world, clock):
    """P002's temporary filing for Guangzhou ends 2026-06-30. A stay admitted on 2026-03-02 is a visit within its
    validity (DOMAIN.md 4): settled at discharge on 2026-07-05 it still settles directly under that filing, while
    an outpatient visit that day is refused."""
    stub, persons = api
    gz = world.GZ_HOSPITAL
    mdtrt_id = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id="FE-1", person=person_pb2.PersonRef(psn_no="P002"), fixmedins_code=gz, med_type="21"))).mdtrt_id
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="FE-2", fixmedins_code=gz, mdtrt_id=mdtrt_id, fee_lines=[line("1", "XA001", "1", "100", 10_000)])))
    clock.advance_days(125)  # 2026-07-05
    # 2001 asked during the stay answers as 2304 will (it used to say FILING_EXPIRED, and 2304 then settled).
    check = served.run(persons.CheckBenefit(person_pb2.CheckBenefitRequest(
        person=person_pb2.PersonRef(psn_no="P002"), fixmedins_code=gz, med_type="21")))
    assert (check.ok, check.trt_dcla_detl_sn) == (True, "F002")
    setl = served.run(stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
        request_id="FE-3", fixmedins_code=gz, mdtrt_id=mdtrt_id))).settlement
    assert (setl.trt_dcla_detl_sn, setl.filing_category, setl.medfee_sumamt) == ("F002", "23", 10_000)
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="FE-4", claim=claim("P002", gz, [line("1", "XA001", "1", "100", 10_000, "2026-07-05")]))))
    assert rpc_error_info(error)[0] == ["FILING_EXPIRED"]


def test_a_claim_with_hundreds_of_bad_lines_is_refused_clearly_not_cut_off(api, served, world, store):
    """Every bad line is counted, the first five are named: a status naming all 600 made 200 KiB of trailers, which
    gRPC drops ("metadata size exceeds hard limit"), and the window got RESOURCE_EXHAUSTED instead."""
    stub, _ = api
    before = business_counts(store)
    bad = [line(f"{i}", f"ZZ{i:05d}", "1", "1", 100) for i in range(600)]
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="BIG-1", claim=claim("P001", world.GZ_HOSPITAL, bad))))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    codes, metadata, violations = rpc_error_info(error)
    assert codes == ["UNKNOWN_CATALOG_ITEM"] * 5 and metadata["reason_count"] == "600"
    assert metadata["feedetl_sn"] == "0" and "claim.fee_lines[0].med_list_codg" in violations
    assert "and 598 more" in error.details() and business_counts(store) == before
