"""Durable settlement throughput and CPU per settlement on each store backend, in one run: LMDB, one PostgreSQL node,
and the 3-node synchronous cluster (Patroni, etcd, synchronous_mode_strict: every COMMIT waits for a standby's
flush), each under `medsettle serve` with one worker, driven by the native-speed Node client of bench/workers.py.

    MEDSETTLE_BENCH_DIR=/tmp/bench-me .venv/bin/python bench/store_backends.py [--seconds 8] [--rounds 2]

The same demo nation (same seed and sizes) is seeded into each store. Rounds interleave the backends, so a noisy
neighbour on this shared machine hits them alike. CPU per settlement from /proc: the medsettle server process, and
the database (every PostgreSQL process of every node: the primary's backends and the standbys' WAL receivers and
startup processes). Then, on the same cluster, the failover drill of tests/fault/test_failover.py: kill -9 of the
primary node under 6 gateways settling and retrying; writes back within how long, and the counts. Writes
bench/out/store-backends-<date>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # tests.fault.test_failover: the drill

import benchlib  # noqa: E402
from benchlib import settle_bodies, settle_callers  # noqa: E402
from ceiling import SETTLE, check_sample  # noqa: E402
from workers import drive, ensure_node_driver, write_bodies  # noqa: E402


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += benchlib.cpu_s(pid)  # utime, stime (threads included)
    return total


def postgres_pids(data_dirs: list[Path]) -> list[int]:
    """Every process of the PostgreSQL servers of these data directories (postmaster and its children)."""
    pids = []
    for data_dir in data_dirs:
        with contextlib.suppress(OSError, ValueError, IndexError):
            postmaster = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
            children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True,
                                      text=True).stdout.split()
            pids += [postmaster, *map(int, children)]
    return pids


LOOKUPS = 20_000


def lookup_us(location: str, today: str) -> dict[str, float]:
    """Microseconds per catalog look-up, in this process: all in one snapshot, and one snapshot per look-up (as
    requests do: a snapshot's BEGIN is a round trip on PostgreSQL, the cache is shared by every snapshot)."""
    from medsettle.demo import nation as demo_nation
    from medsettle.domain import region
    from medsettle.store.open import open_store

    codes = [demo_nation.item_code(i) for i in range(demo_nation.BENCH_ITEMS)]
    keys = [(p, c) for p in region.PROVINCES for c in codes]
    store = open_store(location, create=False)
    try:
        with store.read() as view:  # warm: the first look-up of each goes to the database
            for province, code in keys:
                assert view.catalog_item(province, code, today) is not None
        started = time.perf_counter()
        with store.read() as view:
            for n in range(LOOKUPS):
                view.catalog_item(*keys[n % len(keys)], today)
        one_snapshot = (time.perf_counter() - started) / LOOKUPS * 1e6
        started = time.perf_counter()
        for n in range(LOOKUPS // 10):
            with store.read() as view:
                for k in range(10):  # a 10-line claim
                    view.catalog_item(*keys[(n * 10 + k) % len(keys)], today)
        per_claim = (time.perf_counter() - started) / (LOOKUPS // 10) * 1e6
    finally:
        store.close()
    return {"catalog_item_us_in_one_snapshot": round(one_snapshot, 2),
            "snapshot_and_10_catalog_items_us": round(per_claim, 1)}


def seed(location: str, args) -> None:
    subprocess.run([benchlib.PYTHON, "-m", "medsettle.cli", "seed", "--store", location, "--persons-per-province", str(args.persons_per_province), "--items-per-province",
                    str(args.items_per_province)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    from medsettle import ha
    from medsettle.local_postgres import LocalPostgres

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--persons-per-province", type=int, default=200)
    parser.add_argument("--items-per-province", type=int, default=2_000)
    parser.add_argument("--no-failover", dest="failover", action="store_false", help="skip the failover drill")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    ensure_node_driver()
    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="store-backends-", dir=args.work_dir))
    report = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "runs": []}
    single = LocalPostgres(work / "pg1", port=benchlib.free_port()).start()  # fsync and synchronous_commit on
    layout = ha.Layout(directory=str(work / "ha"), pg_port=benchlib.free_port(), api_port=benchlib.free_port(),
                       etcd_port=benchlib.free_port())
    try:
        ha.up(layout)
        lmdb_dir = str(work / "lmdb")
        stores = {
            "lmdb": (lmdb_dir, []),
            "postgresql-1-node": (single.create_database("medsettle"), [single.data]),
            "postgresql-3-node-sync": (layout.store_location(),
                                       [layout.path / layout.node_name(i) / "data" for i in range(layout.nodes)]),
        }
        for name, (location, _) in stores.items():
            started = time.perf_counter()
            seed(location, args)
            report[f"seed_s_{name}"] = round(time.perf_counter() - started, 1)
        today = benchlib.today_shanghai()
        for name, (location, _) in stores.items():
            report[f"lookups_{name}"] = lookup_us(location, today)
            print(json.dumps({name: report[f"lookups_{name}"]}), flush=True)
        visits = benchlib.find_visits(lmdb_dir, "11", 10**9, today)
        for round_no in range(args.rounds):
            for name, (location, data_dirs) in stores.items():
                tag = f"B{round_no}{name[:2]}{int(time.time()) % 10**5}"
                bodies = settle_bodies(visits, today, int(args.seconds * 3_000) + 1, tag)
                callers = settle_callers(visits, len(bodies))
                bodies_file = out / "store-backends-settle.bodies"
                write_bodies(bodies_file, bodies[1:], callers[1:])
                extra = () if name == "lmdb" else ("--store", location)
                with benchlib.server(lmdb_dir, log_path=str(out / f"store-backends-{name}.log"), extra=extra) as target:
                    assert check_sample(target, SETTLE, bodies[0], callers[0]) == "OK"
                    server_pid = benchlib.server.pid
                    database = postgres_pids(data_dirs)
                    before = cpu_s([server_pid]), cpu_s(database)
                    settle = drive(target, SETTLE, bodies_file, args.concurrency, args.seconds, args.channels)
                    after = cpu_s([server_pid]), cpu_s(postgres_pids(data_dirs))
                assert set(settle["statuses"]) == {"OK"}, settle
                calls = settle["calls"] if "calls" in settle else round(settle["rpc_per_s"] * args.seconds)
                run = {"round": round_no, "store": name, "settle_per_s": settle["rpc_per_s"],
                       "p50_ms": settle.get("p50_ms"), "p99_ms": settle.get("p99_ms"),
                       "server_cpu_ms_per_settle": round((after[0] - before[0]) * 1000 / calls, 3),
                       "database_cpu_ms_per_settle": round((after[1] - before[1]) * 1000 / calls, 3)}
                report["runs"].append(run)
                print(json.dumps(run), flush=True)
        if args.failover:
            import psycopg

            from tests.fault.test_failover import drill

            with psycopg.connect(layout.store_location("postgres"), autocommit=True) as conn:
                conn.execute("CREATE DATABASE failover")
            report["failover"] = drill(layout, work, dbname="failover")
            print(json.dumps({"failover": report["failover"]}), flush=True)
    finally:
        ha.down(layout)
        single.stop()
    path = out / f"store-backends-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"report: {path}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
