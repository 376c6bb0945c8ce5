"""What every bench driver shares: seed a demo nation, find who can settle where, start a server, build requests.

Not a test module (pytest collects only test_*.py); imported by the drivers in this directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
# Where the benches keep their seeded nations and working copies (--work-dir of every bench).
WORK_DIR = os.environ.get("MEDSETTLE_BENCH_DIR", "/tmp/medsettle-bench")
REPO = BENCH_DIR.parent
PYTHON = sys.executable


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for row in f:
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    return {"nproc": str(os.cpu_count()), "cpu": cpu or platform.processor(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- seeding and choosing who settles where -----------------------------------------------------------------


def nation(work_dir: str, persons_per_province: int) -> str:
    """The cached seeded nation of this size, seeded if missing. Kept per store layout: a nation written with
    another key layout is refused when opened, so a new layout gets a new cache."""
    from medsettle.store.env import STORE_LAYOUT

    base = os.path.join(work_dir, f"nation-{persons_per_province}-layout{STORE_LAYOUT}")
    if stale_records(base):
        # Seeded by an older release (records as maps, format 1): every read would pay for converting them, which
        # no deployment does after `medsettle migrate`, and both trees of an A/B would be measured on it.
        print(f"{base}: records of an older format; seeding it again", file=sys.stderr)
        shutil.rmtree(base)
    seed(base, persons_per_province)
    return base


def nation_copy(base: str, work_dir: str, prefix: str, *, rules: bool = True) -> str:
    """A fresh copy of a cached nation (`nation`) in a new directory under work_dir: every run settles against its own.
    rules=False: without its audit rules."""
    data_dir = tempfile.mkdtemp(prefix=f"{prefix}-", dir=work_dir)
    shutil.copy(os.path.join(base, "data.mdb"), data_dir)
    if not rules:
        drop_audit_rules(data_dir)
    return data_dir


# Volumes of the aged distributions (age_sketches): amounts counted per day in each item's distribution of a place
# of treatment (one item in four of a settlement is sampled into it) and in each institution's outpatient one.
AGED_ITEM_AMOUNTS_PER_DAY = 20
AGED_VISIT_AMOUNTS_PER_DAY = 60
ITEM_POOL_HEAD = 10  # with --item-pool: the most used item as busy as ten of the bench's own
_AGED_QUANTITIES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 7, 10, 14, 20, 28)  # units per line: mostly a few


def age_sketches(data_dir: str, visits, today: str, days: int, seed: int = 15,
                 item_ranks: dict[tuple[str, str], int] | None = None) -> int:
    """Give every distribution the visits read and feed `days` days of history before today (at most the 90 the
    distributions keep), as a deployment's are in its steady state; a freshly seeded nation holds only today's slot.
    An item's line amounts: its unit price times a few units, mostly; an institution's visit totals: the visit's own
    total times a log-normal factor (median 1, a long tail both ways). item_ranks (with_item_pool's): an item of rank
    r gets AGED_ITEM_AMOUNTS_PER_DAY x ITEM_POOL_HEAD / r amounts a day (the head busier than any bench item, the tail
    one every few weeks), as popular as the visits draw it. Deterministic (`seed`). Returns how many distributions it
    wrote (none when `days` is 0: the seeded nation as it is)."""
    import random
    from decimal import Decimal

    from medsettle.domain import amount_sketch, codes, region
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.view import SKETCH_ITEM, SKETCH_VISIT

    assert 0 <= days <= amount_sketch.WINDOW_DAYS
    if not days:
        return 0
    rng = random.Random(seed)
    first_day = amount_sketch.day_number(today) - days
    items: dict[tuple[str, str], int] = {}  # (province, code) -> unit amount in fen
    totals: dict[str, list[int]] = {}  # institution -> the visits' totals
    for visit in visits:
        province = region.province_of(visit.province)
        for code, cnt, _, amount_fen in visit.lines:
            items.setdefault((province, code), max(1, amount_fen // max(1, int(Decimal(cnt)))))
        totals.setdefault(visit.fixmedins_code, []).append(sum(line[3] for line in visit.lines))

    def history(draw, per_day: Callable[[int], int]) -> amount_sketch.AmountSketch:
        # One add per slot of the days' amounts in order: the sketch that one add a day makes, sooner.
        sketch = amount_sketch.AmountSketch()
        day, end = first_day, first_day + days
        while day < end:
            slot_end = min(end, amount_sketch.slot_start(day) + amount_sketch.SLOT_DAYS)
            amounts = [draw() for d in range(day, slot_end) for _ in range(per_day(d - first_day))]
            if amounts:
                sketch = amount_sketch.add(sketch, day, amounts)
            day = slot_end
        return sketch

    def item_per_day(rank: int | None) -> Callable[[int], int]:
        if rank is None:
            return lambda _: AGED_ITEM_AMOUNTS_PER_DAY
        per_day_times_rank = AGED_ITEM_AMOUNTS_PER_DAY * ITEM_POOL_HEAD
        return lambda d: (d + 1) * per_day_times_rank // rank - d * per_day_times_rank // rank  # a fraction a day

    store = Store(StoreConfig(path=data_dir))
    try:
        with store.write() as view:
            for (province, code), unit_fen in items.items():
                rank = None if item_ranks is None else item_ranks[province, code]
                sketch = history(lambda unit_fen=unit_fen: unit_fen * rng.choice(_AGED_QUANTITIES),
                                 item_per_day(rank))
                view.put_sketch(sketch, SKETCH_ITEM, province, code)
            for institution, visit_totals in totals.items():
                sketch = history(lambda t=visit_totals: max(1, int(rng.choice(t) * rng.lognormvariate(0, 0.8))),
                                 lambda _: AGED_VISIT_AMOUNTS_PER_DAY)
                view.put_sketch(sketch, SKETCH_VISIT, institution, codes.CLR_TYPE_OUTPATIENT)
    finally:
        store.close()
    return len(items) + len(totals)


def with_item_pool(data_dir: str, visits, today: str, pool_items: int, seed: int = 15):
    """(visits, item ranks): the visits with the lines of a deployment's many items in use, where the export's
    visits bill the same ten items of each province. Each visit keeps its number of lines, drawn without repeats from
    the first `pool_items` billable items of its place of treatment (visits_export.billable_lines: unrestricted,
    priced class A/B, code order) by Zipf's law, the item of rank r in proportion to 1/r; ranks is (province, code)
    -> r, for age_sketches. pool_items 0: the visits as they are (and no ranks). Deterministic (`seed`)."""
    import bisect
    import dataclasses
    import itertools
    import random

    if not pool_items:
        return visits, None
    pools = item_pools(data_dir, today, pool_items)
    rng = random.Random(seed)
    weights_cum = list(itertools.accumulate(1 / rank for rank in range(1, pool_items + 1)))
    drawn = []
    for visit in visits:
        pool = pools[visit.province]
        assert len(pool) >= len(visit.lines), f"{visit.province}: {len(pool)} billable items, fewer than a visit's"
        top = weights_cum[len(pool) - 1]
        picked: set[int] = set()
        while len(picked) < len(visit.lines):
            picked.add(bisect.bisect_left(weights_cum, rng.random() * top, 0, len(pool) - 1))
        drawn.append(dataclasses.replace(visit, lines=tuple(pool[index] for index in sorted(picked))))
    ranks = {(province, line[0]): rank for province, pool in pools.items() for rank, line in enumerate(pool, 1)}
    return drawn, ranks


def item_pools(data_dir: str, today: str, pool_items: int) -> dict[str, list[tuple]]:
    """Province -> its first `pool_items` billable lines (visits_export.billable_lines), cached in data_dir: a bench's
    --before tree reads them from there (its medsettle may predate billable_lines)."""
    cache = Path(data_dir) / f"item-pool-{pool_items}-{today}.json"
    if not cache.exists():
        import itertools

        from medsettle import visits_export
        from medsettle.domain import region
        from medsettle.store.env import Store, StoreConfig

        store = Store(StoreConfig(path=data_dir))
        try:
            with store.read() as view:
                pools = {province: [line for _, line in itertools.islice(
                    visits_export.billable_lines(view, province, today), pool_items)]
                    for province in sorted({region.province_of(i.admdvs) for i in view.all_institutions()
                                            if region.is_known(i.admdvs)})}
        finally:
            store.close()
        cache.write_text(json.dumps(pools))
    return {province: [tuple(line) for line in lines] for province, lines in json.loads(cache.read_text()).items()}


def add_item_pool(parser) -> None:
    """The benches' --item-pool (with_item_pool)."""
    parser.add_argument("--item-pool", type=int, default=0,
                        help="the outpatient visits bill items drawn from this many of each province's catalog, "
                             "Zipf's law (0: the export's ten items a province)")


def add_aged_days(parser) -> None:
    """The benches' --aged-days (age_sketches)."""
    parser.add_argument("--aged-days", type=int, default=0,
                        help="days of history in the distributions the settlements read and feed (at most 90; "
                             "0: the seeded nation's, today's only)")


def stale_records(data_dir: str) -> bool:
    """Whether a seeded nation holds reference records in a format this release no longer writes (the first
    record of each seeded keyspace is enough: one release seeds all of them)."""
    if not (Path(data_dir) / "data.mdb").exists():
        return False
    import lmdb

    from medsettle.store import codec

    env = lmdb.open(data_dir, readonly=True, lock=False, max_dbs=64, subdir=True)
    try:
        with env.begin() as txn:
            for name in (b"persons", b"catalog", b"policies", b"institutions"):
                cursor = txn.cursor(db=env.open_db(name, txn=txn, create=False))
                if cursor.first() and not codec.is_current(cursor.value()):
                    return True
    finally:
        env.close()
    return False


def seed(data_dir: str, persons_per_province: int, items_per_province: int = 20_000) -> None:
    """`medsettle seed` into data_dir unless it already holds a nation."""
    if (Path(data_dir) / "data.mdb").exists():
        return
    subprocess.run([PYTHON, "-m", "medsettle.cli", "seed", "--data-dir", data_dir, "--persons-per-province",
                    str(persons_per_province), "--items-per-province", str(items_per_province)], check=True,
                   stdout=subprocess.DEVNULL)


INPATIENT_VISITS = 5_000  # of the mix's export: the persons who settle stays (the rest settle as outpatients)


def find_visits(data_dir: str, med_type: str, count_max: int, today: str) -> list:
    """Everyone who can settle `med_type` ("11" or "21") where today (medsettle bench export-visits' search), cached
    in data_dir (the search reads the whole nation once)."""
    from medsettle import visits_export

    cache = Path(data_dir) / f"visits-{visits_export.FORMAT}-{med_type}-{today}.json"
    if not cache.exists():
        inpatient = med_type == visits_export.MED_TYPE_INPATIENT
        cache.write_text(json.dumps(_export(data_dir, today, 0 if inpatient else 10**9, 10**9 if inpatient else 0)))
    _, outpatient, inpatient = visits_export.read(cache)
    return (outpatient or inpatient)[:count_max]


def export_visits(data_dir: str, today: str) -> Path:
    """The mix's export of a nation (INPATIENT_VISITS persons for stays, every other one for outpatient visits: a
    person in one list only), cached in data_dir."""
    from medsettle import visits_export

    cache = Path(data_dir) / f"export-{visits_export.FORMAT}-{today}.json"
    if not cache.exists():
        cache.write_text(json.dumps(_export(data_dir, today, 10**9, INPATIENT_VISITS)))
    return cache


def _export(data_dir: str, today: str, outpatient_max: int, inpatient_max: int) -> dict:
    from medsettle import visits_export
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=data_dir))
    try:
        return visits_export.export(store, today, outpatient_max, inpatient_max)
    finally:
        store.close()


