"""Proto <-> domain translation. Validation of shape (formats, sizes, code tables) happens here, with
the offending field named; rules about meaning live in the domain."""

from __future__ import annotations

import re

from google.protobuf import timestamp_pb2

from medsettle.domain import codes, dates, money, reasons, region
from medsettle.domain.reasons import Refusal, shown
from medsettle.domain.records import (
    Accumulators,
    CatalogItem,
    ChronicQualification,
    DiseaseCap,
    FeeLine,
    Filing,
    Institution,
    InsuranceLine,
    InsuredPlace,
    Person,
    Policy,
    RatioBand,
    Settlement,
)
from medsettle.service.errors import invalid
from medsettle.v1 import common_pb2, filing_pb2, reference_data_pb2

CODE_LEN_MAX = 40
_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-"


def is_code(value: str, limit: int = CODE_LEN_MAX) -> bool:
    """1-limit characters, each of [0-9A-Za-z._-].

    str.strip removes those characters from both ends, so only a value made of nothing else strips to "". Twice as
    fast as a regex (this runs for every fee line and every catalog item), and exact: `^...$` with re.match lets a
    trailing newline through."""
    return 0 < len(value) <= limit and not value.strip(_CODE_CHARS)


NAME_LEN_MAX = 200  # an item or an institution
PSN_NAME_LEN_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_name(value: str, limit: int = NAME_LEN_MAX) -> bool:
    """At most `limit` characters and no control character (NUL, newline, tab): names are shown and printed.

    str.isprintable is fast and true for almost every name; it is also false for some harmless characters (the
    ideographic space U+3000), which the regex then lets through."""
    return len(value) <= limit and (value.isprintable() or _CONTROL.search(value) is None)


def checked_name(value: str, field: str, limit: int = NAME_LEN_MAX) -> str:
    if not is_name(value, limit):
        raise invalid(field, f"a name has at most {limit} characters and no control characters, got {shown(value)}")
    return value


DATE_MIN = "1900-01-01"
DATE_MAX = "2199-12-31"
AMOUNT_FEN_MAX = 10**12  # ten billion yuan: far above any real line, far below int64
CNT_PLACES = 4
PRIC_PLACES = 6
# A quantity of more than a hundred million units, or a unit price above the largest line amount, is never real; the
# bounds also keep cnt_e4 and pric_e6 inside int64, which is all the store can encode.
CNT_E4_MAX = 10**8 * 10**CNT_PLACES
PRIC_E6_MAX = AMOUNT_FEN_MAX * 10**(PRIC_PLACES - 2)


# -- field checks ---------------------------------------------------------------------------------


def date(value: str, field: str, *, allow_empty: bool = False) -> str:
    if value == "" and allow_empty:
        return value
    if not dates.is_date(value) or not (DATE_MIN <= value <= DATE_MAX):
        raise invalid(field, f"expected a calendar date YYYY-MM-DD between {DATE_MIN} and {DATE_MAX}, got {shown(value)}")
    return value


ALLOWED_LISTED_CHARS_MAX = 150


def code(value: str, field: str, allowed: frozenset[str] | None = None, *, allow_empty: bool = False) -> str:
    if value == "" and allow_empty:
        return value
    if allowed is not None:
        if value not in allowed:
            listed_values = ", ".join(sorted(allowed))
            if len(listed_values) > ALLOWED_LISTED_CHARS_MAX:  # the detail must arrive whole (errors.DETAIL_CHARS_MAX)
                listed_values = f"the {len(allowed)} values the contract lists for {field.rsplit('.', 1)[-1]}"
            raise invalid(field, f"{shown(value)} is not one of: {listed_values}")
    elif not is_code(value):
        raise invalid(field, f"expected a code of 1-40 letters or digits, got {shown(value)}")
    return value


def admdvs(value: str, field: str) -> str:
    if not region.is_known(value):
        raise Refusal(reasons.UNKNOWN_REGION, field=field, detail=f"{shown(value)} is not a known 6-digit region code")
    return value


def amount(value: int, field: str, *, allow_negative: bool = False) -> int:
    if not (-AMOUNT_FEN_MAX if allow_negative else 0) <= value <= AMOUNT_FEN_MAX:
        raise invalid(field, f"amount {value} fen out of range")
    return value


def ratio(value: int, field: str) -> int:
    if not 0 <= value <= 10_000:
        raise invalid(field, f"ratio {value} bp outside 0..10000", reasons.NATIONAL_RULE_VIOLATED)
    return value


