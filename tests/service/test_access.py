"""Who may call what, over real mutual-TLS handshakes (issue 12).

A real in-process server serves mutual TLS from a directory `medsettle certs init` made; each caller is a real
client certificate. The walk calls every RPC (the valid requests of the bad-input sweep) as seven callers of the
three kinds and holds the answers to a matrix written by hand from the rules (not read from the table): allowed
is never PERMISSION_DENIED; not allowed is PERMISSION_DENIED, CALLER_NOT_ALLOWED, and the store byte for byte as
it was. Then one test per exploit the issue measured, handshakes that must fail, and rotation without a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import shutil

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from medsettle import certs, tls
from medsettle.server import ListenError, ServerConfig, build_server, start
from medsettle.service.app import App, Limits
from medsettle.service.clock import FixedClock
from medsettle.service.identity import of
from medsettle.store.env import Store, StoreConfig
from medsettle.store.writer import GroupCommitWriter
from medsettle.v1 import clearing_pb2 as cpb
from medsettle.v1 import (
    filing_pb2,
    person_pb2,
    person_pb2_grpc,
    reference_data_pb2,
    settlement_pb2,
)
from medsettle.v1 import supervision_pb2 as spb
from tests import world
from tests.conftest import TEST_MAP_SIZE_BYTES, rpc_error_info
from tests.service.test_bad_input_sweep import BASE, MUTATING, SERVICE_OF, STUBS, snapshot
from tests.service.test_reference_data import catalog_item, policy_pb
from tests.service.test_settlements import claim, line

GZ, SZ, REFERRING = world.GZ_HOSPITAL, world.SZ_HOSPITAL, world.BJ_REFERRING  # 440106, 440304, 110105
CALLERS = {
    "gz": f"institution:{GZ}",  # the hospital every settlement request of the walk names
    "sz": f"institution:{SZ}",  # another hospital of the same province
    "bj_hospital": f"institution:{REFERRING}",  # a Beijing hospital: refers Beijing's insured (2501)
    "bj": "province:110000",  # the insured place of every person of the world
    "gd": "province:440000",  # the place of treatment of GZ and SZ
    "sh": "province:310000",  # a province with no part in any of it
    "national": "national:ops",
}
EXTRA_CALLERS = ["institution:H44010600099", "province:120000", "national:clearing"]

# Who may make each request of the walk (BASE in test_bad_input_sweep), from the rules of issue 12.
ALLOWED: dict[str, set[str]] = {
    # a person look-up by psn_no alone: no institution; the insured place; national
    "GetPerson": {"bj", "national"},
    "CheckBenefit": {"bj", "national"},
    "GetAccumulators": {"bj", "national"},
    "FindInsuredPlace": {"bj", "gd", "sh", "national"},  # by psn_no: no institution; any province learns the place
    # filings of Beijing's insured: Beijing, national; a referral (2501) also by the referring Beijing hospital
    "CreateFiling": {"bj", "national"},
    "RevokeFiling": {"bj", "national"},
    "ListFilings": {"bj", "national"},
    "CreateReferralFiling": {"bj_hospital", "bj", "national"},
    "RevokeReferralFiling": {"bj_hospital", "bj", "national"},
    "CreateChronicQualification": {"bj", "national"},
    "RevokeChronicQualification": {"bj", "national"},
    "ListChronicQualifications": {"bj", "national"},
    # the hospital itself; national operations may look a settlement up and reconcile
    **dict.fromkeys(["PreSettleOutpatient", "SettleOutpatient", "Admit", "UploadInpatientFees", "CancelInpatientFees",
                     "PreSettleInpatient", "SettleInpatient", "Discharge", "ReverseSettlement", "ReverseByRequestId"],
                    {"gz"}),
    "GetSettlement": {"gz", "national"},
    "ReconcileTotals": {"gz", "national"},
    "ReconcileDetail": {"gz", "national"},
    # Guangdong's catalog, institutions and insured (the new person is insured in 440106); a push that holds a
    # Beijing policy and Tianjin's parameters: national only
    "PutCatalogItems": {"gd", "national"},
    "PutPolicies": {"national"},
    "PutInstitutions": {"gd", "national"},
    "PutPersons": {"gd", "national"},
    "GetCatalogItem": {"gz", "sz", "gd", "national"},  # Guangdong's catalog: its hospitals and itself
    "GetPolicy": {"bj", "national"},
    "ListAuditEntries": {"national"},
    "WithdrawVersion": {"national"},  # a correction of any province's reference data: national operations, for now  # every caller's entries: a province sees only its own (who = itself)
    "GetClearingStatement": {"national"},  # the whole statement; a province asks for its part
    "CloseMonth": {"national"},
    "SetPrepaidFund": {"national"},
    "TopUpPrepaidFund": {"national"},
    "GetPrepaidFund": {"bj", "national"},
    "ListPrepaidAlerts": {"bj", "national"},
    # supervision: Guangdong's rules by Guangdong; a flag on Beijing's insured treated in Guangzhou is raised by
    # Beijing and decided by Guangdong; what the others see of flags and statistics is filtered, never refused
    "PutAuditRules": {"gd", "national"},
    **dict.fromkeys(["ListAuditRules", "ListFlags", "GetFlag", "GetSupervisionStats"], set(CALLERS)),
    "RaiseFlag": {"bj"},
    "ReviewFlag": {"gd"},
}
assert set(ALLOWED) == set(BASE)


# -- a mutual-TLS server over the world ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("tls")
    certs.init(directory, [of(caller) for caller in [*CALLERS.values(), *EXTRA_CALLERS]])
    return directory


class Mtls:
    """A started mutual-TLS server and a channel per caller (each its own certificate and handshake)."""

    def __init__(self, directory: pathlib.Path, store: Store, lookups_per_minute: int = 120) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.store = store
        self.writer = GroupCommitWriter(store)
        self.app = App(store=store, writer=self.writer, clock=FixedClock.at(f"{world.TODAY}T10:00:00"),
                       tls_dir=str(directory), limits=Limits(person_lookups_per_minute=lookups_per_minute))
        self.server, _, port = self.run(start(self.app, "127.0.0.1:0", so_reuseport=False))
        self.target = f"127.0.0.1:{port}"
        self.directory = directory
        self.channels: dict[str, grpc.aio.Channel] = {}

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def channel(self, caller: str, directory: pathlib.Path | None = None) -> grpc.aio.Channel:
        if caller not in self.channels:
            credentials = tls.channel_credentials(directory or self.directory, of(caller))
            self.channels[caller] = grpc.aio.secure_channel(self.target, credentials)
        return self.channels[caller]

    def stub(self, service: str, caller: str):
        return STUBS[service](self.channel(caller))

    def close(self) -> None:
        for channel in self.channels.values():
            self.run(channel.close())
        self.run(self.server.stop(None))
        self.writer.close()
        asyncio.set_event_loop(None)
        self.loop.close()


@pytest.fixture
def mtls(tls_dir, store):
    """Over conftest's `store`: the authorization matrix on both backends (some rules read the store)."""
    with store.write() as view:
        world.build(view)
    running = Mtls(tls_dir, store)
    yield running
    running.close()


