"""Each fee line against the catalog of the place of treatment (就医地目录), DOMAIN.md 6.1.

A line's amount is split four ways: fully self-paid (class C or a restriction not met), over the
price ceiling, paid first by the person (class B), and in scope. The four always sum to the amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from medsettle.domain import codes, dates, reasons
from medsettle.domain.money import CNT_SCALE, apply_bp, line_amount_fen, round_half_up_div
from medsettle.domain.records import CatalogItem, FeeLine, ItemDayQuantity, LineResult, in_period

# Restriction not met (LineResult.lmt_reason). Checked in this order; the first failing one is named.
LMT_SEX = "LMT_SEX"
LMT_AGE = "LMT_AGE"
LMT_INPATIENT_ONLY = "LMT_INPATIENT_ONLY"
LMT_OUTPATIENT_ONLY = "LMT_OUTPATIENT_ONLY"
LMT_DIAGNOSIS = "LMT_DIAGNOSIS"
LMT_QUANTITY = "LMT_QUANTITY"
LMT_REASONS = (LMT_SEX, LMT_AGE, LMT_INPATIENT_ONLY, LMT_OUTPATIENT_ONLY, LMT_DIAGNOSIS, LMT_QUANTITY)


class LineContext(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # strings and numbers: no cycles
    """What a line's restrictions are checked against: the person and the visit, at the fee date."""

    gend: str  # codes.GENDER_*
    age_years: int  # age on the line's fee date
    inpatient: bool
    dise_codg: str = ""
    cnt_used_today_e4: int = 0  # quantity of this item already charged the same day (earlier lines, settlements)


def item_valid_on(item: CatalogItem, date: str) -> bool:
    """Is this catalog version in force on `date`? Dates compare correctly as strings."""
    return in_period(item.begndate, item.enddate, date)


def restriction_failed(item: CatalogItem, line: FeeLine, ctx: LineContext) -> str:
    """The first restriction of `item` the line does not meet, or "" when it meets them all."""
    if item.lmt_sex and ctx.gend != item.lmt_sex:
        return LMT_SEX
    if (item.lmt_age_min >= 0 and ctx.age_years < item.lmt_age_min) or (
        item.lmt_age_max >= 0 and ctx.age_years > item.lmt_age_max
    ):
        return LMT_AGE
    if item.lmt_setting == codes.SETTING_INPATIENT_ONLY and not ctx.inpatient:
        return LMT_INPATIENT_ONLY
    if item.lmt_setting == codes.SETTING_OUTPATIENT_ONLY and ctx.inpatient:
        return LMT_OUTPATIENT_ONLY
    if item.lmt_dise_codes and ctx.dise_codg not in item.lmt_dise_codes:
        return LMT_DIAGNOSIS
    if item.lmt_cnt_per_day_e4 > 0 and ctx.cnt_used_today_e4 + line.cnt_e4 > item.lmt_cnt_per_day_e4:
        return LMT_QUANTITY
    return ""


def check_line_amount(line: FeeLine) -> None:
    """The amount must be cnt × pric to the fen, with a positive quantity and no negative money.

    Refunds are reverse-and-settle-again (DOMAIN.md 7), so a negative line is never legitimate.
    """
    if (
        line.cnt_e4 <= 0
        or line.pric_e6 < 0
        or line.det_item_fee_sumamt_fen < 0
        or line.det_item_fee_sumamt_fen != line_amount_fen(line.cnt_e4, line.pric_e6)
    ):
        raise reasons.Refusal(
            reasons.AMOUNT_INCONSISTENT,
            feedetl_sn=line.feedetl_sn,
            detail=f"cnt_e4={line.cnt_e4} pric_e6={line.pric_e6} amount_fen={line.det_item_fee_sumamt_fen}",
        )


