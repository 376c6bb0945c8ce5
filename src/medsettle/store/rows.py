"""Records that exist only because of storage: stay lines, request-id records, audit entries, and a distribution's
slots read without their counts."""

from __future__ import annotations

import msgspec

from medsettle.domain.records import Accumulators, FeeLine, Record


class StayLine(Record, kw_only=True):
    """A fee line held by an inpatient stay, and the settlement that covered it ("" = unsettled)."""

    line: FeeLine
    setl_id: str = ""


class AccumulatorRow(Record, kw_only=True):
    """Accumulators with a version that every change increments (optimistic check at commit)."""

    accumulators: Accumulators = Accumulators()
    version: int = 0


class RequestRecord(Record, kw_only=True):
    """What a mutating request did, kept by (caller, request_id) for retries and 冲正 (2601)."""

    method: str
    payload_digest: str  # hex blake2b of the request's canonical bytes, request_id excluded
    response: bytes  # the serialized answer, returned byte for byte on a retry ("" when answer_is_settlement)
    created_ms: int
    setl_id: str = ""  # a settlement it wrote
    mdtrt_id: str = ""  # a stay it opened or changed
    trt_dcla_detl_sn: str = ""  # a filing it wrote
    feedetl_sns: tuple[str, ...] = ()  # fee lines it added to a stay
    undone_by: str = ""  # request_id of the 2601 that undid it
    # The answer is exactly {settlement: the settlement setl_id as it was written}: it is rebuilt from that record on a
    # retry instead of being stored twice (a settlement and its answer were 2 of the 3 pages a settlement cost).
    answer_is_settlement: bool = False


class AuditEntry(Record, kw_only=True):
    """Who changed reference data or filings, when, and what (DOMAIN.md 9)."""

    who: str
    when_ms: int
    method: str
    what: str  # a short description: counts, regions, versions
    request_id: str = ""


class ClosedMonth(Record, kw_only=True):
    """A closed clearing month: the statement frozen as its canonical bytes, byte for byte."""

    month: str
    statement: bytes  # domain.clearing.canonical_bytes of the statement at close
    digest: str
    closed_ms: int
    closed_by: str = ""


class RefusalEntry(Record, kw_only=True):
    """A refused settlement, counted once per (day, institution, request id) by the best-effort statistics job."""

    date: str
    fixmedins_code: str
    request_id: str
    method: str
    reasons: tuple[str, ...]  # codes, the leading one first
    mdtrtarea_admvs: str  # province of treatment, or supervision_stats.UNKNOWN_REGION
    insuplc_admdvs: str  # insured province, or supervision_stats.UNKNOWN_REGION
    when_ms: int


class DirectoryEntry(Record, kw_only=True):
    """A person insured in a province of another shard, as this shard's credential directory holds them: enough to
    say where their calls go, nothing of their insurance (domain/shards.py)."""

    psn_no: str
    insuplc_admdvs: str  # the insured province, xx0000
    credentials: tuple[tuple[str, str], ...] = ()  # (mdtrt_cert_type, cert_no) the person may be looked up by


class SlotAsStored(Record, kw_only=True):
    """An amount_sketch.Slot with its counts left as stored (the same bytes on disk): adding to a distribution reads
    only its current slot's counts, and copies the older ones (up to 8, ~80 counts each) as they are."""

    day0: int
    counts: msgspec.Raw


class SketchAsStored(Record, kw_only=True):
    """An amount_sketch.AmountSketch whose slots are SlotAsStored: encodes to the same bytes."""

    slots: tuple[SlotAsStored, ...] = ()
