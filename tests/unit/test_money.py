"""Integer money: one rounding rule, exact parsing, display. Expected values are worked by hand."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsettle.domain.money import apply_bp, format_fen, line_amount_fen, parse_decimal, round_half_up_div


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 7, 0),
        (4, 10, 0),  # 0.4
        (5, 10, 1),  # 0.5 -> 1: half rounds up
        (6, 10, 1),
        (15, 10, 2),  # 1.5 -> 2
        (25, 10, 3),  # 2.5 -> 3 (not banker's 2)
        (-4, 10, 0),
        (-5, 10, -1),  # symmetric: half away from zero
        (-25, 10, -3),
        (7, -2, -4),  # -3.5
        (1_000_000_000, 9000, 111_111),  # 111111.11
    ],
)
def test_round_half_up_div(numerator, denominator, expected):
    assert round_half_up_div(numerator, denominator) == expected


def test_apply_bp_rounds_once_half_up():
    assert apply_bp(452, 500) == 23  # 4.52 yuan × 5% = 0.226 -> 0.23 (the real response in DOMAIN.md 6.1)
    assert apply_bp(1, 5000) == 1  # half a fen -> 1 fen
    assert apply_bp(1, 4999) == 0
    assert apply_bp(3, 5000) == 2  # 1.5 -> 2
    assert apply_bp(-1, 5000) == -1
    assert apply_bp(12_345, 10_000) == 12_345
    assert apply_bp(12_345, 0) == 0


def test_line_amount_fen():
    assert line_amount_fen(20_000, 2_260_000) == 452  # 2 × 2.26 yuan
    assert line_amount_fen(10_000, 5_000) == 1  # 1 × 0.005 yuan = half a fen -> 1
    assert line_amount_fen(10_000, 4_999) == 0  # 0.4999 fen
    assert line_amount_fen(15_000, 333_333) == 50  # 1.5 × 0.333333 = 0.4999995 yuan = 49.99995 fen
    assert line_amount_fen(1, 1_000_000) == 0  # 0.0001 × 1 yuan = 0.01 fen
    assert line_amount_fen(5_000, 3_010_000) == 151  # 0.5 × 3.01 = 1.505 yuan


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ("1.5", 4, 15_000),
        ("0.0001", 4, 1),
        ("12", 2, 1200),
        ("12.3", 2, 1230),
        ("0", 0, 0),
        ("7", 0, 7),
        ("007.10", 2, 710),
        ("123456789.123456", 6, 123_456_789_123_456),
    ],
)
def test_parse_decimal(text, places, expected):
    assert parse_decimal(text, places) == expected


def test_parse_decimal_negative_only_when_allowed():
    assert parse_decimal("-1.25", 2, allow_negative=True) == -125
    assert parse_decimal("1.25", 2, allow_negative=True) == 125
    with pytest.raises(ValueError):
        parse_decimal("-1.25", 2)


@pytest.mark.parametrize(
    "text",
    ["1.23456", "1e3", "", " 1", "1 ", "+1", "1.", ".5", "١", "1,000", "--1", "1.2.3", "NaN", "inf", "0x10", "1" * 41],
)
def test_parse_decimal_rejects(text):
    with pytest.raises(ValueError):
        parse_decimal(text, 4)


def test_parse_decimal_rejects_double_sign_even_when_negative_allowed():
    with pytest.raises(ValueError):
        parse_decimal("--1", 2, allow_negative=True)
    with pytest.raises(ValueError):
        parse_decimal("-", 2, allow_negative=True)


@pytest.mark.parametrize(
    ("fen", "text"),
    [(1234, "12.34"), (5, "0.05"), (0, "0.00"), (-5, "-0.05"), (100, "1.00"), (-123_456, "-1234.56")],
)
def test_format_fen(fen, text):
    assert format_fen(fen) == text


@given(st.integers(min_value=-10**18, max_value=10**18))
def test_format_fen_is_yuan_with_two_decimals_and_reads_back_exactly(fen):
    """Every amount an explanation shows: a plain decimal with exactly two places that parses back to the fen."""
    text = format_fen(fen)
    assert text.rsplit(".", 1)[1].isdigit() and len(text.rsplit(".", 1)[1]) == 2
    assert not text.lstrip("-").startswith("0") or text.lstrip("-").startswith("0.")
    assert parse_decimal(text, 2, allow_negative=True) == fen


@pytest.mark.parametrize(("text", "places"), [("1.5", 4), ("0.0001", 4), ("4.52", 6), ("12", 4), ("0", 6), ("-3.25", 2)])
def test_format_decimal_is_the_inverse_of_parse_decimal(text, places):
    from medsettle.domain.money import format_decimal

    assert format_decimal(parse_decimal(text, places, allow_negative=True), places) == text
