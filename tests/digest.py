"""A store's content as a comparable value: every keyspace's entry count and a digest of its keys and values."""

from __future__ import annotations

import hashlib

from medsettle.store.env import Store
from medsettle.store.view import STATISTICS_KEYSPACES


def snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """Every keyspace's entry count and a digest of its keys and values: an overwrite shows, not only an insert. The
    statistics keyspaces are left out: a refused settlement is counted there, best effort, after the refusal
    (service/refusal_stats.py), and that is the only trace a refusal leaves."""
    result = {}
    with store.env.begin() as txn:
        for name, db in store.dbs.items():
            if name in STATISTICS_KEYSPACES:
                continue
            digest, count = hashlib.blake2b(digest_size=16), 0
            for raw_key, value in txn.cursor(db=db):
                for part in (raw_key, value):
                    digest.update(len(part).to_bytes(4, "big") + part)
                count += 1
            result[name] = (count, digest.hexdigest())
    assert {name: count for name, (count, _) in result.items()} == {
        name: count for name, count in store.counts().items() if name not in STATISTICS_KEYSPACES}
    return result
