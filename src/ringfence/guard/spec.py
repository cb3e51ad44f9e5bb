"""The guard spec: which metrics decide a rollout, and what happens when one fails.

Metric fields follow Argo Rollouts' AnalysisTemplate, so existing templates translate
one to one::

    version: 1
    name: web-canary
    environment: production
    prometheus: {address: http://prometheus:9090, timeout: 10s}
    metrics:
      - name: error-ratio                    # roll back when 5xx are above 2 % for five minutes
        query: |
          sum(rate(http_requests_total{job="web",code=~"5.."}[1m]))
            / sum(rate(http_requests_total{job="web"}[1m]))
        initialDelay: 1m
        interval: 1m
        count: 10
        successCondition: result[0] < 0.02
        failureCondition: result[0] >= 0.02
        failureLimit: 4                      # the fifth failed minute fails the analysis
        inconclusiveLimit: 0
        consecutiveErrorLimit: 4
    on_failure:
      runbook: runbooks/rollback-web.yaml    # a signed runbook, relative to this file
    notify: [oncall]                         # channels from the configuration (default: approvals.notify)

Every field is validated when the spec is loaded; a bad spec changes nothing and says
which field is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.errors import ConfigError, GuardError
from ringfence.guard.expr import Condition, ExprError, compile_condition

METRIC_KEYS = frozenset(
    {
        "name",
        "query",
        "interval",
        "count",
        "initialDelay",
        "successCondition",
        "failureCondition",
        "failureLimit",
        "inconclusiveLimit",
        "consecutiveErrorLimit",
    }
)
TOP_KEYS = frozenset({"version", "name", "environment", "service", "prometheus", "metrics", "on_failure", "notify"})


@dataclass(frozen=True)
class Metric:
    name: str
    query: str
    interval: float = 60.0
    count: int = 1
    initial_delay: float = 0.0
    success: Condition | None = None
    failure: Condition | None = None
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = 4


@dataclass(frozen=True)
class GuardSpec:
    path: Path
    name: str
    metrics: tuple[Metric, ...]
    address: str
    timeout: float = 10.0
    environment: str | None = None
    service: str | None = None
    runbook: Path | None = None
    notify: tuple[str, ...] | None = None

    @property
    def longest(self) -> float:
        """Seconds the analysis takes when nothing fails early."""
        return max(m.initial_delay + m.interval * (m.count - 1) for m in self.metrics)


def _duration(value: Any, where: str, *, zero: bool = False) -> float:
    from ringfence.control.settings import parse_duration

    if zero and value in (0, "0", "0s"):
        return 0.0
    try:
        return parse_duration(value, where)
    except ConfigError as exc:
        raise GuardError(str(exc)) from None


def _count(value: Any, where: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise GuardError(f"{where} must be a whole number ≥ {low}, not {value!r}")
    return value


def _condition(value: Any, where: str) -> Condition | None:
    if value is None:
        return None
    try:
        return compile_condition(value, where)
    except ExprError as exc:
        raise GuardError(str(exc)) from None


def _metric(doc: Any, where: str) -> Metric:
    if not isinstance(doc, Mapping):
        raise GuardError(f"{where} must be a mapping with name, query and conditions")
    unknown = sorted(set(doc) - METRIC_KEYS)
    if unknown:
        raise GuardError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(METRIC_KEYS))})")
    name, query = doc.get("name"), doc.get("query")
    if not isinstance(name, str) or not name.strip():
        raise GuardError(f"{where}.name must be a non-empty string")
    if not isinstance(query, str) or not query.strip():
        raise GuardError(f"{where}.query must be a PromQL expression")
    success = _condition(doc.get("successCondition"), f"{where}.successCondition")
    failure = _condition(doc.get("failureCondition"), f"{where}.failureCondition")
    if success is None and failure is None:
        raise GuardError(f"{where} needs successCondition or failureCondition (or both)")
    count = _count(doc.get("count", 1), f"{where}.count", 1)
    interval = _duration(doc.get("interval", "1m"), f"{where}.interval")
    return Metric(
        name=name,
        query=query.strip(),
        interval=interval,
        count=count,
        initial_delay=_duration(doc.get("initialDelay", 0), f"{where}.initialDelay", zero=True),
        success=success,
        failure=failure,
        failure_limit=_count(doc.get("failureLimit", 0), f"{where}.failureLimit", 0),
        inconclusive_limit=_count(doc.get("inconclusiveLimit", 0), f"{where}.inconclusiveLimit", 0),
        consecutive_error_limit=_count(doc.get("consecutiveErrorLimit", 4), f"{where}.consecutiveErrorLimit", 0),
    )


def load(path: Path) -> GuardSpec:
    """Load and validate a guard spec. Raises :class:`GuardError` naming the file and field."""
    from ringfence.yamlfile import read_mapping

    doc = read_mapping(path, "the guard spec", "version, prometheus and metrics", GuardError)
    where = str(path)
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise GuardError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(TOP_KEYS))})")
    if doc.get("version") != 1:
        raise GuardError(f"{where}: version must be 1")
    prom = doc.get("prometheus")
    if not isinstance(prom, Mapping) or not isinstance(prom.get("address"), str):
        raise GuardError(f"{where}: prometheus.address must be the server's URL, e.g. http://prometheus:9090")
    address = str(prom["address"])
    if not address.startswith(("http://", "https://")):
        raise GuardError(f"{where}: prometheus.address must start with http:// or https://, not {address!r}")
    if set(prom) - {"address", "timeout"}:
        raise GuardError(f"{where}: prometheus takes address and timeout")
    raw = doc.get("metrics")
    if not isinstance(raw, list) or not raw:
        raise GuardError(f"{where}: metrics must be a non-empty list")
    metrics = tuple(_metric(m, f"{where}: metrics[{i}]") for i, m in enumerate(raw))
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise GuardError(f"{where}: metric names must be unique")
    on_failure = doc.get("on_failure") or {}
    if not isinstance(on_failure, Mapping) or set(on_failure) - {"runbook"}:
        raise GuardError(f"{where}: on_failure takes runbook (the signed rollback runbook)")
    runbook = on_failure.get("runbook")
    if runbook is not None and not isinstance(runbook, str):
        raise GuardError(f"{where}: on_failure.runbook must be a path")
    notify = doc.get("notify")
    if notify is not None and (not isinstance(notify, list) or not all(isinstance(n, str) for n in notify)):
        raise GuardError(f"{where}: notify must be a list of channel names")
    for key in ("name", "environment", "service"):
        if doc.get(key) is not None and not isinstance(doc.get(key), str):
            raise GuardError(f"{where}: {key} must be a string")
    return GuardSpec(
        path=path,
        name=str(doc.get("name") or path.stem),
        metrics=metrics,
        address=address,
        timeout=_duration(prom.get("timeout", "10s"), f"{where}: prometheus.timeout"),
        environment=doc.get("environment"),
        service=doc.get("service"),
        runbook=(path.parent / runbook) if runbook else None,
        notify=tuple(notify) if notify is not None else None,
    )
