"""SettlementService: outpatient and inpatient flows, reversal, 冲正, look-up.

Every mutating call goes through idempotency.once (request id per institution) and the group-commit
writer; a settlement, its accumulator change, the account balance, the stay's lines and the request
record commit in one transaction or not at all.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec
from google.protobuf.message import Message

from medsettle.domain import catalog_split, codes, eligibility, reasons, region
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import (
    Claim,
    FeeLine,
    Person,
    Settlement,
    Stay,
    add_accumulators,
    check_identities,
    stay_after,
)
from medsettle.domain.reversal import reverse
from medsettle.service import claims, convert, idempotency, lookups, refusal_stats, settlement_convert
from medsettle.service.app import App
from medsettle.service.rpc import rpc
from medsettle.store import supervision_book
from medsettle.store.rows import AccumulatorRow, RequestRecord, StayLine
from medsettle.store.view import View, WriteView
from medsettle.v1 import settlement_pb2 as pb
from medsettle.v1 import settlement_pb2_grpc as pb_grpc

CANCEL_ALL = "0000"


def _with_balance(person: Person, insutype: str, balance_fen: int) -> Person:
    assert balance_fen >= 0, "an account balance never goes negative"
    lines = tuple(msgspec.structs.replace(line, acct_balc_fen=balance_fen) if line.insutype == insutype else line
                  for line in person.insu_lines)
    return msgspec.structs.replace(person, insu_lines=lines)


def _new_id(view: WriteView, prefix: str, date: str) -> str:
    return f"{prefix}{date.replace('-', '')}{view.next_id(prefix):012d}"


def _commit(view: WriteView, computed: claims.Computed, now_ms: int) -> Settlement:
    """Write a computed settlement with its accumulator change, account balance and supervision rows (visit index,
    distributions, flags, statistics); give it its ids."""
    setl = computed.settlement
    setl = msgspec.structs.replace(
        setl, setl_id=_new_id(view, "S", setl.setl_date), mdtrt_id=setl.mdtrt_id or _new_id(view, "M", setl.setl_date))
    check_identities(setl)
    view.put_settlement(setl)
    _add_to_year(view, setl, computed.accumulator_row)
    if setl.acct_pay_fen:
        view.put_person(_with_balance(computed.person, setl.insutype, setl.balc_fen))
    supervision_book.record_settlement(view, setl, computed.flagged, now_ms)
    return setl


def _add_to_year(view: WriteView, setl: Settlement, row: AccumulatorRow) -> None:
    """The settlement's (or reversal's) accumulator change, on the row it was computed from."""
    view.put_accumulator_row(setl.psn_no, setl.insutype, setl.accumulator_year, AccumulatorRow(
        accumulators=add_accumulators(row.accumulators, setl.accumulator_delta), version=row.version + 1))


def _settlement_of(view: View, fixmedins_code: str, setl_id: str) -> Settlement:
    setl = view.settlement(setl_id)
    if setl is None or setl.fixmedins_code != fixmedins_code:  # an institution sees only its own
        raise Refusal(reasons.SETTLEMENT_NOT_FOUND, field="setl_id")
    return setl


def _in_claim(refusal: Refusal) -> Refusal:
    """A refusal of the rules, its fields moved under `claim`: the rules name fields of the claim ("medfee_sumamt",
    "fee_lines[0].med_list_codg"), and an outpatient request holds its claim in the field `claim`."""
    return Refusal.of_all([Refusal(each.reason, field=f"claim.{each.field}" if each.field else "",
                                   feedetl_sn=each.feedetl_sn, detail=each.detail) for each in refusal.all])


def _compute_outpatient(view: View, claim: Claim, person: Person, cert_type: str, now_ms: int) -> claims.Computed:
    try:
        return claims.compute(view, claim, person, cert_type, now_ms)
    except Refusal as refusal:
        raise _in_claim(refusal) from None


def outpatient_claim(view: View, claim_pb: pb.OutpatientClaim, today: str,
                     fee_lines_max: int) -> tuple[Claim, Person, str]:
    """An outpatient claim checked and converted (refused INVALID_ARGUMENT, naming the field, when malformed), with
    the person it names and the certificate type it named them by; settled on `today`."""
    med_type = convert.code(claim_pb.med_type, "claim.med_type", codes.OUTPATIENT_MED_TYPES)
    dise = convert.code(claim_pb.dise_codg, "claim.dise_codg", allow_empty=True)
    convert.code(claim_pb.ipt_otp_no, "claim.ipt_otp_no", allow_empty=True)  # not kept, but never accepted malformed
    if med_type == codes.MED_TYPE_CHRONIC_OUTPATIENT and not dise:
        raise convert.invalid("claim.dise_codg", "med_type 14 names the qualified chronic disease")
    lines = settlement_convert.fee_lines(claim_pb.fee_lines, "claim.fee_lines", fee_lines_max)
    if not lines:
        raise convert.invalid("claim.fee_lines", "an outpatient settlement has at least one fee line")
    person, cert_type = lookups.resolve_person(view, claim_pb.person, "claim.person")
    claim = Claim(
        psn_no=person.psn_no,
        insutype=lookups.default_insutype(person, claim_pb.insutype, "claim.insutype"),
        med_type=med_type,
        fixmedins_code=convert.code(claim_pb.fixmedins_code, "claim.fixmedins_code"),
        mdtrtarea_admvs="",
        setl_date=today,
        dise_codg=dise,
        lines=lines,
        acct_used_flag=claim_pb.acct_used_flag,
        medfee_sumamt_fen=convert.amount(claim_pb.medfee_sumamt, "claim.medfee_sumamt"),
    )
    institution = view.institution(claim.fixmedins_code)
    if institution is not None:
        claim = msgspec.structs.replace(claim, mdtrtarea_admvs=institution.admdvs)
    return claim, person, cert_type


def _open_stay(view: View, fixmedins_code: str, mdtrt_id: str) -> Stay:
    stay = view.stay(convert.code(mdtrt_id, "mdtrt_id"))
    if stay is None or stay.fixmedins_code != fixmedins_code or stay.enddate:
        raise Refusal(reasons.STAY_NOT_OPEN, field="mdtrt_id", detail=mdtrt_id)
    return stay


class _Write(msgspec.Struct, frozen=True, kw_only=True):
    """A write as data, for the writer thread or the worker's writer process: the request's identity for its request
    record, and the job both writers run (the retry check under the write lock, then `effect` and the record)."""

    METHOD: ClassVar[str]
    RESPONSE: ClassVar[type[Message]]
    ANSWER_IS_SETTLEMENT: ClassVar[bool] = False  # the answer is {settlement}: the record keeps its id, not a copy

    caller: str
    request_id: str
    payload_digest: str
    created_ms: int

    def once(self, app: App) -> idempotency.Once:
        return idempotency.Once.restored(app, self.caller, self.request_id, self.METHOD, self.payload_digest,
                                         self.RESPONSE)

    def job(self, app: App):
        return self.once(app).job(self.effect, answer_is_settlement=self.ANSWER_IS_SETTLEMENT,
                                  created_ms=self.created_ms)

    def effect(self, view: WriteView) -> tuple[Message, dict]:
        raise NotImplementedError


def _settled_outpatient(view: WriteView, computed: claims.Computed, now_ms: int):
    setl = _commit(view, computed, now_ms)
    return settlement_convert.answer(pb.SettleOutpatientResponse, setl), {"setl_id": setl.setl_id}


class OutpatientCommit(_Write, frozen=True, kw_only=True):
    """A durable outpatient settlement computed on the event loop from its snapshot, as data: what the writer thread
    needs to commit it, with the request's identity for its request record."""

    METHOD = "SettleOutpatient"
    RESPONSE = pb.SettleOutpatientResponse
    ANSWER_IS_SETTLEMENT = True

    claim: Claim
    cert_type: str
    now_ms: int
    computed: claims.Computed

    def effect(self, view: WriteView):
        current = self.computed
        if not claims.person_unchanged(view, current):
            # Another settlement of this person committed since the snapshot: compute again under the
            # write lock, so two settlements never spend the same deductible or cap.
            current = _compute_outpatient(view, self.claim, view.person(self.claim.psn_no), self.cert_type,
                                          self.now_ms)
        return _settled_outpatient(view, current, self.now_ms)


