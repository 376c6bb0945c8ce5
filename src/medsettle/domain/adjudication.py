"""Adjudication: one claim, with everything the rules need, to a Settlement (DOMAIN.md 6).

A pure function. The store reads one snapshot (person, institution, catalog versions, policy row,
accumulators, stay) into an AdjudicationInput; this module computes the split, the funds, the
personal account, the accumulator delta and an explanation of every step, and asserts the identities.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import msgspec

from medsettle.domain import catalog_split, codes, reasons
from medsettle.domain.money import BP_PER_UNIT, apply_bp, format_fen, round_half_up_div
from medsettle.domain.records import (
    Accumulators,
    CatalogItem,
    Claim,
    DiseaseCap,
    ExplanationStep,
    FundPayment,
    Institution,
    LineResult,
    Person,
    Policy,
    RatioBand,
    Settlement,
    check_identities,
)

CATALOG_VERSIONS_LISTED_MAX = 10  # the CATALOG step names this many versions, then counts the rest
BAND_TEXTS_CACHED_MAX = 1024  # distinct sets of ratio bands described (policies x filing reductions), per process


class AdjudicationInput(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one settlement is computed from; the store builds it from one read snapshot."""

    claim: Claim
    person: Person
    institution: Institution
    items_by_sn: dict[str, CatalogItem | None]  # feedetl_sn -> catalog version for that line's fee date
    policy: Policy
    filing_category: str  # codes.FILING_* or "" (no reduction)
    trt_dcla_detl_sn: str = ""
    accumulators: Accumulators  # year-to-date before this settlement: claim.insutype, year of setl_date
    acct_balc_fen: int = 0  # personal account balance before
    setl_id: str
    mdtrt_id: str
    setl_time_ms: int
    stay_admission_dedc_paid_fen: int = 0  # inpatient: deductible paid toward this admission by earlier settlements
    stay_eligible_before_fen: int = 0  # inpatient: eligible amount of this admission's earlier settlements
    stay_is_later_admission: bool = False  # inpatient: an earlier admission exists this year
    first_settlement_of_stay: bool = True  # inpatient: only the first settlement counts the admission
    cnt_used_today_e4: dict[tuple[str, str], int] = {}  # (med_list_codg, fee date) -> quantity settled earlier


# --- ratio bands ---------------------------------------------------------------------------------


def check_bands(bands: Sequence[RatioBand]) -> None:
    """Bands ascend strictly; only the last may be open-ended (upto_fen 0); ratios are within 0..1."""
    previous_upto_fen = 0
    for index, band in enumerate(bands):
        assert 0 <= band.ratio_bp <= BP_PER_UNIT, band
        if band.upto_fen == 0:
            assert index == len(bands) - 1, "open band must be last"
        else:
            assert band.upto_fen > previous_upto_fen, "bands must ascend"
            previous_upto_fen = band.upto_fen


def band_pieces(bands: Sequence[RatioBand], lo_fen: int, hi_fen: int) -> list[tuple[int, int, int]]:
    """The parts of [lo_fen, hi_fen) that fall in each band, as (start_fen, piece_fen, ratio_bp).

    An amount beyond the last band's upper end falls in no band: the fund pays nothing on it.
    """
    pieces: list[tuple[int, int, int]] = []
    band_lo_fen = 0
    for band in bands:
        band_hi_fen = hi_fen if band.upto_fen == 0 else band.upto_fen
        start_fen, end_fen = max(lo_fen, band_lo_fen), min(hi_fen, band_hi_fen)
        if end_fen > start_fen:
            pieces.append((start_fen, end_fen - start_fen, band.ratio_bp))
        band_lo_fen = band_hi_fen
    return pieces


def banded_pay_fen(bands: Sequence[RatioBand], lo_fen: int, hi_fen: int) -> int:
    """Banded ratios over [lo_fen, hi_fen), summed exactly and rounded once."""
    numerator = sum(piece_fen * ratio_bp for _, piece_fen, ratio_bp in band_pieces(bands, lo_fen, hi_fen))
    return round_half_up_div(numerator, BP_PER_UNIT)


def reduced_bands(bands: Sequence[RatioBand], reduction_bp: int) -> tuple[RatioBand, ...]:
    """Every band's ratio lowered by the temporary-filing reduction, never below zero."""
    return tuple(RatioBand(upto_fen=b.upto_fen, ratio_bp=max(0, b.ratio_bp - reduction_bp)) for b in bands)