def split_line(line: FeeLine, item: CatalogItem | None, ctx: LineContext) -> LineResult:
    """Split one fee line's amount by the catalog version valid on its fee date."""
    if item is None or item.med_list_codg != line.med_list_codg or not item_valid_on(item, line.fee_ocur_date):
        raise reasons.Refusal(
            reasons.UNKNOWN_CATALOG_ITEM,
            feedetl_sn=line.feedetl_sn,
            detail=f"{line.med_list_codg} on {line.fee_ocur_date}",
        )
    check_line_amount(line)
    assert item.chrgitm_lv in codes.ITEM_CLASSES, item.chrgitm_lv
    assert item.pric_uplmt_amt_fen >= 0 and 0 <= item.selfpay_prop_bp <= 10_000
    amount_fen = line.det_item_fee_sumamt_fen
    fulamt_fen = overlmt_fen = preselfpay_fen = inscp_fen = 0
    # Class C is self-paid whatever its restrictions say, so none is named for it.
    lmt_reason = "" if item.chrgitm_lv == codes.CLASS_C else restriction_failed(item, line, ctx)
    if item.chrgitm_lv == codes.CLASS_C or lmt_reason:
        fulamt_fen = amount_fen
    else:
        if item.pric_uplmt_amt_fen > 0:
            # The ceiling is per unit: the most the fund recognises for this quantity, rounded once.
            allowed_fen = round_half_up_div(line.cnt_e4 * item.pric_uplmt_amt_fen, CNT_SCALE)
            overlmt_fen = max(0, amount_fen - allowed_fen)
        rest_fen = amount_fen - overlmt_fen
        if item.chrgitm_lv == codes.CLASS_B:
            preselfpay_fen = apply_bp(rest_fen, item.selfpay_prop_bp)
        inscp_fen = rest_fen - preselfpay_fen
    assert amount_fen == fulamt_fen + overlmt_fen + preselfpay_fen + inscp_fen
    assert min(fulamt_fen, overlmt_fen, preselfpay_fen, inscp_fen) >= 0
    return LineResult(
        feedetl_sn=line.feedetl_sn,
        med_list_codg=line.med_list_codg,
        det_item_fee_sumamt_fen=amount_fen,
        fulamt_ownpay_amt_fen=fulamt_fen,
        overlmt_amt_fen=overlmt_fen,
        preselfpay_amt_fen=preselfpay_fen,
        inscp_scp_amt_fen=inscp_fen,
        chrgitm_lv=item.chrgitm_lv,
        selfpay_prop_bp=item.selfpay_prop_bp,
        pric_uplmt_amt_fen=item.pric_uplmt_amt_fen,
        lmt_reason=lmt_reason,
        catalog_begndate=item.begndate,
    )


def _field_of(reason: reasons.Reason, index: int) -> str:
    if reason is reasons.UNKNOWN_CATALOG_ITEM:
        return f"fee_lines[{index}].med_list_codg"
    return f"fee_lines[{index}].det_item_fee_sumamt"


def split_lines(
    lines: Sequence[FeeLine],
    items_by_sn: Mapping[str, CatalogItem | None],
    *,
    gend: str,
    brdy: str,
    inpatient: bool,
    dise_codg: str = "",
    cnt_used_today_e4: Mapping[tuple[str, str], int] | None = None,
) -> tuple[LineResult, ...]:
    """Split every line of a claim; refuse once with every bad line, so the window can fix them all.

    `items_by_sn` maps feedetl_sn to the catalog version the store chose for that line's fee date.
    `cnt_used_today_e4` maps (med_list_codg, fee date) to quantity charged by earlier settlements;
    lines of this claim add to it in order. Every charged quantity counts, covered or not: the daily
    limit is about what the person received that day.
    """
    used_e4: dict[tuple[str, str], int] = dict(cnt_used_today_e4 or {})
    ages: dict[str, int] = {}  # age on each fee date: a stay's thousand lines share a handful of dates
    results: list[LineResult] = []
    refusals: list[reasons.Refusal] = []
    for index, line in enumerate(lines):
        day_key = (line.med_list_codg, line.fee_ocur_date)
        age_years = ages.get(line.fee_ocur_date)
        if age_years is None:
            age_years = ages[line.fee_ocur_date] = dates.age_on(brdy, line.fee_ocur_date)
        ctx = LineContext(
            gend=gend,
            age_years=age_years,
            inpatient=inpatient,
            dise_codg=dise_codg,
            cnt_used_today_e4=used_e4.get(day_key, 0),
        )
        try:
            results.append(split_line(line, items_by_sn.get(line.feedetl_sn), ctx))
        except reasons.Refusal as refusal:
            refusals.append(
                reasons.Refusal(
                    refusal.reason,
                    field=_field_of(refusal.reason, index),
                    feedetl_sn=refusal.feedetl_sn,
                    detail=refusal.detail,
                )
            )
            continue
        used_e4[day_key] = used_e4.get(day_key, 0) + line.cnt_e4
    if refusals:
        raise reasons.Refusal.of_all(refusals)
    return tuple(results)


def limited_quantities(
    lines: Sequence[FeeLine], items_by_sn: Mapping[str, CatalogItem | None]
) -> tuple[ItemDayQuantity, ...]:
    """The quantity a claim charges of each item that has a daily limit, per fee date: what the person's later
    settlements of that day count against the limit (covered or not, as `split_lines` counts them)."""
    charged_e4: dict[tuple[str, str], int] = {}
    for line in lines:
        item = items_by_sn.get(line.feedetl_sn)
        if item is not None and item.lmt_cnt_per_day_e4 > 0:
            day_key = (line.med_list_codg, line.fee_ocur_date)
            charged_e4[day_key] = charged_e4.get(day_key, 0) + line.cnt_e4
    return tuple(ItemDayQuantity(med_list_codg=code, fee_date=day, cnt_e4=cnt_e4)
                 for (code, day), cnt_e4 in sorted(charged_e4.items()))
