"""Logs: one JSON line per event; ID numbers, names, card numbers and tokens never appear unmasked."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import grpc
import pytest

from medsettle.service import logs
from medsettle.v1 import person_pb2, person_pb2_grpc, settlement_pb2, settlement_pb2_grpc


def test_masked_fields_are_masked(capsys):
    logs.event("lookup", certno="110105196005011234", psn_name="张伟", psn_no="P001")
    record = json.loads(capsys.readouterr().err)
    assert record["event"] == "lookup" and record["psn_no"] == "P001" and record["level"] == "info"
    assert record["certno"] == "1101************34" and "196005011" not in json.dumps(record)
    assert record["psn_name"] == "**"


def test_a_refused_lookup_by_id_number_does_not_log_it(world, served, capfd):
    stub = person_pb2_grpc.PersonServiceStub(served.channel)
    with pytest.raises(grpc.aio.AioRpcError):
        served.run(stub.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(
            mdtrt_cert_type="02", mdtrt_cert_no="110105199912310000"))))
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line["event"] == "rpc_refused" and line["reason"] == "PERSON_NOT_FOUND" for line in lines)
    assert "110105199912310000" not in err


def test_a_defect_answers_internal_with_a_stable_reason_and_logs_the_trace(world, served, capfd, monkeypatch):
    """A bug met while serving: the caller gets INTERNAL / INTERNAL_ERROR with fixed texts (never the exception's
    own words, which could carry data), the log gets the trace."""
    from medsettle.service import lookups
    from tests.conftest import rpc_error_info

    def broken(*args, **kwargs):
        raise OverflowError("secret 110105196005011234")

    monkeypatch.setattr(lookups, "benefit", broken)
    stub = person_pb2_grpc.PersonServiceStub(served.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        served.run(stub.CheckBenefit(person_pb2.CheckBenefitRequest(
            person=person_pb2.PersonRef(psn_no="P001"), insutype="310", fixmedins_code=world.GZ_HOSPITAL,
            med_type="11")))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    codes, metadata, _ = rpc_error_info(caught.value)
    assert codes == ["INTERNAL_ERROR"] and metadata["remedy"] == "RETRY_LATER"
    assert "secret" not in caught.value.details() and "内部错误" in caught.value.details()
    err = capfd.readouterr().err
    failed = [json.loads(line) for line in err.splitlines() if line.startswith("{") and "rpc_failed" in line]
    assert failed and "OverflowError" in failed[0]["trace"]


def test_a_real_session_logs_time_level_caller_method_request_id_and_no_personal_data(world, served, capfd):
    """Look-ups by ID number, card and e-voucher token as a hospital, a benefit check, a settlement, a refused
    settlement, a look-up of an unknown ID number, a denied look-up, each logged (--log-calls): every line is one JSON
    object with an ISO-8601 UTC time and a level; a call's lines name its method, verified caller and request id
    (none for reads); no ID number, name, card number or token of anyone appears unmasked."""
    from tests.service.test_settlements import VISIT_1, claim

    served.app.log_calls = True
    hospital = f"institution:{world.GZ_HOSPITAL}"
    persons = person_pb2_grpc.PersonServiceStub(served.as_(hospital))
    settlements = settlement_pb2_grpc.SettlementServiceStub(served.as_(hospital))
    p001 = next(p for p in world.PERSONS if p.psn_no == "P001")
    for ref in (person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no=p001.certno),
                person_pb2.PersonRef(mdtrt_cert_type="03", mdtrt_cert_no=p001.card_no, card_sn=p001.card_sn),
                person_pb2.PersonRef(mdtrt_cert_type="01", mdtrt_cert_no=p001.evoucher_token)):
        served.run(persons.GetPerson(person_pb2.GetPersonRequest(person=ref)))
    served.run(persons.CheckBenefit(person_pb2.CheckBenefitRequest(
        person=person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no=p001.certno), insutype="310",
        fixmedins_code=world.GZ_HOSPITAL, med_type="11")))
    settled = served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="LOG-1", claim=claim("P001", world.GZ_HOSPITAL, VISIT_1))))
    with pytest.raises(grpc.aio.AioRpcError):
        served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
            request_id="LOG-2", claim=claim("P404", world.GZ_HOSPITAL, VISIT_1))))
    with pytest.raises(grpc.aio.AioRpcError):
        served.run(persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(
            mdtrt_cert_type="02", mdtrt_cert_no="11010519991231000X"))))
    with pytest.raises(grpc.aio.AioRpcError):  # a hospital may not look a person up by psn_no
        served.run(persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P002"))))

    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    for line in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["time"]) and line["level"] in logs.LEVELS
    calls = [line for line in lines if line["event"] == "rpc"]
    assert [c["method"] for c in calls] == ["GetPerson", "GetPerson", "GetPerson", "CheckBenefit", "SettleOutpatient"]
    assert {c["caller"] for c in calls} == {f"medsettle:{hospital}"}
    assert [c["request_id"] for c in calls] == [None, None, None, None, "LOG-1"]
    refused = [line for line in lines if line["event"] == "rpc_refused"]
    assert [(r["method"], r["request_id"], r["reason"]) for r in refused] == [
        ("SettleOutpatient", "LOG-2", "PERSON_NOT_FOUND"), ("GetPerson", None, "PERSON_NOT_FOUND")]
    denied = [line for line in lines if line["event"] == "rpc_denied"]
    assert [(d["method"], d["caller"], d["level"], d["reason"]) for d in denied] == [
        ("GetPerson", f"medsettle:{hospital}", "warning", "CALLER_NOT_ALLOWED")]
    assert settled.settlement.setl_id
    for person in world.PERSONS:
        for secret in (person.certno, person.psn_name, person.card_no, person.evoucher_token):
            assert not secret or secret not in err, secret
    assert "11010519991231000X" not in err


def test_the_mix_reads_the_servers_own_time_per_call_from_its_log_calls_lines(world, served, capfd, tmp_path):
    """LOG_CALLS=1 bench/mix.sh prints each method's handler times beside Locust's (bench/mixtool.py handlers), read
    from the `rpc` lines a real server writes with --log-calls; other lines (refusals, events) are not calls."""
    from tests.service.test_settlements import VISIT_1, claim

    served.app.log_calls = True
    persons = person_pb2_grpc.PersonServiceStub(served.as_("national:ops"))
    settlements = settlement_pb2_grpc.SettlementServiceStub(served.as_(f"institution:{world.GZ_HOSPITAL}"))
    for psn_no in ("P001", "P002", "P001"):
        served.run(persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no=psn_no))))
    served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="MIX-1", claim=claim("P001", world.GZ_HOSPITAL, VISIT_1))))
    with pytest.raises(grpc.aio.AioRpcError):  # refused: logged as rpc_refused, not counted as a call
        served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
            request_id="MIX-2", claim=claim("P404", world.GZ_HOSPITAL, VISIT_1))))
    log = tmp_path / "server.log"
    log.write_text(capfd.readouterr().err)

    bench = pathlib.Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    try:
        import mixtool
    finally:
        sys.path.remove(str(bench))
    times = mixtool.handler_latency_ms(log.read_text().splitlines())
    assert {method: len(ms) for method, ms in times.items()} == {"GetPerson": 3, "SettleOutpatient": 1}
    assert all(ms == sorted(ms) and ms[0] > 0 for ms in times.values())
    shown = subprocess.run([sys.executable, str(bench / "mixtool.py"), "handlers", str(log)], capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"GetPerson\s+n=\s+3 p50=", shown.stdout)
    assert re.search(r"SettleOutpatient\s+n=\s+1 ", shown.stdout)
    (tmp_path / "quiet.log").write_text('{"event":"serving"}\n')
    assert subprocess.run([sys.executable, str(bench / "mixtool.py"), "handlers", str(tmp_path / "quiet.log")],
                          capture_output=True, timeout=60).returncode == 1
