"""FilingService: filings (备案, 2501/2502) and chronic-disease qualifications (2503/2504/5301).

Validation and the write happen inside one write transaction, so two concurrent long-term filings of
one person cannot both pass the one-active-long-term rule.
"""

from __future__ import annotations

from medsettle.domain import codes, filing_rules, reasons, region
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import ChronicQualification, Filing, InsuredPlace, Person
from medsettle.service import convert, filing_convert, idempotency, identity, lookups
from medsettle.service.app import App
from medsettle.service.rpc import rpc
from medsettle.store.view import View, WriteView
from medsettle.v1 import filing_pb2 as pb
from medsettle.v1 import filing_pb2_grpc as pb_grpc


def _person_line(view: View, psn_no: str, insutype: str) -> tuple[Person, str, str]:
    """The person, the insutype (named or their only one) and its insured region."""
    person = lookups.person_by_psn_no(view, psn_no)
    insutype = lookups.default_insutype(person, insutype)
    line = person.line(insutype)
    if line is None:
        raise Refusal(reasons.INSUTYPE_NOT_HELD, field="insutype")
    return person, insutype, line.insuplc_admdvs


def _place(view: View, insuplc_admdvs: str, today: str) -> InsuredPlace:
    place = view.insured_place(insuplc_admdvs, today)
    if place is None:
        raise Refusal(reasons.NO_POLICY, field="psn_no", detail=f"no insured-place parameters for {insuplc_admdvs}")
    return place


def _open_stay_begndate(view: View, psn_no: str, filed_region: str) -> str | None:
    """Admission date of the person's open stay in the filed region: a retroactive filing may start there."""
    dates = []
    for mdtrt_id in view.open_stay_ids(psn_no):
        stay = view.stay(mdtrt_id)
        if stay is not None and region.covers(filed_region, stay.mdtrtarea_admvs):
            dates.append(stay.begndate)
    return min(dates) if dates else None


