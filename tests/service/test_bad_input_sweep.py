"""Bad input, field by field, for every RPC that takes input (the project rule: bad input gets a clear error and
changes nothing).

Each case takes a valid request of one RPC, breaks one field (empty, too long, outside the allowed characters, a
trailing newline, a NUL byte, other scripts' digits, negative or huge numbers, unknown code-table values and regions,
malformed dates and decimals, repeated fields over their limits) and checks that the answer is the stable reason with
that field (or fee line) named, a zh-CN message and an English one, and that the store is byte for byte what it was.

One real in-process server (the same build as conftest's `served`) and the hand-made nation of tests/world.py serve the
whole module, so that more than two thousand cases stay fast; the few valid calls the cases need (an open stay, a
settlement, a prepaid fund) are made once, at the start. Oversized repeated fields are sent against lowered limits
(app.limits for the one call): the same check, a few records instead of fifty thousand.

CASES are what the core already refused as it should; DEFECTS, one block per defect, what this sweep found wrong (each
block failed before the commit that fixed it). A hypothesis test then puts arbitrary values into every field of the
requests that write nothing, and the last test shows the valid requests the cases start from go through.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsettle.service import clearing as clearing_module
from medsettle.service import convert
from medsettle.service.app import App
from medsettle.service.clock import FixedClock
from medsettle.store.env import Store, StoreConfig
from medsettle.store.writer import GroupCommitWriter
from medsettle.v1 import clearing_pb2 as cpb
from medsettle.v1 import (
    clearing_pb2_grpc,
    common_pb2,
    filing_pb2,
    filing_pb2_grpc,
    person_pb2,
    person_pb2_grpc,
    reference_data_pb2,
    reference_data_pb2_grpc,
    settlement_pb2,
    settlement_pb2_grpc,
    supervision_pb2_grpc,
)
from medsettle.v1 import supervision_pb2 as spb
from tests import world
from tests.conftest import TEST_MAP_SIZE_BYTES, Running
from tests.digest import snapshot
from tests.service.test_reference_data import catalog_item, policy_pb
from tests.service.test_settlements import claim, line

# Supervision decides from the caller: the place of treatment of the world's hospitals, and (for 协查请求) the insured
# place of its persons.
SUPERVISION_AS = "province:440000"
INSURED_AS = "province:110000"
GZ = world.GZ_HOSPITAL
TODAY = world.TODAY  # the fixed clock below stands on this day


# -- the server, the store and what the cases need -----------------------------------------------------------------


# The whole sweep runs on LMDB; on PostgreSQL one case in POSTGRESQL_SAMPLE_EVERY and the first of every RPC. Why not
# all 2,600 twice: a case is decided by the servicer before any write (the same code on both backends), and its
# "changes nothing" check reads the whole store twice, a few milliseconds on LMDB and some 100 queries on PostgreSQL
# (about a minute more per Python the suite runs on). Refusals found inside the writer's transaction, where the
# backends differ (a job's nested transaction rolled back), are checked on both by the parametrized service tests.
POSTGRESQL_SAMPLE_EVERY = 10


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A served LMDB store with the world, an open stay with one line, and an outpatient settlement."""
    store = Store(StoreConfig(path=str(tmp_path_factory.mktemp("sweep") / "data"), map_size_bytes=TEST_MAP_SIZE_BYTES))
    yield from _served_sweep(store)


@pytest.fixture(scope="module")
def sweep_postgresql(postgres_server):
    """The same over a PostgreSQL store."""
    from medsettle.store.postgres import PgConfig, PgStore
    from tests.conftest import new_postgres_location

    yield from _served_sweep(PgStore(PgConfig(conninfo=new_postgres_location(postgres_server))))


def _served_sweep(store):
    from medsettle.server import start

    with store.write() as view:
        world.build(view)
    writer = GroupCommitWriter(store)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = App(store=store, writer=writer, clock=FixedClock.at(f"{TODAY}T10:00:00"))

    server, _, port = loop.run_until_complete(start(app, "127.0.0.1:0", so_reuseport=False))
    served = Running(app, loop, server, port)
    settlements = settlement_pb2_grpc.SettlementServiceStub(served.as_(f"institution:{GZ}"))
    mdtrt_id = served.run(settlements.Admit(settlement_pb2.AdmitRequest(
        request_id="SETUP-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=GZ, med_type="21",
        begndate="2026-03-01"))).mdtrt_id
    served.run(settlements.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="SETUP-2", fixmedins_code=GZ, mdtrt_id=mdtrt_id, fee_lines=[line("1", "XA001", "1", "100", 10_000)])))
    setl_id = served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="SETUP-3", claim=claim("P001", GZ, [line("1", "XA001", "1", "10", 1_000)])))).settlement.setl_id
    served.run(clearing_pb2_grpc.ClearingServiceStub(served.channel).SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="SETUP-4", insuplc_admdvs="110000", year=2026, balance=1_000_000)))
    flag_id = served.run(supervision_pb2_grpc.SupervisionServiceStub(served.as_(INSURED_AS)).RaiseFlag(
        spb.RaiseFlagRequest(request_id="SETUP-5", setl_id=setl_id, note="请核查"))).flag.flag_id
    served.ctx = {"mdtrt_id": mdtrt_id, "setl_id": setl_id, "flag_id": flag_id}
    served.store = store
    yield served
    served.close()
    asyncio.set_event_loop(None)
    loop.close()
    writer.close()
    store.close()


STUBS = {
    "PersonService": person_pb2_grpc.PersonServiceStub,
    "FilingService": filing_pb2_grpc.FilingServiceStub,
    "SettlementService": settlement_pb2_grpc.SettlementServiceStub,
    "ReferenceDataService": reference_data_pb2_grpc.ReferenceDataServiceStub,
    "ClearingService": clearing_pb2_grpc.ClearingServiceStub,
    "SupervisionService": supervision_pb2_grpc.SupervisionServiceStub,
}


# -- valid requests, one per RPC; each case breaks one field of one of them ---------------------------------------

FEE_LINE = dict(feedetl_sn="1", med_list_codg="XA001", cnt="2", pric="100.00", det_item_fee_sumamt=20_000,
                fee_ocur_time=TODAY)


def _claim() -> settlement_pb2.OutpatientClaim:
    return settlement_pb2.OutpatientClaim(person=person_pb2.PersonRef(psn_no="P001"), insutype="310", fixmedins_code=GZ,
                                          med_type="11", dise_codg="I10", ipt_otp_no="MZ0001",
                                          fee_lines=[common_pb2.FeeLine(**FEE_LINE)], medfee_sumamt=20_000)


def _person() -> reference_data_pb2.Person:
    return reference_data_pb2.Person(
        psn_no="P900", psn_name="孙丽", gend="2", brdy="1975-07-07", certno="440106197507071234", card_no="C900",
        card_sn="SN900", evoucher_token="EV900", insuinfo=[reference_data_pb2.InsuranceInfo(
            insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="440106", balc=0)])


def _place() -> reference_data_pb2.InsuredPlace:
    return reference_data_pb2.InsuredPlace(insuplc_admdvs="120000", begndate="2026-07-01", open_med_types=["11", "21"],
                                           open_dise_codes=["M03900"], tmp_filing_months=6, longterm_lock_months=6)


def _institution() -> reference_data_pb2.Institution:
    return reference_data_pb2.Institution(fixmedins_code="H44010600099", fixmedins_name="新医院", admdvs="440106",
                                          hosp_lv="1", networked_outpatient=True)


def _restricted_item() -> reference_data_pb2.CatalogItem:
    return catalog_item("SWR01", lmt_used_flag=True, lmt_sex="2", lmt_age_min=18, lmt_age_max=60, lmt_setting="1",
                        lmt_dise_codes=["I10"], lmt_cnt_per_day="3")


