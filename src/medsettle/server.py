"""Process model: N spawned worker processes, each one grpc.aio server on uvloop, sharing the port.

Workers are spawned (never forked after LMDB or gRPC are touched) and all open the same LMDB
environment; LMDB's writer lock serializes their commits. With one worker, SO_REUSEPORT is off so a
stray second server cannot silently share the port.

SIGTERM/SIGINT: health turns NOT_SERVING first (load balancers stop sending), in-flight calls get
`grace_s` to finish, the writer drains its queue, then the process exits.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from medsettle.service import logs
from medsettle.service.app import App, Limits
from medsettle.service.clock import Clock
from medsettle.store.env import Store, StoreConfig
from medsettle.store.writer import GroupCommitWriter

GRACE_S_DEFAULT = 10.0


@dataclass(frozen=True)
class ServerConfig:
    data_dir: str
    listen: str = "127.0.0.1:50051"
    workers: int = 1
    grace_s: float = GRACE_S_DEFAULT
    map_size_bytes: int = StoreConfig.map_size_bytes
    log_calls: bool = False


def build_server(app: App, listen: str, *, so_reuseport: bool) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """A server with every servicer, health and reflection registered; not started. Returns the bound port."""
    from medsettle.service import registry

    limits: Limits = app.limits
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 1 if so_reuseport else 0),
            ("grpc.max_receive_message_length", limits.message_bytes_max),
            ("grpc.max_send_message_length", limits.message_bytes_max),
            ("grpc.max_concurrent_streams", 256),
        ],
        maximum_concurrent_rpcs=limits.in_flight_requests_max,
    )
    names = registry.add_all(server, app)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = server.add_insecure_port(listen)
    if port == 0:
        raise SystemExit(f"cannot listen on {listen}")
    return server, health_servicer, port


async def set_health(health_servicer: health.aio.HealthServicer, status: int) -> None:
    from medsettle.service import registry

    for name in ["", *(servicer.full_name for servicer in registry.SERVICERS)]:
        await health_servicer.set(name, status)


async def start(app: App, listen: str, *, so_reuseport: bool) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """build_server, started, and SERVING: the one way a server starts (workers and tests)."""
    server, health_servicer, port = build_server(app, listen, so_reuseport=so_reuseport)
    await server.start()
    await set_health(health_servicer, health_pb2.HealthCheckResponse.SERVING)
    return server, health_servicer, port


async def run_worker(config: ServerConfig, *, so_reuseport: bool, clock: Clock | None = None) -> None:
    store = Store(StoreConfig(path=config.data_dir, map_size_bytes=config.map_size_bytes))
    writer = GroupCommitWriter(store)
    app = App(store=store, writer=writer, clock=clock or Clock(), log_calls=config.log_calls)
    server, health_servicer, port = await start(app, config.listen, so_reuseport=so_reuseport)
    logs.event("serving", listen=config.listen, port=port, data_dir=config.data_dir)

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()

    logs.event("stopping", grace_s=config.grace_s)
    await set_health(health_servicer, health_pb2.HealthCheckResponse.NOT_SERVING)
    await server.stop(config.grace_s)  # refuses new calls, lets in-flight ones finish
    writer.close()  # every queued write is committed (and was answered) before exit
    store.close()
    logs.event("stopped")


def _worker_main(config: ServerConfig, so_reuseport: bool) -> None:
    import uvloop

    uvloop.run(run_worker(config, so_reuseport=so_reuseport))


def serve(config: ServerConfig) -> int:
    """Serve until SIGTERM: in this process with one worker, or in N spawned processes. Returns the exit status:
    0, or the worst of the workers' (a worker that could not start makes the command fail, as with one worker)."""
    assert 1 <= config.workers <= 64
    if config.workers == 1:
        _worker_main(config, so_reuseport=False)
        return 0
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_worker_main, args=(config, True), name=f"medsettle-{i}") for i in range(config.workers)]

    def forward(signum, _frame) -> None:
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)

    # Installed before any worker starts: a SIGTERM in between would end this process and orphan its workers.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return max(abs(worker.exitcode or 0) for worker in workers)
