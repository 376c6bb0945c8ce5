"""What mutual TLS costs: durable SettleOutpatient (10 lines) and the health check over mTLS against --insecure
(plaintext on loopback, the caller named in metadata), in the same run, alternating, on fresh copies of one nation.

    .venv/bin/python bench/mtls.py [--seconds 8] [--rounds 2] [--institutions 8]

One worker. The visits are those of the `--institutions` hospitals with the most settleable persons; each hospital
is one connection (its own certificate over mTLS; over plaintext the same number of connections), so the
handshakes are few and the per-call cost is what is compared. Server CPU per call is the server process's
utime + stime (/proc/<pid>/stat) over the phase, divided by the calls answered OK: steadier than calls per
second on a shared machine. Writes bench/out/mtls-<date>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402
from benchlib import settle_bodies, settle_callers  # noqa: E402
from ceiling import HEALTH, SETTLE, check_sample  # noqa: E402


def phase(target: str, pid: int, method: str, bodies: list[bytes], callers: list[str], args, tls_dir) -> dict:
    before = benchlib.cpu_s(pid)
    result = loadgen.run(target, method, bodies, concurrency=args.concurrency, seconds=args.seconds, callers=callers,
                         tls_dir=tls_dir, channels=args.institutions)
    used = benchlib.cpu_s(pid) - before
    summary = result.summary()
    summary["server_cpu_s"] = round(used, 2)
    summary["server_cpu_ms_per_call"] = round(1000 * used / max(1, result.ok), 4)
    return summary


def main() -> int:
    from grpc_health.v1 import health_pb2

    from medsettle import certs
    from medsettle.service.identity import of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per measured phase")
    parser.add_argument("--rounds", type=int, default=2, help="insecure then mTLS, this many times")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--institutions", type=int, default=8, help="hospitals (one connection each)")
    parser.add_argument("--persons-per-province", type=int, default=2000)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    everyone = benchlib.find_visits(base, "11", 10**9, today)
    busiest = [code for code, _ in collections.Counter(v.fixmedins_code for v in everyone).most_common(
        args.institutions)]
    visits = [v for v in everyone if v.fixmedins_code in busiest]
    tls_dir = tempfile.mkdtemp(prefix="mtls-certs-", dir=args.work_dir)
    certs.init(Path(tls_dir), [of(f"institution:{code}") for code in busiest] + [of(benchlib.OPERATOR)])
    health_body = health_pb2.HealthCheckRequest().SerializeToString()
    calls_max = int(args.seconds * 4000)
    report = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today,
              "institutions": busiest, "persons": len(visits), "runs": []}
    try:
        for round_no in range(args.rounds):
            for mode in ("insecure", "mtls"):
                security = tls_dir if mode == "mtls" else None
                work = tempfile.mkdtemp(prefix=f"mtls-{mode}-", dir=args.work_dir)
                shutil.copy(Path(base) / "data.mdb", work)
                bodies = settle_bodies(visits, today, calls_max + 1, f"T{mode[0]}{round_no}{int(time.time()) % 10**5}")
                callers = settle_callers(visits, len(bodies))
                health_callers = [f"institution:{code}" for code in busiest] * (calls_max // len(busiest) + 1)
                try:
                    with benchlib.server(work, log_path=str(out / f"mtls-server-{mode}.log"), tls_dir=security,
                                         extra=("--person-lookups-per-minute", "1000000")) as target:
                        pid = benchlib.server.pid
                        if mode == "insecure":
                            assert check_sample(target, SETTLE, bodies[0], callers[0]) == "OK"
                        loadgen.run(target, HEALTH, [health_body] * 2000, concurrency=args.concurrency, seconds=2,
                                    callers=health_callers[:2000], tls_dir=security, channels=args.institutions)
                        run = {"round": round_no, "mode": mode,
                               "health": phase(target, pid, HEALTH, [health_body] * calls_max,
                                               health_callers[:calls_max], args, security),
                               "settle": phase(target, pid, SETTLE, bodies[1:], callers[1:], args, security)}
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                report["runs"].append(run)
                print(json.dumps(run), flush=True)
    finally:
        shutil.rmtree(tls_dir, ignore_errors=True)
    by_mode = {mode: [r for r in report["runs"] if r["mode"] == mode] for mode in ("insecure", "mtls")}

    def mean(mode: str, what: str, key: str) -> float:
        return sum(r[what][key] for r in by_mode[mode]) / len(by_mode[mode])

    for what in ("settle", "health"):
        report[f"{what}_rate_mtls_over_insecure"] = round(mean("mtls", what, "rpc_per_s")
                                                          / mean("insecure", what, "rpc_per_s"), 3)
        report[f"{what}_cpu_per_call_mtls_over_insecure"] = round(
            mean("mtls", what, "server_cpu_ms_per_call") / mean("insecure", what, "server_cpu_ms_per_call"), 3)
    path = out / f"mtls-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k.endswith("insecure")}, indent=1))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
