from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClearingPair(_message.Message):
    __slots__ = ("insuplc_admdvs", "mdtrtarea_admvs", "setl_cnt", "medfee_sumamt", "fund_pay_sumamt", "acct_pay")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    SETL_CNT_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    setl_cnt: int
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., setl_cnt: _Optional[int] = ..., medfee_sumamt: _Optional[int] = ..., fund_pay_sumamt: _Optional[int] = ..., acct_pay: _Optional[int] = ...) -> None: ...

class ClearingDeduction(_message.Message):
    __slots__ = ("insuplc_admdvs", "mdtrtarea_admvs", "deduction_cnt", "deducted")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    DEDUCTION_CNT_FIELD_NUMBER: _ClassVar[int]
    DEDUCTED_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    deduction_cnt: int
    deducted: int
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., deduction_cnt: _Optional[int] = ..., deducted: _Optional[int] = ...) -> None: ...

class ProvincePosition(_message.Message):
    __slots__ = ("admdvs", "receivable", "payable", "net")
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLE_FIELD_NUMBER: _ClassVar[int]
    PAYABLE_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    admdvs: str
    receivable: int
    payable: int
    net: int
    def __init__(self, admdvs: _Optional[str] = ..., receivable: _Optional[int] = ..., payable: _Optional[int] = ..., net: _Optional[int] = ...) -> None: ...

class ClearingStatement(_message.Message):
    __slots__ = ("month", "pairs", "positions", "closed", "digest", "canonical", "deductions")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_FIELD_NUMBER: _ClassVar[int]
    DEDUCTIONS_FIELD_NUMBER: _ClassVar[int]
    month: str
    pairs: _containers.RepeatedCompositeFieldContainer[ClearingPair]
    positions: _containers.RepeatedCompositeFieldContainer[ProvincePosition]
    closed: bool
    digest: str
    canonical: bytes
    deductions: _containers.RepeatedCompositeFieldContainer[ClearingDeduction]
    def __init__(self, month: _Optional[str] = ..., pairs: _Optional[_Iterable[_Union[ClearingPair, _Mapping]]] = ..., positions: _Optional[_Iterable[_Union[ProvincePosition, _Mapping]]] = ..., closed: _Optional[bool] = ..., digest: _Optional[str] = ..., canonical: _Optional[bytes] = ..., deductions: _Optional[_Iterable[_Union[ClearingDeduction, _Mapping]]] = ...) -> None: ...

class GetClearingStatementRequest(_message.Message):
    __slots__ = ("month", "admdvs")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    month: str
    admdvs: str
    def __init__(self, month: _Optional[str] = ..., admdvs: _Optional[str] = ...) -> None: ...

class GetClearingStatementResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: ClearingStatement
    def __init__(self, statement: _Optional[_Union[ClearingStatement, _Mapping]] = ...) -> None: ...

