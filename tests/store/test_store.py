"""The store: round trips, key order, versioned look-ups, snapshots, reopening, the group-commit writer."""

from __future__ import annotations

import sys
import threading
import zlib

import msgspec
import pytest

from medsettle.domain.records import CatalogItem, Institution, Person, Policy, RatioBand, Settlement
from medsettle.store import codec, keys
from medsettle.store.env import Store, StoreConfig
from medsettle.store.rows import AccumulatorRow
from medsettle.store.writer import THREAD_NAME, GroupCommitWriter, WriterGone


def item(code: str, begndate: str, enddate: str = "", ceiling: int = 100) -> CatalogItem:
    return CatalogItem(med_list_codg=code, name="阿莫西林胶囊", list_type="101", chrgitm_lv="02", selfpay_prop_bp=1000,
                       pric_uplmt_amt_fen=ceiling, begndate=begndate, enddate=enddate)


def test_codec_round_trip_and_format_byte():
    person = Person(psn_no="P1", psn_name="张三", gend="1", brdy="1960-01-02", certno="110105196001021234")
    data = codec.encode(person)
    assert data[0] == codec.ARRAY and codec.is_current(data)
    assert codec.decode(data, Person) == person
    with pytest.raises(ValueError, match="record format 9"):
        codec.decode(b"\x09" + data[1:], Person)


def _as_map(value):
    """What releases before array records wrote: every record a map of its non-default fields."""
    if isinstance(value, msgspec.Struct):
        return {name: _as_map(getattr(value, name)) for name in value.__struct_fields__
                if getattr(value, name) != _default_of(type(value), name)}
    if isinstance(value, tuple):
        return [_as_map(item) for item in value]
    return value


def _default_of(record_type, name):
    for field in msgspec.structs.fields(record_type):
        if field.name == name:
            if field.default is not msgspec.NODEFAULT:
                return field.default
            if field.default_factory is not msgspec.NODEFAULT:
                return field.default_factory()
    return msgspec.NODEFAULT


def test_codec_reads_the_map_records_of_earlier_releases_and_compresses_large_ones():
    from medsettle.domain.adjudication import adjudicate
    from tests.unit.test_adjudication import inputs, lines, policy

    settlement = adjudicate(inputs(lines(("A001", 10_000), ("B010", 5_000), ("C001", 2_000)), policy()))
    assert settlement.explanation and settlement.lines and settlement.setldetail  # nested records of every kind
    legacy = bytes([codec.LEGACY_MAP]) + msgspec.msgpack.encode(_as_map(settlement))
    assert not codec.is_current(legacy)
    assert codec.decode(legacy, Settlement) == settlement
    current = codec.encode(settlement)
    assert current[0] in (codec.ARRAY, codec.ARRAY_LZ4) and codec.decode(current, Settlement) == settlement
    assert len(current) < len(legacy) / 2
    big = msgspec.structs.replace(settlement, explanation=settlement.explanation * 20)
    assert codec.encode(big)[0] == codec.ARRAY_LZ4 and codec.decode(codec.encode(big), Settlement) == big
    assert len(codec.encode(big)) < len(msgspec.msgpack.encode(big)) / 2
    # Large records of releases before LZ4 (zlib) are still read, and are current: nothing to migrate.
    zlibbed = bytes([codec.ARRAY_ZLIB]) + zlib.compress(msgspec.msgpack.encode(big), 1)
    assert codec.is_current(zlibbed) and codec.decode(zlibbed, Settlement) == big


def test_keys_sort_by_parts_in_order():
    # A shorter code never interleaves with a longer one sharing its prefix; dates sort as dates.
    raw = [keys.key("440000", "X1", "2026-01-01"), keys.key("440000", "X10", "2025-01-01"),
           keys.key("440000", "X1", "2025-12-31"), keys.key("110000", "X2", "2026-01-01")]
    assert sorted(raw) == [keys.key("110000", "X2", "2026-01-01"), keys.key("440000", "X1", "2025-12-31"),
                           keys.key("440000", "X1", "2026-01-01"), keys.key("440000", "X10", "2025-01-01")]
    assert keys.parts(raw[0]) == ["440000", "X1", "2026-01-01"]
    with pytest.raises(AssertionError):
        keys.key("bad\x00part")
    with pytest.raises(AssertionError):  # a NUL in a later part of several (the key is checked whole)
        keys.key("440000", "X1\x00", "2026-01-01")
    with pytest.raises(AssertionError):  # every part is bounded
        keys.key("440000", "X" * (keys.MAX_PART_BYTES + 1))
    with pytest.raises(UnicodeEncodeError):  # parts are ASCII
        keys.key("440000", "药")