def refused(running, call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        running.run(call)
    return caught.value


def denied(running, call, field: str | None = None) -> dict:
    """The call is refused PERMISSION_DENIED CALLER_NOT_ALLOWED (naming `field`) and writes nothing."""
    before = snapshot(running.store)
    error = refused(running, call)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED, (error.code(), error.details())
    reasons, metadata, _ = rpc_error_info(error)
    assert reasons == ["CALLER_NOT_ALLOWED"] and metadata["rpc"] and metadata["caller"].startswith("medsettle:")
    if field is not None:
        assert metadata.get("field") == field, metadata
    assert snapshot(running.store) == before
    return metadata


# -- the walk ---------------------------------------------------------------------------------------------------


def _setup(running) -> dict:
    """What the walk's requests name: an open stay with one line, a settlement, a prepaid fund (as in the sweep)."""
    gz = running.stub("SettlementService", CALLERS["gz"])
    mdtrt_id = running.run(gz.Admit(settlement_pb2.AdmitRequest(
        request_id="SETUP-1", person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=GZ, med_type="21",
        begndate="2026-03-01"))).mdtrt_id
    running.run(gz.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
        request_id="SETUP-2", fixmedins_code=GZ, mdtrt_id=mdtrt_id, fee_lines=[line("1", "XA001", "1", "100", 10_000)])))
    setl_id = running.run(gz.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="SETUP-3", claim=claim("P001", GZ, [line("1", "XA001", "1", "10", 1_000)])))).settlement.setl_id
    running.run(running.stub("ClearingService", CALLERS["national"]).SetPrepaidFund(cpb.SetPrepaidFundRequest(
        request_id="SETUP-4", insuplc_admdvs="110000", year=2026, balance=1_000_000)))
    referral = running.run(running.stub("FilingService", CALLERS["bj"]).CreateReferralFiling(
        filing_pb2.CreateReferralFilingRequest(request_id="SETUP-5", fixmedins_code=REFERRING, psn_no="P005",
                                               insutype="310", reflin_medins_no=GZ))).filing.trt_dcla_detl_sn
    flag_id = running.run(running.stub("SupervisionService", CALLERS["bj"]).RaiseFlag(spb.RaiseFlagRequest(
        request_id="SETUP-6", setl_id=setl_id, note="请核查"))).flag.flag_id
    return {"mdtrt_id": mdtrt_id, "setl_id": setl_id, "referral": referral, "flag_id": flag_id}


