"""A deterministic demo nation: regions, policies, institutions, catalogs, persons and their filings.

`generate()` streams (kind, record) pairs built only from the seed and the sizes: no clock, no I/O, never
the global `random`. Every province draws from its own `random.Random(f"{seed}:{province}:{part}")`, so the
provinces are independent of each other and of the order they are produced in, and changing the catalog
size does not change the persons. `plan_counts()` says exactly how many records of each kind will come.

What is in it (published-style, not real data):
- 32 provincial units, each with 3-6 cities (`cities()`; real prefecture codes where there are some,
  invented `xx0200`/`xx0300` groups for the four municipalities and the Corps);
- one insured place per province: most opened all five medical types and the chronic diseases, a few not;
- 36 policy rows per province (3 person groups x 3 categories x 4 institution levels), keyed by the province;
- 60 institutions per province over its cities, every level, a few not networked for some medical types;
- one catalog per province over a nationally shared code set (`item_code()`), class and price per province;
  items 0..9 are unrestricted class A/B items with a price ceiling in every province (for benchmarks);
- persons insured in each province's cities, ~70% with a filing to another province, ~10% with a
  chronic-disease qualification.

Order of the stream: all insured places, all policies, all institutions, then the catalogs province by
province, then the persons province by province, each person followed by its filings and qualification.
A CatalogItem carries no region of its own, so a "catalog_item" record is a `CatalogEntry` (province of
the catalog + the CatalogItem); `catalog(seed, province, n)` gives one province's catalog alone.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from medsettle.domain import codes, dates, region
from medsettle.domain.records import (
    CatalogItem,
    ChronicQualification,
    DiseaseCap,
    Filing,
    Institution,
    InsuranceLine,
    InsuredPlace,
    Person,
    Policy,
    RatioBand,
    Record,
)

KINDS = ("insured_place", "policy", "institution", "catalog_item", "person", "filing", "qualification")

BEGNDATE = "2025-01-01"  # everything in the demo nation starts here
ITEM_CHANGE_DATE = "2026-07-01"  # a few catalog items get a second version (new price ceiling) from here
ITEM_CHANGE_PREV_END = "2026-06-30"
ITEM_VERSION_PERIOD = 1000  # items with index % 1000 == 37 have two versions
ITEM_VERSION_OFFSET = 37
BENCH_ITEMS = 10  # items 0..9: unrestricted, class A/B, with a ceiling, in every province
INSTITUTIONS_PER_PROVINCE = 60
POLICY_GROUPS = (
    (codes.INSUTYPE_EMPLOYEE, codes.PSN_GROUP_IN_SERVICE),
    (codes.INSUTYPE_EMPLOYEE, codes.PSN_GROUP_RETIRED),
    (codes.INSUTYPE_RESIDENT, codes.PSN_GROUP_RESIDENT),
)
POLICY_CATEGORIES = (codes.CATEGORY_OUTPATIENT, codes.CATEGORY_CHRONIC, codes.CATEGORY_INPATIENT)
POLICY_LEVELS = ("0", "1", "2", "3")
POLICIES_PER_PROVINCE = len(POLICY_GROUPS) * len(POLICY_CATEGORIES) * len(POLICY_LEVELS)
YUAN = 100  # fen per yuan

# --- regions --------------------------------------------------------------------------------------

# Cities (prefecture-level codes xxyy00) per province, with the name used in institution names.
# Municipalities have one real city code (xx0100); the demo splits them into district groups xx0100..xx0300.
_CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "110000": (("110100", "北京市东城区"), ("110200", "北京市昌平区"), ("110300", "北京市大兴区")),
    "120000": (("120100", "天津市和平区"), ("120200", "天津市西青区"), ("120300", "天津市滨海新区")),
    "130000": (
        ("130100", "石家庄市"),
        ("130200", "唐山市"),
        ("130300", "秦皇岛市"),
        ("130400", "邯郸市"),
        ("130600", "保定市"),
        ("131000", "廊坊市"),
    ),
    "140000": (("140100", "太原市"), ("140200", "大同市"), ("140400", "长治市"), ("140800", "运城市")),
    "150000": (("150100", "呼和浩特市"), ("150200", "包头市"), ("150400", "赤峰市"), ("150600", "鄂尔多斯市")),
    "210000": (
        ("210100", "沈阳市"),
        ("210200", "大连市"),
        ("210300", "鞍山市"),
        ("210600", "丹东市"),
        ("211400", "葫芦岛市"),
    ),
    "220000": (("220100", "长春市"), ("220200", "吉林市"), ("220300", "四平市"), ("222400", "延边朝鲜族自治州")),
    "230000": (("230100", "哈尔滨市"), ("230200", "齐齐哈尔市"), ("230600", "大庆市"), ("231000", "牡丹江市")),
    "310000": (("310100", "上海市黄浦区"), ("310200", "上海市浦东新区"), ("310300", "上海市松江区")),
    "320000": (
        ("320100", "南京市"),
        ("320200", "无锡市"),
        ("320300", "徐州市"),
        ("320500", "苏州市"),
        ("320600", "南通市"),
        ("321000", "扬州市"),
    ),
    "330000": (
        ("330100", "杭州市"),
        ("330200", "宁波市"),
        ("330300", "温州市"),
        ("330400", "嘉兴市"),
        ("330600", "绍兴市"),
        ("331000", "台州市"),
    ),
    "340000": (("340100", "合肥市"), ("340200", "芜湖市"), ("340300", "蚌埠市"), ("341200", "阜阳市")),
    "350000": (("350100", "福州市"), ("350200", "厦门市"), ("350500", "泉州市"), ("350600", "漳州市")),
    "360000": (("360100", "南昌市"), ("360200", "景德镇市"), ("360400", "九江市"), ("360700", "赣州市")),
    "370000": (
        ("370100", "济南市"),
        ("370200", "青岛市"),
        ("370300", "淄博市"),
        ("370600", "烟台市"),
        ("370700", "潍坊市"),
        ("371300", "临沂市"),
    ),
    "410000": (
        ("410100", "郑州市"),
        ("410200", "开封市"),
        ("410300", "洛阳市"),
        ("410700", "新乡市"),
        ("411300", "南阳市"),
    ),
    "420000": (("420100", "武汉市"), ("420500", "宜昌市"), ("420600", "襄阳市"), ("421000", "荆州市")),
    "430000": (
        ("430100", "长沙市"),
        ("430200", "株洲市"),
        ("430300", "湘潭市"),
        ("430400", "衡阳市"),
        ("430700", "常德市"),
    ),
    "440000": (
        ("440100", "广州市"),
        ("440300", "深圳市"),
        ("440400", "珠海市"),
        ("440600", "佛山市"),
        ("441900", "东莞市"),
        ("442000", "中山市"),
    ),
    "450000": (("450100", "南宁市"), ("450200", "柳州市"), ("450300", "桂林市"), ("450500", "北海市")),
    "460000": (("460100", "海口市"), ("460200", "三亚市"), ("460400", "儋州市")),
    "500000": (("500100", "重庆市渝中区"), ("500200", "重庆市石柱县"), ("500300", "重庆市万州区")),
    "510000": (
        ("510100", "成都市"),
        ("510300", "自贡市"),
        ("510500", "泸州市"),
        ("510700", "绵阳市"),
        ("511300", "南充市"),
    ),
    "520000": (("520100", "贵阳市"), ("520200", "六盘水市"), ("520300", "遵义市"), ("520400", "安顺市")),
    "530000": (("530100", "昆明市"), ("530300", "曲靖市"), ("530400", "玉溪市"), ("532500", "红河州")),
    "540000": (("540100", "拉萨市"), ("540200", "日喀则市"), ("540300", "昌都市")),
    "610000": (("610100", "西安市"), ("610300", "宝鸡市"), ("610400", "咸阳市"), ("610800", "榆林市")),
    "620000": (("620100", "兰州市"), ("620200", "嘉峪关市"), ("620500", "天水市"), ("620700", "张掖市")),
    "630000": (("630100", "西宁市"), ("630200", "海东市"), ("632800", "海西州")),
    "640000": (("640100", "银川市"), ("640200", "石嘴山市"), ("640300", "吴忠市"), ("640400", "固原市")),
    "650000": (
        ("650100", "乌鲁木齐市"),
        ("650200", "克拉玛依市"),
        ("650400", "吐鲁番市"),
        ("652300", "昌吉州"),
        ("654000", "伊犁州"),
    ),
    "660000": (
        ("660100", "兵团第一师"),
        ("660200", "兵团第二师"),
        ("660800", "兵团第八师"),
        ("661200", "兵团第十二师"),
    ),
}
assert tuple(_CITIES) == tuple(region.PROVINCES), "one city list per provincial unit, in the same order"
_CITY_NAMES = {code: name for cities_ in _CITIES.values() for code, name in cities_}
_DISTRICTS_PER_CITY = 6  # districts xxyy02..xxyy07 of each city


def cities(province: str) -> tuple[str, ...]:
    """City codes (xxyy00) of a province, the capital first. Fixed: does not depend on the seed."""
    return tuple(code for code, _ in _CITIES[province])


def city_name(city: str) -> str:
    return _CITY_NAMES[city]


def _district(city: str, ordinal: int) -> str:
    return city[:4] + f"{2 + ordinal % _DISTRICTS_PER_CITY:02d}"


# --- dates (pure: `today` is a parameter, never the clock) -----------------------------------------


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """dates.add_months on date objects (the generator does its date arithmetic on them)."""
    return _date(dates.add_months(day.isoformat(), months))


def temporary_enddate(begndate: str, months: int) -> str:
    """Last day of a temporary filing valid `months` months from `begndate`: the filing rules' own period."""
    return dates.period_end(begndate, months)


