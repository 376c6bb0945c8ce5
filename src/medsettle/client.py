"""What `medsettle call` sends and how it shows answers to a person at a terminal: requests built from the command
line's terms, answers printed with money in yuan (two decimals) and refusals with their reasons. It knows nothing
of argparse; commands/call.py is the command."""

from __future__ import annotations

import json
import time

import grpc
from google.protobuf import json_format
from grpc_status import rpc_status

from medsettle.domain import money
from medsettle.domain.money import format_fen
from medsettle.v1 import common_pb2, person_pb2, reference_data_pb2

REQUEST_ID_CHARS_MAX = 40


def new_request_id(fixmedins_code: str) -> str:
    # The national msgid shape: institution code + time + sequence, at most 40 characters.
    return f"{fixmedins_code}{time.strftime('%Y%m%d%H%M%S')}{time.time_ns() // 1000 % 10000:04d}"[
        :REQUEST_ID_CHARS_MAX]


def line_pb(spec: str, index: int) -> common_pb2.FeeLine:
    """A fee line from CODE:CNT:PRIC[:YYYY-MM-DD] (count and unit price as decimals, the price in yuan)."""
    parts = spec.split(":")
    if not 3 <= len(parts) <= 4:
        raise ValueError(f"--line {spec!r}: expected CODE:CNT:PRIC[:YYYY-MM-DD]")
    code, cnt, pric = parts[:3]
    fee_date = parts[3] if len(parts) > 3 else time.strftime("%Y-%m-%d")
    try:
        amount = money.line_amount_fen(money.parse_decimal(cnt, 4), money.parse_decimal(pric, 6))
    except ValueError as error:
        raise ValueError(f"--line {spec!r}: {error}") from None
    return common_pb2.FeeLine(feedetl_sn=f"{index + 1:04d}", med_list_codg=code, cnt=cnt, pric=pric,
                              det_item_fee_sumamt=amount, fee_ocur_time=fee_date)


def print_json(message) -> None:
    """The raw answer, as the contract has it (amounts in fen, int64 as strings: proto3 JSON)."""
    print(json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True), ensure_ascii=False,
                     indent=2))


def _yuan(fen: int) -> str:
    return f"{format_fen(fen)} yuan"


def print_person(answer: person_pb2.GetPersonResponse) -> None:
    p = answer.baseinfo
    print(f"person {p.psn_no}  {p.psn_name}  gend {p.gend}  born {p.brdy}")
    print(f"  certno {p.certno or '-'}  card {p.card_no or '-'} sn {p.card_sn or '-'}"
          f" ({'activated' if p.card_activated else 'not activated'})")
    for line in p.insuinfo:
        print(f"  insutype {line.insutype}  psn_type {line.psn_type}  status {line.psn_insu_stas}  insured in "
              f"{line.insuplc_admdvs}  account balance {_yuan(line.balc)}")
    for f in answer.filings:
        print(f"  filing {f.trt_dcla_detl_sn} category {f.category} to {f.mdtrtarea_admvs}"
              f" {f.begndate}..{f.enddate or 'open'}" + (f" institution {f.fixmedins_code}" if f.fixmedins_code else ""))
    for q in answer.qualifications:
        print(f"  chronic {q.opsp_dise_code} {q.begndate}..{q.enddate or 'open'}")
    if not answer.filings:
        print("  no filing in force today")


def print_catalog_item(item: reference_data_pb2.CatalogItem) -> None:
    ceiling = _yuan(item.pric_uplmt_amt) if item.HasField("pric_uplmt_amt") else "none"
    print(f"{item.med_list_codg}  {item.name}")
    print(f"  list_type {item.list_type}  class {item.chrgitm_lv}  self-pay share {item.selfpay_prop / 100:.2f}%"
          f"  price ceiling {ceiling}  valid {item.begndate}..{item.enddate or 'open'}")
    if item.lmt_used_flag:
        limits = [f"sex {item.lmt_sex}" if item.lmt_sex else "",
                  f"age >= {item.lmt_age_min}" if item.HasField("lmt_age_min") else "",
                  f"age <= {item.lmt_age_max}" if item.HasField("lmt_age_max") else "",
                  f"setting {item.lmt_setting}" if item.lmt_setting else "",
                  f"diseases {','.join(item.lmt_dise_codes)}" if item.lmt_dise_codes else "",
                  f"per day {item.lmt_cnt_per_day}" if item.lmt_cnt_per_day else ""]
        print("  restricted: " + ", ".join(part for part in limits if part))


def print_benefit(answer: person_pb2.CheckBenefitResponse) -> None:
    print("direct settlement: " + ("OK" if answer.ok else "REFUSED")
          + (f" (filing category {answer.filing_category})" if answer.filing_category else ""))
    for reason in answer.reasons:
        print(f"  {reason.code}: {reason.message_zh} / {reason.message_en}")
        if reason.remedy:
            print(f"    remedy {reason.remedy}: {reason.remedy_zh} / {reason.remedy_en}")


def print_settlement(s: common_pb2.Settlement) -> None:
    print(f"settlement {s.setl_id or '(pre-settlement, not committed)'}  person {s.psn_no}  med_type {s.med_type}"
          f"  filing category {s.filing_category or '-'}  date {s.setl_date}  (yuan)")
    rows = [
        ("medfee_sumamt 医疗费总额", s.medfee_sumamt), ("fulamt_ownpay_amt 全自费", s.fulamt_ownpay_amt),
        ("overlmt_selfpay 超限价自费", s.overlmt_selfpay), ("preselfpay_amt 先行自付", s.preselfpay_amt),
        ("inscp_scp_amt 符合范围", s.inscp_scp_amt), ("act_pay_dedc 起付线", s.act_pay_dedc),
        ("hifp_pay 统筹基金", s.hifp_pay), ("hifob_pay 大额补助", s.hifob_pay), ("hifmi_pay 大病保险", s.hifmi_pay),
        ("fund_pay_sumamt 基金合计", s.fund_pay_sumamt), ("psn_part_amt 个人负担", s.psn_part_amt),
        ("acct_pay 个人账户", s.acct_pay), ("psn_cash_pay 现金", s.psn_cash_pay), ("balc 账户余额", s.balc),
    ]
    for label, fen in rows:
        print(f"  {label:<28} {format_fen(fen):>14}")
    print(f"  ratio applied: {s.pool_prop_selfpay / 100:.2f}%")
    for line in s.lines:
        note = f"  restriction {line.lmt_reason}" if line.lmt_reason else ""
        print(f"  line {line.feedetl_sn} {line.med_list_codg} class {line.chrgitm_lv}: {format_fen(line.det_item_fee_sumamt)}"
              f" = own {format_fen(line.fulamt_ownpay_amt)} + over {format_fen(line.overlmt_amt)}"
              f" + first {format_fen(line.preselfpay_amt)} + scope {format_fen(line.inscp_scp_amt)}{note}")
    print("why:")
    for step in s.explanation:
        print(f"  [{step.code}] {step.text_zh} / {step.text_en}")


def refusal_line(error: grpc.RpcError) -> str:
    """A refusal on one line: status, the stable reasons with what they name (field, fee line, remedy), the text."""
    from google.rpc import error_details_pb2

    reasons = []
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            named = ", ".join(f"{key}={value}" for key, value in sorted(info.metadata.items()))
            reasons.append(info.reason + (f" ({named})" if named else ""))
    text = " ".join((error.details() or "").split())
    return f"refused: {error.code().name}" + (f" {'; '.join(reasons)}" if reasons else "") + f": {text}"
