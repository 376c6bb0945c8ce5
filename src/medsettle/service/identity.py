"""Who is calling. Until mTLS names the caller by certificate, platforms say who they are in metadata;
institutions are named by fixmedins_code in the request. One function, so the interceptor that
replaces it later has one place to go."""

from __future__ import annotations

import grpc

CALLER_METADATA_KEY = "x-medsettle-caller"
ANONYMOUS = "anonymous"


def caller_of(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == CALLER_METADATA_KEY and isinstance(value, str) and 0 < len(value) <= 64:
            return value
    return ANONYMOUS
