"""National code tables (DOMAIN.md section 3) and the project's own small code tables.

Codes stay strings exactly as they travel on the wire ("310", "11", "01"); the sets below are
the values the core accepts. Meanings are kept beside them so error messages can name them.
"""

from __future__ import annotations

# insutype: 险种类型
INSUTYPE_EMPLOYEE = "310"
INSUTYPE_RESIDENT = "390"
INSUTYPES = frozenset({INSUTYPE_EMPLOYEE, INSUTYPE_RESIDENT})

# med_type: 医疗类别
MED_TYPE_GENERAL_OUTPATIENT = "11"
MED_TYPE_EMERGENCY_OUTPATIENT = "13"
MED_TYPE_CHRONIC_OUTPATIENT = "14"
MED_TYPE_INPATIENT = "21"
MED_TYPE_EMERGENCY_TO_INPATIENT = "24"
OUTPATIENT_MED_TYPES = frozenset({"11", "13", "14"})
INPATIENT_MED_TYPES = frozenset({"21", "24"})
EMERGENCY_MED_TYPES = frozenset({"13", "24"})
MED_TYPES = OUTPATIENT_MED_TYPES | INPATIENT_MED_TYPES

# Policy category (医疗类别大类): which policy row and which accumulators a med_type uses.
CATEGORY_OUTPATIENT = "1"
CATEGORY_CHRONIC = "2"
CATEGORY_INPATIENT = "3"
CATEGORIES = frozenset({CATEGORY_OUTPATIENT, CATEGORY_CHRONIC, CATEGORY_INPATIENT})


def category_of(med_type: str) -> str:
    """Policy category of a medical type."""
    if med_type == MED_TYPE_CHRONIC_OUTPATIENT:
        return CATEGORY_CHRONIC
    if med_type in INPATIENT_MED_TYPES:
        return CATEGORY_INPATIENT
    assert med_type in OUTPATIENT_MED_TYPES, med_type
    return CATEGORY_OUTPATIENT


# mdtrt_cert_type: 就诊凭证类型
CERT_EVOUCHER = "01"
CERT_ID_CARD = "02"
CERT_SOCIAL_CARD = "03"
CERT_TYPES = frozenset({CERT_EVOUCHER, CERT_ID_CARD, CERT_SOCIAL_CARD})

# chrgitm_lv: 收费项目等级
CLASS_A = "01"
CLASS_B = "02"
CLASS_C = "03"
ITEM_CLASSES = frozenset({CLASS_A, CLASS_B, CLASS_C})

# list_type: 目录类别 (western drug, Chinese patent drug, herbal piece, service item, consumable)
LIST_TYPES = frozenset({"101", "102", "103", "201", "301"})

# psn_insu_stas: 参保状态. Only "1" allows direct settlement.
INSU_STATUS_NORMAL = "1"

# psn_type (person group for policy selection): our table, documented in the contract.
PSN_GROUP_IN_SERVICE = "11"  # 在职职工
PSN_GROUP_RETIRED = "12"  # 退休人员
PSN_GROUP_RESIDENT = "13"  # 城乡居民
PSN_GROUPS = frozenset({PSN_GROUP_IN_SERVICE, PSN_GROUP_RETIRED, PSN_GROUP_RESIDENT})

# hosp_lv: institution level for policy selection: 0 primary (基层), 1/2/3 level one to three.
HOSP_LEVELS = frozenset({"0", "1", "2", "3"})

# Filing categories (备案类别): our two-digit table; 1x long-term, 2x temporary.
FILING_RELOCATED_RETIREE = "11"  # 异地安置退休
FILING_LONG_TERM_RESIDENT = "12"  # 异地长期居住
FILING_STATIONED_WORKER = "13"  # 常驻异地工作
FILING_REFERRAL = "21"  # 异地转诊
FILING_EMERGENCY = "22"  # 异地急诊抢救
FILING_OTHER_TEMPORARY = "23"  # 其他临时外出
LONG_TERM_FILINGS = frozenset({"11", "12", "13"})
TEMPORARY_FILINGS = frozenset({"21", "22", "23"})
FILING_CATEGORIES = LONG_TERM_FILINGS | TEMPORARY_FILINGS
FILING_NAMES = {
    "11": ("异地安置退休", "relocated retiree"),
    "12": ("异地长期居住", "long-term resident"),
    "13": ("常驻异地工作", "stationed worker"),
    "21": ("异地转诊", "referral"),
    "22": ("异地急诊抢救", "emergency"),
    "23": ("其他临时外出", "other temporary"),
}

# National ceilings on the temporary-filing reduction, in basis points (DOMAIN.md 6.2).
REDUCTION_CEILING_BP = {FILING_REFERRAL: 1000, FILING_EMERGENCY: 1000, FILING_OTHER_TEMPORARY: 2000}

# Reduction modes for temporary filings.
REDUCTION_RATIO_POINTS = "1"  # lower the ratio by N points
REDUCTION_PRESELFPAY = "2"  # move N% of the in-scope amount to preselfpay_amt
REDUCTION_MODES = frozenset({REDUCTION_RATIO_POINTS, REDUCTION_PRESELFPAY})

# fund_pay_type: 基金支付类型
FUND_EMPLOYEE_POOL = "310100"
FUND_EMPLOYEE_ACCOUNT = "310200"
FUND_EMPLOYEE_LARGE_AMOUNT = "330100"
FUND_RESIDENT_POOL = "390100"
FUND_RESIDENT_CRITICAL = "390200"

# Chronic diseases first opened cross-province (the open list itself is data, per insured place).
CHRONIC_DISEASES = {
    "M03900": ("高血压", "hypertension"),
    "M01600": ("糖尿病", "diabetes"),
    "M00503": ("恶性肿瘤门诊放化疗", "outpatient radio/chemotherapy"),
    "M07803": ("尿毒症透析(血液)", "dialysis (haemodialysis)"),
    "M07804": ("尿毒症透析(腹膜)", "dialysis (peritoneal)"),
    "M08300": ("器官移植术后抗排异", "anti-rejection after transplant"),
}

# gend: 性别
GENDER_MALE = "1"
GENDER_FEMALE = "2"

# Restricted setting of a catalog item.
SETTING_ANY = ""
SETTING_INPATIENT_ONLY = "1"
SETTING_OUTPATIENT_ONLY = "2"

# clr_type: 清算类别 — outpatient and inpatient clear separately.
CLR_TYPE_OUTPATIENT = "11"
CLR_TYPE_INPATIENT = "21"
