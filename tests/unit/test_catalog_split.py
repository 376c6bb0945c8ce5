"""Fee lines against the catalog (DOMAIN.md 6.1). Every expected split is worked by hand in the comments."""

import pytest

from medsettle.domain import dates, reasons
from medsettle.domain.catalog_split import (
    LineContext,
    split_line,
    split_lines,
)
from medsettle.domain.records import CatalogItem, FeeLine

OUTPATIENT_MAN_40 = LineContext(gend="1", age_years=40, inpatient=False)


def item(code="X001", lv="01", **kw) -> CatalogItem:
    fields = {"name": "item", "list_type": "101", "begndate": "2020-01-01"} | kw
    return CatalogItem(med_list_codg=code, chrgitm_lv=lv, **fields)


def fee(sn="L1", code="X001", cnt_e4=10_000, pric_e6=1_000_000, amount_fen=100, date="2024-03-05") -> FeeLine:
    return FeeLine(feedetl_sn=sn, med_list_codg=code, cnt_e4=cnt_e4, pric_e6=pric_e6,
                   det_item_fee_sumamt_fen=amount_fen, fee_ocur_date=date)


def parts(result):
    return (result.fulamt_ownpay_amt_fen, result.overlmt_amt_fen, result.preselfpay_amt_fen,
            result.inscp_scp_amt_fen)


# --- classes and the price ceiling ---------------------------------------------------------------


def test_class_a_fully_in_scope():
    # 2 × 10.00 yuan = 20.00
    result = split_line(fee(cnt_e4=20_000, pric_e6=10_000_000, amount_fen=2000), item(lv="01"), OUTPATIENT_MAN_40)
    assert parts(result) == (0, 0, 0, 2000)
    assert result.chrgitm_lv == "01" and result.lmt_reason == "" and result.catalog_begndate == "2020-01-01"


def test_class_b_real_response_example():
    # 4.52 yuan, selfpay 5%: 0.226 -> 0.23 paid first, 4.29 in scope.
    result = split_line(fee(cnt_e4=10_000, pric_e6=4_520_000, amount_fen=452), item(lv="02", selfpay_prop_bp=500),
                        OUTPATIENT_MAN_40)
    assert parts(result) == (0, 0, 23, 429)
    assert result.selfpay_prop_bp == 500


def test_class_c_fully_self_paid():
    result = split_line(fee(cnt_e4=10_000, pric_e6=4_520_000, amount_fen=452), item(lv="03"), OUTPATIENT_MAN_40)
    assert parts(result) == (452, 0, 0, 0)


def test_class_c_names_no_restriction():
    # Self-paid as class C already; a failed restriction changes nothing and is not named.
    result = split_line(fee(), item(lv="03", lmt_sex="2"), OUTPATIENT_MAN_40)
    assert parts(result) == (100, 0, 0, 0) and result.lmt_reason == ""


def test_price_ceiling_class_b():
    # 3 × 12.00 = 36.00; ceiling 10.00 per unit allows 30.00, 6.00 over; rest 30.00, 10% = 3.00 first, 27.00 in scope.
    result = split_line(fee(cnt_e4=30_000, pric_e6=12_000_000, amount_fen=3600),
                        item(lv="02", selfpay_prop_bp=1000, pric_uplmt_amt_fen=1000), OUTPATIENT_MAN_40)
    assert parts(result) == (0, 600, 300, 2700)
    assert result.pric_uplmt_amt_fen == 1000


def test_price_ceiling_fractional_quantity_rounds_allowed_amount_once():
    # 0.5 × 3.01 = 1.505 -> 1.51. Ceiling 3.00/unit: 0.5 × 3.00 = 1.50 allowed, 0.01 over.
    result = split_line(fee(cnt_e4=5_000, pric_e6=3_010_000, amount_fen=151), item(lv="01", pric_uplmt_amt_fen=300),
                        OUTPATIENT_MAN_40)
    assert parts(result) == (0, 1, 0, 150)
    # Ceiling 3.01/unit: 0.5 × 3.01 = 1.505 -> 1.51 allowed, nothing over.
    result = split_line(fee(cnt_e4=5_000, pric_e6=3_010_000, amount_fen=151), item(lv="01", pric_uplmt_amt_fen=301),
                        OUTPATIENT_MAN_40)
    assert parts(result) == (0, 0, 0, 151)


