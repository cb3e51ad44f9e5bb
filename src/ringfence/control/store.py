"""The control state store: approval requests, approvals, halts, budget use, notifications.

One interface, two real backends — the same ones the ledger uses
(:mod:`ringfence.ledger.sqlite_tree`: one file in WAL mode, safe with many concurrent
hook processes; :mod:`ringfence.ledger.postgres`: several servers share one database).
Every write runs under the backend's writer lock (SQLite ``BEGIN IMMEDIATE``; a
PostgreSQL transaction-scoped advisory lock), so check-then-write sequences — dedupe a
request, consume a single-use grant, spend a budget — are atomic across processes and
hosts. The schema is versioned (``control_schema_version``) and migrated on open.

Times are seconds since the epoch (floats, UTC). The DDL below is valid in both SQLite
and PostgreSQL, so there is one list of migrations.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ringfence.errors import ApprovalError, ControlError
from ringfence.ledger.schema import Schema

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE requests (
            id               TEXT PRIMARY KEY,
            digest           TEXT NOT NULL,
            status           TEXT NOT NULL,
            created_at       DOUBLE PRECISION NOT NULL,
            expires_at       DOUBLE PRECISION NOT NULL,
            decided_at       DOUBLE PRECISION,
            escalated_at     DOUBLE PRECISION,
            requester_type   TEXT NOT NULL,
            requester_id     TEXT NOT NULL,
            owner            TEXT,
            environment      TEXT,
            tier             TEXT NOT NULL,
            summary          TEXT NOT NULL,
            body             TEXT NOT NULL,
            uses_left        INTEGER NOT NULL DEFAULT 0,
            grant_expires_at DOUBLE PRECISION
        )""",
        "CREATE INDEX requests_digest ON requests (digest, created_at)",
        "CREATE INDEX requests_status ON requests (status, expires_at)",
        """CREATE TABLE approvals (
            request_id TEXT NOT NULL,
            approver   TEXT NOT NULL,
            verdict    TEXT NOT NULL,
            at         DOUBLE PRECISION NOT NULL,
            via        TEXT NOT NULL,
            statement  TEXT NOT NULL,
            signature  TEXT NOT NULL,
            key_id     TEXT NOT NULL,
            PRIMARY KEY (request_id, approver)
        )""",
        """CREATE TABLE events (
            id         TEXT PRIMARY KEY,
            request_id TEXT,
            at         DOUBLE PRECISION NOT NULL,
            kind       TEXT NOT NULL,
            actor      TEXT NOT NULL,
            detail     TEXT NOT NULL
        )""",
        "CREATE INDEX events_request ON events (request_id, at)",
        """CREATE TABLE halts (
            id          TEXT PRIMARY KEY,
            agent       TEXT,
            environment TEXT,
            everyone    INTEGER NOT NULL,
            reason      TEXT NOT NULL,
            by_whom     TEXT NOT NULL,
            at          DOUBLE PRECISION NOT NULL,
            lifted_by   TEXT,
            lifted_at   DOUBLE PRECISION,
            lift_reason TEXT
        )""",
        "CREATE INDEX halts_active ON halts (lifted_at)",
        """CREATE TABLE budget_usage (
            budget  TEXT NOT NULL,
            subject TEXT NOT NULL,
            at      DOUBLE PRECISION NOT NULL,
            units   DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX budget_usage_key ON budget_usage (budget, subject, at)",
        """CREATE TABLE outbox (
            id           TEXT PRIMARY KEY,
            channel      TEXT NOT NULL,
            event        TEXT NOT NULL,
            request_id   TEXT,
            created_at   DOUBLE PRECISION NOT NULL,
            next_at      DOUBLE PRECISION NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            delivered_at DOUBLE PRECISION,
            failed_at    DOUBLE PRECISION,
            last_error   TEXT
        )""",
        "CREATE INDEX outbox_due ON outbox (delivered_at, failed_at, next_at)",
        """CREATE TABLE nonces (
            value TEXT PRIMARY KEY,
            at    DOUBLE PRECISION NOT NULL
        )""",
    ],
    [  # version 2: the control-plane server's identities
        """CREATE TABLE tokens (
            id          TEXT PRIMARY KEY,
            agent       TEXT NOT NULL,
            scopes      TEXT NOT NULL,
            issued_by   TEXT NOT NULL,
            issued_at   DOUBLE PRECISION NOT NULL,
            expires_at  DOUBLE PRECISION NOT NULL,
            revoked_at  DOUBLE PRECISION,
            revoked_by  TEXT
        )""",
        """CREATE TABLE users (
            name          TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at    DOUBLE PRECISION NOT NULL,
            disabled_at   DOUBLE PRECISION
        )""",
        """CREATE TABLE sessions (
            id          TEXT PRIMARY KEY,
            username    TEXT NOT NULL,
            csrf        TEXT NOT NULL,
            created_at  DOUBLE PRECISION NOT NULL,
            expires_at  DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX sessions_user ON sessions (username)",
    ],
    [  # version 3: answers owed to an external system (a GitHub deployment protection rule)
        """CREATE TABLE callbacks (
            id         TEXT PRIMARY KEY,
            request_id TEXT,
            kind       TEXT NOT NULL,
            target     TEXT NOT NULL,
            document   TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            answer     TEXT,
            queued_at  DOUBLE PRECISION
        )""",
        "CREATE INDEX callbacks_request ON callbacks (request_id, queued_at)",
    ],
]

