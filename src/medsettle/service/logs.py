"""One JSON line per event on stderr, through structlog: ISO-8601 UTC time, level, event, worker pid, and, while a
call is served, its method, verified caller and request id (`bind_call()` in the RPC wrapper; the access
interceptor names them on its denials), so servicers never pass them. Personal data never appears unmasked: the fields that hold it are
masked by name wherever they sit, and an ID number written into free text (an error, a trace) is masked too.

    {"time":"2026-03-02T10:00:00.123Z","level":"warning","event":"rpc_refused","pid":4242,
     "method":"SettleOutpatient","caller":"medsettle:institution:H11010500001","request_id":"H1101...",
     "reason":"NO_FILING","field":"psn_no",...}
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from typing import Any

import structlog

from medsettle import tracing

MASKED_FIELDS = frozenset({"certno", "psn_name", "mdtrt_cert_no", "card_no", "evoucher_token", "card_sn"})
# A resident ID number (18 characters, the last a digit or X) standing alone in free text.
ID_NUMBER_CHARS = 18
_ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
# Keys first, in this order, so a line reads the same every time; the event's own fields follow.
_LEADING = ("time", "level", "event", "pid", "method", "caller", "request_id")
LEVELS = ("debug", "info", "warning", "error", "critical")
_NESTING_MAX = 4


def mask(value: str) -> str:
    """Keep the first and last characters that identify nothing on their own: 110105********1234 -> 1101**...34."""
    if len(value) <= 2:
        return "*" * len(value)
    if len(value) <= 6:
        return value[0] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def _masked(key: str, value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        if key in MASKED_FIELDS:
            return mask(value)
        # Most values (codes, names of methods) are shorter than an ID number: no regex for them.
        return _ID_NUMBER_RE.sub(lambda m: mask(m.group()), value) if len(value) >= ID_NUMBER_CHARS else value
    if depth >= _NESTING_MAX:
        return value
    if isinstance(value, dict):
        return {k: _masked(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(key, v, depth + 1) for v in value]
    return value


def _mask_personal_data(_logger, _method: str, event_dict: dict) -> dict:
    for key, value in event_dict.items():
        if not isinstance(value, (int, float, bool, type(None))):
            event_dict[key] = _masked(key, value)
    return event_dict


def _add_pid(_logger, _method: str, event_dict: dict) -> dict:
    event_dict["pid"] = os.getpid()  # which worker
    return event_dict


def _add_trace_ids(_logger, _method: str, event_dict: dict) -> dict:
    if tracing.enabled():  # a log line of a traced call names its trace and span
        event_dict.update(tracing.current_ids())
    return event_dict


def _in_order(_logger, _method: str, event_dict: dict) -> dict:
    leading = {key: event_dict.pop(key) for key in _LEADING if key in event_dict}
    return {**leading, **event_dict}


class _Stderr:
    """Writes each rendered line to the sys.stderr of the moment (tests capture it; a worker inherits it)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    debug = info = warning = error = critical = msg


def configure(level: str = "info") -> None:
    structlog.configure(
        processors=[
            _add_call,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            _add_pid,
            _add_trace_ids,
            _mask_personal_data,
            _in_order,
            structlog.processors.JSONRenderer(serializer=lambda data, **_: json.dumps(
                data, ensure_ascii=False, separators=(",", ":"), default=str)),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=lambda *_: _Stderr(),
        cache_logger_on_first_use=True,
    )


def event(name: str, level: str = "info", **fields: Any) -> None:
    assert level in LEVELS, level
    getattr(_log, level)(name, **fields)


# The call being served: (method, verified caller, request id or None). One context variable set once per call (a
# few hundred nanoseconds, on every RPC) rather than structlog's bound_contextvars (several variables and a context
# manager, about ten times that); read only when a line is written.
_CALL: contextvars.ContextVar[tuple[str, str, str | None] | None] = contextvars.ContextVar("medsettle_call",
                                                                                           default=None)


def bind_call(method: str, caller: str, request_id: str | None) -> contextvars.Token:
    """Every line logged while a call is served carries its method, caller and request id (None for reads)."""
    return _CALL.set((method, caller, request_id or None))


def unbind_call(token: contextvars.Token) -> None:
    _CALL.reset(token)


def _add_call(_logger, _method: str, event_dict: dict) -> dict:
    call = _CALL.get()
    if call is not None:  # what the line names itself wins (a denial logged before the call is bound)
        for key, value in zip(("method", "caller", "request_id"), call, strict=True):
            event_dict.setdefault(key, value)
    return event_dict


def request_id_of(request: Any) -> str | None:
    """The request's idempotency key, where the contract has one (every mutating request); None for reads."""
    return getattr(request, "request_id", None) or None


configure()
_log = structlog.get_logger()
