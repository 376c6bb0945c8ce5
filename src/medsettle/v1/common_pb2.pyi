import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Reason(_message.Message):
    __slots__ = ("code", "message_zh", "message_en", "remedy", "remedy_zh", "remedy_en")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ZH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    REMEDY_ZH_FIELD_NUMBER: _ClassVar[int]
    REMEDY_EN_FIELD_NUMBER: _ClassVar[int]
    code: str
    message_zh: str
    message_en: str
    remedy: str
    remedy_zh: str
    remedy_en: str
    def __init__(self, code: _Optional[str] = ..., message_zh: _Optional[str] = ..., message_en: _Optional[str] = ..., remedy: _Optional[str] = ..., remedy_zh: _Optional[str] = ..., remedy_en: _Optional[str] = ...) -> None: ...

class FeeLine(_message.Message):
    __slots__ = ("feedetl_sn", "med_list_codg", "cnt", "pric", "det_item_fee_sumamt", "fee_ocur_time")
    FEEDETL_SN_FIELD_NUMBER: _ClassVar[int]
    MED_LIST_CODG_FIELD_NUMBER: _ClassVar[int]
    CNT_FIELD_NUMBER: _ClassVar[int]
    PRIC_FIELD_NUMBER: _ClassVar[int]
    DET_ITEM_FEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FEE_OCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    feedetl_sn: str
    med_list_codg: str
    cnt: str
    pric: str
    det_item_fee_sumamt: int
    fee_ocur_time: str
    def __init__(self, feedetl_sn: _Optional[str] = ..., med_list_codg: _Optional[str] = ..., cnt: _Optional[str] = ..., pric: _Optional[str] = ..., det_item_fee_sumamt: _Optional[int] = ..., fee_ocur_time: _Optional[str] = ...) -> None: ...

class FeeLineResult(_message.Message):
    __slots__ = ("feedetl_sn", "med_list_codg", "det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt", "chrgitm_lv", "selfpay_prop", "pric_uplmt_amt", "lmt_reason", "catalog_begndate")
    FEEDETL_SN_FIELD_NUMBER: _ClassVar[int]
    MED_LIST_CODG_FIELD_NUMBER: _ClassVar[int]
    DET_ITEM_FEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FULAMT_OWNPAY_AMT_FIELD_NUMBER: _ClassVar[int]
    OVERLMT_AMT_FIELD_NUMBER: _ClassVar[int]
    PRESELFPAY_AMT_FIELD_NUMBER: _ClassVar[int]
    INSCP_SCP_AMT_FIELD_NUMBER: _ClassVar[int]
    CHRGITM_LV_FIELD_NUMBER: _ClassVar[int]
    SELFPAY_PROP_FIELD_NUMBER: _ClassVar[int]
    PRIC_UPLMT_AMT_FIELD_NUMBER: _ClassVar[int]
    LMT_REASON_FIELD_NUMBER: _ClassVar[int]
    CATALOG_BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    feedetl_sn: str
    med_list_codg: str
    det_item_fee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    chrgitm_lv: str
    selfpay_prop: int
    pric_uplmt_amt: int
    lmt_reason: str
    catalog_begndate: str
    def __init__(self, feedetl_sn: _Optional[str] = ..., med_list_codg: _Optional[str] = ..., det_item_fee_sumamt: _Optional[int] = ..., fulamt_ownpay_amt: _Optional[int] = ..., overlmt_amt: _Optional[int] = ..., preselfpay_amt: _Optional[int] = ..., inscp_scp_amt: _Optional[int] = ..., chrgitm_lv: _Optional[str] = ..., selfpay_prop: _Optional[int] = ..., pric_uplmt_amt: _Optional[int] = ..., lmt_reason: _Optional[str] = ..., catalog_begndate: _Optional[str] = ...) -> None: ...

