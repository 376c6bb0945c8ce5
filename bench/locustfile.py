"""The 17:1 mix: a Locust gRPC user (gevent-patched grpc) against a medsettle deployment. Run it with bench/mix.sh.

Tasks (weights per user cycle):
  outpatient settlement (SettleOutpatient, 10 lines, unique request_id)      17
  inpatient stay: Admit, UploadInpatientFees 300 lines in 3 batches of 100,
                  SettleInpatient (300 lines), Discharge                      1   (outpatient : inpatient = 17 : 1)
  pre-settlement (PreSettleOutpatient)                                       6
  person look-up (GetPerson)                                                 8
  reversal of one of this user's own earlier outpatient settlements          1
Persons come from a visits export (MEDSETTLE_BENCH_VISITS: `medsettle bench export-visits`, from the deployment's own
data: filed persons and an institution their filing covers where CheckBenefit says OK today); every user takes its own
slice, so a user's stays never collide. Each call is reported to Locust with the method name; a gRPC error is a
failure (nothing is retried).

Who calls, as a real deployment sees it: each call as the hospital its request names, a person look-up by psn_no as
national operations. MEDSETTLE_BENCH_TLS_DIR set: mutual TLS, one connection per caller with its certificate from that
directory (`medsettle certs init --institution CODE ... --national ops`); unset: plaintext to a loopback
`serve --insecure`, the caller named in the x-medsettle-caller metadata. Every call concerns a person and carries
`x-insuplc-admdvs: <the person's insured place>`, by which a sharded deployment's proxy routes it.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import random
import sys
import time

import gevent
import grpc.experimental.gevent as grpc_gevent

grpc_gevent.init_gevent()  # before any channel exists
# In gevent mode grpc waits for each blocking call in a thread of the gevent hub's pool, for the call's whole length,
# and keeps one thread for itself: with the pool's default 10 threads, a tenth call in flight waited for a thread,
# and its latency was the driver's, not the server's. Threads are started only when needed.
GEVENT_THREADS_MAX = 1024
gevent.get_hub().threadpool.maxsize = GEVENT_THREADS_MAX

import grpc  # noqa: E402
from locust import User, between, events, task  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

from medsettle import tls, visits_export  # noqa: E402
from medsettle.service import identity, placement  # noqa: E402
from medsettle.v1 import (  # noqa: E402
    person_pb2,
    person_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
)

INPATIENT_LINES = int(os.environ.get("MEDSETTLE_BENCH_INPATIENT_LINES", "300"))
UPLOAD_BATCH = 100
TASKS_PER_S_PER_USER = float(os.environ.get("MEDSETTLE_BENCH_TASKS_PER_S", "0"))  # 0: as fast as possible
TLS_DIR = os.environ.get("MEDSETTLE_BENCH_TLS_DIR", "")
OPERATOR = "national:ops"  # a person look-up by psn_no, which a hospital may not make
_ids = itertools.count(1)
_users = itertools.count(0)
_TODAY = ""
_VISITS_OUT: list = []
_VISITS_IN: list = []
_channels: dict[str, grpc.Channel] = {}  # per caller over mTLS (its certificate); one ("") over plaintext
_stubs: dict[tuple[type, str], object] = {}


@events.init.add_listener
def _load(environment, **_kwargs) -> None:
    global _TODAY, _VISITS_OUT, _VISITS_IN
    _TODAY, _VISITS_OUT, _VISITS_IN = visits_export.read(os.environ["MEDSETTLE_BENCH_VISITS"])


def _request_id() -> str:
    return f"L{os.getpid()}-{next(_ids)}"


def _lines(visit, count: int, sn_start: int = 1) -> list:
    chosen = visit.lines if count <= len(visit.lines) else benchlib.stay_lines(visit.lines, count)
    return benchlib.fee_lines_pb(chosen[:count], _TODAY, sn_start)


def _channel(target: str, caller: str) -> grpc.Channel:
    key = caller if TLS_DIR else ""
    found = _channels.get(key)
    if found is None:
        if TLS_DIR:
            credentials = tls.channel_credentials(pathlib.Path(TLS_DIR), identity.of(caller))
            found = grpc.secure_channel(target, credentials)
        else:
            found = grpc.insecure_channel(target)
        _channels[key] = found
    return found


def _stub(service: type, target: str, caller: str):
    key = (service, caller if TLS_DIR else "")
    found = _stubs.get(key)
    if found is None:
        found = _stubs[key] = service(_channel(target, caller))
    return found


def _metadata(caller: str, visit) -> tuple[tuple[str, str], ...]:
    shard = ((placement.INSURED_PLACE_KEY, visit.insuplc_admdvs),)
    return shard if TLS_DIR else identity.metadata(caller) + shard


def _on_beat(user) -> float:
    """Seconds until the user's next task: one task every 1/TASKS_PER_S_PER_USER s on the user's own beat.

    Not Locust's constant_throughput: it counts each user's beat from the user's creation, the same instant for every
    user, so all users call together once a beat (at 100 users and 1,000 req/s, a burst of 100 calls every 115 ms,
    which no set of independent hospital windows makes: 85% of 10 ms slices without a call, others with 30-40)."""
    user.beat_s, wait_s = benchlib.next_beat(user.beat_s, 1 / TASKS_PER_S_PER_USER, time.perf_counter())
    return wait_s


class SettlementUser(User):
    wait_time = _on_beat if TASKS_PER_S_PER_USER else between(0, 0)

    def on_start(self) -> None:
        self.target = (self.host or os.environ.get("MEDSETTLE_LISTEN", "127.0.0.1:50051")).removeprefix("http://")
        index = next(_users)
        users = max(1, self.environment.runner.target_user_count or 1) if self.environment.runner else 1
        self.out = _VISITS_OUT[index % users::users] or _VISITS_OUT
        self.inp = _VISITS_IN[index % users::users] or _VISITS_IN
        self.rng = random.Random(index)
        self.settled: list[tuple[object, str]] = []  # (visit, setl_id) of this user's own settlements
        if TASKS_PER_S_PER_USER:
            # Locust starts every user at the same instant: each user's first task starts somewhere in its first
            # beat instead, so that the users' calls spread over the beat (see _on_beat).
            gevent.sleep(self.rng.random() / TASKS_PER_S_PER_USER)
        self.beat_s = time.perf_counter()  # when this user's current task started, on its beat

    def _call(self, name: str, service, method: str, request, visit, caller: str = ""):
        """`method` of `service` (a stub class) as `caller` (default: the visit's hospital), concerning visit's
        person."""
        caller = caller or f"institution:{visit.fixmedins_code}"
        stub = _stub(service, self.target, caller)
        started = time.perf_counter()
        response = exception = None
        try:
            response = getattr(stub, method)(request, timeout=30, metadata=_metadata(caller, visit))
        except grpc.RpcError as error:
            exception = error
        events.request.fire(request_type="grpc", name=name, response_time=(time.perf_counter() - started) * 1000,
                            response_length=response.ByteSize() if response is not None else 0,
                            exception=exception, context={})
        return response

    def _claim(self, visit):
        lines = _lines(visit, 10)
        return settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no=visit.psn_no),
                                              fixmedins_code=visit.fixmedins_code, med_type="11", fee_lines=lines,
                                              medfee_sumamt=sum(line.det_item_fee_sumamt for line in lines))

    @task(17)
    def settle_outpatient(self) -> None:
        visit = self.rng.choice(self.out)
        answer = self._call("SettleOutpatient", Settlements, "SettleOutpatient", settlement_pb2.SettleOutpatientRequest(
            request_id=_request_id(), claim=self._claim(visit)), visit)
        if answer is not None and len(self.settled) < 1000:
            self.settled.append((visit, answer.settlement.setl_id))

    @task(6)
    def pre_settle_outpatient(self) -> None:
        visit = self.rng.choice(self.out)
        self._call("PreSettleOutpatient", Settlements, "PreSettleOutpatient",
                   settlement_pb2.PreSettleOutpatientRequest(claim=self._claim(visit)), visit)

    @task(8)
    def get_person(self) -> None:
        visit = self.rng.choice(self.out)
        self._call("GetPerson", Persons, "GetPerson",
                   person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=visit.psn_no)), visit, OPERATOR)

    @task(1)
    def reverse(self) -> None:
        if not self.settled:
            return
        visit, setl_id = self.settled.pop(self.rng.randrange(len(self.settled)))
        self._call("ReverseSettlement", Settlements, "ReverseSettlement", settlement_pb2.ReverseSettlementRequest(
            request_id=_request_id(), fixmedins_code=visit.fixmedins_code, setl_id=setl_id), visit)

    @task(1)
    def inpatient_stay(self) -> None:
        visit = self.rng.choice(self.inp)
        code = visit.fixmedins_code
        admitted = self._call("Admit", Settlements, "Admit", settlement_pb2.AdmitRequest(
            request_id=_request_id(), person=person_pb2.PersonRef(psn_no=visit.psn_no), fixmedins_code=code,
            med_type="21"), visit)
        if admitted is None:
            return
        mdtrt_id = admitted.mdtrt_id
        lines = _lines(visit, INPATIENT_LINES)
        for start in range(0, INPATIENT_LINES, UPLOAD_BATCH):
            upload = settlement_pb2.UploadInpatientFeesRequest(request_id=_request_id(), fixmedins_code=code,
                                                               mdtrt_id=mdtrt_id,
                                                               fee_lines=lines[start:start + UPLOAD_BATCH])
            if self._call("UploadInpatientFees", Settlements, "UploadInpatientFees", upload, visit) is None:
                return
        self._call(f"SettleInpatient{INPATIENT_LINES}", Settlements, "SettleInpatient",
                   settlement_pb2.SettleInpatientRequest(request_id=_request_id(), fixmedins_code=code,
                                                         mdtrt_id=mdtrt_id), visit)
        self._call("Discharge", Settlements, "Discharge", settlement_pb2.DischargeRequest(
            request_id=_request_id(), fixmedins_code=code, mdtrt_id=mdtrt_id), visit)


Settlements = settlement_pb2_grpc.SettlementServiceStub
Persons = person_pb2_grpc.PersonServiceStub
