"""The demo nation: deterministic, counted in advance, valid record by record, and covering the hard cases."""

from __future__ import annotations

import collections
import re
from itertools import islice

import pytest

from medsettle.demo import nation as demo_nation
from medsettle.domain import codes, region
from medsettle.domain.records import (
    CatalogItem,
    ChronicQualification,
    Filing,
    Institution,
    InsuredPlace,
    Person,
    Policy,
)

SEED = 2026
ITEMS = 200
PERSONS = 100
TODAY = "2026-01-01"


@pytest.fixture(scope="module")
def nation() -> list[tuple[str, object]]:
    return list(demo_nation.generate(SEED, items_per_province=ITEMS, persons_per_province=PERSONS, today=TODAY))


@pytest.fixture(scope="module")
def by_kind(nation) -> dict[str, list]:
    kinds: dict[str, list] = collections.defaultdict(list)
    for kind, record in nation:
        kinds[kind].append(record)
    return kinds


def _catalogs(by_kind) -> dict[str, list[CatalogItem]]:
    """The catalog of each province, in stream order."""
    catalogs: dict[str, list[CatalogItem]] = collections.defaultdict(list)
    for entry in by_kind["catalog_item"]:
        assert isinstance(entry, demo_nation.CatalogEntry) and isinstance(entry.item, CatalogItem)
        catalogs[entry.province].append(entry.item)
    assert list(catalogs) == list(region.PROVINCES)
    assert {len(items) for items in catalogs.values()} == {demo_nation.catalog_size(ITEMS)}
    return catalogs


# --- determinism and counts -----------------------------------------------------------------------


def test_same_seed_same_stream_and_different_seed_different_stream():
    first = list(demo_nation.generate(7, items_per_province=30, persons_per_province=20))
    again = list(demo_nation.generate(7, items_per_province=30, persons_per_province=20))
    other = list(demo_nation.generate(8, items_per_province=30, persons_per_province=20))
    assert first == again
    assert first != other
    assert collections.Counter(k for k, _ in first) == collections.Counter(k for k, _ in other)  # same counts


def test_persons_do_not_depend_on_catalog_size():
    def persons(items: int) -> list:
        return [r for k, r in demo_nation.generate(5, items, 15) if k in ("person", "filing", "qualification")]

    assert persons(20) == persons(50)


@pytest.mark.parametrize(("items", "persons"), [(ITEMS, PERSONS), (2100, 57), (16, 0), (37, 1), (38, 3)])
def test_plan_counts_are_exact(items, persons):
    counts = collections.Counter(kind for kind, _ in demo_nation.generate(3, items, persons))
    assert dict(counts) == {k: v for k, v in demo_nation.plan_counts(items, persons).items() if v}
    assert set(demo_nation.plan_counts(items, persons)) == set(demo_nation.KINDS)


def test_stream_order_is_by_kind(nation):
    order = [kind for kind, _ in nation]
    first_seen = list(dict.fromkeys(order))
    assert first_seen[:4] == ["insured_place", "policy", "institution", "catalog_item"]
    assert order.index("person") > len(order) - 1 - order[::-1].index("catalog_item")


def test_catalog_of_one_province_matches_the_stream(by_kind):
    catalogs = _catalogs(by_kind)
    for province in ("110000", "440000", "660000"):
        assert list(demo_nation.catalog(SEED, province, ITEMS)) == catalogs[province]


# --- regions and helpers --------------------------------------------------------------------------


def test_cities_are_three_to_six_known_cities_of_their_province():
    for province in region.PROVINCES:
        cities = demo_nation.cities(province)
        assert 3 <= len(cities) <= 6
        assert len(set(cities)) == len(cities)
        for city in cities:
            assert region.is_known(city) and city.endswith("00") and not city.endswith("0000")
            assert region.province_of(city) == province
            assert demo_nation.city_name(city)
    assert demo_nation.cities("110000")[0] == "110100"
    assert {"440100", "440300"} <= set(demo_nation.cities("440000"))


def test_helpers_format():
    assert demo_nation.institution_code("440106", 12) == "H44010600012"
    assert demo_nation.person_no("440000", 7) == "P4400000000000007"
    codes_ = [demo_nation.item_code(i) for i in range(5000)]
    assert len(set(codes_)) == len(codes_)
    assert demo_nation.id_check_digit("11010519491231002") == "X"  # the GB 11643 worked example
    assert demo_nation.temporary_enddate("2025-08-31", 6) == "2026-02-28"  # no 02-31: the month's last day
    assert demo_nation.temporary_enddate("2025-07-01", 6) == "2025-12-31"