def test_price_below_ceiling_is_not_over():
    result = split_line(fee(cnt_e4=20_000, pric_e6=5_000_000, amount_fen=1000), item(lv="01", pric_uplmt_amt_fen=800),
                        OUTPATIENT_MAN_40)
    assert parts(result) == (0, 0, 0, 1000)


def test_half_fen_rounds_up():
    # 0.01 yuan at 50% paid first: 0.5 fen -> 1 fen first, 0 in scope.
    result = split_line(fee(cnt_e4=10_000, pric_e6=10_000, amount_fen=1), item(lv="02", selfpay_prop_bp=5000),
                        OUTPATIENT_MAN_40)
    assert parts(result) == (0, 0, 1, 0)
    # 0.03 yuan at 50%: 1.5 -> 2 first, 1 in scope.
    result = split_line(fee(cnt_e4=10_000, pric_e6=30_000, amount_fen=3), item(lv="02", selfpay_prop_bp=5000),
                        OUTPATIENT_MAN_40)
    assert parts(result) == (0, 0, 2, 1)


# --- restrictions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restriction", "ctx", "reason"),
    [
        ({"lmt_sex": "2"}, OUTPATIENT_MAN_40, "LMT_SEX"),
        ({"lmt_age_max": 14}, OUTPATIENT_MAN_40, "LMT_AGE"),
        ({"lmt_age_min": 41}, OUTPATIENT_MAN_40, "LMT_AGE"),
        ({"lmt_setting": "1"}, OUTPATIENT_MAN_40, "LMT_INPATIENT_ONLY"),
        ({"lmt_setting": "2"}, LineContext(gend="1", age_years=40, inpatient=True), "LMT_OUTPATIENT_ONLY"),
        ({"lmt_dise_codes": ("M03900",)}, OUTPATIENT_MAN_40, "LMT_DIAGNOSIS"),
        ({"lmt_dise_codes": ("M03900",)}, LineContext(gend="1", age_years=40, inpatient=False, dise_codg="M01600"),
         "LMT_DIAGNOSIS"),
        # 2 already today + 2 now = 4 > 3 a day
        ({"lmt_cnt_per_day_e4": 30_000}, LineContext(gend="1", age_years=40, inpatient=False,
                                                      cnt_used_today_e4=20_000), "LMT_QUANTITY"),
    ],
)
def test_restriction_not_met_is_fully_self_paid(restriction, ctx, reason):
    # 2 × 2.26 = 4.52, class B 5%: would be 23 / 429 if the restriction were met.
    result = split_line(fee(cnt_e4=20_000, pric_e6=2_260_000, amount_fen=452),
                        item(lv="02", selfpay_prop_bp=500, **restriction), ctx)
    assert parts(result) == (452, 0, 0, 0)
    assert result.lmt_reason == reason


@pytest.mark.parametrize(
    ("restriction", "ctx"),
    [
        ({"lmt_sex": "1"}, OUTPATIENT_MAN_40),
        ({"lmt_age_min": 40, "lmt_age_max": 40}, OUTPATIENT_MAN_40),  # bounds inclusive
        ({"lmt_setting": "1"}, LineContext(gend="1", age_years=40, inpatient=True)),
        ({"lmt_setting": "2"}, OUTPATIENT_MAN_40),
        ({"lmt_dise_codes": ("M01600", "M03900")}, LineContext(gend="1", age_years=40, inpatient=False,
                                                                dise_codg="M03900")),
        # 1 already + 2 now = 3, exactly the limit
        ({"lmt_cnt_per_day_e4": 30_000}, LineContext(gend="1", age_years=40, inpatient=False,
                                                      cnt_used_today_e4=10_000)),
    ],
)
def test_restriction_met_splits_normally(restriction, ctx):
    result = split_line(fee(cnt_e4=20_000, pric_e6=2_260_000, amount_fen=452),
                        item(lv="02", selfpay_prop_bp=500, **restriction), ctx)
    assert parts(result) == (0, 0, 23, 429) and result.lmt_reason == ""