BASE: dict[str, Callable[[dict], Message]] = {
    # PersonService
    "GetPerson": lambda ctx: person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P001")),
    "CheckBenefit": lambda ctx: person_pb2.CheckBenefitRequest(
        person=person_pb2.PersonRef(psn_no="P001"), insutype="310", fixmedins_code=GZ, med_type="11", date=TODAY),
    "GetAccumulators": lambda ctx: person_pb2.GetAccumulatorsRequest(psn_no="P001", insutype="310", year=2026),
    "FindInsuredPlace": lambda ctx: person_pb2.FindInsuredPlaceRequest(person=person_pb2.PersonRef(psn_no="P001")),
    # FilingService
    "CreateFiling": lambda ctx: filing_pb2.CreateFilingRequest(
        psn_no="P002", insutype="390", mdtrtarea_admvs="310000", category="23", begndate=TODAY, enddate="2026-12-31"),
    "RevokeFiling": lambda ctx: filing_pb2.RevokeFilingRequest(psn_no="P002", trt_dcla_detl_sn="F002"),
    "ListFilings": lambda ctx: filing_pb2.ListFilingsRequest(psn_no="P001"),
    "CreateReferralFiling": lambda ctx: filing_pb2.CreateReferralFilingRequest(
        fixmedins_code=world.BJ_REFERRING, psn_no="P005", insutype="310", reflin_medins_no=GZ, dise_codg="I10",
        begndate=TODAY),
    "RevokeReferralFiling": lambda ctx: filing_pb2.RevokeReferralFilingRequest(
        fixmedins_code=world.BJ_REFERRING, psn_no="P005", trt_dcla_detl_sn="F005"),
    "CreateChronicQualification": lambda ctx: filing_pb2.CreateChronicQualificationRequest(
        psn_no="P001", insutype="310", opsp_dise_code="M01600", begndate=TODAY, enddate="2026-12-31"),
    "RevokeChronicQualification": lambda ctx: filing_pb2.RevokeChronicQualificationRequest(
        psn_no="P001", opsp_dise_code="M03900"),
    "ListChronicQualifications": lambda ctx: filing_pb2.ListChronicQualificationsRequest(psn_no="P001"),
    # SettlementService
    "PreSettleOutpatient": lambda ctx: settlement_pb2.PreSettleOutpatientRequest(claim=_claim()),
    "SettleOutpatient": lambda ctx: settlement_pb2.SettleOutpatientRequest(claim=_claim()),
    "Admit": lambda ctx: settlement_pb2.AdmitRequest(
        person=person_pb2.PersonRef(psn_no="P001"), insutype="310", fixmedins_code=GZ, med_type="21",
        begndate="2026-03-01", dise_codg="I10", ipt_otp_no="ZY0001"),
    "UploadInpatientFees": lambda ctx: settlement_pb2.UploadInpatientFeesRequest(
        fixmedins_code=GZ, mdtrt_id=ctx["mdtrt_id"], fee_lines=[common_pb2.FeeLine(**{**FEE_LINE, "feedetl_sn": "2"})]),
    "CancelInpatientFees": lambda ctx: settlement_pb2.CancelInpatientFeesRequest(
        fixmedins_code=GZ, mdtrt_id=ctx["mdtrt_id"], feedetl_sn=["1"]),
    "PreSettleInpatient": lambda ctx: settlement_pb2.PreSettleInpatientRequest(
        fixmedins_code=GZ, mdtrt_id=ctx["mdtrt_id"], medfee_sumamt=10_000),
    "SettleInpatient": lambda ctx: settlement_pb2.SettleInpatientRequest(
        fixmedins_code=GZ, mdtrt_id=ctx["mdtrt_id"], medfee_sumamt=10_000),
    "Discharge": lambda ctx: settlement_pb2.DischargeRequest(fixmedins_code=GZ, mdtrt_id=ctx["mdtrt_id"], enddate=TODAY),
    "ReverseSettlement": lambda ctx: settlement_pb2.ReverseSettlementRequest(fixmedins_code=GZ, setl_id=ctx["setl_id"]),
    "ReverseByRequestId": lambda ctx: settlement_pb2.ReverseByRequestIdRequest(
        fixmedins_code=GZ, original_request_id="SETUP-3"),
    "GetSettlement": lambda ctx: settlement_pb2.GetSettlementRequest(fixmedins_code=GZ, setl_id=ctx["setl_id"]),
    # ReferenceDataService
    "PutCatalogItems": lambda ctx: reference_data_pb2.PutCatalogItemsRequest(
        mdtrtarea_admvs="440000", items=[catalog_item("SWP01"), _restricted_item()]),
    "PutPolicies": lambda ctx: reference_data_pb2.PutPoliciesRequest(policies=[policy_pb()], insured_places=[_place()]),
    "PutInstitutions": lambda ctx: reference_data_pb2.PutInstitutionsRequest(institutions=[_institution()]),
    "PutPersons": lambda ctx: reference_data_pb2.PutPersonsRequest(persons=[_person()]),
    "GetCatalogItem": lambda ctx: reference_data_pb2.GetCatalogItemRequest(
        mdtrtarea_admvs="440106", med_list_codg="XA001", date=TODAY),
    "GetPolicy": lambda ctx: reference_data_pb2.GetPolicyRequest(
        insuplc_admdvs="110105", insutype="310", category="1", psn_type="11", hosp_lv="3", date=TODAY),
    "WithdrawVersion": lambda ctx: reference_data_pb2.WithdrawVersionRequest(  # the version PutPolicies adds
        policy=reference_data_pb2.PolicyKey(insuplc_admdvs=world.BJ, insutype="310", category="1", psn_type="11",
                                            hosp_lv="3"), begndate="2026-07-01", reason="起付线录入有误 dedc mistyped"),
    "ListAuditEntries": lambda ctx: reference_data_pb2.ListAuditEntriesRequest(
        since=timestamp_pb2.Timestamp(seconds=1_700_000_000), limit=10, method="PutPolicies"),
    # ClearingService
    "GetClearingStatement": lambda ctx: cpb.GetClearingStatementRequest(month="2026-02"),
    "CloseMonth": lambda ctx: cpb.CloseMonthRequest(month="2026-02"),
    "GetPrepaidFund": lambda ctx: cpb.GetPrepaidFundRequest(insuplc_admdvs="110000", year=2026),
    "SetPrepaidFund": lambda ctx: cpb.SetPrepaidFundRequest(insuplc_admdvs="110000", year=2026, balance=1_000_000,
                                                            warn_threshold=7000),
    "TopUpPrepaidFund": lambda ctx: cpb.TopUpPrepaidFundRequest(insuplc_admdvs="110000", year=2026, amount=1_000),
    "ListPrepaidAlerts": lambda ctx: cpb.ListPrepaidAlertsRequest(insuplc_admdvs="110000"),
    "ReconcileTotals": lambda ctx: cpb.ReconcileTotalsRequest(
        fixmedins_code=GZ, begndate="2026-03-01", enddate=TODAY, clr_type="11", setl_cnt=1, medfee_sumamt=1_000),
    "ReconcileDetail": lambda ctx: cpb.ReconcileDetailRequest(
        fixmedins_code=GZ, begndate="2026-03-01", enddate=TODAY,
        items=[cpb.ReconcileItem(setl_id=ctx["setl_id"], medfee_sumamt=1_000)]),
    # SupervisionService
    "PutAuditRules": lambda ctx: spb.PutAuditRulesRequest(rules=[spb.AuditRule(
        rule_id="44-SWP", admdvs="440000", role="1", kind="VISIT_FREQUENCY", severity="FLAG", name="频繁门诊",
        begndate=TODAY, med_types=["11"], visits_max=5, days=7)]),
    "ListAuditRules": lambda ctx: spb.ListAuditRulesRequest(admdvs="440000", role="1", date=TODAY),
    "ListFlags": lambda ctx: spb.ListFlagsRequest(mdtrtarea_admvs="440000", insuplc_admdvs="110000", fixmedins_code=GZ,
                                                  rule_id="REQUEST", status="OPEN", begndate="2026-03-01",
                                                  enddate=TODAY, limit=10),
    "GetFlag": lambda ctx: spb.GetFlagRequest(flag_id=ctx.get("flag_id", "G20260302000000000001")),
    "RaiseFlag": lambda ctx: spb.RaiseFlagRequest(setl_id=ctx["setl_id"], note="请核查该次门诊"),
    "ReviewFlag": lambda ctx: spb.ReviewFlagRequest(flag_id=ctx.get("flag_id", "G20260302000000000001"),
                                                    decision="CONFIRM", deduct=0, note="经核查"),
    "GetSupervisionStats": lambda ctx: spb.GetSupervisionStatsRequest(
        begndate="2026-03-01", enddate=TODAY, mdtrtarea_admvs="440000", insuplc_admdvs="110000", fixmedins_code=GZ,
        institutions_limit=10),
}

SERVICE_OF = {
    **dict.fromkeys(["GetPerson", "CheckBenefit", "GetAccumulators", "FindInsuredPlace"], "PersonService"),
    **dict.fromkeys(["CreateFiling", "RevokeFiling", "ListFilings", "CreateReferralFiling", "RevokeReferralFiling",
                     "CreateChronicQualification", "RevokeChronicQualification", "ListChronicQualifications"],
                    "FilingService"),
    **dict.fromkeys(["PreSettleOutpatient", "SettleOutpatient", "Admit", "UploadInpatientFees", "CancelInpatientFees",
                     "PreSettleInpatient", "SettleInpatient", "Discharge", "ReverseSettlement", "ReverseByRequestId",
                     "GetSettlement"], "SettlementService"),
    **dict.fromkeys(["PutCatalogItems", "PutPolicies", "PutInstitutions", "PutPersons", "WithdrawVersion",
                     "GetCatalogItem", "GetPolicy", "ListAuditEntries"], "ReferenceDataService"),
    **dict.fromkeys(["GetClearingStatement", "CloseMonth", "GetPrepaidFund", "SetPrepaidFund", "TopUpPrepaidFund",
                     "ListPrepaidAlerts", "ReconcileTotals", "ReconcileDetail"], "ClearingService"),
    **dict.fromkeys(["PutAuditRules", "ListAuditRules", "ListFlags", "GetFlag", "RaiseFlag", "ReviewFlag",
                     "GetSupervisionStats"], "SupervisionService"),
}
assert set(SERVICE_OF) == set(BASE)


def _set(message: Message, path: str, value) -> None:
    """Set a field by its path in the request, e.g. "claim.fee_lines[0].cnt" or "feedetl_sn[0]"."""
    *parents, last = path.split(".")
    for part in parents:
        name, index = _indexed(part)
        message = getattr(message, name) if index is None else getattr(message, name)[index]
    name, index = _indexed(last)
    if index is None:
        setattr(message, name, value)
    else:
        getattr(message, name)[index] = value


def _indexed(part: str) -> tuple[str, int | None]:
    found = re.fullmatch(r"(\w+)\[(\d+)\]", part)
    return (part, None) if found is None else (found.group(1), int(found.group(2)))


# -- cases ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    rpc: str
    label: str
    build: Callable[[dict], Message]
    reason: str
    field: str  # the field the refusal must name ("" = it must name a fee line instead)
    status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT
    feedetl_sn: str = ""
    limits: tuple[tuple[str, int], ...] = ()  # app.limits overrides for this case

    @property
    def id(self) -> str:
        return f"{self.rpc}-{self.label}"


def _mutated(rpc: str, edits: tuple[tuple[str, object], ...]) -> Callable[[dict], Message]:
    def build(ctx: dict) -> Message:
        request = BASE[rpc](ctx)
        for path, value in (*edits[1:], edits[0]):  # the `also` edits first: they may add what the path names
            if callable(value):
                value(request)
            else:
                _set(request, path, value)
        return request

    return build