# --- insured places -------------------------------------------------------------------------------

_ALL_MED_TYPES = ("11", "13", "14", "21", "24")
_ALL_DISEASES = tuple(codes.CHRONIC_DISEASES)  # M03900 M01600 M00503 M07803 M07804 M08300
_FIRST_DISEASES = ("M03900", "M01600")


def _insured_places(seed: int) -> dict[str, InsuredPlace]:
    """One insured place per province. A few provinces lag behind: 2 have not opened 14, 1 not 13,
    2 only opened hypertension and diabetes; the rest opened 5 or 6 of the chronic diseases."""
    provinces = list(region.PROVINCES)
    picker = random.Random(f"{seed}:places")
    special = picker.sample(provinces, 5)
    no_chronic, no_emergency, few_diseases = special[:2], special[2], special[3:]
    places: dict[str, InsuredPlace] = {}
    for province in provinces:
        rng = random.Random(f"{seed}:{province}:place")
        med_types = tuple(
            t
            for t in _ALL_MED_TYPES
            if not (t == "14" and province in no_chronic) and not (t == "13" and province == no_emergency)
        )
        if province in few_diseases:
            diseases = _FIRST_DISEASES
        elif rng.random() < 0.5:
            dropped = rng.choice(("M08300", "M07804", "M00503"))
            diseases = tuple(d for d in _ALL_DISEASES if d != dropped)
        else:
            diseases = _ALL_DISEASES
        places[province] = InsuredPlace(
            insuplc_admdvs=province,
            begndate=BEGNDATE,
            open_med_types=med_types,
            open_dise_codes=diseases,
            tmp_filing_months=12 if rng.random() < 0.25 else 6,
            longterm_lock_months=rng.choice((0, 3, 6, 6, 6)),
        )
    return places


# --- policies -------------------------------------------------------------------------------------

# Inpatient deductible per admission, by institution level 0/1/2/3, in yuan.
_INPATIENT_DEDC_EMPLOYEE_YUAN = (200, 500, 800, 1200)
_INPATIENT_DEDC_RESIDENT_YUAN = (300, 600, 1000, 1500)
# Ratios by level 0/1/2/3 before the province's offset: lower at higher-level hospitals.
_RATIO_BP = {
    (codes.CATEGORY_INPATIENT, codes.INSUTYPE_EMPLOYEE): (9300, 9000, 8800, 8500),
    (codes.CATEGORY_INPATIENT, codes.INSUTYPE_RESIDENT): (9000, 8500, 8000, 7300),
    (codes.CATEGORY_OUTPATIENT, codes.INSUTYPE_EMPLOYEE): (9000, 8500, 8000, 7500),
    (codes.CATEGORY_OUTPATIENT, codes.INSUTYPE_RESIDENT): (8000, 7500, 7300, 7000),
    (codes.CATEGORY_CHRONIC, codes.INSUTYPE_EMPLOYEE): (9000, 9000, 8500, 8500),
    (codes.CATEGORY_CHRONIC, codes.INSUTYPE_RESIDENT): (8000, 8000, 7500, 7500),
}
RATIO_MIN_BP = 7000
RATIO_MAX_BP = 9500
RETIREE_BONUS_BP = 500
INPATIENT_FIRST_BAND_FEN = 50_000 * YUAN  # inpatient: the first 50,000 yuan at r, above at r + 5 points
HIFMI_BANDS = (RatioBand(upto_fen=100_000 * YUAN, ratio_bp=6000), RatioBand(upto_fen=0, ratio_bp=7000))


