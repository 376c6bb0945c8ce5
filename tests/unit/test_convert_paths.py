"""The fast conversion paths (fee lines, catalog items) accept nothing the checked paths refuse, and give the
same record when they accept: two copies of the same rules must never drift apart."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medsettle.domain.reasons import Refusal
from medsettle.service import convert, reference_convert, settlement_convert
from medsettle.v1 import common_pb2, reference_data_pb2


def test_a_code_is_letters_digits_dot_underscore_dash_only():
    for good in ("XA001", "A-1.b_2", "X" * 40):
        assert convert.is_code(good) and convert.code(good, "f") == good
    # A trailing newline used to pass (re.match with `$`): it would have stored a second, invisible code.
    for bad in ("", "XA001\n", "\nXA001", "XA 001", "X" * 41, "项目", "XA001\x00"):
        assert not convert.is_code(bad)
        try:
            convert.code(bad, "f")
        except Refusal as refusal:
            assert refusal.field == "f"
        else:
            raise AssertionError(f"{bad!r} accepted")
    assert convert.request_id("R-1") == "R-1"
    for bad in ("R-1\n", "R" * 41):
        try:
            convert.request_id(bad)
        except Refusal as refusal:
            assert refusal.field == "request_id"
        else:
            raise AssertionError(f"{bad!r} accepted as a request id")

CODES = st.sampled_from(["XA001", "S0001", "0011", "", "bad code", "X" * 41, "项目", "A-1.b_2", "XA001\n", "X" * 40])
DECIMALS = st.sampled_from(["1", "0.5", "1.2345", "1.23456", "4.52", "0.000001", "1e3", "-1", "", " 1", "1.", "007",
                           "100000000", "100000000.0001", "10000000000", "10000000000.000001"])  # at and over the bounds
NAMES = st.sampled_from(["x", "", "阿司匹林肠溶片", "名　字", "名" * 200, "名" * 201, "名\x00字", "名字\n", "a\tb"])
DATES = st.sampled_from(["2026-03-02", "2026-02-30", "2026-3-2", "1899-12-31", "2200-01-01", "", "2025-01-01"])
AMOUNTS = st.sampled_from([0, 1, 452, -1, 10**12, 10**12 + 1])


def outcome(convert_one, value):
    try:
        return convert_one(value)
    except Refusal:
        return None


@settings(max_examples=400, deadline=None)
@given(sn=CODES, code=CODES, cnt=DECIMALS, pric=DECIMALS, amount=AMOUNTS, day=DATES)
def test_fee_line_fast_path_agrees_with_the_checked_path(sn, code, cnt, pric, amount, day):
    line = common_pb2.FeeLine(feedetl_sn=sn, med_list_codg=code, cnt=cnt, pric=pric, det_item_fee_sumamt=amount,
                              fee_ocur_time=day)
    fast = settlement_convert._fee_line_fast(line, set())
    checked = outcome(lambda x: settlement_convert.fee_line_checked(x, "fee_lines[0]"), line)
    assert fast == checked or fast is None


@settings(max_examples=400, deadline=None)
@given(code=CODES, lv=st.sampled_from(["01", "02", "03", "04", ""]), selfpay=st.sampled_from([0, 500, 10_000, 10_001]),
       ceiling=AMOUNTS, begndate=DATES, enddate=DATES, sex=st.sampled_from(["", "1", "2", "3"]),
       age=st.sampled_from([(-1, -1), (0, 14), (14, 0), (-2, 5), (60, -1)]), setting=st.sampled_from(["", "1", "9"]),
       dise=st.sampled_from([(), ("M03900",), ("bad code",)]), per_day=DECIMALS,
       list_type=st.sampled_from(["101", "201", "999"]), flag=st.booleans(), name=NAMES)
def test_catalog_item_fast_path_agrees_with_the_checked_path(code, lv, selfpay, ceiling, begndate, enddate, sex, age,
                                                              setting, dise, per_day, list_type, flag, name):
    pb = reference_data_pb2.CatalogItem(
        med_list_codg=code, name=name, list_type=list_type, chrgitm_lv=lv, selfpay_prop=selfpay, pric_uplmt_amt=ceiling,
        lmt_used_flag=flag, lmt_sex=sex, lmt_age_min=age[0], lmt_age_max=age[1], lmt_setting=setting,
        lmt_dise_codes=dise, lmt_cnt_per_day=per_day, begndate=begndate, enddate=enddate)
    fast = reference_convert._catalog_item_fast(pb)
    checked = outcome(lambda x: reference_convert.catalog_item_checked(x, "items[0]"), pb)
    assert fast == checked or fast is None