YEAR_MIN, YEAR_MAX = 1990, 2199  # accumulator and prepaid-fund years


def year(value: int, field: str = "year") -> int:
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise invalid(field, f"year {value} outside {YEAR_MIN}..{YEAR_MAX}")
    return value


def request_id(value: str, limit: int = 40, field: str = "request_id") -> str:
    if not is_code(value, limit):
        raise invalid(field, f"{field} must be 1-{limit} letters, digits, '.', '_' or '-'")
    return value


def decimal(value: str, places: int, field: str, most: int) -> int:
    """An exact decimal of at most `places` decimals, as an integer of 10^-places units, at most `most` of them."""
    try:
        scaled = money.parse_decimal(value, places)
    except ValueError as error:
        raise invalid(field, f"expected an exact decimal with at most {places} decimals: {error}") from None
    if scaled > most:
        raise invalid(field, f"{value} is more than {money.format_decimal(most, places)}")
    return scaled


# -- fee lines ------------------------------------------------------------------------------------


# Quantities and unit prices repeat from claim to claim ("1", "2", the catalog's prices): their exact values, once
# parsed, per process. Only well-formed texts within the bounds are kept; bounded, emptied when full.
_DECIMALS_MAX = 50_000
_cnt_e4_of: dict[str, int] = {}
_pric_e6_of: dict[str, int] = {}


def _decimal_known(text: str, places: int, most: int, known: dict[str, int]) -> int | None:
    """The text's exact value when it is a decimal of at most `places` decimals and at most `most`, else None."""
    value = known.get(text)
    if value is not None:
        return value
    try:
        value = money.parse_decimal(text, places)
    except ValueError:
        return None
    if value > most:
        return None
    if len(known) >= _DECIMALS_MAX:
        known.clear()
    known[text] = value
    return value


def _fee_line_fast(line, dates_ok: set[str]) -> FeeLine | None:
    """The line converted when every field is well-formed, else None (the checked path then names the field).

    The same checks as the checked path, without building a field name per check: a settlement's lines are
    almost always well-formed, and this runs for every line of every settlement."""
    sn, item_code, day, amount_fen = line.feedetl_sn, line.med_list_codg, line.fee_ocur_time, line.det_item_fee_sumamt
    if not (is_code(sn) and is_code(item_code) and 0 <= amount_fen <= AMOUNT_FEN_MAX):
        return None
    if day not in dates_ok:
        if not dates.is_date(day) or not (DATE_MIN <= day <= DATE_MAX):
            return None
        dates_ok.add(day)
    cnt_e4 = _decimal_known(line.cnt, CNT_PLACES, CNT_E4_MAX, _cnt_e4_of)
    pric_e6 = _decimal_known(line.pric, PRIC_PLACES, PRIC_E6_MAX, _pric_e6_of)
    if cnt_e4 is None or pric_e6 is None:
        return None
    return FeeLine(feedetl_sn=sn, med_list_codg=item_code, cnt_e4=cnt_e4, pric_e6=pric_e6,
                   det_item_fee_sumamt_fen=amount_fen, fee_ocur_date=day)


def fee_line_checked(line, where: str) -> FeeLine:
    """One fee line, each field checked and named when it is wrong."""
    return FeeLine(
        feedetl_sn=code(line.feedetl_sn, f"{where}.feedetl_sn"),
        med_list_codg=code(line.med_list_codg, f"{where}.med_list_codg"),
        cnt_e4=decimal(line.cnt, CNT_PLACES, f"{where}.cnt", CNT_E4_MAX),
        pric_e6=decimal(line.pric, PRIC_PLACES, f"{where}.pric", PRIC_E6_MAX),
        det_item_fee_sumamt_fen=amount(line.det_item_fee_sumamt, f"{where}.det_item_fee_sumamt"),
        fee_ocur_date=date(line.fee_ocur_time, f"{where}.fee_ocur_time"),
    )


def fee_lines(lines, field: str, limit: int) -> tuple[FeeLine, ...]:
    if len(lines) > limit:
        raise Refusal(reasons.LINES_LIMIT, field=field, detail=f"{len(lines)} lines, at most {limit} per request")
    seen: set[str] = set()
    result = []
    dates_ok: set[str] = set()
    for index, line in enumerate(lines):
        fast = _fee_line_fast(line, dates_ok)
        if fast is not None and fast.feedetl_sn not in seen:
            seen.add(fast.feedetl_sn)
            result.append(fast)
            continue
        checked = fee_line_checked(line, f"{field}[{index}]")
        if checked.feedetl_sn in seen:
            raise Refusal(reasons.INVALID_ARGUMENT, field=f"{field}[{index}].feedetl_sn", feedetl_sn=checked.feedetl_sn,
                          detail="duplicate feedetl_sn")
        seen.add(checked.feedetl_sn)
        result.append(checked)
    return tuple(result)


