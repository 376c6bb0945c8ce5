"""Helpers of bench/mix.sh: `prepare` a fresh seeded data directory and the persons files; `check` Locust's CSV
against bench/budgets.toml (exit 1 on a miss)."""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

from medsettle import visits_export  # noqa: E402

# Per user cycle (locustfile weights): 17 + 6 + 8 + 1 one-call tasks and 1 inpatient stay of 6 calls.
TASK_WEIGHT = 33
CALLS_PER_CYCLE = 38


def prepare(work_dir: str, persons_per_province: int, run_dir: str) -> None:
    """A fresh copy of the seeded demo nation in run_dir, and its visits export (run_dir/visits.json)."""
    base = benchlib.nation(work_dir, persons_per_province)
    today = benchlib.today_shanghai()
    cached = benchlib.export_visits(base, today)  # the export of the nation, cached beside it
    os.makedirs(run_dir, exist_ok=True)
    shutil.copy(os.path.join(base, "data.mdb"), run_dir)
    shutil.copy(cached, Path(run_dir, "visits.json"))
    _, out, inp = visits_export.read(cached)
    print(f"{len(out)} outpatient persons, {len(inp)} inpatient persons in {run_dir}")


def tasks_per_s_per_user(target_rps: float, users: int) -> float:
    return target_rps * TASK_WEIGHT / CALLS_PER_CYCLE / users


def check(stats_csv: str, budgets_path: str) -> int:
    budgets = tomllib.loads(Path(budgets_path).read_text())
    rows = {row["Name"]: row for row in csv.DictReader(open(stats_csv))}
    total = rows.get("Aggregated")
    misses = []
    report = []
    if total is None:
        print("no Aggregated row: did locust run?")
        return 1
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    ratio = failures / requests if requests else 1.0
    rps = float(total["Requests/s"])
    report.append(f"total: {requests} requests, {failures} failures (ratio {ratio:.5f}), {rps:.1f} req/s, "
                  f"p50 {total['50%']} ms, p99 {total['99%']} ms")
    if ratio > budgets["run"]["failure_ratio_max"]:
        misses.append(f"failure ratio {ratio:.5f} > {budgets['run']['failure_ratio_max']}")
    if rps < 0.9 * budgets["run"]["target_rps"]:
        misses.append(f"throughput {rps:.0f} req/s < 90% of {budgets['run']['target_rps']}")
    for name, row in rows.items():
        if name != "Aggregated":
            report.append(f"  {name:<22} n={row['Request Count']:>7} fail={row['Failure Count']:>4} "
                          f"p50={row['50%']:>5} p95={row['95%']:>5} p99={row['99%']:>5} max={float(row['Max Response Time']):.0f} ms")
    for name, budget in budgets["p99_ms"].items():
        row = rows.get(name)
        if row is None:
            misses.append(f"{name}: never called")
            continue
        p99 = float(row["99%"])
        verdict = "ok" if p99 <= budget else "MISSED"
        report.append(f"budget {name}: p99 {p99:.0f} ms <= {budget} ms: {verdict}")
        if p99 > budget:
            misses.append(f"{name} p99 {p99:.0f} ms > {budget} ms")
    print("\n".join(report))
    if misses:
        print("BUDGETS MISSED: " + "; ".join(misses))
        return 1
    print("all budgets met")
    return 0


def main() -> int:
    command = sys.argv[1]
    if command == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    if command == "rate":
        print(f"{tasks_per_s_per_user(float(sys.argv[2]), int(sys.argv[3])):.4f}")
        return 0
    if command == "check":
        return check(sys.argv[2], sys.argv[3])
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main())
