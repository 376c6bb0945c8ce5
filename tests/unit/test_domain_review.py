"""An independent review of the domain rules against DOMAIN.md sections 4-8, edge by edge.

Every expected figure is worked by hand in the comments; amounts are fen (100 = 1.00 yuan), ratios basis points.
The tests named `test_defect_*` failed before the fix that came with them; the others pin edges found right.
"""

from __future__ import annotations

import msgspec
import pytest

from medsettle.domain import clearing, reasons, reconciliation
from medsettle.domain.adjudication import AdjudicationInput, adjudicate
from medsettle.domain.catalog_split import LineContext, split_line, split_lines
from medsettle.domain.eligibility import BenefitQuery, check_benefit
from medsettle.domain.filing_rules import in_force, validate_filing, validate_revoke
from medsettle.domain.records import (
    Accumulators,
    CatalogItem,
    Claim,
    DiseaseCap,
    FeeLine,
    Filing,
    FundPayment,
    Institution,
    InsuranceLine,
    InsuredPlace,
    Person,
    Policy,
    RatioBand,
    Settlement,
    add_accumulators,
    check_identities,
)
from medsettle.domain.reversal import reverse

BIG_FEN = 10**10  # a cap that never binds

# --- builders ------------------------------------------------------------------------------------


def item(code: str = "X001", lv: str = "01", **kw) -> CatalogItem:
    return CatalogItem(med_list_codg=code, chrgitm_lv=lv, **({"name": code, "list_type": "101",
                                                              "begndate": "2020-01-01"} | kw))


def fee(sn: str = "L0", code: str = "X001", cnt_e4: int = 10_000, pric_e6: int = 1_000_000, amount_fen: int = 100,
        date: str = "2024-03-05") -> FeeLine:
    return FeeLine(feedetl_sn=sn, med_list_codg=code, cnt_e4=cnt_e4, pric_e6=pric_e6,
                   det_item_fee_sumamt_fen=amount_fen, fee_ocur_date=date)


def unit_lines(*amounts_fen: int, code: str = "X001") -> tuple[FeeLine, ...]:
    """Lines of one unit each, priced at their amount."""
    return tuple(fee(sn=f"L{i}", code=code, pric_e6=fen * 10_000, amount_fen=fen) for i, fen in enumerate(amounts_fen))


def parts(result) -> tuple[int, int, int, int]:
    return (result.fulamt_ownpay_amt_fen, result.overlmt_amt_fen, result.preselfpay_amt_fen,
            result.inscp_scp_amt_fen)


MAN_40_OUT = LineContext(gend="1", age_years=40, inpatient=False)

PERSON = Person(
    psn_no="P1", psn_name="张三", gend="1", brdy="1970-05-01", certno="110101197005010011",
    insu_lines=(InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110105"),
                InsuranceLine(insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="110105")),
)
HOSPITAL = Institution(fixmedins_code="H44010600001", fixmedins_name="某医院", admdvs="440106", hosp_lv="3")


def policy(insutype: str = "310", category: str = "1", **kw) -> Policy:
    fields = {"insuplc_admdvs": "110000", "psn_type": "11" if insutype == "310" else "13", "hosp_lv": "3",
              "begndate": "2024-01-01", "dedc_fen": 0, "bands": (RatioBand(upto_fen=0, ratio_bp=8000),),
              "cap_category_fen": BIG_FEN, "cap_overall_fen": BIG_FEN} | kw
    return Policy(insutype=insutype, category=category, **fields)


def run(fee_lines, pol: Policy, *, items=None, med_type="11", insutype="310", dise_codg="", setl_date="2024-03-05",
        acct_used_flag=False, **kw) -> Settlement:
    claim = Claim(psn_no="P1", insutype=insutype, med_type=med_type, fixmedins_code=HOSPITAL.fixmedins_code,
                  mdtrtarea_admvs="440106", setl_date=setl_date, dise_codg=dise_codg, lines=tuple(fee_lines),
                  acct_used_flag=acct_used_flag)
    by_sn = {line.feedetl_sn: (items or {}).get(line.feedetl_sn, item(line.med_list_codg)) for line in fee_lines}
    fields = {"filing_category": "11", "accumulators": Accumulators(), "setl_id": "S1", "mdtrt_id": "M1",
              "setl_time_ms": 1_709_600_000_000} | kw
    return adjudicate(AdjudicationInput(claim=claim, person=PERSON, institution=HOSPITAL, items_by_sn=by_sn,
                                        policy=pol, **fields))