#: ``pg_advisory_xact_lock`` key of the control state writer lock.
LOCK_KEY = 0x7266_636F_6E74_726C

CONTROL_SCHEMA = Schema(
    "control state", MIGRATIONS, version_table="control_schema_version", error=ControlError, lock_key=LOCK_KEY
)

#: Crockford's base32 without I, L, O, U: request ids read aloud without ambiguity.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_request_id() -> str:
    return "AR-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _new_id(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


class Status:
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Request:
    """An approval request as stored. ``body`` holds the readable action, effects, rule ids,
    reason and requirement (JSON); the status columns are the store's."""

    id: str
    digest: str
    status: str
    created_at: float
    expires_at: float
    decided_at: float | None
    escalated_at: float | None
    requester_type: str
    requester_id: str
    owner: str | None
    environment: str | None
    tier: str
    summary: str
    body: Mapping[str, Any]
    uses_left: int
    grant_expires_at: float | None

    def effective_status(self, now: float) -> str:
        """The status at ``now``: a pending request past its TTL is expired; an approved one
        whose grant is spent or past its expiry is used or expired."""
        if self.status == Status.PENDING and now >= self.expires_at:
            return Status.EXPIRED
        if self.status == Status.APPROVED:
            if self.uses_left <= 0:
                return Status.USED
            if self.grant_expires_at is not None and now >= self.grant_expires_at:
                return Status.EXPIRED
        return self.status

    def document(self, now: float) -> dict[str, Any]:
        """The request's own fields as JSON, with its status at ``now`` (the CLI and the API
        add the requirement, rules and answers in their own shapes)."""
        return {
            "id": self.id,
            "status": self.effective_status(now),
            "action_digest": self.digest,
            "summary": self.summary,
            "requester": {"type": self.requester_type, "id": self.requester_id, "owner": self.owner},
            "environment": self.environment,
            "tier": self.tier,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "decided_at": self.decided_at,
            "uses_left": self.uses_left,
            "grant_expires_at": self.grant_expires_at,
        }


_REQUEST_COLUMNS = (
    "id, digest, status, created_at, expires_at, decided_at, escalated_at, requester_type, requester_id, "
    "owner, environment, tier, summary, body, uses_left, grant_expires_at"
)


def _request(row: Sequence[Any]) -> Request:
    values = list(row)
    values[13] = json.loads(values[13])
    return Request(*values)


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """One human's signed answer to a request."""

    request_id: str
    approver: str
    verdict: str  # "approve" | "deny"
    at: float
    via: str  # "cli" | "slack" | "api"
    statement: str  # the canonical JSON that was signed
    signature: str  # base64 Ed25519 signature over ``statement``
    key_id: str


