"""The effective policy as a table, and "try an action": what ``ringfence explain`` shows
for a shell command, computed by the server's own gate with analysis and policy only —
nothing is executed, no control state is touched and nothing is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringfence.gate import Gate
from ringfence.model import Action, ActionKind, Decision, Principal, PrincipalType

MAX_COMMAND = 8000
ENVIRONMENTS = ("development", "staging", "production")


@dataclass(frozen=True, slots=True)
class RuleRow:
    id: str
    decision: str
    tier: str
    reason: str
    effects: str
    pack: str
    approval: str


def rules(gate: Gate) -> list[RuleRow]:
    return [
        RuleRow(
            id=r.id,
            decision=r.outcome.value,
            tier=r.tier.value,
            reason=r.reason,
            effects=", ".join(sorted(r.effects)) or "(any action)",
            pack=r.pack or r.layer,
            approval=r.approval.describe() if r.approval is not None else "",
        )
        for r in gate.policy.rules
    ]


@dataclass(frozen=True, slots=True)
class TracedCommand:
    evidence: str
    via: str
    notes: str


@dataclass(frozen=True, slots=True)
class Explained:
    cwd: str
    workspace: str
    environment: str
    commands: tuple[TracedCommand, ...]
    stopped: str  # why the command analysis stopped early ("" if it did not)
    effects: tuple[dict[str, str], ...]
    matches: tuple[dict[str, str], ...]
    decision: Decision


def explain(gate: Gate, command: str, cwd: str, environment: str | None, agent: str) -> Explained:
    """The explain trace of ``command`` run by ``agent`` in ``cwd``: the commands it would
    run after unwrapping, the effects with their evidence, the rules and the decision."""
    from ringfence.analyze import trace_shell
    from ringfence.analyze.notes import command_notes
    from ringfence.errors import AnalysisLimit

    action = Action(ActionKind.SHELL, {"command": command}, cwd, tool="Bash", environment=environment)
    ctx = gate.context(action)
    traced: list[TracedCommand] = []
    stopped = ""
    try:
        for cmd in trace_shell(action.command, ctx).commands:
            notes = command_notes(cmd, action.cwd)
            traced.append(TracedCommand(cmd.evidence, " → ".join(cmd.via), "; ".join(notes)))
    except AnalysisLimit as exc:
        stopped = str(exc)
    decision = gate.evaluate(action, Principal(PrincipalType.AGENT, agent))
    effects = tuple(
        {
            "kind": e.kind,
            "attrs": ", ".join(f"{k}={_fmt(v)}" for k, v in e.attrs.items() if v not in (None, (), False, "")),
            "evidence": (" → ".join(e.via) + ": " if e.via else "") + e.evidence,
        }
        for e in decision.effects
        if e.kind != "exec"
    )
    matches = tuple(
        {
            "rule": m.rule_id,
            "decision": m.outcome.value,
            "tier": m.tier.value,
            "reason": m.reason,
            "alternative": m.alternative or "",
        }
        for m in decision.verdict.matches
    )
    return Explained(
        cwd=action.cwd,
        workspace=ctx.workspace or "(none)",
        environment=ctx.environment or "(unknown)",
        commands=tuple(traced),
        stopped=stopped,
        effects=effects,
        matches=matches,
        decision=decision,
    )


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)
