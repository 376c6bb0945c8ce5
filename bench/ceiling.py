"""Ceiling: durable SettleOutpatient (10 lines) against the health check of the same server, in the same run.

    .venv/bin/python bench/ceiling.py                 # one worker (the issue's goal)
    .venv/bin/python bench/ceiling.py --workers 1,2   # and two workers, for 'two workers > one'
    .venv/bin/python bench/ceiling.py --python V/bin/python   # the server under another build of CPython

Per worker count, against one fresh copy of a seeded demo nation (64,000 persons by default):
  1. h2load, prebuilt gRPC frame: grpc.health.v1.Health/Check            -> the empty-call baseline (native client)
  2. h2load, prebuilt gRPC frame: SettleOutpatient with ONE request_id   -> idempotent replay (reported, never counted)
  3. loadgen (Python grpc.aio, prebuilt bytes): Health/Check, closed loop at concurrency C
  4. loadgen: SettleOutpatient, every request a unique request_id, spread over thousands of filed persons, same C
  5. loadgen at half of 4's rate: SettleOutpatient p50/p99 (and the health check at the same rate)
h2load sends one body for every request, so it cannot produce durable settlements (each needs its own request_id);
the settle/health ratio of the goal is taken from ONE driver (3 and 4), and also given against h2load's health (1).
A sample of each prebuilt body is sent first and must answer grpc-status 0 (OK); loadgen counts statuses per call.
Writes bench/out/ceiling-<date>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402

HEALTH = "/grpc.health.v1.Health/Check"
SETTLE = "/medsettle.v1.SettlementService/SettleOutpatient"


def ensure_h2load() -> str:
    found = shutil.which("h2load")
    if found:
        return found
    print("installing h2load (nghttp2-client)", file=sys.stderr)
    subprocess.run("apt-get update -qq && apt-get install -y -qq nghttp2-client", shell=True, check=True)
    return shutil.which("h2load") or "h2load"


def h2load(target: str, path: str, frame_file: Path, *, requests: int, clients: int, streams: int, log: Path,
           caller: str = benchlib.OPERATOR) -> dict:
    """h2load on the plaintext (loopback --insecure) server, every call made as `caller`."""
    from medsettle.service import identity

    (key, uri), = identity.metadata(caller)
    cmd = ["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams), "-d", str(frame_file),
           "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", f"{key}: {uri}",
           "--log-file", str(log), f"http://{target}{path}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rate = 0.0
    for row in out.splitlines():
        if row.startswith("finished in"):
            rate = float(row.split(",")[1].split()[0])
        if row.startswith("requests:"):
            status_row = row
    lat = []
    codes: dict[str, int] = {}
    with open(log) as f:
        for row in f:
            _, status, micros = row.split("\t")[:3]
            codes[status] = codes.get(status, 0) + 1
            lat.append(int(micros))
    lat.sort()
    return {"command": " ".join(cmd), "rpc_per_s": rate, "requests": status_row.strip(), "http_status": codes,
            "p50_ms": round(benchlib.percentile(lat, 50) / 1000, 3),
            "p99_ms": round(benchlib.percentile(lat, 99) / 1000, 3)}


def check_sample(target: str, method: str, body: bytes, caller: str = benchlib.OPERATOR) -> str:
    """Send one prebuilt body through a real grpc client, as `caller`: grpc-status must be OK (0)."""
    import grpc

    with benchlib.channel(target, caller) as channel:
        try:
            channel.unary_unary(method)(body, timeout=10)
            return "OK"
        except grpc.RpcError as error:
            return f"{error.code().name}: {error.details()}"


def run_one(args, workers: int, visits, today: str, base: str, out: Path) -> dict:
    from grpc_health.v1 import health_pb2

    work = tempfile.mkdtemp(prefix=f"ceiling-w{workers}-", dir=args.work_dir)
    shutil.copy(Path(base) / "data.mdb", work)  # a fresh copy: every run starts from the same nation
    report: dict = {"workers": workers, "concurrency": args.concurrency, "seconds": args.seconds}
    tag = f"{workers}{int(time.time()) % 100000:05d}"
    health_body = health_pb2.HealthCheckRequest().SerializeToString()
    phase_calls = int(args.seconds * args.settle_rate_max)
    bodies = benchlib.settle_bodies(visits, today, phase_calls * 2 + 2, tag)
    callers = benchlib.settle_callers(visits, len(bodies))
    health_frame = out / "health.frame"
    health_frame.write_bytes(benchlib.grpc_frame(health_body))
    replay_frame = out / "settle-replay.frame"
    replay_frame.write_bytes(benchlib.grpc_frame(bodies.pop()))
    replay_caller = callers.pop()
    try:
        with benchlib.server(work, workers=workers, log_path=str(out / f"ceiling-server-w{workers}.log"),
                             src=args.src or None, python=args.python or None) as target:
            report["sample_health"] = check_sample(target, HEALTH, health_body)
            report["sample_settle"] = check_sample(target, SETTLE, bodies.pop(), callers.pop())
            report["sample_replay"] = check_sample(target, SETTLE, replay_frame.read_bytes()[5:], replay_caller)
            assert report["sample_health"] == "OK" and report["sample_settle"] == "OK", report
            h2_requests = int(args.seconds * 6000 * workers)
            # warm-up, then the measured phases
            loadgen.run(target, HEALTH, [health_body] * 2000, concurrency=args.concurrency, seconds=2)
            report["h2load_health"] = h2load(target, HEALTH, health_frame, requests=h2_requests,
                                             clients=args.h2_clients, streams=args.h2_streams,
                                             log=out / f"h2load-health-w{workers}.log")
            report["h2load_settle_replay"] = h2load(target, SETTLE, replay_frame, requests=h2_requests // 2,
                                                    clients=args.h2_clients, streams=args.h2_streams,
                                                    log=out / f"h2load-replay-w{workers}.log", caller=replay_caller)
            health = loadgen.run(target, HEALTH, [health_body] * (phase_calls * 3), concurrency=args.concurrency,
                                 seconds=args.seconds, processes=args.driver_processes)
            report["loadgen_health"] = health.summary()
            settle = loadgen.run(target, SETTLE, bodies[:phase_calls], concurrency=args.concurrency,
                                 seconds=args.seconds, processes=args.driver_processes, callers=callers[:phase_calls])
            report["loadgen_settle"] = settle.summary()
            half = settle.rate / 2
            report["loadgen_settle_half"] = loadgen.run(
                target, SETTLE, bodies[phase_calls:], concurrency=args.concurrency, seconds=args.seconds,
                processes=args.driver_processes, rate_per_s=half, callers=callers[phase_calls:]).summary()
            report["loadgen_health_half"] = loadgen.run(
                target, HEALTH, [health_body] * phase_calls, concurrency=args.concurrency, seconds=args.seconds,
                processes=args.driver_processes, rate_per_s=half).summary()
        report["ratio_settle_to_health_same_driver"] = round(settle.rate / health.rate, 3)
        report["ratio_settle_to_h2load_health"] = round(settle.rate / report["h2load_health"]["rpc_per_s"], 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1", help="comma-separated worker counts, e.g. 1,2")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured phase")
    parser.add_argument("--concurrency", type=int, default=64, help="in-flight calls of the Python driver")
    parser.add_argument("--driver-processes", type=int, default=1)
    parser.add_argument("--h2-clients", type=int, default=4)
    parser.add_argument("--h2-streams", type=int, default=16)
    parser.add_argument("--settle-rate-max", type=float, default=8000, help="bodies prebuilt per second of phase")
    parser.add_argument("--persons-per-province", type=int, default=2000)
    parser.add_argument("--src", default="", help="serve another source tree's package (<tree>/src), to compare")
    parser.add_argument("--python", default="", help="the interpreter the server runs under (default: this one)")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    ensure_h2load()
    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    assert len(visits) > 1000, f"only {len(visits)} settleable persons: seed more"
    reports = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today,
               "settleable_persons": len(visits), "runs": []}
    for workers in (int(w) for w in args.workers.split(",")):
        reports["runs"].append(run_one(args, workers, visits, today, base, out))
        print(json.dumps(reports["runs"][-1], indent=1))
    path = out / f"ceiling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(reports, indent=1))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
