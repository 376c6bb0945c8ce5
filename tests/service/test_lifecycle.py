"""The server process: serves health once data is open; on SIGTERM health turns NOT_SERVING first,
in-flight calls finish, then it exits; nothing acknowledged is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from medsettle import tls
from medsettle.service import identity
from medsettle.store.env import Store, StoreConfig
from medsettle.v1 import reference_data_pb2, reference_data_pb2_grpc
from tests.ports import free_port

ITEMS_PER_PUSH = 20_000
PUSHES = 4


def start_server(data_dir: str, port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "medsettle.cli", *extra, "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}",
         "--map-size-gib", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


OPERATOR = identity.metadata("national:ops")  # on a loopback --insecure server the caller is named in metadata


def wait_serving(port: int, process: subprocess.Popen, timeout_s: float = 120,
                 credentials: grpc.ChannelCredentials | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    target = f"127.0.0.1:{port}"
    with grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1,
                              metadata=OPERATOR).status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                time.sleep(0.1)
    raise AssertionError("server never became SERVING")


def catalog_push(n: int) -> reference_data_pb2.PutCatalogItemsRequest:
    items = [
        reference_data_pb2.CatalogItem(med_list_codg=f"T{n}{i:06d}", name="测试项目", list_type="201", chrgitm_lv="01",
                                       pric_uplmt_amt=1000, begndate="2025-01-01")
        for i in range(ITEMS_PER_PUSH)
    ]
    return reference_data_pb2.PutCatalogItemsRequest(request_id=f"push-{n}", mdtrtarea_admvs="440000", items=items)


def test_sigterm_turns_health_not_serving_first_and_finishes_in_flight_calls(tmp_path):
    data_dir, port = str(tmp_path / "data"), free_port()
    process = start_server(data_dir, port, "serve", "--create", "--insecure")
    try:
        wait_serving(port, process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        seen: list[tuple[float, int]] = []

        def watch() -> None:
            try:
                for answer in health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(),
                                                                        metadata=OPERATOR):
                    seen.append((time.monotonic(), answer.status))
                    if answer.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                        return
            except grpc.RpcError:
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        stub = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
        requests = [catalog_push(n) for n in range(PUSHES)]
        done_at: list[float] = []
        futures = [stub.PutCatalogItems.future(r, timeout=60, metadata=identity.metadata("province:440000"))
                   for r in requests]
        for future in futures:
            future.add_done_callback(lambda _f: done_at.append(time.monotonic()))
        time.sleep(0.2)  # the calls are in flight (each push takes a while to validate and write)
        os.kill(process.pid, signal.SIGTERM)
        answers = [f.result() for f in futures]
        assert [a.items_written for a in answers] == [ITEMS_PER_PUSH] * PUSHES
        watcher.join(10)
        statuses = [status for _, status in seen]
        assert statuses[0] == health_pb2.HealthCheckResponse.SERVING
        assert statuses[-1] == health_pb2.HealthCheckResponse.NOT_SERVING
        not_serving_at = seen[-1][0]
        assert not_serving_at < max(done_at), "health must turn NOT_SERVING before the in-flight calls finish"
        assert process.wait(30) == 0
        channel.close()
    finally:
        if process.poll() is None:
            process.kill()
    _, stderr = process.communicate()
    assert '"event":"stopping"' in stderr and '"event":"stopped"' in stderr
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    assert store.counts()["catalog"] == ITEMS_PER_PUSH * PUSHES  # every acknowledged push is there
    store.close()


def test_up_seeds_an_empty_data_dir_then_serves(tmp_path):
    """The README's first command: `medsettle up` seeds the demo nation when the directory is empty, makes its
    development certificates under the data directory, then serves mutual TLS; `medsettle health` finds them."""
    data_dir, port = str(tmp_path / "data"), free_port()
    process = start_server(data_dir, port, "up", "--items-per-province", "16", "--persons-per-province", "10")
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "data" / "tls" / "national-ops.pem").exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.1)
        wait_serving(port, process, credentials=tls.channel_credentials(tmp_path / "data" / "tls",
                                                                        identity.of("national:ops")))
        env = {**os.environ, "MEDSETTLE_DATA_DIR": data_dir}
        result = subprocess.run([sys.executable, "-m", "medsettle.cli", "health", "--target", f"127.0.0.1:{port}"],
                                capture_output=True, text=True, timeout=30, env=env)
        assert result.returncode == 0 and result.stdout.strip() == "SERVING", result.stderr
        plaintext = subprocess.run([sys.executable, "-m", "medsettle.cli", "health", "--target", f"127.0.0.1:{port}",
                                    "--insecure", "--timeout-s", "1"], capture_output=True, text=True, timeout=30)
        # the listener speaks TLS only: no answer, exit status 3, one line
        assert plaintext.returncode == 3 and plaintext.stderr.count("\n") == 1, plaintext.stderr
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    _, stderr = process.communicate()
    assert "seeded in" in _ or "seeding" in stderr
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    assert store.counts()["persons"] == 32 * 10 and store.counts()["catalog"] >= 32 * 16
    store.close()
