"""Immutable records the rules read and produce.

Every amount is integer fen (`*_fen` inside, national names on the wire), every ratio integer
basis points (`*_bp`), quantities are integer ten-thousandths (`cnt_e4`) and unit prices integer
millionths of a yuan (`pric_e6`), so no float ever touches money. Dates are "YYYY-MM-DD" strings
(Asia/Shanghai), which sort and compare correctly as strings; "" as an end date means open-ended.
"""

from __future__ import annotations

from typing import Any

import msgspec

from medsettle.domain import codes

OPEN_END = ""  # an enddate of "" never ends


def in_period(begndate: str, enddate: str, date: str) -> bool:
    """begndate <= date <= enddate, an OPEN_END enddate never ending. Dates compare correctly as strings."""
    return begndate <= date and (enddate == OPEN_END or date <= enddate)


class Record(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False, array_like=True):
    """Base of all stored records: immutable, keyword-only, compact on disk.

    array_like: a record is stored as an array of its values in field order, not a map repeating every field's
    name (a 10-line settlement: 2.3 KB instead of 5 KB). So a field is only ever added at the END of a record, with
    a default: older records, shorter arrays, then read with that default. Trailing defaults are left out.

    gc=False: the cyclic garbage collector does not track records. Their fields are strings, integers and tuples
    of other frozen records, so they can never be part of a reference cycle, and a bulk push or a 1,000-line
    claim allocates tens of thousands of them: each collection pass used to walk them all."""


class Document(Record, array_like=False):
    """A record whose byte form is also a document for people and other systems (a clearing statement's canonical
    JSON): fields by name, so the document reads on its own and keeps its bytes across releases."""


# --- reference data -----------------------------------------------------------------------------


class InsuranceLine(Record, kw_only=True):
    """One insurance the person holds (参保信息): 险种, 人员类别, 参保状态, 参保地."""

    insutype: str
    psn_type: str  # person group: codes.PSN_GROUPS
    psn_insu_stas: str  # "1" normal
    insuplc_admdvs: str
    acct_balc_fen: int = 0  # personal account balance (employees)


class Person(Record, kw_only=True):
    psn_no: str
    psn_name: str
    gend: str  # "1" male, "2" female
    brdy: str  # birth date YYYY-MM-DD
    certno: str  # ID number (居民身份证号); never logged unmasked
    card_no: str = ""  # social security card number
    card_sn: str = ""  # card identification code (卡识别码)
    card_activated: bool = True
    evoucher_token: str = ""  # e-voucher (医保电子凭证) token
    insu_lines: tuple[InsuranceLine, ...] = ()

    def line(self, insutype: str) -> InsuranceLine | None:
        for insu_line in self.insu_lines:
            if insu_line.insutype == insutype:
                return insu_line
        return None


class Institution(Record, kw_only=True):
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str  # region of the institution = place of treatment
    hosp_lv: str  # codes.HOSP_LEVELS
    networked_inpatient: bool = True
    networked_outpatient: bool = True
    networked_chronic: bool = True
    begndate: str = "1900-01-01"
    enddate: str = OPEN_END


class CatalogItem(Record, kw_only=True):
    """An item of the catalog of a place of treatment (就医地目录), one effective-dated version."""

    med_list_codg: str
    name: str
    list_type: str  # codes.LIST_TYPES
    chrgitm_lv: str  # "01" A, "02" B, "03" C
    selfpay_prop_bp: int = 0  # class B: share paid first by the person
    pric_uplmt_amt_fen: int = 0  # price ceiling per unit; 0 = no ceiling
    lmt_sex: str = ""  # "" any, "1" male only, "2" female only
    lmt_age_min: int = -1  # -1 = no bound (years, inclusive)
    lmt_age_max: int = -1
    lmt_setting: str = ""  # codes.SETTING_*
    lmt_dise_codes: tuple[str, ...] = ()  # limited to these diagnoses
    lmt_cnt_per_day_e4: int = 0  # quantity limit per day; 0 = none
    begndate: str
    enddate: str = OPEN_END

    @property
    def restricted(self) -> bool:
        return bool(
            self.lmt_sex
            or self.lmt_age_min >= 0
            or self.lmt_age_max >= 0
            or self.lmt_setting
            or self.lmt_dise_codes
            or self.lmt_cnt_per_day_e4
        )


