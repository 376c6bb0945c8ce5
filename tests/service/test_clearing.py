"""ClearingService end to end: statements from real settlements and reversals across many province pairs, month
close, prepaid funds, institution reconciliation, refusals. World: tests/clearing_world.py."""

from __future__ import annotations

import grpc
import pytest
from prometheus_client import REGISTRY

from medsettle import metrics
from medsettle.domain import clearing
from medsettle.store import clearing_book
from medsettle.v1 import clearing_pb2 as cpb
from medsettle.v1 import clearing_pb2_grpc, common_pb2, person_pb2, settlement_pb2, settlement_pb2_grpc
from tests import clearing_world as cw
from tests.conftest import rpc_error_info


@pytest.fixture
def nation(store):
    with store.write() as view:
        cw.build(view)


@pytest.fixture
def stubs(nation, served):
    """The clearing service as national operations call it; settlements are made by each hospital itself."""
    return clearing_pb2_grpc.ClearingServiceStub(served.channel), None


def _settlements(served, fixmedins_code: str):
    return settlement_pb2_grpc.SettlementServiceStub(served.as_(f"institution:{fixmedins_code}"))


def settle(served, request_id: str, insured: str, treated: str, fee_yuan: int):
    today = served.app.clock.today()
    amount = fee_yuan * 100
    line = common_pb2.FeeLine(feedetl_sn="1", med_list_codg="XA001", cnt="1", pric=str(fee_yuan),
                              det_item_fee_sumamt=amount, fee_ocur_time=today)
    claim = settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no=cw.person_of(insured, treated)),
                                           fixmedins_code=cw.HOSPITAL[treated], med_type="11", fee_lines=[line],
                                           medfee_sumamt=amount, acct_used_flag=True)
    return served.run(_settlements(served, claim.fixmedins_code).SettleOutpatient(
        settlement_pb2.SettleOutpatientRequest(request_id=request_id, claim=claim))).settlement


def reverse(served, request_id: str, setl):
    return served.run(_settlements(served, setl.fixmedins_code).ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id=request_id, fixmedins_code=setl.fixmedins_code, setl_id=setl.setl_id))).settlement


def statement(served, clearing_stub, month: str) -> cpb.ClearingStatement:
    return served.run(clearing_stub.GetClearingStatement(cpb.GetClearingStatementRequest(month=month))).statement


