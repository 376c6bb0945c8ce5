"""What a worker watches about itself while it serves: its writer, its store, its parent.

- The group-commit writer must be alive (the thread, and on LMDB the writer process: `writer` is then the
  process's WriterProcess, alive and full for both): if one is gone, no write can be trusted on this worker, so
  health turns NOT_SERVING at once and the worker exits non-zero for its supervisor (or systemd) to restart it.
- The store: a full map (the writer met MapFullError) takes the write services out of service; usage past 80%
  of the map is logged as a warning (again at every further 5%) and exported as a gauge.
- Reader slots of dead processes are freed now and then (a worker killed with -9 leaves its slot, which pins
  old pages and makes the file grow instead of reusing them).
- The parent: a worker whose supervisor died stops itself (PR_SET_PDEATHSIG is the fast path; this is the check
  for where it is missing).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from medsettle import metrics
from medsettle.service import logs
from medsettle.service.writer_process import WriterProcess
from medsettle.store.env import Store
from medsettle.store.writer import GroupCommitWriter

MAP_WARN_RATIO = 0.80
MAP_WARN_STEP_RATIO = 0.05


@dataclass
class WatchdogConfig:
    interval_s: float = 0.5
    reader_check_interval_s: float = 60.0
    parent_pid: int | None = None


class Watchdog:
    """Runs beside the server on the worker's event loop. `on_fatal(reason)` ends the worker;
    `on_full(full)` sets the health of the services that write."""

    def __init__(self, store: Store, writer: GroupCommitWriter | WriterProcess, config: WatchdogConfig,
                 on_fatal: Callable[[str], Awaitable[None]], on_full: Callable[[bool], Awaitable[None]]) -> None:
        self.store = store
        self.writer = writer
        self.config = config
        self.on_fatal = on_fatal
        self.on_full = on_full
        self._full = False
        self._warned_ratio = 0.0
        self._readers_checked_at = time.monotonic()

    async def run(self) -> None:
        await self._watch_store()  # the gauges have values from the start
        while True:
            await asyncio.sleep(self.config.interval_s)
            if not self.writer.alive:
                logs.event("writer_gone", level="error")
                await self.on_fatal("a writer of this worker has stopped (its thread or its writer process)")
                return
            if self.config.parent_pid is not None and os.getppid() != self.config.parent_pid:
                logs.event("parent_gone", level="error", parent_pid=self.config.parent_pid)
                await self.on_fatal("the supervising process has gone")
                return
            await self._watch_store()

    async def _watch_store(self) -> None:
        ratio = self.store.map_used_ratio()
        metrics.STORE_MAP_USED_RATIO.set(ratio)
        if ratio >= max(MAP_WARN_RATIO, self._warned_ratio + MAP_WARN_STEP_RATIO):
            self._warned_ratio = ratio
            logs.event("store_map_filling", level="warning", map_used_ratio=round(ratio, 4),
                       size_bytes=self.store.size_bytes(), map_size_bytes=self.store.config.map_size_bytes,
                       remedy="raise --map-size-gib and restart, or move old settlements out")
        if self.writer.full != self._full:
            self._full = self.writer.full
            metrics.STORE_FULL.set(1 if self._full else 0)
            await self.on_full(self._full)
        now = time.monotonic()
        if now - self._readers_checked_at >= self.config.reader_check_interval_s:
            self._readers_checked_at = now
            cleared = self.store.clear_stale_readers()
            if cleared:
                logs.event("stale_readers_cleared", level="warning", count=cleared)
