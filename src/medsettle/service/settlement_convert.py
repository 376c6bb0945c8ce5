"""Settlements' proto <-> domain: a claim's fee lines in (each field checked, the bad one named), a settlement out."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from medsettle.domain import dates, money, reasons
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import FeeLine, Settlement
from medsettle.process_cache import ProcessCache
from medsettle.service.convert import (
    AMOUNT_FEN_MAX,
    CNT_E4_MAX,
    CNT_PLACES,
    DATE_MAX,
    DATE_MIN,
    PRIC_E6_MAX,
    PRIC_PLACES,
    amount,
    code,
    date,
    decimal,
    is_code,
    timestamp_of_ms,
)
from medsettle.v1 import common_pb2

R = TypeVar("R", bound=Message)

# Quantities and unit prices repeat from claim to claim ("1", "2", the catalog's prices): their exact values, once
# parsed, per process. Only well-formed texts within the bounds are kept; bounded, emptied when full.
_DECIMALS_MAX = 50_000
_cnt_e4_of = ProcessCache(_DECIMALS_MAX)
_pric_e6_of = ProcessCache(_DECIMALS_MAX)
# Likewise the codes of fee lines (items, and line numbers "1", "00001"...) found well-formed: bounded, emptied when full.
_CODES_MAX = 100_000
_codes_ok = ProcessCache(_CODES_MAX)  # code -> True


def _decimal_known(text: str, places: int, most: int, known: ProcessCache) -> int | None:
    """The text's exact value when it is a decimal of at most `places` decimals and at most `most`, else None."""
    value = known.get(text)
    if value is not None:
        return value
    try:
        value = money.parse_decimal(text, places)
    except ValueError:
        return None
    if value > most:
        return None
    return known.remember(text, value)


def _code_ok(text: str) -> bool:
    """is_code, remembered when true."""
    if not is_code(text):
        return False
    return _codes_ok.remember(text, True)


def _fee_line_fast(line, dates_ok: set[str]) -> FeeLine | None:
    """The line converted when every field is well-formed, else None (the checked path then names the field).

    The same checks as the checked path, without building a field name per check: a settlement's lines are
    almost always well-formed, and this runs for every line of every settlement."""
    sn, item_code, day, amount_fen = line.feedetl_sn, line.med_list_codg, line.fee_ocur_time, line.det_item_fee_sumamt
    if not ((sn in _codes_ok or _code_ok(sn)) and (item_code in _codes_ok or _code_ok(item_code))
            and 0 <= amount_fen <= AMOUNT_FEN_MAX):
        return None
    if day not in dates_ok:
        if not dates.is_date(day) or not (DATE_MIN <= day <= DATE_MAX):
            return None
        dates_ok.add(day)
    cnt_e4 = _decimal_known(line.cnt, CNT_PLACES, CNT_E4_MAX, _cnt_e4_of)
    pric_e6 = _decimal_known(line.pric, PRIC_PLACES, PRIC_E6_MAX, _pric_e6_of)
    if cnt_e4 is None or pric_e6 is None:
        return None
    return FeeLine(feedetl_sn=sn, med_list_codg=item_code, cnt_e4=cnt_e4, pric_e6=pric_e6,
                   det_item_fee_sumamt_fen=amount_fen, fee_ocur_date=day)


def fee_line_checked(line, where: str) -> FeeLine:
    """One fee line, each field checked and named when it is wrong."""
    return FeeLine(
        feedetl_sn=code(line.feedetl_sn, f"{where}.feedetl_sn"),
        med_list_codg=code(line.med_list_codg, f"{where}.med_list_codg"),
        cnt_e4=decimal(line.cnt, CNT_PLACES, f"{where}.cnt", CNT_E4_MAX),
        pric_e6=decimal(line.pric, PRIC_PLACES, f"{where}.pric", PRIC_E6_MAX),
        det_item_fee_sumamt_fen=amount(line.det_item_fee_sumamt, f"{where}.det_item_fee_sumamt"),
        fee_ocur_date=date(line.fee_ocur_time, f"{where}.fee_ocur_time"),
    )


