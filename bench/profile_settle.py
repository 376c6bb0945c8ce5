"""Profile the settle path under load: one worker in this process under pyinstrument, driven by loadgen.

    .venv/bin/python bench/profile_settle.py [--seconds 10] [--concurrency 64]

Writes bench/out/profile-settle.html and .txt (the event-loop thread: where a settlement's CPU goes) and prints the
writer's batching (jobs per commit). The server runs in-process (uvloop), the driver in a spawned process.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402
from benchlib import settle_bodies, settle_callers  # noqa: E402
from ceiling import SETTLE  # noqa: E402


def drive(target: str, bodies: list[bytes], callers: list[str], concurrency: int, seconds: float, queue) -> None:
    benchlib.wait_serving(target)
    result = loadgen.run(target, SETTLE, bodies, concurrency=concurrency, seconds=seconds, callers=callers)
    queue.put(result.summary())


async def serve_profiled(work: str, target: str, seconds: float, driver) -> None:
    from medsettle.server import ServerConfig, run_worker

    task = asyncio.create_task(run_worker(ServerConfig(data_dir=work, listen=target), so_reuseport=False))
    while driver.is_alive():
        await asyncio.sleep(0.2)
    os.kill(os.getpid(), __import__("signal").SIGTERM)
    await task


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    import uvloop
    from pyinstrument import Profiler

    base = benchlib.nation(args.work_dir, 2000)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    work = tempfile.mkdtemp(prefix="profile-", dir=args.work_dir)
    shutil.copy(Path(base) / "data.mdb", work)
    target = f"127.0.0.1:{benchlib.free_port()}"
    bodies = settle_bodies(visits, today, int(args.seconds * 5000), f"P{int(time.time()) % 100000:05d}")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    driver = ctx.Process(target=drive, args=(target, bodies, settle_callers(visits, len(bodies)), args.concurrency,
                                             args.seconds, queue))
    driver.start()
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        uvloop.run(serve_profiled(work, target, args.seconds, driver))
    finally:
        profiler.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary = queue.get()
    print(summary)
    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    (out / f"profile-settle{args.tag}.html").write_text(profiler.output_html())
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    (out / f"profile-settle{args.tag}.txt").write_text(f"{summary}\n{text}")
    print(text[:12000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