def covered_before_cap_fen(bands: Sequence[RatioBand], lo_fen: int, hi_fen: int, cap_left_fen: int) -> int:
    """How much of the eligible amount [lo_fen, hi_fen) the fund covers before its payment reaches `cap_left_fen`.

    Walks the bands with exact numerators (fen × bp) and rounds once, inside the band where the
    payment crosses the cap. Called only when the banded payment exceeds the cap, so it crosses.
    """
    target = cap_left_fen * BP_PER_UNIT
    cumulative = 0
    for start_fen, piece_fen, ratio_bp in band_pieces(bands, lo_fen, hi_fen):
        if ratio_bp > 0 and cumulative + piece_fen * ratio_bp >= target:
            covered_in_band_fen = round_half_up_div(target - cumulative, ratio_bp)
            assert 0 <= covered_in_band_fen <= piece_fen
            return start_fen + covered_in_band_fen - lo_fen
        cumulative += piece_fen * ratio_bp
    raise AssertionError("payment never reaches the cap")


def percent_text(ratio_bp: int) -> str:
    """Basis points as a percentage with two decimals: 8000 -> "80.00" (bp / 100, the same digits as fen)."""
    return format_fen(ratio_bp)


def describe_bands(bands: Sequence[RatioBand]) -> tuple[str, str]:
    """The ratio bands in words, (zh, en). A policy has a few sets of bands and every settlement of it says them."""
    return _band_texts(tuple(bands))


@functools.lru_cache(maxsize=BAND_TEXTS_CACHED_MAX)
def _band_texts(bands: tuple[RatioBand, ...]) -> tuple[str, str]:
    zh_parts, en_parts = [], []
    lo_fen = 0
    for band in bands:
        upper = "元以上" if band.upto_fen == 0 else f"-{format_fen(band.upto_fen)}元"
        zh_parts.append(f"{format_fen(lo_fen)}{upper} {percent_text(band.ratio_bp)}%")
        upper_en = " and above" if band.upto_fen == 0 else f" to {format_fen(band.upto_fen)}"
        en_parts.append(f"{format_fen(lo_fen)}{upper_en} yuan at {percent_text(band.ratio_bp)}%")
        lo_fen = band.upto_fen
    return "; ".join(zh_parts) or "无", "; ".join(en_parts) or "none"


# --- policy parameters for this claim ------------------------------------------------------------


def reduction_bp_of(policy: Policy, filing_category: str) -> int:
    """The temporary-filing reduction; long-term filings (and no filing) are not reduced."""
    assert filing_category == "" or filing_category in codes.FILING_CATEGORIES, filing_category
    by_category = {
        codes.FILING_REFERRAL: policy.reduction_referral_bp,
        codes.FILING_EMERGENCY: policy.reduction_emergency_bp,
        codes.FILING_OTHER_TEMPORARY: policy.reduction_other_bp,
    }
    reduction_bp = by_category.get(filing_category, 0)
    # The national ceilings (10 points referral and emergency, 20 other temporary) are checked when a policy is
    # pushed; a stored policy past them would be a defect, not a parameter.
    assert 0 <= reduction_bp <= codes.REDUCTION_CEILING_BP.get(filing_category, 0), (filing_category, reduction_bp)
    return reduction_bp


def deductible_left_fen(inputs: AdjudicationInput, category: str) -> int:
    """Deductible still unpaid: per year for outpatient and chronic, per admission for inpatient."""
    policy, acc = inputs.policy, inputs.accumulators
    if category == codes.CATEGORY_OUTPATIENT:
        return max(0, policy.dedc_fen - acc.dedc_outpatient_fen)
    if category == codes.CATEGORY_CHRONIC:
        return max(0, policy.dedc_fen - acc.dedc_chronic_fen)
    later = inputs.stay_is_later_admission and policy.dedc_later_fen >= 0
    base_fen = policy.dedc_later_fen if later else policy.dedc_fen
    return max(0, base_fen - inputs.stay_admission_dedc_paid_fen)


