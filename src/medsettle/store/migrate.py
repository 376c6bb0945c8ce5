"""`medsettle migrate`: rewrite records an earlier release wrote (records as maps, codec format 1) in the current
format (arrays, compressed above 1 KiB), keyspace by keyspace, in batches.

Every record says its own format, so this release reads a store of the previous one as it is, and migration can
run while the store is served: each batch is one ordinary write transaction, and a migration stopped half-way
(a crash, Ctrl-C) is taken up again by running it again. Key layouts are not changed here: a store of another key
layout is refused when opened (env.StoreLayoutError).
"""

from __future__ import annotations

from collections.abc import Callable

from medsettle.store import codec
from medsettle.store.env import Store
from medsettle.store.view import RECORD_TYPES

BATCH_RECORDS = 10_000  # one write transaction: bounds its dirty pages


def migrate(store: Store, *, on_batch: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Rewrite every record not in a current format; returns how many were rewritten per keyspace."""
    rewritten: dict[str, int] = {}
    for space, record_type in RECORD_TYPES.items():
        db = store.dbs[space]
        done = 0
        start = b""
        while True:
            with store.env.begin(write=True) as txn:
                cursor = txn.cursor(db=db)
                found = cursor.set_range(start) if start else cursor.first()
                batch = 0
                while found and batch < BATCH_RECORDS:
                    raw_key, value = cursor.item()
                    if not codec.is_current(value):
                        record = codec.decode(value, record_type)
                        cursor.put(raw_key, codec.encode(record))  # on this cursor: it stays where it is
                        batch += 1
                    found = cursor.next()
                start = bytes(cursor.key()) if found else b""
            done += batch
            if on_batch is not None and batch:
                on_batch(space, done)
            if not found:
                break
        if done:
            rewritten[space] = done
    return rewritten


def legacy_count(store: Store) -> int:
    """How many records are still in a format of an earlier release."""
    count = 0
    with store.env.begin() as txn:
        for space in RECORD_TYPES:
            count += sum(1 for _, value in txn.cursor(db=store.dbs[space]) if not codec.is_current(value))
    return count
