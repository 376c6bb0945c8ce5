"""What the audit rules cost a settlement: server CPU per durable SettleOutpatient (10 lines) with no rules, with the
demo nation's ten rules per province of treatment (one of each kind), and optionally on another source tree (the
code before supervision), measured in one run.

    .venv/bin/python bench/audit_rules_cpu.py [--rounds 3 --seconds 8] [--before /tmp/medsettle-before/src]
                                              [--aged-days 90]

One server per variant (one worker each, on its own fresh copy of the seeded nation), driven in turn by loadgen at
the same concurrency with unique request ids over the settleable persons, `rounds` times, so every variant sees the
same machine weather. Server CPU is utime + stime of the server process from /proc/<pid>/stat (every thread: the event
loop, gRPC's and the group-commit writer), before and after each phase, divided by the settlements answered OK.
--aged-days 90: every copy's distributions first hold 90 days of history (benchlib.age_sketches), as a deployment's do;
the seeded nation's hold today's slot only, where the outlier rules judge from a thin distribution.
Writes bench/out/audit-rules-cpu-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402
from benchlib import settle_bodies, settle_callers  # noqa: E402
from ceiling import SETTLE  # noqa: E402


def prepare(base: str, work_dir: str, name: str, with_rules: bool) -> str:
    """A fresh copy of the nation holding no audit rule, or exactly the demo's ten per province of treatment."""
    from medsettle.demo import rules as demo_rules
    from medsettle.domain import audit_rules, region
    from medsettle.store.env import Store, StoreConfig

    data_dir = benchlib.nation_copy(base, work_dir, f"rules-{name}")
    store = Store(StoreConfig(path=data_dir))
    try:
        with store.write() as view:
            view.drop_audit_rules()
            if with_rules:
                for province in region.PROVINCES:
                    ten = [r for r in demo_rules.province_rules(2026, province) if r.role == audit_rules.ROLE_TREATMENT]
                    assert len(ten) == 10 and {r.kind for r in ten} == audit_rules.KINDS
                    for rule in ten:
                        view.put_audit_rule(rule)
    finally:
        store.close()
    return data_dir


def start(data_dir: str, src: str | None) -> tuple[subprocess.Popen, str]:
    target = f"127.0.0.1:{benchlib.free_port()}"
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    process = subprocess.Popen([benchlib.PYTHON, "-m", "medsettle.cli", "serve", "--insecure", "--data-dir", data_dir, "--listen",
                                target], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    benchlib.wait_serving(target, process)
    return process, target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--before", default="", help="src/ of a tree without supervision, as a third variant")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    benchlib.add_aged_days(parser)
    args = parser.parse_args()

    os.makedirs(args.work_dir, exist_ok=True)
    base = benchlib.nation(args.work_dir, 2000)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    variants = {"no_rules": (prepare(base, args.work_dir, "none", False), None),
                "ten_rules": (prepare(base, args.work_dir, "ten", True), None)}
    if args.before:
        variants["before"] = (prepare(base, args.work_dir, "before", False), args.before)
    for data_dir, _ in variants.values():
        benchlib.age_sketches(data_dir, visits, today, args.aged_days)
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today,
                    "shared_machine_load": os.getloadavg(), "rounds": []}
    servers = {}
    try:
        for name, (data_dir, src) in variants.items():
            servers[name] = start(data_dir, src)
        per_phase = int(args.seconds * 3000)
        for name, (_process, target) in servers.items():  # warm up: page cache, rule caches, code paths
            loadgen.run(target, SETTLE, settle_bodies(visits, today, 1000, f"W{name[:2]}"), concurrency=args.concurrency,
                        seconds=2, callers=settle_callers(visits, 1000))
        for round_no in range(args.rounds):
            row = {}
            # Each round settles other persons (the same ones for every variant): a person settling again and again
            # would trip the frequency rule, which is not what is measured here.
            shift = (round_no + 1) * len(visits) // (args.rounds + 1)
            round_visits = visits[shift:] + visits[:shift]
            for name, (process, target) in servers.items():
                bodies = settle_bodies(round_visits, today, per_phase,
                                       f"{name[:2]}{round_no}{int(time.time()) % 100000:05d}")
                before = benchlib.cpu_s(process.pid)
                result = loadgen.run(target, SETTLE, bodies, concurrency=args.concurrency, seconds=args.seconds,
                                     callers=settle_callers(round_visits, per_phase))
                used = benchlib.cpu_s(process.pid) - before
                row[name] = {"ok": result.ok, "errors": result.summary()["errors"], "rpc_per_s": round(result.rate, 1),
                             "server_cpu_s": round(used, 3), "cpu_us_per_settlement": round(used / result.ok * 1e6, 1)}
                print(round_no, name, json.dumps(row[name]), flush=True)
            row["ratio_ten_rules_to_no_rules"] = round(row["ten_rules"]["cpu_us_per_settlement"]
                                                       / row["no_rules"]["cpu_us_per_settlement"], 3)
            if "before" in row:
                row["ratio_no_rules_to_before"] = round(row["no_rules"]["cpu_us_per_settlement"]
                                                        / row["before"]["cpu_us_per_settlement"], 3)
                row["ratio_ten_rules_to_before"] = round(row["ten_rules"]["cpu_us_per_settlement"]
                                                         / row["before"]["cpu_us_per_settlement"], 3)
            report["rounds"].append(row)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(30)
        for data_dir, _ in variants.values():
            shutil.rmtree(data_dir, ignore_errors=True)
    for key in ("ratio_ten_rules_to_no_rules", "ratio_no_rules_to_before", "ratio_ten_rules_to_before"):
        values = [row[key] for row in report["rounds"] if key in row]
        if values:
            report[f"median_{key}"] = statistics.median(values)
            print(f"{key}: {values} median {statistics.median(values)}")
    benchlib.write_report("audit-rules-cpu", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
