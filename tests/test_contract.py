"""The contract: generated code is fresh, buf lint (STANDARD) is clean, reflection lists the services."""

from __future__ import annotations

import filecmp
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.conftest import ROOT

BUF_VERSION = "1.75.0"
SERVICES = {
    "medsettle.v1.PersonService",
    "medsettle.v1.FilingService",
    "medsettle.v1.SettlementService",
    "medsettle.v1.ReferenceDataService",
    "medsettle.v1.ClearingService",
    "medsettle.v1.SupervisionService",
}


def test_generated_code_is_fresh_against_the_protos():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_protos
    finally:
        sys.path.pop(0)
    with tempfile.TemporaryDirectory() as tmp:
        gen_protos.generate(pathlib.Path(tmp))
        fresh = pathlib.Path(tmp) / "medsettle" / "v1"
        checked_in = ROOT / "src" / "medsettle" / "v1"
        names = sorted(p.name for p in fresh.iterdir() if p.is_file())
        assert names == sorted(p.name for p in checked_in.iterdir() if p.is_file() and p.suffix in (".py", ".pyi"))
        _, mismatch, errors = filecmp.cmpfiles(fresh, checked_in, names, shallow=False)
        assert not mismatch and not errors, f"stale generated code, run: python scripts/gen_protos.py ({mismatch})"


def _buf() -> str:
    """buf from the npm registry, installed once into .tools/ (the project's own install step)."""
    binary = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install buf (npm package @bufbuild/buf)")
        subprocess.run([npm, "install", "--prefix", str(ROOT / ".tools"), "--no-save", "--no-audit", "--no-fund",
                        f"@bufbuild/buf@{BUF_VERSION}"], check=True, capture_output=True, timeout=300)
    return str(binary)


def test_buf_lint_standard_is_clean():
    result = subprocess.run([_buf(), "lint"], cwd=ROOT / "protos", capture_output=True, text=True, timeout=120,
                            env={**os.environ, "BUF_CACHE_DIR": str(ROOT / ".tools" / "buf-cache")})
    assert result.returncode == 0, result.stdout + result.stderr


def test_reflection_lists_the_four_services(served):
    async def list_services():
        stub = reflection_pb2_grpc.ServerReflectionStub(served.channel)
        names = []
        async for answer in stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])):
            names.extend(s.name for s in answer.list_services_response.service)
        return set(names)

    names = served.run(list_services())
    assert SERVICES <= names
    assert "grpc.health.v1.Health" in names