def test_versioned_catalog_lookup_picks_version_in_force(store):
    with store.write() as view:
        view.put_catalog_item("440000", item("X1", "2025-01-01", "2026-06-30", ceiling=100))
        view.put_catalog_item("440000", item("X1", "2026-07-01", ceiling=80))
        view.put_catalog_item("440000", item("X10", "2025-01-01", ceiling=999))
        view.put_catalog_item("440000", item("X2", "2025-01-01", "2025-12-31"))
    with store.read() as view:
        assert view.catalog_item("440000", "X1", "2024-12-31") is None
        assert view.catalog_item("440000", "X1", "2025-01-01").pric_uplmt_amt_fen == 100
        assert view.catalog_item("440000", "X1", "2026-06-30").pric_uplmt_amt_fen == 100
        assert view.catalog_item("440000", "X1", "2026-07-01").pric_uplmt_amt_fen == 80
        assert view.catalog_item("440000", "X1", "2030-01-01").pric_uplmt_amt_fen == 80
        assert view.catalog_item("440000", "X10", "2026-01-01").pric_uplmt_amt_fen == 999
        assert view.catalog_item("440000", "X2", "2026-01-01") is None  # ended
        assert view.catalog_item("110000", "X1", "2026-01-01") is None  # another province's catalog
        assert [v.begndate for v in view.catalog_versions("440000", "X1")] == ["2025-01-01", "2026-07-01"]


def test_policy_lookup_falls_back_from_city_to_province(store):
    policy = Policy(insuplc_admdvs="110000", insutype="310", category="3", psn_type="11", hosp_lv="3",
                    begndate="2025-01-01", dedc_fen=130000, bands=(RatioBand(upto_fen=0, ratio_bp=8500),),
                    cap_category_fen=50_000_000, cap_overall_fen=50_000_000)
    city = msgspec.structs.replace(policy, insuplc_admdvs="110100", dedc_fen=100000)
    with store.write() as view:
        view.put_policy(policy)
        view.put_policy(city)
    with store.read() as view:
        assert view.policy("110105", "310", "3", "11", "3", "2026-01-01").dedc_fen == 100000  # its city's row
        assert view.policy("120105", "310", "3", "11", "3", "2026-01-01") is None
        assert view.policy("110000", "310", "3", "11", "3", "2026-01-01").dedc_fen == 130000


def test_snapshot_does_not_see_later_writes(store):
    with store.read() as snapshot:
        with store.write() as view:
            view.put_institution(Institution(fixmedins_code="H1", fixmedins_name="x", admdvs="440106", hosp_lv="3"))
        assert snapshot.institution("H1") is None
    with store.read() as view:
        assert view.institution("H1") is not None


def test_reopened_environment_reads_what_was_written(tmp_path):
    path = str(tmp_path / "data")
    store = Store(StoreConfig(path=path, map_size_bytes=2**28))
    person = Person(psn_no="P1", psn_name="李四", gend="2", brdy="1980-05-06", certno="440106198005061234",
                    evoucher_token="TOKEN1")
    with store.write() as view:
        view.put_person(person)
        view.put_accumulator_row("P1", "310", 2026, AccumulatorRow(version=3))
    store.close()
    reopened = Store(StoreConfig(path=path, map_size_bytes=2**28))
    with reopened.read() as view:
        assert view.person("P1") == person
        assert view.psn_no_by_cert("02", "440106198005061234") == "P1"
        assert view.psn_no_by_cert("01", "TOKEN1") == "P1"
        assert view.accumulator_row("P1", "310", 2026).version == 3
        assert view.accumulator_row("P1", "310", 2025).version == 0
    assert reopened.counts()["persons"] == 1
    reopened.close()



def test_a_person_rewritten_keeps_the_credential_index_exactly_in_step(store):
    """put_person rewrites the credential index only when the credentials change (a settlement's new balance leaves
    it as it is): an old ID number or e-voucher token no longer names the person, a new one does."""
    person = Person(psn_no="P1", psn_name="李四", gend="2", brdy="1980-05-06", certno="440106198005061234",
                    evoucher_token="TOKEN1")
    with store.write() as view:
        view.put_person(person)
        view.put_person(msgspec.structs.replace(person, psn_name="李四四"))  # same credentials
    with store.read() as view:
        assert view.psn_no_by_cert("02", "440106198005061234") == "P1" and view.psn_no_by_cert("01", "TOKEN1") == "P1"
    with store.write() as view:
        view.put_person(msgspec.structs.replace(person, certno="440106198005061242", evoucher_token="", card_no="C9"))
    with store.read() as view:
        assert view.psn_no_by_cert("02", "440106198005061234") is None
        assert view.psn_no_by_cert("01", "TOKEN1") is None
        assert view.psn_no_by_cert("02", "440106198005061242") == "P1"
        assert view.psn_no_by_cert("03", "C9") == "P1"

