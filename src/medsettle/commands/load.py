"""`medsettle load KIND FILE`: a provincial reference-data file, checked whole, then pushed (loader.py)."""

from __future__ import annotations

import os


def register(commands) -> None:
    load = commands.add_parser("load", help="check a reference-data file whole, then push it to a server in batches "
                                             "(docs/loading.md)")
    load.add_argument("kind", choices=("catalog", "policies", "places", "institutions", "persons"))
    load.add_argument("file", help="CSV, JSON or XLSX (UTF-8 with or without BOM, or GBK/GB18030)")
    load.add_argument("--province", help="catalog: province of treatment (xx0000)")
    load.add_argument("--batch-items", type=int, default=20_000, help="records per push (at most 20,000 but a catalog)")
    load.add_argument("--dry-run", action="store_true", help="check everything, write nothing, say what would be written")
    load.add_argument("--encoding", default="", help="the file's encoding when detection is wrong (e.g. gb18030)")
    load.add_argument("--no-progress", action="store_true", help="no progress bar")
    load.add_argument("--shard-map", default=os.environ.get("MEDSETTLE_SHARD_MAP", ""),
                      help="a sharded deployment's map: every batch to every shard (env MEDSETTLE_SHARD_MAP)")
    load.set_defaults(run=cmd_load)


def cmd_load(args) -> int:
    from medsettle import loader

    return loader.run(args)
