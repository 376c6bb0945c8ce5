"""Shards by insured province behind a real Envoy (issue 17): three shards from `medsettle cluster up`, and one host
serving the same nation for comparison.

- settlements of persons insured in different provinces land on their own shards, and only there;
- a clearing month gathered from every shard is byte for byte the single host's statement of the same settlements,
  and an institution whose patients are insured on several shards reconciles (3201, 3202) as on one host;
- identity is end to end: the shards record the caller Envoy verified, never Envoy, never a header the caller forged;
- calls that cannot be routed get a stable reason; reference data reaches every shard and a retried push is a no-op;
- kill -9 of one shard: the other provinces keep settling, that province's calls fail fast with UNAVAILABLE, and
  after the restart the same requests succeed and nothing acknowledged is lost.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import benchlib
from medsettle.cluster import fanout
from medsettle.cluster.envoy import HEALTH_INTERVAL_S, UNHEALTHY_THRESHOLD
from medsettle.domain import clearing, flags, region
from medsettle.service.placement import INSURED_PLACE_KEY, SHARD_KEY
from medsettle.v1 import (
    clearing_pb2,
    clearing_pb2_grpc,
    person_pb2,
    person_pb2_grpc,
    reference_data_pb2,
    reference_data_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)
from tests.cluster import harness
from tests.cluster.harness import routed
from tests.conftest import rpc_error_info

pytestmark = pytest.mark.slow
OPS = "national:ops"
FAIL_FAST_S_MAX = 2.0  # a call to a dead shard's province: UNAVAILABLE within this, not a hang
RESTART_S_MAX = 60.0


@pytest.fixture(scope="module")
def nation(tmp_path_factory):
    started = harness.Nation(tmp_path_factory.mktemp("sharded"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def today() -> str:
    return benchlib.today_shanghai()


@pytest.fixture(scope="module")
def insured_of(nation) -> dict[str, str]:
    """psn_no -> insured place, from the single host (which holds every person)."""
    from medsettle.domain.records import Person
    from medsettle.store import codec
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=str(nation.single_dir), map_size_bytes=2**30))
    try:
        with store.read() as view:
            return {person.psn_no: person.insu_lines[0].insuplc_admdvs
                    for person in (codec.decode(data, Person) for _, data in view.txn.cursor(db=view.dbs["persons"]))}
    finally:
        store.close()


@pytest.fixture(scope="module")
def every_visit(nation, today, insured_of):
    """Per shard, every person of it who can settle today (the single host's nation is the shards' too)."""
    found = benchlib.find_visits(str(nation.single_dir), "11", 10_000, today)
    grouped = harness.by_shard(nation, found, insured_of)
    assert set(grouped) == set(nation.shard_map.names), {name: len(v) for name, v in grouped.items()}
    assert all(len(visits) >= 20 for visits in grouped.values())
    return grouped


@pytest.fixture(scope="module")
def visits(every_visit):
    """Four of them per shard."""
    return {name: found[:4] for name, found in every_visit.items()}


_ids = itertools.count(1)


def _settle_request(visit, today: str):
    return benchlib.settle_request(visit, today, f"{visit.fixmedins_code}T{os.getpid()}{next(_ids):08d}")


def _settle(nation, visit, request, insured: str, target: str = ""):
    stub = settlement_pb2_grpc.SettlementServiceStub(nation.channel(f"institution:{visit.fixmedins_code}", target))
    return stub.SettleOutpatient(request, metadata=routed(insured, request.request_id), timeout=10)


def _statement_bytes(nation, month: str) -> bytes:
    stub = clearing_pb2_grpc.ClearingServiceStub(nation.channel(OPS, nation.single_target))
    return stub.GetClearingStatement(clearing_pb2.GetClearingStatementRequest(month=month)).statement.canonical


def test_settlements_land_on_the_shard_of_their_insured_place_and_clearing_equals_one_host(
        nation, visits, insured_of, today):
    settled: dict[str, list[str]] = {}
    held_by_institution: dict[str, list] = {}  # what each institution books from the answers it got
    for shard, chosen in visits.items():
        for visit in chosen:
            request = _settle_request(visit, today)
            insured = insured_of[visit.psn_no]
            through_envoy = _settle(nation, visit, request, insured).settlement
            on_one_host = _settle(nation, visit, request, insured, nation.single_target).settlement
            assert through_envoy.medfee_sumamt == on_one_host.medfee_sumamt > 0
            assert through_envoy.fund_pay_sumamt == on_one_host.fund_pay_sumamt
            settled.setdefault(shard, []).append(through_envoy.setl_id)
            held_by_institution.setdefault(visit.fixmedins_code, []).append(clearing_pb2.ReconcileItem(
                setl_id=through_envoy.setl_id, medfee_sumamt=through_envoy.medfee_sumamt,
                fund_pay_sumamt=through_envoy.fund_pay_sumamt, acct_pay=through_envoy.acct_pay))
    # Each settlement is held by its own shard and by no other.
    for name in nation.shard_map.names:
        store = nation.shard_store(name)
        try:
            with store.read() as view:
                for shard, setl_ids in settled.items():
                    held = [view.settlement(setl_id) is not None for setl_id in setl_ids]
                    assert held == [shard == name] * len(setl_ids), (name, shard)
        finally:
            store.close()

    month = today[:7]
    gathered = fanout.statement(nation.channel("national:clearing"), nation.shard_map.names, month)
    single = _statement_bytes(nation, month)
    assert gathered.canonical == single
    stmt = clearing.decode(single)
    assert sum(p.net_fen for p in stmt.positions) == 0 and len(stmt.pairs) >= len(nation.shard_map.names)
    assert len(set(gathered.parts.values())) == len(nation.shard_map.names)  # three different parts

    # An institution reconciles across shards exactly as on one host (its patients are insured on several).
    institutions = {visit.fixmedins_code for chosen in visits.values() for visit in chosen}
    spread = [code for code in institutions if len({nation.owner(insured_of[v.psn_no]) for chosen in visits.values()
                                                     for v in chosen if v.fixmedins_code == code}) > 1]
    for code in sorted(institutions):
        totals = clearing_pb2.ReconcileTotalsRequest(fixmedins_code=code, begndate=today, enddate=today)
        across = fanout.reconcile_totals(nation.channel(OPS), nation.shard_map.names, totals)
        one = clearing_pb2_grpc.ClearingServiceStub(nation.channel(OPS, nation.single_target)).ReconcileTotals(totals)
        assert (across.setl_cnt, across.medfee_sumamt, across.fund_pay_sumamt, across.acct_pay) == (
            one.setl_cnt, one.medfee_sumamt, one.fund_pay_sumamt, one.acct_pay)
        detail = clearing_pb2.ReconcileDetailRequest(fixmedins_code=code, begndate=today, enddate=today,
                                                     items=held_by_institution[code])
        across_detail = fanout.reconcile_detail(nation.channel(OPS), nation.shard_map.names, detail)
        assert across_detail.match and across_detail.core_setl_cnt == across.setl_cnt > 0
        # One settlement the institution booked wrong: named exactly, whichever shard holds it.
        wrong = clearing_pb2.ReconcileItem()
        wrong.CopyFrom(held_by_institution[code][-1])
        wrong.medfee_sumamt += 1
        detail.items[-1].CopyFrom(wrong)
        differs = fanout.reconcile_detail(nation.channel(OPS), nation.shard_map.names, detail)
        assert not differs.match and [d.setl_id for d in differs.amounts_differ] == [wrong.setl_id]
    assert spread or len(institutions) >= len(nation.shard_map.names)


def test_supervision_gathered_from_every_shard_equals_one_host(nation, every_visit, insured_of, today, tmp_path):
    """Statistics and flags gathered from the shards (cluster/supervision_gather.py) are what one host holding the
    same settlements answers. Runs before any test that sends calls through Envoy only."""
    import json
    import subprocess
    import sys

    from medsettle.cluster import supervision_gather, up

    raised = 0
    for chosen in every_visit.values():
        for visit in chosen[4:6]:  # persons the first test did not settle
            request = _settle_request(visit, today)
            insured = insured_of[visit.psn_no]
            asker = f"province:{region.province_of(insured)}"
            for target in ("", nation.single_target):
                setl = _settle(nation, visit, request, insured, target).settlement
                flag = supervision_pb2.RaiseFlagRequest(request_id=f"Q{request.request_id}", setl_id=setl.setl_id,
                                                        note="请核查 / please check")
                supervision_pb2_grpc.SupervisionServiceStub(nation.channel(asker, target)).RaiseFlag(
                    flag, metadata=routed(insured, flag.request_id), timeout=10)
            raised += 1

    single = supervision_pb2_grpc.SupervisionServiceStub(nation.channel(OPS, nation.single_target))
    asked = supervision_pb2.GetSupervisionStatsRequest(begndate=today, enddate=today, institutions_limit=1000)
    gathered = supervision_gather.supervision_stats(nation.channel(OPS), nation.shard_map.names, asked)
    assert gathered.complete
    assert gathered.response == single.GetSupervisionStats(asked)
    assert gathered.response.totals.setl_cnt >= 2 * len(nation.shard_map.names)
    # A province sees its own part, gathered as on one host.
    province = f"province:{region.province_of(insured_of[every_visit[nation.shard_map.names[0]][4].psn_no])}"
    mine = supervision_pb2.GetSupervisionStatsRequest(begndate=today, enddate=today)
    own = supervision_gather.supervision_stats(nation.channel(province), nation.shard_map.names, mine).response
    assert own == supervision_pb2_grpc.SupervisionServiceStub(
        nation.channel(province, nation.single_target)).GetSupervisionStats(mine)

    def described(flags) -> list[tuple]:  # ids differ between the shards and the host; everything else does not
        return sorted((f.rule_id, f.source, f.fixmedins_code, f.psn_no, f.insuplc_admdvs, f.mdtrtarea_admvs,
                       f.amount, f.status, f.text_zh) for f in flags)

    listed = supervision_pb2.ListFlagsRequest(begndate=today, enddate=today)
    all_flags = supervision_gather.flags(nation.channel(OPS), nation.shard_map.names, listed)
    on_one_host = single.ListFlags(supervision_pb2.ListFlagsRequest(begndate=today, enddate=today, limit=1000))
    assert all_flags.complete and not on_one_host.next_page_token
    assert described(all_flags.flags) == described(on_one_host.flags)
    assert [f.flag_id for f in all_flags.flags] == sorted(f.flag_id for f in all_flags.flags)
    assert sum(f.rule_id == flags.REQUEST_RULE_ID for f in all_flags.flags) == raised
    shortened = supervision_gather.flags(nation.channel(OPS), nation.shard_map.names, listed, flags_max=1)
    assert len(shortened.flags) == 1 and not shortened.complete

    # The command line: the same figures.
    command = [sys.executable, "-m", "medsettle.cli", "cluster", "stats", "--json", "--target", nation.target,
               "--tls-dir", str(nation.tls_dir), "--begndate", today, "--enddate", today, "--institutions", "1000"]
    shown = subprocess.run([*command, "--shard-map", str(nation.cluster_dir / up.MAP_FILE)], capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert int(json.loads(shown.stdout)["totals"]["setl_cnt"]) == gathered.response.totals.setl_cnt
    flags_shown = subprocess.run([sys.executable, "-m", "medsettle.cli", "cluster", "flags", "--target",
                                  nation.target, "--tls-dir", str(nation.tls_dir), "--begndate", today, "--enddate",
                                  today, "--shard-map", str(nation.cluster_dir / up.MAP_FILE)],
                                 capture_output=True, text=True, timeout=120)
    assert flags_shown.returncode == 0, flags_shown.stderr
    assert flags_shown.stdout.splitlines()[-1] == f"{len(all_flags.flags):,} flags"



def test_the_months_report_gathered_from_every_shard_is_one_hosts_report(nation, today, tmp_path):
    """`medsettle report --shard-map` (cluster/report_gather.py): the tables one host holding the same settlements
    prints, its clearing digest included, and the five charts. Runs right after the supervision test, while the
    cluster and the single host hold the same settlements, flags and refusals."""
    import subprocess
    import sys

    from medsettle import report
    from medsettle.cluster import report_gather, up
    from medsettle.store.env import Store, StoreConfig

    month = today[:7]
    gathered = report_gather.gather(nation.channel(OPS), nation.shard_map.names, month)
    names_store = nation.shard_store(nation.shard_map.names[0])  # reference data: on every shard
    try:
        with names_store.read() as view:
            report.name_institutions(gathered.report, view)
    finally:
        names_store.close()
    single_store = Store(StoreConfig(path=str(nation.single_dir), map_size_bytes=2**30))
    try:
        with single_store.read() as view:
            on_one_host = report.gather(view, month)
    finally:
        single_store.close()
    assert gathered.complete
    assert gathered.report.totals.setl_cnt > 0 and gathered.report.book.statement.pairs
    assert report.tables(gathered.report) == report.tables(on_one_host)

    out = tmp_path / "report"
    drawn = subprocess.run([sys.executable, "-m", "medsettle.cli", "report", "--month", month, "--out", str(out),
                            "--target", nation.target, "--tls-dir", str(nation.tls_dir), "--shard-map",
                            str(nation.cluster_dir / up.MAP_FILE), "--names-from",
                            str(nation.cluster_dir / nation.shard_map.names[1])],
                           capture_output=True, text=True, timeout=300)
    assert drawn.returncode == 0, drawn.stderr
    assert (out / f"report_{month}.txt").read_text(encoding="utf-8") == report.tables(on_one_host)
    for name, _ in report.CHARTS:
        assert (out / f"{name}_{month}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

def test_identity_is_the_callers_end_to_end_and_unroutable_calls_get_a_stable_reason(nation, visits, insured_of):
    visit = visits["shard-1"][0]
    hospital = f"institution:{visit.fixmedins_code}"
    persons = person_pb2_grpc.PersonServiceStub(nation.channel(hospital))
    by_psn_no = person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=visit.psn_no))
    insured = insured_of[visit.psn_no]
    # A hospital that claims to be national in a forged x-forwarded-client-cert is still the hospital: Envoy replaced
    # the header with the certificate it verified, and a hospital may not look a person up by psn_no.
    with pytest.raises(grpc.RpcError) as refused:
        persons.GetPerson(by_psn_no, metadata=routed(insured) + (
            ("x-forwarded-client-cert", "URI=medsettle:national:ops"),))
    found_reasons, metadata, _ = rpc_error_info(refused.value)
    assert found_reasons == ["CALLER_NOT_ALLOWED"] and metadata["caller"] == f"medsettle:{hospital}"

    # No insured place on a call about a person: refused with the reason and the remedy, by any shard.
    with pytest.raises(grpc.RpcError) as unrouted:
        person_pb2_grpc.PersonServiceStub(nation.channel(OPS)).GetPerson(by_psn_no)
    assert unrouted.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found_reasons, metadata, _ = rpc_error_info(unrouted.value)
    assert found_reasons == ["INSURED_PLACE_REQUIRED"] and metadata["remedy"] == "NAME_INSURED_PLACE"
    assert "x-insuplc-admdvs" in unrouted.value.details() and "参保地" in unrouted.value.details()
    # The directory on any shard says where the person is insured; with it, the call goes through.
    found = person_pb2_grpc.PersonServiceStub(nation.channel(OPS)).FindInsuredPlace(
        person_pb2.FindInsuredPlaceRequest(person=by_psn_no.person))
    assert found.insuplc_admdvs == region.province_of(insured)
    person = person_pb2_grpc.PersonServiceStub(nation.channel(OPS)).GetPerson(
        by_psn_no, metadata=routed(found.insuplc_admdvs))
    assert person.baseinfo.psn_no == visit.psn_no

    # A push that names no shard would reach one shard only: refused.
    push = reference_data_pb2_grpc.ReferenceDataServiceStub(nation.channel("province:440000"))
    institution = reference_data_pb2.Institution(fixmedins_code="H44019900777", fixmedins_name="分片测试医院",
                                                 admdvs="440199", hosp_lv="2")
    request = reference_data_pb2.PutInstitutionsRequest(request_id="shard-push-1", institutions=[institution])
    with pytest.raises(grpc.RpcError) as unnamed:
        push.PutInstitutions(request)
    assert rpc_error_info(unnamed.value)[0] == ["SHARD_REQUIRED"]
    # To every shard: each writes it once, a retried push is a no-op, and each audit trail names the province.
    first = fanout.every_shard(push.PutInstitutions, request, nation.shard_map.names)
    again = fanout.every_shard(push.PutInstitutions, request, nation.shard_map.names)
    assert [answer.institutions_written for answer in first.values()] == [1] * len(nation.shard_map.names)
    assert list(again.values()) == list(first.values())
    audit = reference_data_pb2_grpc.ReferenceDataServiceStub(nation.channel(OPS))
    for name in nation.shard_map.names:
        entries = audit.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest(method="PutInstitutions"),
                                         metadata=((SHARD_KEY, name),)).entries
        assert [entry.who for entry in entries if entry.request_id == "shard-push-1"] == ["medsettle:province:440000"]
    # Every shard now knows the institution: a catalog read by it is answered by whichever shard Envoy picks.
    health = health_pb2_grpc.HealthStub(nation.channel(hospital)).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_kill_9_of_a_shard_other_provinces_settle_its_calls_fail_fast_then_succeed_with_nothing_lost(
        nation, visits, every_visit, insured_of, today):
    victim, survivor = "shard-1", "shard-2"
    acknowledged: list[tuple[str, str, str]] = []  # (setl_id, insured place, institution)
    pending: list[tuple[object, object]] = []  # requests refused UNAVAILABLE while the shard was down
    unexpected: list[grpc.RpcError] = []
    stop = threading.Event()

    def settle_victims() -> None:
        # Many persons, each settling rarely: a person settling every few milliseconds would soon meet the
        # provinces' audit rules (visit frequency), which refuse by design.
        for visit in itertools.cycle(every_visit[victim][4:]):
            if stop.is_set():
                return
            request = _settle_request(visit, today)
            try:
                answer = _settle(nation, visit, request, insured_of[visit.psn_no])
                acknowledged.append((answer.settlement.setl_id, insured_of[visit.psn_no], visit.fixmedins_code))
            except grpc.RpcError as error:
                (pending if error.code() == grpc.StatusCode.UNAVAILABLE else unexpected).append(
                    (visit, request) if error.code() == grpc.StatusCode.UNAVAILABLE else error)
            time.sleep(0.02)

    load = threading.Thread(target=settle_victims)
    load.start()
    try:
        time.sleep(0.5)
        os.kill(nation.shard_pid(victim), signal.SIGKILL)
        time.sleep(0.2)
        # The dead shard's province: UNAVAILABLE, fast.
        visit = visits[victim][0]
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as down:
            _settle(nation, visit, _settle_request(visit, today), insured_of[visit.psn_no])
        assert down.value.code() == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < FAIL_FAST_S_MAX
        # Other provinces keep settling meanwhile.
        for visit in visits[survivor][:2] + visits["shard-0"][:2]:
            assert _settle(nation, visit, _settle_request(visit, today), insured_of[visit.psn_no]).settlement.setl_id
        # Envoy's health check takes the shard out within a check or two (then calls fail without a connect).
        deadline = time.monotonic() + (UNHEALTHY_THRESHOLD + 4) * HEALTH_INTERVAL_S
        while victim in nation.healthy():
            assert time.monotonic() < deadline, "Envoy still sees the dead shard healthy"
            time.sleep(0.1)
    finally:
        time.sleep(0.3)
        stop.set()
        load.join()
    assert not unexpected, unexpected[:3]
    assert pending, "the load saw the shard down"

    # cluster up starts the shard again; Envoy's health check lets calls through once it serves.
    deadline = time.monotonic() + RESTART_S_MAX
    while victim not in nation.healthy():
        assert time.monotonic() < deadline, "the shard did not come back"
        time.sleep(0.3)
    for visit, request in pending:  # the same request ids: each settles now (or answers as it already had)
        answer = _settle(nation, visit, request, insured_of[visit.psn_no])
        acknowledged.append((answer.settlement.setl_id, insured_of[visit.psn_no], visit.fixmedins_code))
    lookups = settlement_pb2_grpc.SettlementServiceStub(nation.channel(OPS))
    for setl_id, insured, fixmedins_code in acknowledged:
        found = lookups.GetSettlement(settlement_pb2.GetSettlementRequest(setl_id=setl_id, fixmedins_code=fixmedins_code),
                                      metadata=routed(insured))
        assert found.settlement.setl_id == setl_id
    assert len({setl_id for setl_id, _, _ in acknowledged}) == len(acknowledged)


def test_header_naming_a_province_another_shard_owns_is_refused_by_the_shard(nation, visits, insured_of):
    """Envoy routes by x-medsettle-shard first: a call that names shard-0 but a person of shard-1's province reaches
    shard-0, which refuses it rather than answer from a store that does not hold the person."""
    visit = visits["shard-1"][0]
    request = person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=visit.psn_no))
    with pytest.raises(grpc.RpcError) as wrong:
        person_pb2_grpc.PersonServiceStub(nation.channel(OPS)).GetPerson(
            request, metadata=((SHARD_KEY, "shard-0"), (INSURED_PLACE_KEY, insured_of[visit.psn_no])))
    assert wrong.value.code() == grpc.StatusCode.UNAVAILABLE
    assert rpc_error_info(wrong.value)[0] == ["WRONG_SHARD"]


def test_the_node_gateway_settles_through_envoy_learning_the_insured_place_from_the_directory(nation, visits):
    """examples/node/gateway.js against the cluster: 1101 by ID number is answered INSURED_PLACE_REQUIRED, the
    gateway asks the directory, and the visit then settles, retries and reverses on the person's own shard."""
    import json
    import shutil
    import subprocess

    from medsettle.store.env import Store, StoreConfig
    from tests.test_node_example import EXAMPLE, _installed

    _installed()
    visit = visits["shard-2"][0]
    store = Store(StoreConfig(path=str(nation.single_dir), map_size_bytes=2**30))
    try:
        with store.read() as view:
            certno = view.person(visit.psn_no).certno
    finally:
        store.close()
    nation.channel(f"institution:{visit.fixmedins_code}")  # its certificate, from the development CA
    lines = [part for code, cnt, pric, _ in visit.lines[:3] for part in ("--line", f"{code}:{cnt}:{pric}")]
    result = subprocess.run(
        [shutil.which("node") or "node", "gateway.js", "--cert-type", "02", "--cert-no", certno, "--fixmedins-code",
         visit.fixmedins_code, *lines], cwd=EXAMPLE, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "MEDSETTLE_TARGET": nation.target, "MEDSETTLE_TLS_DIR": str(nation.tls_dir)})
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["person"]["psn_no"] == visit.psn_no and report["retry_identical"] is True
    assert report["settlement"]["setl_id"].endswith("02")  # shard-2's id
    assert report["second_reversal"]["reasons"][0]["reason"] == "ALREADY_REVERSED"