class RatioBand(Record, kw_only=True):
    """Pooled-fund ratio for the part of the eligible amount up to `upto_fen` (0 = no upper end)."""

    upto_fen: int
    ratio_bp: int


class DiseaseCap(Record, kw_only=True):
    opsp_dise_code: str
    cap_fen: int


class Policy(Record, kw_only=True):
    """One row of the policy of an insured place (参保地政策), effective-dated.

    Chosen by insured region, insutype, category, person group and institution level.
    """

    insuplc_admdvs: str
    insutype: str
    category: str  # codes.CATEGORIES
    psn_type: str  # codes.PSN_GROUPS
    hosp_lv: str  # codes.HOSP_LEVELS
    begndate: str
    enddate: str = OPEN_END
    dedc_fen: int  # deductible: per year (outpatient, chronic) or per admission (inpatient)
    dedc_later_fen: int = -1  # inpatient: deductible of later admissions in the year; -1 = same
    bands: tuple[RatioBand, ...]
    cap_category_fen: int  # annual pooled-fund cap of this category
    cap_overall_fen: int  # annual pooled-fund cap over all categories
    dise_caps: tuple[DiseaseCap, ...] = ()  # chronic: annual cap per disease
    reduction_mode: str = "1"  # codes.REDUCTION_MODES
    reduction_referral_bp: int = 0
    reduction_emergency_bp: int = 0
    reduction_other_bp: int = 0
    # Second layer. Employees: large-amount subsidy on eligible amount above the basic cap.
    hifob_ratio_bp: int = 0
    hifob_cap_fen: int = 0
    # Residents: critical-illness insurance on the year's in-scope personal burden above a threshold.
    hifmi_threshold_fen: int = 0
    hifmi_bands: tuple[RatioBand, ...] = ()
    hifmi_cap_fen: int = 0
    acct_pay_allowed: bool = False

    def dise_cap_fen(self, dise_code: str) -> int | None:
        for cap in self.dise_caps:
            if cap.opsp_dise_code == dise_code:
                return cap.cap_fen
        return None


class InsuredPlace(Record, kw_only=True):
    """Parameters of an insured place (province) that are not settlement arithmetic, effective-dated."""

    insuplc_admdvs: str
    begndate: str
    enddate: str = OPEN_END
    open_med_types: tuple[str, ...]  # medical types opened cross-province
    open_dise_codes: tuple[str, ...]  # chronic diseases opened cross-province
    tmp_filing_months: int = 6  # validity of a temporary filing, at least 6
    longterm_lock_months: int = 6  # a long-term filing cannot change for this long, at most 6


# --- person events ------------------------------------------------------------------------------


class Filing(Record, kw_only=True):
    """A filing (备案) for care in a region of treatment."""

    trt_dcla_detl_sn: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str  # province ("xx0000") or city ("xxxx00") of treatment
    category: str  # codes.FILING_CATEGORIES
    begndate: str
    enddate: str = OPEN_END  # long-term filings are indefinite
    reflin_medins_no: str = ""  # referral: receiving institution
    fixmedins_code: str = ""  # referral: referring institution that filed it
    created_date: str = ""
    revoked_date: str = ""  # "" = in force


class ChronicQualification(Record, kw_only=True):
    """Qualification for an outpatient chronic or special disease (门诊慢特病待遇认定)."""

    psn_no: str
    insutype: str
    opsp_dise_code: str
    insuplc_admdvs: str
    begndate: str
    enddate: str = OPEN_END
    revoked_date: str = ""


class Accumulators(Record, kw_only=True):
    """Year-to-date accumulators (累计信息, 5206) of one person, one insutype, one calendar year.

    The same shape is used for the change one settlement makes (its delta), so that a reversal
    subtracts exactly what the settlement added.
    """

    dedc_outpatient_fen: int = 0
    dedc_chronic_fen: int = 0
    hifp_outpatient_fen: int = 0
    hifp_chronic_fen: int = 0
    hifp_inpatient_fen: int = 0
    hifp_overall_fen: int = 0
    dise_hifp: tuple[DiseaseCap, ...] = ()  # pooled fund paid per chronic disease
    hifob_fen: int = 0
    hifmi_fen: int = 0
    inscp_burden_fen: int = 0  # in-scope personal burden (critical-illness base)
    visits_outpatient: int = 0
    visits_chronic: int = 0
    admissions_inpatient: int = 0

    def dise_paid_fen(self, dise_code: str) -> int:
        for paid in self.dise_hifp:
            if paid.opsp_dise_code == dise_code:
                return paid.cap_fen
        return 0


