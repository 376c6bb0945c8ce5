"""Gateways that go away (deadline, cancel, process killed) never take the writer down with them.

Before the fix: the first waiter whose future was cancelled made the writer's `set_result` raise InvalidStateError,
which ended the writer thread; every later write on that worker hung until its deadline while health said SERVING
(300 settlements with a 2 ms deadline, then 10 normal ones: 0 of 10 succeeded).
"""

from __future__ import annotations

import grpc

from tests.fault.harness import ServerProcess, accumulators, build_nation, gateway_channel, settle_request, stubs

STORM = 300
AFTER = 10


def test_a_deadline_storm_then_normal_settlements_all_succeed_and_retries_settle_once(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log") as server:
        server.wait_serving()
        with gateway_channel(server.target) as channel:
            settlements, _ = stubs(channel)
            storm = [settlements.SettleOutpatient.future(settle_request(f"STORM-{n:04d}"), timeout=0.002)
                     for n in range(STORM)]
            expired = 0
            for future in storm:
                try:
                    future.result()
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, error
                    expired += 1
            assert expired > 0, "the storm must leave waiters behind that went away"

            after = [settlements.SettleOutpatient(settle_request(f"AFTER-{n:02d}"), timeout=10) for n in range(AFTER)]
            assert len({answer.settlement.setl_id for answer in after}) == AFTER

            # Every storm request, retried with the same id: answered, and settled exactly once.
            retried = [settlements.SettleOutpatient(settle_request(f"STORM-{n:04d}"), timeout=10) for n in range(STORM)]
            again = [settlements.SettleOutpatient(settle_request(f"STORM-{n:04d}"), timeout=10) for n in range(STORM)]
            assert [a.SerializeToString() for a in again] == [r.SerializeToString() for r in retried]
            answers = [a.settlement for a in retried + after]
            assert len({s.setl_id for s in answers}) == STORM + AFTER
            acc = accumulators(channel, "P001")
            assert acc.visits_outpatient == STORM + AFTER
            assert acc.dedc_outpatient == sum(s.act_pay_dedc for s in answers)
            assert acc.hifp_outpatient == sum(s.hifp_pay for s in answers)
        assert server.events("writer_batch_failed") == []
    assert not server.events("worker_unhealthy")


def test_a_burst_with_short_deadlines_leaves_the_worker_writing(tmp_path):
    """The issue's second reproduction: 2,000 calls at once with 1 s deadlines, many of which expire in the queue."""
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log") as server:
        server.wait_serving()
        with gateway_channel(server.target) as channel:
            settlements, _ = stubs(channel)
            burst = [settlements.SettleOutpatient.future(settle_request(f"BURST-{n:04d}", psn_no=f"P9{n % 32:04d}"),
                                                         timeout=1.0) for n in range(2_000)]
            codes = {}
            for future in burst:
                try:
                    future.result()
                    code = grpc.StatusCode.OK
                except grpc.RpcError as error:
                    code = error.code()
                codes[code] = codes.get(code, 0) + 1
            # A call whose deadline passes is reported DEADLINE_EXCEEDED by the client's timer, or CANCELLED when the
            # server's timer (the grpc-timeout it was sent) fires first and resets the stream: both say "too late".
            assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED,
                                  grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
            assert codes.get(grpc.StatusCode.OK, 0) > 0
            answer = settlements.SettleOutpatient(settle_request("BURST-AFTER"), timeout=10)
            assert answer.settlement.setl_id
