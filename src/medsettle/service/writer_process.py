"""The writer process: a worker's settlement writes, committed by a process of its own.

Why a process: in the worker, the writer thread and the event loop share one GIL. py-lmdb lets the GIL go around each
of the ~24 LMDB calls of a settlement, and each time the writer waits to take it back from the loop; the loop's own
Python runs slower beside it (bench/RESULTS.md, "The writer in a process of its own"). It began with the outpatient
settlements (17 of every 18 settlements; until 2026-12-04 it was named the outpatient writer). It now takes every
write of the settlement service's patient flows (`settlements.WRITES`: outpatient and inpatient settlements, fee
uploads, admissions, discharges, reversals), so that under load one process, not the loop's GIL, holds LMDB's writer
lock (bench/RESULTS.md, "The settlement computed in the writer process"). The rarer writes (cancelled fee lines, 冲正 by request id, pushes,
filings, clearing) stay on the worker's writer thread; LMDB's writer lock serializes the two writers' transactions.

For an outpatient settlement the event loop answers a retry of a settled request from its snapshot, and sends any
other as data (`settlements.OutpatientRequest`: the claim as received, the request's identity and the loop's clock;
msgpack over a socket pair). The process does under the write lock what the loop and the writer thread do together for an
`OutpatientCommit`, in the same order: the claim's checks and conversion, the retry check, the computation (the
eligibility check, adjudication, the audit rules), the commit; the loop's GIL, which gRPC needs too, is the scarcer
one. It runs up to `BATCH_JOBS_MAX` of them in one durable transaction (`GroupCommitWriter.commit_batch`, the
thread's own code) and answers each with the response's bytes or its failure. Nobody is answered before the commit
has returned. The other flows' loop-side checks stay on the loop (a retry's answer, the request's fields, the
benefit check of an admission, the catalog check of uploaded lines), and their writes cross as data the same way
(`InpatientSettle` is computed in the process under the write lock, as `OutpatientRequest` is).

Failures: a refusal travels as its reasons (every one of them); a full map, as the thread reports it. If the process
ends with settlements in flight, their outcome is unknown (it may have committed before it ended): they are
answered OUTCOME_UNKNOWN (a retry with the same request id gets the original answer or settles once), the worker's
health turns NOT_SERVING and it exits for its supervisor to restart it (server.EXIT_WRITER_GONE), as when the writer
thread ends. The process ends on its own when the worker's end of the socket closes (the worker stopped or was
killed), after committing and answering what it had read.

Only the LMDB store has the process: on PostgreSQL the writer's waits are the network's, and the GIL is released
there anyway.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import msgspec

import medsettle
from medsettle import cyclic_collector
from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.store.errors import CommitUnknown, StoreFull, StoreUnavailable
from medsettle.store.writer import BATCH_JOBS_MAX, GroupCommitWriter, WriterGone, name_this_os_thread

PROCESS_NAME = b"medsettle-wproc"  # top, ps -L: the writer process (15 bytes at most)
FRAME_BYTES_MAX = 64 * 2**20  # a frame holds one settlement (<100 KB at 2,000 lines) or one batch's answers
# A commit costs ~400 us of CPU whatever it holds (LMDB's two fsyncs; bench/RESULTS.md), a settlement's own part ~350
# with its computation. So a batch takes in the settlements that come while it runs, for up to EXTEND_S, before it
# commits: under load several share a commit (2.7 in the 17:1 mix at 1,000 req/s), an idle worker's settlement
# commits at once, and nobody waits for a settlement that has not come. (Waiting up to 2 ms for up to 8 once the
# worker was busy saved a few per cent of CPU more and cost 4-5 ms at the median at half load.)
EXTEND_S = 0.004
START_S_MAX = 60.0
STOP_S_MAX = 30.0
SOCKET_BUFFER_BYTES = 4 * 2**20
_HEADER_BYTES = 4


class ChildConfig(msgspec.Struct, frozen=True):
    """What the process needs to open the worker's store the same way (argv[1], JSON)."""

    path: str
    map_size_bytes: int
    sync: bool
    shard_index: int | None
    fd: int


class Failure(msgspec.Struct, frozen=True):
    """A job's failure as data. kind: refusal | store_full | store_unavailable | commit_unknown | internal."""

    kind: str
    text: str
    refusals: list[tuple[str, str, str, str]] = []  # (reason code, field, fee line, detail), the leading one first