class OutpatientRequest(_Write, frozen=True, kw_only=True, tag=True):
    """A durable outpatient settlement as the event loop hands it to the worker's writer process: the
    claim as received (`pb.OutpatientClaim`'s bytes), the request's identity and the loop's clock. The process does
    what the loop and the thread do together for an `OutpatientCommit`, in the same order, under the write lock:
    the claim's checks and conversion, the retry check, the computation, the commit. (The loop has a GIL to share
    with gRPC; the process has its own: bench/RESULTS.md, "The settlement computed in the writer process".)"""

    METHOD = "SettleOutpatient"
    RESPONSE = pb.SettleOutpatientResponse
    ANSWER_IS_SETTLEMENT = True

    claim_pb: bytes
    today: str
    now_ms: int
    fee_lines_max: int

    def job(self, app: App):
        once = self.once(app)

        def job(view: WriteView):
            # The claim's checks first, as the loop makes them before the thread's job: a malformed claim is refused
            # INVALID_ARGUMENT whatever its request id met.
            claim, person, cert_type = outpatient_claim(view, pb.OutpatientClaim.FromString(self.claim_pb), self.today,
                                                        self.fee_lines_max)

            def effect(view: WriteView):
                computed = _compute_outpatient(view, claim, person, cert_type, self.now_ms)
                return _settled_outpatient(view, computed, self.now_ms)

            return once.job(effect, answer_is_settlement=self.ANSWER_IS_SETTLEMENT, created_ms=self.created_ms)(view)

        return job


