"""ClearingService: monthly clearing statements, month close, prepaid funds, institution reconciliation.

Statements come from the aggregates put_settlement keeps at commit time (store/clearing_book.py), never from a
scan of the ledger. Mutating calls go through idempotency.once with the platform caller, in the writer.
Reconciliation reads the day index of one institution over a bounded period, off the event loop.
"""

from __future__ import annotations

import asyncio

from medsettle import metrics
from medsettle.domain import clearing, codes, dates, prepaid, reasons, reconciliation, region
from medsettle.domain.reasons import Refusal
from medsettle.service import clearing_convert as cc
from medsettle.service import convert, idempotency, identity
from medsettle.service.app import App
from medsettle.service.rpc import rpc
from medsettle.store import clearing_book
from medsettle.store.view import View, WriteView
from medsettle.v1 import clearing_pb2 as pb
from medsettle.v1 import clearing_pb2_grpc as pb_grpc

RECONCILE_DAYS_MAX = 31
RECONCILE_ITEMS_MAX = 50_000
RECONCILE_CORE_ROWS_MAX = 500_000  # what one period of one institution may hold before we ask for a shorter one


def _period(begndate: str, enddate: str) -> list[str]:
    begin = convert.date(begndate, "begndate")
    end = convert.date(enddate, "enddate")
    if end < begin:
        raise convert.invalid("enddate", "enddate before begndate")
    days = [begin]
    while days[-1] < end:
        if len(days) >= RECONCILE_DAYS_MAX:
            raise convert.invalid("enddate", f"a reconciliation period is at most {RECONCILE_DAYS_MAX} days")
        days.append(dates.add_days(days[-1], 1))
    return days


def _answers_for(insured: frozenset[str] | None, insuplc_admdvs: str) -> bool:
    """A shard answers for the settlements of its own insured provinces (its store may hold copies of others')."""
    return insured is None or region.province_of(insuplc_admdvs) in insured


def _core_settlements(view: View, fixmedins_code: str, days: list[str], insured: frozenset[str] | None = None):
    if view.institution(fixmedins_code) is None:
        raise Refusal(reasons.INSTITUTION_NOT_FOUND, field="fixmedins_code")
    found = []
    for day in days:
        for setl_id in view.settlement_ids_on(day, fixmedins_code):
            setl = view.settlement(setl_id)
            assert setl is not None and setl.fixmedins_code == fixmedins_code, setl_id
            if not _answers_for(insured, setl.insuplc_admdvs):
                continue
            found.append(setl)
            if len(found) > RECONCILE_CORE_ROWS_MAX:
                raise convert.invalid("enddate", "the period holds too many settlements: reconcile a shorter one")
    return found


def _deductions(view: View, fixmedins_code: str, days: list[str],
                insured: frozenset[str] | None = None) -> list[clearing.Deduction]:
    """Deductions on the institution's settlements confirmed (or given back) in the period: what the place of
    treatment recovers from it."""
    return [d for day in days for d in view.deductions_on(day, fixmedins_code)
            if _answers_for(insured, d.insuplc_admdvs)]