# === 6.1 the catalog split =========================================================================


def test_class_b_real_example_through_the_whole_settlement():
    # 4.52 yuan, class B 5%: 22.6 -> 23 fen first, 429 in scope; 80% of 4.29 = 3.432 -> 343; person 452 - 343 = 109.
    b5 = item(lv="02", selfpay_prop_bp=500)
    setl = run(unit_lines(452), policy(), items={"L0": b5})
    assert (setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen, setl.hifp_pay_fen, setl.psn_part_amt_fen) == (
        23, 429, 343, 109)


def test_ceiling_with_four_decimal_quantity_and_six_decimal_price():
    # 2.5 × 1.234567 = 3.0864175 yuan -> 309 fen (must match to the fen).
    # Ceiling 1.20/unit: round(2.5 × 120) = 300 allowed; 9 over. Class B 10%: 30 first, 270 in scope.
    line = fee(cnt_e4=25_000, pric_e6=1_234_567, amount_fen=309)
    result = split_line(line, item(lv="02", selfpay_prop_bp=1000, pric_uplmt_amt_fen=120), MAN_40_OUT)
    assert parts(result) == (0, 9, 30, 270)


def test_allowed_amount_rounds_half_up_once_on_tiny_quantities():
    # cnt 0.0015 at 20.00: 0.03 yuan = 3 fen. Ceiling 10.00/unit: 0.0015 × 1000 = 1.5 fen -> 2 allowed, 1 over.
    result = split_line(fee(cnt_e4=15, pric_e6=20_000_000, amount_fen=3), item(pric_uplmt_amt_fen=1000), MAN_40_OUT)
    assert parts(result) == (0, 1, 0, 2)
    # cnt 0.0014: 1.4 -> 1 allowed; the amount 0.028 yuan -> 3 fen; 2 over.
    result = split_line(fee(cnt_e4=14, pric_e6=20_000_000, amount_fen=3), item(pric_uplmt_amt_fen=1000), MAN_40_OUT)
    assert parts(result) == (0, 2, 0, 1)
    # cnt 0.0015 at 15.00: 0.0225 -> 2 fen, allowed 2: nothing over.
    result = split_line(fee(cnt_e4=15, pric_e6=15_000_000, amount_fen=2), item(pric_uplmt_amt_fen=1000), MAN_40_OUT)
    assert parts(result) == (0, 0, 0, 2)


def test_amount_must_be_cnt_times_price_to_the_fen():
    # 2.5 × 1.234567 = 3.0864175 -> 309; 308 and 310 are refused with the line named.
    for wrong in (308, 310):
        with pytest.raises(reasons.Refusal) as caught:
            split_line(fee(cnt_e4=25_000, pric_e6=1_234_567, amount_fen=wrong), item(), MAN_40_OUT)
        assert caught.value.reason is reasons.AMOUNT_INCONSISTENT and caught.value.feedetl_sn == "L0"


def test_class_c_is_self_paid_whatever_its_restrictions_and_names_none():
    # Class C limited to 1 a day and to women: 2 units for a man, then 1 more. Both lines are fully self-paid as
    # class C (200, 100); a restriction would change nothing, so none is named.
    c_limited = item(lv="03", lmt_cnt_per_day_e4=10_000, lmt_sex="2")
    fee_lines = (fee(sn="a", cnt_e4=20_000, pric_e6=1_000_000, amount_fen=200), fee(sn="b"))
    results = split_lines(fee_lines, {"a": c_limited, "b": c_limited}, gend="1", brdy="1970-01-01", inpatient=False)
    assert [parts(r) for r in results] == [(200, 0, 0, 0), (100, 0, 0, 0)]
    assert [r.lmt_reason for r in results] == ["", ""]


