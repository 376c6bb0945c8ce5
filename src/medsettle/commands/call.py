"""`medsettle call ...`: one call to a running server, its answer printed for a person (money in yuan), or as the
contract's JSON with --json."""

from __future__ import annotations

import sys

import grpc

from medsettle import client, connect, exits
from medsettle.v1 import (
    person_pb2,
    person_pb2_grpc,
    reference_data_pb2,
    reference_data_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
)


def register(commands) -> None:
    call = commands.add_parser("call", help="client calls that print readable results (money in yuan)")
    call.set_defaults(run=cmd_call)
    sub = call.add_subparsers(dest="call", required=True)
    person = sub.add_parser("person", help="1101: a person's information (default caller national:ops; an "
                                           "institution gives the person's credential)")
    _add_person_flags(person)

    benefit = sub.add_parser("benefit", help="2001: will direct settlement go through, and if not why")
    _add_person_flags(benefit)
    benefit.add_argument("--insutype", default="")
    benefit.add_argument("--fixmedins-code", required=True)
    benefit.add_argument("--med-type", default="11")
    benefit.add_argument("--dise-codg", default="")
    benefit.add_argument("--date", default="")

    item = sub.add_parser("catalog-item", help="a catalog item of a place of treatment at a date")
    item.add_argument("--mdtrtarea-admvs", required=True)
    item.add_argument("--med-list-codg", required=True)
    item.add_argument("--date", default="")

    settle = sub.add_parser("settle", help="2207: settle an outpatient visit; lines as CODE:CNT:PRIC[:DATE]")
    settle.add_argument("--psn-no", required=True)
    settle.add_argument("--insutype", default="")
    settle.add_argument("--fixmedins-code", required=True)
    settle.add_argument("--med-type", default="11")
    settle.add_argument("--dise-codg", default="")
    settle.add_argument("--line", action="append", required=True, help="CODE:CNT:PRIC[:YYYY-MM-DD], PRIC in yuan")
    settle.add_argument("--acct", action="store_true", help="pay the person's part from the personal account")
    settle.add_argument("--pre", action="store_true", help="pre-settle only (2206): commits nothing")
    settle.add_argument("--request-id", default="", help="repeat the request id a run printed: the server answers "
                                                         "that settlement again instead of settling twice")

    reverse = sub.add_parser("reverse", help="2208/2305: reverse a settlement")
    reverse.add_argument("--fixmedins-code", required=True)
    reverse.add_argument("--setl-id", required=True)
    reverse.add_argument("--request-id", default="", help="repeat the request id a run printed (a retry)")


def _add_person_flags(parser) -> None:
    parser.add_argument("--psn-no", default="")
    parser.add_argument("--cert-type", default="", help="01 e-voucher token, 02 ID number, 03 card (with --card-sn)")
    parser.add_argument("--cert-no", default="")
    parser.add_argument("--card-sn", default="")


def _person_ref(args) -> person_pb2.PersonRef:
    if not args.psn_no and not args.cert_no:
        raise exits.CommandError("name the person: --psn-no, or --cert-type and --cert-no")
    return person_pb2.PersonRef(psn_no=args.psn_no, mdtrt_cert_type=args.cert_type, mdtrt_cert_no=args.cert_no,
                                card_sn=args.card_sn)


def default_caller(args) -> str:
    """Who a subcommand calls as unless --as says: the hospital for what a hospital does, else national
    operations (looking a person up by psn_no alone is not something a hospital may do)."""
    if args.call in ("settle", "reverse"):
        return f"institution:{args.fixmedins_code}"
    return connect.OPERATOR


def _request_id(args) -> str:
    request_id = args.request_id or client.new_request_id(args.fixmedins_code)
    # Said before the call, so that a run cut off before its answer can be repeated safely with this id.
    print(f"request_id {request_id}" + ("" if args.request_id else
                                        f"  (repeat with --request-id {request_id}: answered, never settled twice)"),
          file=sys.stderr)
    return request_id


def _reason(error: grpc.RpcError) -> str:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


def _placed(persons, ref: person_pb2.PersonRef, call):
    """`call(metadata)`, and when a sharded deployment asks for the person's insured place, the same call again with
    the one its directory gives for the person's credential (what a gateway does once per visit)."""
    from medsettle.domain import reasons

    try:
        return call(())
    except grpc.RpcError as error:
        if _reason(error) != reasons.INSURED_PLACE_REQUIRED.code:
            raise
    found = persons.FindInsuredPlace(person_pb2.FindInsuredPlaceRequest(person=ref))
    return call(connect.insured_place_header(found.insuplc_admdvs))


def _request_id_header(request_id: str) -> tuple[tuple[str, str], ...]:
    """A mutating call names its request id in metadata too: the proxy of a sharded deployment may then send it again
    after an UNAVAILABLE, which the request id makes harmless."""
    from medsettle.service.placement import REQUEST_ID_KEY

    return ((REQUEST_ID_KEY, request_id),)


def cmd_call(args) -> int:
    if args.call == "settle":
        try:
            lines = [client.line_pb(spec, i) for i, spec in enumerate(args.line)]
        except ValueError as error:
            raise exits.CommandError(str(error)) from None
    with connect.channel(args, default_caller(args)) as channel:
        persons = person_pb2_grpc.PersonServiceStub(channel)
        settlements = settlement_pb2_grpc.SettlementServiceStub(channel)
        reference = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
        if args.call == "person":
            ref = _person_ref(args)
            answer = _placed(persons, ref, lambda metadata: persons.GetPerson(
                person_pb2.GetPersonRequest(person=ref), metadata=metadata))
            show = client.print_person
        elif args.call == "benefit":
            ref = _person_ref(args)
            answer = _placed(persons, ref, lambda metadata: persons.CheckBenefit(person_pb2.CheckBenefitRequest(
                person=ref, insutype=args.insutype, fixmedins_code=args.fixmedins_code, med_type=args.med_type,
                dise_codg=args.dise_codg, date=args.date), metadata=metadata))
            (client.print_json if args.json else client.print_benefit)(answer)
            return exits.OK if answer.ok else exits.REFUSED
        elif args.call == "catalog-item":
            answer = reference.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
                mdtrtarea_admvs=args.mdtrtarea_admvs, med_list_codg=args.med_list_codg, date=args.date))
            show = lambda found: client.print_catalog_item(found.item)  # noqa: E731
        elif args.call == "settle":
            claim = settlement_pb2.OutpatientClaim(
                person=person_pb2.PersonRef(psn_no=args.psn_no), insutype=args.insutype,
                fixmedins_code=args.fixmedins_code, med_type=args.med_type, dise_codg=args.dise_codg,
                fee_lines=lines, medfee_sumamt=sum(line.det_item_fee_sumamt for line in lines),
                acct_used_flag=args.acct)
            if args.pre:
                answer = settlements.PreSettleOutpatient(settlement_pb2.PreSettleOutpatientRequest(claim=claim))
            else:
                request_id = _request_id(args)
                answer = settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                    request_id=request_id, claim=claim), metadata=_request_id_header(request_id))
            show = lambda settled: client.print_settlement(settled.settlement)  # noqa: E731
        elif args.call == "reverse":
            request_id = _request_id(args)
            answer = settlements.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
                request_id=request_id, fixmedins_code=args.fixmedins_code, setl_id=args.setl_id),
                metadata=_request_id_header(request_id))
            show = lambda reversed_: client.print_settlement(reversed_.settlement)  # noqa: E731
        else:
            raise AssertionError(args.call)
    (client.print_json if args.json else show)(answer)
    return exits.OK