class FundPayment(_message.Message):
    __slots__ = ("fund_pay_type", "fund_payamt", "crt_payb_lmt_amt")
    FUND_PAY_TYPE_FIELD_NUMBER: _ClassVar[int]
    FUND_PAYAMT_FIELD_NUMBER: _ClassVar[int]
    CRT_PAYB_LMT_AMT_FIELD_NUMBER: _ClassVar[int]
    fund_pay_type: str
    fund_payamt: int
    crt_payb_lmt_amt: int
    def __init__(self, fund_pay_type: _Optional[str] = ..., fund_payamt: _Optional[int] = ..., crt_payb_lmt_amt: _Optional[int] = ...) -> None: ...

class ExplanationStep(_message.Message):
    __slots__ = ("code", "text_zh", "text_en", "amount")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TEXT_ZH_FIELD_NUMBER: _ClassVar[int]
    TEXT_EN_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    code: str
    text_zh: str
    text_en: str
    amount: int
    def __init__(self, code: _Optional[str] = ..., text_zh: _Optional[str] = ..., text_en: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class Accumulators(_message.Message):
    __slots__ = ("year", "insutype", "dedc_outpatient", "dedc_chronic", "hifp_outpatient", "hifp_chronic", "hifp_inpatient", "hifp_overall", "hifp_by_disease", "hifob", "hifmi", "inscp_burden", "visits_outpatient", "visits_chronic", "admissions_inpatient")
    class HifpByDiseaseEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    YEAR_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    DEDC_OUTPATIENT_FIELD_NUMBER: _ClassVar[int]
    DEDC_CHRONIC_FIELD_NUMBER: _ClassVar[int]
    HIFP_OUTPATIENT_FIELD_NUMBER: _ClassVar[int]
    HIFP_CHRONIC_FIELD_NUMBER: _ClassVar[int]
    HIFP_INPATIENT_FIELD_NUMBER: _ClassVar[int]
    HIFP_OVERALL_FIELD_NUMBER: _ClassVar[int]
    HIFP_BY_DISEASE_FIELD_NUMBER: _ClassVar[int]
    HIFOB_FIELD_NUMBER: _ClassVar[int]
    HIFMI_FIELD_NUMBER: _ClassVar[int]
    INSCP_BURDEN_FIELD_NUMBER: _ClassVar[int]
    VISITS_OUTPATIENT_FIELD_NUMBER: _ClassVar[int]
    VISITS_CHRONIC_FIELD_NUMBER: _ClassVar[int]
    ADMISSIONS_INPATIENT_FIELD_NUMBER: _ClassVar[int]
    year: int
    insutype: str
    dedc_outpatient: int
    dedc_chronic: int
    hifp_outpatient: int
    hifp_chronic: int
    hifp_inpatient: int
    hifp_overall: int
    hifp_by_disease: _containers.ScalarMap[str, int]
    hifob: int
    hifmi: int
    inscp_burden: int
    visits_outpatient: int
    visits_chronic: int
    admissions_inpatient: int
    def __init__(self, year: _Optional[int] = ..., insutype: _Optional[str] = ..., dedc_outpatient: _Optional[int] = ..., dedc_chronic: _Optional[int] = ..., hifp_outpatient: _Optional[int] = ..., hifp_chronic: _Optional[int] = ..., hifp_inpatient: _Optional[int] = ..., hifp_overall: _Optional[int] = ..., hifp_by_disease: _Optional[_Mapping[str, int]] = ..., hifob: _Optional[int] = ..., hifmi: _Optional[int] = ..., inscp_burden: _Optional[int] = ..., visits_outpatient: _Optional[int] = ..., visits_chronic: _Optional[int] = ..., admissions_inpatient: _Optional[int] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("setl_id", "mdtrt_id", "psn_no", "insutype", "med_type", "fixmedins_code", "insuplc_admdvs", "mdtrtarea_admvs", "setl_time", "filing_category", "trt_dcla_detl_sn", "dise_codg", "clr_type", "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "pool_prop_selfpay", "hifob_pay", "hifmi_pay", "fund_pay_sumamt", "psn_part_amt", "hosp_part_amt", "acct_pay", "psn_cash_pay", "balc", "setldetail", "lines", "explanation", "reversed_setl_id", "reversal_setl_id", "setl_date")
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    MED_TYPE_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    SETL_TIME_FIELD_NUMBER: _ClassVar[int]
    FILING_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TRT_DCLA_DETL_SN_FIELD_NUMBER: _ClassVar[int]
    DISE_CODG_FIELD_NUMBER: _ClassVar[int]
    CLR_TYPE_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FULAMT_OWNPAY_AMT_FIELD_NUMBER: _ClassVar[int]
    OVERLMT_SELFPAY_FIELD_NUMBER: _ClassVar[int]
    PRESELFPAY_AMT_FIELD_NUMBER: _ClassVar[int]
    INSCP_SCP_AMT_FIELD_NUMBER: _ClassVar[int]
    ACT_PAY_DEDC_FIELD_NUMBER: _ClassVar[int]
    HIFP_PAY_FIELD_NUMBER: _ClassVar[int]
    POOL_PROP_SELFPAY_FIELD_NUMBER: _ClassVar[int]
    HIFOB_PAY_FIELD_NUMBER: _ClassVar[int]
    HIFMI_PAY_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    PSN_PART_AMT_FIELD_NUMBER: _ClassVar[int]
    HOSP_PART_AMT_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FIELD_NUMBER: _ClassVar[int]
    PSN_CASH_PAY_FIELD_NUMBER: _ClassVar[int]
    BALC_FIELD_NUMBER: _ClassVar[int]
    SETLDETAIL_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    REVERSED_SETL_ID_FIELD_NUMBER: _ClassVar[int]
    REVERSAL_SETL_ID_FIELD_NUMBER: _ClassVar[int]
    SETL_DATE_FIELD_NUMBER: _ClassVar[int]
    setl_id: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    med_type: str
    fixmedins_code: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    setl_time: _timestamp_pb2.Timestamp
    filing_category: str
    trt_dcla_detl_sn: str
    dise_codg: str
    clr_type: str
    medfee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    hifp_pay: int
    pool_prop_selfpay: int
    hifob_pay: int
    hifmi_pay: int
    fund_pay_sumamt: int
    psn_part_amt: int
    hosp_part_amt: int
    acct_pay: int
    psn_cash_pay: int
    balc: int
    setldetail: _containers.RepeatedCompositeFieldContainer[FundPayment]
    lines: _containers.RepeatedCompositeFieldContainer[FeeLineResult]
    explanation: _containers.RepeatedCompositeFieldContainer[ExplanationStep]
    reversed_setl_id: str
    reversal_setl_id: str
    setl_date: str
    def __init__(self, setl_id: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., med_type: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., setl_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., filing_category: _Optional[str] = ..., trt_dcla_detl_sn: _Optional[str] = ..., dise_codg: _Optional[str] = ..., clr_type: _Optional[str] = ..., medfee_sumamt: _Optional[int] = ..., fulamt_ownpay_amt: _Optional[int] = ..., overlmt_selfpay: _Optional[int] = ..., preselfpay_amt: _Optional[int] = ..., inscp_scp_amt: _Optional[int] = ..., act_pay_dedc: _Optional[int] = ..., hifp_pay: _Optional[int] = ..., pool_prop_selfpay: _Optional[int] = ..., hifob_pay: _Optional[int] = ..., hifmi_pay: _Optional[int] = ..., fund_pay_sumamt: _Optional[int] = ..., psn_part_amt: _Optional[int] = ..., hosp_part_amt: _Optional[int] = ..., acct_pay: _Optional[int] = ..., psn_cash_pay: _Optional[int] = ..., balc: _Optional[int] = ..., setldetail: _Optional[_Iterable[_Union[FundPayment, _Mapping]]] = ..., lines: _Optional[_Iterable[_Union[FeeLineResult, _Mapping]]] = ..., explanation: _Optional[_Iterable[_Union[ExplanationStep, _Mapping]]] = ..., reversed_setl_id: _Optional[str] = ..., reversal_setl_id: _Optional[str] = ..., setl_date: _Optional[str] = ...) -> None: ...