def test_every_rpc_as_every_kind_of_caller_over_mutual_tls(mtls):
    ctx = _setup(mtls)
    seen_allowed, seen_denied = 0, 0
    for n, rpc in enumerate(sorted(BASE)):
        for name, caller in CALLERS.items():
            request = BASE[rpc](ctx)
            if rpc in MUTATING:
                request.request_id = f"WALK-{n}-{name}"
            if rpc == "RevokeReferralFiling":
                request.trt_dcla_detl_sn = ctx["referral"]
            call = getattr(mtls.stub(SERVICE_OF[rpc], caller), rpc)(request)
            if name in ALLOWED[rpc]:
                seen_allowed += 1
                try:
                    mtls.run(call)
                except grpc.aio.AioRpcError as error:
                    assert error.code() != grpc.StatusCode.PERMISSION_DENIED, (rpc, caller, error.details())
                    assert error.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), error.details()
            else:
                seen_denied += 1
                metadata = denied(mtls, call)
                assert (metadata["rpc"], metadata["caller"]) == (rpc, f"medsettle:{caller}")
    assert seen_allowed >= 60 and seen_denied >= 150  # the matrix is not mostly one answer
    for caller in CALLERS.values():  # health (and reflection) answer every verified caller
        answer = mtls.run(health_pb2_grpc.HealthStub(mtls.channel(caller)).Check(health_pb2.HealthCheckRequest()))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_the_audit_trail_records_the_verified_caller(mtls):
    reference = mtls.stub("ReferenceDataService", CALLERS["gd"])
    mtls.run(reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="AU-1", mdtrtarea_admvs="440000", items=[catalog_item("AU001")])))
    national = mtls.stub("ReferenceDataService", CALLERS["national"])
    entries = mtls.run(national.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest(
        who="medsettle:province:440000"))).entries
    assert [(e.who, e.method, e.request_id) for e in entries] == [
        ("medsettle:province:440000", "PutCatalogItems", "AU-1")]


# -- the exploits issue 12 measured, each now refused --------------------------------------------------------------


def _outpatient(request_id: str, fixmedins_code: str, psn_no: str = "P001"):
    return settlement_pb2.SettleOutpatientRequest(request_id=request_id, claim=claim(
        psn_no, fixmedins_code, [line("1", "XA001", "1", "10", 1_000)]))


def test_a_hospital_cannot_settle_read_list_or_reverse_as_another(mtls):
    ctx = _setup(mtls)
    sz = mtls.stub("SettlementService", CALLERS["sz"])
    denied(mtls, sz.SettleOutpatient(_outpatient("SZ-1", GZ)), "claim.fixmedins_code")
    denied(mtls, sz.GetSettlement(settlement_pb2.GetSettlementRequest(fixmedins_code=GZ, setl_id=ctx["setl_id"])),
           "fixmedins_code")
    denied(mtls, sz.ReverseSettlement(settlement_pb2.ReverseSettlementRequest(
        request_id="SZ-2", fixmedins_code=GZ, setl_id=ctx["setl_id"])), "fixmedins_code")
    clearing_sz = mtls.stub("ClearingService", CALLERS["sz"])
    denied(mtls, clearing_sz.ReconcileDetail(cpb.ReconcileDetailRequest(
        fixmedins_code=GZ, begndate="2026-03-01", enddate=world.TODAY)), "fixmedins_code")
    # as itself, a hospital sees only its own settlements: GZ's setl_id is not found at SZ
    error = refused(mtls, sz.GetSettlement(settlement_pb2.GetSettlementRequest(fixmedins_code=SZ,
                                                                              setl_id=ctx["setl_id"])))
    assert rpc_error_info(error)[0] == ["SETTLEMENT_NOT_FOUND"]


