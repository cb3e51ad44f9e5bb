"""Running a signed runbook: every step through the gate, every decision in the ledger.

Before anything runs, the runbook's signatures must verify for its current digest
(:func:`ringfence.guard.runbook.verify`). Then, step by step:

1. the precondition, if any, must hold;
2. the step is judged by the gate as the command it is (an argv shown as a shell would
   show it; an HTTP call as the equivalent ``curl -X METHOD URL``) for the principal
   running the guard. A **deny** stops the runbook: a signature cannot approve what policy
   forbids outright. A **require_approval** is satisfied by the runbook's own signatures —
   its grant, recorded as ``control: runbook`` with the signers — and an active kill
   switch still stops it, as it stops everything;
3. the decision is appended to the ledger *before* the step runs (no ledger, no run);
4. the step runs — an argv with no shell, or one HTTP request — with its timeout, and
   must succeed (exit 0, or an expected HTTP status).

Post-checks run after the last step, each retried as configured. ``dry_run`` judges every
step and runs nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ringfence.errors import GuardError
from ringfence.guard.expr import ExprError
from ringfence.guard.prometheus import Query, QueryError
from ringfence.guard.runbook import Check, Runbook, Step, Verified
from ringfence.model import Action, ActionKind, Decision, Outcome, Principal

MAX_OUTPUT = 2000


@dataclass
class StepResult:
    name: str
    command: str
    decision: str
    reason: str
    ran: bool = False
    ok: bool = False
    detail: str = ""
    record: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class RunbookRun:
    runbook: Runbook
    verified: Verified
    steps: list[StepResult] = field(default_factory=list)
    postchecks: list[CheckResult] = field(default_factory=list)
    ok: bool = False
    message: str = ""
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.runbook.to_dict(),
            "signers": self.verified.signers,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "message": self.message,
            "steps": [s.to_dict() for s in self.steps],
            "postchecks": [c.to_dict() for c in self.postchecks],
        }


HttpCall = Callable[[Mapping[str, Any], float], tuple[int, str]]


def http_call(spec: Mapping[str, Any], timeout: float) -> tuple[int, str]:
    """One HTTP request; (status, start of the body). Raises OSError when unreachable."""
    body = spec.get("body")
    data = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    headers = {"User-Agent": "ringfence-guard/1", **dict(spec.get("headers") or {})}
    if data is not None and not isinstance(body, str):
        headers.setdefault("Content-Type", "application/json")
    method = str(spec.get("method", "GET"))
    request = urllib.request.Request(str(spec["url"]), data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read(MAX_OUTPUT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(MAX_OUTPUT).decode("utf-8", "replace")


def run_argv(argv: tuple[str, ...], cwd: Path, timeout: float) -> tuple[bool, str]:
    try:
        done = subprocess.run(list(argv), cwd=cwd, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return False, f"{argv[0]}: command not found"
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout:g}s"
    out = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
    from ringfence.ledger.redact import redact_text

    tail = redact_text(out[-MAX_OUTPUT:])
    return done.returncode == 0, (f"exit {done.returncode}" + (f": {tail}" if tail else ""))


def check(c: Check, query: Query | None, http: HttpCall, sleep: Callable[[float], None]) -> CheckResult:
    detail = ""
    for attempt in range(1, c.retries + 2):
        ok, detail = _check_once(c, query, http)
        if ok:
            return CheckResult(c.name, True, detail, attempt)
        if attempt <= c.retries:
            sleep(c.interval)
    return CheckResult(c.name, False, detail, c.retries + 1)


def _check_once(c: Check, query: Query | None, http: HttpCall) -> tuple[bool, str]:
    if c.http is not None:
        try:
            status, _ = http(c.http, 10.0)
        except OSError as exc:
            return False, f"{c.http['url']} unreachable: {exc}"
        return status in c.http["status"], f"HTTP {status}"
    assert c.query is not None and c.condition is not None
    if query is None:
        return False, "no Prometheus is configured for this check"
    try:
        result = query(c.query)
    except QueryError as exc:
        return False, str(exc)
    if result.empty or result.has_nan:
        return False, "no data (empty or NaN): not a pass"
    try:
        holds = c.condition(result.for_condition())
    except ExprError as exc:
        return False, str(exc)
    return holds, f"{c.condition.text} {'holds' if holds else 'does not hold'} for {result.for_condition()!r}"


def _judge(gate: Any, step: Step, runbook: Runbook, verified: Verified, principal: Principal, cwd: Path) -> Decision:
    action = Action(
        ActionKind.SHELL,
        {"command": step.command, "runbook": runbook.name, "step": step.name},
        cwd=str(cwd),
        tool="runbook",
        environment=runbook.environment,
    )
    d: Decision = gate.evaluate(action, principal)
    control = getattr(gate, "control", None)
    if control is not None and d.error is None:
        halt = control.halt_for(d)
        if halt is not None:
            from ringfence.control.engine import halted_reason

            return replace(d, outcome=Outcome.DENY, reason=halted_reason(halt), control="halt")
    if d.outcome is Outcome.REQUIRE_APPROVAL:
        return replace(
            d,
            outcome=Outcome.ALLOW,
            control="runbook",
            reason=f"approved in advance by signed runbook {verified.summary()}: {d.reason}",
        )
    return d


def execute(
    runbook: Runbook,
    verified: Verified,
    gate: Any,
    principal: Principal,
    *,
    dry_run: bool = False,
    query: Query | None = None,
    http: HttpCall = http_call,
    run: Callable[[tuple[str, ...], Path, float], tuple[bool, str]] = run_argv,
    sleep: Callable[[float], None] = time.sleep,
) -> RunbookRun:
    """Run ``runbook`` (see the module docstring). Never runs an unverified runbook."""
    from ringfence.gate import ledger_entry

    result = RunbookRun(runbook, verified, dry_run=dry_run)
    if not verified.ok:
        result.message = "refused: " + "; ".join(verified.problems)
        return result
    if not dry_run and getattr(gate, "ledger", None) is None:
        raise GuardError("a runbook runs only where each step's decision can be recorded: configure the ledger")
    cwd = runbook.path.parent
    for step in runbook.steps:
        d = _judge(gate, step, runbook, verified, principal, cwd)
        r = StepResult(step.name, step.command, d.outcome.value, d.reason)
        result.steps.append(r)
        if dry_run:
            r.ok = d.outcome is Outcome.ALLOW
            continue
        if step.precondition is not None:
            pre = check(step.precondition, query, http, sleep)
            if not pre.ok:
                r.detail = f"precondition {pre.name} failed: {pre.detail}"
                result.message = f"stopped at {step.name!r}: {r.detail}"
                return result
        entry = ledger_entry(d)
        entry["runbook"] = {**runbook.to_dict(), "signers": verified.signers, "step": step.name}
        try:
            r.record = gate.ledger.append(entry)
        except Exception as exc:
            r.decision, r.detail = "deny", f"could not record the decision, so the step did not run: {exc}"
            result.message = f"stopped at {step.name!r}: {r.detail}"
            return result
        if d.outcome is not Outcome.ALLOW:
            result.message = f"stopped at {step.name!r}: the gate said {d.outcome.value}: {d.reason}"
            return result
        r.ran = True
        if step.run is not None:
            r.ok, r.detail = run(step.run, cwd, step.timeout)
        else:
            assert step.http is not None
            try:
                status, _ = http(step.http, step.timeout)
                r.ok, r.detail = status in step.http["status"], f"HTTP {status}"
            except OSError as exc:
                r.ok, r.detail = False, f"{step.http['url']} unreachable: {exc}"
        if not r.ok:
            result.message = f"step {step.name!r} failed: {r.detail}"
            return result
    if dry_run:
        result.ok = all(s.ok for s in result.steps)
        result.message = "dry run: every step would be allowed" if result.ok else "dry run: a step would be stopped"
        return result
    for c in runbook.postchecks:
        outcome = check(c, query, http, sleep)
        result.postchecks.append(outcome)
        if not outcome.ok:
            result.message = f"post-check {c.name!r} failed after {outcome.attempts} attempt(s): {outcome.detail}"
            return result
    result.ok = True
    result.message = f"{len(runbook.steps)} step(s) ran and {len(runbook.postchecks)} post-check(s) passed"
    return result
