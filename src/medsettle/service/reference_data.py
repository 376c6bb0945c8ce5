"""ReferenceDataService: provincial platforms push catalogs, policies, institutions and persons.

Every push is validated whole before anything is written, then written in one transaction (readers
see all of it or none of it), with an audit entry saying who, when and what. Each answer says how many
records were new and how many were already held as pushed; `validate_only` runs the same checks in the
writer's transaction and throws the transaction away. A version that has not taken effect can be
withdrawn (WithdrawVersion), audited like every push, the withdrawn record kept in the audit entry.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import msgspec

from medsettle.domain import codes, reasons, region, shards, versions
from medsettle.domain.reasons import Refusal
from medsettle.service import convert, idempotency, identity, person_convert, reference_convert
from medsettle.service.app import App
from medsettle.service.rpc import rpc
from medsettle.store.view import WriteView, directory_entry_of
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
TIMESTAMP_SECONDS_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a google.protobuf.Timestamp holds
YIELD_EVERY_RECORDS = 1_000  # a bulk push must not hold the event loop away from settlements for long
WITHDRAW_REASON_CHARS_MAX = 200
AUDIT_RECORD_CHARS_MAX = 4_000  # a withdrawn record as JSON: a policy row is well under 2,000 characters


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
        raise Refusal.of_all(bad)
    return good


def _unique(records, key_of, field: str, key_name: str) -> None:
    """A push names each record once: two records with one key would leave the last one written, silently."""
    first_index: dict[str, int] = {}
    for index, record in enumerate(records):
        record_key = key_of(record)
        if record_key in first_index:
            raise convert.invalid(f"{field}[{index}].{key_name}",
                                  f"{record_key} appears twice in one push ({field}[{first_index[record_key]}] too)")
        first_index[record_key] = index


def add_versions(indexed, held_of, put, field: str) -> tuple[int, int]:
    """Add each (index, record) as a new effective-dated version (versions.place_version); returns how many were
    written and how many were already held as they are."""
    written = 0
    for index, record in indexed:
        write, closed = versions.place_version(held_of(record), record, f"{field}[{index}].begndate")
        if closed is not None:
            put(closed)
        if write:
            put(record)
            written += 1
    return written, len(indexed) - written


def _replace_records(records, held_of, put) -> tuple[int, int]:
    """Add or replace each record (institutions, persons); one held exactly as pushed is left alone.
    Returns how many were written and how many were already held."""
    written = 0
    for record in records:
        if held_of(record) != record:
            put(record)
            written += 1
    return written, len(records) - written


class _ThrownAway(Exception):
    """Carries a validate_only answer out of the writer's job, so that its nested transaction is aborted."""

    def __init__(self, response) -> None:
        super().__init__("validate_only")
        self.response = response


async def _push(app: App, request, request_once: idempotency.Once | None, effect: Callable):
    """Run a push's effect: for real (recorded under its request id), or, validate_only, in the writer's transaction
    with every check a real push makes, then aborted: the answer says what would have been written."""
    if request_once is not None:
        return await request_once.run(effect)

    def job(view: WriteView):
        raise _ThrownAway(effect(view)[0])

    try:
        await app.writer.run(job)
    except _ThrownAway as thrown:
        return thrown.response
    raise AssertionError("a validate_only job always throws its answer")