def hifp_paid_fen(acc: Accumulators, category: str) -> int:
    return {
        codes.CATEGORY_OUTPATIENT: acc.hifp_outpatient_fen,
        codes.CATEGORY_CHRONIC: acc.hifp_chronic_fen,
        codes.CATEGORY_INPATIENT: acc.hifp_inpatient_fen,
    }[category]


def pool_cap_left_fen(policy: Policy, acc: Accumulators, category: str, dise_codg: str) -> int:
    """What is left of the annual pooled-fund caps: category, overall, and the disease's for chronic."""
    lefts = [
        policy.cap_category_fen - hifp_paid_fen(acc, category),
        policy.cap_overall_fen - acc.hifp_overall_fen,
    ]
    dise_cap_fen = policy.dise_cap_fen(dise_codg) if category == codes.CATEGORY_CHRONIC else None
    if dise_cap_fen is not None:
        lefts.append(dise_cap_fen - acc.dise_paid_fen(dise_codg))
    return max(0, min(lefts))


def policy_key_of(policy: Policy) -> str:
    return "/".join((policy.insuplc_admdvs, policy.insutype, policy.category, policy.psn_type, policy.hosp_lv,
                     policy.begndate))


# --- explanation ---------------------------------------------------------------------------------


class _Explanation:
    """Collects the ordered steps; amounts are shown in yuan in both languages."""

    def __init__(self) -> None:
        self.steps: list[ExplanationStep] = []

    def add(self, code: str, zh: str, en: str, amount_fen: int = 0) -> None:
        self.steps.append(ExplanationStep(code=code, zh=zh, en=en, amount_fen=amount_fen))


def _catalog_step(explain: _Explanation, lines: Sequence[LineResult]) -> None:
    versions = sorted({f"{line.med_list_codg}@{line.catalog_begndate}" for line in lines})
    listed = ", ".join(versions[:CATALOG_VERSIONS_LISTED_MAX])
    more = len(versions) - CATALOG_VERSIONS_LISTED_MAX
    listed += f" (+{more})" if more > 0 else ""
    explain.add("CATALOG", f"{len(lines)}条明细按就医地目录版本: {listed}",
                f"{len(lines)} lines against catalog versions: {listed}")


# --- the settlement ------------------------------------------------------------------------------


class _Totals(msgspec.Struct, kw_only=True):
    medfee_fen: int = 0
    fulamt_fen: int = 0
    overlmt_fen: int = 0
    preselfpay_fen: int = 0
    inscp_fen: int = 0


def _sum_lines(lines: Sequence[LineResult]) -> _Totals:
    medfee_fen = fulamt_fen = overlmt_fen = preselfpay_fen = inscp_fen = 0  # locals: a 300-line stay adds 1,500 times
    for line in lines:
        medfee_fen += line.det_item_fee_sumamt_fen
        fulamt_fen += line.fulamt_ownpay_amt_fen
        overlmt_fen += line.overlmt_amt_fen
        preselfpay_fen += line.preselfpay_amt_fen
        inscp_fen += line.inscp_scp_amt_fen
    return _Totals(medfee_fen=medfee_fen, fulamt_fen=fulamt_fen, overlmt_fen=overlmt_fen, preselfpay_fen=preselfpay_fen,
                   inscp_fen=inscp_fen)


def _split_claim(inputs: AdjudicationInput, explain: _Explanation) -> tuple[tuple[LineResult, ...], _Totals]:
    claim, person = inputs.claim, inputs.person
    lines = catalog_split.split_lines(
        claim.lines,
        inputs.items_by_sn,
        gend=person.gend,
        brdy=person.brdy,
        inpatient=claim.med_type in codes.INPATIENT_MED_TYPES,
        dise_codg=claim.dise_codg,
        cnt_used_today_e4=inputs.cnt_used_today_e4,
    )
    totals = _sum_lines(lines)
    if claim.medfee_sumamt_fen >= 0 and claim.medfee_sumamt_fen != totals.medfee_fen:
        raise reasons.Refusal(
            reasons.TOTAL_INCONSISTENT,
            field="medfee_sumamt",
            detail=f"claimed {format_fen(claim.medfee_sumamt_fen)}, lines sum to {format_fen(totals.medfee_fen)}",
        )
    _catalog_step(explain, lines)
    medfee, fulamt, overlmt, preselfpay, inscp = map(format_fen, (totals.medfee_fen, totals.fulamt_fen,
                                                                  totals.overlmt_fen, totals.preselfpay_fen,
                                                                  totals.inscp_fen))
    explain.add(
        "LINES",
        f"医疗费总额{medfee}元 = 全自费{fulamt} + 超限价{overlmt} + 先行自付{preselfpay} + 符合范围{inscp}",
        f"total {medfee} yuan = fully self-paid {fulamt} + over price ceiling {overlmt} + paid first {preselfpay} "
        f"+ in scope {inscp}",
        totals.medfee_fen,
    )
    return lines, totals


