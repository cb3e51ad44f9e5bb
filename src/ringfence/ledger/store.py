"""The Merkle ledger: entries, the RFC 9162 tree over them and checkpoints, on any backend.

:class:`MerkleLedger` holds all the logic; a :class:`Backend` (SQLite in
:mod:`ringfence.ledger.sqlite_tree`, PostgreSQL in :mod:`ringfence.ledger.postgres`)
only supplies a connection, its SQL dialect and an exclusive writer transaction.

Schema (version 1; the ``schema_version`` table records the migrations applied, and
:func:`migrate` applies missing ones whenever a ledger is opened):

* ``entries(seq, ts, kind, principal_type, principal_id, runtime, decision,
  action_digest, policy_digest, body, leaf)`` — ``seq`` is the leaf index, gap-free
  ``0..n-1``; ``body`` is the entry's canonical bytes (:mod:`ringfence.ledger.canonical`),
  ``leaf`` is ``H(0x00 || body)``. The other columns are copies of fields of the body,
  kept for searching; the body is the record, the columns are an index.
* ``nodes(level, idx, hash)`` — the hash of every complete subtree: ``2**level`` leaves
  starting at leaf ``idx * 2**level`` (level 0 holds the leaf hashes). Subtrees are
  immutable once complete, so an append writes O(log n) rows and reads O(log n), and
  any root or proof for any size reads O(log n) rows.
* ``checkpoints(size, root, note, ts)`` — roots the log committed to (with the signed
  note text when there is one).

All three tables are append-only (triggers refuse UPDATE and DELETE).

An append takes the writer lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL
``pg_advisory_xact_lock``), reads the size, inserts the entry at ``seq = size`` and the
nodes it completes, and commits; it returns only once the commit is durable. Concurrent
appenders therefore serialise into one gap-free sequence, and a crash at any point
leaves either the whole append or none of it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ringfence.errors import LedgerError, RingfenceError
from ringfence.ledger import canonical, merkle
from ringfence.ledger.schema import Schema

SCHEMA_VERSION = 1

#: Fields of an entry copied into indexed columns (besides ``ts`` and ``kind``).
INDEXED = ("principal_type", "principal_id", "runtime", "decision", "action_digest", "policy_digest")
_ENTRY_COLUMNS = ("seq", "ts", "kind", *INDEXED, "body", "leaf")
_INSERT_ENTRY = f"INSERT INTO entries ({', '.join(_ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(_ENTRY_COLUMNS))})"
_INSERT_NODE = "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)"
_CACHE_LIMIT = 1 << 16


class Tx(Protocol):
    """One transaction on a backend connection; SQL uses ``?`` placeholders."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Backend(Protocol):
    """Storage for a :class:`MerkleLedger`."""

    @property
    def where(self) -> str:
        """A human-readable location (file path, or URL without password), for messages."""
        ...

    @property
    def migrations(self) -> Sequence[Sequence[str]]:
        """``migrations[i]`` is the list of statements taking the schema from version i to i+1."""
        ...

    @property
    def version_table(self) -> str:
        """DDL creating the ``schema_version`` table if it does not exist."""
        ...

    @property
    def schema(self) -> Schema:
        """What the database holds: migrations, version table, error type and noun."""
        ...

    def writing(self) -> AbstractContextManager[Tx]:
        """A transaction holding the ledger's exclusive writer lock; commits durably on exit."""
        ...

    def reading(self) -> AbstractContextManager[Tx]:
        """A read-only transaction (a consistent snapshot where the backend offers one)."""
        ...

    def contains(self, column: str) -> str:
        """SQL true when the bytes column ``column`` contains the bytes parameter ``?``."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    body: bytes
    leaf: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    size: int
    root: bytes
    note: str
    ts: str


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def migrate(backend: Backend) -> int:
    """Apply the migrations the database lacks; idempotent and safe under concurrency.

    An up-to-date database is recognised in a read transaction, so opening one does not
    queue behind writers."""
    table = backend.schema.version_table
    try:
        with backend.reading() as tx:
            current = tx.query(f"SELECT MAX(version) FROM {table}")[0][0] or 0
        if current == len(backend.migrations):
            return current
    except RingfenceError:
        pass  # no version table yet: create it under the writer lock below
    with backend.writing() as tx:
        tx.execute(backend.version_table)
        current = tx.query(f"SELECT MAX(version) FROM {table}")[0][0] or 0
        if current > len(backend.migrations):
            raise backend.schema.error(
                f"the {backend.schema.noun} at {backend.where} has schema version {current}, newer than this "
                f"ringfence understands ({len(backend.migrations)}); upgrade ringfence"
            )
        for version in range(current + 1, len(backend.migrations) + 1):
            for statement in backend.migrations[version - 1]:
                tx.execute(statement)
            tx.execute(f"INSERT INTO {table} (version, applied_at) VALUES (?, ?)", (version, _now()))
        return len(backend.migrations)


def _prepare(entry: dict[str, Any]) -> tuple[list[Any], bytes, bytes]:
    """Column values (without seq, body, leaf), canonical body and leaf hash of ``entry``."""
    if not isinstance(entry, dict):
        raise LedgerError(f"a ledger entry must be a dict, got {type(entry).__name__}")
    full = dict(entry)
    full.setdefault("kind", "decision")
    full.setdefault("ts", _now())
    values: list[Any] = []
    for name in ("ts", "kind", *INDEXED):
        value = full.get(name)
        if name in ("ts", "kind") and not isinstance(value, str):
            raise LedgerError(f"ledger entry field {name!r} must be a string, got {value!r}")
        if value is not None and not isinstance(value, str):
            raise LedgerError(f"ledger entry field {name!r} must be a string or null, got {value!r}")
        values.append(value)
    body = canonical.encode(full)
    return values, body, merkle.leaf_hash(body)


def _decoded(seq: int, body: bytes) -> dict[str, Any]:
    entry = canonical.decode(bytes(body))
    entry["seq"] = seq
    return entry


class MerkleLedger:
    """An append-only, tamper-evident ledger (satisfies :class:`ringfence.ledger.Ledger`)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._cache: dict[tuple[int, int], bytes] = {}
        migrate(backend)

    # --- writing -----------------------------------------------------------------

    def append(self, entry: dict[str, Any]) -> int:
        """Durably record ``entry``; return its sequence number (= its leaf index)."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Iterable[dict[str, Any]]) -> list[int]:
        """Durably record ``entries`` in one transaction, consecutively; return their seqs."""
        prepared = [_prepare(e) for e in entries]
        if not prepared:
            return []
        pending: dict[tuple[int, int], bytes] = {}
        try:
            with self.backend.writing() as tx:
                get = self._write_getter(tx, pending)
                start = int(tx.query("SELECT COALESCE(MAX(seq) + 1, 0) FROM entries")[0][0])
                entry_rows: list[list[Any]] = []
                node_rows: list[tuple[int, int, bytes]] = []
                for offset, (values, body, leaf) in enumerate(prepared):
                    seq = start + offset
                    entry_rows.append([seq, *values, body, leaf])
                    for level, idx, digest in merkle.nodes_to_store(seq, leaf, get):
                        pending[(level, idx)] = digest
                        node_rows.append((level, idx, digest))
                tx.executemany(_INSERT_ENTRY, entry_rows)
                tx.executemany(_INSERT_NODE, node_rows)
        except LedgerError:
            raise
        except Exception as exc:
            raise LedgerError(f"cannot record the entry in the ledger at {self.backend.where}: {exc}") from exc
        if len(self._cache) + len(pending) > _CACHE_LIMIT:
            self._cache.clear()
        self._cache.update(pending)  # committed, and complete subtrees never change
        return list(range(start, start + len(prepared)))

    def _write_getter(self, tx: Tx, pending: dict[tuple[int, int], bytes]) -> merkle.Getter:
        def get(level: int, index: int) -> bytes:
            key = (level, index)
            found = pending.get(key) or self._cache.get(key)
            if found is None:
                found = self._node(tx, level, index)
                self._cache[key] = found  # read from committed data: immutable
            return found

        return get

    def store_checkpoint(self, size: int, root: bytes, note: str = "") -> Checkpoint:
        """Record that the log committed to ``root`` at ``size``; refuses a root the log does not have."""
        actual = self.root(size)
        if actual != root:
            raise LedgerError(f"checkpoint root for size {size} does not match the log's root at that size")
        with self.backend.writing() as tx:
            rows = tx.query("SELECT size, root, note, ts FROM checkpoints WHERE size = ?", (size,))
            if rows:
                return Checkpoint(int(rows[0][0]), bytes(rows[0][1]), rows[0][2], rows[0][3])
            ts = _now()
            tx.execute("INSERT INTO checkpoints (size, root, note, ts) VALUES (?, ?, ?, ?)", (size, root, note, ts))
        return Checkpoint(size, root, note, ts)

    # --- reading -----------------------------------------------------------------

    @staticmethod
    def _node(tx: Tx, level: int, index: int) -> bytes:
        rows = tx.query("SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index))
        if not rows:
            raise LedgerError(f"the ledger has no tree node at level {level}, index {index}")
        return bytes(rows[0][0])

    def size(self) -> int:
        with self.backend.reading() as tx:
            return int(tx.query("SELECT COALESCE(MAX(seq) + 1, 0) FROM entries")[0][0])

    def _row(self, seq: int, column: str) -> bytes:
        with self.backend.reading() as tx:
            rows = tx.query(f"SELECT {column} FROM entries WHERE seq = ?", (seq,))
        if not rows:
            raise LedgerError(f"the ledger has no entry {seq}")
        return bytes(rows[0][0])

    def body(self, seq: int) -> bytes:
        """The canonical bytes of entry ``seq``."""
        return self._row(seq, "body")

    def entry(self, seq: int) -> dict[str, Any]:
        return _decoded(seq, self._row(seq, "body"))

    def leaf(self, seq: int) -> bytes:
        return self._row(seq, "leaf")

    def get(self, level: int, index: int) -> bytes:
        """The stored hash of a complete subtree (the :data:`merkle.Getter` over this ledger)."""
        with self.backend.reading() as tx:
            return self._node(tx, level, index)

    def node_range(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """Stored subtree hashes of ``level`` with ``start <= index < stop``, in one query."""
        with self.backend.reading() as tx:
            rows = tx.query(
                "SELECT idx, hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ?", (level, start, stop)
            )
        return {int(i): bytes(h) for i, h in rows}

    def batched_getter(self, chunk: int = 8192) -> merkle.Getter:
        """A getter for sequential scans (verification): each miss loads the next ``chunk``
        nodes of that level in one query instead of one query per node."""
        cache: dict[int, dict[int, bytes]] = {}
        window: dict[int, tuple[int, int]] = {}

        def get(level: int, index: int) -> bytes:
            start, stop = window.get(level, (0, 0))
            if not start <= index < stop:
                cache[level] = self.node_range(level, index, index + chunk)
                window[level] = (index, index + chunk)
            found = cache[level].get(index)
            if found is None:
                raise LedgerError(f"the ledger has no tree node at level {level}, index {index}")
            return found

        return get

    def _sized(self, size: int | None) -> int:
        current = self.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise LedgerError(f"tree size {size} is out of range: the ledger has {current} entries")
        return size

    def _with_reader(self, fn: Callable[[merkle.Getter], bytes | list[bytes]]) -> Any:
        """Run a tree computation reading nodes in one round trip.

        Which nodes a root or proof needs depends only on the sizes and indexes, not on
        the hashes, so a dry run with placeholder hashes names them all; they are then
        fetched with one query (and any node the dry run missed is read on demand).
        """
        wanted: set[tuple[int, int]] = set()

        def record(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return bytes(merkle.HASH_SIZE)

        fn(record)
        with self.backend.reading() as tx:
            found: dict[tuple[int, int], bytes] = {}
            keys = sorted(wanted)
            for chunk in range(0, len(keys), 200):
                part = keys[chunk : chunk + 200]
                sql = "SELECT level, idx, hash FROM nodes WHERE " + " OR ".join(["(level = ? AND idx = ?)"] * len(part))
                for level, index, digest in tx.query(sql, [v for key in part for v in key]):
                    found[(int(level), int(index))] = bytes(digest)

            def get(level: int, index: int) -> bytes:
                digest = found.get((level, index))
                return digest if digest is not None else self._node(tx, level, index)

            return fn(get)

    def root(self, size: int | None = None) -> bytes:
        n = self._sized(size)
        result: bytes = self._with_reader(lambda get: merkle.root(n, get))
        return result

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        n = self._sized(size)
        if not 0 <= seq < n:
            raise LedgerError(f"entry {seq} is not in a tree of size {n}")
        proof: list[bytes] = self._with_reader(lambda get: merkle.inclusion_proof(seq, n, get))
        return proof

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        n = self._sized(new)
        if not 0 <= old <= n:
            raise LedgerError(f"cannot prove size {old} consistent with size {n}")
        proof: list[bytes] = self._with_reader(lambda get: merkle.consistency_proof(old, n, get))
        return proof

    def latest_checkpoint(self) -> Checkpoint | None:
        with self.backend.reading() as tx:
            rows = tx.query("SELECT size, root, note, ts FROM checkpoints ORDER BY size DESC LIMIT 1")
        if not rows:
            return None
        size, root, note, ts = rows[0]
        return Checkpoint(int(size), bytes(root), note, ts)

    def checkpoints(self) -> list[Checkpoint]:
        with self.backend.reading() as tx:
            rows = tx.query("SELECT size, root, note, ts FROM checkpoints ORDER BY size")
        return [Checkpoint(int(s), bytes(r), n, t) for s, r, n, t in rows]

    def rows(self, start: int = 0, stop: int | None = None, *, batch: int = 10_000) -> Iterator[Row]:
        """Raw entries ``start <= seq < stop`` in seq order, read in batches (for verification)."""
        seq = start
        while stop is None or seq < stop:
            limit = batch if stop is None else min(batch, stop - seq)
            with self.backend.reading() as tx:
                found = tx.query(
                    "SELECT seq, body, leaf FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?", (seq, limit)
                )
            if not found:
                return
            for s, body, leaf in found:
                yield Row(int(s), bytes(body), bytes(leaf))
            seq = int(found[-1][0]) + 1

    def entries(self, start: int = 0, stop: int | None = None, *, batch: int = 10_000) -> Iterator[dict[str, Any]]:
        for row in self.rows(start, stop, batch=batch):
            yield _decoded(row.seq, row.body)

    def search(
        self,
        *,
        principal_type: str | None = None,
        principal_id: str | None = None,
        decision: str | None = None,
        kind: str | None = None,
        effect: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        batch: int = 1000,
    ) -> Iterator[dict[str, Any]]:
        """Entries matching every given filter, in seq order (or newest first).

        ``effect`` matches entries with an effect whose kind contains it (``"git."``
        matches ``git.force_push``); ``since`` is inclusive, ``until`` exclusive
        (timestamps as recorded, ``YYYY-MM-DDTHH:MM:SSZ``).
        """
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("principal_type", principal_type),
            ("principal_id", principal_id),
            ("decision", decision),
            ("kind", kind),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("ts >= ?")
            params.append(since)
        if until is not None:
            clauses.append("ts < ?")
            params.append(until)
        if effect is not None:
            clauses.append(self.backend.contains("body"))
            params.append(effect.encode("utf-8"))
        order, cmp = ("DESC", "<") if newest_first else ("ASC", ">")
        where = " AND ".join([*clauses, f"seq {cmp} ?"])
        sql = f"SELECT seq, body FROM entries WHERE {where} ORDER BY seq {order} LIMIT ?"
        cursor = -1 if not newest_first else self.size()
        produced = 0
        while limit is None or produced < limit:
            with self.backend.reading() as tx:
                found = tx.query(sql, (*params, cursor, batch))
            if not found:
                return
            for seq, body in found:
                cursor = int(seq)
                entry = _decoded(cursor, body)
                if effect is not None and not any(
                    isinstance(e, dict) and effect in str(e.get("kind", "")) for e in entry.get("effects") or ()
                ):
                    continue
                yield entry
                produced += 1
                if limit is not None and produced >= limit:
                    return

    # --- the Ledger protocol of the gate -----------------------------------------

    def recent(self, limit: int = 20, *, after: int = -1) -> list[dict[str, Any]]:
        """The newest ``limit`` entries with ``seq > after``, newest first."""
        with self.backend.reading() as tx:
            rows = tx.query("SELECT seq, body FROM entries WHERE seq > ? ORDER BY seq DESC LIMIT ?", (after, limit))
        return [_decoded(int(seq), body) for seq, body in rows]

    def since(self, ts: str, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Entries recorded at or after ``ts`` (``YYYY-MM-DDTHH:MM:SSZ``), oldest first."""
        return self.search(since=ts, batch=batch)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> MerkleLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_ledger(location: str | os.PathLike[str]) -> MerkleLedger:
    """Open (creating and migrating as needed) the ledger at a ``postgresql://`` URL or a file path.

    Any other ``scheme://`` is refused rather than taken for a file name.
    """
    text = os.fspath(location)
    if text.startswith(("postgresql://", "postgres://")):
        from ringfence.ledger.postgres import PostgresBackend

        return MerkleLedger(PostgresBackend(text))
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise LedgerError(
            f"unknown ledger location scheme {scheme!r} in {text!r}: use a file path (SQLite) or a postgresql:// URL"
        )
    from pathlib import Path

    from ringfence.ledger.sqlite_tree import SQLiteBackend

    return MerkleLedger(SQLiteBackend(Path(text)))