class Outcome(msgspec.Struct, frozen=True, array_like=True):
    job_id: int
    response: bytes  # the SettleOutpatientResponse's bytes, or b"" with a failure
    failure: Failure | None


class Answers(msgspec.Struct, frozen=True):
    """One committed (or failed) batch: its outcomes and what the worker's metrics and watchdog want to know."""

    outcomes: list[Outcome]
    seconds: float
    full: bool
    failed: bool


def _frame(payload: bytes) -> bytes:
    assert len(payload) <= FRAME_BYTES_MAX
    return len(payload).to_bytes(_HEADER_BYTES, "little") + payload


class _Inbox:
    """What one end has read of the socket and not yet taken as whole frames. It reads through one buffer made once,
    not sock.recv(SOCKET_BUFFER_BYTES): that allocates (mmap) the whole size for every read and shrinks it after, 16 us
    a read against 2.6, and the worker's loop reads once per batch of answers (bench/RESULTS.md, 2026-12-05)."""

    def __init__(self, buffer_bytes: int = SOCKET_BUFFER_BYTES) -> None:
        self._into = memoryview(bytearray(buffer_bytes))
        self._pending = bytearray()

    def read(self, sock: socket.socket) -> int:
        """What the socket holds (raises as sock.recv does); the bytes read, 0 when the socket has ended."""
        size = sock.recv_into(self._into)
        self._pending += self._into[:size]
        return size

    def frames(self) -> list[bytes]:
        """Every whole frame read so far, taken off the front."""
        pending, taken = self._pending, []
        while len(pending) >= _HEADER_BYTES:
            size = int.from_bytes(pending[:_HEADER_BYTES], "little")
            if size > FRAME_BYTES_MAX:
                raise ValueError(f"a frame of {size} bytes from the other end: more than {FRAME_BYTES_MAX}")
            if len(pending) < _HEADER_BYTES + size:
                break
            taken.append(bytes(pending[_HEADER_BYTES:_HEADER_BYTES + size]))
            del pending[:_HEADER_BYTES + size]
        return taken


def failure_of(error: BaseException) -> Failure:
    if isinstance(error, Refusal):
        return Failure("refusal", str(error), [(each.reason.code, each.field, each.feedetl_sn, each.detail)
                                               for each in error.all])
    if isinstance(error, StoreFull):
        return Failure("store_full", str(error))
    if isinstance(error, CommitUnknown):
        return Failure("commit_unknown", str(error))
    if isinstance(error, StoreUnavailable):
        return Failure("store_unavailable", str(error))
    return Failure("internal", repr(error))


def error_of(failure: Failure, path: str) -> BaseException:
    """The exception the servicer would have met on the writer thread (rpc.py maps it to its status)."""
    if failure.kind == "refusal":
        return Refusal.of_all([Refusal(reasons.BY_CODE[code], field=field, feedetl_sn=sn, detail=detail)
                               for code, field, sn, detail in failure.refusals])
    if failure.kind == "store_full":
        return StoreFull(path)
    if failure.kind == "commit_unknown":
        return CommitUnknown(failure.text)
    if failure.kind == "store_unavailable":
        return StoreUnavailable(failure.text)
    return RuntimeError(f"the writer process: {failure.text}")


