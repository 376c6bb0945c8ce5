"""Optional OpenTelemetry tracing of every call (off by default; `serve --trace console|otlp`, env MEDSETTLE_TRACE).

One span per RPC from opentelemetry-instrumentation-grpc's server interceptor, placed before every other interceptor
so the span covers admission, decoding and authorization too; the RPC wrapper adds the verified caller and the
request id to it, and every log line written during the call carries its trace and span ids. `console` writes each
span as one JSON line on stderr beside the logs; `otlp` sends them over OTLP/gRPC to the collector the standard
OTEL_EXPORTER_OTLP_* variables name (default localhost:4317). Spans are batched off the event loop and flushed when
the worker stops. The packages come with the `trace` extra: `pip install 'medsettle[trace]'`.
"""

from __future__ import annotations

import os
import sys

import grpc

MODES = ("off", "console", "otlp")
SERVICE_NAME = "medsettle"

_provider = None  # the worker's TracerProvider while tracing is on


class TracingUnavailable(RuntimeError):
    """Tracing was asked for but its packages are not installed."""


def check(mode: str) -> None:
    """Refuse a mode whose packages are missing, before any worker starts."""
    import importlib.util

    if mode == "off":
        return
    needed = ["opentelemetry.sdk", "opentelemetry.instrumentation.grpc"]
    needed += ["opentelemetry.exporter.otlp.proto.grpc"] if mode == "otlp" else []
    for name in needed:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise TracingUnavailable(f"--trace {mode} needs the `trace` extra: pip install 'medsettle[trace]' "
                                     f"({name} is missing)")


def enable(mode: str) -> grpc.aio.ServerInterceptor | None:
    """Start tracing in this process; the server interceptor to put first, or None when `mode` is off."""
    global _provider
    assert mode in MODES, mode
    if mode == "off":
        return None
    try:
        from opentelemetry.instrumentation.grpc import aio_server_interceptor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as missing:
        raise TracingUnavailable(f"--trace {mode} needs the `trace` extra: pip install 'medsettle[trace]' "
                                 f"({missing.name} is missing)") from None
    if mode == "console":
        exporter = ConsoleSpanExporter(out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n")
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, TLS: the OTEL_EXPORTER_OTLP_* environment variables
    _provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME, "process.pid": os.getpid()}))
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    return aio_server_interceptor(tracer_provider=_provider)


def enabled() -> bool:
    return _provider is not None


def annotate(caller: str, request_id: str | None) -> None:
    """Who made the call being served, on its span (the RPC wrapper calls this when tracing is on)."""
    from opentelemetry import trace

    span = trace.get_current_span()
    span.set_attribute("medsettle.caller", caller)
    if request_id:
        span.set_attribute("medsettle.request_id", request_id)


# The codes OpenTelemetry's semantic conventions count as a server's error; a refusal of bad input is not one.
_SERVER_ERRORS = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED,
                            grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS})


def refused(code: grpc.StatusCode, reason: str) -> None:
    """The refusal that ends the call being served, on its span: gRPC status code and stable reason."""
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    span = trace.get_current_span()
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    span.set_attribute("medsettle.reason", reason)
    if code in _SERVER_ERRORS:
        span.set_status(Status(StatusCode.ERROR, f"{code.name} {reason}"))


def current_ids() -> dict[str, str]:
    """The trace and span ids of the call being served, for its log lines; {} outside a traced call."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


def shutdown() -> None:
    """Flush the spans still batched (a stopping worker)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None