def test_medsettle_load_pushes_every_batch_to_every_shard_and_a_rerun_writes_nothing(nation, tmp_path):
    import subprocess
    import sys

    from medsettle.cluster import up

    csv = tmp_path / "institutions.csv"
    csv.write_text("fixmedins_code,fixmedins_name,admdvs,hosp_lv,networked_inpatient,networked_outpatient,"
                   "networked_chronic\nH12010100901,天津市分片测试医院,120101,3,是,是,是\n"
                   "H12010100902,天津市分片测试卫生院,120101,0,否,是,否\n", encoding="utf-8")
    command = [sys.executable, "-m", "medsettle.cli", "load", "institutions", str(csv), "--target", nation.target,
               "--tls-dir", str(nation.tls_dir), "--as", "province:120000", "--no-progress"]
    sharded = [*command, "--shard-map", str(nation.cluster_dir / up.MAP_FILE)]
    first = subprocess.run(sharded, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"institutions on {name}: 2 new, 0 already present"
                                         for name in nation.shard_map.names]
    again = subprocess.run(sharded, capture_output=True, text=True, timeout=120)
    assert again.stdout.splitlines() == [f"institutions on {name}: 0 new, 2 already present"
                                         for name in nation.shard_map.names]
    # Without the map the push would reach one shard only: refused, nothing written.
    one = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert one.returncode == 1 and "SHARD_REQUIRED" in one.stderr and "nothing was written" in one.stderr