class FilingServicer(pb_grpc.FilingServiceServicer):
    full_name = "medsettle.v1.FilingService"
    add = staticmethod(pb_grpc.add_FilingServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    def _create(self, view: WriteView, who: str, method: str, request_id: str, draft: dict) -> Filing:
        """Validate and store a new filing built from `draft` (fields of Filing without sn and insured place)."""
        today = self.app.clock.today()
        draft = dict(draft)  # the job may not change what its request holds
        person, insutype, insuplc = _person_line(view, draft.pop("psn_no"), draft.pop("insutype"))
        begndate = draft.pop("begndate") or today
        place = _place(view, insuplc, today)
        known_region = region.is_known(draft["mdtrtarea_admvs"])  # else validate_filing refuses, naming it
        if draft["category"] == codes.FILING_REFERRAL and draft["reflin_medins_no"]:
            receiving = view.institution(draft["reflin_medins_no"])
            if receiving is None:
                raise Refusal(reasons.INSTITUTION_NOT_FOUND, field="reflin_medins_no")
            if known_region and not region.covers(draft["mdtrtarea_admvs"], receiving.admdvs):
                raise convert.invalid("reflin_medins_no", "the receiving institution is not in the filed region")
        sn = f"F{today.replace('-', '')}{view.next_id('filing'):010d}"
        filing = filing_rules.validate_filing(
            Filing(trt_dcla_detl_sn=sn, psn_no=person.psn_no, insutype=insutype, insuplc_admdvs=insuplc,
                   begndate=begndate, **draft),
            today, place, existing=view.filings(person.psn_no),
            open_stay_begndate=_open_stay_begndate(view, person.psn_no, draft["mdtrtarea_admvs"]) if known_region
            else None,
        )
        view.put_filing(filing)
        self.app.audit(view, who, method, f"filing {sn} category {filing.category} psn {person.psn_no} "
                                       f"region {filing.mdtrtarea_admvs} {filing.begndate}..{filing.enddate}", request_id)
        return filing

    def _revoke(self, view: WriteView, who: str, method: str, request_id: str, psn_no: str, sn: str,
                referring: str | None) -> Filing:
        filing = view.filing(psn_no, sn)
        if filing is None or (referring is not None and (filing.category != codes.FILING_REFERRAL
                                                         or filing.fixmedins_code != referring)):
            raise Refusal(reasons.FILING_NOT_FOUND, field="trt_dcla_detl_sn")
        today = self.app.clock.today()
        revoked = filing_rules.validate_revoke(filing, today, _place(view, filing.insuplc_admdvs, today))
        view.put_filing(revoked)
        self.app.audit(view, who, method, f"filing {sn} revoked psn {psn_no}", request_id)
        return revoked

    @rpc
    async def CreateFiling(self, request: pb.CreateFilingRequest, context) -> pb.CreateFilingResponse:
        draft = dict(
            psn_no=convert.code(request.psn_no, "psn_no"), insutype=request.insutype,
            mdtrtarea_admvs=request.mdtrtarea_admvs, category=request.category,
            begndate=convert.date(request.begndate, "begndate", allow_empty=True),
            enddate=convert.date(request.enddate, "enddate", allow_empty=True),
            reflin_medins_no=convert.code(request.reflin_medins_no, "reflin_medins_no", allow_empty=True),
        )
        who = identity.current().uri

        def effect(view: WriteView):
            filing = self._create(view, who, "CreateFiling", request.request_id, draft)
            return (pb.CreateFilingResponse(filing=filing_convert.filing_pb(filing)),
                    {"trt_dcla_detl_sn": filing.trt_dcla_detl_sn})

        return await idempotency.once(self.app, who, request, pb.CreateFilingResponse, effect)

    @rpc
    async def RevokeFiling(self, request: pb.RevokeFilingRequest, context) -> pb.RevokeFilingResponse:
        psn_no = convert.code(request.psn_no, "psn_no")
        sn = convert.code(request.trt_dcla_detl_sn, "trt_dcla_detl_sn")
        who = identity.current().uri

        def effect(view: WriteView):
            filing = self._revoke(view, who, "RevokeFiling", request.request_id, psn_no, sn, None)
            return pb.RevokeFilingResponse(filing=filing_convert.filing_pb(filing)), {"trt_dcla_detl_sn": sn}

        return await idempotency.once(self.app, who, request, pb.RevokeFilingResponse, effect)

    @rpc
    async def ListFilings(self, request: pb.ListFilingsRequest, context) -> pb.ListFilingsResponse:
        with self.app.store.read() as view:
            person = lookups.person_by_psn_no(view, request.psn_no)
            filings = view.filings(person.psn_no)
        return pb.ListFilingsResponse(filings=[filing_convert.filing_pb(f) for f in filings
                                               if request.include_revoked or not f.revoked_date])

    @rpc
    async def CreateReferralFiling(self, request: pb.CreateReferralFilingRequest, context) -> pb.CreateReferralFilingResponse:
        referring = convert.code(request.fixmedins_code, "fixmedins_code")
        receiving = convert.code(request.reflin_medins_no, "reflin_medins_no")
        psn_no = convert.code(request.psn_no, "psn_no")
        convert.code(request.dise_codg, "dise_codg", allow_empty=True)  # not kept, but never accepted malformed
        begndate = convert.date(request.begndate, "begndate", allow_empty=True)
        enddate = convert.date(request.enddate, "enddate", allow_empty=True)
        who = identity.current().uri

        def effect(view: WriteView):
            if view.institution(referring) is None:
                raise Refusal(reasons.INSTITUTION_NOT_FOUND, field="fixmedins_code")
            target = view.institution(receiving)
            if target is None:
                raise Refusal(reasons.INSTITUTION_NOT_FOUND, field="reflin_medins_no")
            draft = dict(psn_no=psn_no, insutype=request.insutype,
                         mdtrtarea_admvs=region.city_of(target.admdvs), category=codes.FILING_REFERRAL,
                         begndate=begndate, enddate=enddate, reflin_medins_no=receiving, fixmedins_code=referring)
            filing = self._create(view, who, "CreateReferralFiling", request.request_id, draft)
            return (pb.CreateReferralFilingResponse(filing=filing_convert.filing_pb(filing)),
                    {"trt_dcla_detl_sn": filing.trt_dcla_detl_sn})

        return await idempotency.once(self.app, referring, request, pb.CreateReferralFilingResponse, effect)

    @rpc
    async def RevokeReferralFiling(self, request: pb.RevokeReferralFilingRequest, context) -> pb.RevokeReferralFilingResponse:
        referring = convert.code(request.fixmedins_code, "fixmedins_code")
        psn_no = convert.code(request.psn_no, "psn_no")
        sn = convert.code(request.trt_dcla_detl_sn, "trt_dcla_detl_sn")
        who = identity.current().uri

        def effect(view: WriteView):
            filing = self._revoke(view, who, "RevokeReferralFiling", request.request_id, psn_no, sn, referring)
            return pb.RevokeReferralFilingResponse(filing=filing_convert.filing_pb(filing)), {"trt_dcla_detl_sn": sn}

        return await idempotency.once(self.app, referring, request, pb.RevokeReferralFilingResponse, effect)

    @rpc
    async def CreateChronicQualification(self, request: pb.CreateChronicQualificationRequest,
                                         context) -> pb.CreateChronicQualificationResponse:
        psn_no = convert.code(request.psn_no, "psn_no")
        begndate = convert.date(request.begndate, "begndate", allow_empty=True)
        enddate = convert.date(request.enddate, "enddate", allow_empty=True)
        who = identity.current().uri

        def effect(view: WriteView):
            today = self.app.clock.today()
            person, insutype, insuplc = _person_line(view, psn_no, request.insutype)
            qualification = filing_rules.validate_qualification(
                ChronicQualification(psn_no=person.psn_no, insutype=insutype, opsp_dise_code=request.opsp_dise_code,
                                     insuplc_admdvs=insuplc, begndate=begndate or today, enddate=enddate),
                today, view.qualifications(person.psn_no))
            view.put_qualification(qualification)
            self.app.audit(view, who, "CreateChronicQualification",
                        f"psn {person.psn_no} disease {qualification.opsp_dise_code}", request.request_id)
            answer = pb.CreateChronicQualificationResponse(qualification=filing_convert.qualification_pb(qualification))
            return answer, {}

        return await idempotency.once(self.app, who, request, pb.CreateChronicQualificationResponse, effect)

    @rpc
    async def RevokeChronicQualification(self, request: pb.RevokeChronicQualificationRequest,
                                         context) -> pb.RevokeChronicQualificationResponse:
        psn_no = convert.code(request.psn_no, "psn_no")
        dise = convert.code(request.opsp_dise_code, "opsp_dise_code")
        who = identity.current().uri

        def effect(view: WriteView):
            active = [q for q in view.qualifications(psn_no) if q.opsp_dise_code == dise and not q.revoked_date]
            if not active:
                raise Refusal(reasons.QUALIFICATION_NOT_FOUND, field="opsp_dise_code")
            revoked = filing_rules.validate_qualification_revoke(active[-1], self.app.clock.today())
            view.put_qualification(revoked)
            self.app.audit(view, who, "RevokeChronicQualification", f"psn {psn_no} disease {dise}", request.request_id)
            return pb.RevokeChronicQualificationResponse(qualification=filing_convert.qualification_pb(revoked)), {}

        return await idempotency.once(self.app, who, request, pb.RevokeChronicQualificationResponse, effect)

    @rpc
    async def ListChronicQualifications(self, request: pb.ListChronicQualificationsRequest,
                                        context) -> pb.ListChronicQualificationsResponse:
        with self.app.store.read() as view:
            person = lookups.person_by_psn_no(view, request.psn_no)
            quals = view.qualifications(person.psn_no)
        return pb.ListChronicQualificationsResponse(
            qualifications=[filing_convert.qualification_pb(q) for q in quals
                            if request.include_revoked or not q.revoked_date])
