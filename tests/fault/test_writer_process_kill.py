"""kill -9 of a worker's writer process, under concurrent settlements: the worker answers what was in
flight as unknown (OUTCOME_UNKNOWN, or UNAVAILABLE once it stops), turns NOT_SERVING and exits 70 for systemd or its
supervisor to start it again, with a new writer process; then every acknowledged settlement is retrievable and answered again byte
for byte, every request whose answer was lost settles exactly once when retried, and each person's accumulators are
the sum of the settlements in force."""

from __future__ import annotations

import os
import signal
import threading
import time

from medsettle.server import EXIT_WRITER_GONE
from tests.fault.harness import ServerProcess, build_nation
from tests.fault.test_kill9 import SENDERS, Ledger, _check_and_settle_leftovers, _send, check_applied_once


def test_kill_9_of_the_writer_process_loses_nothing_acknowledged_and_applies_nothing_twice(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    ledger = Ledger()
    with ServerProcess(data_dir, tmp_path / "server.log") as server:  # one worker: `serve` itself, as under systemd
        server.wait_serving()
        writer_pid = server.events("serving")[0]["writer_process_pid"]
        assert writer_pid and writer_pid != server.pid
        # It froze what it made while starting, as the worker does (cyclic_collector.py).
        ready = server.events("writer_process_ready")
        assert [e["pid"] for e in ready] == [writer_pid] and ready[0]["gc_frozen_objects"] > 10_000, ready
        stop = threading.Event()
        senders = [threading.Thread(target=_send, args=(server.target, ledger, f"W{s}", stop)) for s in range(SENDERS)]
        for sender in senders:
            sender.start()
        time.sleep(1.0)
        acknowledged_before = len(ledger.acknowledged)
        # Stopped first, so that the kill surely catches settlements in flight: killed between two batches, it once
        # had none (the senders wait for their answers), and the test then checked nothing of them.
        os.kill(writer_pid, signal.SIGSTOP)
        time.sleep(0.5)
        os.kill(writer_pid, signal.SIGKILL)
        assert server.wait(30) == EXIT_WRITER_GONE, server.log()  # for systemd (or the supervisor) to restart it
        stop.set()
        for sender in senders:
            sender.join(30)
        gone = server.events("writer_process_gone")
        assert len(gone) == 1 and server.events("worker_unhealthy"), server.log()
        # What the process had been given: maybe committed, so never "not done"; what came after: not taken.
        reasons = [row.get("reason") for row in server.events() if row["event"] in ("rpc_refused", "rpc_failed")]
        assert reasons.count("OUTCOME_UNKNOWN") == gone[0]["in_flight"] > 0, server.log()
        assert set(reasons) <= {"OUTCOME_UNKNOWN", "SERVICE_UNAVAILABLE"}, set(reasons)
    assert acknowledged_before > 0 and ledger.unknown  # there was load, and the kill caught settlements in flight

    with ServerProcess(data_dir, tmp_path / "again.log") as server:
        server.wait_serving()
        assert server.events("serving")[0]["writer_process_pid"] != writer_pid
        _check_and_settle_leftovers(server.target, ledger)
        assert not ledger.unknown
        check_applied_once(server.target, ledger)


def test_sigterm_to_the_whole_process_group_drains_through_the_writer_process(tmp_path):
    """systemd stops a unit by sending SIGTERM to every process of it: the writer process must not end mid-batch;
    the worker drains, closes it, and exits 0 with every settlement answered."""
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    ledger = Ledger()
    with ServerProcess(data_dir, tmp_path / "server.log") as server:
        server.wait_serving()
        stop = threading.Event()
        senders = [threading.Thread(target=_send, args=(server.target, ledger, f"T{s}", stop)) for s in range(SENDERS)]
        for sender in senders:
            sender.start()
        time.sleep(1.0)
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(30) == 0, server.log()
        stop.set()
        for sender in senders:
            sender.join(30)
        assert not server.events("writer_process_gone"), server.log()
    assert len(ledger.acknowledged) > SENDERS
    with ServerProcess(data_dir, tmp_path / "again.log") as server:
        server.wait_serving()
        _check_and_settle_leftovers(server.target, ledger)  # the acknowledged ones, byte for byte