# -- requests ---------------------------------------------------------------------------------------------------


def stay_lines(lines, count: int) -> list[tuple[str, str, str, int]]:
    """`count` lines of one day of a stay from a visit's bench lines: each service item (诊查, 检查: the demo's rules
    refuse one charged twice a day) once, the drugs and materials as often as it takes."""
    from medsettle.demo.rules import SERVICE_PREFIX

    services = [line for line in lines if line[0].startswith(SERVICE_PREFIX)]
    others = [line for line in lines if not line[0].startswith(SERVICE_PREFIX)]
    assert others, "a stay needs items that may repeat"
    return (services + [others[i % len(others)] for i in range(count)])[:count]


def fee_lines_pb(lines, today: str, sn_start: int = 1):
    from medsettle.v1 import common_pb2

    return [common_pb2.FeeLine(feedetl_sn=f"{sn_start + i:05d}", med_list_codg=code, cnt=cnt, pric=pric,
                               det_item_fee_sumamt=amount, fee_ocur_time=today)
            for i, (code, cnt, pric, amount) in enumerate(lines)]


def outpatient_claim(visit, today: str):
    from medsettle.v1 import person_pb2, settlement_pb2

    lines = fee_lines_pb(visit.lines, today)
    return settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no=visit.psn_no),
                                          fixmedins_code=visit.fixmedins_code, med_type="11", fee_lines=lines,
                                          medfee_sumamt=sum(line.det_item_fee_sumamt for line in lines))