def test_a_hospital_cannot_fence_another_hospitals_request_id_by_chong_zheng(mtls):
    sz = mtls.stub("SettlementService", CALLERS["sz"])
    denied(mtls, sz.ReverseByRequestId(settlement_pb2.ReverseByRequestIdRequest(
        request_id="SZ-CZ", fixmedins_code=GZ, original_request_id="GZ-NEXT")), "fixmedins_code")
    gz = mtls.stub("SettlementService", CALLERS["gz"])
    assert mtls.run(gz.SettleOutpatient(_outpatient("GZ-NEXT", GZ))).settlement.setl_id  # GZ's id is still its own


def test_a_hospital_looks_a_person_up_by_credential_only_masked_and_at_a_bounded_rate(tls_dir, tmp_path):
    store = Store(StoreConfig(path=str(tmp_path / "data"), map_size_bytes=TEST_MAP_SIZE_BYTES))
    with store.write() as view:
        world.build(view)
    running = Mtls(tls_dir, store, lookups_per_minute=5)
    try:
        persons = running.stub("PersonService", CALLERS["gz"])
        # psn_no alone: refused, whatever the request is (1101, 2001, 5206)
        denied(running, persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P001"))),
               "person.mdtrt_cert_no")
        denied(running, persons.CheckBenefit(person_pb2.CheckBenefitRequest(
            person=person_pb2.PersonRef(psn_no="P001"), fixmedins_code=GZ, med_type="11")), "person.mdtrt_cert_no")
        denied(running, persons.GetAccumulators(person_pb2.GetAccumulatorsRequest(psn_no="P001")),
               "person.mdtrt_cert_no")
        denied(running, persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(
            mdtrt_cert_type="03", mdtrt_cert_no="C001"))), "person.card_sn")  # a card without its serial
        # by ID number: what a window needs, the ID number and the card serial masked, no e-voucher token
        by_id = person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no="110105196005011234")
        person = running.run(persons.GetPerson(person_pb2.GetPersonRequest(person=by_id))).baseinfo
        assert (person.psn_no, person.psn_name, person.card_no) == ("P001", "张伟", "C001")
        assert (person.certno, person.card_sn, person.evoucher_token) == ("1101************34", "S****", "")
        # the card number and the masked serial do not settle as the card holder
        card = person_pb2.PersonRef(mdtrt_cert_type="03", mdtrt_cert_no=person.card_no, card_sn=person.card_sn)
        stolen = settlement_pb2.SettleOutpatientRequest(request_id="GZ-CARD", claim=claim("", GZ, [
            line("1", "XA001", "1", "10", 1_000)]))
        stolen.claim.person.CopyFrom(card)
        error = refused(running, running.stub("SettlementService", CALLERS["gz"]).SettleOutpatient(stolen))
        assert rpc_error_info(error)[1]["field"] == "claim.person.card_sn"
        # a psn_no beside a credential must be that credential's person
        error = refused(running, persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(
            psn_no="P002", mdtrt_cert_type="02", mdtrt_cert_no="110105196005011234"))))
        assert rpc_error_info(error)[1]["field"] == "person.mdtrt_cert_no"
        # the national platform sees the person whole
        whole = running.run(running.stub("PersonService", CALLERS["national"]).GetPerson(
            person_pb2.GetPersonRequest(person=by_id))).baseinfo
        assert (whole.certno, whole.card_sn, whole.evoucher_token) == ("110105196005011234", "SN001", "")
        # 5206 by credential, as a window asks it
        accumulators = running.run(persons.GetAccumulators(person_pb2.GetAccumulatorsRequest(person=by_id)))
        assert accumulators.accumulators.insutype == "310"
        # enumeration: of the 5 look-ups a minute of this test's limit, 3 are spent (the masked answer, the
        # mismatched psn_no, 5206; the calls refused as not allowed count nothing); then RESOURCE_EXHAUSTED,
        # RATE_LIMITED
        answered = 0
        for _ in range(10):
            try:
                running.run(persons.GetPerson(person_pb2.GetPersonRequest(person=by_id)))
                answered += 1
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert rpc_error_info(error)[0] == ["RATE_LIMITED"]
                break
        else:
            pytest.fail("never limited")
        assert 1 <= answered <= 2
        # per institution: another hospital and the platforms are not held back by GZ's look-ups
        other = running.stub("PersonService", CALLERS["sz"])
        assert running.run(other.GetPerson(person_pb2.GetPersonRequest(person=by_id))).baseinfo.psn_no == "P001"
    finally:
        running.close()
        store.close()


