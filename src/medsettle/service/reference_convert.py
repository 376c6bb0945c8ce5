"""Reference data's proto <-> domain: catalog items, policies, insured-place parameters and institutions, as pushed
(each field checked, the bad one named) and as read back."""

from __future__ import annotations

from medsettle.domain import codes, dates, money, reasons, region
from medsettle.domain.records import CatalogItem, DiseaseCap, Institution, InsuredPlace, Policy, RatioBand
from medsettle.service.convert import (
    AMOUNT_FEN_MAX,
    CNT_E4_MAX,
    CNT_PLACES,
    DATE_MAX,
    DATE_MIN,
    admdvs,
    amount,
    checked_name,
    code,
    date,
    decimal,
    invalid,
    is_code,
    is_name,
    listed,
    ratio,
    required,
    required_amount,
)
from medsettle.v1 import reference_data_pb2

_SEX_OR_SETTING = frozenset({"", "1", "2"})
_DATES_OK: set[str] = set()  # well-formed dates seen: a bulk push repeats a handful of them 50,000 times
_DATES_OK_MAX = 4096


def _date_ok(value: str) -> bool:
    if value in _DATES_OK:
        return True
    if not dates.is_date(value) or not (DATE_MIN <= value <= DATE_MAX):
        return False
    if len(_DATES_OK) < _DATES_OK_MAX:
        _DATES_OK.add(value)
    return True


def _catalog_item_fast(pb: reference_data_pb2.CatalogItem) -> CatalogItem | None:
    """The item when every field is well-formed, else None (the checked path then names the field).

    The same checks as the checked path without building a field name per check: a full catalog push converts
    hundreds of thousands of items, almost all of them well-formed. Most items carry no restriction, so the
    restriction fields are read only to see that they are empty (reading a repeated field into a tuple costs
    more than the rest of the item)."""
    lv, selfpay, begndate, enddate = pb.chrgitm_lv, pb.selfpay_prop, pb.begndate, pb.enddate
    if lv not in codes.ITEM_CLASSES or not 0 <= selfpay <= 10_000 or (lv == codes.CLASS_B and selfpay == 0):
        return None
    if not _date_ok(begndate) or (enddate and (not _date_ok(enddate) or enddate < begndate)):
        return None
    item_code, list_type, item_name = pb.med_list_codg, pb.list_type, pb.name
    has_price = pb.HasField("pric_uplmt_amt")
    price_fen = pb.pric_uplmt_amt if has_price else NO_PRICE_CEILING
    if not is_code(item_code) or list_type not in codes.LIST_TYPES or (has_price and not 0 < price_fen <= AMOUNT_FEN_MAX):
        return None
    if not is_name(item_name):
        return None
    sex, setting = pb.lmt_sex, pb.lmt_setting
    if not pb.lmt_used_flag:
        if (pb.HasField("lmt_age_min") or pb.HasField("lmt_age_max") or sex or setting or pb.lmt_cnt_per_day
                or pb.lmt_dise_codes):
            return None  # a restriction without the flag: the checked path says so
        return CatalogItem(med_list_codg=item_code, name=item_name, list_type=list_type, chrgitm_lv=lv,
                           selfpay_prop_bp=selfpay, pric_uplmt_amt_fen=price_fen, begndate=begndate, enddate=enddate)
    age_min, age_max = NO_AGE_BOUND, NO_AGE_BOUND
    if pb.HasField("lmt_age_min"):
        age_min = pb.lmt_age_min
        if not 0 <= age_min <= AGE_YEARS_MAX:
            return None
    if pb.HasField("lmt_age_max"):
        age_max = pb.lmt_age_max
        if not max(age_min, 0) <= age_max <= AGE_YEARS_MAX:
            return None
    if sex not in _SEX_OR_SETTING or setting not in _SEX_OR_SETTING:
        return None
    dise_codes = tuple(pb.lmt_dise_codes)
    if len(dise_codes) > RECORD_CODES_MAX or not all(is_code(c) for c in dise_codes):
        return None
    cnt_e4 = 0
    if pb.lmt_cnt_per_day:
        try:
            cnt_e4 = money.parse_decimal(pb.lmt_cnt_per_day, CNT_PLACES)
        except ValueError:
            return None
        if cnt_e4 > CNT_E4_MAX:
            return None
    item = CatalogItem(med_list_codg=item_code, name=item_name, list_type=list_type, chrgitm_lv=lv,
                       selfpay_prop_bp=selfpay, pric_uplmt_amt_fen=price_fen, lmt_sex=sex, lmt_age_min=age_min,
                       lmt_age_max=age_max, lmt_setting=setting, lmt_dise_codes=dise_codes,
                       lmt_cnt_per_day_e4=cnt_e4, begndate=begndate, enddate=enddate)
    return item if item.restricted else None


