"""Adjudication and reversal (DOMAIN.md 6, 7). Every expected number is worked by hand in the comments.

Amounts are fen: 100 = 1.00 yuan. Lines are 1 unit at a price equal to the amount, unless a test says otherwise.
"""

import msgspec
import pytest

from medsettle.domain import reasons
from medsettle.domain.adjudication import AdjudicationInput, adjudicate
from medsettle.domain.records import (
    Accumulators,
    CatalogItem,
    Claim,
    DiseaseCap,
    FeeLine,
    FundPayment,
    Institution,
    InsuranceLine,
    Person,
    Policy,
    RatioBand,
    Stay,
    add_accumulators,
    stay_after,
)
from medsettle.domain.reversal import reverse

ITEM_A = CatalogItem(med_list_codg="A001", name="甲类药", list_type="101", chrgitm_lv="01", begndate="2020-01-01")
ITEM_B10 = CatalogItem(med_list_codg="B010", name="乙类药", list_type="101", chrgitm_lv="02", selfpay_prop_bp=1000,
                       begndate="2020-01-01")
ITEM_C = CatalogItem(med_list_codg="C001", name="丙类", list_type="201", chrgitm_lv="03", begndate="2020-01-01")
ITEMS = {item.med_list_codg: item for item in (ITEM_A, ITEM_B10, ITEM_C)}

PERSON = Person(
    psn_no="P1", psn_name="张三", gend="1", brdy="1970-05-01", certno="110101197005010011",
    insu_lines=(
        InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110000"),
        InsuranceLine(insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="110000"),
    ),
)
HOSPITAL = Institution(fixmedins_code="H44010001", fixmedins_name="某三甲医院", admdvs="440100", hosp_lv="3")
BIG_FEN = 100_000_000  # 1,000,000 yuan: a cap that never binds


def policy(insutype="310", category="1", **kw) -> Policy:
    fields = {
        "insuplc_admdvs": "110000", "psn_type": "11" if insutype == "310" else "13", "hosp_lv": "3",
        "begndate": "2024-01-01", "dedc_fen": 0, "bands": (RatioBand(upto_fen=0, ratio_bp=8000),),
        "cap_category_fen": BIG_FEN, "cap_overall_fen": BIG_FEN,
    } | kw
    return Policy(insutype=insutype, category=category, **fields)


def lines(*codes_and_fen: tuple[str, int]) -> tuple[FeeLine, ...]:
    return tuple(
        FeeLine(feedetl_sn=f"L{index}", med_list_codg=code, cnt_e4=10_000, pric_e6=fen * 10_000,
                det_item_fee_sumamt_fen=fen, fee_ocur_date="2024-03-05")
        for index, (code, fen) in enumerate(codes_and_fen)
    )


def inputs(
    fee_lines: tuple[FeeLine, ...],
    pol: Policy,
    *,
    med_type="11",
    insutype="310",
    dise_codg="",
    acct_used_flag=False,
    medfee_sumamt_fen=-1,
    items=None,
    **kw,
) -> AdjudicationInput:
    claim = Claim(psn_no="P1", insutype=insutype, med_type=med_type, fixmedins_code=HOSPITAL.fixmedins_code,
                  mdtrtarea_admvs="440100", setl_date="2024-03-05", dise_codg=dise_codg, lines=fee_lines,
                  acct_used_flag=acct_used_flag, medfee_sumamt_fen=medfee_sumamt_fen)
    by_sn = items if items is not None else {line.feedetl_sn: ITEMS[line.med_list_codg] for line in fee_lines}
    fields = {"filing_category": "11", "accumulators": Accumulators(), "setl_id": "S1", "mdtrt_id": "M1",
              "setl_time_ms": 1_709_600_000_000} | kw
    return AdjudicationInput(claim=claim, person=PERSON, institution=HOSPITAL, items_by_sn=by_sn, policy=pol,
                             **fields)


def money(setl):
    """The headline numbers, in a fixed order, for compact assertions."""
    return {
        "medfee": setl.medfee_sumamt_fen, "fulamt": setl.fulamt_ownpay_amt_fen, "overlmt": setl.overlmt_selfpay_fen,
        "preselfpay": setl.preselfpay_amt_fen, "inscp": setl.inscp_scp_amt_fen, "dedc": setl.act_pay_dedc_fen,
        "hifp": setl.hifp_pay_fen, "hifob": setl.hifob_pay_fen, "hifmi": setl.hifmi_pay_fen,
        "fund": setl.fund_pay_sumamt_fen, "psn": setl.psn_part_amt_fen, "acct": setl.acct_pay_fen,
        "cash": setl.psn_cash_pay_fen, "balc": setl.balc_fen,
    }


# --- line totals ---------------------------------------------------------------------------------


