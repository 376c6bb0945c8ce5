"""Server CPU per call: health, GetPerson, PreSettleOutpatient, durable SettleOutpatient (10 lines) and SettleInpatient
(a stay of 300 lines), one worker, one run, each with its ratio to the health check; and the CPU of one 1,000-line
adjudication in this process.

    .venv/bin/python bench/cpu.py [--seconds 6] [--concurrency 32] [--parts] [--before <tree>/src]

Server CPU is utime + stime of the server process (every thread: the event loop, gRPC's poller, the group-commit
writer) from /proc/<pid>/stat, before and after a saturated phase, divided by the calls answered OK: on a shared
machine it is steadier than calls per second. Every phase is closed-loop loadgen (prebuilt bodies, each settlement
its own request_id, round-robin over the settleable persons of a fresh copy of the seeded nation). The inpatient
stays (Admit and 300 lines in 3 uploads) are set up before their phase; only SettleInpatient is measured.

--parts: what each layer of the settle path costs, from servers that differ in one thing, in the same run:
  no_access (the access interceptor taken out: no identity, no authorization), no_intake (gRPC decodes the body, no
  admission), metrics (serve --metrics-listen), no_rules (the nation's audit rules removed: supervision's bookkeeping
  without rule evaluation). Durable SettleOutpatient only; each against the full server of the same round.
--profile: one more durable SettleOutpatient phase, sampled by py-spy (all threads), not counted in the table; prints
  each thread's share and the functions the samples spend the most time in (self and inclusive).
--before: the same phases on another source tree (PYTHONPATH), in the same run (`git worktree add` or `git archive`).

Writes bench/out/cpu-<date>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
import loadgen  # noqa: E402

HEALTH = "/grpc.health.v1.Health/Check"
GET_PERSON = "/medsettle.v1.PersonService/GetPerson"
PRE_SETTLE = "/medsettle.v1.SettlementService/PreSettleOutpatient"
SETTLE = "/medsettle.v1.SettlementService/SettleOutpatient"
SETTLE_INPATIENT = "/medsettle.v1.SettlementService/SettleInpatient"
INPATIENT_LINES = 300
UPLOAD_LINES = 100
ADJUDICATION_LINES = 1000
PARTS = ("no_access", "no_intake", "metrics", "no_rules")


def phase(target: str, method: str, bodies: list[bytes], callers: list[str], args, *, seconds: float | None = None,
          concurrency: int | None = None) -> dict:
    """Drive `method` closed-loop; the server's CPU over the phase per call answered OK."""
    pid = benchlib.server.pid
    before = benchlib.cpu_s(pid)
    result = loadgen.run(target, method, bodies, concurrency=concurrency or args.concurrency,
                         seconds=seconds or args.seconds, callers=callers)
    used = benchlib.cpu_s(pid) - before
    summary = result.summary()
    summary["server_cpu_s"] = round(used, 3)
    summary["cpu_us_per_call"] = round(used / max(1, result.ok) * 1e6, 1)
    return summary


def set_up_stays(target: str, visits, today: str, count: int, tag: str) -> tuple[list[bytes], list[str]]:
    """Admit `count` stays and upload 300 lines to each (not measured); the SettleInpatient bodies and callers."""
    from medsettle.v1 import person_pb2, settlement_pb2

    bodies, callers = [], []
    chosen = [visits[i % len(visits)] for i in range(count)]
    with_channels = {}
    try:
        for n, visit in enumerate(chosen):
            caller = f"institution:{visit.fixmedins_code}"
            channel = with_channels.get(caller) or with_channels.setdefault(caller, benchlib.channel(target, caller))
            call = channel.unary_unary
            admit = settlement_pb2.AdmitRequest(request_id=f"A{tag}{n}", person=person_pb2.PersonRef(
                psn_no=visit.psn_no), fixmedins_code=visit.fixmedins_code, med_type="21")
            answer = settlement_pb2.AdmitResponse.FromString(call("/medsettle.v1.SettlementService/Admit")(
                admit.SerializeToString(), timeout=30))
            lines = benchlib.stay_lines(visit.lines, INPATIENT_LINES)
            for start in range(0, INPATIENT_LINES, UPLOAD_LINES):
                upload = settlement_pb2.UploadInpatientFeesRequest(
                    request_id=f"U{tag}{n}-{start}", fixmedins_code=visit.fixmedins_code, mdtrt_id=answer.mdtrt_id,
                    fee_lines=benchlib.fee_lines_pb(lines[start:start + UPLOAD_LINES], today, start + 1))
                call("/medsettle.v1.SettlementService/UploadInpatientFees")(upload.SerializeToString(), timeout=30)
            bodies.append(settlement_pb2.SettleInpatientRequest(
                request_id=f"I{tag}{n}", fixmedins_code=visit.fixmedins_code,
                mdtrt_id=answer.mdtrt_id).SerializeToString())
            callers.append(caller)
    finally:
        for channel in with_channels.values():
            channel.close()
    return bodies, callers


