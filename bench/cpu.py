"""Server CPU per call: health, GetPerson, PreSettleOutpatient, durable SettleOutpatient (10 lines) and SettleInpatient
(a stay of 300 lines), one worker, one run, each with its ratio to the health check; and the CPU of one 1,000-line
adjudication in this process.

    .venv/bin/python bench/cpu.py [--seconds 4] [--rounds 3] [--before <tree>/src] [--before-python <python>]
                                  [--parts] [--profile] [--aged-days 90] [--item-pool 5000]

Server CPU is utime + stime of the server process (every thread: the event loop, gRPC's threads, the group-commit
writer) and of its child processes (the writer process) from /proc, before and after a saturated phase,
divided by the calls answered OK: on a shared machine it is steadier than calls per second. Every phase is closed-loop loadgen (prebuilt bodies, each settlement
its own request_id, each round other persons, on a fresh copy of the seeded nation per server). The inpatient stays
(Admit and 300 lines in 3 uploads) are set up before the rounds; only SettleInpatient is measured.

--before <tree>/src: a server of that source tree (PYTHONPATH) runs beside this tree's, and every phase is measured
  on both in turn (the order alternating by round), so that both see the same machine weather; the medians of the
  rounds and their ratio are printed.
--before-python <python>: the "before" server (and its in-process adjudication) runs under that interpreter, with
  --before's tree or, without it, this tree's src/ on its PYTHONPATH: two builds of CPython compared in one run (the
  interpreter's environment needs the project's dependencies: `<python> -m venv V && V/bin/pip install -e .`).
--parts: what each layer of the settle path costs, from servers that differ in one thing, in the same run:
  no_access (the access layer left out: no identity, no authorization), no_intake (no admission, gRPC decodes the
  body), metrics (serve --metrics-listen), no_rules (the nation's audit rules removed: supervision's bookkeeping
  without rule evaluation). Durable SettleOutpatient and health, each against the full server of the same round.
--aged-days: each server's copy of the nation first gets that many days of history in the distributions its
  settlements read and feed (benchlib.age_sketches), as a deployment's hold in its steady state.
--item-pool: the outpatient visits bill items drawn from that many of each province's catalog by Zipf's law
  (benchlib.with_item_pool), as a deployment has thousands in use; the export's visits bill ten a province, which
  every cache holds after the first settlements. With --aged-days, each item's history is as busy as its rank.
--profile: one more durable SettleOutpatient phase on this tree's server, sampled by py-spy (all threads of the worker
  and of its writer process), not
  counted; prints each thread's share and the functions with the most samples (self and inclusive).

Each call's CPU is also split by thread (from /proc/<pid>/task): the event loop (the main thread), the group-commit
writer (the OS thread medsettle-write; a tree older than that name counts its writer under "other"), gRPC's own
threads (event_engine, grpc_*), any other (gRPC's completion-queue poller is a Python thread: it counts there) and the
writer process.

Writes bench/out/cpu-<date>.json and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
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
CALLS = ("health", "GetPerson", "PreSettleOutpatient", "SettleOutpatient", "SettleInpatient300")
INPATIENT_LINES = 300
UPLOAD_LINES = 100
ADJUDICATION_LINES = 1000
INPATIENT_CONCURRENCY = 8


def phase(target: str, method: str, bodies: list[bytes], callers: list[str], *, seconds: float,
          concurrency: int) -> dict:
    """Drive `method` closed-loop; the server's CPU over the phase per call answered OK."""
    pid = benchlib.server.pids[target]
    before, threads_before = benchlib.cpu_s(pid), benchlib.thread_cpu_s(pid)
    result = loadgen.run(target, method, bodies, concurrency=concurrency, seconds=seconds, callers=callers)
    used, threads_after = benchlib.cpu_s(pid) - before, benchlib.thread_cpu_s(pid)
    summary = result.summary()
    summary["server_cpu_s"] = round(used, 3)
    summary["cpu_us_per_call"] = round(used / max(1, result.ok) * 1e6, 1)
    # Threads that ended during the phase are in the process's total only: the roles may add up to a little less.
    summary["thread_us_per_call"] = {role: round((threads_after[role] - threads_before[role]) / max(1, result.ok)
                                                 * 1e6, 1) for role in threads_after}
    return summary


