"""What grpc.aio itself costs per call on this machine, apart from anything medsettle does: the floor under issue 15.

    .venv/bin/python bench/grpc_floor.py [--seconds 4] [--burn-us 0,200,400,800] [--concurrency 64]

A bare grpc.aio server on uvloop (plaintext on loopback, one process, no interceptors) whose one unary handler burns
a given CPU time in Python (time.thread_time) and answers 3,000 bytes (a 10-line settlement's answer), driven by a
grpc.aio client in another process sending 600 bytes (its request). Server CPU per call from /proc, minus the burned
time, is what gRPC and asyncio cost per call: with nothing to do, and as the handler grows (the loop then holds the
GIL longer while gRPC's poller thread waits for it).

Writes bench/out/grpc-floor-<date>.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

REQUEST_BYTES = 600
RESPONSE_BYTES = 3000
METHOD = "/floor.Floor/Call"


def _burn(micros: int) -> None:
    end = time.thread_time() + micros / 1e6
    while time.thread_time() < end:
        pass


def serve(port: int, burn_us: int, ready, options: tuple = ()) -> None:
    import grpc
    import uvloop

    answer = b"x" * RESPONSE_BYTES

    async def handler(request: bytes, context) -> bytes:
        if burn_us:
            _burn(burn_us)
        return answer

    async def main() -> None:
        server = grpc.aio.server(options=options)
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "floor.Floor", {"Call": grpc.unary_unary_rpc_method_handler(handler)})])
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        ready.set()
        await server.wait_for_termination()

    uvloop.run(main())


def drive(target: str, seconds: float, concurrency: int, answers, method: str = METHOD,
          body: bytes = b"y" * REQUEST_BYTES, metadata: tuple = ()) -> None:
    """`concurrency` calls of `method` in flight on one plaintext channel for `seconds`; how many were answered goes
    to `answers` (a process's queue)."""
    import grpc
    import uvloop

    async def main() -> int:
        async with grpc.aio.insecure_channel(target) as channel:
            call, done, end = channel.unary_unary(method), 0, time.monotonic() + seconds

            async def worker() -> None:
                nonlocal done
                while time.monotonic() < end:
                    await call(body, timeout=10, metadata=metadata)
                    done += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return done

    answers.put(uvloop.run(main()))


def server_cpu_us_per_call(pid: int, target: str, seconds: float, concurrency: int, **call) -> tuple[float, int]:
    """A warm-up, then a measured phase of `drive` (`call`: its method, body, metadata): the server's CPU per call,
    and the calls answered in the measured phase."""
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    for phase_s in (1.0, seconds):
        before = benchlib.cpu_s(pid)
        driver = context.Process(target=drive, args=(target, phase_s, concurrency, answers), kwargs=call)
        driver.start()
        calls = answers.get(timeout=phase_s + 60)
        driver.join()
        used = benchlib.cpu_s(pid) - before
    return used / calls * 1e6, calls


def measure(burn_us: int, seconds: float, concurrency: int, options: tuple = ()) -> dict:
    context = multiprocessing.get_context("spawn")
    ready, port = context.Event(), benchlib.free_port()
    server = context.Process(target=serve, args=(port, burn_us, ready, options), daemon=True)
    server.start()
    try:
        assert ready.wait(30), "the bare server did not start"
        per_call_us, calls = server_cpu_us_per_call(server.pid, f"127.0.0.1:{port}", seconds, concurrency)
        return {"burn_us": burn_us, "calls": calls, "calls_per_s": round(calls / seconds),
                "server_cpu_us_per_call": round(per_call_us, 1),
                "overhead_us_per_call": round(per_call_us - burn_us, 1)}
    finally:
        server.kill()
        server.join()

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--burn-us", default="0,200,400,800", help="handler CPU per call, comma-separated")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--option", action="append", default=[], help="a server channel argument NAME=VALUE (repeat): "
                                                                       "measured beside the default server, in turn")
    args = parser.parse_args()
    options = tuple((name, int(value) if value.isdigit() else value)
                    for name, _, value in (each.partition("=") for each in args.option))
    servers = {"default": ()} | ({"options": options} if options else {})
    rows = []
    for round_no in range(args.rounds):
        for burn_us in (int(each) for each in args.burn_us.split(",")):
            for server, server_options in servers.items():
                row = {"round": round_no, "server": server, **measure(burn_us, args.seconds, args.concurrency,
                                                                      server_options)}
                rows.append(row)
                print(f"round {round_no} {server:8s} burn {row['burn_us']:5d} us: server CPU "
                      f"{row['server_cpu_us_per_call']:7.1f} us/call ({row['calls_per_s']:,}/s), gRPC and asyncio "
                      f"{row['overhead_us_per_call']:6.1f} us/call", flush=True)
    benchlib.write_report("grpc-floor", {"machine": benchlib.machine(), "command": " ".join(sys.argv),
                                         "options": options, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
