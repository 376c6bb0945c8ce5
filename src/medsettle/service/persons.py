"""PersonService: person information (1101), benefit check (2001), accumulators (5206)."""

from __future__ import annotations

from medsettle.domain import codes, filing_rules
from medsettle.service import convert, filing_convert, lookups, person_convert
from medsettle.service.app import App
from medsettle.service.rpc import rpc
from medsettle.v1 import person_pb2 as pb
from medsettle.v1 import person_pb2_grpc as pb_grpc


class PersonServicer(pb_grpc.PersonServiceServicer):
    full_name = "medsettle.v1.PersonService"
    add = staticmethod(pb_grpc.add_PersonServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    @rpc
    async def GetPerson(self, request: pb.GetPersonRequest, context) -> pb.GetPersonResponse:
        today = self.app.clock.today()
        with self.app.store.read() as view:
            person, _ = lookups.resolve_person(view, request.person)
            filings = [f for f in view.filings(person.psn_no) if filing_rules.in_force(f, today)]
            quals = [q for q in view.qualifications(person.psn_no) if filing_rules.in_force(q, today)]
        return pb.GetPersonResponse(
            baseinfo=person_convert.person_pb(person),
            filings=[filing_convert.filing_pb(f) for f in filings],
            qualifications=[filing_convert.qualification_pb(q) for q in quals],
        )

    @rpc
    async def FindInsuredPlace(self, request: pb.FindInsuredPlaceRequest, context) -> pb.FindInsuredPlaceResponse:
        with self.app.store.read() as view:
            return pb.FindInsuredPlaceResponse(insuplc_admdvs=lookups.insured_province(view, request.person))

    @rpc
    async def CheckBenefit(self, request: pb.CheckBenefitRequest, context) -> pb.CheckBenefitResponse:
        med_type = convert.code(request.med_type, "med_type", codes.MED_TYPES)
        date = convert.date(request.date, "date", allow_empty=True) or self.app.clock.today()
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code")
        dise_codg = convert.code(request.dise_codg, "dise_codg", allow_empty=True)
        if med_type == codes.MED_TYPE_CHRONIC_OUTPATIENT and not dise_codg:
            raise convert.invalid("dise_codg", "med_type 14 names the chronic disease")
        with self.app.store.read() as view:
            person, cert_type = lookups.resolve_person(view, request.person)
            insutype = lookups.default_insutype(person, request.insutype)
            institution = view.institution(fixmedins_code)
            # An open stay at this institution: asked during it, 2001 answers as its settlement (2304) will.
            stays = [stay for mdtrt_id in view.open_stay_ids(person.psn_no)
                     if (stay := view.stay(mdtrt_id)) is not None and stay.fixmedins_code == fixmedins_code]
            admission_date = stays[0].begndate if stays and med_type in codes.INPATIENT_MED_TYPES else ""
            answer = lookups.benefit(view, person, insutype, institution, med_type, date, dise_codg, cert_type,
                                     admission_date=admission_date)
        return pb.CheckBenefitResponse(
            ok=answer.ok, reasons=[convert.reason_pb(r) for r in answer.reasons],
            filing_category=answer.filing_category, trt_dcla_detl_sn=answer.trt_dcla_detl_sn,
            insuplc_admdvs=answer.insuplc_admdvs,
        )

    @rpc
    async def GetAccumulators(self, request: pb.GetAccumulatorsRequest, context) -> pb.GetAccumulatorsResponse:
        year = convert.year(request.year or int(self.app.clock.today()[:4]))
        with self.app.store.read() as view:
            person = lookups.person_of(view, request.psn_no, request.person)
            insutype = lookups.default_insutype(person, request.insutype)
            row = view.accumulator_row(person.psn_no, insutype, year)
        return pb.GetAccumulatorsResponse(accumulators=person_convert.accumulators_pb(row.accumulators, year, insutype))