def catalog_item(pb: reference_data_pb2.CatalogItem, field: str) -> CatalogItem:
    fast = _catalog_item_fast(pb)
    return fast if fast is not None else catalog_item_checked(pb, field)


# The domain's "none" for the catalog's optional fields, which the contract says by leaving them out.
NO_PRICE_CEILING = 0
NO_AGE_BOUND = -1
AGE_YEARS_MAX = 150


def _price_ceiling(pb: reference_data_pb2.CatalogItem, field: str) -> int:
    if not pb.HasField("pric_uplmt_amt"):
        return NO_PRICE_CEILING
    if pb.pric_uplmt_amt == 0:
        raise invalid(f"{field}.pric_uplmt_amt", "a price ceiling of 0 fen; leave pric_uplmt_amt out for no ceiling")
    return amount(pb.pric_uplmt_amt, f"{field}.pric_uplmt_amt")


def _age(pb: reference_data_pb2.CatalogItem, name: str, field: str) -> int:
    if not pb.HasField(name):
        return NO_AGE_BOUND
    value = getattr(pb, name)
    if not 0 <= value <= AGE_YEARS_MAX:
        raise invalid(f"{field}.{name}", f"an age of 0..{AGE_YEARS_MAX} years, got {value}; leave {name} out for no bound")
    return value


def catalog_item_checked(pb: reference_data_pb2.CatalogItem, field: str) -> CatalogItem:
    """One catalog item, each field checked and named when it is wrong."""
    lv = code(pb.chrgitm_lv, f"{field}.chrgitm_lv", codes.ITEM_CLASSES)
    selfpay = ratio(pb.selfpay_prop, f"{field}.selfpay_prop")
    if lv == codes.CLASS_B and selfpay == 0:
        raise invalid(f"{field}.selfpay_prop", "a class B item needs selfpay_prop", reasons.NATIONAL_RULE_VIOLATED)
    begndate = date(pb.begndate, f"{field}.begndate")
    enddate = date(pb.enddate, f"{field}.enddate", allow_empty=True)
    if enddate and enddate < begndate:
        raise invalid(f"{field}.enddate", "enddate before begndate")
    age_min = _age(pb, "lmt_age_min", field)
    age_max = _age(pb, "lmt_age_max", field)
    if 0 <= age_max < age_min:
        raise invalid(f"{field}.lmt_age_max", f"lmt_age_max {age_max} is below lmt_age_min {age_min}")
    item = CatalogItem(
        med_list_codg=code(pb.med_list_codg, f"{field}.med_list_codg"),
        name=checked_name(pb.name, f"{field}.name"),
        list_type=code(pb.list_type, f"{field}.list_type", codes.LIST_TYPES),
        chrgitm_lv=lv,
        selfpay_prop_bp=selfpay,
        pric_uplmt_amt_fen=_price_ceiling(pb, field),
        lmt_sex=code(pb.lmt_sex, f"{field}.lmt_sex", frozenset({"", "1", "2"})),
        lmt_age_min=age_min,
        lmt_age_max=age_max,
        lmt_setting=code(pb.lmt_setting, f"{field}.lmt_setting", frozenset({"", "1", "2"})),
        lmt_dise_codes=tuple(code(c, f"{field}.lmt_dise_codes[{i}]")
                             for i, c in enumerate(listed(pb.lmt_dise_codes, RECORD_CODES_MAX, f"{field}.lmt_dise_codes"))),
        lmt_cnt_per_day_e4=decimal(pb.lmt_cnt_per_day, CNT_PLACES, f"{field}.lmt_cnt_per_day", CNT_E4_MAX)
        if pb.lmt_cnt_per_day else 0,
        begndate=begndate,
        enddate=enddate,
    )
    if pb.lmt_used_flag != item.restricted:
        raise invalid(f"{field}.lmt_used_flag", "lmt_used_flag must be set exactly when a restriction is given")
    return item