def test_daily_limit_across_lines_dates_and_earlier_settlements():
    # Limit 3 a day. Earlier settlements charged 1 on 03-05. Lines: 1.5 (total 2.5), 0.5 (3.0, exactly the limit),
    # 0.0001 (3.0001: over -> fully self-paid), and 3 on 03-06 (another day: fine).
    limited = item(lmt_cnt_per_day_e4=30_000)
    fee_lines = (fee(sn="a", cnt_e4=15_000, amount_fen=150), fee(sn="b", cnt_e4=5_000, amount_fen=50),
                 fee(sn="c", cnt_e4=1, pric_e6=1_000_000, amount_fen=0),
                 fee(sn="d", cnt_e4=30_000, amount_fen=300, date="2024-03-06"))
    results = split_lines(fee_lines, dict.fromkeys("abcd", limited), gend="1", brdy="1970-01-01", inpatient=False,
                          cnt_used_today_e4={("X001", "2024-03-05"): 10_000})
    assert [r.lmt_reason for r in results] == ["", "", "LMT_QUANTITY", ""]
    assert [parts(r) for r in results] == [(0, 0, 0, 150), (0, 0, 0, 50), (0, 0, 0, 0), (0, 0, 0, 300)]
    # A 1.0001 line over the limit is self-paid as a whole (DOMAIN 6.1: the line becomes fully self-paid).
    over = split_lines((fee(sn="e", cnt_e4=30_001, pric_e6=1_000_000, amount_fen=300),), {"e": limited},
                       gend="1", brdy="1970-01-01", inpatient=False)
    assert parts(over[0]) == (300, 0, 0, 0) and over[0].lmt_reason == "LMT_QUANTITY"


def test_age_restriction_on_the_birthday_and_the_day_before():
    # Born 2010-03-05, items for 14 and under: on 2024-03-04 aged 13, on 2024-03-05 aged 14 (inclusive),
    # on 2025-03-05 aged 15 -> refused.
    child = item(lmt_age_max=14)
    for date, reason in (("2024-03-04", ""), ("2024-03-05", ""), ("2025-03-04", ""), ("2025-03-05", "LMT_AGE")):
        result = split_lines((fee(date=date),), {"L0": child}, gend="2", brdy="2010-03-05", inpatient=False)
        assert result[0].lmt_reason == reason, date


# === 6.2 the policy ===============================================================================


def test_outpatient_deductible_per_year_and_its_year_boundary():
    # Deductible 200.00 a year. 2024: 150.00 paid already; a 100.00 visit pays 50.00 of it, 50.00 at 80% = 40.00.
    pol = policy(dedc_fen=20_000)
    setl = run(unit_lines(10_000), pol, accumulators=Accumulators(dedc_outpatient_fen=15_000))
    assert (setl.act_pay_dedc_fen, setl.hifp_pay_fen, setl.accumulator_year) == (5_000, 4_000, 2024)
    # On 2025-01-01 the store reads the 2025 row (empty): the whole 100.00 goes to the new year's deductible.
    new_year = run(unit_lines(10_000), pol, setl_date="2025-01-01")
    assert (new_year.act_pay_dedc_fen, new_year.hifp_pay_fen, new_year.accumulator_year) == (10_000, 0, 2025)


def test_inpatient_deductible_per_admission_ignores_the_outpatient_year():
    # Inpatient deductible 1300.00 per admission even when the outpatient deductible is met; later admission 650.00,
    # of which 600.00 was paid by an earlier settlement of this stay: 50.00 left; 1000.00 - 50.00 = 950.00 at 85%
    # = 807.50.
    pol = policy(category="3", dedc_fen=130_000, dedc_later_fen=65_000, bands=(RatioBand(upto_fen=0, ratio_bp=8500),))
    setl = run(unit_lines(100_000), pol, med_type="21", accumulators=Accumulators(dedc_outpatient_fen=10**6),
               stay_is_later_admission=True, stay_admission_dedc_paid_fen=60_000, first_settlement_of_stay=False)
    assert (setl.act_pay_dedc_fen, setl.hifp_pay_fen, setl.admission_dedc_fen) == (5_000, 80_750, 5_000)
    assert setl.accumulator_delta == Accumulators(hifp_inpatient_fen=80_750, hifp_overall_fen=80_750,
                                                  inscp_burden_fen=19_250)


@pytest.mark.parametrize(
    ("eligible_fen", "hifp_fen"),
    [
        (100_000, 80_000),  # exactly at the band edge: all at 80%
        (100_001, 80_001),  # one fen into the 90% band: 800.00 + 0.009 -> 80_000.9 -> 80_001
        (99_999, 79_999),  # 99_999 × 0.8 = 79_999.2 -> 79_999
        (300_000, 260_000),  # 800.00 + 90% of 2000.00 = 1800.00: 2600.00
        (300_001, 260_001),  # 260_000 + 0.95 -> 260_000.95 -> 260_001
    ],
)
def test_band_boundaries(eligible_fen, hifp_fen):
    bands = (RatioBand(upto_fen=100_000, ratio_bp=8000), RatioBand(upto_fen=300_000, ratio_bp=9000),
             RatioBand(upto_fen=0, ratio_bp=9500))
    assert run(unit_lines(eligible_fen), policy(bands=bands)).hifp_pay_fen == hifp_fen


