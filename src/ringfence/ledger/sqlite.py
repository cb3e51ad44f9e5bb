"""The embedded SQLite ledger: an append-only table of decision records."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ringfence.errors import LedgerError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    ts             TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    runtime        TEXT,
    session        TEXT,
    action_kind    TEXT NOT NULL,
    action_digest  TEXT NOT NULL,
    decision       TEXT NOT NULL,
    tier           TEXT NOT NULL,
    rules          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    policy_digest  TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""

_COLUMNS = (
    "ts",
    "principal_type",
    "principal_id",
    "runtime",
    "session",
    "action_kind",
    "action_digest",
    "decision",
    "tier",
    "rules",
    "reason",
    "policy_digest",
)

_INSERT = f"INSERT INTO decisions ({', '.join(_COLUMNS)}, body) VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"


class SQLiteLedger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
            os.chmod(path, 0o600)
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"cannot open the ledger at {path}: {exc}") from exc

    def append(self, entry: dict[str, Any]) -> int:
        values = [entry.get(c) for c in _COLUMNS]
        values[_COLUMNS.index("rules")] = ",".join(entry.get("rules") or ())
        body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            try:
                cur = self._db.execute(_INSERT, [*values, body])
            except sqlite3.Error as exc:
                raise LedgerError(f"cannot record the decision in {self.path}: {exc}") from exc
            seq = cur.lastrowid
        if seq is None:
            raise LedgerError(f"cannot record the decision in {self.path}: no sequence number")
        return seq

    def recent(self, limit: int = 20, *, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM decisions WHERE seq > ? ORDER BY seq DESC LIMIT ?", (after, limit)
            ).fetchall()
        out = []
        for seq, body in rows:
            entry = json.loads(body)
            entry["seq"] = seq
            out.append(entry)
        return out

    def since(self, ts: str, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Entries recorded at or after ``ts`` (``YYYY-MM-DDTHH:MM:SSZ``), oldest first."""
        last = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, body FROM decisions WHERE ts >= ? AND seq > ? ORDER BY seq LIMIT ?", (ts, last, batch)
                ).fetchall()
            if not rows:
                return
            for seq, body in rows:
                entry = json.loads(body)
                entry["seq"] = seq
                yield entry
                last = seq

    def close(self) -> None:
        with self._lock:
            self._db.close()