# -- reference data -------------------------------------------------------------------------------


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


def listed(values, limit: int, field: str):
    if len(values) > limit:
        raise invalid(field, f"{len(values)} entries, at most {limit}")
    return values


def required(pb, name: str, field: str, meaning: str) -> None:
    """A parameter whose proto3 zero would mean something else must be given: leaving it out is refused, naming it."""
    if not pb.HasField(name):
        raise invalid(f"{field}.{name}", f"required: {meaning}")


def required_amount(pb, name: str, field: str, meaning: str) -> int:
    required(pb, name, field, meaning)
    return amount(getattr(pb, name), f"{field}.{name}")


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


def person(pb: reference_data_pb2.Person, field: str) -> Person:
    lines = []
    seen: set[str] = set()
    for i, line in enumerate(pb.insuinfo):
        where = f"{field}.insuinfo[{i}]"
        insutype = code(line.insutype, f"{where}.insutype", codes.INSUTYPES)
        if insutype in seen:
            raise invalid(f"{where}.insutype", "one insurance line per insutype")
        seen.add(insutype)
        lines.append(
            InsuranceLine(
                insutype=insutype,
                psn_type=code(line.psn_type, f"{where}.psn_type", codes.PSN_GROUPS),
                psn_insu_stas=code(line.psn_insu_stas, f"{where}.psn_insu_stas"),
                insuplc_admdvs=admdvs(line.insuplc_admdvs, f"{where}.insuplc_admdvs"),
                acct_balc_fen=amount(line.balc, f"{where}.balc"),
            )
        )
    return Person(
        psn_no=code(pb.psn_no, f"{field}.psn_no"),
        psn_name=checked_name(pb.psn_name, f"{field}.psn_name", PSN_NAME_LEN_MAX),
        gend=code(pb.gend, f"{field}.gend", frozenset({"1", "2", "9"})),
        brdy=date(pb.brdy, f"{field}.brdy"),
        certno=code(pb.certno, f"{field}.certno", allow_empty=True),
        card_no=code(pb.card_no, f"{field}.card_no", allow_empty=True),
        card_sn=code(pb.card_sn, f"{field}.card_sn", allow_empty=True),
        card_activated=pb.card_activated,
        evoucher_token=code(pb.evoucher_token, f"{field}.evoucher_token", allow_empty=True),
        insu_lines=tuple(lines),
    )


def person_pb(p: Person, *, with_token: bool = False) -> reference_data_pb2.Person:
    return reference_data_pb2.Person(
        psn_no=p.psn_no, psn_name=p.psn_name, gend=p.gend, brdy=p.brdy, certno=p.certno, card_no=p.card_no,
        card_sn=p.card_sn, card_activated=p.card_activated, evoucher_token=p.evoucher_token if with_token else "",
        insuinfo=[
            reference_data_pb2.InsuranceInfo(insutype=line.insutype, psn_type=line.psn_type,
                                             psn_insu_stas=line.psn_insu_stas, insuplc_admdvs=line.insuplc_admdvs,
                                             balc=line.acct_balc_fen)
            for line in p.insu_lines
        ],
    )


# -- filings --------------------------------------------------------------------------------------


def filing_pb(f: Filing) -> filing_pb2.Filing:
    return filing_pb2.Filing(
        trt_dcla_detl_sn=f.trt_dcla_detl_sn, psn_no=f.psn_no, insutype=f.insutype, insuplc_admdvs=f.insuplc_admdvs,
        mdtrtarea_admvs=f.mdtrtarea_admvs, category=f.category, begndate=f.begndate, enddate=f.enddate,
        reflin_medins_no=f.reflin_medins_no, fixmedins_code=f.fixmedins_code, created_date=f.created_date,
        revoked_date=f.revoked_date,
    )


def qualification_pb(q: ChronicQualification) -> filing_pb2.ChronicQualification:
    return filing_pb2.ChronicQualification(
        psn_no=q.psn_no, insutype=q.insutype, opsp_dise_code=q.opsp_dise_code, insuplc_admdvs=q.insuplc_admdvs,
        begndate=q.begndate, enddate=q.enddate, revoked_date=q.revoked_date,
    )


# -- settlements ----------------------------------------------------------------------------------


