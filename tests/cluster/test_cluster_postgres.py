"""`medsettle cluster up --shard-store`: the shards keep their stores in PostgreSQL (here a schema each of one real
server; in production a database or a Patroni cluster each), behind the same real Envoy. Settlements of persons
insured in the provinces of each shard land in that shard's PostgreSQL store and in no other."""

from __future__ import annotations

import psycopg
import pytest

from bench import benchlib
from tests.cluster import harness
from tests.cluster.test_cluster import _settle, _settle_request

pytestmark = pytest.mark.slow
SHARDS = 2


@pytest.fixture(scope="module")
def nation(tmp_path_factory, postgres_server):
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        for index in range(SHARDS):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS cluster_s{index}")
    # A connection string per shard: {index} is filled in by `cluster up` (written after URL-encoding, which would
    # encode the braces).
    template = postgres_server.conninfo(options="-csearch_path=cluster_sINDEX").replace("INDEX", "{index}")
    started = harness.Nation(tmp_path_factory.mktemp("sharded-pg"), shard_count=SHARDS, shard_store=template)
    try:
        yield started
    finally:
        started.stop()


def test_shards_on_postgresql_hold_the_settlements_of_their_insured(nation):
    from medsettle.domain.records import Person
    from medsettle.store import codec
    from medsettle.store.env import Store, StoreConfig

    today = benchlib.today_shanghai()
    single = Store(StoreConfig(path=str(nation.single_dir), map_size_bytes=2**30))
    try:
        with single.read() as view:
            insured_of = {p.psn_no: p.insu_lines[0].insuplc_admdvs
                          for p in (codec.decode(data, Person) for _, data in view.txn.cursor(db=view.dbs["persons"]))}
    finally:
        single.close()
    visits = harness.by_shard(nation, benchlib.find_visits(str(nation.single_dir), "11", 10_000, today), insured_of)
    assert set(visits) == set(nation.shard_map.names)
    settled = {}
    for shard, found in visits.items():
        visit = found[0]
        answer = _settle(nation, visit, _settle_request(visit, today), insured_of[visit.psn_no]).settlement
        assert answer.medfee_sumamt > 0
        settled[shard] = answer.setl_id
    for name in nation.shard_map.names:
        store = nation.shard_store(name)
        try:
            assert type(store).__name__ == "PgStore"
            with store.read() as view:
                assert {shard: view.settlement(setl_id) is not None for shard, setl_id in settled.items()} == {
                    shard: shard == name for shard in settled}
        finally:
            store.close()
