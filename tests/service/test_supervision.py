"""就医地管理 through the real server: every audit rule kind in both severities, the review workflow and who may do
what, a deduction flowing into the clearing and the institution's reconciliation (with reversals in the same month),
and the statistics against a brute-force count over the ledgers."""

from __future__ import annotations

import grpc
import pytest

from medsettle.domain import amount_sketch, clearing, codes, region
from medsettle.domain import supervision_stats as stats
from medsettle.domain.records import Institution
from medsettle.service import identity
from medsettle.service.supervision_convert import stats_pb
from medsettle.store import clearing_book
from medsettle.store.view import SKETCH_ITEM, SKETCH_VISIT
from medsettle.v1 import clearing_pb2, clearing_pb2_grpc, settlement_pb2, settlement_pb2_grpc, supervision_pb2_grpc
from medsettle.v1 import supervision_pb2 as spb
from tests import world as w
from tests.conftest import business_counts, rpc_error_info
from tests.service.test_settlements import claim, line, refused, settle

GD, BJ, SH = "province:440000", "province:110000", "province:310000"
GZ2 = "H44010600006"  # a second networked hospital in Guangzhou


def who(caller: str) -> tuple[tuple[str, str], ...]:
    return (("x-medsettle-caller", f"medsettle:{caller}"),)


@pytest.fixture
def sup(world, served, store):
    with store.write() as view:
        view.put_institution(Institution(fixmedins_code=GZ2, fixmedins_name="广州市第二人民医院", admdvs="440106",
                                         hosp_lv="3"))
        view.put_catalog_item(w.GD, w.item("XQ001", "01", lmt_cnt_per_day_e4=10_000))  # one a day
    return settlement_pb2_grpc.SettlementServiceStub(served.as_gateway()), AsCaller(served)


class AsCaller:
    """The SupervisionService stub, each call made as the caller its `metadata=who(...)` names (national:ops
    without one): on the loopback test server a channel is one caller."""

    def __init__(self, served) -> None:
        self.served = served

    def __getattr__(self, rpc: str):
        def call(request, metadata=(), **kwargs):
            named = dict(metadata).get("x-medsettle-caller", "medsettle:national:ops")
            if identity.parse(named) is None:  # a name no caller has: sent as it is, for the server to refuse
                channel = grpc.aio.insecure_channel(self.served.target)
                return getattr(supervision_pb2_grpc.SupervisionServiceStub(channel), rpc)(
                    request, metadata=metadata, **kwargs)
            channel = self.served.as_(named.removeprefix("medsettle:"))
            return getattr(supervision_pb2_grpc.SupervisionServiceStub(channel), rpc)(request, **kwargs)

        return call


def rule(rule_id: str, kind: str, severity: str, admdvs: str = w.GD, role: str = "1", **params) -> spb.AuditRule:
    return spb.AuditRule(rule_id=rule_id, admdvs=admdvs, role=role, kind=kind, severity=severity, name=f"规则{rule_id}",
                         begndate="2026-01-01", **params)


def push(served, sup_stub, *rules, caller: str = GD, request_id: str = "R-1"):
    return served.run(sup_stub.PutAuditRules(spb.PutAuditRulesRequest(request_id=request_id, rules=rules),
                                             metadata=who(caller)))


def flags_of(served, sup_stub, caller: str = GD, **filters) -> list[spb.Flag]:
    return list(served.run(sup_stub.ListFlags(spb.ListFlagsRequest(**filters), metadata=who(caller))).flags)


def admit(served, stub, fixmedins_code: str, begndate: str, request_id: str, lines) -> str:
    mdtrt_id = served.run(stub.Admit(settlement_pb2.AdmitRequest(
        request_id=request_id, person=claim("P001", fixmedins_code, []).person, fixmedins_code=fixmedins_code,
        med_type="21", begndate=begndate))).mdtrt_id
    served.run(stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id=request_id + "U", fixmedins_code=fixmedins_code, mdtrt_id=mdtrt_id, fee_lines=lines)))
    return mdtrt_id


# -- every kind, both severities --------------------------------------------------------------------------------------

SMALL = [line("1", "XA001", "1", "10", 1_000)]
BIG = [line("1", "XA001", "10", "200", 200_000)]  # past P001's yearly deductible at once: the fund pays