def test_all_classes_outpatient_employee():
    # A 100.00 in scope; B 50.00 at 10%: 5.00 first, 45.00 in scope; C 20.00 self-paid.
    # in scope 145.00, no deductible, 80%: fund 116.00; person 170.00 - 116.00 = 54.00.
    setl = adjudicate(inputs(lines(("A001", 10_000), ("B010", 5_000), ("C001", 2_000)), policy()))
    assert money(setl) == {
        "medfee": 17_000, "fulamt": 2_000, "overlmt": 0, "preselfpay": 500, "inscp": 14_500, "dedc": 0,
        "hifp": 11_600, "hifob": 0, "hifmi": 0, "fund": 11_600, "psn": 5_400, "acct": 0, "cash": 5_400, "balc": 0,
    }
    assert setl.pool_prop_selfpay_bp == 8000
    assert [line.inscp_scp_amt_fen for line in setl.lines] == [10_000, 4_500, 0]
    assert setl.clr_type == "11" and setl.insuplc_admdvs == "110000" and setl.mdtrtarea_admvs == "440100"
    assert setl.feedetl_sns == ("L0", "L1", "L2") and setl.accumulator_year == 2024
    assert setl.policy_key == "110000/310/1/11/3/2024-01-01"
    assert setl.setldetail == (
        FundPayment(fund_pay_type="310100", fund_payamt_fen=11_600, crt_payb_lmt_amt_fen=BIG_FEN),
        FundPayment(fund_pay_type="330100", fund_payamt_fen=0, crt_payb_lmt_amt_fen=0),
    )
    assert setl.accumulator_delta == Accumulators(hifp_outpatient_fen=11_600, hifp_overall_fen=11_600,
                                                  inscp_burden_fen=2_900, visits_outpatient=1)


def test_price_ceiling_goes_to_overlmt_selfpay():
    # 3 × 12.00 = 36.00 against a ceiling of 10.00/unit: 6.00 over; class A: 30.00 in scope, 80% = 24.00.
    capped = msgspec.structs.replace(ITEM_A, pric_uplmt_amt_fen=1000)
    fee = FeeLine(feedetl_sn="L0", med_list_codg="A001", cnt_e4=30_000, pric_e6=12_000_000,
                  det_item_fee_sumamt_fen=3_600, fee_ocur_date="2024-03-05")
    setl = adjudicate(inputs((fee,), policy(), items={"L0": capped}))
    assert (setl.overlmt_selfpay_fen, setl.inscp_scp_amt_fen, setl.hifp_pay_fen, setl.psn_part_amt_fen) == (
        600, 3_000, 2_400, 1_200)


def test_restricted_line_is_self_paid_in_the_settlement():
    # Female-only item for a man: 50.00 fully self-paid; A 100.00 at 80% = 80.00.
    female_only = msgspec.structs.replace(ITEM_A, med_list_codg="F001", lmt_sex="2")
    fee_lines = lines(("A001", 10_000), ("F001", 5_000))
    setl = adjudicate(inputs(fee_lines, policy(), items={"L0": ITEM_A, "L1": female_only}))
    assert (setl.fulamt_ownpay_amt_fen, setl.inscp_scp_amt_fen, setl.hifp_pay_fen) == (5_000, 10_000, 8_000)
    assert setl.lines[1].lmt_reason == "LMT_SEX"


def test_half_fen_rounds_up_through_the_settlement():
    # B 0.03 at 50%: 1.5 -> 2 first, 1 in scope; 1 fen at 50% pooled = 0.5 -> 1 fen.
    half = msgspec.structs.replace(ITEM_B10, selfpay_prop_bp=5000)
    setl = adjudicate(inputs(lines(("B010", 3)), policy(bands=(RatioBand(upto_fen=0, ratio_bp=5000),)),
                             items={"L0": half}))
    assert (setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen, setl.hifp_pay_fen, setl.psn_part_amt_fen) == (2, 1, 1, 2)


def test_total_inconsistent_refused_and_matching_total_accepted():
    with pytest.raises(reasons.Refusal) as caught:
        adjudicate(inputs(lines(("A001", 10_000)), policy(), medfee_sumamt_fen=10_001))
    assert caught.value.reason is reasons.TOTAL_INCONSISTENT and caught.value.field == "medfee_sumamt"
    assert adjudicate(inputs(lines(("A001", 10_000)), policy(), medfee_sumamt_fen=10_000)).medfee_sumamt_fen == 10_000


def test_unknown_item_refused_with_its_line():
    with pytest.raises(reasons.Refusal) as caught:
        adjudicate(inputs(lines(("A001", 100), ("Z999", 100)), policy(), items={"L0": ITEM_A, "L1": None}))
    assert (caught.value.reason, caught.value.field, caught.value.feedetl_sn) == (
        reasons.UNKNOWN_CATALOG_ITEM, "fee_lines[1].med_list_codg", "L1")


# --- deductible ----------------------------------------------------------------------------------


def test_outpatient_deductible_carried_across_visits_in_a_year():
    pol = policy(dedc_fen=20_000, bands=(RatioBand(upto_fen=0, ratio_bp=7000),))
    # Visit 1: 150.00 all toward the 200.00 deductible; fund pays nothing.
    first = adjudicate(inputs(lines(("A001", 15_000)), pol))
    assert (first.act_pay_dedc_fen, first.hifp_pay_fen, first.psn_part_amt_fen) == (15_000, 0, 15_000)
    assert first.accumulator_delta.dedc_outpatient_fen == 15_000
    acc = add_accumulators(Accumulators(), first.accumulator_delta)
    # Visit 2: 50.00 left; 300.00 - 50.00 = 250.00 eligible at 70% = 175.00.
    second = adjudicate(inputs(lines(("A001", 30_000)), pol, accumulators=acc, setl_id="S2"))
    assert (second.act_pay_dedc_fen, second.hifp_pay_fen, second.psn_part_amt_fen) == (5_000, 17_500, 12_500)
    acc = add_accumulators(acc, second.accumulator_delta)
    assert (acc.dedc_outpatient_fen, acc.visits_outpatient, acc.hifp_outpatient_fen) == (20_000, 2, 17_500)
    # Visit 3: deductible met; 100.00 at 70%.
    third = adjudicate(inputs(lines(("A001", 10_000)), pol, accumulators=acc, setl_id="S3"))
    assert (third.act_pay_dedc_fen, third.hifp_pay_fen) == (0, 7_000)
    steps = {step.code: step.amount_fen for step in second.explanation}
    assert (steps["DEDUCTIBLE_LEFT_BEFORE"], steps["DEDUCTIBLE_PAID"], steps["DEDUCTIBLE_LEFT_AFTER"]) == (
        5_000, 5_000, 0)


