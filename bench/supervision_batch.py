"""The group-commit writer's supervision bookkeeping (supervision_book.record_settlement: the visit and item amount
sketches, the person's day record, the day's statistics) in-process: CPU per settlement, in batches of N.

    .venv/bin/python bench/supervision_batch.py [--batch 25] [--settlements 2500] [--rounds 3] [--before <tree>/src]

The settlements are the outpatient visits of bench/cpu.py's nation (its visits export, under MEDSETTLE_BENCH_DIR:
270 institutions, the items of their provinces' catalogs), in the export's order as cpu.py sends them, each a
settlement of the visit's lines. One pass fills an empty store (not measured); a second pass of the same visits
(other setl_ids, so other item samples) is measured: process CPU (the writer thread does the work; the submitting
thread waits) over the pass, divided by the settlements. Nothing is synced (the disk is not what is measured).
--before: the same in a process of that source tree, round by round in alternating order; medians and ratio printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402


def settlements_of(visits, today: str, first_id: int) -> list:
    from medsettle.domain import codes
    from medsettle.domain.records import FundPayment, LineResult, Settlement

    made = []
    for n, visit in enumerate(visits):
        lines = tuple(LineResult(feedetl_sn=str(i), med_list_codg=code, det_item_fee_sumamt_fen=amount_fen,
                                 fulamt_ownpay_amt_fen=0, overlmt_amt_fen=0, preselfpay_amt_fen=0,
                                 inscp_scp_amt_fen=amount_fen, chrgitm_lv="01", selfpay_prop_bp=0, pric_uplmt_amt_fen=0)
                      for i, (code, _, _, amount_fen) in enumerate(visit.lines))
        total = sum(line.det_item_fee_sumamt_fen for line in lines)
        made.append(Settlement(
            setl_id=f"S{today.replace('-', '')}{first_id + n:012d}", mdtrt_id=f"M{first_id + n}", psn_no=visit.psn_no,
            insutype="310", med_type="11", fixmedins_code=visit.fixmedins_code, insuplc_admdvs=visit.insuplc_admdvs,
            mdtrtarea_admvs=visit.province, setl_date=today, setl_time_ms=0, filing_category="12",
            clr_type=codes.CLR_TYPE_OUTPATIENT, medfee_sumamt_fen=total, fulamt_ownpay_amt_fen=0,
            overlmt_selfpay_fen=0, preselfpay_amt_fen=0, inscp_scp_amt_fen=total, act_pay_dedc_fen=0,
            hifp_pay_fen=total, pool_prop_selfpay_bp=0, hifob_pay_fen=0, hifmi_pay_fen=0, fund_pay_sumamt_fen=total,
            psn_part_amt_fen=0, acct_pay_fen=0, psn_cash_pay_fen=0, balc_fen=0, lines=lines, accumulator_year=2026,
            setldetail=(FundPayment(fund_pay_type=codes.FUND_EMPLOYEE_POOL, fund_payamt_fen=total,
                                    crt_payb_lmt_amt_fen=10**9),)))
    return made


def one_pass(store, settlements: list, batch: int) -> tuple[float, int]:
    """(process CPU seconds, batches) of recording `settlements` through a writer in batches of `batch`."""
    from medsettle.store import supervision_book
    from medsettle.store.writer import GroupCommitWriter

    writer = GroupCommitWriter(store, batch_jobs_max=batch)
    hold = threading.Event()
    held = writer.submit(lambda view: hold.wait(30))  # every job queues behind it: full batches
    futures = [writer.submit(lambda view, setl=setl: supervision_book.record_settlement(view, setl, (), 0))
               for setl in settlements]
    started = time.process_time()
    hold.set()
    held.result(30)
    for future in futures:
        future.result(60)
    used = time.process_time() - started
    writer.close()
    return used, writer.batches - 1


def child(args) -> None:
    from medsettle import visits_export
    from medsettle.store.env import Store, StoreConfig

    today, visits, _ = visits_export.read(args.export)
    visits = visits[:args.settlements]
    directory = tempfile.mkdtemp(prefix="supervision-batch-", dir=args.work_dir)
    try:
        store = Store(StoreConfig(path=directory, sync=False))
        one_pass(store, settlements_of(visits, today, 1), args.batch)
        used, batches = one_pass(store, settlements_of(visits, today, 1 + len(visits)), args.batch)
        store.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({"us_per_settlement": round(used / len(visits) * 1e6, 1), "batches": batches}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=25, help="jobs per batch (the writer's batches under load)")
    parser.add_argument("--settlements", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="", help="src/ of another tree, measured in the same run, in turn")
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    parser.add_argument("--export", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    export = args.export or str(benchlib.export_visits(benchlib.nation(args.work_dir, 2000), benchlib.today_shanghai()))
    trees = benchlib.source_trees(args.before)
    found: dict[str, list[float]] = {name: [] for name in trees}
    for round_no, name in benchlib.in_turn(trees, args.rounds):
        result = benchlib.child_result(__file__, trees[name], ["--export", export, "--batch", str(args.batch),
                                                               "--settlements", str(args.settlements),
                                                               "--work-dir", args.work_dir])
        found[name].append(result["us_per_settlement"])
        print(f"round {round_no} {name:6s} {result['us_per_settlement']:7.1f} us CPU/settlement "
              f"({result['batches']} batches), load {os.getloadavg()[0]:.1f}", flush=True)
    benchlib.print_medians(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
