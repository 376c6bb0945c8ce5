"""The PostgreSQL backend against LMDB's semantics, and what only a shared database raises: several processes (here:
several stores, each with its own connections and cache, as several hosts have) over one database."""

from __future__ import annotations

import asyncio
import random

import msgspec
import pytest

from medsettle.domain.records import CatalogItem
from medsettle.server import start
from medsettle.service.app import App
from medsettle.service.clock import FixedClock
from medsettle.store import keys
from medsettle.store.env import Store, StoreConfig
from medsettle.store.errors import CommitUnknown, StoreMissing
from medsettle.store.postgres import PgConfig, PgStore
from medsettle.store.writer import GroupCommitWriter
from medsettle.v1 import person_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from tests.conftest import TEST_MAP_SIZE_BYTES, Running, new_postgres_location
from tests.service.test_settlements import accumulators, claim, line


@pytest.fixture
def location(postgres_server):
    return new_postgres_location(postgres_server)


def _walk(txn, db, start: bytes) -> list:
    """Every cursor move the views make, from `start`: what each backend must answer alike."""
    cursor = txn.cursor(db=db)
    seen = [cursor.set_range(start), cursor.key()]
    for _ in range(3):
        seen += [cursor.next(), cursor.item()]
    seen += [cursor.prev(), cursor.key(), cursor.set_range(start), cursor.prev(), cursor.key()]
    seen += [cursor.last(), cursor.key(), cursor.prev(), cursor.value(), cursor.first(), cursor.key()]
    seen.append([bytes(k) for k, _ in txn.cursor(db=db)])
    return seen


def test_cursor_moves_and_reads_answer_as_lmdb_does(tmp_path, location):
    rng = random.Random(16)
    lmdb_store = Store(StoreConfig(path=str(tmp_path / "lmdb"), map_size_bytes=TEST_MAP_SIZE_BYTES))
    pg_store = PgStore(PgConfig(conninfo=location))
    alphabet = [b"a", b"b", b"\x00", b"ab", b"b\x00c", b"\xff", b"a\x00", b"c"]
    try:
        for _round in range(6):
            writes = [(rng.choice(alphabet) + rng.choice(alphabet), rng.choice([b"", b"v", b"w" * 600]))
                      for _ in range(40)]
            deletes = [rng.choice(alphabet) + rng.choice(alphabet) for _ in range(10)]
            for store in (lmdb_store, pg_store):
                with store.env.begin(write=True) as txn:
                    for raw_key, value in writes:
                        txn.put(raw_key, value, db=store.dbs["stats"])
                    for raw_key in deletes:
                        txn.delete(raw_key, db=store.dbs["stats"])
                    # Inside the write transaction too: a write is seen by the next read and by the cursors.
                    inside = [_walk(txn, store.dbs["stats"], start) for start in (b"a", b"b\x00", b"zz")]
                    store.inside = inside
            assert pg_store.inside == lmdb_store.inside
            for start in (b"", b"a", b"ab", b"b\x00", b"c", b"\xff\xff"):
                with lmdb_store.env.begin() as ltxn, pg_store.env.begin() as ptxn:
                    assert _walk(ptxn, pg_store.dbs["stats"], start) == _walk(ltxn, lmdb_store.dbs["stats"], start)
                    if start:  # LMDB has no empty key
                        assert ptxn.get(start, db="stats") == ltxn.get(start, db=lmdb_store.dbs["stats"])
        # meta differs by design: LMDB keeps its reference token as a row, PostgreSQL's is the generation.
        without_meta = [{space: n for space, n in store.counts().items() if space != "meta"}
                        for store in (pg_store, lmdb_store)]
        assert without_meta[0] == without_meta[1]
    finally:
        lmdb_store.close()
        pg_store.close()


