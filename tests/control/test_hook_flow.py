"""The whole approval flow through the real Claude Code hook and the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringfence.ledger.store import open_ledger
from tests.control.flow import cli, create_keys, deploy, release_config, request_id, write_config
from tests.helpers import hook_answer, isolated_env, make_workspace, payload, run_hook


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dict[str, str], Path]:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    keys = create_keys(env, ws, "alice", "bob", "carol")
    write_config(env, release_config(keys))
    return env, ws


def test_production_deploy_needs_two_distinct_approvers_and_passes_exactly_once(
    setup: tuple[dict[str, str], Path],
) -> None:
    env, ws = setup
    held = deploy(env, ws)
    assert held["permissionDecision"] == "deny"
    rid = request_id(held)
    assert "2 approvals from release-managers" in held["permissionDecisionReason"]

    # the same action again while pending: the same request, not a second one
    assert request_id(deploy(env, ws)) == rid

    # the agent's owner cannot approve; nor can anyone from inside an agent's shell
    owner = cli(env, ws, "approvals", "approve", rid, "--as", "carol")
    assert owner.returncode == 3
    assert "owns the agent" in owner.stderr
    from_agent = cli(env, ws, "approvals", "approve", rid, "--as", "alice", extra_env={"CLAUDECODE": "1"})
    assert from_agent.returncode == 3
    assert "belongs to an agent" in from_agent.stderr

    first = cli(env, ws, "approvals", "approve", rid, "--as", "alice", "-m", "looks fine")
    assert first.returncode == 0, first.stderr
    assert "still pending" in first.stdout and "1 more from release-managers" in first.stdout

    # approving twice is refused and changes nothing
    again = cli(env, ws, "approvals", "approve", rid, "--as", "alice")
    assert again.returncode == 3
    assert "already answered" in again.stderr

    still = deploy(env, ws)
    assert still["permissionDecision"] == "deny" and request_id(still) == rid

    second = cli(env, ws, "approvals", "approve", rid, "--as", "bob")
    assert second.returncode == 0, second.stderr
    assert "approved" in second.stdout

    passed = deploy(env, ws)
    assert passed["permissionDecision"] == "allow", passed
    assert rid in passed["permissionDecisionReason"]
    assert "alice" in passed["permissionDecisionReason"] and "bob" in passed["permissionDecisionReason"]

    third = deploy(env, ws)
    assert third["permissionDecision"] == "deny"
    assert request_id(third) != rid  # a new request: the grant was single-use

    # a different action is not covered by the grant
    other = deploy(env, ws, "vercel deploy --prod --force")
    assert other["permissionDecision"] == "deny"

    shown = cli(env, ws, "approvals", "show", rid, "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["status"] == "used"
    assert sorted(doc["approved_by"]) == ["alice", "bob"]
    assert all(a["signature_valid"] for a in doc["answers"])
    kinds = [e["kind"] for e in doc["history"]]
    assert kinds[0] == "requested" and "approved" in kinds and kinds[-1] == "used"

    # the ledger holds the held decisions, both signed approvals and the one allowed use
    ledger = open_ledger(Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db")
    entries = list(reversed(ledger.recent(100)))
    approvals = [e for e in entries if e.get("kind") == "approval"]
    assert [a["principal_id"] for a in approvals] == ["alice", "bob"]
    assert all(a["signature"] and a["request"] == rid for a in approvals)
    allowed = [e for e in entries if e.get("kind", "decision") == "decision" and e["decision"] == "allow"]
    assert len(allowed) == 1 and allowed[0]["request"] == rid and allowed[0]["control"] == "grant"
    assert allowed[0]["principal_id"] == "deploy-bot"


def test_wait_exits_with_the_outcome(setup: tuple[dict[str, str], Path]) -> None:
    env, ws = setup
    rid = request_id(deploy(env, ws))
    pending = cli(env, ws, "wait", rid, "--timeout", "1s", "--interval", "0.2s")
    assert pending.returncode == 4
    assert "still pending" in pending.stderr
    denied = cli(env, ws, "approvals", "deny", rid, "--as", "alice", "-m", "not during the incident")
    assert denied.returncode == 0, denied.stderr
    assert cli(env, ws, "wait", rid, "--timeout", "5s").returncode == 2
    # denial wins: the agent's retry is denied and names the request
    retry = deploy(env, ws)
    assert retry["permissionDecision"] == "deny"
    assert f"{rid} for this action was denied by alice" in retry["permissionDecisionReason"]
    unknown = cli(env, ws, "wait", "AR-00000000", "--timeout", "1s")
    assert unknown.returncode == 3 and "no approval request 'AR-00000000'" in unknown.stderr


def test_wait_returns_zero_once_approved(setup: tuple[dict[str, str], Path]) -> None:
    env, ws = setup
    rid = request_id(deploy(env, ws))
    for who in ("alice", "bob"):
        assert cli(env, ws, "approvals", "approve", rid, "--as", who).returncode == 0
    done = cli(env, ws, "wait", rid, "--timeout", "5s")
    assert done.returncode == 0, done.stderr


def test_terminal_prompt_only_for_single_approver_tiers(setup: tuple[dict[str, str], Path]) -> None:
    env, ws = setup

    def attended(command: str) -> dict[str, object]:
        data = json.dumps(payload("Bash", {"command": command}, ws, "default")).encode()
        return hook_answer(run_hook(data, env, ws))

    # two approvers can't both answer one terminal prompt: held out of band even with someone there
    prod = attended("vercel deploy --prod")
    assert prod["permissionDecision"] == "deny" and "AR-" in str(prod["permissionDecisionReason"])
    # a single-approver (medium) action may be answered at the terminal
    assert attended("git reset --hard HEAD~1")["permissionDecision"] == "ask"


def test_an_answer_at_the_terminal_prompt_is_recorded(setup: tuple[dict[str, str], Path]) -> None:
    env, ws = setup
    command = {"command": "git reset --hard HEAD~1"}
    asked = hook_answer(run_hook(json.dumps(payload("Bash", command, ws, "default")).encode(), env, ws))
    assert asked["permissionDecision"] == "ask"
    rid = request_id(asked)
    # the person said yes, so Claude Code ran the tool and now sends PostToolUse
    post = {**payload("Bash", command, ws, "default"), "hook_event_name": "PostToolUse", "tool_response": {}}
    done = run_hook(json.dumps(post).encode(), env, ws)
    assert done.returncode == 0 and done.stdout.decode().strip() == "{}"
    shown = json.loads(cli(env, ws, "approvals", "show", rid, "--json").stdout)
    assert shown["status"] == "used"
    assert shown["history"][-1]["kind"] == "allowed-at-prompt" and "carol" in shown["history"][-1]["actor"]
    ledger = open_ledger(Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db")
    [entry] = [e for e in ledger.recent(50) if e.get("kind") == "prompt_answer"]
    assert entry["request"] == rid and entry["principal_id"] == "carol"
    # PostToolUse for an action nobody was asked about records nothing and never blocks
    other = {**payload("Bash", {"command": "ls"}, ws, "default"), "hook_event_name": "PostToolUse"}
    assert run_hook(json.dumps(other).encode(), env, ws).stdout.decode().strip() == "{}"
    odd = {**payload("Frobnicate", {}, ws, "default"), "hook_event_name": "PostToolUse"}
    assert run_hook(json.dumps(odd).encode(), env, ws).stdout.decode().strip() == "{}"


def test_log_names_approvals(setup: tuple[dict[str, str], Path]) -> None:
    env, ws = setup
    rid = request_id(deploy(env, ws))
    assert cli(env, ws, "approvals", "approve", rid, "--as", "alice").returncode == 0
    shown = cli(env, ws, "log", "-n", "5")
    assert shown.returncode == 0 and f"approval {rid}" in shown.stdout and "human:alice" in shown.stdout
