"""Policy files in use: lint from the CLI, Rego through the gate, the daemon seeing changes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.daemon.test_warm_path import _wait_for_daemon
from tests.helpers import RINGFENCE, hook_answer, isolated_env, make_workspace, payload, run_hook

NO_NPM = (
    "pack: team\nrules:\n"
    "  - id: team.no-npm\n    effect: exec\n    when: {program: npm}\n    decision: deny\n    tier: high\n"
    "    reason: This team builds with make.\n    alternative: Use make.\n"
)
REGO = """package team

deny[msg] {
  input.action.kind == "shell"
  some i
  input.effects[i].kind == "exec"
  input.effects[i].attrs.program == "yarn"
  msg := "yarn is not used in this repository"
}
"""


def rf(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGFENCE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def test_lint_reports_every_problem_with_position(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    pol = ws / ".ringfence" / "policy"
    pol.mkdir(parents=True)
    (pol / "team.yaml").write_text(
        "pack: team\nrules:\n"
        "  - id: team.a\n    effect: no.such.kind\n    decision: deny\n    reason: x.\n"
        "  - id: team.b\n    effect: exec\n    when: {program: {regex: '(a+)+'}}\n    decision: deny\n    reason: y.\n"
    )
    (pol / "tests.yaml").write_text("tests:\n  - action: {command: ls}\n    expect: {decision: allow}\n")
    proc = rf(env, ws, "policy", "lint")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "team.yaml:" in line]
    assert len(lines) == 2
    assert "team.yaml:4:" in lines[0] and "no.such.kind" in lines[0]
    assert "team.yaml:9:" in lines[1]
    (pol / "team.yaml").write_text(NO_NPM)
    ok = rf(env, ws, "policy", "lint")
    assert ok.returncode == 0, ok.stdout
    assert "0 problem(s)" in ok.stdout


def test_rego_module_in_the_repository_decides(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    pol = ws / ".ringfence" / "policy"
    pol.mkdir(parents=True)
    (pol / "team.rego").write_text(REGO)
    out = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "yarn install"}, ws)).encode(), env, ws))
    assert out["permissionDecision"] == "deny"
    assert "yarn is not used in this repository" in str(out["permissionDecisionReason"])
    ok = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "make"}, ws)).encode(), env, ws))
    assert ok["permissionDecision"] == "allow"
    check = rf(env, ws, "check", "--json", "--", "yarn add left-pad")
    doc = json.loads(check.stdout)
    assert any(r.startswith("rego:data.team.deny") or r.startswith("rego:team.deny") for r in doc["rules"]), doc
    assert "+rego:" in doc["policy_digest"]


def test_broken_rego_fails_closed(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    pol = ws / ".ringfence" / "policy"
    pol.mkdir(parents=True)
    (pol / "bad.rego").write_text("package team\n\ndeny[msg] {\n  msg = = 1\n}\n")
    out = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), env, ws))
    assert out["permissionDecision"] == "deny"
    assert "bad.rego" in str(out["permissionDecisionReason"])


def test_daemon_sees_a_new_repository_policy(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, RINGFENCE_DAEMON="1")
    ws = make_workspace(tmp_path)
    try:
        first = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "npm test"}, ws)).encode(), env, ws))
        assert first["permissionDecision"] == "allow"
        _wait_for_daemon(env)
        pol = ws / ".ringfence" / "policy"
        pol.mkdir(parents=True)
        (pol / "team.yaml").write_text(NO_NPM)
        out = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "npm test"}, ws)).encode(), env, ws))
        assert out["permissionDecision"] == "deny"
        assert "team.no-npm" in str(out["permissionDecisionReason"])
    finally:
        rf(env, ws, "daemon", "stop")
