"""A consistent, compacted copy of a live store, and putting one back.

`backup` copies the store as one read transaction sees it (LMDB's compacting copy: free pages left out, pages
renumbered), so it runs beside a serving server without stopping it: every settlement committed before the copy's
transaction began is in it, none half. The copy's `backup.json` says what it holds (entries per keyspace, layout,
SHA-256 of data.mdb) and is written last: a directory without it is not a finished backup.

`restore` puts a backup into an empty directory only (never over a store), after checking its digest, its layout
and its entries; the file is written under a temporary name, flushed and renamed, so a restore that is interrupted
leaves no data.mdb that a server could open.

Over PostgreSQL the same commands make and read the same backup: `backup` copies every keyspace as one REPEATABLE
READ snapshot sees it into an LMDB file of this format, and `restore_into` writes a checked backup into an empty
PostgreSQL store. So a backup of either backend restores into either (moving a host's LMDB store to the cluster is a
backup and a restore). For a cluster's continuous backups and point-in-time recovery, use pgBackRest or
pg_basebackup (docs/operations.md); this is the portable, checked copy of what medsettle holds.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import shutil
from dataclasses import asdict, dataclass

import lmdb

from medsettle.store.env import DATA_FILE, STORE_LAYOUT, holds_store
from medsettle.store.keyspace_store import KeyspaceStore
from medsettle.store.view import KEYSPACES

MANIFEST_FILE = "backup.json"
MANIFEST_FORMAT = 1
CHUNK_BYTES = 4 * 2**20
COPY_ROWS_PER_TXN = 10_000  # a logical copy commits in steps of this many rows (bounds one transaction)
COPY_MAP_SIZE_BYTES = 2**40  # sparse: the copy's file grows as it is written


class BackupError(RuntimeError):
    """A backup cannot be taken or put back, for a reason the operator can fix (one line)."""


@dataclass(frozen=True)
class Manifest:
    format: int
    taken_at: str  # ISO-8601, UTC
    source: str
    store_layout: int
    entries: dict[str, int]
    data_bytes: int
    sha256: str


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _empty_directory(path: pathlib.Path, role: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} is not an empty directory; {role} goes into a new or empty one")
    path.mkdir(parents=True, exist_ok=True)


def backup(store: KeyspaceStore, out: pathlib.Path) -> Manifest:
    _empty_directory(out, "a backup")
    if store.backend == "lmdb":
        with store.env.begin() as txn:  # the copy and its counts are of this one snapshot
            entries = {name: txn.stat(db)["entries"] for name, db in store.dbs.items()}
            store.env.copy(str(out), compact=True, txn=txn)
        source = os.path.abspath(store.config.path)
    else:
        entries = _copy_out(store, out)
        source = store.config.path
    data = out / DATA_FILE
    _fsync(data)
    manifest = Manifest(format=MANIFEST_FORMAT, source=source, store_layout=STORE_LAYOUT,
                        taken_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                        entries=entries, data_bytes=data.stat().st_size, sha256=_sha256(data))
    partial = out / (MANIFEST_FILE + ".partial")
    partial.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    _fsync(partial)
    partial.rename(out / MANIFEST_FILE)
    _fsync(out)
    return manifest


def read_manifest(directory: pathlib.Path) -> Manifest:
    path = directory / MANIFEST_FILE
    if not path.is_file() or not (directory / DATA_FILE).is_file():
        raise BackupError(f"{directory} is not a finished medsettle backup (no {MANIFEST_FILE} and {DATA_FILE})")
    try:
        manifest = Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from None
    if manifest.format != MANIFEST_FORMAT:
        raise BackupError(f"{path} is of backup format {manifest.format}; this release reads {MANIFEST_FORMAT}")
    return manifest


def check(directory: pathlib.Path) -> Manifest:
    """The backup's manifest, once its data file is what the manifest says: same digest, layout and entries."""
    manifest = read_manifest(directory)
    data = directory / DATA_FILE
    if data.stat().st_size != manifest.data_bytes or _sha256(data) != manifest.sha256:
        raise BackupError(f"{data} is not the file {MANIFEST_FILE} describes (size or SHA-256 differ): damaged")
    if manifest.store_layout != STORE_LAYOUT:
        raise BackupError(f"{directory} holds store layout {manifest.store_layout}; this release reads "
                          f"{STORE_LAYOUT}")
    # Read-only and without a lock file: the backup directory is left exactly as it is.
    env = lmdb.open(str(directory), readonly=True, lock=False, max_dbs=len(KEYSPACES) + 4, subdir=True)
    try:
        with env.begin() as txn:
            held = {name: txn.stat(env.open_db(name.encode(), txn=txn, create=False))["entries"]
                    for name in manifest.entries}
    except lmdb.Error as error:
        raise BackupError(f"{data} cannot be read as a store: {error}") from None
    finally:
        env.close()
    if held != manifest.entries:
        raise BackupError(f"{data} holds other entries than {MANIFEST_FILE} lists: damaged")
    return manifest


