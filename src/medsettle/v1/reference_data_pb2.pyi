import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CatalogItem(_message.Message):
    __slots__ = ("med_list_codg", "name", "list_type", "chrgitm_lv", "selfpay_prop", "pric_uplmt_amt", "lmt_used_flag", "lmt_sex", "lmt_age_min", "lmt_age_max", "lmt_setting", "lmt_dise_codes", "lmt_cnt_per_day", "begndate", "enddate")
    MED_LIST_CODG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIST_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHRGITM_LV_FIELD_NUMBER: _ClassVar[int]
    SELFPAY_PROP_FIELD_NUMBER: _ClassVar[int]
    PRIC_UPLMT_AMT_FIELD_NUMBER: _ClassVar[int]
    LMT_USED_FLAG_FIELD_NUMBER: _ClassVar[int]
    LMT_SEX_FIELD_NUMBER: _ClassVar[int]
    LMT_AGE_MIN_FIELD_NUMBER: _ClassVar[int]
    LMT_AGE_MAX_FIELD_NUMBER: _ClassVar[int]
    LMT_SETTING_FIELD_NUMBER: _ClassVar[int]
    LMT_DISE_CODES_FIELD_NUMBER: _ClassVar[int]
    LMT_CNT_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    med_list_codg: str
    name: str
    list_type: str
    chrgitm_lv: str
    selfpay_prop: int
    pric_uplmt_amt: int
    lmt_used_flag: bool
    lmt_sex: str
    lmt_age_min: int
    lmt_age_max: int
    lmt_setting: str
    lmt_dise_codes: _containers.RepeatedScalarFieldContainer[str]
    lmt_cnt_per_day: str
    begndate: str
    enddate: str
    def __init__(self, med_list_codg: _Optional[str] = ..., name: _Optional[str] = ..., list_type: _Optional[str] = ..., chrgitm_lv: _Optional[str] = ..., selfpay_prop: _Optional[int] = ..., pric_uplmt_amt: _Optional[int] = ..., lmt_used_flag: _Optional[bool] = ..., lmt_sex: _Optional[str] = ..., lmt_age_min: _Optional[int] = ..., lmt_age_max: _Optional[int] = ..., lmt_setting: _Optional[str] = ..., lmt_dise_codes: _Optional[_Iterable[str]] = ..., lmt_cnt_per_day: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ...) -> None: ...

class RatioBand(_message.Message):
    __slots__ = ("upto", "ratio")
    UPTO_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    upto: int
    ratio: int
    def __init__(self, upto: _Optional[int] = ..., ratio: _Optional[int] = ...) -> None: ...

