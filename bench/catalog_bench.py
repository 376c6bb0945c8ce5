"""Issue 5: bulk catalog load rate over gRPC into a durable store, lookup p50/p99 with 1M+ items, size on disk.

    .venv/bin/python bench/catalog_bench.py [--items 1000000] [--batch 50000] [--lookups 200000]

1. `medsettle serve` (one worker) on an empty, durable (sync) data directory.
2. PutCatalogItems in batches (request bodies serialized before the clock starts; each push is one durable
   transaction with its audit entry), `--provinces` provinces of treatment, pushed one after another, then again
   with --clients concurrent pushers into a second empty directory. Rate = items written / wall time, answers checked (items_written).
3. Server stopped; the store opened in this process: `--lookups` random View.catalog_item lookups, each in the same
   read snapshot, timed one by one with perf_counter_ns -> p50/p99 (and a run of lookups each in its own read
   transaction, as a settlement's first read pays).
4. Size: data.mdb on disk (allocated blocks), and the B-tree's pages in use.
Writes bench/out/catalog-<date>.json.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

PUT = "/medsettle.v1.ReferenceDataService/PutCatalogItems"
PROVINCES = ("440000", "310000", "110000", "330000", "320000", "510000", "420000", "370000")


def item_pb(index: int):
    from medsettle.v1 import reference_data_pb2 as rpb

    lv = ("01", "02", "03")[index % 3]
    return rpb.CatalogItem(med_list_codg=f"X{index:011d}", name=f"bench item {index}", list_type="101",
                           chrgitm_lv=lv, selfpay_prop=1000 if lv == "02" else 0,
                           pric_uplmt_amt=5_000 if index % 2 else None,
                           begndate="2025-01-01")


def bodies(items: int, batch: int, provinces: int, tag: str) -> list[tuple[bytes, int]]:
    from medsettle.v1 import reference_data_pb2 as rpb

    per_province = items // provinces
    out = []
    for p in range(provinces):
        for start in range(0, per_province, batch):
            chunk = [item_pb(i) for i in range(start, min(per_province, start + batch))]
            request = rpb.PutCatalogItemsRequest(request_id=f"CAT{tag}{p:02d}{start:09d}", mdtrtarea_admvs=PROVINCES[p],
                                                 items=chunk)
            out.append((request.SerializeToString(), len(chunk)))
    return out


def push(target: str, work: list[tuple[bytes, int]], clients: int) -> dict:

    from medsettle.v1 import reference_data_pb2 as rpb

    # national operations push every province's catalog (a province may push only its own)
    channel = benchlib.channel(target, options=[("grpc.max_send_message_length", 64 * 2**20),
                                                ("grpc.max_receive_message_length", 64 * 2**20)])
    call = channel.unary_unary(PUT)

    def one(job: tuple[bytes, int]) -> int:
        answer = rpb.PutCatalogItemsResponse.FromString(call(job[0], timeout=300))
        assert answer.items_written == job[1], (answer.items_written, job[1])
        return job[1]

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        written = sum(pool.map(one, work))
    seconds = time.perf_counter() - started
    channel.close()
    return {"items": written, "seconds": round(seconds, 2), "items_per_s": round(written / seconds),
            "pushes": len(work), "clients": clients}


def lookups(data_dir: str, items_per_province: int, provinces: int, count: int) -> dict:
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=data_dir))
    rng = random.Random(7)
    keys = [(PROVINCES[rng.randrange(provinces)], f"X{rng.randrange(items_per_province):011d}") for _ in range(count)]
    perf = time.perf_counter_ns
    result = {}
    try:
        with store.read() as view:
            for province, code in keys[:20_000]:  # warm the page cache and the code paths
                view.catalog_item(province, code, "2026-03-01")
            lat = []
            for province, code in keys:
                t0 = perf()
                item = view.catalog_item(province, code, "2026-03-01")
                lat.append(perf() - t0)
                assert item is not None
        lat.sort()
        result["same_snapshot"] = {"lookups": count, "p50_us": lat[len(lat) // 2] / 1000,
                                   "p99_us": lat[int(len(lat) * 0.99)] / 1000, "mean_us": sum(lat) / len(lat) / 1000}
        lat = []
        for province, code in keys[: count // 4]:
            t0 = perf()
            with store.read() as view:
                view.catalog_item(province, code, "2026-03-01")
            lat.append(perf() - t0)
        lat.sort()
        result["own_read_txn"] = {"lookups": len(lat), "p50_us": lat[len(lat) // 2] / 1000,
                                  "p99_us": lat[int(len(lat) * 0.99)] / 1000}
        result["catalog_entries"] = store.counts()["catalog"]
        result["btree_bytes"] = store.size_bytes()
    finally:
        store.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--provinces", type=int, default=4)
    parser.add_argument("--clients", type=int, default=2, help="concurrent pushers in the second load")
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "items": args.items,
                    "batch": args.batch, "provinces": args.provinces}
    work = tempfile.mkdtemp(prefix="catalog-", dir=args.work_dir)
    try:
        t0 = time.perf_counter()
        first = bodies(args.items, args.batch, args.provinces, "A")
        report["client_build_s"] = round(time.perf_counter() - t0, 1)
        with benchlib.server(work, log_path=str(benchlib.OUT_DIR / "catalog-server.log")) as target:
            report["load_sequential"] = push(target, first, 1)
            print(report["load_sequential"], flush=True)
            del first
        report["file_bytes_on_disk"] = os.stat(os.path.join(work, "data.mdb")).st_blocks * 512
        per_province = args.items // args.provinces
        report["lookup"] = lookups(work, per_province, args.provinces, args.lookups)
        print(json.dumps(report, indent=1))
        second = tempfile.mkdtemp(prefix="catalog2-", dir=args.work_dir)
        try:
            work2 = bodies(args.items, args.batch, args.provinces, "B")
            with benchlib.server(second) as target:
                report["load_concurrent"] = push(target, work2, args.clients)
            print(report["load_concurrent"], flush=True)
        finally:
            shutil.rmtree(second, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))
    benchlib.write_report("catalog", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
