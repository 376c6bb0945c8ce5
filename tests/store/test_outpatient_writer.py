"""The outpatient writer process commits exactly what the writer thread commits: the same answers byte for byte, the
same refusals, the same rows, for settlements one after another, concurrent settlements of one person (computed again
under the write lock), retries, and a request id reused with another payload while its first use is in flight (refused
inside the writer, so the refusal crosses the process boundary), and a retry racing its first try."""

from __future__ import annotations

import asyncio

import pytest

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import Accumulators
from medsettle.service.app import App
from medsettle.service.clock import FixedClock
from medsettle.service.outpatient_writer import OutpatientWriter, error_of, failure_of
from medsettle.service.settlements import SettlementServicer
from medsettle.store.env import Store, StoreConfig
from medsettle.store.errors import CommitUnknown, StoreFull
from medsettle.store.view import REFERENCE_TOKEN_KEY
from medsettle.store.writer import GroupCommitWriter, WriterGone
from medsettle.v1 import settlement_pb2
from tests import world
from tests.service.test_settlements import VISIT_1, VISIT_2, claim, line

MAP_SIZE_BYTES = 256 * 2**20


def _request(request_id: str, psn_no: str, lines, acct: bool = False) -> settlement_pb2.SettleOutpatientRequest:
    return settlement_pb2.SettleOutpatientRequest(request_id=request_id,
                                                  claim=claim(psn_no, world.GZ_HOSPITAL, lines, acct=acct))


async def _outcome(servicer: SettlementServicer, request) -> bytes | tuple[str, ...]:
    try:
        answer = await servicer._settle_outpatient(request)  # the handler, without the RPC layer's statuses
    except Refusal as refusal:
        return tuple(f"{each.reason.code}:{each.field}" for each in refusal.all)
    return answer.SerializeToString(deterministic=True)


async def _scenario(servicer: SettlementServicer) -> list:
    outcomes = [await _outcome(servicer, _request("GZ-0001", "P001", VISIT_1, acct=True)),
                await _outcome(servicer, _request("GZ-0002", "P001", VISIT_2, acct=True)),
                await _outcome(servicer, _request("GZ-0001", "P001", VISIT_1, acct=True))]  # a retry: the first answer
    # Refused by the rules, which the writer process applies under the write lock: a person whose insurance is
    # suspended, and 600 lines the catalog does not know (every reason crosses the process boundary).
    outcomes += [await _outcome(servicer, _request("GZ-0003", "P003", VISIT_1)),
                 await _outcome(servicer, _request("GZ-0004", "P001", [line(f"{n}", f"ZZ{n:05d}", "1", "1", 100)
                                                                     for n in range(600)]))]
    # Malformed, which the process finds converting the claim as the loop does for the thread: a line whose amount is
    # not its price times its count, and a total that is not the lines' sum.
    wrong_total = _request("GZ-0005", "P001", VISIT_1)
    wrong_total.claim.medfee_sumamt += 1
    outcomes += [await _outcome(servicer, _request("GZ-0006", "P001", [line("1", "XA001", "3", "1.005", 301)])),
                 await _outcome(servicer, wrong_total)]
    # Over the line limit: refused on the loop either way, never sent to the process.
    outcomes.append(await _outcome(servicer, _request("GZ-0007", "P001", [line(f"{n}", "XA001", "1", "1", 100)
                                                                         for n in range(2_001)])))
    # Five of one person at once: all computed from one snapshot, four computed again under the write lock.
    outcomes += await asyncio.gather(*(_outcome(servicer, _request(f"GZ-1{n:03d}", "P001",
                                                                   [line("1", "XA001", "3", "50.00", 15_000)]))
                                       for n in range(5)))
    # One request id, two payloads, at once: both pass the look-up on the loop; the second meets the first's record
    # under the write lock and is refused there.
    outcomes += await asyncio.gather(_outcome(servicer, _request("GZ-2000", "P001", VISIT_2)),
                                     _outcome(servicer, _request("GZ-2000", "P001", VISIT_1)))
    # One request sent twice at once (a gateway's retry racing its first try): settled once, both get its answer.
    outcomes += await asyncio.gather(_outcome(servicer, _request("GZ-3000", "P002", VISIT_2)),
                                     _outcome(servicer, _request("GZ-3000", "P002", VISIT_2)))
    return outcomes