def test_all_32_provinces_present(by_kind):
    provinces = set(region.PROVINCES)
    assert len(provinces) == 32
    assert {p.insuplc_admdvs for p in by_kind["insured_place"]} == provinces
    assert {p.insuplc_admdvs for p in by_kind["policy"]} == provinces
    assert {region.province_of(i.admdvs) for i in by_kind["institution"]} == provinces
    assert {region.province_of(p.insu_lines[0].insuplc_admdvs) for p in by_kind["person"]} == provinces
    assert {region.province_of(f.insuplc_admdvs) for f in by_kind["filing"]} == provinces


# --- record invariants ----------------------------------------------------------------------------


def test_insured_places(by_kind):
    for place in by_kind["insured_place"]:
        assert isinstance(place, InsuredPlace)
        assert region.is_province(place.insuplc_admdvs)
        assert set(place.open_med_types) <= codes.MED_TYPES and {"11", "21"} <= set(place.open_med_types)
        assert set(place.open_dise_codes) <= set(codes.CHRONIC_DISEASES) and place.open_dise_codes
        assert place.tmp_filing_months >= 6
        assert 0 <= place.longterm_lock_months <= 6
        assert place.begndate == "2025-01-01"


def test_policies(by_kind):
    keys = collections.Counter()
    for policy in by_kind["policy"]:
        assert isinstance(policy, Policy)
        keys[(policy.insuplc_admdvs, policy.insutype, policy.category, policy.psn_type, policy.hosp_lv)] += 1
        assert region.is_province(policy.insuplc_admdvs)
        assert policy.insutype in codes.INSUTYPES and policy.psn_type in codes.PSN_GROUPS
        assert (policy.insutype == codes.INSUTYPE_RESIDENT) == (policy.psn_type == codes.PSN_GROUP_RESIDENT)
        assert policy.category in codes.CATEGORIES and policy.hosp_lv in codes.HOSP_LEVELS
        assert policy.dedc_fen >= 0 and policy.dedc_later_fen >= -1
        assert policy.bands and policy.bands[-1].upto_fen == 0
        assert all(a.upto_fen < b.upto_fen for a, b in zip(policy.bands[:-2], policy.bands[1:-1], strict=True))
        for band in policy.bands + policy.hifmi_bands:
            assert 0 <= band.ratio_bp <= 10_000
        for band in policy.bands:
            assert 7000 <= band.ratio_bp <= 9500
        assert 0 < policy.cap_category_fen <= policy.cap_overall_fen
        assert 150_000_00 <= policy.cap_overall_fen <= 400_000_00
        for cap in policy.dise_caps:
            assert cap.opsp_dise_code in codes.CHRONIC_DISEASES and 0 < cap.cap_fen <= policy.cap_category_fen
        assert policy.reduction_mode in codes.REDUCTION_MODES
        assert 0 <= policy.reduction_referral_bp <= codes.REDUCTION_CEILING_BP[codes.FILING_REFERRAL]
        assert 0 <= policy.reduction_emergency_bp <= codes.REDUCTION_CEILING_BP[codes.FILING_EMERGENCY]
        assert 0 <= policy.reduction_other_bp <= codes.REDUCTION_CEILING_BP[codes.FILING_OTHER_TEMPORARY]
        if policy.insutype == codes.INSUTYPE_EMPLOYEE:
            assert policy.acct_pay_allowed and 8500 <= policy.hifob_ratio_bp <= 9000 and policy.hifob_cap_fen > 0
            assert not policy.hifmi_bands
        else:
            assert not policy.acct_pay_allowed and policy.hifob_ratio_bp == 0
            assert policy.hifmi_threshold_fen > 0 and policy.hifmi_bands and policy.hifmi_cap_fen > 0
        if policy.category == codes.CATEGORY_INPATIENT:
            assert 0 <= policy.dedc_later_fen <= policy.dedc_fen
        for value in (policy.dedc_fen, policy.cap_overall_fen, policy.hifob_cap_fen, policy.hifmi_threshold_fen):
            assert isinstance(value, int)
    assert len(keys) == 32 * demo_nation.POLICIES_PER_PROVINCE and set(keys.values()) == {1}


