"""Helpers of bench/mix.sh: `prepare` a fresh seeded data directory and the persons files; `check` Locust's CSV
against bench/budgets.toml (exit 1 on a miss), with each budgeted call's p99 over every 10 s of the run; `handlers`
the server's own time per call, from its `--log-calls` log (LOG_CALLS=1 bench/mix.sh)."""

from __future__ import annotations

import csv
import json
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
WINDOW_S = 10  # Locust's window for its current percentiles (locust.stats.CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW)


def prepare(work_dir: str, persons_per_province: int, run_dir: str, aged_days: int = 0, item_pool: int = 0) -> None:
    """A fresh copy of the seeded demo nation in run_dir, and its visits export (run_dir/visits.json); with
    aged_days, the distributions the outpatient visits read and feed hold that many days (benchlib.age_sketches);
    with item_pool, the outpatient visits bill items drawn from that many of each province's catalog
    (benchlib.with_item_pool), as a deployment's thousands."""
    base = benchlib.nation(work_dir, persons_per_province)
    today = benchlib.today_shanghai()
    cached = benchlib.export_visits(base, today)  # the export of the nation, cached beside it
    os.makedirs(run_dir, exist_ok=True)
    shutil.copy(os.path.join(base, "data.mdb"), run_dir)
    exported_on, out, inp = visits_export.read(cached)
    out, ranks = benchlib.with_item_pool(base, out, today, item_pool)
    Path(run_dir, "visits.json").write_text(json.dumps(visits_export.document(exported_on, out, inp)))
    benchlib.age_sketches(run_dir, out, today, aged_days, item_ranks=ranks)
    print(f"{len(out)} outpatient persons, {len(inp)} inpatient persons in {run_dir}"
          + (f", distributions of {aged_days} days" if aged_days else "")
          + (f", items drawn from {item_pool} a province" if item_pool else ""))


def tasks_per_s_per_user(target_rps: float, users: int) -> float:
    return target_rps * TASK_WEIGHT / CALLS_PER_CYCLE / users


def window_p99s_ms(history_csv: str, name: str) -> list[tuple[int, int]]:
    """(seconds into the run, p99 ms of the WINDOW_S before) every WINDOW_S for `name`, from Locust's history written
    with --csv-full-history, whose row of each second holds the percentiles of the last ~10 s: where in a run its tail
    came from (a steady shortfall, or one burst, such as a neighbour's, in an otherwise quiet run)."""
    with open(history_csv, newline="") as lines:
        rows = [row for row in csv.DictReader(lines) if row["Name"] == name and row["99%"] != "N/A"]
    windows: list[tuple[int, int]] = []
    if not rows:
        return windows
    started = int(rows[0]["Timestamp"])
    last_s = 0  # the end of the last window taken, seconds into the run
    for row in rows:
        at_s = int(row["Timestamp"]) - started
        if at_s >= last_s + WINDOW_S:
            windows.append((at_s, int(row["99%"])))
            last_s = at_s
    ended_s = int(rows[-1]["Timestamp"]) - started
    if ended_s - last_s >= WINDOW_S // 2:  # the run's last seconds, in a window overlapping the one before
        windows.append((ended_s, int(rows[-1]["99%"])))
    return windows


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
    history = stats_csv.removesuffix("_stats.csv") + "_stats_history.csv"  # with --csv-full-history
    history = history if os.path.exists(history) else ""
    for name, budget in budgets["p99_ms"].items():
        row = rows.get(name)
        if row is None:
            misses.append(f"{name}: never called")
            continue
        p99 = float(row["99%"])
        verdict = "ok" if p99 <= budget else "MISSED"
        report.append(f"budget {name}: p99 {p99:.0f} ms <= {budget} ms: {verdict}")
        windows = window_p99s_ms(history, name) if history else []
        if windows:
            worst_at, worst = max(windows, key=lambda window: window[1])
            over = sum(1 for _, window_p99 in windows if window_p99 > budget)
            report.append(f"  p99 of each {WINDOW_S} s: {' '.join(str(p) for _, p in windows)} ms; {over} of "
                          f"{len(windows)} over {budget}; the worst {worst} ms, ending {worst_at} s in")
        if p99 > budget:
            misses.append(f"{name} p99 {p99:.0f} ms > {budget} ms")
    print("\n".join(report))
    if misses:
        print("BUDGETS MISSED: " + "; ".join(misses))
        return 1
    print("all budgets met")
    return 0


def handler_latency_ms(log_lines) -> dict[str, list[float]]:
    """Each method's handler times, sorted, from a server log's `rpc` lines (`serve --log-calls`): the time from the
    handler's start to its answer, without gRPC's own queueing, the network or the client."""
    by_method: dict[str, list[float]] = {}
    for line in log_lines:
        if '"event":"rpc"' not in line:  # most lines of such a log are calls: a cheap test before parsing
            continue
        row = json.loads(line)
        if row.get("event") == "rpc":
            by_method.setdefault(row["method"], []).append(float(row["ms"]))
    return {method: sorted(times) for method, times in sorted(by_method.items())}


def handlers(log_path: str) -> int:
    """Print the server's own time per call beside Locust's: the gap between the two is the wait before the handler
    (the worker's event loop busy with other calls, or the CPU with other processes), the network and the client."""
    by_method = handler_latency_ms(open(log_path, encoding="utf-8"))
    if not by_method:
        print(f"no `rpc` lines in {log_path}: was the server started with --log-calls?")
        return 1
    print("server side (handler start to answer, serve --log-calls), ms:")
    for method, times in by_method.items():
        p = [benchlib.percentile(times, q) for q in (50, 95, 99)]
        print(f"  {method:<22} n={len(times):>7} p50={p[0]:>6.2f} p95={p[1]:>6.2f} p99={p[2]:>6.2f} "
              f"max={times[-1]:.1f}")
    return 0


def main() -> int:
    command = sys.argv[1]
    if command == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0,
                int(sys.argv[6]) if len(sys.argv) > 6 else 0)
        return 0
    if command == "rate":
        print(f"{tasks_per_s_per_user(float(sys.argv[2]), int(sys.argv[3])):.4f}")
        return 0
    if command == "check":
        return check(sys.argv[2], sys.argv[3])
    if command == "handlers":
        return handlers(sys.argv[2])
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main())