def test_category_overall_and_disease_caps_each_bind():
    # 1000.00 at 80% = 800.00 raw. Caps left: category 300.00, overall 200.00, disease 100.00: the least binds.
    pol = policy(category="2", cap_category_fen=50_000, cap_overall_fen=90_000,
                 dise_caps=(DiseaseCap(opsp_dise_code="M03900", cap_fen=40_000),))
    acc = Accumulators(hifp_chronic_fen=20_000, hifp_overall_fen=70_000,
                       dise_hifp=(DiseaseCap(opsp_dise_code="M03900", cap_fen=30_000),))
    setl = run(unit_lines(100_000), pol, med_type="14", dise_codg="M03900", accumulators=acc)
    assert (setl.hifp_pay_fen, setl.setldetail[0].crt_payb_lmt_amt_fen) == (10_000, 10_000)
    # Without the disease entry the overall cap (200.00) binds; without that the category cap (300.00).
    assert run(unit_lines(100_000), msgspec.structs.replace(pol, dise_caps=()), med_type="14", dise_codg="M03900",
               accumulators=acc).hifp_pay_fen == 20_000
    assert run(unit_lines(100_000), msgspec.structs.replace(pol, dise_caps=(), cap_overall_fen=BIG_FEN),
               med_type="14", dise_codg="M03900", accumulators=acc).hifp_pay_fen == 30_000


@pytest.mark.parametrize(
    ("category", "reduction_bp", "preselfpay", "inscp", "hifp"),
    [
        # 10_000 in scope, 80%. Ratio mode: 80 - 10 = 70% -> 7000; 80 - 20 = 60% -> 6000.
        ("21", 1000, 0, 10_000, 7_000),
        ("22", 1000, 0, 10_000, 7_000),
        ("23", 2000, 0, 10_000, 6_000),
        ("11", 2000, 0, 10_000, 8_000),  # long-term: never reduced
    ],
)
def test_reduction_ratio_mode_at_the_national_ceilings(category, reduction_bp, preselfpay, inscp, hifp):
    pol = policy(reduction_mode="1", reduction_referral_bp=reduction_bp if category == "21" else 0,
                 reduction_emergency_bp=reduction_bp if category == "22" else 0,
                 reduction_other_bp=reduction_bp if category == "23" else 0)
    setl = run(unit_lines(10_000), pol, filing_category=category)
    assert (setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen, setl.hifp_pay_fen) == (preselfpay, inscp, hifp)


def test_reduction_preselfpay_mode_before_the_deductible():
    # 333.33 in scope, other temporary 20%: 66.666 -> 66.67 moved first; 266.66 in scope; deductible 100.00;
    # 166.66 at 80% = 133.328 -> 133.33. Person 333.33 - 133.33 = 200.00.
    pol = policy(dedc_fen=10_000, reduction_mode="2", reduction_other_bp=2000)
    setl = run(unit_lines(33_333), pol, filing_category="23")
    assert (setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen, setl.act_pay_dedc_fen, setl.hifp_pay_fen,
            setl.psn_part_amt_fen) == (6_667, 26_666, 10_000, 13_333, 20_000)


