"""A store written by the previous release (0.1.0: records as msgpack maps) is served as it is, and `medsettle
migrate` rewrites its records in the current format without changing one of them.

The fixture was made by release 0.1.0 (commit 7075018) itself: the hand-made nation of tests/world.py, two
outpatient settlements (one paid from the account, then reversed), an inpatient stay settled, a prepaid fund.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile

from medsettle.store import codec, migrate
from medsettle.store.env import Store, StoreConfig
from medsettle.store.view import RECORD_TYPES
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "store-release-0.1.0.tar.gz"


def _unpack(tmp_path) -> str:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(data_dir, filter="data")
    return str(data_dir)


def _every_record(store: Store) -> dict[tuple[str, bytes], object]:
    with store.env.begin() as txn:
        return {(space, bytes(raw_key)): codec.decode(value, record_type)
                for space, record_type in RECORD_TYPES.items()
                for raw_key, value in txn.cursor(db=store.dbs[space])}


def test_the_previous_release_store_reads_as_it_is_and_migrates_record_for_record(tmp_path):
    data_dir = _unpack(tmp_path)
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**28, create=False))
    try:
        legacy = migrate.legacy_count(store)
        assert legacy > 50
        before = _every_record(store)
        with store.read() as view:
            settlements = list(view.all_settlements())
            assert len(settlements) == 4 and sum(1 for s in settlements if s.reversed_setl_id) == 1
            assert view.accumulator_row("P001", "310", 2026).accumulators.visits_outpatient == 1
            assert view.person("P001").insu_lines[0].acct_balc_fen == 100_000  # the reversal gave the account back
        assert migrate.migrate(store)["settlements"] == 4
        assert migrate.legacy_count(store) == 0
        after = _every_record(store)
        assert after == before  # every record, field for field
        assert migrate.migrate(store) == {}  # nothing left to do
    finally:
        store.close()


def test_medsettle_migrate_command(tmp_path):
    data_dir = _unpack(tmp_path)
    result = subprocess.run([sys.executable, "-m", "medsettle.cli", "migrate", "--data-dir", data_dir],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "records in an earlier format" in result.stdout and "; 0 left in an earlier format" in result.stdout
    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**28, create=False))
    try:
        with store.env.begin() as txn:
            raw = next(iter(txn.cursor(db=store.dbs["settlements"])))[1]
        assert codec.is_current(raw)
    finally:
        store.close()


def test_the_previous_release_store_is_served_retries_included(tmp_path):
    """Its request records hold their answers (no reference): a retry gets those bytes; new settlements go on."""
    import asyncio

    from medsettle.server import start
    from medsettle.service.app import App
    from medsettle.service.clock import FixedClock
    from medsettle.store.writer import GroupCommitWriter
    from medsettle.v1 import settlement_pb2, settlement_pb2_grpc
    from tests import world
    from tests.conftest import channel_as
    from tests.service.test_settlements import VISIT_1, VISIT_2, claim

    store = Store(StoreConfig(path=_unpack(tmp_path), map_size_bytes=2**28, create=False))
    with store.read() as view:
        first_answer = view.request(world.GZ_HOSPITAL, "OLD-2").response
    writer = GroupCommitWriter(store)

    async def scenario():
        app = App(store=store, writer=writer, clock=FixedClock.at("2026-03-02T11:00:00"))
        server, _, port = await start(app, "127.0.0.1:0", so_reuseport=False)
        async with channel_as(f"127.0.0.1:{port}", f"institution:{world.GZ_HOSPITAL}") as channel:
            stub = settlement_pb2_grpc.SettlementServiceStub(channel)
            retried = await stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                request_id="OLD-2", claim=claim("P001", world.GZ_HOSPITAL, VISIT_2)))
            new = await stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                request_id="NEW-1", claim=claim("P001", world.GZ_HOSPITAL, VISIT_1)))
        await server.stop(None)
        return retried, new

    try:
        retried, new = asyncio.run(scenario())
    finally:
        writer.close()
        store.close()
    assert retried.SerializeToString(deterministic=True) == first_answer
    assert new.settlement.setl_id and new.settlement.act_pay_dedc > 0
