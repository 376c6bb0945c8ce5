"""Calls to every shard through the proxy, for what no single shard can answer (service/placement.py):

- EVERY (a push of reference data): the same request, same request id, to each shard; each applies it whole in one
  transaction or not at all, and a retried push is answered as the first one was. The answer says, per shard, what
  it wrote; a shard that could not be reached is named, and the others keep what they have: the push is sent
  again (the same records are then reported as already present where they were written).
- GATHER (clearing, reconciliation): each shard's part, combined here with the domain's own functions, so that a
  monthly statement gathered from every shard is byte for byte the statement one host would make.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from medsettle.domain import clearing, reconciliation
from medsettle.service.placement import REQUEST_ID_KEY, SHARD_KEY
from medsettle.v1 import clearing_pb2, clearing_pb2_grpc

ATTEMPTS_MAX = 3  # UNAVAILABLE or DEADLINE_EXCEEDED (a lost answer): the same request again, the same request id
RETRY_PAUSE_S = 0.5
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
CALL_TIMEOUT_S = 300


def shard_metadata(name: str, request_id: str = "") -> tuple[tuple[str, str], ...]:
    return ((SHARD_KEY, name),) + (((REQUEST_ID_KEY, request_id),) if request_id else ())


class NotEverywhere(Exception):
    """Some shards answered and one did not: which have it, which does not, and why."""

    def __init__(self, answered: dict[str, object], shard: str, error: grpc.RpcError) -> None:
        self.answered = answered
        self.shard = shard
        self.error = error
        have = ", ".join(answered) or "none"
        super().__init__(f"{shard}: {error.code().name}: {error.details()} (the shards that have it: {have}; "
                         f"send it again: a shard that has it answers as before)")


def call_retrying(method: Callable, request, *, metadata: tuple = (), timeout_s: float = CALL_TIMEOUT_S):
    """An answer, the same request sent again while the server is unavailable or its answer was lost (a mutating
    call carries its request id, so one that did commit answers the retry as it answered first)."""
    for attempt in range(1, ATTEMPTS_MAX + 1):
        try:
            return method(request, metadata=metadata, timeout=timeout_s)
        except grpc.RpcError as error:
            if error.code() not in RETRYABLE or attempt == ATTEMPTS_MAX:
                raise
            time.sleep(RETRY_PAUSE_S * attempt)
    raise AssertionError("unreachable")


def call_shard(method: Callable, request, shard: str, *, timeout_s: float = CALL_TIMEOUT_S):
    """One shard's answer, retried with the same request while the shard is unavailable."""
    return call_retrying(method, request, metadata=shard_metadata(shard, getattr(request, "request_id", "")),
                         timeout_s=timeout_s)


def every_shard(method: Callable, request, shards: tuple[str, ...], *,
                timeout_s: float = CALL_TIMEOUT_S) -> dict[str, object]:
    """`request` to each shard in turn: shard name -> its answer. A refusal (bad input) comes from the first shard,
    before any other is asked; a shard that cannot be reached raises NotEverywhere naming the shards that have it."""
    answered: dict[str, object] = {}
    for shard in shards:
        try:
            answered[shard] = call_shard(method, request, shard, timeout_s=timeout_s)
        except grpc.RpcError as error:
            if not answered or error.code() not in RETRYABLE:
                raise
            raise NotEverywhere(answered, shard, error) from None
    return answered


# -- clearing ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatheredStatement:
    statement: clearing.Statement
    canonical: bytes
    digest: str
    closed: bool  # every shard has closed the month: its part is frozen
    parts: dict[str, str]  # shard -> digest of its own part


def statement(channel: grpc.Channel, shards: tuple[str, ...], month: str, *, close_request_id: str = "") -> \
        GatheredStatement:
    """The national statement of `month`, from every shard's part (national callers). With `close_request_id`,
    each shard closes its part of the month first (drawing its insured provinces' prepaid funds)."""
    stub = clearing_pb2_grpc.ClearingServiceStub(channel)
    if close_request_id:
        closed = every_shard(stub.CloseMonth, clearing_pb2.CloseMonthRequest(request_id=close_request_id, month=month),
                             shards)
        statements = {shard: answer.statement for shard, answer in closed.items()}
    else:
        statements = {shard: answer.statement for shard, answer in every_shard(
            stub.GetClearingStatement, clearing_pb2.GetClearingStatementRequest(month=month), shards).items()}
    whole = clearing.gathered(month, [clearing.decode(part.canonical) for part in statements.values()])
    canonical = clearing.canonical_bytes(whole)
    return GatheredStatement(statement=whole, canonical=canonical, digest=clearing.digest(canonical),
                             closed=all(part.closed for part in statements.values()),
                             parts={shard: part.digest for shard, part in statements.items()})


