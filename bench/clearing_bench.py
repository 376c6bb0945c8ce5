"""Clearing run over >= 1,000,000 settlements: statement from the commit-time aggregates vs a brute-force scan.

Fills a fresh LMDB directory through WriteView.put_settlement (the same write path settlements take, so the
aggregates are kept as in production) in big transactions with sync off for the fill only, then times:
  (a) the clearing statement of one month from the aggregates (store/clearing_book.book), and
  (b) the brute-force recomputation from the ledger (every settlement decoded),
checks they are byte-identical, and prints both and their ratio (JSON on the last line).

Run: .venv/bin/python bench/clearing_bench.py [--settlements 1000000] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from medsettle.domain import clearing, region  # noqa: E402
from medsettle.domain.records import Settlement  # noqa: E402
from medsettle.store import clearing_book  # noqa: E402
from medsettle.store.env import Store, StoreConfig  # noqa: E402

MONTHS = ("2026-01", "2026-02", "2026-03")
TXN_SETTLEMENTS = 50_000
REVERSAL_EVERY = 50  # 2% of settlements are reversed, in the same or the next month
RUNS = 5


def machine() -> dict[str, str]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((row.split(":", 1)[1].strip() for row in f if row.startswith("model name")), "")
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu or platform.processor(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def template() -> Settlement:
    return Settlement(setl_id="", mdtrt_id="", psn_no="P0000000001", insutype="310", med_type="11",
                      fixmedins_code="", insuplc_admdvs="", mdtrtarea_admvs="", setl_date="", setl_time_ms=0,
                      filing_category="12", clr_type="11", medfee_sumamt_fen=0, fulamt_ownpay_amt_fen=0,
                      overlmt_selfpay_fen=0, preselfpay_amt_fen=0, inscp_scp_amt_fen=0, act_pay_dedc_fen=0,
                      hifp_pay_fen=0, pool_prop_selfpay_bp=9000, hifob_pay_fen=0, hifmi_pay_fen=0,
                      fund_pay_sumamt_fen=0, psn_part_amt_fen=0, acct_pay_fen=0, psn_cash_pay_fen=0, balc_fen=0,
                      accumulator_year=2026)


def fill(store: Store, count: int, seed: int) -> float:
    import msgspec

    rng = random.Random(seed)
    provinces = sorted(region.PROVINCES)
    base = template()
    started = time.perf_counter()
    written = 0
    while written < count:
        with store.write() as view:
            txn_end = min(count, written + TXN_SETTLEMENTS)
            while written < txn_end:
                insured, treated = rng.sample(provinces, 2)
                month_index = rng.randrange(len(MONTHS))
                date = f"{MONTHS[month_index]}-{rng.randint(1, 28):02d}"
                fee = rng.randint(1_000, 2_000_000)
                fund = fee * rng.randint(50, 90) // 100
                acct = (fee - fund) // 3
                kw = dict(mdtrt_id=f"M{written:010d}", fixmedins_code=f"H{treated[:2]}{rng.randint(0, 999):04d}",
                          insuplc_admdvs=insured[:2] + "0102", mdtrtarea_admvs=treated[:2] + "0104",
                          medfee_sumamt_fen=fee, inscp_scp_amt_fen=fee, hifp_pay_fen=fund, fund_pay_sumamt_fen=fund,
                          psn_part_amt_fen=fee - fund, acct_pay_fen=acct, psn_cash_pay_fen=fee - fund - acct)
                view.put_settlement(msgspec.structs.replace(base, setl_id=f"S{written:010d}", setl_date=date, **kw))
                written += 1
                if written % REVERSAL_EVERY == 0 and written < txn_end:
                    later = MONTHS[min(month_index + rng.randint(0, 1), len(MONTHS) - 1)]
                    negated = {k: -v for k, v in kw.items() if k.endswith("_fen")}
                    view.put_settlement(msgspec.structs.replace(
                        base, **{**kw, **negated}, setl_id=f"S{written:010d}", setl_date=f"{later}-28",
                        reversed_setl_id=f"S{written - 1:010d}"))
                    written += 1
    store.env.sync(True)  # the fill is durable before anything is timed
    return time.perf_counter() - started


def best_of(runs: int, fn):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), sorted(times)[len(times) // 2], result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settlements", type=int, default=1_000_000)
    parser.add_argument("--dir", default="")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    path = args.dir or tempfile.mkdtemp(prefix="clearing-bench-")
    assert not os.path.exists(os.path.join(path, "data.mdb")), f"{path} is not fresh"
    store = Store(StoreConfig(path=path, sync=False))
    try:
        fill_s = fill(store, args.settlements, args.seed)
        counts = store.counts()
        print(f"filled {counts['settlements']:,} settlements ({counts['clearing_month']:,} aggregate rows) "
              f"in {fill_s:.1f} s; store {store.size_bytes() / 2**20:,.0f} MiB", flush=True)
        month = MONTHS[1]

        def from_aggregates():
            with store.read() as view:
                return clearing_book.book(view, month)

        def from_ledger():
            with store.read() as view:
                return clearing.canonical_bytes(clearing_book.ledger_statement(view, month))

        agg_best, agg_median, book = best_of(RUNS, from_aggregates)
        scan_best, scan_median, scanned = best_of(2, from_ledger)
        assert book.canonical == scanned, "aggregates and ledger disagree"
        month_cnt = sum(p.setl_cnt for p in book.statement.pairs)
        result = {
            **machine(), "settlements": counts["settlements"], "month": month, "month_net_setl_cnt": month_cnt,
            "pairs": len(book.statement.pairs), "fill_s": round(fill_s, 1),
            "aggregates_ms_best": round(agg_best * 1e3, 3), "aggregates_ms_median": round(agg_median * 1e3, 3),
            "ledger_scan_s_best": round(scan_best, 2), "ledger_scan_s_median": round(scan_median, 2),
            "ratio": round(scan_best / agg_best), "identical": True, "digest": book.digest[:16],
        }
        print(f"clearing {month} from aggregates: best {agg_best * 1e3:.2f} ms (median {agg_median * 1e3:.2f} ms); "
              f"brute-force ledger scan: best {scan_best:.2f} s; ratio {scan_best / agg_best:,.0f}x; "
              f"{len(book.statement.pairs)} pairs, net count {month_cnt:,}; byte-identical")
        print(json.dumps(result, ensure_ascii=False))
    finally:
        store.close()
        if not args.keep and not args.dir:
            shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
