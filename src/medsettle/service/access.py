"""The access interceptor: every call's caller is resolved and authorized here, once, before any servicer runs.

1. Who: the one `medsettle:` URI SAN of the verified client certificate; on a loopback --insecure listener the
   `x-medsettle-caller` metadata instead (authorized exactly the same way). Neither: UNAUTHENTICATED. When the
   certificate is a proxy's (`medsettle:proxy:<name>`, the sharded deployment's Envoy), the caller is the one its
   x-forwarded-client-cert header names (Envoy sets it from the caller's own verified certificate and drops any the
   caller sent); the header is believed from a proxy's certificate only, never from anyone else.
2. May they: service/authorization.py's table, on the decoded request. No: PERMISSION_DENIED, CALLER_NOT_ALLOWED,
   the RPC and the field in the ErrorInfo, a log line with the caller; the servicer never runs, nothing is written.
3. An institution's person look-ups count against its rate (Limits.person_lookups_per_minute, per worker process):
   over it, RESOURCE_EXHAUSTED, RATE_LIMITED.
4. The caller is bound (identity.current()) while the servicer runs, for the audit trail; the answer is shaped
   for the caller's kind where the rule says so (an institution sees a person's ID number masked).

It wraps the unary handler's behavior, so an interceptor placed before it in the server's list (decoding bodies
itself) hands it the decoded request.
"""

from __future__ import annotations

import contextlib
import traceback

import grpc
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from medsettle import tls
from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import authorization, errors, identity, logs
from medsettle.service.app import App
from medsettle.service.identity import INSTITUTION, Caller
from medsettle.service.layers import MethodLayer, around_stream
from medsettle.store.errors import StoreUnavailable


class Access(MethodLayer):
    def __init__(self, app: App, *, insecure: bool) -> None:
        super().__init__()
        self.app = app
        self.insecure = insecure
        self._lookups = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._lookup_rate = RateLimitItemPerMinute(app.limits.person_lookups_per_minute)

    def caller_of(self, context: grpc.aio.ServicerContext) -> Caller | None:
        if self.insecure:
            named = [value for key, value in context.invocation_metadata() or () if key == identity.CALLER_METADATA_KEY]
            return identity.parse(named[0]) if len(named) == 1 else None  # two names are no name
        peer = tls.caller_of_peer(context.auth_context())
        if peer is None or peer.kind != identity.PROXY:
            return peer
        forwarded = [value for key, value in context.invocation_metadata() or ()
                     if key == tls.FORWARDED_CLIENT_CERT_KEY]
        if not forwarded:
            return peer  # the proxy's own calls: its health checks
        caller = tls.caller_forwarded(forwarded[0]) if len(forwarded) == 1 else None
        return None if caller is None or caller.kind == identity.PROXY else caller

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        rules = authorization.rules_of(method)
        name = method.rsplit("/", 1)[-1]
        codec = dict(request_deserializer=handler.request_deserializer,
                     response_serializer=handler.response_serializer)
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary(request, context):
                caller = await self._admit(context, name, rules, request)
                token = identity.bind(caller)
                try:
                    response = await inner(request, context)
                finally:
                    identity.unbind(token)
                rule = authorization.rule_for(rules, caller)
                if rule is not None and rule.answer is not None and response is not None:
                    # Shaped for its caller, so never an answer passed through as bytes (layers.PassingBytes).
                    assert not isinstance(response, bytes), name
                    rule.answer(response)
                return response

            return grpc.unary_unary_rpc_method_handler(unary, **codec)
        # Streams (health Watch, reflection): open to every verified caller; no request fields to relate.

        @contextlib.asynccontextmanager
        async def admitted(request, context):
            await self._admit(context, name, rules, None)
            yield request

        return around_stream(handler, admitted)

    async def _admit(self, context, name: str, rules, request) -> Caller:
        """The verified caller, allowed to make this request; else the call ends here with the refusal."""
        caller = self.caller_of(context)
        if caller is None:
            await self._refuse(context, name, None, Refusal(
                reasons.CALLER_NOT_IDENTIFIED,
                detail="plaintext listener: send x-medsettle-caller" if self.insecure else "no medsettle: URI SAN"),
                request)
        assert caller is not None
        rule = authorization.rule_for(rules, caller)
        try:
            if request is None or rule is None or not rule.reads:
                authorization.check(rule, caller, request, None)
            else:
                with self.app.store.read() as view:
                    authorization.check(rule, caller, request, view)
        except Refusal as refusal:
            await self._refuse(context, name, caller, refusal, request)
        except StoreUnavailable:  # PostgreSQL changing over: retry later, as rpc.py answers it
            await self._refuse(context, name, caller, Refusal(reasons.STORE_UNAVAILABLE), request)
        except Exception as error:  # noqa: BLE001 - a defect of a relation: INTERNAL with a stable reason, not UNKNOWN
            logs.event("rpc_failed", level="error", method=name, caller=caller.uri,
                       request_id=logs.request_id_of(request), error=repr(error), trace=traceback.format_exc(limit=8))
            await self._refuse(context, name, caller, Refusal(reasons.INTERNAL_ERROR), request)
        if rule is not None and rule.person_lookup and caller.kind == INSTITUTION and not self._lookups.hit(
                self._lookup_rate, caller.id):
            await self._refuse(context, name, caller, Refusal(
                reasons.RATE_LIMITED, detail=f"at most {self.app.limits.person_lookups_per_minute} a minute"), request)
        return caller

    async def _refuse(self, context, name: str, caller: Caller | None, refusal: Refusal, request=None) -> None:
        who = caller.uri if caller is not None else ""
        logs.event("rpc_denied", level="warning", method=name, caller=who, request_id=logs.request_id_of(request),
                   reason=refusal.reason.code, field=refusal.field, detail=refusal.detail)
        await errors.abort(context, refusal, extra={"rpc": name, "caller": who})
