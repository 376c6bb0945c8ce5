"""The supervision tallies of one write batch (the group-commit writer's): amount sketches and day statistics.

Under load a batch holds 20-30 settlements, mostly of the same institutions, day and province pairs. Written one per
job, each would read, decode, re-encode and write the same sketch and statistics rows again (about a tenth of a
settlement's server CPU, bench/RESULTS.md issue 15). Held decoded here, each row a batch touches is read at most once
and written once, into the batch's transaction before it commits. The bytes are those of one write per job: a row's
new value depends only on its previous value, the jobs run one after another, and decoding a written row gives back
the record written. A job that fails gives its changes back (`rollback`), as its aborted nested transaction gives
back its writes. A job reading a row (WriteView.sketch, stats_rows, add_stats) sees the batch's value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MISSING = object()  # `held`: the batch has not written the row (read the store)
_ABSENT = object()  # in the undo record: the batch had not written the row before the job


class Tallies:
    """Rows of the `sketches` and `stats` keyspaces as this batch left them, decoded; written back once per batch.
    Safe across processes: the batch holds the store's writer lock from its first read to its commit."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, bytes], Any] = {}  # (keyspace, key) -> record as the batch's jobs left it
        self._undo: dict[tuple[str, bytes], Any] = {}  # the running job's rows: their value before it first wrote

    def held(self, space: str, raw_key: bytes) -> Any:
        return self._rows.get((space, raw_key), MISSING)

    def put(self, space: str, raw_key: bytes, record: Any) -> None:
        row_key = (space, raw_key)
        if row_key not in self._undo:
            self._undo[row_key] = self._rows.get(row_key, _ABSENT)
        self._rows[row_key] = record

    def under(self, space: str, key_prefix: bytes) -> Iterator[tuple[bytes, Any]]:
        """The rows of `space` held, whose key starts with key_prefix (in no order)."""
        for (held_space, raw_key), record in self._rows.items():
            if held_space == space and raw_key.startswith(key_prefix):
                yield raw_key, record

    def mark(self) -> dict[tuple[str, bytes], Any]:
        """Before a job: from here on, what `rollback` undoes. Costs nothing for the rows the job leaves alone."""
        self._undo = {}
        return self._undo

    def rollback(self, mark: dict[tuple[str, bytes], Any]) -> None:
        for row_key, before in mark.items():
            if before is _ABSENT:
                del self._rows[row_key]
            else:
                self._rows[row_key] = before
        mark.clear()

    def changed(self) -> Iterator[tuple[str, bytes, Any]]:
        """Every row the batch wrote, once: (keyspace, key, record)."""
        for (space, raw_key), record in self._rows.items():
            yield space, raw_key, record
