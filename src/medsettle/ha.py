"""`medsettle ha`: a PostgreSQL cluster with synchronous replication, managed by Patroni over etcd, on this machine:
the trial of what deploy/ha/ runs on three hosts.

- etcd (Debian's etcd-server) keeps the cluster's state: who leads, who is the synchronous standby.
- One Patroni (Debian's patroni: it runs as the unprivileged user, under an interpreter that user can read, which a
  virtual environment under root's home is not) per node runs that node's PostgreSQL (Debian's postgresql) as that user,
  holds the leader key while its server is the primary, and promotes a synchronous standby when the leader key
  expires (the primary's host died).
- synchronous_mode_strict: a COMMIT returns only once one standby has the WAL on disk, and with no standby left the
  primary stops acknowledging commits rather than acknowledge one a failover could lose. A leader is elected only
  among synchronous standbys: no acknowledged transaction is lost when the primary's host dies.

`up` starts every process in the background (detached, logs and data under --dir), waits until a primary and its
synchronous standby serve, creates the medsettle database, and prints the --store string to give `medsettle serve`.
`status` shows the members; `down` stops them (commands/ha.py). The layout (ports, pids) is kept in
DIR/cluster.json. The nodes' directories belong to the unprivileged user; where a parent directory of --dir denies it
passage, the traverse bit (o+x, nothing readable) is added (local_postgres.give).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field

from medsettle import local_postgres

NODES_MAX = 9
SCOPE = "medsettle"
DATABASE = "medsettle"
# Patroni's clocks. The leader key lives TTL_S after the leader's last renewal (every LOOP_WAIT_S): a dead primary is
# replaced TTL_S after it last renewed at most. loop_wait + 2 x retry_timeout must stay under the TTL, or a leader
# slowed by one DCS hiccup demotes itself; 12 s keeps writes back well within 30 s on a shared 2-core machine.
TTL_S = 12
LOOP_WAIT_S = 1
RETRY_TIMEOUT_S = 5
READY_S_MAX = 120.0
LAYOUT_FILE = "cluster.json"


@dataclass
class Layout:
    directory: str
    nodes: int = 3
    pg_port: int = 5441  # node i listens on pg_port + i
    api_port: int = 8011  # node i's Patroni REST API on api_port + i
    etcd_port: int = 2391  # clients; peers on etcd_port + 1
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> pathlib.Path:
        return pathlib.Path(self.directory)

    def node_name(self, i: int) -> str:
        return f"node{i + 1}"

    def store_location(self, dbname: str = DATABASE) -> str:
        """The multi-host connection string: libpq takes the first host that accepts writes (the primary)."""
        hosts = ",".join(f"127.0.0.1:{self.pg_port + i}" for i in range(self.nodes))
        return f"postgresql://postgres@{hosts}/{dbname}?target_session_attrs=read-write&connect_timeout=2"

    def node_location(self, i: int, dbname: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port + i}/{dbname}?connect_timeout=2"

    def save(self) -> None:
        (self.path / LAYOUT_FILE).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: str) -> Layout:
        path = pathlib.Path(directory) / LAYOUT_FILE
        if not path.exists():
            raise SystemExit(f"{directory} holds no cluster started by `medsettle ha up` (no {LAYOUT_FILE})")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def patroni_config(layout: Layout, i: int, bin_dir: pathlib.Path) -> str:
    """Node i's Patroni configuration (YAML is a superset of JSON: written as JSON, no YAML library needed)."""
    node_dir = layout.path / layout.node_name(i)
    trust = ["local all all trust", "host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust"]
    config = {
        "scope": SCOPE,
        "namespace": "/medsettle/",
        "name": layout.node_name(i),
        "log": {"level": "INFO", "dir": str(node_dir), "file_num": 2, "file_size": 10_000_000},
        "restapi": {"listen": f"127.0.0.1:{layout.api_port + i}", "connect_address": f"127.0.0.1:{layout.api_port + i}"},
        "etcd3": {"hosts": [f"127.0.0.1:{layout.etcd_port}"]},
        "bootstrap": {
            "dcs": {
                "ttl": TTL_S, "loop_wait": LOOP_WAIT_S, "retry_timeout": RETRY_TIMEOUT_S,
                "maximum_lag_on_failover": 0,
                "synchronous_mode": True, "synchronous_mode_strict": True, "synchronous_node_count": 1,
                "postgresql": {
                    "use_pg_rewind": True, "use_slots": True,
                    "parameters": {
                        "wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on",
                        "max_wal_senders": 10, "max_replication_slots": 10, "wal_keep_size": "256MB",
                        "synchronous_commit": "on", "max_connections": 200,
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            "pg_hba": trust,  # loopback only: a trial on one machine (deploy/ha/ uses scram-sha-256 between hosts)
        },
        "postgresql": {
            "listen": f"127.0.0.1:{layout.pg_port + i}",
            "connect_address": f"127.0.0.1:{layout.pg_port + i}",
            "data_dir": str(node_dir / "data"),
            "bin_dir": str(bin_dir),
            "pgpass": str(node_dir / "pgpass"),
            "authentication": {"superuser": {"username": "postgres", "password": "trial"},
                               "replication": {"username": "replicator", "password": "trial"}},
            "parameters": {"unix_socket_directories": str(node_dir), "shared_buffers": "128MB"},
            "pg_hba": trust,
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }
    return json.dumps(config, indent=2)


def _spawn(args: list[str], log_path: pathlib.Path, user: str | None = None) -> int:
    log = open(log_path, "ab")  # noqa: SIM115 - the child's output for its life
    process = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
                               cwd="/", **local_postgres.as_user(user))
    log.close()
    return process.pid


def _need(program: str, package: str) -> str:
    found = shutil.which(program)
    if not found:
        raise SystemExit(f"{program} is not installed: `apt-get install {package}` (Debian)")
    return found


def up(layout: Layout) -> Layout:
    """Start etcd and one Patroni per node; return once a primary and a synchronous standby serve."""
    etcd, patroni = _need("etcd", "etcd-server"), _need("patroni", "patroni")
    bin_dir = local_postgres.bin_dir()
    user = local_postgres.service_user()
    layout.path.mkdir(parents=True, exist_ok=True)
    etcd_dir = layout.path / "etcd"
    peer = f"http://127.0.0.1:{layout.etcd_port + 1}"
    layout.pids["etcd"] = _spawn([
        etcd, "--name", "etcd1", "--data-dir", str(etcd_dir),
        "--listen-client-urls", f"http://127.0.0.1:{layout.etcd_port}",
        "--advertise-client-urls", f"http://127.0.0.1:{layout.etcd_port}",
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", f"etcd1={peer}", "--initial-cluster-state", "new",
        "--heartbeat-interval", "100", "--election-timeout", "1000",
    ], layout.path / "etcd.log")
    _wait(lambda: _http_ok(f"http://127.0.0.1:{layout.etcd_port}/health"), "etcd to answer")
    for i in range(layout.nodes):
        node_dir = layout.path / layout.node_name(i)
        node_dir.mkdir(exist_ok=True)
        config = node_dir / "patroni.yml"
        config.write_text(patroni_config(layout, i, bin_dir), encoding="utf-8")
        local_postgres.give(node_dir, user)
        layout.pids[layout.node_name(i)] = _spawn([patroni, str(config)], node_dir / "patroni.out", user)
    layout.save()
    wait_ready(layout)
    _create_database(layout)
    return layout


def members(layout: Layout) -> list[dict]:
    """The cluster as Patroni sees it: name, role (leader, sync_standby, replica), state, lag."""
    for i in range(layout.nodes):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{layout.api_port + i}/cluster", timeout=2) as answer:
                return json.load(answer).get("members", [])
        except (OSError, ValueError):
            continue
    return []


def primary(layout: Layout) -> tuple[int, str] | None:
    """(node index, name) of the running leader, if there is one."""
    for member in members(layout):
        if member.get("role") == "leader" and member.get("state") == "running":
            name = member["name"]
            return int(name.removeprefix("node")) - 1, name
    return None


def wait_ready(layout: Layout, timeout_s: float = READY_S_MAX, nodes: int | None = None) -> None:
    """Until a leader runs and a synchronous standby streams from it (and `nodes` members run, default all)."""
    wanted = layout.nodes if nodes is None else nodes

    def ready() -> bool:
        found = members(layout)
        running = [m for m in found if m.get("state") in ("running", "streaming")]
        roles = {m.get("role") for m in running}
        return "leader" in roles and "sync_standby" in roles and len(running) >= wanted

    _wait(ready, f"a primary and a synchronous standby among {wanted} members", timeout_s)


def _create_database(layout: Layout) -> None:
    import psycopg

    with psycopg.connect(layout.store_location("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {DATABASE}")


def kill_node(layout: Layout, i: int) -> None:
    """kill -9 of everything of node i (its Patroni and its PostgreSQL): the node's host losing power."""
    name = layout.node_name(i)
    postmaster = layout.path / name / "data" / "postmaster.pid"
    pids = [layout.pids[name]]
    with contextlib.suppress(OSError, ValueError, IndexError):
        pids.append(int(postmaster.read_text().splitlines()[0]))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # each started in its own session: its children go too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def down(layout: Layout, timeout_s: float = 60) -> None:
    """Stop every Patroni (each stops its PostgreSQL), then etcd."""
    names = [layout.node_name(i) for i in range(layout.nodes)]
    for name in names:
        _signal(layout.pids.get(name), signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for name in names:
        _reap(layout.pids.get(name), deadline)
    for i in range(layout.nodes):  # a PostgreSQL whose Patroni was killed outlives it: stop it too
        postmaster = layout.path / layout.node_name(i) / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(postmaster.read_text().splitlines()[0])
            _signal(pid, signal.SIGINT)
            _reap(pid, deadline)
    _signal(layout.pids.get("etcd"), signal.SIGTERM)
    _reap(layout.pids.get("etcd"), deadline)


def _signal(pid: int | None, signum: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _reap(pid: int | None, deadline: float) -> None:
    if not pid:
        return
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)  # our child: reap it
            if done:
                return
        except ChildProcessError:  # started by another `medsettle ha` process: wait until it is gone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.1)
    _signal(pid, signal.SIGKILL)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _wait(condition, what: str, timeout_s: float = READY_S_MAX) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.2)
