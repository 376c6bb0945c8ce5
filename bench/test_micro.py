"""Micro-benchmarks (pytest-benchmark): adjudication, catalog lookup, encode/decode.

    .venv/bin/python -m pytest bench/test_micro.py --benchmark-only

Kept out of the normal suite (pytest's testpaths is tests/). Inputs are hand-built, as in tests/unit.
"""

from __future__ import annotations

import random

import pytest

from medsettle.domain.adjudication import AdjudicationInput, adjudicate
from medsettle.domain.records import (
    Accumulators,
    CatalogItem,
    Claim,
    FeeLine,
    Institution,
    InsuranceLine,
    Person,
    Policy,
    RatioBand,
    Settlement,
)
from medsettle.store import codec
from medsettle.store.env import Store, StoreConfig

CATALOG_ITEMS = 200_000  # many items in one province: a lookup is a B-tree descent of realistic depth
PERSON = Person(psn_no="P1", psn_name="张三", gend="1", brdy="1970-05-01", certno="110101197005010011",
                insu_lines=(InsuranceLine(insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110000",
                                          acct_balc_fen=500_000),))
HOSPITAL = Institution(fixmedins_code="H44010001", fixmedins_name="某三甲医院", admdvs="440100", hosp_lv="3")
POLICY = Policy(insuplc_admdvs="110000", insutype="310", category="3", psn_type="11", hosp_lv="3", begndate="2024-01-01",
                dedc_fen=130_000, bands=(RatioBand(upto_fen=5_000_000, ratio_bp=8500), RatioBand(upto_fen=0, ratio_bp=9000)),
                cap_category_fen=50_000_000, cap_overall_fen=50_000_000, reduction_mode="1", reduction_referral_bp=1000,
                reduction_emergency_bp=1000, reduction_other_bp=2000, acct_pay_allowed=True)


def _item(index: int) -> CatalogItem:
    lv = ("01", "02", "03")[index % 3]
    return CatalogItem(med_list_codg=f"X{index:09d}", name=f"item {index}", list_type="101", chrgitm_lv=lv,
                       selfpay_prop_bp=1000 if lv == "02" else 0, pric_uplmt_amt_fen=5_000 if index % 2 else 0,
                       begndate="2024-01-01")


def _inputs(line_count: int, med_type: str) -> AdjudicationInput:
    lines = tuple(FeeLine(feedetl_sn=f"{i:05d}", med_list_codg=f"X{i:09d}", cnt_e4=20_000, pric_e6=31_500_000,
                          det_item_fee_sumamt_fen=6_300, fee_ocur_date="2024-03-05") for i in range(line_count))
    claim = Claim(psn_no="P1", insutype="310", med_type=med_type, fixmedins_code=HOSPITAL.fixmedins_code,
                  mdtrtarea_admvs="440100", setl_date="2024-03-05", dise_codg="", lines=lines, acct_used_flag=True,
                  medfee_sumamt_fen=6_300 * line_count)
    policy = POLICY if med_type == "21" else Policy(**{**{f: getattr(POLICY, f) for f in POLICY.__struct_fields__},
                                                        "category": "1", "dedc_fen": 0})
    return AdjudicationInput(claim=claim, person=PERSON, institution=HOSPITAL,
                             items_by_sn={line.feedetl_sn: _item(i) for i, line in enumerate(lines)}, policy=policy,
                             filing_category="11", accumulators=Accumulators(), setl_id="S1", mdtrt_id="M1",
                             setl_time_ms=1_709_600_000_000)


def test_adjudicate_10_lines_outpatient(benchmark):
    inputs = _inputs(10, "11")
    setl = benchmark(adjudicate, inputs)
    assert len(setl.lines) == 10


def test_adjudicate_1000_lines_inpatient(benchmark):
    inputs = _inputs(1000, "21")
    setl = benchmark(adjudicate, inputs)
    assert len(setl.lines) == 1000


@pytest.fixture(scope="module")
def catalog_store(tmp_path_factory):
    store = Store(StoreConfig(path=str(tmp_path_factory.mktemp("catalog")), sync=False))
    with store.write() as view:
        for index in range(CATALOG_ITEMS):
            view.put_catalog_item("440000", _item(index))
    yield store
    store.close()


def test_catalog_lookup_in_200k_items(benchmark, catalog_store):
    codes = [f"X{random.randrange(CATALOG_ITEMS):09d}" for _ in range(4096)]
    with catalog_store.read() as view:
        state = {"i": 0}

        def lookup():
            state["i"] = (state["i"] + 1) & 4095
            return view.catalog_item("440000", codes[state["i"]], "2024-06-01")

        assert benchmark(lookup) is not None


@pytest.fixture(scope="module")
def settlement() -> Settlement:
    return adjudicate(_inputs(10, "11"))


def test_encode_settlement(benchmark, settlement):
    data = benchmark(codec.encode, settlement)
    assert codec.decode(data, Settlement) == settlement


def test_decode_settlement(benchmark, settlement):
    data = codec.encode(settlement)
    assert benchmark(codec.decode, data, Settlement) == settlement
