"""The gate: action → effects → verdict → decision → ledger.

:class:`Gate` is the in-process decision engine every adapter, the CLI and the daemon
use. ``evaluate`` is pure (analysis and policy); ``decide`` also records the decision in
the ledger *before* returning it. Neither raises: every failure on the decision path
becomes a deny whose reason says what went wrong (unless the operator set
``on_error: allow``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ringfence.analyze import analyze
from ringfence.analyze.context import Context
from ringfence.config import Settings, load_settings
from ringfence.errors import AnalysisLimit, RingfenceError
from ringfence.ledger import Ledger
from ringfence.model import (
    Action,
    ActionKind,
    Decision,
    Effect,
    Outcome,
    Principal,
    PrincipalType,
    RiskTier,
    RuleMatch,
    Verdict,
)
from ringfence.policy.evaluate import evaluate as evaluate_policy
from ringfence.policy.layers import effective_policy, rego_files, sources_stamp
from ringfence.policy.load import Policy, load_builtin
from ringfence.policy.rules import EvalContext

if TYPE_CHECKING:
    from ringfence.control.engine import Controller
    from ringfence.policy.rego import RegoModules

_builtin_policy: Policy | None = None


def builtin_policy() -> Policy:
    global _builtin_policy
    if _builtin_policy is None:
        _builtin_policy = load_builtin()
    return _builtin_policy


def action_digest(principal: Principal, action: Action) -> str:
    """SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of the principal's
    type and id and the normalised action (kind, tool, payload, cwd, repo, environment)."""
    doc = {"principal": {"type": principal.type.value, "id": principal.id}, "action": action.to_dict()}
    data = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(utf8(data)).hexdigest()


def utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``: undecodable input bytes (surrogateescape) come back as they
    were, and any other lone surrogate (JSON allows ``"\\ud800"``) is still encoded."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


CACHE_ENTRIES = 4096
CACHE_MAX_COMMAND = 4096


@dataclass(slots=True)
class Gate:
    """The decision engine for one configuration.

    Shell analyses that read nothing from disk are pure functions of the command and its
    context, so the gate keeps the last :data:`CACHE_ENTRIES` of them (agents repeat
    ``git status`` and ``npm test`` all session long). An analysis that looked at a file
    (a script it runs, an SQL file it feeds) is never reused.
    """

    settings: Settings = field(default_factory=Settings)
    policy: Policy = field(default_factory=builtin_policy)
    ledger: Ledger | None = None
    cache: bool = True
    rego: RegoModules | None = None
    sources: tuple[object, ...] = ()  # fingerprint of the policy files this gate was built from
    control: Controller | None = None  # approvals, halts, budgets, windows (None: policy only)
    owner_from_env: bool = True  # an agent without an owner is owned by $USER (not on a server)
    _digests: dict[tuple[str, ...], str] = field(default_factory=dict, repr=False, compare=False)
    _effects: dict[tuple[str, ...], tuple[Effect, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def for_cwd(cls, cwd: str, *, record: bool = True) -> Gate:
        """The gate configured for ``cwd``. Raises ConfigError/PolicyError/LedgerError."""
        settings = load_settings(cwd)
        policy = effective_policy(settings, cwd, base=builtin_policy())
        rego = None
        modules = rego_files(settings, cwd)
        if modules:
            from ringfence.policy.rego import RegoModules

            rego = RegoModules.load(modules)
        ledger: Ledger | None = None
        location = settings.ledger_location
        control = None
        if record:
            if location is not None:
                from ringfence.ledger.store import open_ledger

                ledger = open_ledger(location)
            from ringfence.control.engine import Controller
            from ringfence.control.store import open_store

            control = Controller(settings.control, open_store(settings.state_location), policy.gate_type)
        return cls(settings, policy, ledger, rego=rego, sources=sources_stamp(settings, cwd), control=control)

    def context(self, action: Action) -> Context:
        return Context.for_cwd(action.cwd, self.settings.analysis, environment=action.environment)

    def resolve(self, principal: Principal) -> Principal:
        """The principal with the configured agent identity filled in: ``agent.id`` names
        an agent the runtime only knows by its runtime name, ``agent.owner`` names its
        owner when the runtime's environment did not (``RINGFENCE_AGENT_OWNER``)."""
        if principal.type is not PrincipalType.AGENT:
            return principal
        s = self.settings
        if s.agent_id and principal.id == principal.runtime:
            principal = replace(principal, id=s.agent_id)
        if principal.owner is None:
            owner = s.agent_owner or (os.environ.get("USER") if self.owner_from_env else None) or None
            if owner:
                principal = replace(principal, owner=owner)
        return principal

    def evaluate(self, action: Action, principal: Principal) -> Decision:
        """Analysis and policy only: no ledger, never raises."""
        principal = self.resolve(principal)
        digest = self._digest(principal, action)
        try:
            ctx = self.context(action)
            effects = self._analyze(action, ctx)
            verdict = evaluate_policy(
                self.policy, effects, EvalContext(action, principal, ctx.environment or action.environment)
            )
            if self.rego is not None:
                from ringfence.policy.rego import evaluate_rego, input_document

                verdict = merge_matches(
                    verdict, evaluate_rego(self.rego, input_document(action, principal, effects, ctx)), self.rego.digest
                )
        except Exception as exc:  # fail closed: any bug ends in a deny
            return failure(action, principal, exc, digest=digest, on_error=self.settings.on_error)
        return Decision(
            outcome=verdict.outcome,
            tier=verdict.tier,
            reason=explain_verdict(verdict),
            action=action,
            principal=principal,
            effects=tuple(effects),
            verdict=verdict,
            action_digest=digest,
            environment=ctx.environment or action.environment,
        )

    def _digest(self, principal: Principal, action: Action) -> str:
        """:func:`action_digest`, remembered for shell actions (agents repeat commands)."""
        if action.kind is not ActionKind.SHELL or len(action.payload) != 1 or len(action.command) > CACHE_MAX_COMMAND:
            return action_digest(principal, action)
        key = (
            principal.type.value,
            principal.id,
            action.command,
            action.cwd,
            action.tool or "",
            action.repo or "",
            action.environment or "",
        )
        digest = self._digests.get(key)
        if digest is None:
            if len(self._digests) >= CACHE_ENTRIES:
                self._digests.clear()
            digest = self._digests[key] = action_digest(principal, action)
        return digest

    def _analyze(self, action: Action, ctx: Context) -> tuple[Effect, ...]:
        key: tuple[str, ...] | None = None
        if self.cache and action.kind is ActionKind.SHELL and len(action.command) <= CACHE_MAX_COMMAND:
            shell = action.payload.get("shell")  # the same text in PowerShell is another program
            key = (action.command, ctx.cwd, ctx.home, ctx.workspace or "", ctx.environment or "", str(shell or ""))
            hit = self._effects.get(key)
            if hit is not None:
                return hit
        try:
            effects = tuple(analyze(action, ctx))
        except AnalysisLimit as exc:
            effects = (Effect("analysis.limit", {"reason": str(exc)}, evidence=_short(action)),)
        if key is not None and ctx.fs_reads == 0:
            if len(self._effects) >= CACHE_ENTRIES:
                del self._effects[next(iter(self._effects))]  # oldest first
            self._effects[key] = effects
        return effects

    def decide(self, action: Action, principal: Principal) -> Decision:
        """Evaluate, apply control state, then record durably, then return. A failed
        control check or record is a deny."""
        decision = self.prepare(action, principal)
        if self.ledger is None:
            return decision
        try:
            seq = self.ledger.append(ledger_entry(decision))
        except Exception as exc:
            return self.unrecorded(decision, exc)
        return self.recorded(decision, seq)

    def prepare(self, action: Action, principal: Principal) -> Decision:
        """The decision before it is recorded: analysis, policy, control state. Never raises."""
        decision = self.evaluate(action, principal)
        if self.control is not None and decision.error is None:
            try:
                decision = self.control.apply(decision)
            except Exception as exc:
                return failure(
                    action,
                    principal,
                    exc,
                    digest=decision.action_digest,
                    on_error="deny",
                    what="could not check control state (halts, approvals, budgets)",
                )
        return decision

    def unrecorded(self, decision: Decision, exc: BaseException) -> Decision:
        """The deny for a decision that could not be recorded."""
        return failure(
            decision.action,
            decision.principal,
            exc,
            digest=decision.action_digest,
            on_error="deny",
            what="could not record the decision",
        )

    def recorded(self, decision: Decision, seq: int) -> Decision:
        """``decision`` recorded as entry ``seq``; signs a checkpoint every N entries."""
        if (seq + 1) % self.settings.checkpoint_every == 0:
            self.checkpoint()
        return _with_record(decision, seq)

    def prompt_answered(self, action: Action, principal: Principal) -> str | None:
        """The runtime ran ``action`` after showing its own prompt for it: record that the
        person there allowed it, on the request created when the prompt was shown.
        Returns the request id, or None when no prompt-answerable request was pending."""
        if self.control is None:
            return None
        principal = self.resolve(principal)
        digest = action_digest(principal, action)
        who = f"human at the {principal.runtime or 'runtime'} prompt ({principal.owner or 'unknown'})"
        request = self.control.store.answered_at_prompt(digest, who)
        if request is None:
            return None
        if self.ledger is not None:
            self.ledger.append(
                {
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "kind": "prompt_answer",
                    "principal_type": "human",
                    "principal_id": principal.owner or "unknown",
                    "runtime": principal.runtime,
                    "decision": "allow",
                    "request": request.id,
                    "action_digest": digest,
                    "reason": f"allowed at the {principal.runtime or 'runtime'}'s own prompt",
                }
            )
        return request.id

    def checkpoint(self) -> str | None:
        """Sign the ledger's current size and root now (and export it to the witness).

        The decision it follows is already durable, so a failure here does not change any
        decision; the next checkpoint covers the same entries."""
        from ringfence.ledger.store import MerkleLedger

        ledger = getattr(self.ledger, "ledger", self.ledger)  # the server's group-commit wrapper
        if not isinstance(ledger, MerkleLedger):
            return None
        try:
            from ringfence.ledger import signer

            return signer.sign_configured(ledger, self.settings)
        except Exception:
            return None


