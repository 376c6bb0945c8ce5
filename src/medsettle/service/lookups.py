"""Reads the rules need, gathered from one snapshot: who the person is, and everything the benefit check
(2001) reads. Settlement calls the same function, so the window sees the same reasons in both places."""

from __future__ import annotations

from medsettle.domain import codes, reasons, region
from medsettle.domain.eligibility import BenefitAnswer, BenefitQuery, check_benefit
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import Institution, Person
from medsettle.service import convert
from medsettle.store.view import View
from medsettle.v1 import person_pb2


def person_by_psn_no(view: View, psn_no: str, field: str = "psn_no") -> Person:
    """The person with this psn_no; refusals name `field`, the request's own field."""
    person = view.person(convert.code(psn_no, field))
    if person is None:
        raise Refusal(reasons.PERSON_NOT_FOUND, field=field, detail=elsewhere(view, psn_no))
    return person


def elsewhere(view: View, psn_no: str) -> str:
    """A sharded deployment's hint for a person this shard does not hold but its directory knows."""
    entry = view.directory_entry(psn_no)
    return "" if entry is None else (f"insured in {entry.insuplc_admdvs}, on another shard: name it in "
                                     f"x-insuplc-admdvs")


def resolve_person(view: View, ref: person_pb2.PersonRef, field: str = "person") -> tuple[Person, str]:
    """The person named by psn_no or by credential, and the credential type used ("" for psn_no). Both given: the
    credential must be that person's."""
    if ref.psn_no:
        # The credential shown beside the psn_no, if any, still decides the card check: it must be well formed.
        cert_type = convert.code(ref.mdtrt_cert_type, f"{field}.mdtrt_cert_type", codes.CERT_TYPES, allow_empty=True)
        convert.code(ref.mdtrt_cert_no, f"{field}.mdtrt_cert_no", allow_empty=True)
        convert.code(ref.card_sn, f"{field}.card_sn", allow_empty=True)
        person = person_by_psn_no(view, ref.psn_no, f"{field}.psn_no")
        if ref.mdtrt_cert_no and _by_credential(view, ref, field).psn_no != person.psn_no:
            raise convert.invalid(f"{field}.mdtrt_cert_no", "the credential is another person's than psn_no")
        return person, cert_type
    return _by_credential(view, ref, field), ref.mdtrt_cert_type


def _by_credential(view: View, ref: person_pb2.PersonRef, field: str) -> Person:
    cert_type = convert.code(ref.mdtrt_cert_type, f"{field}.mdtrt_cert_type", codes.CERT_TYPES)
    cert_no = convert.code(ref.mdtrt_cert_no, f"{field}.mdtrt_cert_no")
    psn_no = view.psn_no_by_cert(cert_type, cert_no)
    person = None if psn_no is None else view.person(psn_no)
    if person is None:
        held_elsewhere = view.directory_psn_no(cert_type, cert_no)
        raise Refusal(reasons.PERSON_NOT_FOUND, field=f"{field}.mdtrt_cert_no",
                      detail="" if held_elsewhere is None else elsewhere(view, held_elsewhere))
    if cert_type == codes.CERT_SOCIAL_CARD and ref.card_sn != person.card_sn:
        raise convert.invalid(f"{field}.card_sn", "card_sn does not match the card")
    return person


def insured_province(view: View, ref: person_pb2.PersonRef, field: str = "person") -> str:
    """The insured province of the person a PersonRef names: of the person held here, else from the credential
    directory (persons insured on other shards)."""
    try:
        person, _ = resolve_person(view, ref, field)
    except Refusal as refusal:
        if refusal.reason is not reasons.PERSON_NOT_FOUND:
            raise
        psn_no = ref.psn_no or view.directory_psn_no(ref.mdtrt_cert_type, ref.mdtrt_cert_no)
        entry = None if psn_no is None else view.directory_entry(psn_no)
        if entry is None:
            raise
        return entry.insuplc_admdvs
    return region.province_of(person.insu_lines[0].insuplc_admdvs)


def person_of(view: View, psn_no: str, ref: person_pb2.PersonRef) -> Person:
    """The person of a request that names it by `psn_no` or by `person` (a PersonRef), one of the two."""
    if ref.ByteSize():
        if psn_no:
            raise convert.invalid("person", "name the person by psn_no or by person, not both")
        return resolve_person(view, ref)[0]
    return person_by_psn_no(view, psn_no)


def default_insutype(person: Person, insutype: str, field: str = "insutype") -> str:
    """The insutype asked for, or the person's only one when none is given."""
    if insutype:
        return convert.code(insutype, field, codes.INSUTYPES)
    if len(person.insu_lines) == 1:
        return person.insu_lines[0].insutype
    raise convert.invalid(field, "the person holds several insurance types: name one")


def benefit(
    view: View,
    person: Person,
    insutype: str,
    institution: Institution | None,
    med_type: str,
    date: str,
    dise_codg: str,
    cert_type: str,
    *,
    admission_date: str = "",
) -> BenefitAnswer:
    """Everything the benefit check reads, then the check. `admission_date`: of the open stay, if any."""
    line = person.line(insutype)
    insured_place = policy_found = None
    if line is not None:
        insured_place = view.insured_place(line.insuplc_admdvs, date)
        if institution is not None and med_type in codes.MED_TYPES:
            policy_found = view.policy(line.insuplc_admdvs, insutype, codes.category_of(med_type), line.psn_type,
                                       institution.hosp_lv, date) is not None
    return check_benefit(BenefitQuery(
        person=person, insutype=insutype, institution=institution, med_type=med_type, date=date, dise_codg=dise_codg,
        filings=tuple(view.filings(person.psn_no)), qualifications=tuple(view.qualifications(person.psn_no)),
        insured_place=insured_place, policy_found=bool(policy_found), cert_type=cert_type,
        admission_date=admission_date,
    ))


def refusal_of(answer: BenefitAnswer) -> Refusal:
    """All the benefit check's reasons as one refusal (the first leads, the rest follow)."""
    assert not answer.ok and answer.reasons
    return Refusal.of_all([Refusal(reason) for reason in answer.reasons])
