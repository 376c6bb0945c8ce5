"""`kill -9` of the whole server (every process) under concurrent settlements, cycle after cycle, with one and with two
workers: every acknowledged settlement is retrievable after the restart, a retry with its request id gets the same
answer byte for byte, a request whose answer was lost settles exactly once when retried, and each person's accumulators
are the sum of the settlements in force.
"""

from __future__ import annotations

import random
import threading
import time

import grpc
import pytest

from medsettle.v1 import settlement_pb2
from tests.fault.harness import (
    CLONES,
    GZ,
    ServerProcess,
    accumulators,
    build_nation,
    clone_psn_no,
    gateway_channel,
    person_of_request,
    settle_request,
    stubs,
)

CYCLES = 4
SENDERS = 8


class Ledger:
    """What the gateways know: acknowledged answers, and requests sent whose answer never came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: dict[str, bytes] = {}
        self.unknown: set[str] = set()

    def record(self, request_id: str, answer: settlement_pb2.SettleOutpatientResponse | None) -> None:
        with self.lock:
            if answer is None:
                self.unknown.add(request_id)
            else:
                self.unknown.discard(request_id)
                self.acknowledged[request_id] = answer.SerializeToString(deterministic=True)


def _send(target: str, ledger: Ledger, prefix: str, stop: threading.Event) -> None:
    with gateway_channel(target) as channel:
        settlements = stubs(channel)[0]
        n = 0
        while not stop.is_set():
            request_id = f"{prefix}-{n:05d}"
            try:
                answer = settlements.SettleOutpatient(settle_request(request_id, psn_no=person_of_request(request_id)),
                                                      timeout=10)
            except grpc.RpcError:
                answer = None  # the server died under it: the gateway does not know what happened
            ledger.record(request_id, answer)
            n += 1


def _check_and_settle_leftovers(target: str, ledger: Ledger, prefix: str = "") -> None:
    """After a restart: every unknown request settled by its retry; the acknowledged answers (those whose request id
    starts with `prefix`) again, byte for byte, and each settlement retrievable."""
    with gateway_channel(target) as channel:
        settlements = stubs(channel)[0]
        for request_id in sorted(ledger.unknown):
            ledger.record(request_id, settlements.SettleOutpatient(
                settle_request(request_id, psn_no=person_of_request(request_id)), timeout=10))
        for request_id, first in ledger.acknowledged.items():
            if not request_id.startswith(prefix):
                continue
            again = settlements.SettleOutpatient(settle_request(request_id, psn_no=person_of_request(request_id)), timeout=10)
            assert again.SerializeToString(deterministic=True) == first, request_id
            setl_id = again.settlement.setl_id
            held = settlements.GetSettlement(settlement_pb2.GetSettlementRequest(fixmedins_code=GZ, setl_id=setl_id),
                                             timeout=10)
            assert held.settlement.SerializeToString(deterministic=True) == again.settlement.SerializeToString(
                deterministic=True)


def check_applied_once(target: str, ledger: Ledger) -> None:
    """One settlement per acknowledged request id, and each person's accumulators the sum of theirs."""
    answers = [settlement_pb2.SettleOutpatientResponse.FromString(raw).settlement for raw in ledger.acknowledged.values()]
    assert len({s.setl_id for s in answers}) == len(answers), "one settlement per request id"
    with gateway_channel(target) as channel:
        for n in range(CLONES):
            mine = [s for s in answers if s.psn_no == clone_psn_no(n)]
            acc = accumulators(channel, clone_psn_no(n))
            assert acc.visits_outpatient == len(mine)
            assert acc.dedc_outpatient == sum(s.act_pay_dedc for s in mine)
            assert acc.hifp_outpatient == sum(s.hifp_pay for s in mine)


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_cycles_under_load_lose_nothing_acknowledged_and_apply_nothing_twice(tmp_path, workers):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    ledger = Ledger()
    rng = random.Random(workers)
    kills_with_unknown = 0
    for cycle in range(CYCLES):
        with ServerProcess(data_dir, tmp_path / f"server{cycle}.log", workers=workers) as server:
            server.wait_serving()
            _check_and_settle_leftovers(server.target, ledger, prefix=f"K{cycle - 1}")  # the cycle just killed
            stop = threading.Event()
            senders = [threading.Thread(target=_send, args=(server.target, ledger, f"K{cycle}{s}", stop))
                       for s in range(SENDERS)]
            for sender in senders:
                sender.start()
            time.sleep(rng.uniform(0.5, 1.5))
            server.kill_all()  # every process of it, in the middle of the load
            stop.set()
            for sender in senders:
                sender.join(30)
            kills_with_unknown += bool(ledger.unknown)

    with ServerProcess(data_dir, tmp_path / "final.log", workers=workers) as server:
        server.wait_serving()
        _check_and_settle_leftovers(server.target, ledger)
        assert not ledger.unknown
        check_applied_once(server.target, ledger)
    assert len(ledger.acknowledged) > CYCLES * SENDERS  # there was load
    assert kills_with_unknown > 0, "some kills must have caught requests in flight"