def catalog_item_pb(item: CatalogItem) -> reference_data_pb2.CatalogItem:
    pb = reference_data_pb2.CatalogItem(
        med_list_codg=item.med_list_codg,
        name=item.name,
        list_type=item.list_type,
        chrgitm_lv=item.chrgitm_lv,
        selfpay_prop=item.selfpay_prop_bp,
        lmt_used_flag=item.restricted,
        lmt_sex=item.lmt_sex,
        lmt_setting=item.lmt_setting,
        lmt_dise_codes=item.lmt_dise_codes,
        lmt_cnt_per_day=money.format_decimal(item.lmt_cnt_per_day_e4, CNT_PLACES) if item.lmt_cnt_per_day_e4 else "",
        begndate=item.begndate,
        enddate=item.enddate,
    )
    if item.pric_uplmt_amt_fen != NO_PRICE_CEILING:
        pb.pric_uplmt_amt = item.pric_uplmt_amt_fen
    if item.lmt_age_min != NO_AGE_BOUND:
        pb.lmt_age_min = item.lmt_age_min
    if item.lmt_age_max != NO_AGE_BOUND:
        pb.lmt_age_max = item.lmt_age_max
    return pb


# Lists inside one record are bounded: a policy or catalog record is read on every settlement and must stay small.
BANDS_MAX = 16
RECORD_CODES_MAX = 200  # diagnoses an item is limited to; diseases a place opens or caps
MED_TYPES_MAX = 16


OPEN_BAND = 0  # the domain's upto_fen of the last, open-ended band
SAME_DEDUCTIBLE = -1  # the domain's dedc_later_fen when later admissions pay the same deductible


def bands(pbs, field: str) -> tuple[RatioBand, ...]:
    listed(pbs, BANDS_MAX, field)
    result: list[RatioBand] = []
    for i, band in enumerate(pbs):
        where = f"{field}[{i}]"
        last = i == len(pbs) - 1
        required(band, "ratio", where, "the ratio paid in this band, basis points")
        if band.HasField("upto") == last:
            raise invalid(f"{where}.upto", "only the last band has no upto (no upper end), and it must have none")
        upto_fen = OPEN_BAND
        if not last:
            upto_fen = amount(band.upto, f"{where}.upto")
            if upto_fen <= (result[-1].upto_fen if result else 0):
                raise invalid(f"{where}.upto", "bands must rise, from above 0")
        result.append(RatioBand(upto_fen=upto_fen, ratio_bp=ratio(band.ratio, f"{where}.ratio")))
    return tuple(result)


def _dedc_later(pb: reference_data_pb2.Policy, field: str) -> int:
    if not pb.HasField("dedc_later"):
        return SAME_DEDUCTIBLE
    if pb.dedc_later < 0:
        raise invalid(f"{field}.dedc_later", f"{pb.dedc_later} fen; leave dedc_later out when later admissions pay dedc")
    return amount(pb.dedc_later, f"{field}.dedc_later")


def _reduction_mode(pb: reference_data_pb2.Policy, field: str) -> str:
    if pb.reduction_mode == "" and not (pb.reduction_referral or pb.reduction_emergency or pb.reduction_other):
        return codes.REDUCTION_RATIO_POINTS  # nothing is reduced, so how does not matter
    return code(pb.reduction_mode, f"{field}.reduction_mode", codes.REDUCTION_MODES)


