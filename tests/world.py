"""A small hand-made nation for service tests: every number here is chosen so that expected results
can be computed by hand in the tests that use it.

Insured place Beijing (110000) treats in Guangdong (440000) and Shanghai (310000).
"""

from __future__ import annotations

from medsettle.domain.records import (
    CatalogItem,
    ChronicQualification,
    DiseaseCap,
    Filing,
    Institution,
    InsuranceLine,
    InsuredPlace,
    Person,
    Policy,
    RatioBand,
)
from medsettle.store.view import WriteView

BJ, GD, SH = "110000", "440000", "310000"
TODAY = "2026-03-02"

PLACES = [
    InsuredPlace(insuplc_admdvs=BJ, begndate="2025-01-01", open_med_types=("11", "13", "14", "21", "24"),
                 open_dise_codes=("M03900", "M01600"), tmp_filing_months=6, longterm_lock_months=6),
    InsuredPlace(insuplc_admdvs=GD, begndate="2025-01-01", open_med_types=("11", "21", "24"), open_dise_codes=(),
                 tmp_filing_months=12, longterm_lock_months=0),
]


def policy(insutype: str, category: str, psn_type: str, hosp_lv: str, **overrides) -> Policy:
    values = dict(
        insuplc_admdvs=BJ, insutype=insutype, category=category, psn_type=psn_type, hosp_lv=hosp_lv,
        begndate="2025-01-01",
        dedc_fen={"1": 180_000, "2": 0, "3": 130_000}[category],  # outpatient 1,800 yuan a year; inpatient 1,300
        dedc_later_fen=65_000 if category == "3" else -1,
        bands=(RatioBand(upto_fen=0, ratio_bp=9000 if insutype == "310" else 7500),),
        cap_category_fen={"1": 2_000_000, "2": 5_000_000, "3": 50_000_000}[category],
        cap_overall_fen=50_000_000,
        dise_caps=(DiseaseCap(opsp_dise_code="M03900", cap_fen=300_000),) if category == "2" else (),
        reduction_mode="1", reduction_referral_bp=1000, reduction_emergency_bp=1000, reduction_other_bp=2000,
        hifob_ratio_bp=9000 if insutype == "310" else 0, hifob_cap_fen=30_000_000 if insutype == "310" else 0,
        hifmi_threshold_fen=2_000_000 if insutype == "390" else 0,
        hifmi_bands=(RatioBand(upto_fen=0, ratio_bp=6000),) if insutype == "390" else (),
        hifmi_cap_fen=40_000_000 if insutype == "390" else 0,
        acct_pay_allowed=insutype == "310",
    )
    values.update(overrides)
    return Policy(**values)


POLICIES = [
    policy(insutype, category, psn_type, hosp_lv)
    for insutype, psn_types in (("310", ("11", "12")), ("390", ("13",)))
    for psn_type in psn_types
    for category in ("1", "2", "3")
    for hosp_lv in ("0", "1", "2", "3")
]

INSTITUTIONS = [
    Institution(fixmedins_code="H44010600001", fixmedins_name="广州市第一人民医院", admdvs="440106", hosp_lv="3"),
    Institution(fixmedins_code="H44030400002", fixmedins_name="深圳市福田区人民医院", admdvs="440304", hosp_lv="2",
                networked_outpatient=False, networked_chronic=False),
    Institution(fixmedins_code="H11010500003", fixmedins_name="北京市东城区医院", admdvs="110105", hosp_lv="2"),
    Institution(fixmedins_code="H31010100004", fixmedins_name="上海市黄浦区中心医院", admdvs="310101", hosp_lv="3"),
    Institution(fixmedins_code="H11010500005", fixmedins_name="北京市转出医院", admdvs="110105", hosp_lv="3"),
]
GZ_HOSPITAL, SZ_HOSPITAL, BJ_HOSPITAL, SH_HOSPITAL, BJ_REFERRING = (i.fixmedins_code for i in INSTITUTIONS)


