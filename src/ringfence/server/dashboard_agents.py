"""Per-agent activity from the ledger, and its chart over time as SVG geometry.

Counts come from the newest :data:`WINDOW` agent decisions. Time to approval is, per
request, from the first decision that held the action to the approval entry that
settled it (``status: approved``), as both were recorded.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ringfence.ledger.store import MerkleLedger

WINDOW = 20_000
OUTCOMES = ("allow", "require_approval", "deny")
BUCKETS = {
    60: "minute",
    300: "5 minutes",
    900: "15 minutes",
    3600: "hour",
    6 * 3600: "6 hours",
    86400: "day",
    7 * 86400: "week",
}
MAX_BARS = 48
MIN_BARS = 12
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 600.0, 160.0, 4.0, 2.0, 0.0


def parse_ts(ts: Any) -> float | None:
    """Seconds since the epoch of a recorded ``YYYY-MM-DDTHH:MM:SSZ`` (None if it is not one)."""
    if not isinstance(ts, str):
        return None
    try:
        at = datetime.fromisoformat(ts)
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


@dataclass
class AgentStats:
    agent: str
    decisions: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    requests: set[str] = field(default_factory=set)
    waits: list[float] = field(default_factory=list)  # seconds from held to approved
    first: float | None = None
    last: float | None = None
    times: list[float] = field(default_factory=list)

    @property
    def denials(self) -> int:
        return self.outcomes["deny"]

    @property
    def median_wait(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    outcome: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Stacked bars of decisions per time bucket, laid out in a ``WIDTH`` × ``HEIGHT`` box."""

    bars: tuple[Bar, ...]
    peak: int
    start: float
    end: float
    bucket: int
    width: float = WIDTH
    height: float = HEIGHT
    left: float = LEFT
    baseline: float = HEIGHT - BOTTOM

    @property
    def per(self) -> str:
        return BUCKETS[self.bucket]


def collect(ledger: MerkleLedger, window: int = WINDOW) -> tuple[list[AgentStats], list[tuple[float, str]]]:
    """Per-agent statistics (busiest first) and every ``(time, outcome)`` seen.

    Counts come from the indexed columns; only held decisions and approvals are read in
    full (for their request ids), so a page over the whole window stays fast."""
    with ledger.backend.reading() as tx:
        rows = tx.query(
            "SELECT seq, ts, principal_id, decision FROM entries WHERE principal_type = ? AND kind = ? "
            "ORDER BY seq DESC LIMIT ?",
            ("agent", "decision", window),
        )
        oldest = int(rows[-1][0]) if rows else 0
        held = tx.query(
            "SELECT ts, principal_id, body FROM entries WHERE principal_type = ? AND kind = ? AND decision = ? "
            "AND seq >= ?",
            ("agent", "decision", "require_approval", oldest),
        )
        answers = tx.query("SELECT ts, body FROM entries WHERE kind = ? AND seq >= ?", ("approval", oldest))
    stats: dict[str, AgentStats] = {}
    points: list[tuple[float, str]] = []
    for _, ts, principal, decision in rows:
        agent = str(principal or "?")
        s = stats.setdefault(agent, AgentStats(agent))
        outcome = str(decision or "?")
        s.decisions += 1
        s.outcomes[outcome] += 1
        at = parse_ts(ts)
        if at is not None:
            s.first = at if s.first is None else min(s.first, at)
            s.last = at if s.last is None else max(s.last, at)
            s.times.append(at)
            points.append((at, outcome))
    held_at: dict[str, tuple[str, float | None]] = {}
    for ts, principal, body in held:
        rid = _field(body, "request")
        agent = str(principal or "?")
        if rid and agent in stats:
            stats[agent].requests.add(rid)
            at, seen = parse_ts(ts), held_at.get(rid)
            if seen is None or (at is not None and (seen[1] is None or at < seen[1])):
                held_at[rid] = (agent, at)
    for ts, body in answers:
        rid = _field(body, "request")
        at = parse_ts(ts)
        if rid in held_at and at is not None and _field(body, "status") == "approved":
            agent, since = held_at.pop(rid)
            if since is not None:
                stats[agent].waits.append(max(0.0, at - since))
    ordered = sorted(stats.values(), key=lambda s: (-s.decisions, s.agent))
    return ordered, points


def _field(body: Any, name: str) -> str:
    try:
        doc = json.loads(bytes(body))
    except (ValueError, TypeError):
        return ""
    value = doc.get(name) if isinstance(doc, dict) else None
    return value if isinstance(value, str) else ""


def chart(points: list[tuple[float, str]]) -> Chart | None:
    """The stacked bar chart of ``points``, or None when there is nothing to draw."""
    if not points:
        return None
    first = min(t for t, _ in points)
    last = max(t for t, _ in points)
    bucket = next((b for b in BUCKETS if (last - first) / b < MAX_BARS), max(BUCKETS))
    end = last // bucket * bucket  # the start of the newest bucket
    count = max(MIN_BARS, int((end - first // bucket * bucket) // bucket) + 1)
    start = end - (count - 1) * bucket
    counts = [Counter[str]() for _ in range(count)]
    for t, outcome in points:
        counts[min(count - 1, int((t - start) // bucket))][outcome] += 1
    peak = max(sum(c.values()) for c in counts)
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / count
    bars: list[Bar] = []
    for i, c in enumerate(counts):
        y = HEIGHT - BOTTOM
        label = datetime.fromtimestamp(start + i * bucket, UTC).strftime("%Y-%m-%d %H:%M UTC")
        for outcome in (*OUTCOMES, *sorted(set(c) - set(OUTCOMES))):
            n = c[outcome]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            bars.append(
                Bar(
                    x=round(LEFT + i * slot + slot * 0.1, 2),
                    y=round(y, 2),
                    width=round(max(1.0, slot * 0.8), 2),
                    height=round(h, 2),
                    outcome=outcome if outcome in OUTCOMES else "other",
                    title=f"{label}: {n} {outcome}",
                )
            )
    return Chart(tuple(bars), peak, start, start + count * bucket, bucket)


def sparkline(times: list[float], start: float, end: float, slots: int = 24) -> str:
    """SVG polyline points (in a 100 × 20 box) of one agent's decisions over ``start..end``."""
    if not times or end <= start:
        return ""
    counts = [0] * slots
    for t in times:
        counts[min(slots - 1, max(0, int((t - start) / (end - start) * slots)))] += 1
    peak = max(counts) or 1
    step = 100 / (slots - 1)
    return " ".join(f"{round(i * step, 2)},{round(19 - 18 * n / peak, 2)}" for i, n in enumerate(counts))