class CloseMonthRequest(_message.Message):
    __slots__ = ("request_id", "month")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    month: str
    def __init__(self, request_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class CloseMonthResponse(_message.Message):
    __slots__ = ("statement", "already_closed", "funds", "alerts")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_CLOSED_FIELD_NUMBER: _ClassVar[int]
    FUNDS_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    statement: ClearingStatement
    already_closed: bool
    funds: _containers.RepeatedCompositeFieldContainer[PrepaidFund]
    alerts: _containers.RepeatedCompositeFieldContainer[PrepaidAlert]
    def __init__(self, statement: _Optional[_Union[ClearingStatement, _Mapping]] = ..., already_closed: _Optional[bool] = ..., funds: _Optional[_Iterable[_Union[PrepaidFund, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[PrepaidAlert, _Mapping]]] = ...) -> None: ...

class PrepaidTopUp(_message.Message):
    __slots__ = ("amount", "request_id")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    amount: int
    request_id: str
    def __init__(self, amount: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class PrepaidDraw(_message.Message):
    __slots__ = ("month", "amount")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    month: str
    amount: int
    def __init__(self, month: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class PrepaidFund(_message.Message):
    __slots__ = ("insuplc_admdvs", "year", "balance_set", "sized_from_months", "warn_threshold", "topped_up", "drawn", "balance", "usage", "draws", "top_ups")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    BALANCE_SET_FIELD_NUMBER: _ClassVar[int]
    SIZED_FROM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    WARN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TOPPED_UP_FIELD_NUMBER: _ClassVar[int]
    DRAWN_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    DRAWS_FIELD_NUMBER: _ClassVar[int]
    TOP_UPS_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    year: int
    balance_set: int
    sized_from_months: int
    warn_threshold: int
    topped_up: int
    drawn: int
    balance: int
    usage: int
    draws: _containers.RepeatedCompositeFieldContainer[PrepaidDraw]
    top_ups: _containers.RepeatedCompositeFieldContainer[PrepaidTopUp]
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., year: _Optional[int] = ..., balance_set: _Optional[int] = ..., sized_from_months: _Optional[int] = ..., warn_threshold: _Optional[int] = ..., topped_up: _Optional[int] = ..., drawn: _Optional[int] = ..., balance: _Optional[int] = ..., usage: _Optional[int] = ..., draws: _Optional[_Iterable[_Union[PrepaidDraw, _Mapping]]] = ..., top_ups: _Optional[_Iterable[_Union[PrepaidTopUp, _Mapping]]] = ...) -> None: ...

class PrepaidAlert(_message.Message):
    __slots__ = ("insuplc_admdvs", "year", "month", "usage", "warn_threshold", "balance", "active")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    WARN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    year: int
    month: str
    usage: int
    warn_threshold: int
    balance: int
    active: bool
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., year: _Optional[int] = ..., month: _Optional[str] = ..., usage: _Optional[int] = ..., warn_threshold: _Optional[int] = ..., balance: _Optional[int] = ..., active: _Optional[bool] = ...) -> None: ...

class GetPrepaidFundRequest(_message.Message):
    __slots__ = ("insuplc_admdvs", "year")
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    year: int
    def __init__(self, insuplc_admdvs: _Optional[str] = ..., year: _Optional[int] = ...) -> None: ...

class GetPrepaidFundResponse(_message.Message):
    __slots__ = ("fund",)
    FUND_FIELD_NUMBER: _ClassVar[int]
    fund: PrepaidFund
    def __init__(self, fund: _Optional[_Union[PrepaidFund, _Mapping]] = ...) -> None: ...

class SetPrepaidFundRequest(_message.Message):
    __slots__ = ("request_id", "insuplc_admdvs", "year", "balance", "from_previous_year_months", "warn_threshold")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    FROM_PREVIOUS_YEAR_MONTHS_FIELD_NUMBER: _ClassVar[int]
    WARN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    insuplc_admdvs: str
    year: int
    balance: int
    from_previous_year_months: int
    warn_threshold: int
    def __init__(self, request_id: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., year: _Optional[int] = ..., balance: _Optional[int] = ..., from_previous_year_months: _Optional[int] = ..., warn_threshold: _Optional[int] = ...) -> None: ...

class SetPrepaidFundResponse(_message.Message):
    __slots__ = ("fund", "alerts")
    FUND_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    fund: PrepaidFund
    alerts: _containers.RepeatedCompositeFieldContainer[PrepaidAlert]
    def __init__(self, fund: _Optional[_Union[PrepaidFund, _Mapping]] = ..., alerts: _Optional[_Iterable[_Union[PrepaidAlert, _Mapping]]] = ...) -> None: ...

class TopUpPrepaidFundRequest(_message.Message):
    __slots__ = ("request_id", "insuplc_admdvs", "year", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    insuplc_admdvs: str
    year: int
    amount: int
    def __init__(self, request_id: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., year: _Optional[int] = ..., amount: _Optional[int] = ...) -> None: ...

class TopUpPrepaidFundResponse(_message.Message):
    __slots__ = ("fund",)
    FUND_FIELD_NUMBER: _ClassVar[int]
    fund: PrepaidFund
    def __init__(self, fund: _Optional[_Union[PrepaidFund, _Mapping]] = ...) -> None: ...

class ListPrepaidAlertsRequest(_message.Message):
    __slots__ = ("insuplc_admdvs",)
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    def __init__(self, insuplc_admdvs: _Optional[str] = ...) -> None: ...

class ListPrepaidAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[PrepaidAlert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[PrepaidAlert, _Mapping]]] = ...) -> None: ...

class ReconcileTotalsRequest(_message.Message):
    __slots__ = ("fixmedins_code", "begndate", "enddate", "clr_type", "setl_cnt", "medfee_sumamt", "fund_pay_sumamt", "acct_pay")
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    CLR_TYPE_FIELD_NUMBER: _ClassVar[int]
    SETL_CNT_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FIELD_NUMBER: _ClassVar[int]
    fixmedins_code: str
    begndate: str
    enddate: str
    clr_type: str
    setl_cnt: int
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    def __init__(self, fixmedins_code: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., clr_type: _Optional[str] = ..., setl_cnt: _Optional[int] = ..., medfee_sumamt: _Optional[int] = ..., fund_pay_sumamt: _Optional[int] = ..., acct_pay: _Optional[int] = ...) -> None: ...

class ReconcileTotalsResponse(_message.Message):
    __slots__ = ("match", "setl_cnt", "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "deduction_cnt", "deducted")
    MATCH_FIELD_NUMBER: _ClassVar[int]
    SETL_CNT_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FIELD_NUMBER: _ClassVar[int]
    DEDUCTION_CNT_FIELD_NUMBER: _ClassVar[int]
    DEDUCTED_FIELD_NUMBER: _ClassVar[int]
    match: bool
    setl_cnt: int
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    deduction_cnt: int
    deducted: int
    def __init__(self, match: _Optional[bool] = ..., setl_cnt: _Optional[int] = ..., medfee_sumamt: _Optional[int] = ..., fund_pay_sumamt: _Optional[int] = ..., acct_pay: _Optional[int] = ..., deduction_cnt: _Optional[int] = ..., deducted: _Optional[int] = ...) -> None: ...

class ReconcileDeduction(_message.Message):
    __slots__ = ("flag_id", "setl_id", "date", "amount", "reversal_setl_id")
    FLAG_ID_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REVERSAL_SETL_ID_FIELD_NUMBER: _ClassVar[int]
    flag_id: str
    setl_id: str
    date: str
    amount: int
    reversal_setl_id: str
    def __init__(self, flag_id: _Optional[str] = ..., setl_id: _Optional[str] = ..., date: _Optional[str] = ..., amount: _Optional[int] = ..., reversal_setl_id: _Optional[str] = ...) -> None: ...

class ReconcileItem(_message.Message):
    __slots__ = ("setl_id", "medfee_sumamt", "fund_pay_sumamt", "acct_pay")
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    FUND_PAY_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    ACCT_PAY_FIELD_NUMBER: _ClassVar[int]
    setl_id: str
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    def __init__(self, setl_id: _Optional[str] = ..., medfee_sumamt: _Optional[int] = ..., fund_pay_sumamt: _Optional[int] = ..., acct_pay: _Optional[int] = ...) -> None: ...

class AmountDifference(_message.Message):
    __slots__ = ("setl_id", "institution", "core")
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    CORE_FIELD_NUMBER: _ClassVar[int]
    setl_id: str
    institution: ReconcileItem
    core: ReconcileItem
    def __init__(self, setl_id: _Optional[str] = ..., institution: _Optional[_Union[ReconcileItem, _Mapping]] = ..., core: _Optional[_Union[ReconcileItem, _Mapping]] = ...) -> None: ...

class ReconcileDetailRequest(_message.Message):
    __slots__ = ("fixmedins_code", "begndate", "enddate", "items")
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    fixmedins_code: str
    begndate: str
    enddate: str
    items: _containers.RepeatedCompositeFieldContainer[ReconcileItem]
    def __init__(self, fixmedins_code: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ReconcileItem, _Mapping]]] = ...) -> None: ...

