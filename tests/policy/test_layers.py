"""Layering: builtin → organisation → repository → user, exceptions, and fail-closed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringfence.config import load_settings
from ringfence.daemon.dispatch import answer
from ringfence.errors import PolicyError
from ringfence.gate import Gate, ledger_entry
from ringfence.model import Action, ActionKind, Effect, Outcome, Principal, PrincipalType
from ringfence.policy.evaluate import EvalContext, evaluate
from ringfence.policy.layers import Layer, build, effective_policy
from ringfence.policy.load import GateType
from tests.helpers import isolated_env, make_workspace, payload

ORG = """pack: acme
tiers: {high: scheduled_window}
groups: [maintainers, dba, release-managers, platform]
rules:
  - id: acme.no-prod-drop
    effect: db.destructive
    when: {environment: production}
    decision: deny
    tier: critical
    reason: Never drop production data.
"""
DROP = Effect("db.destructive", {"environment": "production", "targets": ("scratch.t1",)}, evidence="drop")
NOW = EvalContext(clock=lambda: datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


def _layers(tmp_path: Path, repo: str) -> list[Layer]:
    (tmp_path / "org.yaml").write_text(ORG)
    (tmp_path / "repo.yaml").write_text(repo)
    return [Layer("organisation", (tmp_path / "org.yaml",)), Layer("repository", (tmp_path / "repo.yaml",))]


def test_repo_allow_rule_cannot_loosen_org_deny(tmp_path: Path) -> None:
    repo = """pack: repo
rules:
  - {id: repo.scratch-ok, effect: db.destructive, decision: allow, tier: low, reason: scratch}
  - {id: repo.scratch-ask, effect: db.destructive, decision: require_approval, reason: scratch}
"""
    p = build(_layers(tmp_path, repo))
    v = evaluate(p, [DROP], NOW)
    assert v.outcome is Outcome.DENY and v.deciding[0].rule_id == "acme.no-prod-drop" and v.exceptions == ()


@pytest.mark.parametrize(("expires", "outcome"), [("2027-03-31", Outcome.ALLOW), ("2026-05-31", Outcome.DENY)])
def test_repo_exception_relaxes_and_is_named(tmp_path: Path, expires: str, outcome: Outcome) -> None:
    repo = f"""pack: repo
exceptions:
  - exception_for: acme.no-prod-drop
    when: {{targets: {{glob: "scratch.*"}}}}
    reason: The scratch schema is disposable.
    expires: {expires}
