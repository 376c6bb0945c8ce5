"""The clock's date of an instant: remembered for the day it last found, the same date as computed afresh."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from medsettle.service import clock

DAY_MS = 86_400_000
_2026 = 1_767_196_800_000  # 2026-01-01T00:00:00+08:00


def _afresh(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=clock.SHANGHAI).date().isoformat()


@given(st.lists(st.integers(_2026 - 3 * DAY_MS, _2026 + 3 * DAY_MS), min_size=1, max_size=20))
def test_a_remembered_day_gives_the_date_as_computed_afresh(instants_ms):
    for ms in instants_ms:  # in any order: the remembered day is replaced whenever an instant falls outside it
        assert clock.date_of_ms(ms) == _afresh(ms)


def test_the_day_turns_at_shanghai_midnight_to_the_millisecond():
    assert clock.date_of_ms(_2026 - 1) == "2025-12-31"
    assert clock.date_of_ms(_2026) == "2026-01-01"
    assert clock.date_of_ms(_2026 + DAY_MS - 1) == "2026-01-01"
    assert clock.date_of_ms(_2026 + DAY_MS) == "2026-01-02"
    assert clock.date_of_ms(_2026 - 1) == "2025-12-31"  # back again: a fixed clock may be set anywhere
    assert clock.FixedClock.at("2026-03-01T23:59:59.999").today() == "2026-03-01"
