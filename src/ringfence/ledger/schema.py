"""What one database holds, for the shared SQLite and PostgreSQL backends.

The ledger and the control state store use the same two backends
(:mod:`ringfence.ledger.sqlite_tree`, :mod:`ringfence.ledger.postgres`); a
:class:`Schema` tells a backend which migrations to apply, which table records the
applied versions, which error type to raise and what to call itself in messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ringfence.errors import LedgerError, RingfenceError


@dataclass(frozen=True, slots=True)
class Schema:
    noun: str
    """What the database is called in messages: "ledger", "control state"."""
    migrations: Sequence[Sequence[str]]
    """``migrations[i]`` takes the schema from version i to i+1."""
    version_table: str = "schema_version"
    error: type[RingfenceError] = LedgerError
    lock_key: int = 0
    """PostgreSQL ``pg_advisory_xact_lock`` key of the writer lock."""

    @property
    def version_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.version_table} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
