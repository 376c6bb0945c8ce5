"""The field checks every converter shares: codes, names, dates, amounts, ratios, exact decimals, request ids, lists
and required parameters, each refusal naming the field; and the answers every service shares (reasons, timestamps).

Proto <-> domain translation lives with each domain noun, beside the servicer that uses it: settlement_convert
(claims' fee lines, settlements), reference_convert (catalog items, policies, insured places, institutions),
person_convert, filing_convert, clearing_convert, supervision_convert. Validation of shape (formats, sizes, code
tables) happens there, with the offending field named; rules about meaning live in the domain."""

from __future__ import annotations

import re

from google.protobuf import timestamp_pb2

from medsettle.domain import dates, money, reasons, region
from medsettle.domain.reasons import Refusal, shown
from medsettle.service.errors import invalid
from medsettle.v1 import common_pb2

CODE_LEN_MAX = 40
_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-"


def is_code(value: str, limit: int = CODE_LEN_MAX) -> bool:
    """1-limit characters, each of [0-9A-Za-z._-].

    str.strip removes those characters from both ends, so only a value made of nothing else strips to "". Twice as
    fast as a regex (this runs for every fee line and every catalog item), and exact: `^...$` with re.match lets a
    trailing newline through."""
    return 0 < len(value) <= limit and not value.strip(_CODE_CHARS)


NAME_LEN_MAX = 200  # an item or an institution
PSN_NAME_LEN_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_name(value: str, limit: int = NAME_LEN_MAX) -> bool:
    """At most `limit` characters and no control character (NUL, newline, tab): names are shown and printed.

    str.isprintable is fast and true for almost every name; it is also false for some harmless characters (the
    ideographic space U+3000), which the regex then lets through."""
    return len(value) <= limit and (value.isprintable() or _CONTROL.search(value) is None)


def checked_name(value: str, field: str, limit: int = NAME_LEN_MAX) -> str:
    if not is_name(value, limit):
        raise invalid(field, f"a name has at most {limit} characters and no control characters, got {shown(value)}")
    return value


DATE_MIN = "1900-01-01"
DATE_MAX = "2199-12-31"
AMOUNT_FEN_MAX = 10**12  # ten billion yuan: far above any real line, far below int64
CNT_PLACES = 4
PRIC_PLACES = 6
# A quantity of more than a hundred million units, or a unit price above the largest line amount, is never real; the
# bounds also keep cnt_e4 and pric_e6 inside int64, which is all the store can encode.
CNT_E4_MAX = 10**8 * 10**CNT_PLACES
PRIC_E6_MAX = AMOUNT_FEN_MAX * 10**(PRIC_PLACES - 2)


# -- field checks ---------------------------------------------------------------------------------


def date(value: str, field: str, *, allow_empty: bool = False) -> str:
    if value == "" and allow_empty:
        return value
    if not dates.is_date(value) or not (DATE_MIN <= value <= DATE_MAX):
        raise invalid(field, f"expected a calendar date YYYY-MM-DD between {DATE_MIN} and {DATE_MAX}, got {shown(value)}")
    return value


ALLOWED_LISTED_CHARS_MAX = 150


def code(value: str, field: str, allowed: frozenset[str] | None = None, *, allow_empty: bool = False) -> str:
    if value == "" and allow_empty:
        return value
    if allowed is not None:
        if value not in allowed:
            listed_values = ", ".join(sorted(allowed))
            if len(listed_values) > ALLOWED_LISTED_CHARS_MAX:  # the detail must arrive whole (errors.DETAIL_CHARS_MAX)
                listed_values = f"the {len(allowed)} values the contract lists for {field.rsplit('.', 1)[-1]}"
            raise invalid(field, f"{shown(value)} is not one of: {listed_values}")
    elif not is_code(value):
        raise invalid(field, f"expected a code of 1-40 letters or digits, got {shown(value)}")
    return value


def admdvs(value: str, field: str) -> str:
    if not region.is_known(value):
        raise Refusal(reasons.UNKNOWN_REGION, field=field, detail=f"{shown(value)} is not a known 6-digit region code")
    return value


def amount(value: int, field: str, *, allow_negative: bool = False) -> int:
    if not (-AMOUNT_FEN_MAX if allow_negative else 0) <= value <= AMOUNT_FEN_MAX:
        raise invalid(field, f"amount {value} fen out of range")
    return value


def ratio(value: int, field: str) -> int:
    if not 0 <= value <= 10_000:
        raise invalid(field, f"ratio {value} bp outside 0..10000", reasons.NATIONAL_RULE_VIOLATED)
    return value


YEAR_MIN, YEAR_MAX = 1990, 2199  # accumulator and prepaid-fund years


def year(value: int, field: str = "year") -> int:
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise invalid(field, f"year {value} outside {YEAR_MIN}..{YEAR_MAX}")
    return value


def request_id(value: str, limit: int = 40, field: str = "request_id") -> str:
    if not is_code(value, limit):
        raise invalid(field, f"{field} must be 1-{limit} letters, digits, '.', '_' or '-'")
    return value


def decimal(value: str, places: int, field: str, most: int) -> int:
    """An exact decimal of at most `places` decimals, as an integer of 10^-places units, at most `most` of them."""
    try:
        scaled = money.parse_decimal(value, places)
    except ValueError as error:
        raise invalid(field, f"expected an exact decimal with at most {places} decimals: {error}") from None
    if scaled > most:
        raise invalid(field, f"{value} is more than {money.format_decimal(most, places)}")
    return scaled


def listed(values, limit: int, field: str):
    if len(values) > limit:
        raise invalid(field, f"{len(values)} entries, at most {limit}")
    return values


def required(pb, name: str, field: str, meaning: str) -> None:
    """A parameter whose proto3 zero would mean something else must be given: leaving it out is refused, naming it."""
    if not pb.HasField(name):
        raise invalid(f"{field}.{name}", f"required: {meaning}")


def required_amount(pb, name: str, field: str, meaning: str) -> int:
    required(pb, name, field, meaning)
    return amount(getattr(pb, name), f"{field}.{name}")


# -- shared answers ----------------------------------------------------------------------------


def reason_pb(reason: reasons.Reason) -> common_pb2.Reason:
    remedy_zh, remedy_en = reasons.REMEDY_TEXT.get(reason.remedy, ("", ""))
    return common_pb2.Reason(code=reason.code, message_zh=reason.zh, message_en=reason.en, remedy=reason.remedy,
                             remedy_zh=remedy_zh, remedy_en=remedy_en)


def timestamp_of_ms(ms: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp
