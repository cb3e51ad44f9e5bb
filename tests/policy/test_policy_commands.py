"""`ringfence policy test` and `ringfence policy replay`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ringfence.gate import Gate
from ringfence.policy.replay import parse_since
from ringfence.policy.testing import builtin_tests_dir, discover, load_cases, run_cases
from tests.helpers import RINGFENCE, hook_answer, isolated_env, make_workspace, payload, run_hook


def rf(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGFENCE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def test_builtin_pack_tests_pass() -> None:
    cases = [c for f in discover([builtin_tests_dir()]) for c in load_cases(f)]
    assert len(cases) >= 30
    failures = [(r.case.name, r.problems) for r in run_cases(cases, Gate(cache=False)) if not r.passed]
    assert failures == []


def test_policy_test_command_reports_and_fails(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    tests = ws / ".ringfence" / "policy" / "tests.yaml"
    tests.parent.mkdir(parents=True)
    tests.write_text(
        "tests:\n"
        "  - name: status is fine\n    action: {command: git status}\n    expect: {decision: allow}\n"
        "  - name: wrong on purpose\n    action: {command: 'rm -rf /'}\n    expect: {decision: allow}\n"
        "  - name: wrong rule\n    action: {command: 'cat .env'}\n"
        "    expect: {decision: deny, rule: git.force-push-protected}\n"
    )
    proc = rf(env, ws, "policy", "test")
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "1 passed, 2 failed"
    assert "expected allow, got deny" in proc.stdout
    assert "expected rule git.force-push-protected to decide" in proc.stdout


def test_policy_test_bad_file_is_a_usage_error(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    bad = ws / "t.yaml"
    bad.write_text("tests:\n  - name: x\n    action: {command: ls}\n    expect: {decision: maybe}\n")
    proc = rf(env, ws, "policy", "test", str(bad))
    assert proc.returncode == 3
    assert "expect.decision must be" in proc.stderr


@pytest.mark.parametrize(("text", "ok"), [("7d", True), ("12h", True), ("2026-11-01", True), ("soon", False)])
def test_parse_since(text: str, ok: bool) -> None:
    if ok:
        assert parse_since(text, now=1_800_000_000).endswith("Z")
    else:
        with pytest.raises(ValueError, match="--since"):
            parse_since(text)


def test_replay_reports_what_a_candidate_policy_changes(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    for cmd in ("git status", "npm test", "rm -rf /", "make build"):
        hook_answer(run_hook(json.dumps(payload("Bash", {"command": cmd}, ws)).encode(), env, ws))
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        "pack: team\nrules:\n"
        "  - id: team.no-npm\n    effect: exec\n    when: {program: npm}\n    decision: deny\n    tier: high\n"
        "    reason: This team builds with make, not npm.\n    alternative: Use make.\n"
    )
    unchanged = rf(env, ws, "policy", "replay", "--since", "1h", "--json")
    assert unchanged.returncode == 0, unchanged.stderr
    doc = json.loads(unchanged.stdout)
    assert doc["examined"] == 4 and doc["newly_denied"] == [] and doc["newly_allowed"] == []
    proc = rf(env, ws, "policy", "replay", "--since", "1h", "--policy", str(candidate), "--json")
    doc = json.loads(proc.stdout)
    assert [c["what"] for c in doc["newly_denied"]] == ["npm test"]
    assert doc["newly_denied"][0]["rules_after"] == ["team.no-npm"]
    assert doc["unchanged"] == 3
    human = rf(env, ws, "policy", "replay", "--since", "1h", "--policy", str(candidate))
    assert "newly denied: 1" in human.stdout and "npm test" in human.stdout


def test_replay_without_ledger(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    proc = rf(env, ws, "policy", "replay")
    assert proc.returncode == 3 and "nothing has been recorded" in proc.stderr
