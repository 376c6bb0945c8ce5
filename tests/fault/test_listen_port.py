"""A port the kernel lent to a connection is not "served by another process": `serve` says what holds it and what to
do, and warns at start when its port is one the kernel may lend (src/medsettle/ephemeral_ports.py).

Before: a shard killed in the cluster test was refused its port for 60 s with "already served by another process",
though nothing served it: a connection made meanwhile had been given that port as its local end, and its TIME_WAIT
held it (CI, 2026-12-04).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medsettle import ephemeral_ports
from medsettle.cluster import up
from medsettle.commands.serving import LISTEN_DEFAULT
from medsettle.domain.shards import SHARDS_MAX
from medsettle.supervisor import ServeRefused, probe_port
from tests.fault.harness import ServerProcess
from tests.ports import free_port


@pytest.mark.parametrize("port, reserved, lendable", [
    (50051, "", (32768, 60999)),
    (50051, "50051", None),
    (50063, "50051,50061-50068", None),
    (50069, "50051,50061-50068", (32768, 60999)),
    (32767, "", None),
    (32768, "", (32768, 60999)),
    (60999, "\n", (32768, 60999)),
    (61000, "", None),
])
def test_a_port_is_lendable_in_the_ephemeral_range_unless_reserved(port, reserved, lendable):
    assert ephemeral_ports.lendable(port, "32768\t60999\n", reserved) == lendable


def test_a_listening_server_is_already_served():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with pytest.raises(ServeRefused, match="already served by another process"):
            probe_port(f"127.0.0.1:{server.getsockname()[1]}")


def _kernel_lent_port() -> int:
    """A port of the ephemeral range, as the kernel picks one for a connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _connection_from(port: int):
    """A loopback connection whose local end is `port`, as connect() makes with a port it picks: (client, accepted)."""
    with socket.socket() as listener, socket.socket() as client:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client.bind(("127.0.0.1", port))
        client.connect(listener.getsockname())
        accepted, _ = listener.accept()
        with accepted:
            yield client, accepted


@pytest.mark.parametrize("closed_first", [False, True], ids=["connected", "time-wait"])
def test_a_connections_local_end_is_named_with_its_remedy(closed_first):
    port = _kernel_lent_port()
    with _connection_from(port) as (client, accepted):
        if closed_first:  # the client closes first: its end waits in TIME_WAIT (60 s), still holding the port
            client.close()
            accepted.close()
            time.sleep(0.1)
        with pytest.raises(ServeRefused) as refused:
            probe_port(f"127.0.0.1:{port}")
    said = str(refused.value)
    assert "held by a connection's local end, not by a server" in said, said
    assert "already served" not in said
    lendable = ephemeral_ports.lendable_here(port)
    if lendable is None:  # this host reserves it, or is not Linux
        assert "it frees itself" in said
    else:
        assert f"add {port} to net.ipv4.ip_local_reserved_ports" in said and f"below {lendable[0]}" in said
        assert ephemeral_ports.SYSCTL_FILE in said


def test_serve_on_a_port_a_connection_holds_is_one_line_and_exit_status_2(tmp_path):
    port = _kernel_lent_port()
    with _connection_from(port):
        refused = subprocess.run([sys.executable, "-m", "medsettle.cli", "serve", "--create", "--insecure",
                                  "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}"],
                                 capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1 and "held by a connection's local end" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and "listen_port_lendable" not in refused.stderr


def test_serve_warns_when_its_port_is_one_the_kernel_may_lend(tmp_path):
    lent = _kernel_lent_port()
    with ServerProcess(str(tmp_path / "lent"), tmp_path / "lent.log", "--create", port=lent) as server:
        server.wait_serving()
        warned = server.events("listen_port_lendable")
    if ephemeral_ports.lendable_here(lent) is None:
        assert warned == []
    else:
        assert len(warned) == 1 and warned[0]["level"] == "warning", warned
        assert warned[0]["listen"] == f"127.0.0.1:{lent}" and "ip_local_reserved_ports" in warned[0]["remedy"]
    with ServerProcess(str(tmp_path / "kept"), tmp_path / "kept.log", "--create", port=free_port()) as server:
        server.wait_serving()
        assert server.events("listen_port_lendable") == []  # below the range: never lent


def test_the_sysctl_file_reserves_every_port_serve_and_cluster_up_listen_on_by_default():
    root = Path(__file__).resolve().parents[2]
    lines = (root / ephemeral_ports.SYSCTL_FILE).read_text(encoding="utf-8").splitlines()
    setting = [line.partition("=")[2] for line in lines if line.startswith("net.ipv4.ip_local_reserved_ports")]
    assert len(setting) == 1
    default_range = "32768\t60999"
    ports = [int(LISTEN_DEFAULT.rpartition(":")[2])] + [up.SHARD_PORT_DEFAULT + i for i in range(SHARDS_MAX)]
    assert [ephemeral_ports.lendable(port, default_range, setting[0]) for port in ports] == [None] * len(ports)