def merge_matches(verdict: Verdict, extra: list[RuleMatch], rego_digest: str = "") -> Verdict:
    """``verdict`` with more matches (from Rego) folded in: deny > require_approval > allow.
    The policy digest then names both sources, so replay knows which policy decided."""
    digest = f"{verdict.policy_digest}+rego:{rego_digest}" if rego_digest else verdict.policy_digest
    if not extra:
        return Verdict(verdict.outcome, verdict.tier, verdict.matches, digest, verdict.exceptions)
    matches = sorted([*verdict.matches, *extra], key=lambda m: (-m.outcome.rank, -m.tier.rank))
    outcome = max((m.outcome for m in matches), key=lambda o: o.rank)
    tier = max((m.tier for m in matches if m.outcome is outcome), key=lambda t: t.rank)
    return Verdict(outcome, tier, tuple(matches), digest, verdict.exceptions)


def _with_record(d: Decision, seq: int) -> Decision:
    return replace(d, record_id=seq)


def _short(action: Action) -> str:
    text = action.command or json.dumps(dict(action.payload), default=str)
    return text[:200] + ("…" if len(text) > 200 else "")


def failure(
    action: Action | None,
    principal: Principal | None,
    exc: BaseException | str,
    *,
    digest: str = "",
    on_error: str = "deny",
    what: str = "internal error",
) -> Decision:
    """The decision for an error on the decision path: deny, with the reason."""
    from ringfence.model import ActionKind, PrincipalType

    message = (
        exc
        if isinstance(exc, str)
        else (str(exc) if isinstance(exc, RingfenceError) else f"{type(exc).__name__}: {exc}")
    )
    if "://" in message:  # a database error can quote a connection URL with its password
        from ringfence.ledger.redact import redact_text

        message = redact_text(message)
    outcome = Outcome.ALLOW if on_error == "allow" else Outcome.DENY
    reason = (
        f"ringfence {what}: {message}. Denied because ringfence fails closed; fix the problem or ask an "
        "operator (run `ringfence doctor`)."
        if outcome is Outcome.DENY
        else f"ringfence {what}: {message}. Allowed because the configuration sets on_error: allow."
    )
    act = action or Action(ActionKind.OTHER, {}, cwd="")
    who = principal or Principal(PrincipalType.AGENT, "unknown")
    return Decision(
        outcome=outcome,
        tier=RiskTier.CRITICAL if outcome is Outcome.DENY else RiskTier.TRIVIAL,
        reason=reason,
        action=act,
        principal=who,
        effects=(),
        verdict=Verdict(outcome, RiskTier.CRITICAL, (), ""),
        action_digest=digest,
        error=message,
    )


