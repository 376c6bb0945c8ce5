"""Who may call what: ONE declarative table, applied by the access interceptor (service/access.py) before a
servicer runs. Servicers never check identity; the domain never hears of it.

TABLE maps an RPC to its rules, at most one per caller kind. A rule names the relations a request must have to
its caller (all must hold), e.g. `Own("fixmedins_code")`: the request's fixmedins_code is the calling institution.
A kind without a rule in the row is refused; an RPC without a row is open to national callers only, until a row
says otherwise. A refusal is PERMISSION_DENIED, reason CALLER_NOT_ALLOWED, naming the RPC and the field.

To open a new RPC, add a row; to add a relation, add a class with `kinds`, `reads` and `failing` (docs/authorization.md
has the table in prose).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from google.protobuf.message import Message

from medsettle.domain import codes, reasons, region
from medsettle.domain.reasons import Refusal
from medsettle.service import logs
from medsettle.service.identity import INSTITUTION, KINDS, NATIONAL, PROVINCE, PROXY, Caller
from medsettle.store.keys import MAX_PART_BYTES
from medsettle.store.view import View

PACKAGE = "medsettle.v1"
_INDEXED = re.compile(r"(\w+)\[\]")


# -- reading a field path of a request ---------------------------------------------------------------------------


def values_at(message: Message, path: str, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(field path with indexes, value) of every value at `path`: "claim.fixmedins_code" names one value,
    "institutions[].admdvs" one per element of the repeated field."""
    head, _, rest = path.partition(".")
    repeated = _INDEXED.fullmatch(head)
    name = repeated.group(1) if repeated else head
    value = getattr(message, name)
    items = [(f"{prefix}{name}[{index}]", item) for index, item in enumerate(value)] if repeated else [
        (f"{prefix}{name}", value)]
    for where, item in items:
        if rest:
            yield from values_at(item, rest, f"{where}.")
        else:
            yield where, item


# -- relations between a request and its caller -----------------------------------------------------------------


def callers_province(caller: Caller, view: View | None) -> str:
    """The province a province caller is, or an institution lies in ("" for an unregistered institution)."""
    if caller.kind == PROVINCE:
        return caller.id
    assert caller.kind == INSTITUTION and view is not None
    institution = view.institution(caller.id)
    return "" if institution is None or not region.is_known(institution.admdvs) else region.province_of(
        institution.admdvs)


def _in_province(admdvs: object, province: str) -> bool:
    return isinstance(admdvs, str) and region.is_known(admdvs) and region.province_of(admdvs) == province


@dataclass(frozen=True)
class Own:
    """The field names the caller itself: its fixmedins_code or province code (`uri`: its whole name)."""

    field: str
    uri: bool = False
    kinds = (INSTITUTION, PROVINCE)
    text = "is not the caller"

    def reads(self, kind: str) -> bool:
        return False

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        own = caller.uri if self.uri else caller.id
        return next((where for where, value in values_at(request, self.field) if value != own), None)


@dataclass(frozen=True)
class InOwnProvince:
    """Every region at the path lies in the caller's province (an institution's: the province it lies in)."""

    field: str
    kinds = (INSTITUTION, PROVINCE)
    text = "is outside the caller's province"

    def reads(self, kind: str) -> bool:
        return kind == INSTITUTION

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        province = callers_province(caller, view)
        return next((where for where, value in values_at(request, self.field)
                     if not province or not _in_province(value, province)), None)


def _is_set(value: object) -> bool:
    return bool(value) if isinstance(value, str) else value.ByteSize() > 0


def _keyable(value: object) -> bool:
    """Whether a request's value can be looked up at all: a malformed one (a NUL, another script, too long) names
    nothing, and its servicer refuses it naming the field once the caller is let through."""
    return isinstance(value, str) and 0 < len(value) <= MAX_PART_BYTES and value.isascii() and "\x00" not in value


def _person_named(view: View, named: object):
    """The person a psn_no or a PersonRef names, or None."""
    if isinstance(named, str):
        return view.person(named) if _keyable(named) else None
    if named.psn_no:
        return view.person(named.psn_no) if _keyable(named.psn_no) else None
    if _keyable(named.mdtrt_cert_type) and _keyable(named.mdtrt_cert_no):
        psn_no = view.psn_no_by_cert(named.mdtrt_cert_type, named.mdtrt_cert_no)
        return None if psn_no is None else view.person(psn_no)
    return None


