"""What every servicer shares within one worker process: the store, its writer, the clock, the limits, and how
callers are verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from medsettle.domain.shards import ShardMap
from medsettle.service.clock import Clock
from medsettle.service.intake import Admission
from medsettle.store.env import Store
from medsettle.store.rows import AuditEntry
from medsettle.store.view import WriteView
from medsettle.store.writer import GroupCommitWriter

if TYPE_CHECKING:
    from medsettle.service.writer_process import WriterProcess


@dataclass(frozen=True)
class Limits:
    message_bytes_max: int = 16 * 2**20  # a full catalog push goes in batches below this
    fee_lines_per_request_max: int = 2_000
    lines_per_stay_max: int = 10_000
    items_per_push_max: int = 50_000
    records_per_push_max: int = 20_000
    request_id_chars_max: int = 40
    in_flight_requests_max: int = 2_000  # per worker: beyond it SERVER_BUSY (RESOURCE_EXHAUSTED), at once
    in_flight_per_connection_max: int = 500  # one gateway connection cannot take every slot
    streams_max: int = 256  # per worker: health watches and reflection streams; beyond it SERVER_BUSY at once
    # An institution's person look-ups (1101, 2001, 5206, filings) per minute, per worker process: a window looks a
    # patient up a few times; a gateway enumerating the insured is stopped here (service/access.py).
    person_lookups_per_minute: int = 120


@dataclass
class App:
    store: Store
    writer: GroupCommitWriter
    clock: Clock
    limits: Limits = field(default_factory=Limits)
    log_calls: bool = False
    # Directory of ca.pem, server.pem and server-key.pem: mutual TLS. "" = plaintext on loopback only, the caller
    # named by the x-medsettle-caller metadata (development, tests, benchmarks).
    tls_dir: str = ""
    # A shard of a sharded deployment: the map and which shard this is (None: a single host, owning every province).
    shard_map: ShardMap | None = None
    shard_name: str = ""
    # The worker's writer process (LMDB): the settlement flows' writes commit there (`settlements.WRITES`), every
    # other write on `writer`. None: all on `writer` (PostgreSQL, tests that drive servicers directly,
    # --writer-thread-only).
    writer_process: WriterProcess | None = None
    admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.limits.in_flight_requests_max, self.limits.in_flight_per_connection_max)

    @property
    def insured_provinces(self) -> frozenset[str] | None:
        """The insured provinces this server answers for: a shard's own; None (every one) on a single host."""
        if self.shard_map is None:
            return None
        return frozenset(self.shard_map.shard(self.shard_name).provinces)

    def audit(self, view: WriteView, who: str, method: str, what: str, request_id: str) -> None:
        """Record who changed what, in the same transaction as the change (DOMAIN.md 9: the audit trail)."""
        view.add_audit(AuditEntry(who=who, when_ms=self.clock.now_ms(), method=method, what=what,
                                  request_id=request_id))
