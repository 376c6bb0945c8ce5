"""Proto <-> domain translation for ClearingService: months, statements, prepaid funds, reconciliation items."""

from __future__ import annotations

from medsettle.domain import clearing, reasons, region
from medsettle.domain.prepaid import PrepaidAlert, PrepaidFund
from medsettle.domain.reasons import Refusal, shown
from medsettle.domain.reconciliation import Detail, Item
from medsettle.service import convert
from medsettle.service.errors import invalid
from medsettle.store.clearing_book import Book
from medsettle.v1 import clearing_pb2 as pb


def month(value: str, field: str = "month") -> str:
    if not clearing.is_month(value):
        raise invalid(field, f"expected a month YYYY-MM, got {shown(value)}")
    return value


def province(value: str, field: str = "insuplc_admdvs") -> str:
    convert.admdvs(value, field)
    if not region.is_province(value):
        raise Refusal(reasons.UNKNOWN_REGION, field=field, detail=f"{shown(value)} is not a province code (xx0000)")
    return value


def statement_pb(book: Book) -> pb.ClearingStatement:
    stmt = book.statement
    return pb.ClearingStatement(
        month=stmt.month,
        pairs=[pb.ClearingPair(insuplc_admdvs=p.insuplc_admdvs, mdtrtarea_admvs=p.mdtrtarea_admvs, setl_cnt=p.setl_cnt,
                               medfee_sumamt=p.medfee_sumamt_fen, fund_pay_sumamt=p.fund_pay_sumamt_fen,
                               acct_pay=p.acct_pay_fen) for p in stmt.pairs],
        positions=[pb.ProvincePosition(admdvs=p.admdvs, receivable=p.receivable_fen, payable=p.payable_fen,
                                       net=p.net_fen) for p in stmt.positions],
        closed=book.closed is not None, digest=book.digest, canonical=book.canonical,
        deductions=[pb.ClearingDeduction(insuplc_admdvs=d.insuplc_admdvs, mdtrtarea_admvs=d.mdtrtarea_admvs,
                                         deduction_cnt=d.deduction_cnt, deducted=d.deducted_fen)
                    for d in stmt.deductions],
    )


def fund_pb(fund: PrepaidFund) -> pb.PrepaidFund:
    return pb.PrepaidFund(
        insuplc_admdvs=fund.insuplc_admdvs, year=fund.year, balance_set=fund.balance_set_fen,
        sized_from_months=fund.sized_from_months, warn_threshold=fund.warn_threshold_bp,
        topped_up=fund.topped_up_fen, drawn=fund.drawn_fen, balance=fund.balance_fen, usage=fund.usage_bp,
        draws=[pb.PrepaidDraw(month=d.month, amount=d.amount_fen) for d in fund.draws],
        top_ups=[pb.PrepaidTopUp(amount=t.amount_fen, request_id=t.request_id) for t in fund.top_ups],
    )


def alert_pb(alert: PrepaidAlert, active: bool) -> pb.PrepaidAlert:
    return pb.PrepaidAlert(insuplc_admdvs=alert.insuplc_admdvs, year=alert.year, month=alert.month,
                           usage=alert.usage_bp, warn_threshold=alert.warn_threshold_bp, balance=alert.balance_fen,
                           active=active)


def items(pbs, field: str, limit: int) -> list[Item]:
    if len(pbs) > limit:
        raise invalid(field, f"{len(pbs)} settlements, at most {limit} per request")
    seen: set[str] = set()
    result = []
    for index, each in enumerate(pbs):
        where = f"{field}[{index}]"
        sid = convert.code(each.setl_id, f"{where}.setl_id")
        if sid in seen:
            raise invalid(f"{where}.setl_id", f"duplicate setl_id {sid}")
        seen.add(sid)
        result.append(Item(setl_id=sid,
                           medfee_sumamt_fen=convert.amount(each.medfee_sumamt, f"{where}.medfee_sumamt",
                                                            allow_negative=True),
                           fund_pay_sumamt_fen=convert.amount(each.fund_pay_sumamt, f"{where}.fund_pay_sumamt",
                                                              allow_negative=True),
                           acct_pay_fen=convert.amount(each.acct_pay, f"{where}.acct_pay", allow_negative=True)))
    return result


def item_pb(item: Item) -> pb.ReconcileItem:
    return pb.ReconcileItem(setl_id=item.setl_id, medfee_sumamt=item.medfee_sumamt_fen,
                            fund_pay_sumamt=item.fund_pay_sumamt_fen, acct_pay=item.acct_pay_fen)


def deduction_pb(d: clearing.Deduction) -> pb.ReconcileDeduction:
    return pb.ReconcileDeduction(flag_id=d.flag_id, setl_id=d.setl_id, date=d.date, amount=d.amount_fen,
                                 reversal_setl_id=d.reversal_setl_id)


def detail_pb(found: Detail, core_cnt: int, institution_cnt: int,
              deductions: list[clearing.Deduction]) -> pb.ReconcileDetailResponse:
    return pb.ReconcileDetailResponse(
        deductions=[deduction_pb(d) for d in deductions],
        match=found.match, core_setl_cnt=core_cnt, institution_setl_cnt=institution_cnt,
        missing_in_core=[item_pb(i) for i in found.missing_in_core],
        missing_at_institution=[item_pb(i) for i in found.missing_at_institution],
        amounts_differ=[pb.AmountDifference(setl_id=d.setl_id, institution=item_pb(d.institution), core=item_pb(d.core))
                        for d in found.amounts_differ],
    )
