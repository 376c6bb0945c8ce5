"""The one wrapper every RPC goes through: refusals become rich statuses, every call can be logged."""

from __future__ import annotations

import asyncio
import functools
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from medsettle import metrics, tracing
from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import errors, identity, intake, logs
from medsettle.store.errors import CommitUnknown, StoreFull, StoreUnavailable
from medsettle.store.writer import WriterGone

# Failures of the platform, not of the request: each a stable reason, so a gateway knows to retry with the same
# request_id (nothing was written, or, for OUTCOME_UNKNOWN, the retry finds what was) and the operators see it.
_UNSERVED = {StoreFull: reasons.STORE_FULL, WriterGone: reasons.SERVICE_UNAVAILABLE,
             StoreUnavailable: reasons.STORE_UNAVAILABLE, CommitUnknown: reasons.OUTCOME_UNKNOWN}


def rpc(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    name = method.__name__

    @functools.wraps(method)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        caller, request_id = identity.current_uri(), logs.request_id_of(request)
        if tracing.enabled():
            tracing.annotate(caller, request_id)
        token = logs.bind_call(name, caller, request_id)
        try:
            return await _served(self, method, name, request, context)
        finally:
            logs.unbind_call(token)

    return wrapper


async def _served(servicer, method, name: str, request, context: grpc.aio.ServicerContext):
    started_ns = time.perf_counter_ns()
    try:
        try:
            response = await method(servicer, request, context)
        except (StoreFull, WriterGone, StoreUnavailable) as error:
            raise Refusal(_UNSERVED[type(error)], detail=str(error)) from None
    except Refusal as refusal:
        delay_s = intake.refusal_delay_s()  # a large refused body is answered late: see intake.py
        if delay_s:
            await asyncio.sleep(delay_s)
        metrics.REFUSALS.labels(name, refusal.reason.code).inc()
        logs.event(
            "rpc_refused",
            reason=refusal.reason.code,
            field=refusal.field,
            feedetl_sn=refusal.feedetl_sn,
            reasons=[each.reason.code for each in refusal.all[:errors.REFUSALS_SHOWN]],
            reason_count=len(refusal.all),
            ms=(time.perf_counter_ns() - started_ns) / 1e6,
        )
        await errors.abort(context, refusal)
    except grpc.aio.AbortError:
        raise
    except Exception as error:
        # A broken invariant or a bug: nothing was committed (writes happen only in the writer's
        # transaction, which aborts on error); the caller gets INTERNAL, the log gets the trace.
        logs.event("rpc_failed", level="error", error=repr(error), trace=traceback.format_exc(limit=8))
        # The caller gets a stable reason and a fixed text, never the exception's own (grpc would send
        # UNKNOWN with it).
        await errors.abort(context, Refusal(reasons.INTERNAL_ERROR))
    if servicer.app.log_calls:
        logs.event("rpc", ms=(time.perf_counter_ns() - started_ns) / 1e6)
    return response