def test_group_commit_batches_and_isolates_a_failing_job(store):
    writer = GroupCommitWriter(store, batch_jobs_max=16)
    barrier = threading.Event()

    def slow_first(view):
        barrier.wait(5)  # hold the writer so the others queue up and share one batch
        return view.next_seq("n")

    def bump(view):
        return view.next_seq("n")

    def failing(view):
        view.next_seq("n")
        raise RuntimeError("refused under the lock")

    first = writer.submit(slow_first)
    rest = [writer.submit(failing if i == 3 else bump) for i in range(10)]
    barrier.set()
    assert first.result(5) == 1
    results = [f.result(5) if i != 3 else f.exception(5) for i, f in enumerate(rest)]
    assert isinstance(results[3], RuntimeError)
    assert sorted(r for i, r in enumerate(results) if i != 3) == list(range(2, 11))  # the failed job left no trace
    assert writer.batches <= 3
    writer.close()
    with store.read() as view:
        assert view.counter("n") == 10


def test_a_batch_takes_in_the_jobs_that_come_while_it_runs_in_one_commit(store):
    """commit_batch's `more` (the writer process: settlements that came while its batch ran): asked each
    time the batch runs out of jobs, given the room left, until it gives none; a failing newcomer fails alone."""
    import concurrent.futures

    writer = GroupCommitWriter(store, batch_jobs_max=5, start=False)

    def bump(view):
        return view.next_seq("n")

    def failing(view):
        view.next_seq("n")
        raise RuntimeError("refused under the lock")

    def pair(job):
        return job, concurrent.futures.Future()

    arrivals = [[pair(bump), pair(failing)], [pair(bump)], [pair(bump), pair(bump), pair(bump)]]
    rooms = []

    def more(room):
        rooms.append(room)
        arrived = arrivals.pop(0) if arrivals else []
        return arrived[:room]  # what fits now; the rest would wait for the next batch

    work = [pair(bump)]
    writer.commit_batch(work, more)
    assert rooms == [4, 2, 1] and len(work) == 5  # the last arrivals cut to the room left, then no more asked
    assert writer.batches == 1 and writer.jobs == 5
    results = [future.exception(0) or future.result(0) for _, future in work]
    assert results[0] == 1 and results[1] == 2 and isinstance(results[2], RuntimeError) and results[3:] == [3, 4]
    with store.read() as view:
        assert view.counter("n") == 4


def test_a_waiter_that_went_away_never_harms_the_writer_or_its_batch(store):
    """A deadline or a cancel leaves a cancelled future: its job still commits (a retry finds it), the others in the
    batch are answered, and the writer goes on. It used to die of InvalidStateError on the first one."""
    writer = GroupCommitWriter(store, batch_jobs_max=16)
    barrier = threading.Event()
    hold = writer.submit(lambda view: barrier.wait(5))
    gone = [writer.submit(lambda view: view.next_seq("n")) for _ in range(5)]
    staying = [writer.submit(lambda view: view.next_seq("n")) for _ in range(5)]
    assert all(future.cancel() for future in gone)
    barrier.set()
    assert hold.result(5) is True
    assert sorted(future.result(5) for future in staying) == list(range(6, 11))  # after the five that went away
    assert writer.alive and writer.submit(lambda view: view.next_seq("n")).result(5) == 11
    writer.close()
    assert not writer.alive


def test_the_writer_survives_any_exception_and_refuses_once_it_is_gone(store):
    writer = GroupCommitWriter(store)

    def interrupt(view):
        raise KeyboardInterrupt  # not an Exception: handed to its waiter all the same

    assert isinstance(writer.submit(interrupt).exception(5), KeyboardInterrupt)
    assert writer.submit(lambda view: view.next_seq("n")).result(5) == 1
    writer.close()
    with pytest.raises(WriterGone):
        writer.submit(lambda view: None)



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread names through prctl(2): Linux only")
def test_the_writer_thread_has_its_own_name_for_the_operating_system(store):
    """top -H, ps -L and the benchmarks' per-thread CPU (bench/cpu.py) tell the writer from the event loop by it."""
    writer = GroupCommitWriter(store)
    try:
        assert writer.submit(lambda view: None).result(5) is None  # the thread is running
        comm = open(f"/proc/self/task/{writer._thread.native_id}/comm", encoding="ascii").read().strip()
        assert comm == THREAD_NAME.decode("ascii") == writer._thread.name
    finally:
        writer.close()