ACCUMULATOR_INT_FIELDS = tuple(
    name for name in Accumulators.__struct_fields__ if name != "dise_hifp"
)


def add_accumulators(base: Accumulators, delta: Accumulators, sign: int = 1) -> Accumulators:
    """base + sign * delta, field by field."""
    assert sign in (1, -1)
    values: dict[str, Any] = {name: getattr(base, name) + sign * getattr(delta, name)
                              for name in ACCUMULATOR_INT_FIELDS}
    if not delta.dise_hifp:  # all but chronic-disease settlements: the base's entries stand (sorted, none zero)
        return Accumulators(**values, dise_hifp=base.dise_hifp)
    dise: dict[str, int] = {paid.opsp_dise_code: paid.cap_fen for paid in base.dise_hifp}
    for paid in delta.dise_hifp:
        dise[paid.opsp_dise_code] = dise.get(paid.opsp_dise_code, 0) + sign * paid.cap_fen
    values["dise_hifp"] = tuple(
        DiseaseCap(opsp_dise_code=code, cap_fen=fen) for code, fen in sorted(dise.items()) if fen
    )
    return Accumulators(**values)


# --- claims and settlements ---------------------------------------------------------------------


class FeeLine(Record, kw_only=True):
    """A fee line (费用明细) as the institution uploads it."""

    feedetl_sn: str
    med_list_codg: str
    cnt_e4: int  # quantity × 10^4
    pric_e6: int  # unit price in millionths of a yuan
    det_item_fee_sumamt_fen: int
    fee_ocur_date: str  # date the fee occurred: selects the catalog version


class Claim(Record, kw_only=True):
    """Everything about one settlement request that is not looked up from reference data."""

    psn_no: str
    insutype: str
    med_type: str
    fixmedins_code: str
    mdtrtarea_admvs: str  # region of the institution
    setl_date: str  # selects policy, filing, accumulator year
    dise_codg: str = ""  # chronic: the qualified disease; also checked by diagnosis restrictions
    lines: tuple[FeeLine, ...]
    acct_used_flag: bool = False
    medfee_sumamt_fen: int = -1  # total the institution claims; -1 = not given


class LineResult(Record, kw_only=True):
    feedetl_sn: str
    med_list_codg: str
    det_item_fee_sumamt_fen: int
    fulamt_ownpay_amt_fen: int
    overlmt_amt_fen: int
    preselfpay_amt_fen: int
    inscp_scp_amt_fen: int
    chrgitm_lv: str
    selfpay_prop_bp: int
    pric_uplmt_amt_fen: int
    lmt_reason: str = ""  # restriction not met: codes in domain.catalog_split
    catalog_begndate: str = ""  # catalog version used


class FundPayment(Record, kw_only=True):
    """One line of setldetail: a fund's payment and what was left of its cap."""

    fund_pay_type: str
    fund_payamt_fen: int
    crt_payb_lmt_amt_fen: int  # remaining cap before this payment


class ExplanationStep(Record, kw_only=True):
    """One ordered step of why the numbers are what they are."""

    code: str
    zh: str
    en: str
    amount_fen: int = 0


class ItemDayQuantity(Record, kw_only=True):
    """Quantity of an item with a daily limit (lmt_cnt_per_day) charged to the person on one fee date."""

    med_list_codg: str
    fee_date: str
    cnt_e4: int  # negative on a reversal


