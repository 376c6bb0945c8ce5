"""Shared fixtures: a real LMDB store in a temporary directory, and a real in-process grpc.aio server."""

from __future__ import annotations

import asyncio
import pathlib

import grpc
import pytest

from medsettle.server import start
from medsettle.service.app import App
from medsettle.service.clock import FixedClock
from medsettle.store.env import Store, StoreConfig
from medsettle.store.writer import GroupCommitWriter

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEST_MAP_SIZE_BYTES = 2**30


@pytest.fixture
def store(tmp_path):
    s = Store(StoreConfig(path=str(tmp_path / "data"), map_size_bytes=TEST_MAP_SIZE_BYTES))
    yield s
    s.close()


@pytest.fixture
def writer(store):
    w = GroupCommitWriter(store)
    yield w
    w.close()


class Running:
    """A started in-process server and a channel to it; `call(coro)` runs on the server's loop."""

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop, server, channel, port: int) -> None:
        self.app = app
        self.loop = loop
        self.server = server
        self.channel = channel
        self.port = port

    def run(self, coro):
        return self.loop.run_until_complete(coro)


@pytest.fixture
def clock():
    return FixedClock.at("2026-03-02T10:00:00")


@pytest.fixture
def served(store, writer, clock):
    """A real grpc.aio server on an ephemeral port over the test store."""

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # grpc.aio binds to the current loop; an earlier asyncio.run() leaves none
    app = App(store=store, writer=writer, clock=clock)

    server, _, port = loop.run_until_complete(start(app, "127.0.0.1:0", so_reuseport=False))
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    running = Running(app, loop, server, channel, port)
    yield running
    loop.run_until_complete(channel.close())
    loop.run_until_complete(server.stop(None))
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def world(store):
    """The hand-made nation of tests/world.py, written into the test store."""
    from tests import world as w

    with store.write() as view:
        w.build(view)
    return w


def rpc_error_info(error: grpc.RpcError):
    """(reason codes, metadata of the first ErrorInfo, field violations) of a refused call."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)
    assert status is not None, "refusals carry google.rpc.Status details"
    reasons_, metadata, fields = [], None, []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(info):
            assert info.domain == "medsettle"
            reasons_.append(info.reason)
            metadata = metadata or dict(info.metadata)
        elif detail.Unpack(bad):
            fields.extend(v.field for v in bad.field_violations)
    return reasons_, metadata, fields


def business_counts(store: Store) -> dict[str, int]:
    """Entries per keyspace, less the statistics keyspaces a refused settlement is counted in (best effort, after the
    refusal: see service/refusal_stats.py). What "a refusal writes nothing" is checked against."""
    from medsettle.store.view import STATISTICS_KEYSPACES

    return {name: count for name, count in store.counts().items() if name not in STATISTICS_KEYSPACES}
