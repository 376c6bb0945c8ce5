"""A per-process cache of reference data read from PostgreSQL: catalog items, policies, insured places,
institutions and audit rules, the rows every settlement reads and that change only by a push.

LMDB reads them in about a microsecond from the page cache; over PostgreSQL each would be a network round trip,
several per fee line. Entries are keyed by the generation of the reference data: a counter row that every write
transaction touching these keyspaces increments before its COMMIT (postgres.py), and that every read snapshot reads
with its BEGIN. A snapshot therefore only uses entries of the generation it sees, whichever host's push changed it,
and a new generation drops the old entries. Entries are what a query returned (rows or one value), so the cache
holds bytes, decoded by the views like any row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

CACHED_KEYSPACES = frozenset({"catalog", "policies", "places", "institutions", "audit_rules"})
ENTRIES_MAX = 200_000  # about 100 MB at worst (a few rows of a few hundred bytes each); emptied whole when reached


class ReferenceCache:
    def __init__(self, entries_max: int = ENTRIES_MAX) -> None:
        self.entries_max = entries_max
        self.generation = -1
        self._entries: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def see(self, generation: int) -> None:
        """A snapshot saw `generation`: a newer one than the cache's drops every entry of the older."""
        if generation > self.generation:
            with self._lock:
                if generation > self.generation:
                    self._entries = {}
                    self.generation = generation

    def rows(self, generation: int, space: str, op: str, raw_key: bytes, read: Callable[[], Any]) -> Any:
        entry_key = (generation, space, op, raw_key)
        try:
            found = self._entries[entry_key]
        except KeyError:
            pass
        else:
            self.hits += 1
            return found
        self.misses += 1
        found = read()
        if generation == self.generation:  # an older snapshot's answer is right for it, not for the cache
            if len(self._entries) >= self.entries_max:
                self._entries = {}
            self._entries[entry_key] = found
        return found