def settle_request(visit, today: str, request_id: str):
    from medsettle.v1 import settlement_pb2

    return settlement_pb2.SettleOutpatientRequest(request_id=request_id, claim=outpatient_claim(visit, today))


def pre_settle_request(visit, today: str):
    from medsettle.v1 import settlement_pb2

    return settlement_pb2.PreSettleOutpatientRequest(claim=outpatient_claim(visit, today))


def settle_bodies(visits, today: str, count: int, tag: str) -> list[bytes]:
    """`count` unique SettleOutpatient bodies, round-robin over the visits (so each person settles rarely)."""
    prebuilt = [settle_request(v, today, "") for v in visits]
    bodies = []
    for n in range(count):
        request = prebuilt[n % len(prebuilt)]
        request.request_id = f"B{tag}{n:010d}"
        bodies.append(request.SerializeToString())
    return bodies


def settle_callers(visits, count: int) -> list[str]:
    """Who sends each of settle_bodies(visits, ..., count): the hospital of its visit."""
    return [f"institution:{visits[n % len(visits)].fixmedins_code}" for n in range(count)]


def grpc_frame(message_bytes: bytes) -> bytes:
    """The gRPC length-prefixed message: 1 byte uncompressed flag, 4 bytes big-endian length, the message."""
    return b"\x00" + len(message_bytes).to_bytes(4, "big") + message_bytes


