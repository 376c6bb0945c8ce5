"""Python's cyclic garbage collector in a serving worker: how often it runs and how long each run stops the event
loop, with the settlements' latency at a set load, for this tree and another in the same run.

    .venv/bin/python bench/collector.py --before <tree>/src [--rounds 3 --seconds 20 --rate 500]

Each round and tree: a server on a fresh copy of the seeded nation (one worker, plaintext on loopback) that times
every collection (benchlib.server(collector_log=...)), a warm-up, then durable SettleOutpatient calls at `--rate`
a second (open loop) for `--seconds`. Prints the client's p50/p99/p99.9/max and, for the collections that started
during the measured phase, per generation their count, total and longest milliseconds. Report: bench/out/collector-*.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402
from ceiling import SETTLE  # noqa: E402

WARM_UP_S = 3.0


def measure(base: str, args, src: str | None, visits, today: str, tag: str) -> dict:
    data_dir = benchlib.nation_copy(base, args.work_dir, "collector")
    log_path = os.path.join(data_dir, "collections.json")
    try:
        warm, mine = visits[:1500], visits[1500:]
        with benchlib.server(data_dir, src=src, collector_log=log_path) as target:
            loadgen.run(target, SETTLE, benchlib.settle_bodies(warm, today, len(warm), f"W{tag}"), concurrency=64,
                        seconds=WARM_UP_S, callers=benchlib.settle_callers(warm, len(warm)))
            count = int(args.rate * args.seconds * 1.1)
            first_s = time.time()
            result = loadgen.run(target, SETTLE, benchlib.settle_bodies(mine, today, count, tag), concurrency=64,
                                 seconds=args.seconds, rate_per_s=args.rate,
                                 callers=benchlib.settle_callers(mine, count))
            last_s = time.time()
        return {"settle": result.summary(), "collections": benchlib.collections_between(log_path, first_s, last_s)}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the tree to compare against (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=500.0, help="settlements per second")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    base = benchlib.nation(args.work_dir, 2000)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "rounds": []}
    stamp = f"{int(time.time()) % 10**5:05d}"
    for round_no in range(args.rounds):
        row: dict = {"load_average": os.getloadavg()}
        for name, src in (("before", args.before), ("this", None)) if round_no % 2 == 0 else (("this", None),
                                                                                              ("before", args.before)):
            row[name] = measured = measure(base, args, src, visits, today, f"G{name[0]}{stamp}r{round_no}")
            settle = measured["settle"]
            collections = ", ".join(f"{gen} {each['count']}x, {each['total_ms']} ms, longest {each['max_ms']} ms"
                                    for gen, each in sorted(measured["collections"].items()))
            print(f"round {round_no} {name:6s} ok {settle['ok']} errors {settle['errors']} p50 {settle['p50_ms']} "
                  f"p99 {settle['p99_ms']} p99.9 {settle['p999_ms']} max {settle['max_ms']} ms | {collections}",
                  flush=True)
        report["rounds"].append(row)
    benchlib.write_report("collector", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
