"""Reference-data files as provincial data teams write them: CSV, JSON or XLSX rows into contract records, each value
read exactly and every problem placed at its file line and column (docs/loading.md documents the formats).

- Encodings: UTF-8 with or without a BOM (Excel's "CSV UTF-8" writes one), UTF-16 with a BOM, and GBK/GB18030
  (Excel's "CSV" on a Chinese Windows), detected with charset-normalizer; anything else is refused by name.
- Money: a field under its contract name is yuan with at most two decimals ("12.50", 12.5 in JSON or XLSX); the
  same name with `_fen` is integer fen. Nothing is rescaled by guessing: `"dedc": 2000.00` is 2,000 yuan.
- Ratios: a fraction with at most four decimals ("0.05"), a percentage ("5%"), or `_bp` integer basis points.
- Dates: YYYY-MM-DD (also YYYY/M/D and YYYYMMDD, as spreadsheets write them, and XLSX date cells).
- Columns the kind does not know are reported as ignored, never read as something else.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import pathlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf.message import Message

from medsettle.v1 import reference_data_pb2 as pb

FILE_BYTES_MAX = 512 * 2**20  # a national catalog of 100,000 items is about 20 MiB as CSV
RECORDS_MAX = 2_000_000
ERRORS_MAX = 50
ACCEPTED_ENCODINGS = ("utf_8", "gb18030", "utf_16")
YUAN_PLACES = 2
RATIO_PLACES = 4  # as a fraction: 0.0001 = 1 basis point
LIST_SEPARATOR = "|"


class FileError(Exception):
    """The file cannot be read at all (encoding, syntax, header): nothing after this point is looked at."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class ValueProblem(ValueError):
    """One value that cannot be read; the caller knows where it was."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: int  # 1-based; 0 when it is about the whole record
    where: str  # the column or field name
    message: str

    def __str__(self) -> str:
        at = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{at} ({self.where}): {self.message}" if self.where else f"{at}: {self.message}"


@dataclass
class Record:
    """One contract record read from the file, with where each of its fields came from."""

    message: Message
    line: int
    column: int = 1
    places: dict[str, tuple[int, int]] = field(default_factory=dict)  # field path -> (line, column)

    def place_of(self, path: str) -> tuple[int, int]:
        """The file position of a field path ("selfpay_prop", "bands[1].ratio", "insuinfo[0].balc")."""
        while path:
            if path in self.places:
                return self.places[path]
            path = path.rsplit(".", 1)[0] if "." in path else (path.split("[", 1)[0] if "[" in path else "")
        return self.line, self.column


@dataclass
class ReadResult:
    records: list[Record]
    problems: list[Problem]
    problem_count: int
    encoding: str
    ignored_columns: list[str]


# -- values -------------------------------------------------------------------------------------------------------


def _exact(value: Any) -> Decimal:
    """A number as written: CSV text, a JSON number (parsed as Decimal), or an XLSX cell (a float: its shortest repr,
    which is what was typed for anything with at most 15 significant digits)."""
    if isinstance(value, bool):
        raise ValueProblem(f"expected a number, got {value}")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ValueProblem(f"expected a plain number like 12.50, got {text[:40]!r}")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueProblem(f"not a number: {text[:40]!r}") from None


def _scaled(value: Any, places: int, unit: str) -> int:
    number = _exact(value)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueProblem(f"{number} {unit} has more than {places} decimals")
    return int(number.scaleb(places))


def yuan_to_fen(value: Any) -> int:
    return _scaled(value, YUAN_PLACES, "yuan")


def whole(value: Any) -> int:
    number = _exact(value)
    if number != number.to_integral_value():
        raise ValueProblem(f"expected a whole number, got {number}")
    return int(number)


def ratio_to_bp(value: Any) -> int:
    """"0.05" or 0.05 (a fraction), "5%" or "12.5%" (a percentage) to basis points."""
    text = str(value).strip() if not isinstance(value, int | float | Decimal) else value
    if isinstance(text, str) and text.endswith("%"):
        bp = _scaled(text[:-1].strip(), 2, "percent")
    else:
        bp = _scaled(text, RATIO_PLACES, "(as a fraction)")
        if bp > 10_000:
            raise ValueProblem(f"{value} is more than 1; write a fraction like 0.05 or a percentage like 5%")
    return bp


_TRUE = {"1", "true", "t", "yes", "y", "是", "√"}
_FALSE = {"0", "false", "f", "no", "n", "否", ""}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(f"expected 1/0, true/false, yes/no or 是/否, got {text[:40]!r}")


def date(value: Any) -> str:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    for pattern in (r"(\d{4})-(\d{2})-(\d{2})", r"(\d{4})/(\d{1,2})/(\d{1,2})", r"(\d{4})(\d{2})(\d{2})"):
        if found := re.fullmatch(pattern, text):
            year, month, day = (int(part) for part in found.groups())
            try:
                return datetime.date(year, month, day).isoformat()
            except ValueError:
                raise ValueProblem(f"{text!r} is not a calendar date") from None
    raise ValueProblem(f"expected a date YYYY-MM-DD, got {text[:40]!r}")


def text(value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueProblem(f"expected text, got the number {value}; in a spreadsheet, format the column as text")
    return str(value).strip() if not isinstance(value, str) else value.strip()


def decimal_text(value: Any) -> str:
    """An exact decimal kept as text (quantities: the contract carries them as strings)."""
    return str(_exact(value)) if not isinstance(value, str) else value.strip()


def code_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [text(each) for each in value]
    return [part.strip() for part in text(value).split(LIST_SEPARATOR) if part.strip()]


def _bands(value: Any) -> list[pb.RatioBand]:
    """CSV "UPTO:RATIO|...|:RATIO" (UPTO in yuan, the last one empty); JSON a list of {upto|upto_fen, ratio|ratio_bp}."""
    bands = []
    items = value if isinstance(value, list) else [part for part in text(value).split(LIST_SEPARATOR) if part.strip()]
    for index, item in enumerate(items):
        band = pb.RatioBand()
        if isinstance(item, dict):
            _fill(band, item, BAND_FIELDS, prefix=f"[{index}].")
        else:
            upto, colon, ratio = str(item).partition(":")
            if not colon:
                raise ValueProblem(f"band {index + 1}: expected UPTO:RATIO like 50000:85% (UPTO empty on the last)")
            if upto.strip():
                band.upto = yuan_to_fen(upto)
            band.ratio = ratio_to_bp(ratio)
        bands.append(band)
    return bands


def _dise_caps(value: Any) -> list[pb.DiseaseCap]:
    """CSV "M03900:3000|M01600:4000" (caps in yuan); JSON a list of {opsp_dise_code, cap|cap_fen}."""
    caps = []
    items = value if isinstance(value, list) else [part for part in text(value).split(LIST_SEPARATOR) if part.strip()]
    for index, item in enumerate(items):
        cap = pb.DiseaseCap()
        if isinstance(item, dict):
            _fill(cap, item, DISE_CAP_FIELDS, prefix=f"[{index}].")
        else:
            code, colon, amount = str(item).partition(":")
            if not colon:
                raise ValueProblem(f"cap {index + 1}: expected CODE:YUAN like M03900:3000")
            cap.opsp_dise_code, cap.cap = code.strip(), yuan_to_fen(amount)
        caps.append(cap)
    return caps


# -- what each kind reads -----------------------------------------------------------------------------------------

# field -> (reader, unit suffix it also accepts with its own reader). Money fields read yuan under their own name
# and fen under name + "_fen"; ratio fields a fraction or percentage, or basis points under name + "_bp".
Reader = Callable[[Any], Any]
MONEY: tuple[Reader, str, Reader] = (yuan_to_fen, "_fen", whole)
RATIO: tuple[Reader, str, Reader] = (ratio_to_bp, "_bp", whole)

BAND_FIELDS: dict[str, tuple] = {"upto": MONEY, "ratio": RATIO}
DISE_CAP_FIELDS: dict[str, tuple] = {"opsp_dise_code": (text,), "cap": MONEY}
CATALOG_FIELDS: dict[str, tuple] = {
    "med_list_codg": (text,), "name": (text,), "list_type": (text,), "chrgitm_lv": (text,), "selfpay_prop": RATIO,
    "pric_uplmt_amt": MONEY, "lmt_used_flag": (boolean,), "lmt_sex": (text,), "lmt_age_min": (whole,),
    "lmt_age_max": (whole,), "lmt_setting": (text,), "lmt_dise_codes": (code_list,), "lmt_cnt_per_day": (decimal_text,),
    "begndate": (date,), "enddate": (date,),
}
POLICY_FIELDS: dict[str, tuple] = {
    "insuplc_admdvs": (text,), "insutype": (text,), "category": (text,), "psn_type": (text,), "hosp_lv": (text,),
    "begndate": (date,), "enddate": (date,), "dedc": MONEY, "dedc_later": MONEY, "bands": (_bands,),
    "cap_category": MONEY, "cap_overall": MONEY, "dise_caps": (_dise_caps,), "reduction_mode": (text,),
    "reduction_referral": RATIO, "reduction_emergency": RATIO, "reduction_other": RATIO, "hifob_ratio": RATIO,
    "hifob_cap": MONEY, "hifmi_threshold": MONEY, "hifmi_bands": (_bands,), "hifmi_cap": MONEY,
    "acct_pay_allowed": (boolean,),
}
PLACE_FIELDS: dict[str, tuple] = {
    "insuplc_admdvs": (text,), "begndate": (date,), "enddate": (date,), "open_med_types": (code_list,),
    "open_dise_codes": (code_list,), "tmp_filing_months": (whole,), "longterm_lock_months": (whole,),
}
INSTITUTION_FIELDS: dict[str, tuple] = {
    "fixmedins_code": (text,), "fixmedins_name": (text,), "admdvs": (text,), "hosp_lv": (text,),
    "networked_inpatient": (boolean,), "networked_outpatient": (boolean,), "networked_chronic": (boolean,),
}
PERSON_FIELDS: dict[str, tuple] = {
    "psn_no": (text,), "psn_name": (text,), "gend": (text,), "brdy": (date,), "certno": (text,), "card_no": (text,),
    "card_sn": (text,), "card_activated": (boolean,), "evoucher_token": (text,),
}
INSURANCE_FIELDS: dict[str, tuple] = {
    "insutype": (text,), "psn_type": (text,), "psn_insu_stas": (text,), "insuplc_admdvs": (text,), "balc": MONEY,
}


@dataclass(frozen=True)
class Kind:
    name: str
    message: type[Message]
    fields: dict[str, tuple]
    key: Callable[[Any], tuple]  # what names a record once in a file
    required: tuple[str, ...]  # columns a CSV or XLSX header must have


KINDS = {
    "catalog": Kind("catalog", pb.CatalogItem, CATALOG_FIELDS, lambda r: (r.med_list_codg, r.begndate),
                    ("med_list_codg", "name", "list_type", "chrgitm_lv", "begndate")),
    "policies": Kind("policies", pb.Policy, POLICY_FIELDS,
                     lambda r: (r.insuplc_admdvs, r.insutype, r.category, r.psn_type, r.hosp_lv, r.begndate),
                     ("insuplc_admdvs", "insutype", "category", "psn_type", "hosp_lv", "begndate", "bands")),
    "places": Kind("places", pb.InsuredPlace, PLACE_FIELDS, lambda r: (r.insuplc_admdvs, r.begndate),
                   ("insuplc_admdvs", "begndate", "open_med_types", "tmp_filing_months")),
    "institutions": Kind("institutions", pb.Institution, INSTITUTION_FIELDS, lambda r: (r.fixmedins_code,),
                         ("fixmedins_code", "fixmedins_name", "admdvs", "hosp_lv")),
    "persons": Kind("persons", pb.Person, {**PERSON_FIELDS, **INSURANCE_FIELDS}, lambda r: (r.psn_no,),
                    ("psn_no", "psn_name", "gend", "brdy", "insutype", "psn_type", "psn_insu_stas", "insuplc_admdvs")),
}


def _names(fields: dict[str, tuple]) -> dict[str, tuple[str, Reader]]:
    """Every accepted column or key: name -> (contract field, reader)."""
    names = {}
    for name, spec in fields.items():
        names[name] = (name, spec[0])
        if len(spec) == 3:
            names[name + spec[1]] = (name, spec[2])
    return names


def _fill(message: Message, values: dict[str, Any], fields: dict[str, tuple], prefix: str = "",
          problems: list[tuple[str, str]] | None = None) -> None:
    """Set message fields from name -> value (empty values are left unset). Problems are appended as (key, message),
    or raised when no list is given."""
    def report(key: str, text_: str) -> None:
        if problems is None:
            raise ValueProblem(f"{prefix}{key}: {text_}")
        problems.append((key, text_))

    names = _names(fields)
    given: dict[str, str] = {}
    for key, value in values.items():
        if key not in names or value is None or (isinstance(value, str) and not value.strip()):
            continue
        target, read = names[key]
        if target in given:
            report(key, f"give {given[target]} or {key}, not both")
            continue
        given[target] = key
        try:
            converted = read(value)
        except ValueProblem as problem:
            report(key, str(problem))
            continue
        if isinstance(converted, list):  # the readers of repeated fields return lists
            getattr(message, target).extend(converted)
        else:
            setattr(message, target, converted)
    if isinstance(message, pb.CatalogItem) and "lmt_used_flag" not in given:
        # The flag summarises the restrictions; a file need not repeat it.
        message.lmt_used_flag = bool(message.lmt_sex or message.HasField("lmt_age_min") or message.HasField(
            "lmt_age_max") or message.lmt_setting or message.lmt_dise_codes or message.lmt_cnt_per_day)


# -- files ----------------------------------------------------------------------------------------------------------


def decode(data: bytes, forced: str = "") -> tuple[str, str]:
    """(text, encoding name) of a file's bytes."""
    if forced:
        try:
            return data.decode(forced), forced
        except (LookupError, UnicodeDecodeError) as error:
            raise FileError(f"cannot decode as {forced}: {error}") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Restricted to what provincial files come in: unrestricted, short GBK text reads as Korean (cp949) just as well.
    best = from_bytes(data, cp_isolation=[*ACCEPTED_ENCODINGS, "big5", "cp1252"]).best()
    if best is None or best.encoding not in ACCEPTED_ENCODINGS:
        guess = best.encoding if best is not None else "unknown"
        raise FileError(f"the file is neither UTF-8 nor GBK/GB18030 (it looks like {guess}); save it as UTF-8, or "
                        f"name its encoding with --encoding")
    return data.decode("gb18030"), "GBK/GB18030"