def reason_pb(reason: reasons.Reason) -> common_pb2.Reason:
    remedy_zh, remedy_en = reasons.REMEDY_TEXT.get(reason.remedy, ("", ""))
    return common_pb2.Reason(code=reason.code, message_zh=reason.zh, message_en=reason.en, remedy=reason.remedy,
                             remedy_zh=remedy_zh, remedy_en=remedy_en)


def accumulators_pb(acc: Accumulators, year: int, insutype: str) -> common_pb2.Accumulators:
    return common_pb2.Accumulators(
        year=year, insutype=insutype, dedc_outpatient=acc.dedc_outpatient_fen, dedc_chronic=acc.dedc_chronic_fen,
        hifp_outpatient=acc.hifp_outpatient_fen, hifp_chronic=acc.hifp_chronic_fen,
        hifp_inpatient=acc.hifp_inpatient_fen, hifp_overall=acc.hifp_overall_fen,
        hifp_by_disease={paid.opsp_dise_code: paid.cap_fen for paid in acc.dise_hifp}, hifob=acc.hifob_fen,
        hifmi=acc.hifmi_fen, inscp_burden=acc.inscp_burden_fen, visits_outpatient=acc.visits_outpatient,
        visits_chronic=acc.visits_chronic, admissions_inpatient=acc.admissions_inpatient,
    )


def timestamp_of_ms(ms: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp


def settlement_pb(s: Settlement) -> common_pb2.Settlement:
    pb = common_pb2.Settlement(
        setl_id=s.setl_id, mdtrt_id=s.mdtrt_id, psn_no=s.psn_no, insutype=s.insutype, med_type=s.med_type,
        fixmedins_code=s.fixmedins_code, insuplc_admdvs=s.insuplc_admdvs, mdtrtarea_admvs=s.mdtrtarea_admvs,
        setl_time=timestamp_of_ms(s.setl_time_ms), filing_category=s.filing_category,
        trt_dcla_detl_sn=s.trt_dcla_detl_sn, dise_codg=s.dise_codg, clr_type=s.clr_type,
        medfee_sumamt=s.medfee_sumamt_fen, fulamt_ownpay_amt=s.fulamt_ownpay_amt_fen,
        overlmt_selfpay=s.overlmt_selfpay_fen, preselfpay_amt=s.preselfpay_amt_fen, inscp_scp_amt=s.inscp_scp_amt_fen,
        act_pay_dedc=s.act_pay_dedc_fen, hifp_pay=s.hifp_pay_fen, pool_prop_selfpay=s.pool_prop_selfpay_bp,
        hifob_pay=s.hifob_pay_fen, hifmi_pay=s.hifmi_pay_fen, fund_pay_sumamt=s.fund_pay_sumamt_fen,
        psn_part_amt=s.psn_part_amt_fen, hosp_part_amt=s.hosp_part_amt_fen, acct_pay=s.acct_pay_fen,
        psn_cash_pay=s.psn_cash_pay_fen, balc=s.balc_fen,
        reversed_setl_id=s.reversed_setl_id, reversal_setl_id=s.reversal_setl_id, setl_date=s.setl_date,
    )
    # Repeated fields filled with add(): a third cheaper than lists of constructed messages (every settlement's
    # answer is built here, 300 lines for a stay).
    add_payment = pb.setldetail.add
    for p in s.setldetail:
        add_payment(fund_pay_type=p.fund_pay_type, fund_payamt=p.fund_payamt_fen, crt_payb_lmt_amt=p.crt_payb_lmt_amt_fen)
    add_line = pb.lines.add
    for r in s.lines:
        add_line(feedetl_sn=r.feedetl_sn, med_list_codg=r.med_list_codg, det_item_fee_sumamt=r.det_item_fee_sumamt_fen,
                 fulamt_ownpay_amt=r.fulamt_ownpay_amt_fen, overlmt_amt=r.overlmt_amt_fen,
                 preselfpay_amt=r.preselfpay_amt_fen, inscp_scp_amt=r.inscp_scp_amt_fen, chrgitm_lv=r.chrgitm_lv,
                 selfpay_prop=r.selfpay_prop_bp, pric_uplmt_amt=r.pric_uplmt_amt_fen or None, lmt_reason=r.lmt_reason,
                 catalog_begndate=r.catalog_begndate)
    add_step = pb.explanation.add
    for e in s.explanation:
        add_step(code=e.code, text_zh=e.zh, text_en=e.en, amount=e.amount_fen)
    return pb
