"""Loading packs from YAML data files into compiled :class:`Rule` objects.

A pack file::

    pack: git
    description: History and remotes.
    rules:
      - id: git.force-push-protected
        effect: git.force_push            # or a list of kinds
        when: {protected: true}           # optional attribute conditions
        decision: deny                    # allow | require_approval | deny
        tier: critical                    # trivial | low | medium | high | critical
        reason: Force-pushing a protected branch rewrites history others build on.
        alternative: Push to a feature branch and open a pull request.
        approval: {approvers: [maintainers], k: 1, runtime_prompt: true}

Errors name the file, the rule and the field; a pack that fails to load never yields
a partial policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ringfence.errors import PolicyError
from ringfence.model import ApprovalRequirement, Outcome, RiskTier
from ringfence.policy.rules import OPERATORS, Condition, Rule

BUILTIN_PACKS: tuple[str, ...] = (
    "core",
    "git",
    "fs",
    "db",
    "cloud",
    "k8s",
    "deploy",
    "credentials",
    "secrets",
    "gate",
)

_RULE_FIELDS = frozenset(
    {"id", "effect", "when", "decision", "tier", "reason", "alternative", "approval", "description"}
)
_APPROVAL_FIELDS = frozenset({"approvers", "k", "window", "ttl", "runtime_prompt"})


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled set of rules, indexed by effect kind, with a digest of its sources."""

    rules: tuple[Rule, ...]
    by_kind: Mapping[str, tuple[Rule, ...]]
    digest: str

    @classmethod
    def from_rules(cls, rules: Iterable[Rule], sources: Iterable[bytes]) -> Policy:
        rules_t = tuple(rules)
        index: dict[str, list[Rule]] = {}
        for rule in rules_t:
            for kind in rule.effects:
                index.setdefault(kind, []).append(rule)
        h = hashlib.sha256()
        for src in sources:
            h.update(hashlib.sha256(src).digest())
        return cls(rules_t, {k: tuple(v) for k, v in index.items()}, "sha256:" + h.hexdigest())


def load_builtin() -> Policy:
    """The standard policy: every built-in pack."""
    sources: list[bytes] = []
    rules: list[Rule] = []
    base = resources.files("ringfence.policy") / "packs"
    for name in BUILTIN_PACKS:
        data = (base / f"{name}.yaml").read_bytes()
        sources.append(data)
        rules.extend(parse_pack(data, f"<builtin>/{name}.yaml"))
    _check_unique(rules)
    return Policy.from_rules(rules, sources)


def load_files(paths: Iterable[Path], base: Policy | None = None) -> Policy:
    """``base`` plus the packs in ``paths`` (later files add rules)."""
    rules = list(base.rules) if base else []
    sources: list[bytes] = [base.digest.encode()] if base else []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
        sources.append(data)
        rules.extend(parse_pack(data, str(path)))
    _check_unique(rules)
    return Policy.from_rules(rules, sources)


def parse_pack(data: bytes, origin: str) -> list[Rule]:
    import yaml

    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise PolicyError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise PolicyError(f"{origin}: a pack is a mapping with 'pack' and 'rules'")
    pack = doc.get("pack")
    if not isinstance(pack, str) or not pack:
        raise PolicyError(f"{origin}: 'pack' must be a non-empty string")
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list):
        raise PolicyError(f"{origin}: 'rules' must be a list")
    return [_parse_rule(r, origin, pack, i) for i, r in enumerate(raw_rules)]


