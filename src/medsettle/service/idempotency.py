"""Request ids (the spec's msgid): a retry with the same id and payload gets the original answer byte
for byte; the same id with another payload is refused. Recorded in the same transaction as the effect,
so an acknowledged answer and its record can never part. Refused requests record nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import convert
from medsettle.service.app import App
from medsettle.store.rows import RequestRecord
from medsettle.store.view import WriteView


def payload_digest(request: Message) -> str:
    """Digest of the request without its request_id: what 'the same payload' means."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.blake2b(copy.SerializeToString(deterministic=True), digest_size=16).hexdigest()


def _replay(record: RequestRecord, method: str, digest: str, response_type: type[Message]) -> Message:
    if record.method != method or record.payload_digest != digest:
        raise Refusal(reasons.REQUEST_ID_REUSED, field="request_id",
                      detail=f"first used by {record.method} with another payload")
    return response_type.FromString(record.response)


async def once(
    app: App,
    caller: str,
    request: Message,
    response_type: type[Message],
    effect: Callable[[WriteView], tuple[Message, dict[str, str]]],
) -> Message:
    """Run `effect` in the group-commit writer at most once per (caller, request_id).

    `effect(view)` returns the answer and the ids it touched (setl_id, mdtrt_id, trt_dcla_detl_sn) for 冲正.
    """
    request_id = convert.request_id(request.request_id, app.limits.request_id_chars_max)
    method = type(request).__name__.removesuffix("Request")
    digest = payload_digest(request)
    with app.store.read() as view:  # cheap pre-check: most retries end here without the writer
        held = view.request(caller, request_id)
    if held is not None:
        return _replay(held, method, digest, response_type)

    def job(view: WriteView) -> Any:
        held_now = view.request(caller, request_id)
        if held_now is not None:  # a concurrent twin committed first
            return _replay(held_now, method, digest, response_type)
        response, effects = effect(view)
        record = RequestRecord(method=method, payload_digest=digest,
                               response=response.SerializeToString(deterministic=True),
                               created_ms=app.clock.now_ms(), **effects)
        view.put_request(caller, request_id, record)
        return response

    return await app.writer.run(job)
