"""`medsettle demo day`: a short scripted day of calls against a running server, so that `medsettle report` has
something to show: visits across provinces (some refused, as real windows see), visits that trip the provinces'
audit rules (duplicate charges, the same drug at two hospitals the same day, frequent visits, an outpatient visit
during a stay, restricted items), a reversal, then the places of treatment review their flags (confirm some with a
deduction, clear the rest) and an insured place raises a 协查请求.

Only public RPCs, as a hospital gateway and the provincial platforms would call them; who the person is and where
they filed is asked of the server (FilingService), institution codes come from the demo nation's fixed layout.
Every request id carries a run tag, so running it twice makes a second day's worth, not replays.

Against a sharded deployment (`--target` Envoy, `--shard-map` the cluster's map) every call about a person names
their insured place (`x-insuplc-admdvs`, which a single host ignores) and the review lists each province's flags
from every shard (cluster/supervision_gather.py), as a gateway and a provincial platform would there.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from medsettle import connect
from medsettle.demo import nation
from medsettle.domain import dates, region
from medsettle.domain.money import format_fen
from medsettle.service.clock import Clock
from medsettle.service.placement import INSURED_PLACE_KEY
from medsettle.v1 import (
    common_pb2,
    filing_pb2,
    filing_pb2_grpc,
    person_pb2,
    reference_data_pb2,
    reference_data_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
    supervision_pb2_grpc,
)
from medsettle.v1 import supervision_pb2 as spb

INSURED_PROVINCES = ("110000", "310000", "320000", "330000", "420000", "440000", "510000", "610000")
POPULAR = ("440000", "310000", "110000", "460000", "330000")
# (item index, quantity): 普通门诊诊查费, 血细胞分析, 阿莫西林胶囊 x2, 二甲双胍片 (nation._BENCH_ITEMS)
PLAIN_VISIT = [(0, 1), (1, 1), (2, 2), (3, 1)]
STAY_LINES = [(0, 10), (1, 20), (6, 60), (7, 60), (8, 10)]  # a few days' care: past most inpatient deductibles
FEMALE_ONLY_ITEM, DAILY_LIMITED_ITEM = 10, 15  # 黄体酮注射液 (women only), 利伐沙班片 (one a day)
CALL_TIMEOUT_S = 10.0


@dataclass
class Tally:
    settled: int = 0
    refused: collections.Counter = field(default_factory=collections.Counter)
    flagged: int = 0
    reversed: int = 0
    confirmed: int = 0
    cleared: int = 0
    deducted_fen: int = 0
    requests: int = 0


OPERATOR = connect.OPERATOR  # reads what a window's tools read: catalog prices, a person's filings


class Callers:
    """One channel per caller, made on first use: each hospital settles as itself, each province reviews as itself
    (over mutual TLS a channel is one certificate). `connect(caller)` makes the channel of "kind:id"."""

    def __init__(self, connect: Callable[[str], grpc.Channel]) -> None:
        self.connect = connect
        self.channels: dict[str, grpc.Channel] = {}

    def __call__(self, caller: str) -> grpc.Channel:
        if caller not in self.channels:
            self.channels[caller] = self.connect(caller)
        return self.channels[caller]

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()


def _about(insuplc_admdvs: str) -> tuple[tuple[str, str], ...]:
    """The metadata of a call about a person insured in `insuplc_admdvs` (routes it on a sharded deployment)."""
    return ((INSURED_PLACE_KEY, region.province_of(insuplc_admdvs)),)


def _about_person(psn_no: str) -> tuple[tuple[str, str], ...]:
    """The metadata of a call about a demo person: their insured province routes it."""
    return _about(nation.insured_province_of(psn_no))


class Day:
    def __init__(self, callers: Callers, persons_per_province: int, tag: str, shards: tuple[str, ...] = ()) -> None:
        self.callers = callers
        self.shards = shards  # a sharded deployment's shards: flags are gathered from each
        operator = callers(OPERATOR)
        self.filings = filing_pb2_grpc.FilingServiceStub(operator)
        self.reference = reference_data_pb2_grpc.ReferenceDataServiceStub(operator)
        self.persons = persons_per_province
        self.tag = tag
        self.today = Clock().today()
        self.tally = Tally()
        self.prices: dict[tuple[str, str], str] = {}
        self.sequence = 0
        self.settled: list[common_pb2.Settlement] = []

    def _settle(self, fixmedins_code: str) -> settlement_pb2_grpc.SettlementServiceStub:
        return settlement_pb2_grpc.SettlementServiceStub(self.callers(f"institution:{fixmedins_code}"))

    def _supervision(self, province: str) -> supervision_pb2_grpc.SupervisionServiceStub:
        return supervision_pb2_grpc.SupervisionServiceStub(self.callers(f"province:{province}"))

    def _request_id(self, fixmedins_code: str) -> str:
        self.sequence += 1
        return f"{fixmedins_code}{self.tag}{self.sequence:06d}"[:40]

    def _price(self, province: str, index: int) -> tuple[str, str]:
        code = nation.item_code(index)
        if (province, code) not in self.prices:
            item = self.reference.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
                mdtrtarea_admvs=province, med_list_codg=code, date=self.today), timeout=CALL_TIMEOUT_S).item
            fen = max(1, min(item.pric_uplmt_amt or 1_000, 8_000))
            self.prices[(province, code)] = f"{fen // 100}.{fen % 100:02d}"
        return code, self.prices[(province, code)]

    def _lines(self, province: str, items: list[tuple[int, int]], date: str = "") -> list[common_pb2.FeeLine]:
        lines = []
        for n, (index, cnt) in enumerate(items):
            code, pric = self._price(province, index)
            pric_fen = int(pric.replace(".", ""))
            lines.append(common_pb2.FeeLine(feedetl_sn=f"{n + 1:04d}", med_list_codg=code, cnt=str(cnt), pric=pric,
                                            det_item_fee_sumamt=pric_fen * cnt, fee_ocur_time=date or self.today))
        return lines

    def visit(self, psn_no: str, fixmedins_code: str, items: list[tuple[int, int]]) -> common_pb2.Settlement | None:
        province = region.province_of(fixmedins_code[1:7])
        lines = self._lines(province, items)
        claim = settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no=psn_no), fixmedins_code=fixmedins_code,
                                               med_type="11", fee_lines=lines, acct_used_flag=True,
                                               medfee_sumamt=sum(x.det_item_fee_sumamt for x in lines))
        self.tally.requests += 1
        try:
            setl = self._settle(fixmedins_code).SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                request_id=self._request_id(fixmedins_code), claim=claim), metadata=_about_person(psn_no),
                timeout=CALL_TIMEOUT_S).settlement
        except grpc.RpcError as error:
            self.tally.refused[error.details().split(":")[0]] += 1
            return None
        self.tally.settled += 1
        self.tally.flagged += sum(1 for step in setl.explanation if step.code == "AUDIT_FLAG")
        self.settled.append(setl)
        return setl

    def stay(self, psn_no: str, fixmedins_code: str, begndate: str, settle: bool) -> str | None:
        province = region.province_of(fixmedins_code[1:7])
        try:
            mdtrt_id = self._settle(fixmedins_code).Admit(settlement_pb2.AdmitRequest(
                request_id=self._request_id(fixmedins_code), person=person_pb2.PersonRef(psn_no=psn_no),
                fixmedins_code=fixmedins_code, med_type="21", begndate=begndate), metadata=_about_person(psn_no),
                timeout=CALL_TIMEOUT_S).mdtrt_id
            self._settle(fixmedins_code).UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
                request_id=self._request_id(fixmedins_code), fixmedins_code=fixmedins_code, mdtrt_id=mdtrt_id,
                fee_lines=self._lines(province, STAY_LINES, begndate)), metadata=_about_person(psn_no),
                timeout=CALL_TIMEOUT_S)
            if settle:
                self.tally.requests += 1
                setl = self._settle(fixmedins_code).SettleInpatient(settlement_pb2.SettleInpatientRequest(
                    request_id=self._request_id(fixmedins_code), fixmedins_code=fixmedins_code, mdtrt_id=mdtrt_id),
                    metadata=_about_person(psn_no), timeout=CALL_TIMEOUT_S).settlement
                self.tally.settled += 1
                self.settled.append(setl)
            return mdtrt_id
        except grpc.RpcError as error:
            self.tally.refused[error.details().split(":")[0]] += 1
            return None

    def where(self, psn_no: str) -> list[str]:
        """Institutions (networked for everything) in the region of the person's latest filing in force today."""
        filings = self.filings.ListFilings(filing_pb2.ListFilingsRequest(psn_no=psn_no),
                                           metadata=_about_person(psn_no),
                                           timeout=CALL_TIMEOUT_S).filings
        live = [f for f in filings if not f.revoked_date and (not f.enddate or f.enddate >= self.today)]
        if not live:
            return []
        target = live[-1].mdtrtarea_admvs
        province = region.province_of(target)
        networked = nation.FULLY_NETWORKED_PER_CITY * len(nation.cities(province))
        found = []
        for serial in range(1, networked + 1):
            admdvs, _ = nation.institution_place(province, serial)
            if target == province or region.city_of(admdvs) == target:
                found.append(nation.institution_code(admdvs, serial))
        return found

    def person(self, k: int, psn_no: str) -> None:
        places = self.where(psn_no)
        common = [(0, 1), (2, 2)]
        if not places:
            if k % 6 == 0:  # no filing in force: the window tries, and is told to file (or file again)
                home = nation.insured_province_of(psn_no)
                fallback = next(p for p in POPULAR[k % len(POPULAR):] + POPULAR if p != home)
                self.visit(psn_no, nation.institution_code(nation.institution_place(fallback, 1)[0], 1), common)
            return
        first, second = places[0], places[min(1, len(places) - 1)]
        scenario = k % 10
        if scenario == 0:  # the same service charged twice in one visit
            self.visit(psn_no, first, [(0, 1), (0, 1), (2, 2)])
        elif scenario == 1 and second != first:  # the same drug at two hospitals the same day
            self.visit(psn_no, first, [(0, 1), (2, 2)])
            self.visit(psn_no, second, [(0, 1), (2, 2)])
        elif scenario == 2:  # frequent visits
            for n in range(7):
                self.visit(psn_no, places[n % len(places)], [(0, 1), (3, 1)])
        elif scenario == 3:  # an item restricted to women
            self.visit(psn_no, first, [(0, 1), (FEMALE_ONLY_ITEM, 1)])
        elif scenario == 4:  # over the daily limit
            self.visit(psn_no, first, [(0, 1), (DAILY_LIMITED_ITEM, 2)])
        elif scenario == 5 and second != first:  # an outpatient visit during a stay, which then settles
            mdtrt_id = self.stay(psn_no, first, dates.add_days(self.today, -3), settle=False)
            if mdtrt_id:
                self.visit(psn_no, second, common)
                self.tally.requests += 1
                try:
                    setl = self._settle(first).SettleInpatient(settlement_pb2.SettleInpatientRequest(
                        request_id=self._request_id(first), fixmedins_code=first, mdtrt_id=mdtrt_id),
                        metadata=_about_person(psn_no), timeout=CALL_TIMEOUT_S).settlement
                    self.tally.settled += 1
                    self.settled.append(setl)
                except grpc.RpcError as error:
                    self.tally.refused[error.details().split(":")[0]] += 1
        elif scenario == 6:  # a reversal: reverse and settle again
            setl = self.visit(psn_no, first, common)
            if setl is not None:
                self._settle(first).ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
                    request_id=self._request_id(first), fixmedins_code=first, setl_id=setl.setl_id),
                    metadata=_about_person(psn_no), timeout=CALL_TIMEOUT_S)
                self.tally.reversed += 1
                self.visit(psn_no, first, [(0, 1)])
        else:
            self.visit(psn_no, first, PLAIN_VISIT)

    def review(self) -> None:
        """Each place of treatment decides today's open flags: every third confirmed with a deduction of a fifth of
        what its settlement cost the funds, the rest cleared. One insured place raises a 协查请求 first."""
        if self.settled:
            setl = self.settled[0]
            insured = region.province_of(setl.insuplc_admdvs)
            self._supervision(insured).RaiseFlag(spb.RaiseFlagRequest(
                request_id=f"Q{self.tag}{self.sequence:06d}", setl_id=setl.setl_id, note="请核查该次就诊的真实性"),
                metadata=_about(insured), timeout=CALL_TIMEOUT_S)
        for n, province in enumerate(region.PROVINCES):
            for m, flag in enumerate(self._open_flags(province)):
                deduct = flag.clearing_amount // 5 if (n + m) % 3 == 0 else 0
                if deduct and self._decide(flag, "CONFIRM", deduct, "经核查确属违规，予以拒付", province):
                    self.tally.confirmed += 1
                    self.tally.deducted_fen += deduct
                elif self._decide(flag, "CLEAR", 0, "经核查属合理诊疗", province):
                    self.tally.cleared += 1

    def _open_flags(self, province: str) -> list[spb.Flag]:
        """Today's open flags of a place of treatment, from every shard when there are shards."""
        asked = spb.ListFlagsRequest(mdtrtarea_admvs=province, status="OPEN", begndate=self.today,
                                     enddate=self.today, limit=1000)
        if not self.shards:
            return list(self._supervision(province).ListFlags(asked, timeout=CALL_TIMEOUT_S).flags)
        from medsettle.cluster import supervision_gather

        return supervision_gather.flags(self.callers(f"province:{province}"), self.shards, asked).flags

    def _decide(self, flag: spb.Flag, decision: str, deduct: int, note: str, province: str) -> bool:
        """One decision; False when the rules refuse it (a deduction on a settlement reversed since)."""
        try:
            self._supervision(province).ReviewFlag(spb.ReviewFlagRequest(
                request_id=f"V{decision[:2]}{self.tag}{flag.flag_id[-8:]}", flag_id=flag.flag_id, decision=decision,
                deduct=deduct, note=note), metadata=_about(flag.insuplc_admdvs), timeout=CALL_TIMEOUT_S)
            return True
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            return False


