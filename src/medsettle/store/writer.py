"""The group-commit writer: one thread per process turns many requests into one durable commit.

Each job runs in its own nested transaction inside the batch's transaction, so a job that raises
(a refusal found only under the write lock) leaves no trace while the rest of the batch commits.
Nobody is answered before the batch's commit has returned, i.e. before it is durable.
py-lmdb releases the GIL during commit, so the event loop keeps serving while the disk syncs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from medsettle.store.env import Store
from medsettle.store.view import WriteView

T = TypeVar("T")

BATCH_JOBS_MAX = 64  # bounds one transaction's size and the latency of its last member
QUEUE_JOBS_MAX = 4096  # back-pressure: submitters wait when the disk cannot keep up

_STOP = object()


class GroupCommitWriter:
    def __init__(self, store: Store, batch_jobs_max: int = BATCH_JOBS_MAX) -> None:
        assert 1 <= batch_jobs_max <= 10_000
        self.store = store
        self.batch_jobs_max = batch_jobs_max
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_JOBS_MAX)
        self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
        self.batches = 0
        self.jobs = 0
        self._thread.start()

    def submit(self, job: Callable[[WriteView], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((job, future))
        return future

    async def run(self, job: Callable[[WriteView], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def close(self) -> None:
        """Finish every queued job, then stop the thread."""
        self._queue.put((_STOP, None))
        self._thread.join()

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.batch_jobs_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(job is _STOP for job, _ in batch)
            work = [(job, future) for job, future in batch if job is not _STOP]
            if work:
                self._commit(work)
            if stop:
                return

    def _commit(self, work: list[tuple[Callable[[WriteView], Any], concurrent.futures.Future]]) -> None:
        env = self.store.env
        outcomes: list[tuple[concurrent.futures.Future, bool, Any]] = []
        try:
            with env.begin(write=True) as parent:
                for job, future in work:
                    child = env.begin(write=True, parent=parent)
                    try:
                        result = job(WriteView(child, self.store.dbs))
                    except BaseException as error:  # noqa: BLE001 - handed to the waiting request
                        child.abort()
                        outcomes.append((future, False, error))
                    else:
                        child.commit()
                        outcomes.append((future, True, result))
            # Leaving the block committed the batch durably (sync=True): only now answer anyone.
        except BaseException as error:  # noqa: BLE001 - the commit itself failed: nobody's write happened
            for _, future in work:
                future.set_exception(error)
            return
        self.batches += 1
        self.jobs += len(work)
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
