"""docs/integration.md's buf curl recipes run, in order, against a real server over a small demo nation: every one
of them works as written (the last one shows a refusal and decodes its details)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

from medsettle import certs, tls
from medsettle.service import identity
from tests.conftest import ROOT
from tests.service.test_lifecycle import free_port, start_server, wait_serving
from tests.test_contract import _buf


def recipes() -> str:
    text = (ROOT / "docs" / "integration.md").read_text(encoding="utf-8")
    section = text.split("<!-- recipes -->", 1)[1].split("<!-- /recipes -->", 1)[0]
    return "\n".join(re.findall(r"```sh\n(.*?)```", section, flags=re.S))


def test_every_service_has_a_recipe():
    script = recipes()
    for service in ("PersonService", "FilingService", "SettlementService", "ReferenceDataService", "ClearingService"):
        assert f"medsettle.v1.{service}/" in script, service


def test_the_buf_curl_recipes_work_against_a_real_server(tmp_path: pathlib.Path):
    data_dir = str(tmp_path / "data")
    seeded = subprocess.run([sys.executable, "-m", "medsettle.cli", "seed", "--data-dir", data_dir,
                             "--items-per-province", "300", "--map-size-gib", "1"], capture_output=True, text=True,
                            timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    port = free_port()
    tls_dir = tmp_path / "data" / "tls"  # a development CA and the server's certificate, as `up` makes them
    certs.init(tls_dir, [identity.of("national:ops")])
    server = start_server(data_dir, port, "serve", "--tls-dir", str(tls_dir))
    try:
        wait_serving(port, server, credentials=tls.channel_credentials(tls_dir, identity.of("national:ops")))
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", recipes()], cwd=tmp_path, capture_output=True, text=True, timeout=300,
            env={**os.environ, "MEDSETTLE": f"https://127.0.0.1:{port}", "MEDSETTLE_TLS_DIR": str(tls_dir),
                 "PATH": f"{pathlib.Path(_buf()).parent}:{pathlib.Path(sys.executable).parent}:{os.environ['PATH']}",
                 "BUF_CACHE_DIR": str(ROOT / ".tools" / "buf-cache")})
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "medsettle.v1.SettlementService" in out and '"ok": true' in out
    assert '"undone": true' in out  # ReverseByRequestId undid the outpatient settlement
    assert '"match": true' in out and '"setlCnt"' not in out  # 3201: nothing left to count today
    assert "exit 40" in out  # NOT_FOUND << 3
    assert "google.rpc.ErrorInfo" in out and '"reason": "PERSON_NOT_FOUND"' in out
    assert "google.rpc.LocalizedMessage" in out and "未查询到参保人员信息" in out