def adjudication_cpu_us(lines: int, calls: int) -> float:
    """CPU of one adjudication of `lines` lines in this process (the micro-benchmark's inputs), mean of `calls`."""
    from test_micro import _inputs

    from medsettle.domain.adjudication import adjudicate

    inputs = _inputs(lines, "21")
    adjudicate(inputs)
    started = time.process_time()
    for _ in range(calls):
        adjudicate(inputs)
    return round((time.process_time() - started) / calls * 1e6, 1)


def profiled(target: str, bodies: list[bytes], callers: list[str], args, path: Path) -> dict:
    """A SettleOutpatient phase sampled by py-spy (every thread of the server, 200 samples a second); the summary."""
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(benchlib.server.pid),
                            "--duration", str(int(args.seconds)), "--rate", "200", "--format", "raw", "--threads",
                            "--nolineno", "--nonblocking", "--output", str(path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    loadgen.run(target, SETTLE, bodies, concurrency=args.concurrency, seconds=args.seconds, callers=callers)
    spy.wait(60)
    return benchlib.profile_summary(path)


def prepare(base: str, work_dir: str, name: str, *, rules: bool = True) -> str:
    data_dir = tempfile.mkdtemp(prefix=f"cpu-{name}-", dir=work_dir)
    shutil.copy(os.path.join(base, "data.mdb"), data_dir)
    if not rules:
        benchlib.drop_audit_rules(data_dir)
    return data_dir


def measure_all(args, base: str, visits, inpatient, today: str, tag: str, src: str | None) -> dict:
    """Every phase against one fresh server (of `src`, or this tree)."""
    from grpc_health.v1 import health_pb2

    from medsettle.v1 import person_pb2

    work = prepare(base, args.work_dir, tag)
    calls_max = int(args.seconds * 6000)
    health = [health_pb2.HealthCheckRequest().SerializeToString()] * calls_max
    persons = [person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=v.psn_no)).SerializeToString()
               for v in visits]
    pre = [benchlib.pre_settle_request(v, today).SerializeToString() for v in visits]
    settle_visits = visits[len(visits) // 2:] + visits[:len(visits) // 2]  # others than warm-up and pre-settlement
    bodies = benchlib.settle_bodies(settle_visits, today, calls_max, tag)
    callers = benchlib.settle_callers(settle_visits, calls_max)
    report: dict = {}
    report_profile: dict = {}
    try:
        with benchlib.server(work, src=src, log_path=str(benchlib.OUT_DIR / f"cpu-server-{tag}.log")) as target:
            warm = benchlib.settle_bodies(visits, today, 1000, f"W{tag}")
            loadgen.run(target, SETTLE, warm, concurrency=args.concurrency, seconds=2,
                        callers=benchlib.settle_callers(visits, 1000))
            report["health"] = phase(target, HEALTH, health, [benchlib.OPERATOR] * len(health), args)
            report["GetPerson"] = phase(target, GET_PERSON, persons * (calls_max // len(persons) + 1),
                                        [benchlib.OPERATOR] * len(persons) * (calls_max // len(persons) + 1), args)
            report["PreSettleOutpatient"] = phase(target, PRE_SETTLE, pre * (calls_max // len(pre) + 1),
                                                  benchlib.settle_callers(visits, len(pre) * (calls_max // len(pre) + 1)),
                                                  args)
            report["SettleOutpatient"] = phase(target, SETTLE, bodies, callers, args)
            if args.profile:
                more = benchlib.settle_bodies(visits, today, calls_max, "P" + tag)
                report_profile = profiled(target, more, benchlib.settle_callers(visits, calls_max), args,
                                          benchlib.OUT_DIR / f"profile-settle-{tag}.txt")
            stay_bodies, stay_callers = set_up_stays(target, inpatient, today, args.stays, tag)
            report["SettleInpatient300"] = phase(target, SETTLE_INPATIENT, stay_bodies, stay_callers, args,
                                                 seconds=600, concurrency=min(8, args.concurrency))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.profile:
        benchlib.print_profile(report_profile)
    health_us = report["health"]["cpu_us_per_call"]
    for row in report.values():
        row["cpu_ratio_to_health"] = round(row["cpu_us_per_call"] / health_us, 2)
        row["rate_ratio_to_health"] = round(row["rpc_per_s"] / report["health"]["rpc_per_s"], 3)
    return report


def measure_parts(args, base: str, visits, today: str, round_no: int) -> dict:
    """Durable SettleOutpatient and health on the full server and on one server per part left out (or metrics
    turned on)."""
    from grpc_health.v1 import health_pb2

    variants = {"full": ({}, True), "no_access": ({"without": ("access",)}, True),
                "no_intake": ({"without": ("intake",)}, True),
                "metrics": ({"extra": ("--metrics-listen", f"127.0.0.1:{benchlib.free_port()}")}, True),
                "no_rules": ({}, False)}
    shift = (round_no + 1) * len(visits) // 7  # each round settles other persons (no frequency rule fires)
    round_visits = visits[shift:] + visits[:shift]
    calls_max = int(args.seconds * 4000)
    rows = {}
    for name, (server_args, rules) in variants.items():
        work = prepare(base, args.work_dir, f"part-{name}", rules=rules)
        tag = f"p{round_no}{name[:4]}{int(time.time()) % 10**5}"
        try:
            with benchlib.server(work, **server_args) as target:
                loadgen.run(target, SETTLE, benchlib.settle_bodies(visits, today, 500, "W" + tag), concurrency=32,
                            seconds=1, callers=benchlib.settle_callers(visits, 500))
                rows[name] = phase(target, SETTLE, benchlib.settle_bodies(round_visits, today, calls_max, tag),
                                   benchlib.settle_callers(round_visits, calls_max), args)
                health = [health_pb2.HealthCheckRequest().SerializeToString()] * calls_max
                rows[name]["health"] = phase(target, HEALTH, health, [benchlib.OPERATOR] * calls_max, args)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"  parts round {round_no} {name:10s} {rows[name]['cpu_us_per_call']:8.1f} us/settlement "
              f"({rows[name]['rpc_per_s']}/s, errors {rows[name]['errors']}), health "
              f"{rows[name]['health']['cpu_us_per_call']:6.1f} us/call", flush=True)
    full = rows["full"]["cpu_us_per_call"]
    for row in rows.values():
        row["vs_full_us"] = round(row["cpu_us_per_call"] - full, 1)
        row["health_vs_full_us"] = round(row["health"]["cpu_us_per_call"] - rows["full"]["health"]["cpu_us_per_call"], 1)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per measured phase")
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight calls of the driver")
    parser.add_argument("--stays", type=int, default=120, help="300-line stays settled in the inpatient phase")
    parser.add_argument("--rounds", type=int, default=1, help="of every phase (alternating trees with --before)")
    parser.add_argument("--parts", action="store_true", help="also measure what each layer of the settle path costs")
    parser.add_argument("--parts-only", action="store_true", help="only --parts (no table of calls)")
    parser.add_argument("--profile", action="store_true",
                        help="also sample a settle phase with py-spy (bench/out/profile-settle-*.txt) and summarize it")
    parser.add_argument("--before", default="", help="src/ of another tree, measured in the same run")
    parser.add_argument("--persons-per-province", type=int, default=2000)
    parser.add_argument("--work-dir", default=os.environ.get("MEDSETTLE_BENCH_DIR", "/tmp/medsettle-bench"))
    args = parser.parse_args()

    benchlib.OUT_DIR.mkdir(parents=True, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    visits = benchlib.find_visits(base, "11", 10**9, today)
    inpatient = benchlib.find_visits(base, "21", 10**9, today)[:args.stays * 4]  # a person is in one list only
    admitted = {v.psn_no for v in inpatient}
    visits = [v for v in visits if v.psn_no not in admitted]
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today,
                    "load_average_before": os.getloadavg(), "rounds": []}
    trees = {"this": None, **({"before": args.before} if args.before else {})}
    for round_no in range(args.rounds):
        if args.parts_only:
            report["rounds"].append({"round": round_no, "load_average": os.getloadavg(),
                                     "parts": measure_parts(args, base, visits, today, round_no)})
            continue
        for name, src in trees.items():
            tag = f"{name[0]}{round_no}{int(time.time()) % 10**5}"
            row = measure_all(args, base, visits, inpatient, today, tag, src)
            report["rounds"].append({"round": round_no, "tree": name, "load_average": os.getloadavg(), "calls": row})
            print_table(name, round_no, row)
        if args.parts:
            report["rounds"][-1]["parts"] = measure_parts(args, base, visits, today, round_no)
    report["adjudication_1000_lines_cpu_us"] = adjudication_cpu_us(ADJUDICATION_LINES, 20)
    report["load_average_after"] = os.getloadavg()
    print(f"adjudication of {ADJUDICATION_LINES} lines, in-process: {report['adjudication_1000_lines_cpu_us']} us CPU")
    print(f"load average before {report['load_average_before']}, after {report['load_average_after']}")
    path = benchlib.OUT_DIR / f"cpu-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"report: {path}")
    return 0


def print_table(tree: str, round_no: int, row: dict) -> None:
    print(f"{tree} round {round_no}: {'call':22s} {'us CPU/call':>12s} {'x health':>9s} {'calls/s':>9s} "
          f"{'rate/health':>11s} {'p99 ms':>8s} errors")
    for name, r in row.items():
        print(f"  {name:36s} {r['cpu_us_per_call']:12.1f} {r['cpu_ratio_to_health']:9.2f} {r['rpc_per_s']:9.1f} "
              f"{r['rate_ratio_to_health']:11.3f} {r['p99_ms']:8.1f} {r['errors'] or ''}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
