"""`medsettle bench export-visits`: what it exports from a deployment's store settles there, as the mix sends it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from medsettle import visits_export
from medsettle.demo import seeding
from medsettle.domain import region
from medsettle.v1 import common_pb2, person_pb2, settlement_pb2, settlement_pb2_grpc

DATE = "2026-03-02"  # the `served` fixture's clock


@pytest.fixture
def exported(store, tmp_path):
    seeding.seed(store, seed=2026, items_per_province=200, persons_per_province=20, today="2026-01-01",
                 progress=False)
    out = tmp_path / "visits.json"
    where = (["--store", store.config.conninfo] if store.backend == "postgresql"
             else ["--data-dir", store.config.path])
    done = subprocess.run([sys.executable, "-m", "medsettle.cli", "bench", "export-visits", *where, "--out", str(out),
                           "--outpatient", "40", "--inpatient", "10", "--today", DATE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "40 outpatient and 10 inpatient visits that can settle on 2026-03-02" in done.stdout
    return visits_export.read(out)


def _lines(lines, today: str) -> list[common_pb2.FeeLine]:
    return [common_pb2.FeeLine(feedetl_sn=f"{i + 1:05d}", med_list_codg=code, cnt=cnt, pric=pric,
                               det_item_fee_sumamt=amount, fee_ocur_time=today)
            for i, (code, cnt, pric, amount) in enumerate(lines)]


def test_exported_visits_settle_on_the_deployment_they_came_from(exported, store, served):
    today, outpatient, inpatient = exported
    assert today == DATE and len(outpatient) == 40 and len(inpatient) == 10
    assert not {v.psn_no for v in outpatient} & {v.psn_no for v in inpatient}  # a person is in one list only
    with store.read() as view:
        for visit in outpatient + inpatient:
            person = view.person(visit.psn_no)
            assert visit.insuplc_admdvs == person.insu_lines[0].insuplc_admdvs  # what a shard proxy routes by
            assert region.province_of(view.institution(visit.fixmedins_code).admdvs) == visit.province
            assert len(visit.lines) == visits_export.LINES_PER_VISIT
            items = [view.catalog_item(visit.province, code, today) for code, *_ in visit.lines]
            assert all(item is not None and not item.restricted for item in items)
            assert len({item.list_type for item in items}) >= 3  # drugs, services and materials, as a bill has

    async def settle_all():
        for visit in outpatient[:8]:
            stub = settlement_pb2_grpc.SettlementServiceStub(served.as_(f"institution:{visit.fixmedins_code}"))
            lines = _lines(visit.lines, today)
            answer = await stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
                request_id=f"X{visit.psn_no}", claim=settlement_pb2.OutpatientClaim(
                    person=person_pb2.PersonRef(psn_no=visit.psn_no), fixmedins_code=visit.fixmedins_code,
                    med_type="11", fee_lines=lines, medfee_sumamt=sum(line.det_item_fee_sumamt for line in lines))))
            assert answer.settlement.setl_id and answer.settlement.medfee_sumamt == sum(x[3] for x in visit.lines)
        for visit in inpatient[:3]:
            stub = settlement_pb2_grpc.SettlementServiceStub(served.as_(f"institution:{visit.fixmedins_code}"))
            admitted = await stub.Admit(settlement_pb2.AdmitRequest(
                request_id=f"A{visit.psn_no}", person=person_pb2.PersonRef(psn_no=visit.psn_no),
                fixmedins_code=visit.fixmedins_code, med_type="21"))
            await stub.UploadInpatientFees(settlement_pb2.UploadInpatientFeesRequest(
                request_id=f"U{visit.psn_no}", fixmedins_code=visit.fixmedins_code, mdtrt_id=admitted.mdtrt_id,
                fee_lines=_lines(visit.lines, today)))
            answer = await stub.SettleInpatient(settlement_pb2.SettleInpatientRequest(
                request_id=f"I{visit.psn_no}", fixmedins_code=visit.fixmedins_code, mdtrt_id=admitted.mdtrt_id))
            assert answer.settlement.setl_id and len(answer.settlement.lines) == len(visit.lines)

    served.run(settle_all())


def test_an_export_of_another_format_is_refused(tmp_path):
    path = tmp_path / "visits.json"
    path.write_text('{"format": 99, "today": "2026-03-02", "outpatient": [], "inpatient": []}')
    with pytest.raises(ValueError, match="not a visits export of format 1"):
        visits_export.read(path)


def test_a_document_of_visits_reads_back_as_the_same_visits(tmp_path):
    # The bench's mix writes the export's visits again with other lines (bench/mixtool.py prepare --item-pool):
    # through the same document, so a run reads them as it reads an export.
    outpatient = [visits_export.Visit("P1", "H1", "440000", "110000", (("XA001", "1", "10.00", 1000),))]
    inpatient = [visits_export.Visit("P2", "H2", "310000", "440000", (("XB002", "2", "3.50", 700),))]
    path = tmp_path / "visits.json"
    path.write_text(json.dumps(visits_export.document(DATE, outpatient, inpatient)))
    assert visits_export.read(path) == (DATE, outpatient, inpatient)
