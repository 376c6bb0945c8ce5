"""Filings' and chronic-disease qualifications' domain -> proto."""

from __future__ import annotations

from medsettle.domain.records import ChronicQualification, Filing
from medsettle.v1 import filing_pb2


def filing_pb(f: Filing) -> filing_pb2.Filing:
    return filing_pb2.Filing(
        trt_dcla_detl_sn=f.trt_dcla_detl_sn, psn_no=f.psn_no, insutype=f.insutype, insuplc_admdvs=f.insuplc_admdvs,
        mdtrtarea_admvs=f.mdtrtarea_admvs, category=f.category, begndate=f.begndate, enddate=f.enddate,
        reflin_medins_no=f.reflin_medins_no, fixmedins_code=f.fixmedins_code, created_date=f.created_date,
        revoked_date=f.revoked_date,
    )


def qualification_pb(q: ChronicQualification) -> filing_pb2.ChronicQualification:
    return filing_pb2.ChronicQualification(
        psn_no=q.psn_no, insutype=q.insutype, opsp_dise_code=q.opsp_dise_code, insuplc_admdvs=q.insuplc_admdvs,
        begndate=q.begndate, enddate=q.enddate, revoked_date=q.revoked_date,
    )