def test_institutions(by_kind):
    seen: set[str] = set()
    levels: dict[str, set[str]] = collections.defaultdict(set)
    for inst in by_kind["institution"]:
        assert isinstance(inst, Institution)
        assert re.fullmatch(r"H\d{11}", inst.fixmedins_code) and inst.fixmedins_code[1:7] == inst.admdvs
        assert inst.fixmedins_code not in seen
        seen.add(inst.fixmedins_code)
        assert region.is_known(inst.admdvs) and region.city_of(inst.admdvs) in demo_nation.cities(
            region.province_of(inst.admdvs)
        )
        assert inst.hosp_lv in codes.HOSP_LEVELS and inst.fixmedins_name
        serial = int(inst.fixmedins_code[-5:])
        province = region.province_of(inst.admdvs)
        assert demo_nation.institution_place(province, serial) == (inst.admdvs, inst.hosp_lv)
        assert demo_nation.institution_code(inst.admdvs, serial) == inst.fixmedins_code
        levels[province].add(inst.hosp_lv)
    assert all(found == codes.HOSP_LEVELS for found in levels.values()) and len(levels) == 32
    firsts = [i for i in by_kind["institution"] if i.fixmedins_code.endswith("00001")]
    assert len(firsts) == 32
    assert all(i.hosp_lv == "3" and i.networked_inpatient and i.networked_outpatient for i in firsts)


def test_catalog_items(by_kind):
    for province, items in _catalogs(by_kind).items():
        versions: dict[str, list[CatalogItem]] = collections.defaultdict(list)
        for item in items:
            assert isinstance(item, CatalogItem)
            assert item.list_type in codes.LIST_TYPES and item.chrgitm_lv in codes.ITEM_CLASSES
            if item.chrgitm_lv == codes.CLASS_B:
                assert 0 < item.selfpay_prop_bp < 10_000
            else:
                assert item.selfpay_prop_bp == 0
            assert item.pric_uplmt_amt_fen >= 0
            assert item.lmt_sex in ("", codes.GENDER_MALE, codes.GENDER_FEMALE)
            assert item.lmt_setting in (codes.SETTING_ANY, codes.SETTING_INPATIENT_ONLY, codes.SETTING_OUTPATIENT_ONLY)
            assert item.lmt_age_min <= item.lmt_age_max or item.lmt_age_max == -1
            assert item.lmt_cnt_per_day_e4 >= 0
            assert item.enddate == "" or item.begndate <= item.enddate
            prefix = {"101": "X", "102": "Z", "103": "T", "201": "00", "301": "C"}[item.list_type]
            assert item.med_list_codg.startswith(prefix)
            versions[item.med_list_codg].append(item)
        codes_in_order = list(versions)
        assert codes_in_order == [demo_nation.item_code(i) for i in range(ITEMS)], province
        for code, found in versions.items():
            if len(found) > 1:  # versions do not overlap and follow each other
                assert len(found) == 2 and found[0].enddate == "2026-06-30" and found[1].begndate == "2026-07-01"
                assert found[1].enddate == "" and found[0].pric_uplmt_amt_fen != found[1].pric_uplmt_amt_fen
                assert found[0].chrgitm_lv == found[1].chrgitm_lv, code
        # items 0..9: unrestricted class A/B with a ceiling, in every province (benchmarks rely on it)
        for index in range(demo_nation.BENCH_ITEMS):
            (item,) = versions[demo_nation.item_code(index)]
            assert not item.restricted
            assert item.chrgitm_lv in (codes.CLASS_A, codes.CLASS_B) and item.pric_uplmt_amt_fen > 0
            assert item.begndate == "2025-01-01" and item.enddate == ""
        for index in demo_nation.RESTRICTED_EXAMPLE_ITEMS:
            (item,) = versions[demo_nation.item_code(index)]
            assert item.restricted and item.chrgitm_lv != codes.CLASS_C and item.pric_uplmt_amt_fen > 0