def test_defect_large_amount_subsidy_when_a_reduced_band_is_zero_and_the_cap_is_spent():
    # The basic cap was spent before this claim, so all of its eligible amount (2000.00) is above the cap:
    # the subsidy pays 80% of it = 1600.00, whatever the pooled ratios are.
    # Bands 5% up to 1000.00, 90% above; a referral lowers them by 10 points -> 0% and 80%.
    # Before the fix the zero band was counted as "covered before the cap": the subsidy paid 80% of 1000.00 only.
    bands = (RatioBand(upto_fen=100_000, ratio_bp=500), RatioBand(upto_fen=0, ratio_bp=9000))
    pol = policy(category="3", bands=bands, cap_category_fen=500_000, reduction_mode="1",
                 reduction_referral_bp=1000, hifob_ratio_bp=8000, hifob_cap_fen=BIG_FEN)
    spent = Accumulators(hifp_inpatient_fen=500_000, hifp_overall_fen=500_000)
    long_term = run(unit_lines(200_000), pol, med_type="21", accumulators=spent, filing_category="11")
    referral = run(unit_lines(200_000), pol, med_type="21", accumulators=spent, filing_category="21")
    assert (long_term.hifp_pay_fen, long_term.hifob_pay_fen) == (0, 160_000)
    assert (referral.hifp_pay_fen, referral.hifob_pay_fen) == (0, 160_000)
    # Every ratio lowered to zero (a 10% band, referral 10 points): still all 2000.00 above the spent cap.
    flat = msgspec.structs.replace(pol, bands=(RatioBand(upto_fen=0, ratio_bp=1000),))
    zero = run(unit_lines(200_000), flat, med_type="21", accumulators=spent, filing_category="21")
    assert (zero.hifp_pay_fen, zero.hifob_pay_fen, zero.psn_part_amt_fen) == (0, 160_000, 40_000)


def test_large_amount_subsidy_exactly_at_the_cap_and_its_own_cap():
    # Cap left 800.00 = exactly 80% of 1000.00 eligible: nothing above the cap, no subsidy.
    pol = policy(category="3", cap_category_fen=80_000, hifob_ratio_bp=9000, hifob_cap_fen=30_000)
    setl = run(unit_lines(100_000), pol, med_type="21")
    assert (setl.hifp_pay_fen, setl.hifob_pay_fen) == (80_000, 0)
    # 1500.00: cap reached at 1000.00; 500.00 above, 90% = 450.00, limited to what is left of 300.00 (100.00 paid).
    setl = run(unit_lines(150_000), pol, med_type="21", accumulators=Accumulators(hifob_fen=10_000))
    assert (setl.hifp_pay_fen, setl.hifob_pay_fen) == (80_000, 20_000)
    assert setl.setldetail[1] == FundPayment(fund_pay_type="330100", fund_payamt_fen=20_000,
                                             crt_payb_lmt_amt_fen=20_000)


def test_critical_illness_threshold_exactly_reached_and_one_fen_above():
    # Resident, no deductible, 50% pooled. Threshold 1000.00; bands 60% to 500.00 above it, 70% beyond.
    pol = policy(insutype="390", bands=(RatioBand(upto_fen=0, ratio_bp=5000),), hifmi_threshold_fen=100_000,
                 hifmi_bands=(RatioBand(upto_fen=50_000, ratio_bp=6000), RatioBand(upto_fen=0, ratio_bp=7000)),
                 hifmi_cap_fen=BIG_FEN)
    # Year's burden 900.00; 200.00 in scope: 100.00 pooled, burden 100.00 -> 1000.00: exactly the threshold, nothing.
    at = run(unit_lines(20_000), pol, insutype="390", accumulators=Accumulators(inscp_burden_fen=90_000))
    assert (at.hifp_pay_fen, at.hifmi_pay_fen) == (10_000, 0)
    # 200.03 in scope: pooled 100.015 -> 100.02, burden 100.01 -> 1000.01: 0.01 above at 60% = 0.006 -> 0.01.
    above = run(unit_lines(20_003), pol, insutype="390", accumulators=Accumulators(inscp_burden_fen=90_000))
    assert (above.hifp_pay_fen, above.hifmi_pay_fen) == (10_002, 1)
    # Burden already 1400.00 (400.00 above): 400.00 burden more spans 400-800 above: 100.00 at 60% + 300.00 at 70%.
    two = run(unit_lines(80_000), pol, insutype="390", accumulators=Accumulators(inscp_burden_fen=140_000))
    assert two.hifmi_pay_fen == 6_000 + 21_000


def test_personal_account_only_for_employees_who_ask_where_allowed():
    # 100.00 A at 80%: person 20.00; balance 15.00 pays 15.00, cash 5.00.
    pol = policy(acct_pay_allowed=True)
    setl = run(unit_lines(10_000), pol, acct_used_flag=True, acct_balc_fen=1_500)
    assert (setl.acct_pay_fen, setl.psn_cash_pay_fen, setl.balc_fen) == (1_500, 500, 0)
    assert setl.setldetail[-1] == FundPayment(fund_pay_type="310200", fund_payamt_fen=1_500,
                                              crt_payb_lmt_amt_fen=1_500)
    resident = run(unit_lines(10_000), policy(insutype="390", acct_pay_allowed=True), insutype="390",
                   acct_used_flag=True, acct_balc_fen=1_500)
    assert (resident.acct_pay_fen, resident.balc_fen) == (0, 1_500)


