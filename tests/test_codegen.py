"""protos/buf.gen.yaml produces Go, Java, C# and TypeScript clients with the plugins docs/integration.md names.

The plugins come from Debian (protobuf-compiler, protoc-gen-go, protoc-gen-go-grpc,
protobuf-compiler-grpc-java-plugin: .ci/run installs them) and npm (ts-proto, installed here into .tools/ like buf).
The C# gRPC plugin (grpc_csharp_plugin) ships only in NuGet's Grpc.Tools, which this machine cannot reach: where it
is not on PATH the C# client stubs are left out of the run, with a warning, and the C# messages are still checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

from tests.conftest import ROOT
from tests.test_contract import _buf

TS_PROTO_VERSION = "2.18.0"
DEBIAN_PLUGINS = {"protoc": "protobuf-compiler", "protoc-gen-go": "protoc-gen-go",
                  "protoc-gen-go-grpc": "protoc-gen-go-grpc", "grpc_java_plugin": "protobuf-compiler-grpc-java-plugin"}
SERVICES = ("Person", "Filing", "Settlement", "ReferenceData", "Clearing")


def _ts_proto() -> str:
    binary = ROOT / ".tools" / "node_modules" / ".bin" / "protoc-gen-ts_proto"
    if not binary.exists():
        subprocess.run([shutil.which("npm") or "npm", "install", "--prefix", str(ROOT / ".tools"), "--no-save",
                        "--no-audit", "--no-fund", f"ts-proto@{TS_PROTO_VERSION}", "@bufbuild/buf"], check=True,
                       capture_output=True, timeout=300)
    return str(binary.parent)


def _without_plugin(template: str, name: str) -> str:
    """The template without the plugin entry `- local: name` (its line and the option lines indented under it)."""
    kept, skipping = [], False
    for line in template.splitlines(keepends=True):
        if line.strip() == f"- local: {name}":
            skipping = True
            continue
        if skipping and line.startswith("    ") and not line.lstrip().startswith("- "):
            continue
        skipping = False
        kept.append(line)
    assert len(kept) < len(template.splitlines()), name
    return "".join(kept)


def test_buf_generate_writes_go_java_csharp_and_typescript_clients(tmp_path):
    missing = [f"{name} (Debian {package})" for name, package in DEBIAN_PLUGINS.items() if shutil.which(name) is None]
    assert not missing, f"code generators missing: {missing}; .ci/run installs them"
    # The template names protoc-gen-grpc-java as Maven ships it; Debian calls the same binary grpc_java_plugin.
    plugins = tmp_path / "bin"
    plugins.mkdir()
    (plugins / "protoc-gen-grpc-java").symlink_to(shutil.which("grpc_java_plugin"))
    template = (ROOT / "protos" / "buf.gen.yaml").read_text(encoding="utf-8")
    if shutil.which("grpc_csharp_plugin") is None:
        warnings.warn("grpc_csharp_plugin (NuGet Grpc.Tools) is not installed: C# gRPC stubs not generated here",
                      stacklevel=1)
        template = _without_plugin(template, "grpc_csharp_plugin")
    (tmp_path / "buf.gen.yaml").write_text(template, encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [_buf(), "generate", "--template", str(tmp_path / "buf.gen.yaml"), "-o", str(out)], cwd=ROOT / "protos",
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{plugins}:{_ts_proto()}:{os.environ['PATH']}",
             "BUF_CACHE_DIR": str(ROOT / ".tools" / "buf-cache")})
    assert result.returncode == 0, result.stderr
    gen = out / "gen"
    go = (gen / "go" / "medsettle" / "v1" / "settlement_grpc.pb.go").read_text()
    assert "package medsettlev1" in go and "func NewSettlementServiceClient" in go
    java = gen / "java" / "com" / "medsettle" / "v1"
    assert all((java / f"{service}ServiceGrpc.java").exists() for service in SERVICES)
    assert "boolean hasCapCategory()" in (java / "PolicyOrBuilder.java").read_text()  # optional: a presence test
    csharp = (gen / "csharp" / "ReferenceData.cs").read_text()
    assert "namespace Medsettle.V1" in csharp and "HasCapCategory" in csharp
    if shutil.which("grpc_csharp_plugin"):
        assert "SettlementServiceClient" in (gen / "csharp" / "SettlementGrpc.cs").read_text()
    ts = (gen / "ts" / "medsettle" / "v1" / "settlement.ts").read_text()
    assert "export const SettlementServiceClient" in ts and 'from "@grpc/grpc-js"' in ts
    assert "message.capCategory !== undefined" in (gen / "ts" / "medsettle" / "v1" / "reference_data.ts").read_text()