def test_catalog_shares_codes_but_differs_between_provinces(by_kind):
    catalogs = _catalogs(by_kind)
    beijing, guangdong = catalogs["110000"], catalogs["440000"]
    assert [i.med_list_codg for i in beijing] == [i.med_list_codg for i in guangdong]
    assert [i.pric_uplmt_amt_fen for i in beijing] != [i.pric_uplmt_amt_fen for i in guangdong]
    assert [i.chrgitm_lv for i in beijing] != [i.chrgitm_lv for i in guangdong]
    items = [entry.item for entry in by_kind["catalog_item"]]
    shares = collections.Counter(i.chrgitm_lv for i in items)
    assert 0.35 < shares[codes.CLASS_A] / len(items) < 0.55
    assert 0.30 < shares[codes.CLASS_B] / len(items) < 0.50
    assert 0.08 < shares[codes.CLASS_C] / len(items) < 0.22
    assert 0.01 < sum(i.restricted for i in items) / len(items) < 0.06
    assert collections.Counter(i.list_type for i in items).keys() == codes.LIST_TYPES


def _persons(by_kind) -> dict[str, Person]:
    return {p.psn_no: p for p in by_kind["person"]}


def test_persons(by_kind):
    persons = by_kind["person"]
    assert len({p.certno for p in persons}) == len(persons)
    assert len({p.evoucher_token for p in persons}) == len(persons)
    assert len({p.card_no for p in persons}) == len(persons)
    serials: dict[str, int] = collections.Counter()
    for person in persons:
        assert isinstance(person, Person)
        (line,) = person.insu_lines
        province = region.province_of(line.insuplc_admdvs)
        serials[province] += 1
        assert person.psn_no == demo_nation.person_no(province, serials[province])
        assert line.insuplc_admdvs in demo_nation.cities(province)
        assert person.gend in (codes.GENDER_MALE, codes.GENDER_FEMALE) and 2 <= len(person.psn_name) <= 3
        assert re.fullmatch(r"\d{17}[\dX]", person.certno)
        assert demo_nation.id_check_digit(person.certno[:17]) == person.certno[17]
        assert region.is_known(person.certno[:6]) and region.province_of(person.certno[:6]) == province
        assert person.certno[6:14] == person.brdy.replace("-", "") and person.brdy < TODAY
        assert int(person.certno[16]) % 2 == (1 if person.gend == codes.GENDER_MALE else 0)
        assert len(person.card_sn) == 32 and person.card_no and person.evoucher_token
        assert line.insutype in codes.INSUTYPES and line.psn_type in codes.PSN_GROUPS
        assert (line.insutype == codes.INSUTYPE_RESIDENT) == (line.psn_type == codes.PSN_GROUP_RESIDENT)
        assert line.psn_insu_stas in ("1", "2", "4")
        if line.insutype == codes.INSUTYPE_RESIDENT:
            assert line.acct_balc_fen == 0
        else:
            assert 0 <= line.acct_balc_fen <= 20_000_00
    assert set(serials.values()) == {PERSONS}
    employees = sum(p.insu_lines[0].insutype == codes.INSUTYPE_EMPLOYEE for p in persons) / len(persons)
    assert 0.5 < employees < 0.7


def _active(filing: Filing, today: str = TODAY) -> bool:
    return not filing.revoked_date and filing.begndate <= today and (filing.enddate == "" or today <= filing.enddate)


def test_filings(by_kind):
    persons = _persons(by_kind)
    places = {p.insuplc_admdvs: p for p in by_kind["insured_place"]}
    institutions = {i.fixmedins_code: i for i in by_kind["institution"]}
    serial_numbers: set[str] = set()
    long_term_active: collections.Counter[str] = collections.Counter()
    for filing in by_kind["filing"]:
        assert isinstance(filing, Filing)
        assert filing.trt_dcla_detl_sn not in serial_numbers
        serial_numbers.add(filing.trt_dcla_detl_sn)
        assert re.fullmatch(re.escape("F" + filing.psn_no) + r"\d{2}", filing.trt_dcla_detl_sn)
        person = persons[filing.psn_no]
        line = person.insu_lines[0]
        assert filing.insutype == line.insutype and filing.insuplc_admdvs == line.insuplc_admdvs
        assert filing.category in codes.FILING_CATEGORIES
        assert region.is_known(filing.mdtrtarea_admvs)
        target = region.province_of(filing.mdtrtarea_admvs)
        assert filing.mdtrtarea_admvs == target or filing.mdtrtarea_admvs in demo_nation.cities(target)
        assert region.is_cross_province(filing.insuplc_admdvs, filing.mdtrtarea_admvs)
        assert filing.created_date and filing.created_date <= filing.begndate
        if filing.revoked_date:
            assert filing.begndate <= filing.revoked_date < TODAY
        if filing.category == codes.FILING_RELOCATED_RETIREE:
            assert line.psn_type == codes.PSN_GROUP_RETIRED
        if filing.category in codes.LONG_TERM_FILINGS:
            assert filing.enddate == "" and filing.begndate < TODAY
            long_term_active[filing.psn_no] += _active(filing)
        else:
            months = places[region.province_of(filing.insuplc_admdvs)].tmp_filing_months
            assert filing.enddate == demo_nation.temporary_enddate(filing.begndate, months)
        if filing.category == codes.FILING_REFERRAL:
            receiver = institutions[filing.reflin_medins_no]
            referrer = institutions[filing.fixmedins_code]
            assert region.covers(filing.mdtrtarea_admvs, receiver.admdvs)
            assert region.province_of(referrer.admdvs) == region.province_of(filing.insuplc_admdvs)
        else:
            assert filing.reflin_medins_no == "" and filing.fixmedins_code == ""
    assert max(long_term_active.values()) == 1
    filed = {f.psn_no for f in by_kind["filing"]}
    assert 0.65 < len(filed) / len(persons) < 0.75


