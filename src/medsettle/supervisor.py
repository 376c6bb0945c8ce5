"""`medsettle serve`: one data directory, one port, N workers kept alive.

- A data directory is served by one `serve` at a time (an flock on DIR/serve.lock), and a port that something
  already listens on is refused before any worker starts (workers share their port with SO_REUSEPORT, which would
  otherwise let a second `serve` join the first one's port silently). A port held by a connection's local end (the
  kernel lends its ephemeral ports to outgoing connections) is named as such, with its remedy, and a port the kernel
  may lend is warned of at start (ephemeral_ports.py).
- A PostgreSQL store (`--store postgresql://...`) takes no such lock: several `serve`s on several hosts over one
  database is what that backend is for. What the lock protects on LMDB, one writer at a time, the database does for
  every process (the writers' advisory lock, store/postgres.py); the LMDB reader slots and map the watchdog minds
  do not exist there (a dead process's snapshot ends with its connection; a full disk is StoreFull all the same).
- Workers are spawned processes. One that dies after it served is logged and started again, after a back-off that
  doubles from RESPAWN_DELAY_S_MIN to RESPAWN_DELAY_S_MAX while it keeps dying young; one that dies before it ever
  served (a store that cannot open) ends the command with a failure, as it would with one worker.
- Workers die with their supervisor (PR_SET_PDEATHSIG, see server.py): a `kill -9` of this process leaves no
  worker serving orphaned.
- SIGTERM/SIGINT are forwarded to every worker; the command waits for all of them to drain and exits 0.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import IO

from medsettle import ephemeral_ports, metrics, server
from medsettle.server import ServerConfig
from medsettle.service import logs
from medsettle.store.open import describe, holds_store, is_postgres

WORKERS_MAX = 64
LOCK_FILE = "serve.lock"
RESPAWN_DELAY_S_MIN = 0.5
RESPAWN_DELAY_S_MAX = 30.0
STABLE_S = 60.0  # a worker that served this long before dying is respawned after the shortest delay again
STOP_MARGIN_S = 10.0  # beyond drain and grace, before a worker that does not stop is killed
PROBE_CONNECT_S = 1.0  # a port that cannot be bound: does a server answer on it?


class ServeRefused(RuntimeError):
    """`serve` cannot start, for a reason the operator can fix: one line, exit status 2."""


def check_workers(workers: int) -> None:
    if not 1 <= workers <= WORKERS_MAX:
        raise ServeRefused(f"--workers must be between 1 and {WORKERS_MAX}, got {workers}")


def lock_data_dir(data_dir: str) -> IO[str]:
    """Hold DIR/serve.lock for the life of this process (the kernel drops it when the process dies)."""
    os.makedirs(data_dir, exist_ok=True)
    handle = open(os.path.join(data_dir, LOCK_FILE), "a+", encoding="ascii")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ServeRefused(f"{data_dir} is already served (by pid {holder}); stop that server first") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def probe_port(listen: str) -> int:
    """Refuse a listen address something already listens on (with or without SO_REUSEPORT); its port."""
    host, _, port_text = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
    except ValueError:
        raise ServeRefused(f"--listen must be HOST:PORT, got {listen!r}") from None
    if port == 0:
        return port  # an ephemeral port is never in use
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ServeRefused(f"cannot listen on {listen}: {error.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # our own TIME_WAIT is not "in use"
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise ServeRefused(_in_use(listen, port, family, address)) from None
                raise ServeRefused(f"cannot listen on {listen}: {error.strerror}") from None
    return port


def _in_use(listen: str, port: int, family: int, address: tuple) -> str:
    """Why a port cannot be bound: a server listens on it, or a connection holds it as its local end."""
    with socket.socket(family, socket.SOCK_STREAM) as knock:
        knock.settimeout(PROBE_CONNECT_S)
        if knock.connect_ex(address) == 0:
            return f"{listen} is already served by another process"
    lendable = ephemeral_ports.lendable_here(port)
    return (f"{listen} is held by a connection's local end, not by a server: the kernel lends the ports of its "
            f"ephemeral range to outgoing connections, and such a port stays taken while the connection lives and up "
            f"to {ephemeral_ports.TIME_WAIT_S} s after it closes; "
            + (ephemeral_ports.remedy(port, lendable[0]) if lendable else "it frees itself; start again then"))


def _warn_if_lendable(listen: str, port: int) -> None:
    """A port the kernel may lend to outgoing connections: after a crash this server may not get it back for a
    while (ephemeral_ports.py). Said once at start, where an operator reads what the service needs of the host."""
    lendable = ephemeral_ports.lendable_here(port)
    if lendable:
        logs.event("listen_port_lendable", level="warning", listen=listen,
                   ephemeral_range=f"{lendable[0]}-{lendable[1]}", remedy=ephemeral_ports.remedy(port, lendable[0]))


def serve(config: ServerConfig) -> int:
    """Serve until SIGTERM. Returns the exit status: 0 after a clean drain; non-zero when workers failed."""
    check_workers(config.workers)
    if not config.create and not holds_store(config.location):
        flag = "--store" if config.store else "--data-dir"
        raise ServeRefused(f"{describe(config.location)} holds no medsettle store; check {flag}, or give --create "
                           f"to start an empty one (`medsettle up` seeds the demo nation)")
    try:
        server.load_shard_map(config)  # a bad map is refused here, before any worker starts
    except server.ListenError as error:
        raise ServeRefused(str(error)) from None
    lock = None if is_postgres(config.location) else lock_data_dir(config.data_dir)
    metrics_dir = ""
    try:
        _warn_if_lendable(config.listen, probe_port(config.listen))
        if config.metrics_listen:
            probe_port(config.metrics_listen)
            metrics_dir = metrics.enable()  # before any worker starts: they find it in the environment
            metrics.serve_http(config.metrics_listen)
            logs.event("metrics_serving", listen=config.metrics_listen)
        if config.workers == 1:
            try:
                return server.worker_main(config, so_reuseport=False)
            except server.ListenError as error:
                raise ServeRefused(str(error)) from None
        return Supervisor(config).run()
    finally:
        if lock is not None:
            lock.close()
        if metrics_dir:
            metrics.cleanup(metrics_dir)


@dataclass
class _Slot:
    index: int
    process: multiprocessing.Process | None = None
    ready: object = None  # a multiprocessing Event the worker sets once it serves
    started_at: float = 0.0
    delay_s: float = RESPAWN_DELAY_S_MIN
    due_at: float | None = None  # when to start it again
    exit_codes: list[int] = field(default_factory=list)


def _worker_entry(config: ServerConfig, parent_pid: int, ready) -> None:
    code = server.worker_main(config, so_reuseport=True, parent_pid=parent_pid, ready=ready.set)
    raise SystemExit(code)


class Supervisor:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.spawn = multiprocessing.get_context("spawn")
        self.slots = [_Slot(i) for i in range(config.workers)]
        self.stopping = False
        self.failed = False

    def _start(self, slot: _Slot) -> None:
        slot.ready = self.spawn.Event()
        slot.process = self.spawn.Process(target=_worker_entry, args=(self.config, os.getpid(), slot.ready),
                                          name=f"medsettle-{slot.index}")
        slot.process.start()
        slot.started_at = time.monotonic()
        slot.due_at = None

    def _stop_all(self, *_signal_args) -> None:
        self.stopping = True
        for slot in self.slots:
            if slot.process is not None and slot.process.pid is not None and slot.process.is_alive():
                os.kill(slot.process.pid, signal.SIGTERM)

    def run(self) -> int:
        # Installed before any worker starts: a SIGTERM in between would end this process and orphan its workers.
        signal.signal(signal.SIGTERM, self._stop_all)
        signal.signal(signal.SIGINT, self._stop_all)
        for slot in self.slots:
            self._start(slot)
        while not self.stopping:
            live = [slot.process.sentinel for slot in self.slots if slot.process is not None]
            multiprocessing.connection.wait(live, timeout=0.2)
            if self.stopping:
                break
            now = time.monotonic()
            for slot in self.slots:
                self._look_after(slot, now)
        return self._wait_all()

    def _look_after(self, slot: _Slot, now: float) -> None:
        if slot.process is not None and slot.process.exitcode is not None:
            code = slot.process.exitcode
            served = slot.ready.is_set()
            metrics.worker_gone(slot.process.pid)
            slot.process.join()
            slot.exit_codes.append(code)
            lived_s = now - slot.started_at
            slot.process = None
            if not served:
                logs.event("worker_failed_to_start", level="error", worker=slot.index, exit_code=code)
                self.failed = True
                self._stop_all()
                return
            slot.delay_s = RESPAWN_DELAY_S_MIN if lived_s >= STABLE_S else min(slot.delay_s * 2, RESPAWN_DELAY_S_MAX)
            slot.due_at = now + slot.delay_s
            logs.event("worker_exited", level="error", worker=slot.index, exit_code=code, lived_s=round(lived_s, 1),
                       respawn_in_s=slot.delay_s)
        if slot.process is None and slot.due_at is not None and now >= slot.due_at:
            self._start(slot)
            logs.event("worker_respawned", level="warning", worker=slot.index, pid=slot.process.pid)

    def _wait_all(self) -> int:
        deadline = time.monotonic() + self.config.drain_s + self.config.grace_s + STOP_MARGIN_S
        worst = 1 if self.failed else 0
        for slot in self.slots:
            if slot.process is None:
                continue
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                logs.event("worker_killed", level="error", worker=slot.index, pid=slot.process.pid)
                slot.process.kill()
                slot.process.join()
                worst = max(worst, 1)
            code = slot.process.exitcode or 0
            if code not in (0, -signal.SIGTERM):  # a worker still starting when the signal came dies of it: fine
                worst = max(worst, abs(code))
        return worst