def test_chronic_deductible_is_separate_from_outpatient():
    pol = policy(category="2", dedc_fen=20_000)
    acc = Accumulators(dedc_outpatient_fen=20_000)  # outpatient deductible met; chronic not
    setl = adjudicate(inputs(lines(("A001", 30_000)), pol, med_type="14", dise_codg="M03900", accumulators=acc))
    # 200.00 deductible, 100.00 at 80% = 80.00
    assert (setl.act_pay_dedc_fen, setl.hifp_pay_fen) == (20_000, 8_000)
    assert setl.accumulator_delta == Accumulators(
        dedc_chronic_fen=20_000, hifp_chronic_fen=8_000, hifp_overall_fen=8_000,
        dise_hifp=(DiseaseCap(opsp_dise_code="M03900", cap_fen=8_000),), inscp_burden_fen=22_000, visits_chronic=1)


def inpatient_policy(**kw) -> Policy:
    return policy(category="3", **({"dedc_fen": 130_000, "dedc_later_fen": 65_000,
                                     "bands": (RatioBand(upto_fen=0, ratio_bp=8500),)} | kw))


def test_inpatient_deductible_per_admission_with_mid_stay_settlement():
    pol = inpatient_policy()
    # First settlement of the first admission: 1000.00, all toward the 1300.00 deductible.
    first = adjudicate(inputs(lines(("A001", 100_000)), pol, med_type="21"))
    assert (first.act_pay_dedc_fen, first.hifp_pay_fen, first.admission_dedc_fen) == (100_000, 0, 100_000)
    assert first.clr_type == "21"
    assert first.accumulator_delta == Accumulators(inscp_burden_fen=100_000, admissions_inpatient=1)
    # Mid-stay second settlement: 300.00 of the deductible left; 2000.00 - 300.00 = 1700.00 at 85% = 1445.00.
    second = adjudicate(inputs(lines(("A001", 200_000)), pol, med_type="21", setl_id="S2",
                               accumulators=add_accumulators(Accumulators(), first.accumulator_delta),
                               stay_admission_dedc_paid_fen=100_000, first_settlement_of_stay=False))
    assert (second.act_pay_dedc_fen, second.hifp_pay_fen, second.admission_dedc_fen) == (30_000, 144_500, 30_000)
    assert second.accumulator_delta.admissions_inpatient == 0
    assert second.accumulator_delta.dedc_outpatient_fen == 0 == second.accumulator_delta.dedc_chronic_fen


def test_later_admission_has_the_lower_deductible():
    # Later admission: 650.00 deductible; 1000.00 - 650.00 = 350.00 at 85% = 297.50.
    setl = adjudicate(inputs(lines(("A001", 100_000)), inpatient_policy(), med_type="21",
                             stay_is_later_admission=True))
    assert (setl.act_pay_dedc_fen, setl.hifp_pay_fen) == (65_000, 29_750)
    # No lower deductible configured (-1): the full 1300.00 again; all 1000.00 goes to it.
    same = adjudicate(inputs(lines(("A001", 100_000)), inpatient_policy(dedc_later_fen=-1), med_type="24",
                             stay_is_later_admission=True))
    assert (same.act_pay_dedc_fen, same.hifp_pay_fen) == (100_000, 0)


# --- ratio bands and caps -------------------------------------------------------------------------


def test_two_ratio_bands():
    # Eligible 2500.00: first 1000.00 at 80% = 800.00, next 1500.00 at 90% = 1350.00; fund 2150.00.
    bands = (RatioBand(upto_fen=100_000, ratio_bp=8000), RatioBand(upto_fen=0, ratio_bp=9000))
    setl = adjudicate(inputs(lines(("A001", 250_000)), policy(bands=bands)))
    assert setl.hifp_pay_fen == 215_000 and setl.pool_prop_selfpay_bp == 8000