def test_a_refused_job_leaves_no_trace_even_after_it_flushed_and_the_rest_commits(location):
    store = PgStore(PgConfig(conninfo=location))
    writer = GroupCommitWriter(store, batch_jobs_max=8)
    try:
        def good(n):
            def job(view):
                view.txn.put(keys.key("good", str(n)), b"1", db="meta")
                return n
            return job

        def refused(view):
            view.txn.put(keys.key("bad", "1"), b"1", db="meta")
            assert list(view.txn.cursor(db="meta"))  # a range read: the job's writes are flushed under a SAVEPOINT
            view.txn.put(keys.key("bad", "2"), b"1", db="meta")
            raise ValueError("refused under the lock")

        futures = [writer.submit(job) for job in (good(1), refused, good(2))]
        assert futures[0].result() == 1 and futures[2].result() == 2
        with pytest.raises(ValueError):
            futures[1].result()
        with store.read() as view:
            names = [keys.parts(k)[0] for k, _ in view.txn.cursor(db="meta")]
        assert "bad" not in names and names.count("good") == 2
    finally:
        writer.close()
        store.close()


def test_a_push_through_one_host_is_seen_by_every_other_hosts_cache(location):
    """Catalog look-ups are served from a per-process cache; a new version written through another store (another
    host) invalidates it at the next snapshot, not at some later time."""
    here, there = PgStore(PgConfig(conninfo=location)), PgStore(PgConfig(conninfo=location))
    try:
        item = CatalogItem(med_list_codg="XA001", name="甲类药", list_type="101", chrgitm_lv="01", begndate="2026-01-01")
        with there.write() as view:
            view.put_catalog_item("440000", item)
        for _ in range(3):  # the second and third look-ups come from a cache (the views' decoded rows)
            with here.read() as view:
                assert view.catalog_item("440000", "XA001", "2026-03-02").name == "甲类药"
        assert here.cache.misses == 1  # PostgreSQL was asked once
        with there.write() as view:
            view.put_catalog_item("440000", msgspec.structs.replace(item, name="新版本", begndate="2026-03-01"))
        with here.read() as view:
            assert view.catalog_item("440000", "XA001", "2026-03-02").name == "新版本"
            assert view.catalog_item("440000", "XA001", "2026-02-02").name == "甲类药"
    finally:
        here.close()
        there.close()


def test_an_empty_database_is_refused_without_create(postgres_server):
    location = new_postgres_location(postgres_server)
    with pytest.raises(StoreMissing):
        PgStore(PgConfig(conninfo=location, create=False))
    PgStore(PgConfig(conninfo=location)).close()
    PgStore(PgConfig(conninfo=location, create=False)).close()


def test_two_servers_over_one_database_never_double_spend_an_accumulator(location):
    """Two medsettle servers (each its own store, writer and cache, as on two hosts) settle one person's claims at
    once: the deductible is spent once and the outpatient cap never exceeded, as with one server."""
    from tests import world

    stores = [PgStore(PgConfig(conninfo=location)) for _ in range(2)]
    with stores[0].write() as view:
        world.build(view)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    servers = []
    try:
        for store in stores:
            app = App(store=store, writer=GroupCommitWriter(store), clock=FixedClock.at("2026-03-02T10:00:00"))
            server, _, port = loop.run_until_complete(start(app, "127.0.0.1:0", so_reuseport=False))
            servers.append(Running(app, loop, server, port))
        big = [line("1", "XA001", "10", "1000", 1_000_000)]
        stubs = [settlement_pb2_grpc.SettlementServiceStub(s.as_gateway()) for s in servers]
        requests = [settlement_pb2.SettleOutpatientRequest(request_id=f"TWO-{n:03d}",
                                                           claim=claim("P002", world.GZ_HOSPITAL, big))
                    for n in range(40)]

        async def all_at_once():
            return await asyncio.gather(*(stubs[n % 2].SettleOutpatient(r) for n, r in enumerate(requests)))

        answers = [a.settlement for a in loop.run_until_complete(all_at_once())]
        assert sum(s.act_pay_dedc for s in answers) == 180_000
        assert sum(s.hifp_pay for s in answers) == 2_000_000
        assert all(s.app.writer.jobs >= 1 for s in servers)  # both servers wrote
        acc = accumulators(person_pb2_grpc.PersonServiceStub(servers[1].channel), servers[1], "P002")
        assert acc.dedc_outpatient == 180_000 and acc.hifp_outpatient == 2_000_000 and acc.visits_outpatient == 40
        # A retry through the other server gets the first answer, byte for byte.
        again = loop.run_until_complete(stubs[1].SettleOutpatient(requests[0]))
        assert again.settlement == answers[0]
    finally:
        for running in servers:
            running.close()
            running.app.writer.close()
        for store in stores:
            store.close()
        asyncio.set_event_loop(None)
        loop.close()