def _inpatient(view: View, fixmedins_code: str, mdtrt_id: str, acct_used_flag: bool, medfee_sumamt_fen: int,
               today: str, now_ms: int) -> tuple[claims.Computed, Stay]:
    """A stay's unsettled lines computed as one inpatient settlement on `today`."""
    stay = _open_stay(view, fixmedins_code, mdtrt_id)
    lines = tuple(held.line for held in view.stay_lines(stay.mdtrt_id) if not held.setl_id)
    if not lines:
        raise Refusal(reasons.NOTHING_TO_SETTLE, field="mdtrt_id")
    person = view.person(stay.psn_no)
    if person is None:  # insured on another shard since: this shard keeps their stay as history only
        raise Refusal(reasons.PERSON_NOT_FOUND, field="mdtrt_id", detail=lookups.elsewhere(view, stay.psn_no))
    claim = Claim(psn_no=stay.psn_no, insutype=stay.insutype, med_type=stay.med_type,
                  fixmedins_code=fixmedins_code, mdtrtarea_admvs=stay.mdtrtarea_admvs,
                  setl_date=today, dise_codg=stay.dise_codg, lines=lines,
                  acct_used_flag=acct_used_flag, medfee_sumamt_fen=medfee_sumamt_fen or -1)
    return claims.compute(view, claim, person, "", now_ms, stay=stay), stay


def _settle_stay(view: WriteView, computed: claims.Computed, stay: Stay, held_lines: list[StayLine], now_ms: int):
    setl = _commit(view, computed, now_ms)
    covered = set(setl.feedetl_sns)
    for held in held_lines:
        if held.line.feedetl_sn in covered:
            view.put_stay_line(stay.mdtrt_id, msgspec.structs.replace(held, setl_id=setl.setl_id))
    view.put_stay(stay_after(stay, setl))
    answer = settlement_convert.answer(pb.SettleInpatientResponse, setl)
    return answer, {"setl_id": setl.setl_id, "mdtrt_id": stay.mdtrt_id}


class InpatientSettle(_Write, frozen=True, kw_only=True, tag=True):
    """A durable inpatient settlement as data, for the writer thread or the writer process: `computed` and `stay` are
    the event loop's computation from its snapshot when the writer is the thread, None for the process, which
    computes under the write lock (in the order the thread's job meets them: the retry check first)."""

    METHOD = "SettleInpatient"
    RESPONSE = pb.SettleInpatientResponse
    ANSWER_IS_SETTLEMENT = True

    fixmedins_code: str
    mdtrt_id: str
    acct_used_flag: bool
    medfee_sumamt_fen: int
    today: str
    now_ms: int
    computed: claims.Computed | None = None
    stay: Stay | None = None

    def effect(self, view: WriteView):
        if self.computed is not None and self.stay is not None:
            held_lines = view.stay_lines(self.stay.mdtrt_id)
            if _still_as_read(view, self.computed, self.stay, held_lines):
                return _settle_stay(view, self.computed, self.stay, held_lines, self.now_ms)
        # Computed under the write lock: in the writer process always; on the thread when an upload, a cancel or
        # another settlement came between.
        computed, stay = _inpatient(view, self.fixmedins_code, self.mdtrt_id, self.acct_used_flag,
                                    self.medfee_sumamt_fen, self.today, self.now_ms)
        return _settle_stay(view, computed, stay, view.stay_lines(stay.mdtrt_id), self.now_ms)