def history(served, stub, count: int = 60) -> None:
    """`count` small settlements of XA001 at GZ: the distributions the outlier rules judge against (an item's
    distribution keeps about one settlement in four: more than 10 here)."""
    for n in range(count):
        settle(stub, served, f"H-{n}", claim("P001", w.GZ_HOSPITAL, SMALL))


def case_duplicate_in_visit(served, stub):
    return claim("P001", w.GZ_HOSPITAL, [line("1", "S0001", "1", "20", 2_000), line("2", "XA001", "1", "5", 500),
                                         line("3", "S0001", "1", "20", 2_000)]), ["3"], {"item_prefixes": ["S"]}


def case_duplicate_same_day(served, stub):
    first = settle(stub, served, "D-1", claim("P001", GZ2, [line("1", "XA001", "1", "5", 500)])).settlement
    return (claim("P001", w.GZ_HOSPITAL, [line("1", "XB001", "1", "4.52", 452), line("2", "XA001", "1", "5", 500)]),
            ["2"], {"_evidence": first.setl_id})


def case_outpatient_during_stay(served, stub):
    mdtrt_id = admit(served, stub, GZ2, "2026-03-01", "A-1", [line("1", "XA001", "1", "5", 500, "2026-03-01")])
    return claim("P001", w.GZ_HOSPITAL, SMALL), [], {"_evidence": mdtrt_id}


def case_overlapping_stays(served, stub):
    other = admit(served, stub, w.GZ_HOSPITAL, "2026-02-20", "A-1", [line("1", "XA001", "1", "5", 500, "2026-02-20")])
    mdtrt_id = admit(served, stub, GZ2, "2026-02-25", "A-2", [line("1", "XA001", "1", "5", 500, "2026-02-25")])
    return mdtrt_id, [], {"overlap_days_min": 2, "_evidence": other}


def case_visit_frequency(served, stub):
    first = settle(stub, served, "F-1", claim("P001", w.GZ_HOSPITAL, SMALL)).settlement
    second = settle(stub, served, "F-2", claim("P001", GZ2, SMALL)).settlement
    return claim("P001", w.GZ_HOSPITAL, SMALL), [], {"visits_max": 2, "days": 7, "_evidence": second.setl_id,
                                                     "_evidence_also": first.setl_id}


def case_chronic_drug_outside_list(served, stub):
    lines = [line("1", "XA001", "1", "5", 500), line("2", "XB001", "1", "4.52", 452), line("3", "S0001", "1", "20", 2_000)]
    return (claim("P001", w.GZ_HOSPITAL, lines, med_type="14", dise="M03900"), ["2"],
            {"dise_codg": "M03900", "allowed_prefixes": ["XA"]})


def case_quantity_over_daily_limit(served, stub):
    return claim("P001", w.GZ_HOSPITAL, [line("1", "XA001", "1", "5", 500), line("2", "XQ001", "2", "3", 600)]), ["2"], {}


def case_restricted_item(served, stub):
    return (claim("P001", w.GZ_HOSPITAL, [line("1", "XF001", "1", "8", 800), line("2", "XA001", "1", "5", 500)]),
            ["1"], {"lmt_reasons": ["LMT_SEX"]})


def case_line_amount_outlier(served, stub):
    history(served, stub)
    lines = [line("1", "XA001", "1", "10", 1_000), line("2", "XA001", "100", "10", 100_000)]
    return claim("P001", GZ2, lines), ["2"], {"quantile": 9000, "factor": 20000, "samples_min": 10,
                                                "_evidence": "XA001"}


def case_visit_amount_outlier(served, stub):
    history(served, stub)
    return (claim("P001", w.GZ_HOSPITAL, [line("1", "XA001", "100", "10", 100_000)]), [],
            {"quantile": 9000, "factor": 20000, "samples_min": 10})


CASES = {
    "DUPLICATE_IN_VISIT": case_duplicate_in_visit,
    "DUPLICATE_SAME_DAY": case_duplicate_same_day,
    "OUTPATIENT_DURING_STAY": case_outpatient_during_stay,
    "OVERLAPPING_STAYS": case_overlapping_stays,
    "VISIT_FREQUENCY": case_visit_frequency,
    "CHRONIC_DRUG_OUTSIDE_LIST": case_chronic_drug_outside_list,
    "QUANTITY_OVER_DAILY_LIMIT": case_quantity_over_daily_limit,
    "RESTRICTED_ITEM": case_restricted_item,
    "LINE_AMOUNT_OUTLIER": case_line_amount_outlier,
    "VISIT_AMOUNT_OUTLIER": case_visit_amount_outlier,
}


