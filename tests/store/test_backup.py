"""`medsettle backup` while a server settles under load, then `medsettle restore` and a server on the restored copy:
every settlement acknowledged before the backup began is there, nothing that was never asked for is, and the
copy is compacted. A damaged backup and a restore over a store are refused with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from medsettle import exits
from medsettle.store.env import Store, StoreConfig
from medsettle.v1 import settlement_pb2, settlement_pb2_grpc
from tests.fault.harness import CLONES, GZ, ServerProcess, build_nation, clone_psn_no, gateway_channel, settle_request

SENDERS = 4
LOAD_S_AFTER_BACKUP = 1.0


def medsettle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medsettle.cli", *args], capture_output=True, text=True, timeout=120)


class Load:
    """SENDERS threads settling as fast as the server answers; each acknowledgement noted with the time it came."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.stop = threading.Event()
        self.acknowledged: list[tuple[float, str, str, str]] = []  # (time answered, request_id, psn_no, setl_id)
        self.asked: set[str] = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]

    def _send(self, sender: int) -> None:
        with gateway_channel(self.target) as channel:
            stub = settlement_pb2_grpc.SettlementServiceStub(channel)
            n = 0
            while not self.stop.is_set() and n < 5_000:
                request_id = f"BK-{sender}-{n}"
                with self.lock:
                    self.asked.add(request_id)
                psn_no = clone_psn_no((sender * 7 + n) % CLONES)
                answer = stub.SettleOutpatient(settle_request(request_id, psn_no, 100), timeout=30)
                with self.lock:
                    self.acknowledged.append((time.monotonic(), request_id, psn_no, answer.settlement.setl_id))
                n += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def test_backup_under_load_restores_and_serves_every_acknowledged_settlement(tmp_path):
    data_dir, backup_dir, restored_dir = (str(tmp_path / name) for name in ("data", "backup", "restored"))
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log") as server:
        server.wait_serving()
        with Load(server.target) as load:
            while len(load.acknowledged) < 50:
                time.sleep(0.02)
            began = time.monotonic()
            backup = medsettle("backup", "--data-dir", data_dir, "--out", backup_dir)
            time.sleep(LOAD_S_AFTER_BACKUP)
        assert backup.returncode == exits.OK, backup.stderr
        before = [entry for entry in load.acknowledged if entry[0] < began]
        after = [entry for entry in load.acknowledged if entry[0] >= began]
        assert len(before) >= 50 and after, "the server settled before, during and after the backup"

    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert manifest["entries"]["settlements"] >= len(before) and len(manifest["sha256"]) == 64
    assert "backed up" in backup.stdout and "settlements" in backup.stdout

    again = medsettle("backup", "--data-dir", data_dir, "--out", backup_dir)
    assert again.returncode == exits.USAGE and "not an empty directory" in again.stderr
    assert again.stderr.count("\n") == 1

    restore = medsettle("restore", "--from", backup_dir, "--data-dir", restored_dir)
    assert restore.returncode == exits.OK, restore.stderr
    over = medsettle("restore", "--from", backup_dir, "--data-dir", restored_dir)
    assert over.returncode == exits.USAGE and "never overwrites" in over.stderr and over.stderr.count("\n") == 1

    store = Store(StoreConfig(path=restored_dir, map_size_bytes=2**30, create=False))
    try:
        with store.read() as view:
            held = {setl.setl_id for setl in view.all_settlements()}
        restored_bytes = os.path.getsize(os.path.join(restored_dir, "data.mdb"))
    finally:
        store.close()
    assert {setl_id for *_, setl_id in before} <= held, "every settlement acknowledged before the backup is in it"
    assert held <= {setl_id for *_, setl_id in load.acknowledged}, "and nothing else (the nation holds none)"
    assert restored_bytes <= os.path.getsize(os.path.join(data_dir, "data.mdb"))  # compacted

    with ServerProcess(restored_dir, tmp_path / "restored.log") as restored:
        restored.wait_serving()
        with gateway_channel(restored.target) as channel:
            stub = settlement_pb2_grpc.SettlementServiceStub(channel)
            for *_, setl_id in before:
                answer = stub.GetSettlement(settlement_pb2.GetSettlementRequest(setl_id=setl_id, fixmedins_code=GZ))
                assert answer.settlement.setl_id == setl_id
            # A gateway retrying an acknowledged request on the restored server gets the same settlement again.
            _, request_id, psn_no, setl_id = before[-1]
            retried = stub.SettleOutpatient(settle_request(request_id, psn_no, 100), timeout=30)
            assert retried.settlement.setl_id == setl_id


@pytest.mark.parametrize("damage", ["flip", "manifest"])
def test_a_damaged_backup_is_refused_and_nothing_is_restored(tmp_path, damage):
    data_dir, backup_dir, restored_dir = (str(tmp_path / name) for name in ("data", "backup", "restored"))
    build_nation(data_dir)
    assert medsettle("backup", "--data-dir", data_dir, "--out", backup_dir).returncode == exits.OK
    if damage == "flip":
        path = os.path.join(backup_dir, "data.mdb")
        with open(path, "r+b") as handle:
            handle.seek(5_000)
            byte = handle.read(1)
            handle.seek(5_000)
            handle.write(bytes([byte[0] ^ 0xFF]))
    else:
        os.remove(os.path.join(backup_dir, "backup.json"))
    result = medsettle("restore", "--from", backup_dir, "--data-dir", restored_dir)
    assert result.returncode == exits.USAGE and result.stderr.count("\n") == 1, result.stderr
    assert ("damaged" if damage == "flip" else "not a finished medsettle backup") in result.stderr
    assert not os.path.exists(os.path.join(restored_dir, "data.mdb"))