# === 6.3 / 6.4 accumulators, identities, reversal ==================================================


def test_reversal_restores_accumulators_and_keeps_the_original_year():
    # A chronic settlement dated 2024-12-31 reversed on 2025-01-02: the reversal counts in January 2025 for
    # clearing but restores the 2024 accumulators exactly.
    pol = policy(category="2", dedc_fen=5_000, cap_category_fen=30_000, hifob_ratio_bp=5000, hifob_cap_fen=BIG_FEN,
                 dise_caps=(DiseaseCap(opsp_dise_code="M01600", cap_fen=BIG_FEN),), acct_pay_allowed=True)
    base = Accumulators(dedc_chronic_fen=1_000, hifp_chronic_fen=25_000, hifp_overall_fen=25_000, visits_chronic=3,
                        dise_hifp=(DiseaseCap(opsp_dise_code="M03900", cap_fen=25_000),), inscp_burden_fen=9_000)
    original = run(unit_lines(20_000), pol, med_type="14", dise_codg="M01600", setl_date="2024-12-31",
                   accumulators=base, acct_used_flag=True, acct_balc_fen=100_000)
    # 200.00: deductible 40.00 left, 160.00 eligible at 80% = 128.00 > 50.00 cap left: cap reached at 62.50,
    # 97.50 above, subsidy 50% = 48.75. Person 200.00 - 98.75 = 101.25, all from the account.
    assert (original.act_pay_dedc_fen, original.hifp_pay_fen, original.hifob_pay_fen, original.acct_pay_fen) == (
        4_000, 5_000, 4_875, 10_125)
    rev = reverse(original, "R1", 1_735_776_000_000, "2025-01-02")
    check_identities(rev)
    assert rev.accumulator_year == 2024
    after = add_accumulators(base, original.accumulator_delta)
    assert add_accumulators(after, rev.accumulator_delta) == base
    assert rev.balc_fen == original.balc_fen + 10_125
    by_month = {month: clearing.totals_from_ledger([original, rev], month) for month in ("2024-12", "2025-01")}
    assert by_month["2024-12"][("110000", "440000")].setl_cnt == 1
    assert by_month["2025-01"][("110000", "440000")] == clearing.Totals(
        setl_cnt=-1, medfee_sumamt_fen=-20_000, fund_pay_sumamt_fen=-9_875, acct_pay_fen=-10_125)


def test_identities_with_every_kind_of_amount():
    # A (100.00, ceiling 80.00: 20.00 over), B 10% (50.00: 5.00 first), C 30.00, female-only 40.00 for a man.
    lines_ = (fee(sn="a", pric_e6=100_000_000, amount_fen=10_000), fee(sn="b", pric_e6=50_000_000, amount_fen=5_000),
              fee(sn="c", pric_e6=30_000_000, amount_fen=3_000), fee(sn="d", pric_e6=40_000_000, amount_fen=4_000))
    items = {"a": item(pric_uplmt_amt_fen=8_000), "b": item(lv="02", selfpay_prop_bp=1000), "c": item(lv="03"),
             "d": item(lmt_sex="2")}
    setl = run(lines_, policy(acct_pay_allowed=True), items=items, acct_used_flag=True, acct_balc_fen=5_000)
    # fulamt 70.00, over 20.00, first 5.00, in scope 125.00; fund 100.00; person 120.00; account 50.00.
    assert (setl.fulamt_ownpay_amt_fen, setl.overlmt_selfpay_fen, setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen,
            setl.fund_pay_sumamt_fen, setl.psn_part_amt_fen, setl.acct_pay_fen, setl.psn_cash_pay_fen) == (
        7_000, 2_000, 500, 12_500, 10_000, 12_000, 5_000, 7_000)
    assert [line.lmt_reason for line in setl.lines] == ["", "", "", "LMT_SEX"]


# === 4 / 5 filings and eligibility ================================================================

BEIJING = InsuredPlace(insuplc_admdvs="110000", begndate="2020-01-01", open_med_types=("11", "13", "14", "21", "24"),
                       open_dise_codes=("M03900",))