def test_every_kind_has_a_case():
    from medsettle.domain import audit_rules

    assert set(CASES) == audit_rules.KINDS


def _settle_case(served, stub, subject, request_id: str, pre: bool = False):
    if isinstance(subject, str):  # an inpatient stay
        if pre:
            return stub.PreSettleInpatient(settlement_pb2.PreSettleInpatientRequest(fixmedins_code=GZ2,
                                                                                    mdtrt_id=subject))
        return stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(request_id=request_id, fixmedins_code=GZ2,
                                                                          mdtrt_id=subject))
    if pre:
        return stub.PreSettleOutpatient(settlement_pb2.PreSettleOutpatientRequest(claim=subject))
    return stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(request_id=request_id, claim=subject))


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_block_rule_refuses_naming_the_rule_and_the_lines_and_writes_nothing(kind, sup, served, store):
    stub, sup_stub = sup
    subject, lines, params = CASES[kind](served, stub)
    params = {k: v for k, v in params.items() if not k.startswith("_")}
    push(served, sup_stub, rule("GD-X-01", kind, "BLOCK", **params))
    before = business_counts(store)
    for pre in (True, False):  # pre-settlement answers the same way
        error = refused(served, _settle_case(served, stub, subject, "BLOCKED-1", pre=pre))
        codes, metadata, fields = rpc_error_info(error)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert set(codes) == {"AUDIT_RULE_BLOCKED"} and metadata["remedy"] == "REVIEW_CHARGES"
        assert metadata["detail"].startswith("GD-X-01: ")
        if lines:
            assert metadata["feedetl_sn"] == lines[0] and len(codes) == len(lines)
        assert "AUDIT_RULE_BLOCKED" in error.details()
    assert business_counts(store) == before


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_flag_rule_lets_the_settlement_through_with_a_flag_and_its_evidence(kind, sup, served, store):
    stub, sup_stub = sup
    subject, lines, params = CASES[kind](served, stub)
    evidence = {v for k, v in params.items() if k.startswith("_evidence")}
    params = {k: v for k, v in params.items() if not k.startswith("_")}
    push(served, sup_stub, rule("GD-X-01", kind, "FLAG", **params))
    pre = served.run(_settle_case(served, stub, subject, "", pre=True)).settlement
    setl = served.run(_settle_case(served, stub, subject, "FLAGGED-1")).settlement
    flagged = [s for s in setl.explanation if s.code == "AUDIT_FLAG"]
    assert len(flagged) == 1 and "GD-X-01" in flagged[0].text_zh and "GD-X-01" in flagged[0].text_en
    assert [s.code for s in pre.explanation] == [s.code for s in setl.explanation]
    found = flags_of(served, sup_stub, rule_id="GD-X-01")
    assert len(found) == 1
    flag = found[0]
    assert (flag.setl_id, flag.status, flag.source, flag.rule_kind) == (setl.setl_id, "OPEN", "RULE", kind)
    assert list(flag.feedetl_sn) == lines and flag.amount > 0
    assert (flag.insuplc_admdvs, flag.mdtrtarea_admvs) == (w.BJ, w.GD)
    assert flag.clearing_amount == setl.fund_pay_sumamt + setl.acct_pay
    assert evidence <= {e.ref for e in flag.evidence}
    assert flags_of(served, sup_stub, caller=BJ, rule_id="GD-X-01") == found  # the insured place sees it too


def test_an_insured_place_rule_applies_to_its_insured_wherever_treated(sup, served):
    stub, sup_stub = sup
    push(served, sup_stub, rule("BJ-FREQ", "VISIT_FREQUENCY", "FLAG", admdvs=w.BJ, role="2", visits_max=1, days=30),
         caller=BJ)
    settle(stub, served, "I-1", claim("P001", w.GZ_HOSPITAL, SMALL))
    second = settle(stub, served, "I-2", claim("P001", GZ2, SMALL)).settlement
    assert [f.setl_id for f in flags_of(served, sup_stub, caller=BJ)] == [second.setl_id]
    assert [f.rule_admdvs for f in flags_of(served, sup_stub)] == [w.BJ]  # the place of treatment sees it too