def refused(served, call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        served.run(call)
    return caught.value


def pair_map(stmt) -> dict:
    return {(p.insuplc_admdvs, p.mdtrtarea_admvs): (p.setl_cnt, p.medfee_sumamt, p.fund_pay_sumamt, p.acct_pay)
            for p in stmt.pairs}


def test_month_across_many_pairs_with_reversals_equals_the_ledger(stubs, served, store, clock):
    clearing_stub, _ = stubs
    clock.now_ms_value -= 40 * 86_400_000  # 2026-01-21
    assert served.app.clock.today() == "2026-01-21"
    settled = []
    for n, (insured, treated) in enumerate(cw.PAIRS):
        for k in range(2 + n % 3):  # at least two: reversing every fourth never empties a pair
            settled.append(settle(served, f"R{n}-{k}", insured, treated, 100 + 10 * n + k))
    for n, setl in enumerate(settled[::4]):
        reverse(served, f"V{n}", setl)
    stmt = statement(served, clearing_stub, "2026-01")
    assert len(stmt.pairs) == len(cw.PAIRS) == 12
    assert sum(p.net for p in stmt.positions) == 0
    assert sum(p.setl_cnt for p in stmt.pairs) == len(settled) - len(settled[::4])
    # fee F yuan: fund 90%, account 10%, both cleared
    assert sum(p.fund_pay_sumamt + p.acct_pay for p in stmt.pairs) == sum(p.receivable for p in stmt.positions)
    for pos in stmt.positions:
        assert pos.net == pos.receivable - pos.payable
    with store.read() as view:  # brute force: every settlement of the ledger, scanned
        brute = clearing_book.ledger_statement(view, "2026-01")
    assert clearing.canonical_bytes(brute) == stmt.canonical
    assert clearing.digest(stmt.canonical) == stmt.digest
    again = statement(served, clearing_stub, "2026-01")
    assert again.SerializeToString(deterministic=True) == stmt.SerializeToString(deterministic=True)
    assert not stmt.closed


def test_january_settlement_reversed_in_february_appears_negated_in_february(stubs, served, clock):
    clearing_stub, _ = stubs
    clock.now_ms_value -= 40 * 86_400_000  # 2026-01-21
    setl = settle(served, "J1", cw.BJ, cw.GD, 500)
    clock.advance_days(15)  # 2026-02-05
    reverse(served, "F1", setl)
    jan = pair_map(statement(served, clearing_stub, "2026-01"))
    feb = pair_map(statement(served, clearing_stub, "2026-02"))
    assert jan == {(cw.BJ, cw.GD): (1, 50_000, 45_000, 5_000)}
    assert feb == {(cw.BJ, cw.GD): (-1, -50_000, -45_000, -5_000)}
    positions = {p.admdvs: p.net for p in statement(served, clearing_stub, "2026-02").positions}
    assert positions == {cw.BJ: 50_000, cw.GD: -50_000}


def test_close_month_freezes_it_and_a_late_reversal_lands_in_the_open_month(stubs, served, clock, store):
    clearing_stub, _ = stubs
    clock.now_ms_value -= 40 * 86_400_000  # 2026-01-21
    first = settle(served, "J1", cw.SH, cw.SC, 300)
    settle(served, "J2", cw.GD, cw.BJ, 700)
    before = statement(served, clearing_stub, "2026-01")
    error = refused(served, clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C0", month="2026-01")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rpc_error_info(error)[0] == ["MONTH_NOT_CLOSABLE"]

    clock.advance_days(15)  # 2026-02-05
    closed = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C1", month="2026-01")))
    assert closed.statement.closed and not closed.already_closed
    assert closed.statement.canonical == before.canonical
    retry = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C1", month="2026-01")))
    assert retry.SerializeToString(deterministic=True) == closed.SerializeToString(deterministic=True)
    twice = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C2", month="2026-01")))
    assert twice.already_closed and twice.statement.canonical == before.canonical

    reverse(served, "F1", first)  # dated 2026-02-05
    frozen = statement(served, clearing_stub, "2026-01")
    assert frozen.closed and frozen.canonical == before.canonical and frozen.digest == before.digest
    assert pair_map(statement(served, clearing_stub, "2026-02")) == {(cw.SH, cw.SC): (-1, -30_000, -27_000, -3_000)}
    with store.read() as view:  # the ledger now holds the reversal; January's aggregates did not move
        assert clearing.canonical_bytes(clearing_book.ledger_statement(view, "2026-01")) == before.canonical


def _sample(province: str) -> float | None:
    return REGISTRY.get_sample_value("medsettle_prepaid_usage_bp", {"province": province})


def test_prepaid_fund_drawn_by_clearing_alerts_past_threshold_and_records_top_up(stubs, served, clock, store):
    metrics.enable_in_process()  # the gauge is set as funds change: on before the first change
    clearing_stub, _ = stubs
    clock.now_ms_value -= 40 * 86_400_000  # 2026-01-21
    fund = served.run(clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="P1", insuplc_admdvs=cw.BJ, year=2026, balance=100_000, warn_threshold=7000))).fund
    assert (fund.balance, fund.usage, fund.warn_threshold) == (100_000, 0, 7000)
    settle(served, "J1", cw.BJ, cw.GD, 500)  # BJ owes 50,000
    settle(served, "J2", cw.BJ, cw.SH, 300)  # BJ owes 30,000
    settle(served, "J3", cw.GD, cw.BJ, 900)  # owed to BJ: does not draw BJ's fund
    clock.advance_days(15)
    closed = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C1", month="2026-01")))
    drawn = {f.insuplc_admdvs: f for f in closed.funds}
    assert set(drawn) == {cw.BJ}  # GD has no fund set
    assert (drawn[cw.BJ].drawn, drawn[cw.BJ].balance, drawn[cw.BJ].usage) == (80_000, 20_000, 8000)
    assert [(a.insuplc_admdvs, a.month, a.usage, a.active) for a in closed.alerts] == [(cw.BJ, "2026-01", 8000, True)]
    assert _sample(cw.BJ) == 8000
    listed = served.run(clearing_stub.ListPrepaidAlerts(cpb.ListPrepaidAlertsRequest())).alerts
    assert [(a.insuplc_admdvs, a.active) for a in listed] == [(cw.BJ, True)]

    topped = served.run(clearing_stub.TopUpPrepaidFund(cpb.TopUpPrepaidFundRequest(
        request_id="T1", insuplc_admdvs=cw.BJ, year=2026, amount=100_000))).fund
    assert (topped.topped_up, topped.balance, topped.usage) == (100_000, 120_000, 4000)
    assert [(t.amount, t.request_id) for t in topped.top_ups] == [(100_000, "T1")]
    assert _sample(cw.BJ) == 4000
    listed = served.run(clearing_stub.ListPrepaidAlerts(cpb.ListPrepaidAlertsRequest(insuplc_admdvs=cw.BJ))).alerts
    assert [(a.month, a.usage, a.active) for a in listed] == [("2026-01", 8000, False)]
    got = served.run(clearing_stub.GetPrepaidFund(cpb.GetPrepaidFundRequest(insuplc_admdvs=cw.BJ, year=2026))).fund
    assert got == topped