class ReconcileDetailResponse(_message.Message):
    __slots__ = ("match", "core_setl_cnt", "institution_setl_cnt", "missing_in_core", "missing_at_institution", "amounts_differ", "deductions")
    MATCH_FIELD_NUMBER: _ClassVar[int]
    CORE_SETL_CNT_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_SETL_CNT_FIELD_NUMBER: _ClassVar[int]
    MISSING_IN_CORE_FIELD_NUMBER: _ClassVar[int]
    MISSING_AT_INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_DIFFER_FIELD_NUMBER: _ClassVar[int]
    DEDUCTIONS_FIELD_NUMBER: _ClassVar[int]
    match: bool
    core_setl_cnt: int
    institution_setl_cnt: int
    missing_in_core: _containers.RepeatedCompositeFieldContainer[ReconcileItem]
    missing_at_institution: _containers.RepeatedCompositeFieldContainer[ReconcileItem]
    amounts_differ: _containers.RepeatedCompositeFieldContainer[AmountDifference]
    deductions: _containers.RepeatedCompositeFieldContainer[ReconcileDeduction]
    def __init__(self, match: _Optional[bool] = ..., core_setl_cnt: _Optional[int] = ..., institution_setl_cnt: _Optional[int] = ..., missing_in_core: _Optional[_Iterable[_Union[ReconcileItem, _Mapping]]] = ..., missing_at_institution: _Optional[_Iterable[_Union[ReconcileItem, _Mapping]]] = ..., amounts_differ: _Optional[_Iterable[_Union[AmountDifference, _Mapping]]] = ..., deductions: _Optional[_Iterable[_Union[ReconcileDeduction, _Mapping]]] = ...) -> None: ...
