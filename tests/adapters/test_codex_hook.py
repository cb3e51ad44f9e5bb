"""The Codex CLI PreToolUse contract, end to end through `ringfence hook codex`.

Codex accepts on exit 0 only ``{}``/empty stdout (no objection) or a deny with a non-empty
``permissionDecisionReason``; a bare ``allow``, ``ask``, invalid JSON or a non-zero exit
(other than 2) make it record a failed hook and run the tool. So every answer here must
be exactly one JSON line Codex acts on, on exit 0 — for bad payloads too.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ringfence.adapters import codex
from ringfence.adapters.contracts import deny_line, is_answer
from ringfence.daemon.dispatch import answer
from ringfence.errors import PayloadError
from ringfence.gate import Gate
from ringfence.model import ActionKind
from tests.adapters.hooks import AR, approval_ids, check_golden, check_outcome, one_line, redacted, run_hook
from tests.adapters.runtimes.codex import answer as codex_reads
from tests.adapters.runtimes.codex import payload


def patch(*body: str) -> dict[str, str]:
    return {"command": "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"}


def run(data: bytes, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the hook as Codex does: ``sh -c <command>`` in the session's cwd, JSON on stdin."""
    return run_hook("codex", data, env, cwd)


def codex_answer(proc: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    """The answer as Codex reads it, insisting that it is one Codex acts on."""
    line = one_line(proc)
    assert is_answer("codex", json.loads(line))
    return codex_reads(line)


def _call(env_ws: tuple[dict[str, str], Path], doc: dict[str, Any] | bytes) -> tuple[str, str]:
    env, ws = env_ws
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return codex_answer(run(data, env, ws))


def _deny(env_ws: tuple[dict[str, str], Path], doc: dict[str, Any] | bytes) -> str:
    decision, reason = _call(env_ws, doc)
    assert decision == "deny", reason
    return reason


CASES: dict[str, tuple[str, Any, str]] = {
    "bash_allow": ("Bash", {"command": "git status"}, "allow"),
    "bash_deny_rm_root": ("Bash", {"command": "rm -rf /"}, "deny"),
    "bash_deny_wrapped_force_push": ("Bash", {"command": "bash -lc 'git push --force origin main'"}, "deny"),
    "bash_approval_reset_hard": ("Bash", {"command": "git reset --hard HEAD~1"}, "require_approval"),
    "patch_allow": ("apply_patch", patch("*** Add File: src/app.py", "+print('hi')"), "allow"),
    "patch_deny_env_with_secret": (
        "apply_patch",
        patch("*** Add File: .env", "+AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "deny",
    ),
    "patch_deny_delete_hook_config": ("apply_patch", patch("*** Delete File: .codex/hooks.json"), "deny"),
    "patch_deny_delete_outside": ("apply_patch", patch("*** Delete File: /etc/hosts"), "deny"),
    "patch_approval_workflow_update": (
        "apply_patch",
        patch(
            "*** Update File: .github/workflows/ci.yml",
            "@@ jobs:",
            "-    runs-on: ubuntu-latest",
            "+    runs-on: self-hosted",
        ),
        "require_approval",
    ),
    "patch_multi_file_union": (
        "apply_patch",
        patch(
            "*** Add File: src/new.py", "+x = 1", "*** Update File: src/app.py", "@@", "+y = 2", "*** Delete File: .env"
        ),
        "deny",
    ),
    "patch_move_onto_secret": (
        "apply_patch",
        patch("*** Update File: src/app.py", "*** Move to: .env", "@@", "+A=1"),
        "deny",
    ),
    "patch_migration_drop": (
        "apply_patch",
        patch("*** Add File: db/migrations/0002_drop.sql", "+DROP TABLE users;"),
        "require_approval",
    ),
    "shell_apply_patch_heredoc": (
        "Bash",
        {"command": "cd src && apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: ../.env\n+T=1\n*** End Patch\nEOF"},
        "deny",
    ),
    "mcp_select_allow": ("mcp__postgres__query", {"sql": "SELECT 1"}, "allow"),
    "mcp_drop_table": ("mcp__postgres__query", {"sql": "DROP TABLE users"}, "require_approval"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    tool, ti, expected = CASES[name]
    proc = run(json.dumps(payload(tool, ti, ws)).encode(), env, ws)
    decision, reason = codex_answer(proc)
    if expected == "allow":
        assert proc.stdout == b"{}\n"  # no objection: Codex rejects a bare allow
    elif expected == "deny":
        assert "blocked until approved" not in reason, reason
    check_outcome(decision, reason, expected)  # Codex rejects ask: a held action is a deny naming its request
    check_golden("codex", name, {"decision": decision, "reason": redacted(reason, env, ws)})


def test_approval_request_is_opened_and_named(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    _, reason = _call(env_ws, payload("apply_patch", patch("*** Add File: .github/workflows/x.yml", "+on: push"), ws))
    request = AR.search(reason)
    assert request is not None
    assert approval_ids(env, ws) == [request.group(0)]


# -- apply_patch is one action with the union of its files' effects -------------------------------


def test_a_patch_is_judged_as_one_action(tmp_path: Path) -> None:
    data = payload(
        "apply_patch",
        patch("*** Add File: a.py", "+a", "*** Update File: b.py", "*** Move to: c.py", "@@", "+c"),
        tmp_path,
    )
    action, _ = codex.parse(json.dumps(data).encode(), env={})
    assert action.kind is ActionKind.FILE_WRITE and action.tool == "apply_patch"
    assert action.payload == {
        "edits": [{"path": "a.py", "content": "a\n"}, {"path": "c.py", "content": "c"}],
        "deletes": ["b.py"],
    }
    single, _ = codex.parse(
        json.dumps(payload("apply_patch", patch("*** Add File: a.py", "+a"), tmp_path)).encode(), env={}
    )
    assert single.payload == {"path": "a.py", "content": "a\n"}  # the same action a Write is


def test_a_delete_is_judged_as_rm_is(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    for path in (".env", ".github/workflows/ci.yml", ".codex/config.toml", "/etc/passwd", "src/old.py"):
        via_patch = _call(env_ws, payload("apply_patch", patch(f"*** Delete File: {path}"), ws))[0]
        via_rm = _call(env_ws, payload("Bash", {"command": f"rm -f -- {path}"}, ws))[0]
        assert via_patch == via_rm, path


def test_every_file_of_a_patch_counts(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    harmless = ["*** Add File: src/a.py", "+a = 1", "*** Update File: README.md", "@@", "+docs"]
    assert _call(env_ws, payload("apply_patch", patch(*harmless), ws))[0] == "allow"
    for bad in (["*** Delete File: .env"], ["*** Add File: .codex/hooks.json", "+{}"]):
        assert _call(env_ws, payload("apply_patch", patch(*harmless, *bad), ws))[0] == "deny", bad
        assert _call(env_ws, payload("apply_patch", patch(*bad, *harmless), ws))[0] == "deny", bad


def test_malformed_patches_are_denied_with_the_reason(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "first line must be '*** Begin Patch'" in _deny(
        env_ws, payload("apply_patch", {"command": "diff --git a b"}, ws)
    )
    assert "last line must be '*** End Patch'" in _deny(
        env_ws, payload("apply_patch", {"command": "*** Begin Patch\n*** Add File: a\n+x"}, ws)
    )
    assert "'nonsense' is not a file header" in _deny(env_ws, payload("apply_patch", patch("nonsense"), ws))
    assert "has no hunk" in _deny(env_ws, payload("apply_patch", patch("*** Update File: a.py"), ws))
    assert "patch text" in _deny(env_ws, payload("apply_patch", {"input": 7}, ws))


def test_apply_patch_through_the_shell_is_judged_as_its_patch(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    body = "*** Begin Patch\n*** Add File: .env\n+T=1\n*** End Patch"
    for command in (
        f"apply_patch <<'EOF'\n{body}\nEOF",
        f"applypatch <<EOF\n{body}\nEOF",
        f"apply_patch '{body}'",
        f"a=apply_; ${{a}}patch <<'E'\n{body}\nE",
        f"bash -lc \"apply_patch <<'EOF'\n{body}\nEOF\"",
    ):
        assert "secrets file" in _deny(env_ws, payload("Bash", {"command": command}, ws)), command
    for command in ("cat p.diff | apply_patch", 'apply_patch "$(cat p.diff)"', f"apply_patch <<'EOF'\n{body}\nEOF\nls"):
        assert "in a way ringfence cannot judge" in _deny(env_ws, payload("Bash", {"command": command}, ws)), command
    harmless = "*** Begin Patch\n*** Add File: src/x.py\n+x\n*** End Patch"
    assert _call(env_ws, payload("Bash", {"command": f"apply_patch <<'EOF'\n{harmless}\nEOF"}, ws))[0] == "allow"
    assert _call(env_ws, payload("Bash", {"command": "grep -rn apply_patch src"}, ws))[0] == "allow"


# -- the principal ------------------------------------------------------------------------------


def test_principal_carries_session_model_and_turn(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    data = json.dumps(payload("Bash", {"command": "git status"}, ws, agent_id="sub-1", agent_type="explorer")).encode()
    action, principal = codex.parse(data, env={"RINGFENCE_AGENT_ID": "codex-ci", "RINGFENCE_AGENT_OWNER": "ann"})
    assert action.kind is ActionKind.SHELL and action.cwd == str(ws)
    assert principal.runtime == "codex" and principal.id == "codex-ci" and principal.owner == "ann"
    assert principal.session == "019a5c1e-7d2f-7c31-9a0e-3b8f6c2d1e44" and principal.model == "gpt-5-codex"
    assert principal.attributes["turn_id"] == "3" and principal.attributes["codex_agent_type"] == "explorer"
    codex_answer(run(data, env, ws))
    db = Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    entry = json.loads(bytes(sqlite3.connect(db).execute("SELECT body FROM entries").fetchone()[0]).decode())
    assert entry["runtime"] == "codex" and entry["principal_type"] == "agent"
    assert "gpt-5-codex" in json.dumps(entry) and "019a5c1e" in json.dumps(entry)


# -- fail closed: every malformed input is a deny in Codex's format ---------------------------------


def test_not_json(env_ws: tuple[dict[str, str], Path]) -> None:
    assert "not valid JSON" in _deny(env_ws, b'{"tool_name": "Bash", ')
    assert "not valid JSON" in _deny(env_ws, b"")
    assert "JSON object" in _deny(env_ws, b'"PreToolUse"')
    assert "not UTF-8" in _deny(env_ws, b'{"tool_name": "\xff"}')


def test_huge_payload(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    huge = payload("Bash", {"command": "echo " + "a" * (5 * 1024 * 1024)}, ws)
    assert "limit" in _deny(env_ws, huge)


def test_missing_fields(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    full = payload("Bash", {"command": "git status"}, ws)
    for field, needle in (
        ("tool_name", "tool_name"),
        ("tool_input", "tool_input"),
        ("hook_event_name", "PreToolUse"),
        ("cwd", "cwd"),
    ):
        assert needle in _deny(env_ws, {k: v for k, v in full.items() if k != field}), field
    assert "command" in _deny(env_ws, payload("Bash", {"description": "x"}, ws))
    assert "patch text" in _deny(env_ws, payload("apply_patch", {}, ws))


def test_wrong_types(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "tool_input" in _deny(env_ws, payload("Bash", "rm -rf /", ws))
    assert "tool_name" in _deny(env_ws, {**payload("Bash", {"command": "ls"}, ws), "tool_name": 7})
    assert "cwd" in _deny(env_ws, payload("Bash", {"command": "ls"}, "relative/dir"))
    assert "command" in _deny(env_ws, payload("Bash", {"command": 7}, ws))
    assert "workdir" in _deny(env_ws, payload("Bash", {"command": "ls", "workdir": 3}, ws))
    assert "MCP tool" in _deny(env_ws, payload("mcp__postgres", {}, ws))


def test_argv_commands_of_older_payloads_are_judged(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert _call(env_ws, payload("Bash", {"command": ["bash", "-lc", "rm -rf /"]}, ws))[0] == "deny"
    assert _call(env_ws, payload("local_shell", {"command": ["git", "status"]}, ws))[0] == "allow"


def test_other_events_and_unknown_tools(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    assert "UserPromptSubmit" in _deny(
        env_ws, {**payload("Bash", {"command": "ls"}, ws), "hook_event_name": "UserPromptSubmit"}
    )
    after = {**payload("Bash", {"command": "rm -rf /"}, ws), "hook_event_name": "PostToolUse"}
    proc = run(json.dumps(after).encode(), env, ws)
    assert proc.returncode == 0 and proc.stdout == b"{}\n"  # the tool already ran: no opinion
    assert "unknown tool 'write_stdin'" in _deny(
        env_ws, payload("write_stdin", {"session_id": 1, "chars": "rm -rf /\n"}, ws)
    )
    assert _call(env_ws, payload("update_plan", {"plan": []}, ws))[0] == "allow"
    assert _call(env_ws, payload("read_file", {"file_path": f"{env['HOME']}/.ssh/id_ed25519"}, ws))[0] == "deny"


def test_render_never_says_allow_or_ask(tmp_path: Path) -> None:
    from ringfence.gate import failure

    data = json.dumps(payload("Bash", {"command": "git status"}, tmp_path)).encode()
    assert codex.handle(data, lambda cwd: Gate(), env={}) == "{}"
    denied = json.loads(codex.render(failure(None, None, PayloadError("bad"))))
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert json.loads(deny_line("codex", "x")) == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "x",
        }
    }
    assert is_answer("codex", {}) and not is_answer("codex", {"hookSpecificOutput": {"permissionDecision": "ask"}})
    assert not is_answer("codex", {"hookSpecificOutput": {"permissionDecision": "allow"}})


def test_the_daemon_path_answers_alike(tmp_path: Path) -> None:
    data = json.dumps(payload("apply_patch", patch("*** Delete File: .env"), tmp_path)).encode()
    out = answer("codex", data, {}, lambda cwd: Gate())
    assert codex_reads(out)[0] == "deny"


@pytest.mark.parametrize(
    "payload_",
    [
        {"edits": [{"content": "x"}]},
        {"edits": "a.py"},
        {"edits": ["a.py"]},
        {"edits": [], "deletes": [7]},
        {"deletes": "a.py"},
    ],
)
def test_a_malformed_patch_action_is_denied_by_analysis(tmp_path: Path, payload_: dict[str, Any]) -> None:
    from ringfence.model import Action, Outcome, Principal, PrincipalType

    action = Action(ActionKind.FILE_WRITE, payload_, cwd=str(tmp_path), tool="apply_patch")
    decision = Gate().evaluate(action, Principal(PrincipalType.AGENT, "codex"))
    assert decision.outcome is Outcome.DENY and "apply_patch action lists" in decision.reason


def test_a_hook_event_name_that_is_not_a_string_is_denied(tmp_path: Path) -> None:
    """Checking whether an off-contract payload is an after-the-fact event once raised on
    an unhashable event name instead of answering."""
    raw = json.dumps({**payload("Bash", {"command": "ls"}, tmp_path), "hook_event_name": ["PostToolUse"]}).encode()
    decision, reason = codex_reads(codex.handle(raw, lambda cwd: Gate(), env={}))
    assert decision == "deny" and "hook_event_name" in reason
