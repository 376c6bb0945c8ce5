"""The group-commit writer: one thread per process turns many requests into one durable commit.

Each job runs in its own nested transaction inside the batch's transaction, so a job that raises
(a refusal found only under the write lock) leaves no trace while the rest of the batch commits.
Nobody is answered before the batch's commit has returned, i.e. before it is durable (LMDB: fsync; PostgreSQL:
the COMMIT, with the synchronous standby's confirmation on a cluster). py-lmdb and psycopg release the GIL while
they wait, so the event loop keeps serving while the disk syncs.

A failure of the store itself is the whole batch's, never one job's refusal: a full map or disk (StoreFull), a
store that cannot be reached (StoreUnavailable: nothing committed) or a COMMIT whose outcome is unknown
(CommitUnknown: the waiters hear UNAVAILABLE, never "not done", and a retry finds the request record or settles once).

The writer cannot be killed by its waiters: a request that went away (deadline, cancel, a gateway process
killed) leaves a cancelled future behind, and answering it is a no-op; its write commits or not like any
other, and a retry with the same request id finds the request record. Any other exception in the loop is
logged and answered to the batch's waiters; the thread only ends on close(). If it ends anyway, `alive`
says so and `submit` refuses at once (WriterGone), so a watchdog can take the process out of service.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import queue
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import lmdb

from medsettle.store.errors import StoreFailed, StoreFull, StoreUnavailable
from medsettle.store.keyspace_store import KeyspaceStore
from medsettle.store.view import Sequences, WriteView

T = TypeVar("T")

BATCH_JOBS_MAX = 64  # bounds one transaction's size and the latency of its last member
# Back-pressure: submitters wait when the disk cannot keep up. Above the in-flight RPC bound of a process (2,000),
# so the event loop never blocks on a full queue in practice.
QUEUE_JOBS_MAX = 4096

THREAD_NAME = b"medsettle-write"  # in Python, top -H, ps -L and /proc/<pid>/task/*/comm (15 bytes at most)
_PR_SET_NAME = 15  # prctl(2)

_STOP = object()
# Failures of the store under a job: they end the batch's transaction, so no job of it can commit.
_BATCH_FAILURES = (lmdb.MapFullError, StoreFull, StoreUnavailable, StoreFailed)


class WriterGone(RuntimeError):
    """The writer thread has ended: no write can be accepted by this process."""


def _answer(future: concurrent.futures.Future | asyncio.Future, ok: bool, value: Any) -> None:
    """Hand a job's outcome to its waiter (a thread's future, or a coroutine's on its own loop), unless the waiter
    went away (its future was cancelled)."""
    try:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    except (concurrent.futures.InvalidStateError, asyncio.InvalidStateError):
        pass  # cancelled by a deadline or a cancel: nobody is listening; the outcome stands in the store


class _LoopWaiter:
    """An event loop's coroutine waiting for its job (`run`): answered on its loop, with the rest of its batch."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future) -> None:
        self.loop = loop
        self.future = future


def _answer_on_loop(answers: list[tuple[asyncio.Future, bool, Any]]) -> None:
    for future, ok, value in answers:
        _answer(future, ok, value)


def _answer_all(answers: list[tuple[Any, bool, Any]]) -> None:
    """Hand every outcome of a batch to its waiter: a thread's future at once, an event loop's coroutines in one
    call on their loop (one wake-up of the loop per batch, not per job)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, bool, Any]]] = {}
    for waiter, ok, value in answers:
        if isinstance(waiter, _LoopWaiter):
            by_loop.setdefault(waiter.loop, []).append((waiter.future, ok, value))
        else:
            _answer(waiter, ok, value)
    for loop, on_loop in by_loop.items():
        try:
            loop.call_soon_threadsafe(_answer_on_loop, on_loop)
        except RuntimeError:
            pass  # the loop has closed: nobody waits any more; the outcomes stand in the store


def name_this_os_thread(name: bytes) -> None:
    """Name the calling thread for the operating system (Linux), so that an operator's top -H and the benchmarks'
    per-thread CPU tell the writer from the event loop and gRPC's threads. Best effort: elsewhere nothing happens."""
    assert len(name) <= 15
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


