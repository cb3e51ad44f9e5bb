"""The vocabulary of ringfence as typed, immutable values.

Every module speaks in these types: adapters produce an :class:`Action`, analyzers turn
it into :class:`Effect` values, policy turns effects into a :class:`Verdict`, and control
turns the verdict into a :class:`Decision`. Nothing here imports anything heavy: this
module is on the hook's hot path.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AttrValue = str | int | bool | tuple[str, ...] | None


class PrincipalType(enum.StrEnum):
    AGENT = "agent"
    HUMAN = "human"
    SERVICE = "service"


class ActionKind(enum.StrEnum):
    SHELL = "shell"
    FILE_WRITE = "file_write"
    FILE_READ = "file_read"
    MCP_CALL = "mcp_call"
    DEPLOY = "deploy"
    MIGRATION = "migration"
    MERGE = "merge"
    CREDENTIAL = "credential"
    PUSH = "push"
    """A git push as git's own hooks see it (pre-push on the client, pre-receive on the
    server): ``remote``, ``url`` and ``updates`` (see :mod:`ringfence.analyze.push`)."""
    OTHER = "other"


class Outcome(enum.StrEnum):
    """The three answers of the gate, ordered by precedence (deny wins)."""

    ALLOW = "allow"
    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return _OUTCOME_RANK[self]


_OUTCOME_RANK = {Outcome.ALLOW: 0, Outcome.REQUIRE_APPROVAL: 1, Outcome.DENY: 2}


class RiskTier(enum.StrEnum):
    TRIVIAL = "trivial"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _TIER_ORDER.index(self)


_TIER_ORDER = [RiskTier.TRIVIAL, RiskTier.LOW, RiskTier.MEDIUM, RiskTier.HIGH, RiskTier.CRITICAL]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who acts. Agent identity is first-class: every record says which kind acted."""

    type: PrincipalType
    id: str
    runtime: str | None = None
    model: str | None = None
    session: str | None = None
    owner: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type.value, "id": self.id}
        for key in ("runtime", "model", "session", "owner"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out


@dataclass(frozen=True, slots=True)
class Action:
    """What a principal is about to do, normalised from any runtime.

    ``payload`` holds the kind-specific fields: ``command`` for shell; ``path`` and
    ``content`` for file writes; ``path`` for reads; ``server``, ``tool`` and
    ``arguments`` for MCP calls.
    """

    kind: ActionKind
    payload: Mapping[str, Any]
    cwd: str
    tool: str | None = None
    repo: str | None = None
    environment: str | None = None

    @property
    def command(self) -> str:
        value = self.payload.get("command", "")
        return value if isinstance(value, str) else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "cwd": self.cwd, "payload": dict(self.payload)}
        if self.tool is not None:
            out["tool"] = self.tool
        if self.repo is not None:
            out["repo"] = self.repo
        if self.environment is not None:
            out["environment"] = self.environment
        return out


@dataclass(frozen=True, slots=True)
class Effect:
    """What an action would do, found by deterministic analysis.

    ``kind`` is a dotted name from :data:`ringfence.analyze.kinds.EFFECT_KINDS`;
    ``attrs`` carry targets, branch, environment, statement and the like; ``evidence``
    is the (unwrapped) command or text the effect was found in, and ``via`` the chain
    of wrappers it was found through (``sudo``, ``bash -c``, ...).
    """

    kind: str
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)
    evidence: str = ""
    via: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "attrs": _jsonable(self.attrs), "evidence": self.evidence}
        if self.via:
            out["via"] = list(self.via)
        return out