def run(connect: Callable[[str], grpc.Channel], persons_per_province: int, persons: int,
        shards: tuple[str, ...] = ()) -> Tally:
    """Play the day: `persons` persons of each insured province in INSURED_PROVINCES. `connect("kind:id")` makes a
    channel on which calls are made as that caller (connect.channel_as); `shards`: a sharded deployment's."""
    tag = time.strftime("%H%M%S")
    callers = Callers(connect)
    try:
        day = Day(callers, persons_per_province, tag, shards)
        for province in INSURED_PROVINCES:
            for serial in range(1, min(persons, persons_per_province) + 1):
                day.person(serial, nation.person_no(province, serial))
        day.review()
    finally:
        callers.close()
    return day.tally


def main(args) -> int:
    started = time.perf_counter()
    try:
        shards = ()
        if args.shard_map:
            import pathlib

            from medsettle.domain import shards as shard_maps

            shards = shard_maps.parse(pathlib.Path(args.shard_map).read_bytes()).names
        tally = run(lambda caller: connect.channel_as(args, caller), args.persons_per_province, args.persons, shards)
    except grpc.RpcError as error:
        print(f"the server did not answer as expected: {error.code().name} {error.details()}")
        return 1
    print(f"demo day: {tally.requests} settlement requests in {time.perf_counter() - started:.1f} s")
    print(f"  settled {tally.settled}, refused {sum(tally.refused.values())}, reversed {tally.reversed}")
    for code, count in tally.refused.most_common():
        print(f"    {code:<28} {count:>5}")
    print(f"  flagged {tally.flagged}; reviewed: {tally.confirmed} confirmed with deductions "
          f"({format_fen(tally.deducted_fen)} yuan), {tally.cleared} cleared")
    month = Clock().today()[:7]
    print(f"then: medsettle report --month {month}; medsettle clearing run --month {month}")
    return 0
