"""If the group-commit writer is gone anyway, the worker says so at once (health NOT_SERVING, writes answered
SERVICE_UNAVAILABLE instead of hanging until their deadline) and exits non-zero for its supervisor to restart it."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from medsettle import server
from medsettle.server import ServerConfig
from tests.fault.harness import build_nation, free_port, gateway_aio_channel, settle_request, status_reason, stubs


def test_a_worker_whose_writer_is_gone_turns_not_serving_and_exits_70(tmp_path, monkeypatch):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    port = free_port()
    writers = []
    real_writer = server.GroupCommitWriter

    def keep(*args, **kwargs):
        writers.append(real_writer(*args, **kwargs))
        return writers[-1]

    monkeypatch.setattr(server, "GroupCommitWriter", keep)

    async def scenario() -> tuple[int, list[int], str]:
        worker = asyncio.ensure_future(server.run_worker(
            ServerConfig(data_dir=data_dir, listen=f"127.0.0.1:{port}", grace_s=2, drain_s=0), so_reuseport=False))
        async with gateway_aio_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    if (await health.Check(health_pb2.HealthCheckRequest(), timeout=1)).status == 1:
                        break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.05)
            watched = health.Watch(health_pb2.HealthCheckRequest())
            statuses = [(await watched.read()).status]
            writers[0].close()  # the thread ends, as a bug in it would end it
            try:
                await stubs(channel)[0].SettleOutpatient(settle_request("GONE-1"), timeout=5)
                refused = "OK"
            except grpc.aio.AioRpcError as error:
                refused = f"{error.code().name} {status_reason(error)}"
            statuses.append((await watched.read()).status)
            return await asyncio.wait_for(worker, 10), statuses, refused

    code, statuses, refused = asyncio.run(scenario())
    assert code == server.EXIT_WRITER_GONE == 70
    assert statuses == [health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING]
    assert refused == "UNAVAILABLE SERVICE_UNAVAILABLE"