def _named(value):
    """A record as JSON-ready values with its field names (the store's encoding is positional)."""
    if isinstance(value, msgspec.Struct):
        return {name: _named(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, tuple | list):
        return [_named(each) for each in value]
    return value


def _once(app: App, who: str, request, response_type) -> idempotency.Once | None:
    """The request's Once, or None for a validate_only request (it records nothing, so needs no request id)."""
    return None if request.validate_only else idempotency.Once(app, who, request, response_type)


_CREDENTIALS = (("certno", codes.CERT_ID_CARD), ("card_no", codes.CERT_SOCIAL_CARD),
                ("evoucher_token", codes.CERT_EVOUCHER))


def _unique_credentials(persons) -> None:
    """Two persons of one push never share an ID number, a card or an e-voucher."""
    for name, _ in _CREDENTIALS:
        first_index: dict[str, int] = {}
        for index, person in enumerate(persons):
            value = getattr(person, name)
            if value in first_index:
                raise Refusal(reasons.CREDENTIAL_IN_USE, field=f"persons[{index}].{name}",
                              detail=f"persons[{first_index[value]}] holds it too")
            if value:
                first_index[value] = index


def _check_credentials_free(view: WriteView, person, index: int) -> None:
    """A credential already held by another person is refused: a look-up by it would find the new person (a
    province could take over another's insured by giving its own person their ID number). A shard knows the others'
    insured by their directory entries."""
    for name, cert_type in _CREDENTIALS:
        value = getattr(person, name)
        holder = (view.psn_no_by_cert(cert_type, value) or view.directory_psn_no(cert_type, value)) if value else None
        if holder is not None and holder != person.psn_no:
            raise Refusal(reasons.CREDENTIAL_IN_USE, field=f"persons[{index}].{name}", detail="held by another person")


class ReferenceDataServicer(pb_grpc.ReferenceDataServiceServicer):
    full_name = "medsettle.v1.ReferenceDataService"
    add = staticmethod(pb_grpc.add_ReferenceDataServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    @rpc
    async def PutCatalogItems(self, request: pb.PutCatalogItemsRequest, context) -> pb.PutCatalogItemsResponse:
        who = identity.current().uri
        request_once = _once(self.app, who, request, pb.PutCatalogItemsResponse)
        if request_once is not None and (held := request_once.held()) is not None:  # a retry answers before converting
            return held
        province = convert.admdvs(request.mdtrtarea_admvs, "mdtrtarea_admvs")
        if not region.is_province(province):
            raise convert.invalid("mdtrtarea_admvs", "a catalog belongs to a province of treatment (xx0000)")
        items = await _collect(_bounded(request.items, self.app.limits.items_per_push_max, "items"),
                               reference_convert.catalog_item, "items")
        # Versions of one code in begndate order: each closes the one before it.
        indexed = sorted(enumerate(items), key=lambda pair: (pair[1].med_list_codg, pair[1].begndate))

        def effect(view: WriteView):
            written, unchanged = add_versions(
                indexed, lambda item: view.catalog_versions(province, item.med_list_codg),
                lambda item: view.put_catalog_item(province, item), "items")
            self.app.audit(view, who, "PutCatalogItems", f"province={province} items={len(items)} written={written}",
                           request.request_id)
            return pb.PutCatalogItemsResponse(items_written=written, items_unchanged=unchanged), {}

        return await _push(self.app, request, request_once, effect)

    @rpc
    async def PutPolicies(self, request: pb.PutPoliciesRequest, context) -> pb.PutPoliciesResponse:
        who = identity.current().uri
        request_once = _once(self.app, who, request, pb.PutPoliciesResponse)
        if request_once is not None and (held := request_once.held()) is not None:  # a retry answers before converting
            return held
        limit = self.app.limits.records_per_push_max
        if not request.policies and not request.insured_places:
            raise Refusal(reasons.INVALID_ARGUMENT, field="policies", detail="nothing to write")
        for field, values in (("policies", request.policies), ("insured_places", request.insured_places)):
            if len(values) > limit:
                raise Refusal(reasons.LINES_LIMIT, field=field, detail=f"{len(values)} records, at most {limit} per push")
        policies = await _collect(request.policies, reference_convert.policy, "policies")
        places = await _collect(request.insured_places, reference_convert.insured_place, "insured_places")

        def effect(view: WriteView):
            written_policies, unchanged_policies = add_versions(
                sorted(enumerate(policies), key=lambda pair: pair[1].begndate),
                lambda p: view.policy_versions(p.insuplc_admdvs, p.insutype, p.category, p.psn_type, p.hosp_lv),
                view.put_policy, "policies")
            written_places, unchanged_places = add_versions(
                sorted(enumerate(places), key=lambda pair: pair[1].begndate),
                lambda p: view.insured_place_versions(p.insuplc_admdvs), view.put_insured_place, "insured_places")
            regions = sorted({p.insuplc_admdvs for p in policies} | {p.insuplc_admdvs for p in places})
            self.app.audit(view, who, "PutPolicies",
                        f"regions={','.join(regions[:20])} policies={written_policies} places={written_places} "
                        f"begndates={','.join(sorted({p.begndate for p in policies})[:10])}", request.request_id)
            return pb.PutPoliciesResponse(policies_written=written_policies, insured_places_written=written_places,
                                          policies_unchanged=unchanged_policies,
                                          insured_places_unchanged=unchanged_places), {}

        return await _push(self.app, request, request_once, effect)

    @rpc
    async def PutInstitutions(self, request: pb.PutInstitutionsRequest, context) -> pb.PutInstitutionsResponse:
        who = identity.current().uri
        request_once = _once(self.app, who, request, pb.PutInstitutionsResponse)
        if request_once is not None and (held := request_once.held()) is not None:  # a retry answers before converting
            return held
        institutions = await _collect(_bounded(request.institutions, self.app.limits.records_per_push_max, "institutions"),
                                      reference_convert.institution, "institutions")
        _unique(institutions, lambda i: i.fixmedins_code, "institutions", "fixmedins_code")

        def effect(view: WriteView):
            written, unchanged = _replace_records(institutions, lambda i: view.institution(i.fixmedins_code),
                                                  view.put_institution)
            self.app.audit(view, who, "PutInstitutions", f"institutions={len(institutions)} written={written}",
                           request.request_id)
            return pb.PutInstitutionsResponse(institutions_written=written, institutions_unchanged=unchanged), {}

        return await _push(self.app, request, request_once, effect)

    @rpc
    async def PutPersons(self, request: pb.PutPersonsRequest, context) -> pb.PutPersonsResponse:
        who = identity.current().uri
        request_once = _once(self.app, who, request, pb.PutPersonsResponse)
        if request_once is not None and (held := request_once.held()) is not None:  # a retry answers before converting
            return held
        persons = await _collect(_bounded(request.persons, self.app.limits.records_per_push_max, "persons"),
                                 person_convert.person, "persons")
        _unique(persons, lambda p: p.psn_no, "persons", "psn_no")
        today = self.app.clock.today()
        for index, person in enumerate(persons):
            if person.brdy > today:
                raise convert.invalid(f"persons[{index}].brdy", f"a birth date after today ({today})")

        _unique_credentials(persons)
        elsewhere = self._elsewhere(persons)

        def effect(view: WriteView):
            for index, person in enumerate(persons):
                _check_credentials_free(view, person, index)
            own = [person for person in persons if person.psn_no not in elsewhere]
            written, unchanged = _replace_records(own, lambda p: view.person(p.psn_no), view.put_person)
            for person in own:
                view.delete_directory_entry(person.psn_no)  # insured here now, if they were elsewhere
            for person in persons:
                if person.psn_no in elsewhere:
                    view.delete_person(person.psn_no)  # insured elsewhere now, if they were here: history stays
                    view.put_directory_entry(directory_entry_of(person, elsewhere[person.psn_no]))
            self.app.audit(view, who, "PutPersons", f"persons={len(persons)} written={written} "
                                                    f"directory={len(elsewhere)}", request.request_id)
            return pb.PutPersonsResponse(persons_written=written, persons_unchanged=unchanged,
                                         persons_in_directory=len(elsewhere)), {}

        return await _push(self.app, request, request_once, effect)

    def _elsewhere(self, persons) -> dict[str, str]:
        """Sharded: psn_no -> insured province of each person another shard owns (this one keeps them only in its
        credential directory). A person whose insurances lie on two shards is refused."""
        shard_map = self.app.shard_map
        if shard_map is None:
            return {}
        found = {}
        for index, person in enumerate(persons):
            insured = tuple(line.insuplc_admdvs for line in person.insu_lines)
            owner = shards.owner_of_regions(shard_map, insured)
            if owner is None:
                raise Refusal(reasons.PERSON_SPANS_SHARDS, field=f"persons[{index}].insuinfo",
                              detail=f"insured in {', '.join(sorted({region.province_of(r) for r in insured}))}")
            if owner.name != self.app.shard_name:
                found[person.psn_no] = region.province_of(insured[0])
        return found

    @rpc
    async def WithdrawVersion(self, request: pb.WithdrawVersionRequest, context) -> pb.WithdrawVersionResponse:
        who = identity.current().uri
        request_once = idempotency.Once(self.app, who, request, pb.WithdrawVersionResponse)
        if (held := request_once.held()) is not None:
            return held
        begndate = convert.date(request.begndate, "begndate")
        if not request.reason.strip():
            raise convert.invalid("reason", "required: why the version is withdrawn (kept in the audit trail)")
        reason = convert.checked_name(request.reason, "reason", WITHDRAW_REASON_CHARS_MAX)
        versions_of, put, delete, named = self._versioned(request)
        today = self.app.clock.today()

        def effect(view: WriteView):
            withdrawn, extended = versions.withdraw(versions_of(view), begndate, today, "begndate")
            delete(view, withdrawn)
            if extended is not None:
                put(view, extended)
            record = json.dumps(_named(withdrawn), ensure_ascii=False, separators=(",", ":"))
            self.app.audit(view, who, "WithdrawVersion", f"{named} begndate={begndate} reason={reason} "
                           f"withdrawn={record[:AUDIT_RECORD_CHARS_MAX]}", request.request_id)
            return pb.WithdrawVersionResponse(extended_begndate=extended.begndate if extended else "",
                                              extended_enddate=extended.enddate if extended else ""), {}

        return await request_once.run(effect)

    @staticmethod
    def _versioned(request: pb.WithdrawVersionRequest):
        """(versions of the named record, put, delete, a name for the audit) for the record a withdrawal names."""
        which = request.WhichOneof("record")
        if which == "catalog_item":
            key = request.catalog_item
            province = convert.admdvs(key.mdtrtarea_admvs, "catalog_item.mdtrtarea_admvs")
            if not region.is_province(province):
                raise convert.invalid("catalog_item.mdtrtarea_admvs", "a catalog belongs to a province (xx0000)")
            code = convert.code(key.med_list_codg, "catalog_item.med_list_codg")
            return (lambda view: view.catalog_versions(province, code),
                    lambda view, item: view.put_catalog_item(province, item),
                    lambda view, item: view.delete_catalog_item(province, item), f"catalog {province}/{code}")
        if which == "policy":
            key = request.policy
            row = (convert.admdvs(key.insuplc_admdvs, "policy.insuplc_admdvs"),
                   convert.code(key.insutype, "policy.insutype", codes.INSUTYPES),
                   convert.code(key.category, "policy.category", codes.CATEGORIES),
                   convert.code(key.psn_type, "policy.psn_type", codes.PSN_GROUPS),
                   convert.code(key.hosp_lv, "policy.hosp_lv", codes.HOSP_LEVELS))
            return (lambda view: view.policy_versions(*row), lambda view, policy: view.put_policy(policy),
                    lambda view, policy: view.delete_policy(policy), f"policy {'/'.join(row)}")
        if which == "insured_place":
            province = convert.admdvs(request.insured_place, "insured_place")
            if not region.is_province(province):
                raise convert.invalid("insured_place", "insured-place parameters are per province (xx0000)")
            return (lambda view: view.insured_place_versions(province), lambda view, place: view.put_insured_place(place),
                    lambda view, place: view.delete_insured_place(place), f"insured place {province}")
        raise convert.invalid("record", "required: catalog_item, policy or insured_place")

    @rpc
    async def GetCatalogItem(self, request: pb.GetCatalogItemRequest, context) -> pb.GetCatalogItemResponse:
        province = region.province_of(convert.admdvs(request.mdtrtarea_admvs, "mdtrtarea_admvs"))
        code = convert.code(request.med_list_codg, "med_list_codg")
        date = convert.date(request.date, "date", allow_empty=True) or self.app.clock.today()
        with self.app.store.read() as view:
            item = view.catalog_item(province, code, date)
        if item is None:
            raise Refusal(reasons.UNKNOWN_CATALOG_ITEM, field="med_list_codg", detail=f"{code} in {province} on {date}")
        return pb.GetCatalogItemResponse(item=reference_convert.catalog_item_pb(item))

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
        return pb.GetPolicyResponse(policy=reference_convert.policy_pb(policy))

    @rpc
    async def ListAuditEntries(self, request: pb.ListAuditEntriesRequest, context) -> pb.ListAuditEntriesResponse:
        limit = request.limit or AUDIT_PAGE_DEFAULT
        if not 0 < limit <= AUDIT_PAGE_MAX:
            raise convert.invalid("limit", f"limit must be 1..{AUDIT_PAGE_MAX}")
        method = convert.code(request.method, "method", allow_empty=True)
        who = request.who
        if who and identity.parse(who) is None:
            raise convert.invalid("who", "a caller's name: medsettle:<kind>:<id>")
        since, since_ms = request.since, 0
        if request.HasField("since"):
            # Checked before ToMilliseconds, which raises outside the range of a Timestamp (years 1 to 9999).
            if not (0 <= since.seconds <= TIMESTAMP_SECONDS_MAX and 0 <= since.nanos < 1_000_000_000):
                raise convert.invalid("since", f"a Timestamp from 1970 to 9999, got {since.seconds} s {since.nanos} ns")
            since_ms = since.ToMilliseconds()
        with self.app.store.read() as view:
            entries = view.audit_entries(since_ms, limit, method, who)
        return pb.ListAuditEntriesResponse(entries=[
            pb.AuditEntry(who=e.who, when=convert.timestamp_of_ms(e.when_ms), method=e.method, what=e.what,
                          request_id=e.request_id) for e in entries])
