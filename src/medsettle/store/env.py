"""The LMDB environment: one file, a named database per keyspace, explicit limits (the default backend; the other,
PostgreSQL, is postgres.py, and open.py picks one from a location).

`Store.read()` gives a consistent snapshot (one read transaction); `Store.write()` a write
transaction. Both hand out a `View`/`WriteView` that knows keyspaces, key encodings and records,
and nothing about gRPC.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import lmdb

from medsettle.store.errors import StoreFull, StoreLayoutError, StoreMissing
from medsettle.store.keyspace_store import STORE_LAYOUT, KeyspaceStore
from medsettle.store.view import KEYSPACES, REFERENCE_TOKEN_KEY, new_reference_token

__all__ = ["STORE_LAYOUT", "Store", "StoreConfig", "StoreFull", "StoreLayoutError", "StoreMissing", "holds_store"]
MAP_SIZE_BYTES_DEFAULT = 64 * 2**30  # sparse: the file grows as data does; raise for a national data set
MAX_READERS = 512  # reader slots shared by every worker process and thread
MAX_DBS = len(KEYSPACES) + 4


@dataclass(frozen=True)
class StoreConfig:
    path: str
    map_size_bytes: int = MAP_SIZE_BYTES_DEFAULT
    max_readers: int = MAX_READERS
    sync: bool = True  # durable commits: a settlement id handed out survives a power cut
    create: bool = True  # False: a directory that holds no store is refused (a mistyped --data-dir, not a new one)
    shard_index: int | None = None  # a shard of a sharded deployment: its position in the shard map (new ids end in it)


DATA_FILE = "data.mdb"


def holds_store(path: str) -> bool:
    return os.path.isfile(os.path.join(path, DATA_FILE))


class Store(KeyspaceStore):
    backend = "lmdb"
    writes_share_reference_cache = True

    def __init__(self, config: StoreConfig) -> None:
        if not config.create and not holds_store(config.path):
            raise StoreMissing(config.path, DATA_FILE)
        os.makedirs(config.path, exist_ok=True)
        self.config = config
        self.env = lmdb.open(
            config.path,
            map_size=config.map_size_bytes,
            max_readers=config.max_readers,
            max_dbs=MAX_DBS,
            sync=config.sync,
            metasync=config.sync,
            readahead=False,  # random point reads on a large file: readahead only evicts useful pages
            lock=True,
            subdir=True,
        )
        # Reader slots of processes that died (kill -9) pin old pages: the file then grows instead of reusing them.
        self.stale_readers_cleared = self.env.reader_check()
        with self.env.begin(write=True) as txn:
            self.dbs = {name: self.env.open_db(name.encode(), txn=txn) for name in KEYSPACES}
            self._check_layout(txn)

    def _check_layout(self, txn) -> None:
        meta = self.dbs["meta"]
        held = txn.get(b"store_layout", db=meta)
        if held is None:
            if any(txn.stat(db)["entries"] for db in self.dbs.values()):
                raise StoreLayoutError(f"{self.config.path} holds data of an unknown layout (before layout 2)")
            txn.put(b"store_layout", str(STORE_LAYOUT).encode(), db=meta)
        elif int(held) != STORE_LAYOUT:
            raise StoreLayoutError(f"{self.config.path} has store layout {int(held)}; this release reads {STORE_LAYOUT}")
        # Every store has a reference token of its own (view.REFERENCE_TOKEN), so that no two stores opened in one
        # process ever share a cached reference row.
        if txn.get(REFERENCE_TOKEN_KEY, db=meta) is None:
            txn.put(REFERENCE_TOKEN_KEY, new_reference_token(), db=meta)

    def close(self) -> None:
        self.env.close()

    def size_bytes(self) -> int:
        info = self.env.info()
        return info["last_pgno"] * self.env.stat()["psize"]

    def map_used_ratio(self) -> float:
        """How much of the map the file's high-water mark uses (free pages inside it are reused first)."""
        info = self.env.info()
        return (info["last_pgno"] + 1) * self.env.stat()["psize"] / info["map_size"]

    def clear_stale_readers(self) -> int:
        """Free the reader slots of dead processes; returns how many were freed."""
        return self.env.reader_check()
