"""Who is calling: a verified caller, named `medsettle:<kind>:<id>` (the URI SAN of its client certificate, or on a
loopback --insecure listener the x-medsettle-caller metadata).

A `proxy` (the sharded deployment's Envoy, `medsettle:proxy:<name>`) is trusted to name the caller it forwards in
the x-forwarded-client-cert header it sets from that caller's verified certificate; on its own it may only ask for
health (service/access.py).

The access interceptor resolves the caller once per call and keeps it in a context variable for the servicers'
audit trail (`current()`); servicers never decide anything from it, and the domain never hears of it.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass

from medsettle.domain import region
from medsettle.process_cache import ProcessCache

CALLER_METADATA_KEY = "x-medsettle-caller"
URI_PREFIX = "medsettle:"
INSTITUTION, PROVINCE, NATIONAL, PROXY = "institution", "province", "national", "proxy"
KINDS = (INSTITUTION, PROVINCE, NATIONAL, PROXY)
URI_CHARS_MAX = 64

# fixmedins_code as the contract's codes are (convert.is_code), a national system's name in lower case.
_ID_RE = {
    INSTITUTION: re.compile(r"[0-9A-Za-z._-]{1,40}"),
    PROVINCE: re.compile(r"[0-9]{2}0000"),
    NATIONAL: re.compile(r"[a-z][a-z0-9-]{0,31}"),
    PROXY: re.compile(r"[a-z][a-z0-9-]{0,31}"),
}


@dataclass(frozen=True, order=True)
class Caller:
    kind: str
    id: str

    def __post_init__(self) -> None:
        assert self.kind in KINDS and _ID_RE[self.kind].fullmatch(self.id), (self.kind, self.id)

    @property
    def uri(self) -> str:
        return f"{URI_PREFIX}{self.kind}:{self.id}"

    @property
    def short(self) -> str:
        """`kind:id`, as `medsettle call --as` takes it and as certificate files are named (with '-')."""
        return f"{self.kind}:{self.id}"

    def __str__(self) -> str:
        return self.uri


# Every call names its caller: the callers named lately, each parsed once per process (a Caller is immutable);
# names that are no caller are not kept.
_parsed = ProcessCache(20_000)  # text -> Caller


def parse(text: str) -> Caller | None:
    """`medsettle:<kind>:<id>` (or `<kind>:<id>`) as a Caller; None when it names no valid caller."""
    if not isinstance(text, str) or len(text) > URI_CHARS_MAX:
        return None
    caller = _parsed.get(text)
    if caller is None:
        caller = _parse(text)
        if caller is not None:
            _parsed.remember(text, caller)
    return caller


def _parse(text: str) -> Caller | None:
    body = text.removeprefix(URI_PREFIX)
    kind, _, ident = body.partition(":")
    if kind not in KINDS or not _ID_RE[kind].fullmatch(ident):
        return None
    if kind == PROVINCE and not region.is_province(ident):
        return None
    return Caller(kind, ident)


def of(text: str) -> Caller:
    """parse(), for names written in code and on the command line: a bad one is an error, not a refusal."""
    caller = parse(text)
    if caller is None:
        raise ValueError(f"{text!r} names no caller: institution:<fixmedins_code>, province:<xx0000>, "
                         f"national:<name> or proxy:<name>")
    return caller


_CURRENT: contextvars.ContextVar[Caller] = contextvars.ContextVar("medsettle_caller")


def current() -> Caller:
    """The verified caller of the call being served (set by the access interceptor before the servicer runs)."""
    return _CURRENT.get()


def current_uri() -> str:
    """The current caller's name for a log line; "" outside a call."""
    caller = _CURRENT.get(None)
    return "" if caller is None else caller.uri


def bind(caller: Caller) -> contextvars.Token:
    return _CURRENT.set(caller)


def unbind(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


def metadata(caller: Caller | str) -> tuple[tuple[str, str], ...]:
    """The call metadata that names `caller` on a loopback --insecure listener (benchmarks, local tools, tests)."""
    uri = caller.uri if isinstance(caller, Caller) else of(caller).uri
    return ((CALLER_METADATA_KEY, uri),)