class DiseaseCap(_message.Message):
    __slots__ = ("opsp_dise_code", "cap")
    OPSP_DISE_CODE_FIELD_NUMBER: _ClassVar[int]
    CAP_FIELD_NUMBER: _ClassVar[int]
    opsp_dise_code: str
    cap: int
    def __init__(self, opsp_dise_code: _Optional[str] = ..., cap: _Optional[int] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("insuplc_admdvs", "insutype", "category", "psn_type", "hosp_lv", "begndate", "enddate", "dedc", "dedc_later", "bands", "cap_category", "cap_overall", "dise_caps", "reduction_mode", "reduction_referral", "reduction_emergency", "reduction_other", "hifob_ratio", "hifob_cap", "hifmi_threshold", "hifmi_bands", "hifmi_cap", "acct_pay_allowed")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PSN_TYPE_FIELD_NUMBER: _ClassVar[int]
    HOSP_LV_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    DEDC_FIELD_NUMBER: _ClassVar[int]
    DEDC_LATER_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    CAP_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CAP_OVERALL_FIELD_NUMBER: _ClassVar[int]
    DISE_CAPS_FIELD_NUMBER: _ClassVar[int]
    REDUCTION_MODE_FIELD_NUMBER: _ClassVar[int]
    REDUCTION_REFERRAL_FIELD_NUMBER: _ClassVar[int]
    REDUCTION_EMERGENCY_FIELD_NUMBER: _ClassVar[int]
    REDUCTION_OTHER_FIELD_NUMBER: _ClassVar[int]
    HIFOB_RATIO_FIELD_NUMBER: _ClassVar[int]
    HIFOB_CAP_FIELD_NUMBER: _ClassVar[int]
    HIFMI_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    HIFMI_BANDS_FIELD_NUMBER: _ClassVar[int]
    HIFMI_CAP_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    insutype: str
    category: str
    psn_type: str
    hosp_lv: str
    begndate: str
    enddate: str
    dedc: int
    dedc_later: int
    bands: _containers.RepeatedCompositeFieldContainer[RatioBand]
    cap_category: int
    cap_overall: int
    dise_caps: _containers.RepeatedCompositeFieldContainer[DiseaseCap]
    reduction_mode: str
    reduction_referral: int
    reduction_emergency: int
    reduction_other: int
    hifob_ratio: int
    hifob_cap: int
    hifmi_threshold: int
    hifmi_bands: _containers.RepeatedCompositeFieldContainer[RatioBand]
    hifmi_cap: int
    acct_pay_allowed: bool
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., insutype: _Optional[str] = ..., category: _Optional[str] = ..., psn_type: _Optional[str] = ..., hosp_lv: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., dedc: _Optional[int] = ..., dedc_later: _Optional[int] = ..., bands: _Optional[_Iterable[_Union[RatioBand, _Mapping]]] = ..., cap_category: _Optional[int] = ..., cap_overall: _Optional[int] = ..., dise_caps: _Optional[_Iterable[_Union[DiseaseCap, _Mapping]]] = ..., reduction_mode: _Optional[str] = ..., reduction_referral: _Optional[int] = ..., reduction_emergency: _Optional[int] = ..., reduction_other: _Optional[int] = ..., hifob_ratio: _Optional[int] = ..., hifob_cap: _Optional[int] = ..., hifmi_threshold: _Optional[int] = ..., hifmi_bands: _Optional[_Iterable[_Union[RatioBand, _Mapping]]] = ..., hifmi_cap: _Optional[int] = ..., acct_pay_allowed: _Optional[bool] = ...) -> None: ...

class InsuredPlace(_message.Message):
    __slots__ = ("insuplc_admdvs", "begndate", "enddate", "open_med_types", "open_dise_codes", "tmp_filing_months", "longterm_lock_months")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    OPEN_MED_TYPES_FIELD_NUMBER: _ClassVar[int]
    OPEN_DISE_CODES_FIELD_NUMBER: _ClassVar[int]
    TMP_FILING_MONTHS_FIELD_NUMBER: _ClassVar[int]
    LONGTERM_LOCK_MONTHS_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    begndate: str
    enddate: str
    open_med_types: _containers.RepeatedScalarFieldContainer[str]
    open_dise_codes: _containers.RepeatedScalarFieldContainer[str]
    tmp_filing_months: int
    longterm_lock_months: int
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., open_med_types: _Optional[_Iterable[str]] = ..., open_dise_codes: _Optional[_Iterable[str]] = ..., tmp_filing_months: _Optional[int] = ..., longterm_lock_months: _Optional[int] = ...) -> None: ...

class Institution(_message.Message):
    __slots__ = ("fixmedins_code", "fixmedins_name", "admdvs", "hosp_lv", "networked_inpatient", "networked_outpatient", "networked_chronic")
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_NAME_FIELD_NUMBER: _ClassVar[int]
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    HOSP_LV_FIELD_NUMBER: _ClassVar[int]
    NETWORKED_INPATIENT_FIELD_NUMBER: _ClassVar[int]
    NETWORKED_OUTPATIENT_FIELD_NUMBER: _ClassVar[int]
    NETWORKED_CHRONIC_FIELD_NUMBER: _ClassVar[int]
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    hosp_lv: str
    networked_inpatient: bool
    networked_outpatient: bool
    networked_chronic: bool
    def __init__(self, fixmedins_code: _Optional[str] = ..., fixmedins_name: _Optional[str] = ..., admdvs: _Optional[str] = ..., hosp_lv: _Optional[str] = ..., networked_inpatient: _Optional[bool] = ..., networked_outpatient: _Optional[bool] = ..., networked_chronic: _Optional[bool] = ...) -> None: ...

