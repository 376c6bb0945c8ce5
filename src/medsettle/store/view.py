"""Typed access to the keyspaces inside one LMDB transaction.

Keyspaces and their keys (parts joined by NUL, see keys.py):
  persons         psn_no                                           -> Person
  certs           mdtrt_cert_type, cert_no                         -> psn_no (bytes)
  institutions    fixmedins_code                                   -> Institution
  catalog         province, med_list_codg, begndate descending     -> CatalogItem
  policies        insuplc_admdvs, insutype, category, psn_type, hosp_lv, begndate -> Policy
  places          insuplc_admdvs, begndate                         -> InsuredPlace
  filings         psn_no, trt_dcla_detl_sn                         -> Filing
  quals           psn_no, opsp_dise_code, begndate                 -> ChronicQualification
  accumulators    psn_no, insutype, year                           -> AccumulatorRow
  settlements     setl_id                                          -> Settlement
  setl_by_day     setl_date, fixmedins_code, setl_id               -> b""   (reconciliation, clearing)
  stays           mdtrt_id                                         -> Stay
  stay_lines      mdtrt_id, feedetl_sn                             -> StayLine
  open_stays      psn_no, mdtrt_id                                 -> b""   (retroactive filing, audits)
  item_days       psn_no, fee date, med_list_codg                  -> quantity e4 (ascii int) of daily-limited items
  requests        caller, request_id                               -> RequestRecord
  audit           when_ms, seq                                     -> AuditEntry
  clearing_month  month, insured province, treatment province      -> clearing.Totals (kept at commit time)
  closed_months   month                                            -> ClosedMonth (frozen statement bytes)
  prepaid_funds   insured province, year                           -> PrepaidFund
  prepaid_alerts  insured province, year, month                    -> PrepaidAlert
  meta            name                                             -> counters (ascii int); reference_token
  audit_rules     admdvs, role, rule_id, begndate                  -> AuditRule
  person_days     psn_no, setl_date                                -> audit.PersonDay (outpatient visits in force)
  person_stays    psn_no, begndate, mdtrt_id                       -> b""   (overlapping stays)
  sketches        "I", province, med_list_codg | "V", fixmedins_code, clr_type -> AmountSketch
  flags           flag_id ("G" + date + seq)                       -> Flag
  flag_index      "P", province | "H", fixmedins_code, flag_date, flag_id -> b""
  flags_by_setl   setl_id, flag_id                                 -> b""
  deductions      date, fixmedins_code, flag_id, "D" | "G"         -> clearing.Deduction
  stats           date, treatment province, insured province, fixmedins_code -> supervision_stats.DayStats
  refusal_log     date, fixmedins_code, request_id                 -> RefusalEntry (statistics, best effort)
  directory       "P", psn_no | "C", mdtrt_cert_type, cert_no      -> DirectoryEntry | psn_no (bytes): persons
                  insured on other shards (sharded deployments only; domain/shards.py)
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import lmdb
import msgspec

from medsettle.domain import amount_sketch, clearing, codes, region, supervision_stats
from medsettle.domain.amount_sketch import AmountSketch
from medsettle.domain.audit import PersonDay
from medsettle.domain.audit_rules import AuditRule
from medsettle.domain.flags import Flag
from medsettle.domain.prepaid import PrepaidAlert, PrepaidFund
from medsettle.domain.records import (
    CatalogItem,
    ChronicQualification,
    Filing,
    Institution,
    InsuredPlace,
    Person,
    Policy,
    Settlement,
    Stay,
)
from medsettle.domain.supervision_stats import DayStats
from medsettle.process_cache import ProcessCache
from medsettle.store import codec, keys
from medsettle.store.keys import MAX_PART_BYTES, key, prefix, seq
from medsettle.store.rows import (
    AccumulatorRow,
    AuditEntry,
    ClosedMonth,
    DirectoryEntry,
    RefusalEntry,
    RequestRecord,
    SketchAsStored,
    SlotAsStored,
    StayLine,
)

KEYSPACES = (
    "persons",
    "certs",
    "institutions",
    "catalog",
    "policies",
    "places",
    "filings",
    "quals",
    "accumulators",
    "settlements",
    "setl_by_day",
    "stays",
    "stay_lines",
    "open_stays",
    "item_days",
    "requests",
    "audit",
    "meta",
    "clearing_month",
    "closed_months",
    "prepaid_funds",
    "prepaid_alerts",
    "audit_rules",
    "person_days",
    "person_stays",
    "sketches",
    "flags",
    "flag_index",
    "flags_by_setl",
    "deductions",
    "stats",
    "refusal_log",
    "directory",
)
# Written by the best-effort refusal counter outside any request's transaction: a refusal changes nothing else.
STATISTICS_KEYSPACES = frozenset({"stats", "refusal_log"})

# The record type of each keyspace whose values are records (the others hold ids, counts or nothing): what
# `medsettle migrate` decodes and writes again.
RECORD_TYPES: dict[str, type] = {
    "persons": Person,
    "institutions": Institution,
    "catalog": CatalogItem,
    "policies": Policy,
    "places": InsuredPlace,
    "filings": Filing,
    "quals": ChronicQualification,
    "accumulators": AccumulatorRow,
    "settlements": Settlement,
    "stays": Stay,
    "stay_lines": StayLine,
    "requests": RequestRecord,
    "audit": AuditEntry,
    "clearing_month": clearing.Totals,
    "closed_months": ClosedMonth,
    "prepaid_funds": PrepaidFund,
    "prepaid_alerts": PrepaidAlert,
    "audit_rules": AuditRule,
    "person_days": PersonDay,
    "sketches": AmountSketch,
    "flags": Flag,
    "deductions": clearing.Deduction,
    "stats": DayStats,
    "refusal_log": RefusalEntry,
}
DIRECTORY_PERSON, DIRECTORY_CREDENTIAL = "P", "C"
assert set(RECORD_TYPES) <= set(KEYSPACES)

MAX_SCAN_ROWS = 100_000  # no prefix scan of the hot path returns more; a stay holds at most 10,000 lines
PERSON_STAYS_MAX = 1_000  # stays of one person the overlap rule reads
SKETCH_ITEM, SKETCH_VISIT = "I", "V"
FLAG_INDEX_PROVINCE, FLAG_INDEX_INSTITUTION = "P", "H"
DEDUCTION_TAG, GIVE_BACK_TAG = "D", "G"


def _versioned_at(cursor: lmdb.Cursor, key_prefix: bytes, date: str, record_type: type) -> Any:
    """The version with the greatest begndate <= date under key_prefix, if it is still in force at date."""
    # Keys are key_prefix + begndate. Position just past every begndate <= date, then step back one.
    if cursor.set_range(key_prefix + date.encode() + b"\x00"):
        if not cursor.prev():
            return None
    elif not cursor.last():
        return None
    found_key, data = cursor.item()  # one call for both: the common case uses both
    if not found_key.startswith(key_prefix):
        return None
    record = codec.decode(data, record_type)
    if record.enddate and record.enddate < date:
        return None
    return record


# Catalog keys are the hottest (every fee line of every settlement, every item of a bulk push), so they are built
# in one step instead of by keys.key. Keys written are checked as keys.key checks them (no NUL inside a part, parts
# within MAX_PART_BYTES). Keys only looked up are not: a stored catalog key holds exactly two NULs, so a prefix built
# from a part with a NUL inside holds three and is a prefix of no stored key, and an over-long key is refused by
# LMDB (BadValsizeError). Those checks were a third of a look-up's cost.
def _catalog_prefix(province: str, med_list_codg: str) -> bytes:
    return f"{province}\x00{med_list_codg}\x00".encode("ascii")


# Catalog keys end with the begndate with every digit d written 9-d ("2026-07-01" -> "7973-92-98"), so that
# versions of one item sort newest first and a single set_range finds the version in force at a date.
_DESCENDING = str.maketrans("0123456789", "9876543210")
_descending_dates: dict[str, bytes] = {}  # a push or a day's settlements use a handful of dates, again and again
_DESCENDING_DATES_MAX = 4096
_decode_catalog_item = codec.decoder_of(CatalogItem)
_decode_sketch = codec.decoder_of(AmountSketch)
_decode_sketch_as_stored = codec.decoder_of(SketchAsStored)
_decode_counts = msgspec.msgpack.Decoder(dict[int, int]).decode
_encode = msgspec.msgpack.Encoder().encode
_decode_person_day = codec.decoder_of(PersonDay)
LOOKBACK_DAYS_READ_MAX = 400  # day records one read returns (the rules look back at most 90 days)


def _sketch_key(kind: str, owner: str, code: str) -> bytes:
    # Built for every distribution a settlement reads or feeds: in one step, like a catalog key. The parts are codes,
    # checked where they entered (convert.code: no NUL, at most 40 characters).
    return f"{kind}\x00{owner}\x00{code}".encode("ascii")


def _descending(date: str) -> bytes:
    raw = _descending_dates.get(date)
    if raw is None:
        raw = date.translate(_DESCENDING).encode("ascii")
        if len(_descending_dates) < _DESCENDING_DATES_MAX:
            _descending_dates[date] = raw
    return raw


def catalog_key(province: str, med_list_codg: str, begndate: str) -> bytes:
    """key(province, med_list_codg, begndate descending), with keys.key's checks: this one is written."""
    assert "\x00" not in province and "\x00" not in med_list_codg and "\x00" not in begndate, (province, med_list_codg)
    assert len(province) <= MAX_PART_BYTES and len(med_list_codg) <= MAX_PART_BYTES and len(begndate) <= MAX_PART_BYTES
    return f"{province}\x00{med_list_codg}\x00".encode("ascii") + _descending(begndate)