def test_rules_are_versioned_audited_and_a_province_pushes_only_its_own(sup, served, store):
    stub, sup_stub = sup
    first = rule("GD-DUP", "DUPLICATE_IN_VISIT", "BLOCK")
    assert push(served, sup_stub, first).rules_written == 1
    assert push(served, sup_stub, first).rules_written == 1  # a retry answers the same
    assert push(served, sup_stub, first, request_id="R-2").rules_written == 0  # an identical version: a no-op
    off = rule("GD-DUP", "DUPLICATE_IN_VISIT", "OFF")
    off.begndate = "2026-03-01"
    push(served, sup_stub, off, request_id="R-3")
    listed = served.run(sup_stub.ListAuditRules(spb.ListAuditRulesRequest(admdvs=w.GD, history=True))).rules
    assert [(r.severity, r.begndate, r.enddate) for r in listed] == [("BLOCK", "2026-01-01", "2026-02-28"),
                                                                     ("OFF", "2026-03-01", "")]
    assert served.run(sup_stub.ListAuditRules(spb.ListAuditRulesRequest(admdvs=w.GD))).rules == []
    assert served.run(sup_stub.ListAuditRules(spb.ListAuditRulesRequest(admdvs=w.GD, date="2026-02-01"))).rules[0] \
        .severity == "BLOCK"
    dup = [line("1", "S0001", "1", "20", 2_000), line("2", "S0001", "1", "20", 2_000)]
    settle(stub, served, "V-1", claim("P001", w.GZ_HOSPITAL, dup))  # retired on 03-01: settles
    with store.read() as view:
        assert [e.who for e in view.audit_entries(method="PutAuditRules")] == ["medsettle:province:440000"] * 3
    error = refused(served, sup_stub.PutAuditRules(spb.PutAuditRulesRequest(
        request_id="R-4", rules=[rule("BJ-1", "DUPLICATE_IN_VISIT", "FLAG", admdvs=w.BJ)]), metadata=who(GD)))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED and rpc_error_info(error)[0] == ["CALLER_NOT_ALLOWED"]
    bad = rule("GD-F", "VISIT_FREQUENCY", "FLAG", visits_max=0, days=7)
    error = refused(served, sup_stub.PutAuditRules(spb.PutAuditRulesRequest(request_id="R-5", rules=[bad]),
                                                   metadata=who(GD)))
    assert rpc_error_info(error)[2] == ["rules[0].visits_max"]
    error = refused(served, sup_stub.PutAuditRules(spb.PutAuditRulesRequest(request_id="R-6", rules=[first]),
                                                   metadata=(("x-medsettle-caller", "platform"),)))
    assert rpc_error_info(error)[0] == ["CALLER_NOT_IDENTIFIED"]  # "platform" names no caller


# -- the review workflow ----------------------------------------------------------------------------------------------


def review(served, sup_stub, flag_id: str, decision: str, deduct: int = 0, caller: str = GD, request_id: str = "V-1"):
    return sup_stub.ReviewFlag(spb.ReviewFlagRequest(request_id=request_id, flag_id=flag_id, decision=decision,
                                                     deduct=deduct, note="核查"), metadata=who(caller))



def test_a_rule_push_reaches_the_next_settlement_after_rules_were_cached(sup, served):
    """Rules are cached per process by the snapshot's reference token: a settlement judged under no rules fills the
    cache, a push replaces the token, and the very next settlement is judged by the new rule (and by the next push,
    which retires it)."""
    stub, sup_stub = sup
    dup = [line("1", "S0001", "1", "20", 2_000), line("2", "S0001", "1", "20", 2_000)]
    settle(stub, served, "C-1", claim("P001", w.GZ_HOSPITAL, dup))  # no rule yet: settles (and caches "no rules")
    push(served, sup_stub, rule("GD-DUP", "DUPLICATE_IN_VISIT", "BLOCK"))
    error = refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="C-2", claim=claim("P001", w.GZ_HOSPITAL, dup))))
    assert rpc_error_info(error)[0] == ["AUDIT_RULE_BLOCKED"]  # the second line repeats the first
    retired = rule("GD-DUP", "DUPLICATE_IN_VISIT", "OFF")
    retired.begndate = served.app.clock.today()
    push(served, sup_stub, retired, request_id="R-2")
    settle(stub, served, "C-3", claim("P001", w.GZ_HOSPITAL, dup))

