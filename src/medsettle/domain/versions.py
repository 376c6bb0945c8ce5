"""Effective-dated versions: how a pushed version joins the history of the same key, and how a version that has
not taken effect is withdrawn.

History is kept: a new version must begin after every version already held. If the latest held version is still
in force on the new begndate, it is closed the day before, so exactly one version is in force on any date and an
old settlement still finds the version it used. That is also how a mistake is corrected: a later version
supersedes it from a date. Re-pushing an identical version is a no-op (a retried push); a different version with
the same or an earlier begndate is refused as an overlap. A version that has not taken effect yet (nothing was
settled under it) may be withdrawn: the version before it, if it ran up to it, runs on through its period.
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
            raise Refusal(reasons.VERSION_OVERLAP, field=field,
                          detail=f"a different version from {begndate} is held; correct it by a version from a later "
                                 f"date, or withdraw it first if it has not taken effect")
    if held and held[-1].begndate > begndate:  # type: ignore[attr-defined]
        raise Refusal(
            reasons.VERSION_OVERLAP,
            field=field,
            detail=f"a later version from {held[-1].begndate} is held; history is kept: push a version from a later "  # type: ignore[attr-defined]
                   f"date, or withdraw that version first if it has not taken effect",
        )
    if held:
        latest = held[-1]
        end: str = latest.enddate  # type: ignore[attr-defined]
        if end == "" or end >= begndate:
            return True, msgspec.structs.replace(latest, enddate=dates.add_days(begndate, -1))
    return True, None


def withdraw(held: Sequence[V], begndate: str, today: str, field: str) -> tuple[V, V | None]:
    """(withdrawn, extended): the held version from `begndate`, and the version before it with its enddate extended
    over the withdrawn period when it ran up to it (else None). Only a version that begins after `today` can go."""
    index = next((i for i, version in enumerate(held) if version.begndate == begndate), None)  # type: ignore[attr-defined]
    if index is None:
        raise Refusal(reasons.VERSION_NOT_FOUND, field=field, detail=f"no version from {begndate} is held")
    if begndate <= today:
        raise Refusal(reasons.VERSION_IN_EFFECT, field=field,
                      detail=f"the version from {begndate} took effect by {today}: push a version from a later date")
    withdrawn = held[index]
    if index == 0:
        return withdrawn, None
    previous = held[index - 1]
    if previous.enddate != dates.add_days(begndate, -1):  # type: ignore[attr-defined]
        return withdrawn, None  # it ended earlier of its own accord: the gap stays
    return withdrawn, msgspec.structs.replace(previous, enddate=withdrawn.enddate)  # type: ignore[attr-defined]
