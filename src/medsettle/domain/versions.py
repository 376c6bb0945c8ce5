"""Effective-dated versions: how a pushed version joins the history of the same key.

History is append-only: a new version must begin after every version already held. If the latest
held version is still in force on the new begndate, it is closed the day before, so exactly one
version is in force on any date and an old settlement still finds the version it used. Re-pushing an
identical version is a no-op (a retried push); a different version with the same or an earlier
begndate is refused as an overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import msgspec

from medsettle.domain import dates, reasons
from medsettle.domain.reasons import Refusal

V = TypeVar("V", bound=msgspec.Struct)


def place_version(held: Sequence[V], new: V, field: str) -> tuple[bool, V | None]:
    """(write_new, closed_previous): whether to write `new`, and the latest held version closed, if it must be.

    `held` is sorted by begndate (as the store returns it).
    """
    begndate: str = new.begndate  # type: ignore[attr-defined]
    for version in held:
        if version.begndate == begndate:  # type: ignore[attr-defined]
            if version == new:
                return False, None
            raise Refusal(reasons.VERSION_OVERLAP, field=field, detail=f"a different version from {begndate} is held")
    if held and held[-1].begndate > begndate:  # type: ignore[attr-defined]
        raise Refusal(
            reasons.VERSION_OVERLAP,
            field=field,
            detail=f"a later version from {held[-1].begndate} is held; history is append-only",  # type: ignore[attr-defined]
        )
    if held:
        latest = held[-1]
        end: str = latest.enddate  # type: ignore[attr-defined]
        if end == "" or end >= begndate:
            return True, msgspec.structs.replace(latest, enddate=dates.add_days(begndate, -1))
    return True, None
