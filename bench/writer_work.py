"""The writer process's own work, in-process: CPU per durable outpatient settlement of what the process does for each
(the claim's checks and conversion, the retry check, the computation, the commit, the answer's bytes), without gRPC,
the socket or the disk.

    .venv/bin/python bench/writer_work.py [--settlements 4000] [--batch 8] [--rounds 3] [--before <tree>/src]
                                          [--profile tottime|cumtime] [--aged-days 90] [--item-pool 5000] [--steady]

The settlements are bench/cpu.py's outpatient visits (the ceiling's seeded nation, a fresh copy of it per round), as
the event loop hands them to the process (`settlements.OutpatientRequest`); they run through
`GroupCommitWriter.commit_batch` in batches of --batch (the process's batches under load: 2-8) with sync off, and
each answer is serialized as the process sends it. A quarter of them warm the caches first (not measured); the
rest are measured: thread CPU over the pass, divided by the settlements. bench/cpu.py measures the same work inside
a saturated server, where it costs ~1.2x more (the socket, the fsyncs, the other processes on the cores).
--before: the same in a process of that source tree, round by round in alternating order; medians and ratio printed.
--aged-days: the distributions the settlements read and feed first get that many days of history (benchlib.
age_sketches), as a deployment's hold after 90 days; the seeded nation's hold today's slot only.
--item-pool: the visits bill items drawn from that many of each province's catalog by Zipf's law (benchlib.
with_item_pool), as a deployment has thousands in use: its catalog and distribution caches miss where the export's ten
items a province always hit. With --aged-days, each item's history is as busy as its rank.
--steady: a deployment's steady state rather than its first minute: before the pass, every measured visit is computed
once without a commit (PreSettleOutpatient's work), so the process's reference caches hold its catalog versions,
policies, codes and prices as after hours of running; then the distributions' cache is emptied, as each window
expires every minute (SKETCH_CACHE_S), so the pass reads every window it meets once, as a deployment does each minute
(it reads them once per ~60,000 settlements at 1,000 a second: still more often here). Without it, everything a pass
meets is a first read.
--profile: one more pass of this tree under cProfile, its top functions printed (cProfile inflates small calls:
compare shares, not microseconds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

WARM_SHARE = 0.25


def child(args) -> None:
    import cProfile
    import gc
    import pstats
    from concurrent.futures import Future

    from medsettle.service import idempotency
    from medsettle.service.app import App
    from medsettle.service.clock import Clock
    from medsettle.service.settlements import OutpatientRequest, _compute_outpatient, outpatient_claim
    from medsettle.store import supervision_book
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.writer import GroupCommitWriter
    from medsettle.v1 import settlement_pb2

    base = benchlib.nation(args.work_dir, 2000)
    today = benchlib.today_shanghai()
    visits, ranks = benchlib.with_item_pool(base, benchlib.find_visits(base, "11", args.settlements, today), today,
                                            args.item_pool)
    directory = benchlib.nation_copy(base, args.work_dir, "writer-work")
    benchlib.age_sketches(directory, visits, today, args.aged_days, item_ranks=ranks)
    store = Store(StoreConfig(path=directory, sync=False))
    committer = GroupCommitWriter(store, start=False)  # commit_batch on this thread, as the process calls it
    app = App(store=store, writer=committer, clock=Clock())
    now_ms = app.clock.now_ms()
    tag = f"W{os.getpid() % 100000:05d}{int(time.time()) % 100000:05d}"
    writes = []
    for n, visit in enumerate(visits):
        request = benchlib.settle_request(visit, today, f"{tag}{n:08d}")
        writes.append(OutpatientRequest(caller=request.claim.fixmedins_code, request_id=request.request_id,
                                        payload_digest=idempotency.payload_digest(request), created_ms=now_ms,
                                        claim_pb=request.claim.SerializeToString(), today=today, now_ms=now_ms,
                                        fee_lines_max=2000))

    def run(part) -> None:
        for start in range(0, len(part), args.batch):
            work = [(write.job(app), Future()) for write in part[start:start + args.batch]]
            committer.commit_batch(work)
            for _, future in work:
                future.result(0).SerializeToString()  # raises what refused it: every bench visit settles

    warm = int(len(writes) * WARM_SHARE)
    measured = writes[warm:]
    # As the writer process does once it is ready (cyclic_collector.freeze_startup_objects): what the set-up made
    # (the nation's visits, these requests) is out of the collector's sight, and a full collection walking it does
    # not land in one round's pass and not the other's.
    gc.collect()
    gc.freeze()
    try:
        run(writes[:warm])
        if args.steady:
            with store.read() as view:
                for write in measured:
                    claim, person, cert_type = outpatient_claim(
                        view, settlement_pb2.OutpatientClaim.FromString(write.claim_pb), write.today,
                        write.fee_lines_max)
                    _compute_outpatient(view, claim, person, cert_type, write.now_ms)
            supervision_book._distribution_cache.clear()
        profiler = cProfile.Profile() if args.profile else None
        started = time.thread_time()
        if profiler is not None:
            profiler.enable()
        run(measured)
        if profiler is not None:
            profiler.disable()
        used_s = time.thread_time() - started
    finally:
        store.close()
        shutil.rmtree(directory, ignore_errors=True)
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(args.profile).print_stats(40)
    print(json.dumps({"us_per_settlement": round(used_s / len(measured) * 1e6, 1), "settlements": len(measured)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settlements", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=8, help="settlements per commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="", help="src/ of another tree, measured in the same run, in turn")
    parser.add_argument("--profile", default="", choices=("", "tottime", "cumtime"))
    parser.add_argument("--steady", action="store_true", help="the reference caches warm, the distributions expired")
    benchlib.add_aged_days(parser)
    benchlib.add_item_pool(parser)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    assert args.settlements >= 100 and args.batch >= 1 and args.rounds >= 1
    base = benchlib.nation(args.work_dir, 2000)  # seeded once, before the children race for it
    if args.item_pool:
        benchlib.item_pools(base, benchlib.today_shanghai(), args.item_pool)  # by this tree, for both
    trees = benchlib.source_trees(args.before)
    child_args = ["--settlements", str(args.settlements), "--batch", str(args.batch), "--work-dir", args.work_dir,
                  "--aged-days", str(args.aged_days), "--item-pool", str(args.item_pool),
                  *(["--steady"] if args.steady else [])]
    found: dict[str, list[float]] = {name: [] for name in trees}
    for round_no, name in benchlib.in_turn(trees, args.rounds):
        result = benchlib.child_result(__file__, trees[name], child_args)
        found[name].append(result["us_per_settlement"])
        print(f"round {round_no} {name:6s} {result['us_per_settlement']:7.1f} us CPU/settlement "
              f"({result['settlements']} settlements), load {os.getloadavg()[0]:.1f}", flush=True)
    benchlib.print_medians(found)
    if args.profile:
        benchlib.child_result(__file__, trees["this"], [*child_args, "--profile", args.profile], echo_stderr=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
