"""Streams a worker holds at once: health watches and reflection, the calls that live as long as their client wants.

Admission (intake.py) bounds the unary calls, which end by themselves. A stream holds no admission slot, so without
a bound of its own a client could open streams up to every connection's HTTP/2 stream limit. Beyond
`Limits.streams_max` a new stream is answered RESOURCE_EXHAUSTED with the reason SERVER_BUSY at once, and nothing
else changes. This layer replaces gRPC's own `maximum_concurrent_rpcs`, which bounded every call, unary ones
included, silently (it stops accepting calls, which then wait in gRPC's queue) and at a cost on each: an
asyncio.Condition around each accepted call and a task to release it (~12 us of a health check's server CPU; not
measurable on a settlement: bench/RESULTS.md, issue 15).
"""

from __future__ import annotations

import contextlib

import grpc

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import errors
from medsettle.service.layers import MethodLayer, around_stream


class StreamBound(MethodLayer):
    def __init__(self, streams_max: int) -> None:
        super().__init__()
        assert streams_max >= 1
        self.streams_max = streams_max
        self.open = 0

    def _applies_to(self, method: str, handler: grpc.RpcMethodHandler) -> bool:
        return handler.request_streaming or handler.response_streaming

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        @contextlib.asynccontextmanager
        async def slot(request, context):
            if self.open >= self.streams_max:
                await errors.abort(context, Refusal(
                    reasons.SERVER_BUSY, detail=f"this worker holds {self.open} streams (health watches, "
                                                f"reflection), its limit; close one or try later"))
            self.open += 1
            try:
                yield request
            finally:
                self.open -= 1
                assert self.open >= 0

        return around_stream(handler, slot)
