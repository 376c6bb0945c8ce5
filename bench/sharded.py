"""What Envoy in front of the shards costs: durable SettleOutpatient through Envoy against the same calls sent
directly to the shard that owns the persons, in the same run, alternating, on one `medsettle cluster up --shards 3`.

    MEDSETTLE_BENCH_DIR=/tmp/bench-mine .venv/bin/python bench/sharded.py [--seconds 8] [--rounds 2]

Both paths are mutual TLS with the hospitals' own certificates and carry the same metadata (x-insuplc-admdvs, the
request id); only the hop through Envoy differs (TLS terminated and re-originated, x-forwarded-client-cert set,
routing by the insured place). The persons are shard-1's insured (Anhui .. Chongqing), each hospital one connection.
Shard CPU per call is the shard process's utime + stime (/proc/<pid>/stat) over the phase, Envoy's likewise: steadier
than calls per second on a shared machine. Writes bench/out/sharded-<date>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402
from benchlib import cpu_s, settle_bodies, settle_callers  # noqa: E402
from ceiling import SETTLE  # noqa: E402

SHARD = "shard-1"


def _metadata(bodies: list[bytes], insured_of_body: list[str]) -> list[tuple]:
    from medsettle.service.placement import INSURED_PLACE_KEY, REQUEST_ID_KEY
    from medsettle.v1 import settlement_pb2

    found = []
    for body, insured in zip(bodies, insured_of_body, strict=True):
        request_id = settlement_pb2.SettleOutpatientRequest.FromString(body).request_id
        found.append(((INSURED_PLACE_KEY, insured), (REQUEST_ID_KEY, request_id)))
    return found


def _envoy_pid(config: Path) -> int:
    """Envoy's pid: the process whose command line names this cluster's configuration."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and command[0].endswith(b"envoy") and str(config).encode() in command:
                return int(entry.name)
    raise RuntimeError("envoy not found")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per measured phase")
    parser.add_argument("--rounds", type=int, default=2, help="direct then through Envoy, this many times")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--institutions", type=int, default=8, help="hospitals (one connection each)")
    parser.add_argument("--persons-per-province", type=int, default=500)
    parser.add_argument("--items-per-province", type=int, default=2000)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    from medsettle.cluster import up
    from medsettle.domain import shards

    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.work_dir) / f"sharded-{args.persons_per_province}-{args.items_per_province}"
    shutil.rmtree(data_dir, ignore_errors=True)  # every run from the same seeded nation, nothing settled yet
    listen, admin, shard_port = (f"127.0.0.1:{benchlib.free_port()}", f"127.0.0.1:{benchlib.free_port()}",
                                 benchlib.free_port())
    log = open(out / "sharded-cluster.log", "wb")  # noqa: SIM115 - closed below
    cluster = subprocess.Popen([sys.executable, "-m", "medsettle.cli", "cluster", "up", "--shards", "3", "--cluster-dir",
                                str(data_dir), "--listen", listen, "--admin-listen", admin, "--shard-port",
                                str(shard_port), "--persons-per-province", str(args.persons_per_province),
                                "--items-per-province", str(args.items_per_province), "--map-size-gib", "4"],
                               stdout=log, stderr=subprocess.STDOUT)
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "runs": []}
    try:
        deadline = time.monotonic() + 900
        while b"serving mutual TLS" not in (out / "sharded-cluster.log").read_bytes():
            assert cluster.poll() is None and time.monotonic() < deadline, "cluster up did not start"
            time.sleep(0.5)
        shard_map = shards.parse((data_dir / up.MAP_FILE).read_bytes())
        shard = shard_map.shard(SHARD)
        tls_dir = str(data_dir / "tls")
        today = benchlib.today_shanghai()
        # The shard's own persons: its store holds them (and the institutions, the catalogs, every policy).
        everyone = benchlib.find_visits(str(data_dir / SHARD), "11", 10**9, today)
        busiest = [code for code, _ in collections.Counter(v.fixmedins_code for v in everyone).most_common(
            args.institutions)]
        visits = [v for v in everyone if v.fixmedins_code in busiest]
        insured = _insured_places(data_dir / SHARD, visits)
        report.update({"today": today, "institutions": busiest, "persons": len(visits), "shard": SHARD,
                       "provinces": list(shard.provinces)})
        envoy_pid = _envoy_pid(data_dir / up.ENVOY_FILE)
        shard_pid = up.pid_of_shard(str(data_dir), SHARD)
        calls_max = int(args.seconds * 3000)
        for round_no in range(args.rounds):
            for path, target in (("direct", shard.address), ("envoy", listen)):
                tag = f"{path[0]}{round_no}{int(time.time()) % 10**5}"
                bodies = settle_bodies(visits, today, calls_max, tag)
                callers = settle_callers(visits, len(bodies))
                metadata = _metadata(bodies, [insured[visits[n % len(visits)].psn_no] for n in range(len(bodies))])
                shard_before, envoy_before = cpu_s(shard_pid), cpu_s(envoy_pid)
                result = loadgen.run(target, SETTLE, bodies, concurrency=args.concurrency, seconds=args.seconds,
                                     callers=callers, tls_dir=tls_dir, metadata=metadata)
                summary = result.summary()
                summary["shard_cpu_ms_per_call"] = round(1000 * (cpu_s(shard_pid) - shard_before) / max(1, result.ok), 4)
                summary["envoy_cpu_ms_per_call"] = round(1000 * (cpu_s(envoy_pid) - envoy_before) / max(1, result.ok), 4)
                run = {"round": round_no, "path": path, **summary}
                report["runs"].append(run)
                print(json.dumps(run), flush=True)
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(120)
        log.close()
    by_path = {path: [r for r in report["runs"] if r["path"] == path] for path in ("direct", "envoy")}

    def mean(path: str, key: str) -> float:
        return sum(r[key] for r in by_path[path]) / len(by_path[path])

    report["rate_envoy_over_direct"] = round(mean("envoy", "rpc_per_s") / mean("direct", "rpc_per_s"), 3)
    report["p99_envoy_over_direct"] = round(mean("envoy", "p99_ms") / mean("direct", "p99_ms"), 3)
    report["shard_cpu_per_call_envoy_over_direct"] = round(
        mean("envoy", "shard_cpu_ms_per_call") / mean("direct", "shard_cpu_ms_per_call"), 3)
    path = out / f"sharded-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if "_over_" in k}, indent=1))
    print(f"report: {path}")
    return 0


def _insured_places(store_dir: Path, visits) -> dict[str, str]:
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=str(store_dir), map_size_bytes=4 * 2**30))
    try:
        with store.read() as view:
            return {v.psn_no: view.person(v.psn_no).insu_lines[0].insuplc_admdvs for v in visits}
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