def test_settlement_day_index(store):
    with store.write() as view:
        for n in range(3):
            view.put_settlement(_settlement(f"S{n}", "H1" if n < 2 else "H2"))
    with store.read() as view:
        assert view.settlement_ids_on("2026-03-02") == ["S0", "S1", "S2"]
        assert view.settlement_ids_on("2026-03-02", "H2") == ["S2"]
        assert view.settlement("S1").fixmedins_code == "H1"


def _settlement(setl_id: str, fixmedins_code: str) -> Settlement:
    return Settlement(setl_id=setl_id, mdtrt_id="M1", psn_no="P1", insutype="310", med_type="11",
                      fixmedins_code=fixmedins_code, insuplc_admdvs="110105", mdtrtarea_admvs="440106",
                      setl_date="2026-03-02", setl_time_ms=0, filing_category="12", clr_type="11", medfee_sumamt_fen=0,
                      fulamt_ownpay_amt_fen=0, overlmt_selfpay_fen=0, preselfpay_amt_fen=0, inscp_scp_amt_fen=0,
                      act_pay_dedc_fen=0, hifp_pay_fen=0, pool_prop_selfpay_bp=0, hifob_pay_fen=0, hifmi_pay_fen=0,
                      fund_pay_sumamt_fen=0, psn_part_amt_fen=0, acct_pay_fen=0, psn_cash_pay_fen=0, balc_fen=0,
                      accumulator_year=2026)


def test_ended_snapshots_hold_no_reader_slot_across_awaits(store):
    """A coroutine's `view` outlives its `with` block (a settlement awaits the writer after reading): the slot must
    be free by then, or concurrent requests beyond the reader table (512) fail with MDB_READERS_FULL."""
    import asyncio

    async def request() -> None:
        with store.read() as view:
            view.person("P1")
        await asyncio.sleep(0.01)  # `view` is still a live variable here

    async def many() -> None:
        await asyncio.gather(*(request() for _ in range(2 * store.config.max_readers)))

    asyncio.run(many())


def test_a_data_directory_of_another_layout_is_refused(tmp_path):
    import lmdb

    from medsettle.store.env import STORE_LAYOUT, StoreLayoutError

    path = str(tmp_path / "data")
    Store(StoreConfig(path=path, map_size_bytes=2**26)).close()
    env = lmdb.open(path, max_dbs=64, map_size=2**26)
    with env.begin(write=True) as txn:
        txn.put(b"store_layout", str(STORE_LAYOUT + 1).encode(), db=env.open_db(b"meta", txn=txn))
    env.close()
    with pytest.raises(StoreLayoutError, match="layout"):
        Store(StoreConfig(path=path, map_size_bytes=2**26))


def test_the_reader_slots_of_dead_processes_are_freed(tmp_path):
    """A process killed inside a read transaction leaves its slot in the lock file while other processes keep the
    environment open (the first opener resets the table); the slot pins the pages of its snapshot, so the file grows
    instead of reusing them. A worker frees such slots when it opens the store and every minute after."""
    import multiprocessing
    import os
    import signal

    path = str(tmp_path / "data")
    store = Store(StoreConfig(path=path, map_size_bytes=2**26))  # a worker that stays up
    try:
        spawn = multiprocessing.get_context("spawn")
        ready = spawn.Event()
        child = spawn.Process(target=_hold_a_reader, args=(path, ready))
        child.start()
        assert ready.wait(30)
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert str(child.pid) in store.env.readers()
        assert store.clear_stale_readers() == 1
        assert str(child.pid) not in store.env.readers()
    finally:
        store.close()


def _hold_a_reader(path: str, ready) -> None:
    import time

    store = Store(StoreConfig(path=path, map_size_bytes=2**26))
    with store.read():
        ready.set()
        time.sleep(60)


