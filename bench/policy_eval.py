"""Policy evaluation cost per decision: 10, 100 and 500 generated rules vs an empty policy.

The rules are generated in the shape real packs take: spread over the effect kinds, with
equality, membership, glob, regex and numeric conditions on effect attributes, and one in
ten a pure ``match`` rule (principal, repository, branch, time) judged once per action.
The effect list is a realistic one for a shell command (several ``exec`` effects, a file
write, a push); as in real policies, almost no rule matches it — exactly one does, so the
verdict is built every time. The baseline is ``evaluate()`` on an empty policy in the same run; the
budget is 50 µs over it for 500 rules.

    python bench/policy_eval.py
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.model import Action, ActionKind, Effect, Principal, PrincipalType
from ringfence.policy.evaluate import EvalContext, evaluate
from ringfence.policy.load import Policy, load_builtin, parse_document

KINDS = sorted(EFFECT_KINDS)
CONDITIONS = [
    "{program: {in: [rm, terraform, kubectl, helm]}}",
    "{branch: {glob: 'release/*'}}",
    "{targets: {regex: '^(prod|live)-[a-z0-9]+$'}}",
    "{environment: production, protected: true}",
    "{count: {gte: 10}}",
    "{path: {glob: '**/*.lock'}, tool: {not: git}}",
]
MATCHES = [
    "{principal: {id: {glob: 'dependabot*'}}, repo: {regex: '^acme/'}}",
    "{time: {days: [sat, sun], tz: Europe/Berlin}}",
    "{branch: {in: [main, master]}, principal: {type: agent}}",
]
# and one rule that does match the effect list below, so every run builds a verdict
MATCHING = (
    "  - id: bench.feature-push\n    effect: git.push\n    when: {branch: {glob: 'feature/*'}}\n"
    "    decision: allow\n    tier: low\n    reason: feature branches are ordinary work"
)


def generated(n: int) -> Policy:
    lines = ["pack: bench", "rules:", MATCHING]
    for i in range(n - 1):
        if i % 10 == 9:
            head = f"    match: {MATCHES[i % len(MATCHES)]}"
        else:
            head = f"    effect: {KINDS[i % len(KINDS)]}\n    when: {CONDITIONS[i % len(CONDITIONS)]}"
        lines.append(f"  - id: bench.r{i}\n{head}\n    decision: require_approval\n    tier: medium\n    reason: r{i}")
    data = "\n".join(lines).encode()
    doc = parse_document(data, "bench.yaml")
    assert not doc.problems, doc.problems[:3]
    return Policy.from_rules(doc.rules, [data])


EFFECTS = [
    Effect("exec", {"program": "git"}, evidence="git add -A"),
    Effect("exec", {"program": "git"}, evidence="git commit -m x"),
    Effect("fs.write", {"path": "/w/src/app.py", "targets": ("/w/src/app.py",)}, evidence="> src/app.py"),
    Effect("exec", {"program": "git"}, evidence="git push origin feature/x"),
    Effect("git.push", {"branch": "feature/x", "remote": "origin", "protected": False}, evidence="git push"),
]
CTX = EvalContext(
    Action(ActionKind.SHELL, {"command": "git push"}, cwd="/w", tool="Bash", repo="acme/api"),
    Principal(PrincipalType.AGENT, "renovate-bot", runtime="claude-code"),
    branch="feature/x",
    clock=lambda: datetime(2026, 6, 3, 12, 0, tzinfo=UTC),  # a Wednesday
)


def per_call(policy: Policy, budget: float = 1.0) -> float:
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < budget:
        for _ in range(100):
            evaluate(policy, EFFECTS, CTX)
        n += 100
    return (time.perf_counter() - t0) / n


def main() -> None:
    empty = Policy.from_rules([], [])
    policies = [("empty", empty), ("builtin", load_builtin())] + [(f"{n} rules", generated(n)) for n in (10, 100, 500)]
    per_call(empty, 0.3)  # warm up
    base = min(per_call(empty, 0.5) for _ in range(3))
    print(f"{'policy':>10}  {'µs/decision':>12}  {'over empty':>10}")
    for name, pol in policies:
        t = min(per_call(pol, 0.5) for _ in range(3))
        print(f"{name:>10}  {t * 1e6:12.2f}  {(t - base) * 1e6:+10.2f}")


if __name__ == "__main__":
    main()