def test_a_province_writes_only_its_own_reference_data(mtls):
    gd = mtls.stub("ReferenceDataService", CALLERS["gd"])
    gz = mtls.stub("ReferenceDataService", CALLERS["gz"])
    # Beijing's policy rewritten by Guangdong, or by a hospital
    denied(mtls, gd.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="X-1", policies=[policy_pb(ratio=9900, dedc=0)])), "policies[0].insuplc_admdvs")
    denied(mtls, gz.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="X-2", policies=[policy_pb(ratio=9900, dedc=0)])))
    # a Beijing employee's account balance set to 10^9 fen by another province
    rich = reference_data_pb2.Person(psn_no="P001", psn_name="张伟", gend="1", brdy="1960-05-01",
                                     certno="110105196005011234", insuinfo=[reference_data_pb2.InsuranceInfo(
                                         insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110105",
                                         balc=10**9)])
    denied(mtls, gd.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="X-3", persons=[rich])),
           "persons[0].insuinfo[0].insuplc_admdvs")
    # ... nor by moving the person to Guangdong first
    moved = reference_data_pb2.Person()
    moved.CopyFrom(rich)
    moved.insuinfo[0].insuplc_admdvs = "440106"
    denied(mtls, gd.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="X-4", persons=[moved])),
           "persons[0].psn_no")
    # a fake networked hospital and catalog items in another province
    fake = reference_data_pb2.Institution(fixmedins_code="H11010599999", fixmedins_name="假医院", admdvs="110105",
                                          hosp_lv="3", networked_outpatient=True)
    denied(mtls, gd.PutInstitutions(reference_data_pb2.PutInstitutionsRequest(request_id="X-5", institutions=[fake])),
           "institutions[0].admdvs")
    denied(mtls, gd.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="X-6", mdtrtarea_admvs="110000", items=[catalog_item("FAKE1")])), "mdtrtarea_admvs")
    # the same pushes by the province they belong to go through
    bj = mtls.stub("ReferenceDataService", CALLERS["bj"])
    assert mtls.run(bj.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="X-7", persons=[rich])))
    assert mtls.run(gd.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="X-8", mdtrtarea_admvs="440000", items=[catalog_item("REAL1")]))).items_written == 1


