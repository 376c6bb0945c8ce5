"""A small closed-loop (or paced) gRPC load generator over prebuilt request bytes, in one or more processes.

Every request is sent as raw bytes through a generic unary call (no protobuf work in the client), so the
client's cost per call is the same for the health check and for SettleOutpatient: a ratio measured with it
compares the server's work. Each process gets its own list of request bodies and never sends one twice,
so every SettleOutpatient carries a unique request_id (a replay would only read the idempotency record).

Who calls: `callers[i]` names the caller of bodies[i] ("institution:H44010200001"; default national operations).
Plaintext (a loopback --insecure server): the x-medsettle-caller metadata names it on each call. With `tls_dir`
(mutual TLS): each caller has its own connection with its own certificate, as each hospital's gateway has.
`metadata[i]`, if given, is sent with bodies[i] (a sharded deployment's x-insuplc-admdvs and request id).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Result:
    calls: int = 0
    seconds: float = 0.0
    latencies_us: list[int] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return self.statuses.get("OK", 0)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def merge(self, other: Result) -> None:
        self.calls += other.calls
        self.seconds = max(self.seconds, other.seconds)
        self.latencies_us.extend(other.latencies_us)
        self.statuses.update(other.statuses)

    def summary(self) -> dict:
        from benchlib import percentile

        lat = sorted(self.latencies_us)
        return {"calls": self.calls, "ok": self.ok, "errors": dict((k, v) for k, v in self.statuses.items() if k != "OK"),
                "seconds": round(self.seconds, 2), "rpc_per_s": round(self.rate, 1),
                "p50_ms": round(percentile(lat, 50) / 1000, 3), "p99_ms": round(percentile(lat, 99) / 1000, 3),
                "p999_ms": round(percentile(lat, 99.9) / 1000, 3), "max_ms": round((lat[-1] if lat else 0) / 1000, 3)}


OPERATOR = "national:ops"
TLS_CALLERS_MAX = 64  # one connection per caller over mutual TLS


def _calls(target: str, method: str, callers: list[str], channels: int, tls_dir: str | None):
    """(channels to close, per body index: a function sending one body as its caller)."""
    import pathlib

    import grpc

    from medsettle import tls
    from medsettle.service import identity

    options = [("grpc.use_local_subchannel_pool", 1)]
    if tls_dir:
        distinct = sorted(set(callers))
        assert len(distinct) <= TLS_CALLERS_MAX, f"{len(distinct)} callers: one connection each is too many"
        chans = {caller: grpc.aio.secure_channel(target, tls.channel_credentials(pathlib.Path(tls_dir),
                                                                                 identity.of(caller)), options=options)
                 for caller in distinct}
        by_caller = {caller: chan.unary_unary(method) for caller, chan in chans.items()}  # bytes in, bytes out

        def send_tls(k: int, i: int):
            multicallable = by_caller[callers[i]]
            return lambda body, timeout, extra=(): multicallable(body, timeout=timeout, metadata=extra or None)

        return list(chans.values()), send_tls
    chans = [grpc.aio.insecure_channel(target, options=options) for _ in range(channels)]
    plain = [chan.unary_unary(method) for chan in chans]
    metadata = {caller: identity.metadata(caller) for caller in set(callers)}

    def send(k: int, i: int):
        named = metadata[callers[i]]
        return lambda body, timeout, extra=(): plain[k % len(plain)](body, timeout=timeout, metadata=named + extra)

    return chans, send


async def _drive(target: str, method: str, bodies: list[bytes], concurrency: int, seconds: float,
                 rate_per_s: float, channels: int, callers: list[str], tls_dir: str | None,
                 metadata: list[tuple] | None = None) -> Result:
    import grpc

    chans, sender = _calls(target, method, callers, channels, tls_dir)
    result = Result()
    next_index = 0
    started = time.perf_counter()
    deadline = started + seconds
    interval = concurrency / rate_per_s if rate_per_s else 0.0

    async def worker(k: int) -> None:
        nonlocal next_index
        due = started + (k * interval / concurrency if interval else 0.0)
        while True:
            if interval:
                due += interval
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            now = time.perf_counter()
            if now >= deadline or next_index >= len(bodies):
                return
            body = bodies[next_index]
            call = sender(k, next_index)
            extra = tuple(metadata[next_index]) if metadata else ()
            next_index += 1
            t0 = time.perf_counter_ns()
            try:
                await call(body, timeout=30, extra=extra)
                status = "OK"
            except grpc.aio.AioRpcError as error:
                status = error.code().name
            result.latencies_us.append((time.perf_counter_ns() - t0) // 1000)
            result.statuses[status] += 1
            result.calls += 1

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    result.seconds = time.perf_counter() - started
    for chan in chans:
        await chan.close()
    return result


def _process_main(args) -> Result:
    import uvloop

    return uvloop.run(_drive(*args))


def run(target: str, method: str, bodies: list[bytes], *, concurrency: int, seconds: float, processes: int = 1,
        rate_per_s: float = 0.0, channels: int = 2, callers: list[str] | None = None,
        tls_dir: str | None = None, metadata: list[tuple] | None = None) -> Result:
    """Drive `method` with `bodies` (each sent at most once, as its caller) for `seconds`; closed loop unless
    rate_per_s > 0."""
    assert processes >= 1 and concurrency >= processes
    callers = callers or [OPERATOR] * len(bodies)
    assert len(callers) == len(bodies)
    assert metadata is None or len(metadata) == len(bodies)
    args = [(target, method, bodies[i::processes], concurrency // processes, seconds, rate_per_s / processes,
             channels, callers[i::processes], tls_dir, metadata[i::processes] if metadata else None)
            for i in range(processes)]
    total = Result()
    if processes == 1:
        total.merge(_process_main(args[0]))
        return total
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        for part in pool.map(_process_main, args):
            total.merge(part)
    return total