def _apply_reduction(
    inputs: AdjudicationInput, totals: _Totals, explain: _Explanation
) -> tuple[RatioBand, ...]:
    """Temporary filings: move a share of in-scope to paid-first, or lower every ratio. Returns the bands."""
    policy, category = inputs.policy, inputs.filing_category
    reduction_bp = reduction_bp_of(policy, category)
    name_zh, name_en = codes.FILING_NAMES.get(category, ("无备案", "no filing"))
    if category not in codes.TEMPORARY_FILINGS or reduction_bp == 0:
        explain.add("REDUCTION", f"备案类别{name_zh}: 不降低待遇", f"filing category {name_en}: no reduction")
        return tuple(policy.bands)
    assert policy.reduction_mode in codes.REDUCTION_MODES, policy.reduction_mode
    points = percent_text(reduction_bp)
    if policy.reduction_mode == codes.REDUCTION_PRESELFPAY:
        moved_fen = apply_bp(totals.inscp_fen, reduction_bp)
        totals.preselfpay_fen += moved_fen
        totals.inscp_fen -= moved_fen
        explain.add(
            "REDUCTION",
            f"备案类别{name_zh}: 符合范围金额的{points}%即{format_fen(moved_fen)}元转为先行自付",
            f"filing category {name_en}: {points}% of the in-scope amount, {format_fen(moved_fen)} yuan, "
            f"moved to paid first",
            moved_fen,
        )
        return tuple(policy.bands)
    explain.add(
        "REDUCTION",
        f"备案类别{name_zh}: 统筹支付比例降低{points}个百分点",
        f"filing category {name_en}: every pooled-fund ratio lowered by {points} points",
    )
    return reduced_bands(policy.bands, reduction_bp)


def _hifmi(inputs: AdjudicationInput, burden_fen: int) -> tuple[int, int, int]:
    """Critical-illness insurance on the part of the year's in-scope burden above the threshold.

    Returns (pay, raw banded pay, cap left before).
    """
    policy, acc = inputs.policy, inputs.accumulators
    threshold_fen = policy.hifmi_threshold_fen
    before_fen, after_fen = acc.inscp_burden_fen, acc.inscp_burden_fen + burden_fen
    cap_left_fen = max(0, policy.hifmi_cap_fen - acc.hifmi_fen)
    if after_fen <= threshold_fen:
        return 0, 0, cap_left_fen
    lo_fen = max(before_fen, threshold_fen) - threshold_fen
    raw_fen = banded_pay_fen(policy.hifmi_bands, lo_fen, after_fen - threshold_fen)
    return min(raw_fen, cap_left_fen), raw_fen, cap_left_fen


