"""Persons' proto <-> domain: a person as pushed (each field checked, the bad one named) and as answered, with the
year's accumulators."""

from __future__ import annotations

from medsettle.domain import codes
from medsettle.domain.records import Accumulators, InsuranceLine, Person
from medsettle.service.convert import (
    PSN_NAME_LEN_MAX,
    admdvs,
    amount,
    checked_name,
    code,
    date,
    invalid,
)
from medsettle.v1 import common_pb2, reference_data_pb2


def person(pb: reference_data_pb2.Person, field: str) -> Person:
    lines = []
    seen: set[str] = set()
    for i, line in enumerate(pb.insuinfo):
        where = f"{field}.insuinfo[{i}]"
        insutype = code(line.insutype, f"{where}.insutype", codes.INSUTYPES)
        if insutype in seen:
            raise invalid(f"{where}.insutype", "one insurance line per insutype")
        seen.add(insutype)
        lines.append(
            InsuranceLine(
                insutype=insutype,
                psn_type=code(line.psn_type, f"{where}.psn_type", codes.PSN_GROUPS),
                psn_insu_stas=code(line.psn_insu_stas, f"{where}.psn_insu_stas"),
                insuplc_admdvs=admdvs(line.insuplc_admdvs, f"{where}.insuplc_admdvs"),
                acct_balc_fen=amount(line.balc, f"{where}.balc"),
            )
        )
    return Person(
        psn_no=code(pb.psn_no, f"{field}.psn_no"),
        psn_name=checked_name(pb.psn_name, f"{field}.psn_name", PSN_NAME_LEN_MAX),
        gend=code(pb.gend, f"{field}.gend", frozenset({"1", "2", "9"})),
        brdy=date(pb.brdy, f"{field}.brdy"),
        certno=code(pb.certno, f"{field}.certno", allow_empty=True),
        card_no=code(pb.card_no, f"{field}.card_no", allow_empty=True),
        card_sn=code(pb.card_sn, f"{field}.card_sn", allow_empty=True),
        card_activated=pb.card_activated,
        evoucher_token=code(pb.evoucher_token, f"{field}.evoucher_token", allow_empty=True),
        insu_lines=tuple(lines),
    )


def person_pb(p: Person, *, with_token: bool = False) -> reference_data_pb2.Person:
    return reference_data_pb2.Person(
        psn_no=p.psn_no, psn_name=p.psn_name, gend=p.gend, brdy=p.brdy, certno=p.certno, card_no=p.card_no,
        card_sn=p.card_sn, card_activated=p.card_activated, evoucher_token=p.evoucher_token if with_token else "",
        insuinfo=[
            reference_data_pb2.InsuranceInfo(insutype=line.insutype, psn_type=line.psn_type,
                                             psn_insu_stas=line.psn_insu_stas, insuplc_admdvs=line.insuplc_admdvs,
                                             balc=line.acct_balc_fen)
            for line in p.insu_lines
        ],
    )


def accumulators_pb(acc: Accumulators, year: int, insutype: str) -> common_pb2.Accumulators:
    return common_pb2.Accumulators(
        year=year, insutype=insutype, dedc_outpatient=acc.dedc_outpatient_fen, dedc_chronic=acc.dedc_chronic_fen,
        hifp_outpatient=acc.hifp_outpatient_fen, hifp_chronic=acc.hifp_chronic_fen,
        hifp_inpatient=acc.hifp_inpatient_fen, hifp_overall=acc.hifp_overall_fen,
        hifp_by_disease={paid.opsp_dise_code: paid.cap_fen for paid in acc.dise_hifp}, hifob=acc.hifob_fen,
        hifmi=acc.hifmi_fen, inscp_burden=acc.inscp_burden_fen, visits_outpatient=acc.visits_outpatient,
        visits_chronic=acc.visits_chronic, admissions_inpatient=acc.admissions_inpatient,
    )
