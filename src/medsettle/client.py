"""`medsettle call ...`: client calls for people at a terminal, printing readable results."""

from __future__ import annotations

import argparse
import sys
import time

import grpc
from grpc_status import rpc_status

from medsettle import connect
from medsettle.domain.money import format_fen
from medsettle.v1 import (
    common_pb2,
    person_pb2,
    person_pb2_grpc,
    reference_data_pb2,
    reference_data_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
)


def add_commands(call) -> None:
    # The connection flags and --json after the subcommand too (`call person --as X --json`).
    common = argparse.ArgumentParser(add_help=False)
    connect.add_flags(common, inherited=True)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the raw answer as JSON")
    sub = call.add_subparsers(dest="call", required=True)
    person = sub.add_parser("person", parents=[common], help="1101: a person's information (default caller "
                                                             "national:ops; an institution gives the person's credential)")
    _add_person_flags(person)

    benefit = sub.add_parser("benefit", parents=[common],
                             help="2001: will direct settlement go through, and if not why")
    _add_person_flags(benefit)
    benefit.add_argument("--insutype", default="")
    benefit.add_argument("--fixmedins-code", required=True)
    benefit.add_argument("--med-type", default="11")
    benefit.add_argument("--dise-codg", default="")
    benefit.add_argument("--date", default="")

    item = sub.add_parser("catalog-item", parents=[common], help="a catalog item of a place of treatment at a date")
    item.add_argument("--mdtrtarea-admvs", required=True)
    item.add_argument("--med-list-codg", required=True)
    item.add_argument("--date", default="")

    settle = sub.add_parser("settle", parents=[common],
                            help="2207: settle an outpatient visit; lines as CODE:CNT:PRIC[:DATE]")
    settle.add_argument("--psn-no", required=True)
    settle.add_argument("--insutype", default="")
    settle.add_argument("--fixmedins-code", required=True)
    settle.add_argument("--med-type", default="11")
    settle.add_argument("--dise-codg", default="")
    settle.add_argument("--line", action="append", required=True, help="CODE:CNT:PRIC[:YYYY-MM-DD]")
    settle.add_argument("--acct", action="store_true", help="pay the person's part from the personal account")
    settle.add_argument("--pre", action="store_true", help="pre-settle only (2206): commits nothing")
    settle.add_argument("--request-id", default="")

    reverse = sub.add_parser("reverse", parents=[common], help="2208/2305: reverse a settlement")
    reverse.add_argument("--fixmedins-code", required=True)
    reverse.add_argument("--setl-id", required=True)
    reverse.add_argument("--request-id", default="")


def _add_person_flags(parser) -> None:
    parser.add_argument("--psn-no", default="")
    parser.add_argument("--cert-type", default="", help="01 e-voucher token, 02 ID number, 03 card (with --card-sn)")
    parser.add_argument("--cert-no", default="")
    parser.add_argument("--card-sn", default="")


def _person_ref(args) -> person_pb2.PersonRef:
    if not args.psn_no and not args.cert_no:
        raise SystemExit("name the person: --psn-no, or --cert-type and --cert-no")
    return person_pb2.PersonRef(psn_no=args.psn_no, mdtrt_cert_type=args.cert_type, mdtrt_cert_no=args.cert_no,
                                card_sn=args.card_sn)


def default_caller(args) -> str:
    """Who a subcommand calls as unless --as says: the hospital for what a hospital does, else national
    operations (looking a person up by psn_no alone is not something a hospital may do)."""
    if args.call in ("settle", "reverse"):
        return f"institution:{args.fixmedins_code}"
    return connect.OPERATOR


def _request_id(given: str, fixmedins_code: str) -> str:
    # The national msgid shape: institution code + time + sequence, at most 40 characters.
    return given or f"{fixmedins_code}{time.strftime('%Y%m%d%H%M%S')}{time.time_ns() % 10000:04d}"[:40]


