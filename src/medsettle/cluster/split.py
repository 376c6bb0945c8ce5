"""`medsettle cluster split`: add a shard by giving it provinces of an existing one, offline (docs/operations.md).

The new shard's store starts as a compacted copy of the old shard's, taken while the old one is stopped (its serve
lock held here, so neither can be served meanwhile): it then holds everything of the provinces it takes over (persons,
filings, accumulators, stays, settlements, request ids, flags, clearing aggregates, prepaid funds) and the reference
data and directory every shard holds. Then each of the two keeps as persons only its own insured; the other's
become entries of its credential directory (`rehome`), so that no call can find a person on the shard that no longer
owns them. Their filings, stays and settlements stay behind as history: calls are routed by the new map, a shard
refuses what is not its own (WRONG_SHARD), answers clearing and reconciliation for its own insured provinces only, and
refuses to change a stay or settlement whose person it no longer holds. New ids end in the new shard's index.
"""

from __future__ import annotations

import os
import pathlib

import lmdb
import msgspec

from medsettle.domain import shards
from medsettle.store.env import DATA_FILE


class SplitRefused(ValueError):
    """The split cannot be done as asked: one line saying why."""


def new_map(shard_map: shards.ShardMap, source: str, provinces: tuple[str, ...], new_name: str,
            new_address: str = "") -> shards.ShardMap:
    """The map after `new_name` (appended at the end: its index is part of its ids) takes `provinces` from
    `source`."""
    old = shard_map.shard(source)
    if old is None:
        raise SplitRefused(f"the map has no shard {source!r} ({', '.join(shard_map.names)})")
    if not provinces or not set(provinces) <= set(old.provinces):
        raise SplitRefused(f"{source} owns {', '.join(old.provinces)}: the provinces to move must be among them")
    if set(provinces) == set(old.provinces):
        raise SplitRefused(f"{source} would keep no province: give the new shard some of them, not all")
    kept = msgspec.structs.replace(old, provinces=tuple(p for p in old.provinces if p not in provinces))
    moved = shards.Shard(name=new_name, provinces=tuple(sorted(provinces)), address=new_address)
    return shards.check(shards.ShardMap(shards=(*(kept if shard.name == source else shard
                                                  for shard in shard_map.shards), moved)))


REHOME_BATCH = 10_000  # persons per write transaction


def rehome(store_dir: str, shard_map: shards.ShardMap, name: str) -> int:
    """In a stopped shard's store, every person another shard owns becomes a directory entry. Returns how many."""
    from medsettle.domain import region
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.view import directory_entry_of
    from medsettle.supervisor import lock_data_dir

    lock = lock_data_dir(store_dir)
    store = Store(StoreConfig(path=store_dir, create=False, shard_index=shard_map.names.index(name)))
    moved = 0
    try:
        with store.read() as view:
            persons = list(view.all_persons())
        others = []
        for person in persons:
            owner = shards.owner_of_regions(shard_map, tuple(line.insuplc_admdvs for line in person.insu_lines))
            if owner is not None and owner.name != name:
                others.append(person)
        for start in range(0, len(others), REHOME_BATCH):
            with store.write() as view:
                for person in others[start:start + REHOME_BATCH]:
                    view.delete_person(person.psn_no)
                    view.put_directory_entry(directory_entry_of(
                        person, region.province_of(person.insu_lines[0].insuplc_admdvs)))
                    moved += 1
    finally:
        store.close()
        lock.close()
    return moved


def copy_store(source_dir: str, new_dir: str) -> None:
    """A compacted, consistent copy of a stopped shard's store into an empty directory."""
    from medsettle.supervisor import ServeRefused, lock_data_dir

    target = pathlib.Path(new_dir)
    if target.exists() and any(target.iterdir()):
        raise SplitRefused(f"{new_dir} is not empty: the new shard's store starts as a copy")
    if not (pathlib.Path(source_dir) / DATA_FILE).is_file():
        raise SplitRefused(f"{source_dir} holds no store")
    try:
        lock = lock_data_dir(source_dir)  # refused while the shard is served; keeps it from being served meanwhile
    except ServeRefused as served:
        raise SplitRefused(f"{served}: stop the shard first (its provinces are offline for the copy)") from None
    try:
        target.mkdir(parents=True, exist_ok=True)
        env = lmdb.open(source_dir, readonly=True, lock=False, max_dbs=64, subdir=True)
        try:
            env.copy(str(target), compact=True)
        finally:
            env.close()
        os.sync()
    finally:
        lock.close()