class FeeUpload(_Write, frozen=True, kw_only=True, tag=True):
    """A stay's fee lines to hold, checked against the catalog on the event loop's snapshot, as data for the writer
    thread or the writer process: the stay's state and the lines it already holds are read under the write lock."""

    METHOD = "UploadInpatientFees"
    RESPONSE = pb.UploadInpatientFeesResponse

    fixmedins_code: str
    mdtrt_id: str
    lines: tuple[FeeLine, ...]
    lines_per_stay_max: int

    def effect(self, view: WriteView):
        stay = _open_stay(view, self.fixmedins_code, self.mdtrt_id)
        problems: list[Refusal] = []
        added: list[FeeLine] = []
        held = 0
        for index, line in enumerate(self.lines):
            old = view.stay_line(stay.mdtrt_id, line.feedetl_sn)
            if old is None:
                added.append(line)
                continue
            if old.line != line:
                problems.append(Refusal(reasons.INVALID_ARGUMENT, field=f"fee_lines[{index}].feedetl_sn",
                                        feedetl_sn=line.feedetl_sn, detail="feedetl_sn already held with other content"))
            held += 1
        if problems:
            raise Refusal.of_all(problems)
        limit = self.lines_per_stay_max
        if stay.line_count + len(added) > limit:
            raise Refusal(reasons.LINES_LIMIT, field="fee_lines",
                          detail=f"a stay holds at most {limit} lines; it holds {stay.line_count}")
        for line in added:
            view.put_stay_line(stay.mdtrt_id, StayLine(line=line))
        view.put_stay(msgspec.structs.replace(stay, line_count=stay.line_count + len(added)))
        response = pb.UploadInpatientFeesResponse(lines_added=len(added), lines_already_held=held,
                                                  stay_line_count=stay.line_count + len(added))
        return response, {"mdtrt_id": stay.mdtrt_id, "feedetl_sns": tuple(line.feedetl_sn for line in added)}


def _reverse(view: WriteView, original: Settlement, today: str, now_ms: int) -> Settlement:
    """Write the reversal of `original` on `today`; restore accumulators, balance and (inpatient) the stay's lines."""
    reversal = reverse(original, _new_id(view, "S", today), now_ms, today)
    _add_to_year(view, reversal, view.accumulator_row(original.psn_no, original.insutype,
                                                      original.accumulator_year))
    person = view.person(original.psn_no)
    if person is None:  # insured on another shard since: this shard keeps their settlement as history only
        raise Refusal(reasons.PERSON_NOT_FOUND, field="setl_id", detail=lookups.elsewhere(view, original.psn_no))
    line = person.line(original.insutype)
    assert line is not None
    balance_fen = line.acct_balc_fen + original.acct_pay_fen
    if original.acct_pay_fen:
        view.put_person(_with_balance(person, original.insutype, balance_fen))
    reversal = msgspec.structs.replace(reversal, balc_fen=balance_fen)
    check_identities(reversal)
    view.put_settlement(reversal)
    view.put_settlement(msgspec.structs.replace(original, reversal_setl_id=reversal.setl_id), index=False)
    supervision_book.record_reversal(view, original, reversal)
    if original.clr_type == codes.CLR_TYPE_INPATIENT:
        stay = view.stay(original.mdtrt_id)
        assert stay is not None
        for held in view.stay_lines(stay.mdtrt_id):
            if held.setl_id == original.setl_id:
                view.put_stay_line(stay.mdtrt_id, msgspec.structs.replace(held, setl_id=""))
        # Partial refunds are reverse-and-settle-again: a discharged stay reopens to be settled again.
        view.put_stay(msgspec.structs.replace(stay_after(stay, reversal), enddate=""))
    return reversal


class Admission(_Write, frozen=True, kw_only=True, tag=True):
    """An admission checked on the event loop (the benefit check; filing problems are only its warnings), as data
    for the writer: the stay it opens gets its id under the write lock."""

    METHOD = "Admit"
    RESPONSE = pb.AdmitResponse

    psn_no: str
    insutype: str
    med_type: str
    fixmedins_code: str
    mdtrtarea_admvs: str
    begndate: str
    dise_codg: str
    warnings: tuple[reasons.Reason, ...]  # as the benefit check gave them (a reason's remedy varies with the case)

    def effect(self, view: WriteView):
        stay = Stay(mdtrt_id=_new_id(view, "M", self.begndate), psn_no=self.psn_no, insutype=self.insutype,
                    med_type=self.med_type, fixmedins_code=self.fixmedins_code, mdtrtarea_admvs=self.mdtrtarea_admvs,
                    begndate=self.begndate, dise_codg=self.dise_codg)
        view.put_stay(stay)
        response = pb.AdmitResponse(mdtrt_id=stay.mdtrt_id, psn_no=self.psn_no,
                                    warnings=[convert.reason_pb(reason) for reason in self.warnings])
        return response, {"mdtrt_id": stay.mdtrt_id}


class Discharge(_Write, frozen=True, kw_only=True, tag=True):
    """A discharge as data for the writer: the stay is read under the write lock."""

    METHOD = "Discharge"
    RESPONSE = pb.DischargeResponse

    fixmedins_code: str
    mdtrt_id: str
    enddate: str

    def effect(self, view: WriteView):
        stay = _open_stay(view, self.fixmedins_code, self.mdtrt_id)
        if self.enddate < stay.begndate:
            raise convert.invalid("enddate", f"discharge before admission ({stay.begndate})")
        view.put_stay(msgspec.structs.replace(stay, enddate=self.enddate))
        unsettled = sum(1 for held in view.stay_lines(stay.mdtrt_id) if not held.setl_id)
        return (pb.DischargeResponse(mdtrt_id=stay.mdtrt_id, enddate=self.enddate, unsettled_line_count=unsettled),
                {"mdtrt_id": stay.mdtrt_id})


