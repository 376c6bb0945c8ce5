"""Refusals to google.rpc.Status: ErrorInfo (domain "medsettle", stable reason, metadata naming the
field or fee line), BadRequest field violations, a zh-CN LocalizedMessage; message in Chinese and English."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from medsettle import tracing
from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal

ERROR_DOMAIN = "medsettle"

# Reason code -> gRPC status code. Eligibility refusals are FAILED_PRECONDITION: the request is well
# formed, the state of the world does not allow it (yet).
_CODES = {
    reasons.INVALID_ARGUMENT.code: code_pb2.INVALID_ARGUMENT,
    reasons.UNKNOWN_REGION.code: code_pb2.INVALID_ARGUMENT,
    reasons.AMOUNT_INCONSISTENT.code: code_pb2.INVALID_ARGUMENT,
    reasons.TOTAL_INCONSISTENT.code: code_pb2.INVALID_ARGUMENT,
    reasons.UNKNOWN_CATALOG_ITEM.code: code_pb2.INVALID_ARGUMENT,
    reasons.LINES_LIMIT.code: code_pb2.INVALID_ARGUMENT,
    reasons.VERSION_OVERLAP.code: code_pb2.INVALID_ARGUMENT,
    reasons.VERSION_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.NATIONAL_RULE_VIOLATED.code: code_pb2.INVALID_ARGUMENT,
    reasons.NOT_CROSS_PROVINCE.code: code_pb2.INVALID_ARGUMENT,
    reasons.REQUEST_ID_REUSED.code: code_pb2.ALREADY_EXISTS,
    reasons.PERSON_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.INSTITUTION_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.SETTLEMENT_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.STAY_NOT_OPEN.code: code_pb2.FAILED_PRECONDITION,
    reasons.FILING_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.QUALIFICATION_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.REQUEST_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.PREPAID_FUND_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.MALFORMED_REQUEST.code: code_pb2.INVALID_ARGUMENT,
    reasons.MESSAGE_TOO_LARGE.code: code_pb2.RESOURCE_EXHAUSTED,
    reasons.STORE_FULL.code: code_pb2.RESOURCE_EXHAUSTED,
    reasons.SERVER_BUSY.code: code_pb2.RESOURCE_EXHAUSTED,
    reasons.SERVICE_UNAVAILABLE.code: code_pb2.UNAVAILABLE,
    reasons.STORE_UNAVAILABLE.code: code_pb2.UNAVAILABLE,
    reasons.OUTCOME_UNKNOWN.code: code_pb2.UNAVAILABLE,
    reasons.FLAG_NOT_FOUND.code: code_pb2.NOT_FOUND,
    reasons.SUPERVISION_NOT_PERMITTED.code: code_pb2.PERMISSION_DENIED,
    reasons.CALLER_NOT_IDENTIFIED.code: code_pb2.UNAUTHENTICATED,
    reasons.CALLER_NOT_ALLOWED.code: code_pb2.PERMISSION_DENIED,
    reasons.RATE_LIMITED.code: code_pb2.RESOURCE_EXHAUSTED,
    reasons.CREDENTIAL_IN_USE.code: code_pb2.ALREADY_EXISTS,
    reasons.INTERNAL_ERROR.code: code_pb2.INTERNAL,
    reasons.INSURED_PLACE_REQUIRED.code: code_pb2.INVALID_ARGUMENT,
    reasons.INSURED_PLACE_UNKNOWN.code: code_pb2.INVALID_ARGUMENT,
    reasons.SHARD_REQUIRED.code: code_pb2.FAILED_PRECONDITION,
    reasons.WRONG_SHARD.code: code_pb2.UNAVAILABLE,
    reasons.PERSON_SPANS_SHARDS.code: code_pb2.FAILED_PRECONDITION,
}


def grpc_code_of(refusal: Refusal) -> int:
    return _CODES.get(refusal.reason.code, code_pb2.FAILED_PRECONDITION)


# A status travels in the trailers, which gRPC refuses beyond 16 KiB ("received metadata size exceeds hard limit":
# the caller would get RESOURCE_EXHAUSTED instead of the refusal): a claim with 600 unknown items made 200 KiB.
# The details carry the first REFUSALS_SHOWN reasons and the message the first MESSAGE_SHOWN (the detail of the first
# only); `reason_count` on the first ErrorInfo says how many there are. A detail is written to fit DETAIL_CHARS_MAX
# whole (values in it are quoted with reasons.shown, which shortens a long value visibly); one that does not is cut
# at a word, never inside one, and marked with "…". The first reason always carries its detail; the others carry
# theirs whole while DETAIL_BYTES_MAX allows, else none (a detail is shown whole or not at all); the message repeats
# the first detail when it is at most MESSAGE_DETAIL_BYTES_MAX (the message travels percent-encoded: 9 bytes a 汉字).
REFUSALS_SHOWN = 5
MESSAGE_SHOWN = 2
DETAIL_CHARS_MAX = 256
DETAIL_BYTES_MAX = 1_200
MESSAGE_DETAIL_BYTES_MAX = 200


def _detail(each: Refusal) -> str:
    text = each.detail
    if len(text) <= DETAIL_CHARS_MAX:
        return text
    head = text[:DETAIL_CHARS_MAX - 1]
    word_end = head.rfind(" ")
    return (head[:word_end] if word_end > 0 else head) + "…"


def _listed(parts: list[str], total: int, separator: str, more: str) -> str:
    """The parts joined, and how many more there are beyond them."""
    hidden = total - len(parts)
    return separator.join(parts + ([more.format(hidden)] if hidden else []))


def to_status(refusal: Refusal, extra: dict[str, str] | None = None) -> grpc.Status:
    """`extra`: more metadata for the first ErrorInfo (e.g. the RPC a caller may not make)."""
    primary = refusal.reason
    shown = refusal.all[:REFUSALS_SHOWN]
    details: list[any_pb2.Any] = []
    detail_bytes_left = DETAIL_BYTES_MAX
    for index, each in enumerate(shown):
        metadata = {"remedy": each.reason.remedy}
        if each.field:
            metadata["field"] = each.field
        if each.feedetl_sn:
            metadata["feedetl_sn"] = each.feedetl_sn
        detail = _detail(each)
        detail_bytes = len(detail.encode())
        if detail and (index == 0 or detail_bytes <= detail_bytes_left):
            metadata["detail"] = detail
            detail_bytes_left -= detail_bytes
        if index == 0:
            metadata["reason_count"] = str(len(refusal.all))
            metadata.update(extra or {})
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.ErrorInfo(reason=each.reason.code, domain=ERROR_DOMAIN, metadata=metadata))
        details.append(packed)
    violations = [
        error_details_pb2.BadRequest.FieldViolation(
            field=each.field or (f"fee_lines[feedetl_sn={each.feedetl_sn}]" if each.feedetl_sn else ""),
            description=f"{each.reason.code}: {each.reason.zh} / {each.reason.en}",
            reason=each.reason.code,
        )
        for each in shown
        if each.field or each.feedetl_sn
    ]
    if violations:
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.BadRequest(field_violations=violations))
        details.append(packed)
    zh = _listed([each.reason.zh + (f"（{each.feedetl_sn}）" if each.feedetl_sn else "") for each in shown],
                 len(refusal.all), "；", "另有{}项")
    packed = any_pb2.Any()
    packed.Pack(error_details_pb2.LocalizedMessage(locale="zh-CN", message=zh))
    details.append(packed)
    english = _listed([
        each.reason.en
        + (f" [field {each.field}]" if each.field else "")
        + (f" [fee line {each.feedetl_sn}]" if each.feedetl_sn else "")
        + (f" ({detail})" if index == 0 and (detail := _detail(each)) and len(detail.encode()) <= MESSAGE_DETAIL_BYTES_MAX
           else "")
        for index, each in enumerate(shown[:MESSAGE_SHOWN])
    ], len(refusal.all), "; ", "and {} more")
    zh_short = _listed([each.reason.zh + (f"（{each.feedetl_sn}）" if each.feedetl_sn else "")
                        for each in shown[:MESSAGE_SHOWN]], len(refusal.all), "；", "另有{}项")
    status = status_pb2.Status(code=grpc_code_of(refusal), message=f"{primary.code}: {zh_short} | {english}",
                               details=details)
    return rpc_status.to_status(status)


invalid = Refusal.invalid



async def abort(context: grpc.aio.ServicerContext, refusal: Refusal, extra: dict[str, str] | None = None) -> None:
    """End the call with the refusal's status (raises grpc's AbortError); a traced call's span gets its code and
    reason first (the tracing interceptor sees only context.abort, not abort_with_status)."""
    status = to_status(refusal, extra)
    if tracing.enabled():
        tracing.refused(status.code, refusal.reason.code)
    await context.abort_with_status(status)