def test_an_admissions_bands_run_over_the_whole_stay_so_a_mid_stay_settlement_changes_nothing():
    """Eligible 2500.00 for one admission, bands 1000.00 at 80% then 90%, the inpatient cap 1000.00 left, a
    large-amount subsidy of 60%. Settled once: the fund pays 800.00 on the first 1000.00 and reaches the cap
    200.00 later, 222.22 into the 90% band: 1277.78 above the cap, 60% = 766.67. Settled as 1000.00 then 1500.00,
    the second part goes on from 1000.00 (not from 0, where it would be paid at 80% again): the same figures."""
    bands = (RatioBand(upto_fen=100_000, ratio_bp=8000), RatioBand(upto_fen=0, ratio_bp=9000))
    pol = inpatient_policy(dedc_fen=0, bands=bands, cap_category_fen=100_000, hifob_ratio_bp=6000,
                           hifob_cap_fen=BIG_FEN)
    once = adjudicate(inputs(lines(("A001", 250_000)), pol, med_type="21"))
    assert (once.hifp_pay_fen, once.hifob_pay_fen, once.admission_eligible_fen) == (100_000, 76_667, 250_000)
    first = adjudicate(inputs(lines(("A001", 100_000)), pol, med_type="21"))
    assert (first.hifp_pay_fen, first.hifob_pay_fen, first.admission_eligible_fen) == (80_000, 0, 100_000)
    second = adjudicate(inputs(lines(("A001", 150_000)), pol, med_type="21", setl_id="S2",
                               accumulators=add_accumulators(Accumulators(), first.accumulator_delta),
                               stay_eligible_before_fen=first.admission_eligible_fen, first_settlement_of_stay=False))
    assert (second.hifp_pay_fen, second.hifob_pay_fen) == (20_000, 76_667)
    assert first.hifp_pay_fen + second.hifp_pay_fen == once.hifp_pay_fen
    words = {step.code: (step.zh, step.en) for step in second.explanation}
    assert words["RATIO"] == (
        "可报销金额1500.00元(本次住院此前已结算1000.00元), 支付比例: 0.00-1000.00元 80.00%; 1000.00元以上 90.00%",
        "eligible 1500.00 yuan (after 1000.00 settled earlier in this admission), ratios: 0.00 to 1000.00 yuan at "
        "80.00%; 1000.00 and above yuan at 90.00%")
    assert "此前已结算" not in dict((s.code, s.zh) for s in first.explanation)["RATIO"]  # the stay's first part
    # What a gateway shows, word for word: a faster way of writing the amounts must not change one.
    assert [words[code] for code in ("DEDUCTIBLE_LEFT_BEFORE", "DEDUCTIBLE_PAID", "DEDUCTIBLE_LEFT_AFTER",
                                     "CAP_LEFT", "POOLED_FUND", "HIFOB", "ACCOUNT", "CASH")] == [
        ("起付线尚余0.00元", "deductible left before: 0.00 yuan"),
        ("本次支付起付线0.00元", "deductible paid now: 0.00 yuan"),
        ("起付线剩余0.00元", "deductible left after: 0.00 yuan"),
        ("统筹基金年度限额尚余200.00元", "pooled-fund annual cap left: 200.00 yuan"),
        ("统筹基金支付200.00元(按比例1350.00元, 超限额部分可报销金额1277.78元)",
         "pooled fund pays 200.00 yuan (by ratio 1350.00, eligible above the cap 1277.78)"),
        ("职工大额医疗补助支付766.67元(限额尚余1000000.00元)",
         "employee large-amount subsidy pays 766.67 yuan (cap left 1000000.00)"),
        ("个人账户支付0.00元, 余额0.00元(本次不使用个人账户)",
         "personal account pays 0.00 yuan, balance 0.00 (account not used)"),
        ("个人现金支付533.33元", "cash paid by the person: 533.33 yuan"),
    ]
    # The stay keeps what its settlements in force used; reversing one gives it back exactly.
    stay = Stay(mdtrt_id="M1", psn_no="P1", insutype="310", med_type="21", fixmedins_code=HOSPITAL.fixmedins_code,
                mdtrtarea_admvs="440100", begndate="2024-03-01")
    settled = stay_after(stay_after(stay, first), second)
    assert (settled.admission_eligible_fen, settled.admission_counted, settled.settled_count) == (250_000, True, 2)
    undone = stay_after(stay_after(settled, reverse(second, "R2", 1, "2024-03-06")), reverse(first, "R1", 1,
                                                                                                 "2024-03-06"))
    assert undone == stay
    # Outpatient bands restart with each visit: the stay's figure is ignored there.
    visit = adjudicate(inputs(lines(("A001", 150_000)), policy(bands=bands), stay_eligible_before_fen=100_000))
    assert visit.hifp_pay_fen == 80_000 + 45_000 and visit.admission_eligible_fen == 0


def test_bands_are_summed_exactly_and_rounded_once():
    # 2 fen eligible, 1 fen in each band at 50%: 0.5 + 0.5 = 1 fen (rounding per band would give 2).
    bands = (RatioBand(upto_fen=1, ratio_bp=5000), RatioBand(upto_fen=0, ratio_bp=5000))
    assert adjudicate(inputs(lines(("A001", 2)), policy(bands=bands))).hifp_pay_fen == 1


def test_amount_beyond_a_closed_last_band_is_not_paid():
    # Bands end at 1000.00: eligible 1500.00 pays 80% of 1000.00 only.
    bands = (RatioBand(upto_fen=100_000, ratio_bp=8000),)
    assert adjudicate(inputs(lines(("A001", 150_000)), policy(bands=bands))).hifp_pay_fen == 80_000


def employee_inpatient_cap_policy(**kw) -> Policy:
    return inpatient_policy(**({"dedc_fen": 100_000, "bands": (RatioBand(upto_fen=0, ratio_bp=9000),),
                                "cap_category_fen": 500_000, "cap_overall_fen": 600_000,
                                "hifob_ratio_bp": 8000, "hifob_cap_fen": 200_000} | kw))


