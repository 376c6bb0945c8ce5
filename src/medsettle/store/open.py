"""One place that turns a store location into a store: a postgresql:// URL is the PostgreSQL backend, anything else
an LMDB data directory (the default). Every command that opens a store comes through here."""

from __future__ import annotations

from medsettle.store import env
from medsettle.store.keyspace_store import KeyspaceStore


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_store(location: str, *, create: bool = True, map_size_bytes: int = env.MAP_SIZE_BYTES_DEFAULT,
               application_name: str = "medsettle", shard_index: int | None = None) -> KeyspaceStore:
    if is_postgres(location):
        from medsettle.store.postgres import PgConfig, PgStore  # psycopg only where PostgreSQL is used

        return PgStore(PgConfig(conninfo=location, create=create, application_name=application_name,
                                shard_index=shard_index))
    return env.Store(env.StoreConfig(path=location, map_size_bytes=map_size_bytes, create=create,
                                     shard_index=shard_index))


def holds_store(location: str) -> bool:
    if is_postgres(location):
        from medsettle.store import postgres

        return postgres.holds_store(location)
    return env.holds_store(location)


def describe(location: str) -> str:
    """The location as logs and messages may show it (a URL without its password)."""
    if is_postgres(location):
        from medsettle.store.postgres import redacted

        return redacted(location)
    return location