@dataclass(frozen=True, slots=True)
class Event:
    request_id: str | None
    at: float
    kind: str
    actor: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Halt:
    id: str
    agent: str | None
    environment: str | None
    everyone: bool
    reason: str
    by: str
    at: float
    lifted_by: str | None = None
    lifted_at: float | None = None
    lift_reason: str | None = None

    def scope(self) -> str:
        who = "every principal" if self.everyone else (f"agent {self.agent}" if self.agent else "every agent")
        return who + (f" in {self.environment}" if self.environment else "")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    channel: str
    event: str
    request_id: str | None
    created_at: float
    next_at: float
    attempts: int
    delivered_at: float | None
    failed_at: float | None
    last_error: str | None


#: Outbox items whose channel starts with this deliver a callback (``callback:CB-…``).
CALLBACK_CHANNEL = "callback:"
#: What a settled request answers a callback waiting on it.
CALLBACK_ANSWERS = {
    Status.APPROVED: "approved",
    Status.USED: "approved",
    Status.DENIED: "rejected",
    Status.EXPIRED: "rejected",
}


@dataclass(frozen=True, slots=True)
class Callback:
    """An answer owed to an external system: ``target`` is where it goes, ``document``
    what the deliverer needs, ``answer`` (approved or rejected) once it is known."""

    id: str
    request_id: str | None
    kind: str
    target: str
    document: Mapping[str, Any]
    created_at: float
    answer: str | None
    queued_at: float | None