def test_reference_rows_are_cached_per_token_and_never_served_stale(store, tmp_path):
    """Read snapshots share decoded reference rows per process, keyed by the store's reference token, which every
    write of reference data replaces in its own transaction."""
    with store.write() as view:
        view.put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=100))
        view.put_institution(Institution(fixmedins_code="H1", fixmedins_name="一院", admdvs="440100", hosp_lv="3"))
    with store.read() as view:
        first = view.reference_token()
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 100
        assert view.institution("H1").hosp_lv == "3"
    with store.read() as view:
        assert view.reference_token() == first  # nothing written: the same rows, from the cache
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 100
    with store.write() as view:
        view.put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=250))
        view.put_institution(Institution(fixmedins_code="H1", fixmedins_name="一院", admdvs="440100", hosp_lv="2"))
    with store.read() as view:
        assert view.reference_token() != first
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 250
        assert view.institution("H1").hosp_lv == "2"
    with store.write() as view:
        view.delete_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=250))
    with store.read() as view:
        assert view.catalog_item("440000", "X1", "2026-01-01") is None
    other = Store(StoreConfig(path=str(tmp_path / "other"), create=True))  # another store: its own token
    try:
        with other.read() as view, store.read() as mine:
            assert view.reference_token() not in (b"", mine.reference_token())
            assert view.institution("H1") is None
    finally:
        other.close()



def test_a_push_by_another_process_is_seen_at_this_processs_next_snapshot(tmp_path):
    """Workers are processes sharing one store: a catalog push written by one replaces the reference token in the
    store, so every other worker's cached rows of the old token are never served after its next snapshot begins."""
    import multiprocessing

    path = str(tmp_path / "data")
    store = Store(StoreConfig(path=path, map_size_bytes=2**26))
    try:
        with store.write() as view:
            view.put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=100))
        with store.read() as view:
            assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 100  # now cached here
        other = multiprocessing.get_context("spawn").Process(target=_push_a_price, args=(path, 300))
        other.start()
        other.join(60)
        assert other.exitcode == 0
        with store.read() as view:
            assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 300
    finally:
        store.close()


def test_a_write_transaction_reads_cached_reference_rows_until_it_writes_reference_data(store, tmp_path):
    """LMDB's write transactions read the committed token (one writer at a time), so a settlement computed under the
    write lock (the writer process) decodes no catalog version again; a write transaction that pushes
    reference data reads afresh from then on, and a push by another process is seen by the next write transaction."""
    from medsettle.store import view as view_module

    with store.write() as view:
        view.put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=100))
    with store.write() as view:
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 100
        token = view.reference_token()
        assert (token, "catalog", "440000", "X1", "2026-01-01") in view_module._reference_rows  # cached
        view.put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=200))
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 200  # its own write, not the cache
    with store.write() as view:
        assert view.reference_token() != token
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 200
    import multiprocessing

    other = multiprocessing.get_context("spawn").Process(target=_push_a_price, args=(store.config.path, 300))
    other.start()
    other.join(60)
    assert other.exitcode == 0
    with store.write() as view:
        assert view.catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 300
    with store.write() as view:  # a nested transaction (a job of a batch) sees its batch's earlier push
        child = store.env.begin(write=True, parent=view.txn)
        store.write_view(child).put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=400))
        child.commit()
        nested = store.env.begin(write=True, parent=view.txn)
        assert store.write_view(nested).catalog_item("440000", "X1", "2026-01-01").pric_uplmt_amt_fen == 400
        nested.commit()


def _push_a_price(path: str, ceiling: int) -> None:
    store = Store(StoreConfig(path=path, map_size_bytes=2**26))
    try:
        with store.write() as view:
            view.put_catalog_item("440000", item("X1", "2025-01-01", "", ceiling=ceiling))
    finally:
        store.close()

def test_event_loop_waiters_are_answered_together_after_the_commit_and_a_cancelled_one_harms_nothing(store):
    """`run` (an event loop's coroutine) is answered on its loop, one call per batch, only after the commit; one that
    went away (a deadline) leaves its write committed and the others answered."""
    import asyncio

    writer = GroupCommitWriter(store, batch_jobs_max=16)
    barrier = threading.Event()
    committed = []

    async def scenario():
        hold = writer.submit(lambda view: barrier.wait(5))  # the writer waits, so the next jobs share one batch
        tasks = [asyncio.ensure_future(writer.run(lambda view: view.next_seq("n"))) for _ in range(6)]
        await asyncio.sleep(0.05)
        tasks[2].cancel()
        with store.read() as view:
            committed.append(view.counter("n"))  # nobody answered, nothing committed yet
        barrier.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert hold.result(5) is True
        return results

    results = asyncio.run(scenario())
    assert committed == [0]
    assert isinstance(results[2], asyncio.CancelledError)
    assert sorted(r for i, r in enumerate(results) if i != 2) == [1, 2, 4, 5, 6]  # 3 went to the one that left
    with store.read() as view:
        assert view.counter("n") == 6  # its write stands
    assert writer.alive and writer.submit(lambda view: view.next_seq("n")).result(5) == 7
    writer.close()
