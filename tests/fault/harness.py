"""The fault suite's harness: a real `medsettle serve` process over a store holding the hand-made nation, driven from
outside as an operator and a gateway would (signals, deadlines, raw bodies), and read back afterwards.

The server's stderr goes to a file, never a pipe: a pipe nobody drains fills after 64 KiB of log lines and then blocks
the server, which would look like the very hangs these tests look for.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import zoneinfo

import grpc
import msgspec
from grpc_health.v1 import health_pb2, health_pb2_grpc

from medsettle.domain.records import Filing
from medsettle.service import identity
from medsettle.store.open import open_store
from medsettle.v1 import common_pb2, person_pb2, person_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from tests import world
from tests.ports import free_port

GZ = world.GZ_HOSPITAL
MAP_SIZE_GIB = "1"
OPERATOR = "national:ops"
CLONES = 32  # persons like P001 (employee, long-term filing for Guangdong): concurrent settlements spread over them


class _Gateway(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Names each call's caller as a gateway would on the loopback --insecure server: the hospital the request names
    (fixmedins_code, claim.fixmedins_code), else national operations; a call that names its own caller keeps it."""

    @staticmethod
    def _named(details, request):
        given = tuple(details.metadata or ())
        if any(key == identity.CALLER_METADATA_KEY for key, _ in given):
            return details
        holder = getattr(request, "claim", request)
        code = getattr(holder, "fixmedins_code", "")
        caller = f"institution:{code}" if code else OPERATOR
        return details._replace(metadata=given + identity.metadata(caller))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._named(details, request), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._named(details, request), request)


class _AioGateway(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):
        return await continuation(_Gateway._named(details, request), request)


class _AioStreamGateway(grpc.aio.UnaryStreamClientInterceptor):  # an aio channel files each under one kind only
    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(_Gateway._named(details, request), request)


def gateway_channel(target: str, **kwargs) -> grpc.Channel:
    """A plaintext channel to a loopback --insecure server on which every call names its caller (_Gateway)."""
    return grpc.intercept_channel(grpc.insecure_channel(target, **kwargs), _Gateway())


def gateway_aio_channel(target: str, **kwargs) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(target, interceptors=[_AioGateway(), _AioStreamGateway()], **kwargs)


def today() -> str:
    """The server's own date (Asia/Shanghai): served processes run on the real clock."""
    return datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().isoformat()


def clone_psn_no(n: int) -> str:
    return f"P9{n:04d}"


def person_of_request(request_id: str) -> str:
    """The clone a load's request `<prefix>-<n>` settles for: each of CLONES in turn."""
    return clone_psn_no(int(request_id.rsplit("-", 1)[1]) % CLONES)


def build_nation(location: str, map_size_bytes: int = 2**30) -> None:
    """tests/world.py plus CLONES copies of P001 (no cards, so their credentials do not collide), into an LMDB data
    directory or a postgresql:// store."""
    store = open_store(location, map_size_bytes=map_size_bytes)
    p001 = next(p for p in world.PERSONS if p.psn_no == "P001")
    f001 = next(f for f in world.FILINGS if f.psn_no == "P001")
    with store.write() as view:
        world.build(view)
        for n in range(CLONES):
            psn_no = clone_psn_no(n)
            view.put_person(msgspec.structs.replace(p001, psn_no=psn_no, certno=f"11010519600501{n:04d}", card_no="",
                                                    card_sn="", evoucher_token=""))
            view.put_filing(Filing(**{**msgspec.structs.asdict(f001), "psn_no": psn_no,
                                      "trt_dcla_detl_sn": f"F9{n:04d}"}))
    store.close()


def settle_request(request_id: str, psn_no: str = "P001", amount_fen: int = 1_000) -> settlement_pb2.SettleOutpatientRequest:
    yuan = f"{amount_fen // 100}.{amount_fen % 100:02d}"
    line = common_pb2.FeeLine(feedetl_sn="1", med_list_codg="XA001", cnt="1", pric=yuan, det_item_fee_sumamt=amount_fen,
                              fee_ocur_time=today())
    return settlement_pb2.SettleOutpatientRequest(request_id=request_id, claim=settlement_pb2.OutpatientClaim(
        person=person_pb2.PersonRef(psn_no=psn_no), fixmedins_code=GZ, med_type="11", fee_lines=[line],
        medfee_sumamt=amount_fen))


class ServerProcess:
    """`python -m medsettle.cli serve ...` on a free loopback port."""

    def __init__(self, data_dir: str, log_path: pathlib.Path, *extra: str, workers: int = 1,
                 port: int | None = None, env: dict[str, str] | None = None, preexec_fn=None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = [sys.executable, "-m", "medsettle.cli", "serve", "--data-dir", data_dir, "--listen", self.target,
                     "--map-size-gib", MAP_SIZE_GIB, "--workers", str(workers), "--drain-s", "0.5", "--insecure",
                     *extra]
        self.env = {**os.environ, **(env or {})}
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - the child keeps its own copy
        self.process = subprocess.Popen(self.args, stdout=log, stderr=log, env=self.env, preexec_fn=self.preexec_fn,
                                        start_new_session=True)  # its own group: kill -9 of everything it spawned
        log.close()
        return self

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill_all()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_serving(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        with gateway_channel(self.target) as health_channel:
            stub = health_pb2_grpc.HealthStub(health_channel)
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.log()
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
        raise AssertionError(f"server never became SERVING:\n{self.log()}")

    def health(self, service: str = "", timeout_s: float = 2) -> int:
        with gateway_channel(self.target) as health_channel:
            return health_pb2_grpc.HealthStub(health_channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                             timeout=timeout_s).status

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill_all(self) -> None:
        """kill -9 of the server and every process it spawned (a host losing power, as far as processes go)."""
        if self.process is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)

    def wait(self, timeout_s: float = 60) -> int:
        assert self.process is not None
        return self.process.wait(timeout_s)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def events(self, name: str | None = None) -> list[dict]:
        rows = [json.loads(row) for row in self.log().splitlines() if row.startswith("{")]
        return [row for row in rows if name is None or row["event"] == name]


def stubs(channel: grpc.Channel) -> tuple[settlement_pb2_grpc.SettlementServiceStub, person_pb2_grpc.PersonServiceStub]:
    return settlement_pb2_grpc.SettlementServiceStub(channel), person_pb2_grpc.PersonServiceStub(channel)


def accumulators(channel: grpc.Channel, psn_no: str) -> common_pb2.Accumulators:
    year = int(today()[:4])
    return person_pb2_grpc.PersonServiceStub(channel).GetAccumulators(
        person_pb2.GetAccumulatorsRequest(psn_no=psn_no, year=year), timeout=10).accumulators


def status_info(error: grpc.RpcError) -> tuple[str, dict[str, str]]:
    """The first ErrorInfo of a refused call (reason, metadata), or ('', {}) when the status carries none."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)
    if status is None:
        return "", {}
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason, dict(info.metadata)
    return "", {}


def status_reason(error: grpc.RpcError) -> str:
    return status_info(error)[0]
