"""Region codes (行政区划, admdvs): 6 digits; province = first two + "0000", city = first four + "00"."""

from __future__ import annotations

# The 32 provincial units (31 provinces + 新疆生产建设兵团), from shared/data/admdvs_provinces.tsv.
PROVINCES: dict[str, tuple[str, str]] = {
    "110000": ("北京市", "Beijing"),
    "120000": ("天津市", "Tianjin"),
    "130000": ("河北省", "Hebei"),
    "140000": ("山西省", "Shanxi"),
    "150000": ("内蒙古自治区", "Inner Mongolia"),
    "210000": ("辽宁省", "Liaoning"),
    "220000": ("吉林省", "Jilin"),
    "230000": ("黑龙江省", "Heilongjiang"),
    "310000": ("上海市", "Shanghai"),
    "320000": ("江苏省", "Jiangsu"),
    "330000": ("浙江省", "Zhejiang"),
    "340000": ("安徽省", "Anhui"),
    "350000": ("福建省", "Fujian"),
    "360000": ("江西省", "Jiangxi"),
    "370000": ("山东省", "Shandong"),
    "410000": ("河南省", "Henan"),
    "420000": ("湖北省", "Hubei"),
    "430000": ("湖南省", "Hunan"),
    "440000": ("广东省", "Guangdong"),
    "450000": ("广西壮族自治区", "Guangxi"),
    "460000": ("海南省", "Hainan"),
    "500000": ("重庆市", "Chongqing"),
    "510000": ("四川省", "Sichuan"),
    "520000": ("贵州省", "Guizhou"),
    "530000": ("云南省", "Yunnan"),
    "540000": ("西藏自治区", "Tibet"),
    "610000": ("陕西省", "Shaanxi"),
    "620000": ("甘肃省", "Gansu"),
    "630000": ("青海省", "Qinghai"),
    "640000": ("宁夏回族自治区", "Ningxia"),
    "650000": ("新疆维吾尔自治区", "Xinjiang"),
    "660000": ("新疆生产建设兵团", "Xinjiang Production and Construction Corps"),
}


def is_well_formed(admdvs: str) -> bool:
    return len(admdvs) == 6 and admdvs.isascii() and admdvs.isdigit()


# A settlement asks for the province of its codes about a dozen times (clearing pairs, rules, catalogs): remembered,
# a dictionary hit instead of a check and a new string each time. China has ~3,000 region codes.
_PROVINCES_MAX = 10_000
_province_of: dict[str, str] = {}


def province_of(admdvs: str) -> str:
    found = _province_of.get(admdvs)
    if found is None:
        assert is_well_formed(admdvs), admdvs
        found = admdvs[:2] + "0000"
        if len(_province_of) < _PROVINCES_MAX:
            _province_of[admdvs] = found
    return found


def city_of(admdvs: str) -> str:
    assert is_well_formed(admdvs), admdvs
    return admdvs[:4] + "00"


def is_known(admdvs: str) -> bool:
    """A code is known when it is well formed and lies in one of the 32 provincial units."""
    return is_well_formed(admdvs) and admdvs[:2] + "0000" in PROVINCES


def is_province(admdvs: str) -> bool:
    return is_known(admdvs) and admdvs.endswith("0000")


def is_cross_province(insuplc_admdvs: str, mdtrtarea_admvs: str) -> bool:
    return province_of(insuplc_admdvs) != province_of(mdtrtarea_admvs)


def covers(filed_region: str, treatment_region: str) -> bool:
    """Does a filing naming `filed_region` (a province or a city) cover care in `treatment_region`?"""
    if filed_region.endswith("0000"):
        return province_of(treatment_region) == filed_region
    return city_of(treatment_region) == city_of(filed_region)
