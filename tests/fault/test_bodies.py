"""Random, truncated and oversized request bodies, against every RPC of a real server process: each gets a clear
status with a stable reason (MALFORMED_REQUEST when it does not decode, MESSAGE_TOO_LARGE when it is larger than its
method takes, or the usual refusal when it decodes into a request the rules refuse), never UNKNOWN or INTERNAL, and
the store is byte for byte what it was.

Before the fix: 330 of 330 random bodies across 11 RPCs answered UNKNOWN "Unexpected <class 'DecodeError'>", with no
reason and no log line.
"""

from __future__ import annotations

import random

import grpc
from google.protobuf import descriptor, descriptor_pool
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from medsettle.service import identity, intake, registry
from medsettle.store.env import Store, StoreConfig
from tests.digest import snapshot
from tests.fault.harness import ServerProcess, build_nation, gateway_channel, status_reason

RANDOM_BODIES = 8
TRUNCATIONS = 8


def _methods() -> list[descriptor.MethodDescriptor]:
    pool = descriptor_pool.Default()
    found = []
    for servicer in registry.SERVICERS:
        found.extend(pool.FindServiceByName(servicer.full_name).methods)
    found.append(pool.FindServiceByName("grpc.health.v1.Health").methods_by_name["Check"])
    return found


def _filled(message: Message, depth: int = 0) -> Message:
    """Every field set: strings to a code that names nothing, numbers to 1, one element in each list. Whatever the
    rules make of such a request, they refuse it (nothing it names exists), so a truncation of it that still decodes
    is refused too and writes nothing."""
    for field in message.DESCRIPTOR.fields:
        repeated = field.is_repeated
        if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            if depth < 3:
                target = getattr(message, field.name).add() if repeated else getattr(message, field.name)
                _filled(target, depth + 1)
                if not repeated:
                    target.SetInParent()
            continue
        value = {descriptor.FieldDescriptor.TYPE_STRING: "ZZZZZZZZZZ", descriptor.FieldDescriptor.TYPE_BOOL: True,
                 descriptor.FieldDescriptor.TYPE_BYTES: b"zz"}.get(field.type, 1)
        if field.type == descriptor.FieldDescriptor.TYPE_ENUM:
            value = field.enum_type.values[-1].number
        if repeated:
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)
    return message


def _bodies(method: descriptor.MethodDescriptor, rng: random.Random) -> list[bytes]:
    whole = _filled(GetMessageClass(method.input_type)()).SerializeToString()
    bodies = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(RANDOM_BODIES)]
    bodies += [whole[:rng.randint(1, max(1, len(whole) - 1))] for _ in range(TRUNCATIONS)]
    bodies.append(b"\xff" * 16)  # a field tag with no end: never decodes
    return bodies


def test_every_rpc_answers_bad_bodies_with_a_reason_and_writes_nothing(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    before = snapshot(store)
    store.close()
    rng = random.Random(11)
    answers: dict[str, int] = {}
    with ServerProcess(data_dir, tmp_path / "server.log") as server:
        server.wait_serving()
        with gateway_channel(server.target) as channel:
            for method in _methods():
                path = f"/{method.containing_service.full_name}/{method.name}"
                call = channel.unary_unary(path)  # bytes in, bytes out: the body goes on the wire as it is
                for body in _bodies(method, rng):
                    try:
                        call(body, timeout=10, metadata=identity.metadata("national:ops"))
                        outcome = "OK"
                    except grpc.RpcError as error:
                        assert error.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), (path, body, error)
                        reason = status_reason(error)
                        assert reason, (path, body, error.code(), error.details())
                        outcome = reason
                    answers[outcome] = answers.get(outcome, 0) + 1

                # One byte over what the method takes: refused before it is parsed.
                oversized = b"\x00" * (intake.body_bytes_max(path) + 1)
                try:
                    call(oversized, timeout=30)
                    raise AssertionError(f"{path} took a body over its limit")
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, (path, error)
                    assert status_reason(error) == "MESSAGE_TOO_LARGE", (path, error)
        logged = {event["reason"] for event in server.events("rpc_refused")}
    assert answers.get("MALFORMED_REQUEST", 0) >= len(_methods()), answers  # the \xff body at least, for each
    assert {"MALFORMED_REQUEST", "MESSAGE_TOO_LARGE"} <= logged
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    assert snapshot(store) == before
    store.close()