def test_cap_binds_mid_visit_and_large_amount_subsidy_pays_above_it():
    acc = Accumulators(hifp_inpatient_fen=400_000, hifp_overall_fen=450_000)
    setl = adjudicate(inputs(lines(("A001", 400_000)), employee_inpatient_cap_policy(), med_type="21",
                             accumulators=acc))
    # Cap left = min(5000 - 4000, 6000 - 4500) = 1000.00. Deductible 1000.00, eligible 3000.00, 90% = 2700.00 > cap.
    # The cap is reached at 1000.00 / 0.9 = 1111.11 of eligible: 3000.00 - 1111.11 = 1888.89 above the cap.
    # Large-amount subsidy 80% of 1888.89 = 1511.112 -> 1511.11. Person: 4000.00 - 1000.00 - 1511.11 = 1488.89.
    assert money(setl) == {
        "medfee": 400_000, "fulamt": 0, "overlmt": 0, "preselfpay": 0, "inscp": 400_000, "dedc": 100_000,
        "hifp": 100_000, "hifob": 151_111, "hifmi": 0, "fund": 251_111, "psn": 148_889, "acct": 0, "cash": 148_889,
        "balc": 0,
    }
    assert setl.setldetail == (
        FundPayment(fund_pay_type="310100", fund_payamt_fen=100_000, crt_payb_lmt_amt_fen=100_000),
        FundPayment(fund_pay_type="330100", fund_payamt_fen=151_111, crt_payb_lmt_amt_fen=200_000),
    )
    assert setl.accumulator_delta == Accumulators(hifp_inpatient_fen=100_000, hifp_overall_fen=100_000,
                                                  hifob_fen=151_111, inscp_burden_fen=300_000,
                                                  admissions_inpatient=1)
    # The subsidy's own cap: 500.00 left of it.
    capped = adjudicate(inputs(lines(("A001", 400_000)), employee_inpatient_cap_policy(), med_type="21",
                               accumulators=msgspec.structs.replace(acc, hifob_fen=150_000)))
    assert (capped.hifp_pay_fen, capped.hifob_pay_fen, capped.psn_part_amt_fen) == (100_000, 50_000, 250_000)
    assert capped.setldetail[1].crt_payb_lmt_amt_fen == 50_000


def test_overall_cap_binds_and_two_band_crossing():
    # Overall cap left 1500.00 binds (category 2000.00). Bands: 1000.00 at 80% (800.00), then 90%.
    # Cap crossed in the second band: (1500.00 - 800.00) / 0.9 = 777.777.. -> 777.78; covered 1777.78.
    # Eligible 5000.00: 3222.22 above the cap, 60% subsidy = 1933.332 -> 1933.33.
    bands = (RatioBand(upto_fen=100_000, ratio_bp=8000), RatioBand(upto_fen=0, ratio_bp=9000))
    pol = policy(bands=bands, cap_category_fen=200_000, cap_overall_fen=300_000, hifob_ratio_bp=6000,
                 hifob_cap_fen=BIG_FEN)
    acc = Accumulators(hifp_overall_fen=150_000)
    setl = adjudicate(inputs(lines(("A001", 500_000)), pol, accumulators=acc))
    assert (setl.hifp_pay_fen, setl.hifob_pay_fen, setl.psn_part_amt_fen) == (150_000, 193_333, 156_667)
    pooled = next(step for step in setl.explanation if step.code == "POOLED_FUND")
    assert "3222.22" in pooled.en and "1500.00" in pooled.zh


def test_exhausted_cap_pays_nothing_and_everything_eligible_is_above_it():
    acc = Accumulators(hifp_inpatient_fen=500_000, hifp_overall_fen=500_000)
    setl = adjudicate(inputs(lines(("A001", 200_000)), employee_inpatient_cap_policy(dedc_fen=0), med_type="21",
                             accumulators=acc))
    # Cap left 0; all 2000.00 above the cap; subsidy 80% = 1600.00.
    assert (setl.hifp_pay_fen, setl.hifob_pay_fen, setl.setldetail[0].crt_payb_lmt_amt_fen) == (0, 160_000, 0)


def test_chronic_disease_cap():
    # Hypertension cap 300.00, 250.00 already paid: 50.00 left. 100.00 at 80% = 80.00 > 50.00.
    # Cap reached at 50.00 / 0.8 = 62.50 eligible; 37.50 above; subsidy 50% = 18.75.
    pol = policy(category="2", dise_caps=(DiseaseCap(opsp_dise_code="M03900", cap_fen=30_000),),
                 hifob_ratio_bp=5000, hifob_cap_fen=BIG_FEN)
    acc = Accumulators(hifp_chronic_fen=25_000, hifp_overall_fen=25_000,
                       dise_hifp=(DiseaseCap(opsp_dise_code="M03900", cap_fen=25_000),))
    setl = adjudicate(inputs(lines(("A001", 10_000)), pol, med_type="14", dise_codg="M03900", accumulators=acc))
    assert (setl.hifp_pay_fen, setl.hifob_pay_fen) == (5_000, 1_875)
    assert setl.accumulator_delta.dise_hifp == (DiseaseCap(opsp_dise_code="M03900", cap_fen=5_000),)
    # Another disease is not limited by hypertension's cap.
    other = adjudicate(inputs(lines(("A001", 10_000)), pol, med_type="14", dise_codg="M01600", accumulators=acc))
    assert other.hifp_pay_fen == 8_000


