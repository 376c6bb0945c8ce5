"""ReferenceDataService: provincial platforms push catalogs, policies, institutions and persons.

Every push is validated whole before anything is written, then written in one transaction (readers
see all of it or none of it), with an audit entry saying who, when and what.
"""

from __future__ import annotations

import asyncio

from medsettle.domain import codes, reasons, region, versions
from medsettle.domain.reasons import Refusal
from medsettle.service import convert, idempotency
from medsettle.service.app import App
from medsettle.service.identity import caller_of
from medsettle.service.rpc import rpc
from medsettle.store.rows import AuditEntry
from medsettle.store.view import WriteView
from medsettle.v1 import reference_data_pb2 as pb
from medsettle.v1 import reference_data_pb2_grpc as pb_grpc


def _bounded(values, limit: int, field: str):
    if not values:
        raise Refusal(reasons.INVALID_ARGUMENT, field=field, detail="nothing to write")
    if len(values) > limit:
        raise Refusal(reasons.LINES_LIMIT, field=field, detail=f"{len(values)} records, at most {limit} per push")
    return values


AUDIT_PAGE_DEFAULT = 100
AUDIT_PAGE_MAX = 1_000
YIELD_EVERY_RECORDS = 1_000  # a bulk push must not hold the event loop away from settlements for long


async def _collect(values, convert_one, field: str):
    """Convert every record; report every bad one (up to 50), not just the first."""
    good, bad = [], []
    for index, value in enumerate(values):
        if index % YIELD_EVERY_RECORDS == YIELD_EVERY_RECORDS - 1:
            await asyncio.sleep(0)
        try:
            good.append(convert_one(value, f"{field}[{index}]"))
        except Refusal as refusal:
            bad.extend(refusal.all)
            if len(bad) >= 50:
                break
    if bad:
        raise Refusal(bad[0].reason, field=bad[0].field, detail=bad[0].detail, more=tuple(bad[1:]))
    return good