@dataclass(frozen=True)
class PersonInsuredHere:
    """The person the request names is insured in the caller's province. `field`: a psn_no or a PersonRef; with
    `or_field`, a request that names its person either way (the servicer refuses one that uses both)."""

    field: str
    or_field: str = ""
    kinds = (INSTITUTION, PROVINCE)
    text = "names no person insured in the caller's province"

    def reads(self, kind: str) -> bool:
        return True

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        assert view is not None
        province = callers_province(caller, view)
        named = [(where, value) for path in (self.field, self.or_field) if path
                 for where, value in values_at(request, path) if _is_set(value)]
        for where, value in named or list(values_at(request, self.field)):
            person = _person_named(view, value)
            if not province or person is None or not any(_in_province(line.insuplc_admdvs, province)
                                                          for line in person.insu_lines):
                return where
        return None


@dataclass(frozen=True)
class HeldPersonsInsuredHere:
    """Each psn_no at the path is new, or names a person every insurance of whom is in the caller's province: a
    province replaces only its own insured."""

    field: str
    kinds = (PROVINCE,)
    text = "names a person insured in another province"

    def reads(self, kind: str) -> bool:
        return True

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        assert view is not None
        for where, psn_no in values_at(request, self.field):
            held = view.person(psn_no) if _keyable(psn_no) else None
            if held is not None and not all(_in_province(line.insuplc_admdvs, caller.id) for line in held.insu_lines):
                return where
        return None


@dataclass(frozen=True)
class Credential:
    """The PersonRef at the field carries the person's credential: an e-voucher token, an ID number, or a card
    number with its card_sn. A psn_no alone is what an enumerating gateway would send."""

    field: str
    kinds = (INSTITUTION,)
    text = "a credential is needed, not psn_no alone"

    def reads(self, kind: str) -> bool:
        return False

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        for where, ref in values_at(request, self.field):
            if ref.mdtrt_cert_type not in codes.CERT_TYPES or not ref.mdtrt_cert_no:
                return f"{where}.mdtrt_cert_no"
            if ref.mdtrt_cert_type == codes.CERT_SOCIAL_CARD and not ref.card_sn:
                return f"{where}.card_sn"
        return None


@dataclass(frozen=True)
class SettlementInsuredHere:
    """The settlement at the field is of a person insured in the caller's province (协查请求: the insured place asks
    the place of treatment to check one of its insured's settlements). An unknown setl_id passes: the servicer
    answers SETTLEMENT_NOT_FOUND."""

    field: str
    kinds = (PROVINCE,)
    text = "is a settlement of a person insured in another province"

    def reads(self, kind: str) -> bool:
        return True

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        assert view is not None
        for where, setl_id in values_at(request, self.field):
            setl = view.settlement(setl_id) if _keyable(setl_id) else None
            if setl is not None and not _in_province(setl.insuplc_admdvs, caller.id):
                return where
        return None


@dataclass(frozen=True)
class FlagTreatedHere:
    """The flag at the field is on a settlement treated in the caller's province: only the place of treatment
    decides a flag (DOMAIN.md 9). An unknown flag_id passes: the servicer answers FLAG_NOT_FOUND."""

    field: str
    kinds = (PROVINCE,)
    text = "is a flag the caller's province does not decide"

    def reads(self, kind: str) -> bool:
        return True

    def failing(self, request: Message, caller: Caller, view: View | None) -> str | None:
        assert view is not None
        for where, flag_id in values_at(request, self.field):
            flag = view.flag(flag_id) if _keyable(flag_id) else None
            if flag is not None and flag.mdtrtarea_admvs != caller.id:
                return where
        return None


Relation = (Own | InOwnProvince | PersonInsuredHere | HeldPersonsInsuredHere | Credential | SettlementInsuredHere
            | FlagTreatedHere)


# -- answers shaped for a kind of caller ---------------------------------------------------------------------------


def masked_person(response: Message) -> None:
    """What a window needs of a person, without what would let it act as the person elsewhere: the ID number and
    the card serial masked (the e-voucher token never leaves the core: person_convert.person_pb)."""
    person = response.baseinfo
    person.certno = logs.mask(person.certno)
    person.card_sn = logs.mask(person.card_sn)