def _rows(store: Store) -> dict[str, list[tuple[bytes, bytes]]]:
    with store.env.begin() as txn:
        return {name: [(key, value) for key, value in txn.cursor(db=db)
                       if not (name == "meta" and key == REFERENCE_TOKEN_KEY)]  # every store has its own
                for name, db in store.dbs.items()}


def _run(tmp_path, name: str, *, process: bool) -> tuple[list, dict]:
    store = Store(StoreConfig(path=str(tmp_path / name), map_size_bytes=MAP_SIZE_BYTES))
    with store.write() as view:
        world.build(view)
    writer = GroupCommitWriter(store)
    outpatient_writer = OutpatientWriter(store.config.path, MAP_SIZE_BYTES, True, None, companion=writer) \
        if process else None
    app = App(store=store, writer=writer, clock=FixedClock.at("2026-03-02T10:00:00"),
              outpatient_writer=outpatient_writer)
    try:
        outcomes = asyncio.run(_scenario(SettlementServicer(app)))
        if process:
            assert outpatient_writer.jobs == 15 and outpatient_writer.alive  # all but the retry held on the loop
    finally:
        if outpatient_writer is not None:
            outpatient_writer.close()
        writer.close()
    rows = _rows(store)
    store.close()
    return outcomes, rows


def test_the_writer_process_commits_what_the_writer_thread_commits(tmp_path):
    by_thread, thread_rows = _run(tmp_path, "thread", process=False)
    by_process, process_rows = _run(tmp_path, "process", process=True)
    assert by_process == by_thread
    assert by_thread[2] == by_thread[0]  # the retry
    assert by_thread[3] == (f"{reasons.INSU_STATUS_ABNORMAL.code}:",)
    assert by_thread[4] == tuple(f"{reasons.UNKNOWN_CATALOG_ITEM.code}:claim.fee_lines[{n}].med_list_codg"
                                 for n in range(600))
    assert by_thread[5][0].startswith(f"{reasons.AMOUNT_INCONSISTENT.code}:claim.fee_lines[0]")
    assert by_thread[6] == (f"{reasons.TOTAL_INCONSISTENT.code}:claim.medfee_sumamt",)
    assert by_thread[7] == (f"{reasons.LINES_LIMIT.code}:claim.fee_lines",)
    assert by_thread[-3] == (f"{reasons.REQUEST_ID_REUSED.code}:request_id",)
    assert by_thread[-1] == by_thread[-2] and isinstance(by_thread[-1], bytes)  # the racing retry
    assert sum(isinstance(each, bytes) for each in by_thread) == 11
    assert process_rows == thread_rows
    settled = {settlement_pb2.SettleOutpatientResponse.FromString(each).settlement.setl_id
               for each in by_thread if isinstance(each, bytes)}
    assert len(settled) == 9 and len(process_rows["settlements"]) == 9  # the two retries settled nothing more
    assert process_rows["settlements"] and process_rows["requests"]


def test_a_failure_crosses_the_process_boundary_as_the_exception_the_thread_would_raise():
    refusal = Refusal.of_all([Refusal(reasons.REQUEST_ID_REUSED, field="request_id", detail="first used by X"),
                              Refusal(reasons.INVALID_ARGUMENT, field="claim.fee_lines[1]", feedetl_sn="2")])
    back = error_of(failure_of(refusal), "/data")
    assert isinstance(back, Refusal)
    assert [(r.reason, r.field, r.feedetl_sn, r.detail) for r in back.all] == \
        [(r.reason, r.field, r.feedetl_sn, r.detail) for r in refusal.all]
    assert isinstance(error_of(failure_of(StoreFull("/data")), "/data"), StoreFull)
    assert isinstance(error_of(failure_of(CommitUnknown("lost")), "/data"), CommitUnknown)
    internal = error_of(failure_of(KeyError("x")), "/data")
    assert type(internal) is RuntimeError and "KeyError" in str(internal)


