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

import inspect

import grpc

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import errors
from medsettle.service.layers import MethodLayer

_STREAMING_KINDS = ("unary_stream", "stream_unary", "stream_stream")


class StreamBound(MethodLayer):
    def __init__(self, streams_max: int) -> None:
        super().__init__()
        assert streams_max >= 1
        self.streams_max = streams_max
        self.open = 0

    def _applies_to(self, method: str, handler: grpc.RpcMethodHandler) -> bool:
        return handler.request_streaming or handler.response_streaming

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        kind, inner = next((kind, behavior) for kind in _STREAMING_KINDS
                           if (behavior := getattr(handler, kind)) is not None)
        bound = self

        async def enter(context) -> None:
            if bound.open >= bound.streams_max:
                await errors.abort(context, Refusal(
                    reasons.SERVER_BUSY, detail=f"this worker holds {bound.open} streams (health watches, "
                                                f"reflection), its limit; close one or try later"))
            bound.open += 1

        # grpc.aio tells a generator handler (yields its answers) from one that writes them with context.write by
        # the function's kind: keep the kind of the handler wrapped.
        if inspect.isasyncgenfunction(inner):
            async def streaming(request, context):
                await enter(context)
                try:
                    async for answer in inner(request, context):
                        yield answer
                finally:
                    bound.open -= 1
                    assert bound.open >= 0
        else:
            async def streaming(request, context):  # type: ignore[misc]
                await enter(context)
                try:
                    return await inner(request, context)
                finally:
                    bound.open -= 1
                    assert bound.open >= 0
        return getattr(grpc, f"{kind}_rpc_method_handler")(streaming, request_deserializer=handler.request_deserializer,
                                                            response_serializer=handler.response_serializer)