# -- rules and the table --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    kind: str
    relations: tuple[Relation, ...] = ()
    person_lookup: bool = False  # counted against the institution's person look-up rate (Limits)
    answer: Callable[[Message], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        assert self.kind in KINDS
        assert all(self.kind in relation.kinds for relation in self.relations), (self.kind, self.relations)

    @property
    def reads(self) -> bool:
        return any(relation.reads(self.kind) for relation in self.relations)


def institution(*relations: Relation, person_lookup: bool = False, answer=None) -> Rule:
    return Rule(INSTITUTION, relations, person_lookup, answer)


def province(*relations: Relation) -> Rule:
    return Rule(PROVINCE, relations)


def national() -> Rule:
    return Rule(NATIONAL)


NATIONAL_ONLY = (national(),)
EVERY_CALLER = (institution(), province(), national())

# An institution's person look-up: its credential, counted against its rate, answered masked.
_WINDOW_LOOKUP = dict(person_lookup=True)
_AS_ITSELF = institution(Own("fixmedins_code"))

TABLE: dict[str, tuple[Rule, ...]] = {
    # PersonService: institutions by credential; provinces for their insured; national.
    "PersonService/GetPerson": (institution(Credential("person"), **_WINDOW_LOOKUP, answer=masked_person),
                                province(PersonInsuredHere("person")), national()),
    "PersonService/CheckBenefit": (institution(Own("fixmedins_code"), Credential("person"), **_WINDOW_LOOKUP),
                                   province(PersonInsuredHere("person")), national()),
    "PersonService/GetAccumulators": (institution(Credential("person"), **_WINDOW_LOOKUP),
                                      province(PersonInsuredHere("psn_no", or_field="person")), national()),
    # Where a person's calls go (sharded): only their insured province, learned by credential like 1101.
    "PersonService/FindInsuredPlace": (institution(Credential("person"), **_WINDOW_LOOKUP), province(), national()),
    # FilingService: the insured place files for its insured and lists their history; the referring institution
    # (2501/2502) files for persons of its own province. A window sees the filings in force through GetPerson.
    "FilingService/CreateFiling": (province(PersonInsuredHere("psn_no")), national()),
    "FilingService/RevokeFiling": (province(PersonInsuredHere("psn_no")), national()),
    "FilingService/ListFilings": (province(PersonInsuredHere("psn_no")), national()),
    "FilingService/CreateReferralFiling": (institution(Own("fixmedins_code"), PersonInsuredHere("psn_no")),
                                           province(PersonInsuredHere("psn_no")), national()),
    "FilingService/RevokeReferralFiling": (institution(Own("fixmedins_code"), PersonInsuredHere("psn_no")),
                                           province(PersonInsuredHere("psn_no")), national()),
    "FilingService/CreateChronicQualification": (province(PersonInsuredHere("psn_no")), national()),
    "FilingService/RevokeChronicQualification": (province(PersonInsuredHere("psn_no")), national()),
    "FilingService/ListChronicQualifications": (province(PersonInsuredHere("psn_no")), national()),
    # SettlementService: an institution settles, reverses and looks up only as itself; national operations may
    # look a settlement up.
    "SettlementService/PreSettleOutpatient": (institution(Own("claim.fixmedins_code")),),
    "SettlementService/SettleOutpatient": (institution(Own("claim.fixmedins_code")),),
    "SettlementService/Admit": (_AS_ITSELF,),
    "SettlementService/UploadInpatientFees": (_AS_ITSELF,),
    "SettlementService/CancelInpatientFees": (_AS_ITSELF,),
    "SettlementService/PreSettleInpatient": (_AS_ITSELF,),
    "SettlementService/SettleInpatient": (_AS_ITSELF,),
    "SettlementService/Discharge": (_AS_ITSELF,),
    "SettlementService/ReverseSettlement": (_AS_ITSELF,),
    "SettlementService/ReverseByRequestId": (_AS_ITSELF,),
    "SettlementService/GetSettlement": (_AS_ITSELF, national()),
    # ReferenceDataService: the place of treatment pushes its catalog and its institutions, the insured place its
    # policies, insured-place parameters and insured persons.
    "ReferenceDataService/PutCatalogItems": (province(Own("mdtrtarea_admvs")), national()),
    "ReferenceDataService/PutPolicies": (province(InOwnProvince("policies[].insuplc_admdvs"),
                                                  InOwnProvince("insured_places[].insuplc_admdvs")), national()),
    "ReferenceDataService/PutInstitutions": (province(InOwnProvince("institutions[].admdvs")), national()),
    "ReferenceDataService/PutPersons": (province(InOwnProvince("persons[].insuinfo[].insuplc_admdvs"),
                                                 HeldPersonsInsuredHere("persons[].psn_no")), national()),
    "ReferenceDataService/GetCatalogItem": (institution(InOwnProvince("mdtrtarea_admvs")),
                                            province(InOwnProvince("mdtrtarea_admvs")), national()),
    "ReferenceDataService/GetPolicy": (province(InOwnProvince("insuplc_admdvs")), national()),
    "ReferenceDataService/ListAuditEntries": (province(Own("who", uri=True)), national()),
    # ClearingService: national clears and funds; a province reads its own pairs, fund and alerts; an institution
    # reconciles as itself.
    "ClearingService/GetClearingStatement": (province(Own("admdvs")), national()),
    "ClearingService/CloseMonth": NATIONAL_ONLY,
    "ClearingService/GetPrepaidFund": (province(Own("insuplc_admdvs")), national()),
    "ClearingService/SetPrepaidFund": NATIONAL_ONLY,
    "ClearingService/TopUpPrepaidFund": NATIONAL_ONLY,
    "ClearingService/ListPrepaidAlerts": (province(Own("insuplc_admdvs")), national()),
    "ClearingService/ReconcileTotals": (_AS_ITSELF, national()),
    "ClearingService/ReconcileDetail": (_AS_ITSELF, national()),
    # SupervisionService (DOMAIN.md 9): rules are pushed by the province they are of; flags are raised by the insured
    # place and decided by the place of treatment. Which rows, flags and statistics a caller sees is the domain's
    # rule (domain/flags.py: the two provinces, the institution, national), applied when they are read.
    "SupervisionService/PutAuditRules": (province(Own("rules[].admdvs")), national()),
    "SupervisionService/ListAuditRules": EVERY_CALLER,
    "SupervisionService/ListFlags": EVERY_CALLER,
    "SupervisionService/GetFlag": EVERY_CALLER,
    "SupervisionService/RaiseFlag": (province(SettlementInsuredHere("setl_id")),),
    "SupervisionService/ReviewFlag": (province(FlagTreatedHere("flag_id")),),
    "SupervisionService/GetSupervisionStats": EVERY_CALLER,
}

# Health and reflection: any verified caller (a load balancer's probe has a certificate too), the proxy in front of
# shards included (its health checks); the proxy may call nothing else as itself.
OPEN_TO_EVERY_CALLER = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/",
                        "/grpc.reflection.v1.ServerReflection/")