def _round_to(fen: int, step_fen: int) -> int:
    return (fen + step_fen // 2) // step_fen * step_fen


def _policies(seed: int, province: str) -> list[Policy]:
    rng = random.Random(f"{seed}:{province}:policy")
    ratio_offset_bp = rng.choice((0, 100, 200, 300))
    dedc_pct = rng.choice((80, 90, 100, 110, 120))
    cap_employee = rng.choice((150_000, 200_000, 250_000, 300_000, 350_000, 400_000)) * YUAN
    cap_resident = rng.choice((150_000, 200_000, 250_000, 300_000)) * YUAN
    cap_out = {
        codes.INSUTYPE_EMPLOYEE: rng.choice((3_000, 4_000, 5_000, 6_000, 8_000, 10_000)) * YUAN,
        codes.INSUTYPE_RESIDENT: rng.choice((3_000, 3_500, 4_000, 5_000)) * YUAN,
    }
    cap_chronic = rng.choice((20_000, 30_000, 50_000, 60_000, 80_000, 100_000)) * YUAN
    dedc_out_employee = rng.choice((1_500, 1_600, 1_800, 2_000)) * YUAN
    dedc_out = {
        codes.PSN_GROUP_IN_SERVICE: dedc_out_employee,
        codes.PSN_GROUP_RETIRED: _round_to(dedc_out_employee * 7 // 10, 100 * YUAN),
        codes.PSN_GROUP_RESIDENT: rng.choice((300, 400, 500)) * YUAN,
    }
    dedc_chronic = rng.choice((0, 0, 200, 300, 500)) * YUAN
    dise_caps: tuple[DiseaseCap, ...] = ()
    if rng.random() < 0.6:
        dise_caps = (
            DiseaseCap(opsp_dise_code="M03900", cap_fen=rng.choice((3_000, 4_000, 5_000)) * YUAN),
            DiseaseCap(opsp_dise_code="M01600", cap_fen=rng.choice((4_000, 5_000, 6_000)) * YUAN),
            DiseaseCap(opsp_dise_code="M07803", cap_fen=cap_chronic),
            DiseaseCap(opsp_dise_code="M07804", cap_fen=cap_chronic),
        )
    reduction = {
        "reduction_mode": codes.REDUCTION_PRESELFPAY if rng.random() < 0.2 else codes.REDUCTION_RATIO_POINTS,
        "reduction_referral_bp": rng.choice((0, 500, 1000)),
        "reduction_emergency_bp": rng.choice((0, 0, 500, 1000)),
        "reduction_other_bp": rng.choice((1000, 1500, 2000)),
    }
    second_layer = {
        codes.INSUTYPE_EMPLOYEE: {
            "hifob_ratio_bp": rng.choice((8500, 9000)),
            "hifob_cap_fen": rng.choice((300_000, 400_000, 500_000)) * YUAN,
            "acct_pay_allowed": True,
        },
        codes.INSUTYPE_RESIDENT: {
            "hifmi_threshold_fen": rng.choice((15_000, 20_000, 25_000)) * YUAN,
            "hifmi_bands": HIFMI_BANDS,
            "hifmi_cap_fen": rng.choice((300_000, 400_000)) * YUAN,
            "acct_pay_allowed": False,
        },
    }
    policies: list[Policy] = []
    for insutype, psn_type in POLICY_GROUPS:
        cap_overall = cap_employee if insutype == codes.INSUTYPE_EMPLOYEE else cap_resident
        for category in POLICY_CATEGORIES:
            for level_index, hosp_lv in enumerate(POLICY_LEVELS):
                ratio = _RATIO_BP[(category, insutype)][level_index] - ratio_offset_bp
                if psn_type == codes.PSN_GROUP_RETIRED:
                    ratio += RETIREE_BONUS_BP
                ratio = max(RATIO_MIN_BP, min(RATIO_MAX_BP, ratio))
                dedc_later = -1
                dise = ()
                if category == codes.CATEGORY_INPATIENT:
                    table = (
                        _INPATIENT_DEDC_EMPLOYEE_YUAN
                        if insutype == codes.INSUTYPE_EMPLOYEE
                        else _INPATIENT_DEDC_RESIDENT_YUAN
                    )
                    dedc = _round_to(table[level_index] * YUAN * dedc_pct // 100, 10 * YUAN)
                    if psn_type == codes.PSN_GROUP_RETIRED:
                        dedc = _round_to(dedc * 7 // 10, 10 * YUAN)
                    dedc_later = _round_to(dedc // 2, 10 * YUAN)
                    upper = min(ratio + 500, RATIO_MAX_BP)
                    if upper > ratio:
                        bands = (
                            RatioBand(upto_fen=INPATIENT_FIRST_BAND_FEN, ratio_bp=ratio),
                            RatioBand(upto_fen=0, ratio_bp=upper),
                        )
                    else:
                        bands = (RatioBand(upto_fen=0, ratio_bp=ratio),)
                    cap_category = cap_overall
                elif category == codes.CATEGORY_OUTPATIENT:
                    dedc = dedc_out[psn_type]
                    bands = (RatioBand(upto_fen=0, ratio_bp=ratio),)
                    cap_category = cap_out[insutype]
                else:
                    dedc = dedc_chronic
                    bands = (RatioBand(upto_fen=0, ratio_bp=ratio),)
                    cap_category = cap_chronic
                    dise = dise_caps
                policies.append(
                    Policy(
                        insuplc_admdvs=province,
                        insutype=insutype,
                        category=category,
                        psn_type=psn_type,
                        hosp_lv=hosp_lv,
                        begndate=BEGNDATE,
                        dedc_fen=dedc,
                        dedc_later_fen=dedc_later,
                        bands=bands,
                        cap_category_fen=cap_category,
                        cap_overall_fen=cap_overall,
                        dise_caps=dise,
                        **reduction,
                        **second_layer[insutype],
                    )
                )
    assert len(policies) == POLICIES_PER_PROVINCE
    return policies


# --- institutions ---------------------------------------------------------------------------------

# Level of the j-th institution of a city: every city gets 3, 2, 1, 0 first; over 12 they are 2:3:3:4.
_LEVEL_CYCLE = ("3", "2", "1", "0", "0", "2", "1", "0", "3", "0", "1", "2")
_NAMES_LV3 = (
    "第一人民医院",
    "中心医院",
    "中医院",
    "妇幼保健院",
    "第二人民医院",
    "肿瘤医院",
    "儿童医院",
    "第三人民医院",
)
_NAMES_LV2 = (
    "第四人民医院", "第五人民医院", "中西医结合医院", "骨科医院", "眼科医院", "口腔医院",
    "传染病医院", "精神卫生中心", "第六人民医院", "康复医院", "老年病医院", "妇产医院",
)  # fmt: skip
_AREAS = (
    "城东", "城西", "城南", "城北", "新华", "解放", "人民路", "建设路", "和平", "长安",
    "滨江", "城关", "东湖", "西湖", "南山", "北山", "开发区", "高新区", "红星", "光明",
)  # fmt: skip
FULLY_NETWORKED_PER_CITY = 4  # the first four institutions of every city (levels 3, 2, 1, 0) are networked for all


def institution_code(admdvs: str, serial: int) -> str:
    """Institution code: "H" + 6-digit region + 5-digit serial, e.g. H44010600012."""
    assert region.is_well_formed(admdvs) and 0 < serial < 100_000, (admdvs, serial)
    return f"H{admdvs}{serial:05d}"


def institution_place(province: str, serial: int) -> tuple[str, str]:
    """(admdvs, hosp_lv) of institution `serial` (1-based) of a province. Fixed: independent of the seed.

    Serial 1 is a level-3 hospital in the capital; serials 1..4*len(cities) are networked for everything.
    """
    cities_ = cities(province)
    k = serial - 1
    city = cities_[k % len(cities_)]
    ordinal = k // len(cities_)  # j-th institution of its city
    return _district(city, ordinal), _LEVEL_CYCLE[ordinal % len(_LEVEL_CYCLE)]


def _institutions(seed: int, province: str) -> list[Institution]:
    rng = random.Random(f"{seed}:{province}:institution")
    cities_ = cities(province)
    areas = {city: rng.sample(_AREAS, len(_AREAS)) for city in cities_}
    used = {city: {"3": 0, "2": 0, "1": 0, "0": 0} for city in cities_}
    capital_name = region.PROVINCES[province][0]
    result: list[Institution] = []
    for serial in range(1, INSTITUTIONS_PER_PROVINCE + 1):
        admdvs, level = institution_place(province, serial)
        city = region.city_of(admdvs)
        ordinal = (serial - 1) // len(cities_)
        n = used[city][level]
        used[city][level] += 1
        prefix = city_name(city)
        if level == "3":
            if serial == 1 and not capital_name.endswith("市"):
                name = f"{capital_name}人民医院"  # the provincial hospital, in the capital
            else:
                name = prefix + _NAMES_LV3[n % len(_NAMES_LV3)]
        elif level == "2":
            name = prefix + _NAMES_LV2[n % len(_NAMES_LV2)]
        elif level == "1":
            name = f"{prefix}{areas[city][n % len(_AREAS)]}医院"
        else:
            suffix = "社区卫生服务中心" if n % 2 == 0 else "镇卫生院"
            name = f"{prefix}{areas[city][(len(_AREAS) - 1 - n) % len(_AREAS)]}{suffix}"
        networked = ordinal < FULLY_NETWORKED_PER_CITY
        result.append(
            Institution(
                fixmedins_code=institution_code(admdvs, serial),
                fixmedins_name=name,
                admdvs=admdvs,
                hosp_lv=level,
                networked_inpatient=networked or rng.random() >= 0.05,
                networked_outpatient=networked or rng.random() >= 0.12,
                networked_chronic=networked or rng.random() >= 0.18,
                begndate=BEGNDATE,
            )
        )
    return result


# --- catalog --------------------------------------------------------------------------------------

# (name, base price ceiling per unit in fen, sex restriction when restricted: "" / "1" male / "2" female)
_DRUGS_WESTERN = (
    ("阿莫西林胶囊 0.25g", 45, ""), ("头孢呋辛酯片 0.25g", 120, ""), ("阿托伐他汀钙片 20mg", 180, ""),
    ("盐酸二甲双胍片 0.5g", 25, ""), ("苯磺酸氨氯地平片 5mg", 60, ""), ("奥美拉唑肠溶胶囊 20mg", 80, ""),
    ("硝苯地平控释片 30mg", 210, ""), ("缬沙坦胶囊 80mg", 150, ""), ("阿司匹林肠溶片 100mg", 15, ""),
    ("硫酸氢氯吡格雷片 75mg", 260, ""), ("甘精胰岛素注射液 3ml:300单位", 7500, ""),
    ("左氧氟沙星氯化钠注射液 100ml:0.5g", 1800, ""), ("0.9%氯化钠注射液 250ml", 350, ""),
    ("布洛芬缓释胶囊 0.3g", 40, ""), ("注射用头孢曲松钠 1.0g", 900, ""), ("替格瑞洛片 90mg", 320, ""),
    ("瑞舒伐他汀钙片 10mg", 140, ""), ("恩替卡韦分散片 0.5mg", 90, ""), ("他克莫司胶囊 1mg", 1100, ""),
    ("吗替麦考酚酯片 0.25g", 450, ""), ("紫杉醇注射液 30mg", 25000, ""), ("顺铂注射液 20mg", 1600, ""),
    ("重组人促红素注射液 3000IU", 2600, ""), ("蔗糖铁注射液 5ml:100mg", 6500, ""),
    ("低分子量肝素钙注射液 0.4ml", 2400, ""), ("磷酸奥司他韦胶囊 75mg", 520, ""), ("孟鲁司特钠片 10mg", 380, ""),
    ("注射用泮托拉唑钠 40mg", 1200, ""), ("甲钴胺片 0.5mg", 70, ""), ("格列美脲片 2mg", 110, ""),
    ("阿卡波糖片 50mg", 95, ""), ("厄贝沙坦片 150mg", 130, ""), ("酒石酸美托洛尔缓释片 47.5mg", 160, ""),
    ("呋塞米注射液 2ml:20mg", 80, ""), ("地塞米松磷酸钠注射液 1ml:5mg", 60, ""), ("利伐沙班片 10mg", 1300, ""),
    ("盐酸坦索罗辛缓释胶囊 0.2mg", 250, "1"), ("非那雄胺片 5mg", 300, "1"), ("黄体酮注射液 1ml:20mg", 150, "2"),
    ("枸橼酸氯米芬片 50mg", 220, "2"),
)  # fmt: skip
_DRUGS_PATENT = (
    ("复方丹参滴丸 27mg", 15, ""), ("连花清瘟胶囊 0.35g", 60, ""), ("六味地黄丸 浓缩丸", 20, ""),
    ("血塞通软胶囊 60mg", 70, ""), ("银杏叶片 9.6mg", 45, ""), ("速效救心丸 40mg", 35, ""),
    ("丹红注射液 10ml", 2800, ""), ("注射用血栓通 250mg", 3200, ""), ("安宫牛黄丸 3g", 42000, ""),
    ("藿香正气水 10ml", 150, ""), ("板蓝根颗粒 10g", 90, ""), ("麝香保心丸 22.5mg", 55, ""),
    ("通心络胶囊 0.26g", 110, ""), ("脑心通胶囊 0.4g", 85, ""), ("云南白药胶囊 0.25g", 130, ""),
    ("桂枝茯苓胶囊 0.31g", 75, "2"), ("前列舒通胶囊 0.4g", 95, "1"),
)  # fmt: skip
_HERBAL_PIECES = (
    ("黄芪 饮片 1g", 12, ""), ("当归 饮片 1g", 25, ""), ("党参 饮片 1g", 30, ""), ("白术 饮片 1g", 18, ""),
    ("茯苓 饮片 1g", 10, ""), ("甘草 饮片 1g", 8, ""), ("川芎 饮片 1g", 14, ""), ("丹参 饮片 1g", 9, ""),
    ("枸杞子 饮片 1g", 16, ""), ("金银花 饮片 1g", 60, ""), ("陈皮 饮片 1g", 9, ""), ("法半夏 饮片 1g", 70, ""),
    ("熟地黄 饮片 1g", 11, ""), ("白芍 饮片 1g", 13, ""), ("柴胡 饮片 1g", 40, ""),
)  # fmt: skip
_SERVICES = (
    ("0011", "普通门诊诊查费", 1000, ""), ("0011", "副主任医师门诊诊查费", 3000, ""),
    ("0011", "急诊诊查费", 1500, ""), ("0011", "住院诊查费", 1800, ""), ("0011", "床位费(三人间)", 4000, ""),
    ("0012", "一级护理", 2600, ""), ("0012", "二级护理", 1600, ""), ("0012", "静脉输液", 800, ""),
    ("0012", "肌肉注射", 300, ""), ("0025", "血细胞分析(五分类)", 2000, ""), ("0025", "尿液常规检查", 800, ""),
    ("0025", "肝功能测定", 4500, ""), ("0025", "肾功能测定", 3000, ""), ("0025", "血清葡萄糖测定", 500, ""),
    ("0025", "糖化血红蛋白测定", 6000, ""), ("0022", "常规心电图检查", 2000, ""), ("0021", "数字化摄影(DR)", 7000, ""),
    ("0021", "X线计算机体层(CT)平扫", 22000, ""), ("0021", "磁共振平扫", 50000, ""),
    ("0022", "彩色多普勒超声检查", 12000, ""), ("0031", "血液透析", 42000, ""), ("0031", "腹膜透析", 9000, ""),
    ("0031", "电子胃镜检查", 25000, ""), ("0033", "阑尾切除术", 120000, ""), ("0033", "子宫下段剖宫产术", 150000, "2"),
    ("0033", "经皮冠状动脉内支架置入术", 350000, ""), ("0033", "白内障超声乳化摘除术", 180000, ""),
    ("0033", "经尿道前列腺电切术", 160000, "1"), ("0024", "调强放射治疗", 80000, ""), ("0041", "普通针刺", 2500, ""),
    ("0042", "康复评定", 4000, ""),
)  # fmt: skip
_CONSUMABLES = (
    ("一次性使用无菌注射器 5ml", 50), ("一次性使用输液器", 300), ("医用外科口罩", 80),
    ("冠状动脉药物洗脱支架", 80000), ("人工髋关节假体", 750000), ("人工晶状体", 120000),
    ("一次性使用血液透析器", 15000), ("一次性使用吻合器", 180000), ("一次性使用导尿管", 1200),
    ("中心静脉导管", 26000), ("医用X射线胶片", 1500), ("可吸收缝合线", 9000), ("医用纱布敷料", 200),
    ("一次性使用静脉留置针", 900),
)  # fmt: skip
# ATC class (level 4) of each western drug above, in the same order: the first letters of its code.
_ATC = (
    "J01CA", "J01DC", "C10AA", "A10BA", "C08CA", "A02BC", "C08CA", "C09CA", "B01AC", "B01AC", "A10AE", "J01MA",
    "B05XA", "M01AE", "J01DD", "B01AC", "C10AA", "J05AF", "L04AD", "L04AA", "L01CD", "L01XA", "B03XA", "B03AC",
    "B01AB", "J05AH", "R03DC", "A02BC", "B03BA", "A10BB", "A10BF", "C09CA", "C07AB", "C03CA", "H02AB", "B01AF",
    "G04CA", "G04CB", "G03DA", "G03GB",
)  # fmt: skip
assert len(_ATC) == len(_DRUGS_WESTERN)
_PATENT_CATS = ("A04BA", "A04DA", "A13AA", "A01BA", "A06AA", "A10CA")
_CONSUMABLE_CATS = (1101, 1203, 1502, 2001, 3104, 4106, 5202, 6001)
_DISEASE_LISTS = (
    ("M03900",), ("I10.x00",), ("E11.900", "M01600"), ("C34.900", "M00503"), ("N18.500", "M07803", "M07804"),
    ("Z94.001", "M08300"),
)  # fmt: skip
_SELFPAY_CHOICES_BP = (500, 1000, 2000, 3000)
# Cumulative shares (percent) of list types: western drugs, patent drugs, herbal pieces, services, consumables.
_LIST_TYPE_SHARES = ((40, "101"), (55, "102"), (63, "103"), (88, "201"), (100, "301"))

# Items 0..9: common, unrestricted, class A or B, with a ceiling everywhere (benchmarks address them).
# (list_type, table index, class)
_BENCH_ITEMS = (
    ("201", 0, codes.CLASS_A),  # 普通门诊诊查费
    ("201", 9, codes.CLASS_A),  # 血细胞分析
    ("101", 0, codes.CLASS_A),  # 阿莫西林胶囊
    ("101", 3, codes.CLASS_A),  # 二甲双胍片
    ("101", 2, codes.CLASS_B),  # 阿托伐他汀钙片
    ("102", 0, codes.CLASS_B),  # 复方丹参滴丸
    ("201", 7, codes.CLASS_A),  # 静脉输液
    ("301", 1, codes.CLASS_B),  # 一次性使用输液器
    ("201", 15, codes.CLASS_A),  # 常规心电图检查
    ("103", 0, codes.CLASS_B),  # 黄芪
)
# Items 10..15: one of each kind of restriction, the same in every province (tests and demos address them).
# (list_type, table index, class, restriction)
_RESTRICTED_EXAMPLES = (
    ("101", 38, codes.CLASS_B, {"lmt_sex": codes.GENDER_FEMALE}),  # 黄体酮注射液
    ("101", 26, codes.CLASS_B, {"lmt_age_max": 14}),  # 孟鲁司特钠片: children
    ("101", 27, codes.CLASS_B, {"lmt_setting": codes.SETTING_INPATIENT_ONLY}),  # 注射用泮托拉唑钠
    ("201", 29, codes.CLASS_A, {"lmt_setting": codes.SETTING_OUTPATIENT_ONLY}),  # 普通针刺
    ("101", 30, codes.CLASS_B, {"lmt_dise_codes": ("E11.900", "M01600")}),  # 阿卡波糖片: diabetes
    ("101", 35, codes.CLASS_B, {"lmt_cnt_per_day_e4": 10_000}),  # 利伐沙班片: one a day
)
RESTRICTED_EXAMPLE_ITEMS = range(BENCH_ITEMS, BENCH_ITEMS + len(_RESTRICTED_EXAMPLES))  # indices 10..15
_FIXED_ITEMS = RESTRICTED_EXAMPLE_ITEMS.stop  # items below this index are the same in every province


def _mix(index: int) -> int:
    """splitmix64 of the index: a fixed, well-spread 64-bit hash (so item facts need no random state)."""
    z = (index * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


class _ItemFacts:
    """National facts of an item, the same in every province: code, name, type, base class and price."""

    __slots__ = ("code", "name", "list_type", "base_class", "base_price_fen", "has_ceiling", "restriction", "versioned")

    def __init__(self, index: int) -> None:
        assert index >= 0, index
        h = _mix(index)
        restriction: dict[str, object] = {}
        if index < BENCH_ITEMS:
            list_type, pick, base_class = _BENCH_ITEMS[index]
        elif index < _FIXED_ITEMS:
            list_type, pick, base_class, restriction = _RESTRICTED_EXAMPLES[index - BENCH_ITEMS]
        else:
            bucket = h % 100
            list_type = next(t for bound, t in _LIST_TYPE_SHARES if bucket < bound)
            pick = h >> 8
            cls_bucket = (h >> 40) % 100
            base_class = codes.CLASS_A if cls_bucket < 45 else codes.CLASS_B if cls_bucket < 85 else codes.CLASS_C
        sex = ""
        if list_type == "101":
            name, price, sex = _DRUGS_WESTERN[pick % len(_DRUGS_WESTERN)]
            code = f"X{_ATC[pick % len(_ATC)]}A{(h >> 20) % 1000:03d}A{(h >> 30) % 1000:03d}{index:09d}"
        elif list_type == "102":
            name, price, sex = _DRUGS_PATENT[pick % len(_DRUGS_PATENT)]
            code = f"Z{_PATENT_CATS[(h >> 16) % len(_PATENT_CATS)]}A{(h >> 20) % 1000:03d}{index:010d}"
        elif list_type == "103":
            name, price, sex = _HERBAL_PIECES[pick % len(_HERBAL_PIECES)]
            code = f"T{index:09d}"
        elif list_type == "201":
            chapter, name, price, sex = _SERVICES[pick % len(_SERVICES)]
            code = f"{chapter}{index:011d}"
        else:
            name, price = _CONSUMABLES[pick % len(_CONSUMABLES)]
            code = f"C{_CONSUMABLE_CATS[(h >> 16) % len(_CONSUMABLE_CATS)]:04d}{index:015d}"
        self.code = code
        self.name = name
        self.list_type = list_type
        self.base_class = base_class
        # Spread prices of the same product (manufacturers, specifications): 60% .. 160% of the table price.
        self.base_price_fen = price if index < _FIXED_ITEMS else max(1, price * (60 + (h >> 48) % 101) // 100)
        self.versioned = index % ITEM_VERSION_PERIOD == ITEM_VERSION_OFFSET
        drug = list_type in ("101", "102", "103")
        # Services and consumables carry a price ceiling; drugs mostly (a payment standard), ~35% none.
        self.has_ceiling = index < _FIXED_ITEMS or self.versioned or not drug or (h >> 56) % 100 >= 35
        self.restriction = restriction
        if index >= _FIXED_ITEMS and (h >> 24) % 1000 < 30:  # ~3% restricted, the same way everywhere
            kind = (h >> 34) % 6
            if sex:
                self.restriction = {"lmt_sex": sex}
            elif kind == 0:
                self.restriction = {"lmt_age_max": 14} if (h >> 37) % 2 else {"lmt_age_min": 18}
            elif kind == 1:
                self.restriction = {"lmt_setting": codes.SETTING_INPATIENT_ONLY}
            elif kind == 2:
                self.restriction = {"lmt_setting": codes.SETTING_OUTPATIENT_ONLY}
            elif kind in (3, 4):
                self.restriction = {"lmt_dise_codes": _DISEASE_LISTS[(h >> 37) % len(_DISEASE_LISTS)]}
            else:
                self.restriction = {"lmt_cnt_per_day_e4": ((h >> 37) % 4 + 1) * 10_000}


def item_code(index: int) -> str:
    """med_list_codg of catalog item `index` (0-based); the same code in every province's catalog."""
    return _ItemFacts(index).code


class CatalogEntry(Record, kw_only=True):
    """A "catalog_item" of the stream: one CatalogItem version in the catalog of `province`.

    CatalogItem itself does not say whose catalog it belongs to (the store keys it by place of treatment)."""

    province: str  # place of treatment, province code "xx0000"
    item: CatalogItem


def _catalog(seed: int, province: str, facts: list[_ItemFacts]) -> Iterator[CatalogItem]:
    """The catalog of one place of treatment. Per province: the class of ~10% of items differs from the
    national one, class-B shares follow the province's defaults, price ceilings vary 85%..115%.
    One 32-bit draw per item: cheap enough for 640,000 items."""
    rng = random.Random(f"{seed}:{province}:catalog")
    drug_selfpay_bp = rng.choice((500, 1000, 1000, 2000))
    other_selfpay_bp = rng.choice((1000, 2000, 2000, 3000))
    getrandbits = rng.getrandbits
    for index, fact in enumerate(facts):
        bits = getrandbits(32)
        cls = fact.base_class
        if index >= _FIXED_ITEMS and bits & 0xFF < 26:
            u = (bits >> 8) % 100
            cls = codes.CLASS_A if u < 45 else codes.CLASS_B if u < 85 else codes.CLASS_C
        selfpay = 0
        if cls == codes.CLASS_B:
            if (bits >> 16) & 0xF == 0:
                selfpay = _SELFPAY_CHOICES_BP[(bits >> 20) & 3]
            else:
                selfpay = drug_selfpay_bp if fact.list_type[0] == "1" else other_selfpay_bp
        ceiling = fact.base_price_fen * (85 + (bits >> 22) % 31) // 100 if fact.has_ceiling else 0
        if fact.has_ceiling and ceiling < 1:
            ceiling = 1
        if fact.versioned:
            yield CatalogItem(
                med_list_codg=fact.code,
                name=fact.name,
                list_type=fact.list_type,
                chrgitm_lv=cls,
                selfpay_prop_bp=selfpay,
                pric_uplmt_amt_fen=ceiling,
                begndate=BEGNDATE,
                enddate=ITEM_CHANGE_PREV_END,
                **fact.restriction,
            )
            ceiling = max(1, ceiling * 90 // 100)  # volume-based procurement lowered the ceiling by 10%
            begndate = ITEM_CHANGE_DATE
        else:
            begndate = BEGNDATE
        yield CatalogItem(
            med_list_codg=fact.code,
            name=fact.name,
            list_type=fact.list_type,
            chrgitm_lv=cls,
            selfpay_prop_bp=selfpay,
            pric_uplmt_amt_fen=ceiling,
            begndate=begndate,
            **fact.restriction,
        )


def catalog(seed: int, province: str, items_per_province: int) -> Iterator[CatalogItem]:
    """The catalog of one place of treatment, exactly as `generate()` yields it for that province."""
    _check_sizes(items_per_province, 0)
    assert province in region.PROVINCES, province
    return _catalog(seed, province, [_ItemFacts(index) for index in range(items_per_province)])


def catalog_size(items_per_province: int) -> int:
    """Number of catalog records (versions) per province: each item once, a few twice."""
    return items_per_province + _versioned_items(items_per_province)


def _versioned_items(items_per_province: int) -> int:
    if items_per_province <= ITEM_VERSION_OFFSET:
        return 0
    return len(range(ITEM_VERSION_OFFSET, items_per_province, ITEM_VERSION_PERIOD))


# --- persons --------------------------------------------------------------------------------------

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志文博晨昊天成东海峰"
_GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英华玲婷雪琳燕红梅洁琴云莉萍倩颖佳慧欣悦蕾晶璐薇琪月瑶彤嘉怡桂兰"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CARD_LETTER = "ABCDEFGHJK"  # card numbers: letter from the province's first digit, then its second digit


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character of a citizen ID number."""
    assert len(first17) == 17 and first17.isdigit(), first17
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def person_no(province: str, serial: int) -> str:
    """psn_no of person `serial` (1-based) insured in a province: "P" + province code + 10-digit serial."""
    assert province in region.PROVINCES and 0 < serial < 10**10, (province, serial)
    return f"P{province}{serial:010d}"


def insured_province_of(psn_no: str) -> str:
    """The province a demo person is insured in (person_no's inverse)."""
    province = psn_no[1:7]
    assert psn_no.startswith("P") and province in region.PROVINCES, psn_no
    return province


def _destination_weights(province: str) -> tuple[list[str], list[int]]:
    """Other provinces, weighted: retirees and workers go to the big cities and the south more often."""
    popular = {"440000": 6, "310000": 5, "110000": 5, "460000": 4, "330000": 4, "320000": 4, "510000": 2}
    others = [p for p in region.PROVINCES if p != province]
    cumulative: list[int] = []
    total = 0
    for p in others:
        total += popular.get(p, 1)
        cumulative.append(total)
    return others, cumulative


# Filing categories by person group (weights), for a person's current filing.
_CATEGORY_WEIGHTS = {
    codes.PSN_GROUP_RETIRED: (("11", 50), ("12", 10), ("21", 15), ("22", 10), ("23", 15)),
    codes.PSN_GROUP_IN_SERVICE: (("13", 30), ("12", 15), ("21", 20), ("22", 10), ("23", 25)),
    codes.PSN_GROUP_RESIDENT: (("12", 35), ("21", 25), ("22", 10), ("23", 30)),
}
_LONG_TERM_FIRST = {  # category of an earlier, revoked long-term filing
    codes.PSN_GROUP_RETIRED: "11",
    codes.PSN_GROUP_IN_SERVICE: "13",
    codes.PSN_GROUP_RESIDENT: "12",
}
FILED_SHARE = (7, 10)  # 70% of persons have a filing
REFILED_PER = 50  # 1 person in 50 changed region: a revoked long-term filing, then a new one
QUALIFIED_PER = 10  # 1 person in 10 has a chronic-disease qualification


def _filed_count(persons: int) -> int:
    return persons * FILED_SHARE[0] // FILED_SHARE[1]


def _refiled_count(persons: int) -> int:
    return min(persons // REFILED_PER, _filed_count(persons))


def _qualified_count(persons: int) -> int:
    return persons // QUALIFIED_PER


def _persons(
    seed: int,
    province: str,
    persons: int,
    place_by_province: dict[str, InsuredPlace],
    institutions: dict[str, list[Institution]],
    today: str,
) -> Iterator[tuple[str, Record]]:
    rng = random.Random(f"{seed}:{province}:person")
    today_d = _date(today)
    day = datetime.timedelta(days=1)
    place = place_by_province[province]
    cities_ = cities(province)
    destinations, cumulative = _destination_weights(province)
    home_referrers = [i for i in institutions[province] if i.hosp_lv in ("2", "3")]
    # Exact counts (plan_counts relies on them), randomly placed.
    filed = set(rng.sample(range(persons), _filed_count(persons)))
    refiled = set(rng.sample(sorted(filed), _refiled_count(persons)))
    qualified = set(rng.sample(range(persons), _qualified_count(persons)))
    open_diseases = place.open_dise_codes
    closed_diseases = tuple(d for d in _ALL_DISEASES if d not in open_diseases)
    certnos: set[str] = set()
    months = place.tmp_filing_months
    lock = place.longterm_lock_months

    def pick_destination(exclude: str = "") -> str:
        while True:
            target = rng.choices(destinations, cum_weights=cumulative)[0]
            if target != exclude:
                return target

    def pick_region(target: str) -> str:
        return target if rng.random() < 0.5 else rng.choice(cities(target))

    for k in range(persons):
        serial = k + 1
        psn_no = person_no(province, serial)
        city = rng.choice(cities_)
        u = rng.random()
        if u < 0.42:
            insutype, psn_type, age = codes.INSUTYPE_EMPLOYEE, codes.PSN_GROUP_IN_SERVICE, rng.randint(22, 59)
        elif u < 0.60:
            insutype, psn_type, age = codes.INSUTYPE_EMPLOYEE, codes.PSN_GROUP_RETIRED, rng.randint(55, 92)
        else:
            insutype, psn_type, age = codes.INSUTYPE_RESIDENT, codes.PSN_GROUP_RESIDENT, rng.randint(0, 90)
        gend = codes.GENDER_MALE if rng.random() < 0.5 else codes.GENDER_FEMALE
        born = today_d - datetime.timedelta(days=age * 365 + rng.randint(1, 364))
        given = _GIVEN_MALE if gend == codes.GENDER_MALE else _GIVEN_FEMALE
        name = rng.choice(_SURNAMES) + "".join(rng.choice(given) for _ in range(1 + (rng.random() < 0.7)))
        district = _district(city, rng.randrange(_DISTRICTS_PER_CITY))
        seq = rng.randrange(500)
        while True:  # sequence code: odd for men, even for women; unique within the province
            first17 = f"{district}{born:%Y%m%d}{seq * 2 + (1 if gend == codes.GENDER_MALE else 0):03d}"
            certno = first17 + id_check_digit(first17)
            if certno not in certnos:
                break
            seq = (seq + 1) % 500
        certnos.add(certno)
        s = rng.random()
        status = codes.INSU_STATUS_NORMAL if s < 0.97 else "2" if s < 0.985 else "4"
        balance = rng.randrange(0, 20_000 * YUAN + 1) if insutype == codes.INSUTYPE_EMPLOYEE else 0
        line = InsuranceLine(
            insutype=insutype, psn_type=psn_type, psn_insu_stas=status, insuplc_admdvs=city, acct_balc_fen=balance
        )
        yield (
            "person",
            Person(
                psn_no=psn_no,
                psn_name=name,
                gend=gend,
                brdy=born.isoformat(),
                certno=certno,
                card_no=f"{_CARD_LETTER[int(province[0])]}{province[1]}{serial:07d}",
                card_sn=f"{city}D156000005{rng.getrandbits(64):016X}",
                card_activated=rng.random() >= 0.03,
                evoucher_token=f"EV{province[:2]}{rng.getrandbits(128):032x}",
                insu_lines=(line,),
            ),
        )

        if k in filed:
            seq_no = 1
            previous_target = ""
            after = ""  # the new filing starts after the revocation of the earlier one
            if k in refiled:
                target = pick_destination()
                begn = today_d - datetime.timedelta(days=rng.randint(400, 700))
                revoked = _add_months(begn, lock) + datetime.timedelta(days=rng.randint(1, 60))
                yield (
                    "filing",
                    Filing(
                        trt_dcla_detl_sn=f"F{psn_no}{seq_no:02d}",
                        psn_no=psn_no,
                        insutype=insutype,
                        insuplc_admdvs=city,
                        mdtrtarea_admvs=pick_region(target),
                        category=_LONG_TERM_FIRST[psn_type],
                        begndate=begn.isoformat(),
                        created_date=begn.isoformat(),
                        revoked_date=revoked.isoformat(),
                    ),
                )
                seq_no += 1
                previous_target = target
                after = (revoked + day).isoformat()
            categories, weights = zip(*_CATEGORY_WEIGHTS[psn_type], strict=True)
            category = rng.choices(categories, weights=weights)[0]
            target = pick_destination(previous_target)
            extra: dict[str, str] = {}
            if category in codes.LONG_TERM_FILINGS:
                begn = today_d - datetime.timedelta(days=rng.randint(1, 365))
                if after and begn.isoformat() < after:
                    begn = _date(after)
                begndate, enddate = begn.isoformat(), ""
                earliest_revoke = _add_months(begn, lock)
                mdtrtarea = pick_region(target)
            else:
                if rng.random() < 0.05:  # expired: it ended before today
                    begn = _add_months(today_d, -months) - datetime.timedelta(days=rng.randint(2, 90))
                else:
                    begn = today_d - datetime.timedelta(days=rng.randint(0, 150))
                if after and begn.isoformat() < after:
                    begn = _date(after)
                begndate = begn.isoformat()
                enddate = temporary_enddate(begndate, months)
                earliest_revoke = begn + day
                if category == codes.FILING_REFERRAL:
                    receivers = [i for i in institutions[target] if i.hosp_lv in ("2", "3") and i.networked_inpatient]
                    receiver = rng.choice(receivers)
                    mdtrtarea = target if rng.random() < 0.5 else region.city_of(receiver.admdvs)
                    extra = {
                        "reflin_medins_no": receiver.fixmedins_code,
                        "fixmedins_code": rng.choice(home_referrers).fixmedins_code,
                    }
                elif category == codes.FILING_EMERGENCY:
                    mdtrtarea = target
                else:
                    mdtrtarea = pick_region(target)
            revoked_date = ""
            if rng.random() < 0.02 and earliest_revoke < today_d:
                span = (today_d - earliest_revoke).days
                revoked_date = (earliest_revoke + datetime.timedelta(days=rng.randrange(span))).isoformat()
            yield (
                "filing",
                Filing(
                    trt_dcla_detl_sn=f"F{psn_no}{seq_no:02d}",
                    psn_no=psn_no,
                    insutype=insutype,
                    insuplc_admdvs=city,
                    mdtrtarea_admvs=mdtrtarea,
                    category=category,
                    begndate=begndate,
                    enddate=enddate,
                    created_date=begndate,
                    revoked_date=revoked_date,
                    **extra,
                ),
            )

        if k in qualified:
            if closed_diseases and rng.random() < 0.1:
                disease = rng.choice(closed_diseases)  # qualified at home, but not open cross-province
            else:
                disease = rng.choice(open_diseases)
            yield (
                "qualification",
                ChronicQualification(
                    psn_no=psn_no,
                    insutype=insutype,
                    opsp_dise_code=disease,
                    insuplc_admdvs=city,
                    begndate=(today_d - datetime.timedelta(days=rng.randint(30, 700))).isoformat(),
                ),
            )


# --- the whole nation -----------------------------------------------------------------------------


def plan_counts(items_per_province: int, persons_per_province: int) -> dict[str, int]:
    """Exactly how many records of each kind `generate()` yields for these sizes (any seed)."""
    _check_sizes(items_per_province, persons_per_province)
    n = len(region.PROVINCES)
    persons = persons_per_province
    return {
        "insured_place": n,
        "policy": n * POLICIES_PER_PROVINCE,
        "institution": n * INSTITUTIONS_PER_PROVINCE,
        "catalog_item": n * catalog_size(items_per_province),
        "person": n * persons,
        "filing": n * (_filed_count(persons) + _refiled_count(persons)),
        "qualification": n * _qualified_count(persons),
    }


def _check_sizes(items_per_province: int, persons_per_province: int) -> None:
    assert _FIXED_ITEMS <= items_per_province < 10**9, items_per_province
    assert 0 <= persons_per_province < 10**7, persons_per_province


def generate(
    seed: int = 2026,
    items_per_province: int = 20_000,
    persons_per_province: int = 2_000,
    today: str = "2026-01-01",
) -> Iterator[tuple[str, Record]]:
    """Stream the demo nation as (kind, record) pairs; the same arguments give the same stream."""
    _check_sizes(items_per_province, persons_per_province)
    _date(today)  # well-formed
    places = _insured_places(seed)
    for province in region.PROVINCES:
        yield "insured_place", places[province]
    for province in region.PROVINCES:
        for policy in _policies(seed, province):
            yield "policy", policy
    institutions = {province: _institutions(seed, province) for province in region.PROVINCES}
    for province in region.PROVINCES:
        for institution in institutions[province]:
            yield "institution", institution
    facts = [_ItemFacts(index) for index in range(items_per_province)]
    for province in region.PROVINCES:
        for item in _catalog(seed, province, facts):
            yield "catalog_item", CatalogEntry(province=province, item=item)
    for province in region.PROVINCES:
        yield from _persons(seed, province, persons_per_province, places, institutions, today)