def test_review_workflow_and_who_may_see_raise_and_decide(sup, served):
    stub, sup_stub = sup
    push(served, sup_stub, rule("GD-DUP", "DUPLICATE_IN_VISIT", "FLAG"))
    dup = [line("1", "XA001", "10", "200", 200_000), line("2", "XA001", "10", "200", 200_000)]
    setl = settle(stub, served, "W-1", claim("P001", w.GZ_HOSPITAL, dup)).settlement
    (flag,) = flags_of(served, sup_stub)
    assert flags_of(served, sup_stub, caller=SH) == []  # a third province sees nothing
    assert flags_of(served, sup_stub, caller=f"institution:{w.GZ_HOSPITAL}") == [flag]
    assert flags_of(served, sup_stub, caller=f"institution:{GZ2}") == []
    assert flags_of(served, sup_stub, caller="national:nhsa") == [flag]
    missing = refused(served, sup_stub.GetFlag(spb.GetFlagRequest(flag_id=flag.flag_id), metadata=who(SH)))
    assert rpc_error_info(missing)[0] == ["FLAG_NOT_FOUND"]
    for caller in (BJ, f"institution:{w.GZ_HOSPITAL}", "national:nhsa"):  # they see it, only GD decides
        error = refused(served, review(served, sup_stub, flag.flag_id, "CLEAR", caller=caller))
        assert rpc_error_info(error)[0] == ["CALLER_NOT_ALLOWED"]
    too_much = refused(served, review(served, sup_stub, flag.flag_id, "CONFIRM", setl.fund_pay_sumamt + 1))
    assert rpc_error_info(too_much)[0] == ["DEDUCTION_TOO_LARGE"]
    decided = served.run(review(served, sup_stub, flag.flag_id, "CONFIRM", 5_000)).flag
    assert (decided.status, decided.deduct, decided.deduct_date) == ("CONFIRMED", 5_000, "2026-03-02")
    assert decided.reviews[0].who == "province:440000" and decided.reviews[0].decision == "CONFIRM"
    assert served.run(review(served, sup_stub, flag.flag_id, "CONFIRM", 5_000)).flag == decided  # a retry
    again = refused(served, review(served, sup_stub, flag.flag_id, "CLEAR", request_id="V-2"))
    assert rpc_error_info(again)[0] == ["FLAG_ALREADY_DECIDED"]
    assert flags_of(served, sup_stub, status="CONFIRMED") == [decided]
    assert flags_of(served, sup_stub, status="OPEN") == []

    # 协查请求: the insured place asks about a settlement of its insured; the place of treatment clears it.
    raise_it = spb.RaiseFlagRequest(request_id="Q-1", setl_id=setl.setl_id, note="请核查该次门诊的真实性")
    denied = refused(served, sup_stub.RaiseFlag(raise_it, metadata=who(GD)))
    assert rpc_error_info(denied)[0] == ["CALLER_NOT_ALLOWED"]
    asked = served.run(sup_stub.RaiseFlag(raise_it, metadata=who(BJ))).flag
    assert (asked.source, asked.rule_id, asked.raised_by, asked.status) == ("REQUEST", "REQUEST",
                                                                            "medsettle:province:110000", "OPEN")
    # Two flags on one settlement cannot deduct more than its funds paid.
    room = setl.fund_pay_sumamt + setl.acct_pay - 5_000
    over = refused(served, review(served, sup_stub, asked.flag_id, "CONFIRM", room + 1, request_id="V-3"))
    assert rpc_error_info(over)[0] == ["DEDUCTION_TOO_LARGE"]
    cleared = served.run(review(served, sup_stub, asked.flag_id, "CLEAR", request_id="V-4")).flag
    assert cleared.status == "CLEARED" and cleared.deduct == 0