def a_filing(**kw) -> Filing:
    return Filing(**({"trt_dcla_detl_sn": "F1", "psn_no": "P1", "insutype": "310", "insuplc_admdvs": "110105",
                      "mdtrtarea_admvs": "440100", "category": "23", "begndate": "2024-03-01"} | kw))


def test_defect_no_lock_means_a_future_long_term_filing_can_be_revoked_before_it_begins():
    # Made on 2024-03-01 to begin 2025-01-01 (up to 12 months ahead is allowed), at an insured place that sets
    # no lock (0 months: it forbids nothing). Revoking it on 2024-03-02 must go through. Before the fix the lock
    # ended on begndate + 0 months, so it was refused FILING_LOCKED "can be changed or revoked from 2025-01-01".
    no_lock = msgspec.structs.replace(BEIJING, longterm_lock_months=0)
    made = validate_filing(a_filing(category="12", begndate="2025-01-01"), "2024-03-01", no_lock, existing=(),
                           open_stay_begndate=None)
    assert (made.created_date, made.enddate) == ("2024-03-01", "")
    assert validate_revoke(made, "2024-03-02", no_lock).revoked_date == "2024-03-02"
    # A second long-term filing conflicts, and the refusal does not claim a lock that does not exist.
    with pytest.raises(reasons.Refusal) as caught:
        validate_filing(a_filing(trt_dcla_detl_sn="F2", category="11", mdtrtarea_admvs="310000",
                                 begndate="2024-03-02"), "2024-03-02",
                        no_lock, existing=(made,), open_stay_begndate=None)
    assert caught.value.reason is reasons.FILING_CONFLICT and "locked" not in caught.value.detail
    # With the national 6 months the lock runs from begndate (the module's documented reading; see the report):
    # revocable from 2025-07-01.
    with pytest.raises(reasons.Refusal) as caught:
        validate_revoke(made, "2025-06-30", BEIJING)
    assert caught.value.reason is reasons.FILING_LOCKED and "2025-07-01" in caught.value.detail
    assert validate_revoke(made, "2025-07-01", BEIJING).revoked_date == "2025-07-01"


def test_temporary_filing_validity_six_months_and_retroactive_start():
    # Retroactive (补办) back to an admission on 2024-02-20, made on 2024-03-01: six months from the admission.
    made = validate_filing(a_filing(category="21", reflin_medins_no="H1", begndate="2024-02-20"), "2024-03-01",
                           BEIJING, existing=(), open_stay_begndate="2024-02-20")
    assert (made.begndate, made.enddate) == ("2024-02-20", "2024-08-19")
    assert in_force(made, "2024-08-19") and not in_force(made, "2024-08-20")
    with pytest.raises(reasons.Refusal):
        validate_filing(a_filing(begndate="2024-02-19"), "2024-03-01", BEIJING, existing=(),
                        open_stay_begndate="2024-02-20")


def benefit(filings=(), **kw):
    fields = {"person": PERSON, "insutype": "310", "institution": HOSPITAL, "med_type": "11", "date": "2024-06-15",
              "filings": tuple(filings), "insured_place": BEIJING, "policy_found": True, "cert_type": "01"} | kw
    return check_benefit(BenefitQuery(**fields))


def test_city_and_province_filings_and_emergency_deemed_filed():
    city = a_filing(mdtrtarea_admvs="440100", enddate="2024-08-31")  # Guangzhou
    other_city = a_filing(mdtrtarea_admvs="440300", enddate="2024-08-31")  # Shenzhen
    province = a_filing(mdtrtarea_admvs="440000", category="12")
    assert benefit([city]).ok and benefit([province]).filing_category == "12"
    refused = benefit([other_city])
    assert [r.code for r in refused.reasons] == ["FILING_OTHER_REGION"] and refused.reasons[0].remedy
    emergency = benefit([other_city], med_type="13")
    assert (emergency.ok, emergency.filing_category, emergency.trt_dcla_detl_sn) == (True, "22", "")
    # An open stay without a filing: the remedy is to file before discharge (补办备案).
    stay = benefit([], med_type="21", admission_date="2024-06-15")
    assert [(r.code, r.remedy) for r in stay.reasons] == [("NO_FILING", reasons.REMEDY_FILE_BEFORE_DISCHARGE)]