def bad(rpc: str, path: str, values, reason: str = "INVALID_ARGUMENT", field: str | None = None, *,
        also: tuple = (), tag: str = "", **kwargs) -> list[Case]:
    """One case per (label, value): `path` of the valid request set to value (after the `also` edits)."""
    return [Case(rpc, f"{path}={label}{tag}", _mutated(rpc, ((path, value), *also)), reason,
                 path if field is None else field, **kwargs) for label, value in values]


def one(rpc: str, label: str, edit: Callable[[Message], None], reason: str, field: str, **kwargs) -> Case:
    return Case(rpc, label, _mutated(rpc, (("", edit),)), reason, field, **kwargs)


_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def codes(*, required: bool = True) -> list[tuple[str, str]]:
    """Free codes: 1-40 of [0-9A-Za-z._-]."""
    values = [("too_long", "X" * 41), ("space", "X 1"), ("newline", "X1\n"), ("leading_newline", "\nX1"),
              ("nul", "X\x001"), ("tab", "X\t1"), ("arabic_digit", "٢"), ("cjk", "患者"), ("slash", "X/1")]
    return ([("empty", "")] if required else []) + values


def table(valid: str, unknown: str, *, required: bool = True) -> list[tuple[str, str]]:
    """Code-table values."""
    values = [("unknown", unknown), ("newline", valid + "\n"), ("nul", valid + "\x00"), ("space", " " + valid),
              ("arabic", valid.translate(_ARABIC)), ("fullwidth", valid.translate(_FULLWIDTH)), ("too_long", "1" * 41)]
    values = [(label, value) for label, value in values if value != valid]
    return ([("empty", "")] if required else []) + values


REGIONS = [("empty", ""), ("unknown", "990000"), ("five_digits", "44000"), ("seven_digits", "4400000"),
           ("newline", "440000\n"), ("arabic", "٤٤٠٠٠٠"), ("letter", "44O000"), ("nul", "44000\x00"),
           ("space", " 44000")]


def dates(*, required: bool = True) -> list[tuple[str, str]]:
    values = [("feb30", "2026-02-30"), ("unpadded", "2026-3-1"), ("with_time", "2026-03-01T00:00"),
              ("newline", "2026-03-01\n"), ("arabic", "٢٠٢٦-٠٣-٠١"), ("compact", "20260301"),
              ("trailing_space", "2026-03-01 "), ("before_1900", "1899-12-31"), ("after_2199", "2200-01-01"),
              ("month13", "2026-13-01"), ("day0", "2026-03-00"), ("nul", "2026-03-01\x00"), ("slashes", "2026/03/01")]
    return ([("empty", "")] if required else []) + values


def decimals(places: int) -> list[tuple[str, str]]:
    return [("exponent", "1e3"), ("negative", "-1"), ("leading_space", " 1"), ("trailing_dot", "1."),
            ("leading_dot", ".5"), ("plus", "+1"), ("comma", "1,5"), ("nan", "NaN"), ("inf", "Infinity"),
            ("arabic", "١"), ("fullwidth", "１"), ("underscore", "1_000"), ("empty", ""), ("newline", "1\n"),
            ("hex", "0x10"), ("too_many_places", "1." + "0" * places + "1"), ("too_long", "1" * 41)]


AMOUNTS = [("negative", -1), ("over_max", convert.AMOUNT_FEN_MAX + 1), ("int64_max", 2**63 - 1), ("int64_min", -2**63)]
RATIOS = [("negative", -1), ("over_10000", 10_001), ("int32_max", 2**31 - 1)]
REQUEST_IDS = [("empty", ""), ("too_long", "R" * 41), ("space", "R 1"), ("newline", "R1\n"), ("nul", "R\x001"),
               ("arabic_digit", "R٢"), ("cjk", "冲正")]
MONTHS = [("empty", ""), ("unpadded", "2026-2"), ("month13", "2026-13"), ("month0", "2026-00"),
          ("newline", "2026-02\n"), ("arabic", "٢٠٢٦-٠٢"), ("a_date", "2026-02-01"), ("before_1900", "1899-12"),
          ("after_2199", "2200-01"), ("nul", "2026-02\x00")]
NAMES_BAD = [("nul", "名\x00字"), ("newline", "名字\n"), ("too_long", "名" * 201)]

MUTATING = {rpc for rpc, build in BASE.items() if "request_id" in build({"mdtrt_id": "M", "setl_id": "S"}).DESCRIPTOR.fields_by_name}


def person_ref(rpc: str, at: str, field: str) -> list[Case]:
    """A PersonRef at `at` in the request; refusals name `field`.<part>."""
    by_cert = lambda cert_type, no="110105196005011234": (  # noqa: E731
        (f"{at}.psn_no", ""), (f"{at}.mdtrt_cert_type", cert_type), (f"{at}.mdtrt_cert_no", no))
    return [
        *bad(rpc, f"{at}.psn_no", codes(required=False), field=f"{field}.psn_no"),
        *bad(rpc, f"{at}.psn_no", [("unknown", "P999")], "PERSON_NOT_FOUND", f"{field}.psn_no",
             status=grpc.StatusCode.NOT_FOUND),
        # by credential: the type is a code-table value, the number a code
        *bad(rpc, f"{at}.mdtrt_cert_type", table("02", "04"), field=f"{field}.mdtrt_cert_type", also=by_cert("02")[:1]),
        *bad(rpc, f"{at}.mdtrt_cert_no", codes(), field=f"{field}.mdtrt_cert_no", also=by_cert("02")[:2]),
        *bad(rpc, f"{at}.mdtrt_cert_no", [("unknown", "110105196005019999")], "PERSON_NOT_FOUND",
             f"{field}.mdtrt_cert_no", status=grpc.StatusCode.NOT_FOUND, also=by_cert("02")[:2]),
        *bad(rpc, f"{at}.card_sn", [("wrong", "SN999"), ("newline", "SN001\n"), ("nul", "SN001\x00")],
             field=f"{field}.card_sn", also=by_cert("03", "C001")),
    ]


def fee_lines(rpc: str, at: str) -> list[Case]:
    """The shape of the fee lines at `at` of a request that carries them."""
    first = f"{at}[0]"
    two_lines = lambda request: _lines_of(request, at).append(_lines_of(request, at)[0])  # noqa: E731
    too_many = lambda request: _lines_of(request, at).extend(  # noqa: E731
        common_pb2.FeeLine(**{**FEE_LINE, "feedetl_sn": f"L{n}"}) for n in range(3))
    return _lines_total_kept([
        *bad(rpc, f"{first}.feedetl_sn", codes()),
        *bad(rpc, f"{first}.med_list_codg", codes()),
        *bad(rpc, f"{first}.cnt", decimals(convert.CNT_PLACES)),
        *bad(rpc, f"{first}.pric", decimals(convert.PRIC_PLACES)),
        *bad(rpc, f"{first}.det_item_fee_sumamt", AMOUNTS),
        *bad(rpc, f"{first}.fee_ocur_time", dates()),
        one(rpc, "fee_lines=empty", lambda request: _lines_of(request, at).__delitem__(slice(None)), "INVALID_ARGUMENT",
            at),
        one(rpc, "fee_lines=duplicate_sn", two_lines, "INVALID_ARGUMENT", f"{at}[1].feedetl_sn"),
        one(rpc, "fee_lines=over_limit", too_many, "LINES_LIMIT", at, limits=(("fee_lines_per_request_max", 3),)),
    ])


def lines_against_catalog(rpc: str, at: str, line_field: Callable[[str], str], sn: str) -> list[Case]:
    """Well-formed lines the catalog of the place of treatment refuses: the line is named."""
    first = f"{at}[0]"
    return _lines_total_kept([
        *bad(rpc, f"{first}.med_list_codg", [("unknown_item", "NOPE1")], "UNKNOWN_CATALOG_ITEM",
             line_field("med_list_codg"), feedetl_sn=sn),
        *bad(rpc, f"{first}.fee_ocur_time", [("before_item_begins", "2024-12-31")], "UNKNOWN_CATALOG_ITEM",
             line_field("med_list_codg"), feedetl_sn=sn),
        *bad(rpc, f"{first}.det_item_fee_sumamt", [("not_cnt_x_pric", 20_001)], "AMOUNT_INCONSISTENT",
             line_field("det_item_fee_sumamt"), feedetl_sn=sn),
        *bad(rpc, f"{first}.cnt", [("zero", "0")], "AMOUNT_INCONSISTENT", line_field("det_item_fee_sumamt"),
             feedetl_sn=sn, also=((f"{first}.det_item_fee_sumamt", 0),)),
    ])


def _lines_total_kept(cases: list[Case]) -> list[Case]:
    """An outpatient claim's medfee_sumamt kept the sum of its lines, so that only the broken field is wrong."""
    return [_then(case, _sum_total) if case.rpc in ("PreSettleOutpatient", "SettleOutpatient") else case
            for case in cases]


def _sum_total(request: Message) -> None:
    total = sum(each.det_item_fee_sumamt for each in request.claim.fee_lines)
    request.claim.medfee_sumamt = max(-2**63, min(2**63 - 1, total))


def _then(case: Case, edit: Callable[[Message], None]) -> Case:
    def build(ctx: dict) -> Message:
        request = case.build(ctx)
        edit(request)
        return request

    return dataclasses.replace(case, build=build)


def _lines_of(request: Message, at: str):
    message = request
    for part in at.split("."):
        message = getattr(message, part)
    return message


def request_ids(rpc: str) -> list[Case]:
    return bad(rpc, "request_id", REQUEST_IDS)


OUTPATIENT = ("PreSettleOutpatient", "SettleOutpatient")
INPATIENT = ("PreSettleInpatient", "SettleInpatient")
PERSON_REFS = (("GetPerson", "person"), ("CheckBenefit", "person"), ("Admit", "person"), ("FindInsuredPlace", "person"),
               ("PreSettleOutpatient", "claim.person"), ("SettleOutpatient", "claim.person"))