def set_up_stays(target: str, visits, today: str, tag: str) -> tuple[list[bytes], list[str]]:
    """Admit a stay for each visit and upload 300 lines to it (not measured); the SettleInpatient bodies, callers."""
    from medsettle.v1 import person_pb2, settlement_pb2

    bodies, callers = [], []
    channels: dict[str, object] = {}
    try:
        for n, visit in enumerate(visits):
            caller = f"institution:{visit.fixmedins_code}"
            channel = channels.get(caller) or channels.setdefault(caller, benchlib.channel(target, caller))
            admit = settlement_pb2.AdmitRequest(request_id=f"A{tag}{n}", person=person_pb2.PersonRef(
                psn_no=visit.psn_no), fixmedins_code=visit.fixmedins_code, med_type="21")
            answer = settlement_pb2.AdmitResponse.FromString(channel.unary_unary(
                "/medsettle.v1.SettlementService/Admit")(admit.SerializeToString(), timeout=30))
            lines = benchlib.stay_lines(visit.lines, INPATIENT_LINES)
            for start in range(0, INPATIENT_LINES, UPLOAD_LINES):
                upload = settlement_pb2.UploadInpatientFeesRequest(
                    request_id=f"U{tag}{n}-{start}", fixmedins_code=visit.fixmedins_code, mdtrt_id=answer.mdtrt_id,
                    fee_lines=benchlib.fee_lines_pb(lines[start:start + UPLOAD_LINES], today, start + 1))
                channel.unary_unary("/medsettle.v1.SettlementService/UploadInpatientFees")(
                    upload.SerializeToString(), timeout=30)
            bodies.append(settlement_pb2.SettleInpatientRequest(
                request_id=f"I{tag}{n}", fixmedins_code=visit.fixmedins_code,
                mdtrt_id=answer.mdtrt_id).SerializeToString())
            callers.append(caller)
    finally:
        for channel in channels.values():
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