class WriterProcess:
    """The worker's side: starts the process, hands it settlements, answers their waiters on the event loop.

    `companion` is the worker's writer thread: a worker writes only while both run (one fate, one restart)."""

    def __init__(self, path: str, map_size_bytes: int, sync: bool, shard_index: int | None,
                 companion: GroupCommitWriter, on_commit=None, on_event=None) -> None:
        self.companion = companion
        self.path = path
        self._on_commit = on_commit or (lambda jobs, seconds: None)
        self._on_event = on_event or (lambda name, **fields: None)
        ours, theirs = socket.socketpair()
        for end in (ours, theirs):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
        config = ChildConfig(path=path, map_size_bytes=map_size_bytes, sync=sync, shard_index=shard_index,
                             fd=theirs.fileno())
        # The same medsettle as this worker's, wherever it was imported from (a bench's other source tree, say).
        package_root = str(pathlib.Path(medsettle.__file__).resolve().parents[1])
        search_path = os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH", ""))))
        self.process = subprocess.Popen([sys.executable, "-m", "medsettle.service.writer_process",
                                         msgspec.json.encode(config).decode()], pass_fds=(theirs.fileno(),),
                                        env={**os.environ, "PYTHONPATH": search_path})
        theirs.close()
        self._sock = ours
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(Answers)
        self._inbox = _Inbox()
        self._outbox = bytearray()  # bounded by admission's calls in flight (Limits.in_flight_requests_max)
        self._waiters: dict[int, asyncio.Future] = {}
        self._next_job_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gone = ""
        self._full = False
        self.batches = 0
        self.jobs = 0
        self._await_ready()

    def _await_ready(self) -> None:
        """Block until the process has opened the store (one frame, b"ready"), so the worker says SERVING only then."""
        self._sock.settimeout(START_S_MAX)
        try:
            while not (ready := self._inbox.frames()):
                if not self._inbox.read(self._sock):
                    raise RuntimeError(
                        f"the writer process ended while starting (exit {self.process.wait()})")
        except BaseException:
            self.process.kill()
            self.process.wait()
            self._sock.close()
            raise
        assert ready == [b"ready"], ready
        self._sock.setblocking(False)

    @property
    def alive(self) -> bool:
        return not self._gone and self.process.poll() is None and self.companion.alive

    @property
    def full(self) -> bool:
        """The last batch of either writer met a full map (the watchdog takes the write services out of service)."""
        return self._full or self.companion.full

    async def run(self, commit: Any) -> bytes:
        """Settle one `settlements.OutpatientRequest`: the bytes of its SettleOutpatientResponse, or raises what refused
        or failed it."""
        if not self.alive:
            raise WriterGone(self._gone or "the writer process is not running")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            loop.add_reader(self._sock.fileno(), self._readable)
        assert loop is self._loop, "one worker, one event loop"
        self._next_job_id += 1
        job_id = self._next_job_id
        future = loop.create_future()
        self._waiters[job_id] = future
        self._send(_frame(self._encoder.encode((job_id, commit))))
        return await future

    def _send(self, frame: bytes) -> None:
        if self._outbox:  # the socket was full: keep the order
            self._outbox.extend(frame)
            return
        try:
            sent = self._sock.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError as error:
            self._lost(f"the writer process's socket failed: {error}")
            return
        if sent < len(frame):
            self._outbox.extend(frame[sent:])
            self._loop.add_writer(self._sock.fileno(), self._writable)

    def _writable(self) -> None:
        try:
            sent = self._sock.send(self._outbox)
        except BlockingIOError:
            return
        except OSError as error:
            self._lost(f"the writer process's socket failed: {error}")
            return
        del self._outbox[:sent]
        if not self._outbox:
            self._loop.remove_writer(self._sock.fileno())

    def _readable(self) -> None:
        try:
            size = self._inbox.read(self._sock)
        except BlockingIOError:
            return
        except OSError as error:
            self._lost(f"the writer process's socket failed: {error}")
            return
        if not size:
            self._lost("the writer process ended")
            return
        try:
            batches = [self._decoder.decode(payload) for payload in self._inbox.frames()]
        except (ValueError, msgspec.DecodeError) as error:  # a defect: nothing it says can be trusted any more
            self._lost(f"the writer process sent what cannot be read: {error}")
            return
        for answers in batches:
            self._full = answers.full
            if not answers.failed:
                self.batches += 1
                self.jobs += len(answers.outcomes)
                self._on_commit(len(answers.outcomes), answers.seconds)
            for outcome in answers.outcomes:
                future = self._waiters.pop(outcome.job_id)
                if future.cancelled():
                    continue  # the caller went away; the outcome stands in the store
                if outcome.failure is None:
                    future.set_result(outcome.response)
                else:
                    future.set_exception(error_of(outcome.failure, self.path))

    def _lost(self, why: str) -> None:
        """The process or its socket is gone: whatever it was given and did not answer may or may not have
        committed."""
        if self._gone:
            return
        self._gone = why
        self._on_event("writer_process_gone", reason=why, in_flight=len(self._waiters))
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
        waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            if not future.done():
                future.set_exception(CommitUnknown(f"{why} with this settlement in flight: it may have committed"))

    def close(self) -> None:
        """Stop the process once it has committed and answered everything it was given (the worker has drained its
        calls first), or kill it after STOP_S_MAX."""
        if self._loop is not None and not self._gone:
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
        self._gone = self._gone or "closed"
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            self.process.wait(STOP_S_MAX)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._sock.close()


