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
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

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


def _reflect(served, method: str, requests: list[reflection_pb2.ServerReflectionRequest]):
    """The answers of one reflection stream on `method` (v1 and v1alpha messages are the same on the wire)."""
    call = served.channel.stream_stream(method, request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)

    async def run():
        return [answer async for answer in call(iter(requests))]

    return served.run(run())


@pytest.mark.parametrize("protocol", ["v1", "v1alpha"])
def test_reflection_v1_and_v1alpha_list_the_services_and_resolve_the_error_detail_types(served, protocol):
    from medsettle.service import reflection

    method = f"/grpc.reflection.{protocol}.ServerReflection/ServerReflectionInfo"
    listed = _reflect(served, method, [reflection_pb2.ServerReflectionRequest(list_services="")])
    names = {s.name for s in listed[0].list_services_response.service}
    assert SERVICES | {"grpc.health.v1.Health", reflection.V1_SERVICE_NAME, reflection.V1ALPHA_SERVICE_NAME} <= names
    # A client decodes a refusal's details by resolving their types: each is found, with the file it needs.
    symbols = [t.DESCRIPTOR.full_name for t in reflection.DETAIL_TYPES] + ["medsettle.v1.ReferenceDataService",
                                                                         reflection.V1_SERVICE_NAME]
    answers = _reflect(served, method, [reflection_pb2.ServerReflectionRequest(file_containing_symbol=s) for s in symbols])
    for symbol, answer in zip(symbols, answers, strict=True):
        assert answer.WhichOneof("message_response") == "file_descriptor_response", (symbol, answer.error_response)
        files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                 for raw in answer.file_descriptor_response.file_descriptor_proto]
        package, _, name = symbol.rpartition(".")
        assert any(f.package == package and name in {*(m.name for m in f.message_type), *(s.name for s in f.service)}
                   for f in files), symbol


def test_a_method_no_service_has_is_unimplemented_and_a_served_one_still_answers(served):
    # Every method is served through one generic look-up (service/layers.py), none registered with gRPC by name:
    # a path it does not hold, in a served service or none, falls through every handler to gRPC's UNIMPLEMENTED.
    import grpc
    from grpc_health.v1 import health_pb2

    for method in ("/medsettle.v1.SettlementService/NoSuchMethod", "/medsettle.v9.NoSuchService/Call"):
        call = served.channel.unary_unary(method, request_serializer=bytes, response_deserializer=bytes)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            served.run(call(b""))
        assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED, method
    check = served.channel.unary_unary("/grpc.health.v1.Health/Check",
                                       request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                       response_deserializer=health_pb2.HealthCheckResponse.FromString)
    assert served.run(check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.SERVING


# The last released contract (0.1.0, the protos of commit 7075018), as a buf image: `buf breaking` compares against it.
RELEASED_IMAGE = ROOT / "protos" / "released" / "medsettle-v1-0.1.0.binpb"
# The breaking changes since that release, each with its reason and migration note in CHANGELOG.md. Anything else
# buf finds fails the test: a break needs a reason and a note. (On the next release, a new image, and this empties.)
LANGUAGE_OPTIONS = {"CSHARP_NAMESPACE", "GO_PACKAGE", "JAVA_MULTIPLE_FILES", "JAVA_OUTER_CLASSNAME", "JAVA_PACKAGE",
                    "OBJC_CLASS_PREFIX", "PHP_NAMESPACE", "RUBY_PACKAGE"}
MADE_EXPLICIT = {"CatalogItem.pric_uplmt_amt", "CatalogItem.lmt_age_min", "CatalogItem.lmt_age_max", "RatioBand.upto",
                 "RatioBand.ratio", "DiseaseCap.cap", "Policy.dedc", "Policy.dedc_later", "Policy.cap_category",
                 "Policy.cap_overall", "Policy.hifob_cap", "Policy.hifmi_threshold", "Policy.hifmi_cap",
                 "FeeLineResult.pric_uplmt_amt"}


def test_buf_breaking_against_the_last_release_finds_only_the_documented_breaks():
    import json
    import re

    result = subprocess.run([_buf(), "breaking", "--against", str(RELEASED_IMAGE), "--error-format", "json"],
                            cwd=ROOT / "protos", capture_output=True, text=True, timeout=120,
                            env={**os.environ, "BUF_CACHE_DIR": str(ROOT / ".tools" / "buf-cache")})
    found = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode in (0, 100) and not result.stderr.strip(), result.stderr
    options, fields, other = set(), set(), []
    for each in found:
        named = re.match(r'Field "\d+" with name "(\w+)" on message "(\w+)" changed cardinality', each["message"])
        if each["type"].startswith("FILE_SAME_") and each["type"].removeprefix("FILE_SAME_") in LANGUAGE_OPTIONS:
            options.add((each["path"], each["type"]))
        elif each["type"] == "FIELD_SAME_CARDINALITY" and named:
            fields.add(f"{named.group(2)}.{named.group(1)}")
        else:
            other.append(each)
    assert other == [], "an undocumented breaking change (give it a reason and a note in CHANGELOG.md)"
    assert fields == MADE_EXPLICIT
    # A buf image reads as a FileDescriptorSet: the files the release had (a file added since has no options to change).
    released = descriptor_pb2.FileDescriptorSet.FromString(RELEASED_IMAGE.read_bytes())
    protos = {f.name for f in released.file if f.name.startswith("medsettle/")}
    assert len(protos) == 6
    assert options == {(path, f"FILE_SAME_{option}") for path in protos for option in LANGUAGE_OPTIONS}
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in changelog for name in MADE_EXPLICIT)


def test_every_field_is_commented_and_every_request_field_says_whether_it_is_required():
    """Integrators read the contract: each field's comment gives its unit or meaning, and in a request (or a message
    only requests carry) whether it is required; a oneof's own comment speaks for its members."""
    import re

    request_parts = {"OutpatientClaim", "PersonRef", "CatalogItemKey", "PolicyKey"}
    bare, unsaid = [], []
    for proto in sorted((ROOT / "protos" / "medsettle" / "v1").glob("*.proto")):
        lines = proto.read_text(encoding="utf-8").splitlines()
        message, oneof_comment = "", ""
        for index, line in enumerate(lines):
            if found := re.match(r"^message (\w+)", line):
                message = found.group(1)
            comment_lines = []
            above = index - 1
            while above >= 0 and lines[above].strip().startswith("//"):
                comment_lines.insert(0, lines[above])
                above -= 1
            comment = " ".join(comment_lines)
            if re.match(r"^\s+oneof \w+ \{", line):
                oneof_comment = comment
                continue
            if re.match(r"^\s+\}", line):
                oneof_comment = ""
            field = re.match(r"^\s+(?:repeated |optional )?[\w.<>, ]+ (\w+) = \d+;", line)
            if not field:
                continue
            name = f"{proto.name}: {message}.{field.group(1)}"
            if not comment:
                bare.append(name)
            elif (message.endswith("Request") or message in request_parts) and not re.search(
                    r"Required|Optional|required", comment + " " + oneof_comment):
                unsaid.append(name)
    assert bare == [] and unsaid == []