def test_first_failing_restriction_is_named():
    ctx = LineContext(gend="1", age_years=70, inpatient=False, cnt_used_today_e4=99_990_000)
    everything = {"lmt_age_max": 14, "lmt_setting": "1", "lmt_dise_codes": ("M03900",), "lmt_cnt_per_day_e4": 10_000}
    assert split_line(fee(), item(lmt_sex="2", **everything), ctx).lmt_reason == "LMT_SEX"
    assert split_line(fee(), item(**everything), ctx).lmt_reason == "LMT_AGE"
    del everything["lmt_age_max"]
    assert split_line(fee(), item(**everything), ctx).lmt_reason == "LMT_INPATIENT_ONLY"
    del everything["lmt_setting"]
    assert split_line(fee(), item(**everything), ctx).lmt_reason == "LMT_DIAGNOSIS"
    del everything["lmt_dise_codes"]
    assert split_line(fee(), item(**everything), ctx).lmt_reason == "LMT_QUANTITY"


# --- refusals --------------------------------------------------------------------------------------


def test_unknown_item_refused():
    with pytest.raises(reasons.Refusal) as caught:
        split_line(fee(sn="L7"), None, OUTPATIENT_MAN_40)
    assert caught.value.reason is reasons.UNKNOWN_CATALOG_ITEM and caught.value.feedetl_sn == "L7"


def test_item_of_another_code_refused():
    with pytest.raises(reasons.Refusal) as caught:
        split_line(fee(code="X001"), item(code="X002"), OUTPATIENT_MAN_40)
    assert caught.value.reason is reasons.UNKNOWN_CATALOG_ITEM


def test_expired_and_not_yet_valid_versions_refused():
    version = item(begndate="2024-01-01", enddate="2024-06-30")
    assert split_line(fee(date="2024-06-30"), version, OUTPATIENT_MAN_40).catalog_begndate == "2024-01-01"
    assert split_line(fee(date="2024-01-01"), version, OUTPATIENT_MAN_40).inscp_scp_amt_fen == 100
    for date in ("2024-07-01", "2023-12-31"):
        with pytest.raises(reasons.Refusal) as caught:
            split_line(fee(date=date), version, OUTPATIENT_MAN_40)
        assert caught.value.reason is reasons.UNKNOWN_CATALOG_ITEM


@pytest.mark.parametrize(
    ("cnt_e4", "pric_e6", "amount_fen"),
    [
        (10_000, 4_520_000, 453),  # one fen off
        (10_000, 4_520_000, 451),
        (0, 4_520_000, 0),  # zero quantity
        (-10_000, 4_520_000, -452),  # refunds are reverse-and-settle-again
        (10_000, -4_520_000, -452),
        (15_000, 333_333, 49),  # 49.99995 fen rounds to 50
    ],
)
def test_amount_inconsistent_refused(cnt_e4, pric_e6, amount_fen):
    with pytest.raises(reasons.Refusal) as caught:
        split_line(fee(sn="L9", cnt_e4=cnt_e4, pric_e6=pric_e6, amount_fen=amount_fen), item(), OUTPATIENT_MAN_40)
    assert caught.value.reason is reasons.AMOUNT_INCONSISTENT and caught.value.feedetl_sn == "L9"


def test_free_line_allowed():
    assert parts(split_line(fee(cnt_e4=10_000, pric_e6=0, amount_fen=0), item(), OUTPATIENT_MAN_40)) == (0, 0, 0, 0)


# --- a claim's lines together ----------------------------------------------------------------------


def test_split_lines_tracks_quantity_per_item_and_day():
    limited = item(code="Q1", lmt_cnt_per_day_e4=30_000)  # at most 3 a day
    lines = [
        fee(sn="a", code="Q1", cnt_e4=20_000, pric_e6=1_000_000, amount_fen=200, date="2024-03-05"),  # 2: ok
        fee(sn="b", code="Q1", cnt_e4=10_000, pric_e6=1_000_000, amount_fen=100, date="2024-03-05"),  # 3: ok
        fee(sn="c", code="Q1", cnt_e4=5_000, pric_e6=1_000_000, amount_fen=50, date="2024-03-05"),  # 3.5: over
        fee(sn="d", code="Q1", cnt_e4=30_000, pric_e6=1_000_000, amount_fen=300, date="2024-03-06"),  # new day: 3
    ]
    results = split_lines(lines, dict.fromkeys("abcd", limited), gend="1", brdy="1980-01-01", inpatient=False)
    assert [r.lmt_reason for r in results] == ["", "", "LMT_QUANTITY", ""]
    assert [r.inscp_scp_amt_fen for r in results] == [200, 100, 0, 300]