def test_flags_page_through_with_a_token(sup, served):
    stub, sup_stub = sup
    push(served, sup_stub, rule("GD-ANY", "VISIT_AMOUNT_OUTLIER", "FLAG", quantile=5000, factor=10000, samples_min=10))
    push(served, sup_stub, rule("GD-FREQ", "VISIT_FREQUENCY", "FLAG", visits_max=1, days=1), request_id="R-2")
    for n in range(7):
        settle(stub, served, f"P-{n}", claim("P001", w.GZ_HOSPITAL, SMALL))
    everything = flags_of(served, sup_stub, limit=1000)
    assert len(everything) == 6  # every visit after the first
    pages, token = [], ""
    while True:
        answer = served.run(sup_stub.ListFlags(spb.ListFlagsRequest(limit=4, page_token=token), metadata=who(GD)))
        pages.extend(answer.flags)
        token = answer.next_page_token
        if not token:
            break
    assert pages == everything


# -- deductions in the clearing and the institution's reconciliation ------------------------------------------------


def test_a_deduction_enters_the_month_clearing_and_the_reconciliation_with_reversals_in_the_same_month(
        sup, served, store, clock):
    stub, sup_stub = sup
    clear = clearing_pb2_grpc.ClearingServiceStub(served.channel)
    push(served, sup_stub, rule("GD-DUP", "DUPLICATE_IN_VISIT", "FLAG"))
    dup = [line("1", "XA001", "10", "200", 200_000), line("2", "XA001", "10", "200", 200_000)]
    a = settle(stub, served, "C-1", claim("P001", w.GZ_HOSPITAL, dup, acct=True)).settlement
    b = settle(stub, served, "C-2", claim("P001", w.GZ_HOSPITAL, dup)).settlement
    c = settle(stub, served, "C-3", claim("P001", w.GZ_HOSPITAL, SMALL)).settlement
    flag_a, flag_b = sorted(flags_of(served, sup_stub), key=lambda f: f.setl_id)
    assert (flag_a.setl_id, flag_b.setl_id) == (a.setl_id, b.setl_id)
    served.run(review(served, sup_stub, flag_a.flag_id, "CONFIRM", 30_000))
    served.run(review(served, sup_stub, flag_b.flag_id, "CONFIRM", 12_345, request_id="V-2"))
    # In the same month: c reversed (no deduction), then b reversed after its deduction: the deduction is given back.
    served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="C-4", fixmedins_code=w.GZ_HOSPITAL, setl_id=c.setl_id)))
    served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="C-5", fixmedins_code=w.GZ_HOSPITAL, setl_id=b.setl_id)))
    given_back = served.run(sup_stub.GetFlag(spb.GetFlagRequest(flag_id=flag_b.flag_id), metadata=who(GD))).flag
    assert given_back.given_back_by and given_back.deduct == 12_345

    stmt = served.run(clear.GetClearingStatement(clearing_pb2.GetClearingStatementRequest(month="2026-03"))).statement
    (pair,) = stmt.pairs
    assert pair.setl_cnt == 3 - 2 and pair.fund_pay_sumamt == a.fund_pay_sumamt
    (deduction,) = stmt.deductions
    assert (deduction.insuplc_admdvs, deduction.mdtrtarea_admvs) == (w.BJ, w.GD)
    assert (deduction.deduction_cnt, deduction.deducted) == (2 - 1, 30_000)
    owed = a.fund_pay_sumamt + a.acct_pay - 30_000
    positions = {p.admdvs: (p.receivable, p.payable, p.net) for p in stmt.positions}
    assert positions == {w.GD: (owed, 0, owed), w.BJ: (0, owed, -owed)}
    again = served.run(clear.GetClearingStatement(clearing_pb2.GetClearingStatementRequest(month="2026-03"))).statement
    assert again.canonical == stmt.canonical and again.digest == stmt.digest  # byte-reproducible
    with store.read() as view:  # the aggregates equal the brute force over both ledgers, byte for byte
        brute = clearing_book.ledger_statement(view, "2026-03")
    assert clearing.canonical_bytes(brute) == stmt.canonical

    totals = served.run(clear.ReconcileTotals(clearing_pb2.ReconcileTotalsRequest(
        fixmedins_code=w.GZ_HOSPITAL, begndate="2026-03-01", enddate="2026-03-31", setl_cnt=1,
        medfee_sumamt=a.medfee_sumamt, fund_pay_sumamt=a.fund_pay_sumamt, acct_pay=a.acct_pay)))
    assert totals.match and (totals.deduction_cnt, totals.deducted) == (1, 30_000)
    detail = served.run(clear.ReconcileDetail(clearing_pb2.ReconcileDetailRequest(
        fixmedins_code=w.GZ_HOSPITAL, begndate="2026-03-01", enddate="2026-03-31")))
    assert sorted((d.setl_id, d.amount) for d in detail.deductions) == sorted(
        [(a.setl_id, 30_000), (b.setl_id, 12_345), (b.setl_id, -12_345)])

    # A deduction confirmed in April on a March settlement enters April's clearing; March closes as it was.
    clock.advance_days(31)
    c2 = served.run(clear.CloseMonth(clearing_pb2.CloseMonthRequest(request_id="M-1", month="2026-03"),
                                     metadata=who("national:nhsa"))).statement
    assert c2.canonical == stmt.canonical
    asked = served.run(sup_stub.RaiseFlag(spb.RaiseFlagRequest(request_id="Q-1", setl_id=a.setl_id, note="复核"),
                                          metadata=who(BJ))).flag
    served.run(review(served, sup_stub, asked.flag_id, "CONFIRM", 1_000, request_id="V-4"))
    april = served.run(clear.GetClearingStatement(clearing_pb2.GetClearingStatementRequest(month="2026-04"))).statement
    assert [(d.deduction_cnt, d.deducted) for d in april.deductions] == [(1, 1_000)] and not april.pairs
    assert sum(p.net for p in april.positions) == 0
    assert {p.admdvs: p.net for p in april.positions} == {w.GD: -1_000, w.BJ: 1_000}


