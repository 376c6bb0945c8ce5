"""A/B of the settle path between two source trees, in one run: what an optimisation did end to end.

    git worktree add /tmp/medsettle-before <commit>
    .venv/bin/python bench/ab_settle.py --before /tmp/medsettle-before/src [--rounds 2 --seconds 8] [--rate 500]

Two servers (one worker each, each on its own fresh copy of the seeded nation, the `before` one with PYTHONPATH at the
other tree) run side by side; loadgen drives durable SettleOutpatient (unique request ids) and the health check at
each in turn, `rounds` times, so both see the same machine weather. Prints RPC/s and p50/p99/p99.9 per tree and round.
`--rate`: settlements at that many calls a second (open loop: the latency at a set load, e.g. half the ceiling)
instead of as fast as the server answers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402
from benchlib import settle_bodies, settle_callers  # noqa: E402
from ceiling import HEALTH, SETTLE  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the tree to compare against (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="settlements per second (0: closed loop)")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    from grpc_health.v1 import health_pb2

    base = benchlib.nation(args.work_dir, 2000)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    per_phase = int(args.seconds * 4000)
    health_body = health_pb2.HealthCheckRequest().SerializeToString()
    dirs = {name: benchlib.nation_copy(base, args.work_dir, f"ab-{name}") for name in ("before", "after")}
    results: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "rounds": []}
    try:
        with benchlib.server(dirs["before"], src=args.before) as before, benchlib.server(dirs["after"]) as after:
            for round_no in range(args.rounds):
                row = {}
                for name, target in (("before", before), ("after", after)):
                    tag = f"{name[0]}{round_no}{int(time.time()) % 100000:05d}"
                    bodies = settle_bodies(visits, today, per_phase, tag)
                    settle = loadgen.run(target, SETTLE, bodies, concurrency=args.concurrency, seconds=args.seconds,
                                         rate_per_s=args.rate, callers=settle_callers(visits, len(bodies)))
                    health = loadgen.run(target, HEALTH, [health_body] * per_phase * 2,
                                         concurrency=args.concurrency, seconds=args.seconds / 2)
                    row[name] = {"settle": settle.summary(), "health": health.summary(),
                                 "ratio": round(settle.rate / health.rate, 3)}
                    print(name, round_no, json.dumps(row[name]), flush=True)
                row["settle_after_over_before"] = round(row["after"]["settle"]["rpc_per_s"]
                                                        / row["before"]["settle"]["rpc_per_s"], 3)
                results["rounds"].append(row)
    finally:
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
    print("settle after / before per round:", [r["settle_after_over_before"] for r in results["rounds"]])
    benchlib.write_report("ab-settle", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
