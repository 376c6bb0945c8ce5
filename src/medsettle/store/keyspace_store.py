"""What every store backend shares: snapshots and write transactions handed out as View/WriteView over the backend's
transaction primitives (py-lmdb's, or postgres.py's with the same calls), and the counts every command shows.

A backend sets `env` (begin(write, parent) -> transaction), `dbs` (keyspace -> the handle its transactions take as
db=), `config` (with `.path`, what messages name it by, and `.shard_index`) and implements close, size_bytes, map_used_ratio and
clear_stale_readers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from medsettle.store.view import Sequences, View, WriteView

# The layout of keys and keyspaces. Bump it when a key encoding changes; a store of another layout is refused at
# open rather than read wrongly. 2: catalog keys carry the begndate descending.
STORE_LAYOUT = 2


class KeyspaceStore:
    backend = ""
    env: Any
    dbs: dict[str, Any]
    config: Any
    stale_readers_cleared: int = 0
    # A write transaction reads reference rows through the process's cache (view.REFERENCE_TOKEN) when the backend
    # hands it the committed token: LMDB's one writer at a time sees every commit before it.
    writes_share_reference_cache = False

    @contextlib.contextmanager
    def read(self) -> Iterator[View]:
        """A consistent snapshot of everything."""
        with self.env.begin(buffers=False) as txn:
            view = View(txn, self.dbs)
            try:
                yield view
            finally:
                # py-lmdb keeps an ended read transaction's reader slot until the Transaction object is freed, and a
                # coroutine's `view` variable lives across its later awaits (a settlement awaiting the writer): drop
                # the view's references, or every in-flight request holds slots (512 per host) it no longer uses.
                view.release()

    @contextlib.contextmanager
    def write(self) -> Iterator[WriteView]:
        """One write transaction: committed when the block ends, aborted on an exception."""
        with self.env.begin(write=True) as txn:
            yield self.write_view(txn)

    def write_view(self, txn: Any, sequences: Sequences | None = None) -> WriteView:
        """A WriteView over one of this store's write transactions (or a nested one)."""
        view = WriteView(txn, self.dbs, sequences, shares_reference_cache=self.writes_share_reference_cache)
        view.shard_index = self.config.shard_index
        return view

    def counts(self) -> dict[str, int]:
        with self.env.begin() as txn:
            return {name: txn.stat(db)["entries"] for name, db in self.dbs.items()}

    def is_empty(self) -> bool:
        return all(count == 0 for name, count in self.counts().items() if name != "meta")

    def close(self) -> None:
        raise NotImplementedError

    def size_bytes(self) -> int:
        raise NotImplementedError

    def map_used_ratio(self) -> float:
        raise NotImplementedError

    def clear_stale_readers(self) -> int:
        raise NotImplementedError
