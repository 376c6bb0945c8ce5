"""The PostgreSQL backend: the same keyspaces and key encodings as LMDB, one ordered bytes table per keyspace.

Why below View/WriteView: the views call a handful of transaction primitives (get, put, delete, a cursor with
set_range/first/last/next/prev, stat) and the environment's begin(write, parent). Offering exactly those over
PostgreSQL keeps every key encoding, record codec and read path shared: the domain and the servicers cannot tell
the backends apart, and a keyspace added to view.py is a table here without another line of code. Each keyspace is
`ks_<name> (k bytea PRIMARY KEY, v bytea)`: bytea compares like memcmp, the order LMDB keeps, so prefix scans and
"greatest version <= date" searches are the same index range scans.

Transactions:
- A read snapshot is REPEATABLE READ READ ONLY: every statement of a request sees one snapshot, as an LMDB read
  transaction does.
- A write transaction first takes one transaction-level advisory lock (WRITE_LOCK_KEY). Every writer of every
  medsettle process on every host over this database queues on it, so writes are serialized exactly as LMDB's
  writer lock serializes them on one host. That is what keeps the accumulator version check, the counters
  (next_seq), the clearing and statistics aggregates and the idempotency check correct across hosts without a
  per-keyspace locking protocol: each of them is a read-modify-write of rows that may not exist yet, which row
  locks cannot cover. The writer then reads under READ COMMITTED, so it sees every batch committed before the lock
  was granted. The cost is one writer at a time cluster-wide; each batch holds the lock for one group commit (up to
  64 settlements), which bench/RESULTS.md measures.
- Writes are buffered in the transaction (reads see them) and sent in one pipeline with the COMMIT: a batch of 64
  settlements is a handful of round trips, not a thousand. A job of the group-commit writer is a nested transaction:
  its buffer is merged into the batch's on success and dropped on refusal; only when a job must range-scan after
  writing is a real SAVEPOINT taken.
- A COMMIT whose outcome the client cannot know (the connection broke, the server shut down while waiting for the
  synchronous standby, a "committed locally but not replicated" warning) raises CommitUnknown: the caller answers
  UNAVAILABLE, never "not done", and a retry with the same request id finds the request record or settles once.

Catalog, policy, insured-place, institution and audit-rule look-ups are served from a per-process cache of their
versions (reference_cache.py), invalidated through a generation counter that every write to those keyspaces bumps
in its own transaction, read once per snapshot: a push landing through any host invalidates every process's cache.
That cache holds rows as bytes; above it, the views keep decoded rows per process under a snapshot's reference token
(view.REFERENCE_TOKEN), which here is the generation too.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from medsettle.store import reference_cache
from medsettle.store.errors import (
    CommitUnknown,
    StoreFailed,
    StoreFull,
    StoreLayoutError,
    StoreMissing,
    StoreUnavailable,
)
from medsettle.store.keyspace_store import STORE_LAYOUT, KeyspaceStore
from medsettle.store.view import KEYSPACES, REFERENCE_TOKEN_KEY, new_reference_token

# pg_advisory_xact_lock key of the writers (any 64-bit number unique to medsettle in the database: "medsettl").
WRITE_LOCK_KEY = 0x6D65647365747430
CONNECT_TIMEOUT_S = 3  # per host of a multi-host string: a dead host costs at most this
FIRST_PAGE_ROWS = 4  # a positioning read (a catalog or policy version) needs one or two rows
NEXT_PAGE_ROWS = 256  # a scan goes on in pages of this many rows
CONNECTIONS_PER_THREAD_MAX = 8  # nested snapshots on one thread are rare; more is a leak
GENERATION_TABLE = "reference_generation"
_SYNC_REP_WARNING = "synchronous replication"  # PostgreSQL's warning when a commit was not confirmed by a standby


def redacted(conninfo: str) -> str:
    """The connection string without its password, for logs and messages."""
    parsed = urllib.parse.urlsplit(conninfo)
    if parsed.password is None:
        return conninfo
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
    return urllib.parse.urlunsplit(parsed._replace(netloc=netloc))


@dataclass(frozen=True)
class PgConfig:
    conninfo: str
    create: bool = True  # False: a database without medsettle's tables is refused (a mistyped URL)
    application_name: str = "medsettle"
    map_size_bytes: int = 0  # no map: PostgreSQL grows its files; a full disk is StoreFull all the same
    shard_index: int | None = None  # a shard of a sharded deployment (env.StoreConfig): new ids end in it

    @property
    def path(self) -> str:  # what messages name the store by (LMDB: its directory)
        return redacted(self.conninfo)


def _table(space: str) -> sql.Identifier:
    return sql.Identifier(f"ks_{space}")


class _Statements:
    """Every statement of one keyspace, composed once into text (composing at each call costs more than the call
    itself); the reads are prepared on each connection at first use."""

    def __init__(self, space: str) -> None:
        def text(template: str) -> str:
            return sql.SQL(template).format(_table(space)).as_string(None)

        self.get = text("SELECT v FROM {} WHERE k = %s")
        self.ge = text("SELECT k, v FROM {} WHERE k >= %s ORDER BY k LIMIT %s")
        self.gt = text("SELECT k, v FROM {} WHERE k > %s ORDER BY k LIMIT %s")
        self.first = text("SELECT k, v FROM {} ORDER BY k LIMIT %s")
        self.lt = text("SELECT k, v FROM {} WHERE k < %s ORDER BY k DESC LIMIT 1")
        self.last = text("SELECT k, v FROM {} ORDER BY k DESC LIMIT 1")
        self.put = text("INSERT INTO {} (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v")
        self.delete = text("DELETE FROM {} WHERE k = %s")
        self.count = text("SELECT count(*) FROM {}")
        self.create = text("CREATE TABLE IF NOT EXISTS {} (k bytea PRIMARY KEY, v bytea NOT NULL)")


STATEMENTS = {space: _Statements(space) for space in KEYSPACES}
_BUMP_GENERATION = f"UPDATE {GENERATION_TABLE} SET generation = generation + 1"
_READ_GENERATION = f"SELECT generation FROM {GENERATION_TABLE}"
PREPARED_MAX = 512  # every read statement of every keyspace stays prepared on a connection
_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
_BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
_LOCK_WRITERS = f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"


def _translate(error: psycopg.Error) -> Exception:
    """A psycopg error as the store's own: the callers (the writer, rpc.py) know no psycopg."""
    if isinstance(error, psycopg.errors.DiskFull):
        return StoreFull("the PostgreSQL server", why=str(error).strip())
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreUnavailable(str(error).strip() or type(error).__name__)
    return StoreFailed(f"{type(error).__name__}: {str(error).strip()}")


