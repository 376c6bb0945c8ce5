"""Calendar arithmetic on "YYYY-MM-DD" strings (Asia/Shanghai calendar dates, no clock, no time zone).

Dates travel and are stored as strings because they sort and compare correctly as strings; this module
converts only where arithmetic is needed. "Today" is always a parameter, never read from a clock.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import re

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only (\d also matches "٢")


def is_date(text: str) -> bool:
    """Exactly "YYYY-MM-DD" and a real calendar day (no "2024-02-30", no "20240101", no time part)."""
    if not _DATE_RE.fullmatch(text):
        return False
    try:
        _dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _parse(date: str) -> _dt.date:
    assert is_date(date), date
    return _dt.date.fromisoformat(date)


@functools.lru_cache(maxsize=4096)  # every settlement asks for the first day its rules look back to: a few dates a day
def add_days(date: str, days: int) -> str:
    return (_parse(date) + _dt.timedelta(days=days)).isoformat()


def add_months(date: str, months: int) -> str:
    """The same day `months` later (or earlier); clamped to the last day of a shorter month (01-31 + 1 -> 02-28/29)."""
    day = _parse(date)
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return _dt.date(year, month, min(day.day, last)).isoformat()


def period_end(begndate: str, months: int) -> str:
    """Last day (inclusive) of a period of `months` months starting on `begndate` (inclusive).

    Normally the day before the same day `months` later: 2024-03-01 + 6 months -> 2024-08-31.
    When that day does not exist (2024-08-31 + 6 months -> "2025-02-31"), the period ends on the last day
    of that month (2025-02-28), as periods counted in months do in the Civil Code (art. 202), so that a period
    is never shorter than the months it promises.
    """
    assert months >= 1, months
    start = _parse(begndate)
    target = add_months(begndate, months)
    if _parse(target).day != start.day:  # clamped: the corresponding day does not exist
        return target
    return add_days(target, -1)


def age_on(brdy: str, date: str) -> int:
    """Age in completed years on `date` (someone born on 02-29 turns a year older on 03-01 in common years).

    Negative for a date before birth: bad data upstream, which an age restriction then simply does not meet."""
    born = _parse(brdy)
    day = _parse(date)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def days_between(first: str, last: str) -> int:
    """Whole days from `first` to `last` (negative when `last` is earlier)."""
    return (_parse(last) - _parse(first)).days
