"""The only clock the core reads: settlement time and date are Asia/Shanghai. Tests pass a fixed one."""

from __future__ import annotations

import datetime
import time
import zoneinfo

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


class Clock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def today(self) -> str:
        return date_of_ms(self.now_ms())


class FixedClock(Clock):
    """A clock that stands still at an instant (ms since epoch) until moved."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms_value = now_ms

    @classmethod
    def at(cls, iso_local: str) -> FixedClock:
        """FixedClock.at("2026-03-01T10:00:00"), read as Asia/Shanghai time."""
        moment = datetime.datetime.fromisoformat(iso_local).replace(tzinfo=SHANGHAI)
        return cls(int(moment.timestamp() * 1000))

    def now_ms(self) -> int:
        return self.now_ms_value

    def advance_days(self, days: int) -> None:
        self.now_ms_value += days * 86_400_000


def date_of_ms(ms: int) -> str:
    """The Asia/Shanghai date of an instant. Every request asks it: the day it found last is remembered with its
    bounds, so most calls are two comparisons (a time zone conversion and a date's text cost ~2 us on the loop)."""
    global _last_day
    first_ms, next_ms, date = _last_day
    if first_ms <= ms < next_ms:
        return date
    day = datetime.datetime.fromtimestamp(ms / 1000, tz=SHANGHAI).date()
    first = datetime.datetime.combine(day, datetime.time(), tzinfo=SHANGHAI)
    following = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=SHANGHAI)
    found = (int(first.timestamp()) * 1000, int(following.timestamp()) * 1000, day.isoformat())
    assert found[0] <= ms < found[1], (ms, found)
    _last_day = found  # replaced whole: a thread racing it reads one day's bounds and date either way
    return found[2]


_last_day: tuple[int, int, str] = (0, 0, "")  # (first ms of the day, first ms of the next, its date) as last found