def _receive(sock: socket.socket, inbox: _Inbox, queued: list[bytes], *, wait: bool) -> bool:
    """Read what the worker has sent (waiting for it if `wait`) and queue its whole frames; True if the socket ended
    (closed, or reset: the worker died, and what it sent whole is still committed and stands for its retries)."""
    sock.setblocking(wait)
    try:
        size = inbox.read(sock)
    except BlockingIOError:
        return False
    except OSError:
        return True
    queued.extend(inbox.frames())
    return not size


class _Batch:
    """One batch's settlements: those queued when it began, then those that come while it runs (`more`)."""

    def __init__(self, app: Any, decoder: msgspec.msgpack.Decoder, sock: socket.socket, inbox: _Inbox,
                 queued: list[bytes]) -> None:
        self.app, self.decoder, self.sock, self.inbox, self.queued = app, decoder, sock, inbox, queued
        self.job_ids: list[int] = []
        self.started = time.perf_counter()
        self.ended = False  # the socket ended while the batch ran

    def decoded(self, room: int) -> list[tuple[Any, concurrent.futures.Future]]:
        """Up to `room` queued settlements as the writer's (job, waiter) pairs."""
        taken = self.queued[:room]
        del self.queued[:room]
        pairs = []
        for payload in taken:
            job_id, commit = self.decoder.decode(payload)
            self.job_ids.append(job_id)
            pairs.append((commit.job(self.app), concurrent.futures.Future()))
        return pairs

    def more(self, room: int) -> list[tuple[Any, concurrent.futures.Future]]:
        """GroupCommitWriter.commit_batch's `more`: what came while the batch ran, until EXTEND_S after it began."""
        if time.perf_counter() - self.started >= EXTEND_S:
            return []
        if not self.ended:
            self.ended = _receive(self.sock, self.inbox, self.queued, wait=False)
        return self.decoded(room)


def _serve(config: ChildConfig) -> int:
    """The process: read settlements, commit them in batches, answer; end at the socket's end."""
    from medsettle.service import logs
    from medsettle.service.app import App
    from medsettle.service.clock import Clock
    from medsettle.service.settlements import WRITES
    from medsettle.store.env import Store, StoreConfig

    name_this_os_thread(PROCESS_NAME)
    # A stop is the worker's to make: systemd's SIGTERM to the whole group, or a terminal's Ctrl-C, must not end this
    # process in the middle of a batch. It ends when the worker closes its end of the socket, having drained.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=config.fd)
    store = Store(StoreConfig(path=config.path, map_size_bytes=config.map_size_bytes, sync=config.sync, create=False,
                              shard_index=config.shard_index))
    committer = GroupCommitWriter(store, on_event=lambda name, **fields: logs.event(name, level="error", **fields),
                                  start=False)
    app = App(store=store, writer=committer, clock=Clock())
    decoder = msgspec.msgpack.Decoder(tuple[int, WRITES])
    encoder = msgspec.msgpack.Encoder()
    # As a worker does before it serves: a full collection would otherwise walk everything made so far, with every
    # write given to this process waiting (~9 ms, against ~1 frozen).
    logs.event("writer_process_ready", gc_frozen_objects=cyclic_collector.freeze_startup_objects())
    sock.sendall(_frame(b"ready"))
    inbox = _Inbox()
    queued: list[bytes] = []
    ended = False
    while queued or not ended:
        ended = _receive(sock, inbox, queued, wait=not queued) or ended  # wait only when there is nothing to do
        if not queued:
            continue
        batch = _Batch(app, decoder, sock, inbox, queued)
        work = batch.decoded(BATCH_JOBS_MAX)
        committed_before = committer.batches
        committer.commit_batch(work, batch.more)
        ended = ended or batch.ended
        outcomes = []
        for job_id, (_, future) in zip(batch.job_ids, work, strict=True):
            error = future.exception(timeout=0)  # commit_batch answers every waiter
            outcomes.append(Outcome(job_id, b"" if error else future.result().SerializeToString(),
                                    None if error is None else failure_of(error)))
        answers = Answers(outcomes, time.perf_counter() - batch.started, committer.full,
                          failed=committer.batches == committed_before)
        try:
            sock.sendall(_frame(encoder.encode(answers)))
        except OSError:
            break  # the worker has gone: the outcomes stand in the store, and its retries find them
    committer.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(msgspec.json.decode(sys.argv[1].encode(), type=ChildConfig)))
