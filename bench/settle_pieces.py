"""Where a settlement's CPU goes, piece by piece, in-process (no network): the numbers behind the optimisations.

    .venv/bin/python bench/settle_pieces.py

Uses the ceiling's seeded nation (bench/ceiling.py seeds it) and a fresh copy of it. Prints mean microseconds per
call of each piece and of the whole SettleOutpatient handler (64 concurrent, durable group commit, writer included),
that split between the event loop's thread and the writer's (CPU and waits, from /proc), and the writer's jobs alone.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402


def timed(name: str, fn, n: int = 2000) -> float:
    t0 = time.perf_counter_ns()
    for i in range(n):
        fn(i)
    micros = (time.perf_counter_ns() - t0) / n / 1000
    print(f"{name:44s} {micros:8.1f} us")
    return micros


def _thread_use(tid: int) -> tuple[float, int]:
    """A thread of this process: its CPU seconds (utime + stime) and its voluntary context switches (waits: for the
    GIL, a lock, I/O) from /proc."""
    task = Path(f"/proc/self/task/{tid}")
    switches = next(int(row.split()[1]) for row in (task / "status").read_text().splitlines()
                    if row.startswith("voluntary_ctxt_switches"))
    return benchlib.stat_cpu_s((task / "stat").read_text()), switches


def main() -> int:
    import uvloop

    from medsettle.service import claims, idempotency, lookups, settlement_convert
    from medsettle.service.app import App
    from medsettle.service.clock import Clock
    from medsettle.service.settlements import SettlementServicer
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.writer import GroupCommitWriter
    from medsettle.v1 import settlement_pb2 as pb

    work_dir = benchlib.WORK_DIR
    base = benchlib.nation(work_dir, 2000)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 6000, today)
    work = benchlib.nation_copy(base, work_dir, "pieces")
    store = Store(StoreConfig(path=work))
    writer = GroupCommitWriter(store)
    job_cpu_s = [0.0, 0]  # thread CPU of the writer's jobs, jobs

    def measured(submit):
        def run(job):
            def timed(view):
                started = time.thread_time()
                try:
                    return job(view)
                finally:
                    job_cpu_s[0] += time.thread_time() - started
                    job_cpu_s[1] += 1
            return submit(timed)
        return run

    writer.run = measured(writer.run)  # every settlement's job passes here (idempotency.Once.run)
    app = App(store=store, writer=writer, clock=Clock())
    svc = SettlementServicer(app)
    tag = f"{int(time.time()) % 100000:05d}"
    reqs = [benchlib.settle_request(v, today, f"X{tag}{i:08d}") for i, v in enumerate(visits)]
    bodies = [r.SerializeToString() for r in reqs]
    now = app.clock.now_ms()
    try:
        timed("parse request bytes", lambda i: pb.SettleOutpatientRequest.FromString(bodies[i]))
        timed("read snapshot open/close", lambda i: store.read().__enter__())

        def claim(i):
            with store.read() as view:
                return svc._outpatient_claim(view, reqs[i].claim)

        timed("_outpatient_claim (incl. fee_lines)", claim)
        timed("fee_lines (10 lines)", lambda i: settlement_convert.fee_lines(reqs[i].claim.fee_lines, "f", 2000))

        def comp(i):
            with store.read() as view:
                c, p, ct = svc._outpatient_claim(view, reqs[i].claim)
                return claims.compute(view, c, p, ct, now)

        timed("claim + compute (read side of a settle)", comp)
        computed = [comp(i) for i in range(2000)]
        timed("settlement_pb", lambda i: settlement_convert.settlement_pb(computed[i].settlement))
        timed("idempotency.payload_digest", lambda i: idempotency.payload_digest(reqs[i]))
        with store.read() as view:
            timed("catalog_item x10", lambda i: [view.catalog_item(visits[i].province, line[0], today)
                                                 for line in visits[i].lines])
            c, p, _ = svc._outpatient_claim(view, reqs[0].claim)
            inst = view.institution(c.fixmedins_code)
            timed("lookups.benefit", lambda i: lookups.benefit(view, p, c.insutype, inst, c.med_type, c.setl_date,
                                                              "", ""))

        class Context:
            def invocation_metadata(self):
                return ()

        async def run_all(start: int, n: int) -> None:
            gate = asyncio.Semaphore(64)

            async def one(i):
                async with gate:
                    await svc.SettleOutpatient(reqs[i], Context())

            loop_tid, writer_tid = threading.get_native_id(), writer._thread.native_id
            before = {tid: _thread_use(tid) for tid in (loop_tid, writer_tid)}
            t0, c0 = time.perf_counter_ns(), time.process_time_ns()
            await asyncio.gather(*(one(i) for i in range(start, start + n)))
            wall, cpu = (time.perf_counter_ns() - t0) / n / 1000, (time.process_time_ns() - c0) / n / 1000
            print(f"{'SettleOutpatient handler, 64 concurrent':44s} {wall:8.1f} us wall, {cpu:.1f} us CPU (all threads)"
                  f"  (batches {writer.batches}, jobs {writer.jobs})")
            for name, tid in (("event loop", loop_tid), ("group-commit writer", writer_tid)):
                (cpu_s, switches), (cpu0_s, switches0) = _thread_use(tid), before[tid]
                print(f"{'  of which the ' + name:44s} {(cpu_s - cpu0_s) / n * 1e6:8.1f} us CPU, "
                      f"{(switches - switches0) / n:.1f} waits (voluntary context switches) per settlement")
            job_us = job_cpu_s[0] / max(1, job_cpu_s[1]) * 1e6
            print(f"{'  the writer jobs alone (their thread CPU)':44s} {job_us:8.1f} us CPU per settlement")

        async def run_serial(start: int, n: int) -> None:
            t0, c0 = time.perf_counter_ns(), time.process_time_ns()
            for i in range(start, start + n):
                await svc.SettleOutpatient(reqs[i], Context())
            wall, cpu = (time.perf_counter_ns() - t0) / n / 1000, (time.process_time_ns() - c0) / n / 1000
            print(f"{'SettleOutpatient handler, one at a time':44s} {wall:8.1f} us wall, {cpu:.1f} us CPU (all threads)")

        uvloop.run(run_serial(5000, 300))

        uvloop.run(run_all(2000, 3000))
    finally:
        writer.close()
        store.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
