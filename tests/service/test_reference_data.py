"""ReferenceDataService: effective-dated versions, atomic pushes, national-rule validation, audit trail,
and the `medsettle load` bulk loader."""

from __future__ import annotations

import os
import signal

import grpc
import pytest

from medsettle import certs, tls
from medsettle.service import identity, reference_convert
from medsettle.service.clock import FixedClock
from medsettle.v1 import person_pb2, reference_data_pb2, reference_data_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from tests.conftest import rpc_error_info
from tests.service.test_lifecycle import free_port, start_server, wait_serving
from tests.service.test_settlements import claim, line

GUANGDONG = identity.metadata("province:440000")  # the place of treatment of the world's hospitals
BEIJING = identity.metadata("province:110000")  # the insured place of the world's persons


@pytest.fixture
def api(world, served):
    """Reference data as national operations push it (a call may name a province instead); settlements as each
    hospital makes them."""
    return (reference_data_pb2_grpc.ReferenceDataServiceStub(served.channel),
            settlement_pb2_grpc.SettlementServiceStub(served.as_gateway()))


def catalog_item(code="XA001", begndate="2026-07-01", **fields) -> reference_data_pb2.CatalogItem:
    values = dict(med_list_codg=code, name="阿司匹林肠溶片", list_type="101", chrgitm_lv="01", begndate=begndate)
    values.update(fields)
    return reference_data_pb2.CatalogItem(**values)


def policy_pb(**fields) -> reference_data_pb2.Policy:
    from tests import world

    pb = reference_convert.policy_pb(world.policy("310", "1", "11", "3"))
    pb.begndate = "2026-07-01"
    for name, value in fields.items():
        if name == "ratio":
            del pb.bands[:]
            pb.bands.add(ratio=value)
        else:
            setattr(pb, name, value)
    return pb


def refused(served, call):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        served.run(call)
    return caught.value


def test_a_mid_year_version_applies_only_after_its_date_and_old_settlements_still_explain_themselves(
        api, served, world, clock: FixedClock):
    reference, settlements = api
    before = served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="V-1", claim=claim("P001", world.GZ_HOSPITAL, [line("1", "S0001", "1", "80", 8_000)])))).settlement
    assert before.overlmt_selfpay == 3_000  # ceiling 50 yuan from 2025-01-01

    # Guangdong lowers the ceiling of S0001 from July; Beijing lowers its outpatient ratio from July.
    served.run(reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="C-1", mdtrtarea_admvs="440000",
        items=[catalog_item("S0001", list_type="201", pric_uplmt_amt=4_000)]), metadata=GUANGDONG))
    served.run(reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="P-1", policies=[policy_pb(ratio=8000, dedc=0)]), metadata=BEIJING))
    old = served.run(reference.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
        mdtrtarea_admvs="440106", med_list_codg="S0001", date="2026-06-30"))).item
    assert (old.pric_uplmt_amt, old.enddate) == (5_000, "2026-06-30")  # closed the day before the new version

    clock.advance_days(122)  # 2026-07-02
    lines = [line("1", "S0001", "1", "80", 8_000, "2026-06-30"), line("2", "S0001", "1", "80", 8_000, "2026-07-01")]
    after = served.run(settlements.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="V-2", claim=claim("P001", world.GZ_HOSPITAL, lines)))).settlement
    assert [x.overlmt_amt for x in after.lines] == [3_000, 4_000]  # catalog by fee date
    assert [x.catalog_begndate for x in after.lines] == ["2025-01-01", "2026-07-01"]
    # in scope 5,000 + 4,000 = 9,000; the July row: no deductible, 80% -> 7,200
    assert (after.pool_prop_selfpay, after.act_pay_dedc, after.hifp_pay) == (8000, 0, 7_200)
    again = served.run(settlements.GetSettlement(settlement_pb2.GetSettlementRequest(
        fixmedins_code=world.GZ_HOSPITAL, setl_id=before.setl_id))).settlement
    assert again == before  # the old settlement is unchanged, with the versions it used
    assert any("2025-01-01" in step.text_en for step in again.explanation if step.code == "POLICY")
    policy_then = served.run(reference.GetPolicy(reference_data_pb2.GetPolicyRequest(
        insuplc_admdvs="110105", insutype="310", category="1", psn_type="11", hosp_lv="3", date="2026-03-02"))).policy
    assert policy_then.bands[0].ratio == 9000 and policy_then.enddate == "2026-06-30"


