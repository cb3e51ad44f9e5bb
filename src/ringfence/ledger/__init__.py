"""The record of every decision.

:class:`Ledger` is the interface the gate writes through: ledger first, then answer.
:class:`~ringfence.ledger.store.MerkleLedger` implements it as an RFC 9162 Merkle log
over SQLite (default) or PostgreSQL: every entry is a leaf, every complete subtree is
stored, appends are serialised and durable before they return, and signed checkpoints
(:mod:`ringfence.ledger.signer`) commit to its root.
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