def test_a_commit_cut_off_while_waiting_for_its_standby_is_unknown_and_the_retry_finds_it(tmp_path):
    """The COMMIT reached the server, which waits for a synchronous standby that never confirms; the connection
    is then cut (as a failover does). The writer must not say "not done": CommitUnknown, i.e. UNAVAILABLE
    OUTCOME_UNKNOWN; the transaction is in fact committed on that server, and a retry reads it."""
    import threading
    import time

    import psycopg

    from medsettle.local_postgres import LocalPostgres

    server = LocalPostgres(tmp_path / "pg").start()  # synchronous_commit on: a commit waits for its standby
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            store = PgStore(PgConfig(conninfo=server.conninfo(), application_name="medsettle-cut"))
            admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
            admin.execute("SELECT pg_reload_conf()")
            time.sleep(0.5)
            outcome: list = []

            def commit():
                try:
                    with store.write() as view:
                        view.txn.put(b"cut", b"1", db="meta")
                except Exception as error:  # noqa: BLE001 - the outcome under test
                    outcome.append(error)

            committing = threading.Thread(target=commit)
            committing.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                waiting = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'medsettle-cut' "
                                        "AND wait_event = 'SyncRep'").fetchall()
                if waiting:
                    admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
                    break
                time.sleep(0.05)
            committing.join(10)
            assert len(outcome) == 1 and isinstance(outcome[0], CommitUnknown), outcome
            admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
            admin.execute("SELECT pg_reload_conf()")
            with store.read() as view:
                assert view.txn.get(b"cut", db="meta") == b"1"  # it had committed: "not done" would have been a lie
            store.close()
    finally:
        server.stop()


