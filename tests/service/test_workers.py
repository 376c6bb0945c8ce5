"""Two spawned worker processes sharing the port and one LMDB environment: concurrent settlements of one person,
arriving at both workers, still spend the deductible once and never pass the cap; SIGTERM stops both."""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc

from medsettle.service import identity
from medsettle.store.env import Store, StoreConfig
from medsettle.v1 import person_pb2, person_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from tests import world
from tests.service.test_lifecycle import free_port, start_server, wait_serving
from tests.service.test_settlements import claim, line

CHANNELS = 24  # SO_REUSEPORT spreads connections (by a hash of each), not calls: 8 all reached one worker 1 time in 128


def test_two_workers_settle_one_person_concurrently_without_double_spending(tmp_path):
    data_dir, port = str(tmp_path / "data"), free_port()
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    with store.write() as view:
        world.build(view)
    store.close()
    process = start_server(data_dir, port, "serve", "--insecure", "--workers", "2", "--log-calls")
    stderr_lines: list[str] = []  # read as the server writes them: the load waits until both workers serve
    reader = threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        wait_serving(port, process)
        deadline = time.monotonic() + 120  # the port answers once one worker serves; a busy machine starts the other
        while sum('"event":"serving"' in row for row in list(stderr_lines)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        channels = [grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
                    for _ in range(CHANNELS)]
        big = [line("1", "XA001", "10", "1000", 1_000_000, world.TODAY)]

        def settle(n: int):
            stub = settlement_pb2_grpc.SettlementServiceStub(channels[n % CHANNELS])
            return stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                request_id=f"W-{n:03d}", claim=claim("P001", world.GZ_HOSPITAL, big)), timeout=60,
                metadata=identity.metadata(f"institution:{world.GZ_HOSPITAL}")).settlement

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(settle, range(40)))
        assert sum(s.act_pay_dedc for s in answers) == 180_000
        assert sum(s.hifp_pay for s in answers) == 2_000_000
        acc = person_pb2_grpc.PersonServiceStub(channels[0]).GetAccumulators(
            person_pb2.GetAccumulatorsRequest(psn_no="P001", year=int(answers[0].setl_date[:4])),
            metadata=identity.metadata("national:ops")).accumulators
        assert (acc.dedc_outpatient, acc.hifp_outpatient, acc.visits_outpatient) == (180_000, 2_000_000, 40)
        for channel in channels:
            channel.close()
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    process.wait()  # stderr is the reader's alone: communicate() would read it too
    reader.join(30)
    events = [json.loads(row) for row in stderr_lines if row.startswith("{")]
    serving_pids = {e["pid"] for e in events if e["event"] == "serving"}
    settled_by = {e["pid"] for e in events if e["event"] == "rpc" and e["method"] == "SettleOutpatient"}
    assert len(serving_pids) == 2 and {e["pid"] for e in events if e["event"] == "stopped"} == serving_pids
    # Each worker moved its start-up objects out of the collector's sight before serving (server.py).
    assert all(e["gc_frozen_objects"] > 10_000 for e in events if e["event"] == "serving")
    # And names the interpreter serving, whose build moves the CPU a call costs (docs/operations.md).
    assert all((e["python"], e["python_executable"]) == (platform.python_version(), sys.executable)
               for e in events if e["event"] == "serving")
    assert settled_by == serving_pids, "both workers settled"


def test_workers_that_cannot_start_make_the_command_fail(tmp_path):
    """With one worker a store that cannot open fails the command; with two it used to exit 0 (workers died,
    the parent joined them and returned)."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for workers in ("1", "2"):
        process = start_server(str(not_a_dir), free_port(), "serve", "--insecure", "--workers", workers)
        assert process.wait(60) != 0, workers
        process.communicate()
