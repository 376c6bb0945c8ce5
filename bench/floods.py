"""Large refused messages against normal settlements: p99 of a normal settlement, quiet and under a flood, same run.

    .venv/bin/python bench/floods.py [--normal 400] [--senders 16]

Against a fresh copy of the cached demo nation, one worker. Each phase measures NORMAL durable 10-line
SettleOutpatient calls made one after another by one client (latency p50/p99), first quiet, then while SENDERS
threads resend one large request as fast as the server answers it (prebuilt bytes, no client-side protobuf work):
  over-transport  a 13 MiB claim: over the transport's 9 MiB, refused by gRPC from its length prefix
  push-size       an 8 MiB claim: under the transport's limit, over the claim's 1 MiB: MESSAGE_TOO_LARGE
  claim-limit     a claim one byte over 1 MiB: MESSAGE_TOO_LARGE
  lines-limit     a claim just under 1 MiB with 16,000 lines: decoded, refused LINES_LIMIT by the servicer
The issue's goal: under 16 concurrent maximum-size refusals, a normal settlement's p99 stays within 5x of quiet.
Server CPU (from /proc) and peak RSS (VmHWM) are reported per phase. Writes bench/out/floods-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

SETTLE = "/medsettle.v1.SettlementService/SettleOutpatient"
MIB = 2**20


def _proc(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of a process."""
    cpu_s = benchlib.cpu_s(pid)
    peak = 0.0
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            peak = int(row.split()[1]) / 1024
    return cpu_s, peak


def _large_body(visit, today: str, kind: str) -> bytes:
    request = benchlib.settle_request(visit, today, "FLOOD")
    if kind == "lines-limit":
        template = request.claim.fee_lines[0]
        del request.claim.fee_lines[:]
        n = 0
        while request.ByteSize() < MIB - 200:
            line = request.claim.fee_lines.add()
            line.CopyFrom(template)
            line.feedetl_sn = f"{n:06d}"
            n += 1
        return request.SerializeToString()
    size = {"over-transport": 13 * MIB, "push-size": 8 * MIB, "claim-limit": MIB + 1}[kind]
    request.claim.fee_lines[0].feedetl_sn = "x"
    request.claim.fee_lines[0].feedetl_sn = "x" * (size - request.ByteSize() + 1)
    return request.SerializeToString()


def _as_hospital(body: bytes) -> tuple[tuple[str, str], ...]:
    """The caller metadata of a settlement body on the loopback --insecure server: the hospital it names."""
    from medsettle.service import identity
    from medsettle.v1 import settlement_pb2

    return identity.metadata(f"institution:{settlement_pb2.SettleOutpatientRequest.FromString(body).claim.fixmedins_code}")


def _normal(target: str, bodies: list[bytes]) -> list[float]:
    import grpc

    latencies = []
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(SETTLE)
        for body in bodies:
            metadata = _as_hospital(body)
            started = time.perf_counter()
            call(body, timeout=60, metadata=metadata)
            latencies.append((time.perf_counter() - started) * 1000)
    return sorted(latencies)


def _flood(target: str, body: bytes, stop: threading.Event, outcomes: Counter) -> None:
    import grpc

    options = [("grpc.max_send_message_length", 64 * MIB), ("grpc.use_local_subchannel_pool", 1)]
    metadata = _as_hospital(body)
    with grpc.insecure_channel(target, options=options) as channel:
        call = channel.unary_unary(SETTLE)
        while not stop.is_set():
            try:
                call(body, timeout=60, metadata=metadata)
                outcomes["OK"] += 1
            except grpc.RpcError as error:
                outcomes[error.details().split(":", 1)[0] if error.details() else error.code().name] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normal", type=int, default=400, help="normal settlements per phase")
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--persons-per-province", type=int, default=2_000)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()

    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 100_000, today)
    work = tempfile.mkdtemp(prefix="floods-", dir=args.work_dir)
    data_dir = os.path.join(work, "data")
    shutil.copytree(base, data_dir)
    counter = iter(range(10**9))

    def bodies(n: int) -> list[bytes]:
        return [benchlib.settle_request(visits[i % len(visits)], today, f"FL{i:09d}").SerializeToString()
                for i in (next(counter) for _ in range(n))]

    phases = []
    log = os.path.join(work, "server.log")
    with benchlib.server(data_dir, log_path=log) as target:
        pid = int(next(json.loads(row)["pid"] for row in Path(log).read_text().splitlines()
                       if row.startswith("{") and '"serving"' in row))
        _normal(target, bodies(50))  # warm up
        for kind in ("over-transport", "push-size", "claim-limit", "lines-limit"):
            large = _large_body(visits[0], today, kind)
            quiet = _normal(target, bodies(args.normal))
            stop, outcomes = threading.Event(), Counter()
            senders = [threading.Thread(target=_flood, args=(target, large, stop, outcomes))
                       for _ in range(args.senders)]
            for sender in senders:
                sender.start()
            time.sleep(1.0)
            cpu0, _ = _proc(pid)
            t0 = time.perf_counter()
            flooded = _normal(target, bodies(args.normal))
            cpu1, peak = _proc(pid)
            seconds = time.perf_counter() - t0
            stop.set()
            for sender in senders:
                sender.join(120)
            phase = {
                "flood": kind, "large_body_bytes": len(large), "large_answers": dict(outcomes),
                "quiet_p50_ms": round(benchlib.percentile(quiet, 50), 2),
                "quiet_p99_ms": round(benchlib.percentile(quiet, 99), 2),
                "flood_p50_ms": round(benchlib.percentile(flooded, 50), 2),
                "flood_p99_ms": round(benchlib.percentile(flooded, 99), 2),
                "p99_ratio": round(benchlib.percentile(flooded, 99) / benchlib.percentile(quiet, 99), 2),
                "server_cpu_cores_during_flood": round((cpu1 - cpu0) / seconds, 2),
                "server_peak_rss_mib": round(peak),
            }
            phases.append(phase)
            print(json.dumps(phase), flush=True)
    report = {"machine": benchlib.machine(), "senders": args.senders, "normal_per_phase": args.normal,
              "phases": phases}
    benchlib.write_report("floods", report)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