def today_shanghai() -> str:
    from medsettle.service.clock import Clock

    return Clock().today()


# -- a server in a child process ------------------------------------------------------------------------------


CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def stat_cpu_s(stat_text: str) -> float:
    """utime + stime in seconds, from the text of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat (fields 14 and 15
    of proc_pid_stat(5); the command name before them may hold spaces and parentheses)."""
    fields = stat_text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def children(pid: int) -> list[int]:
    """The live child processes of a process (a worker's writer process), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_s(pid: int) -> float:
    """utime + stime of a process, all its threads, and of its live child processes (the server's CPU includes its
    writer process's), in seconds."""
    return stat_cpu_s(Path(f"/proc/{pid}/stat").read_text()) + sum(cpu_s(child) for child in children(pid))


def thread_cpu_s(pid: int) -> dict[str, float]:
    """utime + stime of a process's threads by role, in seconds: the event loop (the main thread), the group-commit
    writer (named medsettle-write), gRPC's own threads (event_engine, grpc_*), any other, and the writer process (a
    child process)."""
    from medsettle.store.writer import THREAD_NAME

    roles = {"loop": 0.0, "writer": 0.0, "grpc": 0.0, "other": 0.0,
             "writer_process": sum(cpu_s(child) for child in children(pid))}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            raw = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        role = ("loop" if int(task.name) == pid else "writer" if comm == THREAD_NAME.decode() else
                "grpc" if comm.startswith(("event_engine", "grpc")) else "other")
        roles[role] += stat_cpu_s(raw)
    return roles


# Layers of the server a measurement can leave out (`server(without=...)`), by the class of their interceptor.
INTERCEPTORS = {"access": "Access", "intake": "IntakeInterceptor"}


@contextlib.contextmanager
def server(data_dir: str, workers: int = 1, port: int | None = None, log_path: str | None = None,
           tls_dir: str | None = None, extra: tuple[str, ...] = (), src: str | None = None,
           without: tuple[str, ...] = (), collector_log: str | None = None,
           python: str | None = None) -> Iterator[str]:
    """`medsettle serve` on data_dir: plaintext on loopback (callers named by the x-medsettle-caller metadata), or
    mutual TLS from `tls_dir`; yields host:port once health says SERVING; SIGTERM at the end. `server.pid` is the
    process's id while it runs (for its CPU time in /proc). `src`: another source tree's package (PYTHONPATH).
    `without`: layers of INTERCEPTORS left out, to measure what they cost (never for anything else).
    `collector_log`: the server writes there, as it exits, every run of Python's cyclic collector (`collections`).
    `python`: the interpreter the server runs under (default: this one), e.g. another build of CPython, whose
    environment has the project's dependencies."""
    assert not (without and collector_log), "one wrapper at a time"
    port = port or free_port()
    target = f"127.0.0.1:{port}"
    log = open(log_path or os.devnull, "w")  # noqa: SIM115 - closed below
    security = ["--tls-dir", tls_dir] if tls_dir else ["--insecure"]
    env = dict(os.environ, PYTHONPATH=src) if src else None
    python = python or PYTHON
    entry = ([python, __file__, "serve-without", ",".join(without)] if without
             else [python, __file__, "serve-timing-collector", collector_log] if collector_log
             else [python, "-m", "medsettle.cli"])
    process = subprocess.Popen([*entry, "serve", "--data-dir", data_dir, "--listen", target,
                                "--workers", str(workers), *security, *extra], stdout=log, stderr=subprocess.STDOUT,
                               env=env)
    server.pid = process.pid
    server.pids[target] = process.pid
    try:
        wait_serving(target, process, tls_dir=tls_dir)
        yield target
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


server.pids = {}  # target -> pid of every server started (several may run at once)


OPERATOR = "national:ops"  # who the drivers' own calls (health, set-up) are made as


def channel(target: str, caller: str = OPERATOR, tls_dir: str | None = None, options=()):
    """A blocking channel on which calls are made as `caller` (metadata on plaintext, a certificate over mTLS)."""
    import pathlib

    import grpc

    from medsettle import connect, tls
    from medsettle.service import identity

    if tls_dir:
        credentials = tls.channel_credentials(pathlib.Path(tls_dir), identity.of(caller))
        return grpc.secure_channel(target, credentials, options=list(options))
    return grpc.intercept_channel(grpc.insecure_channel(target, options=list(options)),
                                  connect.caller_header(identity.of(caller)))


def wait_serving(target: str, process: subprocess.Popen | None = None, timeout_s: float = 60.0,
                 tls_dir: str | None = None) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with channel(target, tls_dir=tls_dir) as health_channel:
            try:
                answer = health_pb2_grpc.HealthStub(health_channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
        time.sleep(0.2)
    raise TimeoutError(f"{target} not serving after {timeout_s} s")


def write_report(kind: str, report: dict) -> Path:
    """bench/out/<kind>-<local time>.json, said on stdout: every bench's report, the file RESULTS.md names."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"report: {path}")
    return path


# -- two source trees in one run (in-process A/B benches) ----------------------------------------------------


def source_trees(before: str) -> dict[str, str]:
    """src/ of this checkout as "this" and, given --before, another tree's src/ as "before"."""
    trees = {"this": str(REPO / "src")}
    if before:
        trees["before"] = str(Path(before).resolve())
    return trees


def in_turn(trees: dict[str, str], rounds: int) -> Iterator[tuple[int, str]]:
    """(round, tree) for every tree in every round, which tree goes first alternating, so that both see the same
    machine weather."""
    for round_no in range(rounds):
        yield from ((round_no, name) for name in (list(trees) if round_no % 2 == 0 else list(reversed(trees))))


def child_result(script: str, tree: str, args: list[str], *, echo_stderr: bool = False) -> dict:
    """`script --child ARGS` in a process that imports medsettle from `tree`: the JSON it prints last."""
    done = subprocess.run([PYTHON, script, "--child", *args], env={**os.environ, "PYTHONPATH": tree},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{Path(script).name} --child on {tree} failed:\n{done.stderr}")
    if echo_stderr:
        print(done.stderr)
    return json.loads(done.stdout.splitlines()[-1])


def print_medians(found: dict[str, list[float]], unit: str = "us") -> None:
    """Each tree's median over the rounds, and this tree's ratio to the other's."""
    import statistics

    for name, values in found.items():
        ratio = (f"  x before {statistics.median(values) / statistics.median(found['before']):.3f}"
                 if name != "before" and "before" in found else "")
        print(f"median {name:6s} {statistics.median(values):7.1f} {unit}{ratio}")


def next_beat(beat_s: float, period_s: float, now_s: float) -> tuple[float, float]:
    """A driver's user on its own beat: (when its next task starts, seconds to wait until then), given when its
    current task started and the time now. A task that overran its beat is followed at once, and the beat starts
    again from there: no burst of catching up."""
    assert period_s > 0 and now_s >= beat_s
    following_s = max(beat_s + period_s, now_s)
    return following_s, following_s - now_s


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def drop_audit_rules(data_dir: str) -> None:
    """Remove every audit rule of a nation copy: supervision then keeps its books but evaluates no rule."""
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=data_dir))
    try:
        with store.write() as view:
            view.drop_audit_rules()
    finally:
        store.close()


def _serve_without(layers: str, argv: list[str]) -> int:
    """`medsettle <argv>` with the named interceptors left out of every server it builds (a measurement only)."""
    from medsettle import cli, server

    dropped = {INTERCEPTORS[name] for name in layers.split(",")}
    if hasattr(server, "layers"):  # this tree: the layers applied at registration
        every = server.layers

        def fewer(app, *, insecure: bool) -> tuple:
            kept = tuple(each for each in every(app, insecure=insecure) if type(each).__name__ not in dropped)
            assert len(kept) == len(every(app, insecure=insecure)) - len(dropped), "a layer to leave out is not there"
            return kept

        server.layers = fewer
    else:  # a tree before issue 15: the same classes given to grpc.aio.server as interceptors
        import grpc

        build = grpc.aio.server

        def server_without(*args, interceptors=(), **kwargs):
            kept = [each for each in interceptors if type(each).__name__ not in dropped]
            assert len(kept) == len(interceptors) - len(dropped), "an interceptor to leave out is not there"
            return build(*args, interceptors=kept, **kwargs)

        grpc.aio.server = server_without
    sys.argv = ["medsettle", *argv]
    return cli.main()


def _serve_timing_collector(log_path: str, argv: list[str]) -> int:
    """`medsettle <argv>`, timing every run of the cyclic garbage collector (a measurement only): at exit,
    log_path holds {"collections": [[unix start s, generation, ms], ...]}."""
    import atexit
    import gc

    from medsettle import cli

    runs: list[list] = []
    started: list[float] = [0.0, 0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.time(), time.perf_counter()]
        else:
            runs.append([started[0], info["generation"], (time.perf_counter() - started[1]) * 1000])

    gc.callbacks.append(timed)
    atexit.register(lambda: Path(log_path).write_text(json.dumps({"collections": runs})))
    sys.argv = ["medsettle", *argv]
    return cli.main()


def collections_between(log_path: str, first_s: float, last_s: float) -> dict:
    """Per generation: how many collections started in [first_s, last_s], their total and longest ms."""
    runs = json.loads(Path(log_path).read_text())["collections"]
    by_generation: dict = {}
    for at_s, generation, ms in runs:
        if first_s <= at_s <= last_s:
            mine = by_generation.setdefault(f"gen{generation}", {"count": 0, "total_ms": 0.0, "max_ms": 0.0})
            mine["count"] += 1
            mine["total_ms"] = round(mine["total_ms"] + ms, 2)
            mine["max_ms"] = round(max(mine["max_ms"], ms), 2)
    return by_generation


# -- profiles (py-spy raw: "thread (0x..);frame;frame;... count" per distinct stack) ------------------------------

_THREADS = (("group-commit writer", "_loop (medsettle/store/writer.py)"),
            ("writer process", "_serve (medsettle/service/writer_process.py)"), ("event loop", "worker_main"),
            ("event loop", "run (uvloop"))


def profile_summary(path: Path, top: int = 30) -> dict:
    """Samples per thread, and the functions with the most samples: self (the leaf) and inclusive (anywhere in
    the stack, once per sample)."""
    from collections import Counter

    threads: Counter = Counter()
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for row in Path(path).read_text().splitlines():
        stack, _, count_text = row.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")[1:]  # the first is the thread
        total += count
        thread = next((name for name, marker in _THREADS if any(marker in frame for frame in frames)), "other")
        threads[thread] += count
        own[frames[-1] if frames else "?"] += count
        for frame in set(frames):
            inclusive[frame] += count
    share = {name: round(n / total, 3) for name, n in threads.most_common()} if total else {}
    return {"samples": total, "threads": share,
            "self": [(f, round(n / total, 3)) for f, n in own.most_common(top)],
            "inclusive": [(f, round(n / total, 3)) for f, n in inclusive.most_common(top * 2)]}


def print_profile(summary: dict) -> None:
    print(f"profile: {summary['samples']} samples; threads {summary['threads']}")
    for kind in ("self", "inclusive"):
        print(f"  {kind}:")
        for frame, share in summary[kind]:
            print(f"    {share * 100:5.1f}%  {frame}")


if __name__ == "__main__" and sys.argv[1:2] == ["serve-without"]:
    sys.exit(_serve_without(sys.argv[2], sys.argv[3:]))
if __name__ == "__main__" and sys.argv[1:2] == ["serve-timing-collector"]:
    sys.exit(_serve_timing_collector(sys.argv[2], sys.argv[3:]))
