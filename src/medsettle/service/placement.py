"""Where each call is served when the nation is split into shards by insured province (domain/shards.py): ONE table,
read by the shard guard below, by the tools that push to or gather from every shard (cluster/fanout.py) and by the
documentation (docs/operations.md).

- INSURED: concerns one insured person (their filings, settlements, accumulators, prepaid fund or flags): served by
  the shard of their insured place, which the caller names in the `x-insuplc-admdvs` metadata; Envoy routes by it.
- ANY: answered from what every shard holds (reference data, the credential directory): any shard.
- EVERY: a push of reference data: sent to every shard (`x-medsettle-shard` names each), each applies it whole in one
  transaction and answers for itself.
- GATHER: each shard answers for its own part (its insured provinces' clearing pairs, the settlements of its insured
  at an institution); the caller asks every shard and combines the answers.

The guard runs on a sharded server before identity and authorization: a call that reached the wrong shard, or that
names no insured place or no shard where it must, is refused there with a stable reason and nothing is read or
written, so that a misrouted call can never settle against a shard that does not hold the person.
"""

from __future__ import annotations

import grpc

from medsettle.domain import reasons, region
from medsettle.domain.reasons import Refusal
from medsettle.domain.shards import ShardMap
from medsettle.service import errors, logs
from medsettle.service.layers import MethodLayer

INSURED_PLACE_KEY = "x-insuplc-admdvs"  # the insured place (参保地) of the person a call concerns
SHARD_KEY = "x-medsettle-shard"  # the shard a push or a gathering call is meant for
REQUEST_ID_KEY = "x-medsettle-request-id"  # the request id of a mutating call: the proxy may retry it on UNAVAILABLE

INSURED, ANY, EVERY, GATHER = "insured", "any", "every", "gather"
PACKAGE = "medsettle.v1"

TABLE: dict[str, str] = {
    "PersonService/GetPerson": INSURED,
    "PersonService/CheckBenefit": INSURED,
    "PersonService/GetAccumulators": INSURED,
    "PersonService/FindInsuredPlace": ANY,
    **{f"FilingService/{name}": INSURED for name in (
        "CreateFiling", "RevokeFiling", "ListFilings", "CreateReferralFiling", "RevokeReferralFiling",
        "CreateChronicQualification", "RevokeChronicQualification", "ListChronicQualifications")},
    **{f"SettlementService/{name}": INSURED for name in (
        "PreSettleOutpatient", "SettleOutpatient", "Admit", "UploadInpatientFees", "CancelInpatientFees",
        "PreSettleInpatient", "SettleInpatient", "Discharge", "ReverseSettlement", "ReverseByRequestId",
        "GetSettlement")},
    **{f"ReferenceDataService/{name}": EVERY for name in (
        "PutCatalogItems", "PutPolicies", "PutInstitutions", "PutPersons", "WithdrawVersion")},
    "ReferenceDataService/GetCatalogItem": ANY,
    "ReferenceDataService/GetPolicy": ANY,
    "ReferenceDataService/ListAuditEntries": GATHER,
    "ClearingService/GetClearingStatement": GATHER,
    "ClearingService/CloseMonth": GATHER,
    # A prepaid fund is the insured province's, drawn by its settlements: on its shard.
    "ClearingService/GetPrepaidFund": INSURED,
    "ClearingService/SetPrepaidFund": INSURED,
    "ClearingService/TopUpPrepaidFund": INSURED,
    "ClearingService/ListPrepaidAlerts": GATHER,
    # An institution's settlements live where its patients are insured.
    "ClearingService/ReconcileTotals": GATHER,
    "ClearingService/ReconcileDetail": GATHER,
    "SupervisionService/PutAuditRules": EVERY,
    "SupervisionService/ListAuditRules": ANY,
    # A flag lives beside its settlement, on the shard of the person's insured place.
    "SupervisionService/ListFlags": GATHER,
    "SupervisionService/GetFlag": INSURED,
    "SupervisionService/RaiseFlag": INSURED,
    "SupervisionService/ReviewFlag": INSURED,
    "SupervisionService/GetSupervisionStats": GATHER,
}

_BY_METHOD = {f"/{PACKAGE}.{name}": placement for name, placement in TABLE.items()}


def placement_of(method: str) -> str:
    """The placement of a full method name; health and reflection (not ours) are answered by any shard."""
    return _BY_METHOD.get(method, ANY)


def routing_refusal(shard_map: ShardMap, shard_name: str, method: str,
                    metadata: tuple[tuple[str, str], ...]) -> Refusal | None:
    """Why the shard `shard_name` must not serve this call, or None when it is its own."""
    placement = placement_of(method)
    if placement == ANY:
        return None
    named = [value for key, value in metadata if key == (INSURED_PLACE_KEY if placement == INSURED else SHARD_KEY)]
    if placement == INSURED:
        if not named:
            return Refusal(reasons.INSURED_PLACE_REQUIRED, field=INSURED_PLACE_KEY)
        if len(named) > 1 or not region.is_known(named[0]):
            return Refusal(reasons.INSURED_PLACE_UNKNOWN, field=INSURED_PLACE_KEY,
                           detail=f"got {reasons.shown(','.join(named))}")
        owner = shard_map.owner_of(region.province_of(named[0])).name
        detail = f"{region.province_of(named[0])} is {owner}'s; this is {shard_name}"
    else:
        if not named:
            return Refusal(reasons.SHARD_REQUIRED, field=SHARD_KEY, detail=f"shards: {', '.join(shard_map.names)}")
        owner = named[0] if len(named) == 1 else ""
        detail = f"sent to {reasons.shown(','.join(named))}; this is {shard_name}"
    return None if owner == shard_name else Refusal(reasons.WRONG_SHARD, detail=detail)


class ShardGuard(MethodLayer):
    """On a shard: refuses, before anything is read, a call that is not this shard's (routing_refusal)."""

    def __init__(self, shard_map: ShardMap, shard_name: str) -> None:
        super().__init__()
        assert shard_map.shard(shard_name) is not None, shard_name
        self.shard_map = shard_map
        self.shard_name = shard_name

    def _applies_to(self, method: str, handler: grpc.RpcMethodHandler) -> bool:
        return placement_of(method) != ANY

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """`handler` of `method` run only when the call is this shard's (the check made per call, from its
        metadata)."""
        assert handler.unary_unary is not None, f"{method}: every placed RPC is unary"
        inner = handler.unary_unary
        shard_map, shard_name = self.shard_map, self.shard_name

        async def guarded(request, context):
            refusal = routing_refusal(shard_map, shard_name, method, tuple(context.invocation_metadata() or ()))
            if refusal is not None:
                await self._refuse(context, method, refusal)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)

    async def _refuse(self, context, method: str, refusal: Refusal) -> None:
        """The call ends here: a log line and the refusal with the RPC and this shard's name."""
        name = method.rsplit("/", 1)[-1]
        logs.event("rpc_misrouted", method=name, shard=self.shard_name, reason=refusal.reason.code,
                   detail=refusal.detail)
        await context.abort_with_status(errors.to_status(refusal, extra={"rpc": name, "shard": self.shard_name}))
