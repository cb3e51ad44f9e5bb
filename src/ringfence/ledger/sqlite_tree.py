"""The embedded SQLite backend of the Merkle ledger (see :mod:`ringfence.ledger.store`).

WAL mode lets readers run beside the single writer; ``synchronous=FULL`` makes every
commit durable (fsync of the WAL) before :meth:`MerkleLedger.append` returns; the writer
lock is ``BEGIN IMMEDIATE``, waited for up to ``busy_timeout``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ringfence.ledger.schema import Schema

_APPEND_ONLY = "BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE entries (
            seq            INTEGER PRIMARY KEY CHECK (seq >= 0),
            ts             TEXT NOT NULL,
            kind           TEXT NOT NULL,
            principal_type TEXT,
            principal_id   TEXT,
            runtime        TEXT,
            decision       TEXT,
            action_digest  TEXT,
            policy_digest  TEXT,
            body           BLOB NOT NULL,
            leaf           BLOB NOT NULL
        )""",
        "CREATE INDEX entries_ts ON entries (ts)",
        "CREATE INDEX entries_principal ON entries (principal_type, principal_id)",
        "CREATE INDEX entries_decision ON entries (decision)",
        """CREATE TABLE nodes (
            level INTEGER NOT NULL CHECK (level >= 0),
            idx   INTEGER NOT NULL CHECK (idx >= 0),
            hash  BLOB NOT NULL,
            PRIMARY KEY (level, idx)
        ) WITHOUT ROWID""",
        """CREATE TABLE checkpoints (
            size INTEGER PRIMARY KEY CHECK (size >= 0),
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            ts   TEXT NOT NULL
        )""",
        *(
            f"CREATE TRIGGER {table}_no_{op.lower()} " + _APPEND_ONLY.format(op=op, table=table)
            for table in ("entries", "nodes", "checkpoints")
            for op in ("UPDATE", "DELETE")
        ),
    ],
]


LEDGER_SCHEMA = Schema("ledger", MIGRATIONS)
#: How long (seconds) a :meth:`SQLiteBackend.version` answer is reused: a change made by
#: another process is seen at most this much later.
VERSION_FRESH = 0.002


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


class SQLiteBackend:
    """One SQLite file in WAL mode. The ledger's by default; the control state store
    passes its own ``schema`` (migrations, version table, error type and noun)."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 30_000, schema: Schema = LEDGER_SCHEMA) -> None:
        self.path = path
        self.where = str(path)
        self.schema = schema
        self.migrations = schema.migrations
        self.version_table = schema.version_ddl
        noun, error = schema.noun, schema.error
        self._lock = threading.Lock()
        self.writes = 0
        self._version: tuple[float, tuple[int, int]] | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(
                str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
            )
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            _wal(self._db, busy_timeout_ms / 1000)
            self._db.execute("PRAGMA synchronous=FULL")
            os.chmod(path, 0o600)
            self._writer_lock = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except (sqlite3.Error, OSError) as exc:
            raise error(f"cannot open the {noun} at {path}: {exc}") from exc

    @contextmanager
    def writing(self) -> Iterator[_Tx]:
        # Writers in other processes queue on an flock before BEGIN IMMEDIATE: the kernel
        # wakes the next one the moment the lock is free, where SQLite's busy handler
        # would poll with sleeps of up to 100 ms (which wrecks tail latency under load).
        with self._lock, _flocked(self._writer_lock):
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.schema.error(
                    f"cannot lock the {self.schema.noun} at {self.path} for writing: {exc}"
                ) from exc
            try:
                yield _Tx(self._db)
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise self.schema.error(f"cannot write to the {self.schema.noun} at {self.path}: {exc}") from exc
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise self.schema.error(f"cannot commit to the {self.schema.noun} at {self.path}: {exc}") from exc
            finally:
                self.writes += 1

    def version(self) -> tuple[int, int]:
        """Changes whenever the database may have changed: SQLite's ``data_version`` (bumped
        by commits of *other* connections) and this connection's own write count. Lets
        callers cache reads of rarely written tables (halts, revoked tokens)."""
        now = time.monotonic()
        seen = self._version
        if seen is not None and now - seen[0] < VERSION_FRESH and seen[1][1] == self.writes:
            return seen[1]  # asked twice for the same decision: one PRAGMA is enough
        with self._lock:
            row = self._db.execute("PRAGMA data_version").fetchone()
        version = (int(row[0]), self.writes)
        self._version = (now, version)
        return version

    @contextmanager
    def reading(self) -> Iterator[_Tx]:
        with self._lock:
            try:
                self._db.execute("BEGIN")  # deferred: one read snapshot for the whole block
                try:
                    yield _Tx(self._db)
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self.schema.error(f"cannot read the {self.schema.noun} at {self.path}: {exc}") from exc

    def contains(self, column: str) -> str:
        return f"instr({column}, ?) > 0"

    def close(self) -> None:
        with self._lock:
            self._db.close()
            os.close(self._writer_lock)


def _wal(db: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL. The switch needs the database to itself and SQLite may refuse it at
    once ("database is locked", without waiting) while another process opens the same new
    file, so it is retried until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def _flocked(fd: int) -> Iterator[None]:
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
