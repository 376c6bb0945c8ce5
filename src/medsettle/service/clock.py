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
    return datetime.datetime.fromtimestamp(ms / 1000, tz=SHANGHAI).date().isoformat()