class InsuranceInfo(_message.Message):
    __slots__ = ("insutype", "psn_type", "psn_insu_stas", "insuplc_admdvs", "balc")
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    PSN_TYPE_FIELD_NUMBER: _ClassVar[int]
    PSN_INSU_STAS_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    BALC_FIELD_NUMBER: _ClassVar[int]
    insutype: str
    psn_type: str
    psn_insu_stas: str
    insuplc_admdvs: str
    balc: int
    def __init__(self, insutype: _Optional[str] = ..., psn_type: _Optional[str] = ..., psn_insu_stas: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., balc: _Optional[int] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("psn_no", "psn_name", "gend", "brdy", "certno", "card_no", "card_sn", "card_activated", "evoucher_token", "insuinfo")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    PSN_NAME_FIELD_NUMBER: _ClassVar[int]
    GEND_FIELD_NUMBER: _ClassVar[int]
    BRDY_FIELD_NUMBER: _ClassVar[int]
    CERTNO_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_SN_FIELD_NUMBER: _ClassVar[int]
    CARD_ACTIVATED_FIELD_NUMBER: _ClassVar[int]
    EVOUCHER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INSUINFO_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    psn_name: str
    gend: str
    brdy: str
    certno: str
    card_no: str
    card_sn: str
    card_activated: bool
    evoucher_token: str
    insuinfo: _containers.RepeatedCompositeFieldContainer[InsuranceInfo]
    def __init__(self, psn_no: _Optional[str] = ..., psn_name: _Optional[str] = ..., gend: _Optional[str] = ..., brdy: _Optional[str] = ..., certno: _Optional[str] = ..., card_no: _Optional[str] = ..., card_sn: _Optional[str] = ..., card_activated: _Optional[bool] = ..., evoucher_token: _Optional[str] = ..., insuinfo: _Optional[_Iterable[_Union[InsuranceInfo, _Mapping]]] = ...) -> None: ...

class PutCatalogItemsRequest(_message.Message):
    __slots__ = ("request_id", "mdtrtarea_admvs", "items", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    mdtrtarea_admvs: str
    items: _containers.RepeatedCompositeFieldContainer[CatalogItem]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., items: _Optional[_Iterable[_Union[CatalogItem, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutCatalogItemsResponse(_message.Message):
    __slots__ = ("items_written", "items_unchanged")
    ITEMS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    items_written: int
    items_unchanged: int
    def __init__(self, items_written: _Optional[int] = ..., items_unchanged: _Optional[int] = ...) -> None: ...

class PutPoliciesRequest(_message.Message):
    __slots__ = ("request_id", "policies", "insured_places", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    INSURED_PLACES_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    insured_places: _containers.RepeatedCompositeFieldContainer[InsuredPlace]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ..., insured_places: _Optional[_Iterable[_Union[InsuredPlace, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutPoliciesResponse(_message.Message):
    __slots__ = ("policies_written", "insured_places_written", "policies_unchanged", "insured_places_unchanged")
    POLICIES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    INSURED_PLACES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    POLICIES_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    INSURED_PLACES_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    policies_written: int
    insured_places_written: int
    policies_unchanged: int
    insured_places_unchanged: int
    def __init__(self, policies_written: _Optional[int] = ..., insured_places_written: _Optional[int] = ..., policies_unchanged: _Optional[int] = ..., insured_places_unchanged: _Optional[int] = ...) -> None: ...

class PutInstitutionsRequest(_message.Message):
    __slots__ = ("request_id", "institutions", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTIONS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    institutions: _containers.RepeatedCompositeFieldContainer[Institution]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., institutions: _Optional[_Iterable[_Union[Institution, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutInstitutionsResponse(_message.Message):
    __slots__ = ("institutions_written", "institutions_unchanged")
    INSTITUTIONS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    INSTITUTIONS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    institutions_written: int
    institutions_unchanged: int
    def __init__(self, institutions_written: _Optional[int] = ..., institutions_unchanged: _Optional[int] = ...) -> None: ...

class PutPersonsRequest(_message.Message):
    __slots__ = ("request_id", "persons", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSONS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    persons: _containers.RepeatedCompositeFieldContainer[Person]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., persons: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutPersonsResponse(_message.Message):
    __slots__ = ("persons_written", "persons_unchanged", "persons_in_directory")
    PERSONS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    PERSONS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    PERSONS_IN_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    persons_written: int
    persons_unchanged: int
    persons_in_directory: int
    def __init__(self, persons_written: _Optional[int] = ..., persons_unchanged: _Optional[int] = ..., persons_in_directory: _Optional[int] = ...) -> None: ...

class CatalogItemKey(_message.Message):
    __slots__ = ("mdtrtarea_admvs", "med_list_codg")
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    MED_LIST_CODG_FIELD_NUMBER: _ClassVar[int]
    mdtrtarea_admvs: str
    med_list_codg: str
    def __init__(self, mdtrtarea_admvs: _Optional[str] = ..., med_list_codg: _Optional[str] = ...) -> None: ...

class PolicyKey(_message.Message):
    __slots__ = ("insuplc_admdvs", "insutype", "category", "psn_type", "hosp_lv")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PSN_TYPE_FIELD_NUMBER: _ClassVar[int]
    HOSP_LV_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    insutype: str
    category: str
    psn_type: str
    hosp_lv: str
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., insutype: _Optional[str] = ..., category: _Optional[str] = ..., psn_type: _Optional[str] = ..., hosp_lv: _Optional[str] = ...) -> None: ...

class WithdrawVersionRequest(_message.Message):
    __slots__ = ("request_id", "catalog_item", "policy", "insured_place", "begndate", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    INSURED_PLACE_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    catalog_item: CatalogItemKey
    policy: PolicyKey
    insured_place: str
    begndate: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., catalog_item: _Optional[_Union[CatalogItemKey, _Mapping]] = ..., policy: _Optional[_Union[PolicyKey, _Mapping]] = ..., insured_place: _Optional[str] = ..., begndate: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawVersionResponse(_message.Message):
    __slots__ = ("extended_begndate", "extended_enddate")
    EXTENDED_BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_ENDDATE_FIELD_NUMBER: _ClassVar[int]
    extended_begndate: str
    extended_enddate: str
    def __init__(self, extended_begndate: _Optional[str] = ..., extended_enddate: _Optional[str] = ...) -> None: ...

class GetCatalogItemRequest(_message.Message):
    __slots__ = ("mdtrtarea_admvs", "med_list_codg", "date")
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    MED_LIST_CODG_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    mdtrtarea_admvs: str
    med_list_codg: str
    date: str
    def __init__(self, mdtrtarea_admvs: _Optional[str] = ..., med_list_codg: _Optional[str] = ..., date: _Optional[str] = ...) -> None: ...

class GetCatalogItemResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: CatalogItem
    def __init__(self, item: _Optional[_Union[CatalogItem, _Mapping]] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("insuplc_admdvs", "insutype", "category", "psn_type", "hosp_lv", "date")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PSN_TYPE_FIELD_NUMBER: _ClassVar[int]
    HOSP_LV_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    insutype: str
    category: str
    psn_type: str
    hosp_lv: str
    date: str
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., insutype: _Optional[str] = ..., category: _Optional[str] = ..., psn_type: _Optional[str] = ..., hosp_lv: _Optional[str] = ..., date: _Optional[str] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class ListAuditEntriesRequest(_message.Message):
    __slots__ = ("since", "limit", "method", "who")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    WHO_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    limit: int
    method: str
    who: str
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., method: _Optional[str] = ..., who: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("who", "when", "method", "what", "request_id")
    WHO_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    who: str
    when: _timestamp_pb2.Timestamp
    method: str
    what: str
    request_id: str
    def __init__(self, who: _Optional[str] = ..., when: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., method: _Optional[str] = ..., what: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListAuditEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...