# --- temporary-filing reductions -----------------------------------------------------------------


REDUCING = {"reduction_referral_bp": 1000, "reduction_emergency_bp": 500, "reduction_other_bp": 2000}


@pytest.mark.parametrize(
    ("filing_category", "hifp_fen", "ratio_bp"),
    [
        ("", 8_000, 8000),  # no filing needed: no reduction
        ("11", 8_000, 8000),  # long-term: no reduction
        ("12", 8_000, 8000),
        ("13", 8_000, 8000),
        ("21", 7_000, 7000),  # referral: 80% - 10 points = 70%
        ("22", 7_500, 7500),  # emergency: 80% - 5 points
        ("23", 6_000, 6000),  # other temporary: 80% - 20 points
    ],
)
def test_reduction_by_ratio_points(filing_category, hifp_fen, ratio_bp):
    setl = adjudicate(inputs(lines(("A001", 10_000)), policy(reduction_mode="1", **REDUCING),
                             filing_category=filing_category))
    assert (setl.inscp_scp_amt_fen, setl.preselfpay_amt_fen, setl.hifp_pay_fen) == (10_000, 0, hifp_fen)
    assert setl.pool_prop_selfpay_bp == ratio_bp


@pytest.mark.parametrize(
    ("filing_category", "moved_fen", "hifp_fen"),
    [
        ("11", 0, 8_000),
        ("21", 1_000, 7_200),  # 10% of 100.00 moved first; 90.00 at 80%
        ("22", 500, 7_600),  # 5%: 95.00 at 80%
        ("23", 2_000, 6_400),  # 20%: 80.00 at 80%
    ],
)
def test_reduction_by_moving_in_scope_to_preselfpay(filing_category, moved_fen, hifp_fen):
    setl = adjudicate(inputs(lines(("A001", 10_000)), policy(reduction_mode="2", **REDUCING),
                             filing_category=filing_category))
    assert (setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen, setl.hifp_pay_fen) == (
        moved_fen, 10_000 - moved_fen, hifp_fen)
    assert setl.pool_prop_selfpay_bp == 8000
    assert setl.lines[0].inscp_scp_amt_fen == 10_000  # the catalog split of the line itself is unchanged
    reduction = next(step for step in setl.explanation if step.code == "REDUCTION")
    assert reduction.amount_fen == moved_fen


def test_preselfpay_reduction_rounds_once():
    # 4.52 B 5%: 0.23 first, 4.29 in scope; referral 10% of 4.29 = 0.429 -> 0.43 more first; 3.86 in scope.
    b5 = msgspec.structs.replace(ITEM_B10, selfpay_prop_bp=500)
    setl = adjudicate(inputs(lines(("B010", 452)), policy(reduction_mode="2", **REDUCING), filing_category="21",
                             items={"L0": b5}))
    assert (setl.preselfpay_amt_fen, setl.inscp_scp_amt_fen) == (66, 386)


def test_ratio_reduction_floors_at_zero():
    pol = policy(bands=(RatioBand(upto_fen=0, ratio_bp=500),), reduction_mode="1", **REDUCING)
    setl = adjudicate(inputs(lines(("A001", 10_000)), pol, filing_category="21"))
    assert (setl.hifp_pay_fen, setl.pool_prop_selfpay_bp) == (0, 0)


# --- residents: critical-illness insurance --------------------------------------------------------


def resident_policy(**kw) -> Policy:
    return policy(insutype="390", category="3", **({
        "dedc_fen": 50_000, "bands": (RatioBand(upto_fen=0, ratio_bp=6000),),
        "hifmi_threshold_fen": 1_500_000,
        "hifmi_bands": (RatioBand(upto_fen=5_000_000, ratio_bp=6000), RatioBand(upto_fen=0, ratio_bp=7000)),
        "hifmi_cap_fen": 40_000_000,
    } | kw))


def test_resident_critical_illness_threshold_crossed_mid_visit_over_two_bands():
    # 200,000.00 in scope; deductible 500.00; 199,500.00 at 60% = 119,700.00 pooled.
    # Burden 200,000.00 - 119,700.00 = 80,300.00. Year: 14,000.00 -> 94,300.00; threshold 15,000.00.
    # Above threshold: 0 .. 79,300.00: first 50,000.00 at 60% = 30,000.00; next 29,300.00 at 70% = 20,510.00.
    acc = Accumulators(inscp_burden_fen=1_400_000)
    setl = adjudicate(inputs(lines(("A001", 20_000_000)), resident_policy(), med_type="21", insutype="390",
                             accumulators=acc))
    assert money(setl) == {
        "medfee": 20_000_000, "fulamt": 0, "overlmt": 0, "preselfpay": 0, "inscp": 20_000_000, "dedc": 50_000,
        "hifp": 11_970_000, "hifob": 0, "hifmi": 5_051_000, "fund": 17_021_000, "psn": 2_979_000, "acct": 0,
        "cash": 2_979_000, "balc": 0,
    }
    assert setl.setldetail == (
        FundPayment(fund_pay_type="390100", fund_payamt_fen=11_970_000, crt_payb_lmt_amt_fen=BIG_FEN),
        FundPayment(fund_pay_type="390200", fund_payamt_fen=5_051_000, crt_payb_lmt_amt_fen=40_000_000),
    )
    assert setl.accumulator_delta.inscp_burden_fen == 8_030_000
    assert setl.accumulator_delta.hifmi_fen == 5_051_000
    # Next visit: burden already 94,300.00 (79,300.00 above): 1,000.00 in scope, deductible 500.00 (new admission),
    # 500.00 at 60% = 300.00; burden 700.00, all in the 70% band: 490.00.
    acc = add_accumulators(acc, setl.accumulator_delta)
    nxt = adjudicate(inputs(lines(("A001", 100_000)), resident_policy(), med_type="21", insutype="390",
                            accumulators=acc, setl_id="S2", stay_is_later_admission=True))
    assert (nxt.hifp_pay_fen, nxt.hifmi_pay_fen) == (30_000, 49_000)


