"""Verdict → decision: the kill switch, gate types, grants, change windows and budgets.

:meth:`Controller.apply` is the last step of the decision path before the ledger. In
order:

1. **Kill switch.** An active halt whose scope covers the principal (agents by default,
   everyone with ``--all``; optionally one agent id and/or one environment) denies.
2. **Deny stays deny.**
3. **Gate type** of the verdict's tier for a require_approval verdict: ``never`` denies,
   ``automatic`` allows (counted against budgets), ``single_approver``, ``k_of_n`` and
   ``scheduled_window`` go to the approval flow.
4. **Approval flow.** A valid grant for exactly this action digest is used once (atomic
   across processes), unless its change window is closed (the action is held, the grant
   kept) or a deny budget is spent. Otherwise the pending request for the digest is
   found or created (deduplicated) and the decision stays require_approval, naming it.
5. **Budgets** for allowed agent actions: spending is atomic across processes; a spent
   budget denies or requires approval, as configured.

Any error here propagates to the gate, which denies (fail closed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ringfence.control.approvals import Requirement, grant_summary, requirement_for, tally, unsatisfiable
from ringfence.control.settings import Budget, ControlSettings, format_duration
from ringfence.control.store import ControlStore, Halt, Request, Status
from ringfence.model import Decision, Outcome, PrincipalType, RiskTier


@dataclass(frozen=True, slots=True)
class Spend:
    budget: Budget
    subject: str
    units: float


@dataclass
class Controller:
    settings: ControlSettings
    store: ControlStore
    gate_type: Callable[[RiskTier], str]
    clock: Callable[[], float] = field(default=time.time)

    def apply(self, d: Decision) -> Decision:
        halt = self.halt_for(d)
        if halt is not None:
            return _deny(d, halted_reason(halt), "halt")
        if d.outcome is Outcome.DENY:
            return d
        if d.outcome is Outcome.REQUIRE_APPROVAL:
            gate = self.gate_type(d.tier)
            if gate == "never":
                return _deny(
                    d,
                    f"{d.reason} Tier {d.tier.value} actions can never be approved (the organisation policy maps "
                    f"{d.tier.value} to 'never'), so this is denied.",
                    "gate",
                )
            if gate != "automatic":
                return self._approval(d, gate)
            d = replace(
                d,
                outcome=Outcome.ALLOW,
                reason=f"approved automatically: tier {d.tier.value} is gated 'automatic' by policy ({d.reason})",
                control="gate",
            )
        return self._budgets(d)

    # --- kill switch ----------------------------------------------------------------

    def halt_for(self, d: Decision) -> Halt | None:
        halts = self.store.active_halts()
        if not halts:
            return None
        envs = d.environments
        for h in halts:
            if not h.everyone and d.principal.type is not PrincipalType.AGENT:
                continue
            if h.agent is not None and h.agent != d.principal.id:
                continue
            if h.environment is not None and h.environment not in envs:
                continue
            return h
        return None

    # --- approvals ------------------------------------------------------------------

    def _approval(self, d: Decision, gate: str) -> Decision:
        requirement = requirement_for(d.verdict.approval, gate, self.settings)
        grant = self.store.grant_for(d.action_digest)
        if grant is not None:
            used = self._use_grant(d, grant)
            if used is not None:
                return used
        latest = self.store.latest_for(d.action_digest)
        now = self.clock()
        if latest is not None and latest.status == Status.DENIED and (latest.decided_at or 0) + requirement.ttl > now:
            return self._denied_request(d, latest)
        if requirement.window is not None:
            self.settings.window(requirement.window)  # a window that does not parse denies now, not at approval
        request, _created = self.store.open_request(
            digest=d.action_digest,
            requester_type=d.principal.type.value,
            requester_id=d.principal.id,
            owner=d.principal.owner,
            environment=next(iter(sorted(d.environments)), None),
            tier=d.tier.value,
            summary=summarize(d),
            body=request_body(d, requirement),
            ttl=requirement.ttl,
            notify=self.settings.notify,
        )
        return replace(
            d,
            reason=held_reason(d, request, requirement, self.settings, now),
            request_id=request.id,
            runtime_prompt=requirement.runtime_prompt,
        )

    def _use_grant(self, d: Decision, grant: Request) -> Decision | None:
        requirement = Requirement.from_dict(grant.body.get("requirement") or {})
        if requirement.window is not None:
            window = self.settings.window(requirement.window)
            at = datetime.fromtimestamp(self.clock(), UTC)
            if not window.is_open(at):
                opens = window.next_open(at)
                when = f"it opens {_when(opens.timestamp())}" if opens is not None else "it does not open again"
                frozen = window.frozen_on(at)
                why = f" (frozen {frozen[0]}–{frozen[1]})" if frozen else ""
                return _deny(
                    d,
                    f"approved under {grant.id}, but held until the change window {window.describe()} opens{why}: "
                    f"{when}. Retry the same action then; the approval stays valid until "
                    f"{_when(grant.grant_expires_at)}.",
                    "window",
                    request_id=grant.id,
                )
        blocked = self._spend(d, approved=True)
        if blocked is not None:
            return blocked
        if not self.store.consume_grant(grant.id, f"{d.principal.type.value}:{d.principal.id}"):
            return None  # another process used it first
        t = tally(grant, self.store.approvals(grant.id), self.settings)
        left = grant.uses_left - 1
        uses = "this was its last use" if left <= 0 else f"{left} use{'s' if left != 1 else ''} left"
        return replace(
            d,
            outcome=Outcome.ALLOW,
            reason=f"approved by {', '.join(t.approved_by) or 'approvers'} under {grant.id} ({uses}). {d.reason}",
            request_id=grant.id,
            control="grant",
        )

    def _denied_request(self, d: Decision, request: Request) -> Decision:
        t = tally(request, self.store.approvals(request.id), self.settings)
        who = ", ".join(t.denied_by) or "an approver"
        return _deny(
            d,
            f"{request.id} for this action was denied by {who}. Do not retry it; change the approach or ask the "
            f"approvers. ({d.reason})",
            "denied",
            request_id=request.id,
        )

    # --- budgets --------------------------------------------------------------------

    def _spends(self, d: Decision) -> list[Spend]:
        if d.principal.type is not PrincipalType.AGENT or not self.settings.budgets:
            return []
        kinds = tuple(e.kind for e in d.effects)
        envs = tuple(sorted(d.environments))
        out = []
        for b in self.settings.budgets:
            units = b.units(d.action.kind.value, kinds, envs, d.principal.id)
            if units > 0:
                out.append(Spend(b, d.principal.id if b.per_agent else "*", units))
        return out

    def _spend(self, d: Decision, *, approved: bool) -> Decision | None:
        """Spend the budgets ``d`` counts against; the blocking decision if one is spent.

        An approved action (a grant) is only stopped by ``on_exceed: deny`` budgets; its
        use still counts."""
        spends = self._spends(d)
        if not spends:
            return None
        items = [(s.budget.id, s.subject, s.units, s.budget.limit, s.budget.per) for s in spends]
        force = {s.budget.id for s in spends if approved and s.budget.on_exceed == "require_approval"}
        failed = self.store.spend(items, force=force)
        if failed is None:
            return None
        budget_id, used, retry_at = failed
        budget = next(s.budget for s in spends if s.budget.id == budget_id)
        text = f"budget {budget.describe()} is spent ({used:g} used in the last {format_duration(budget.per)}); " + (
            f"room again {_when(retry_at)}." if retry_at is not None else "this action alone exceeds it."
        )
        if budget.on_exceed == "require_approval" and not approved:
            gated = replace(d, outcome=Outcome.REQUIRE_APPROVAL, tier=max(d.tier, RiskTier.MEDIUM, key=_rank))
            decided = self._approval(replace(gated, reason=text), "single_approver")
            return decided if decided.control else replace(decided, control="budget")
        return _deny(d, f"{text} ({d.reason})", "budget")

    def _budgets(self, d: Decision) -> Decision:
        blocked = self._spend(d, approved=False)
        return d if blocked is None else blocked


def _rank(t: RiskTier) -> int:
    return t.rank


def _deny(d: Decision, reason: str, control: str, *, request_id: str | None = None) -> Decision:
    return replace(d, outcome=Outcome.DENY, reason=reason, control=control, request_id=request_id or d.request_id)


def _when(ts: float | None) -> str:
    if ts is None:
        return "never"
    return "at " + datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def halted_reason(h: Halt) -> str:
    return (
        f"ringfence is halted for {h.scope()} by {h.by} {_when(h.at)}: {h.reason}. Every matching action is denied "
        f"until a human lifts it with `ringfence resume` (halt {h.id})."
    )


def summarize(d: Decision, limit: int = 300) -> str:
    """The action in one readable line: ``shell: git push --force origin main``."""
    a = d.action
    if a.command:
        text = f"{a.kind.value}: {a.command}"
    elif "path" in a.payload:
        text = f"{a.tool or a.kind.value} {a.payload['path']}"
    elif a.kind.value == "mcp_call":
        text = f"mcp {a.payload.get('server')}.{a.payload.get('tool')}"
    elif a.kind.value == "push":
        from ringfence.analyze.push import summary

        text = summary(a.payload)
    else:
        text = f"{a.kind.value} {a.tool or ''}".strip()
    from ringfence.ledger.redact import redact_text

    text = redact_text(" ".join(text.split()))  # stored, shown in the dashboard and sent to Slack
    return text if len(text) <= limit else text[: limit - 1] + "…"


def request_body(d: Decision, requirement: Requirement) -> dict[str, Any]:
    """What a request stores about its action (redacted; file contents only as a digest)."""
    from ringfence.gate import ledger_entry

    entry = ledger_entry(d)
    return {
        "principal": d.principal.to_dict(),
        "action": entry["action"],
        "effects": entry["effects"],
        "rules": list(d.rule_ids),
        "reason": entry["reason"],
        "policy_digest": d.verdict.policy_digest,
        "requirement": requirement.to_dict(),
    }


def held_reason(d: Decision, request: Request, req: Requirement, settings: ControlSettings, now: float) -> str:
    minutes = max(1, round((request.expires_at - now) / 60))
    text = (
        f"held for approval as {request.id}: needs {req.describe()} (expires in {minutes} min). "
        f"An approver runs `ringfence approvals approve {request.id}`; a pipeline can block with "
        f"`ringfence wait {request.id}`. Once approved, retry exactly the same action: {grant_summary(settings)}."
    )
    problem = unsatisfiable(request, settings)
    if problem:
        text += f" Warning: {problem}."
    return f"{text} Why: {d.reason}"


def request_view(request: Request, store: ControlStore, settings: ControlSettings) -> Mapping[str, Any]:
    """The request as notification channels and the CLI show it."""
    t = tally(request, store.approvals(request.id), settings)
    req = Requirement.from_dict(request.body.get("requirement") or {})
    owner = f" (owner {request.owner})" if request.owner else ""
    view: dict[str, Any] = {
        "id": request.id,
        "summary": request.summary,
        "requester": f"{request.requester_type}:{request.requester_id}{owner}",
        "tier": request.tier,
        "rules": list(request.body.get("rules") or []),
        "effects": [e.get("kind", "") for e in request.body.get("effects") or [] if isinstance(e, dict)],
        "requirement": req.describe(),
        "reason": str(request.body.get("reason", "")),
        "expires_at": request.expires_at,
        "status": request.effective_status(store.clock()),
        "approvals": [{"approver": a, "verdict": "approve"} for a in t.approved_by]
        + [{"approver": a, "verdict": "deny"} for a in t.denied_by],
    }
    if settings.dashboard_url:
        view["url"] = f"{settings.dashboard_url.rstrip('/')}/requests/{request.id}"
    return view