@dataclass(frozen=True, slots=True)
class ApprovalRequirement:
    """What a ``require_approval`` verdict waits for."""

    approvers: tuple[str, ...] = ()
    k: int = 1
    window: str | None = None
    ttl_seconds: int = 3600
    runtime_prompt: bool = False
    at_least: tuple[tuple[str, int], ...] = ()
    """Per-group minimums on top of ``k`` ("at least 1 of sre")."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "approvers": list(self.approvers),
            "k": self.k,
            **({"at_least": dict(self.at_least)} if self.at_least else {}),
            "window": self.window,
            "ttl_seconds": self.ttl_seconds,
            "runtime_prompt": self.runtime_prompt,
        }

    def describe(self) -> str:
        who = " or ".join(self.approvers) if self.approvers else "an approver"
        need = f"{self.k} approval{'s' if self.k != 1 else ''} from {who}"
        for group, n in self.at_least:
            need += f", at least {n} from {group}"
        if self.window:
            need += f" inside the change window {self.window}"
        return need


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule that matched, with the effect that made it match."""

    rule_id: str
    outcome: Outcome
    tier: RiskTier
    reason: str
    alternative: str | None
    effect: Effect | None
    approval: ApprovalRequirement | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule_id,
            "decision": self.outcome.value,
            "tier": self.tier.value,
            "reason": self.reason,
        }
        if self.alternative:
            out["alternative"] = self.alternative
        if self.effect is not None:
            out["effect"] = self.effect.kind
        if self.approval is not None:
            out["approval"] = self.approval.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's answer: the winning outcome and every rule that contributed."""

    outcome: Outcome
    tier: RiskTier
    matches: tuple[RuleMatch, ...] = ()
    policy_digest: str = ""
    exceptions: tuple[str, ...] = ()
    """Exceptions (``unless``) that suppressed a rule: ``"rule-id: reason (expires …)"``."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(m.rule_id for m in self.matches)

    @property
    def deciding(self) -> tuple[RuleMatch, ...]:
        """The matches whose outcome is the verdict's outcome (the reasons to show)."""
        return tuple(m for m in self.matches if m.outcome is self.outcome)

    @property
    def approval(self) -> ApprovalRequirement | None:
        for m in self.deciding:
            if m.approval is not None:
                return m.approval
        return None


@dataclass(frozen=True, slots=True)
class Decision:
    """The final answer after control state has been applied to the verdict."""

    outcome: Outcome
    tier: RiskTier
    reason: str
    action: Action
    principal: Principal
    effects: tuple[Effect, ...]
    verdict: Verdict
    action_digest: str
    error: str | None = None
    record_id: int | None = None
    environment: str | None = None
    """The environment the action was judged in (configuration, context, ``RINGFENCE_ENV``)."""
    request_id: str | None = None
    """The approval request (``AR-…``) this decision waits on or used a grant of."""
    control: str | None = None
    """What control state changed the verdict: ``halt``, ``grant``, ``window``, ``budget``, ``gate``."""
    runtime_prompt: bool | None = None
    """Whether the runtime's own prompt may answer this require_approval (None: as the rule says).
    Control sets it: only a single-approver gate without a window can be answered at a terminal."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return self.verdict.rule_ids

    @property
    def environments(self) -> frozenset[str]:
        """Every environment the action touches: its own and any an effect names."""
        out = {self.environment} if self.environment else set()
        for e in self.effects:
            env = e.attrs.get("environment")
            if isinstance(env, str) and env:
                out.add(env)
        return frozenset(out)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.outcome.value,
            "tier": self.tier.value,
            "reason": self.reason,
            "rules": list(self.verdict.rule_ids),
            "matches": [m.to_dict() for m in self.verdict.matches],
            "effects": [e.to_dict() for e in self.effects],
            "action_digest": self.action_digest,
            "policy_digest": self.verdict.policy_digest,
        }
        if self.verdict.exceptions:
            out["exceptions"] = list(self.verdict.exceptions)
        approval = self.verdict.approval
        if self.outcome is Outcome.REQUIRE_APPROVAL and approval is not None:
            out["approval"] = approval.to_dict()
        if self.error is not None:
            out["error"] = self.error
        if self.record_id is not None:
            out["record"] = self.record_id
        if self.request_id is not None:
            out["request"] = self.request_id
        if self.control is not None:
            out["control"] = self.control
        return out


def _jsonable(attrs: Mapping[str, AttrValue]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs.items()}