# What the core already refused as it should: the right reason, the field named, nothing written.
CASES: list[Case] = [
    # -- PersonService --------------------------------------------------------------------------------------------
    *[case for rpc, at in PERSON_REFS for case in person_ref(rpc, at, at)],
    *bad("CheckBenefit", "insutype", table("310", "320", required=False)),
    *bad("CheckBenefit", "fixmedins_code", codes()),
    *bad("CheckBenefit", "med_type", table("11", "12")),
    *bad("CheckBenefit", "date", dates(required=False)),
    *bad("CheckBenefit", "dise_codg", codes(required=False)),
    *bad("CheckBenefit", "dise_codg", [("missing_for_chronic", "")], also=(("med_type", "14"),)),
    *bad("GetAccumulators", "insutype", table("310", "320", required=False)),
    one("GetAccumulators", "person_and_psn_no", lambda r: r.person.CopyFrom(person_pb2.PersonRef(
        mdtrt_cert_type="02", mdtrt_cert_no="110105196005011234")), "INVALID_ARGUMENT", "person"),
    *bad("GetAccumulators", "year", [("negative", -1), ("1989", 1989), ("2200", 2200), ("int32_max", 2**31 - 1)]),
    # -- FilingService --------------------------------------------------------------------------------------------
    *request_ids("CreateFiling"),
    *bad("CreateFiling", "psn_no", codes()),
    *bad("CreateFiling", "insutype", table("390", "320", required=False)),
    *bad("CreateFiling", "mdtrtarea_admvs", REGIONS, "UNKNOWN_REGION"),
    *bad("CreateFiling", "mdtrtarea_admvs", [("district", "310101")]),
    *bad("CreateFiling", "mdtrtarea_admvs", [("insured_province", "110000")], "NOT_CROSS_PROVINCE"),
    *bad("CreateFiling", "category", table("23", "24")),
    *bad("CreateFiling", "begndate", dates(required=False)),
    *bad("CreateFiling", "begndate", [("yesterday", "2026-03-01")]),
    *bad("CreateFiling", "enddate", dates(required=False)),
    *bad("CreateFiling", "enddate", [("before_begndate", "2026-03-01"), ("under_6_months", "2026-06-30")]),
    *bad("CreateFiling", "reflin_medins_no", codes(required=False)),
    *bad("CreateFiling", "reflin_medins_no", [("missing_for_referral", "")], also=(("category", "21"),)),
    *request_ids("RevokeFiling"),
    *bad("RevokeFiling", "psn_no", codes()),
    *bad("RevokeFiling", "trt_dcla_detl_sn", codes()),
    *request_ids("CreateReferralFiling"),
    *bad("CreateReferralFiling", "fixmedins_code", codes()),
    *bad("CreateReferralFiling", "psn_no", codes()),
    *bad("CreateReferralFiling", "insutype", table("310", "320", required=False)),
    *bad("CreateReferralFiling", "reflin_medins_no", codes()),
    *bad("CreateReferralFiling", "begndate", dates(required=False)),
    *bad("CreateReferralFiling", "enddate", dates(required=False)),
    *request_ids("RevokeReferralFiling"),
    *bad("RevokeReferralFiling", "fixmedins_code", codes()),
    *bad("RevokeReferralFiling", "psn_no", codes()),
    *bad("RevokeReferralFiling", "trt_dcla_detl_sn", codes()),
    *request_ids("CreateChronicQualification"),
    *bad("CreateChronicQualification", "psn_no", codes()),
    *bad("CreateChronicQualification", "insutype", table("310", "320", required=False)),
    *bad("CreateChronicQualification", "opsp_dise_code",
         [*codes(), ("lower_case", "m01600"), ("short", "M0160"), ("disease_newline", "M01600\n"), ("arabic", "M٠١٦٠٠")]),
    *bad("CreateChronicQualification", "begndate", dates(required=False)),
    *bad("CreateChronicQualification", "enddate", dates(required=False)),
    *bad("CreateChronicQualification", "enddate", [("before_begndate", "2026-03-01")]),
    *request_ids("RevokeChronicQualification"),
    *bad("RevokeChronicQualification", "psn_no", codes()),
    *bad("RevokeChronicQualification", "opsp_dise_code", codes()),
    # -- SettlementService ----------------------------------------------------------------------------------------
    *[case for rpc in OUTPATIENT for case in [
        *bad(rpc, "claim.insutype", table("310", "320", required=False)),
        *bad(rpc, "claim.fixmedins_code", codes()),
        *bad(rpc, "claim.med_type", [*table("11", "12"), ("inpatient", "21")]),
        *bad(rpc, "claim.dise_codg", codes(required=False)),
        *bad(rpc, "claim.dise_codg", [("missing_for_chronic", "")], also=(("claim.med_type", "14"),)),
        *bad(rpc, "claim.medfee_sumamt", AMOUNTS[:2]),
        *fee_lines(rpc, "claim.fee_lines"),
    ]],
    *request_ids("SettleOutpatient"),
    *request_ids("Admit"),
    *bad("Admit", "insutype", table("310", "320", required=False)),
    *bad("Admit", "fixmedins_code", codes()),
    *bad("Admit", "med_type", [*table("21", "22"), ("outpatient", "11")]),
    *bad("Admit", "begndate", [*dates(required=False), ("tomorrow", "2026-03-03")]),
    *bad("Admit", "dise_codg", codes(required=False)),
    *request_ids("UploadInpatientFees"),
    *bad("UploadInpatientFees", "fixmedins_code", codes()),
    *bad("UploadInpatientFees", "mdtrt_id", codes()),
    *fee_lines("UploadInpatientFees", "fee_lines"),
    *lines_against_catalog("UploadInpatientFees", "fee_lines", lambda name: "fee_lines[0]", "2"),
    *request_ids("CancelInpatientFees"),
    *bad("CancelInpatientFees", "fixmedins_code", codes()),
    *bad("CancelInpatientFees", "mdtrt_id", codes()),
    *bad("CancelInpatientFees", "feedetl_sn[0]", codes()),
    one("CancelInpatientFees", "feedetl_sn=empty", lambda r: r.ClearField("feedetl_sn"), "INVALID_ARGUMENT",
        "feedetl_sn"),
    *bad("CancelInpatientFees", "feedetl_sn[0]", [("not_held", "9")], field="feedetl_sn", feedetl_sn="9"),
    *[case for rpc in INPATIENT for case in [
        *bad(rpc, "fixmedins_code", codes()),
        *bad(rpc, "mdtrt_id", codes()),
        *bad(rpc, "medfee_sumamt", AMOUNTS[:2]),
        *bad(rpc, "medfee_sumamt", [("not_the_sum", 10_001)], "TOTAL_INCONSISTENT"),
    ]],
    *request_ids("SettleInpatient"),
    *request_ids("Discharge"),
    *bad("Discharge", "fixmedins_code", codes()),
    *bad("Discharge", "mdtrt_id", codes()),
    *bad("Discharge", "enddate", [*dates(required=False), ("before_admission", "2026-02-28")]),
    *request_ids("ReverseSettlement"),
    *bad("ReverseSettlement", "fixmedins_code", codes()),
    *bad("ReverseSettlement", "setl_id", codes()),
    *request_ids("ReverseByRequestId"),
    *bad("ReverseByRequestId", "fixmedins_code", codes()),
    one("ReverseByRequestId", "original_request_id=itself",
        lambda r: (setattr(r, "request_id", "SW-SELF"), setattr(r, "original_request_id", "SW-SELF")),
        "INVALID_ARGUMENT", "original_request_id"),
    *bad("GetSettlement", "fixmedins_code", codes()),
    *bad("GetSettlement", "setl_id", codes()),
    # -- ReferenceDataService -------------------------------------------------------------------------------------
    *request_ids("PutCatalogItems"),
    *bad("PutCatalogItems", "mdtrtarea_admvs", REGIONS, "UNKNOWN_REGION"),
    *bad("PutCatalogItems", "mdtrtarea_admvs", [("a_city", "440100")]),
    one("PutCatalogItems", "items=empty", lambda r: r.ClearField("items"), "INVALID_ARGUMENT", "items"),
    one("PutCatalogItems", "items=over_limit", lambda r: r.items.extend(catalog_item(f"SWQ{n}") for n in range(2)),
        "LINES_LIMIT", "items", limits=(("items_per_push_max", 3),)),
    *[case for index in (0, 1) for case in [  # an unrestricted item (the fast path) and a restricted one
        *bad("PutCatalogItems", f"items[{index}].med_list_codg", codes()),
        *bad("PutCatalogItems", f"items[{index}].list_type", table("101", "104")),
        *bad("PutCatalogItems", f"items[{index}].chrgitm_lv", table("01", "04")),
        *bad("PutCatalogItems", f"items[{index}].selfpay_prop", RATIOS, "NATIONAL_RULE_VIOLATED"),
        *bad("PutCatalogItems", f"items[{index}].selfpay_prop", [("zero_for_class_b", 0)], "NATIONAL_RULE_VIOLATED",
             also=((f"items[{index}].chrgitm_lv", "02"),)),
        *bad("PutCatalogItems", f"items[{index}].pric_uplmt_amt", AMOUNTS),
        *bad("PutCatalogItems", f"items[{index}].begndate", dates()),
        *bad("PutCatalogItems", f"items[{index}].begndate", [("overlaps_held_version", "2025-01-01")],
             "VERSION_OVERLAP", also=((f"items[{index}].med_list_codg", "XA001"), (f"items[{index}].pric_uplmt_amt", 1))),
        *bad("PutCatalogItems", f"items[{index}].enddate", dates(required=False)),
        *bad("PutCatalogItems", f"items[{index}].enddate", [("before_begndate", "2026-06-30")]),
        *bad("PutCatalogItems", f"items[{index}].lmt_sex", table("2", "3", required=False)),
        *bad("PutCatalogItems", f"items[{index}].lmt_setting", table("1", "3", required=False)),
        *bad("PutCatalogItems", f"items[{index}].lmt_age_max", [("below_minus_1", -2), ("below_min", 10)],
             also=((f"items[{index}].lmt_age_min", 18),)),
        *bad("PutCatalogItems", f"items[{index}].lmt_cnt_per_day",
             [(label, value) for label, value in decimals(convert.CNT_PLACES) if value]),
    ]],
    *bad("PutCatalogItems", "items[1].lmt_used_flag", [("unset_with_restrictions", False)]),
    *bad("PutCatalogItems", "items[0].lmt_used_flag", [("set_without_restrictions", True)]),
    *request_ids("PutPolicies"),
    one("PutPolicies", "nothing", lambda r: (r.ClearField("policies"), r.ClearField("insured_places")),
        "INVALID_ARGUMENT", "policies"),
    one("PutPolicies", "policies=over_limit", lambda r: r.policies.extend([policy_pb(hosp_lv=lv) for lv in "012"]),
        "LINES_LIMIT", "policies", limits=(("records_per_push_max", 3),)),
    *bad("PutPolicies", "policies[0].insuplc_admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("PutPolicies", "policies[0].insutype", table("310", "320")),
    *bad("PutPolicies", "policies[0].category", table("1", "4")),
    *bad("PutPolicies", "policies[0].psn_type", table("11", "14")),
    *bad("PutPolicies", "policies[0].hosp_lv", table("3", "4")),
    *bad("PutPolicies", "policies[0].begndate", dates()),
    *bad("PutPolicies", "policies[0].enddate", [*dates(required=False), ("before_begndate", "2026-06-30")]),
    *bad("PutPolicies", "policies[0].dedc", AMOUNTS),
    *bad("PutPolicies", "policies[0].dedc_later", [("minus_2", -2), *AMOUNTS[1:]]),
    *bad("PutPolicies", "policies[0].bands[0].ratio", RATIOS, "NATIONAL_RULE_VIOLATED"),
    *bad("PutPolicies", "policies[0].bands[0].upto", AMOUNTS),
    *bad("PutPolicies", "policies[0].bands[0].upto", [("last_band_not_open", 100)]),
    one("PutPolicies", "policies[0].bands=empty", lambda r: r.policies[0].ClearField("bands"), "INVALID_ARGUMENT",
        "policies[0].bands"),
    *bad("PutPolicies", "policies[0].cap_category", AMOUNTS),
    *bad("PutPolicies", "policies[0].cap_overall", AMOUNTS),
    *bad("PutPolicies", "policies[0].reduction_mode", table("1", "3")),
    *[case for name, ceiling in (("reduction_referral", 1000), ("reduction_emergency", 1000), ("reduction_other", 2000))
      for case in bad("PutPolicies", f"policies[0].{name}", [("negative", -1), ("over_ceiling", ceiling + 1)],
                      "NATIONAL_RULE_VIOLATED")],
    *bad("PutPolicies", "policies[0].hifob_ratio", RATIOS, "NATIONAL_RULE_VIOLATED"),
    *bad("PutPolicies", "policies[0].hifob_cap", AMOUNTS),
    *bad("PutPolicies", "policies[0].hifmi_threshold", AMOUNTS),
    *bad("PutPolicies", "policies[0].hifmi_cap", AMOUNTS),
    *bad("PutPolicies", "policies[0].dise_caps[0].opsp_dise_code", codes(),
         also=(("", lambda r: r.policies[0].dise_caps.add(opsp_dise_code="M03900", cap=1)),)),
    *bad("PutPolicies", "policies[0].dise_caps[0].cap", AMOUNTS,
         also=(("", lambda r: r.policies[0].dise_caps.add(opsp_dise_code="M03900", cap=1)),)),
    *bad("PutPolicies", "policies[0].begndate", [("overlaps_held_version", "2025-01-01")], "VERSION_OVERLAP",
         also=(("policies[0].dedc", 1),)),
    *bad("PutPolicies", "insured_places[0].insuplc_admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("PutPolicies", "insured_places[0].insuplc_admdvs", [("a_city", "120100")]),
    *bad("PutPolicies", "insured_places[0].begndate", dates()),
    *bad("PutPolicies", "insured_places[0].enddate", [*dates(required=False), ("before_begndate", "2026-06-30")]),
    *bad("PutPolicies", "insured_places[0].tmp_filing_months", [("5", 5), ("negative", -1), ("61", 61)],
         "NATIONAL_RULE_VIOLATED"),
    *bad("PutPolicies", "insured_places[0].longterm_lock_months", [("7", 7), ("negative", -1)],
         "NATIONAL_RULE_VIOLATED"),
    *request_ids("PutInstitutions"),
    one("PutInstitutions", "institutions=empty", lambda r: r.ClearField("institutions"), "INVALID_ARGUMENT",
        "institutions"),
    one("PutInstitutions", "institutions=over_limit", lambda r: r.institutions.extend([_institution()] * 3),
        "LINES_LIMIT", "institutions", limits=(("records_per_push_max", 3),)),
    *bad("PutInstitutions", "institutions[0].fixmedins_code", codes()),
    *bad("PutInstitutions", "institutions[0].admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("PutInstitutions", "institutions[0].hosp_lv", table("1", "4")),
    *request_ids("PutPersons"),
    one("PutPersons", "persons=empty", lambda r: r.ClearField("persons"), "INVALID_ARGUMENT", "persons"),
    one("PutPersons", "persons=over_limit", lambda r: r.persons.extend([_person()] * 3), "LINES_LIMIT", "persons",
        limits=(("records_per_push_max", 3),)),
    *bad("PutPersons", "persons[0].psn_no", codes()),
    *bad("PutPersons", "persons[0].gend", table("2", "3")),
    *bad("PutPersons", "persons[0].brdy", dates()),
    *[case for name in ("certno", "card_no", "card_sn", "evoucher_token")
      for case in bad("PutPersons", f"persons[0].{name}", codes(required=False))],
    *bad("PutPersons", "persons[0].insuinfo[0].insutype", table("390", "320")),
    one("PutPersons", "persons[0].insuinfo=duplicate_insutype",
        lambda r: r.persons[0].insuinfo.append(r.persons[0].insuinfo[0]), "INVALID_ARGUMENT",
        "persons[0].insuinfo[1].insutype"),
    *bad("PutPersons", "persons[0].insuinfo[0].psn_type", table("13", "14")),
    *bad("PutPersons", "persons[0].insuinfo[0].psn_insu_stas", codes()),
    *bad("PutPersons", "persons[0].insuinfo[0].insuplc_admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("PutPersons", "persons[0].insuinfo[0].balc", AMOUNTS),
    *request_ids("WithdrawVersion"),
    one("WithdrawVersion", "record=none", lambda r: r.ClearField("policy"), "INVALID_ARGUMENT", "record"),
    *bad("WithdrawVersion", "policy.insuplc_admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("WithdrawVersion", "policy.insutype", table("310", "320")),
    *bad("WithdrawVersion", "policy.category", table("1", "4")),
    *bad("WithdrawVersion", "policy.psn_type", table("11", "14")),
    *bad("WithdrawVersion", "policy.hosp_lv", table("3", "4")),
    *bad("WithdrawVersion", "begndate", dates()),
    *bad("WithdrawVersion", "begndate", [("not_held", "2026-08-01")], "VERSION_NOT_FOUND",
         status=grpc.StatusCode.NOT_FOUND),
    *bad("WithdrawVersion", "begndate", [("in_effect", "2025-01-01")], "VERSION_IN_EFFECT",
         status=grpc.StatusCode.FAILED_PRECONDITION),
    *bad("WithdrawVersion", "reason", [("empty", ""), ("blank", "  "), ("newline", "a\nb"), ("too_long", "因" * 201)]),
    *[case for values, reason in ((REGIONS, "UNKNOWN_REGION"), ([("a_city", "440100")], "INVALID_ARGUMENT"))
      for case in bad("WithdrawVersion", "catalog_item.mdtrtarea_admvs", values, reason,
                      also=(("catalog_item.med_list_codg", "XA001"),))],
    *bad("WithdrawVersion", "catalog_item.med_list_codg", codes(), also=(("catalog_item.mdtrtarea_admvs", "440000"),)),
    *bad("WithdrawVersion", "insured_place", REGIONS, "UNKNOWN_REGION"),
    *bad("WithdrawVersion", "insured_place", [("a_city", "110100")]),
    *bad("GetCatalogItem", "mdtrtarea_admvs", REGIONS, "UNKNOWN_REGION"),
    *bad("GetCatalogItem", "med_list_codg", codes()),
    *bad("GetCatalogItem", "med_list_codg", [("unknown", "NOPE1")], "UNKNOWN_CATALOG_ITEM"),
    *bad("GetCatalogItem", "date", dates(required=False)),
    *bad("GetPolicy", "insuplc_admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("GetPolicy", "insutype", table("310", "320")),
    *bad("GetPolicy", "category", table("1", "4")),
    *bad("GetPolicy", "psn_type", table("11", "14")),
    *bad("GetPolicy", "hosp_lv", table("3", "4")),
    *bad("GetPolicy", "date", dates(required=False)),
    *bad("ListAuditEntries", "limit", [("negative", -1), ("over_1000", 1001), ("int32_min", -2**31)]),
    *bad("ListAuditEntries", "method", codes(required=False)),
    *bad("ListAuditEntries", "who", [("not_a_caller", "platform-440000"), ("newline", "medsettle:national:ops\n"),
                                     ("unknown_kind", "medsettle:city:440100"), ("too_long", "medsettle:national:" + "a" * 60)]),
    one("ListAuditEntries", "since=before_1970", lambda r: r.since.CopyFrom(timestamp_pb2.Timestamp(seconds=-1)),
        "INVALID_ARGUMENT", "since"),
    # -- ClearingService ------------------------------------------------------------------------------------------
    *bad("GetClearingStatement", "month", MONTHS),
    *bad("GetClearingStatement", "admdvs", [*REGIONS[1:], ("a_city", "110100")], "UNKNOWN_REGION"),
    *request_ids("CloseMonth"),
    *bad("CloseMonth", "month", MONTHS),
    *bad("CloseMonth", "month", [("current", "2026-03"), ("future", "2026-04")], "MONTH_NOT_CLOSABLE",
         status=grpc.StatusCode.FAILED_PRECONDITION),
    *bad("GetPrepaidFund", "insuplc_admdvs", [*REGIONS, ("a_city", "110100")], "UNKNOWN_REGION"),
    *bad("GetPrepaidFund", "year", [("negative", -1), ("1989", 1989), ("2200", 2200)]),
    *request_ids("SetPrepaidFund"),
    *bad("SetPrepaidFund", "insuplc_admdvs", [*REGIONS, ("a_city", "110100")], "UNKNOWN_REGION"),
    *bad("SetPrepaidFund", "year", [("missing", 0), ("negative", -1), ("1989", 1989), ("2200", 2200)]),
    *bad("SetPrepaidFund", "balance", AMOUNTS),
    one("SetPrepaidFund", "sizing=missing", lambda r: r.ClearField("balance"), "INVALID_ARGUMENT", "balance"),
    *bad("SetPrepaidFund", "from_previous_year_months", [("13", 13), ("negative", -1), ("zero", 0)]),
    # every ratio out of 0..10000 bp is refused as NATIONAL_RULE_VIOLATED (convert.ratio), the warning threshold too
    *bad("SetPrepaidFund", "warn_threshold", RATIOS, "NATIONAL_RULE_VIOLATED"),
    *request_ids("TopUpPrepaidFund"),
    *bad("TopUpPrepaidFund", "insuplc_admdvs", [*REGIONS, ("a_city", "110100")], "UNKNOWN_REGION"),
    *bad("TopUpPrepaidFund", "year", [("negative", -1), ("1989", 1989), ("2200", 2200)]),
    *bad("TopUpPrepaidFund", "amount", [("zero", 0), *AMOUNTS]),
    *bad("ListPrepaidAlerts", "insuplc_admdvs", [*REGIONS[1:], ("a_city", "110100")], "UNKNOWN_REGION"),
    *[case for rpc in ("ReconcileTotals", "ReconcileDetail") for case in [
        *bad(rpc, "fixmedins_code", codes()),
        *bad(rpc, "begndate", dates()),
        *bad(rpc, "enddate", [*dates(), ("before_begndate", "2026-02-28"), ("32_days", "2026-04-01")]),
    ]],
    *bad("ReconcileTotals", "clr_type", table("11", "12", required=False)),
    *bad("ReconcileDetail", "items[0].setl_id", codes()),
    *[case for name in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
      for case in bad("ReconcileDetail", f"items[0].{name}", [("over_max", convert.AMOUNT_FEN_MAX + 1),
                                                              ("under_min", -convert.AMOUNT_FEN_MAX - 1)])],
    one("ReconcileDetail", "items=duplicate_setl_id", lambda r: r.items.append(r.items[0]), "INVALID_ARGUMENT",
        "items[1].setl_id"),
    one("ReconcileDetail", "items=over_limit", lambda r: r.items.extend(
        cpb.ReconcileItem(setl_id=f"S{n}") for n in range(3)), "INVALID_ARGUMENT", "items",
        limits=(("RECONCILE_ITEMS_MAX", 3),)),
    # -- SupervisionService ---------------------------------------------------------------------------------------
    *request_ids("PutAuditRules"),
    *bad("PutAuditRules", "rules[0].rule_id", codes()),
    *bad("PutAuditRules", "rules[0].admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("PutAuditRules", "rules[0].admdvs", [("a_city", "440100")]),
    *bad("PutAuditRules", "rules[0].role", table("1", "3")),
    *bad("PutAuditRules", "rules[0].kind", table("VISIT_FREQUENCY", "VISIT_COUNT")),
    *bad("PutAuditRules", "rules[0].severity", table("FLAG", "WARN")),
    *bad("PutAuditRules", "rules[0].name", NAMES_BAD),
    *bad("PutAuditRules", "rules[0].begndate", dates()),
    *bad("PutAuditRules", "rules[0].enddate", [*dates(required=False), ("before_begndate", "2026-03-01")]),
    *bad("PutAuditRules", "rules[0].med_types[0]", table("11", "21")),
    *bad("PutAuditRules", "rules[0].visits_max", [("zero", 0), ("negative", -1), ("over_100", 101)]),
    *bad("PutAuditRules", "rules[0].days", [("zero", 0), ("over_90", 91), ("int32_max", 2**31 - 1)]),
    one("PutAuditRules", "rules[0].item_prefixes=space", lambda r: r.rules[0].item_prefixes.append("X C"),
        "INVALID_ARGUMENT", "rules[0].item_prefixes[0]"),
    one("PutAuditRules", "rules=twice", lambda r: r.rules.append(r.rules[0]), "INVALID_ARGUMENT", "rules[1].begndate"),
    *bad("ListAuditRules", "admdvs", REGIONS, "UNKNOWN_REGION"),
    *bad("ListAuditRules", "role", table("1", "3", required=False)),
    *bad("ListAuditRules", "date", dates(required=False)),
    *bad("ListFlags", "mdtrtarea_admvs", REGIONS[1:], "UNKNOWN_REGION"),
    *bad("ListFlags", "insuplc_admdvs", REGIONS[1:], "UNKNOWN_REGION"),
    *bad("ListFlags", "fixmedins_code", codes(required=False)),
    *bad("ListFlags", "rule_id", codes(required=False)),
    *bad("ListFlags", "status", table("OPEN", "CLOSED", required=False)),
    *bad("ListFlags", "begndate", dates(required=False)),
    *bad("ListFlags", "enddate", [*dates(required=False), ("before_begndate", "2026-02-28"),
                                  ("over_366_days", "2027-03-02")]),
    *bad("ListFlags", "limit", [("negative", -1), ("over_1000", 1_001)]),
    *bad("ListFlags", "page_token", [("not_a_flag_id", "X1"), ("newline", "G20260302000000000001\n")]),
    *bad("GetFlag", "flag_id", [("empty", ""), ("short", "G2026"), ("newline", "G20260302000000000001\n"),
                                ("arabic", "G٢٠٢٦٠٣٠٢000000000001")]),
    *bad("GetFlag", "flag_id", [("unknown", "G20260302999999999999")], "FLAG_NOT_FOUND",
         status=grpc.StatusCode.NOT_FOUND),
    *request_ids("RaiseFlag"),
    *bad("RaiseFlag", "setl_id", codes()),
    *bad("RaiseFlag", "setl_id", [("unknown", "S999")], "SETTLEMENT_NOT_FOUND", status=grpc.StatusCode.NOT_FOUND),
    *bad("RaiseFlag", "note", [("empty", ""), ("too_long", "查" * 501), *NAMES_BAD[:2]]),
    *request_ids("ReviewFlag"),
    *bad("ReviewFlag", "flag_id", [("empty", ""), ("short", "G2026")]),
    *bad("ReviewFlag", "flag_id", [("unknown", "G20260302999999999999")], "FLAG_NOT_FOUND",
         status=grpc.StatusCode.NOT_FOUND),
    *bad("ReviewFlag", "decision", table("CONFIRM", "APPROVE")),
    *bad("ReviewFlag", "deduct", AMOUNTS),
    *bad("ReviewFlag", "deduct", [("over_what_the_funds_paid", 1)], "DEDUCTION_TOO_LARGE",
         status=grpc.StatusCode.FAILED_PRECONDITION),
    *bad("ReviewFlag", "deduct", [("when_clearing", 1)], also=(("decision", "CLEAR"),)),
    *bad("ReviewFlag", "note", [("too_long", "查" * 501), *NAMES_BAD[:2]]),
    *bad("GetSupervisionStats", "begndate", dates(required=False)),
    *bad("GetSupervisionStats", "enddate", [*dates(required=False), ("before_begndate", "2026-02-28"),
                                            ("over_92_days", "2026-06-30")]),
    *bad("GetSupervisionStats", "mdtrtarea_admvs", REGIONS[1:], "UNKNOWN_REGION"),
    *bad("GetSupervisionStats", "insuplc_admdvs", REGIONS[1:], "UNKNOWN_REGION"),
    *bad("GetSupervisionStats", "fixmedins_code", codes(required=False)),
    *bad("GetSupervisionStats", "institutions_limit", [("negative", -1), ("over_1000", 1_001)]),
]

# What the sweep found wrong, one block per defect; each block failed before its fix.
DEFECTS: dict[str, list[Case]] = {
    # A policy parameter whose proto3 zero meant something else was read as that zero when left out: no cap_category
    # or cap_overall made the fund pay nothing, no dedc_later (-1 meant "same") made later admissions pay none, a band
    # without a ratio paid 0%; a catalog item's pric_uplmt_amt 0 meant "no ceiling" and a left-out lmt_age_max meant
    # "only newborns". Each is now explicit (proto3 optional) and leaving a required one out is refused naming it.
    "a parameter whose zero means something else is explicit": [
        *[one("PutPolicies", f"policies[0].{name}=left_out", lambda r, name=name: r.policies[0].ClearField(name),
              "INVALID_ARGUMENT", f"policies[0].{name}") for name in ("dedc", "cap_category", "cap_overall")],
        one("PutPolicies", "policies[0].bands[0].ratio=left_out", lambda r: r.policies[0].bands[0].ClearField("ratio"),
            "INVALID_ARGUMENT", "policies[0].bands[0].ratio"),
        *bad("PutPolicies", "policies[0].dedc_later", [("minus_1_the_old_same", -1)]),
        one("PutPolicies", "policies[0].hifob_cap=left_out_with_a_ratio",
            lambda r: (setattr(r.policies[0], "hifob_ratio", 9000), r.policies[0].ClearField("hifob_cap")),
            "INVALID_ARGUMENT", "policies[0].hifob_cap"),
        *[one("PutPolicies", f"policies[0].{name}=left_out_with_bands",
              lambda r, name=name: (r.policies[0].hifmi_bands.add(ratio=5000), r.policies[0].ClearField(name)),
              "INVALID_ARGUMENT", f"policies[0].{name}") for name in ("hifmi_threshold", "hifmi_cap")],
        one("PutPolicies", "policies[0].dise_caps[0].cap=left_out",
            lambda r: r.policies[0].dise_caps.add(opsp_dise_code="M03900"), "INVALID_ARGUMENT",
            "policies[0].dise_caps[0].cap"),
        *[case for index in (0, 1) for case in [
            *bad("PutCatalogItems", f"items[{index}].pric_uplmt_amt", [("zero_is_not_none", 0)]),
            *bad("PutCatalogItems", f"items[{index}].lmt_age_min", [("minus_1_the_old_none", -1), ("over_150", 151)]),
        ]],
    ],
    # A request's psn_no was looked up as a PersonRef named "person" or "psn_no": refusals named "person.psn_no",
    # "psn_no.psn_no", or for an empty psn_no "psn_no.mdtrt_cert_type" (a field no such request has).
    "psn_no is named psn_no": [
        *[case for rpc in ("GetAccumulators", "ListFilings", "ListChronicQualifications") for case in [
            *bad(rpc, "psn_no", codes()),
            *bad(rpc, "psn_no", [("unknown", "P999")], "PERSON_NOT_FOUND", status=grpc.StatusCode.NOT_FOUND)]],
        *[case for rpc in ("CreateFiling", "CreateReferralFiling", "CreateChronicQualification")
          for case in bad(rpc, "psn_no", [("unknown", "P999")], "PERSON_NOT_FOUND", status=grpc.StatusCode.NOT_FOUND)],
    ],
    # With psn_no given, the rest of the PersonRef was not looked at: mdtrt_cert_type "04", "03\n" or "03\x00" was
    # accepted (SettleOutpatient settled, Admit admitted) and passed on to the benefit check as the credential used.
    "a PersonRef with psn_no still has a valid credential type": [
        case for rpc, at in PERSON_REFS for case in [
            *bad(rpc, f"{at}.mdtrt_cert_type", table("03", "04", required=False), tag="_with_psn_no"),
            *bad(rpc, f"{at}.mdtrt_cert_no", codes(required=False), tag="_with_psn_no"),
            *bad(rpc, f"{at}.card_sn", codes(required=False), tag="_with_psn_no"),
        ]],
    # A referral filing's receiving institution was checked against the filed region before the region itself:
    # a malformed mdtrtarea_admvs failed an assertion in region.city_of (UNKNOWN, "AssertionError: 44O000"), an
    # unknown one ("990000") was refused as "reflin_medins_no not in the filed region".
    "a referral filing's region is checked before its receiving institution": bad(
        "CreateFiling", "mdtrtarea_admvs", REGIONS, "UNKNOWN_REGION",
        also=(("category", "21"), ("reflin_medins_no", world.SH_HOSPITAL)), tag="_referral"),
    # Fields no servicer read were never checked: a NUL, a newline or 41 characters in them were accepted (and the
    # settlement, the admission or the referral filing written).
    "fields the core does not use are still checked": [
        *bad("CreateReferralFiling", "dise_codg", codes(required=False)),
        *[case for rpc in OUTPATIENT for case in bad(rpc, "claim.ipt_otp_no", codes(required=False))],
        *bad("Admit", "ipt_otp_no", codes(required=False)),
    ],
    # The rules name fields of the claim ("medfee_sumamt", "fee_lines[0].med_list_codg"); an outpatient request holds
    # the claim under "claim", and the refusal named fields the request does not have.
    "outpatient refusals by the rules name claim.*": [
        case for rpc in OUTPATIENT for case in [
            *bad(rpc, "claim.medfee_sumamt", [("not_the_sum", 20_001)], "TOTAL_INCONSISTENT"),
            *lines_against_catalog(rpc, "claim.fee_lines", lambda name: f"claim.fee_lines[0].{name}", "1"),
        ]],
    # cnt and pric had no upper bound. 10^35 units at 0 yuan, or 0.0001 units at 10^14 yuan (a line of 10^12 fen),
    # were consistent lines: the outpatient RPCs settled them, an upload failed to encode the stay line (UNKNOWN,
    # "OverflowError: can't serialize ints > 2**64 - 1"), as did a catalog item with such a lmt_cnt_per_day.
    "quantities and unit prices have an upper bound": [
        *[case for rpc, at in (*((rpc, "claim.fee_lines") for rpc in OUTPATIENT), ("UploadInpatientFees", "fee_lines"))
          for case in _lines_total_kept([
              *bad(rpc, f"{at}[0].cnt", [("huge", "9" * 35), ("over_1e8", "100000000.0001")],
                   also=((f"{at}[0].pric", "0"), (f"{at}[0].det_item_fee_sumamt", 0))),
              *bad(rpc, f"{at}[0].pric", [("huge", "100000000000000")],
                   also=((f"{at}[0].cnt", "0.0001"), (f"{at}[0].det_item_fee_sumamt", convert.AMOUNT_FEN_MAX))),
          ])],
        *[case for index in (0, 1) for case in bad(
            "PutCatalogItems", f"items[{index}].lmt_cnt_per_day", [("huge", "9" * 35), ("over_1e8", "100000001")],
            also=((f"items[{index}].lmt_used_flag", True),))],
    ],
    # Names were cut to 200 (100 for a person) characters without a word, so what was stored was not what was sent,
    # and a NUL or a newline went into the name shown at the window and printed on the receipt.
    "names are bounded and free of control characters": [
        *[case for index in (0, 1) for case in bad("PutCatalogItems", f"items[{index}].name", NAMES_BAD)],
        *bad("PutInstitutions", "institutions[0].fixmedins_name", NAMES_BAD),
        *bad("PutPersons", "persons[0].psn_name", [*NAMES_BAD[:2], ("too_long", "名" * 101)]),
    ],
    # A bad lmt_age_min was refused naming lmt_age_max; a bad element of a repeated field named the field without its
    # index (items[1].lmt_dise_codes: which of a hundred codes?).
    "the exact field of a catalog item or an insured place is named": [
        *[case for index in (0, 1) for case in bad("PutCatalogItems", f"items[{index}].lmt_age_min",
                                                     [("below_minus_1", -2), ("int32_min", -2**31)])],
        *bad("PutCatalogItems", "items[1].lmt_dise_codes[0]", codes()),
        *bad("PutPolicies", "insured_places[0].open_med_types[0]", table("11", "12")),
        *bad("PutPolicies", "insured_places[0].open_dise_codes[0]", codes()),
    ],
    # A malformed original_request_id (2601) was refused naming request_id, the 冲正's own id.
    "a malformed original_request_id is named": bad("ReverseByRequestId", "original_request_id", REQUEST_IDS),
    # Too many insured places in a push was refused naming policies; and both lists were converted (up to the limit
    # plus one) before their length was looked at.
    "too many insured places is named insured_places": [
        one("PutPolicies", "insured_places=over_limit", lambda r: r.insured_places.extend([_place() for _ in range(3)]),
            "LINES_LIMIT", "insured_places", limits=(("records_per_push_max", 3),)),
        one("PutPolicies", "insured_places=over_limit_and_malformed",
            lambda r: r.insured_places.extend([_place()] * 2 + [reference_data_pb2.InsuredPlace()]),
            "LINES_LIMIT", "insured_places", limits=(("records_per_push_max", 3),)),
    ],
    # A `since` outside the range of google.protobuf.Timestamp (years 1..9999) made ToMilliseconds raise: UNKNOWN,
    # "Timestamp is not valid: Seconds 253402300800 must be in range ..."; nanos outside 0..999,999,999 were taken.
    "a since outside the Timestamp range is refused": [
        one("ListAuditEntries", f"since={label}", (lambda s, n: lambda r: r.since.CopyFrom(
            timestamp_pb2.Timestamp(seconds=s, nanos=n)))(seconds, nanos), "INVALID_ARGUMENT", "since")
        for label, seconds, nanos in (("after_9999", 253_402_300_800, 0), ("int64_max", 2**63 - 1, 0),
                                      ("nanos_over", 0, 1_000_000_000), ("nanos_negative", 1, -1))],
    # More feedetl_sn than a stay can hold was refused as INVALID_ARGUMENT "name the lines to cancel, or 0000", after
    # every one of them had been checked; an oversized list of fee lines is LINES_LIMIT everywhere else.
    "too many lines to cancel is LINES_LIMIT": [
        one("CancelInpatientFees", "feedetl_sn=over_limit", lambda r: r.feedetl_sn.extend(["2", "3", "4"]),
            "LINES_LIMIT", "feedetl_sn", limits=(("lines_per_stay_max", 3),)),
        one("CancelInpatientFees", "feedetl_sn=over_limit_and_malformed", lambda r: r.feedetl_sn.extend(["2", "3", ""]),
            "LINES_LIMIT", "feedetl_sn", limits=(("lines_per_stay_max", 3),)),
    ],
    # An admission cannot begin in the future, but a discharge could: "2026-03-03" on 2026-03-02 closed the stay
    # with a date that had not come (and no line could be uploaded for the days between).
    "a discharge cannot be in the future": bad("Discharge", "enddate", [("tomorrow", "2026-03-03"),
                                                                      ("year_2199", "2199-12-31")]),
}
CASES += [case for block in DEFECTS.values() for case in block]

# Who calls: the hospital GZ for what a hospital does, national operations for everything else. A hospital naming
# another fixmedins_code (a malformed one included) is refused before the field is looked at: CALLER_NOT_ALLOWED,
# naming the same field, writing nothing (service/authorization.py).
AS_HOSPITAL = {rpc for rpc, service in SERVICE_OF.items() if service == "SettlementService"} - {"GetSettlement"}
_OWN_FIELDS = ("fixmedins_code", "claim.fixmedins_code")
CASES = [dataclasses.replace(case, reason="CALLER_NOT_ALLOWED", status=grpc.StatusCode.PERMISSION_DENIED)
         if case.rpc in AS_HOSPITAL and case.field in _OWN_FIELDS else case for case in CASES]

_ids = [case.id for case in CASES]
_first_of_rpc = {case.rpc: n for n, case in reversed(list(enumerate(CASES)))}
POSTGRESQL_CASES = [case for n, case in enumerate(CASES)
                    if n % POSTGRESQL_SAMPLE_EVERY == 0 or _first_of_rpc[case.rpc] == n]
assert len(_ids) == len(set(_ids)), [i for i in _ids if _ids.count(i) > 1]
_sequence = itertools.count(1)


def call(sweep, rpc: str, request: Message):
    if SERVICE_OF[rpc] == "SupervisionService" and rpc != "PutAuditRules":  # national pushes any province's rules
        channel = sweep.as_(INSURED_AS if rpc == "RaiseFlag" else SUPERVISION_AS)
    else:
        channel = sweep.as_(f"institution:{GZ}") if rpc in AS_HOSPITAL else sweep.channel
    return sweep.run(getattr(STUBS[SERVICE_OF[rpc]](channel), rpc)(request))


def details_of(error: grpc.aio.AioRpcError):
    """(ErrorInfos, BadRequest field violations, zh-CN LocalizedMessages) of a refusal."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no google.rpc.Status details: {error.code()} {error.details()}"
    infos, violations, localized = [], [], []
    for detail in status.details:
        for kind, found in ((error_details_pb2.ErrorInfo, infos), (error_details_pb2.BadRequest, violations),
                            (error_details_pb2.LocalizedMessage, localized)):
            message = kind()
            if detail.Unpack(message):
                found.append(message)
    return infos, [v.field for bad_request in violations for v in bad_request.field_violations], localized


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(sweep, case: Case):
    _check_refused(sweep, case)


@pytest.mark.parametrize("case", POSTGRESQL_CASES, ids=[case.id for case in POSTGRESQL_CASES])
def test_bad_input_on_a_postgresql_store_is_refused_the_same_and_writes_nothing(sweep_postgresql, case: Case):
    _check_refused(sweep_postgresql, case)


def _check_refused(sweep, case: Case) -> None:
    request = case.build(sweep.ctx)
    if case.rpc in MUTATING and not request.request_id and not case.label.startswith("request_id="):
        request.request_id = f"SW-{next(_sequence):05d}"  # never a retry of an earlier case
    before = snapshot(sweep.store)
    saved_limits = sweep.app.limits
    saved_items_max = clearing_module.RECONCILE_ITEMS_MAX
    overrides = dict(case.limits)
    if "RECONCILE_ITEMS_MAX" in overrides:
        clearing_module.RECONCILE_ITEMS_MAX = overrides.pop("RECONCILE_ITEMS_MAX")
    sweep.app.limits = dataclasses.replace(saved_limits, **overrides)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            answer = call(sweep, case.rpc, request)
            pytest.fail(f"accepted: {type(answer).__name__} {str(answer)[:300]!r}")
    finally:
        sweep.app.limits = saved_limits
        clearing_module.RECONCILE_ITEMS_MAX = saved_items_max
    error = caught.value
    assert snapshot(sweep.store) == before, "a refused request wrote something"
    assert error.code() == case.status, f"{error.code()}: {error.details()}"
    infos, violations, localized = details_of(error)
    assert infos and infos[0].domain == "medsettle"
    first = infos[0]
    assert first.reason == case.reason, f"{first.reason} {dict(first.metadata)}"
    if case.field:
        assert first.metadata.get("field") == case.field, dict(first.metadata)
        assert case.field in violations, violations
    if case.feedetl_sn:
        assert first.metadata.get("feedetl_sn") == case.feedetl_sn, dict(first.metadata)
    assert case.field or case.feedetl_sn
    assert first.metadata.get("remedy") is not None
    # every detail arrives whole: none was cut to fit the trailers (a cut one ends in "…")
    assert all(not info.metadata.get("detail", "").endswith("…") for info in infos), [dict(i.metadata) for i in infos]
    # a message in Chinese (LocalizedMessage zh-CN, and the status message) and one in English
    assert [m.locale for m in localized] == ["zh-CN"] and re.search(r"[\u4e00-\u9fff]", localized[0].message)
    message = error.details()
    assert message.startswith(f"{case.reason}: ") and " | " in message
    chinese, english = message.split(" | ", 1)
    assert re.search(r"[\u4e00-\u9fff]", chinese) and re.search(r"[A-Za-z]{3}", english)
    if case.field:
        assert f"[field {case.field}]" in english


# -- the valid requests the cases start from are accepted (so each refusal above is about the broken field) ---------

READ_ONLY = sorted(set(BASE) - MUTATING)


@pytest.mark.parametrize("rpc", READ_ONLY)
def test_the_valid_read_request_is_answered_and_writes_nothing(sweep, rpc):
    before = snapshot(sweep.store)
    call(sweep, rpc, BASE[rpc](sweep.ctx))
    assert snapshot(sweep.store) == before


# -- any value in any field of a request that writes nothing: an answer or a clear refusal, never a crash -----------

_SCALARS = {descriptor.FieldDescriptor.TYPE_STRING: "str", descriptor.FieldDescriptor.TYPE_INT32: "int32",
            descriptor.FieldDescriptor.TYPE_INT64: "int64", descriptor.FieldDescriptor.TYPE_BOOL: "bool"}


def _leaves(message: Message, prefix: str = "") -> list[tuple[str, str]]:
    """(path, kind) of every scalar field of `message`, set or not, and of the elements it holds."""
    found = []
    for field in message.DESCRIPTOR.fields:
        path = f"{prefix}{field.name}"
        value = getattr(message, field.name)
        if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for index, element in enumerate(value):
                    found += _leaves(element, f"{path}[{index}].")
            elif message.HasField(field.name):
                found += _leaves(value, f"{path}.")
        elif field.is_repeated:
            found += [(f"{path}[{index}]", _SCALARS[field.type]) for index in range(len(value))]
        else:
            found.append((path, _SCALARS[field.type]))
    return found


NO_WRITE = sorted(set(BASE) - MUTATING)  # read-only and pre-settlement: they convert a request as the writing ones do
LEAVES = [(rpc, path, kind) for rpc in NO_WRITE for path, kind in _leaves(BASE[rpc]({"mdtrt_id": "M", "setl_id": "S"}))]
VALUES = {
    "str": st.one_of(st.text(max_size=45), st.text(alphabet="0123456789-.eE+ ", max_size=45),
                     st.sampled_from(["0000", "2026-03-02", "440000", "310", "11", "01", "1.5", "9" * 40])),
    "int32": st.one_of(st.integers(-2**31, 2**31 - 1), st.integers(-3, 10_002)),
    "int64": st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-3, 10**12 + 2)),
    "bool": st.booleans(),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_in_any_field_is_answered_or_refused_clearly(sweep, data):
    rpc, path, kind = data.draw(st.sampled_from(LEAVES), label="field")
    value = data.draw(VALUES[kind], label="value")
    request = BASE[rpc](sweep.ctx)
    _set(request, path, value)
    before = snapshot(sweep.store)
    try:
        call(sweep, rpc, request)
    except grpc.aio.AioRpcError as error:
        assert error.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), error.details()
        infos, _, localized = details_of(error)
        assert infos and localized, error.details()
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            assert infos[0].metadata.get("field") or infos[0].metadata.get("feedetl_sn"), dict(infos[0].metadata)
    assert snapshot(sweep.store) == before


def test_the_valid_mutating_requests_are_accepted(sweep):
    """Last in the module: these write. In an order in which each one can go through."""
    ctx = sweep.ctx
    order = ["CreateFiling", "RevokeFiling", "CreateReferralFiling", "RevokeReferralFiling",
             "CreateChronicQualification", "RevokeChronicQualification", "SettleInpatient", "UploadInpatientFees",
             "CancelInpatientFees", "Discharge", "Admit", "ReverseByRequestId", "SettleOutpatient", "ReverseSettlement",
             "PutCatalogItems", "PutPolicies", "WithdrawVersion", "PutInstitutions", "PutPersons", "CloseMonth",
             "SetPrepaidFund", "TopUpPrepaidFund", "RaiseFlag", "ReviewFlag", "PutAuditRules"]
    assert set(order) == MUTATING
    for n, rpc in enumerate(order):
        request = BASE[rpc](ctx)
        request.request_id = f"OK-{n}"
        if rpc == "RevokeReferralFiling":
            request.trt_dcla_detl_sn = ctx["referral"]
        if rpc == "CancelInpatientFees":
            request.feedetl_sn[:] = ["2"]  # the line just uploaded: line 1 is settled
        answer = call(sweep, rpc, request)
        if rpc == "CreateReferralFiling":
            ctx = {**ctx, "referral": answer.filing.trt_dcla_detl_sn}
        if rpc == "SettleOutpatient":
            ctx = {**ctx, "setl_id": answer.settlement.setl_id}


def test_every_rpc_that_takes_input_is_swept():
    assert {case.rpc for case in CASES} == set(BASE)
    for stub_class in STUBS.values():
        methods = {name for name in vars(stub_class(grpc.insecure_channel("127.0.0.1:1"))) if name[0].isupper()}
        assert methods <= set(BASE), methods - set(BASE)