def test_prepaid_alerts_and_the_audit_trail_gathered_from_every_shard(nation, tmp_path):
    """Alerts (cluster/records_gather.py): each province's from the shard that owns it, in one host's order; a copy
    left on another shard (as `cluster split` leaves one) is not believed. The audit trail: every shard's entries,
    each with its shard, oldest first. Runs after the load test, whose push every shard audited."""
    import json
    import subprocess
    import sys

    from medsettle.cluster import records_gather, up
    from medsettle.domain.prepaid import PrepaidAlert

    def alert(province: str, month: str) -> PrepaidAlert:
        return PrepaidAlert(insuplc_admdvs=province, year=2026, month=month, usage_bp=8500, warn_threshold_bp=8000,
                            balance_fen=150_000, funded_fen=1_000_000)

    names = nation.shard_map.names
    expected = []
    for number, name in enumerate(names):
        own = nation.shard_map.shard(name).provinces[0]
        elsewhere = nation.shard_map.shard(names[(number + 1) % len(names)]).provinces[0]
        store = nation.shard_store(name)
        try:
            with store.write() as view:  # beside the running shard: LMDB has one writer at a time, any process
                view.put_prepaid_alert(alert(own, "2026-10"))
                view.put_prepaid_alert(alert(elsewhere, "2026-09"))  # a stale copy: another shard owns it
        finally:
            store.close()
        expected.append((own, 2026, "2026-10", 8500))
    clearing_caller = nation.channel("national:clearing")
    gathered = records_gather.prepaid_alerts(clearing_caller, nation.shard_map,
                                             clearing_pb2.ListPrepaidAlertsRequest())
    assert [(a.insuplc_admdvs, a.year, a.month, a.usage) for a in gathered.alerts] == sorted(expected)
    assert not any(a.active for a in gathered.alerts)  # no fund behind them: not active, as on one host

    map_file = str(nation.cluster_dir / up.MAP_FILE)
    shown = subprocess.run([sys.executable, "-m", "medsettle.cli", "cluster", "alerts", "--json", "--target",
                            nation.target, "--tls-dir", str(nation.tls_dir), "--shard-map", map_file],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert [a["insuplc_admdvs"] for a in json.loads(shown.stdout)["alerts"]] == sorted(p for p, *_ in expected)

    asked = reference_data_pb2.ListAuditEntriesRequest(method="PutInstitutions", limit=1000)
    entries = records_gather.audit_entries(nation.channel(OPS), names, asked)
    stub = reference_data_pb2_grpc.ReferenceDataServiceStub(nation.channel(OPS))
    each_shard = {name: list(stub.ListAuditEntries(asked, metadata=((SHARD_KEY, name),), timeout=10).entries)
                  for name in names}
    assert all(each_shard.values())  # the load test's push: audited by every shard
    assert sorted((e.shard, e.entry.request_id) for e in entries) == sorted(
        (name, entry.request_id) for name, listed in each_shard.items() for entry in listed)
    times = [e.entry.when.ToMilliseconds() for e in entries]
    assert times == sorted(times)
    assert len(records_gather.audit_entries(nation.channel(OPS), names, reference_data_pb2.ListAuditEntriesRequest(
        method="PutInstitutions", limit=1))) == 1
    listed = subprocess.run([sys.executable, "-m", "medsettle.cli", "cluster", "audit", "--target", nation.target,
                             "--tls-dir", str(nation.tls_dir), "--shard-map", map_file, "--method",
                             "PutInstitutions", "--limit", "1000"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1] == f"{len(entries):,} entries"
    assert {line.split()[0] for line in listed.stdout.splitlines()[:-1]} == set(names)


def test_cluster_audit_refuses_a_since_it_cannot_read_before_asking_any_shard(tmp_path, capsys):
    """A time without its UTC offset would be read in the tool's own zone: refused, like an unreadable one, with
    usage status and one line, before the shard map is even read."""
    from medsettle.cli import main as cli_main

    for since, said in (("yesterday", "--since must be an ISO 8601 time"),
                        ("2026-12-01T00:00:00", "--since needs its UTC offset")):
        assert cli_main(["cluster", "audit", "--shard-map", str(tmp_path / "absent.json"), "--since", since]) == 2
        assert said in capsys.readouterr().err


def test_the_demo_day_plays_through_envoy_and_reviews_every_shards_flags(nation, today):
    """`medsettle demo day --shard-map`: every call about a person names their insured place, and each place of
    treatment reviews its open flags gathered from every shard, so none is left open today."""
    import re
    import subprocess
    import sys

    from medsettle.cluster import supervision_gather, up

    shard_map = str(nation.cluster_dir / up.MAP_FILE)
    asked = supervision_pb2.GetSupervisionStatsRequest(begndate=today, enddate=today)
    before = supervision_gather.supervision_stats(nation.channel(OPS), nation.shard_map.names, asked).response.totals
    played = subprocess.run([sys.executable, "-m", "medsettle.cli", "demo", "day", "--target", nation.target,
                             "--tls-dir", str(nation.tls_dir), "--shard-map", shard_map, "--persons", "4",
                             "--persons-per-province", str(harness.PERSONS)], capture_output=True, text=True,
                            timeout=300)
    assert played.returncode == 0, played.stdout + played.stderr
    settled, _refused, reversed_ = map(int, re.search(r"settled (\d+), refused (\d+), reversed (\d+)",
                                                      played.stdout).groups())
    assert settled > 0
    after = supervision_gather.supervision_stats(nation.channel(OPS), nation.shard_map.names, asked).response.totals
    assert after.setl_cnt - before.setl_cnt == settled
    assert after.reversal_cnt - before.reversal_cnt == reversed_
    still_open = supervision_gather.flags(nation.channel(OPS), nation.shard_map.names, supervision_pb2.ListFlagsRequest(
        status="OPEN", begndate=today, enddate=today))
    assert still_open.complete and not still_open.flags
