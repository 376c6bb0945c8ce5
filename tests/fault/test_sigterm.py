"""SIGTERM drains: health turns NOT_SERVING at once and stays answerable for the drain period, every accepted call
is answered, the writer is drained, the process exits 0; with --workers N the supervisor forwards and waits.

Before the fix the process exited about 50 ms after SIGTERM; of 64 settlements in flight 21-58 got CANCELLED, and a
health watcher never saw NOT_SERVING.
"""

from __future__ import annotations

import signal
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.fault.harness import (
    CLONES,
    ServerProcess,
    accumulators,
    build_nation,
    clone_psn_no,
    gateway_channel,
    settle_request,
    status_reason,
    stubs,
)

IN_FLIGHT = 64


def _watch_health(target: str, seen: list[tuple[float, int]], stop: threading.Event) -> None:
    with gateway_channel(target) as channel:
        try:
            for answer in health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest()):
                seen.append((time.monotonic(), answer.status))
                if stop.is_set() or answer.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                    return
        except grpc.RpcError:
            return


@pytest.mark.parametrize("workers, drain_s", [(1, "0.5"), (1, "0"), (2, "0.5")])
def test_sigterm_with_64_settlements_in_flight_answers_all_64_and_exits_0(tmp_path, workers, drain_s):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    server = ServerProcess(data_dir, tmp_path / "server.log", "--drain-s", drain_s, workers=workers)
    with server:
        server.wait_serving()
        seen: list[tuple[float, int]] = []
        stop_watching = threading.Event()
        watcher = threading.Thread(target=_watch_health, args=(server.target, seen, stop_watching), daemon=True)
        watcher.start()
        time.sleep(0.2)  # the watcher has its first answer (SERVING)
        # Several connections, so that both workers get calls when there are two.
        channels = [gateway_channel(server.target, options=[("grpc.use_local_subchannel_pool", 1)])
                    for _ in range(8)]
        for channel in channels:
            grpc.channel_ready_future(channel).result(timeout=10)
        futures = [stubs(channels[n % len(channels)])[0].SettleOutpatient.future(
            settle_request(f"TERM-{n:03d}", psn_no=clone_psn_no(n % CLONES)), timeout=30) for n in range(IN_FLIGHT)]
        time.sleep(0.005)  # the calls are on the wire
        signalled_at = time.monotonic()
        server.signal(signal.SIGTERM)
        answers, turned_away = [], 0
        for future in futures:
            try:
                answers.append(future.result())
            except grpc.RpcError as error:
                # Without a drain period a call that reached the worker after the signal is turned away with a
                # clear, retriable answer; never CANCELLED, which would leave the gateway not knowing.
                assert drain_s == "0" and error.code() == grpc.StatusCode.UNAVAILABLE, error
                assert status_reason(error) == "SERVICE_UNAVAILABLE", error
                turned_away += 1
        assert len({a.settlement.setl_id for a in answers}) == IN_FLIGHT - turned_away
        if drain_s != "0":
            assert turned_away == 0
        assert server.wait(60) == 0, server.log()
        exited_at = time.monotonic()
        watcher.join(10)
        for channel in channels:
            channel.close()
    statuses = [status for _, status in seen]
    assert statuses[0] == health_pb2.HealthCheckResponse.SERVING
    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses, statuses
    not_serving_at = next(at for at, status in seen if status == health_pb2.HealthCheckResponse.NOT_SERVING)
    assert signalled_at <= not_serving_at < exited_at
    if float(drain_s) > 0:
        assert exited_at - signalled_at >= float(drain_s)  # it kept answering while load balancers took notice
    stopped = server.events("stopped")
    assert len(stopped) == workers and all(event["exit_code"] == 0 for event in stopped)

    # Everything acknowledged is in the store after the restart.
    with ServerProcess(data_dir, tmp_path / "server2.log") as again:
        again.wait_serving()
        with gateway_channel(again.target) as channel:
            visits = sum(accumulators(channel, clone_psn_no(n)).visits_outpatient for n in range(CLONES))
            assert visits == IN_FLIGHT - turned_away
