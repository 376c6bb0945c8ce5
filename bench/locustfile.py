"""The 17:1 mix: a Locust gRPC user (gevent-patched grpc) against a seeded demo nation. Run it with bench/mix.sh.

Tasks (weights per user cycle):
  outpatient settlement (SettleOutpatient, 10 lines, unique request_id)      17
  inpatient stay: Admit, UploadInpatientFees 300 lines in 3 batches of 100,
                  SettleInpatient (300 lines), Discharge                      1   (outpatient : inpatient = 17 : 1)
  pre-settlement (PreSettleOutpatient)                                       6
  person look-up (GetPerson)                                                 8
  reversal of one of this user's own earlier outpatient settlements          1
Persons come from files prepared by mix.sh (MEDSETTLE_BENCH_VISITS_OUT / _IN: filed persons and an institution their
filing covers, where CheckBenefit says OK today); every user takes its own slice, so a user's stays never collide.
Each call is reported to Locust with the method name; a gRPC error is a failure (nothing is retried).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import grpc.experimental.gevent as grpc_gevent

grpc_gevent.init_gevent()  # before any channel exists

import grpc  # noqa: E402
from locust import User, between, constant_throughput, events, task  # noqa: E402

from medsettle.service import identity  # noqa: E402
from medsettle.v1 import (  # noqa: E402
    common_pb2,
    person_pb2,
    person_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
)

INPATIENT_LINES = int(os.environ.get("MEDSETTLE_BENCH_INPATIENT_LINES", "300"))
UPLOAD_BATCH = 100
TASKS_PER_S_PER_USER = float(os.environ.get("MEDSETTLE_BENCH_TASKS_PER_S", "0"))  # 0: as fast as possible
_ids = itertools.count(1)
_users = itertools.count(0)
_TODAY = ""
_VISITS_OUT: list = []
_VISITS_IN: list = []


@events.init.add_listener
def _load(environment, **_kwargs) -> None:
    global _TODAY, _VISITS_OUT, _VISITS_IN
    from medsettle.service.clock import Clock

    _TODAY = Clock().today()
    _VISITS_OUT = json.loads(open(os.environ["MEDSETTLE_BENCH_VISITS_OUT"]).read())
    _VISITS_IN = json.loads(open(os.environ["MEDSETTLE_BENCH_VISITS_IN"]).read())


def _request_id() -> str:
    return f"L{os.getpid()}-{next(_ids)}"


def _lines(visit: dict, count: int, sn_start: int = 1) -> list:
    base = visit["lines"]
    return [common_pb2.FeeLine(feedetl_sn=f"{sn_start + i:05d}", med_list_codg=base[i % len(base)][0],
                               cnt=base[i % len(base)][1], pric=base[i % len(base)][2],
                               det_item_fee_sumamt=base[i % len(base)][3], fee_ocur_time=_TODAY)
            for i in range(count)]


_OPERATOR = identity.metadata("national:ops")


def _caller_of(request) -> tuple[tuple[str, str], ...]:
    """Each call as a gateway makes it, on the loopback --insecure server: the hospital the request names; a
    person look-up by psn_no (which a hospital may not make) as national operations."""
    holder = request.claim if request.DESCRIPTOR.fields_by_name.get("claim") else request
    code = getattr(holder, "fixmedins_code", "")
    return identity.metadata(f"institution:{code}") if code else _OPERATOR


class SettlementUser(User):
    wait_time = constant_throughput(TASKS_PER_S_PER_USER) if TASKS_PER_S_PER_USER else between(0, 0)

    def on_start(self) -> None:
        target = self.host or os.environ.get("MEDSETTLE_LISTEN", "127.0.0.1:50051")
        self.channel = grpc.insecure_channel(target.removeprefix("http://"))
        self.settlements = settlement_pb2_grpc.SettlementServiceStub(self.channel)
        self.persons = person_pb2_grpc.PersonServiceStub(self.channel)
        index = next(_users)
        users = max(1, self.environment.runner.target_user_count or 1) if self.environment.runner else 1
        self.out = _VISITS_OUT[index % users::users] or _VISITS_OUT
        self.inp = _VISITS_IN[index % users::users] or _VISITS_IN
        self.rng = random.Random(index)
        self.settled: list[tuple[str, str]] = []  # (fixmedins_code, setl_id) of this user's own settlements

    def on_stop(self) -> None:
        self.channel.close()

    def _call(self, name: str, method, request):
        started = time.perf_counter()
        response = exception = None
        try:
            response = method(request, timeout=30, metadata=_caller_of(request))
        except grpc.RpcError as error:
            exception = error
        events.request.fire(request_type="grpc", name=name, response_time=(time.perf_counter() - started) * 1000,
                            response_length=response.ByteSize() if response is not None else 0,
                            exception=exception, context={})
        return response

    def _claim(self, visit: dict):
        lines = _lines(visit, 10)
        return settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no=visit["psn_no"]),
                                              fixmedins_code=visit["fixmedins_code"], med_type="11", fee_lines=lines,
                                              medfee_sumamt=sum(line.det_item_fee_sumamt for line in lines))

    @task(17)
    def settle_outpatient(self) -> None:
        visit = self.rng.choice(self.out)
        answer = self._call("SettleOutpatient", self.settlements.SettleOutpatient,
                            settlement_pb2.SettleOutpatientRequest(request_id=_request_id(), claim=self._claim(visit)))
        if answer is not None and len(self.settled) < 1000:
            self.settled.append((visit["fixmedins_code"], answer.settlement.setl_id))

    @task(6)
    def pre_settle_outpatient(self) -> None:
        visit = self.rng.choice(self.out)
        self._call("PreSettleOutpatient", self.settlements.PreSettleOutpatient,
                   settlement_pb2.PreSettleOutpatientRequest(claim=self._claim(visit)))

    @task(8)
    def get_person(self) -> None:
        visit = self.rng.choice(self.out)
        self._call("GetPerson", self.persons.GetPerson,
                   person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=visit["psn_no"])))

    @task(1)
    def reverse(self) -> None:
        if not self.settled:
            return
        fixmedins_code, setl_id = self.settled.pop(self.rng.randrange(len(self.settled)))
        self._call("ReverseSettlement", self.settlements.ReverseSettlement, settlement_pb2.ReverseSettlementRequest(
            request_id=_request_id(), fixmedins_code=fixmedins_code, setl_id=setl_id))

    @task(1)
    def inpatient_stay(self) -> None:
        visit = self.rng.choice(self.inp)
        code = visit["fixmedins_code"]
        admitted = self._call("Admit", self.settlements.Admit, settlement_pb2.AdmitRequest(
            request_id=_request_id(), person=person_pb2.PersonRef(psn_no=visit["psn_no"]), fixmedins_code=code,
            med_type="21"))
        if admitted is None:
            return
        mdtrt_id = admitted.mdtrt_id
        for start in range(0, INPATIENT_LINES, UPLOAD_BATCH):
            count = min(UPLOAD_BATCH, INPATIENT_LINES - start)
            if self._call("UploadInpatientFees", self.settlements.UploadInpatientFees,
                          settlement_pb2.UploadInpatientFeesRequest(request_id=_request_id(), fixmedins_code=code,
                                                                    mdtrt_id=mdtrt_id,
                                                                    fee_lines=_lines(visit, count, start + 1))) is None:
                return
        name = f"SettleInpatient{INPATIENT_LINES}"
        self._call(name, self.settlements.SettleInpatient, settlement_pb2.SettleInpatientRequest(
            request_id=_request_id(), fixmedins_code=code, mdtrt_id=mdtrt_id))
        self._call("Discharge", self.settlements.Discharge, settlement_pb2.DischargeRequest(
            request_id=_request_id(), fixmedins_code=code, mdtrt_id=mdtrt_id))