def test_filing_edges_expired_revoked_other_insutype_and_referral():
    expired = a_filing(begndate="2023-06-01", enddate="2024-06-14")  # ended the day before the visit
    assert [r.code for r in benefit([expired]).reasons] == ["FILING_EXPIRED"]
    # The last day of validity still counts.
    assert benefit([a_filing(begndate="2024-01-01", enddate="2024-06-15")]).ok
    # Revoked on the visit date: no longer in force (and not "expired").
    assert [r.code for r in benefit([a_filing(revoked_date="2024-06-15")]).reasons] == ["NO_FILING"]
    # A filing of the resident insurance does not cover an employee claim.
    assert [r.code for r in benefit([a_filing(insutype="390")]).reasons] == ["NO_FILING"]
    # A referral names the receiving institution: another hospital of the same city is refused with its own reason.
    referral = a_filing(category="21", reflin_medins_no="H44010600099")
    assert [r.code for r in benefit([referral]).reasons] == ["FILING_OTHER_INSTITUTION"]
    assert benefit([msgspec.structs.replace(referral, reflin_medins_no=HOSPITAL.fixmedins_code)]).ok
    # Long-term preferred over a temporary filing for the same region (no reduction).
    both = benefit([a_filing(), a_filing(trt_dcla_detl_sn="F9", category="13", mdtrtarea_admvs="440000")])
    assert (both.filing_category, both.trt_dcla_detl_sn) == ("13", "F9")


def test_back_home_is_not_cross_province_for_long_term_and_temporary_filers_alike():
    # 双向享受待遇: a long-term filer treated back in the insured province settles there under provincial rules;
    # the core answers NOT_CROSS_PROVINCE (and asks for no filing) whichever filing the person holds.
    home = Institution(fixmedins_code="H11010500001", fixmedins_name="北京某医院", admdvs="110105", hosp_lv="3")
    for held in (a_filing(category="12", mdtrtarea_admvs="440000"), a_filing()):
        assert [r.code for r in benefit([held], institution=home).reasons] == ["NOT_CROSS_PROVINCE"]


def test_every_settlement_refusal_of_domain_5_has_a_remedy_except_not_cross_province():
    # NOT_CROSS_PROVINCE names its remedy only in its text ("settle under provincial rules"); see the report.
    section_5 = (reasons.PERSON_NOT_FOUND, reasons.INSU_STATUS_ABNORMAL, reasons.CARD_NOT_ACTIVATED,
                 reasons.NO_FILING, reasons.FILING_EXPIRED, reasons.FILING_OTHER_REGION,
                 reasons.INSTITUTION_NOT_NETWORKED, reasons.MED_TYPE_NOT_OPEN, reasons.CHRONIC_NOT_QUALIFIED,
                 reasons.DISEASE_NOT_OPEN, reasons.NO_POLICY, reasons.UNKNOWN_CATALOG_ITEM,
                 reasons.AMOUNT_INCONSISTENT)
    assert all(reason.remedy in reasons.REMEDY_TEXT and reason.remedy for reason in section_5)
    assert all(reason.zh and reason.en for reason in (*section_5, reasons.NOT_CROSS_PROVINCE))


# === 8 clearing and reconciliation =================================================================


def test_clearing_nets_sum_to_zero_and_reconciliation_totals_count_reversals():
    pol = policy(acct_pay_allowed=True)
    first = run(unit_lines(10_000), pol, acct_used_flag=True, acct_balc_fen=1_000)  # fund 80.00, account 10.00
    second = msgspec.structs.replace(run(unit_lines(5_000), pol), setl_id="S2")  # fund 40.00
    rev = reverse(first, "R1", 1, "2024-03-05")
    totals = reconciliation.totals([first, second, rev])
    assert totals == clearing.Totals(setl_cnt=1, medfee_sumamt_fen=5_000, fund_pay_sumamt_fen=4_000, acct_pay_fen=0)
    stmt = clearing.statement("2024-03", clearing.totals_from_ledger([first, second, rev], "2024-03").items())
    assert {p.admdvs: p.net_fen for p in stmt.positions} == {"110000": -4_000, "440000": 4_000}
    detail = reconciliation.detail([reconciliation.item_of(s) for s in (first, second)],
                                   [reconciliation.item_of(s) for s in (first, second, rev)])
    assert [i.setl_id for i in detail.missing_at_institution] == ["R1"] and not detail.amounts_differ
