"""Settle throughput with one worker and with two, driven by a native-speed client so the cores go to the server.

    .venv/bin/python bench/workers.py [--workers 1,2] [--seconds 10] [--concurrency 64]

The Python driver of bench/ceiling.py needs about one of this box's two cores for ~3,000 calls/s, which leaves a
second worker nothing to run on. This uses bench/jsload/loadgen.js (Node, @grpc/grpc-js, installed by this script
with npm into bench/jsload/node_modules): prebuilt request bodies, each sent once (unique request ids), generic
unary calls with no protobuf work in the client. For each worker count, on a fresh copy of the seeded nation:
health checks, then durable SettleOutpatient, same concurrency; reports RPC/s, p50/p99 and settle/health.
Writes bench/out/workers-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from benchlib import settle_bodies, settle_callers  # noqa: E402
from ceiling import HEALTH, SETTLE, check_sample  # noqa: E402

JSLOAD = benchlib.BENCH_DIR / "jsload"


def ensure_node_driver() -> None:
    if not (JSLOAD / "node_modules" / "@grpc" / "grpc-js").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=JSLOAD, check=True)


def write_bodies(path: Path, bodies: list[bytes], callers: list[str]) -> None:
    """The bodies, and beside them (path + ".callers") who sends each."""
    from medsettle.service import identity

    with path.open("wb") as out:
        for body in bodies:
            out.write(struct.pack(">I", len(body)) + body)
    Path(f"{path}.callers").write_text("".join(identity.of(caller).uri + "\n" for caller in callers))


def drive(target: str, method: str, bodies_file: Path, concurrency: int, seconds: float, channels: int) -> dict:
    result = subprocess.run(["node", str(JSLOAD / "loadgen.js"), target, method, str(bodies_file), str(concurrency),
                             str(seconds), str(channels), f"{bodies_file}.callers"], check=True, capture_output=True,
                            text=True, timeout=seconds + 120)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    from grpc_health.v1 import health_pb2

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--persons-per-province", type=int, default=2000)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    ensure_node_driver()
    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    health_body = health_pb2.HealthCheckRequest().SerializeToString()
    health_file = out / "workers-health.bodies"
    health_count = int(args.seconds * 20_000)
    write_bodies(health_file, [health_body] * health_count, [benchlib.OPERATOR] * health_count)
    report = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today, "runs": []}
    for round_no in range(args.rounds):
        for workers in (int(w) for w in args.workers.split(",")):
            work = tempfile.mkdtemp(prefix=f"workers-w{workers}-", dir=args.work_dir)
            shutil.copy(Path(base) / "data.mdb", work)
            bodies = settle_bodies(visits, today, int(args.seconds * 6_000) + 1, f"J{round_no}{workers}{int(time.time()) % 10**5}")
            settle_file = out / "workers-settle.bodies"
            callers = settle_callers(visits, len(bodies))
            write_bodies(settle_file, bodies[1:], callers[1:])
            try:
                with benchlib.server(work, workers=workers, log_path=str(out / f"workers-server-w{workers}.log")) as target:
                    assert check_sample(target, SETTLE, bodies[0], callers[0]) == "OK"
                    drive(target, HEALTH, health_file, args.concurrency, 2, args.channels)  # warm-up
                    health = drive(target, HEALTH, health_file, args.concurrency, args.seconds, args.channels)
                    settle = drive(target, SETTLE, settle_file, args.concurrency, args.seconds, args.channels)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            assert set(settle["statuses"]) == {"OK"} and set(health["statuses"]) == {"OK"}, (settle, health)
            run = {"round": round_no, "workers": workers, "health": health, "settle": settle,
                   "ratio_settle_to_health": round(settle["rpc_per_s"] / health["rpc_per_s"], 3)}
            report["runs"].append(run)
            print(json.dumps(run))
    path = out / f"workers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