def _second_layer_amount(pb: reference_data_pb2.Policy, name: str, field: str, needed: bool, meaning: str) -> int:
    """hifob_cap, hifmi_threshold, hifmi_cap: required when their layer is in the policy, else 0 when left out."""
    if needed or pb.HasField(name):
        return required_amount(pb, name, field, meaning)
    return 0


def policy(pb: reference_data_pb2.Policy, field: str) -> Policy:
    begndate = date(pb.begndate, f"{field}.begndate")
    enddate = date(pb.enddate, f"{field}.enddate", allow_empty=True)
    if enddate and enddate < begndate:
        raise invalid(f"{field}.enddate", "enddate before begndate")
    reductions = {
        codes.FILING_REFERRAL: ("reduction_referral", pb.reduction_referral),
        codes.FILING_EMERGENCY: ("reduction_emergency", pb.reduction_emergency),
        codes.FILING_OTHER_TEMPORARY: ("reduction_other", pb.reduction_other),
    }
    for category, (name, value) in reductions.items():
        ceiling = codes.REDUCTION_CEILING_BP[category]
        if not 0 <= value <= ceiling:
            raise invalid(f"{field}.{name}", f"{value} bp exceeds the national ceiling of {ceiling} bp",
                          reasons.NATIONAL_RULE_VIOLATED)
    ratio_bands = bands(pb.bands, f"{field}.bands")
    if not ratio_bands:
        raise invalid(f"{field}.bands", "required: at least one ratio band")
    hifmi_bands = bands(pb.hifmi_bands, f"{field}.hifmi_bands")
    return Policy(
        insuplc_admdvs=admdvs(pb.insuplc_admdvs, f"{field}.insuplc_admdvs"),
        insutype=code(pb.insutype, f"{field}.insutype", codes.INSUTYPES),
        category=code(pb.category, f"{field}.category", codes.CATEGORIES),
        psn_type=code(pb.psn_type, f"{field}.psn_type", codes.PSN_GROUPS),
        hosp_lv=code(pb.hosp_lv, f"{field}.hosp_lv", codes.HOSP_LEVELS),
        begndate=begndate,
        enddate=enddate,
        dedc_fen=required_amount(pb, "dedc", field, "the deductible, fen (0 = none)"),
        dedc_later_fen=_dedc_later(pb, field),
        bands=ratio_bands,
        cap_category_fen=required_amount(pb, "cap_category", field,
                                         "the annual cap of this category, fen (0 = the fund pays nothing)"),
        cap_overall_fen=required_amount(pb, "cap_overall", field,
                                        "the annual cap over all categories, fen (0 = the fund pays nothing)"),
        dise_caps=tuple(DiseaseCap(opsp_dise_code=code(c.opsp_dise_code, f"{field}.dise_caps[{i}].opsp_dise_code"),
                                   cap_fen=required_amount(c, "cap", f"{field}.dise_caps[{i}]",
                                                           "the annual cap for this disease, fen"))
                        for i, c in enumerate(listed(pb.dise_caps, RECORD_CODES_MAX, f"{field}.dise_caps"))),
        reduction_mode=_reduction_mode(pb, field),
        reduction_referral_bp=pb.reduction_referral,
        reduction_emergency_bp=pb.reduction_emergency,
        reduction_other_bp=pb.reduction_other,
        hifob_ratio_bp=ratio(pb.hifob_ratio, f"{field}.hifob_ratio"),
        hifob_cap_fen=_second_layer_amount(pb, "hifob_cap", field, pb.hifob_ratio > 0,
                                           "the annual cap of the large-amount subsidy, fen"),
        hifmi_threshold_fen=_second_layer_amount(pb, "hifmi_threshold", field, bool(hifmi_bands),
                                                 "the burden above which critical-illness insurance pays, fen"),
        hifmi_bands=hifmi_bands,
        hifmi_cap_fen=_second_layer_amount(pb, "hifmi_cap", field, bool(hifmi_bands),
                                           "the annual cap of the critical-illness insurance, fen"),
        acct_pay_allowed=pb.acct_pay_allowed,
    )


