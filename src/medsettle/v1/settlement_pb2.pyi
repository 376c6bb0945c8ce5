from medsettle.v1 import common_pb2 as _common_pb2
from medsettle.v1 import person_pb2 as _person_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OutpatientClaim(_message.Message):
    __slots__ = ("person", "insutype", "fixmedins_code", "med_type", "dise_codg", "ipt_otp_no", "fee_lines", "medfee_sumamt", "acct_used_flag")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MED_TYPE_FIELD_NUMBER: _ClassVar[int]
    DISE_CODG_FIELD_NUMBER: _ClassVar[int]
    IPT_OTP_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_LINES_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    ACCT_USED_FLAG_FIELD_NUMBER: _ClassVar[int]
    person: _person_pb2.PersonRef
    insutype: str
    fixmedins_code: str
    med_type: str
    dise_codg: str
    ipt_otp_no: str
    fee_lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.FeeLine]
    medfee_sumamt: int
    acct_used_flag: bool
    def __init__(self, person: _Optional[_Union[_person_pb2.PersonRef, _Mapping]] = ..., insutype: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., med_type: _Optional[str] = ..., dise_codg: _Optional[str] = ..., ipt_otp_no: _Optional[str] = ..., fee_lines: _Optional[_Iterable[_Union[_common_pb2.FeeLine, _Mapping]]] = ..., medfee_sumamt: _Optional[int] = ..., acct_used_flag: _Optional[bool] = ...) -> None: ...

class PreSettleOutpatientRequest(_message.Message):
    __slots__ = ("claim",)
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    claim: OutpatientClaim
    def __init__(self, claim: _Optional[_Union[OutpatientClaim, _Mapping]] = ...) -> None: ...

class PreSettleOutpatientResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: _common_pb2.Settlement
    def __init__(self, settlement: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...

class SettleOutpatientRequest(_message.Message):
    __slots__ = ("request_id", "claim")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    claim: OutpatientClaim
    def __init__(self, request_id: _Optional[str] = ..., claim: _Optional[_Union[OutpatientClaim, _Mapping]] = ...) -> None: ...

class SettleOutpatientResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: _common_pb2.Settlement
    def __init__(self, settlement: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...

class AdmitRequest(_message.Message):
    __slots__ = ("request_id", "person", "insutype", "fixmedins_code", "med_type", "begndate", "dise_codg", "ipt_otp_no")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MED_TYPE_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    DISE_CODG_FIELD_NUMBER: _ClassVar[int]
    IPT_OTP_NO_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    person: _person_pb2.PersonRef
    insutype: str
    fixmedins_code: str
    med_type: str
    begndate: str
    dise_codg: str
    ipt_otp_no: str
    def __init__(self, request_id: _Optional[str] = ..., person: _Optional[_Union[_person_pb2.PersonRef, _Mapping]] = ..., insutype: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., med_type: _Optional[str] = ..., begndate: _Optional[str] = ..., dise_codg: _Optional[str] = ..., ipt_otp_no: _Optional[str] = ...) -> None: ...

class AdmitResponse(_message.Message):
    __slots__ = ("mdtrt_id", "psn_no", "warnings")
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    mdtrt_id: str
    psn_no: str
    warnings: _containers.RepeatedCompositeFieldContainer[_common_pb2.Reason]
    def __init__(self, mdtrt_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., warnings: _Optional[_Iterable[_Union[_common_pb2.Reason, _Mapping]]] = ...) -> None: ...

class UploadInpatientFeesRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "mdtrt_id", "fee_lines")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    FEE_LINES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    mdtrt_id: str
    fee_lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.FeeLine]
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., fee_lines: _Optional[_Iterable[_Union[_common_pb2.FeeLine, _Mapping]]] = ...) -> None: ...