def test_a_refused_push_writes_nothing(api, served, store):
    reference, _ = api
    before = store.counts()
    items = [catalog_item(f"N{i:05d}") for i in range(5_000)] + [catalog_item("BAD", chrgitm_lv="02")]
    error = refused(served, reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="C-2", mdtrtarea_admvs="440000", items=items)))
    assert rpc_error_info(error)[1]["field"] == "items[5000].selfpay_prop"
    assert store.counts() == before


@pytest.mark.parametrize("fields,reason,field", [
    (dict(reduction_other=2500), "NATIONAL_RULE_VIOLATED", "policies[0].reduction_other"),
    (dict(reduction_referral=1100), "NATIONAL_RULE_VIOLATED", "policies[0].reduction_referral"),
    (dict(reduction_emergency=1001), "NATIONAL_RULE_VIOLATED", "policies[0].reduction_emergency"),
    (dict(ratio=10_001), "NATIONAL_RULE_VIOLATED", "policies[0].bands[0].ratio"),
    (dict(insuplc_admdvs="990000"), "UNKNOWN_REGION", "policies[0].insuplc_admdvs"),
    (dict(begndate="2025-01-01", dedc=1), "VERSION_OVERLAP", "policies[0].begndate"),
    (dict(begndate="2024-06-01"), "VERSION_OVERLAP", "policies[0].begndate"),
])
def test_policy_validation_refuses_with_the_field(api, served, store, fields, reason, field):
    reference, _ = api
    before = store.counts()
    error = refused(served, reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="P-9", policies=[policy_pb(**fields)])))
    codes, metadata, violations = rpc_error_info(error)
    assert codes[0] == reason and metadata["field"] == field and field in violations
    assert store.counts() == before


@pytest.mark.parametrize("push,reason,field", [
    (dict(items=[catalog_item(chrgitm_lv="02")]), "NATIONAL_RULE_VIOLATED", "items[0].selfpay_prop"),
    (dict(items=[catalog_item(begndate="2025-01-01", pric_uplmt_amt=1)]), "VERSION_OVERLAP", "items[0].begndate"),
    (dict(items=[catalog_item(selfpay_prop=20_000)]), "NATIONAL_RULE_VIOLATED", "items[0].selfpay_prop"),
    (dict(items=[catalog_item(chrgitm_lv="09")]), "INVALID_ARGUMENT", "items[0].chrgitm_lv"),
    (dict(items=[catalog_item(lmt_sex="2")]), "INVALID_ARGUMENT", "items[0].lmt_used_flag"),
    (dict(mdtrtarea_admvs="990000", items=[catalog_item()]), "UNKNOWN_REGION", "mdtrtarea_admvs"),
])
def test_catalog_validation_refuses_with_the_field(api, served, store, push, reason, field):
    reference, _ = api
    before = store.counts()
    request = reference_data_pb2.PutCatalogItemsRequest(request_id="C-9", mdtrtarea_admvs="440000")
    request.MergeFrom(reference_data_pb2.PutCatalogItemsRequest(**push))
    error = refused(served, reference.PutCatalogItems(request))
    codes, metadata, _ = rpc_error_info(error)
    assert codes[0] == reason and metadata["field"] == field
    assert store.counts() == before


@pytest.mark.parametrize("fields,field", [
    (dict(tmp_filing_months=5), "insured_places[0].tmp_filing_months"),
    (dict(longterm_lock_months=7), "insured_places[0].longterm_lock_months"),
    (dict(insuplc_admdvs="110100"), "insured_places[0].insuplc_admdvs"),
])
def test_insured_place_validation(api, served, fields, field):
    reference, _ = api
    place = reference_data_pb2.InsuredPlace(insuplc_admdvs="120000", begndate="2026-01-01", open_med_types=["11"],
                                            tmp_filing_months=6, longterm_lock_months=6)
    place.MergeFrom(reference_data_pb2.InsuredPlace(**fields))
    if "longterm_lock_months" in fields:
        place.longterm_lock_months = fields["longterm_lock_months"]
    error = refused(served, reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="IP-9", insured_places=[place])))
    assert rpc_error_info(error)[1]["field"] == field


