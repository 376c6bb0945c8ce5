"""Request intake: how many calls a worker takes at once, and what a request body may be.

Admission. A worker takes at most `in_flight_requests_max` calls at once, and one connection at most
`in_flight_per_connection_max` of them (one gateway cannot take every slot). Beyond either, the call is answered
RESOURCE_EXHAUSTED with the reason SERVER_BUSY at once: never queued until its deadline, never CANCELLED, and never
a refused HTTP/2 stream (which a client sees as UNAVAILABLE "Stream removed").

Bodies. gRPC decodes a request before any handler runs; a body that does not parse then reaches the caller as
UNKNOWN with Python's own text ("Unexpected <class 'DecodeError'>") and leaves no log line. This interceptor takes the
raw bytes instead, refuses a body larger than its method needs (MESSAGE_TOO_LARGE, before any parsing: a 13 MiB
claim must not cost a 13 MiB parse) and one that does not decode (MALFORMED_REQUEST), then hands the decoded request
to the real handler. The transport's own limit (grpc.max_receive_message_length) is the largest of these; beyond it
gRPC answers RESOURCE_EXHAUSTED itself without reading the body into Python.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from medsettle import metrics
from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import errors, logs
from medsettle.service.layers import MethodLayer, around_stream

KIB = 2**10
MIB = 2**20

# What each kind of request needs, with room to spare. A fee line at its field limits is under 200 bytes, so a
# claim or an upload of 2,000 lines is under 400 KiB; a cancel names up to 10,000 lines of 40 characters. A
# reconciliation lists up to 50,000 settlements of about 60 bytes. A push (every `Put...` method) holds up to
# 50,000 catalog items or 20,000 records (a few hundred bytes each, Chinese names included).
# (Measured on the demo nation: 50,000 catalog items are 4.5 MiB, 20,000 persons 3.4 MiB.)
CLAIM_BYTES_MAX = 1 * MIB
RECONCILE_BYTES_MAX = 4 * MIB
PUSH_BYTES_MAX = 8 * MIB
OTHER_BYTES_MAX = 64 * KIB
# The server's grpc.max_receive_message_length: above every method's limit, so that a body just over one gets this
# module's MESSAGE_TOO_LARGE; a body over this one is refused by gRPC from its length prefix (RESOURCE_EXHAUSTED
# "Received message larger than max"), before it is read into Python. Kept low on purpose: what a worker reads
# for a call is bounded by it, so a flood of 13 MiB claims costs next to nothing.
TRANSPORT_BYTES_MAX = PUSH_BYTES_MAX + 1 * MIB

# A large body that is refused (too large, undecodable, or refused by the rules: LINES_LIMIT...) is answered only
# after size / REFUSED_BYTES_PER_S seconds. A gateway that resends its refused request at once (a bug, or an attack)
# then costs the worker at most this many bytes a second per connection, and normal calls keep their latency.
# Sleeping holds no CPU; the body is bounded by TRANSPORT_BYTES_MAX.
REFUSED_BYTES_PER_S = 4 * MIB
UNDELAYED_BYTES_MAX = OTHER_BYTES_MAX
_body_bytes: contextvars.ContextVar[int] = contextvars.ContextVar("body_bytes", default=0)


def refusal_delay_s(body_bytes: int | None = None) -> float:
    """How long to wait before refusing this call (its body's size, as intake saw it, unless given)."""
    size = _body_bytes.get() if body_bytes is None else body_bytes
    return 0.0 if size <= UNDELAYED_BYTES_MAX else size / REFUSED_BYTES_PER_S

_BYTES_MAX_BY_METHOD = {
    "/medsettle.v1.SettlementService/PreSettleOutpatient": CLAIM_BYTES_MAX,
    "/medsettle.v1.SettlementService/SettleOutpatient": CLAIM_BYTES_MAX,
    "/medsettle.v1.SettlementService/UploadInpatientFees": CLAIM_BYTES_MAX,
    "/medsettle.v1.SettlementService/CancelInpatientFees": CLAIM_BYTES_MAX,
    "/medsettle.v1.ClearingService/ReconcileDetail": RECONCILE_BYTES_MAX,
}


def body_bytes_max(method: str) -> int:
    """The largest request body `method` (a full gRPC method path) accepts."""
    limit = _BYTES_MAX_BY_METHOD.get(method)
    if limit is not None:
        return limit
    return PUSH_BYTES_MAX if _short(method).startswith("Put") else OTHER_BYTES_MAX


def _short(method: str) -> str:
    return method.rsplit("/", 1)[-1]


def _count(method: str, context: grpc.aio.ServicerContext, started: float) -> None:
    """One answered call in the metrics: its status code (OK unless the handler set or aborted with another)."""
    code = context.code()
    metrics.RPC_CALLS.labels(method, code.name if isinstance(code, grpc.StatusCode) else "OK").inc()
    metrics.RPC_LATENCY_SECONDS.labels(method).observe(time.perf_counter() - started)


class Admission:
    """In-flight calls of this worker, in all and per connection (the peer address names one connection).

    Stopping: once `close()` is called every new call is answered SERVICE_UNAVAILABLE (nothing done, retry
    elsewhere) while the calls already taken finish; `wait_idle` tells when they have.
    """

    def __init__(self, total_max: int, per_connection_max: int) -> None:
        assert 1 <= per_connection_max <= total_max
        self.total_max = total_max
        self.per_connection_max = per_connection_max
        self.total = 0
        self.closed = False
        self._by_peer: dict[str, int] = {}

    def close(self) -> None:
        self.closed = True

    async def wait_idle(self, timeout_s: float, quiet_s: float = 0.05) -> bool:
        """Until no call has been in flight for `quiet_s` (calls gRPC had queued before the close have then reached
        the interceptor and been answered), or `timeout_s` has passed. True when idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        idle_since = None
        while loop.time() < deadline:
            if self.total == 0:
                idle_since = idle_since or loop.time()
                if loop.time() - idle_since >= quiet_s:
                    return True
            else:
                idle_since = None
            await asyncio.sleep(0.01)
        return self.total == 0

    def enter(self, peer: str) -> tuple[reasons.Reason, str] | None:
        """Take a slot; or say why not (and take nothing)."""
        if self.closed:
            return reasons.SERVICE_UNAVAILABLE, "this worker is stopping; another takes the call"
        if self.total >= self.total_max:
            return reasons.SERVER_BUSY, f"this worker is answering {self.total} calls, its limit"
        held = self._by_peer.get(peer, 0)
        if held >= self.per_connection_max:
            return reasons.SERVER_BUSY, f"this connection has {held} calls in flight, its limit; open more connections"
        self.total += 1
        self._by_peer[peer] = held + 1
        return None

    def leave(self, peer: str) -> None:
        self.total -= 1
        held = self._by_peer[peer] - 1
        if held:
            self._by_peer[peer] = held
        else:
            del self._by_peer[peer]
        assert self.total >= 0


# A health check must answer even when the worker is at its limit: a load balancer would otherwise take a busy
# worker for a dead one.
UNCOUNTED_METHODS = frozenset({"/grpc.health.v1.Health/Check"})


class IntakeInterceptor(MethodLayer):
    """Unary-request handlers get their slot and their decoded request from here; streaming requests (reflection)
    pass untouched."""

    def __init__(self, admission: Admission) -> None:
        super().__init__()
        self.admission = admission

    def _applies_to(self, method: str, handler: grpc.RpcMethodHandler) -> bool:
        return not handler.request_streaming and handler.request_deserializer is not None

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        name = _short(method)
        limit = body_bytes_max(method)
        decode = handler.request_deserializer
        admission = self.admission

        async def refuse(context: grpc.aio.ServicerContext, reason: reasons.Reason, detail: str, body_bytes: int = 0,
                         **logged) -> None:
            logs.event("rpc_refused", method=name, reason=reason.code, peer=context.peer(), body_bytes=body_bytes,
                       **logged)
            metrics.REFUSALS.labels(name, reason.code).inc()
            delay_s = refusal_delay_s(body_bytes)
            if delay_s:
                await asyncio.sleep(delay_s)
            await errors.abort(context, Refusal(reason, detail=detail))

        async def decoded(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            _body_bytes.set(len(raw))
            if len(raw) > limit:
                await refuse(context, reasons.MESSAGE_TOO_LARGE, f"{len(raw)} bytes; {name} accepts at most {limit}",
                             len(raw), body_bytes_max=limit)
            try:
                return decode(raw)
            except Exception as error:  # noqa: BLE001 - any failure to parse is the body's fault
                await refuse(context, reasons.MALFORMED_REQUEST, f"{len(raw)} bytes that are not a {name} request",
                             len(raw), error=type(error).__name__)

        async def admitted(raw: bytes, context: grpc.aio.ServicerContext, run: Callable[[Any], Awaitable[Any]]) -> Any:
            peer = context.peer()
            why_not = admission.enter(peer)
            started = time.perf_counter()
            if why_not is not None:
                try:
                    await refuse(context, *why_not, in_flight=admission.total)
                finally:
                    _count(name, context, started)
            metrics.IN_FLIGHT.inc()
            try:
                return await run(await decoded(raw, context))
            finally:
                admission.leave(peer)
                metrics.IN_FLIGHT.dec()
                _count(name, context, started)

        async def uncounted(raw: bytes, context: grpc.aio.ServicerContext, run) -> Any:
            return await run(await decoded(raw, context))

        enter = uncounted if method in UNCOUNTED_METHODS else admitted

        if handler.response_streaming:
            # A stream (health Watch) holds no slot: it lives as long as its watcher, and stream_bound.py bounds how
            # many a worker holds. It receives the raw body, decoded here.
            @contextlib.asynccontextmanager
            async def decoding(raw: bytes, context: grpc.aio.ServicerContext):
                yield await decoded(raw, context)

            return around_stream(handler, decoding, request_deserializer=None)

        inner = handler.unary_unary

        async def unary(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            return await enter(raw, context, lambda request: inner(request, context))

        return grpc.unary_unary_rpc_method_handler(unary, response_serializer=handler.response_serializer)
