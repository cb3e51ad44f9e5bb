"""Running a guard's metrics with Argo Rollouts' analysis semantics.

Each metric is measured ``count`` times, first after ``initialDelay``, then every
``interval``. One measurement is:

* **Inconclusive** when the query returns no data or NaN — never Successful;
* **Failed** when ``failureCondition`` holds; **Successful** when ``successCondition``
  holds; with both given and neither holding, **Inconclusive**; with only one given, the
  other outcome when it does not hold;
* **Error** when the query or the condition cannot be evaluated.

A metric **fails** once its failed measurements exceed ``failureLimit``, is
**inconclusive** once inconclusive ones exceed ``inconclusiveLimit`` or consecutive
errors exceed ``consecutiveErrorLimit`` (no information is never good news), and
**succeeds** when all ``count`` measurements are in without either. The analysis is Failed
as soon as any metric fails (the others stop: rollback does not wait), else Inconclusive
as soon as any metric is, else Successful when every metric is.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringfence.guard.expr import ExprError
from ringfence.guard.prometheus import Query, QueryError
from ringfence.guard.spec import GuardSpec, Metric


class Phase(enum.StrEnum):
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"
    ERROR = "Error"
    RUNNING = "Running"


@dataclass(frozen=True)
class Measurement:
    metric: str
    at: str  # RFC 3339 UTC
    phase: Phase
    value: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "at": self.at, "phase": self.phase.value, "value": self.value,
                "message": self.message}  # fmt: skip


@dataclass
class MetricRun:
    metric: Metric
    next_at: float
    phase: Phase = Phase.RUNNING
    measurements: list[Measurement] = field(default_factory=list)
    failed: int = 0
    inconclusive: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.metric.name,
            "phase": self.phase.value,
            "message": self.message,
            "counts": {
                "measured": len(self.measurements),
                "failed": self.failed,
                "inconclusive": self.inconclusive,
                "error": self.errors,
            },
            "measurements": [m.to_dict() for m in self.measurements],
        }


@dataclass
class AnalysisResult:
    phase: Phase
    metrics: list[MetricRun]
    started: str
    finished: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase.value,
            "message": self.message,
            "started": self.started,
            "finished": self.finished,
            "metrics": [m.to_dict() for m in self.metrics],
        }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _clean(value: Any) -> Any:
    """A JSON-safe copy of a result (NaN and infinities as strings)."""
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    return value


def measure(metric: Metric, query: Query, now: float) -> Measurement:
    try:
        result = query(metric.query)
    except QueryError as exc:
        return Measurement(metric.name, _iso(now), Phase.ERROR, None, str(exc))
    value = _clean(result.for_condition()) if not result.empty else []
    if result.empty:
        return Measurement(metric.name, _iso(now), Phase.INCONCLUSIVE, value, "no data: the query returned nothing")
    if result.has_nan:
        return Measurement(metric.name, _iso(now), Phase.INCONCLUSIVE, value, "NaN: no data to judge (e.g. no traffic)")
    observed = result.for_condition()
    try:
        failed = metric.failure(observed) if metric.failure is not None else None
        succeeded = metric.success(observed) if metric.success is not None else None
    except ExprError as exc:
        return Measurement(metric.name, _iso(now), Phase.ERROR, value, str(exc))
    if failed:
        phase, why = Phase.FAILED, f"failureCondition {metric.failure.text if metric.failure else ''} holds"
    elif succeeded:
        phase, why = Phase.SUCCESSFUL, f"successCondition {metric.success.text if metric.success else ''} holds"
    elif failed is None:  # only a successCondition, and it does not hold
        phase, why = Phase.FAILED, f"successCondition {metric.success.text if metric.success else ''} does not hold"
    elif succeeded is None:  # only a failureCondition, and it does not hold
        phase, why = Phase.SUCCESSFUL, "failureCondition does not hold"
    else:
        phase, why = Phase.INCONCLUSIVE, "neither successCondition nor failureCondition holds"
    return Measurement(metric.name, _iso(now), phase, value, why)


def _record(run: MetricRun, m: Measurement) -> None:
    run.measurements.append(m)
    metric = run.metric
    run.consecutive_errors = run.consecutive_errors + 1 if m.phase is Phase.ERROR else 0
    run.failed += m.phase is Phase.FAILED
    run.inconclusive += m.phase is Phase.INCONCLUSIVE
    run.errors += m.phase is Phase.ERROR
    if run.failed > metric.failure_limit:
        run.phase = Phase.FAILED
        run.message = f"{run.failed} failed measurement(s), more than failureLimit {metric.failure_limit}: {m.message}"
    elif run.inconclusive > metric.inconclusive_limit:
        run.phase = Phase.INCONCLUSIVE
        run.message = (
            f"{run.inconclusive} inconclusive measurement(s), more than inconclusiveLimit "
            f"{metric.inconclusive_limit}: {m.message}"
        )
    elif run.consecutive_errors > metric.consecutive_error_limit:
        run.phase = Phase.INCONCLUSIVE
        run.message = (
            f"{run.consecutive_errors} consecutive measurement errors, more than consecutiveErrorLimit "
            f"{metric.consecutive_error_limit}: {m.message}"
        )
    elif len(run.measurements) >= metric.count:
        run.phase = Phase.SUCCESSFUL
        run.message = f"{len(run.measurements)} measurement(s): {run.failed} failed, {run.inconclusive} inconclusive"


def run_analysis(
    spec: GuardSpec,
    query: Query,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], float] = time.time,
    progress: Callable[[Measurement], None] | None = None,
) -> AnalysisResult:
    """Measure until the analysis is decided (see the module docstring)."""
    start = clock()
    started = wall()
    runs = [MetricRun(m, start + m.initial_delay) for m in spec.metrics]
    while True:
        pending = [r for r in runs if r.phase is Phase.RUNNING]
        failed = next((r for r in runs if r.phase is Phase.FAILED), None)
        unknown = next((r for r in runs if r.phase is Phase.INCONCLUSIVE), None)
        if failed is not None:
            return AnalysisResult(
                Phase.FAILED, runs, _iso(started), _iso(wall()), f"{failed.metric.name}: {failed.message}"
            )
        if unknown is not None:
            return AnalysisResult(
                Phase.INCONCLUSIVE, runs, _iso(started), _iso(wall()), f"{unknown.metric.name}: {unknown.message}"
            )
        if not pending:
            return AnalysisResult(Phase.SUCCESSFUL, runs, _iso(started), _iso(wall()), "every metric succeeded")
        run = min(pending, key=lambda r: r.next_at)
        wait = run.next_at - clock()
        if wait > 0:
            sleep(wait)
        m = measure(run.metric, query, wall())
        _record(run, m)
        run.next_at += run.metric.interval
        if progress is not None:
            progress(m)