class Settlement(Record, kw_only=True):
    setl_id: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    med_type: str
    fixmedins_code: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    setl_date: str
    setl_time_ms: int  # instant of settlement, ms since epoch (UTC)
    filing_category: str  # "" when none was needed (never for cross-province), "22" emergency deemed filed
    trt_dcla_detl_sn: str = ""
    dise_codg: str = ""
    clr_type: str
    medfee_sumamt_fen: int
    fulamt_ownpay_amt_fen: int
    overlmt_selfpay_fen: int
    preselfpay_amt_fen: int
    inscp_scp_amt_fen: int
    act_pay_dedc_fen: int
    hifp_pay_fen: int
    pool_prop_selfpay_bp: int
    hifob_pay_fen: int
    hifmi_pay_fen: int
    fund_pay_sumamt_fen: int
    psn_part_amt_fen: int
    hosp_part_amt_fen: int = 0
    acct_pay_fen: int
    psn_cash_pay_fen: int
    balc_fen: int  # account balance after
    setldetail: tuple[FundPayment, ...] = ()
    lines: tuple[LineResult, ...] = ()
    explanation: tuple[ExplanationStep, ...] = ()
    accumulator_delta: Accumulators = Accumulators()
    accumulator_year: int
    admission_dedc_fen: int = 0  # inpatient: deductible paid by this settlement toward the admission
    admission_eligible_fen: int = 0  # inpatient: eligible amount this settlement added to the admission's bands
    policy_key: str = ""  # which policy row and version
    reversed_setl_id: str = ""  # on a reversing settlement: the one it reverses
    reversal_setl_id: str = ""  # on a reversed settlement: the reversal (set when reversed)
    feedetl_sns: tuple[str, ...] = ()  # inpatient: lines this settlement covered
    limited_quantities: tuple[ItemDayQuantity, ...] = ()  # what later settlements of the day count against limits


class Stay(Record, kw_only=True):
    """An inpatient stay (住院就诊), from admission (2401) to discharge (2402)."""

    mdtrt_id: str
    psn_no: str
    insutype: str
    med_type: str
    fixmedins_code: str
    mdtrtarea_admvs: str
    begndate: str  # admission date: a retroactive filing may start from it
    dise_codg: str = ""
    enddate: str = ""  # discharge date; "" while in hospital
    admission_dedc_paid_fen: int = 0  # deductible already paid toward this admission
    admission_eligible_fen: int = 0  # eligible amount already settled for this admission: its ratio bands go on from it
    admission_counted: bool = False  # a settlement in force counted this admission in the accumulators
    line_count: int = 0  # lines held (settled or not)
    settled_count: int = 0  # settlements in force (not reversed)


def stay_after(stay: Stay, setl: Settlement) -> Stay:
    """The stay once `setl`, a settlement of it or the reversal of one (negative amounts), is in the books."""
    counted = setl.accumulator_delta.admissions_inpatient  # +1: counts the admission; -1: its reversal uncounts it
    return msgspec.structs.replace(
        stay,
        admission_dedc_paid_fen=stay.admission_dedc_paid_fen + setl.admission_dedc_fen,
        admission_eligible_fen=stay.admission_eligible_fen + setl.admission_eligible_fen,
        admission_counted=counted > 0 or (stay.admission_counted and counted == 0),
        settled_count=stay.settled_count + (-1 if setl.reversed_setl_id else 1),
    )


def check_identities(setl: Settlement) -> None:
    """DOMAIN.md 6.4: assert on every settlement and every reversal."""
    assert setl.medfee_sumamt_fen == (
        setl.fulamt_ownpay_amt_fen + setl.overlmt_selfpay_fen + setl.preselfpay_amt_fen + setl.inscp_scp_amt_fen
    ), "medfee split"
    assert setl.fund_pay_sumamt_fen == setl.hifp_pay_fen + setl.hifob_pay_fen + setl.hifmi_pay_fen, "fund sum"
    assert setl.medfee_sumamt_fen == setl.fund_pay_sumamt_fen + setl.psn_part_amt_fen + setl.hosp_part_amt_fen, "parts"
    assert setl.psn_part_amt_fen == setl.acct_pay_fen + setl.psn_cash_pay_fen, "person part"
    funds = sum(p.fund_payamt_fen for p in setl.setldetail if p.fund_pay_type != codes.FUND_EMPLOYEE_ACCOUNT)
    account = sum(p.fund_payamt_fen for p in setl.setldetail if p.fund_pay_type == codes.FUND_EMPLOYEE_ACCOUNT)
    assert funds == setl.fund_pay_sumamt_fen, "setldetail funds"
    assert account == setl.acct_pay_fen, "setldetail account"
