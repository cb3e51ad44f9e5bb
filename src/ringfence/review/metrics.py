"""Agent metrics from the ledger: what each agent's changes went through.

Per agent, over the newest :data:`WINDOW` ledger entries:

* ``decisions``, ``denials`` and the denial rate of its gate decisions;
* ``approvals_requested`` (distinct requests its held actions opened) and
  ``approvals_granted`` (grants its actions spent);
* ``reviewed`` — distinct head commits ``ringfence review --record`` / ``ci review``
  recorded for it, and ``routes`` — how its latest review of each head was routed;
* ``reverted`` — its changes that later reviews found reverted (``This reverts commit``),
  and the revert rate over reviewed changes;
* ``median_seconds_to_merge`` — from a head's first recorded review to the allowed
  ``ringfence ci gate --action merge --artifact git:<head>`` decision.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ringfence.ledger.store import MerkleLedger

WINDOW = 200_000
ROUTES = ("auto_merge", "one_reviewer", "senior")


def _at(ts: Any) -> float | None:
    try:
        return datetime.strptime(str(ts), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


@dataclass
class _Agent:
    decisions: int = 0
    denials: int = 0
    requested: set[str] = field(default_factory=set)
    granted: set[str] = field(default_factory=set)
    routes: dict[str, str] = field(default_factory=dict)  # head -> latest route
    first_review: dict[str, float] = field(default_factory=dict)
    reverted: set[str] = field(default_factory=set)


def agent_metrics(ledger: MerkleLedger, window: int = WINDOW) -> list[dict[str, Any]]:
    size = ledger.size()
    agents: dict[str, _Agent] = {}
    merged: dict[str, float] = {}  # head sha -> when its merge was allowed
    for e in ledger.entries(max(0, size - window), size):
        kind = e.get("kind", "decision")
        who = str(e.get("principal_id") or "")
        if kind == "decision":
            action = e.get("action") or {}
            payload = action.get("payload") if isinstance(action, dict) else None
            if (
                e.get("action_kind") == "merge"
                and e.get("decision") == "allow"
                and isinstance(payload, dict)
                and str(payload.get("artifact", "")).startswith("git:")
            ):
                at = _at(e.get("ts"))
                if at is not None:
                    merged.setdefault(str(payload["artifact"])[4:], at)
            if e.get("principal_type") != "agent":
                continue
            a = agents.setdefault(who, _Agent())
            a.decisions += 1
            a.denials += e.get("decision") == "deny"
            request = e.get("request")
            if isinstance(request, str):
                if e.get("decision") == "require_approval":
                    a.requested.add(request)
                elif e.get("decision") == "allow" and e.get("control") == "grant":
                    a.granted.add(request)
        elif kind == "review" and e.get("principal_type") == "agent":
            a = agents.setdefault(who, _Agent())
            head = str(e.get("head", ""))
            if e.get("route") in ROUTES:
                a.routes[head] = str(e["route"])
            at = _at(e.get("ts"))
            if at is not None:
                a.first_review.setdefault(head, at)
            a.reverted.update(str(x) for x in e.get("reverted") or ())
    rows = []
    for name, a in sorted(agents.items()):
        waits = [merged[h] - t for h, t in a.first_review.items() if h in merged and merged[h] >= t]
        counts = Counter(a.routes.values())
        reviewed = len(a.routes) or len(a.first_review)
        rows.append(
            {
                "agent": name,
                "decisions": a.decisions,
                "denials": a.denials,
                "denial_rate": round(a.denials / a.decisions, 4) if a.decisions else 0.0,
                "approvals_requested": len(a.requested),
                "approvals_granted": len(a.granted),
                "reviewed": reviewed,
                "routes": {r: counts.get(r, 0) for r in ROUTES},
                "reverted": len(a.reverted),
                "revert_rate": round(len(a.reverted) / reviewed, 4) if reviewed else 0.0,
                "median_seconds_to_merge": statistics.median(waits) if waits else None,
            }
        )
    return rows