class UploadInpatientFeesResponse(_message.Message):
    __slots__ = ("lines_added", "lines_already_held", "stay_line_count")
    LINES_ADDED_FIELD_NUMBER: _ClassVar[int]
    LINES_ALREADY_HELD_FIELD_NUMBER: _ClassVar[int]
    STAY_LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    lines_added: int
    lines_already_held: int
    stay_line_count: int
    def __init__(self, lines_added: _Optional[int] = ..., lines_already_held: _Optional[int] = ..., stay_line_count: _Optional[int] = ...) -> None: ...

class CancelInpatientFeesRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "mdtrt_id", "feedetl_sn")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    FEEDETL_SN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    mdtrt_id: str
    feedetl_sn: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., feedetl_sn: _Optional[_Iterable[str]] = ...) -> None: ...

class CancelInpatientFeesResponse(_message.Message):
    __slots__ = ("lines_cancelled", "stay_line_count")
    LINES_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    STAY_LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    lines_cancelled: int
    stay_line_count: int
    def __init__(self, lines_cancelled: _Optional[int] = ..., stay_line_count: _Optional[int] = ...) -> None: ...

class PreSettleInpatientRequest(_message.Message):
    __slots__ = ("fixmedins_code", "mdtrt_id", "acct_used_flag", "medfee_sumamt")
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCT_USED_FLAG_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    fixmedins_code: str
    mdtrt_id: str
    acct_used_flag: bool
    medfee_sumamt: int
    def __init__(self, fixmedins_code: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., acct_used_flag: _Optional[bool] = ..., medfee_sumamt: _Optional[int] = ...) -> None: ...

class PreSettleInpatientResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: _common_pb2.Settlement
    def __init__(self, settlement: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...

class SettleInpatientRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "mdtrt_id", "acct_used_flag", "medfee_sumamt")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCT_USED_FLAG_FIELD_NUMBER: _ClassVar[int]
    MEDFEE_SUMAMT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    mdtrt_id: str
    acct_used_flag: bool
    medfee_sumamt: int
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., acct_used_flag: _Optional[bool] = ..., medfee_sumamt: _Optional[int] = ...) -> None: ...

class SettleInpatientResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: _common_pb2.Settlement
    def __init__(self, settlement: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...

class DischargeRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "mdtrt_id", "enddate")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    mdtrt_id: str
    enddate: str
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., mdtrt_id: _Optional[str] = ..., enddate: _Optional[str] = ...) -> None: ...

class DischargeResponse(_message.Message):
    __slots__ = ("mdtrt_id", "enddate", "unsettled_line_count")
    MDTRT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    mdtrt_id: str
    enddate: str
    unsettled_line_count: int
    def __init__(self, mdtrt_id: _Optional[str] = ..., enddate: _Optional[str] = ..., unsettled_line_count: _Optional[int] = ...) -> None: ...

class ReverseSettlementRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "setl_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    setl_id: str
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., setl_id: _Optional[str] = ...) -> None: ...

class ReverseSettlementResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: _common_pb2.Settlement
    def __init__(self, settlement: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...

class ReverseByRequestIdRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "original_request_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    original_request_id: str
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., original_request_id: _Optional[str] = ...) -> None: ...

class ReverseByRequestIdResponse(_message.Message):
    __slots__ = ("original_method", "undone", "reversal")
    ORIGINAL_METHOD_FIELD_NUMBER: _ClassVar[int]
    UNDONE_FIELD_NUMBER: _ClassVar[int]
    REVERSAL_FIELD_NUMBER: _ClassVar[int]
    original_method: str
    undone: bool
    reversal: _common_pb2.Settlement
    def __init__(self, original_method: _Optional[str] = ..., undone: _Optional[bool] = ..., reversal: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...

class GetSettlementRequest(_message.Message):
    __slots__ = ("fixmedins_code", "setl_id")
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    SETL_ID_FIELD_NUMBER: _ClassVar[int]
    fixmedins_code: str
    setl_id: str
    def __init__(self, fixmedins_code: _Optional[str] = ..., setl_id: _Optional[str] = ...) -> None: ...

class GetSettlementResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: _common_pb2.Settlement
    def __init__(self, settlement: _Optional[_Union[_common_pb2.Settlement, _Mapping]] = ...) -> None: ...