_OPEN_RULES = (*EVERY_CALLER, Rule(PROXY))

_ROWS = {f"/{PACKAGE}.{name}": rules for name, rules in TABLE.items()}
assert all(len({rule.kind for rule in rules}) == len(rules) for rules in TABLE.values()), "one rule per kind"


def rules_of(method: str) -> tuple[Rule, ...]:
    """The rules of a full method name ("/medsettle.v1.PersonService/GetPerson"): national only when no row."""
    if method.startswith(OPEN_TO_EVERY_CALLER):
        return _OPEN_RULES
    return _ROWS.get(method, NATIONAL_ONLY)


def rule_for(rules: tuple[Rule, ...], caller: Caller) -> Rule | None:
    return next((rule for rule in rules if rule.kind == caller.kind), None)


def check(rule: Rule | None, caller: Caller, request: Message, view: View | None) -> None:
    """Refuse (CALLER_NOT_ALLOWED, naming the field) unless `rule` lets `caller` make this request."""
    if rule is None:
        raise Refusal(reasons.CALLER_NOT_ALLOWED, detail=f"not open to {caller.kind} callers")
    for relation in rule.relations:
        where = relation.failing(request, caller, view)
        if where is not None:
            raise Refusal(reasons.CALLER_NOT_ALLOWED, field=where, detail=relation.text)