def test_audit_trail_records_who_when_what(api, served, clock):
    reference, _ = api
    served.run(reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="A-1", mdtrtarea_admvs="440000", items=[catalog_item("AUD01")]), metadata=GUANGDONG))
    served.run(reference.PutInstitutions(reference_data_pb2.PutInstitutionsRequest(
        request_id="A-2", institutions=[reference_data_pb2.Institution(
            fixmedins_code="H44010600099", fixmedins_name="新医院", admdvs="440106", hosp_lv="1",
            networked_outpatient=True)]), metadata=GUANGDONG))
    served.run(reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="A-3", policies=[policy_pb(ratio=8000)]), metadata=BEIJING))
    entries = served.run(reference.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest())).entries
    assert [(e.who, e.method) for e in entries] == [("medsettle:province:440000", "PutCatalogItems"),
                                                    ("medsettle:province:440000", "PutInstitutions"),
                                                    ("medsettle:province:110000", "PutPolicies")]
    # who is a filter; a province reads its own entries (and is refused another's)
    mine = served.run(reference.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest(
        who="medsettle:province:110000"), metadata=BEIJING)).entries
    assert [e.request_id for e in mine] == ["A-3"]
    error = refused(served, reference.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest(
        who="medsettle:province:440000"), metadata=BEIJING))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED and rpc_error_info(error)[1]["field"] == "who"
    assert "items=1" in entries[0].what and entries[0].when.ToMilliseconds() == clock.now_ms()
    only = served.run(reference.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest(method="PutInstitutions")))
    assert [e.request_id for e in only.entries] == ["A-2"]


def test_put_persons_and_institutions_round_trip(api, served):
    reference, _ = api
    served.run(reference.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="PP-1", persons=[
        reference_data_pb2.Person(psn_no="P900", psn_name="孙丽", gend="2", brdy="1975-07-07",
                                  certno="440106197507071234", insuinfo=[reference_data_pb2.InsuranceInfo(
                                      insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="440106")])])))
    from medsettle.v1 import person_pb2_grpc

    got = served.run(person_pb2_grpc.PersonServiceStub(served.channel).GetPerson(person_pb2.GetPersonRequest(
        person=person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no="440106197507071234"))))
    assert got.baseinfo.psn_no == "P900" and got.baseinfo.insuinfo[0].insuplc_admdvs == "440106"


def test_a_push_names_each_person_and_institution_once_and_no_one_is_born_tomorrow(api, served, store):
    reference, _ = api
    before = store.counts()

    def person(psn_no: str, brdy: str = "1975-07-07") -> reference_data_pb2.Person:
        return reference_data_pb2.Person(psn_no=psn_no, psn_name="孙丽", gend="2", brdy=brdy, certno="440106197507071234",
                                         insuinfo=[reference_data_pb2.InsuranceInfo(
                                             insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="440106")])

    twice = refused(served, reference.PutPersons(reference_data_pb2.PutPersonsRequest(
        request_id="PP-2", persons=[person("P901"), person("P902"), person("P901")])))
    assert rpc_error_info(twice)[1]["field"] == "persons[2].psn_no"
    tomorrow = refused(served, reference.PutPersons(reference_data_pb2.PutPersonsRequest(
        request_id="PP-3", persons=[person("P903", brdy="2026-03-03")])))  # the world's today is 2026-03-02
    assert rpc_error_info(tomorrow)[1]["field"] == "persons[0].brdy"
    hospital = reference_data_pb2.Institution(fixmedins_code="H44010699999", fixmedins_name="广州某医院", admdvs="440106",
                                              hosp_lv="3", networked_outpatient=True)
    institutions_twice = refused(served, reference.PutInstitutions(reference_data_pb2.PutInstitutionsRequest(
        request_id="PI-2", institutions=[hospital, hospital])))
    assert rpc_error_info(institutions_twice)[1]["field"] == "institutions[1].fixmedins_code"
    assert store.counts() == before