def test_a_month_without_deductions_keeps_its_canonical_bytes():
    stmt = clearing.statement("2026-01", [((w.BJ, w.GD), clearing.Totals(setl_cnt=1, medfee_sumamt_fen=100,
                                                                           fund_pay_sumamt_fen=90, acct_pay_fen=10))])
    assert b"deductions" not in clearing.canonical_bytes(stmt)


# -- statistics against a brute-force count ---------------------------------------------------------------------------


def test_statistics_equal_a_brute_force_count_over_the_ledgers(sup, served, store, writer):
    stub, sup_stub = sup
    push(served, sup_stub, rule("GD-FREQ", "VISIT_FREQUENCY", "FLAG", visits_max=2, days=7))
    outcomes = []
    for n in range(14):
        person, hospital = [("P001", w.GZ_HOSPITAL), ("P001", GZ2), ("P005", w.GZ_HOSPITAL), ("P003", GZ2),
                            ("P002", w.GZ_HOSPITAL), ("P001", w.SH_HOSPITAL), ("NOBODY", GZ2)][n % 7]
        try:
            outcomes.append(settle(stub, served, f"S-{n}", claim(person, hospital, BIG)).settlement)
        except grpc.aio.AioRpcError:
            outcomes.append(None)
        if n == 5:
            refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(  # a retried refusal
                request_id="S-2", claim=claim("P005", w.GZ_HOSPITAL, BIG))))
    settled = [s for s in outcomes if s is not None]
    served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="S-R", fixmedins_code=settled[0].fixmedins_code, setl_id=settled[0].setl_id)))
    open_flags = flags_of(served, sup_stub, caller="national:nhsa")
    served.run(review(served, sup_stub, open_flags[0].flag_id, "CONFIRM", 100))
    writer.submit(lambda view: None).result(timeout=10)  # the best-effort refusal counts committed before this

    answer = served.run(sup_stub.GetSupervisionStats(spb.GetSupervisionStatsRequest(), metadata=who("national:nhsa")))
    brute: dict[tuple[str, str, str, str], stats.DayStats] = {}

    def bump(row_key, delta):
        brute[row_key] = stats.add(brute.get(row_key, stats.DayStats()), delta)

    with store.read() as view:
        for setl in view.all_settlements():
            insured, treated = clearing.pair_of(setl)
            bump((setl.setl_date, treated, insured, setl.fixmedins_code), stats.of_settlement(setl))
        for entry in view.refusal_entries():
            bump((entry.date, entry.mdtrtarea_admvs, entry.insuplc_admdvs, entry.fixmedins_code),
                 stats.of_refusal(entry.reasons))
        for flag in view.all_flags():
            bump((flag.flag_date, flag.mdtrtarea_admvs, flag.insuplc_admdvs, flag.fixmedins_code),
                 stats.of_flags((flag.rule_id,)))
        for deduction in view.all_deductions():
            bump((deduction.date, deduction.mdtrtarea_admvs, deduction.insuplc_admdvs, deduction.fixmedins_code),
                 stats.of_deduction(deduction.amount_fen))
        kept = {(day, *row_key): row for day in {k[0] for k in brute} for row_key, row in view.stats_rows(day, 10**6)}
    assert kept == brute
    total = stats.total(brute.values())
    # P005 (expired filing) and P001 at SH (filing for another region) are filing problems; P003 (status) and an
    # unknown person are not; the retry of S-2 counts once.
    assert total.refused_cnt == 8 and total.setl_cnt == len(settled) and total.reversal_cnt == 1
    assert total.filing_refused_cnt == 4
    assert answer.totals == stats_pb(total)
    assert answer.totals.direct_settlement_rate == stats.rate_bp(len(settled), len(settled) + 8)
    assert answer.totals.flags[0].code == "GD-FREQ" and answer.totals.deducted == 100
    own = served.run(sup_stub.GetSupervisionStats(spb.GetSupervisionStatsRequest(), metadata=who(SH)))
    assert {p.mdtrtarea_admvs for p in own.by_pair} | {p.insuplc_admdvs for p in own.by_pair} >= {"310000"}
    assert all("310000" in (p.mdtrtarea_admvs, p.insuplc_admdvs) for p in own.by_pair)


