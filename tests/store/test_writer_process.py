"""The writer process commits exactly what the writer thread commits: the same answers byte for byte, the
same refusals, the same rows, for settlements one after another, concurrent settlements of one person (computed again
under the write lock), retries, and a request id reused with another payload while its first use is in flight (refused
inside the writer, so the refusal crosses the process boundary), and a retry racing its first try."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import Accumulators
from medsettle.service.app import App
from medsettle.service.clock import FixedClock
from medsettle.service.settlements import SettlementServicer
from medsettle.service.writer_process import WriterProcess, error_of, failure_of
from medsettle.store.env import Store, StoreConfig
from medsettle.store.errors import CommitUnknown, StoreFull
from medsettle.store.view import REFERENCE_TOKEN_KEY
from medsettle.store.writer import GroupCommitWriter, WriterGone
from medsettle.v1 import person_pb2, settlement_pb2
from tests import world
from tests.service.test_settlements import VISIT_1, VISIT_2, claim, line

MAP_SIZE_BYTES = 256 * 2**20


def _request(request_id: str, psn_no: str, lines, acct: bool = False) -> settlement_pb2.SettleOutpatientRequest:
    return settlement_pb2.SettleOutpatientRequest(request_id=request_id,
                                                  claim=claim(psn_no, world.GZ_HOSPITAL, lines, acct=acct))


async def _answer(call) -> bytes | tuple[str, ...]:
    """A handler's answer as the bytes a client receives (the writer process's answer is its bytes, sent as they are;
    the thread's is a message, which gRPC serializes), or its refusal as "reason:field" for each reason (no RPC
    layer, no statuses)."""
    try:
        answer = await call
    except Refusal as refusal:
        return tuple(f"{each.reason.code}:{each.field}" for each in refusal.all)
    return answer if isinstance(answer, bytes) else answer.SerializeToString()


def _outcome(servicer: SettlementServicer, request):
    return _answer(servicer._settle_outpatient(request))


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


@contextlib.contextmanager
def _served(tmp_path, name: str, *, process: bool) -> Iterator[tuple[SettlementServicer, Store]]:
    """The test world in a fresh store, served by a writer thread and, if `process`, the writer process; both closed
    (the store too) at the end."""
    store = Store(StoreConfig(path=str(tmp_path / name), map_size_bytes=MAP_SIZE_BYTES))
    with store.write() as view:
        world.build(view)
    writer = GroupCommitWriter(store)
    writer_process = WriterProcess(store.config.path, MAP_SIZE_BYTES, True, None, companion=writer) \
        if process else None
    app = App(store=store, writer=writer, clock=FixedClock.at("2026-03-02T10:00:00"),
              writer_process=writer_process)
    try:
        yield SettlementServicer(app), store
    finally:
        if writer_process is not None:
            writer_process.close()
        writer.close()
        store.close()


def _run(tmp_path, name: str, *, process: bool, scenario=None, process_jobs: int = 15) -> tuple[list, dict]:
    with _served(tmp_path, name, process=process) as (servicer, store):
        outcomes = asyncio.run((scenario or _scenario)(servicer))
        if process:  # not what the loop answered
            assert servicer.app.writer_process.jobs == process_jobs and servicer.app.writer_process.alive
        return outcomes, _rows(store)  # every write was answered, so committed


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


async def _inpatient_scenario(servicer: SettlementServicer) -> list:
    """A stay through the writer process: the admission, uploads, a resend, a line held with other content, retries,
    settlements, a retry racing its first try, nothing left to settle, a stay that is not open, a malformed id, a
    reversal (retried, and again under another id), a settlement of the lines it gave back, discharges."""
    gz = world.GZ_HOSPITAL
    upload_fees = SettlementServicer.UploadInpatientFees.__wrapped__
    admit = SettlementServicer.Admit.__wrapped__

    def upload(request_id: str, mdtrt_id: str, lines):
        return _answer(upload_fees(servicer, settlement_pb2.UploadInpatientFeesRequest(
            request_id=request_id, fixmedins_code=gz, mdtrt_id=mdtrt_id, fee_lines=lines), None))

    def settle(request_id: str, mdtrt_id: str):
        return _answer(servicer._settle_inpatient(settlement_pb2.SettleInpatientRequest(
            request_id=request_id, fixmedins_code=gz, mdtrt_id=mdtrt_id)))

    admitted = await _answer(admit(servicer, settlement_pb2.AdmitRequest(
        request_id="IP-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=gz, med_type="21",
        begndate="2026-02-27"), None))
    stay = settlement_pb2.AdmitResponse.FromString(admitted).mdtrt_id
    first_lines = [line("0001", "XA001", "5", "1000", 500_000), line("0002", "XB001", "10", "4.52", 4_520),
                   line("0003", "XF001", "1", "50", 5_000)]
    outcomes = [await upload("IP-2", stay, first_lines),
                await upload("IP-3", stay, first_lines),  # held already: not counted twice
                await upload("IP-4", stay, [line("0001", "XA001", "4", "1000", 400_000)]),  # held with other content
                await upload("IP-2", stay, first_lines),  # a retry
                await settle("IP-5", stay),
                await settle("IP-5", stay),  # a retry
                await upload("IP-6", stay, [line("0004", "XA001", "1", "100", 10_000)])]
    outcomes += await asyncio.gather(settle("IP-7", stay), settle("IP-7", stay))  # a retry racing its first try
    outcomes += [await settle("IP-8", stay),  # nothing left to settle
                 await settle("IP-9", "M-NO-SUCH-STAY"),
                 await settle("IP-10", "bad id!")]
    second = settlement_pb2.SettleInpatientResponse.FromString(outcomes[7]).settlement.setl_id
    reverse = SettlementServicer.ReverseSettlement.__wrapped__
    discharge = SettlementServicer.Discharge.__wrapped__

    def reversed_(request_id: str, setl_id: str):
        return _answer(reverse(servicer, settlement_pb2.ReverseSettlementRequest(
            request_id=request_id, fixmedins_code=gz, setl_id=setl_id), None))

    def discharged(request_id: str, enddate: str):
        return _answer(discharge(servicer, settlement_pb2.DischargeRequest(
            request_id=request_id, fixmedins_code=gz, mdtrt_id=stay, enddate=enddate), None))

    outcomes += [await reversed_("IP-11", second),
                 await reversed_("IP-11", second),  # a retry
                 await reversed_("IP-12", second),  # reversed already
                 await settle("IP-13", stay),  # its lines came back
                 await discharged("IP-14", "2026-02-01"),  # before the admission
                 await discharged("IP-15", "2026-03-01"),
                 await settle("IP-16", stay)]  # not open any more
    unfiled = admit(servicer, settlement_pb2.AdmitRequest(  # admitted with a warning (its remedy varies by case)
        request_id="IP-17", person=person_pb2.PersonRef(psn_no="P005"), fixmedins_code=world.SH_HOSPITAL,
        med_type="21", begndate="2026-02-25"), None)
    outcomes.append(await _answer(unfiled))
    outcomes += [await _answer(admit(servicer, settlement_pb2.AdmitRequest(  # retries of what the process recorded
        request_id="IP-17", person=person_pb2.PersonRef(psn_no="P005"), fixmedins_code=world.SH_HOSPITAL,
        med_type="21", begndate="2026-02-25"), None)),
                 await discharged("IP-15", "2026-03-01")]
    return outcomes


def test_the_writer_process_settles_a_stay_as_the_writer_thread_does(tmp_path):
    by_thread, thread_rows = _run(tmp_path, "thread", process=False, scenario=_inpatient_scenario)
    by_process, process_rows = _run(tmp_path, "process", process=True, scenario=_inpatient_scenario, process_jobs=17)
    assert by_process == by_thread
    assert process_rows == thread_rows
    settled = [settlement_pb2.SettleInpatientResponse.FromString(by_thread[n]).settlement for n in (4, 7)]
    assert settled[0].medfee_sumamt == 509_520 and settled[1].medfee_sumamt == 10_000
    assert by_thread[5] == by_thread[4] and by_thread[3] == by_thread[0] and by_thread[8] == by_thread[7]
    added = settlement_pb2.UploadInpatientFeesResponse.FromString(by_thread[1])
    assert added.lines_added == 0 and added.lines_already_held == 3
    assert by_thread[2] == (f"{reasons.INVALID_ARGUMENT.code}:fee_lines[0].feedetl_sn",)
    assert by_thread[9] == (f"{reasons.NOTHING_TO_SETTLE.code}:mdtrt_id",)
    assert by_thread[10] == (f"{reasons.STAY_NOT_OPEN.code}:mdtrt_id",)
    assert by_thread[11][0].endswith(":mdtrt_id")
    reversal = settlement_pb2.ReverseSettlementResponse.FromString(by_thread[12]).settlement
    assert by_thread[13] == by_thread[12] and reversal.medfee_sumamt == -10_000
    assert by_thread[14] == (f"{reasons.ALREADY_REVERSED.code}:",)
    assert settlement_pb2.SettleInpatientResponse.FromString(by_thread[15]).settlement.medfee_sumamt == 10_000
    assert by_thread[16] == (f"{reasons.INVALID_ARGUMENT.code}:enddate",)
    assert settlement_pb2.DischargeResponse.FromString(by_thread[17]).unsettled_line_count == 0
    assert by_thread[18] == (f"{reasons.STAY_NOT_OPEN.code}:mdtrt_id",)
    assert len(process_rows["settlements"]) == 4
    warned = settlement_pb2.AdmitResponse.FromString(by_thread[19]).warnings
    assert [(w.code, w.remedy) for w in warned] == [("NO_FILING", "FILE_BEFORE_DISCHARGE")]
    assert by_thread[20] == by_thread[19] and by_thread[21] == by_thread[17]  # retries: their first answers


async def _reversal_scenario(servicer: SettlementServicer) -> list:
    """DOMAIN reversal: an outpatient settlement paid partly from the personal account, reversed through the writer;
    its retry, and a second reversal under another id; then what the person holds."""
    reverse = SettlementServicer.ReverseSettlement.__wrapped__

    def reversed_(request_id: str, setl_id: str):
        return _answer(reverse(servicer, settlement_pb2.ReverseSettlementRequest(
            request_id=request_id, fixmedins_code=world.GZ_HOSPITAL, setl_id=setl_id), None))

    settled = await _outcome(servicer, _request("GZ-V1", "P001", VISIT_1, acct=True))
    setl_id = settlement_pb2.SettleOutpatientResponse.FromString(settled).settlement.setl_id
    outcomes = [settled, await reversed_("GZ-V2", setl_id), await reversed_("GZ-V2", setl_id),
                await reversed_("GZ-V3", setl_id)]
    with servicer.app.store.read() as view:
        outcomes += [view.person("P001").line("310").acct_balc_fen,
                     view.accumulator_row("P001", "310", 2026).accumulators]
    return outcomes


def test_a_reversal_through_the_writer_process_restores_what_the_settlement_took(tmp_path):
    by_thread, thread_rows = _run(tmp_path, "thread", process=False, scenario=_reversal_scenario)
    by_process, process_rows = _run(tmp_path, "process", process=True, scenario=_reversal_scenario, process_jobs=3)
    assert by_process == by_thread and process_rows == thread_rows
    settled = settlement_pb2.SettleOutpatientResponse.FromString(by_thread[0]).settlement
    reversal = settlement_pb2.ReverseSettlementResponse.FromString(by_thread[1]).settlement
    assert settled.acct_pay > 0 and reversal.acct_pay == -settled.acct_pay
    assert reversal.medfee_sumamt == -settled.medfee_sumamt and reversal.hifp_pay == -settled.hifp_pay
    assert by_thread[2] == by_thread[1]  # the retry: its first answer
    assert by_thread[3] == (f"{reasons.ALREADY_REVERSED.code}:",)
    assert by_thread[4] == 100_000 and by_thread[5] == Accumulators()  # the account and the year as before


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
    with _served(tmp_path, "data", process=True) as (servicer, _):
        writer_process = servicer.app.writer_process

        async def scenario() -> None:
            assert isinstance(await _outcome(servicer, _request("GZ-1", "P001", VISIT_2)), bytes)
            writer_process.process.kill()
            writer_process.process.wait()
            assert not writer_process.alive
            with pytest.raises(WriterGone):
                await servicer._settle_outpatient(_request("GZ-2", "P001", VISIT_2))

        asyncio.run(scenario())


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
    async def scenario(servicer: SettlementServicer) -> list[tuple[bytes | tuple[str, ...], bool]]:
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

    with _served(tmp_path, "data", process=process) as (servicer, store):
        raced = asyncio.run(scenario(servicer))
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
    if not process:  # one writer, first come first served: both orders were exercised
        assert {isinstance(settled, bytes) for settled, _ in raced} == {True, False}


def test_reading_the_socket_appends_what_came_whole_frames_or_not_and_says_when_it_ended():
    # The process and the worker read into one buffer made once (writer_process._Inbox), never a fresh buffer the
    # size of the socket's: what came is kept, and frames split across reads come out whole.
    import socket

    from medsettle.service.writer_process import _frame, _Inbox

    ours, theirs = socket.socketpair()
    inbox = _Inbox(buffer_bytes=8)  # smaller than a frame: it comes in several reads
    theirs.sendall(_frame(b"first") + _frame(b"second"))
    theirs.close()
    frames: list[bytes] = []
    while (size := inbox.read(ours)) > 0:
        assert size <= 8
        frames += inbox.frames()
    assert frames == [b"first", b"second"] and inbox.frames() == []
    ours.close()


def test_a_frame_announced_larger_than_the_bound_is_refused():
    # What the other end sends is checked before it is trusted: a header announcing more than FRAME_BYTES_MAX is a
    # defect (the worker then treats the process as lost), never a buffer grown to whatever it says.
    import socket

    from medsettle.service.writer_process import _HEADER_BYTES, FRAME_BYTES_MAX, _frame, _Inbox

    ours, theirs = socket.socketpair()
    inbox = _Inbox()
    theirs.sendall(_frame(b"whole") + (FRAME_BYTES_MAX + 1).to_bytes(_HEADER_BYTES, "little"))
    inbox.read(ours)
    with pytest.raises(ValueError, match=f"a frame of {FRAME_BYTES_MAX + 1} bytes from the other end"):
        inbox.frames()
    ours.close()
    theirs.close()
