"""The record of every decision.

:class:`Ledger` is the interface the gate writes through: ledger first, then answer.
:class:`~ringfence.ledger.sqlite.SQLiteLedger` is the embedded backend: an append-only
table (updates and deletes are refused by triggers), WAL mode for many concurrent hook
processes, ``synchronous=FULL`` so an entry is on disk before the decision is returned.
"""

from __future__ import annotations

from typing import Any, Protocol


class Ledger(Protocol):
    def append(self, entry: dict[str, Any]) -> int:
        """Durably record ``entry``; return its sequence number."""
        ...

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest entries, newest first."""
        ...

    def close(self) -> None: ...
