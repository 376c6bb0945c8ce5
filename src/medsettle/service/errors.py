"""Refusals to google.rpc.Status: ErrorInfo (domain "medsettle", stable reason, metadata naming the
field or fee line), BadRequest field violations, a zh-CN LocalizedMessage; message in Chinese and English."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

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
    reasons.INTERNAL_ERROR.code: code_pb2.INTERNAL,
}


def grpc_code_of(refusal: Refusal) -> int:
    return _CODES.get(refusal.reason.code, code_pb2.FAILED_PRECONDITION)


def to_status(refusal: Refusal) -> grpc.Status:
    primary = refusal.reason
    details: list[any_pb2.Any] = []
    for index, each in enumerate(refusal.all):
        metadata = {"remedy": each.reason.remedy}
        if each.field:
            metadata["field"] = each.field
        if each.feedetl_sn:
            metadata["feedetl_sn"] = each.feedetl_sn
        if each.detail:
            metadata["detail"] = each.detail[:500]
        if index == 0:
            metadata["reason_count"] = str(len(refusal.all))
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.ErrorInfo(reason=each.reason.code, domain=ERROR_DOMAIN, metadata=metadata))
        details.append(packed)
    violations = [
        error_details_pb2.BadRequest.FieldViolation(
            field=each.field or (f"fee_lines[feedetl_sn={each.feedetl_sn}]" if each.feedetl_sn else ""),
            description=f"{each.reason.code}: {each.reason.zh} / {each.reason.en}" + (f" ({each.detail})" if each.detail else ""),
            reason=each.reason.code,
        )
        for each in refusal.all
        if each.field or each.feedetl_sn
    ]
    if violations:
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.BadRequest(field_violations=violations))
        details.append(packed)
    zh = "；".join(each.reason.zh + (f"（{each.feedetl_sn}）" if each.feedetl_sn else "") for each in refusal.all)
    packed = any_pb2.Any()
    packed.Pack(error_details_pb2.LocalizedMessage(locale="zh-CN", message=zh))
    details.append(packed)
    english = "; ".join(
        each.reason.en
        + (f" [field {each.field}]" if each.field else "")
        + (f" [fee line {each.feedetl_sn}]" if each.feedetl_sn else "")
        + (f" ({each.detail})" if each.detail else "")
        for each in refusal.all
    )
    status = status_pb2.Status(code=grpc_code_of(refusal), message=f"{primary.code}: {zh} | {english}", details=details)
    return rpc_status.to_status(status)


def invalid(field: str, detail: str, reason: reasons.Reason = reasons.INVALID_ARGUMENT) -> Refusal:
    return Refusal(reason, field=field, detail=detail)