def adjudicate(inputs: AdjudicationInput) -> Settlement:
    """Compute a settlement. Raises reasons.Refusal for bad lines or totals; asserts the identities."""
    claim, policy, acc = inputs.claim, inputs.policy, inputs.accumulators
    category = codes.category_of(claim.med_type)
    employee = claim.insutype == codes.INSUTYPE_EMPLOYEE
    assert claim.insutype in codes.INSUTYPES, claim.insutype
    assert policy.insutype == claim.insutype and policy.category == category, (policy.insutype, policy.category)
    assert category != codes.CATEGORY_CHRONIC or claim.dise_codg, "chronic claim without its disease"
    assert inputs.acct_balc_fen >= 0 and inputs.stay_admission_dedc_paid_fen >= 0 and inputs.stay_eligible_before_fen >= 0
    insu_line = inputs.person.line(claim.insutype)
    assert insu_line is not None, "person does not hold the claim's insutype"
    check_bands(policy.bands)
    check_bands(policy.hifmi_bands)
    explain = _Explanation()

    # a. Lines against the catalog.
    lines, totals = _split_claim(inputs, explain)
    policy_key = policy_key_of(policy)
    explain.add("POLICY", f"参保地政策: {policy_key}", f"policy of the insured place: {policy_key}")

    # b. Temporary-filing reduction.
    bands = _apply_reduction(inputs, totals, explain)
    inscp_fen = totals.inscp_fen

    # c. Deductible.
    dedc_left_fen = deductible_left_fen(inputs, category)
    act_pay_dedc_fen = min(inscp_fen, dedc_left_fen)
    eligible_fen = inscp_fen - act_pay_dedc_fen
    dedc_after_fen = dedc_left_fen - act_pay_dedc_fen
    left, paid, after = map(format_fen, (dedc_left_fen, act_pay_dedc_fen, dedc_after_fen))
    explain.add("DEDUCTIBLE_LEFT_BEFORE", f"起付线尚余{left}元", f"deductible left before: {left} yuan", dedc_left_fen)
    explain.add("DEDUCTIBLE_PAID", f"本次支付起付线{paid}元", f"deductible paid now: {paid} yuan", act_pay_dedc_fen)
    explain.add("DEDUCTIBLE_LEFT_AFTER", f"起付线剩余{after}元", f"deductible left after: {after} yuan", dedc_after_fen)

    # d. Pooled fund: banded ratios on the eligible amount, limited by what is left of the caps. An admission's
    # bands run over the whole stay: a mid-stay settlement's eligible amount goes on from where the earlier
    # settlements of the admission stopped, so settling a stay in parts pays what settling it once would.
    bands_zh, bands_en = describe_bands(bands)
    lo_fen = inputs.stay_eligible_before_fen if category == codes.CATEGORY_INPATIENT else 0
    hi_fen = lo_fen + eligible_fen
    eligible = format_fen(eligible_fen)
    earlier_zh = earlier_en = ""  # a mid-stay settlement says where its bands start
    if lo_fen:
        before = format_fen(lo_fen)
        earlier_zh, earlier_en = f"(本次住院此前已结算{before}元)", f" (after {before} settled earlier in this admission)"
    explain.add("RATIO", f"可报销金额{eligible}元{earlier_zh}, 支付比例: {bands_zh}",
                f"eligible {eligible} yuan{earlier_en}, ratios: {bands_en}", eligible_fen)
    cap_left_fen = pool_cap_left_fen(policy, acc, category, claim.dise_codg)
    cap_left = format_fen(cap_left_fen)
    explain.add("CAP_LEFT", f"统筹基金年度限额尚余{cap_left}元", f"pooled-fund annual cap left: {cap_left} yuan",
                cap_left_fen)
    hifp_raw_fen = banded_pay_fen(bands, lo_fen, hi_fen)
    hifp_fen = min(hifp_raw_fen, cap_left_fen)
    over_cap_eligible_fen = 0
    if cap_left_fen == 0:
        # The cap was spent before this claim: all of its eligible amount is above it, whatever the ratios
        # (a band lowered to 0% by a temporary-filing reduction is not "covered before the cap").
        over_cap_eligible_fen = eligible_fen
    elif hifp_raw_fen > cap_left_fen:
        over_cap_eligible_fen = eligible_fen - covered_before_cap_fen(bands, lo_fen, hi_fen, cap_left_fen)
    pool_prop_bp = bands[0].ratio_bp if bands else 0
    pays, by_ratio, over_cap = map(format_fen, (hifp_fen, hifp_raw_fen, over_cap_eligible_fen))
    explain.add(
        "POOLED_FUND",
        f"统筹基金支付{pays}元(按比例{by_ratio}元, 超限额部分可报销金额{over_cap}元)",
        f"pooled fund pays {pays} yuan (by ratio {by_ratio}, eligible above the cap {over_cap})",
        hifp_fen,
    )

    # e. Second layer.
    burden_fen = inscp_fen - hifp_fen  # in-scope part the person bears: deductible, coinsurance, over cap
    hifob_fen = hifmi_fen = 0
    if employee:
        hifob_cap_left_fen = max(0, policy.hifob_cap_fen - acc.hifob_fen)
        hifob_fen = min(apply_bp(over_cap_eligible_fen, policy.hifob_ratio_bp), hifob_cap_left_fen)
        second_cap_left_fen = hifob_cap_left_fen
        pays, cap_left = format_fen(hifob_fen), format_fen(hifob_cap_left_fen)
        explain.add("HIFOB", f"职工大额医疗补助支付{pays}元(限额尚余{cap_left}元)",
                    f"employee large-amount subsidy pays {pays} yuan (cap left {cap_left})", hifob_fen)
    else:
        hifmi_fen, hifmi_raw_fen, second_cap_left_fen = _hifmi(inputs, burden_fen)
        year_burden, threshold, pays, by_ratio, cap_left = map(format_fen, (
            acc.inscp_burden_fen + burden_fen, policy.hifmi_threshold_fen, hifmi_fen, hifmi_raw_fen,
            second_cap_left_fen))
        explain.add(
            "HIFMI",
            f"年度符合范围个人负担累计{year_burden}元, 起付{threshold}元, 大病保险支付{pays}元"
            f"(按比例{by_ratio}元, 限额尚余{cap_left}元)",
            f"year's in-scope burden {year_burden} yuan, threshold {threshold}; critical-illness insurance pays "
            f"{pays} yuan (by ratio {by_ratio}, cap left {cap_left})",
            hifmi_fen,
        )

    # f. The person's part, and the personal account.
    fund_fen = hifp_fen + hifob_fen + hifmi_fen
    hosp_part_fen = 0
    psn_part_fen = totals.medfee_fen - fund_fen - hosp_part_fen
    account_usable = claim.acct_used_flag and policy.acct_pay_allowed and employee
    acct_pay_fen = min(inputs.acct_balc_fen, psn_part_fen) if account_usable else 0
    psn_cash_fen = psn_part_fen - acct_pay_fen
    balc_fen = inputs.acct_balc_fen - acct_pay_fen
    account, balance, cash = map(format_fen, (acct_pay_fen, balc_fen, psn_cash_fen))
    explain.add("ACCOUNT", f"个人账户支付{account}元, 余额{balance}元" + ("" if account_usable else "(本次不使用个人账户)"),
                f"personal account pays {account} yuan, balance {balance}"
                + ("" if account_usable else " (account not used)"), acct_pay_fen)
    explain.add("CASH", f"个人现金支付{cash}元", f"cash paid by the person: {cash} yuan", psn_cash_fen)

    # g. setldetail: each fund with what was left of its cap before this payment.
    setldetail = [
        FundPayment(
            fund_pay_type=codes.FUND_EMPLOYEE_POOL if employee else codes.FUND_RESIDENT_POOL,
            fund_payamt_fen=hifp_fen,
            crt_payb_lmt_amt_fen=cap_left_fen,
        ),
        FundPayment(
            fund_pay_type=codes.FUND_EMPLOYEE_LARGE_AMOUNT if employee else codes.FUND_RESIDENT_CRITICAL,
            fund_payamt_fen=hifob_fen if employee else hifmi_fen,
            crt_payb_lmt_amt_fen=second_cap_left_fen,
        ),
    ]
    if acct_pay_fen > 0:
        setldetail.append(FundPayment(fund_pay_type=codes.FUND_EMPLOYEE_ACCOUNT, fund_payamt_fen=acct_pay_fen,
                                      crt_payb_lmt_amt_fen=inputs.acct_balc_fen))

    # h. What this settlement adds to the year's accumulators.
    delta = _accumulator_delta(inputs, category, act_pay_dedc_fen, hifp_fen, hifob_fen, hifmi_fen, burden_fen)
    setl = Settlement(
        setl_id=inputs.setl_id,
        mdtrt_id=inputs.mdtrt_id,
        psn_no=claim.psn_no,
        insutype=claim.insutype,
        med_type=claim.med_type,
        fixmedins_code=claim.fixmedins_code,
        insuplc_admdvs=insu_line.insuplc_admdvs,
        mdtrtarea_admvs=claim.mdtrtarea_admvs,
        setl_date=claim.setl_date,
        setl_time_ms=inputs.setl_time_ms,
        filing_category=inputs.filing_category,
        trt_dcla_detl_sn=inputs.trt_dcla_detl_sn,
        dise_codg=claim.dise_codg,
        clr_type=codes.CLR_TYPE_INPATIENT if category == codes.CATEGORY_INPATIENT else codes.CLR_TYPE_OUTPATIENT,
        medfee_sumamt_fen=totals.medfee_fen,
        fulamt_ownpay_amt_fen=totals.fulamt_fen,
        overlmt_selfpay_fen=totals.overlmt_fen,
        preselfpay_amt_fen=totals.preselfpay_fen,
        inscp_scp_amt_fen=inscp_fen,
        act_pay_dedc_fen=act_pay_dedc_fen,
        hifp_pay_fen=hifp_fen,
        pool_prop_selfpay_bp=pool_prop_bp,
        hifob_pay_fen=hifob_fen,
        hifmi_pay_fen=hifmi_fen,
        fund_pay_sumamt_fen=fund_fen,
        psn_part_amt_fen=psn_part_fen,
        hosp_part_amt_fen=hosp_part_fen,
        acct_pay_fen=acct_pay_fen,
        psn_cash_pay_fen=psn_cash_fen,
        balc_fen=balc_fen,
        setldetail=tuple(setldetail),
        lines=lines,
        explanation=tuple(explain.steps),
        accumulator_delta=delta,
        accumulator_year=int(claim.setl_date[:4]),
        admission_dedc_fen=act_pay_dedc_fen if category == codes.CATEGORY_INPATIENT else 0,
        admission_eligible_fen=eligible_fen if category == codes.CATEGORY_INPATIENT else 0,
        policy_key=policy_key,
        feedetl_sns=tuple(line.feedetl_sn for line in claim.lines),
        limited_quantities=catalog_split.limited_quantities(claim.lines, inputs.items_by_sn),
    )
    # i. Identities, and no named quantity below zero.
    check_identities(setl)
    _check_non_negative(setl, eligible_fen, over_cap_eligible_fen, burden_fen)
    return setl


