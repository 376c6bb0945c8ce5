"""A small nation for clearing tests: four provinces, an institution in each, and for every ordered pair of
distinct provinces one employee insured in the first with a long-term filing for the second.

Policies have no deductible and pay 90%, and every person asks to pay from the personal account, so a fee of
F fen settles with fund_pay_sumamt = 0.9 F and acct_pay = 0.1 F: every pair moves money.
"""

from __future__ import annotations

import itertools

from medsettle.domain.records import Filing, Institution, InsuranceLine, InsuredPlace, Person, Settlement
from medsettle.store.view import WriteView
from tests import world

BJ, SH, GD, SC = "110000", "310000", "440000", "510000"
PROVINCES = (BJ, SH, GD, SC)
CITY = {BJ: "110105", SH: "310101", GD: "440106", SC: "510104"}
HOSPITAL = {p: f"H{CITY[p]}00009" for p in PROVINCES}
PAIRS = [(a, b) for a, b in itertools.permutations(PROVINCES, 2)]


def person_of(insured: str, treated: str) -> str:
    return f"C{insured[:2]}{treated[:2]}"


def build(view: WriteView) -> None:
    for province in PROVINCES:
        view.put_insured_place(InsuredPlace(insuplc_admdvs=province, begndate="2020-01-01",
                                            open_med_types=("11", "13", "21"), open_dise_codes=()))
        for psn_type in ("11",):
            for category in ("1", "3"):
                view.put_policy(world.policy("310", category, psn_type, "3", insuplc_admdvs=province, dedc_fen=0,
                                             dedc_later_fen=-1, begndate="2020-01-01"))
        view.put_institution(Institution(fixmedins_code=HOSPITAL[province], fixmedins_name=f"医院{province}",
                                         admdvs=CITY[province], hosp_lv="3"))
        for item in world.CATALOG:
            view.put_catalog_item(province, item)
    for n, (insured, treated) in enumerate(PAIRS):
        psn_no = person_of(insured, treated)
        view.put_person(Person(psn_no=psn_no, psn_name=f"参保人{n}", gend="1", brdy="1970-01-01",
                               certno=f"{CITY[insured]}19700101{n:04d}",
                               insu_lines=(InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="1",
                                                         insuplc_admdvs=CITY[insured], acct_balc_fen=10**9),)))
        view.put_filing(Filing(trt_dcla_detl_sn=f"CF{n:03d}", psn_no=psn_no, insutype="310",
                               insuplc_admdvs=CITY[insured], mdtrtarea_admvs=treated, category="12",
                               begndate="2020-01-01"))


def settlement(setl_id: str, fixmedins_code: str, setl_date: str, insured: str, treated: str, medfee_fen: int,
               *, fund_fen: int | None = None, acct_fen: int | None = None, reverses: str = "") -> Settlement:
    """A synthetic settlement record for writing through WriteView.put_settlement directly (large cases)."""
    fund = medfee_fen * 9 // 10 if fund_fen is None else fund_fen
    acct = medfee_fen - fund if acct_fen is None else acct_fen
    sign = -1 if reverses else 1
    return Settlement(setl_id=setl_id, mdtrt_id="M" + setl_id, psn_no="P1", insutype="310", med_type="11",
                      fixmedins_code=fixmedins_code, insuplc_admdvs=insured, mdtrtarea_admvs=treated,
                      setl_date=setl_date, setl_time_ms=0, filing_category="12", clr_type="11",
                      medfee_sumamt_fen=sign * medfee_fen, fulamt_ownpay_amt_fen=0, overlmt_selfpay_fen=0,
                      preselfpay_amt_fen=0, inscp_scp_amt_fen=sign * medfee_fen, act_pay_dedc_fen=0,
                      hifp_pay_fen=sign * fund, pool_prop_selfpay_bp=9000, hifob_pay_fen=0, hifmi_pay_fen=0,
                      fund_pay_sumamt_fen=sign * fund, psn_part_amt_fen=sign * (medfee_fen - fund),
                      acct_pay_fen=sign * acct, psn_cash_pay_fen=sign * (medfee_fen - fund - acct), balc_fen=0,
                      accumulator_year=int(setl_date[:4]), reversed_setl_id=reverses)
