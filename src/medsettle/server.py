"""One worker: a grpc.aio server on uvloop over the store, from SERVING to a drained exit.

Workers are spawned (never forked after LMDB or gRPC are touched, see supervisor.py) and all open the same LMDB
environment; LMDB's writer lock serializes their commits. With one worker, SO_REUSEPORT is off so a stray second
server cannot silently share the port.

SIGTERM/SIGINT: health turns NOT_SERVING (overall and per service) at once; the server keeps answering for
`drain_s` so load balancers notice and stop sending; then it stops accepting calls, lets every accepted call
finish within `grace_s`, drains the writer and exits 0. If the writer dies, health turns NOT_SERVING and the
worker exits EXIT_WRITER_GONE for its supervisor to restart it.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import platform
import resource
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from medsettle import metrics, tracing
from medsettle.cyclic_collector import freeze_startup_objects
from medsettle.service import intake, logs, reflection
from medsettle.service.app import App, Limits
from medsettle.service.clock import Clock
from medsettle.service.writer_process import WriterProcess
from medsettle.store.env import StoreConfig
from medsettle.store.open import describe, open_store
from medsettle.store.writer import GroupCommitWriter
from medsettle.watchdog import Watchdog, WatchdogConfig

GRACE_S_DEFAULT = 10.0
DRAIN_S_DEFAULT = 2.0  # a load balancer checking health every second sees NOT_SERVING at least once
IDLE_S_DEFAULT = 300.0
CONNECTIONS_MAX = 4096  # per worker; beyond it a new connection is closed before any handshake
HANDSHAKE_S_MAX = 10  # a connection that has not finished its HTTP/2 (or TLS) handshake by then is closed
STOP_S = 1.0  # gRPC's own shutdown, once no call is in flight
EXIT_WRITER_GONE = 70  # EX_SOFTWARE: the supervisor restarts the worker
HEALTH_HEADROOM = 256  # streams per connection beyond admission's bound: health checks, which admission lets through

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass(frozen=True)
class ServerConfig:
    data_dir: str
    store: str = ""  # a postgresql:// URL (store/postgres.py); "" = the LMDB store in data_dir
    listen: str = "127.0.0.1:50051"
    workers: int = 1
    grace_s: float = GRACE_S_DEFAULT
    drain_s: float = DRAIN_S_DEFAULT
    idle_s: float = IDLE_S_DEFAULT
    map_size_bytes: int = StoreConfig.map_size_bytes
    log_calls: bool = False
    create: bool = False  # serve may create an empty store (only `up` and --create ask for it)
    metrics_listen: str = ""  # HOST:PORT of the Prometheus endpoint; "" = metrics off
    tls_dir: str = ""  # "" = plaintext, accepted only on a loopback address (build_server checks)
    person_lookups_per_minute: int = Limits.person_lookups_per_minute
    trace: str = "off"  # OpenTelemetry spans: "off", "console" (stderr) or "otlp" (tracing.py)
    shard_map: str = ""  # path of the shard map (domain/shards.py); "" = a single host owning every province
    shard: str = ""  # which shard of the map this server is
    # LMDB: the settlement flows' writes commit in a writer process of the worker's own (writer_process.py);
    # False: every write on the worker's writer thread.
    writer_process: bool = True

    @property
    def location(self) -> str:
        return self.store or self.data_dir


def is_loopback(listen: str) -> bool:
    import ipaddress

    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _options(limits: Limits, *, so_reuseport: bool, idle_s: float) -> list[tuple[str, int]]:
    return [
        ("grpc.so_reuseport", 1 if so_reuseport else 0),
        ("grpc.max_receive_message_length", intake.TRANSPORT_BYTES_MAX),
        ("grpc.max_send_message_length", limits.message_bytes_max),
        # Streams per connection: as many as the worker serves at all (admission's bound and the health checks it
        # lets through), so a burst on one connection meets admission's SERVER_BUSY (intake.py) rather than refused
        # HTTP/2 streams, which a client reports as UNAVAILABLE "Stream removed".
        ("grpc.max_concurrent_streams", limits.in_flight_requests_max + HEALTH_HEADROOM),
        ("grpc.max_allowed_incoming_connections", CONNECTIONS_MAX),
        ("grpc.server_handshake_timeout_ms", int(min(HANDSHAKE_S_MAX, idle_s) * 1000)),
        ("grpc.max_connection_idle_ms", int(idle_s * 1000)),  # an idle connection gets GOAWAY and is closed
        # Find peers that vanished without a FIN (a gateway host powered off): ping after a minute of silence.
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        # Keepalive enforcement: a client pinging more often than every 10 s, or without calls, is sent away.
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.max_ping_strikes", 2),
    ]


def layers(app: App, *, insecure: bool) -> tuple:
    """The interceptors every call passes, outermost first: a stream takes one of the worker's stream slots; intake
    decodes the body (and admits the call); a shard refuses what is not its own before anything is read; then access
    authorizes the decoded request."""
    from medsettle.service.access import Access
    from medsettle.service.placement import ShardGuard
    from medsettle.service.stream_bound import StreamBound

    guard = () if app.shard_map is None else (ShardGuard(app.shard_map, app.shard_name),)
    return (StreamBound(app.limits.streams_max), intake.IntakeInterceptor(app.admission), *guard,
            Access(app, insecure=insecure))


def build_server(app: App, listen: str, *, so_reuseport: bool, idle_s: float = IDLE_S_DEFAULT,
                 tracer: grpc.aio.ServerInterceptor | None = None,
                 ) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """A server with every servicer, health and reflection registered; not started. Returns the bound port.
    Mutual TLS from app.tls_dir; plaintext (callers named by metadata) only on a loopback address."""
    import pathlib

    from medsettle import tls
    from medsettle.service import registry
    from medsettle.service.layers import Layers

    insecure = not app.tls_dir
    if insecure and not is_loopback(listen):
        raise ListenError(f"plaintext is served on a loopback address only, not {listen}: serve mutual TLS "
                          f"(--tls-dir) or listen on 127.0.0.1")

    server = grpc.aio.server(
        # The span (when tracing) covers everything: the tracer stays a real interceptor (off by default).
        interceptors=[tracer] if tracer else None,
        options=_options(app.limits, so_reuseport=so_reuseport, idle_s=idle_s),
        # No maximum_concurrent_rpcs: admission bounds the unary calls and StreamBound the streams, each answering
        # with a reason; gRPC's own limiter queued silently and cost every call an asyncio.Condition and a task
        # (service/stream_bound.py).
    )
    # Every handler in the interceptors, applied where it is registered (service/layers.py says why).
    registering = Layers(layers(app, insecure=insecure)).on(server)
    names = registry.add_all(registering, app)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registering)
    reflection.enable(registering, [*names, health.SERVICE_NAME])
    try:
        if insecure:
            port = server.add_insecure_port(listen)
        else:
            credentials, _ = tls.server_credentials(pathlib.Path(app.tls_dir))
            port = server.add_secure_port(listen, credentials)
    except RuntimeError as error:  # grpc raises where older releases returned 0
        raise ListenError(f"cannot listen on {listen}: {error}") from None
    if port == 0:
        raise ListenError(f"cannot listen on {listen}")
    return server, health_servicer, port


class ListenError(RuntimeError):
    """The listen address cannot be bound (in use, or not an address of this host)."""


# The services that write: a full store takes them out of service; reads (PersonService) go on.
WRITE_SERVICES = ("medsettle.v1.SettlementService", "medsettle.v1.FilingService",
                  "medsettle.v1.ReferenceDataService", "medsettle.v1.ClearingService")


async def set_health(health_servicer: health.aio.HealthServicer, status: int) -> None:
    from medsettle.service import registry

    for name in ["", *(servicer.full_name for servicer in registry.SERVICERS)]:
        await health_servicer.set(name, status)


async def start(app: App, listen: str, *, so_reuseport: bool, idle_s: float = IDLE_S_DEFAULT,
                tracer: grpc.aio.ServerInterceptor | None = None,
                ) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """build_server, started, and SERVING: the one way a server starts (workers and tests)."""
    server, health_servicer, port = build_server(app, listen, so_reuseport=so_reuseport, idle_s=idle_s,
                                                 tracer=tracer)
    await server.start()
    await set_health(health_servicer, SERVING)
    return server, health_servicer, port


def load_shard_map(config: ServerConfig):
    """The shard map this server is a shard of, checked to name it; None for a single host."""
    import pathlib

    from medsettle.domain import shards

    if not config.shard_map and not config.shard:
        return None
    if not (config.shard_map and config.shard):
        raise ListenError("a shard needs both --shard-map and --shard")
    try:
        shard_map = shards.parse(pathlib.Path(config.shard_map).read_bytes())
    except (OSError, shards.ShardMapError) as error:
        raise ListenError(f"shard map {config.shard_map}: {error}") from None
    if shard_map.shard(config.shard) is None:
        raise ListenError(f"shard map {config.shard_map} has no shard {config.shard!r} ({', '.join(shard_map.names)})")
    return shard_map


def _raise_open_files_limit() -> None:
    """Every connection is a descriptor: at the usual soft limit of 1,024, a thousand idle sockets starve accept()
    and health checks time out. Take what the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _die_with_parent(parent_pid: int) -> None:
    """Linux: SIGTERM this worker when its supervisor dies, so it drains and exits instead of serving orphaned."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # the watchdog's getppid() check still stops the worker, within half a second
    if os.getppid() != parent_pid:  # the parent died before prctl took effect: nothing was opened yet
        raise SystemExit(f"supervisor {parent_pid} has gone")


async def run_worker(config: ServerConfig, *, so_reuseport: bool, clock: Clock | None = None,
                     parent_pid: int | None = None, ready: Callable[[], object] | None = None) -> int:
    """Serve until a stop signal (returns 0 after draining) or until the writer dies (returns EXIT_WRITER_GONE)."""
    _raise_open_files_limit()
    metrics.start_if_configured()
    shard_map = load_shard_map(config)
    store = open_store(config.location, create=config.create, map_size_bytes=config.map_size_bytes,
                       shard_index=None if shard_map is None else shard_map.names.index(config.shard))
    if store.stale_readers_cleared:
        logs.event("stale_readers_cleared", level="warning", count=store.stale_readers_cleared)
    writer = GroupCommitWriter(store, on_event=lambda name, **fields: logs.event(name, level="error", **fields),
                               on_commit=_observe_commit)
    writer_process = None
    try:
        if config.writer_process and store.backend == "lmdb":
            writer_process = WriterProcess(
                store.config.path, store.config.map_size_bytes, store.config.sync, store.config.shard_index,
                companion=writer, on_commit=_observe_commit,
                on_event=lambda name, **fields: logs.event(name, level="error", **fields))
        app = App(store=store, writer=writer, clock=clock or Clock(), log_calls=config.log_calls,
                  tls_dir=config.tls_dir, limits=Limits(person_lookups_per_minute=config.person_lookups_per_minute),
                  shard_map=shard_map, shard_name=config.shard, writer_process=writer_process)
        server, health_servicer, port = await start(app, config.listen, so_reuseport=so_reuseport,
                                                    idle_s=config.idle_s, tracer=tracing.enable(config.trace))
    except BaseException:
        if writer_process is not None:
            writer_process.close()
        writer.close()
        store.close()
        tracing.shutdown()
        raise
    frozen = freeze_startup_objects()
    logs.event("serving", listen=config.listen, port=port, store=describe(config.location), backend=store.backend,
               tls_dir=config.tls_dir or "(plaintext, loopback)", trace=config.trace,
               shard=config.shard or "(single host)", gc_frozen_objects=frozen,
               writer_process_pid=writer_process.process.pid if writer_process is not None else None,
               python=platform.python_version(), python_executable=sys.executable)  # its build moves CPU a call
    if ready is not None:
        ready()

    stopping = asyncio.Event()
    exit_code = 0
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    async def fatal(reason: str) -> None:
        nonlocal exit_code
        exit_code = EXIT_WRITER_GONE
        logs.event("worker_unhealthy", level="error", reason=reason)
        stopping.set()

    async def store_full(full: bool) -> None:
        status = NOT_SERVING if full else SERVING
        for name in ("", *WRITE_SERVICES):
            await health_servicer.set(name, status)

    watchdog = asyncio.ensure_future(Watchdog(store, writer_process or writer, WatchdogConfig(parent_pid=parent_pid),
                                              on_fatal=fatal, on_full=store_full).run())
    await stopping.wait()
    watchdog.cancel()

    logs.event("stopping", grace_s=config.grace_s, drain_s=config.drain_s, exit_code=exit_code)
    await set_health(health_servicer, NOT_SERVING)
    if exit_code == 0:
        await asyncio.sleep(config.drain_s)  # still answering: load balancers see NOT_SERVING and move away
    # New calls are now answered SERVICE_UNAVAILABLE (retry elsewhere; nothing done) while the accepted ones finish.
    # Only then does gRPC stop: its own shutdown cancels every call it has received but not yet handed to Python,
    # which a gateway would see as CANCELLED without knowing whether its settlement happened.
    app.admission.close()
    idle = await app.admission.wait_idle(config.grace_s if exit_code == 0 else 1.0)
    if not idle:
        logs.event("grace_expired", level="error", in_flight=app.admission.total)
    await server.stop(STOP_S)
    if writer_process is not None:
        writer_process.close()  # it has answered every settlement it was given: the calls have finished
    writer.close()  # every queued write is committed (and was answered) before exit
    store.close()
    tracing.shutdown()  # the spans still batched
    logs.event("stopped", exit_code=exit_code)
    return exit_code


def _observe_commit(jobs: int, seconds: float) -> None:
    metrics.WRITER_BATCH_JOBS.observe(jobs)
    metrics.WRITER_COMMIT_SECONDS.observe(seconds)


def worker_main(config: ServerConfig, so_reuseport: bool, parent_pid: int | None = None,
                ready: Callable[[], object] | None = None) -> int:
    import uvloop

    if parent_pid is not None:
        _die_with_parent(parent_pid)
    return uvloop.run(run_worker(config, so_reuseport=so_reuseport, parent_pid=parent_pid, ready=ready))
