"""Shared fixtures: a real store (LMDB in a temporary directory, or a schema of a real PostgreSQL server the tests
start), and a real in-process grpc.aio server.

The service tests (tests/service) run against both backends: `store` is parametrized [lmdb, postgresql] there, so
every servicer behaviour is checked on each (a module may narrow BACKENDS and says why: the demo nation's reasons run
on LMDB only; the bad-input sweep, which builds its own store, runs whole on LMDB and a sample on PostgreSQL).
Elsewhere `store` is LMDB, the default backend; tests/store/test_postgres.py holds what is PostgreSQL's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import pathlib

import grpc
import pytest

from medsettle.server import start
from medsettle.service import identity
from medsettle.service.app import App
from medsettle.service.clock import FixedClock
from medsettle.store.env import Store, StoreConfig
from medsettle.store.writer import GroupCommitWriter

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEST_MAP_SIZE_BYTES = 2**30


BACKENDS = ("lmdb", "postgresql")
BOTH_BACKENDS_UNDER = ROOT / "tests" / "service"


def pytest_generate_tests(metafunc):
    # The service suite on both backends; a module can opt out of a backend with `BACKENDS = (...)` (and says why).
    if "backend" in metafunc.fixturenames and BOTH_BACKENDS_UNDER in pathlib.Path(metafunc.definition.fspath).parents:
        metafunc.parametrize("backend", getattr(metafunc.module, "BACKENDS", BACKENDS), scope="module")


@pytest.fixture(scope="module")
def backend():
    return "lmdb"


@contextlib.contextmanager
def service_directory(prefix: str):
    """A directory for a server that lives as long as a module or the session. Not under pytest's basetemp: a pytest
    run started meanwhile by anyone else on the machine (as the same user) deletes all but the three newest basetemps,
    data directories of running servers included."""
    import shutil
    import tempfile

    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the whole run (fsync off: these tests check behaviour; durability is the cluster
    tests' and the benchmarks'). A missing PostgreSQL fails the tests that need it: it never skips them."""
    from medsettle.local_postgres import LocalPostgres

    with service_directory("medsettle-test-pg-") as directory:
        server = LocalPostgres(directory, durable=False).start()
        yield server
        server.stop()


_schemas = itertools.count(1)


def new_postgres_location(server) -> str:
    """A connection string to a new, empty schema of `server`: a store of its own for one test."""
    import psycopg

    schema = f"t{next(_schemas)}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return server.conninfo(options=f"-csearch_path={schema}")


def open_test_store(backend: str, tmp_path: pathlib.Path, request) -> Store:
    """A new empty store of `backend` (the PostgreSQL server is started on first use)."""
    if backend == "postgresql":
        from medsettle.store.postgres import PgConfig, PgStore

        return PgStore(PgConfig(conninfo=new_postgres_location(request.getfixturevalue("postgres_server"))))
    return Store(StoreConfig(path=str(tmp_path / "data"), map_size_bytes=TEST_MAP_SIZE_BYTES))


@pytest.fixture
def store(backend, tmp_path, request):
    s = open_test_store(backend, tmp_path, request)
    yield s
    s.close()


@pytest.fixture
def writer(store):
    w = GroupCommitWriter(store)
    yield w
    w.close()


NATIONAL = "national:ops"  # the national platform's operations: what tests call as when no other caller is meant


class _CallerHeader:
    """Names the caller on every call of a channel, as a local tool does on a loopback --insecure listener (one
    instance per kind of call: a grpc.aio channel files each interceptor under its first kind only)."""

    def __init__(self, caller: str) -> None:
        self.metadata = identity.metadata(caller)

    def _named(self, details):
        """The channel's caller, unless the call names its own (metadata=identity.metadata(...))."""
        given = tuple(details.metadata or ())
        if any(key == identity.CALLER_METADATA_KEY for key, _ in given):
            return details
        return details._replace(metadata=given + self.metadata)


class _UnaryCallerHeader(_CallerHeader, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):
        return await continuation(self._named(details), request)


class _UnaryStreamCallerHeader(_CallerHeader, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(self._named(details), request)


class _StreamCallerHeader(_CallerHeader, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, details, request_iterator):
        return await continuation(self._named(details), request_iterator)


class _InstitutionOfRequest(grpc.aio.UnaryUnaryClientInterceptor):
    """Names as the caller the institution each request names (fixmedins_code, or claim.fixmedins_code): a
    hospital's gateway, for tests that settle at several hospitals."""

    async def intercept_unary_unary(self, continuation, details, request):
        holder = request.claim if request.DESCRIPTOR.fields_by_name.get("claim") else request
        metadata = tuple(details.metadata or ()) + identity.metadata(f"institution:{holder.fixmedins_code}")
        return await continuation(details._replace(metadata=metadata), request)


def channel_as(target: str, caller: str) -> grpc.aio.Channel:
    """A plaintext channel on which every call is made as `caller` ("institution:H44010600001", ...)."""
    return grpc.aio.insecure_channel(target, interceptors=[kind(caller) for kind in (
        _UnaryCallerHeader, _UnaryStreamCallerHeader, _StreamCallerHeader)])


class Running:
    """A started in-process server; `channel` calls as the national operator, `as_(caller)` as anyone else;
    `run(coro)` runs on the server's loop. The server authorizes exactly as production does (the caller named by
    the x-medsettle-caller metadata on this loopback plaintext listener)."""

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop, server, port: int) -> None:
        self.app = app
        self.loop = loop
        self.server = server
        self.port = port
        self.target = f"127.0.0.1:{port}"
        self._channels: dict[str, grpc.aio.Channel] = {}

    @property
    def channel(self) -> grpc.aio.Channel:
        return self.as_(NATIONAL)

    def as_(self, caller: str) -> grpc.aio.Channel:
        if caller not in self._channels:
            self._channels[caller] = channel_as(self.target, caller)
        return self._channels[caller]

    def as_gateway(self) -> grpc.aio.Channel:
        """Each call made as the institution its request names (settlement flows at several hospitals)."""
        if "gateway" not in self._channels:
            self._channels["gateway"] = grpc.aio.insecure_channel(self.target, interceptors=[_InstitutionOfRequest()])
        return self._channels["gateway"]

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        for channel in self._channels.values():
            self.run(channel.close())
        self.run(self.server.stop(None))


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
    running = Running(app, loop, server, port)
    yield running
    running.close()
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
