"""The command line as a person at a terminal meets it, against a real server process: global options before or
after the command, --version, money in yuan, `call settle` saying its request id and not settling twice when it is
repeated, and every error one line with a documented exit status (docs/operations.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import grpc
import pytest

from medsettle import cli, exits
from medsettle.service import identity
from medsettle.v1 import person_pb2, person_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from tests.fault.harness import GZ, ServerProcess, build_nation, free_port, gateway_channel, today


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli")
    build_nation(str(directory / "data"))
    with ServerProcess(str(directory / "data"), directory / "server.log") as running:
        running.wait_serving()
        yield running


def medsettle(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medsettle.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MEDSETTLE_TLS_DIR": "", **(env or {})})


@pytest.mark.parametrize("argv", [
    ["--json", "--target", "h:1", "--insecure", "call", "person", "--psn-no", "P001"],
    ["call", "--json", "--target", "h:1", "person", "--insecure", "--psn-no", "P001"],
    ["call", "person", "--psn-no", "P001", "--json", "--insecure", "--target", "h:1"],
    ["--insecure", "call", "person", "--target", "h:1", "--psn-no", "P001", "--json"],
])
def test_global_options_are_the_same_before_or_after_the_command(argv):
    args = cli.parse(argv)
    assert (args.json, args.target, args.insecure, args.psn_no, args.call) == (True, "h:1", True, "P001", "person")


def test_defaults_fill_in_what_the_line_leaves_out(monkeypatch):
    monkeypatch.setenv("MEDSETTLE_LISTEN", "10.0.0.1:5")
    monkeypatch.setenv("MEDSETTLE_DATA_DIR", "/srv/medsettle")
    args = cli.parse(["call", "person", "--psn-no", "P1"])
    assert (args.json, args.target, args.insecure, args.data_dir, args.caller) == (
        False, "10.0.0.1:5", False, "/srv/medsettle", "")
    args = cli.parse(["clearing", "run", "--month", "2026-01", "--data-dir", "/d"])
    assert args.data_dir == "/d" and args.out == ""  # clearing run puts it under <data-dir>/clearing
    assert cli.parse(["--data-dir", "/e", "backup", "--out", "/b"]).data_dir == "/e"


def test_json_before_and_after_the_command_print_the_same_answer(server):
    before = medsettle("--json", "--target", server.target, "--insecure", "call", "person", "--psn-no", "P001")
    after = medsettle("call", "person", "--psn-no", "P001", "--target", server.target, "--insecure", "--json")
    assert before.returncode == after.returncode == exits.OK, (before.stderr, after.stderr)
    assert before.stdout == after.stdout
    answer = json.loads(after.stdout)
    assert answer["baseinfo"]["psn_no"] == "P001" and answer["baseinfo"]["insuinfo"][0]["balc"] == "100000"  # fen


def test_call_person_shows_money_in_yuan(server):
    shown = medsettle("call", "person", "--psn-no", "P001", "--target", server.target, "--insecure")
    assert shown.returncode == exits.OK, shown.stderr
    assert "account balance 1000.00 yuan" in shown.stdout and "100000" not in shown.stdout


def test_call_settle_says_its_request_id_and_repeating_it_settles_once(server):
    settle = ["call", "settle", "--psn-no", "P90007", "--fixmedins-code", GZ,
              "--line", f"XA001:1:12.34:{today()}", "--target", server.target, "--insecure"]
    first = medsettle(*settle)
    assert first.returncode == exits.OK, first.stderr
    said = [line for line in first.stderr.splitlines() if line.startswith("request_id ")]
    assert len(said) == 1 and "--request-id" in said[0]
    request_id = said[0].split()[1]
    setl_id = first.stdout.split()[1]
    assert setl_id.startswith("S") and "medfee_sumamt 医疗费总额" in first.stdout and "12.34" in first.stdout

    again = medsettle(*settle, "--request-id", request_id)
    assert again.returncode == exits.OK, again.stderr
    assert again.stdout.split()[1] == setl_id  # the same settlement answered again
    with gateway_channel(server.target) as channel:
        stub = settlement_pb2_grpc.SettlementServiceStub(channel)
        kept = stub.GetSettlement(settlement_pb2.GetSettlementRequest(setl_id=setl_id, fixmedins_code=GZ))
        assert kept.settlement.medfee_sumamt == 1_234
        acc = person_pb2_grpc.PersonServiceStub(channel).GetAccumulators(
            person_pb2.GetAccumulatorsRequest(psn_no="P90007"), metadata=identity.metadata("national:ops"))
        assert acc.accumulators.visits_outpatient == 1  # settled once


def test_version():
    shown = medsettle("--version")
    assert shown.returncode == 0 and shown.stdout.startswith("medsettle 0.") and "Python 3." in shown.stdout


@pytest.mark.parametrize("args, status, says", [
    (["call", "person", "--psn-no", "P404", "--insecure"], exits.REFUSED, "refused: NOT_FOUND PERSON_NOT_FOUND"),
    (["call", "person", "--psn-no", "P001", "--insecure", "--as", "nobody"], exits.USAGE, "names no caller"),
    (["call", "settle", "--psn-no", "P001", "--fixmedins-code", GZ, "--line", "XA001:1", "--insecure"],
     exits.USAGE, "expected CODE:CNT:PRIC"),
    (["call", "person", "--psn-no", "P001", "--nonsense"], exits.USAGE, "unrecognized arguments: --nonsense"),
    (["call", "person", "--psn-no", "P001", "--tls-dir", "{missing}"], exits.USAGE, "no ca.pem in"),
    (["health", "--insecure", "--target", "{nowhere}", "--timeout-s", "0.5"], exits.UNREACHABLE,
     "no answer from the server"),
    (["restore", "--from", "{missing}", "--data-dir", "{missing}"], exits.USAGE, "is not a finished medsettle backup"),
])
def test_every_error_is_one_line_with_its_exit_status(server, tmp_path, args, status, says):
    values = {"missing": str(tmp_path / "missing"), "nowhere": f"127.0.0.1:{free_port()}"}
    args = [arg.format(**values) for arg in args]
    if "--target" not in args:
        args += ["--target", server.target]
    result = medsettle(*args)
    assert result.returncode == status, result
    assert result.stderr.count("\n") == 1 and says in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_refused_settlement_names_its_reason_on_one_line(server):
    result = medsettle("call", "settle", "--psn-no", "P001", "--fixmedins-code", GZ, "--line", "NOPE:1:1",
                       "--target", server.target, "--insecure", "--request-id", "R-CLI-REFUSED")
    assert result.returncode == exits.REFUSED
    refused = [line for line in result.stderr.splitlines() if line.startswith("medsettle call: refused:")]
    assert len(refused) == 1 and "UNKNOWN_CATALOG_ITEM" in refused[0], result.stderr
    assert grpc.StatusCode.INVALID_ARGUMENT.name in refused[0]
