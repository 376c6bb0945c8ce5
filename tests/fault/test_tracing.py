"""OpenTelemetry tracing of a real server process: off by default (no span anywhere); `--trace console` writes one
span per call on stderr, with the verified caller, the request id, the gRPC status and the refusal's reason, and the
call's log lines carry its trace id; `--trace otlp` sends the spans over OTLP/gRPC to the collector named by
OTEL_EXPORTER_OTLP_ENDPOINT (here a real OTLP receiver in the test)."""

from __future__ import annotations

import json
import signal
import threading
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from medsettle.v1 import person_pb2, person_pb2_grpc, settlement_pb2_grpc
from tests.fault.harness import ServerProcess, build_nation, free_port, gateway_channel, settle_request


def _calls(target: str) -> str:
    """A settlement, and a look-up refused PERSON_NOT_FOUND; returns the settlement's request id."""
    with gateway_channel(target) as channel:
        settlement_pb2_grpc.SettlementServiceStub(channel).SettleOutpatient(settle_request("TR-1"), timeout=30)
        try:
            person_pb2_grpc.PersonServiceStub(channel).GetPerson(
                person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P404")), timeout=30)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
    return "TR-1"


def _stop(server: ServerProcess) -> None:
    server.signal(signal.SIGTERM)
    assert server.wait(60) == 0


def test_console_spans_name_the_caller_request_and_reason_and_logs_carry_the_trace_id(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log", "--trace", "console", "--log-calls") as server:
        server.wait_serving()
        _calls(server.target)
        _stop(server)
        rows = [json.loads(row) for row in server.log().splitlines() if row.startswith("{")]
    spans = {row["name"]: row for row in rows if "context" in row and "name" in row}
    settle = spans["/medsettle.v1.SettlementService/SettleOutpatient"]
    assert settle["kind"] == "SpanKind.SERVER"
    assert settle["attributes"]["medsettle.caller"] == "medsettle:institution:H44010600001"
    assert settle["attributes"]["medsettle.request_id"] == "TR-1"
    lookup = spans["/medsettle.v1.PersonService/GetPerson"]
    assert lookup["attributes"]["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert lookup["attributes"]["medsettle.reason"] == "PERSON_NOT_FOUND"
    logged = next(row for row in rows if row.get("event") == "rpc" and row.get("method") == "SettleOutpatient")
    assert "0x" + logged["trace_id"] == settle["context"]["trace_id"]


def test_tracing_is_off_by_default(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    with ServerProcess(data_dir, tmp_path / "server.log", "--log-calls") as server:
        server.wait_serving()
        _calls(server.target)
        _stop(server)
        rows = [json.loads(row) for row in server.log().splitlines() if row.startswith("{")]
    assert rows and not [row for row in rows if "context" in row or "trace_id" in row]


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list = []
        self.received = threading.Event()

    def Export(self, request, context):  # noqa: N802 - the OTLP service's own name
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        self.received.set()
        return trace_service_pb2.ExportTraceServiceResponse()


def test_otlp_spans_reach_a_collector(tmp_path):
    collector = _Collector()
    receiver = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, receiver)
    port = free_port()
    receiver.add_insecure_port(f"127.0.0.1:{port}")
    receiver.start()
    try:
        data_dir = str(tmp_path / "data")
        build_nation(data_dir)
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_EXPORTER_OTLP_INSECURE": "true"}
        with ServerProcess(data_dir, tmp_path / "server.log", "--trace", "otlp", env=env) as server:
            server.wait_serving()
            _calls(server.target)
            _stop(server)  # a stopping worker flushes its batched spans
        assert collector.received.wait(10), server.log()
        names = {span.name for span in collector.spans}
        assert {"/medsettle.v1.SettlementService/SettleOutpatient", "/medsettle.v1.PersonService/GetPerson"} <= names
        settle = next(s for s in collector.spans if s.name.endswith("/SettleOutpatient"))
        attributes = {a.key: a.value.string_value for a in settle.attributes}
        assert attributes["medsettle.request_id"] == "TR-1"
    finally:
        receiver.stop(None)