def _bands_pb(values: tuple[RatioBand, ...]) -> list[reference_data_pb2.RatioBand]:
    return [reference_data_pb2.RatioBand(upto=b.upto_fen if b.upto_fen != OPEN_BAND else None, ratio=b.ratio_bp)
            for b in values]


def policy_pb(p: Policy) -> reference_data_pb2.Policy:
    return reference_data_pb2.Policy(
        insuplc_admdvs=p.insuplc_admdvs, insutype=p.insutype, category=p.category, psn_type=p.psn_type,
        hosp_lv=p.hosp_lv, begndate=p.begndate, enddate=p.enddate, dedc=p.dedc_fen,
        dedc_later=p.dedc_later_fen if p.dedc_later_fen != SAME_DEDUCTIBLE else None,
        bands=_bands_pb(p.bands), cap_category=p.cap_category_fen, cap_overall=p.cap_overall_fen,
        dise_caps=[reference_data_pb2.DiseaseCap(opsp_dise_code=c.opsp_dise_code, cap=c.cap_fen) for c in p.dise_caps],
        reduction_mode=p.reduction_mode, reduction_referral=p.reduction_referral_bp,
        reduction_emergency=p.reduction_emergency_bp, reduction_other=p.reduction_other_bp,
        hifob_ratio=p.hifob_ratio_bp, hifob_cap=p.hifob_cap_fen, hifmi_threshold=p.hifmi_threshold_fen,
        hifmi_bands=_bands_pb(p.hifmi_bands), hifmi_cap=p.hifmi_cap_fen, acct_pay_allowed=p.acct_pay_allowed,
    )


def insured_place(pb: reference_data_pb2.InsuredPlace, field: str) -> InsuredPlace:
    place = admdvs(pb.insuplc_admdvs, f"{field}.insuplc_admdvs")
    if not region.is_province(place):
        raise invalid(f"{field}.insuplc_admdvs", "insured-place parameters are per province (xx0000)")
    if pb.tmp_filing_months < 6 or pb.tmp_filing_months > 60:
        raise invalid(f"{field}.tmp_filing_months", "temporary filings are valid at least 6 months (national rule)",
                      reasons.NATIONAL_RULE_VIOLATED)
    if not 0 <= pb.longterm_lock_months <= 6:
        raise invalid(f"{field}.longterm_lock_months", "the lock period of a long-term filing is at most 6 months",
                      reasons.NATIONAL_RULE_VIOLATED)
    begndate = date(pb.begndate, f"{field}.begndate")
    enddate = date(pb.enddate, f"{field}.enddate", allow_empty=True)
    if enddate and enddate < begndate:
        raise invalid(f"{field}.enddate", "enddate before begndate")
    return InsuredPlace(
        insuplc_admdvs=place,
        begndate=begndate,
        enddate=enddate,
        open_med_types=tuple(code(m, f"{field}.open_med_types[{i}]", codes.MED_TYPES)
                             for i, m in enumerate(listed(pb.open_med_types, MED_TYPES_MAX, f"{field}.open_med_types"))),
        open_dise_codes=tuple(code(d, f"{field}.open_dise_codes[{i}]") for i, d in
                              enumerate(listed(pb.open_dise_codes, RECORD_CODES_MAX, f"{field}.open_dise_codes"))),
        tmp_filing_months=pb.tmp_filing_months,
        longterm_lock_months=pb.longterm_lock_months,
    )


def institution(pb: reference_data_pb2.Institution, field: str) -> Institution:
    return Institution(
        fixmedins_code=code(pb.fixmedins_code, f"{field}.fixmedins_code"),
        fixmedins_name=checked_name(pb.fixmedins_name, f"{field}.fixmedins_name"),
        admdvs=admdvs(pb.admdvs, f"{field}.admdvs"),
        hosp_lv=code(pb.hosp_lv, f"{field}.hosp_lv", codes.HOSP_LEVELS),
        networked_inpatient=pb.networked_inpatient,
        networked_outpatient=pb.networked_outpatient,
        networked_chronic=pb.networked_chronic,
    )