# Reference data (catalog versions, policies, institutions, insured-place parameters, audit rules) changes only by a
# push, and every write of it through a WriteView replaces the meta REFERENCE_TOKEN in the same transaction. So a
# decoded row read under one token is the row of every snapshot with that token: read snapshots of every request
# share them per process (a settlement's ten catalog look-ups, its institution, policy and insured place are
# dictionary hits; supervision_book keys its rule caches by the token too), and the first snapshot after a push, in
# any worker, reads afresh. Bounded: emptied when full.
REFERENCE_TOKEN = "reference_token"
REFERENCE_TOKEN_KEY = REFERENCE_TOKEN.encode("ascii")  # its meta key (one part: key() would give the same bytes)


def new_reference_token() -> bytes:
    return os.urandom(8).hex().encode("ascii")


REFERENCE_ROWS_MAX = 200_000
_reference_rows = ProcessCache(REFERENCE_ROWS_MAX)  # (token, kind, *args) -> row
_MISSING = object()


class View:
    """Reads inside one transaction: every call sees the same snapshot."""

    # A read snapshot never changes, so the reference rows it reads come from (and go to) the process's cache of
    # its reference token. A WriteView may too (see WriteView), until it writes reference data itself.
    _memoize = True

    def __init__(self, txn: lmdb.Transaction, dbs: dict[str, Any]) -> None:
        self.txn = txn
        self.dbs = dbs
        self._cursors: dict[str, lmdb.Cursor] = {}  # one cursor per keyspace, reused by versioned look-ups
        self._token: bytes | None = None

    def release(self) -> None:
        """Drop the transaction and cursors (the snapshot has ended): nothing keeps its reader slot."""
        self.txn = None  # type: ignore[assignment]
        self._cursors.clear()

    def reference_token(self) -> bytes:
        """Changes with every write of reference data (b"" in a store no push has touched since this release)."""
        if self._token is None:
            self._token = bytes(self.txn.get(REFERENCE_TOKEN_KEY, db=self.dbs["meta"]) or b"")
        return self._token

    def _cursor(self, space: str) -> lmdb.Cursor:
        cursor = self._cursors.get(space)
        if cursor is None:
            cursor = self._cursors[space] = self.txn.cursor(db=self.dbs[space])
        return cursor

    def _memoized(self, kind: str, read, *args: str) -> Any:
        """A reference row, `read(*args)`: from the process's cache when this snapshot is a read snapshot. The read and
        its arguments are passed, not a closure: a catalog hit (every fee line) cost three times as much with one."""
        if not self._memoize:
            return read(*args)
        cache_key = (self._token if self._token is not None else self.reference_token(), kind, *args)
        found = _reference_rows.get(cache_key, _MISSING)
        return _reference_rows.remember(cache_key, read(*args)) if found is _MISSING else found

    # -- generic ---------------------------------------------------------------------------------

    def _get(self, space: str, raw_key: bytes, record_type: type) -> Any:
        if not raw_key:  # LMDB has no empty keys: an empty code names nothing
            return None
        data = self.txn.get(raw_key, db=self.dbs[space])
        return None if data is None else codec.decode(data, record_type)

    def _scan(self, space: str, key_prefix: bytes, record_type: type | None, limit: int = MAX_SCAN_ROWS,
              start: bytes = b"") -> Iterator:
        """Rows whose key starts with key_prefix (from `start`, if given), at most `limit` of them."""
        cursor = self.txn.cursor(db=self.dbs[space])
        if not cursor.set_range(start or key_prefix):
            return
        count = 0
        for raw_key, data in cursor:
            if not raw_key.startswith(key_prefix):
                return
            count += 1
            assert count <= limit, f"scan of {space} exceeded {limit} rows"
            yield raw_key, (data if record_type is None else codec.decode(data, record_type))

    # -- reference data --------------------------------------------------------------------------

    def person(self, psn_no: str) -> Person | None:
        return self._get("persons", key(psn_no), Person)

    def psn_no_by_cert(self, cert_type: str, cert_no: str) -> str | None:
        data = self.txn.get(key(cert_type, cert_no), db=self.dbs["certs"])
        return None if data is None else bytes(data).decode("ascii")

    def directory_entry(self, psn_no: str) -> DirectoryEntry | None:
        return self._get("directory", key(DIRECTORY_PERSON, psn_no), DirectoryEntry)

    def directory_psn_no(self, cert_type: str, cert_no: str) -> str | None:
        data = self.txn.get(key(DIRECTORY_CREDENTIAL, cert_type, cert_no), db=self.dbs["directory"])
        return None if data is None else bytes(data).decode("ascii")

    def institution(self, fixmedins_code: str) -> Institution | None:
        return self._memoized("institution", self._institution, fixmedins_code)

    def _institution(self, fixmedins_code: str) -> Institution | None:
        return self._get("institutions", key(fixmedins_code), Institution)

    def catalog_item(self, province: str, med_list_codg: str, date: str) -> CatalogItem | None:
        # The hottest look-up (every fee line): a read snapshot finds it in the process's reference cache.
        return self._memoized("catalog", self._catalog_item, province, med_list_codg, date)

    def _catalog_item(self, province: str, med_list_codg: str, date: str) -> CatalogItem | None:
        # Catalog keys carry the begndate inverted (descending), so one set_range lands on the greatest
        # begndate <= date: one B-tree descent, no step back.
        key_prefix = f"{province}\x00{med_list_codg}\x00".encode("ascii")  # _catalog_prefix, inlined
        cursor = self._cursors.get("catalog") or self._cursor("catalog")
        if not cursor.set_range(key_prefix + _descending(date)):
            return None
        found_key, data = cursor.item()
        if not found_key.startswith(key_prefix):
            return None
        item = _decode_catalog_item(data)
        return None if item.enddate and item.enddate < date else item

    def catalog_codes(self, province: str) -> Iterator[str]:
        """The distinct item codes of a province's catalog, in code order (for tools, never a request)."""
        last = ""
        for raw, _ in self._scan("catalog", prefix(province), None, limit=10**12):
            code = keys.parts(raw)[1]
            if code != last:
                yield code
                last = code

    def all_persons(self) -> Iterator[Person]:
        """Every person record, unbounded: for tools (load-test exports, a shard split), never a request."""
        for _, person in self._scan("persons", b"", Person, limit=10**12):
            yield person

    def all_institutions(self) -> Iterator[Institution]:
        """Every institution, unbounded: for tools (load-test exports), never a request."""
        for _, institution in self._scan("institutions", b"", Institution, limit=10**12):
            yield institution

    def catalog_versions(self, province: str, med_list_codg: str) -> list[CatalogItem]:
        # Every item of a bulk push reads its history: on the keyspace's shared cursor, without a generator. The
        # list is complete before this returns, so a later use of the cursor cannot disturb it.
        key_prefix = _catalog_prefix(province, med_list_codg)
        cursor = self._cursors.get("catalog") or self._cursor("catalog")
        versions: list[CatalogItem] = []
        # A new code (the usual case of a full load) costs one set_range and one key read: no value is copied.
        found = cursor.set_range(key_prefix)
        while found and cursor.key().startswith(key_prefix):
            versions.append(_decode_catalog_item(cursor.value()))
            assert len(versions) <= MAX_SCAN_ROWS, f"scan of catalog exceeded {MAX_SCAN_ROWS} rows"
            found = cursor.next()
        versions.reverse()  # stored newest first (descending keys); callers get them oldest first
        return versions

    def policy(
        self, insuplc_admdvs: str, insutype: str, category: str, psn_type: str, hosp_lv: str, date: str
    ) -> Policy | None:
        """The policy row in force: the insured region's own row first, then its city's, then its province's."""
        return self._memoized("policy", self._policy, insuplc_admdvs, insutype, category, psn_type, hosp_lv, date)

    def _policy(self, insuplc_admdvs: str, insutype: str, category: str, psn_type: str, hosp_lv: str,
                date: str) -> Policy | None:
        cursor = self._cursor("policies")
        for place in dict.fromkeys((insuplc_admdvs, region.city_of(insuplc_admdvs), region.province_of(insuplc_admdvs))):
            found = _versioned_at(cursor, prefix(place, insutype, category, psn_type, hosp_lv), date, Policy)
            if found is not None:
                return found
        return None

    def policy_versions(self, insuplc_admdvs: str, insutype: str, category: str, psn_type: str, hosp_lv: str):
        return [p for _, p in self._scan("policies", prefix(insuplc_admdvs, insutype, category, psn_type, hosp_lv), Policy)]

    def insured_place(self, insuplc_admdvs: str, date: str) -> InsuredPlace | None:
        return self._memoized("insured_place", self._insured_place, region.province_of(insuplc_admdvs), date)

    def _insured_place(self, province: str, date: str) -> InsuredPlace | None:
        return _versioned_at(self._cursor("places"), prefix(province), date, InsuredPlace)

    def insured_place_versions(self, province: str) -> list[InsuredPlace]:
        return [p for _, p in self._scan("places", prefix(province), InsuredPlace)]

    # -- person events ---------------------------------------------------------------------------

    def filings(self, psn_no: str) -> list[Filing]:
        return [f for _, f in self._scan("filings", prefix(psn_no), Filing)]

    def filing(self, psn_no: str, trt_dcla_detl_sn: str) -> Filing | None:
        return self._get("filings", key(psn_no, trt_dcla_detl_sn), Filing)

    def qualifications(self, psn_no: str) -> list[ChronicQualification]:
        return [q for _, q in self._scan("quals", prefix(psn_no), ChronicQualification)]

    def accumulator_row(self, psn_no: str, insutype: str, year: int) -> AccumulatorRow:
        row = self._get("accumulators", key(psn_no, insutype, str(year)), AccumulatorRow)
        return AccumulatorRow() if row is None else row

    def item_day_cnt_e4(self, psn_no: str, fee_date: str, med_list_codg: str) -> int:
        """Quantity of a daily-limited item settled for the person on fee_date (settlements in force)."""
        data = self.txn.get(key(psn_no, fee_date, med_list_codg), db=self.dbs["item_days"])
        return 0 if data is None else int(data)

    # -- settlements and stays -------------------------------------------------------------------

    def settlement(self, setl_id: str) -> Settlement | None:
        return self._get("settlements", key(setl_id), Settlement)

    def settlement_ids_on(self, setl_date: str, fixmedins_code: str | None = None) -> list[str]:
        parts = (setl_date,) if fixmedins_code is None else (setl_date, fixmedins_code)
        return [keys.parts(raw)[-1] for raw, _ in self._scan("setl_by_day", prefix(*parts), None)]

    def all_settlements(self) -> Iterator[Settlement]:
        """Every settlement record ever written, unbounded: for offline checks (tests, benchmarks), never a request."""
        cursor = self.txn.cursor(db=self.dbs["settlements"])
        if cursor.first():
            for _, data in cursor:
                yield codec.decode(data, Settlement)

    # -- clearing and prepaid funds --------------------------------------------------------------

    def clearing_totals(self, month: str) -> list[tuple[tuple[str, str], clearing.Totals]]:
        """((insured province, treatment province), totals) of a month, from the commit-time aggregates."""
        rows = []
        for raw, totals in self._scan("clearing_month", prefix(month), clearing.Totals, limit=clearing.PAIRS_MAX):
            _, insured, treated = keys.parts(raw)
            rows.append(((insured, treated), totals))
        return rows

    def closed_month(self, month: str) -> ClosedMonth | None:
        return self._get("closed_months", key(month), ClosedMonth)

    def prepaid_fund(self, province: str, year: int) -> PrepaidFund | None:
        return self._get("prepaid_funds", key(province, str(year)), PrepaidFund)

    def prepaid_alerts(self, province: str = "", limit: int = 10_000) -> list[PrepaidAlert]:
        key_prefix = prefix(province) if province else b""
        return [alert for _, alert in self._scan("prepaid_alerts", key_prefix, PrepaidAlert, limit=limit)]

    def stay(self, mdtrt_id: str) -> Stay | None:
        return self._get("stays", key(mdtrt_id), Stay)

    def stay_line(self, mdtrt_id: str, feedetl_sn: str) -> StayLine | None:
        return self._get("stay_lines", key(mdtrt_id, feedetl_sn), StayLine)

    def stay_lines(self, mdtrt_id: str) -> list[StayLine]:
        return [line for _, line in self._scan("stay_lines", prefix(mdtrt_id), StayLine)]

    def open_stay_ids(self, psn_no: str) -> list[str]:
        return [keys.parts(raw)[-1] for raw, _ in self._scan("open_stays", prefix(psn_no), None)]

    def request(self, caller: str, request_id: str) -> RequestRecord | None:
        return self._get("requests", key(caller, request_id), RequestRecord)

    def audit_entries(self, since_ms: int = 0, limit: int = 1000, method: str = "", who: str = "") -> list[AuditEntry]:
        """Audit entries from `since_ms` on, oldest first, optionally of one method and of one caller only."""
        entries: list[AuditEntry] = []
        for _, entry in self._scan("audit", key(seq(since_ms, 15))[:0], AuditEntry, start=key(seq(since_ms, 15))):
            if (not method or entry.method == method) and (not who or entry.who == who):
                entries.append(entry)
                if len(entries) >= limit:
                    break
        return entries

    def counter(self, name: str) -> int:
        data = self.txn.get(key(name), db=self.dbs["meta"])
        return 0 if data is None else int(bytes(data))

    # -- supervision (就医地管理) --------------------------------------------------------------------

    def audit_rules(self, admdvs: str, role: str, limit: int = MAX_SCAN_ROWS) -> list[AuditRule]:
        """Every version of every rule of (province, role), by rule_id then begndate."""
        return [rule for _, rule in self._scan("audit_rules", prefix(admdvs, role), AuditRule, limit=limit)]

    def audit_rule_versions(self, admdvs: str, role: str, rule_id: str) -> list[AuditRule]:
        return [rule for _, rule in self._scan("audit_rules", prefix(admdvs, role, rule_id), AuditRule)]

    def person_days(self, psn_no: str, first_date: str, last_date: str) -> dict[str, PersonDay]:
        """The person's outpatient day records from first_date to last_date (at most one per day). Read for every
        settlement under a frequency or same-day rule: on the keyspace's shared cursor, keys built in one step."""
        found: dict[str, PersonDay] = {}
        key_prefix = f"{psn_no}\x00".encode("ascii")
        cursor = self._cursor("person_days")
        positioned = cursor.set_range(key_prefix + first_date.encode("ascii"))
        while positioned:
            raw = cursor.key()
            date = raw[len(key_prefix):].decode("ascii")
            if not raw.startswith(key_prefix) or date > last_date:
                break
            found[date] = _decode_person_day(cursor.value())
            assert len(found) <= LOOKBACK_DAYS_READ_MAX
            positioned = cursor.next()
        return found

    def person_day(self, psn_no: str, date: str) -> PersonDay | None:
        return self._get("person_days", key(psn_no, date), PersonDay)

    def person_stays(self, psn_no: str) -> list[Stay]:
        """Every stay of the person (admissions are few; bounded by PERSON_STAYS_MAX)."""
        stays = []
        for raw, _ in self._scan("person_stays", prefix(psn_no), None, limit=PERSON_STAYS_MAX):
            stay = self.stay(keys.parts(raw)[-1])
            assert stay is not None
            stays.append(stay)
        return stays

    def sketch(self, kind: str, owner: str, code: str) -> AmountSketch | None:
        data = self.txn.get(_sketch_key(kind, owner, code), db=self.dbs["sketches"])
        return None if data is None else _decode_sketch(data)

    def flag(self, flag_id: str) -> Flag | None:
        return self._get("flags", key(flag_id), Flag)

    def flag_ids_of_settlement(self, setl_id: str) -> list[str]:
        return [keys.parts(raw)[-1] for raw, _ in self._scan("flags_by_setl", prefix(setl_id), None, limit=1_000)]

    def flag_ids(self, scope: tuple[str, ...], first_date: str, last_date: str, after_flag_id: str,
                 limit: int) -> list[str]:
        """Flag ids in id order (= flag date order) from first_date to last_date, after `after_flag_id`; `scope`
        is (FLAG_INDEX_*, owner) for an index, () for every flag. At most `limit`."""
        found: list[str] = []
        if scope:
            space, start = "flag_index", key(*scope, first_date)
            if after_flag_id:
                start = key(*scope, "-".join((after_flag_id[1:5], after_flag_id[5:7], after_flag_id[7:9])),
                            after_flag_id) + b"\x01"
            rows = self._scan(space, prefix(*scope), None, start=start)
        else:
            start = key(after_flag_id) + b"\x01" if after_flag_id else key("G" + first_date.replace("-", ""))
            rows = self._scan("flags", b"G", None, start=start)
        last_id = "G" + last_date.replace("-", "") + "~"
        for raw, _ in rows:
            flag_id = keys.parts(raw)[-1]
            if flag_id > last_id:
                break
            found.append(flag_id)
            if len(found) >= limit:
                break
        return found

    def deductions_on(self, date: str, fixmedins_code: str) -> list[clearing.Deduction]:
        return [d for _, d in self._scan("deductions", prefix(date, fixmedins_code), clearing.Deduction)]

    def all_flags(self) -> Iterator[Flag]:
        """Every flag ever written, unbounded: for offline checks (tests, benchmarks), never a request."""
        for _, flag in self._scan("flags", b"", Flag, limit=10**12):
            yield flag

    def all_deductions(self) -> Iterator[clearing.Deduction]:
        """Every deduction ever written, unbounded: for offline checks (tests, benchmarks), never a request."""
        for _, deduction in self._scan("deductions", b"", clearing.Deduction, limit=10**12):
            yield deduction

    def stats_rows(self, date: str, limit: int) -> Iterator[tuple[tuple[str, str, str], DayStats]]:
        """((treatment province, insured province, fixmedins_code), stats) of one day."""
        for raw, row in self._scan("stats", prefix(date), DayStats, limit=limit):
            _, treated, insured, fixmedins_code = keys.parts(raw)
            yield (treated, insured, fixmedins_code), row

    def refusal_entry(self, date: str, fixmedins_code: str, request_id: str) -> RefusalEntry | None:
        return self._get("refusal_log", key(date, fixmedins_code, request_id), RefusalEntry)

    def refusal_entries(self) -> Iterator[RefusalEntry]:
        """Every refusal counted, unbounded: for offline checks (tests), never a request."""
        for _, entry in self._scan("refusal_log", b"", RefusalEntry, limit=10**12):
            yield entry


