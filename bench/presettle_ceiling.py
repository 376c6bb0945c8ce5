"""Where the settle/health gap comes from: h2load drives the health check, PreSettleOutpatient (the whole read
and compute path of a settlement: validation, eligibility, ten catalog look-ups, adjudication, the response, but no
write) and GetPerson, each with one prebuilt body (fine for calls that change nothing), on one worker, same run.

    .venv/bin/python bench/presettle_ceiling.py [--requests 30000]

settle/health (bench/ceiling.py) minus presettle/health is what the write path costs. Writes
bench/out/presettle-ceiling-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from ceiling import HEALTH, check_sample, ensure_h2load, h2load  # noqa: E402

PRESETTLE = "/medsettle.v1.SettlementService/PreSettleOutpatient"
GET_PERSON = "/medsettle.v1.PersonService/GetPerson"


def main() -> int:
    from grpc_health.v1 import health_pb2

    from medsettle.v1 import person_pb2, settlement_pb2

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--persons-per-province", type=int, default=2000)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    ensure_h2load()
    out = benchlib.OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    visit = benchlib.find_visits(base, "11", 1, today)[0]
    hospital = f"institution:{visit.fixmedins_code}"
    bodies = {  # (method, body, caller): a person by psn_no is looked up by national operations
        "health": (HEALTH, health_pb2.HealthCheckRequest().SerializeToString(), benchlib.OPERATOR),
        "presettle": (PRESETTLE, settlement_pb2.PreSettleOutpatientRequest(
            claim=benchlib.outpatient_claim(visit, today)).SerializeToString(), hospital),
        "get_person": (GET_PERSON, person_pb2.GetPersonRequest(
            person=person_pb2.PersonRef(psn_no=visit.psn_no)).SerializeToString(), benchlib.OPERATOR),
    }
    report = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today}
    work = tempfile.mkdtemp(prefix="presettle-", dir=args.work_dir)
    shutil.copy(Path(base) / "data.mdb", work)
    try:
        with benchlib.server(work, workers=1, log_path=str(out / "presettle-server.log")) as target:
            for name, (method, body, caller) in bodies.items():
                assert check_sample(target, method, body, caller) == "OK", name
                frame = out / f"{name}.frame"
                frame.write_bytes(benchlib.grpc_frame(body))
                h2load(target, method, frame, requests=2000, clients=args.clients, streams=args.streams,
                       log=out / f"h2load-{name}-warm.log", caller=caller)
                report[name] = h2load(target, method, frame, requests=args.requests, clients=args.clients,
                                      streams=args.streams, log=out / f"h2load-{name}.log", caller=caller)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name in ("presettle", "get_person"):
        report[f"ratio_{name}_to_health"] = round(report[name]["rpc_per_s"] / report["health"]["rpc_per_s"], 3)
    path = out / f"presettle-ceiling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: (v if not isinstance(v, dict) else {x: v[x] for x in ("rpc_per_s", "p50_ms", "p99_ms",
                                                                                "http_status") if x in v})
                      for k, v in report.items() if k not in ("machine",)}, indent=1))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