def _table_rows(path: pathlib.Path, data: bytes, forced_encoding: str) -> tuple[list[str], Iterator[tuple[int, list]], str]:
    """(header, (line, cells) for each data row, encoding) of a CSV or XLSX file."""
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise FileError(f"not a readable XLSX workbook: {error}") from None
        rows = sheet.iter_rows(values_only=True)
        header = [text(cell) if cell is not None else "" for cell in next(rows, ())]
        return header, ((number, list(row)) for number, row in enumerate(rows, start=2)), "XLSX"
    content, encoding = decode(data, forced_encoding)
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as error:
        raise FileError(f"not CSV: {error}", line=1) from None

    def rows() -> Iterator[tuple[int, list]]:
        start = reader.line_num + 1
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield start, cells
                start = reader.line_num + 1
        except csv.Error as error:
            raise FileError(f"not CSV: {error}", line=reader.line_num) from None

    return header, rows(), encoding


def _json_records(content: str, kind: Kind) -> Iterator[tuple[int, int, dict, dict[str, tuple[int, int]]]]:
    """(line, column, object, key positions) of each record of a JSON file: a list of objects, or an object with the
    list under the kind's name ({"policies": [...], "insured_places": [...]}: policies and places each read theirs)."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    try:
        document = decoder.decode(content)
    except json.JSONDecodeError as error:
        raise FileError(f"not JSON: {error.msg}", error.lineno, error.colno) from None
    list_key = {"places": "insured_places"}.get(kind.name, kind.name)
    if isinstance(document, dict):
        document = document.get(list_key, document.get(kind.name))
        if not isinstance(document, list):
            raise FileError(f"expected a list of records, or an object with the list under {list_key!r}", 1, 1)
    if not isinstance(document, list):
        raise FileError("expected a list of records", 1, 1)
    # Positions: each record's object starts at a '{' at depth 1 of the list, found by a scan that skips strings.
    starts = _object_starts(content, list_key if content.lstrip().startswith("{") else "")
    for index, record in enumerate(document):
        offset = starts[index] if index < len(starts) else 0
        line, column = _line_column(content, offset)
        if not isinstance(record, dict):
            yield line, column, {"__not_an_object__": record}, {}
            continue
        end = starts[index + 1] if index + 1 < len(starts) else len(content)
        places = {}
        for key in record:
            found = content.find(json.dumps(key, ensure_ascii=False), offset, end)
            if found >= 0:
                places[key] = _line_column(content, found)
        yield line, column, record, places


def _object_starts(content: str, list_key: str) -> list[int]:
    """Offsets of the objects of the records list (the top-level list, or the one under list_key)."""
    start = 0
    if list_key:
        found = content.find(json.dumps(list_key))
        start = content.find("[", found) if found >= 0 else len(content)
    starts: list[int] = []
    depth, in_string, escaped = 0, False, False
    for position in range(start, len(content)):
        char = content[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            if char == "{" and depth == 1:
                starts.append(position)
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                break
    return starts


def _line_column(content: str, offset: int) -> tuple[int, int]:
    line = content.count("\n", 0, offset) + 1
    return line, offset - (content.rfind("\n", 0, offset) + 1) + 1


def read(path: pathlib.Path, kind_name: str, forced_encoding: str = "") -> ReadResult:
    """Every record of the file, or every problem with its place (the first ERRORS_MAX of them; all are counted)."""
    kind = KINDS[kind_name]
    if path.stat().st_size > FILE_BYTES_MAX:
        raise FileError(f"{path.stat().st_size:,} bytes, at most {FILE_BYTES_MAX:,}: split the file")
    data = path.read_bytes()
    problems: list[Problem] = []
    count = [0]

    def problem(line: int, column: int, where: str, message: str) -> None:
        count[0] += 1
        if len(problems) < ERRORS_MAX:
            problems.append(Problem(line, column, where, message))

    records: list[Record] = []
    ignored: list[str] = []
    names = _names(kind.fields)
    if path.suffix.lower() == ".json":
        content, encoding = decode(data, forced_encoding)
        unknown: set[str] = set()
        for line, column, values, places in _json_records(content, kind):
            if "__not_an_object__" in values:
                problem(line, column, "", "expected an object {...} for each record")
                continue
            unknown.update(key for key in values if key not in names and key != "insuinfo")
            record = _record(kind, values, line, column, places, problem)
            if record is not None:
                records.append(record)
        ignored = sorted(unknown)
    elif path.suffix.lower() in (".csv", ".xlsx", ".txt"):
        header, rows, encoding = _table_rows(path, data, forced_encoding)
        if not any(header):
            raise FileError("the first row must name the columns", line=1)
        targets = [names[name][0] for name in header if name in names]
        missing = [name for name in kind.required if name not in targets]
        if missing:
            raise FileError(f"missing column(s) {', '.join(missing)} (the first row names the columns: "
                            f"{', '.join(h for h in header if h)[:200]})", line=1)
        twice = sorted({name for name in header if name and header.count(name) > 1})
        if twice:
            raise FileError(f"column(s) named twice: {', '.join(twice)}", line=1)
        ignored = [name for name in header if name and name not in names]
        records = _table_records(kind, header, rows, problem)
    else:
        raise FileError(f"unknown file type {path.suffix!r}: .csv, .json or .xlsx")
    if len(records) > RECORDS_MAX:
        raise FileError(f"{len(records):,} records, at most {RECORDS_MAX:,} per file: split the file")
    return ReadResult(records, problems, count[0], encoding, ignored)


def _record(kind: Kind, values: dict, line: int, column: int, places: dict, problem) -> Record | None:
    message = kind.message()
    found: list[tuple[str, str]] = []
    person_fields = PERSON_FIELDS if kind.name == "persons" else kind.fields
    try:
        _fill(message, values, person_fields, problems=found)
    except ValueProblem as error:
        found.append(("", str(error)))
    if kind.name == "persons":
        lines = values.get("insuinfo", [])
        if not isinstance(lines, list):
            found.append(("insuinfo", "expected a list of insurance lines"))
            lines = []
        for index, insurance in enumerate(lines):
            line_message = pb.InsuranceInfo()
            inner: list[tuple[str, str]] = []
            _fill(line_message, insurance if isinstance(insurance, dict) else {}, INSURANCE_FIELDS, problems=inner)
            found.extend((f"insuinfo[{index}].{key}", text) for key, text in inner)
            message.insuinfo.append(line_message)
    for key, text_ in found:
        at = places.get(key.split("[")[0], (line, column))
        problem(at[0], at[1], key, text_)
    if found:
        return None
    mapped = {names_target(kind, key): at for key, at in places.items()}
    return Record(message, line, column, mapped)


def names_target(kind: Kind, key: str) -> str:
    return _names(kind.fields).get(key, (key, None))[0]


def _table_records(kind: Kind, header: list[str], rows, problem) -> list[Record]:
    names = _names(kind.fields)
    columns = {name: index + 1 for index, name in enumerate(header)}
    targets = {names[name][0]: columns[name] for name in header if name in names}
    records: list[Record] = []
    by_person: dict[str, Record] = {}
    for line, cells in rows:
        if len(cells) > len(header) and any(str(c).strip() for c in cells[len(header):] if c is not None):
            problem(line, len(header) + 1, "", f"{len(cells)} cells, the header names {len(header)} columns")
            continue
        values = {name: cells[index] if index < len(cells) else None for index, name in enumerate(header) if name}
        found: list[tuple[str, str]] = []
        if kind.name == "persons":
            person, insurance = pb.Person(), pb.InsuranceInfo()
            _fill(person, values, PERSON_FIELDS, problems=found)
            _fill(insurance, values, INSURANCE_FIELDS, problems=found)
            for key, message in found:
                problem(line, columns[key], key, message)
            if found:
                continue
            held = by_person.get(person.psn_no)
            if held is None:
                person.insuinfo.append(insurance)
                record = Record(person, line, 1, {target: (line, col) for target, col in targets.items()})
                record.places.update({f"insuinfo[0].{f}": (line, targets[f]) for f in INSURANCE_FIELDS if f in targets})
                by_person[person.psn_no] = record
                records.append(record)
                continue
            # another insurance line of a person already read: the person's own fields must say the same
            first = pb.Person()
            first.CopyFrom(held.message)
            first.ClearField("insuinfo")
            if first != person:
                problem(line, 1, "psn_no", f"{person.psn_no} is on line {held.line} with other personal details")
                continue
            index = len(held.message.insuinfo)
            held.message.insuinfo.append(insurance)
            held.places.update({f"insuinfo[{index}].{f}": (line, targets[f]) for f in INSURANCE_FIELDS if f in targets})
            continue
        message = kind.message()
        _fill(message, values, kind.fields, problems=found)
        for key, text_ in found:
            problem(line, columns[key], key, text_)
        if not found:
            records.append(Record(message, line, 1, {target: (line, col) for target, col in targets.items()}))
    return records