class _Connections:
    """The connections of one store, a small stack per thread (the event loop's reads, the writer's batches, a tool's
    loop): a psycopg connection is used by one thread at a time."""

    def __init__(self, config: PgConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._all: list[psycopg.Connection] = []
        self._cursors: dict[int, psycopg.Cursor] = {}
        self._lock = threading.Lock()
        # Grows whenever a connection breaks: the idle connections made before are dropped rather than tried, since
        # they most likely lead to the same dead primary (after a failover each would fail one more request).
        self.epoch = 0
        self._epoch_of: dict[int, int] = {}

    def take(self) -> psycopg.Connection:
        idle = getattr(self._local, "idle", None)
        while idle:
            conn = idle.pop()
            if self._epoch_of.get(id(conn)) == self.epoch:
                return conn
            self.discard(conn)
        try:
            conn = psycopg.connect(self.config.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name=self.config.application_name)
        except psycopg.Error as error:
            raise _translate(error) from error
        conn.add_notice_handler(_remember_notice)
        conn.prepared_max = PREPARED_MAX
        with self._lock:
            self._all.append(conn)
            self._epoch_of[id(conn)] = self.epoch
        return conn

    def cursor_of(self, conn: psycopg.Connection) -> psycopg.Cursor:
        """The connection's one binary cursor (a new cursor per statement costs as much as a cached query)."""
        cursor = self._cursors.get(id(conn))
        if cursor is None or cursor.connection is not conn:
            cursor = self._cursors[id(conn)] = conn.cursor(binary=True)
        return cursor

    def give_back(self, conn: psycopg.Connection, *, broken: bool) -> None:
        if broken or conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            if broken:
                self.epoch += 1
            self.discard(conn)
            return
        idle = self._local.__dict__.setdefault("idle", [])
        if len(idle) < CONNECTIONS_PER_THREAD_MAX:
            idle.append(conn)
        else:
            self.discard(conn)

    def discard(self, conn: psycopg.Connection) -> None:
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
            self._cursors.pop(id(conn), None)
            self._epoch_of.pop(id(conn), None)
        try:
            conn.close()
        except psycopg.Error:
            pass

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except psycopg.Error:
                pass


def _remember_notice(diagnostic: psycopg.errors.Diagnostic) -> None:
    # A commit that waited for the synchronous standby and was cancelled (or whose wait was cut by a shutdown) is
    # committed on this server only: if it dies now, the new primary may not have it. Such a commit is not reported
    # as done (CommitUnknown); the notice arrives on the committing thread, so a thread-local flag carries it.
    if diagnostic.severity_nonlocalized == "WARNING" and _SYNC_REP_WARNING in (diagnostic.message_primary or ""):
        _notices.sync_rep_warning = True


_notices = threading.local()


class PgEnv:
    """What the views and the writer call an environment: begin(write, parent) gives a transaction."""

    def __init__(self, connections: _Connections, cache: reference_cache.ReferenceCache) -> None:
        self.connections = connections
        self.cache = cache
        # A read snapshot's reference token (view.REFERENCE_TOKEN: the key of the views' per-process cache of decoded
        # reference rows) is this store's nonce and the generation its BEGIN read: no round trip for it, and no
        # two stores opened in one process share a token.
        self.token_prefix = new_reference_token() + b":"

    def begin(self, write: bool = False, parent: PgTxn | None = None, buffers: bool = False) -> PgTxn:
        if parent is not None:
            assert write and parent.write, "only a write transaction nests"
            return PgTxn(self, write=True, parent=parent)
        return PgTxn(self, write=write)


class PgTxn:
    """One transaction, with the py-lmdb Transaction calls the views use (db= names a keyspace)."""

    def __init__(self, env: PgEnv, *, write: bool, parent: PgTxn | None = None) -> None:
        self.env = env
        self.write = write
        self.parent = parent
        self.root: PgTxn = parent.root if parent is not None else self
        self.pending: dict[tuple[str, bytes], bytes | None] = {}  # buffered writes; None = delete
        self.savepoint = ""  # the SQL savepoint of a nested transaction that had to flush
        self.version = 0  # grows with every write: cursors re-read a page that a write may have changed
        self.done = False
        if parent is not None:
            assert not parent.done and not getattr(parent, "child_open", False), "one nested transaction at a time"
            parent.child_open = True
            self.conn = parent.conn
            self.sql_cursor = parent.sql_cursor
            return
        self.child_open = False
        self.reference_written = False
        self.conn = env.connections.take()
        self.sql_cursor = env.connections.cursor_of(self.conn)
        try:
            if write:
                with self.conn.pipeline():
                    self.conn.execute(_BEGIN_WRITE)
                    self.conn.execute(_LOCK_WRITERS)
                self.generation = -1  # a writer never uses the cache: it must see its own writes
            else:
                with self.conn.pipeline():
                    self.conn.execute(_BEGIN_READ)
                    row = self.conn.execute(_READ_GENERATION).fetchone()
                self.generation = row[0]
                env.cache.see(self.generation)
        except psycopg.Error as error:
            self._fail()
            raise _translate(error) from error

    # -- the context-manager protocol of lmdb.Transaction: commit at the end, abort on an exception ------------

    def __enter__(self) -> PgTxn:
        return self

    def __exit__(self, kind, value, trace) -> None:
        if self.done:
            return
        if kind is None:
            self.commit()
        else:
            self.abort()

    # -- statements ---------------------------------------------------------------------------------------------

    def _run(self, statement, params: tuple = ()) -> list[tuple]:
        assert not self.root.done, "transaction has ended"
        try:
            cursor = self.sql_cursor.execute(statement, params or None)
            return cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as error:
            self.root._fail()
            raise _translate(error) from error

    def _fail(self) -> None:
        """The connection is unusable or its transaction aborted: throw both away (the server rolls back)."""
        root = self.root
        if not root.done:
            root.done = True
            root.env.connections.give_back(root.conn, broken=True)

    def flush(self) -> None:
        """Send the buffered writes of this transaction and its parent, so that a range read sees them."""
        if not self.write:
            return
        root = self.root
        if root.pending:
            pending, root.pending = root.pending, {}
            root._apply(pending)
        if self.parent is not None and self.pending:
            if not self.savepoint:
                self.savepoint = f"job{id(self) & 0xFFFFFFFF:x}"
                self._run(sql.SQL("SAVEPOINT {}").format(sql.Identifier(self.savepoint)))
            pending, self.pending = self.pending, {}
            self._apply(pending)

    def _apply(self, pending: dict[tuple[str, bytes], bytes | None]) -> None:
        puts: dict[str, list[tuple[bytes, bytes]]] = {}
        deletes: dict[str, list[tuple[bytes]]] = {}
        for (space, raw_key), value in pending.items():
            if value is None:
                deletes.setdefault(space, []).append((raw_key,))
            else:
                puts.setdefault(space, []).append((raw_key, value))
        if not puts and not deletes:
            return
        try:
            with self.conn.pipeline(), self.conn.cursor(binary=True) as cursor:
                for space, rows in puts.items():
                    cursor.executemany(STATEMENTS[space].put, rows)
                for space, rows in deletes.items():
                    cursor.executemany(STATEMENTS[space].delete, rows)
        except psycopg.Error as error:
            self.root._fail()
            raise _translate(error) from error

    # -- lmdb.Transaction ---------------------------------------------------------------------------------------

    def get(self, raw_key: bytes, default: Any = None, db: str = "") -> bytes | None:
        if self.write:
            txn: PgTxn | None = self
            while txn is not None:
                found = txn.pending.get((db, raw_key), txn)
                if found is not txn:
                    return default if found is None else found
                txn = txn.parent
        elif db == "meta" and raw_key == REFERENCE_TOKEN_KEY:
            return self.env.token_prefix + str(self.generation).encode("ascii")
        elif db in reference_cache.CACHED_KEYSPACES:
            found = self.env.cache.rows(self.generation, db, "get", raw_key, lambda: self._get(db, raw_key))
            return default if found is None else found
        found = self._get(db, raw_key)
        return default if found is None else found

    def _get(self, space: str, raw_key: bytes) -> bytes | None:
        rows = self._run(STATEMENTS[space].get, (raw_key,))
        return rows[0][0] if rows else None

    def put(self, raw_key: bytes, value: bytes, dupdata: bool = True, overwrite: bool = True, append: bool = False,
            db: str = "") -> bool:
        assert self.write and not self.done, "put outside a write transaction"
        assert raw_key and len(raw_key) <= 511, raw_key  # LMDB's bound on keys: the same keys work on both
        self.pending[(db, bytes(raw_key))] = bytes(value)
        self._wrote(db)
        return True

    def delete(self, raw_key: bytes, value: bytes = b"", db: str = "") -> bool:
        assert self.write and not self.done, "delete outside a write transaction"
        existed = self.get(raw_key, db=db) is not None
        if existed:
            self.pending[(db, bytes(raw_key))] = None
            self._wrote(db)
        return existed

    def _wrote(self, space: str) -> None:
        self.root.version += 1
        if space in reference_cache.CACHED_KEYSPACES:
            self.root.reference_written = True

    def cursor(self, db: str = "") -> PgCursor:
        return PgCursor(self, db)

    def stat(self, db: str) -> dict[str, int]:
        self.flush()
        return {"entries": self._run(STATEMENTS[db].count)[0][0]}

    def commit(self) -> None:
        if self.done:
            return
        if self.parent is not None:
            self._end_nested(keep=True)
            return
        if not self.write:
            self._end(b"COMMIT")
            return
        if self.pending:
            # Answered (synced) before the COMMIT is sent: a failure here is StoreUnavailable or StoreFailed, and
            # certainly nothing was committed.
            pending, self.pending = self.pending, {}
            self._apply(pending)
        _notices.sync_rep_warning = False
        try:
            with self.conn.pipeline():
                if self.reference_written:
                    self.conn.execute(_BUMP_GENERATION)
                self.conn.execute("COMMIT")
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            # The COMMIT may have reached the server and been applied: nobody may be told "not done".
            self._fail()
            raise CommitUnknown(str(error).strip() or type(error).__name__) from error
        except psycopg.Error as error:  # the server refused a statement: it rolled the transaction back
            self._fail()
            raise _translate(error) from error
        self.done = True
        if _notices.sync_rep_warning:
            # Committed here but not confirmed by the synchronous standby: not durable against this host's death.
            self.env.connections.give_back(self.conn, broken=True)
            raise CommitUnknown("the commit was not confirmed by the synchronous standby")
        self.env.connections.give_back(self.conn, broken=False)

    def abort(self) -> None:
        if self.done:
            return
        if self.parent is not None:
            self._end_nested(keep=False)
            return
        self.pending.clear()
        self._end(b"ROLLBACK")

    def _end(self, statement: bytes) -> None:
        self.done = True
        try:
            self.conn.execute(statement)
        except psycopg.Error:
            self.env.connections.give_back(self.conn, broken=True)
            if statement == b"COMMIT":  # a read-only transaction: nothing to lose, but the caller must hear of it
                raise StoreUnavailable("the connection broke while ending a read snapshot") from None
            return
        self.env.connections.give_back(self.conn, broken=False)

    def _end_nested(self, *, keep: bool) -> None:
        self.done = True
        self.parent.child_open = False
        if self.root.done:
            return  # the batch's transaction failed under this job: the batch answers for it
        if self.savepoint:
            name = sql.Identifier(self.savepoint)
            if keep:
                self._run(sql.SQL("RELEASE SAVEPOINT {}").format(name))
            else:
                self._run(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(name))
                self._run(sql.SQL("RELEASE SAVEPOINT {}").format(name))
        if keep:
            self.parent.pending.update(self.pending)
        self.pending = {}
        self.root.version += 1


class PgCursor:
    """py-lmdb's Cursor over one keyspace table: positioned on a row, moving in key order, reading pages of rows."""

    def __init__(self, txn: PgTxn, space: str) -> None:
        self.txn = txn
        self.space = space
        self.statements = STATEMENTS[space]
        self.cached = not txn.write and space in reference_cache.CACHED_KEYSPACES
        self._rows: list[tuple[bytes, bytes]] = []
        self._i = -1  # index of the current row in _rows; -1: not positioned
        self._more = False  # rows may follow the page
        self._version = 0
        self._edge = b""  # the row a move fell off from (see _fell_off)
        self._edge_kind = ""

    def _query(self, op: str, statement, params: tuple) -> list[tuple[bytes, bytes]]:
        if self.txn.write:
            self.txn.flush()
        if self.cached:
            return self.txn.env.cache.rows(self.txn.generation, self.space, op, params[0] if params else b"",
                                           lambda: self.txn._run(statement, params))
        return self.txn._run(statement, params)

    def _page(self, rows: list[tuple[bytes, bytes]], size: int) -> bool:
        self._rows = rows
        self._more = len(rows) >= size
        self._version = self.txn.root.version
        self._i = 0 if rows else -1
        self._edge = b""
        return bool(rows)

    def _fell_off(self, edge_key: bytes, edge: str) -> bool:
        # LMDB keeps a cursor that moved past the last (first) row on that row: a move back from there lands on its
        # neighbour. key() and item() answer empty meanwhile, as py-lmdb's do.
        self._i, self._rows, self._edge, self._edge_kind = -1, [], edge_key, edge
        return False

    def set_range(self, raw_key: bytes) -> bool:
        if not raw_key:
            return self.first()
        raw_key = bytes(raw_key)
        if self._page(self._query("ge", self.statements.ge, (raw_key, FIRST_PAGE_ROWS)), FIRST_PAGE_ROWS):
            return True
        return self._fell_off(raw_key, "end")  # past every key: a step back lands on the last row

    def set_key(self, raw_key: bytes) -> bool:
        return self.set_range(raw_key) and self._rows[self._i][0] == raw_key

    def first(self) -> bool:
        return self._page(self._query("first", self.statements.first, (FIRST_PAGE_ROWS,)), FIRST_PAGE_ROWS)

    def last(self) -> bool:
        found = self._page(self._query("last", self.statements.last, ()), 2)
        self._more = True
        return found

    def next(self) -> bool:
        if self._i < 0:
            if not self._edge:
                return self.first()
            if self._edge_kind == "end":
                return False
            current = self._edge  # fell off the front: the next row is the one after it
        else:
            current = self._rows[self._i][0]
            if self._i + 1 < len(self._rows) and self._version == self.txn.root.version:
                self._i += 1
                return True
            if not self._more and self._version == self.txn.root.version:
                return self._fell_off(current, "end")
        if self._page(self._query("gt", self.statements.gt, (current, NEXT_PAGE_ROWS)), NEXT_PAGE_ROWS):
            return True
        return self._fell_off(current, "end")

    def prev(self) -> bool:
        if self._i < 0:
            if not self._edge:
                return self.last()
            if self._edge_kind == "front":
                return False
            current = self._edge
        else:
            current = self._rows[self._i][0]
        found = self._page(self._query("lt", self.statements.lt, (current,)), 2)
        self._more = True
        return found or self._fell_off(current, "front")

    def key(self) -> bytes:
        return self._rows[self._i][0] if self._i >= 0 else b""

    def value(self) -> bytes:
        return self._rows[self._i][1] if self._i >= 0 else b""

    def item(self) -> tuple[bytes, bytes]:
        return self._rows[self._i] if self._i >= 0 else (b"", b"")

    def put(self, raw_key: bytes, value: bytes) -> bool:
        """Write through this cursor's transaction; the cursor stays where it is (as migrate.py expects)."""
        written = self.txn.put(raw_key, value, db=self.space)
        if self._i >= 0 and self._rows[self._i][0] == raw_key:
            self._rows[self._i] = (bytes(raw_key), bytes(value))
            self._version = self.txn.root.version  # rewriting the current row moves no other row: the page holds
        return written

    def delete(self) -> bool:
        """Delete the current row and move to the next, like py-lmdb."""
        if self._i < 0:
            return False
        current = self._rows[self._i][0]
        self.txn.delete(current, db=self.space)
        return self._page(self._query("gt", self.statements.gt, (current, NEXT_PAGE_ROWS)), NEXT_PAGE_ROWS)

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        if self._i < 0 and not self.first():
            return
        while True:
            yield self._rows[self._i]
            if not self.next():
                return


class PgStore(KeyspaceStore):
    """The store over PostgreSQL: what Store is over LMDB (read, write, counts, close), for any command."""

    backend = "postgresql"

    def __init__(self, config: PgConfig) -> None:
        self.config = config
        self.connections = _Connections(config)
        self.cache = reference_cache.ReferenceCache()
        self.env = PgEnv(self.connections, self.cache)
        self.dbs = {space: space for space in KEYSPACES}
        self.stale_readers_cleared = 0
        self._create_or_check()

    def _create_or_check(self) -> None:
        conn = self.connections.take()
        try:
            present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (GENERATION_TABLE,)).fetchone()[0]
            if not present and not self.config.create:
                raise StoreMissing(self.config.path)
            with conn.transaction():
                # Two processes creating the tables at once: the second waits here, then finds them.
                conn.execute(_LOCK_WRITERS)
                for space in KEYSPACES:
                    conn.execute(STATEMENTS[space].create)
                conn.execute(f"CREATE TABLE IF NOT EXISTS {GENERATION_TABLE} (generation bigint NOT NULL)")
                if conn.execute(_READ_GENERATION).fetchone() is None:
                    conn.execute(f"INSERT INTO {GENERATION_TABLE} VALUES (0)")
                held = conn.execute(STATEMENTS["meta"].get, (b"store_layout",), binary=True).fetchone()
                if held is None:
                    conn.execute(STATEMENTS["meta"].put, (b"store_layout", str(STORE_LAYOUT).encode()), binary=True)
                elif int(bytes(held[0])) != STORE_LAYOUT:
                    raise StoreLayoutError(f"{self.config.path} has store layout {int(bytes(held[0]))}; this release "
                                           f"reads {STORE_LAYOUT}")
        except psycopg.Error as error:
            self.connections.discard(conn)
            raise _translate(error) from error
        except BaseException:
            self.connections.discard(conn)
            raise
        self.connections.give_back(conn, broken=False)

    def close(self) -> None:
        self.connections.close()

    def size_bytes(self) -> int:
        with self.read() as view:
            rows = view.txn._run("SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class WHERE relkind = 'r'"
                                 " AND relnamespace = current_schema()::regnamespace AND relname LIKE 'ks\\_%'")
        return int(rows[0][0])

    def map_used_ratio(self) -> float:
        return 0.0  # no map: PostgreSQL's disk is watched by its own monitoring

    def clear_stale_readers(self) -> int:
        return 0  # a dead client's snapshot ends with its connection

    def describe(self) -> str:
        return self.config.path


def holds_store(conninfo: str) -> bool:
    """Whether the database holds medsettle's tables (a serve without --create refuses one that does not)."""
    try:
        with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            return bool(conn.execute("SELECT to_regclass(%s) IS NOT NULL", (GENERATION_TABLE,)).fetchone()[0])
    except psycopg.Error as error:
        raise _translate(error) from error