class ClearingServicer(pb_grpc.ClearingServiceServicer):
    full_name = "medsettle.v1.ClearingService"
    add = staticmethod(pb_grpc.add_ClearingServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    @staticmethod
    def _alerts_pb(alerts, fund_of) -> list[pb.PrepaidAlert]:
        """Alerts, each active while its fund (`fund_of(province, year)`, as the caller holds it) is over the
        threshold."""
        answers = []
        for alert in alerts:
            fund = fund_of(alert.insuplc_admdvs, alert.year)
            answers.append(cc.alert_pb(alert, active=fund is not None and fund.over_threshold))
        return answers

    # -- clearing ------------------------------------------------------------------------------------

    @rpc
    async def GetClearingStatement(self, request: pb.GetClearingStatementRequest,
                                   context) -> pb.GetClearingStatementResponse:
        month = cc.month(request.month)
        province = cc.province(request.admdvs, "admdvs") if request.admdvs else ""
        with self.app.store.read() as view:
            book = clearing_book.book(view, month, self.app.insured_provinces)
        statement = cc.statement_pb(book)
        if province:
            # A province's part: the pairs it owes or is owed in, its own position. The digest stays the whole
            # statement's, so the province can match it against the one national publishes; the canonical bytes
            # (every pair) do not travel.
            pairs = [p for p in statement.pairs if province in (p.insuplc_admdvs, p.mdtrtarea_admvs)]
            positions = [p for p in statement.positions if p.admdvs == province]
            del statement.pairs[:], statement.positions[:]
            statement.pairs.extend(pairs)
            statement.positions.extend(positions)
            statement.canonical = b""
        return pb.GetClearingStatementResponse(statement=statement)

    @rpc
    async def CloseMonth(self, request: pb.CloseMonthRequest, context) -> pb.CloseMonthResponse:
        month = cc.month(request.month)
        clearing_book.check_closable(month, self.app.clock.today())  # refused before the request is recorded
        who = identity.current().uri

        def effect(view: WriteView):
            result = clearing_book.close_month(view, month, self.app.clock.today(), self.app.clock.now_ms(), who,
                                               self.app.insured_provinces)
            drawn = {(fund.insuplc_admdvs, fund.year): fund for fund in result.funds}  # every alert's fund is here
            if not result.already_closed:
                self.app.audit(view, who, "CloseMonth", f"closed {month} digest {result.book.digest} "
                                                     f"funds drawn {len(result.funds)}", request.request_id)
            response = pb.CloseMonthResponse(statement=cc.statement_pb(result.book),
                                             already_closed=result.already_closed,
                                             funds=[cc.fund_pb(f) for f in result.funds],
                                             alerts=self._alerts_pb(result.alerts, lambda province, year: drawn.get(
                                                 (province, year))))
            return response, {}

        response = await idempotency.once(self.app, who, request, pb.CloseMonthResponse, effect)
        self._observe(response.funds)
        return response

    def _observe(self, funds_pb) -> None:
        with self.app.store.read() as view:
            for each in funds_pb:
                fund = view.prepaid_fund(each.insuplc_admdvs, each.year)
                if fund is not None:
                    metrics.PREPAID_USAGE_BP.labels(province=fund.insuplc_admdvs).set(fund.usage_bp)

    # -- prepaid funds -------------------------------------------------------------------------------

    def _year_or_current(self, value: int) -> int:
        return convert.year(value) if value else int(self.app.clock.today()[:4])

    @rpc
    async def GetPrepaidFund(self, request: pb.GetPrepaidFundRequest, context) -> pb.GetPrepaidFundResponse:
        province = cc.province(request.insuplc_admdvs)
        year = self._year_or_current(request.year)
        with self.app.store.read() as view:
            fund = view.prepaid_fund(province, year)
        if fund is None:
            raise Refusal(reasons.PREPAID_FUND_NOT_FOUND, field="insuplc_admdvs", detail=f"{province}/{year}")
        return pb.GetPrepaidFundResponse(fund=cc.fund_pb(fund))

    @rpc
    async def SetPrepaidFund(self, request: pb.SetPrepaidFundRequest, context) -> pb.SetPrepaidFundResponse:
        province = cc.province(request.insuplc_admdvs)
        year = convert.year(request.year)
        threshold = convert.ratio(request.warn_threshold, "warn_threshold") or prepaid.WARN_THRESHOLD_BP_DEFAULT
        sizing = request.WhichOneof("sizing")
        if sizing is None:
            raise convert.invalid("balance", "give balance or from_previous_year_months")
        months = 0
        if sizing == "from_previous_year_months":
            months = request.from_previous_year_months
            if not 1 <= months <= prepaid.MONTHS_PER_YEAR:
                raise convert.invalid("from_previous_year_months", f"{months} is not 1..12")
        balance = convert.amount(request.balance, "balance")
        who = identity.current().uri

        def effect(view: WriteView):
            amount = balance
            if months:
                paid = clearing_book.previous_year_payable_fen(view, province, year)
                if paid <= 0:
                    raise Refusal(reasons.NO_PREVIOUS_YEAR_PAYMENTS, field="from_previous_year_months",
                                  detail=f"{province} paid {paid} fen in {year - 1}")
                amount = prepaid.size_from_previous_year(paid, months)
            fund = prepaid.new_fund(province, year, amount, sized_from_months=months, warn_threshold_bp=threshold,
                                    old=view.prepaid_fund(province, year))
            fund, alerts = clearing_book.set_fund(view, fund)
            self.app.audit(view, who, "SetPrepaidFund", f"prepaid {province}/{year} set {amount} fen "
                                                     f"(months {months}) threshold {threshold} bp", request.request_id)
            return pb.SetPrepaidFundResponse(fund=cc.fund_pb(fund), alerts=self._alerts_pb(alerts, lambda _p, _y: fund)), {}

        response = await idempotency.once(self.app, who, request, pb.SetPrepaidFundResponse, effect)
        self._observe([response.fund])
        return response

    @rpc
    async def TopUpPrepaidFund(self, request: pb.TopUpPrepaidFundRequest, context) -> pb.TopUpPrepaidFundResponse:
        province = cc.province(request.insuplc_admdvs)
        year = self._year_or_current(request.year)
        amount = convert.amount(request.amount, "amount")
        if amount <= 0:
            raise convert.invalid("amount", "a top-up is a positive amount")
        who = identity.current().uri

        def effect(view: WriteView):
            fund = view.prepaid_fund(province, year)
            if fund is None:
                raise Refusal(reasons.PREPAID_FUND_NOT_FOUND, field="insuplc_admdvs", detail=f"{province}/{year}")
            if len(fund.top_ups) >= prepaid.TOP_UPS_MAX:
                raise convert.invalid("amount", f"at most {prepaid.TOP_UPS_MAX} top-ups a year")
            fund = prepaid.top_up(fund, amount, self.app.clock.now_ms(), convert.request_id(request.request_id))
            view.put_prepaid_fund(fund)
            self.app.audit(view, who, "TopUpPrepaidFund", f"prepaid {province}/{year} topped up {amount} fen",
                        request.request_id)
            return pb.TopUpPrepaidFundResponse(fund=cc.fund_pb(fund)), {}

        response = await idempotency.once(self.app, who, request, pb.TopUpPrepaidFundResponse, effect)
        self._observe([response.fund])
        return response

    @rpc
    async def ListPrepaidAlerts(self, request: pb.ListPrepaidAlertsRequest, context) -> pb.ListPrepaidAlertsResponse:
        province = cc.province(request.insuplc_admdvs) if request.insuplc_admdvs else ""
        with self.app.store.read() as view:
            return pb.ListPrepaidAlertsResponse(alerts=self._alerts_pb(view.prepaid_alerts(province), view.prepaid_fund))

    # -- institution reconciliation (3201, 3202) -------------------------------------------------------

    @rpc
    async def ReconcileTotals(self, request: pb.ReconcileTotalsRequest, context) -> pb.ReconcileTotalsResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        days = _period(request.begndate, request.enddate)
        clr_type = convert.code(request.clr_type, "clr_type",
                                frozenset({"", codes.CLR_TYPE_OUTPATIENT, codes.CLR_TYPE_INPATIENT}))
        theirs = clearing.Totals(setl_cnt=request.setl_cnt, medfee_sumamt_fen=request.medfee_sumamt,
                                 fund_pay_sumamt_fen=request.fund_pay_sumamt, acct_pay_fen=request.acct_pay)

        def read() -> tuple[clearing.Totals, list[clearing.Deduction]]:
            with self.app.store.read() as view:
                found = _core_settlements(view, fixmedins_code, days, self.app.insured_provinces)
                deductions = _deductions(view, fixmedins_code, days, self.app.insured_provinces)
            return reconciliation.totals(s for s in found if not clr_type or s.clr_type == clr_type), deductions

        ours, deductions = await asyncio.to_thread(read)
        return pb.ReconcileTotalsResponse(match=ours == theirs, setl_cnt=ours.setl_cnt,
                                          medfee_sumamt=ours.medfee_sumamt_fen,
                                          fund_pay_sumamt=ours.fund_pay_sumamt_fen, acct_pay=ours.acct_pay_fen,
                                          deduction_cnt=sum(1 if d.amount_fen > 0 else -1 for d in deductions),
                                          deducted=sum(d.amount_fen for d in deductions))

    @rpc
    async def ReconcileDetail(self, request: pb.ReconcileDetailRequest, context) -> pb.ReconcileDetailResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        days = _period(request.begndate, request.enddate)
        theirs = cc.items(request.items, "items", RECONCILE_ITEMS_MAX)

        def read() -> pb.ReconcileDetailResponse:
            with self.app.store.read() as view:
                insured = self.app.insured_provinces
                ours = [reconciliation.item_of(s) for s in _core_settlements(view, fixmedins_code, days, insured)]
                deductions = _deductions(view, fixmedins_code, days, insured)
            return cc.detail_pb(reconciliation.detail(theirs, ours), len(ours), len(theirs), deductions)

        return await asyncio.to_thread(read)
