"""The process model: a killed worker is respawned (its stale reader slot freed), workers die with their supervisor, a
data directory and a port are served by one `serve` at a time, and a bad start-up is one line with exit status 2.

Before the fix: a killed worker was never respawned and health stayed SERVING; its reader slot stayed and the file then
grew about 45 KiB per settlement instead of 12; `kill -9` of the parent left its workers serving and a second
`serve --workers 2` could then share their port; `serve --data-dir <typo>` created an empty store and served it;
`--workers 0` ended in a bare AssertionError and a bad MEDSETTLE_WORKERS in a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from medsettle.store.env import Store, StoreConfig
from tests.fault.harness import (
    CLONES,
    ServerProcess,
    build_nation,
    clone_psn_no,
    free_port,
    gateway_channel,
    settle_request,
    stubs,
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _worker_pids(server: ServerProcess) -> set[int]:
    return {event["pid"] for event in server.events("serving")} - {event["pid"] for event in server.events("stopped")}


def _settle_many(target: str, prefix: str, count: int) -> int:
    channels = [gateway_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(4)]
    try:
        futures = [stubs(channels[n % 4])[0].SettleOutpatient.future(
            settle_request(f"{prefix}-{n:04d}", psn_no=clone_psn_no(n % CLONES)), timeout=30) for n in range(count)]
        return len({future.result().settlement.setl_id for future in futures})
    finally:
        for channel in channels:
            channel.close()


def _keep_settling(target: str, prefix: str, count: int) -> None:
    """Load that does not mind losing calls to a killed worker."""
    with gateway_channel(target) as channel:
        settlements = stubs(channel)[0]
        futures = [settlements.SettleOutpatient.future(settle_request(f"{prefix}-{n:04d}",
                                                                      psn_no=clone_psn_no(n % CLONES)), timeout=30)
                   for n in range(count)]
        for future in futures:
            future.exception()


def test_a_killed_worker_is_respawned_with_its_reader_slot_freed(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log", workers=2) as server:
        server.wait_serving()
        _wait_for(lambda: len(_worker_pids(server)) == 2, 30, "two workers serving")
        assert _settle_many(server.target, "BEFORE", 40) == 40
        victim = sorted(_worker_pids(server))[0]
        load = threading.Thread(target=_keep_settling, args=(server.target, "DURING", 400), daemon=True)
        load.start()  # killed with requests in flight: it dies holding reader slots
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: server.events("worker_respawned"), 30, "the killed worker respawned")
        _wait_for(lambda: len({e["pid"] for e in server.events("serving")}) == 3, 30, "the new worker serving")
        exited = server.events("worker_exited")
        assert [(e["exit_code"], e["respawn_in_s"]) for e in exited] == [(-signal.SIGKILL, 1.0)]
        # Whatever reader slots the dead worker held were freed when the new one opened the store.
        store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
        holders = {int(row.split()[0]) for row in store.env.readers().splitlines()[1:] if row.strip()}
        store.close()
        assert victim not in holders
        assert server.health() == 1
        load.join(60)
        assert _settle_many(server.target, "AFTER", 40) == 40
        server.signal(signal.SIGTERM)
        assert server.wait(60) == 0


def test_workers_stop_when_their_supervisor_is_killed_and_the_directory_can_be_served_again(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    server = ServerProcess(data_dir, tmp_path / "server.log", workers=2).start()
    try:
        server.wait_serving()
        _wait_for(lambda: len(_worker_pids(server)) == 2, 30, "two workers serving")
        workers = _worker_pids(server)
        os.kill(server.pid, signal.SIGKILL)  # the supervisor alone
        server.process.wait(10)
        _wait_for(lambda: not any(_alive(pid) for pid in workers), 30, "orphaned workers still running")
        assert len(server.events("stopped")) == 2  # they drained and stopped, they were not killed
    finally:
        server.kill_all()
    with ServerProcess(data_dir, tmp_path / "server2.log", workers=2, port=server.port) as again:
        again.wait_serving()
        assert _settle_many(again.target, "AGAIN", 8) == 8


def _serve(*args: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """The command line as given; `serve` and `health` in plaintext (a loopback --insecure server, as the harness's)."""
    plaintext = ("--insecure",) if args[0] in ("serve", "health") else ()
    return subprocess.run([sys.executable, "-m", "medsettle.cli", *args, *plaintext], capture_output=True, text=True,
                          timeout=timeout_s, env={**os.environ, **(env or {})})


def test_one_serve_per_data_directory_and_per_port(tmp_path):
    data_dir, other_dir = str(tmp_path / "data"), str(tmp_path / "other")
    build_nation(data_dir)
    build_nation(other_dir)
    with ServerProcess(data_dir, tmp_path / "server.log", workers=2) as server:
        server.wait_serving()
        same_dir = _serve("serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{free_port()}")
        assert same_dir.returncode == 2
        assert same_dir.stderr.count("\n") == 1 and "already served (by pid" in same_dir.stderr
        for workers in ("1", "2"):
            same_port = _serve("serve", "--data-dir", other_dir, "--listen", server.target, "--workers", workers)
            assert same_port.returncode == 2, same_port.stderr
            assert same_port.stderr.count("\n") == 1 and "already served by another process" in same_port.stderr


@pytest.mark.parametrize("args, env, says", [
    (["serve", "--data-dir", "{missing}"], {}, "holds no medsettle store"),
    (["clearing", "run", "--month", "2026-01", "--data-dir", "{missing}"], {}, "holds no medsettle store"),
    (["serve", "--data-dir", "{data}", "--workers", "0"], {}, "expected an integer from 1 to 64, got '0'"),
    (["serve", "--data-dir", "{data}", "--workers", "65"], {}, "expected an integer from 1 to 64, got '65'"),
    (["serve", "--data-dir", "{data}"], {"MEDSETTLE_WORKERS": "two"}, "MEDSETTLE_WORKERS"),
    (["serve", "--data-dir", "{data}"], {"MEDSETTLE_MAP_SIZE_GIB": "big"}, "MEDSETTLE_MAP_SIZE_GIB"),
    (["serve", "--data-dir", "{data}", "--listen", "nowhere"], {}, "HOST:PORT"),
    (["serve", "--nonsense"], {}, "unrecognized arguments: --nonsense"),
    (["serve", "--data-dir", "{data}", "--listen", "0.0.0.0:0"], {}, "plaintext is served on a loopback address only"),
])
def test_a_bad_start_is_one_line_and_exit_status_2(tmp_path, args, env, says):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    missing = str(tmp_path / "dat")  # a typo of the real one
    result = _serve(*[arg.format(missing=missing, data=data_dir) for arg in args], env=env)
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and says in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not os.path.exists(missing), "a mistyped directory must not be created"


def test_create_starts_an_empty_store_and_other_commands_ignore_a_bad_workers_value(tmp_path):
    fresh = str(tmp_path / "fresh")
    with ServerProcess(fresh, tmp_path / "server.log", "--create") as server:
        server.wait_serving()
        health = _serve("health", "--target", server.target, env={"MEDSETTLE_WORKERS": "two"})
        assert (health.returncode, health.stdout.strip()) == (0, "SERVING")
