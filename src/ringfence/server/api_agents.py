"""HTTP API v1, ``GET /api/v1/agents``: what each agent did, from the ledger.

Per agent: its decisions by outcome, the approval requests its actions opened, how many
of them were approved and the median time from the first decision that held an action
to the entry that approved it (an approver's answer settling it, or the person at the
runtime's own prompt), and when it was first and last seen.

Only the newest :data:`WINDOW` ledger entries are read, whatever the ledger's size; the
response's ``window`` says which entries were read and whether that was all of them.
Only humans may ask: it is read from the ledger, which agents never read.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ringfence.ledger import canonical
from ringfence.ledger.store import MerkleLedger
from ringfence.server.http import HTTPError, caller
from ringfence.server.state import ServerState

WINDOW = 50_000
OUTCOMES = ("allow", "require_approval", "deny")


def _seconds(ts: Any) -> float | None:
    if not isinstance(ts, str):
        return None
    try:
        return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


@dataclass
class _Agent:
    outcomes: Counter[str] = field(default_factory=Counter)
    requests: set[str] = field(default_factory=set)
    approved: set[str] = field(default_factory=set)
    waits: list[float] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None


def activity(ledger: MerkleLedger, window: int = WINDOW) -> dict[str, Any]:
    """Per-agent activity over the newest ``window`` entries of ``ledger`` (see the module)."""
    size = ledger.size()
    start = max(0, size - window)
    agents: dict[str, _Agent] = {}
    held: dict[str, tuple[str, float | None]] = {}  # request -> (agent, when its action was first held)
    for _seq, ts, kind, principal_type, principal_id, outcome, body in _rows(ledger, start, size):
        detail = canonical.decode(bytes(body)) if body is not None else {}
        rid = detail.get("request")
        if kind == "decision" and principal_type == "agent":
            agent = principal_id or ""
            a = agents.setdefault(agent, _Agent())
            a.outcomes[outcome or ""] += 1
            a.first_seen = ts if a.first_seen is None else min(a.first_seen, ts)
            a.last_seen = ts if a.last_seen is None else max(a.last_seen, ts)
            if outcome == "require_approval" and isinstance(rid, str):
                a.requests.add(rid)
                held.setdefault(rid, (agent, _seconds(ts)))
        elif isinstance(rid, str) and rid in held and _approves(kind, detail):
            agent, since = held[rid]
            a = agents[agent]
            if rid not in a.approved:
                a.approved.add(rid)
                at = _seconds(ts)
                if since is not None and at is not None:
                    a.waits.append(max(0.0, at - since))
    rows = [
        {
            "agent": name,
            "decisions": {
                "total": sum(a.outcomes.values()),
                **{o: a.outcomes[o] for o in OUTCOMES},
                "other": sum(n for o, n in a.outcomes.items() if o not in OUTCOMES),
            },
            "approvals_requested": len(a.requests),
            "approvals_granted": len(a.approved),
            "median_seconds_to_approval": statistics.median(a.waits) if a.waits else None,
            "first_seen": a.first_seen,
            "last_seen": a.last_seen,
        }
        for name, a in agents.items()
    ]
    rows.sort(key=lambda r: (r["last_seen"] or "", r["agent"]), reverse=True)
    read = size - start
    return {
        "window": {
            "limit": window,
            "entries_read": read,
            "from_seq": start if read else None,
            "to_seq": size - 1 if read else None,
            "ledger_size": size,
            "complete": start == 0,
            "note": (
                f"computed from the whole ledger ({size} entries)"
                if start == 0
                else f"computed from the newest {read} of {size} ledger entries (seq {start} to {size - 1}); "
                "older activity is not counted"
            ),
        },
        "agents": rows,
    }


def _rows(ledger: MerkleLedger, start: int, stop: int, batch: int = 10_000) -> Iterator[tuple[Any, ...]]:
    """``(seq, ts, kind, principal_type, principal_id, decision, body)`` for ``start <= seq <
    stop``, oldest first, from the ledger's indexed columns; ``body`` only for the entries
    whose body is needed (held decisions and approvals), None for the rest."""
    sql = (
        "SELECT seq, ts, kind, principal_type, principal_id, decision, CASE WHEN "
        "(kind = 'decision' AND decision = 'require_approval') OR kind IN ('approval', 'prompt_answer') "
        "THEN body END FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT ?"
    )
    seq = start
    while seq < stop:
        with ledger.backend.reading() as tx:
            found = tx.query(sql, (seq, stop, batch))
        if not found:
            return
        yield from found
        seq = int(found[-1][0]) + 1


def _approves(kind: str, detail: dict[str, Any]) -> bool:
    """The entry settled a held request as approved."""
    if kind == "approval":
        return detail.get("status") == "approved"
    return kind == "prompt_answer" and detail.get("decision") == "allow"


async def list_agents(request: Request) -> Response:
    state: ServerState = request.app.state.rf
    caller(request, state).need_human("read agents' activity (it comes from the ledger)")
    raw = request.query_params.get("window")
    window = WINDOW
    if raw is not None:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= WINDOW:
            raise HTTPError(422, f"window must be a whole number of ledger entries between 1 and {WINDOW}")
        window = int(raw)
    return JSONResponse(await asyncio.to_thread(activity, state.ledger, window))


ROUTES = [Route("/api/v1/agents", list_agents, methods=["GET"])]