def fee_lines(lines, field: str, limit: int) -> tuple[FeeLine, ...]:
    if len(lines) > limit:
        raise Refusal(reasons.LINES_LIMIT, field=field, detail=f"{len(lines)} lines, at most {limit} per request")
    seen: set[str] = set()
    result = []
    dates_ok: set[str] = set()
    for index, line in enumerate(lines):
        fast = _fee_line_fast(line, dates_ok)
        if fast is not None and fast.feedetl_sn not in seen:
            seen.add(fast.feedetl_sn)
            result.append(fast)
            continue
        checked = fee_line_checked(line, f"{field}[{index}]")
        if checked.feedetl_sn in seen:
            raise Refusal(reasons.INVALID_ARGUMENT, field=f"{field}[{index}].feedetl_sn", feedetl_sn=checked.feedetl_sn,
                          detail="duplicate feedetl_sn")
        seen.add(checked.feedetl_sn)
        result.append(checked)
    return tuple(result)


def settlement_pb(s: Settlement) -> common_pb2.Settlement:
    pb = _scalars_pb(s)
    _fill_repeated(pb, s)
    return pb


def settlement_into(target: common_pb2.Settlement, s: Settlement) -> None:
    """`s` written into `target`, an empty Settlement field of a response, in place: handing a whole Settlement
    message to a response (its constructor, or CopyFrom) copies it, its lines and explanation included (~4 us of a
    10-line settlement's answer of ~21, on every durable settlement)."""
    target.MergeFrom(_scalars_pb(s))  # copies the scalars only
    _fill_repeated(target, s)


def answer(response_type: type[R], s: Settlement) -> R:
    """A response whose only field is the settlement: `response_type(settlement=settlement_pb(s))`, built in place."""
    response = response_type()
    settlement_into(response.settlement, s)
    return response


def _scalars_pb(s: Settlement) -> common_pb2.Settlement:
    return common_pb2.Settlement(
        setl_id=s.setl_id, mdtrt_id=s.mdtrt_id, psn_no=s.psn_no, insutype=s.insutype, med_type=s.med_type,
        fixmedins_code=s.fixmedins_code, insuplc_admdvs=s.insuplc_admdvs, mdtrtarea_admvs=s.mdtrtarea_admvs,
        setl_time=timestamp_of_ms(s.setl_time_ms), filing_category=s.filing_category,
        trt_dcla_detl_sn=s.trt_dcla_detl_sn, dise_codg=s.dise_codg, clr_type=s.clr_type,
        medfee_sumamt=s.medfee_sumamt_fen, fulamt_ownpay_amt=s.fulamt_ownpay_amt_fen,
        overlmt_selfpay=s.overlmt_selfpay_fen, preselfpay_amt=s.preselfpay_amt_fen, inscp_scp_amt=s.inscp_scp_amt_fen,
        act_pay_dedc=s.act_pay_dedc_fen, hifp_pay=s.hifp_pay_fen, pool_prop_selfpay=s.pool_prop_selfpay_bp,
        hifob_pay=s.hifob_pay_fen, hifmi_pay=s.hifmi_pay_fen, fund_pay_sumamt=s.fund_pay_sumamt_fen,
        psn_part_amt=s.psn_part_amt_fen, hosp_part_amt=s.hosp_part_amt_fen, acct_pay=s.acct_pay_fen,
        psn_cash_pay=s.psn_cash_pay_fen, balc=s.balc_fen,
        reversed_setl_id=s.reversed_setl_id, reversal_setl_id=s.reversal_setl_id, setl_date=s.setl_date,
    )


def _fill_repeated(pb: common_pb2.Settlement, s: Settlement) -> None:
    # Repeated fields filled with add(): a third cheaper than lists of constructed messages (every settlement's
    # answer is built here, 300 lines for a stay).
    add_payment = pb.setldetail.add
    for p in s.setldetail:
        add_payment(fund_pay_type=p.fund_pay_type, fund_payamt=p.fund_payamt_fen, crt_payb_lmt_amt=p.crt_payb_lmt_amt_fen)
    add_line = pb.lines.add
    for r in s.lines:
        add_line(feedetl_sn=r.feedetl_sn, med_list_codg=r.med_list_codg, det_item_fee_sumamt=r.det_item_fee_sumamt_fen,
                 fulamt_ownpay_amt=r.fulamt_ownpay_amt_fen, overlmt_amt=r.overlmt_amt_fen,
                 preselfpay_amt=r.preselfpay_amt_fen, inscp_scp_amt=r.inscp_scp_amt_fen, chrgitm_lv=r.chrgitm_lv,
                 selfpay_prop=r.selfpay_prop_bp, pric_uplmt_amt=r.pric_uplmt_amt_fen or None, lmt_reason=r.lmt_reason,
                 catalog_begndate=r.catalog_begndate)
    add_step = pb.explanation.add
    for e in s.explanation:
        add_step(code=e.code, text_zh=e.zh, text_en=e.en, amount=e.amount_fen)
