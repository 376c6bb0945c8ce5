"""Floods a gateway (broken or hostile) can send: oversized claims, idle connections, thousands of sockets, more calls
than a worker takes. Each is answered or closed, and normal settlements go on. (How much a flood slows a normal
settlement is measured in bench/floods.py, not here.)

Before the fix: 16 senders of 13 MiB claims took a normal settlement from 2 ms to 1.9 s and the server from 50 MiB to
1.5 GiB; 2,000 idle TCP connections were never closed; at 1,024 open files, 1,100 idle sockets made health time out.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time

import grpc
import pytest

from medsettle.service.app import App, Limits
from medsettle.service.clock import FixedClock
from tests.conftest import Running
from tests.fault.harness import (
    ServerProcess,
    build_nation,
    gateway_aio_channel,
    gateway_channel,
    settle_request,
    status_reason,
    stubs,
)

FLOOD_SENDERS = 16


def _peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("body_bytes, answer", [
    (13 * 2**20, "RESOURCE_EXHAUSTED"),  # over the transport's limit: gRPC refuses it from its length prefix
    (2 * 2**20, "MESSAGE_TOO_LARGE"),  # over the claim's limit: refused unparsed, and late (see intake.py)
])
def test_oversized_claims_are_refused_unread_while_normal_settlements_go_on(tmp_path, body_bytes, answer):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log") as server:
        server.wait_serving()
        stop = threading.Event()
        refused: list[str] = []
        huge = settle_request("HUGE")
        huge.claim.fee_lines[0].feedetl_sn = "x" * body_bytes  # a single field makes it that large
        raw = huge.SerializeToString()

        def flood() -> None:
            with gateway_channel(server.target, options=[("grpc.max_send_message_length", 64 * 2**20),
                                                               ("grpc.use_local_subchannel_pool", 1)]) as channel:
                call = channel.unary_unary("/medsettle.v1.SettlementService/SettleOutpatient")  # bytes as they are
                while not stop.is_set():
                    try:
                        call(raw, timeout=30)
                        refused.append("OK")
                    except grpc.RpcError as error:
                        refused.append(status_reason(error) or error.code().name)

        senders = [threading.Thread(target=flood) for _ in range(FLOOD_SENDERS)]
        for sender in senders:
            sender.start()
        try:
            time.sleep(1)
            with gateway_channel(server.target) as channel:
                settlements = stubs(channel)[0]
                normal = [settlements.SettleOutpatient(settle_request(f"NORMAL-{n:03d}"), timeout=30) for n in range(50)]
            assert len({answer.settlement.setl_id for answer in normal}) == 50
        finally:
            stop.set()
            for sender in senders:
                sender.join(60)
        assert len(refused) >= FLOOD_SENDERS and set(refused) == {answer}, set(refused)
        # No body over the transport's limit is held, nor a parse of one. (It was 1.5 GiB.)
        assert _peak_rss_mib(server.pid) < 600


def _eof_within(sock: socket.socket, timeout_s: float) -> bool:
    sock.settimeout(timeout_s)
    try:
        while sock.recv(65536):
            pass  # a GOAWAY frame, then the close
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_idle_connections_are_closed(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log", "--idle-s", "1") as server:
        server.wait_serving()
        silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(200)]  # never a byte
        http2 = socket.create_connection(("127.0.0.1", server.port))  # an HTTP/2 connection with no call
        http2.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        try:
            assert all(_eof_within(sock, 10) for sock in silent), "connections that never spoke stay open"
            assert _eof_within(http2, 10), "an idle HTTP/2 connection stays open"
        finally:
            for sock in [*silent, http2]:
                sock.close()
        assert server.health() == 1


def test_a_thousand_idle_sockets_do_not_starve_health_at_the_usual_open_files_limit(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard >= 2_400, "this test needs a hard open-files limit above 2,400"
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this process holds 1,100 sockets

    def usual_limit() -> None:  # the server starts where a shell or a unit file would leave it
        resource.setrlimit(resource.RLIMIT_NOFILE, (1_024, hard))

    try:
        with ServerProcess(data_dir, tmp_path / "server.log", preexec_fn=usual_limit) as server:
            server.wait_serving()
            idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(1_100)]
            try:
                time.sleep(0.5)
                assert server.health(timeout_s=5) == 1
                with gateway_channel(server.target) as channel:
                    assert stubs(channel)[0].SettleOutpatient(settle_request("AMONG-IDLE"), timeout=10).settlement.setl_id
            finally:
                for sock in idle:
                    sock.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_calls_beyond_the_in_flight_limits_are_refused_at_once_with_server_busy(store, writer, world):
    """A worker at its limit answers RESOURCE_EXHAUSTED / SERVER_BUSY at once: never a queue that ends in a deadline,
    never CANCELLED. The writer is held so the first calls stay in flight."""
    from medsettle.server import start

    loop = asyncio.new_event_loop()
    app = App(store=store, writer=writer, clock=FixedClock.at(f"{world.TODAY}T10:00:00"),
              limits=Limits(in_flight_requests_max=6, in_flight_per_connection_max=4))
    server, _, port = loop.run_until_complete(start(app, "127.0.0.1:0", so_reuseport=False))
    running = Running(app, loop, server, port)
    release = threading.Event()
    writer.submit(lambda view: release.wait(30))

    async def burst() -> tuple[list[str], list[str]]:
        async with gateway_aio_channel(f"127.0.0.1:{port}") as first, \
                gateway_aio_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]) as other:
            async def call(channel, n: int) -> str:
                try:
                    request = settle_request(f"BUSY-{n:02d}")
                    request.claim.fee_lines[0].fee_ocur_time = world.TODAY
                    await stubs(channel)[0].SettleOutpatient(request, timeout=30)
                    return "OK"
                except grpc.aio.AioRpcError as error:
                    return f"{error.code().name} {status_reason(error)}"

            # Five on the first connection (its limit is 4), then three on another (the worker's limit is 6).
            first_calls = [asyncio.ensure_future(call(first, n)) for n in range(5)]
            await asyncio.sleep(0.3)
            other_calls = [asyncio.ensure_future(call(other, 10 + n)) for n in range(3)]
            await asyncio.sleep(0.3)
            tasks = first_calls + other_calls
            early = [task.result() for task in tasks if task.done()]  # answered while the writer is held
            release.set()
            return early, [await task for task in tasks]

    try:
        early, outcomes = running.run(burst())
    finally:
        release.set()
        loop.run_until_complete(server.stop(None))
        loop.close()
    assert early == ["RESOURCE_EXHAUSTED SERVER_BUSY"] * 2, early  # one over its connection's limit, one over all
    assert sorted(outcomes) == ["OK"] * 6 + ["RESOURCE_EXHAUSTED SERVER_BUSY"] * 2


def test_streams_beyond_the_workers_stream_limit_are_refused_at_once_and_unary_calls_go_on(store, writer, world):
    """Health watches (and reflection) live as long as their client wants and hold no admission slot: a worker holds
    at most Limits.streams_max of them. One more is RESOURCE_EXHAUSTED / SERVER_BUSY at once; a health check and a
    settlement still answer; a closed watch frees its slot (service/stream_bound.py)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from medsettle.server import start

    loop = asyncio.new_event_loop()
    app = App(store=store, writer=writer, clock=FixedClock.at(f"{world.TODAY}T10:00:00"),
              limits=Limits(streams_max=2))
    server, _, port = loop.run_until_complete(start(app, "127.0.0.1:0", so_reuseport=False))
    running = Running(app, loop, server, port)

    async def watches() -> tuple[list[str], str, str, str]:
        async with gateway_aio_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            held = [health.Watch(health_pb2.HealthCheckRequest()) for _ in range(2)]
            first = [health_pb2.HealthCheckResponse.ServingStatus.Name((await call.read()).status) for call in held]
            try:
                await health.Watch(health_pb2.HealthCheckRequest()).read()
                refused = "OK"
            except grpc.aio.AioRpcError as error:
                refused = f"{error.code().name} {status_reason(error)}"
            checked = health_pb2.HealthCheckResponse.ServingStatus.Name(
                (await health.Check(health_pb2.HealthCheckRequest(), timeout=10)).status)
            settled = (await stubs(channel)[0].SettleOutpatient(settle_request("STREAMS-1"), timeout=30)).settlement
            held[0].cancel()
            await asyncio.sleep(0.2)
            again = health.Watch(health_pb2.HealthCheckRequest())
            reopened = health_pb2.HealthCheckResponse.ServingStatus.Name((await again.read()).status)
            again.cancel()
            held[1].cancel()
            return first, refused, checked, f"{reopened} {bool(settled.setl_id)}"

    try:
        first, refused, checked, reopened = running.run(watches())
    finally:
        loop.run_until_complete(server.stop(None))
        loop.close()
    assert first == ["SERVING", "SERVING"]
    assert refused == "RESOURCE_EXHAUSTED SERVER_BUSY"
    assert checked == "SERVING"
    assert reopened == "SERVING True"