def explain_verdict(verdict: Verdict) -> str:
    """One readable paragraph: which rule decided, why, and what to do instead."""
    if verdict.outcome is Outcome.ALLOW:
        return "allowed: no rule requires approval or denies this action"
    top = verdict.deciding[0]
    evidence = top.effect.evidence if top.effect is not None else ""
    detail = top.effect.attrs.get("reason") if top.effect is not None else None
    text = top.reason
    if isinstance(detail, str) and detail:
        text += f" Specifically: {detail}."
    text += f" (rule {top.rule_id}"
    text += f"; found in `{_clip(evidence)}`)" if evidence else ")"
    if verdict.outcome is Outcome.REQUIRE_APPROVAL and top.approval is not None:
        text += f" Needs {top.approval.describe()}."
    if top.alternative:
        text += f" Instead: {top.alternative}"
    others = len(verdict.deciding) - 1
    if others > 0:
        text += f" (+{others} more rule{'s' if others > 1 else ''})"
    return text


def _clip(s: str, n: int = 120) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def ledger_entry(d: Decision) -> dict[str, Any]:
    """The redacted, self-describing record of a decision."""
    from ringfence.ledger.redact import redact_payload, redact_text

    action = d.action.to_dict()
    action["payload"] = redact_payload(d.action.payload)
    return {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "principal_type": d.principal.type.value,
        "principal_id": d.principal.id,
        "principal": d.principal.to_dict(),
        "runtime": d.principal.runtime,
        "session": d.principal.session,
        "action_kind": d.action.kind.value,
        "action": action,
        "action_digest": d.action_digest,
        "effects": [
            {
                "kind": e.kind,
                "attrs": _redact_attrs(e.attrs, redact_text),
                "evidence": redact_text(e.evidence),
                "via": list(e.via),
            }
            for e in d.effects
            if e.kind != "exec"
        ],
        "decision": d.outcome.value,
        "tier": d.tier.value,
        "rules": list(d.rule_ids),
        "reason": redact_text(d.reason),
        "policy_digest": d.verdict.policy_digest,
        "error": d.error,
        **({"environment": d.environment} if d.environment else {}),
        **({"request": d.request_id} if d.request_id else {}),
        **({"control": d.control} if d.control else {}),
        **({"exceptions": list(d.verdict.exceptions)} if d.verdict.exceptions else {}),
    }


def _redact_attrs(attrs: Any, redact: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if isinstance(v, str):
            out[k] = redact(v)
        elif isinstance(v, tuple):
            out[k] = [redact(x) if isinstance(x, str) else x for x in v]
        else:
            out[k] = v
    return out
