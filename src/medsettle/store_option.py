"""`--store`: which store a command opens. LMDB in `--data-dir` is the default; `--store postgresql://...` (env
MEDSETTLE_STORE) names a PostgreSQL database instead, e.g. a Patroni cluster through a multi-host string:

    postgresql://medsettle@db1:5432,db2:5432,db3:5432/medsettle?target_session_attrs=read-write

libpq tries the hosts in order and keeps the one that accepts writes, so after a failover the next connection finds
the new primary without any change here. A global option (cli.py), like --data-dir: every command that opens a
store (serve, up, seed, migrate, backup, restore, clearing run, report) opens it through `location`/`open_from_args`.
"""

from __future__ import annotations

import argparse
import os

from medsettle.store.open import describe, is_postgres, open_store

__all__ = ["add", "defaults", "describe", "is_postgres", "location", "open_from_args"]


def add(group) -> None:
    group.add_argument("--store", default=argparse.SUPPRESS, metavar="LOCATION",
                       help="postgresql://... to use a PostgreSQL database (several hosts and "
                            "target_session_attrs=read-write for a Patroni cluster; env MEDSETTLE_STORE); default: "
                            "the LMDB store in --data-dir")


def defaults() -> dict[str, str]:
    return {"store": os.environ.get("MEDSETTLE_STORE", "")}


def location(args: argparse.Namespace) -> str:
    """The store the command's flags name: --store when given, else the LMDB directory --data-dir."""
    return getattr(args, "store", "") or args.data_dir


def open_from_args(args: argparse.Namespace, *, create: bool):
    map_size_gib = getattr(args, "map_size_gib", None)
    kwargs = {"map_size_bytes": int(map_size_gib * 2**30)} if map_size_gib else {}
    return open_store(location(args), create=create, **kwargs)
