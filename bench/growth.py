"""Growth: settle latency and catalog lookup latency as the stored data grows (10^4 -> 10^6, or 10^7).

    .venv/bin/python bench/growth.py [--sizes 10000,100000,1000000,10000000]

One store grows in place: a small demo nation (the persons who settle, the bench items), then filler catalog items
(spread over every province of treatment) and filler persons up to each size N. At each size, in this process:
  - catalog lookup: random View.catalog_item over all items, one snapshot, perf_counter_ns per lookup -> p50/p99
  - settle: SettleOutpatient through the servicer (no network), one at a time, each committed durably by the
    group-commit writer -> p50/p99 of the whole call (read snapshot, adjudication, durable commit).
Filler is written with sync off in big transactions (it is test data, not settlements); settlements stay durable.
Goal (issue 7): latency at the largest size within 2x of the smallest. Writes bench/out/growth-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

FILL_PER_TXN = 200_000


def fill(data_dir: str, items_from: int, items_to: int, persons_from: int, persons_to: int) -> float:
    import lmdb

    from medsettle.domain import region
    from medsettle.domain.records import CatalogItem, InsuranceLine, Person
    from medsettle.store import codec
    from medsettle.store.keys import key
    from medsettle.store.view import KEYSPACES, catalog_key

    provinces = sorted(region.PROVINCES)
    env = lmdb.open(data_dir, map_size=256 * 2**30, max_dbs=len(KEYSPACES) + 4, sync=False, metasync=False,
                    writemap=True)
    catalog = env.open_db(b"catalog")
    persons = env.open_db(b"persons")
    started = time.perf_counter()
    template = CatalogItem(med_list_codg="", name="filler", list_type="101", chrgitm_lv="01", begndate="2025-01-01")
    person = Person(psn_no="", psn_name="filler", gend="1", brdy="1970-01-01", certno="",
                    insu_lines=(InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="1",
                                              insuplc_admdvs="110100"),))
    import msgspec

    for lo in range(items_from, items_to, FILL_PER_TXN):
        with env.begin(write=True) as txn:
            for i in range(lo, min(items_to, lo + FILL_PER_TXN)):
                code = f"F{i:012d}"
                item = msgspec.structs.replace(template, med_list_codg=code)
                txn.put(catalog_key(provinces[i % len(provinces)], code, "2025-01-01"), codec.encode(item), db=catalog)
    for lo in range(persons_from, persons_to, FILL_PER_TXN):
        with env.begin(write=True) as txn:
            for i in range(lo, min(persons_to, lo + FILL_PER_TXN)):
                psn_no = f"Q{i:012d}"
                txn.put(key(psn_no), codec.encode(msgspec.structs.replace(person, psn_no=psn_no)), db=persons)
    env.sync(True)
    env.close()
    return time.perf_counter() - started


def lookup_latency(store, items: int, count: int) -> dict:
    from medsettle.domain import region

    provinces = sorted(region.PROVINCES)
    rng = random.Random(items)
    picks = [rng.randrange(items) for _ in range(count)]
    perf = time.perf_counter_ns
    lat = []
    with store.read() as view:
        for i in picks[: count // 10]:  # warm-up
            view.catalog_item(provinces[i % len(provinces)], f"F{i:012d}", "2026-03-01")
        for i in picks:
            t0 = perf()
            item = view.catalog_item(provinces[i % len(provinces)], f"F{i:012d}", "2026-03-01")
            lat.append(perf() - t0)
            assert item is not None
        # The same keys again: every page they need is now mapped in this process (first touches of a page of a
        # large map are minor page faults, which a long-running server has paid long ago).
        warm = []
        for i in picks:
            t0 = perf()
            view.catalog_item(provinces[i % len(provinces)], f"F{i:012d}", "2026-03-01")
            warm.append(perf() - t0)
    lat.sort()
    warm.sort()
    return {"p50_us": lat[len(lat) // 2] / 1000, "p99_us": lat[int(len(lat) * 0.99)] / 1000,
            "warm_p50_us": warm[len(warm) // 2] / 1000, "warm_p99_us": warm[int(len(warm) * 0.99)] / 1000}


async def settle_latency(svc, requests) -> dict:
    class Context:
        def invocation_metadata(self):
            return ()

    perf = time.perf_counter_ns
    lat = []
    for request in requests:
        t0 = perf()
        await svc.SettleOutpatient(request, Context())
        lat.append(perf() - t0)
    lat.sort()
    return {"count": len(lat), "p50_ms": lat[len(lat) // 2] / 1e6, "p99_ms": lat[int(len(lat) * 0.99)] / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--settles", type=int, default=600)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    import uvloop

    from medsettle.service.app import App
    from medsettle.service.clock import Clock
    from medsettle.service.settlements import SettlementServicer
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.writer import GroupCommitWriter

    sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(args.work_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="growth-", dir=args.work_dir)
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "sizes": []}
    today = benchlib.today_shanghai()
    try:
        benchlib.seed(work, persons_per_province=100, items_per_province=16)  # 16: the fixed items, nothing more
        visits = benchlib.find_visits(work, "11", 10**9, today)
        rng = random.Random(1)
        have_items = have_persons = 0
        for round_no, size in enumerate(sizes):
            fill_s = fill(work, have_items, size, have_persons, size)
            have_items = have_persons = size
            store = Store(StoreConfig(path=work, map_size_bytes=256 * 2**30))
            writer = GroupCommitWriter(store)
            svc = SettlementServicer(App(store=store, writer=writer, clock=Clock()))
            requests = [benchlib.settle_request(rng.choice(visits), today, f"G{round_no}{n:08d}")
                        for n in range(args.settles)]
            row = {"items": size, "persons": size, "fill_s": round(fill_s, 1),
                   "lookup": lookup_latency(store, size, args.lookups),
                   "settle": uvloop.run(settle_latency(svc, requests)),
                   "file_bytes": os.stat(os.path.join(work, "data.mdb")).st_blocks * 512}
            writer.close()
            store.close()
            report["sizes"].append(row)
            print(json.dumps(row), flush=True)
        first, last = report["sizes"][0], report["sizes"][-1]
        report["ratio_largest_to_smallest"] = {
            "lookup_p50": round(last["lookup"]["p50_us"] / first["lookup"]["p50_us"], 2),
            "lookup_p99": round(last["lookup"]["p99_us"] / first["lookup"]["p99_us"], 2),
            "lookup_warm_p50": round(last["lookup"]["warm_p50_us"] / first["lookup"]["warm_p50_us"], 2),
            "lookup_warm_p99": round(last["lookup"]["warm_p99_us"] / first["lookup"]["warm_p99_us"], 2),
            "settle_p50": round(last["settle"]["p50_ms"] / first["settle"]["p50_ms"], 2),
            "settle_p99": round(last["settle"]["p99_ms"] / first["settle"]["p99_ms"], 2),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report["ratio_largest_to_smallest"]))
    benchlib.write_report("growth", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