def test_resident_below_threshold_gets_no_critical_illness_pay():
    # 1,000.00: deductible 500.00, 300.00 pooled, burden 700.00; year 700.00 < 15,000.00.
    setl = adjudicate(inputs(lines(("A001", 100_000)), resident_policy(), med_type="21", insutype="390"))
    assert (setl.hifp_pay_fen, setl.hifmi_pay_fen, setl.accumulator_delta.inscp_burden_fen) == (30_000, 0, 70_000)


def test_resident_critical_illness_cap():
    acc = Accumulators(inscp_burden_fen=1_400_000, hifmi_fen=39_000_000)
    setl = adjudicate(inputs(lines(("A001", 20_000_000)), resident_policy(), med_type="21", insutype="390",
                             accumulators=acc))
    assert (setl.hifmi_pay_fen, setl.setldetail[1].crt_payb_lmt_amt_fen) == (1_000_000, 1_000_000)


def test_employee_gets_no_critical_illness_and_resident_no_large_amount():
    # The same second-layer parameters on both policies; each insutype uses only its own.
    extra = {"hifob_ratio_bp": 10_000, "hifob_cap_fen": BIG_FEN, "hifmi_threshold_fen": 0,
             "hifmi_bands": (RatioBand(upto_fen=0, ratio_bp=10_000),), "hifmi_cap_fen": BIG_FEN}
    emp = adjudicate(inputs(lines(("A001", 10_000)), policy(**extra)))
    res = adjudicate(inputs(lines(("A001", 10_000)), policy(insutype="390", **extra), insutype="390"))
    # Employee: cap never binds, so no subsidy, and no critical illness: 80.00 fund.
    assert (emp.hifob_pay_fen, emp.hifmi_pay_fen, emp.fund_pay_sumamt_fen) == (0, 0, 8_000)
    # Resident: burden 20.00 above a zero threshold, 100%: 20.00 critical illness; the person pays nothing.
    assert (res.hifob_pay_fen, res.hifmi_pay_fen, res.psn_part_amt_fen) == (0, 2_000, 0)


# --- personal account ---------------------------------------------------------------------------


def account_case(balance_fen, *, flag=True, allowed=True, insutype="310"):
    # 100.00 A + 20.00 C; 80% of 100.00 = 80.00 fund; person 40.00.
    pol = policy(insutype=insutype, acct_pay_allowed=allowed)
    return adjudicate(inputs(lines(("A001", 10_000), ("C001", 2_000)), pol, insutype=insutype, acct_used_flag=flag,
                             acct_balc_fen=balance_fen))


def test_account_limited_by_balance():
    setl = account_case(2_500)
    assert (setl.psn_part_amt_fen, setl.acct_pay_fen, setl.psn_cash_pay_fen, setl.balc_fen) == (4_000, 2_500, 1_500, 0)
    assert [(step.zh, step.en) for step in setl.explanation if step.code in ("ACCOUNT", "CASH")] == [
        ("个人账户支付25.00元, 余额0.00元", "personal account pays 25.00 yuan, balance 0.00"),
        ("个人现金支付15.00元", "cash paid by the person: 15.00 yuan"),
    ]
    assert setl.setldetail[-1] == FundPayment(fund_pay_type="310200", fund_payamt_fen=2_500, crt_payb_lmt_amt_fen=2_500)


def test_account_pays_the_whole_person_part():
    setl = account_case(10_000)
    assert (setl.acct_pay_fen, setl.psn_cash_pay_fen, setl.balc_fen) == (4_000, 0, 6_000)
    assert setl.setldetail[-1] == FundPayment(fund_pay_type="310200", fund_payamt_fen=4_000,
                                              crt_payb_lmt_amt_fen=10_000)


@pytest.mark.parametrize(
    "case",
    [
        {"flag": False},  # the request does not ask
        {"allowed": False},  # the insured place does not allow it
        {"insutype": "390"},  # residents have no personal account
    ],
)
def test_account_not_used(case):
    setl = account_case(10_000, **case)
    assert (setl.acct_pay_fen, setl.psn_cash_pay_fen, setl.balc_fen) == (0, 4_000, 10_000)
    assert all(payment.fund_pay_type != "310200" for payment in setl.setldetail)