def test_prepaid_fund_sized_from_previous_year_payments(stubs, served, store):
    clearing_stub, _ = stubs
    with store.write() as view:  # 2025: SC owes 1,200,000 fen (fund + account) over the year, SH nothing
        for mon in range(1, 13):
            view.put_settlement(cw.settlement(f"Y{mon}", cw.HOSPITAL[cw.GD], f"2025-{mon:02d}-10", "510104",
                                              "440106", 100_000))
    fund = served.run(clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="P1", insuplc_admdvs=cw.SC, year=2026, from_previous_year_months=2))).fund
    assert (fund.balance_set, fund.sized_from_months, fund.warn_threshold) == (200_000, 2, 7000)
    error = refused(served, clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="P2", insuplc_admdvs=cw.SH, year=2026, from_previous_year_months=2)))
    assert rpc_error_info(error)[0] == ["NO_PREVIOUS_YEAR_PAYMENTS"]


def test_a_fund_set_after_its_months_closed_draws_them_once(stubs, served, clock):
    """DOMAIN.md 8: a fund set late draws the year's closed months (and raises their alert) when it is set, and a
    second setting does not draw them again."""
    clearing_stub, _ = stubs
    clock.now_ms_value -= 40 * 86_400_000  # 2026-01-21
    settle(served, "J1", cw.BJ, cw.GD, 500)  # BJ owes 50,000
    clock.advance_days(15)
    closed = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C1", month="2026-01")))
    assert list(closed.funds) == []  # no fund yet: nothing drawn
    late = served.run(clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="P1", insuplc_admdvs=cw.BJ, year=2026, balance=60_000, warn_threshold=7000)))
    assert (late.fund.drawn, late.fund.balance, late.fund.usage) == (50_000, 10_000, 8333)
    assert [(a.month, a.usage, a.active) for a in late.alerts] == [("2026-01", 8333, True)]
    again = served.run(clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="P2", insuplc_admdvs=cw.BJ, year=2026, balance=200_000, warn_threshold=7000)))
    assert (again.fund.drawn, again.fund.balance) == (50_000, 150_000) and list(again.alerts) == []


