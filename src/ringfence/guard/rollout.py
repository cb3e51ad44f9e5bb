"""A guarded rollout: analyse, and on failure roll back through the signed runbook.

* **Successful** — promote (exit 0).
* **Failed** — run the bound rollback runbook (its signatures are checked again right
  before it runs), verify its post-checks, notify, and open an **incident** in the ledger
  with the metric evidence and what the runbook did (exit 2).
* **Inconclusive** — pause and notify; never promote (exit 4).

A guard whose rollback runbook is not signed for its current digest refuses to start
(exit 3): an analysis that cannot roll back would only watch. ``dry_run`` shows the
schedule, the runbook's signatures and each step's gate decision, and measures nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringfence.errors import GuardError
from ringfence.guard import analysis, execute, notify, runbook
from ringfence.guard.prometheus import Query, client
from ringfence.guard.spec import GuardSpec
from ringfence.model import Principal, PrincipalType

EXIT = {"Successful": 0, "Failed": 2, "Inconclusive": 4}


@dataclass
class GuardOutcome:
    spec: GuardSpec
    phase: str  # Successful | Failed | Inconclusive | DryRun
    analysis: analysis.AnalysisResult | None = None
    rollback: execute.RunbookRun | None = None
    incident: int | None = None  # ledger seq of the incident record
    notified: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.phase == "DryRun":
            return 0 if not self.problems else 3
        return EXIT[self.phase]

    @property
    def headline(self) -> str:
        if self.phase == "Successful":
            return "every metric succeeded: promote"
        if self.phase == "Inconclusive":
            return "inconclusive: paused, not promoted"
        if self.phase == "Failed":
            if self.rollback is None:
                return "FAILED: no rollback runbook is bound"
            return "FAILED: rolled back" if self.rollback.ok else "FAILED: rollback did not complete"
        return "dry run"

    def to_dict(self) -> dict[str, Any]:
        return {
            "guard": self.spec.name,
            "phase": self.phase,
            "headline": self.headline,
            "exit_code": self.exit_code,
            "analysis": self.analysis.to_dict() if self.analysis else None,
            "runbook": {**self.rollback.to_dict()} if self.rollback else None,
            "incident": self.incident,
            "notified": self.notified,
            "problems": self.problems,
            "plan": self.plan,
        }


def principal(env: dict[str, str] | None = None) -> Principal:
    """Who runs the guard: the agent whose shell this is, else the guard service."""
    env = dict(os.environ) if env is None else env
    agent = env.get("RINGFENCE_AGENT_ID")
    if agent:
        return Principal(PrincipalType.AGENT, agent, runtime="guard")
    return Principal(PrincipalType.SERVICE, "ringfence-guard", runtime="guard")


def _verified(spec: GuardSpec, settings: Any) -> runbook.Verified | None:
    if spec.runbook is None:
        return None
    rb = runbook.load(spec.runbook)
    control = settings.control
    return runbook.verify(rb, control.approvers, k=control.runbook_k, groups=control.runbook_groups)


def run(
    spec: GuardSpec,
    gate: Any,
    *,
    dry_run: bool = False,
    query: Query | None = None,
    progress: Callable[[analysis.Measurement], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    post: Any = None,
    who: Principal | None = None,
) -> GuardOutcome:
    settings = gate.settings
    who = who or principal()
    query = query or client(spec.address, timeout=spec.timeout)
    channels = notify.channels_for(settings.control, spec.notify)
    verified = _verified(spec, settings)
    if verified is not None and not verified.ok:
        raise GuardError(f"refusing to guard with runbook {verified.runbook.path}: " + "; ".join(verified.problems))
    if dry_run:
        out = GuardOutcome(spec, "DryRun")
        for m in spec.metrics:
            out.plan.append(
                f"metric {m.name}: {m.count} measurement(s), first after {m.initial_delay:g}s, every {m.interval:g}s; "
                f"fails after {m.failure_limit + 1} failed, pauses after {m.inconclusive_limit + 1} inconclusive"
            )
        out.plan.append(f"analysis takes up to {spec.longest:g}s")
        if verified is None:
            out.plan.append("on failure: no rollback runbook is bound (only notify)")
        else:
            out.plan.append(f"on failure: runbook {verified.summary()}")
            dry = execute.execute(verified.runbook, verified, gate, who, dry_run=True, query=query)
            out.rollback = dry
            for s in dry.steps:
                out.plan.append(f"  step {s.name}: `{s.command}` → {s.decision}")
                if s.decision != "allow":
                    out.problems.append(f"rollback step {s.name!r} would be stopped by the gate: {s.reason}")
        return out
    result = analysis.run_analysis(spec, query, sleep=sleep, progress=progress)
    out = GuardOutcome(spec, result.phase.value, analysis=result)
    if result.phase is analysis.Phase.FAILED and verified is not None:
        again = _verified(spec, settings)  # the file may have changed during the analysis
        assert again is not None
        out.rollback = execute.execute(again.runbook, again, gate, who, query=query, sleep=sleep)
    _record(gate, out)
    if result.phase is not analysis.Phase.SUCCESSFUL:
        event = "guard.failed" if result.phase is analysis.Phase.FAILED else "guard.inconclusive"
        for name, delivery in notify.send(channels, event, out.to_dict(), post=post):
            (out.notified if delivery.ok else out.problems).append(
                name if delivery.ok else f"notification to {name} failed: {delivery.error}"
            )
    return out


def _record(gate: Any, out: GuardOutcome) -> None:
    ledger = getattr(gate, "ledger", None)
    if ledger is None:
        out.problems.append("no ledger is configured: the outcome was not recorded")
        return
    evidence = out.analysis.to_dict() if out.analysis else {}
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": "incident" if out.phase == "Failed" else "guard",
        "principal_type": "service",
        "principal_id": "ringfence-guard",
        "decision": out.phase,
        "guard": out.spec.name,
        "environment": out.spec.environment,
        "service": out.spec.service,
        "headline": out.headline,
        "evidence": _no_floats(evidence),
        "runbook": _no_floats(out.rollback.to_dict()) if out.rollback else None,
    }
    try:
        out.incident = ledger.append(entry)
    except Exception as exc:
        out.problems.append(f"could not record the outcome in the ledger: {exc}")


def _no_floats(value: Any) -> Any:
    """Ledger entries hold no floats (canonical JSON): measured values become strings."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return [_no_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_floats(v) for k, v in value.items()}
    return value