def test_empty_account_has_no_account_line():
    setl = account_case(0)
    assert setl.acct_pay_fen == 0 and len(setl.setldetail) == 2


# --- explanation --------------------------------------------------------------------------------


def test_explanation_steps_in_order_with_yuan():
    employee = account_case(2_500)
    assert [step.code for step in employee.explanation] == [
        "CATALOG", "LINES", "POLICY", "REDUCTION", "DEDUCTIBLE_LEFT_BEFORE", "DEDUCTIBLE_PAID",
        "DEDUCTIBLE_LEFT_AFTER", "RATIO", "CAP_LEFT", "POOLED_FUND", "HIFOB", "ACCOUNT", "CASH",
    ]
    by_code = {step.code: step for step in employee.explanation}
    assert by_code["LINES"].amount_fen == 12_000 and "120.00" in by_code["LINES"].zh and "120.00" in by_code["LINES"].en
    assert "A001@2020-01-01" in by_code["CATALOG"].en
    assert "110000/310/1/11/3/2024-01-01" in by_code["POLICY"].en
    assert by_code["POOLED_FUND"].amount_fen == 8_000 and "80.00" in by_code["POOLED_FUND"].zh
    assert by_code["ACCOUNT"].amount_fen == 2_500 and by_code["CASH"].amount_fen == 1_500
    resident = account_case(0, insutype="390")
    assert "HIFMI" in [step.code for step in resident.explanation]
    assert "HIFOB" not in [step.code for step in resident.explanation]


# --- reversal -----------------------------------------------------------------------------------


def test_reversal_negates_everything_and_restores_the_year():
    pol = policy(category="2", dedc_fen=5_000, acct_pay_allowed=True,
                 dise_caps=(DiseaseCap(opsp_dise_code="M03900", cap_fen=BIG_FEN),))
    base = Accumulators(dedc_chronic_fen=1_000, hifp_chronic_fen=3_000, hifp_overall_fen=9_000, visits_chronic=2,
                        dise_hifp=(DiseaseCap(opsp_dise_code="M01600", cap_fen=3_000),), inscp_burden_fen=7_000)
    original = adjudicate(inputs(lines(("A001", 10_000), ("B010", 5_000), ("C001", 2_000)), pol, med_type="14",
                                 dise_codg="M03900", accumulators=base, acct_used_flag=True, acct_balc_fen=3_000))
    # 145.00 in scope; 40.00 deductible left; 105.00 at 80% = 84.00; person 170.00 - 84.00 = 86.00; account 30.00.
    assert money(original) == {
        "medfee": 17_000, "fulamt": 2_000, "overlmt": 0, "preselfpay": 500, "inscp": 14_500, "dedc": 4_000,
        "hifp": 8_400, "hifob": 0, "hifmi": 0, "fund": 8_400, "psn": 8_600, "acct": 3_000, "cash": 5_600, "balc": 0,
    }
    rev = reverse(original, "R1", 1_709_700_000_000, "2024-03-06")
    assert money(rev) == {key: -value for key, value in money(original).items() if key != "balc"} | {"balc": 3_000}
    assert (rev.setl_id, rev.reversed_setl_id, rev.reversal_setl_id) == ("R1", "S1", "")
    assert (rev.setl_date, rev.setl_time_ms, rev.accumulator_year) == ("2024-03-06", 1_709_700_000_000, 2024)
    assert [line.inscp_scp_amt_fen for line in rev.lines] == [-10_000, -4_500, 0]
    assert [line.preselfpay_amt_fen for line in rev.lines] == [0, -500, 0]
    assert [line.det_item_fee_sumamt_fen for line in rev.lines] == [-10_000, -5_000, -2_000]
    assert [p.fund_payamt_fen for p in rev.setldetail] == [-8_400, 0, -3_000]
    assert [(step.code, step.zh, step.en, step.amount_fen) for step in rev.explanation] == [(
        "REVERSAL", "冲销结算S1: 医疗费170.00元, 基金84.00元, 个人账户30.00元全部退回, 累计信息恢复",
        "reversal of settlement S1: total 170.00 yuan, funds 84.00, personal account 30.00 returned; accumulators "
        "restored", -17_000)]
    after = add_accumulators(base, original.accumulator_delta)
    assert after.dise_paid_fen("M03900") == 8_400 and after.visits_chronic == 3
    assert add_accumulators(after, rev.accumulator_delta) == base


def test_inpatient_reversal_negates_admission_deductible():
    original = adjudicate(inputs(lines(("A001", 100_000)), inpatient_policy(), med_type="21"))
    rev = reverse(original, "R1", 1, "2024-03-06")
    assert (rev.admission_dedc_fen, rev.accumulator_delta.admissions_inpatient) == (-100_000, -1)


def test_reversing_twice_is_refused():
    original = adjudicate(inputs(lines(("A001", 10_000)), policy()))
    rev = reverse(original, "R1", 1, "2024-03-06")
    marked = msgspec.structs.replace(original, reversal_setl_id="R1")
    with pytest.raises(reasons.Refusal) as caught:
        reverse(marked, "R2", 2, "2024-03-06")
    assert caught.value.reason is reasons.ALREADY_REVERSED
    with pytest.raises(reasons.Refusal) as caught:
        reverse(rev, "R3", 3, "2024-03-06")
    assert caught.value.reason is reasons.NOT_REVERSIBLE