def test_split_lines_counts_quantity_settled_earlier():
    limited = item(code="Q1", lmt_cnt_per_day_e4=30_000)
    lines = [fee(sn="a", code="Q1", cnt_e4=10_000, pric_e6=1_000_000, amount_fen=100, date="2024-03-05")]
    ok = split_lines(lines, {"a": limited}, gend="1", brdy="1980-01-01", inpatient=True,
                     cnt_used_today_e4={("Q1", "2024-03-05"): 20_000})
    over = split_lines(lines, {"a": limited}, gend="1", brdy="1980-01-01", inpatient=True,
                       cnt_used_today_e4={("Q1", "2024-03-05"): 25_000})
    assert ok[0].lmt_reason == "" and over[0].lmt_reason == "LMT_QUANTITY"


def test_split_lines_age_on_each_fee_date():
    # Born 2010-07-01: 13 on 2024-06-30, 14 on 2024-07-01. Item for children up to 13.
    child = item(code="K1", lmt_age_max=13)
    lines = [fee(sn="a", code="K1", date="2024-06-30"), fee(sn="b", code="K1", date="2024-07-01")]
    results = split_lines(lines, {"a": child, "b": child}, gend="2", brdy="2010-07-01", inpatient=True)
    assert [r.lmt_reason for r in results] == ["", "LMT_AGE"]


def test_split_lines_reports_every_bad_line():
    good = item()
    lines = [
        fee(sn="u"),  # no catalog item
        fee(sn="ok1"),
        fee(sn="bad", amount_fen=101),  # 1 × 1.00 yuan is 100 fen
        fee(sn="old", date="2025-01-01"),  # version ended 2024-12-31
        fee(sn="ok2"),
    ]
    items = {"u": None, "ok1": good, "bad": good, "old": item(enddate="2024-12-31"), "ok2": good}
    with pytest.raises(reasons.Refusal) as caught:
        split_lines(lines, items, gend="1", brdy="1980-01-01", inpatient=False)
    got = [(r.reason.code, r.field, r.feedetl_sn) for r in caught.value.all]
    assert got == [
        ("UNKNOWN_CATALOG_ITEM", "fee_lines[0].med_list_codg", "u"),
        ("AMOUNT_INCONSISTENT", "fee_lines[2].det_item_fee_sumamt", "bad"),
        ("UNKNOWN_CATALOG_ITEM", "fee_lines[3].med_list_codg", "old"),
    ]


def test_split_lines_missing_item_mapping_is_unknown():
    with pytest.raises(reasons.Refusal) as caught:
        split_lines([fee(sn="z")], {}, gend="1", brdy="1980-01-01", inpatient=False)
    assert caught.value.reason is reasons.UNKNOWN_CATALOG_ITEM and caught.value.more == ()


@pytest.mark.parametrize(
    ("brdy", "date", "age"),
    [("1980-05-01", "2024-04-30", 43), ("1980-05-01", "2024-05-01", 44), ("2000-02-29", "2023-02-28", 22),
     ("2000-02-29", "2023-03-01", 23), ("2024-01-01", "2024-01-01", 0)],
)
def test_age_on_each_fee_date(brdy, date, age):
    assert dates.age_on(brdy, date) == age


def test_a_fee_before_birth_meets_no_age_restriction_and_crashes_nothing():
    line = fee(sn="pre", date="2024-03-05")
    result = split_lines([line], {"pre": item(lmt_age_min=0, lmt_age_max=120)}, gend="1", brdy="2024-03-06",
                         inpatient=False)
    assert result[0].lmt_reason == "LMT_AGE"
