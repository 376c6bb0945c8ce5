"""Properties of adjudication over random lines, items, policies and histories (hypothesis).

For every generated sequence of settlements of one person in one year: the identities hold, no named
quantity is negative, settle-then-reverse restores accumulators and account balance exactly, and the
sequence never pays more than what was left of each cap, nor more deductible than the deductible.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medsettle.domain import codes
from medsettle.domain.adjudication import AdjudicationInput, adjudicate
from medsettle.domain.money import line_amount_fen, round_half_up_div
from medsettle.domain.records import (
    Accumulators,
    CatalogItem,
    Claim,
    DiseaseCap,
    FeeLine,
    Institution,
    InsuranceLine,
    Person,
    Policy,
    RatioBand,
    Settlement,
    add_accumulators,
    check_identities,
)
from medsettle.domain.reversal import reverse

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
DISEASES = ("M03900", "M01600")
FEE_DATES = ("2024-03-05", "2024-03-06")
CAP_NEVER_FEN = 10**10  # a cap no generated sequence reaches
MONEY_FIELDS = (
    "medfee_sumamt_fen", "fulamt_ownpay_amt_fen", "overlmt_selfpay_fen", "preselfpay_amt_fen", "inscp_scp_amt_fen",
    "act_pay_dedc_fen", "hifp_pay_fen", "hifob_pay_fen", "hifmi_pay_fen", "fund_pay_sumamt_fen", "psn_part_amt_fen",
    "hosp_part_amt_fen", "acct_pay_fen", "psn_cash_pay_fen", "admission_dedc_fen",
)
RESTRICTIONS = (
    {}, {}, {}, {}, {}, {}, {}, {},  # unrestricted items are the common case
    {"lmt_sex": "2"}, {"lmt_age_max": 14}, {"lmt_age_min": 60}, {"lmt_setting": codes.SETTING_INPATIENT_ONLY},
    {"lmt_setting": codes.SETTING_OUTPATIENT_ONLY}, {"lmt_dise_codes": ("M03900",)}, {"lmt_cnt_per_day_e4": 20_000},
)


@st.composite
def catalog_item(draw, code: str) -> CatalogItem:
    lv = draw(st.sampled_from(sorted(codes.ITEM_CLASSES)))
    return CatalogItem(
        med_list_codg=code,
        name=code,
        list_type="101",
        chrgitm_lv=lv,
        selfpay_prop_bp=draw(st.integers(0, 10_000)) if lv == codes.CLASS_B else 0,
        pric_uplmt_amt_fen=draw(st.one_of(st.just(0), st.integers(1, 200_000))),
        begndate="2020-01-01",
        **draw(st.sampled_from(RESTRICTIONS)),
    )


@st.composite
def bands(draw, amount_max_fen: int) -> tuple[RatioBand, ...]:
    uptos = sorted(draw(st.sets(st.integers(1, amount_max_fen), min_size=0, max_size=3)))
    open_end = draw(st.booleans()) or not uptos
    ratios = draw(st.lists(st.integers(0, 10_000), min_size=len(uptos) + open_end, max_size=len(uptos) + open_end))
    return tuple(RatioBand(upto_fen=upto, ratio_bp=ratio) for upto, ratio in zip([*uptos, 0][: len(ratios)], ratios,
                                                                                   strict=True))


@st.composite
def policy(draw, insutype: str, category: str) -> Policy:
    dedc_fen = draw(st.one_of(st.just(0), st.integers(0, 20_000), st.integers(0, 200_000)))
    return Policy(
        insuplc_admdvs="110000", insutype=insutype, category=category,
        psn_type=codes.PSN_GROUP_IN_SERVICE if insutype == codes.INSUTYPE_EMPLOYEE else codes.PSN_GROUP_RESIDENT,
        hosp_lv="3", begndate="2024-01-01",
        dedc_fen=dedc_fen,
        dedc_later_fen=draw(st.one_of(st.just(-1), st.integers(0, dedc_fen))),
        bands=draw(bands(2_000_000)),
        cap_category_fen=draw(st.one_of(st.integers(0, 3_000_000), st.just(CAP_NEVER_FEN))),
        cap_overall_fen=draw(st.one_of(st.integers(0, 5_000_000), st.just(CAP_NEVER_FEN))),
        dise_caps=tuple(DiseaseCap(opsp_dise_code=code, cap_fen=draw(st.integers(0, 1_000_000)))
                        for code in draw(st.sets(st.sampled_from(DISEASES)))),
        reduction_mode=draw(st.sampled_from(sorted(codes.REDUCTION_MODES))),
        reduction_referral_bp=draw(st.integers(0, 1000)),
        reduction_emergency_bp=draw(st.integers(0, 1000)),
        reduction_other_bp=draw(st.integers(0, 2000)),
        hifob_ratio_bp=draw(st.integers(0, 10_000)),
        hifob_cap_fen=draw(st.integers(0, 3_000_000)),
        hifmi_threshold_fen=draw(st.integers(0, 2_000_000)),
        hifmi_bands=draw(bands(3_000_000)),
        hifmi_cap_fen=draw(st.integers(0, 3_000_000)),
        acct_pay_allowed=draw(st.booleans()),
    )


@st.composite
def history(draw) -> Accumulators:
    """What the year already holds; made canonical (sorted, no zero disease entries) by add_accumulators."""
    fen = st.one_of(st.just(0), st.integers(0, 300_000), st.integers(0, 3_000_000))  # mostly room under the caps
    raw = Accumulators(
        dedc_outpatient_fen=draw(fen), dedc_chronic_fen=draw(fen), hifp_outpatient_fen=draw(fen),
        hifp_chronic_fen=draw(fen), hifp_inpatient_fen=draw(fen), hifp_overall_fen=draw(fen),
        dise_hifp=tuple(DiseaseCap(opsp_dise_code=code, cap_fen=draw(fen)) for code in draw(st.sets(
            st.sampled_from(DISEASES)))),
        hifob_fen=draw(fen), hifmi_fen=draw(fen), inscp_burden_fen=draw(st.one_of(st.just(0), st.integers(0, 5_000_000))),
        visits_outpatient=draw(st.integers(0, 50)), visits_chronic=draw(st.integers(0, 50)),
        admissions_inpatient=draw(st.integers(0, 5)),
    )
    return add_accumulators(Accumulators(), raw)


@st.composite
def fee_lines(draw, prefix: str) -> tuple[tuple[FeeLine, ...], dict[str, CatalogItem]]:
    catalog = {code: draw(catalog_item(code)) for code in ("I1", "I2", "I3")}
    lines, items = [], {}
    for index in range(draw(st.sampled_from((0, 1, 1, 2, 2, 3, 4, 5, 6)))):  # now and then an empty claim
        code = draw(st.sampled_from(sorted(catalog)))
        cnt_e4 = draw(st.integers(1, 100_000))
        pric_e6 = draw(st.one_of(st.integers(1_000_000, 2_000_000_000), st.integers(0, 2_000_000_000)))
        sn = f"{prefix}-{index}"
        lines.append(FeeLine(feedetl_sn=sn, med_list_codg=code, cnt_e4=cnt_e4, pric_e6=pric_e6,
                             det_item_fee_sumamt_fen=line_amount_fen(cnt_e4, pric_e6),
                             fee_ocur_date=draw(st.sampled_from(FEE_DATES))))
        items[sn] = catalog[code]
    return tuple(lines), items


@st.composite
def scenario(draw):
    insutype = draw(st.sampled_from(sorted(codes.INSUTYPES)))
    med_type = draw(st.sampled_from(sorted(codes.MED_TYPES)))
    category = codes.category_of(med_type)
    dise_codg = draw(st.sampled_from(DISEASES)) if category == codes.CATEGORY_CHRONIC else draw(
        st.sampled_from(("", *DISEASES)))
    person = Person(
        psn_no="P1", psn_name="P", gend=draw(st.sampled_from(("1", "2"))),
        brdy=draw(st.sampled_from(("1950-01-01", "1980-06-15", "2015-03-05"))), certno="x",
        insu_lines=(InsuranceLine(insutype=insutype, psn_type="11", psn_insu_stas="1", insuplc_admdvs="110000"),),
    )
    claims = [draw(fee_lines(f"c{index}")) for index in range(draw(st.integers(1, 4)))]
    return {
        "insutype": insutype, "med_type": med_type, "category": category, "dise_codg": dise_codg, "person": person,
        "policy": draw(policy(insutype, category)), "start": draw(history()), "claims": claims,
        "filing_category": draw(st.sampled_from(("", *sorted(codes.FILING_CATEGORIES)))),
        "balance_fen": draw(st.integers(0, 2_000_000)), "acct_used_flag": draw(st.booleans()),
        "later_admission": draw(st.booleans()),
    }


HOSPITAL = Institution(fixmedins_code="H1", fixmedins_name="H", admdvs="440100", hosp_lv="3")


def check_reversal_restores(setl: Settlement, acc_before: Accumulators, balance_before_fen: int) -> None:
    rev = reverse(setl, "R-" + setl.setl_id, 1, "2024-03-07")
    check_identities(rev)
    for name in MONEY_FIELDS:
        assert getattr(rev, name) == -getattr(setl, name), name
    assert add_accumulators(add_accumulators(acc_before, setl.accumulator_delta), rev.accumulator_delta) == acc_before
    assert rev.balc_fen == balance_before_fen
    assert rev.accumulator_year == setl.accumulator_year


def run_sequence(case) -> list[tuple[Settlement, Accumulators]]:
    """Settle the claims one after another, as one person in one year (inpatient: one stay)."""
    acc, balance_fen, stay_dedc_fen = case["start"], case["balance_fen"], 0
    done = []
    for index, (lines, items) in enumerate(case["claims"]):
        claim = Claim(psn_no="P1", insutype=case["insutype"], med_type=case["med_type"], fixmedins_code="H1",
                      mdtrtarea_admvs="440100", setl_date="2024-03-07", dise_codg=case["dise_codg"], lines=lines,
                      acct_used_flag=case["acct_used_flag"])
        setl = adjudicate(AdjudicationInput(
            claim=claim, person=case["person"], institution=HOSPITAL, items_by_sn=items, policy=case["policy"],
            filing_category=case["filing_category"], accumulators=acc, acct_balc_fen=balance_fen,
            setl_id=f"S{index}", mdtrt_id="M1", setl_time_ms=index,
            stay_admission_dedc_paid_fen=stay_dedc_fen, stay_is_later_admission=case["later_admission"],
            first_settlement_of_stay=index == 0,
        ))
        check_identities(setl)
        assert all(getattr(setl, name) >= 0 for name in MONEY_FIELDS)
        assert setl.balc_fen == balance_fen - setl.acct_pay_fen >= 0
        assert all(p.fund_payamt_fen >= 0 and p.crt_payb_lmt_amt_fen >= 0 for p in setl.setldetail)
        for line in setl.lines:
            assert min(line.fulamt_ownpay_amt_fen, line.overlmt_amt_fen, line.preselfpay_amt_fen,
                       line.inscp_scp_amt_fen) >= 0
        check_reversal_restores(setl, acc, balance_fen)
        done.append((setl, acc))
        acc = add_accumulators(acc, setl.accumulator_delta)
        balance_fen = setl.balc_fen
        stay_dedc_fen += setl.admission_dedc_fen
    return done


@PROPERTY_SETTINGS
@given(scenario())
def test_settlement_sequences_respect_identities_caps_and_reversal(case):
    done = run_sequence(case)
    pol, start, category = case["policy"], case["start"], case["category"]
    paid = {name: sum(getattr(setl, name) for setl, _ in done)
            for name in ("hifp_pay_fen", "hifob_pay_fen", "hifmi_pay_fen", "act_pay_dedc_fen")}
    category_paid_before = {codes.CATEGORY_OUTPATIENT: start.hifp_outpatient_fen,
                            codes.CATEGORY_CHRONIC: start.hifp_chronic_fen,
                            codes.CATEGORY_INPATIENT: start.hifp_inpatient_fen}[category]
    assert paid["hifp_pay_fen"] <= max(0, pol.cap_category_fen - category_paid_before)
    assert paid["hifp_pay_fen"] <= max(0, pol.cap_overall_fen - start.hifp_overall_fen)
    dise_cap_fen = pol.dise_cap_fen(case["dise_codg"])
    if category == codes.CATEGORY_CHRONIC and dise_cap_fen is not None:
        assert paid["hifp_pay_fen"] <= max(0, dise_cap_fen - start.dise_paid_fen(case["dise_codg"]))
    assert paid["hifob_pay_fen"] <= max(0, pol.hifob_cap_fen - start.hifob_fen)
    assert paid["hifmi_pay_fen"] <= max(0, pol.hifmi_cap_fen - start.hifmi_fen)
    if case["insutype"] == codes.INSUTYPE_EMPLOYEE:
        assert paid["hifmi_pay_fen"] == 0
    else:
        assert paid["hifob_pay_fen"] == 0
    if category == codes.CATEGORY_INPATIENT:
        later = case["later_admission"] and pol.dedc_later_fen >= 0
        assert paid["act_pay_dedc_fen"] <= (pol.dedc_later_fen if later else pol.dedc_fen)
    else:
        dedc_before = start.dedc_outpatient_fen if category == codes.CATEGORY_OUTPATIENT else start.dedc_chronic_fen
        assert paid["act_pay_dedc_fen"] <= max(0, pol.dedc_fen - dedc_before)
    # Year-to-date after the sequence equals the start plus every delta, and a full unwind returns to the start.
    acc = start
    for setl, _ in done:
        acc = add_accumulators(acc, setl.accumulator_delta)
    for setl, _ in reversed(done):
        acc = add_accumulators(acc, reverse(setl, "R", 0, "2024-03-08").accumulator_delta)
    assert acc == start


@PROPERTY_SETTINGS
@given(st.integers(-(10**15), 10**15), st.integers(1, 10**9))
def test_round_half_up_div_is_nearest_and_symmetric(numerator, denominator):
    quotient = round_half_up_div(numerator, denominator)
    assert abs(numerator - quotient * denominator) * 2 <= denominator
    assert round_half_up_div(-numerator, denominator) == -quotient
