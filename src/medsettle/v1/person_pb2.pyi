from medsettle.v1 import common_pb2 as _common_pb2
from medsettle.v1 import filing_pb2 as _filing_pb2
from medsettle.v1 import reference_data_pb2 as _reference_data_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PersonRef(_message.Message):
    __slots__ = ("psn_no", "mdtrt_cert_type", "mdtrt_cert_no", "card_sn")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    MDTRT_CERT_TYPE_FIELD_NUMBER: _ClassVar[int]
    MDTRT_CERT_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_SN_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    card_sn: str
    def __init__(self, psn_no: _Optional[str] = ..., mdtrt_cert_type: _Optional[str] = ..., mdtrt_cert_no: _Optional[str] = ..., card_sn: _Optional[str] = ...) -> None: ...

class GetPersonRequest(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: PersonRef
    def __init__(self, person: _Optional[_Union[PersonRef, _Mapping]] = ...) -> None: ...

class GetPersonResponse(_message.Message):
    __slots__ = ("baseinfo", "filings", "qualifications")
    BASEINFO_FIELD_NUMBER: _ClassVar[int]
    FILINGS_FIELD_NUMBER: _ClassVar[int]
    QUALIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    baseinfo: _reference_data_pb2.Person
    filings: _containers.RepeatedCompositeFieldContainer[_filing_pb2.Filing]
    qualifications: _containers.RepeatedCompositeFieldContainer[_filing_pb2.ChronicQualification]
    def __init__(self, baseinfo: _Optional[_Union[_reference_data_pb2.Person, _Mapping]] = ..., filings: _Optional[_Iterable[_Union[_filing_pb2.Filing, _Mapping]]] = ..., qualifications: _Optional[_Iterable[_Union[_filing_pb2.ChronicQualification, _Mapping]]] = ...) -> None: ...

class FindInsuredPlaceRequest(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: PersonRef
    def __init__(self, person: _Optional[_Union[PersonRef, _Mapping]] = ...) -> None: ...

class FindInsuredPlaceResponse(_message.Message):
    __slots__ = ("insuplc_admdvs",)
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    insuplc_admdvs: str
    def __init__(self, insuplc_admdvs: _Optional[str] = ...) -> None: ...

class CheckBenefitRequest(_message.Message):
    __slots__ = ("person", "insutype", "fixmedins_code", "med_type", "date", "dise_codg")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    FIXMEDINS_CODE_FIELD_NUMBER: _ClassVar[int]
    MED_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    DISE_CODG_FIELD_NUMBER: _ClassVar[int]
    person: PersonRef
    insutype: str
    fixmedins_code: str
    med_type: str
    date: str
    dise_codg: str
    def __init__(self, person: _Optional[_Union[PersonRef, _Mapping]] = ..., insutype: _Optional[str] = ..., fixmedins_code: _Optional[str] = ..., med_type: _Optional[str] = ..., date: _Optional[str] = ..., dise_codg: _Optional[str] = ...) -> None: ...

class CheckBenefitResponse(_message.Message):
    __slots__ = ("ok", "reasons", "filing_category", "trt_dcla_detl_sn", "insuplc_admdvs")
    OK_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    FILING_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TRT_DCLA_DETL_SN_FIELD_NUMBER: _ClassVar[int]
    INSUPLC_ADMDVS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    reasons: _containers.RepeatedCompositeFieldContainer[_common_pb2.Reason]
    filing_category: str
    trt_dcla_detl_sn: str
    insuplc_admdvs: str
    def __init__(self, ok: _Optional[bool] = ..., reasons: _Optional[_Iterable[_Union[_common_pb2.Reason, _Mapping]]] = ..., filing_category: _Optional[str] = ..., trt_dcla_detl_sn: _Optional[str] = ..., insuplc_admdvs: _Optional[str] = ...) -> None: ...

class GetAccumulatorsRequest(_message.Message):
    __slots__ = ("psn_no", "insutype", "year", "person")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSUTYPE_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    insutype: str
    year: int
    person: PersonRef
    def __init__(self, psn_no: _Optional[str] = ..., insutype: _Optional[str] = ..., year: _Optional[int] = ..., person: _Optional[_Union[PersonRef, _Mapping]] = ...) -> None: ...

class GetAccumulatorsResponse(_message.Message):
    __slots__ = ("accumulators",)
    ACCUMULATORS_FIELD_NUMBER: _ClassVar[int]
    accumulators: _common_pb2.Accumulators
    def __init__(self, accumulators: _Optional[_Union[_common_pb2.Accumulators, _Mapping]] = ...) -> None: ...
