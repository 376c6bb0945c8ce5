"""What medsettle adds to the cheapest call: the health check on a bare grpc.aio server against medsettle's server,
whole and without its layers (access; intake and access), with one driver and one connection.

    .venv/bin/python bench/health_layers.py [--seconds 4] [--rounds 2]

The bare server is grpcio-health-checking's asyncio HealthServicer alone on uvloop (plaintext on loopback); the
medsettle servers are `serve --insecure` on a fresh copy of the bench nation (benchlib.server, `without=` for the
layers). The driver is one grpc.aio channel with 64 calls in flight, each naming national operations in
x-medsettle-caller. Server CPU per call from /proc, as bench/cpu.py. The order of the medsettle variants alternates
by round. Writes bench/out/health-layers-<date>.json.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import grpc_floor  # noqa: E402

HEALTH = "/grpc.health.v1.Health/Check"
CONCURRENCY = 64
CALLER = (("x-medsettle-caller", "medsettle:national:ops"),)
VARIANTS = {"medsettle": (), "medsettle without access": ("access",),
            "medsettle without intake and access": ("intake", "access")}


def serve_bare(port: int, ready) -> None:
    import grpc
    import uvloop
    from grpc_health.v1 import health, health_pb2_grpc

    async def main() -> None:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        ready.set()
        await server.wait_for_termination()

    uvloop.run(main())


def cpu_us_per_call(pid: int, target: str, seconds: float) -> float:
    """The health check's server CPU per call, driven as bench/grpc_floor.py drives its bare server."""
    per_call_us, _ = grpc_floor.server_cpu_us_per_call(pid, target, seconds, CONCURRENCY, method=HEALTH, body=b"",
                                                        metadata=CALLER)
    return round(per_call_us, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    base = benchlib.nation(args.work_dir, 2000)
    context = multiprocessing.get_context("spawn")
    rows = []
    for round_no in range(args.rounds):
        port, ready = benchlib.free_port(), context.Event()
        bare = context.Process(target=serve_bare, args=(port, ready), daemon=True)
        bare.start()
        try:
            assert ready.wait(30), "the bare server did not start"
            measured = {"bare grpc.aio health": cpu_us_per_call(bare.pid, f"127.0.0.1:{port}", args.seconds)}
        finally:
            bare.kill()
            bare.join()
        order = list(VARIANTS) if round_no % 2 == 0 else list(reversed(VARIANTS))
        data_dir = benchlib.nation_copy(base, args.work_dir, "health-layers")
        try:
            for name in order:
                with benchlib.server(data_dir, without=VARIANTS[name]) as target:
                    measured[name] = cpu_us_per_call(benchlib.server.pids[target], target, args.seconds)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        rows.append({"round": round_no, "cpu_us_per_call": measured})
        print(f"round {round_no}: " + "  ".join(f"{name} {us:.1f}" for name, us in measured.items()), flush=True)
    benchlib.write_report("health-layers", {"machine": benchlib.machine(), "command": " ".join(sys.argv), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