def test_bulk_loader_and_a_killed_push_leaves_nothing_half_written(tmp_path):
    """`medsettle load catalog` from CSV in batches; then a server killed (SIGKILL) in the middle of a big push: after
    a restart, that push's items are either all there or none."""
    from medsettle import cli

    csv_path = tmp_path / "catalog.csv"
    rows = ["med_list_codg,name,list_type,chrgitm_lv,selfpay_prop_bp,pric_uplmt_amt_fen,lmt_used_flag,lmt_sex,begndate"]
    rows += [f"L{i:06d},项目{i},201,02,1000,{100 + i},,,2026-01-01" for i in range(2_500)]
    rows += ["LR00001,女性专用,101,01,,,1,2,2026-01-01"]
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    data_dir, port = str(tmp_path / "data"), free_port()
    tls_dir = tmp_path / "tls"  # over mutual TLS, as Guangdong's platform pushes
    guangdong = identity.of("province:440000")
    certs.init(tls_dir, [guangdong])
    process = start_server(data_dir, port, "serve", "--create", "--tls-dir", str(tls_dir))
    try:
        credentials = tls.channel_credentials(tls_dir, guangdong)
        wait_serving(port, process, credentials=credentials)
        with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
            stub = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
            load = ["load", "catalog", str(csv_path), "--province", "440000", "--target", f"127.0.0.1:{port}",
                    "--batch-items", "1000", "--no-progress",
                    "--tls-dir", str(tls_dir), "--as", "province:440000"]
            assert cli.main(load) == 0
            assert cli.main(load) == 0  # a re-run writes nothing again
            assert stub.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
                mdtrtarea_admvs="440000", med_list_codg="L002499", date="2026-01-01")).item.pric_uplmt_amt == 2_599
            item = stub.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
                mdtrtarea_admvs="440000", med_list_codg="LR00001", date="2026-01-01")).item
            assert item.lmt_sex == "2" and item.lmt_used_flag
            # Four pushes of 50,000 (the most one push may carry) in flight; killed as soon as the first is answered,
            # while the others are being converted or written.
            pushes = [reference_data_pb2.PutCatalogItemsRequest(
                request_id=f"KILL-{p}", mdtrtarea_admvs="440000",
                items=[catalog_item(f"K{p}{i:06d}", begndate="2026-01-01") for i in range(50_000)]) for p in range(4)]
            futures = [stub.PutCatalogItems.future(push, timeout=60) for push in pushes]
            futures[0].result()
            os.kill(process.pid, signal.SIGKILL)
            acknowledged = []
            for future in futures:
                try:
                    acknowledged.append(future.result().items_written == 50_000)
                except grpc.RpcError:
                    acknowledged.append(False)
            assert acknowledged[0] and not all(acknowledged), acknowledged  # killed with pushes in flight
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    from medsettle.store.env import Store, StoreConfig

    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    with store.read() as view:
        for p, was_acknowledged in enumerate(acknowledged):
            found = sum(1 for i in range(0, 50_000, 97) if view.catalog_item("440000", f"K{p}{i:06d}", "2026-01-01"))
            assert found in (0, len(range(0, 50_000, 97)))  # all or nothing
            assert found or not was_acknowledged  # nothing acknowledged is lost
        assert view.catalog_item("440000", "L002499", "2026-01-01") is not None  # acknowledged batches survive
    store.close()


def test_lists_inside_a_record_are_bounded(api, served, store):
    """Limits on everything: a record's own lists (bands, limited diagnoses, opened diseases) have a maximum, and a
    push past it is refused naming the list, with nothing written."""

    reference, _ = api
    before = store.counts()
    too_many_codes = [f"M{i:05d}" for i in range(reference_convert.RECORD_CODES_MAX + 1)]
    item = catalog_item(lmt_used_flag=True, lmt_dise_codes=too_many_codes)
    error = refused(served, reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="L-1", mdtrtarea_admvs="440000", items=[item])))
    assert rpc_error_info(error)[1]["field"] == "items[0].lmt_dise_codes"
    banded = policy_pb()
    del banded.bands[:]
    for i in range(reference_convert.BANDS_MAX):
        banded.bands.add(upto=(i + 1) * 100_000, ratio=9000)
    banded.bands.add(ratio=9000)
    error = refused(served, reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(request_id="L-2",
                                                                                           policies=[banded])))
    assert rpc_error_info(error)[1]["field"] == "policies[0].bands"
    place = reference_data_pb2.InsuredPlace(insuplc_admdvs="120000", begndate="2026-01-01", open_med_types=["11"],
                                            open_dise_codes=too_many_codes, tmp_filing_months=6)
    error = refused(served, reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(request_id="L-3",
                                                                                           insured_places=[place])))
    assert rpc_error_info(error)[1]["field"] == "insured_places[0].open_dise_codes"
    assert store.counts() == before


@pytest.mark.parametrize("left_out", ["cap_category", "cap_overall", "dedc"])
def test_a_policy_missing_a_cap_or_its_deductible_is_refused_naming_it(api, served, store, left_out):
    """Left out, these read as 0 (the fund pays nothing; no deductible): the money would change silently."""
    reference, _ = api
    before = store.counts()
    policy = policy_pb()
    policy.ClearField(left_out)
    error = refused(served, reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="P-CAP", policies=[policy])))
    codes, metadata, violations = rpc_error_info(error)
    assert (codes[0], metadata["field"]) == ("INVALID_ARGUMENT", f"policies[0].{left_out}")
    assert metadata["detail"].startswith("required:") and f"policies[0].{left_out}" in violations
    assert store.counts() == before


def test_explicit_policy_fields_round_trip_as_given(api, served):
    """dedc_later left out = "same as dedc" (not 0, not -1); the last band has no upto; a cap of 0 is a real 0."""
    reference, _ = api
    policy = policy_pb(category="3", cap_category=0)
    policy.ClearField("dedc_later")
    served.run(reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(request_id="P-RT", policies=[policy])))
    got = served.run(reference.GetPolicy(reference_data_pb2.GetPolicyRequest(
        insuplc_admdvs="110000", insutype="310", category="3", psn_type="11", hosp_lv="3", date="2026-07-01"))).policy
    assert not got.HasField("dedc_later") and got.HasField("cap_category") and got.cap_category == 0
    assert not got.bands[-1].HasField("upto")