def test_a_settlement_counts_once_in_its_distributions_through_retries_refusals_and_reversals(sup, served, store):
    """Nothing applied twice, nothing taken back that was charged (docs/supervision.md): a retry with the same
    request_id feeds no distribution again, a refused claim feeds none, and a reversal takes no amount out."""
    stub, _ = sup
    settled = [settle(stub, served, f"K-{n}", claim("P001", w.GZ_HOSPITAL, SMALL)).settlement for n in range(8)]
    day = amount_sketch.day_number(settled[0].setl_date)
    province = region.province_of(settled[0].mdtrtarea_admvs)

    def counts() -> tuple[int, int]:
        with store.read() as view:
            found = (view.sketch(SKETCH_VISIT, w.GZ_HOSPITAL, codes.CLR_TYPE_OUTPATIENT),
                     view.sketch(SKETCH_ITEM, province, "XA001"))
        return tuple(amount_sketch.count(sketch, day) if sketch else 0 for sketch in found)

    visits, items = counts()
    assert visits == 8 and 0 < items < 8  # every visit; one item in four, by a hash of the settlement id
    again = settle(stub, served, "K-0", claim("P001", w.GZ_HOSPITAL, SMALL)).settlement
    assert again.setl_id == settled[0].setl_id
    refused(served, stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="K-bad", claim=claim("P001", w.GZ_HOSPITAL, [line("1", "NO-SUCH-ITEM", "1", "10", 1_000)]))))
    for setl in settled:
        served.run(stub.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
            request_id=f"R-{setl.setl_id}", fixmedins_code=w.GZ_HOSPITAL, setl_id=setl.setl_id)))
    assert counts() == (visits, items)
    settle(stub, served, "K-8", claim("P001", w.GZ_HOSPITAL, SMALL))
    assert counts()[0] == visits + 1


def test_each_outlier_rule_judges_by_its_own_samples_min_when_the_window_is_thin_for_another(sup, served):
    """A window is merged for the fewest amounts any rule in force asks (supervision_book.RuleSet.item_samples_min)
    and only counted below it: a rule asking more amounts than the window holds never judges, one asking fewer does,
    in the same settlement."""
    stub, sup_stub = sup
    subject, lines, params = case_line_amount_outlier(served, stub)
    params = {k: v for k, v in params.items() if not k.startswith("_")}
    push(served, sup_stub, rule("GD-OUT-MANY", "LINE_AMOUNT_OUTLIER", "FLAG", **{**params, "samples_min": 5_000}),
         rule("GD-OUT-FEW", "LINE_AMOUNT_OUTLIER", "FLAG", **params))
    settle(stub, served, "THIN-1", subject)
    assert [(f.rule_id, list(f.feedetl_sn)) for f in flags_of(served, sup_stub)] == [("GD-OUT-FEW", lines)]