def test_qualifications(by_kind):
    persons = _persons(by_kind)
    for qual in by_kind["qualification"]:
        assert isinstance(qual, ChronicQualification)
        line = persons[qual.psn_no].insu_lines[0]
        assert qual.insutype == line.insutype and qual.insuplc_admdvs == line.insuplc_admdvs
        assert qual.opsp_dise_code in codes.CHRONIC_DISEASES
        assert qual.begndate < TODAY and qual.enddate == ""
    assert len({q.psn_no for q in by_kind["qualification"]}) == len(by_kind["qualification"])


# --- coverage of the cases the core must handle ---------------------------------------------------


def test_data_covers_the_hard_cases(by_kind):
    persons = by_kind["person"]
    places = {p.insuplc_admdvs: p for p in by_kind["insured_place"]}
    filings = by_kind["filing"]
    institutions = by_kind["institution"]
    assert any(p.insu_lines[0].psn_insu_stas != codes.INSU_STATUS_NORMAL for p in persons)  # suspended
    assert any(not p.card_activated for p in persons)
    assert {f.category for f in filings} == codes.FILING_CATEGORIES
    assert any(f.category in codes.TEMPORARY_FILINGS and not f.revoked_date and f.enddate < TODAY for f in filings)
    assert any(f.revoked_date for f in filings)
    assert any(f.mdtrtarea_admvs.endswith("0000") for f in filings)  # names a province
    assert any(not f.mdtrtarea_admvs.endswith("0000") for f in filings)  # names a city
    assert any(codes.MED_TYPE_CHRONIC_OUTPATIENT not in p.open_med_types for p in places.values())
    assert any(codes.MED_TYPE_EMERGENCY_OUTPATIENT not in p.open_med_types for p in places.values())
    assert any(len(p.open_dise_codes) == 2 for p in places.values())
    assert {p.tmp_filing_months for p in places.values()} == {6, 12}
    assert any(
        q.opsp_dise_code not in places[region.province_of(q.insuplc_admdvs)].open_dise_codes
        for q in by_kind["qualification"]
    )
    assert any(not i.networked_inpatient for i in institutions)
    assert any(not i.networked_outpatient for i in institutions)
    assert any(not i.networked_chronic for i in institutions)
    assert {p.reduction_mode for p in by_kind["policy"]} == codes.REDUCTION_MODES
    assert any(len(p.bands) == 2 for p in by_kind["policy"])
    assert any(p.dise_caps for p in by_kind["policy"])
    items = [entry.item for entry in by_kind["catalog_item"]]
    assert any(i.enddate for i in items)  # a second version exists
    assert any(i.pric_uplmt_amt_fen == 0 and i.list_type.startswith("1") for i in items)  # drug without ceiling
    for field in ("lmt_sex", "lmt_setting", "lmt_dise_codes", "lmt_cnt_per_day_e4"):
        assert any(getattr(i, field) for i in items), field
    assert any(i.lmt_age_min >= 0 or i.lmt_age_max >= 0 for i in items)


def test_default_size_is_streamed_lazily():
    # The default size is large; the stream must start without building it all first.
    head = list(islice(demo_nation.generate(), 5))
    assert [kind for kind, _ in head] == ["insured_place"] * 5