class Workload:
    """The bodies of every phase: each round settles other persons (no frequency rule fires, no cap binds)."""

    def __init__(self, args, visits, inpatient, today: str, item_ranks=None) -> None:
        from grpc_health.v1 import health_pb2

        from medsettle.v1 import person_pb2

        self.args, self.today = args, today
        self.calls_max = int(args.seconds * 6000)
        self.visits = visits
        self.item_ranks = item_ranks  # benchlib.with_item_pool's, for age_sketches
        self.inpatient = inpatient
        self.health = [health_pb2.HealthCheckRequest().SerializeToString()] * self.calls_max
        persons = [person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=v.psn_no)).SerializeToString()
                   for v in visits]
        self.persons = (persons * (self.calls_max // len(persons) + 1))[:self.calls_max]
        pre = [benchlib.pre_settle_request(v, today).SerializeToString() for v in visits]
        repeat = self.calls_max // len(pre) + 1
        self.pre = (pre * repeat)[:self.calls_max]
        self.pre_callers = benchlib.settle_callers(visits, len(self.pre))

    def round_visits(self, round_no: int, rounds: int) -> list:
        share = len(self.visits) // (rounds + 1)  # the last share warms up
        return self.visits[round_no * share:(round_no + 1) * share]

    def stays(self, round_no: int) -> list:
        return self.inpatient[round_no * self.args.stays:(round_no + 1) * self.args.stays]

    def phases(self, round_no: int, rounds: int, tag: str) -> dict:
        """call -> (method, bodies, callers), or a function of the tree giving them."""
        args = self.args
        mine = self.round_visits(round_no, rounds)
        count = min(self.calls_max, len(mine))
        return {
            "health": (HEALTH, self.health, [benchlib.OPERATOR] * len(self.health)),
            "GetPerson": (GET_PERSON, self.persons, [benchlib.OPERATOR] * len(self.persons)),
            "PreSettleOutpatient": (PRE_SETTLE, self.pre, self.pre_callers),
            "SettleOutpatient": lambda tree: (  # each tree its own request ids
                SETTLE, benchlib.settle_bodies(mine, self.today, count, f"{tree[0]}{tag}r{round_no}"),
                benchlib.settle_callers(mine, count)),
        } | ({} if args.skip_inpatient else {"SettleInpatient300": None})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per measured phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight calls of the driver")
    parser.add_argument("--stays", type=int, default=100, help="300-line stays settled per round and server")
    parser.add_argument("--skip-inpatient", action="store_true")
    parser.add_argument("--before", default="", help="src/ of another tree, measured in the same run, in turn")
    parser.add_argument("--before-python", default="", help="the interpreter the before server runs under")
    parser.add_argument("--parts", action="store_true", help="also measure what each layer of the settle path costs")
    parser.add_argument("--parts-of", choices=("this", "before"), default="this", help="the tree --parts measures")
    parser.add_argument("--only-parts", action="store_true", help="--parts, and no table of calls")
    parser.add_argument("--profile", action="store_true",
                        help="also sample a settle phase with py-spy (bench/out/profile-settle-*.txt), summarized")
    parser.add_argument("--persons-per-province", type=int, default=2000)
    benchlib.add_aged_days(parser)
    benchlib.add_item_pool(parser)
    parser.add_argument("--work-dir", default=benchlib.WORK_DIR)
    args = parser.parse_args()
    if args.before_python and not args.before:
        args.before = str(benchlib.REPO / "src")  # this tree under another interpreter

    benchlib.OUT_DIR.mkdir(parents=True, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    base = benchlib.nation(args.work_dir, args.persons_per_province)
    today = benchlib.today_shanghai()
    from medsettle import visits_export

    _, outpatient, inpatient = visits_export.read(benchlib.export_visits(base, today))  # a person in one list only
    outpatient, ranks = benchlib.with_item_pool(base, outpatient, today, args.item_pool)
    work = Workload(args, outpatient, inpatient, today, ranks)
    report: dict = {"machine": benchlib.machine(), "command": " ".join(sys.argv), "today": today,
                    "load_average_before": os.getloadavg(), "rounds": []}
    if args.before_python:
        report["interpreters"] = {"this": sys.version, "before": subprocess.run(
            [args.before_python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True,
            check=True).stdout.strip()}
        print(f"interpreters: {report['interpreters']}")
    trees = {"this": None, **({"before": args.before} if args.before else {})}
    stamp = f"{int(time.time()) % 10**5}"
    dirs: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            if args.only_parts:
                trees = {}
            targets = {}
            for name, src in trees.items():
                dirs.append(benchlib.nation_copy(base, args.work_dir, f"cpu-{name}"))
                benchlib.age_sketches(dirs[-1], outpatient, today, args.aged_days, item_ranks=work.item_ranks)
                targets[name] = stack.enter_context(benchlib.server(
                    dirs[-1], src=src, log_path=str(benchlib.OUT_DIR / f"cpu-server-{name}.log"),
                    python=args.before_python if src else None))
            stays = {}
            for name, target in targets.items():  # warm-up, and the stays every round settles (not measured)
                warm = work.visits[-1000:]
                loadgen.run(target, SETTLE, benchlib.settle_bodies(warm, today, len(warm), f"W{name}{stamp}"),
                            concurrency=args.concurrency, seconds=2, callers=benchlib.settle_callers(warm, len(warm)))
                if not args.skip_inpatient:
                    stays[name] = [set_up_stays(target, work.stays(r), today, f"{name[0]}{stamp}r{r}")
                                   for r in range(args.rounds)]
            for round_no in range(args.rounds if targets else 0):
                order = list(targets) if round_no % 2 == 0 else list(reversed(targets))
                row: dict = {"round": round_no, "load_average": os.getloadavg(), "calls": {n: {} for n in targets}}
                for call, spec in work.phases(round_no, args.rounds, stamp).items():
                    for name in order:
                        if call == "SettleInpatient300":
                            bodies, callers = stays[name][round_no]
                            measured = phase(targets[name], SETTLE_INPATIENT, bodies, callers, seconds=600,
                                             concurrency=INPATIENT_CONCURRENCY)
                        else:
                            method, bodies, callers = spec(name) if callable(spec) else spec
                            measured = phase(targets[name], method, bodies, callers, seconds=args.seconds,
                                             concurrency=args.concurrency)
                        row["calls"][name][call] = measured
                report["rounds"].append(row)
                print_round(row)
            if args.profile and targets:
                more = work.visits[-2000:-1000]
                report["profile"] = profiled(targets["this"], benchlib.settle_bodies(more, today, len(more), "P" + stamp),
                                             benchlib.settle_callers(more, len(more)), args,
                                             benchlib.OUT_DIR / f"profile-settle-{stamp}.txt")
                benchlib.print_profile(report["profile"])
        if args.parts or args.only_parts:
            report["parts_of"] = args.parts_of
            report["parts"] = [measure_parts(args, base, work, today, r) for r in range(args.rounds)]
    finally:
        for data_dir in dirs:
            shutil.rmtree(data_dir, ignore_errors=True)
    report["medians"] = medians(report, list(trees))
    report["adjudication_1000_lines_cpu_us"] = {"this": adjudication_cpu_us(ADJUDICATION_LINES, 20)}
    if args.before:  # the same inputs, the other tree's domain, in a process of its own
        code = (f"import sys; sys.path.insert(0, {str(benchlib.BENCH_DIR)!r}); import cpu; "
                f"print(cpu.adjudication_cpu_us({ADJUDICATION_LINES}, 20))")
        done = subprocess.run([args.before_python or sys.executable, "-c", code],
                              env=dict(os.environ, PYTHONPATH=args.before),
                              capture_output=True, text=True, check=True)
        report["adjudication_1000_lines_cpu_us"]["before"] = float(done.stdout.split()[-1])
    report["load_average_after"] = os.getloadavg()
    print_medians(report["medians"])
    print_threads(report["medians"])
    if "parts" in report:
        print_parts(report["parts"])
    print(f"adjudication of {ADJUDICATION_LINES} lines, in-process, us CPU: {report['adjudication_1000_lines_cpu_us']}")
    print(f"load average before {report['load_average_before']}, after {report['load_average_after']}")
    benchlib.write_report("cpu", report)
    return 0


def medians(report: dict, trees: list[str]) -> dict:
    """Per tree and call: the median over rounds of CPU per call, of its ratio to the round's health, of the rate."""
    result: dict = {}
    for name in trees:
        result[name] = {}
        for call in CALLS:
            rows = [r["calls"][name] for r in report["rounds"] if call in r["calls"][name]]
            if not rows:
                continue
            result[name][call] = {
                "cpu_us_per_call": statistics.median(r[call]["cpu_us_per_call"] for r in rows),
                "thread_us_per_call": {role: statistics.median(r[call]["thread_us_per_call"][role] for r in rows)
                                       for role in rows[0][call]["thread_us_per_call"]},
                "cpu_ratio_to_health": round(statistics.median(
                    r[call]["cpu_us_per_call"] / r["health"]["cpu_us_per_call"] for r in rows), 2),
                "rate_ratio_to_health": round(statistics.median(
                    r[call]["rpc_per_s"] / r["health"]["rpc_per_s"] for r in rows), 3),
                "rpc_per_s": statistics.median(r[call]["rpc_per_s"] for r in rows),
                "errors": sum(sum(r[call]["errors"].values()) for r in rows),
            }
    if "before" in result:
        for call, row in result["this"].items():
            if call in result["before"]:
                row["cpu_ratio_to_before"] = round(row["cpu_us_per_call"] / result["before"][call]["cpu_us_per_call"],
                                                   3)
    return result


def print_round(row: dict) -> None:
    for name, calls in row["calls"].items():
        cells = "  ".join(f"{call} {m['cpu_us_per_call']:.0f} us ({m['rpc_per_s']:.0f}/s"
                          f"{', errors ' + str(m['errors']) if m['errors'] else ''})" for call, m in calls.items())
        print(f"round {row['round']} {name:6s} load {row['load_average'][0]:.1f}: {cells}", flush=True)


def print_threads(result: dict) -> None:
    print("by thread, median of rounds, us CPU/call: event loop, group-commit writer, gRPC's threads, other, "
          "writer process")
    for call in CALLS:
        for name, calls in result.items():
            if call in calls:
                cells = "  ".join(f"{role} {us:7.1f}" for role, us in calls[call]["thread_us_per_call"].items())
                print(f"  {call:20s} {name:6s} {cells}")


def print_medians(result: dict) -> None:
    print(f"{'median of rounds':22s} {'tree':6s} {'us CPU/call':>12s} {'x health':>9s} {'rate/health':>11s} "
          f"{'x before':>9s} errors")
    for call in CALLS:
        for name, calls in result.items():
            if call in calls:
                m = calls[call]
                print(f"  {call:20s} {name:6s} {m['cpu_us_per_call']:12.1f} {m['cpu_ratio_to_health']:9.2f} "
                      f"{m['rate_ratio_to_health']:11.3f} {m.get('cpu_ratio_to_before', ''):>9} {m['errors']}")


def profiled(target: str, bodies: list[bytes], callers: list[str], args, path: Path) -> dict:
    """A SettleOutpatient phase sampled by py-spy (every thread of the worker and of its writer process, 200 samples
    a second); the summary."""
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                            str(benchlib.server.pids[target]), "--duration", str(int(args.seconds)), "--rate", "200",
                            "--format", "raw", "--threads", "--subprocesses", "--nolineno", "--nonblocking",
                            "--output", str(path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    loadgen.run(target, SETTLE, bodies, concurrency=args.concurrency, seconds=args.seconds, callers=callers)
    spy.wait(60)
    return benchlib.profile_summary(path)


def measure_parts(args, base: str, work: Workload, today: str, round_no: int) -> dict:
    """Durable SettleOutpatient and health on the full server and on one server per part left out (or metrics
    turned on)."""
    variants = {"full": ({}, True), "no_access": ({"without": ("access",)}, True),
                "no_intake": ({"without": ("intake",)}, True),
                "metrics": ({"extra": ("--metrics-listen", f"127.0.0.1:{benchlib.free_port()}")}, True),
                "no_rules": ({}, False)}
    mine = work.round_visits(round_no, args.rounds)
    count = min(work.calls_max, len(mine))
    rows = {}
    for name, (server_args, rules) in variants.items():
        data_dir = benchlib.nation_copy(base, args.work_dir, f"cpu-part-{name}", rules=rules)
        benchlib.age_sketches(data_dir, work.visits, today, args.aged_days, item_ranks=work.item_ranks)
        tag = f"p{round_no}{name[:4]}{int(time.time()) % 10**5}"
        src = args.before if args.parts_of == "before" else None
        try:
            with benchlib.server(data_dir, src=src, **server_args) as target:
                warm = work.visits[-500:]
                loadgen.run(target, SETTLE, benchlib.settle_bodies(warm, today, len(warm), "W" + tag), concurrency=32,
                            seconds=1, callers=benchlib.settle_callers(warm, len(warm)))
                rows[name] = phase(target, SETTLE, benchlib.settle_bodies(mine, today, count, tag),
                                   benchlib.settle_callers(mine, count), seconds=args.seconds,
                                   concurrency=args.concurrency)
                rows[name]["health"] = phase(target, HEALTH, work.health, [benchlib.OPERATOR] * len(work.health),
                                             seconds=args.seconds, concurrency=args.concurrency)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        print(f"  parts round {round_no} {name:10s} settle {rows[name]['cpu_us_per_call']:7.1f} us "
              f"({rows[name]['rpc_per_s']}/s, errors {rows[name]['errors']}), health "
              f"{rows[name]['health']['cpu_us_per_call']:6.1f} us", flush=True)
    return rows


def print_parts(rounds: list[dict]) -> None:
    print("parts (median over rounds of the difference to the full server of the same round, us per call):")
    for name in rounds[0]:
        if name == "full":
            continue
        settle = statistics.median(r[name]["cpu_us_per_call"] - r["full"]["cpu_us_per_call"] for r in rounds)
        health = statistics.median(r[name]["health"]["cpu_us_per_call"] - r["full"]["health"]["cpu_us_per_call"]
                                   for r in rounds)
        print(f"  {name:10s} settle {settle:+7.1f}  health {health:+7.1f}")


if __name__ == "__main__":
    sys.exit(main())
