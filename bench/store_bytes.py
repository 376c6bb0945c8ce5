"""Bytes on disk per settlement: N durable 10-line outpatient settlements through a served demo nation.

    .venv/bin/python bench/store_bytes.py [--settlements 1000000] [--concurrency 32]

Against a fresh copy of the cached demo nation: `medsettle serve`, then loadgen sends SettleOutpatient requests
(prebuilt bytes, each with its own request_id, round-robin over the persons who can settle today) in rounds of
ROUND bodies. Before and after: the store's high-water mark (LMDB last page x page size, what the file must hold)
and the file's allocated blocks; per keyspace, entries and pages. Prints bytes per settlement and writes
bench/out/store-bytes-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402

SETTLE = "/medsettle.v1.SettlementService/SettleOutpatient"
ROUND = 50_000  # bodies built per round: a million at once would hold 700 MB in the driver


def store_figures(data_dir: str) -> dict:
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=data_dir, create=False))
    try:
        spaces = {}
        with store.env.begin() as txn:
            for name, db in store.dbs.items():
                stat = txn.stat(db)
                spaces[name] = {"entries": stat["entries"],
                                "pages": stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"],
                                "overflow_pages": stat["overflow_pages"]}
        return {"high_water_bytes": store.size_bytes(),
                "file_blocks_bytes": os.stat(os.path.join(data_dir, "data.mdb")).st_blocks * 512,
                "keyspaces": spaces}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settlements", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--persons-per-province", type=int, default=2_000)
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards (its path is printed)")
    parser.add_argument("--src", default="", help="serve another source tree's package (<tree>/src), to compare")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 1_000_000, today)
    work = tempfile.mkdtemp(prefix="store-bytes-", dir=args.work_dir)
    data_dir = os.path.join(work, "data")
    shutil.copytree(base, data_dir)
    before = store_figures(data_dir)
    started = time.perf_counter()
    settled = 0
    errors: dict[str, int] = {}
    with benchlib.server(data_dir, log_path=os.path.join(work, "server.log"), src=args.src or None) as target:
        for start in range(0, args.settlements, ROUND):
            count = min(ROUND, args.settlements - start)
            round_visits = [visits[(start + n) % len(visits)] for n in range(count)]
            bodies = [benchlib.settle_request(visit, today, f"SB{start + n:09d}").SerializeToString()
                      for n, visit in enumerate(round_visits)]
            result = loadgen.run(target, SETTLE, bodies, concurrency=args.concurrency, seconds=3_600,
                                 callers=[f"institution:{visit.fixmedins_code}" for visit in round_visits])
            settled += result.ok
            for status, n in result.statuses.items():
                if status != "OK":
                    errors[status] = errors.get(status, 0) + n
            elapsed = time.perf_counter() - started
            print(f"{settled:>10,} settled, {settled / elapsed:,.0f}/s, errors {errors}", flush=True)
    after = store_figures(data_dir)
    per = {key: (after[key] - before[key]) / max(settled, 1) for key in ("high_water_bytes", "file_blocks_bytes")}
    spaces = {name: {"entries": after["keyspaces"][name]["entries"] - before["keyspaces"][name]["entries"],
                     "bytes_per_settlement": round((after["keyspaces"][name]["pages"]
                                                    - before["keyspaces"][name]["pages"]) * 4096 / max(settled, 1)),
                     "overflow_pages": after["keyspaces"][name]["overflow_pages"]}
              for name in after["keyspaces"]
              if after["keyspaces"][name]["pages"] != before["keyspaces"][name]["pages"]}
    report = {"machine": benchlib.machine(), "settlements": settled, "errors": errors,
              "seconds": round(time.perf_counter() - started, 1), "before": {k: before[k] for k in per},
              "after": {k: after[k] for k in per}, "bytes_per_settlement": {k: round(v) for k, v in per.items()},
              "keyspaces": spaces}
    print(json.dumps(report, indent=2))
    benchlib.write_report("store-bytes", report)
    if args.keep:
        print(f"kept {data_dir}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
