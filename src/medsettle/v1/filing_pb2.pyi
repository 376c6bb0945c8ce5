from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Filing(_message.Message):
    __slots__ = ("trt_dcla_detl_sn", "psn_no", "insutype", "insuplc_admdvs", "mdtrtarea_admvs", "category", "begndate", "enddate", "reflin_medins_no", "fixmedins_code", "created_date", "revoked_date")
    TRT_DCLA_DETL_SN_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    REFLIN_MEDINS_NO_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    REVOKED_DATE_FIELD_NUMBER: _ClassVar[int]
    trt_dcla_detl_sn: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    category: str
    begndate: str
    enddate: str
    reflin_medins_no: str
    fixmedins_code: str
    created_date: str
    revoked_date: str
    def __init__(self, trt_dcla_detl_sn: _Optional[str] = ..., psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., category: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., reflin_medins_no: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., created_date: _Optional[str] = ..., revoked_date: _Optional[str] = ...) -> None: ...

class ChronicQualification(_message.Message):
    __slots__ = ("psn_no", "insutype", "opsp_dise_code", "insuplc_admdvs", "begndate", "enddate", "revoked_date")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    OPSP_DISE_CODE_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    REVOKED_DATE_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    insutype: str
    opsp_dise_code: str
    insuplc_admdvs: str
    begndate: str
    enddate: str
    revoked_date: str
    def __init__(self, psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., opsp_dise_code: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., revoked_date: _Optional[str] = ...) -> None: ...

class CreateFilingRequest(_message.Message):
    __slots__ = ("request_id", "psn_no", "insutype", "mdtrtarea_admvs", "category", "begndate", "enddate", "reflin_medins_no")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    MDTRTAREA_ADMVS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    REFLIN_MEDINS_NO_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    psn_no: str
    insutype: str
    mdtrtarea_admvs: str
    category: str
    begndate: str
    enddate: str
    reflin_medins_no: str
    def __init__(self, request_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., mdtrtarea_admvs: _Optional[str] = ..., category: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ..., reflin_medins_no: _Optional[str] = ...) -> None: ...

class CreateFilingResponse(_message.Message):
    __slots__ = ("filing",)
    FILING_FIELD_NUMBER: _ClassVar[int]
    filing: Filing
    def __init__(self, filing: _Optional[_Union[Filing, _Mapping]] = ...) -> None: ...

class RevokeFilingRequest(_message.Message):
    __slots__ = ("request_id", "psn_no", "trt_dcla_detl_sn")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    TRT_DCLA_DETL_SN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    psn_no: str
    trt_dcla_detl_sn: str
    def __init__(self, request_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., trt_dcla_detl_sn: _Optional[str] = ...) -> None: ...

class RevokeFilingResponse(_message.Message):
    __slots__ = ("filing",)
    FILING_FIELD_NUMBER: _ClassVar[int]
    filing: Filing
    def __init__(self, filing: _Optional[_Union[Filing, _Mapping]] = ...) -> None: ...

class ListFilingsRequest(_message.Message):
    __slots__ = ("psn_no", "include_revoked")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    include_revoked: bool
    def __init__(self, psn_no: _Optional[str] = ..., include_revoked: _Optional[bool] = ...) -> None: ...

class ListFilingsResponse(_message.Message):
    __slots__ = ("filings",)
    FILINGS_FIELD_NUMBER: _ClassVar[int]
    filings: _containers.RepeatedCompositeFieldContainer[Filing]
    def __init__(self, filings: _Optional[_Iterable[_Union[Filing, _Mapping]]] = ...) -> None: ...

class CreateReferralFilingRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "psn_no", "insutype", "reflin_medins_no", "dise_codg", "begndate", "enddate")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    REFLIN_MEDINS_NO_FIELD_NUMBER: _ClassVar[int]
    DISE_CODG_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    psn_no: str
    insutype: str
    reflin_medins_no: str
    dise_codg: str
    begndate: str
    enddate: str
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., reflin_medins_no: _Optional[str] = ..., dise_codg: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ...) -> None: ...

class CreateReferralFilingResponse(_message.Message):
    __slots__ = ("filing",)
    FILING_FIELD_NUMBER: _ClassVar[int]
    filing: Filing
    def __init__(self, filing: _Optional[_Union[Filing, _Mapping]] = ...) -> None: ...

class RevokeReferralFilingRequest(_message.Message):
    __slots__ = ("request_id", "fixmedins_code", "psn_no", "trt_dcla_detl_sn")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    TRT_DCLA_DETL_SN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fixmedins_code: str
    psn_no: str
    trt_dcla_detl_sn: str
    def __init__(self, request_id: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., psn_no: _Optional[str] = ..., trt_dcla_detl_sn: _Optional[str] = ...) -> None: ...

class RevokeReferralFilingResponse(_message.Message):
    __slots__ = ("filing",)
    FILING_FIELD_NUMBER: _ClassVar[int]
    filing: Filing
    def __init__(self, filing: _Optional[_Union[Filing, _Mapping]] = ...) -> None: ...

class CreateChronicQualificationRequest(_message.Message):
    __slots__ = ("request_id", "psn_no", "insutype", "opsp_dise_code", "begndate", "enddate")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    OPSP_DISE_CODE_FIELD_NUMBER: _ClassVar[int]
    BEGNDATE_FIELD_NUMBER: _ClassVar[int]
    ENDDATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    psn_no: str
    insutype: str
    opsp_dise_code: str
    begndate: str
    enddate: str
    def __init__(self, request_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., opsp_dise_code: _Optional[str] = ..., begndate: _Optional[str] = ..., enddate: _Optional[str] = ...) -> None: ...

class CreateChronicQualificationResponse(_message.Message):
    __slots__ = ("qualification",)
    QUALIFICATION_FIELD_NUMBER: _ClassVar[int]
    qualification: ChronicQualification
    def __init__(self, qualification: _Optional[_Union[ChronicQualification, _Mapping]] = ...) -> None: ...

class RevokeChronicQualificationRequest(_message.Message):
    __slots__ = ("request_id", "psn_no", "opsp_dise_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    OPSP_DISE_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    psn_no: str
    opsp_dise_code: str
    def __init__(self, request_id: _Optional[str] = ..., psn_no: _Optional[str] = ..., opsp_dise_code: _Optional[str] = ...) -> None: ...

class RevokeChronicQualificationResponse(_message.Message):
    __slots__ = ("qualification",)
    QUALIFICATION_FIELD_NUMBER: _ClassVar[int]
    qualification: ChronicQualification
    def __init__(self, qualification: _Optional[_Union[ChronicQualification, _Mapping]] = ...) -> None: ...

class ListChronicQualificationsRequest(_message.Message):
    __slots__ = ("psn_no", "include_revoked")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    include_revoked: bool
    def __init__(self, psn_no: _Optional[str] = ..., include_revoked: _Optional[bool] = ...) -> None: ...

class ListChronicQualificationsResponse(_message.Message):
    __slots__ = ("qualifications",)
    QUALIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    qualifications: _containers.RepeatedCompositeFieldContainer[ChronicQualification]
    def __init__(self, qualifications: _Optional[_Iterable[_Union[ChronicQualification, _Mapping]]] = ...) -> None: ...
