"""The seeded demo nation produces every refusal reason of DOMAIN.md 5 through CheckBenefit."""

from __future__ import annotations

import pytest

from medsettle.demo import nation as demo_nation
from medsettle.demo import seeding
from medsettle.domain import region
from medsettle.service import lookups
from medsettle.v1 import person_pb2, person_pb2_grpc

EXPECTED = {
    "PERSON_NOT_FOUND", "INSU_STATUS_ABNORMAL", "CARD_NOT_ACTIVATED", "NO_FILING", "FILING_EXPIRED",
    "FILING_OTHER_REGION", "FILING_OTHER_INSTITUTION", "INSTITUTION_NOT_FOUND", "INSTITUTION_NOT_NETWORKED",
    "MED_TYPE_NOT_OPEN", "CHRONIC_NOT_QUALIFIED", "DISEASE_NOT_OPEN", "NO_POLICY", "NOT_CROSS_PROVINCE",
}
DATE = "2026-03-02"
# LMDB only: this checks the demo nation's data (the same whichever store holds it) with a few hundred thousand
# look-ups in one snapshot, microseconds each on LMDB and a network round trip each on PostgreSQL (44 s).
BACKENDS = ("lmdb",)


@pytest.fixture
def seeded(store):
    seeding.seed(store, seed=2026, items_per_province=200, persons_per_province=60, today="2026-01-01",
                 progress=False)
    return store


def candidate_queries(view):
    """(psn_no, cert, fixmedins_code, med_type, dise, date) combinations worth asking about."""
    institutions = {p: [demo_nation.institution_code(*demo_nation.institution_place(p, s)[:1], s) for s in range(1, 61)]
                    for p in region.PROVINCES}
    for province in region.PROVINCES:
        for serial in range(1, 61):
            psn_no = demo_nation.person_no(province, serial)
            person = view.person(psn_no)
            filings = view.filings(psn_no)
            target = filings[0].mdtrtarea_admvs[:2] + "0000" if filings else ("440000" if province != "440000"
                                                                               else "110000")
            for code in institutions[target]:
                for med_type in ("11", "14", "21"):
                    dise = "M00503" if med_type == "14" else ""
                    yield person, psn_no, code, med_type, dise
            yield person, psn_no, institutions[province][0], "11", ""  # at home: not cross-province


def test_every_refusal_reason_is_reachable_in_the_demo_nation(seeded, served):
    found: dict[str, tuple] = {}
    with seeded.read() as view:
        for person, psn_no, code, med_type, dise in candidate_queries(view):
            institution = view.institution(code)
            for cert in ("", "03"):
                answer = lookups.benefit(view, person, person.insu_lines[0].insutype, institution, med_type, DATE,
                                         dise, cert)
                for reason in answer.reasons:
                    found.setdefault(reason.code, (psn_no, cert, code, med_type, dise, DATE))
            if EXPECTED - {"PERSON_NOT_FOUND", "INSTITUTION_NOT_FOUND", "NO_POLICY"} <= set(found):
                break
    found.setdefault("PERSON_NOT_FOUND", ("P000000000000", "", "H44010600001", "11", "", DATE))
    found.setdefault("INSTITUTION_NOT_FOUND", (demo_nation.person_no("110000", 1), "", "H99999999999", "11", "", DATE))
    found.setdefault("NO_POLICY", (demo_nation.person_no("110000", 1), "", demo_nation.institution_code(
        *demo_nation.institution_place("440000", 1)[:1], 1), "11", "", "2024-06-01"))
    missing = EXPECTED - set(found)
    assert not missing, f"the demo nation never produces {missing}"

    stub = person_pb2_grpc.PersonServiceStub(served.channel)
    for code, (psn_no, cert, fixmedins_code, med_type, dise, date) in sorted(found.items()):
        with seeded.read() as view:
            person = view.person(psn_no)
        ref = (person_pb2.PersonRef(mdtrt_cert_type="03", mdtrt_cert_no=person.card_no, card_sn=person.card_sn)
               if cert == "03" else person_pb2.PersonRef(psn_no=psn_no))
        request = person_pb2.CheckBenefitRequest(person=ref, fixmedins_code=fixmedins_code, med_type=med_type,
                                                 dise_codg=dise, date=date)
        if code == "PERSON_NOT_FOUND":
            import grpc

            with pytest.raises(grpc.aio.AioRpcError):
                served.run(stub.CheckBenefit(request))
            continue
        answer = served.run(stub.CheckBenefit(request))
        assert code in [r.code for r in answer.reasons], (code, answer)
        assert all(r.message_zh and r.message_en for r in answer.reasons)