def item(code: str, lv: str, *, selfpay_bp: int = 0, ceiling_fen: int = 0, **restrictions) -> CatalogItem:
    return CatalogItem(med_list_codg=code, name=f"项目{code}", list_type="101" if code.startswith("X") else "201",
                       chrgitm_lv=lv, selfpay_prop_bp=selfpay_bp, pric_uplmt_amt_fen=ceiling_fen, begndate="2025-01-01",
                       **restrictions)


CATALOG = [
    item("XA001", "01"),  # class A drug, no ceiling
    item("XB001", "02", selfpay_bp=1000),  # class B drug, 10% first
    item("XC001", "03"),  # class C
    item("S0001", "01", ceiling_fen=5000),  # service item, ceiling 50 yuan per unit
    item("XF001", "01", lmt_sex="2"),  # women only
]

PERSONS = [
    Person(psn_no="P001", psn_name="张伟", gend="1", brdy="1960-05-01", certno="110105196005011234", card_no="C001",
           card_sn="SN001", evoucher_token="EV001",
           insu_lines=(InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110105",
                                     acct_balc_fen=100_000),)),
    Person(psn_no="P002", psn_name="王芳", gend="2", brdy="1985-09-09", certno="110105198509092345",
           insu_lines=(InsuranceLine(insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="110108"),)),
    Person(psn_no="P003", psn_name="李强", gend="1", brdy="1970-01-01", certno="110105197001013456",
           insu_lines=(InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="2", insuplc_admdvs="110105"),)),
    Person(psn_no="P004", psn_name="赵敏", gend="2", brdy="1990-02-02", certno="110105199002024567", card_no="C004",
           card_sn="SN004", card_activated=False, evoucher_token="EV004",
           insu_lines=(InsuranceLine(insutype="310", psn_type="12", psn_insu_stas="1", insuplc_admdvs="110105",
                                     acct_balc_fen=5_000),)),
    Person(psn_no="P005", psn_name="刘洋", gend="1", brdy="1955-03-03", certno="110105195503035678",
           insu_lines=(InsuranceLine(insutype="310", psn_type="12", psn_insu_stas="1", insuplc_admdvs="110105"),)),
]

FILINGS = [
    # P001: long-term resident in Guangdong (province-level), no reduction.
    Filing(trt_dcla_detl_sn="F001", psn_no="P001", insutype="310", insuplc_admdvs="110105", mdtrtarea_admvs=GD,
           category="12", begndate="2025-06-01"),
    # P002: other temporary, Guangzhou city only, valid 2026-01-01..2026-06-30.
    Filing(trt_dcla_detl_sn="F002", psn_no="P002", insutype="390", insuplc_admdvs="110108", mdtrtarea_admvs="440100",
           category="23", begndate="2026-01-01", enddate="2026-06-30"),
    Filing(trt_dcla_detl_sn="F003", psn_no="P003", insutype="310", insuplc_admdvs="110105", mdtrtarea_admvs=GD,
           category="12", begndate="2025-06-01"),
    Filing(trt_dcla_detl_sn="F004", psn_no="P004", insutype="310", insuplc_admdvs="110105", mdtrtarea_admvs=GD,
           category="11", begndate="2025-06-01"),
    # P005: an expired temporary filing for Guangdong.
    Filing(trt_dcla_detl_sn="F005", psn_no="P005", insutype="310", insuplc_admdvs="110105", mdtrtarea_admvs=GD,
           category="23", begndate="2025-01-01", enddate="2025-06-30"),
]

QUALIFICATIONS = [
    ChronicQualification(psn_no="P001", insutype="310", opsp_dise_code="M03900", insuplc_admdvs="110105",
                         begndate="2025-01-01"),
]


def build(view: WriteView) -> None:
    for place in PLACES:
        view.put_insured_place(place)
    for p in POLICIES:
        view.put_policy(p)
    for institution in INSTITUTIONS:
        view.put_institution(institution)
    for province in (GD, SH, BJ):
        for catalog_item in CATALOG:
            view.put_catalog_item(province, catalog_item)
    for person in PERSONS:
        view.put_person(person)
    for filing in FILINGS:
        view.put_filing(filing)
    for q in QUALIFICATIONS:
        view.put_qualification(q)
