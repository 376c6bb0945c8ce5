import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditRule(_message.Message):
    __slots__ = ("rule_id", "admdvs", "role", "kind", "severity", "name", "begndate", "enddate", "med_types", "item_prefixes", "dise_codg", "allowed_prefixes", "visits_max", "days", "overlap_days_min", "lmt_reasons", "quantile", "factor", "samples_min")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    MED_TYPES_FIELD_NUMBER: _ClassVar[int]
    ITEM_PREFIXES_FIELD_NUMBER: _ClassVar[int]
    DISE_CODG_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_PREFIXES_FIELD_NUMBER: _ClassVar[int]
    VISITS_MAX_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_DAYS_MIN_FIELD_NUMBER: _ClassVar[int]
    LMT_REASONS_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_MIN_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    admdvs: str
    role: str
    kind: str
    severity: str
    name: str
    begndate: str
    enddate: str
    med_types: _containers.RepeatedScalarFieldContainer[str]
    item_prefixes: _containers.RepeatedScalarFieldContainer[str]
    dise_codg: str
    allowed_prefixes: _containers.RepeatedScalarFieldContainer[str]
    visits_max: int
    days: int
    overlap_days_min: int
    lmt_reasons: _containers.RepeatedScalarFieldContainer[str]
    quantile: int
    factor: int
    samples_min: int
    def __init__(self, rule_id: _Optional[str] = ..., admdvs: _Optional[str] = ..., role: _Optional[str] = ..., kind: _Optional[str] = ..., severity: _Optional[str] = ..., name: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., med_types: _Optional[_Iterable[str]] = ..., item_prefixes: _Optional[_Iterable[str]] = ..., dise_codg: _Optional[str] = ..., allowed_prefixes: _Optional[_Iterable[str]] = ..., visits_max: _Optional[int] = ..., days: _Optional[int] = ..., overlap_days_min: _Optional[int] = ..., lmt_reasons: _Optional[_Iterable[str]] = ..., quantile: _Optional[int] = ..., factor: _Optional[int] = ..., samples_min: _Optional[int] = ...) -> None: ...

class PutAuditRulesRequest(_message.Message):
    __slots__ = ("request_id", "rules")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    rules: _containers.RepeatedCompositeFieldContainer[AuditRule]
    def __init__(self, request_id: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[AuditRule, _Mapping]]] = ...) -> None: ...

class PutAuditRulesResponse(_message.Message):
    __slots__ = ("rules_written",)
    RULES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    rules_written: int
    def __init__(self, rules_written: _Optional[int] = ...) -> None: ...

class ListAuditRulesRequest(_message.Message):
    __slots__ = ("admdvs", "role", "date", "history")
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    admdvs: str
    role: str
    date: str
    history: bool
    def __init__(self, admdvs: _Optional[str] = ..., role: _Optional[str] = ..., date: _Optional[str] = ..., history: _Optional[bool] = ...) -> None: ...

class ListAuditRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[AuditRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[AuditRule, _Mapping]]] = ...) -> None: ...

