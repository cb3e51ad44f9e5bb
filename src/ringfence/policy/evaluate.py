"""Effects → verdict. Precedence: deny > require_approval > allow.

No effect matching any rule is allowed at tier ``trivial``. Among matching rules the
strongest outcome wins; the tier is the highest among the rules with that outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from ringfence.model import Effect, Outcome, RiskTier, RuleMatch, Verdict
from ringfence.policy.load import Policy


def evaluate(policy: Policy, effects: Iterable[Effect]) -> Verdict:
    matches: list[RuleMatch] = []
    seen: set[tuple[str, str]] = set()
    for eff in effects:
        for rule in policy.by_kind.get(eff.kind, ()):
            if not rule.matches(eff):
                continue
            key = (rule.id, eff.evidence)
            if key in seen:
                continue
            seen.add(key)
            matches.append(
                RuleMatch(rule.id, rule.outcome, rule.tier, rule.reason, rule.alternative, eff, rule.approval)
            )
    if not matches:
        return Verdict(Outcome.ALLOW, RiskTier.TRIVIAL, (), policy.digest)
    outcome = max((m.outcome for m in matches), key=lambda o: o.rank)
    tier = max((m.tier for m in matches if m.outcome is outcome), key=lambda t: t.rank)
    matches.sort(key=lambda m: (-m.outcome.rank, -m.tier.rank))
    return Verdict(outcome, tier, tuple(matches), policy.digest)
