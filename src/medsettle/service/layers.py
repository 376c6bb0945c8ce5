"""The server's cross-cutting layers (intake, then access), applied to every method handler once, where the
servicers register their handlers.

Each layer is a grpc.aio server interceptor and can be used as one. Given to `grpc.aio.server(interceptors=...)`,
though, gRPC runs the chain of interceptors as coroutines on every call before it finds the handler: about 80 us of
server CPU per call for these two (bench/RESULTS.md, issue 15), more than a third of an empty call. The handler a
layer returns for a method is the same every call, so it is built once here, at registration: every call runs
exactly what the interceptors would run, and no chain.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import grpc


class Layer(Protocol):
    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler: ...


class MethodLayer(grpc.aio.ServerInterceptor):
    """A layer that builds its wrapper of each method's handler once (`_wrap`): the handler behind a method is the
    same object every call. Usable as an interceptor too (intercept_service), which looks the wrapper up per call."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        return None if handler is None else self.wrap(handler_call_details.method, handler)

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if not self._applies_to(method, handler):
            return handler
        cached = self._handlers.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(method, handler)
        self._handlers[method] = (handler, wrapped)
        return wrapped

    def _applies_to(self, method: str, handler: grpc.RpcMethodHandler) -> bool:
        return True

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        raise NotImplementedError


STREAMING_KINDS = ("unary_stream", "stream_unary", "stream_stream")
_KEEP = object()


def around_stream(handler: grpc.RpcMethodHandler, around: Callable[[Any, Any], AbstractAsyncContextManager[Any]], *,
                  request_deserializer: Any = _KEEP) -> grpc.RpcMethodHandler:
    """A streaming `handler` whose behavior runs inside `around(request, context)`: an async context manager that
    may end the call (abort) before it starts, holds what the call holds until it ends, and gives the request the
    behavior receives. grpc.aio tells a generator behavior (yields its answers) from one that writes them with
    context.write by the function's kind: the wrapper keeps the kind of the behavior it wraps. `request_deserializer`:
    the new handler's (default: the handler's own)."""
    kind, inner = next((kind, behavior) for kind in STREAMING_KINDS if (behavior := getattr(handler, kind)) is not None)
    if inspect.isasyncgenfunction(inner):
        async def streaming(request, context):
            async with around(request, context) as handed:
                async for answer in inner(handed, context):
                    yield answer
    else:
        async def streaming(request, context):  # type: ignore[misc]
            async with around(request, context) as handed:
                return await inner(handed, context)
    deserializer = handler.request_deserializer if request_deserializer is _KEEP else request_deserializer
    return getattr(grpc, f"{kind}_rpc_method_handler")(streaming, request_deserializer=deserializer,
                                                        response_serializer=handler.response_serializer)


class PassingBytes(MethodLayer):
    """Unary handlers whose answer may also be given already serialized, as bytes: sent as they are. The worker's
    writer process answers every settlement write with the response's bytes; parsing them on the event loop only for
    gRPC to serialize them again cost 4.3 us of a 10-line settlement's answer (bench/RESULTS.md, issue 15), more for a
    stay's. An answer given as a message is serialized as before. The innermost layer of every `Layers`: the others
    keep the response serializer of the handler they wrap."""

    def _applies_to(self, method: str, handler: grpc.RpcMethodHandler) -> bool:
        return handler.unary_unary is not None and handler.response_serializer is not None

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        serialize = handler.response_serializer

        def serialized(response: Any) -> bytes:
            return response if type(response) is bytes else serialize(response)

        return grpc.unary_unary_rpc_method_handler(handler.unary_unary,
                                                   request_deserializer=handler.request_deserializer,
                                                   response_serializer=serialized)


class Layers:
    """`layers` outermost first: a call meets layers[0] first, as with grpc.aio.server(interceptors=layers)."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = (*layers, PassingBytes())

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        for layer in reversed(self.layers):
            handler = layer.wrap(method, handler)
        return handler

    def on(self, server: grpc.aio.Server) -> _Served:
        """What servicers register their handlers on (`add_XServicer_to_server(servicer, layers.on(server))`): one
        generic handler with the server, which serves them all."""
        served = _Served(self)
        server.add_generic_rpc_handlers((served,))
        return served


class _Served(grpc.GenericRpcHandler):
    """A server's registration methods, and the one generic handler with gRPC that serves every handler they are
    given, wrapped in the layers once, by full method name: those registered by name (the generated
    `add_XServicer_to_server` registers each service both ways), then what the generic handlers (reflection's) serve,
    kept by its name when first asked. A method's handler is the same every call, as the layers' wrappers assume
    (MethodLayer).

    None is registered with gRPC by name: grpc.aio's server keeps a pending request for each registered method and
    waits on all of them (asyncio.wait) for every call, which with the ~50 methods served here cost ~12 us of the loop
    per call (bench/RESULTS.md, issue 15)."""

    def __init__(self, layers: Layers) -> None:
        self._layers = layers
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}
        self._generic: list[grpc.GenericRpcHandler] = []

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._generic.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        for name, handler in handlers.items():
            self._add(f"/{service}/{name}", handler)

    def _add(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The handler wrapped in the layers, kept by its method's name."""
        assert method not in self._handlers, f"{method} registered twice"
        wrapped = self._handlers[method] = self._layers.wrap(method, handler)
        return wrapped

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        found = self._handlers.get(handler_call_details.method)
        if found is not None:
            return found
        for generic in self._generic:  # a method registered without a name, or none
            handler = generic.service(handler_call_details)
            if handler is not None:
                return self._add(handler_call_details.method, handler)
        return None