def test_every_command_that_opens_a_store_takes_a_postgresql_one(postgres_server, tmp_path, capsys):
    from medsettle.cli import main

    location = new_postgres_location(postgres_server)
    small = ["--items-per-province", "20", "--persons-per-province", "5", "--no-audit-rules"]
    assert main(["seed", "--store", location, *small]) == 0
    assert main(["seed", "--store", location, *small]) == 1  # already holds data: not seeded twice
    assert main(["migrate", "--store", location]) == 0
    assert "0 left in an earlier format" in capsys.readouterr().out
    assert main(["clearing", "run", "--store", location, "--month", "2026-01", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "statement_2026-01.csv").exists()
    empty = new_postgres_location(postgres_server)
    capsys.readouterr()
    for command in (["clearing", "run", "--month", "2026-01"], ["migrate"], ["report", "--month", "2026-01"],
                    ["serve", "--insecure", "--listen", "127.0.0.1:0"]):
        assert main([*command, "--store", empty]) == 2, command  # a mistyped URL is refused, never created
        assert "holds no medsettle store" in capsys.readouterr().err
    unreachable = "postgresql:///x?host=/nonexistent&connect_timeout=1"
    assert main(["clearing", "run", "--month", "2026-01", "--store", unreachable]) == 3  # exits.UNREACHABLE
    assert "/nonexistent" in capsys.readouterr().err


def test_a_pg_basebackup_copy_restores_the_store_whole(tmp_path):
    """docs/operations.md's one-off backup: pg_basebackup of a serving database, started elsewhere as it is, holds
    every keyspace as it was."""
    from medsettle.local_postgres import LocalPostgres, give, run_as
    from tests import world
    from tests.digest import snapshot

    source = LocalPostgres(tmp_path / "source").start()
    try:
        store = PgStore(PgConfig(conninfo=source.create_database("medsettle")))
        with store.write() as view:
            world.build(view)
        before = snapshot(store)
        restored_dir = tmp_path / "restored"
        restored_dir.mkdir()
        give(restored_dir, source.user)
        run_as(source.user, [str(source.bin / "pg_basebackup"), "-h", str(source.socket_dir), "-U", "postgres",
                             "-D", str(restored_dir / "data"), "-X", "stream", "-c", "fast"])
        store.close()
    finally:
        source.stop()
    restored = LocalPostgres(restored_dir).start()
    try:
        copy = PgStore(PgConfig(conninfo=restored.conninfo("medsettle"), create=False))
        assert snapshot(copy) == before and before["persons"][0] > 0
        copy.close()
    finally:
        restored.stop()


def test_backup_and_restore_move_a_store_between_the_backends_whole(postgres_server, tmp_path, capsys):
    """`medsettle backup` of a PostgreSQL store is the same checked file as LMDB's; it restores into an LMDB
    directory or into an empty PostgreSQL database, and an LMDB store's backup restores into PostgreSQL: every
    keyspace equal, entry for entry."""
    from medsettle.cli import main
    from tests import world
    from tests.digest import snapshot

    source = new_postgres_location(postgres_server)
    store = PgStore(PgConfig(conninfo=source))
    with store.write() as view:
        world.build(view)
    before = snapshot(store)
    store.close()
    assert main(["backup", "--store", source, "--out", str(tmp_path / "b1")]) == 0
    assert main(["restore", "--from", str(tmp_path / "b1"), "--data-dir", str(tmp_path / "lmdb")]) == 0
    lmdb_store = Store(StoreConfig(path=str(tmp_path / "lmdb"), create=False))
    assert snapshot(lmdb_store) == before
    lmdb_store.close()
    assert main(["backup", "--data-dir", str(tmp_path / "lmdb"), "--out", str(tmp_path / "b2")]) == 0
    target = new_postgres_location(postgres_server)
    assert main(["restore", "--from", str(tmp_path / "b2"), "--store", target]) == 0
    restored = PgStore(PgConfig(conninfo=target, create=False))
    assert snapshot(restored) == before
    restored.close()
    capsys.readouterr()
    assert main(["restore", "--from", str(tmp_path / "b2"), "--store", target]) == 2  # never over a store
    assert "holds a store" in capsys.readouterr().err


def test_serve_with_two_worker_processes_over_one_database(postgres_server, tmp_path):
    """`medsettle serve --store postgresql://... --workers 2`: two spawned processes, each with its own connections,
    writer and cache, settle one person's claims at once; the deductible is spent once."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.fault.harness import ServerProcess, accumulators, build_nation, gateway_channel, settle_request, stubs

    location = new_postgres_location(postgres_server)
    build_nation(location)
    with ServerProcess(str(tmp_path / "unused"), tmp_path / "server.log", "--store", location, workers=2) as server:
        server.wait_serving()
        channels = [gateway_channel(server.target, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(8)]
        try:
            def settle(n: int):
                return stubs(channels[n % 8])[0].SettleOutpatient(
                    settle_request(f"W2-{n:03d}", amount_fen=500_000), timeout=60).settlement

            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(settle, range(30)))
            acc = accumulators(channels[0], "P001")
        finally:
            for channel in channels:
                channel.close()
        serving = {event["pid"] for event in server.events("serving")}
    assert len(serving) == 2
    assert acc.visits_outpatient == 30 and acc.dedc_outpatient == sum(s.act_pay_dedc for s in answers)
    assert acc.hifp_outpatient == sum(s.hifp_pay for s in answers) and acc.dedc_outpatient == 180_000