def _copy_out(store: KeyspaceStore, out: pathlib.Path) -> dict[str, int]:
    """Every keyspace of `store`, as one snapshot sees it, into a new LMDB file in `out`; its entries per keyspace."""
    env = lmdb.open(str(out), map_size=COPY_MAP_SIZE_BYTES, max_dbs=len(KEYSPACES) + 4, sync=False, metasync=False,
                    subdir=True)
    entries: dict[str, int] = {}
    try:
        with store.env.begin() as source:  # one snapshot: the copy is of one moment
            for name, db in store.dbs.items():
                target_db = env.open_db(name.encode())
                rows = iter(source.cursor(db=db))
                entries[name] = 0
                while True:
                    with env.begin(write=True) as target:
                        batch = 0
                        for raw_key, value in rows:
                            assert target.put(bytes(raw_key), bytes(value), append=True, db=target_db)  # key order
                            batch += 1
                            if batch >= COPY_ROWS_PER_TXN:
                                break
                    entries[name] += batch
                    if batch < COPY_ROWS_PER_TXN:
                        break
        env.sync(True)
    finally:
        env.close()
    (out / "lock.mdb").unlink(missing_ok=True)  # a finished backup is the data file and its manifest
    return entries


def restore_into(store: KeyspaceStore, directory: pathlib.Path) -> Manifest:
    """A checked backup into an empty PostgreSQL store, keyspace by keyspace in bounded transactions."""
    if not store.is_empty():
        raise BackupError(f"{store.config.path} holds a store; restore never overwrites one (restore into a new, "
                          f"empty database, then serve that)")
    manifest = check(directory)
    env = lmdb.open(str(directory), readonly=True, lock=False, max_dbs=len(KEYSPACES) + 4, subdir=True)
    try:
        with env.begin() as source:
            for name in manifest.entries:
                rows = iter(source.cursor(db=env.open_db(name.encode(), txn=source, create=False)))
                while True:
                    with store.env.begin(write=True) as target:
                        batch = 0
                        for raw_key, value in rows:
                            target.put(bytes(raw_key), bytes(value), db=store.dbs[name])
                            batch += 1
                            if batch >= COPY_ROWS_PER_TXN:
                                break
                    if batch < COPY_ROWS_PER_TXN:
                        break
    finally:
        env.close()
    return manifest


def restore(directory: pathlib.Path, data_dir: pathlib.Path) -> Manifest:
    if holds_store(str(data_dir)):
        raise BackupError(f"{data_dir} holds a store; restore never overwrites one (restore into a new directory, "
                          f"then serve that)")
    manifest = check(directory)
    _empty_directory(data_dir, "a restore")
    partial = data_dir / (DATA_FILE + ".partial")
    with (directory / DATA_FILE).open("rb") as source, partial.open("wb") as target:
        shutil.copyfileobj(source, target, CHUNK_BYTES)
        target.flush()
        os.fsync(target.fileno())
    partial.rename(data_dir / DATA_FILE)
    _fsync(data_dir)
    return manifest
