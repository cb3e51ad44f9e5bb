"""The worked examples in docs/policy.md are real: each policy loads and its tests pass."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ringfence.analyze import Context, analyze_shell
from ringfence.gate import Gate, builtin_policy
from ringfence.model import Outcome
from ringfence.policy.evaluate import evaluate
from ringfence.policy.layers import Layer, build
from ringfence.policy.rego import RegoModules, evaluate_rego
from ringfence.policy.rules import EvalContext
from ringfence.policy.testing import load_cases, run_cases

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _policy(name: str):  # type: ignore[no-untyped-def]
    return build([Layer("organisation", (EXAMPLES / name / "policy.yaml",))], base=builtin_policy())


@pytest.mark.parametrize("name", ["deploy-two-approvers", "scratch-schema", "lockfile-bot"])
def test_example_policy_tests_pass(name: str) -> None:
    gate = Gate(policy=_policy(name), cache=False)
    results = run_cases(list(load_cases(EXAMPLES / name / "tests.yaml")), gate)
    assert results and [(r.case.name, r.problems) for r in results if not r.passed] == []


def test_two_approvers_is_the_requirement_shown() -> None:
    gate = Gate(policy=_policy("deploy-two-approvers"), cache=False)
    case = next(iter(load_cases(EXAMPLES / "deploy-two-approvers" / "tests.yaml")))
    decision = run_cases([case], gate)[0].decision
    assert decision.verdict.approval is not None and decision.verdict.approval.k == 2


def test_scratch_exception_is_named_in_the_verdict() -> None:
    gate = Gate(policy=_policy("scratch-schema"), cache=False)
    case = next(iter(load_cases(EXAMPLES / "scratch-schema" / "tests.yaml")))
    decision = run_cases([case], gate)[0].decision
    assert any(e.startswith("db.destructive-production:") for e in decision.verdict.exceptions)


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("when", "outcome"),
    [
        (datetime(2026, 11, 27, 14, 59, tzinfo=BERLIN), Outcome.REQUIRE_APPROVAL),  # Friday before the freeze
        (datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN), Outcome.DENY),  # Friday 15:00
        (datetime(2026, 11, 28, 12, 0, tzinfo=BERLIN), Outcome.DENY),  # Saturday
        (datetime(2026, 11, 30, 7, 59, tzinfo=BERLIN), Outcome.DENY),  # Monday early
        (datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN), Outcome.REQUIRE_APPROVAL),  # Monday 08:00
        (datetime(2027, 3, 28, 2, 30, tzinfo=ZoneInfo("UTC")), Outcome.DENY),  # Sunday of the DST change
    ],
)
def test_weekend_freeze(when: datetime, outcome: Outcome, tmp_path: Path) -> None:
    policy = _policy("weekend-freeze")
    effects = analyze_shell("vercel deploy --prod", Context.for_cwd(str(tmp_path), home="/home/dev"))
    verdict = evaluate(policy, effects, EvalContext(clock=lambda: when))
    assert verdict.outcome is outcome


def test_rego_example() -> None:
    modules = RegoModules.load([EXAMPLES / "team.rego"])
    assert [m.outcome for m in evaluate_rego(modules, {"change_type": "infra"})] == [Outcome.DENY]
    assert evaluate_rego(modules, {"change_type": "infra", "approval": True}) == []
    yarn = evaluate_rego(modules, {"effects": [{"kind": "exec", "attrs": {"program": "yarn"}}]})
    assert [m.reason for m in yarn] == ["this repository uses npm; yarn would rewrite the lock file"]