class Reversal(_Write, frozen=True, kw_only=True, tag=True):
    """A reversal (2208/2305) as data for the writer, on the event loop's `today` and `now_ms`."""

    METHOD = "ReverseSettlement"
    RESPONSE = pb.ReverseSettlementResponse
    ANSWER_IS_SETTLEMENT = True

    fixmedins_code: str
    setl_id: str
    today: str
    now_ms: int

    def effect(self, view: WriteView):
        reversal = _reverse(view, _settlement_of(view, self.fixmedins_code, self.setl_id), self.today, self.now_ms)
        return (settlement_convert.answer(pb.ReverseSettlementResponse, reversal),
                {"setl_id": reversal.setl_id})


# What the event loop hands to a writer as data: the writer thread runs its job, or the worker's writer process
# (service/writer_process.py) decodes it and runs the same job under its own GIL.
WRITES = OutpatientRequest | InpatientSettle | FeeUpload | Admission | Discharge | Reversal


class SettlementServicer(pb_grpc.SettlementServiceServicer):
    full_name = "medsettle.v1.SettlementService"
    add = staticmethod(pb_grpc.add_SettlementServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    async def _written(self, request_once: idempotency.Once, write_type: type[_Write], **fields):
        """The request's write, a `write_type` with the request's identity and `fields`, committed: by the worker's
        writer process when it has one (one of WRITES; its answer comes as the response's bytes), else by the writer
        thread (a response message)."""
        assert request_once.method == write_type.METHOD, "the request record names the method its retries use"
        write = write_type(caller=request_once.caller, request_id=request_once.request_id,
                           payload_digest=request_once.digest, created_ms=self.app.clock.now_ms(), **fields)
        if self.app.writer_process is not None:
            # The answer as the process serialized it: gRPC sends these bytes as they are (layers.PassingBytes).
            return await self.app.writer_process.run(write)
        return await self.app.writer.run(write.job(self.app))

    # -- outpatient (2206/2207) --------------------------------------------------------------------

    def _outpatient_claim(self, view: View, claim_pb: pb.OutpatientClaim) -> tuple[Claim, Person, str]:
        return outpatient_claim(view, claim_pb, self.app.clock.today(), self.app.limits.fee_lines_per_request_max)

    @rpc
    async def PreSettleOutpatient(self, request: pb.PreSettleOutpatientRequest, context) -> pb.PreSettleOutpatientResponse:
        with self.app.store.read() as view:
            claim, person, cert_type = self._outpatient_claim(view, request.claim)
            computed = _compute_outpatient(view, claim, person, cert_type, self.app.clock.now_ms())
        return settlement_convert.answer(pb.PreSettleOutpatientResponse, computed.settlement)

    @rpc
    async def SettleOutpatient(self, request: pb.SettleOutpatientRequest, context) -> pb.SettleOutpatientResponse:
        try:
            return await self._settle_outpatient(request)
        except Refusal as refusal:  # counted for supervision, best effort: the refusal itself writes nothing
            ref = request.claim.person
            refusal_stats.count(self.app, "SettleOutpatient", request.claim.fixmedins_code, request.request_id,
                                refusal, psn_no=ref.psn_no, cert=(ref.mdtrt_cert_type, ref.mdtrt_cert_no))
            raise

    async def _settle_outpatient(self, request: pb.SettleOutpatientRequest) -> pb.SettleOutpatientResponse:
        caller = convert.code(request.claim.fixmedins_code, "claim.fixmedins_code")
        request_once = idempotency.Once(self.app, caller, request, pb.SettleOutpatientResponse)
        now_ms = self.app.clock.now_ms()
        with self.app.store.read() as view:
            if (held := request_once.held(view)) is not None:  # a retry gets its first answer, whatever changed
                return held
            # The writer thread shares the loop's GIL: the claim is converted and computed here. A claim over the
            # line limit is refused here either way, as cheaply as ever: a flood of them must not cost the loop a
            # copy of each (the digest) and the process a parse (bench/floods.py).
            if (self.app.writer_process is None
                    or len(request.claim.fee_lines) > self.app.limits.fee_lines_per_request_max):
                claim, person, cert_type = self._outpatient_claim(view, request.claim)
                computed = _compute_outpatient(view, claim, person, cert_type, now_ms)
        if self.app.writer_process is not None:  # its own process, and its own GIL (service/writer_process.py)
            return await self._written(request_once, OutpatientRequest, claim_pb=request.claim.SerializeToString(),
                                       today=self.app.clock.today(), now_ms=now_ms,
                                       fee_lines_max=self.app.limits.fee_lines_per_request_max)
        return await self._written(request_once, OutpatientCommit, claim=claim, cert_type=cert_type, now_ms=now_ms,
                                   computed=computed)

    # -- inpatient (2401, 2301, 2302, 2303, 2304, 2402) ---------------------------------------------

    @rpc
    async def Admit(self, request: pb.AdmitRequest, context) -> pb.AdmitResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        request_once = idempotency.Once(self.app, fixmedins_code, request, pb.AdmitResponse)
        if (held := request_once.held()) is not None:  # a retry gets its first answer, whatever changed since
            return held
        med_type = convert.code(request.med_type, "med_type", codes.INPATIENT_MED_TYPES)
        begndate = convert.date(request.begndate, "begndate", allow_empty=True) or self.app.clock.today()
        if begndate > self.app.clock.today():
            raise convert.invalid("begndate", "an admission cannot begin in the future")
        dise = convert.code(request.dise_codg, "dise_codg", allow_empty=True)
        convert.code(request.ipt_otp_no, "ipt_otp_no", allow_empty=True)  # not kept, but never accepted malformed
        with self.app.store.read() as view:
            person, cert_type = lookups.resolve_person(view, request.person)
            insutype = lookups.default_insutype(person, request.insutype)
            institution = view.institution(fixmedins_code)
            answer = lookups.benefit(view, person, insutype, institution, med_type, begndate, dise, cert_type,
                                     admission_date=begndate)
        # Filing problems are only warnings at admission: a retroactive filing before discharge settles the
        # stay directly (DOMAIN.md 4). Everything else refuses the admission now.
        blocking = [r for r in answer.reasons if r.code not in eligibility.FILING_REASON_CODES]
        if blocking:
            raise Refusal.of_all([Refusal(r) for r in blocking])
        assert institution is not None
        return await self._written(request_once, Admission, psn_no=person.psn_no, insutype=insutype, med_type=med_type,
                                   fixmedins_code=fixmedins_code, mdtrtarea_admvs=institution.admdvs,
                                   begndate=begndate, dise_codg=dise, warnings=tuple(answer.reasons))

    @rpc
    async def UploadInpatientFees(self, request: pb.UploadInpatientFeesRequest,
                                  context) -> pb.UploadInpatientFeesResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        request_once = idempotency.Once(self.app, fixmedins_code, request, pb.UploadInpatientFeesResponse)
        if (held := request_once.held()) is not None:  # a retry gets its first answer, whatever changed since
            return held
        lines = settlement_convert.fee_lines(request.fee_lines, "fee_lines",
                                             self.app.limits.fee_lines_per_request_max)
        if not lines:
            raise convert.invalid("fee_lines", "at least one fee line")
        limit = self.app.limits.lines_per_stay_max
        with self.app.store.read() as view:
            # The catalog checks read a snapshot, off the writer: a batch of lines must not hold every queued
            # settlement's commit behind hundreds of look-ups.
            _open_stay(view, fixmedins_code, request.mdtrt_id)  # a closed stay is refused before any work
            institution = view.institution(fixmedins_code)
            assert institution is not None
            _check_lines_against_catalog(view, region.province_of(institution.admdvs), lines)

        return await self._written(request_once, FeeUpload, fixmedins_code=fixmedins_code, mdtrt_id=request.mdtrt_id,
                                   lines=lines, lines_per_stay_max=limit)

    @rpc
    async def CancelInpatientFees(self, request: pb.CancelInpatientFeesRequest,
                                  context) -> pb.CancelInpatientFeesResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        limit = self.app.limits.lines_per_stay_max
        if len(request.feedetl_sn) > limit:
            raise Refusal(reasons.LINES_LIMIT, field="feedetl_sn",
                          detail=f"{len(request.feedetl_sn)} lines, a stay holds at most {limit}")
        sns = [convert.code(sn, f"feedetl_sn[{i}]") for i, sn in enumerate(request.feedetl_sn)]
        if not sns:
            raise convert.invalid("feedetl_sn", "name the lines to cancel, or \"0000\" for every unsettled line")

        def effect(view: WriteView):
            stay = _open_stay(view, fixmedins_code, request.mdtrt_id)
            cancelled = _cancel_lines(view, stay, None if CANCEL_ALL in sns else sns)
            view.put_stay(msgspec.structs.replace(stay, line_count=stay.line_count - len(cancelled)))
            response = pb.CancelInpatientFeesResponse(lines_cancelled=len(cancelled),
                                                      stay_line_count=stay.line_count - len(cancelled))
            return response, {"mdtrt_id": stay.mdtrt_id}

        return await idempotency.once(self.app, fixmedins_code, request, pb.CancelInpatientFeesResponse, effect)

    def _inpatient(self, view: View, fixmedins_code: str, mdtrt_id: str, acct_used_flag: bool,
                   medfee_sumamt_fen: int, now_ms: int) -> tuple[claims.Computed, Stay]:
        return _inpatient(view, fixmedins_code, mdtrt_id, acct_used_flag, medfee_sumamt_fen, self.app.clock.today(),
                          now_ms)

    @rpc
    async def PreSettleInpatient(self, request: pb.PreSettleInpatientRequest, context) -> pb.PreSettleInpatientResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        amount = convert.amount(request.medfee_sumamt, "medfee_sumamt")
        with self.app.store.read() as view:
            computed, _ = self._inpatient(view, fixmedins_code, request.mdtrt_id, request.acct_used_flag, amount,
                                          self.app.clock.now_ms())
        return settlement_convert.answer(pb.PreSettleInpatientResponse, computed.settlement)

    @rpc
    async def SettleInpatient(self, request: pb.SettleInpatientRequest, context) -> pb.SettleInpatientResponse:
        try:
            return await self._settle_inpatient(request)
        except Refusal as refusal:  # counted for supervision, best effort: the refusal itself writes nothing
            refusal_stats.count(self.app, "SettleInpatient", request.fixmedins_code, request.request_id, refusal,
                                mdtrt_id=request.mdtrt_id)
            raise

    async def _settle_inpatient(self, request: pb.SettleInpatientRequest) -> pb.SettleInpatientResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        request_once = idempotency.Once(self.app, fixmedins_code, request, pb.SettleInpatientResponse)
        now_ms = self.app.clock.now_ms()
        computed, stay = None, None
        with self.app.store.read() as view:  # computed off the writer, from a snapshot
            if (held := request_once.held(view)) is not None:  # a retry gets its first answer, whatever changed
                return held
            amount = convert.amount(request.medfee_sumamt, "medfee_sumamt")
            if self.app.writer_process is None:  # the writer thread shares the loop's GIL: computed here
                computed, stay = self._inpatient(view, fixmedins_code, request.mdtrt_id, request.acct_used_flag,
                                                 amount, now_ms)
            else:  # the writer process computes it; a malformed id is refused here, as the snapshot's look-up does
                convert.code(request.mdtrt_id, "mdtrt_id")
        return await self._written(request_once, InpatientSettle, fixmedins_code=fixmedins_code,
                                   mdtrt_id=request.mdtrt_id, acct_used_flag=request.acct_used_flag,
                                   medfee_sumamt_fen=amount, today=self.app.clock.today(), now_ms=now_ms,
                                   computed=computed, stay=stay)

    @rpc
    async def Discharge(self, request: pb.DischargeRequest, context) -> pb.DischargeResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        enddate = convert.date(request.enddate, "enddate", allow_empty=True) or self.app.clock.today()
        if enddate > self.app.clock.today():
            raise convert.invalid("enddate", "a discharge cannot be in the future")

        request_once = idempotency.Once(self.app, fixmedins_code, request, pb.DischargeResponse)
        if (held := request_once.held()) is not None:  # a retry gets its first answer, whatever changed since
            return held
        return await self._written(request_once, Discharge, fixmedins_code=fixmedins_code, mdtrt_id=request.mdtrt_id,
                                   enddate=enddate)

    # -- reversal (2208/2305, 2601) and look-up (5203) ---------------------------------------------

    def _reverse(self, view: WriteView, original: Settlement) -> Settlement:
        return _reverse(view, original, self.app.clock.today(), self.app.clock.now_ms())

    @rpc
    async def ReverseSettlement(self, request: pb.ReverseSettlementRequest, context) -> pb.ReverseSettlementResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        setl_id = convert.code(request.setl_id, "setl_id")
        request_once = idempotency.Once(self.app, fixmedins_code, request, pb.ReverseSettlementResponse)
        if (held := request_once.held()) is not None:  # a retry gets its first answer, whatever changed since
            return held
        return await self._written(request_once, Reversal, fixmedins_code=fixmedins_code, setl_id=setl_id,
                                   today=self.app.clock.today(), now_ms=self.app.clock.now_ms())

    @rpc
    async def ReverseByRequestId(self, request: pb.ReverseByRequestIdRequest, context) -> pb.ReverseByRequestIdResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        original_id = convert.request_id(request.original_request_id, field="original_request_id")
        if original_id == request.request_id:
            raise convert.invalid("original_request_id", "a 冲正 names another request")

        def effect(view: WriteView):
            held = view.request(fixmedins_code, original_id)
            if held is None:
                # The original never arrived (or was refused): fence its id so a late arrival cannot take effect.
                view.put_request(fixmedins_code, original_id, RequestRecord(
                    method="Voided", payload_digest="", response=b"", created_ms=self.app.clock.now_ms(),
                    undone_by=request.request_id))
                return pb.ReverseByRequestIdResponse(original_method="", undone=False), {}
            if held.undone_by:
                raise Refusal(reasons.ALREADY_REVERSED, field="original_request_id",
                              detail=f"already undone by {held.undone_by}")
            response = pb.ReverseByRequestIdResponse(original_method=held.method, undone=True)
            if held.method in ("SettleOutpatient", "SettleInpatient"):
                original = view.settlement(held.setl_id)
                assert original is not None
                if original.reversal_setl_id:
                    raise Refusal(reasons.ALREADY_REVERSED, field="original_request_id",
                                  detail=f"settlement {original.setl_id} already reversed")
                settlement_convert.settlement_into(response.reversal, self._reverse(view, original))
            elif held.method == "Admit":
                stay = view.stay(held.mdtrt_id)
                assert stay is not None
                if stay.settled_count:
                    raise Refusal(reasons.NOT_REVERSIBLE, field="original_request_id",
                                  detail="the stay has settlements in force: reverse them first")
                _cancel_lines(view, stay, None)
                view.put_stay(msgspec.structs.replace(stay, enddate=stay.begndate, line_count=0))
            elif held.method == "UploadInpatientFees":
                stay = view.stay(held.mdtrt_id)
                assert stay is not None
                cancelled = _cancel_lines(view, stay, list(held.feedetl_sns))
                view.put_stay(msgspec.structs.replace(stay, line_count=stay.line_count - len(cancelled)))
            else:
                raise Refusal(reasons.NOT_REVERSIBLE, field="original_request_id",
                              detail=f"{held.method} cannot be undone by 冲正")
            view.put_request(fixmedins_code, original_id, msgspec.structs.replace(held, undone_by=request.request_id))
            return response, {}

        return await idempotency.once(self.app, fixmedins_code, request, pb.ReverseByRequestIdResponse, effect)

    @rpc
    async def GetSettlement(self, request: pb.GetSettlementRequest, context) -> pb.GetSettlementResponse:
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        with self.app.store.read() as view:
            setl = _settlement_of(view, fixmedins_code, convert.code(request.setl_id, "setl_id"))
        return settlement_convert.answer(pb.GetSettlementResponse, setl)


def _still_as_read(view: View, computed: claims.Computed, stay: Stay, held_lines: list[StayLine]) -> bool:
    """Is everything an inpatient settlement was computed from unchanged under the write lock?"""
    return (claims.person_unchanged(view, computed)
            and view.stay(stay.mdtrt_id) == stay
            and tuple(held.line for held in held_lines if not held.setl_id) == computed.lines)


def _check_lines_against_catalog(view: View, province: str, lines: tuple[FeeLine, ...]) -> None:
    """Refuse, naming every bad line, what can never settle: an amount that is not cnt x pric, an item unknown to
    the catalog of the place of treatment at the fee date. Better now than at discharge."""
    problems: list[Refusal] = []
    for index, line in enumerate(lines):
        try:
            catalog_split.check_line_amount(line)
            if view.catalog_item(province, line.med_list_codg, line.fee_ocur_date) is None:
                raise Refusal(reasons.UNKNOWN_CATALOG_ITEM, feedetl_sn=line.feedetl_sn)
        except Refusal as refusal:
            problems.append(Refusal(refusal.reason, field=f"fee_lines[{index}]", feedetl_sn=line.feedetl_sn,
                                    detail=refusal.detail))
    if problems:
        raise Refusal.of_all(problems)


def _cancel_lines(view: WriteView, stay: Stay, sns: list[str] | None) -> list[str]:
    """Delete unsettled lines (`None`: every unsettled line). Refuses settled or unknown lines, naming them."""
    held = {line.line.feedetl_sn: line for line in view.stay_lines(stay.mdtrt_id)}
    targets = [sn for sn, line in held.items() if not line.setl_id] if sns is None else sns
    problems = [Refusal(reasons.INVALID_ARGUMENT, field="feedetl_sn", feedetl_sn=sn,
                        detail="not held by this stay" if sn not in held else f"settled by {held[sn].setl_id}")
                for sn in targets if sn not in held or held[sn].setl_id]
    if problems:
        raise Refusal.of_all(problems)
    for sn in targets:
        assert view.delete_stay_line(stay.mdtrt_id, sn)
    return targets
