"""Logs: one JSON line per event; ID numbers, names, card numbers and tokens never appear unmasked."""

from __future__ import annotations

import json

import grpc
import pytest

from medsettle.service import logs
from medsettle.v1 import person_pb2, person_pb2_grpc


def test_masked_fields_are_masked(capsys):
    logs.event("lookup", certno="110105196005011234", psn_name="张伟", psn_no="P001")
    record = json.loads(capsys.readouterr().err)
    assert record["event"] == "lookup" and record["psn_no"] == "P001"
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