class GroupCommitWriter:
    def __init__(self, store: KeyspaceStore, batch_jobs_max: int = BATCH_JOBS_MAX,
                 on_event: Callable[..., None] | None = None,
                 on_commit: Callable[[int, float], None] | None = None, *, start: bool = True) -> None:
        """on_event(name, **fields): a failure worth a log line. on_commit(jobs, seconds): every committed batch.
        start=False: no thread; the owner runs batches itself with `commit_batch` (the writer process)."""
        assert 1 <= batch_jobs_max <= 10_000
        self.store = store
        self.batch_jobs_max = batch_jobs_max
        self._on_event = on_event or (lambda name, **fields: None)
        self._on_commit = on_commit or (lambda jobs, seconds: None)
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_JOBS_MAX)
        self._thread = threading.Thread(target=self._loop, name=THREAD_NAME.decode(), daemon=True)
        self._closing = False
        self.batches = 0
        self.jobs = 0
        self.failed_batches = 0
        self.last_commit_s = 0.0  # duration of the last batch's transaction, for the metrics
        self.full = False  # the last batch met a full map; cleared by the next batch that commits
        if start:
            self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _check_running(self) -> None:
        if self._closing or not self._thread.is_alive():
            raise WriterGone("the group-commit writer is not running")

    def submit(self, job: Callable[[WriteView], T]) -> concurrent.futures.Future[T]:
        self._check_running()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((job, future))
        return future

    async def run(self, job: Callable[[WriteView], T]) -> T:
        self._check_running()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((job, _LoopWaiter(loop, future)))
        return await future

    def close(self) -> None:
        """Finish every queued job, then stop the thread."""
        self._closing = True
        if self._thread.is_alive():
            self._queue.put((_STOP, None))
            self._thread.join()

    def _loop(self) -> None:
        name_this_os_thread(THREAD_NAME)
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
                try:
                    self.commit_batch(work)
                except BaseException as error:  # noqa: BLE001 - the loop must outlive any one batch
                    self.failed_batches += 1
                    self._on_event("writer_batch_failed", error=repr(error), trace=traceback.format_exc(limit=8))
                    _answer_all([(waiter, False, error) for _, waiter in work])  # no-op for those answered
            if stop:
                return

    def _took_more(self, work: list, more: Callable[[int], list] | None) -> bool:
        """Append to `work` what `more` gives, room permitting; True if it gave any."""
        if more is None or len(work) >= self.batch_jobs_max:
            return False
        extra = more(self.batch_jobs_max - len(work))
        assert len(extra) <= self.batch_jobs_max - len(work), "more() gave more jobs than the room it was given"
        work.extend(extra)
        return bool(extra)

    def commit_batch(self, work: list[tuple[Callable[[WriteView], Any], Any]],
                     more: Callable[[int], list[tuple[Callable[[WriteView], Any], Any]]] | None = None) -> None:
        """Run (job, waiter) pairs in one durable transaction on the calling thread and answer every waiter.
        more(room): jobs that came while the batch ran, to run in the same transaction (appended to `work`), at most
        `room` of them; asked each time the batch has run out of jobs, until it gives none."""
        env = self.store.env
        outcomes: list[tuple[Any, bool, Any]] = []  # (waiter, ok, value)
        started = time.perf_counter()
        try:
            with env.begin(write=True) as parent:
                sequences = Sequences()  # ids: one counter read and one write per batch, not per id
                done = 0
                while done < len(work) or self._took_more(work, more):
                    job, future = work[done]
                    done += 1
                    child = env.begin(write=True, parent=parent)
                    mark = sequences.mark()
                    try:
                        result = job(self.store.write_view(child, sequences))
                    except _BATCH_FAILURES:
                        child.abort()
                        raise  # the whole batch: a full map or a lost database leaves the parent unusable
                    except BaseException as error:  # noqa: BLE001 - handed to the waiting request
                        child.abort()
                        sequences.rollback(mark)
                        outcomes.append((future, False, error))
                    else:
                        child.commit()
                        outcomes.append((future, True, result))
                counters = WriteView(parent, self.store.dbs)
                for name, value in sequences.changed().items():
                    counters.put_counter(name, value)
            # Leaving the block committed the batch durably (sync=True): only now answer anyone.
        except (lmdb.MapFullError, StoreFull) as error:
            self.full = True
            self._on_event("store_full", jobs=len(work), path=self.store.config.path)
            full = error if isinstance(error, StoreFull) else StoreFull(self.store.config.path)
            _answer_all([(waiter, False, full) for _, waiter in work])
            return
        except StoreUnavailable as error:  # CommitUnknown among them: the waiters must not hear "not done"
            self.failed_batches += 1
            self._on_event("store_unavailable", jobs=len(work), error=str(error), kind=type(error).__name__)
            _answer_all([(waiter, False, error) for _, waiter in work])
            return
        except BaseException as error:  # noqa: BLE001 - the commit itself failed: nobody's write happened
            _answer_all([(waiter, False, error) for _, waiter in work])
            return
        self.full = False
        self.last_commit_s = time.perf_counter() - started
        self.batches += 1
        self.jobs += len(work)
        self._on_commit(len(work), self.last_commit_s)
        _answer_all(outcomes)
