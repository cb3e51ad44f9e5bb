"""The PostgreSQL backend of the Merkle ledger (see :mod:`ringfence.ledger.store`).

For several servers sharing one ledger. The writer lock is a transaction-scoped
advisory lock (``pg_advisory_xact_lock(LOCK_KEY)``, released by COMMIT or ROLLBACK,
and by the server when a client dies), so appenders on any number of hosts serialise
into one gap-free sequence. The lock key is one constant per database: two ledgers in
different schemas of one database share it (they serialise, which is correct but
slower). A commit returns once it is flushed to the server's WAL (``synchronous_commit``
``on``, the default); the backend refuses to open if the server runs with it ``off``.

The tables live in the connection's ``search_path`` (e.g. pass
``?options=-csearch_path%3Dledger`` in the URL).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from ringfence.ledger.schema import Schema

#: ``pg_advisory_xact_lock`` key of the ledger writer lock ("rf" "ledger" in ASCII-ish hex).
LOCK_KEY = 0x7266_6C65_6467_6572

_APPEND_ONLY_FN = """CREATE FUNCTION ringfence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $$"""

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE entries (
            seq            BIGINT PRIMARY KEY CHECK (seq >= 0),
            ts             TEXT NOT NULL,
            kind           TEXT NOT NULL,
            principal_type TEXT,
            principal_id   TEXT,
            runtime        TEXT,
            decision       TEXT,
            action_digest  TEXT,
            policy_digest  TEXT,
            body           BYTEA NOT NULL,
            leaf           BYTEA NOT NULL
        )""",
        "CREATE INDEX entries_ts ON entries (ts)",
        "CREATE INDEX entries_principal ON entries (principal_type, principal_id)",
        "CREATE INDEX entries_decision ON entries (decision)",
        """CREATE TABLE nodes (
            level INTEGER NOT NULL CHECK (level >= 0),
            idx   BIGINT NOT NULL CHECK (idx >= 0),
            hash  BYTEA NOT NULL,
            PRIMARY KEY (level, idx)
        )""",
        """CREATE TABLE checkpoints (
            size BIGINT PRIMARY KEY CHECK (size >= 0),
            root BYTEA NOT NULL,
            note TEXT NOT NULL,
            ts   TEXT NOT NULL
        )""",
        _APPEND_ONLY_FN,
        *(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ringfence_append_only()"
            for table in ("entries", "nodes", "checkpoints")
        ),
    ],
]
LEDGER_SCHEMA = Schema("ledger", MIGRATIONS, lock_key=LOCK_KEY)

_PLACEHOLDER = re.compile(r"\?")


def _sql(sql: str) -> str:
    """Our ``?`` placeholders as psycopg's ``%s`` (our SQL has no literal ``?`` or ``%``)."""
    return _PLACEHOLDER.sub("%s", sql)


class _Tx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(_sql(sql), params)
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cur.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_sql(sql), rows)


def _redacted(dsn: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", dsn)


class PostgresBackend:
    """One PostgreSQL connection. The ledger's by default; the control state store passes
    its own ``schema`` (migrations, version table, error type, noun and lock key)."""

    def __init__(self, dsn: str, *, connect_timeout: int = 10, schema: Schema = LEDGER_SCHEMA) -> None:
        self.where = _redacted(dsn)
        self.schema = schema
        self.migrations = schema.migrations
        self.version_table = schema.version_ddl
        noun, error = schema.noun, schema.error
        self._lock = threading.Lock()
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
            row = self._conn.execute("SHOW synchronous_commit").fetchone()
        except psycopg.Error as exc:
            raise error(f"cannot open the {noun} at {self.where}: {exc}") from exc
        if row is not None and row[0] == "off":
            self._conn.close()
            raise error(f"the {noun} at {self.where} runs with synchronous_commit=off: writes would not be durable")

    @contextmanager
    def writing(self) -> Iterator[_Tx]:
        with self._lock:
            try:
                with self._conn.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self.schema.lock_key,))
                    yield _Tx(self._conn)
            except psycopg.Error as exc:
                raise self.schema.error(f"cannot write to the {self.schema.noun} at {self.where}: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[_Tx]:
        with self._lock:
            try:
                self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    yield _Tx(self._conn)
                finally:
                    self._conn.execute("COMMIT")
            except psycopg.Error as exc:
                raise self.schema.error(f"cannot read the {self.schema.noun} at {self.where}: {exc}") from exc

    def contains(self, column: str) -> str:
        return f"position(?::bytea in {column}) > 0"

    def close(self) -> None:
        with self._lock:
            self._conn.close()
