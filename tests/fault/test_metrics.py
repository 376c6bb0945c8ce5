"""The Prometheus endpoint, scraped after real calls: calls by status code, latency, refusals by reason, the writer's
batches and commit time, the store's map, the prepaid funds; with two workers, their values added up."""

from __future__ import annotations

import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from medsettle.v1 import clearing_pb2, clearing_pb2_grpc, person_pb2
from tests.fault.harness import (
    CLONES,
    ServerProcess,
    build_nation,
    clone_psn_no,
    free_port,
    gateway_channel,
    settle_request,
    status_reason,
    stubs,
)


def _scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_scrape_after_real_calls(tmp_path, workers):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    metrics_port = free_port()
    with ServerProcess(data_dir, tmp_path / "server.log", "--metrics-listen", f"127.0.0.1:{metrics_port}",
                       workers=workers) as server:
        server.wait_serving()
        channels = [gateway_channel(server.target, options=[("grpc.use_local_subchannel_pool", 1)])
                    for _ in range(4)]
        for n in range(20):
            stubs(channels[n % 4])[0].SettleOutpatient(settle_request(f"M-{n:03d}", psn_no=clone_psn_no(n % CLONES)),
                                                       timeout=10)
        for n in range(5):
            stubs(channels[n % 4])[1].GetPerson(person_pb2.GetPersonRequest(
                person=person_pb2.PersonRef(psn_no="P001")), timeout=10)
        with pytest.raises(grpc.RpcError) as refused:
            stubs(channels[0])[0].SettleOutpatient(settle_request("M-NOBODY", psn_no="P404"), timeout=10)
        assert status_reason(refused.value) == "PERSON_NOT_FOUND"
        clearing_pb2_grpc.ClearingServiceStub(channels[0]).SetPrepaidFund(clearing_pb2.SetPrepaidFundRequest(
            request_id="M-FUND", insuplc_admdvs="110000", year=2026, balance=1_000_000), timeout=10)
        for channel in channels:
            channel.close()
        samples = _scrape(metrics_port)
    assert _value(samples, "medsettle_rpc_calls_total", method="SettleOutpatient", code="OK") == 20
    assert _value(samples, "medsettle_rpc_calls_total", method="SettleOutpatient", code="NOT_FOUND") == 1
    assert _value(samples, "medsettle_rpc_calls_total", method="GetPerson", code="OK") == 5
    assert _value(samples, "medsettle_refusals_total", method="SettleOutpatient", reason="PERSON_NOT_FOUND") == 1
    assert _value(samples, "medsettle_rpc_latency_seconds_count", method="SettleOutpatient") == 21
    assert _value(samples, "medsettle_writer_batch_jobs_sum") >= 21  # settlements and the fund, in batches
    assert _value(samples, "medsettle_writer_commit_seconds_count") >= 1
    assert 0 < _value(samples, "medsettle_store_map_used_ratio") < 1
    assert _value(samples, "medsettle_prepaid_usage_bp", province="110000") == 0
    assert _value(samples, "medsettle_in_flight_calls") == 0