class Tx(Protocol):
    """Queries inside one transaction (``?`` placeholders on both backends)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...


_HALT_COLUMNS = "id, agent, environment, everyone, reason, by_whom, at, lifted_by, lifted_at, lift_reason"


@dataclass
class ControlStore:
    """Control state on one backend. Open with :func:`open_store`."""

    backend: Any
    clock: Callable[[], float] = field(default=time.time)
    _cache: dict[str, tuple[object, Any]] = field(default_factory=dict, repr=False)

    @property
    def where(self) -> str:
        return str(self.backend.where)

    def writing(self) -> AbstractContextManager[Tx]:
        return self.backend.writing()  # type: ignore[no-any-return]

    def reading(self) -> AbstractContextManager[Tx]:
        return self.backend.reading()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.backend.close()

    # --- requests -------------------------------------------------------------------

    def open_request(
        self,
        *,
        digest: str,
        requester_type: str,
        requester_id: str,
        owner: str | None,
        environment: str | None,
        tier: str,
        summary: str,
        body: Mapping[str, Any],
        ttl: float,
        notify: Sequence[str] = (),
    ) -> tuple[Request, bool]:
        """The pending request for ``digest``, creating it if there is none.

        Returns ``(request, created)``. Identical pending requests are deduplicated: a
        second agent process asking for the same action gets the same request id."""
        now = self.clock()
        with self.writing() as tx:
            rows = tx.query(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE digest = ? AND status = ? AND expires_at > ? "
                "ORDER BY created_at DESC LIMIT 1",
                (digest, Status.PENDING, now),
            )
            if rows:
                return _request(rows[0]), False
            rid = new_request_id()
            tx.execute(
                f"INSERT INTO requests ({_REQUEST_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, 0, NULL)",
                (
                    rid,
                    digest,
                    Status.PENDING,
                    now,
                    now + ttl,
                    requester_type,
                    requester_id,
                    owner,
                    environment,
                    tier,
                    summary,
                    json.dumps(body, sort_keys=True, default=str),
                ),
            )
            _event(tx, rid, now, "requested", f"{requester_type}:{requester_id}", {"digest": digest})
            for channel in notify:
                _enqueue(tx, channel, "requested", rid, now)
            rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (rid,))
        return _request(rows[0]), True

    def get(self, request_id: str) -> Request:
        """The request ``request_id``; :class:`ApprovalError` if there is none."""
        with self.reading() as tx:
            rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        if not rows:
            raise ApprovalError(
                f"there is no approval request {request_id!r} in {self.where}; "
                "`ringfence approvals list` shows the pending ones"
            )
        return _request(rows[0])

    def latest_for(self, digest: str) -> Request | None:
        """The newest request for ``digest`` (any status)."""
        with self.reading() as tx:
            rows = tx.query(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE digest = ? ORDER BY created_at DESC LIMIT 1",
                (digest,),
            )
        return _request(rows[0]) if rows else None

    def requests(self, *, status: str | None = None, limit: int = 100) -> list[Request]:
        """Requests, newest first; ``status`` filters by the *effective* status."""
        now = self.clock()
        with self.reading() as tx:
            if status in (Status.PENDING, None):
                rows = tx.query(
                    f"SELECT {_REQUEST_COLUMNS} FROM requests "
                    + ("WHERE status = ? AND expires_at > ? " if status else "")
                    + "ORDER BY created_at DESC LIMIT ?",
                    (Status.PENDING, now, limit) if status else (limit,),
                )
            else:
                rows = tx.query(
                    f"SELECT {_REQUEST_COLUMNS} FROM requests ORDER BY created_at DESC LIMIT ?", (limit * 20,)
                )
        out = [_request(r) for r in rows]
        if status not in (Status.PENDING, None):
            out = [r for r in out if r.effective_status(now) == status][:limit]
        return out

    def approvals(self, request_id: str) -> list[ApprovalRecord]:
        with self.reading() as tx:
            rows = tx.query(
                "SELECT request_id, approver, verdict, at, via, statement, signature, key_id FROM approvals "
                "WHERE request_id = ? ORDER BY at",
                (request_id,),
            )
        return [ApprovalRecord(*r) for r in rows]

    def events(self, request_id: str) -> list[Event]:
        with self.reading() as tx:
            rows = tx.query(
                "SELECT request_id, at, kind, actor, detail FROM events WHERE request_id = ? ORDER BY at, id",
                (request_id,),
            )
        return [Event(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def record_approval(
        self,
        record: ApprovalRecord,
        decide: Callable[[Request, list[ApprovalRecord]], tuple[str, int, float | None] | None],
        *,
        notify: Sequence[str] = (),
    ) -> Request:
        """Add ``record`` to its request and settle the request, atomically.

        ``decide(request, approvals)`` sees the request and every approval including the
        new one and returns ``None`` (still pending) or ``(status, uses, grant_expires_at)``.
        Refuses (ApprovalError, nothing written) when the request is not pending or this
        approver already answered."""
        now = self.clock()
        with self.writing() as tx:
            rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (record.request_id,))
            if not rows:
                raise ApprovalError(f"there is no approval request {record.request_id!r} in {self.where}")
            request = _request(rows[0])
            status = request.effective_status(now)
            if status != Status.PENDING:
                raise ApprovalError(f"{request.id} is {status}, not pending: {status_hint(status)}")
            already = tx.query(
                "SELECT verdict FROM approvals WHERE request_id = ? AND approver = ?", (request.id, record.approver)
            )
            if already:
                raise ApprovalError(
                    f"{record.approver} already answered {request.id} ({already[0][0]}); "
                    "each approver answers a request once"
                )
            tx.execute(
                "INSERT INTO approvals (request_id, approver, verdict, at, via, statement, signature, key_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.request_id,
                    record.approver,
                    record.verdict,
                    record.at,
                    record.via,
                    record.statement,
                    record.signature,
                    record.key_id,
                ),
            )
            _event(tx, request.id, now, record.verdict, record.approver, {"via": record.via})
            existing = tx.query(
                "SELECT request_id, approver, verdict, at, via, statement, signature, key_id FROM approvals "
                "WHERE request_id = ? ORDER BY at",
                (request.id,),
            )
            outcome = decide(request, [ApprovalRecord(*r) for r in existing])
            if outcome is not None:
                new_status, uses, grant_expires = outcome
                tx.execute(
                    "UPDATE requests SET status = ?, decided_at = ?, uses_left = ?, grant_expires_at = ? WHERE id = ?",
                    (new_status, now, uses, grant_expires, request.id),
                )
                _event(tx, request.id, now, new_status, "ringfence", {"uses": uses, "grant_expires_at": grant_expires})
                for channel in notify:
                    _enqueue(tx, channel, new_status, request.id, now)
                _settle_callbacks(tx, request.id, new_status, now)
            rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request.id,))
        return _request(rows[0])

    def grant_for(self, digest: str) -> Request | None:
        """The approved, unexpired, unspent request for ``digest``, if any (not consumed)."""
        now = self.clock()
        with self.reading() as tx:
            rows = tx.query(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE digest = ? AND status = ? AND uses_left > 0 "
                "AND grant_expires_at > ? ORDER BY decided_at LIMIT 1",
                (digest, Status.APPROVED, now),
            )
        return _request(rows[0]) if rows else None

    def consume_grant(self, request_id: str, actor: str) -> bool:
        """Use the grant of ``request_id`` once. True for exactly one caller per use,
        whatever the number of processes racing for it."""
        now = self.clock()
        with self.writing() as tx:
            rows = tx.query(
                "UPDATE requests SET uses_left = uses_left - 1 WHERE id = ? AND status = ? AND uses_left > 0 "
                "AND grant_expires_at > ? RETURNING uses_left",
                (request_id, Status.APPROVED, now),
            )
            if not rows:
                return False
            _event(tx, request_id, now, "used", actor, {"uses_left": rows[0][0]})
        return True

    def answered_at_prompt(self, digest: str, actor: str) -> Request | None:
        """Settle the pending request for ``digest`` as allowed at the runtime's own prompt
        (the tool ran, so the person there said yes). None if there was no such request."""
        now = self.clock()
        with self.writing() as tx:
            rows = tx.query(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE digest = ? AND status = ? AND expires_at > ? "
                "ORDER BY created_at DESC LIMIT 1",
                (digest, Status.PENDING, now),
            )
            if not rows or not _request(rows[0]).body.get("requirement", {}).get("runtime_prompt"):
                return None  # only a request the runtime's prompt could answer is settled this way
            rid = rows[0][0]
            tx.execute(
                "UPDATE requests SET status = ?, decided_at = ?, uses_left = 0 WHERE id = ?", (Status.USED, now, rid)
            )
            _event(tx, rid, now, "allowed-at-prompt", actor, {})
            _settle_callbacks(tx, rid, Status.USED, now)
            rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (rid,))
        return _request(rows[0])

    def sweep(self, *, escalate_after: float | None, notify: Sequence[str] = ()) -> tuple[list[str], list[str]]:
        """Expire pending requests past their TTL and mark those waiting longer than
        ``escalate_after`` seconds as escalated (queuing a notification for each).
        Returns ``(expired ids, escalated ids)``."""
        now = self.clock()
        with self.writing() as tx:
            expired = [
                r[0]
                for r in tx.query(
                    "UPDATE requests SET status = ?, decided_at = ? WHERE status = ? AND expires_at <= ? RETURNING id",
                    (Status.EXPIRED, now, Status.PENDING, now),
                )
            ]
            for rid in expired:
                _event(tx, rid, now, "expired", "ringfence", {})
                _settle_callbacks(tx, rid, Status.EXPIRED, now)
            escalated: list[str] = []
            if escalate_after is not None:
                escalated = [
                    r[0]
                    for r in tx.query(
                        "UPDATE requests SET escalated_at = ? WHERE status = ? AND escalated_at IS NULL "
                        "AND created_at <= ? AND expires_at > ? RETURNING id",
                        (now, Status.PENDING, now - escalate_after, now),
                    )
                ]
                for rid in escalated:
                    _event(tx, rid, now, "escalated", "ringfence", {"after_seconds": escalate_after})
                    for channel in notify:
                        _enqueue(tx, channel, "escalated", rid, now)
        return sorted(expired), sorted(escalated)

    # --- kill switch ----------------------------------------------------------------

    def halt(self, *, agent: str | None, environment: str | None, everyone: bool, reason: str, by: str) -> Halt:
        h = Halt(_new_id("HALT"), agent, environment, everyone, reason, by, self.clock())
        with self.writing() as tx:
            tx.execute(
                "INSERT INTO halts (id, agent, environment, everyone, reason, by_whom, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (h.id, h.agent, h.environment, int(h.everyone), h.reason, h.by, h.at),
            )
            _event(tx, None, h.at, "halt", by, {"halt": h.id, "scope": h.scope(), "reason": reason})
        return h

    def active_halts(self) -> list[Halt]:
        """Halts in force. On SQLite the list is re-read only when the database changed
        (see :meth:`cached`), so the check before every decision costs one PRAGMA."""

        def load() -> tuple[Halt, ...]:
            with self.reading() as tx:
                rows = tx.query(f"SELECT {_HALT_COLUMNS} FROM halts WHERE lifted_at IS NULL ORDER BY at")
            return tuple(_halt(r) for r in rows)

        return list(self.cached("halts", load))

    def cached(self, key: str, load: Callable[[], Any]) -> Any:
        """``load()``, remembered until the database changes (SQLite; PostgreSQL always loads)."""
        stamp = self.version()
        if stamp is None:
            return load()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = load()
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (stamp, value)
        return value

    def version(self) -> object | None:
        """A value that changes whenever the stored state may have changed, or None where
        the backend cannot say cheaply (PostgreSQL: every read goes to the database)."""
        version = getattr(self.backend, "version", None)
        return version() if version is not None else None

    def halts(self, *, limit: int = 50) -> list[Halt]:
        with self.reading() as tx:
            rows = tx.query(
                f"SELECT {_HALT_COLUMNS} FROM halts ORDER BY at DESC LIMIT ?",
                (limit,),
            )
        return [_halt(r) for r in rows]

    def lift(self, halt_ids: Sequence[str], *, by: str, reason: str) -> list[Halt]:
        """Lift the given active halts; returns the ones lifted."""
        now = self.clock()
        lifted: list[Halt] = []
        with self.writing() as tx:
            for hid in halt_ids:
                rows = tx.query(
                    "UPDATE halts SET lifted_by = ?, lifted_at = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL "
                    f"RETURNING {_HALT_COLUMNS}",
                    (by, now, reason, hid),
                )
                if rows:
                    lifted.append(_halt(rows[0]))
                    _event(tx, None, now, "resume", by, {"halt": hid, "reason": reason})
        return lifted

    # --- budgets --------------------------------------------------------------------

    def spend(
        self,
        items: Sequence[tuple[str, str, float, float, float]],
        *,
        force: frozenset[str] | set[str] = frozenset(),
    ) -> tuple[str, float, float | None] | None:
        """Spend budgets atomically across processes: every ``(budget, subject, units,
        limit, window seconds)`` in ``items`` is spent, or none is.

        A budget in ``force`` is spent even past its limit (an approved action still
        counts). Returns None when spent, else ``(budget, used, retry_at)`` for the first
        budget without room: ``retry_at`` is when enough of its sliding window has passed
        for this spend to fit (None if it never will)."""
        now = self.clock()
        with self.writing() as tx:
            for budget, subject, units, limit, window in items:
                tx.execute(
                    "DELETE FROM budget_usage WHERE budget = ? AND subject = ? AND at <= ?",
                    (budget, subject, now - window),
                )
                rows = tx.query(
                    "SELECT at, units FROM budget_usage WHERE budget = ? AND subject = ? ORDER BY at",
                    (budget, subject),
                )
                used = float(sum(r[1] for r in rows))
                if used + units > limit and budget not in force:
                    need = used + units - limit
                    freed = 0.0
                    retry_at: float | None = None
                    for at, amount in rows:
                        freed += float(amount)
                        if freed >= need:
                            retry_at = float(at) + window
                            break
                    return budget, used, retry_at  # nothing spent; the pruning above is harmless
            for budget, subject, units, _limit, _window in items:
                tx.execute(
                    "INSERT INTO budget_usage (budget, subject, at, units) VALUES (?, ?, ?, ?)",
                    (budget, subject, now, units),
                )
        return None

    def usage(self, budget: str, subject: str, window: float) -> float:
        now = self.clock()
        with self.reading() as tx:
            rows = tx.query(
                "SELECT COALESCE(SUM(units), 0) FROM budget_usage WHERE budget = ? AND subject = ? AND at > ?",
                (budget, subject, now - window),
            )
        return float(rows[0][0])

    def usage_by_subject(self, budget: str, window: float) -> list[tuple[str, float]]:
        """Units of ``budget`` used in the last ``window`` seconds, per subject (agent)."""
        now = self.clock()
        with self.reading() as tx:
            rows = tx.query(
                "SELECT subject, SUM(units) FROM budget_usage WHERE budget = ? AND at > ? GROUP BY subject "
                "ORDER BY subject",
                (budget, now - window),
            )
        return [(str(r[0]), float(r[1])) for r in rows]

    # --- notifications --------------------------------------------------------------

    def due_notifications(self, *, limit: int = 20) -> list[OutboxItem]:
        now = self.clock()
        with self.reading() as tx:
            rows = tx.query(
                "SELECT id, channel, event, request_id, created_at, next_at, attempts, delivered_at, failed_at, "
                "last_error FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ? "
                "ORDER BY next_at LIMIT ?",
                (now, limit),
            )
        return [OutboxItem(*r) for r in rows]

    def notification_done(
        self, item_id: str, *, ok: bool, attempts: int, error: str | None, retry_at: float | None
    ) -> None:
        """Record a delivery attempt: delivered, retry at ``retry_at``, or given up (both None)."""
        now = self.clock()
        with self.writing() as tx:
            if ok:
                tx.execute(
                    "UPDATE outbox SET delivered_at = ?, attempts = attempts + ?, last_error = NULL WHERE id = ?",
                    (now, attempts, item_id),
                )
            elif retry_at is not None:
                tx.execute(
                    "UPDATE outbox SET next_at = ?, attempts = attempts + ?, last_error = ? WHERE id = ?",
                    (retry_at, attempts, error, item_id),
                )
            else:
                tx.execute(
                    "UPDATE outbox SET failed_at = ?, attempts = attempts + ?, last_error = ? WHERE id = ?",
                    (now, attempts, error, item_id),
                )

    # --- callbacks ------------------------------------------------------------------

    def add_callback(
        self,
        kind: str,
        target: str,
        document: Mapping[str, Any],
        *,
        answer: str | None = None,
        request_id: str | None = None,
    ) -> Callback:
        """Owe ``target`` an answer, delivered through the outbox (durable, retried).

        With ``answer`` it is queued now. With ``request_id`` it is queued when that
        request settles (approved or used: approved; denied or expired: rejected) — at
        once if it already has, in the same transaction, so no settlement is missed.
        An approval that answers a callback is spent by it: the grant is used."""
        if (answer is None) == (request_id is None):
            raise ControlError("a callback needs exactly one of an answer and a request to wait for")
        now = self.clock()
        cid = _new_id("CB")
        with self.writing() as tx:
            tx.execute(
                "INSERT INTO callbacks (id, request_id, kind, target, document, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (cid, request_id, kind, target, json.dumps(document, sort_keys=True, default=str), now),
            )
            if answer is not None:
                _queue_callback(tx, cid, answer, now)
            else:
                rows = tx.query(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
                if not rows:
                    raise ApprovalError(f"there is no approval request {request_id!r} in {self.where}")
                status = _request(rows[0]).effective_status(now)
                if status != Status.PENDING:
                    _settle_callbacks(tx, str(request_id), status, now)
        return self.callback(cid)

    def callback(self, callback_id: str) -> Callback:
        with self.reading() as tx:
            rows = tx.query(
                "SELECT id, request_id, kind, target, document, created_at, answer, queued_at FROM callbacks "
                "WHERE id = ?",
                (callback_id,),
            )
        if not rows:
            raise ControlError(f"there is no callback {callback_id!r} in {self.where}")
        r = rows[0]
        return Callback(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7])

    def claim_notification(self, item: OutboxItem, *, until: float) -> bool:
        """Take ``item`` for delivery until ``until``: True for exactly one of several
        servers sweeping the same outbox (the others see it claimed and skip it)."""
        with self.writing() as tx:
            rows = tx.query(
                "UPDATE outbox SET next_at = ? WHERE id = ? AND next_at = ? AND delivered_at IS NULL "
                "AND failed_at IS NULL RETURNING id",
                (until, item.id, item.next_at),
            )
        return bool(rows)

    def seen_nonce(self, value: str) -> bool:
        """Whether :meth:`remember_nonce` recorded ``value`` (and it has not been pruned)."""
        with self.reading() as tx:
            return bool(tx.query("SELECT 1 FROM nonces WHERE value = ?", (value,)))

    def remember_nonce(self, value: str, *, keep: float = 600.0) -> bool:
        """Record a one-time value (a Slack request signature); True if it was seen before."""
        now = self.clock()
        with self.writing() as tx:
            tx.execute("DELETE FROM nonces WHERE at < ?", (now - keep,))
            seen = tx.query("SELECT 1 FROM nonces WHERE value = ?", (value,))
            if seen:
                return True
            tx.execute("INSERT INTO nonces (value, at) VALUES (?, ?)", (value, now))
        return False


def status_hint(status: str) -> str:
    """What to do about a request that is no longer pending."""
    return {
        Status.APPROVED: "it is already approved; the agent can retry the action",
        Status.USED: "its grant was used; a new attempt by the agent creates a new request",
        Status.DENIED: "it was denied; a new attempt after its TTL creates a new request",
        Status.EXPIRED: "it expired; a new attempt by the agent creates a new request",
    }.get(status, "only pending requests can be answered")


def _event(tx: Tx, request_id: str | None, at: float, kind: str, actor: str, detail: Mapping[str, Any]) -> None:
    tx.execute(
        "INSERT INTO events (id, request_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (_new_id("EV"), request_id, at, kind, actor, json.dumps(detail, sort_keys=True, default=str)),
    )


def _enqueue(tx: Tx, channel: str, event: str, request_id: str | None, at: float) -> None:
    tx.execute(
        "INSERT INTO outbox (id, channel, event, request_id, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?)",
        (_new_id("NT"), channel, event, request_id, at, at),
    )


def _queue_callback(tx: Tx, callback_id: str, answer: str, at: float) -> None:
    tx.execute("UPDATE callbacks SET answer = ?, queued_at = ? WHERE id = ?", (answer, at, callback_id))
    _enqueue(tx, CALLBACK_CHANNEL + callback_id, answer, None, at)


def _settle_callbacks(tx: Tx, request_id: str, status: str, at: float) -> None:
    """Queue the answers owed to callbacks waiting on ``request_id``, now ``status``. The
    seam between settling a request and telling an external system: every place a
    request settles calls it inside its own transaction."""
    answer = CALLBACK_ANSWERS.get(status)
    if answer is None:
        return
    waiting = tx.query("SELECT id FROM callbacks WHERE request_id = ? AND queued_at IS NULL", (request_id,))
    for (cid,) in waiting:
        _queue_callback(tx, cid, answer, at)
        _event(tx, request_id, at, "callback", "ringfence", {"callback": cid, "answer": answer})
    if waiting and status == Status.APPROVED:  # the external system runs it: the grant is spent
        tx.execute("UPDATE requests SET uses_left = 0 WHERE id = ?", (request_id,))
        _event(tx, request_id, at, "used", "callback", {"callbacks": len(waiting)})


def _halt(r: Sequence[Any]) -> Halt:
    return Halt(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7], r[8], r[9])


def open_store(location: str | os.PathLike[str], *, clock: Callable[[], float] = time.time) -> ControlStore:
    """Open (creating and migrating as needed) the control state at a ``postgresql://`` URL
    or a SQLite file path."""
    from ringfence.ledger.store import migrate

    text = os.fspath(location)
    backend: Any
    if text.startswith(("postgresql://", "postgres://")):
        from ringfence.ledger.postgres import PostgresBackend

        backend = PostgresBackend(text, schema=CONTROL_SCHEMA)
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise ControlError(
            f"unknown control state location scheme {scheme!r} in {text!r}: "
            "use a file path (SQLite) or a postgresql:// URL"
        )
    else:
        from ringfence.ledger.sqlite_tree import SQLiteBackend

        backend = SQLiteBackend(Path(text), schema=CONTROL_SCHEMA)
    try:
        migrate(backend)
    except BaseException:
        backend.close()
        raise
    return ControlStore(backend, clock)