ID_SHARD_SPAN = 100  # more than shards.SHARDS_MAX: an id's number on a shard ends in the shard's two digits


class Sequences:
    """The counters of one write batch (the group-commit writer's): each is read from the store once, handed out in
    memory, and written back once before the batch commits. The ids given are exactly those one counter write per id
    would give: jobs run one after another, and a job that fails gives its numbers back (`rollback`), as its
    aborted nested transaction gives back its writes. Safe across processes: the batch holds LMDB's writer lock
    from the first read to the commit."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._read: dict[str, int] = {}

    def next(self, view: View, name: str) -> int:
        value = self._values.get(name)
        if value is None:
            value = self._read[name] = view.counter(name)
        self._values[name] = value + 1
        return value + 1

    def mark(self) -> dict[str, int]:
        return dict(self._values)

    def rollback(self, mark: dict[str, int]) -> None:
        self._values = mark

    def changed(self) -> dict[str, int]:
        return {name: value for name, value in self._values.items() if value != self._read[name]}


class WriteView(View):
    """Reads and writes inside one write transaction (`sequences`: the batch's counters, when in a batch)."""

    shard_index: int | None = None  # the store is this shard of a sharded deployment (set by Store.write)

    def __init__(self, txn: lmdb.Transaction, dbs: dict[str, Any], sequences: Sequences | None = None, *,
                 shares_reference_cache: bool = False) -> None:
        super().__init__(txn, dbs)
        self.sequences = sequences
        self._reference_changed = False
        # Until this transaction writes reference data, the rows it reads are those of the committed token it reads
        # (the store says whether its write transactions read that token: KeyspaceStore.writes_share_reference_cache),
        # so the settlements computed under the write lock decode no catalog version or policy again.
        self._memoize = shares_reference_cache

    def _reference_written(self) -> None:
        """Reference data changes in this transaction: a new token, so that no process serves a cached row of it;
        this view reads every reference row afresh from now on (rows it read before were the old token's)."""
        self._memoize = False
        if not self._reference_changed:
            self.txn.put(REFERENCE_TOKEN_KEY, new_reference_token(), db=self.dbs["meta"])
            self._reference_changed = True

    def _put(self, space: str, raw_key: bytes, record: Any) -> None:
        self.txn.put(raw_key, codec.encode(record), db=self.dbs[space])

    def next_seq(self, name: str) -> int:
        """A counter that only grows; safe across processes because LMDB serializes writers."""
        if self.sequences is not None:
            return self.sequences.next(self, name)
        value = self.counter(name) + 1
        self.txn.put(key(name), str(value).encode(), db=self.dbs["meta"])
        return value

    def next_id(self, name: str) -> int:
        """The number of a new settlement, stay, filing or flag id: the counter `name`; on a shard, the counter times
        ID_SHARD_SPAN plus the shard's index, so that no two shards ever hand out the same id."""
        value = self.next_seq(name)
        return value if self.shard_index is None else value * ID_SHARD_SPAN + self.shard_index

    def put_counter(self, name: str, value: int) -> None:
        """A batch's counter, written back (Sequences): counters only grow."""
        assert value > self.counter(name), (name, value)
        self.txn.put(key(name), str(value).encode(), db=self.dbs["meta"])

    def put_person(self, person: Person) -> None:
        old = self.person(person.psn_no)
        held = _cert_keys(old) if old is not None else []
        wanted = _cert_keys(person)
        if held != wanted:  # credentials changed (a settlement changes only a balance: no index write)
            for cert_type, cert_no in held:
                self.txn.delete(key(cert_type, cert_no), db=self.dbs["certs"])
            for cert_type, cert_no in wanted:
                self.txn.put(key(cert_type, cert_no), person.psn_no.encode(), db=self.dbs["certs"])
        self._put("persons", key(person.psn_no), person)

    def delete_person(self, psn_no: str) -> None:
        """The person record and its credential index (a person now insured on another shard); what they did here
        (filings, accumulators, settlements) stays as history."""
        old = self.person(psn_no)
        if old is not None:
            for cert_type, cert_no in _cert_keys(old):
                self.txn.delete(key(cert_type, cert_no), db=self.dbs["certs"])
            self.txn.delete(key(psn_no), db=self.dbs["persons"])

    def put_directory_entry(self, entry: DirectoryEntry) -> None:
        self.delete_directory_entry(entry.psn_no)
        self._put("directory", key(DIRECTORY_PERSON, entry.psn_no), entry)
        for cert_type, cert_no in entry.credentials:
            self.txn.put(key(DIRECTORY_CREDENTIAL, cert_type, cert_no), entry.psn_no.encode(), db=self.dbs["directory"])

    def delete_directory_entry(self, psn_no: str) -> None:
        old = self.directory_entry(psn_no)
        if old is not None:
            for cert_type, cert_no in old.credentials:
                self.txn.delete(key(DIRECTORY_CREDENTIAL, cert_type, cert_no), db=self.dbs["directory"])
            self.txn.delete(key(DIRECTORY_PERSON, psn_no), db=self.dbs["directory"])

    def put_institution(self, institution: Institution) -> None:
        self._reference_written()
        self._put("institutions", key(institution.fixmedins_code), institution)

    def put_catalog_item(self, province: str, item: CatalogItem) -> None:
        self._reference_written()
        self.txn.put(catalog_key(province, item.med_list_codg, item.begndate), codec.encode(item),
                      db=self.dbs["catalog"])

    def put_policy(self, policy: Policy) -> None:
        self._reference_written()
        k = key(policy.insuplc_admdvs, policy.insutype, policy.category, policy.psn_type, policy.hosp_lv, policy.begndate)
        self._put("policies", k, policy)

    def put_insured_place(self, place: InsuredPlace) -> None:
        self._reference_written()
        self._put("places", key(place.insuplc_admdvs, place.begndate), place)

    def delete_catalog_item(self, province: str, item: CatalogItem) -> None:
        self._reference_written()
        assert self.txn.delete(catalog_key(province, item.med_list_codg, item.begndate), db=self.dbs["catalog"])

    def delete_policy(self, policy: Policy) -> None:
        self._reference_written()
        k = key(policy.insuplc_admdvs, policy.insutype, policy.category, policy.psn_type, policy.hosp_lv, policy.begndate)
        assert self.txn.delete(k, db=self.dbs["policies"])

    def delete_insured_place(self, place: InsuredPlace) -> None:
        self._reference_written()
        assert self.txn.delete(key(place.insuplc_admdvs, place.begndate), db=self.dbs["places"])

    def put_filing(self, filing: Filing) -> None:
        self._put("filings", key(filing.psn_no, filing.trt_dcla_detl_sn), filing)

    def put_qualification(self, q: ChronicQualification) -> None:
        self._put("quals", key(q.psn_no, q.opsp_dise_code, q.begndate), q)

    def put_accumulator_row(self, psn_no: str, insutype: str, year: int, row: AccumulatorRow) -> None:
        self._put("accumulators", key(psn_no, insutype, str(year)), row)

    def put_settlement(self, setl: Settlement, *, index: bool = True) -> None:
        """Write a settlement. index=True (a new settlement or reversal, never a re-write) also indexes it by day
        and adds it into its month's clearing aggregate, in the same transaction."""
        raw_key, value, db = key(setl.setl_id), codec.encode(setl), self.dbs["settlements"]
        # A new setl_id is the greatest so far (date, then a sequence): appended, the leaf page it lands on is
        # filled before a new one starts. A plain put splits the last page in half each time, and with values of
        # 1.5 KB that left one settlement per 4 KiB page. put(append=True) returns False when the key is not the
        # last (a re-write, or a settlement dated before another's): then it is an ordinary put.
        if not self.txn.put(raw_key, value, append=True, db=db):
            self.txn.put(raw_key, value, db=db)
        if index:
            self.txn.put(key(setl.setl_date, setl.fixmedins_code, setl.setl_id), b"", db=self.dbs["setl_by_day"])
            month = clearing.month_of(setl.setl_date)
            # Settlements are dated today and the clock only moves forward, and only past months close: a closed
            # month never receives one. Defend it: a closed statement must never change.
            assert self.closed_month(month) is None, f"settlement {setl.setl_id} dated in closed month {month}"
            agg_key = key(month, *clearing.pair_of(setl))
            old = self._get("clearing_month", agg_key, clearing.Totals) or clearing.Totals()
            self._put("clearing_month", agg_key, clearing.add(old, clearing.totals_of(setl)))
            for quantity in setl.limited_quantities:  # a reversal's are negative: it gives the quantity back
                self._add_item_day(setl.psn_no, quantity.fee_date, quantity.med_list_codg, quantity.cnt_e4)

    def _add_item_day(self, psn_no: str, fee_date: str, med_list_codg: str, cnt_e4: int) -> None:
        day_key = key(psn_no, fee_date, med_list_codg)
        total_e4 = self.item_day_cnt_e4(psn_no, fee_date, med_list_codg) + cnt_e4
        assert total_e4 >= 0, (psn_no, fee_date, med_list_codg, total_e4)
        if total_e4:
            self.txn.put(day_key, str(total_e4).encode("ascii"), db=self.dbs["item_days"])
        else:
            self.txn.delete(day_key, db=self.dbs["item_days"])

    def put_closed_month(self, closed: ClosedMonth) -> None:
        assert self.closed_month(closed.month) is None, f"{closed.month} is already closed"
        self._put("closed_months", key(closed.month), closed)

    def put_prepaid_fund(self, fund: PrepaidFund) -> None:
        self._put("prepaid_funds", key(fund.insuplc_admdvs, str(fund.year)), fund)

    def put_prepaid_alert(self, alert: PrepaidAlert) -> None:
        self._put("prepaid_alerts", key(alert.insuplc_admdvs, str(alert.year), alert.month), alert)

    def put_stay(self, stay: Stay) -> None:
        self._put("stays", key(stay.mdtrt_id), stay)
        self.txn.put(key(stay.psn_no, stay.begndate, stay.mdtrt_id), b"", db=self.dbs["person_stays"])
        open_key = key(stay.psn_no, stay.mdtrt_id)
        if stay.enddate:
            self.txn.delete(open_key, db=self.dbs["open_stays"])
        else:
            self.txn.put(open_key, b"", db=self.dbs["open_stays"])

    def put_stay_line(self, mdtrt_id: str, line: StayLine) -> None:
        self._put("stay_lines", key(mdtrt_id, line.line.feedetl_sn), line)

    def delete_stay_line(self, mdtrt_id: str, feedetl_sn: str) -> bool:
        return self.txn.delete(key(mdtrt_id, feedetl_sn), db=self.dbs["stay_lines"])

    def put_request(self, caller: str, request_id: str, record: RequestRecord) -> None:
        self._put("requests", key(caller, request_id), record)

    def add_audit(self, entry: AuditEntry) -> None:
        self._put("audit", key(seq(entry.when_ms, 15), seq(self.next_seq("audit"))), entry)

    def put_audit_rule(self, rule: AuditRule) -> None:
        """Write a rule version: reference data, so every process's rule caches reload (a new reference token)."""
        self._reference_written()
        self._put("audit_rules", key(rule.admdvs, rule.role, rule.rule_id, rule.begndate), rule)

    def drop_audit_rules(self) -> None:
        """Every rule gone (benchmarks measure supervision without rules on a copy of a nation)."""
        self._reference_written()
        self.txn.drop(self.dbs["audit_rules"], delete=False)

    def put_person_day(self, psn_no: str, date: str, day: PersonDay) -> None:
        if day.visits:
            self._put("person_days", key(psn_no, date), day)
        else:
            self.txn.delete(key(psn_no, date), db=self.dbs["person_days"])

    def prune_person_days(self, psn_no: str, before_date: str, limit: int) -> int:
        """Delete at most `limit` of the person's day records older than `before_date`; returns how many."""
        cursor = self.txn.cursor(db=self.dbs["person_days"])
        deleted = 0
        start = prefix(psn_no)
        while deleted < limit and cursor.set_range(start) and cursor.key().startswith(start):
            if keys.parts(cursor.key())[-1] >= before_date:
                break
            cursor.delete()
            deleted += 1
        return deleted

    def put_sketch(self, sketch: AmountSketch, kind: str, owner: str, code: str) -> None:
        self.txn.put(_sketch_key(kind, owner, code), codec.encode(sketch), db=self.dbs["sketches"])

    def add_to_sketch(self, kind: str, owner: str, code: str, day: int, amounts_fen: Sequence[int]) -> None:
        """amount_sketch.add on the stored distribution, written back: the same bytes, but only the current slot's
        counts are decoded and encoded again. After 90 days a distribution holds 9 slots (~1.3 KB), and decoding
        them all took ~16 of the ~22 us that each settlement spent on each of the distributions it feeds."""
        raw_key, db = _sketch_key(kind, owner, code), self.dbs["sketches"]
        data = self.txn.get(raw_key, db=db)
        if data is not None and data[0] == codec.LEGACY_MAP:  # an earlier release's record, not yet migrated
            self.put_sketch(amount_sketch.add(_decode_sketch(data), day, amounts_fen), kind, owner, code)
            return
        earlier, current = amount_sketch.kept_slots(_decode_sketch_as_stored(data).slots if data else (), day)
        counts = amount_sketch.counted(_decode_counts(current.counts) if current else {}, amounts_fen)
        slots = (*earlier, SlotAsStored(day0=amount_sketch.slot_start(day), counts=msgspec.Raw(_encode(counts))))
        assert len(slots) <= amount_sketch.SLOTS_KEPT
        self.txn.put(raw_key, codec.encode(SketchAsStored(slots=slots)), db=db)

    def put_flag(self, flag: Flag, *, new: bool) -> None:
        """Write a flag; a new one is also indexed for both provinces, the institution and its settlement."""
        self._put("flags", key(flag.flag_id), flag)
        if new:
            for scope in ((FLAG_INDEX_PROVINCE, flag.mdtrtarea_admvs), (FLAG_INDEX_PROVINCE, flag.insuplc_admdvs),
                          (FLAG_INDEX_INSTITUTION, flag.fixmedins_code)):
                self.txn.put(key(*scope, flag.flag_date, flag.flag_id), b"", db=self.dbs["flag_index"])
            self.txn.put(key(flag.setl_id, flag.flag_id), b"", db=self.dbs["flags_by_setl"])

    def add_deduction(self, deduction: clearing.Deduction) -> None:
        """A deduction (or its give-back) into the ledger and its month's clearing aggregate, in this transaction."""
        tag = GIVE_BACK_TAG if deduction.amount_fen < 0 else DEDUCTION_TAG
        self._put("deductions", key(deduction.date, deduction.fixmedins_code, deduction.flag_id, tag), deduction)
        month = clearing.month_of(deduction.date)
        assert self.closed_month(month) is None, f"deduction {deduction.flag_id} dated in closed month {month}"
        agg_key = key(month, deduction.insuplc_admdvs, deduction.mdtrtarea_admvs)
        old = self._get("clearing_month", agg_key, clearing.Totals) or clearing.Totals()
        self._put("clearing_month", agg_key, clearing.add(old, clearing.totals_of_deduction(deduction)))

    def add_stats(self, date: str, treated: str, insured: str, fixmedins_code: str, delta: DayStats) -> None:
        stats_key = key(date, treated, insured, fixmedins_code)
        old = self._get("stats", stats_key, DayStats) or DayStats()
        self._put("stats", stats_key, supervision_stats.add(old, delta))

    def put_refusal_entry(self, entry: RefusalEntry) -> None:
        self._put("refusal_log", key(entry.date, entry.fixmedins_code, entry.request_id), entry)


def directory_entry_of(person: Person, province: str) -> DirectoryEntry:
    return DirectoryEntry(psn_no=person.psn_no, insuplc_admdvs=province, credentials=tuple(_cert_keys(person)))


def _cert_keys(person: Person) -> list[tuple[str, str]]:
    certs = [(codes.CERT_ID_CARD, person.certno)] if person.certno else []
    if person.card_no:
        certs.append((codes.CERT_SOCIAL_CARD, person.card_no))
    if person.evoucher_token:
        certs.append((codes.CERT_EVOUCHER, person.evoucher_token))
    return certs