def _accumulator_delta(
    inputs: AdjudicationInput,
    category: str,
    act_pay_dedc_fen: int,
    hifp_fen: int,
    hifob_fen: int,
    hifmi_fen: int,
    burden_fen: int,
) -> Accumulators:
    """Inpatient deductible is per admission, so it goes to the stay (admission_dedc_fen), not the year."""
    per_category: dict[str, int] = {}
    dise_hifp: tuple[DiseaseCap, ...] = ()
    if category == codes.CATEGORY_OUTPATIENT:
        per_category = {"dedc_outpatient_fen": act_pay_dedc_fen, "hifp_outpatient_fen": hifp_fen,
                        "visits_outpatient": 1}
    elif category == codes.CATEGORY_CHRONIC:
        per_category = {"dedc_chronic_fen": act_pay_dedc_fen, "hifp_chronic_fen": hifp_fen, "visits_chronic": 1}
        if hifp_fen:  # the same canonical form add_accumulators keeps: no zero entries
            dise_hifp = (DiseaseCap(opsp_dise_code=inputs.claim.dise_codg, cap_fen=hifp_fen),)
    else:
        per_category = {"hifp_inpatient_fen": hifp_fen,
                        "admissions_inpatient": 1 if inputs.first_settlement_of_stay else 0}
    return Accumulators(
        **per_category,
        hifp_overall_fen=hifp_fen,
        dise_hifp=dise_hifp,
        hifob_fen=hifob_fen,
        hifmi_fen=hifmi_fen,
        inscp_burden_fen=burden_fen,
    )


def _check_non_negative(setl: Settlement, *more_fen: int) -> None:
    named = (
        setl.medfee_sumamt_fen, setl.fulamt_ownpay_amt_fen, setl.overlmt_selfpay_fen, setl.preselfpay_amt_fen,
        setl.inscp_scp_amt_fen, setl.act_pay_dedc_fen, setl.hifp_pay_fen, setl.pool_prop_selfpay_bp,
        setl.hifob_pay_fen, setl.hifmi_pay_fen, setl.fund_pay_sumamt_fen, setl.psn_part_amt_fen,
        setl.hosp_part_amt_fen, setl.acct_pay_fen, setl.psn_cash_pay_fen, setl.balc_fen, *more_fen,
    )
    assert min(named) >= 0, named
    assert all(p.fund_payamt_fen >= 0 and p.crt_payb_lmt_amt_fen >= 0 for p in setl.setldetail)
    assert all(line.fulamt_ownpay_amt_fen >= 0 and line.inscp_scp_amt_fen >= 0 for line in setl.lines)
