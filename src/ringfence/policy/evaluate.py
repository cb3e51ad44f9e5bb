"""Effects (and context) → verdict. Precedence: deny > require_approval > allow.

No effect matching any rule is allowed at tier ``trivial``. Among matching rules the
strongest outcome wins; the tier is the highest among the rules with that outcome.
Among the deciding matches the strictest approval requirement comes first (more
approvers needed, no runtime prompt), so a later layer cannot weaken an approval by
adding a laxer rule of the same outcome.

``ctx`` (an :class:`EvalContext`) supplies what ``match`` conditions and exception
expiry look at; without it only the clock is known (the current time).

Rules whose exception (``unless``) applies do not match; the verdict names each applied
exception in ``Verdict.exceptions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ringfence.model import Effect, Outcome, RiskTier, RuleMatch, Verdict
from ringfence.policy.load import Policy
from ringfence.policy.rules import EvalContext, Rule

__all__ = ["EvalContext", "evaluate"]

_NO_CONTEXT = EvalContext()


def evaluate(policy: Policy, effects: Iterable[Effect], ctx: EvalContext | None = None) -> Verdict:
    facts: dict[str, Any] | None = None
    matches: list[RuleMatch] = []
    applied: list[str] = []
    seen: set[tuple[str, str]] = set()
    kind_index = policy.kind_index
    # Effects with the same kind and attributes (``exec`` of ``git`` three times) match
    # the same rules: judge each distinct one once per decision.
    memo: dict[tuple[Any, ...], list[Rule]] = {}
    for eff in effects:
        index = kind_index.get(eff.kind)
        if index is None:
            continue
        attrs = eff.attrs
        try:
            key: tuple[Any, ...] | None = (eff.kind, *attrs.items())
            hit = memo.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable attribute value
            key, hit = None, None
        if hit is None:
            hit = []
            for _, rule in index.candidates(attrs):
                if not rule.when_holds(attrs):
                    continue
                if rule.match or rule.unless:
                    if facts is None:
                        facts = (ctx or _NO_CONTEXT).facts()
                    if not _context_applies(rule, eff, facts, applied):
                        continue
                hit.append(rule)
            if key is not None:
                memo[key] = hit
        for rule in hit:
            k = (rule.id, eff.evidence)
            if k in seen:
                continue
            seen.add(k)
            matches.append(
                RuleMatch(rule.id, rule.outcome, rule.tier, rule.reason, rule.alternative, eff, rule.approval)
            )
    if policy.context_rules:
        if facts is None:
            facts = (ctx or _NO_CONTEXT).facts()
        for _, rule in policy.context_index.candidates(facts):
            if not rule.context_holds(facts):
                continue
            if rule.unless and not _context_applies(rule, None, facts, applied):
                continue
            matches.append(
                RuleMatch(rule.id, rule.outcome, rule.tier, rule.reason, rule.alternative, None, rule.approval)
            )
    exceptions = tuple(dict.fromkeys(applied))
    if not matches:
        return Verdict(Outcome.ALLOW, RiskTier.TRIVIAL, (), policy.digest, exceptions)
    outcome = max((m.outcome for m in matches), key=lambda o: o.rank)
    tier = max((m.tier for m in matches if m.outcome is outcome), key=lambda t: t.rank)
    matches.sort(key=_order)
    return Verdict(outcome, tier, tuple(matches), policy.digest, exceptions)


def _context_applies(rule: Rule, eff: Effect | None, facts: dict[str, Any], applied: list[str]) -> bool:
    if rule.match and not rule.context_holds(facts):
        return False
    if rule.unless:
        exc = rule.exception_for(eff, facts)
        if exc is not None:
            applied.append(exc.describe())
            return False
    return True


def _order(m: RuleMatch) -> tuple[int, int, int, int]:
    a = m.approval
    strict = (-a.k, 0 if not a.runtime_prompt else 1) if a is not None else (0, 0)
    return (-m.outcome.rank, -m.tier.rank, *strict)