def _parse_rule(raw: Any, origin: str, pack: str, index: int) -> Rule:
    from ringfence.analyze.kinds import EFFECT_KINDS

    where = f"{origin}: rule #{index + 1}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a rule is a mapping")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid:
        raise PolicyError(f"{where}: 'id' must be a non-empty string")
    where = f"{origin}: rule {rid}"
    unknown = set(raw) - _RULE_FIELDS
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    kinds_raw = raw.get("effect")
    kinds = [kinds_raw] if isinstance(kinds_raw, str) else kinds_raw
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise PolicyError(f"{where}: 'effect' must be an effect kind or a list of them")
    for k in kinds:
        if k not in EFFECT_KINDS:
            raise PolicyError(f"{where}: unknown effect kind {k!r}")
    try:
        outcome = Outcome(str(raw.get("decision")))
    except ValueError:
        raise PolicyError(f"{where}: 'decision' must be allow, require_approval or deny") from None
    try:
        tier = RiskTier(raw.get("tier", "medium"))
    except ValueError:
        raise PolicyError(f"{where}: 'tier' must be one of {', '.join(t.value for t in RiskTier)}") from None
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise PolicyError(f"{where}: 'reason' must be a sentence")
    alternative = raw.get("alternative")
    if alternative is not None and not isinstance(alternative, str):
        raise PolicyError(f"{where}: 'alternative' must be a string")
    conditions = _parse_conditions(raw.get("when") or {}, where)
    approval = _parse_approval(raw.get("approval"), where) if outcome is Outcome.REQUIRE_APPROVAL else None
    if raw.get("approval") is not None and outcome is not Outcome.REQUIRE_APPROVAL:
        raise PolicyError(f"{where}: 'approval' only applies to decision require_approval")
    return Rule(
        id=rid,
        effects=frozenset(kinds),
        conditions=conditions,
        outcome=outcome,
        tier=tier,
        reason=reason.strip(),
        alternative=alternative,
        approval=approval,
        pack=pack,
    )


def _parse_conditions(when: Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(when, dict):
        raise PolicyError(f"{where}: 'when' must be a mapping of attribute to condition")
    out: list[Condition] = []
    for attr, spec in when.items():
        if isinstance(spec, dict):
            if len(spec) != 1:
                raise PolicyError(f"{where}: condition on {attr!r} must have exactly one operator")
            ((op, value),) = spec.items()
            if op not in OPERATORS:
                raise PolicyError(f"{where}: unknown operator {op!r} on {attr!r} (use {', '.join(sorted(OPERATORS))})")
            if op in ("in", "not_in") and not isinstance(value, list):
                raise PolicyError(f"{where}: {op!r} on {attr!r} needs a list")
            if op in ("gte", "lte") and (not isinstance(value, int | float) or isinstance(value, bool)):
                raise PolicyError(f"{where}: {op!r} on {attr!r} needs a number")
            if op == "glob" and not isinstance(value, str):
                raise PolicyError(f"{where}: 'glob' on {attr!r} needs a string pattern")
            out.append(Condition(str(attr), op, tuple(value) if isinstance(value, list) else value))
        elif isinstance(spec, list):
            raise PolicyError(f"{where}: condition on {attr!r} is a list; write {{in: [...]}}")
        else:
            out.append(Condition(str(attr), "eq", spec))
    return tuple(out)


def _parse_approval(raw: Any, where: str) -> ApprovalRequirement:
    if raw is None:
        return ApprovalRequirement()
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: 'approval' must be a mapping")
    unknown = set(raw) - _APPROVAL_FIELDS
    if unknown:
        raise PolicyError(f"{where}: unknown approval field(s) {', '.join(sorted(unknown))}")
    approvers = raw.get("approvers", [])
    if isinstance(approvers, str):
        approvers = [approvers]
    if not isinstance(approvers, list) or not all(isinstance(a, str) for a in approvers):
        raise PolicyError(f"{where}: 'approval.approvers' must be a list of group names")
    k = raw.get("k", 1)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise PolicyError(f"{where}: 'approval.k' must be a whole number ≥ 1")
    ttl = raw.get("ttl", 3600)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
        raise PolicyError(f"{where}: 'approval.ttl' must be a positive number of seconds")
    window = raw.get("window")
    if window is not None and not isinstance(window, str):
        raise PolicyError(f"{where}: 'approval.window' must be a string")
    prompt = raw.get("runtime_prompt", False)
    if not isinstance(prompt, bool):
        raise PolicyError(f"{where}: 'approval.runtime_prompt' must be true or false")
    return ApprovalRequirement(tuple(approvers), k, window, ttl, prompt)


def _check_unique(rules: list[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise PolicyError(f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