def test_validate_only_answers_what_a_push_would_write_and_writes_nothing(api, served, store):
    reference, _ = api
    before = store.counts()
    request = reference_data_pb2.PutCatalogItemsRequest(mdtrtarea_admvs="440000", validate_only=True,
                                                        items=[catalog_item("VO001"), catalog_item("VO002")])
    assert served.run(reference.PutCatalogItems(request)).items_written == 2
    assert store.counts() == before  # no item, no request record, no audit entry
    overlap = refused(served, reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        mdtrtarea_admvs="440000", validate_only=True, items=[catalog_item("XA001", begndate="2025-01-01",
                                                                          pric_uplmt_amt=1)])))
    assert rpc_error_info(overlap)[0][0] == "VERSION_OVERLAP"  # checked against the versions held, too
    assert store.counts() == before


def test_a_repeated_push_reports_its_records_as_already_held(api, served):
    reference, _ = api
    items = [catalog_item("RP001"), catalog_item("RP002")]
    first = served.run(reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="RP-1", mdtrtarea_admvs="440000", items=items)))
    again = served.run(reference.PutCatalogItems(reference_data_pb2.PutCatalogItemsRequest(
        request_id="RP-2", mdtrtarea_admvs="440000", items=items)))
    assert (first.items_written, first.items_unchanged) == (2, 0)
    assert (again.items_written, again.items_unchanged) == (0, 2)
    hospital = reference_data_pb2.Institution(fixmedins_code="H44010699998", fixmedins_name="某医院", admdvs="440106",
                                              hosp_lv="2", networked_outpatient=True)
    answers = [served.run(reference.PutInstitutions(reference_data_pb2.PutInstitutionsRequest(
        request_id=f"RI-{n}", institutions=[hospital]))) for n in range(2)]
    assert [(a.institutions_written, a.institutions_unchanged) for a in answers] == [(1, 0), (0, 1)]


def test_a_version_not_yet_in_effect_is_withdrawn_and_the_one_before_runs_on(api, served, world):
    """A mistaken July policy is withdrawn in March: the 2025 version is in force again after June, the withdrawn
    record is kept in the audit trail with who and why; a version already in force cannot be withdrawn."""
    reference, _ = api
    served.run(reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="W-1", policies=[policy_pb(dedc=2_000)])))  # 20 yuan, meant 2,000 yuan
    key = reference_data_pb2.PolicyKey(insuplc_admdvs="110000", insutype="310", category="1", psn_type="11", hosp_lv="3")
    answer = served.run(reference.WithdrawVersion(reference_data_pb2.WithdrawVersionRequest(
        request_id="W-2", policy=key, begndate="2026-07-01", reason="起付线误录为20元")))
    assert (answer.extended_begndate, answer.extended_enddate) == ("2025-01-01", "")
    august = served.run(reference.GetPolicy(reference_data_pb2.GetPolicyRequest(
        insuplc_admdvs="110000", insutype="310", category="1", psn_type="11", hosp_lv="3", date="2026-08-01"))).policy
    assert (august.begndate, august.enddate, august.dedc) == ("2025-01-01", "", 180_000)
    entry = served.run(reference.ListAuditEntries(reference_data_pb2.ListAuditEntriesRequest(
        method="WithdrawVersion"))).entries[0]
    assert entry.who == "medsettle:national:ops" and "起付线误录为20元" in entry.what and '"dedc_fen":2000' in entry.what
    in_effect = refused(served, reference.WithdrawVersion(reference_data_pb2.WithdrawVersionRequest(
        request_id="W-3", policy=key, begndate="2025-01-01", reason="太晚了")))
    assert rpc_error_info(in_effect)[0][0] == "VERSION_IN_EFFECT"
    # the correction of a version in force: a later version supersedes it from a date, the old one stays in history
    served.run(reference.PutPolicies(reference_data_pb2.PutPoliciesRequest(
        request_id="W-4", policies=[policy_pb(dedc=150_000, begndate="2026-03-03")])))
    today = served.run(reference.GetPolicy(reference_data_pb2.GetPolicyRequest(
        insuplc_admdvs="110000", insutype="310", category="1", psn_type="11", hosp_lv="3", date="2026-03-02"))).policy
    assert (today.dedc, today.enddate) == (180_000, "2026-03-02")