def test_no_one_gives_a_person_another_persons_id_number(mtls):
    before = snapshot(mtls.store)
    impostor = reference_data_pb2.Person(psn_no="P950", psn_name="冒名", gend="1", brdy="1970-01-01",
                                         certno="110105196005011234",  # P001's
                                         insuinfo=[reference_data_pb2.InsuranceInfo(
                                             insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110105")])
    for caller in (CALLERS["bj"], CALLERS["national"]):  # not even the rightful province, nor national
        error = refused(mtls, mtls.stub("ReferenceDataService", caller).PutPersons(reference_data_pb2.PutPersonsRequest(
            request_id=f"ID-{caller.split(':')[0]}", persons=[impostor])))
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS
        reasons, metadata, _ = rpc_error_info(error)
        assert reasons == ["CREDENTIAL_IN_USE"] and metadata["field"] == "persons[0].certno"
    assert snapshot(mtls.store) == before
    by_id = person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no="110105196005011234")
    found = mtls.run(mtls.stub("PersonService", CALLERS["national"]).GetPerson(person_pb2.GetPersonRequest(
        person=by_id))).baseinfo
    assert found.psn_no == "P001"


def test_prepaid_funds_and_month_close_are_national_only(mtls):
    for caller in (CALLERS["bj"], CALLERS["gz"]):
        clearing = mtls.stub("ClearingService", caller)
        denied(mtls, clearing.SetPrepaidFund(cpb.SetPrepaidFundRequest(
            request_id="PF-1", insuplc_admdvs="110000", year=2026, balance=10**9)))
        denied(mtls, clearing.TopUpPrepaidFund(cpb.TopUpPrepaidFundRequest(
            request_id="PF-2", insuplc_admdvs="110000", year=2026, amount=10**9)))
        denied(mtls, clearing.CloseMonth(cpb.CloseMonthRequest(request_id="PF-3", month="2026-02")))


def test_a_province_reads_its_part_of_the_clearing_statement(mtls):
    gz = mtls.stub("SettlementService", CALLERS["gz"])
    mtls.run(gz.SettleOutpatient(_outpatient("CL-1", GZ)))
    month = world.TODAY[:7]
    whole = mtls.run(mtls.stub("ClearingService", CALLERS["national"]).GetClearingStatement(
        cpb.GetClearingStatementRequest(month=month))).statement
    sh = mtls.stub("ClearingService", CALLERS["sh"])
    denied(mtls, sh.GetClearingStatement(cpb.GetClearingStatementRequest(month=month)), "admdvs")
    denied(mtls, sh.GetClearingStatement(cpb.GetClearingStatementRequest(month=month, admdvs="110000")), "admdvs")
    part = mtls.run(mtls.stub("ClearingService", CALLERS["bj"]).GetClearingStatement(
        cpb.GetClearingStatementRequest(month=month, admdvs="110000"))).statement
    assert [(p.insuplc_admdvs, p.mdtrtarea_admvs) for p in part.pairs] == [("110000", "440000")]
    assert [p.admdvs for p in part.positions] == ["110000"] and part.digest == whole.digest and not part.canonical
    nothing = mtls.run(sh.GetClearingStatement(cpb.GetClearingStatementRequest(month=month, admdvs="310000")))
    assert not nothing.statement.pairs


def test_plaintext_is_served_on_loopback_only_and_names_the_caller_in_metadata(store, writer, clock, served):
    app = App(store=store, writer=writer, clock=clock)
    for listen in ("0.0.0.0:0", "10.1.2.3:50051", "[::]:0", "example.org:50051"):
        with pytest.raises(ListenError, match="loopback"):
            build_server(app, listen, so_reuseport=False)
    assert ServerConfig(data_dir="x").tls_dir == ""  # the default is plaintext, and so loopback only
    # no caller named: UNAUTHENTICATED; two names are no name
    plain = grpc.aio.insecure_channel(served.target)
    stub = person_pb2_grpc.PersonServiceStub(plain)
    request = person_pb2.GetAccumulatorsRequest(psn_no="P001")
    for metadata in ((), (("x-medsettle-caller", "medsettle:national:ops"), ("x-medsettle-caller", "province:110000")),
                     (("x-medsettle-caller", "platform-440000"),)):
        error = refused(served, stub.GetAccumulators(request, metadata=metadata))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED and rpc_error_info(error)[0] == ["CALLER_NOT_IDENTIFIED"]
    served.run(plain.close())


def test_the_systemd_unit_serves_mutual_tls_from_a_documented_path():
    from tests.conftest import ROOT

    unit = (ROOT / "deploy" / "medsettle.service").read_text(encoding="utf-8")
    assert "--tls-dir /etc/medsettle/tls" in unit and "--insecure" not in unit
    assert "/etc/medsettle/tls" in (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")


# -- handshakes that fail, and rotation without a restart ---------------------------------------------------------


def _write_caller(directory: pathlib.Path, authority: certs.Authority, caller: str, **validity) -> None:
    cert_pem, key_pem = certs.issue_caller(authority, of(caller), **validity)
    cert_name, key_name = certs.caller_files(of(caller))
    (directory / cert_name).write_bytes(cert_pem)
    (directory / key_name).write_bytes(key_pem)


def _health(running, channel) -> grpc.StatusCode | None:
    try:
        running.run(health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5))
        return None
    except grpc.aio.AioRpcError as error:
        return error.code()


def test_an_expired_a_foreign_or_no_certificate_fails_the_handshake(mtls, tmp_path):
    now = dt.datetime.now(dt.UTC)
    ours = certs.load_authority(mtls.directory)
    expired_dir = tmp_path / "expired"
    expired_dir.mkdir()
    shutil.copy(mtls.directory / certs.CA_FILE, expired_dir / certs.CA_FILE)  # trusts the server, no CA key here
    _write_caller(expired_dir, ours, "national:ops", not_before=now - dt.timedelta(days=30),
                  not_after=now - dt.timedelta(days=1))
    foreign_dir = tmp_path / "foreign"
    foreign_dir.mkdir()
    shutil.copy(mtls.directory / certs.CA_FILE, foreign_dir / certs.CA_FILE)
    _write_caller(foreign_dir, certs.new_authority("someone else's CA"), "national:ops")
    for directory in (expired_dir, foreign_dir):
        channel = grpc.aio.secure_channel(mtls.target, tls.channel_credentials(directory, of("national:ops")))
        assert _health(mtls, channel) == grpc.StatusCode.UNAVAILABLE, directory
        mtls.run(channel.close())
    anonymous = grpc.aio.secure_channel(mtls.target, grpc.ssl_channel_credentials(
        (mtls.directory / certs.CA_FILE).read_bytes()))
    assert _health(mtls, anonymous) == grpc.StatusCode.UNAVAILABLE
    plaintext = grpc.aio.insecure_channel(mtls.target)
    assert _health(mtls, plaintext) == grpc.StatusCode.UNAVAILABLE
    for channel in (anonymous, plaintext):
        mtls.run(channel.close())
    assert _health(mtls, mtls.channel("national:ops")) is None  # the server itself is fine


def test_a_certificate_without_one_medsettle_caller_is_unauthenticated(mtls, tmp_path):
    from cryptography import x509

    ours = certs.load_authority(mtls.directory)
    directory = tmp_path / "odd"
    directory.mkdir()
    shutil.copy(mtls.directory / certs.CA_FILE, directory / certs.CA_FILE)
    two = [x509.UniformResourceIdentifier("medsettle:national:ops"), x509.UniformResourceIdentifier(
        "medsettle:province:110000")]
    for label, names in (("two", two), ("none", [x509.DNSName("gateway.example")])):
        cert_pem, key_pem = certs.issue(ours, common_name=label, names=names, server=False)
        (directory / f"{label}.pem").write_bytes(cert_pem)
        (directory / f"{label}-key.pem").write_bytes(key_pem)
        credentials = grpc.ssl_channel_credentials((directory / certs.CA_FILE).read_bytes(), key_pem, cert_pem)
        channel = grpc.aio.secure_channel(mtls.target, credentials)
        assert _health(mtls, channel) == grpc.StatusCode.UNAUTHENTICATED, label
        mtls.run(channel.close())


def test_certificates_rotate_without_a_restart(tls_dir, tmp_path):
    directory = tmp_path / "rotating"
    shutil.copytree(tls_dir, directory)
    store = Store(StoreConfig(path=str(tmp_path / "data"), map_size_bytes=TEST_MAP_SIZE_BYTES))
    running = Mtls(directory, store)
    try:
        assert _health(running, running.channel("national:ops")) is None
        # A new CA replaces the old one: ca.pem, then the server's pair (as an operator's script would write them).
        fresh = tmp_path / "fresh"
        certs.init(fresh, [of("national:ops")])
        for name in (certs.SERVER_KEY_FILE, certs.SERVER_FILE, certs.CA_FILE):
            shutil.copy(fresh / name, directory / name)
        new_client = grpc.aio.secure_channel(running.target, tls.channel_credentials(fresh, of("national:ops")))
        assert _health(running, new_client) is None  # a new handshake gets the new server certificate
        old_client = grpc.aio.secure_channel(running.target, tls.channel_credentials(tls_dir, of("national:ops")))
        assert _health(running, old_client) == grpc.StatusCode.UNAVAILABLE  # the old CA's certificates are done
        for channel in (new_client, old_client):
            running.run(channel.close())
        # A half-written rotation (a key that is not the certificate's) is not taken: the server keeps serving.
        (directory / certs.SERVER_KEY_FILE).write_bytes(certs.issue_server(certs.load_authority(fresh))[1])
        again = grpc.aio.secure_channel(running.target, tls.channel_credentials(fresh, of("national:ops")))
        assert _health(running, again) is None
        running.run(again.close())
    finally:
        running.close()
        store.close()