def test_a_month_of_more_reversals_than_settlements_gives_back_to_the_fund(stubs, served, clock):
    """DOMAIN.md 8: reversals count in the month they happen. January's settlement reversed in February makes
    February's payable negative: closing February puts it back in the fund, and raises no alert."""
    clearing_stub, _ = stubs
    clock.now_ms_value -= 40 * 86_400_000  # 2026-01-21
    served.run(clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="P1", insuplc_admdvs=cw.BJ, year=2026, balance=100_000, warn_threshold=7000)))
    setl = settle(served, "J1", cw.BJ, cw.GD, 500)  # 50,000
    clock.advance_days(15)  # 2026-02-05
    jan = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C1", month="2026-01")))
    assert [(f.drawn, f.balance) for f in jan.funds] == [(50_000, 50_000)]
    reverse(served, "F1", setl)
    clock.advance_days(28)  # 2026-03-05
    feb = served.run(clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C2", month="2026-02")))
    assert {p.admdvs: p.payable for p in feb.statement.positions}[cw.BJ] == -50_000
    assert [(f.drawn, f.balance, f.usage) for f in feb.funds] == [(0, 100_000, 0)] and list(feb.alerts) == []


def test_reconciliation_counts_a_reversal_minus_one_and_filters_by_clearing_type(stubs, served, clock):
    """3201/3202: a settlement and its reversal in the period net to nothing in the totals, and the detail lists
    the reversal as its own item with negated amounts; clr_type 21 leaves outpatient settlements out."""
    clearing_stub, _ = stubs
    setl = settle(served, "R1", cw.BJ, cw.GD, 500)
    reversal = reverse(served, "R2", setl)
    today = served.app.clock.today()
    period = dict(fixmedins_code=setl.fixmedins_code, begndate=today, enddate=today)
    totals = served.run(clearing_stub.ReconcileTotals(cpb.ReconcileTotalsRequest(**period)))
    assert totals.match and (totals.setl_cnt, totals.medfee_sumamt, totals.fund_pay_sumamt, totals.acct_pay) == (
        0, 0, 0, 0)
    items = [cpb.ReconcileItem(setl_id=s.setl_id, medfee_sumamt=s.medfee_sumamt, fund_pay_sumamt=s.fund_pay_sumamt,
                               acct_pay=s.acct_pay) for s in (setl, reversal)]
    assert items[1].medfee_sumamt == -50_000
    detail = served.run(clearing_stub.ReconcileDetail(cpb.ReconcileDetailRequest(**period, items=items)))
    assert detail.match and detail.core_setl_cnt == 2
    missing_reversal = served.run(clearing_stub.ReconcileDetail(cpb.ReconcileDetailRequest(**period, items=items[:1])))
    assert [i.setl_id for i in missing_reversal.missing_at_institution] == [reversal.setl_id]
    settle(served, "R3", cw.BJ, cw.GD, 300)  # one outpatient settlement in force
    by_type = {clr_type: served.run(clearing_stub.ReconcileTotals(cpb.ReconcileTotalsRequest(**period,
                                                                                           clr_type=clr_type)))
               for clr_type in ("", "11", "21")}
    assert [(t.setl_cnt, t.medfee_sumamt) for t in by_type.values()] == [(1, 30_000), (1, 30_000), (0, 0)]


def test_reconciliation_finds_one_missing_and_one_altered_among_thousands(stubs, served, store):
    clearing_stub, _ = stubs
    hospital = cw.HOSPITAL[cw.GD]
    ours = []
    with store.write() as view:
        for n in range(4_000):
            date = f"2026-02-{1 + n % 20:02d}"
            setl = cw.settlement(f"S{n:06d}", hospital, date, cw.CITY[cw.PROVINCES[n % 4]], "440106", 1_000 + n)
            view.put_settlement(setl)
            ours.append(setl)
        # another institution's settlements on the same days are not this one's business
        for n in range(50):
            view.put_settlement(cw.settlement(f"O{n:06d}", cw.HOSPITAL[cw.SH], "2026-02-03", "110105", "310101", 10))
    items = [cpb.ReconcileItem(setl_id=s.setl_id, medfee_sumamt=s.medfee_sumamt_fen,
                               fund_pay_sumamt=s.fund_pay_sumamt_fen, acct_pay=s.acct_pay_fen) for s in ours]
    period = dict(fixmedins_code=hospital, begndate="2026-02-01", enddate="2026-02-28")
    totals = served.run(clearing_stub.ReconcileTotals(cpb.ReconcileTotalsRequest(
        **period, setl_cnt=len(ours), medfee_sumamt=sum(s.medfee_sumamt_fen for s in ours),
        fund_pay_sumamt=sum(s.fund_pay_sumamt_fen for s in ours), acct_pay=sum(s.acct_pay_fen for s in ours))))
    assert totals.match and totals.setl_cnt == 4_000
    exact = served.run(clearing_stub.ReconcileDetail(cpb.ReconcileDetailRequest(**period, items=items)))
    assert exact.match and exact.core_setl_cnt == exact.institution_setl_cnt == 4_000

    missing = items.pop(1234)
    items[2500].fund_pay_sumamt += 1
    altered = items[2500].setl_id
    wrong = served.run(clearing_stub.ReconcileTotals(cpb.ReconcileTotalsRequest(**period, setl_cnt=len(items))))
    assert not wrong.match and wrong.setl_cnt == 4_000
    found = served.run(clearing_stub.ReconcileDetail(cpb.ReconcileDetailRequest(**period, items=items)))
    assert not found.match
    assert [i.setl_id for i in found.missing_at_institution] == [missing.setl_id]
    assert list(found.missing_in_core) == []
    assert [(d.setl_id, d.institution.fund_pay_sumamt - d.core.fund_pay_sumamt) for d in found.amounts_differ] == [
        (altered, 1)]
    extra = cpb.ReconcileItem(setl_id="NOT-OURS", medfee_sumamt=5)
    found = served.run(clearing_stub.ReconcileDetail(cpb.ReconcileDetailRequest(**period, items=[*items, extra])))
    assert [i.setl_id for i in found.missing_in_core] == ["NOT-OURS"]


@pytest.mark.parametrize("call, field, reason", [
    ("GetClearingStatement", "month", "INVALID_ARGUMENT"),
    ("CloseMonth", "month", "INVALID_ARGUMENT"),
    ("SetPrepaidFund-unknown", "insuplc_admdvs", "UNKNOWN_REGION"),
    ("SetPrepaidFund-city", "insuplc_admdvs", "UNKNOWN_REGION"),
    ("SetPrepaidFund-months", "from_previous_year_months", "INVALID_ARGUMENT"),
    ("TopUp-missing", "insuplc_admdvs", "PREPAID_FUND_NOT_FOUND"),
    ("ReconcileTotals-long", "enddate", "INVALID_ARGUMENT"),
    ("ReconcileDetail-dup", "items[1].setl_id", "INVALID_ARGUMENT"),
    ("ReconcileTotals-institution", "fixmedins_code", "INSTITUTION_NOT_FOUND"),
])
def test_bad_input_is_refused_with_the_field_named(stubs, served, call, field, reason):
    clearing_stub, _ = stubs
    item = cpb.ReconcileItem(setl_id="S1")
    calls = {
        "GetClearingStatement": lambda: clearing_stub.GetClearingStatement(
            cpb.GetClearingStatementRequest(month="2026-13")),
        "CloseMonth": lambda: clearing_stub.CloseMonth(cpb.CloseMonthRequest(request_id="C1", month="202601")),
        "SetPrepaidFund-unknown": lambda: clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
            request_id="P1", insuplc_admdvs="990000", year=2026, balance=1)),
        "SetPrepaidFund-city": lambda: clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
            request_id="P1", insuplc_admdvs="110105", year=2026, balance=1)),
        "SetPrepaidFund-months": lambda: clearing_stub.SetPrepaidFund(cpb.SetPrepaidFundRequest(
            request_id="P1", insuplc_admdvs=cw.BJ, year=2026, from_previous_year_months=13)),
        "TopUp-missing": lambda: clearing_stub.TopUpPrepaidFund(cpb.TopUpPrepaidFundRequest(
            request_id="T1", insuplc_admdvs=cw.BJ, year=2026, amount=5)),
        "ReconcileTotals-long": lambda: clearing_stub.ReconcileTotals(cpb.ReconcileTotalsRequest(
            fixmedins_code=cw.HOSPITAL[cw.BJ], begndate="2026-01-01", enddate="2026-02-01")),
        "ReconcileDetail-dup": lambda: clearing_stub.ReconcileDetail(cpb.ReconcileDetailRequest(
            fixmedins_code=cw.HOSPITAL[cw.BJ], begndate="2026-01-01", enddate="2026-01-31", items=[item, item])),
        "ReconcileTotals-institution": lambda: clearing_stub.ReconcileTotals(cpb.ReconcileTotalsRequest(
            fixmedins_code="HNOPE", begndate="2026-01-01", enddate="2026-01-31")),
    }
    error = refused(served, calls[call]())
    reasons_, _, fields = rpc_error_info(error)
    assert reasons_[0] == reason
    assert field in fields