def test_a_settlement_is_refused_at_once_when_either_writer_is_gone(tmp_path):
    store = Store(StoreConfig(path=str(tmp_path / "data"), map_size_bytes=MAP_SIZE_BYTES))
    with store.write() as view:
        world.build(view)
    writer = GroupCommitWriter(store)
    outpatient_writer = OutpatientWriter(store.config.path, MAP_SIZE_BYTES, True, None, companion=writer)
    app = App(store=store, writer=writer, clock=FixedClock.at("2026-03-02T10:00:00"),
              outpatient_writer=outpatient_writer)
    servicer = SettlementServicer(app)

    async def scenario() -> None:
        assert isinstance(await _outcome(servicer, _request("GZ-1", "P001", VISIT_2)), bytes)
        outpatient_writer.process.kill()
        outpatient_writer.process.wait()
        assert not outpatient_writer.alive
        with pytest.raises(WriterGone):
            await servicer._settle_outpatient(_request("GZ-2", "P001", VISIT_2))

    try:
        asyncio.run(scenario())
    finally:
        outpatient_writer.close()
        writer.close()
        store.close()


async def _reverse_by_request_id(servicer: SettlementServicer, request_id: str, original_id: str) -> bool:
    answer = await SettlementServicer.ReverseByRequestId.__wrapped__(servicer, settlement_pb2.ReverseByRequestIdRequest(
        request_id=request_id, fixmedins_code=world.GZ_HOSPITAL, original_request_id=original_id), None)
    return answer.undone


@pytest.mark.parametrize("process", [False, True], ids=["thread", "process"])
def test_a_reversal_by_request_id_racing_its_settlement_never_leaves_the_settlement_in_force(tmp_path, process):
    """DOMAIN 冲正: a reversal whose original has not arrived fences the original's request id, so that the original,
    arriving late, cannot take effect; one that finds the original reverses it. With the writer process the settlement
    and the 冲正 commit in two writers, ordered only by LMDB's writer lock: either way round, a settlement never stays
    in force beside its 冲正."""
    store = Store(StoreConfig(path=str(tmp_path / "data"), map_size_bytes=MAP_SIZE_BYTES))
    with store.write() as view:
        world.build(view)
    writer = GroupCommitWriter(store)
    outpatient_writer = OutpatientWriter(store.config.path, MAP_SIZE_BYTES, True, None, companion=writer) \
        if process else None
    app = App(store=store, writer=writer, clock=FixedClock.at("2026-03-02T10:00:00"),
              outpatient_writer=outpatient_writer)
    servicer = SettlementServicer(app)

    async def scenario() -> list[tuple[bytes | tuple[str, ...], bool]]:
        raced = []
        for n in range(8):
            settle = _outcome(servicer, _request(f"GZ-R{n}", "P001", VISIT_2))
            undo = _reverse_by_request_id(servicer, f"GZ-U{n}", f"GZ-R{n}")
            if n % 2:  # the 冲正 handed to its writer first
                undone, settled = await asyncio.gather(undo, settle)
            else:
                settled, undone = await asyncio.gather(settle, undo)
            raced.append((settled, undone))
        return raced

    try:
        raced = asyncio.run(scenario())
    finally:
        if outpatient_writer is not None:
            outpatient_writer.close()
        writer.close()
    with store.read() as view:
        for n, (settled, undone) in enumerate(raced):
            record = view.request(world.GZ_HOSPITAL, f"GZ-R{n}")
            if isinstance(settled, bytes):  # the settlement came first: the 冲正 found it and reversed it
                assert undone and record.method == "SettleOutpatient" and record.undone_by == f"GZ-U{n}"
                assert view.settlement(record.setl_id).reversal_setl_id
            else:  # the 冲正 came first: the id is fenced and the late settlement refused
                assert not undone and record.method == "Voided"
                assert settled == (f"{reasons.REQUEST_ID_REUSED.code}:request_id",)
        accumulators = view.accumulator_row("P001", "310", 2026).accumulators
        assert accumulators == Accumulators()  # nothing stays in force
    store.close()
    if not process:  # one writer, first come first served: both orders were exercised
        assert {isinstance(settled, bytes) for settled, _ in raced} == {True, False}
