"""Prometheus metrics of the server (``GET /metrics``).

With several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set by ``ringfence serve
--workers N``) counters and histograms are summed over the workers and gauges report the
most recent value any worker set.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ringfence.model import Decision

if TYPE_CHECKING:
    from ringfence.server.state import ServerState

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "ringfence_decisions_total", "Decisions by outcome and agent", ["outcome", "agent"], registry=self.registry
        )
        self.effects = Counter(
            "ringfence_effects_total", "Effects found in decided actions", ["effect", "outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "ringfence_decision_seconds",
            "Time to decide, including control state and the durable ledger write",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http = Counter(
            "ringfence_http_requests_total",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.pending = Gauge(
            "ringfence_pending_approvals",
            "Pending approval requests",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.halts = Gauge(
            "ringfence_active_halts",
            "Active halts (kill switch)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.ledger_size = Gauge(
            "ringfence_ledger_entries", "Entries in the ledger", registry=self.registry, multiprocess_mode="mostrecent"
        )
        self._decided: dict[tuple[str, str], Any] = {}
        self._effected: dict[tuple[str, str], Any] = {}

    def observe(self, decision: Decision, started: float | None = None) -> None:
        key = (decision.outcome.value, decision.principal.id)
        child = self._decided.get(key)
        if child is None:
            child = self._decided[key] = self.decisions.labels(*key)
        child.inc()
        for effect in {e.kind for e in decision.effects if e.kind != "exec"}:
            ekey = (effect, key[0])
            echild = self._effected.get(ekey)
            if echild is None:
                echild = self._effected[ekey] = self.effects.labels(*ekey)
            echild.inc()
        if started is not None:
            self.latency.observe(time.perf_counter() - started)

    def render(self, state: ServerState) -> bytes:
        self.pending.set(len(state.store.requests(status="pending", limit=100_000)))
        self.halts.set(len(state.store.active_halts()))
        self.ledger_size.set(state.ledger.size())
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)