class FlagEvidence(_message.Message):
    __slots__ = ("kind", "ref", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    ref: str
    detail: str
    def __init__(self, kind: _Optional[str] = ..., ref: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class FlagReview(_message.Message):
    __slots__ = ("who", "when", "decision", "deduct", "note")
    WHO_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DEDUCT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    who: str
    when: _timestamp_pb2.Timestamp
    decision: str
    deduct: int
    note: str
    def __init__(self, who: _Optional[str] = ..., when: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision: _Optional[str] = ..., deduct: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class Flag(_message.Message):
    __slots__ = ("flag_id", "flag_date", "source", "rule_id", "rule_kind", "rule_admdvs", "rule_role", "rule_name", "setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "insuplc_admdvs", "mdtrtarea_admvs", "setl_date", "feedetl_sn", "amount", "clearing_amount", "evidence", "text_zh", "text_en", "raised_by", "created", "status", "reviews", "deduct", "deduct_date", "given_back_by")
    FLAG_ID_FIELD_NUMBER: _ClassVar[int]
    FLAG_DATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    RULE_ROLE_FIELD_NUMBER: _ClassVar[int]
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    SETL_DATE_FIELD_NUMBER: _ClassVar[int]
    FEEDETL_SN_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CLEARING_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_ZH_FIELD_NUMBER: _ClassVar[int]
    TEXT_EN_FIELD_NUMBER: _ClassVar[int]
    RAISED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    DEDUCT_FIELD_NUMBER: _ClassVar[int]
    DEDUCT_DATE_FIELD_NUMBER: _ClassVar[int]
    GIVEN_BACK_BY_FIELD_NUMBER: _ClassVar[int]
    flag_id: str
    flag_date: str
    source: str
    rule_id: str
    rule_kind: str
    rule_admdvs: str
    rule_role: str
    rule_name: str
    setl_id: str
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    setl_date: str
    feedetl_sn: _containers.RepeatedScalarFieldContainer[str]
    amount: int
    clearing_amount: int
    evidence: _containers.RepeatedCompositeFieldContainer[FlagEvidence]
    text_zh: str
    text_en: str
    raised_by: str
    created: _timestamp_pb2.Timestamp
    status: str
    reviews: _containers.RepeatedCompositeFieldContainer[FlagReview]
    deduct: int
    deduct_date: str
    given_back_by: str
    def __init__(self, flag_id: _Optional[str] = ..., flag_date: _Optional[str] = ..., source: _Optional[str] = ..., rule_id: _Optional[str] = ..., rule_kind: _Optional[str] = ..., rule_admdvs: _Optional[str] = ..., rule_role: _Optional[str] = ..., rule_name: _Optional[str] = ..., setl_id: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., setl_date: _Optional[str] = ..., feedetl_sn: _Optional[_Iterable[str]] = ..., amount: _Optional[int] = ..., clearing_amount: _Optional[int] = ..., evidence: _Optional[_Iterable[_Union[FlagEvidence, _Mapping]]] = ..., text_zh: _Optional[str] = ..., text_en: _Optional[str] = ..., raised_by: _Optional[str] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., reviews: _Optional[_Iterable[_Union[FlagReview, _Mapping]]] = ..., deduct: _Optional[int] = ..., deduct_date: _Optional[str] = ..., given_back_by: _Optional[str] = ...) -> None: ...

class ListFlagsRequest(_message.Message):
    __slots__ = ("mdtrtarea_admvs", "insuplc_admdvs", "fixmedins_code", "rule_id", "status", "begndate", "enddate", "limit", "page_token")
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    fixmedins_code: str
    rule_id: str
    status: str
    begndate: str
    enddate: str
    limit: int
    page_token: str
    def __init__(self, mdtrtarea_admvs: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., rule_id: _Optional[str] = ..., status: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFlagsResponse(_message.Message):
    __slots__ = ("flags", "next_page_token")
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flags: _containers.RepeatedCompositeFieldContainer[Flag]
    next_page_token: str
    def __init__(self, flags: _Optional[_Iterable[_Union[Flag, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetFlagRequest(_message.Message):
    __slots__ = ("flag_id",)
    FLAG_ID_FIELD_NUMBER: _ClassVar[int]
    flag_id: str
    def __init__(self, flag_id: _Optional[str] = ...) -> None: ...

class GetFlagResponse(_message.Message):
    __slots__ = ("flag",)
    FLAG_FIELD_NUMBER: _ClassVar[int]
    flag: Flag
    def __init__(self, flag: _Optional[_Union[Flag, _Mapping]] = ...) -> None: ...

class RaiseFlagRequest(_message.Message):
    __slots__ = ("request_id", "setl_id", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    setl_id: str
    note: str
    def __init__(self, request_id: _Optional[str] = ..., setl_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RaiseFlagResponse(_message.Message):
    __slots__ = ("flag",)
    FLAG_FIELD_NUMBER: _ClassVar[int]
    flag: Flag
    def __init__(self, flag: _Optional[_Union[Flag, _Mapping]] = ...) -> None: ...

class ReviewFlagRequest(_message.Message):
    __slots__ = ("request_id", "flag_id", "decision", "deduct", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FLAG_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DEDUCT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    flag_id: str
    decision: str
    deduct: int
    note: str
    def __init__(self, request_id: _Optional[str] = ..., flag_id: _Optional[str] = ..., decision: _Optional[str] = ..., deduct: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class ReviewFlagResponse(_message.Message):
    __slots__ = ("flag",)
    FLAG_FIELD_NUMBER: _ClassVar[int]
    flag: Flag
    def __init__(self, flag: _Optional[_Union[Flag, _Mapping]] = ...) -> None: ...

class CodeCount(_message.Message):
    __slots__ = ("code", "count")
    CODE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    code: str
    count: int
    def __init__(self, code: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class SupervisionStats(_message.Message):
    __slots__ = ("setl_cnt", "reversal_cnt", "medfee_sumamt", "fund_pay_sumamt", "refused_cnt", "filing_refused_cnt", "direct_settlement_rate", "filing_refusal_share", "refusals", "flags", "deduction_cnt", "deducted")
    SETL_CNT_FIELD_NUMBER: _ClassVar[int]
    REVERSAL_CNT_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    REFUSED_CNT_FIELD_NUMBER: _ClassVar[int]
    FILING_REFUSED_CNT_FIELD_NUMBER: _ClassVar[int]
    DIRECT_SETTLEMENT_RATE_FIELD_NUMBER: _ClassVar[int]
    FILING_REFUSAL_SHARE_FIELD_NUMBER: _ClassVar[int]
    REFUSALS_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    DEDUCTION_CNT_FIELD_NUMBER: _ClassVar[int]
    DEDUCTED_FIELD_NUMBER: _ClassVar[int]
    setl_cnt: int
    reversal_cnt: int
    medfee_sumamt: int
    fund_pay_sumamt: int
    refused_cnt: int
    filing_refused_cnt: int
    direct_settlement_rate: int
    filing_refusal_share: int
    refusals: _containers.RepeatedCompositeFieldContainer[CodeCount]
    flags: _containers.RepeatedCompositeFieldContainer[CodeCount]
    deduction_cnt: int
    deducted: int
    def __init__(self, setl_cnt: _Optional[int] = ..., reversal_cnt: _Optional[int] = ..., medfee_sumamt: _Optional[int] = ..., fund_pay_sumamt: _Optional[int] = ..., refused_cnt: _Optional[int] = ..., filing_refused_cnt: _Optional[int] = ..., direct_settlement_rate: _Optional[int] = ..., filing_refusal_share: _Optional[int] = ..., refusals: _Optional[_Iterable[_Union[CodeCount, _Mapping]]] = ..., flags: _Optional[_Iterable[_Union[CodeCount, _Mapping]]] = ..., deduction_cnt: _Optional[int] = ..., deducted: _Optional[int] = ...) -> None: ...

class DayStats(_message.Message):
    __slots__ = ("date", "stats")
    DATE_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    date: str
    stats: SupervisionStats
    def __init__(self, date: _Optional[str] = ..., stats: _Optional[_Union[SupervisionStats, _Mapping]] = ...) -> None: ...

class PairStats(_message.Message):
    __slots__ = ("mdtrtarea_admvs", "insuplc_admdvs", "stats")
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    stats: SupervisionStats
    def __init__(self, mdtrtarea_admvs: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., stats: _Optional[_Union[SupervisionStats, _Mapping]] = ...) -> None: ...

class InstitutionStats(_message.Message):
    __slots__ = ("fixmedins_code", "mdtrtarea_admvs", "stats")
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    fixmedins_code: str
    mdtrtarea_admvs: str
    stats: SupervisionStats
    def __init__(self, fixmedins_code: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., stats: _Optional[_Union[SupervisionStats, _Mapping]] = ...) -> None: ...

class GetSupervisionStatsRequest(_message.Message):
    __slots__ = ("begndate", "enddate", "mdtrtarea_admvs", "insuplc_admdvs", "fixmedins_code", "institutions_limit")
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    INSTITUTIONS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    begndate: str
    enddate: str
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    fixmedins_code: str
    institutions_limit: int
    def __init__(self, begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., institutions_limit: _Optional[int] = ...) -> None: ...

class GetSupervisionStatsResponse(_message.Message):
    __slots__ = ("totals", "by_day", "by_pair", "by_institution")
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    BY_DAY_FIELD_NUMBER: _ClassVar[int]
    BY_PAIR_FIELD_NUMBER: _ClassVar[int]
    BY_INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    totals: SupervisionStats
    by_day: _containers.RepeatedCompositeFieldContainer[DayStats]
    by_pair: _containers.RepeatedCompositeFieldContainer[PairStats]
    by_institution: _containers.RepeatedCompositeFieldContainer[InstitutionStats]
    def __init__(self, totals: _Optional[_Union[SupervisionStats, _Mapping]] = ..., by_day: _Optional[_Iterable[_Union[DayStats, _Mapping]]] = ..., by_pair: _Optional[_Iterable[_Union[PairStats, _Mapping]]] = ..., by_institution: _Optional[_Iterable[_Union[InstitutionStats, _Mapping]]] = ...) -> None: ...
