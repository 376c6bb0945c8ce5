"""Request ids (the spec's msgid): a retry with the same id and payload gets the original answer byte
for byte; the same id with another payload is refused. Recorded in the same transaction as the effect,
so an acknowledged answer and its record can never part. Refused requests record nothing."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import msgspec
from google.protobuf.message import Message

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import convert, settlement_convert
from medsettle.service.app import App
from medsettle.store.rows import RequestRecord
from medsettle.store.view import View, WriteView


def payload_digest(request: Message) -> str:
    """Digest of the request without its request_id: what 'the same payload' means."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.blake2b(copy.SerializeToString(deterministic=True), digest_size=16).hexdigest()


class Once:
    """One mutating request, run at most once per (caller, request_id).

    Handlers that read or compute before writing ask `held()` first: a retry must get the original answer even
    when the world has moved on since (a filing expired, a stay was discharged), so the retry check comes before
    anything that could refuse it.
    """

    def __init__(self, app: App, caller: str, request: Message, response_type: type[Message]) -> None:
        self.app = app
        self.caller = caller
        self.request_id = convert.request_id(request.request_id, app.limits.request_id_chars_max)
        self.method = type(request).__name__.removesuffix("Request")
        self.request = request
        self.response_type = response_type

    @classmethod
    def restored(cls, app: App, caller: str, request_id: str, method: str, digest: str,
                 response_type: type[Message]) -> Once:
        """The same request in another process (the writer process): its request id already checked,
        its payload digest already taken on the event loop that received it."""
        once = cls.__new__(cls)
        once.app, once.caller, once.request_id, once.method = app, caller, request_id, method
        once.request, once.response_type = None, response_type
        once.__dict__["digest"] = digest  # the cached_property's slot: the request itself did not travel
        return once

    @functools.cached_property
    def digest(self) -> str:
        # Only when a record is compared or written: a request refused before (a claim of 20,000 lines refused
        # LINES_LIMIT) never pays for copying and serializing itself.
        return payload_digest(self.request)

    def _replay(self, record: RequestRecord, view: View) -> Message:
        if record.method != self.method or record.payload_digest != self.digest:
            raise Refusal(reasons.REQUEST_ID_REUSED, field="request_id",
                          detail=f"first used by {record.method} with another payload")
        if record.answer_is_settlement:
            setl = view.settlement(record.setl_id)
            assert setl is not None, f"request record names settlement {record.setl_id}, which is not stored"
            # The settlement as it was answered: a later reversal marks the stored record, never the answer.
            answered = msgspec.structs.replace(setl, reversal_setl_id="")
            return settlement_convert.answer(self.response_type, answered)
        return self.response_type.FromString(record.response)

    def held(self, view: View | None = None) -> Message | None:
        """The original answer when this request id was already used (a retry), else None. Give the handler's own
        snapshot when it reads one anyway: a settlement then opens one read transaction, not two."""
        if view is None:
            with self.app.store.read() as own_view:
                return self.held(own_view)
        record = view.request(self.caller, self.request_id)
        return None if record is None else self._replay(record, view)

    def job(self, effect: Callable[[WriteView], tuple[Message, dict[str, str]]], *, answer_is_settlement: bool,
            created_ms: int) -> Callable[[WriteView], Message]:
        """The writer's job: the retry check under the write lock, then `effect` and its request record."""

        def job(view: WriteView) -> Message:
            held_now = view.request(self.caller, self.request_id)
            if held_now is not None:
                return self._replay(held_now, view)
            response, effects = effect(view)
            if answer_is_settlement:
                assert response.settlement.setl_id == effects["setl_id"] and len(response.ListFields()) == 1
            record = RequestRecord(method=self.method, payload_digest=self.digest,
                                   response=b"" if answer_is_settlement else response.SerializeToString(
                                       deterministic=True),
                                   created_ms=created_ms, answer_is_settlement=answer_is_settlement, **effects)
            view.put_request(self.caller, self.request_id, record)
            return response

        return job

    async def run(self, effect: Callable[[WriteView], tuple[Message, dict[str, str]]], *,
                  answer_is_settlement: bool = False) -> Message:
        """Run `effect` in the group-commit writer unless a concurrent twin committed first.

        `effect(view)` returns the answer and the ids it touched (setl_id, mdtrt_id, trt_dcla_detl_sn) for 冲正.
        `answer_is_settlement`: the answer is {settlement: the settlement effects["setl_id"] as written}, so the
        request record keeps a reference, not a second copy.
        """
        self.digest  # noqa: B018 - taken on the event loop: the writer thread does only what needs the write lock
        return await self.app.writer.run(self.job(effect, answer_is_settlement=answer_is_settlement,
                                                  created_ms=self.app.clock.now_ms()))


async def once(
    app: App,
    caller: str,
    request: Message,
    response_type: type[Message],
    effect: Callable[[WriteView], tuple[Message, dict[str, str]]],
    *,
    answer_is_settlement: bool = False,
) -> Message:
    """Once(...).held(), else Once(...).run(effect): for handlers that do all their reading in `effect`."""
    request_once = Once(app, caller, request, response_type)
    held = request_once.held()
    return held if held is not None else await request_once.run(effect, answer_is_settlement=answer_is_settlement)
