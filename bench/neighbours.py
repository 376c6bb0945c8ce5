"""Why the same Python costs more in the server than in-process: the event loop's neighbours, one at a time.

    .venv/bin/python bench/neighbours.py [--calls 6000 --rounds 3]

In the server the event loop's thread shares the machine with gRPC's threads (its poller writes a byte to the loop's
socket for every completion), the group-commit writer (which takes the GIL back after each of its ~23 LMDB calls per
settlement) and the driver. This reads and computes PreSettleOutpatient claims in-process (the handler's own work:
`_outpatient_claim` and the computation, thread CPU per call) pinned to CPU 0, alone and next to one neighbour:

- `gil-thread`: a Python thread of the same process that wakes every 0.1 ms and takes the GIL for a moment;
- `waker`: another process on the same CPU that wakes every 0.1 ms and writes 64 KB;
- `busy-other-cpu`: another process spinning on the other CPU (the driver's place).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

WAKE_S = 0.0001
_WAKER = ("import sys, time\nbuf = bytearray(65536)\nend = time.time() + float(sys.argv[1])\n"
          f"while time.time() < end:\n    time.sleep({WAKE_S!r})\n    buf[:] = bytes(65536)\n")
_SPINNER = "import sys, time\nend = time.time() + float(sys.argv[1])\nwhile time.time() < end:\n    pass\n"


@contextlib.contextmanager
def _gil_thread():
    stop = threading.Event()

    def take_the_gil() -> None:
        while not stop.is_set():
            time.sleep(WAKE_S)
            sum(range(30))

    thread = threading.Thread(target=take_the_gil, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def _process(source: str, cpu: int):
    process = subprocess.Popen([sys.executable, "-c", source, "600"])
    os.sched_setaffinity(process.pid, {cpu})
    try:
        yield
    finally:
        process.kill()
        process.wait()


NEIGHBOURS = {
    "alone": contextlib.nullcontext,
    "gil-thread": _gil_thread,
    "waker": lambda: _process(_WAKER, 0),
    "busy-other-cpu": lambda: _process(_SPINNER, 1),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    assert len(os.sched_getaffinity(0)) >= 2, "needs two CPUs"

    from medsettle import visits_export
    from medsettle.service import settlements
    from medsettle.service.app import App
    from medsettle.service.clock import Clock
    from medsettle.service.settlements import SettlementServicer
    from medsettle.store.env import Store, StoreConfig

    base = benchlib.nation(args.work_dir, 2000)
    today = benchlib.today_shanghai()
    _, visits, _ = visits_export.read(benchlib.export_visits(base, today))
    store = Store(StoreConfig(path=base))
    app = App(store=store, writer=None, clock=Clock())
    servicer = SettlementServicer(app)
    claims = [benchlib.pre_settle_request(visit, today).claim for visit in visits[:args.calls]]
    now_ms = app.clock.now_ms()
    os.sched_setaffinity(0, {0})

    def measure() -> tuple[float, float]:
        """Thread CPU per call: the claim (conversion, person) and the computation."""
        claim_ns = compute_ns = 0
        for claim_pb in claims:
            started = time.thread_time_ns()
            with store.read() as view:
                claim, person, cert_type = servicer._outpatient_claim(view, claim_pb)
                converted = time.thread_time_ns()
                settlements._compute_outpatient(view, claim, person, cert_type, now_ms)
                computed = time.thread_time_ns()
            claim_ns += converted - started
            compute_ns += computed - converted
        return claim_ns / len(claims) / 1000, compute_ns / len(claims) / 1000

    measure()  # warm the caches of the process and of the page cache
    totals: dict[str, list[tuple[float, float]]] = {}
    try:
        for _ in range(args.rounds):
            for neighbour, beside in NEIGHBOURS.items():
                with beside():
                    time.sleep(0.3)
                    totals.setdefault(neighbour, []).append(measure())
    finally:
        store.close()

    def medians(rows: list[tuple[float, float]]) -> tuple[float, float]:
        claim_us, compute_us = (statistics.median(each) for each in zip(*rows, strict=True))
        return claim_us, compute_us

    alone_us = sum(medians(totals["alone"]))
    print(f"{'neighbour':16s} {'claim us':>9s} {'compute us':>11s} {'x alone':>8s}   (thread CPU per call, medians of "
          f"{args.rounds} rounds of {len(claims)} calls; load {os.getloadavg()[0]:.1f})")
    for neighbour, rows in totals.items():
        claim_us, compute_us = medians(rows)
        print(f"{neighbour:16s} {claim_us:9.1f} {compute_us:11.1f} {(claim_us + compute_us) / alone_us:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