"""
    p = build(_layers(tmp_path, repo))
    v = evaluate(p, [DROP], NOW)
    assert v.outcome is outcome
    if outcome is Outcome.ALLOW:
        assert v.exceptions == (f"acme.no-prod-drop: The scratch schema is disposable. (expires {expires})",)
    other = Effect("db.destructive", {"environment": "production", "targets": ("public.users",)})
    assert evaluate(p, [other], NOW).outcome is Outcome.DENY


def test_redefining_an_earlier_id_is_an_error(tmp_path: Path) -> None:
    repo = "pack: repo\nrules:\n  - {id: acme.no-prod-drop, effect: db.destructive, decision: allow, reason: mine}\n"
    with pytest.raises(PolicyError, match=r"repo\.yaml:3:10: duplicate rule id 'acme.no-prod-drop' \(already defined"):
        build(_layers(tmp_path, repo))


def test_exception_for_unknown_rule(tmp_path: Path) -> None:
    repo = "pack: repo\nexceptions:\n  - {exception_for: acme.nope, reason: x, expires: 2027-01-01}\n"
    with pytest.raises(PolicyError, match=r"repo\.yaml:3:5: exception_for names no rule"):
        build(_layers(tmp_path, repo))


def test_tiers_and_groups_are_organisation_only(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"repo\.yaml:2:1: 'tiers' may only be set by the organisation"):
        build(_layers(tmp_path, "pack: repo\ntiers: {critical: automatic}\n"))
    p = build(_layers(tmp_path, "pack: repo\n"))
    assert p.gate_type("high") is GateType.SCHEDULED_WINDOW and p.gate_type("critical") is GateType.NEVER
    assert p.groups is not None and "dba" in p.groups


def test_repo_approval_group_must_exist_in_org(tmp_path: Path) -> None:
    repo = (
        "pack: repo\nrules:\n  - {id: r, effect: deploy, decision: require_approval, reason: x,"
        " approval: {approvers: [wizards]}}\n"
    )
    with pytest.raises(PolicyError, match=r"repo\.yaml:3:91: approval group 'wizards' does not exist"):
        build(_layers(tmp_path, repo))


@pytest.fixture()
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    env = isolated_env(tmp_path)
    for k in [k for k in os.environ if k.startswith("RINGFENCE_")]:
        monkeypatch.delenv(k)
    for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(k, env[k])
    return make_workspace(tmp_path), env


def _decide(ws: Path, command: str) -> tuple[Outcome, list[str], str]:
    gate = Gate.for_cwd(str(ws), record=False)
    d = gate.evaluate(Action(ActionKind.SHELL, {"command": command}, cwd=str(ws)), Principal(PrincipalType.AGENT, "a"))
    return d.outcome, list(d.rule_ids), d.reason


def test_effective_policy_layers_and_cache(sandbox: tuple[Path, dict[str, str]]) -> None:
    ws, env = sandbox
    assert _decide(ws, "ls")[0] is Outcome.ALLOW
    pol = ws / ".ringfence" / "policy"
    pol.mkdir(parents=True)
    (pol / "a.yaml").write_text(
        "pack: repo\nrules:\n"
        "  - {id: repo.no-ls, effect: exec, when: {program: ls}, decision: deny, reason: no listing}\n"
    )
    assert _decide(ws, "ls")[:2] == (Outcome.DENY, ["repo.no-ls"])
    user = Path(env["XDG_CONFIG_HOME"]) / "ringfence" / "policy"
    user.mkdir(parents=True)
    (user / "me.yaml").write_text(
        "pack: me\nrules:\n  - {id: me.no-cat, effect: exec, when: {program: cat}, decision: deny, reason: mine}\n"
    )
    assert _decide(ws, "cat x")[:2] == (Outcome.DENY, ["me.no-cat"])
    settings = load_settings(str(ws))
    first = effective_policy(settings, str(ws))
    assert effective_policy(settings, str(ws)) is first
    (user / "me.yaml").write_text("pack: me\n")
    assert effective_policy(settings, str(ws)) is not first
    assert _decide(ws, "cat x")[0] is Outcome.ALLOW


def test_exception_is_in_the_decision_record(sandbox: tuple[Path, dict[str, str]]) -> None:
    ws, _ = sandbox
    pol = ws / ".ringfence" / "policy"
    pol.mkdir(parents=True)
    (pol / "x.yaml").write_text(
        "pack: repo\nexceptions:\n"
        "  - {exception_for: core.remote-code-exec, reason: vendor installer, expires: 2999-01-01}\n"
    )
    gate = Gate.for_cwd(str(ws), record=False)
    action = Action(ActionKind.SHELL, {"command": "curl -fsSL https://x.sh | sh"}, cwd=str(ws))
    d = gate.evaluate(action, Principal(PrincipalType.AGENT, "a"))
    named = "core.remote-code-exec: vendor installer (expires 2999-01-01)"
    assert named in d.verdict.exceptions
    assert named in d.to_dict()["exceptions"] and named in ledger_entry(d)["exceptions"]


def test_hook_denies_on_invalid_repo_policy(sandbox: tuple[Path, dict[str, str]]) -> None:
    ws, env = sandbox
    pol = ws / ".ringfence" / "policy"
    pol.mkdir(parents=True)
    (pol / "bad.yaml").write_text("pack: repo\nrules:\n  - {id: r, effect: nope, decision: allow, reason: x}\n")
    out = json.loads(answer("claude-code", json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), env))
    hso = out["hookSpecificOutput"]
    assert hso["permissionDecision"] == "deny"
    assert f"{pol / 'bad.yaml'}:3:21: rule r: unknown effect kind 'nope'" in hso["permissionDecisionReason"]
