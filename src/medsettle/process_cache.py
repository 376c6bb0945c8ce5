"""A process-wide cache: bounded, emptied when full, and out of the cyclic collector's sight once the process has
frozen its startup objects (cyclic_collector.freeze_startup_objects)."""

from __future__ import annotations

from typing import Any, TypeVar

V = TypeVar("V")


class ProcessCache(dict):
    """What a process remembers of immutable things (reference rows, distributions, parsed callers, decimals):
    `get` as a dict; `remember` adds, emptying the cache first when it holds `entries_max` (what is used again comes
    back at the next miss; a bound, not an eviction policy, since misses are rare and cheap against the memory).

    A dict subclass and not a dict, for the collector: an exact dict is untracked while empty, so the startup freeze
    passes it by; its first runtime tuple key makes it tracked, and from then on every full collection walks all its
    entries and scans them once more to untrack it: 8.2 ms for the ~92,000 catalog versions and distributions a writer
    process held after a pass of 5,000 items a province, and the worker's event loop stopped 3-6 ms every ~7.5 s in
    the mix (bench/RESULTS.md, issue 15). A subclass is tracked from birth and never untracked (the collector untracks
    exact dicts only), so the freeze takes it for good. What it holds is collected as before: a frozen referrer counts
    as a reference from outside."""

    __slots__ = ("entries_max",)

    def __init__(self, entries_max: int) -> None:
        super().__init__()
        assert entries_max > 0, entries_max
        self.entries_max = entries_max

    def remember(self, key: Any, value: V) -> V:
        if len(self) >= self.entries_max:
            self.clear()
        self[key] = value
        return value
