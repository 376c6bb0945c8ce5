"""examples/node, the Node gateway (@grpc/grpc-js), against a real server process: it looks a person up, pre-settles,
settles, retries with the same request id (and gets the identical answer), reverses, and reads a refusal's details.

Its packages are installed from npm into examples/node/node_modules by this test (as buf is into .tools/)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from medsettle import certs, tls
from medsettle.service import identity
from medsettle.store.env import Store, StoreConfig
from tests import world
from tests.conftest import ROOT
from tests.service.test_lifecycle import free_port, start_server, wait_serving

EXAMPLE = ROOT / "examples" / "node"


def _installed() -> None:
    if (EXAMPLE / "node_modules" / "@grpc" / "grpc-js").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install the Node example's packages")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=EXAMPLE, check=True,
                   capture_output=True, timeout=300)


def test_the_node_gateway_settles_retries_identically_and_reverses(tmp_path):
    _installed()
    data_dir = str(tmp_path / "data")
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    with store.write() as view:
        world.build(view)  # P001 (Beijing, long-term filing for Guangdong) and the Guangzhou hospital
    store.close()
    port = free_port()
    tls_dir = tmp_path / "tls"  # over mutual TLS: the gateway is the Guangzhou hospital by its certificate
    certs.init(tls_dir, [identity.of(f"institution:{world.GZ_HOSPITAL}"), identity.of("national:ops")])
    server = start_server(data_dir, port, "serve", "--tls-dir", str(tls_dir))
    try:
        wait_serving(port, server, credentials=tls.channel_credentials(tls_dir, identity.of("national:ops")))
        result = subprocess.run(
            [shutil.which("node") or "node", "gateway.js", "--cert-type", "02", "--cert-no", "110105196005011234",
             "--fixmedins-code", world.GZ_HOSPITAL, "--line", "XA001:2:100.00", "--line", "XB001:1:4.52"],
            cwd=EXAMPLE, capture_output=True, text=True, timeout=120,
            env={"PATH": "/usr/bin:/bin", "MEDSETTLE_TARGET": f"127.0.0.1:{port}", "MEDSETTLE_TLS_DIR": str(tls_dir)})
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["person"] == {"psn_no": "P001", "certno_shown": "1101************34", "insutypes": ["310"],
                                "filings": ["12"]}  # found by its ID number, shown to the hospital masked
    assert report["pre_settlement"]["setl_id"] == "" and report["pre_settlement"]["medfee_sumamt"] == "20452"
    settled = report["settlement"]
    assert settled["setl_id"] and settled["medfee_sumamt"] == "20452"
    assert report["retry_identical"] is True and report["pre_matches_settlement"] is True
    reversal = report["reversal"]
    assert reversal["reversed_setl_id"] == settled["setl_id"] and reversal["medfee_sumamt"] == "-20452"
    assert reversal["fund_pay_sumamt"] == str(-int(settled["fund_pay_sumamt"]))
    refused = report["second_reversal"]
    assert refused["code"] == "FAILED_PRECONDITION" and refused["reasons"][0]["reason"] == "ALREADY_REVERSED"
    assert refused["message_zh"] == "该结算已冲销，不能重复冲销"