class ReferenceDataServicer(pb_grpc.ReferenceDataServiceServicer):
    full_name = "medsettle.v1.ReferenceDataService"
    add = staticmethod(pb_grpc.add_ReferenceDataServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    def _audit(self, view: WriteView, who: str, method: str, what: str, request_id: str) -> None:
        view.add_audit(AuditEntry(who=who, when_ms=self.app.clock.now_ms(), method=method, what=what,
                                  request_id=request_id))

    @rpc
    async def PutCatalogItems(self, request: pb.PutCatalogItemsRequest, context) -> pb.PutCatalogItemsResponse:
        province = convert.admdvs(request.mdtrtarea_admvs, "mdtrtarea_admvs")
        if not region.is_province(province):
            raise convert.invalid("mdtrtarea_admvs", "a catalog belongs to a province of treatment (xx0000)")
        items = await _collect(_bounded(request.items, self.app.limits.items_per_push_max, "items"), convert.catalog_item,
                         "items")
        order = sorted(range(len(items)), key=lambda i: (items[i].med_list_codg, items[i].begndate))
        who = caller_of(context)

        def effect(view: WriteView):
            written = 0
            for index in order:
                item = items[index]
                write, closed = versions.place_version(
                    view.catalog_versions(province, item.med_list_codg), item, f"items[{index}].begndate")
                if closed is not None:
                    view.put_catalog_item(province, closed)
                if write:
                    view.put_catalog_item(province, item)
                    written += 1
            self._audit(view, who, "PutCatalogItems", f"province={province} items={len(items)} written={written}",
                        request.request_id)
            return pb.PutCatalogItemsResponse(items_written=written), {}

        return await idempotency.once(self.app, who, request, pb.PutCatalogItemsResponse, effect)

    @rpc
    async def PutPolicies(self, request: pb.PutPoliciesRequest, context) -> pb.PutPoliciesResponse:
        limit = self.app.limits.records_per_push_max
        if not request.policies and not request.insured_places:
            raise Refusal(reasons.INVALID_ARGUMENT, field="policies", detail="nothing to write")
        policies = await _collect(request.policies[: limit + 1], convert.policy, "policies")
        places = await _collect(request.insured_places[: limit + 1], convert.insured_place, "insured_places")
        if len(policies) > limit or len(places) > limit:
            raise Refusal(reasons.LINES_LIMIT, field="policies", detail=f"at most {limit} per push")
        who = caller_of(context)

        def effect(view: WriteView):
            written_policies = written_places = 0
            for index, policy in sorted(enumerate(policies), key=lambda p: (p[1].insuplc_admdvs, p[1].begndate)):
                held = view.policy_versions(policy.insuplc_admdvs, policy.insutype, policy.category, policy.psn_type,
                                            policy.hosp_lv)
                write, closed = versions.place_version(held, policy, f"policies[{index}].begndate")
                if closed is not None:
                    view.put_policy(closed)
                if write:
                    view.put_policy(policy)
                    written_policies += 1
            for index, place in sorted(enumerate(places), key=lambda p: p[1].begndate):
                held = view.insured_place_versions(place.insuplc_admdvs)
                write, closed = versions.place_version(held, place, f"insured_places[{index}].begndate")
                if closed is not None:
                    view.put_insured_place(closed)
                if write:
                    view.put_insured_place(place)
                    written_places += 1
            regions = sorted({p.insuplc_admdvs for p in policies} | {p.insuplc_admdvs for p in places})
            self._audit(view, who, "PutPolicies",
                        f"regions={','.join(regions[:20])} policies={written_policies} places={written_places} "
                        f"begndates={','.join(sorted({p.begndate for p in policies})[:10])}", request.request_id)
            return pb.PutPoliciesResponse(policies_written=written_policies,
                                          insured_places_written=written_places), {}

        return await idempotency.once(self.app, who, request, pb.PutPoliciesResponse, effect)

    @rpc
    async def PutInstitutions(self, request: pb.PutInstitutionsRequest, context) -> pb.PutInstitutionsResponse:
        institutions = await _collect(_bounded(request.institutions, self.app.limits.records_per_push_max, "institutions"),
                                convert.institution, "institutions")
        who = caller_of(context)

        def effect(view: WriteView):
            for institution in institutions:
                view.put_institution(institution)
            self._audit(view, who, "PutInstitutions", f"institutions={len(institutions)}", request.request_id)
            return pb.PutInstitutionsResponse(institutions_written=len(institutions)), {}

        return await idempotency.once(self.app, who, request, pb.PutInstitutionsResponse, effect)

    @rpc
    async def PutPersons(self, request: pb.PutPersonsRequest, context) -> pb.PutPersonsResponse:
        persons = await _collect(_bounded(request.persons, self.app.limits.records_per_push_max, "persons"), convert.person,
                           "persons")
        who = caller_of(context)

        def effect(view: WriteView):
            for person in persons:
                view.put_person(person)
            self._audit(view, who, "PutPersons", f"persons={len(persons)}", request.request_id)
            return pb.PutPersonsResponse(persons_written=len(persons)), {}

        return await idempotency.once(self.app, who, request, pb.PutPersonsResponse, effect)

    @rpc
    async def GetCatalogItem(self, request: pb.GetCatalogItemRequest, context) -> pb.GetCatalogItemResponse:
        province = region.province_of(convert.admdvs(request.mdtrtarea_admvs, "mdtrtarea_admvs"))
        code = convert.code(request.med_list_codg, "med_list_codg")
        date = convert.date(request.date, "date", allow_empty=True) or self.app.clock.today()
        with self.app.store.read() as view:
            item = view.catalog_item(province, code, date)
        if item is None:
            raise Refusal(reasons.UNKNOWN_CATALOG_ITEM, field="med_list_codg", detail=f"{code} in {province} on {date}")
        return pb.GetCatalogItemResponse(item=convert.catalog_item_pb(item))

    @rpc
    async def GetPolicy(self, request: pb.GetPolicyRequest, context) -> pb.GetPolicyResponse:

        insuplc = convert.admdvs(request.insuplc_admdvs, "insuplc_admdvs")
        insutype = convert.code(request.insutype, "insutype", codes.INSUTYPES)
        category = convert.code(request.category, "category", codes.CATEGORIES)
        psn_type = convert.code(request.psn_type, "psn_type", codes.PSN_GROUPS)
        hosp_lv = convert.code(request.hosp_lv, "hosp_lv", codes.HOSP_LEVELS)
        date = convert.date(request.date, "date", allow_empty=True) or self.app.clock.today()
        with self.app.store.read() as view:
            policy = view.policy(insuplc, insutype, category, psn_type, hosp_lv, date)
        if policy is None:
            raise Refusal(reasons.NO_POLICY, field="insuplc_admdvs", detail=f"no policy row in force on {date}")
        return pb.GetPolicyResponse(policy=convert.policy_pb(policy))

    @rpc
    async def ListAuditEntries(self, request: pb.ListAuditEntriesRequest, context) -> pb.ListAuditEntriesResponse:
        limit = request.limit or AUDIT_PAGE_DEFAULT
        if not 0 < limit <= AUDIT_PAGE_MAX:
            raise convert.invalid("limit", f"limit must be 1..{AUDIT_PAGE_MAX}")
        method = convert.code(request.method, "method", allow_empty=True)
        since_ms = request.since.ToMilliseconds() if request.HasField("since") else 0
        if since_ms < 0:
            raise convert.invalid("since", "before 1970")
        with self.app.store.read() as view:
            entries = view.audit_entries(since_ms, limit, method)
        return pb.ListAuditEntriesResponse(entries=[
            pb.AuditEntry(who=e.who, when=convert.timestamp_of_ms(e.when_ms), method=e.method, what=e.what,
                          request_id=e.request_id) for e in entries])