# -- institution reconciliation (3201, 3202) --------------------------------------------------------------------


def reconcile_totals(channel: grpc.Channel, shards: tuple[str, ...],
                     request: clearing_pb2.ReconcileTotalsRequest) -> clearing_pb2.ReconcileTotalsResponse:
    """3201 across shards: the core's figures are the sums of every shard's (an institution's settlements live where
    its patients are insured); `match` compares them with the institution's own."""
    stub = clearing_pb2_grpc.ClearingServiceStub(channel)
    answers = every_shard(stub.ReconcileTotals, request, shards).values()
    ours = clearing.Totals()
    for answer in answers:
        ours = clearing.add(ours, clearing.Totals(setl_cnt=answer.setl_cnt, medfee_sumamt_fen=answer.medfee_sumamt,
                                                  fund_pay_sumamt_fen=answer.fund_pay_sumamt,
                                                  acct_pay_fen=answer.acct_pay))
    theirs = clearing.Totals(setl_cnt=request.setl_cnt, medfee_sumamt_fen=request.medfee_sumamt,
                             fund_pay_sumamt_fen=request.fund_pay_sumamt, acct_pay_fen=request.acct_pay)
    return clearing_pb2.ReconcileTotalsResponse(
        match=ours == theirs, setl_cnt=ours.setl_cnt, medfee_sumamt=ours.medfee_sumamt_fen,
        fund_pay_sumamt=ours.fund_pay_sumamt_fen, acct_pay=ours.acct_pay_fen,
        deduction_cnt=sum(answer.deduction_cnt for answer in answers),
        deducted=sum(answer.deducted for answer in answers))


def _item(each: clearing_pb2.ReconcileItem) -> reconciliation.Item:
    return reconciliation.Item(setl_id=each.setl_id, medfee_sumamt_fen=each.medfee_sumamt,
                               fund_pay_sumamt_fen=each.fund_pay_sumamt, acct_pay_fen=each.acct_pay)


def _item_pb(item: reconciliation.Item) -> clearing_pb2.ReconcileItem:
    return clearing_pb2.ReconcileItem(setl_id=item.setl_id, medfee_sumamt=item.medfee_sumamt_fen,
                                      fund_pay_sumamt=item.fund_pay_sumamt_fen, acct_pay=item.acct_pay_fen)


def reconcile_detail(channel: grpc.Channel, shards: tuple[str, ...],
                     request: clearing_pb2.ReconcileDetailRequest) -> clearing_pb2.ReconcileDetailResponse:
    """3202 across shards: every shard lists the institution's settlements it holds (asked with no items of the
    institution's, each of its own is 'missing at the institution'), and the lists are compared here, whole, with
    the institution's."""
    stub = clearing_pb2_grpc.ClearingServiceStub(channel)
    asked = clearing_pb2.ReconcileDetailRequest(fixmedins_code=request.fixmedins_code, begndate=request.begndate,
                                                enddate=request.enddate)
    answers = list(every_shard(stub.ReconcileDetail, asked, shards).values())
    ours = [_item(each) for answer in answers for each in answer.missing_at_institution]
    theirs = [_item(each) for each in request.items]
    found = reconciliation.detail(theirs, ours)
    deductions = sorted((d for answer in answers for d in answer.deductions), key=lambda d: (d.date, d.flag_id))
    return clearing_pb2.ReconcileDetailResponse(
        match=found.match, core_setl_cnt=len(ours), institution_setl_cnt=len(theirs),
        missing_in_core=[_item_pb(i) for i in found.missing_in_core],
        missing_at_institution=[_item_pb(i) for i in found.missing_at_institution],
        amounts_differ=[clearing_pb2.AmountDifference(setl_id=d.setl_id, institution=_item_pb(d.institution),
                                                      core=_item_pb(d.core)) for d in found.amounts_differ],
        deductions=deductions)