def line_pb(spec: str, index: int) -> common_pb2.FeeLine:
    from medsettle.domain import money

    parts = spec.split(":")
    code, cnt, pric = parts[:3]
    fee_date = parts[3] if len(parts) > 3 else time.strftime("%Y-%m-%d")
    amount = money.line_amount_fen(money.parse_decimal(cnt, 4), money.parse_decimal(pric, 6))
    return common_pb2.FeeLine(feedetl_sn=f"{index + 1:04d}", med_list_codg=code, cnt=cnt, pric=pric,
                              det_item_fee_sumamt=amount, fee_ocur_time=fee_date)


def print_settlement(s: common_pb2.Settlement) -> None:
    print(f"settlement {s.setl_id or '(pre-settlement, not committed)'}  person {s.psn_no}  med_type {s.med_type}"
          f"  filing category {s.filing_category or '-'}  date {s.setl_date}")
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


def print_error(error: grpc.RpcError) -> None:
    print(f"refused: {error.code().name}: {error.details()}", file=sys.stderr)
    status = rpc_status.from_call(error)
    if status is None:
        return
    from google.rpc import error_details_pb2

    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            print(f"  reason {info.reason} {dict(info.metadata)}", file=sys.stderr)


def main(args) -> int:
    from medsettle.cli import print_json

    with connect.channel(args, default_caller(args)) as channel:
        persons = person_pb2_grpc.PersonServiceStub(channel)
        settlements = settlement_pb2_grpc.SettlementServiceStub(channel)
        reference = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
        try:
            if args.call == "person":
                answer = persons.GetPerson(person_pb2.GetPersonRequest(person=_person_ref(args)))
            elif args.call == "benefit":
                answer = persons.CheckBenefit(person_pb2.CheckBenefitRequest(
                    person=_person_ref(args), insutype=args.insutype,
                    fixmedins_code=args.fixmedins_code, med_type=args.med_type, dise_codg=args.dise_codg,
                    date=args.date))
                if not args.json:
                    print("direct settlement: " + ("OK" if answer.ok else "REFUSED")
                          + (f" (filing category {answer.filing_category})" if answer.filing_category else ""))
                    for reason in answer.reasons:
                        print(f"  {reason.code}: {reason.message_zh} / {reason.message_en}")
                        if reason.remedy:
                            print(f"    remedy {reason.remedy}: {reason.remedy_zh} / {reason.remedy_en}")
                    return 0 if answer.ok else 1
            elif args.call == "catalog-item":
                answer = reference.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
                    mdtrtarea_admvs=args.mdtrtarea_admvs, med_list_codg=args.med_list_codg, date=args.date))
            elif args.call == "settle":
                lines = [line_pb(spec, i) for i, spec in enumerate(args.line)]
                claim = settlement_pb2.OutpatientClaim(
                    person=person_pb2.PersonRef(psn_no=args.psn_no), insutype=args.insutype,
                    fixmedins_code=args.fixmedins_code, med_type=args.med_type, dise_codg=args.dise_codg,
                    fee_lines=lines, medfee_sumamt=sum(line.det_item_fee_sumamt for line in lines),
                    acct_used_flag=args.acct)
                if args.pre:
                    answer = settlements.PreSettleOutpatient(settlement_pb2.PreSettleOutpatientRequest(claim=claim))
                else:
                    answer = settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                        request_id=_request_id(args.request_id, args.fixmedins_code), claim=claim))
                if not args.json:
                    print_settlement(answer.settlement)
                    return 0
            elif args.call == "reverse":
                answer = settlements.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
                    request_id=_request_id(args.request_id, args.fixmedins_code), fixmedins_code=args.fixmedins_code,
                    setl_id=args.setl_id))
                if not args.json:
                    print_settlement(answer.settlement)
                    return 0
            else:
                raise AssertionError(args.call)
        except grpc.RpcError as error:
            print_error(error)
            return 1
    print_json(answer)
    return 0
