"""`medsettle seed`, `migrate`, `backup` and `restore`: the store of a data directory, without a server."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from medsettle import exits
from medsettle.commands import env, number

SEED_DEFAULT = 2026
ITEMS_PER_PROVINCE_DEFAULT = 20_000
PERSONS_PER_PROVINCE_DEFAULT = 2_000
DEMO_TODAY = "2026-01-01"  # the demo nation's own 'today': filings and versions are dated around it


def register(commands) -> None:
    seed = commands.add_parser("seed", help="build the demo nation into the data directory")
    add_map_size(seed)
    seed.add_argument("--force", action="store_true", help="seed even if the directory holds data")
    add_seed_flags(seed)
    seed.set_defaults(run=cmd_seed)

    migrate = commands.add_parser("migrate", help="rewrite records of an earlier release in the current format "
                                                  "(safe while serving; run again after an interruption)")
    add_map_size(migrate)
    migrate.set_defaults(run=cmd_migrate)

    backup = commands.add_parser("backup", help="a consistent, compacted copy of the store into an empty directory "
                                                "(safe while serving)")
    backup.add_argument("--out", required=True, help="a new or empty directory (data.mdb and backup.json)")
    add_map_size(backup)
    backup.set_defaults(run=cmd_backup)

    restore = commands.add_parser("restore", help="put a backup into an empty data directory (never over a store), "
                                                  "after checking it")
    restore.add_argument("--from", dest="backup", required=True, help="the directory `medsettle backup` wrote")
    add_map_size(restore)
    restore.set_defaults(run=cmd_restore)


def add_map_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--map-size-gib", type=number(float, 0.01, 2**16, "MEDSETTLE_MAP_SIZE_GIB"),
                        default=env("MEDSETTLE_MAP_SIZE_GIB", "64"),
                        help="LMDB map size in GiB (sparse; env MEDSETTLE_MAP_SIZE_GIB)")


def add_seed_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=SEED_DEFAULT, help="generator seed (same seed, same nation)")
    parser.add_argument("--items-per-province", type=int, default=ITEMS_PER_PROVINCE_DEFAULT)
    parser.add_argument("--persons-per-province", type=int, default=PERSONS_PER_PROVINCE_DEFAULT)
    parser.add_argument("--millions", action="store_true",
                        help="a national-size catalog: 100,000 items per province (3.2 million in all)")
    parser.add_argument("--no-audit-rules", action="store_true",
                        help="leave out the provinces' audit rules (就医地管理), e.g. for a baseline benchmark")


def open_store(args, *, create: bool = True):
    from medsettle import store_option

    return store_option.open_from_args(args, create=create)


def seed_into(store, args) -> None:
    """The demo nation into `store`, as the seed flags say, with a summary."""
    from medsettle.demo import seeding

    started = time.perf_counter()
    written = seeding.seed(store, seed=args.seed, items_per_province=100_000 if args.millions else args.items_per_province,
                           persons_per_province=args.persons_per_province, today=DEMO_TODAY,
                           audit_rules=not args.no_audit_rules)
    print(f"seeded in {time.perf_counter() - started:.1f} s; records written per kind:")
    for kind, count in sorted(written.items()):
        print(f"  {kind:<16} {count:>10,}")
    _print_entries(store.counts())
    print(f"store size on disk: {store.size_bytes() / 2**20:,.1f} MiB")


def _print_entries(counts: dict[str, int]) -> None:
    print("entries per keyspace:")
    for name, count in counts.items():
        if count:
            print(f"  {name:<16} {count:>10,}")


def cmd_seed(args) -> int:
    store = open_store(args)
    try:
        if not store.is_empty() and not args.force:
            raise exits.CommandError(f"{store.config.path} already holds data; use --force to add the demo nation anyway",
                                     exits.REFUSED)
        seed_into(store, args)
    finally:
        store.close()
    return exits.OK


def cmd_migrate(args) -> int:
    """Rewrite the records of an earlier release in the current format (see store/migrate.py)."""
    from medsettle.store import migrate

    store = open_store(args, create=False)
    try:
        before = migrate.legacy_count(store)
        print(f"{store.config.path}: {before:,} records in an earlier format")
        rewritten = migrate.migrate(store, on_batch=lambda space, done: print(f"  {space}: {done:,} rewritten"))
        for space, count in rewritten.items():
            print(f"{space:<16} {count:>10,}")
        left = migrate.legacy_count(store)
        print(f"migrated {sum(rewritten.values()):,} records; {left:,} left in an earlier format")
        return exits.OK if left == 0 else exits.REFUSED
    finally:
        store.close()


def cmd_backup(args) -> int:
    from medsettle.store import backup

    started = time.perf_counter()
    store = open_store(args, create=False)
    try:
        size_bytes = store.size_bytes()
        manifest = backup.backup(store, pathlib.Path(args.out))
    except backup.BackupError as error:
        raise exits.CommandError(str(error)) from None
    finally:
        store.close()
    print(f"backed up {manifest.source} into {args.out} in {time.perf_counter() - started:.1f} s: "
          f"{manifest.data_bytes / 2**20:,.1f} MiB (the store uses {size_bytes / 2**20:,.1f} MiB), "
          f"sha256 {manifest.sha256[:16]}...")
    _print_entries(manifest.entries)
    return exits.OK


def cmd_restore(args) -> int:
    from medsettle import store_option
    from medsettle.store import backup

    started = time.perf_counter()
    into = store_option.location(args)
    try:
        if store_option.is_postgres(into):  # an empty database: the backup's rows are written into it
            store = open_store(args, create=True)
            try:
                manifest = backup.restore_into(store, pathlib.Path(args.backup))
            finally:
                store.close()
        else:
            manifest = backup.restore(pathlib.Path(args.backup), pathlib.Path(args.data_dir))
    except backup.BackupError as error:
        raise exits.CommandError(str(error)) from None
    store = open_store(args, create=False)
    try:
        counts = store.counts()
    finally:
        store.close()
    shown = store_option.describe(into)
    if counts != manifest.entries:  # checked in the backup already: this is the copy's own read back
        raise exits.CommandError(f"{shown}: the restored store holds other entries than the backup lists",
                                 exits.REFUSED)
    flag = f"--store '{shown}'" if store_option.is_postgres(into) else f"--data-dir {args.data_dir}"
    print(f"restored the backup of {manifest.source} taken {manifest.taken_at} into {shown} in "
          f"{time.perf_counter() - started:.1f} s; serve it with: medsettle serve {flag} ...",
          file=sys.stderr)
    _print_entries(counts)
    return exits.OK
