"""The GitHub Copilot CLI preToolUse contract, end to end through `ringfence hook copilot`.

Copilot CLI logs and skips a hook that exits non-zero or times out (the tool runs), so
every answer here must be one JSON line with ``permissionDecision`` allow or deny on
exit 0 — for bad payloads too. ``toolArgs`` arrives as a JSON-encoded string.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ringfence.adapters import copilot
from ringfence.adapters.contracts import deny_line, is_answer
from ringfence.daemon.dispatch import answer
from ringfence.errors import PayloadError
from ringfence.gate import Gate
from ringfence.model import ActionKind
from tests.adapters.hooks import AR, approval_ids, check_golden, check_outcome, one_line, placed, redacted, run_hook
from tests.adapters.runtimes.copilot import payload
from tests.helpers import make_workspace


def copilot_answer(proc: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    """The answer as Copilot CLI reads it, insisting that it is one it acts on."""
    doc: dict[str, Any] = json.loads(one_line(proc))  # a failed hook is skipped: the tool runs
    assert set(doc) == {"permissionDecision", "permissionDecisionReason"}, doc
    assert doc["permissionDecision"] in ("allow", "deny")
    assert isinstance(doc["permissionDecisionReason"], str) and doc["permissionDecisionReason"]
    assert is_answer("copilot", doc)
    return doc


def _call(env_ws: tuple[dict[str, str], Path], data: bytes) -> dict[str, Any]:
    env, ws = env_ws
    return copilot_answer(run_hook("copilot", data, env, ws))


def _deny(env_ws: tuple[dict[str, str], Path], doc: dict[str, Any] | bytes) -> str:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    out = _call(env_ws, data)
    assert out["permissionDecision"] == "deny", out
    return str(out["permissionDecisionReason"])


CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "bash_allow": ("bash", {"command": "git status", "description": "Show status"}, "allow"),
    "bash_deny_rm_root": ("bash", {"command": "rm -rf /", "description": "Clean"}, "deny"),
    "bash_deny_wrapped_force_push": ("bash", {"command": "sudo bash -c 'git push --force origin main'"}, "deny"),
    "bash_approval_reset_hard": ("bash", {"command": "git reset --hard HEAD~1", "mode": "sync"}, "require_approval"),
    "powershell_deny_remove_root": ("powershell", {"command": "Remove-Item -Recurse -Force /"}, "deny"),
    "powershell_allow_git_status": ("powershell", {"command": "git status"}, "allow"),
    "write_bash_deny": ("write_bash", {"sessionId": "s1", "input": "rm -rf /\n", "delay": 5}, "deny"),
    "create_allow": ("create", {"path": "{ws}/src/app.py", "file_text": "print('hi')\n"}, "allow"),
    "create_deny_env": ("create", {"path": "{ws}/.env", "file_text": "TOKEN=abc\n"}, "deny"),
    "edit_deny_hook_config": (
        "edit",
        {"path": "{ws}/.github/hooks/ringfence.json", "old_str": "deny", "new_str": "allow"},
        "deny",
    ),
    "edit_allow": ("edit", {"path": "{ws}/src/app.py", "old_str": "a", "new_str": "b"}, "allow"),
    "view_allow": ("view", {"path": "{ws}/README.md"}, "allow"),
    "view_deny_ssh_key": ("view", {"path": "{home}/.ssh/id_ed25519", "view_range": [1, 20]}, "deny"),
    "mcp_github_get_issue_allow": (
        "github-mcp-server-get_issue",
        {"owner": "o", "repo": "r", "issue_number": 1},
        "allow",
    ),
    "report_intent_allow": ("report_intent", {"intent": "Exploring the codebase"}, "allow"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    tool, args, expected = CASES[name]
    out = _call(env_ws, json.dumps(payload(tool, placed(args, env, ws), ws)).encode())
    decision, reason = out["permissionDecision"], out["permissionDecisionReason"]
    check_outcome(decision, reason, expected)  # never ask
    check_golden(
        "copilot", name, {"permissionDecision": decision, "permissionDecisionReason": redacted(reason, env, ws)}
    )


def test_approval_request_is_opened_and_named(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    out = _call(env_ws, json.dumps(payload("bash", {"command": "git reset --hard"}, ws)).encode())
    request = AR.search(out["permissionDecisionReason"])
    assert request is not None
    assert approval_ids(env, ws) == [request.group(0)]


def test_powershell_is_analysed_as_powershell(tmp_path: Path) -> None:
    action, _ = copilot.parse(json.dumps(payload("powershell", {"command": "ls"}, tmp_path)).encode(), env={})
    assert action.kind is ActionKind.SHELL
    assert action.payload == {"command": "ls", "shell": "powershell"}
    typed, _ = copilot.parse(
        json.dumps(payload("write_powershell", {"sessionId": "1", "input": "rm x"}, tmp_path)).encode(), env={}
    )
    assert typed.payload == {"command": "rm x", "shell": "powershell"}


def test_configured_mcp_server(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    unconfigured = payload("postgres-query", {"sql": "DROP TABLE users"}, ws)
    assert "unknown tool 'postgres-query'" in _deny(env_ws, unconfigured)
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text(
        "mcp:\n  servers:\n    postgres:\n      tools:\n        query: {kind: sql}\n"
    )
    select = _call(env_ws, json.dumps(payload("postgres-query", {"sql": "SELECT 1"}, ws)).encode())
    assert select["permissionDecision"] == "allow", select
    drop = _deny(env_ws, unconfigured)
    assert "rule db." in drop


def test_principal_carries_session_and_model(tmp_path: Path) -> None:
    raw = json.dumps(payload("bash", {"command": "ls"}, tmp_path)).encode()
    _, principal = copilot.parse(raw, env={"COPILOT_MODEL": "gpt-5", "RINGFENCE_AGENT_ID": "copilot-ci"})
    assert principal.runtime == "copilot" and principal.id == "copilot-ci"
    assert principal.session == "5f2b9c1e-0d4a-4e8b-b7a3-6c1d2e3f4a5b" and principal.model == "gpt-5"
    older = {k: v for k, v in payload("bash", {"command": "ls"}, tmp_path).items() if k != "sessionId"}
    _, principal = copilot.parse(json.dumps(older).encode(), env={})
    assert principal.session is None and principal.model is None  # versions before sessionId


# -- toolArgs is decoded strictly -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool_args", "needle"),
    [
        ({"command": "rm -rf /"}, "toolArgs is a JSON object, but Copilot CLI sends a JSON-encoded string"),
        (["rm", "-rf", "/"], "toolArgs is a JSON array"),
        (7, "toolArgs is a JSON number"),
        ('{"command": "rm -rf /"', "toolArgs is not valid JSON at line 1 column 23"),
        ("rm -rf /", "toolArgs is not valid JSON"),
        ('"rm -rf /"', "toolArgs must encode a JSON object, not a JSON string"),
        ("[1]", "toolArgs must encode a JSON object, not a JSON array"),
        ("null", "toolArgs must encode a JSON object, not a JSON null"),
    ],
)
def test_tool_args_decoded_strictly(env_ws: tuple[dict[str, str], Path], tool_args: Any, needle: str) -> None:
    _, ws = env_ws
    doc = {**payload("bash", {}, ws), "toolArgs": tool_args}
    assert needle in _deny(env_ws, doc)


def test_missing_tool_args(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    doc = {k: v for k, v in payload("bash", {"command": "ls"}, ws).items() if k != "toolArgs"}
    assert "toolArgs is missing" in _deny(env_ws, doc)


# -- fail closed: every malformed input is a deny in Copilot CLI's format -------------------------


def test_not_json(env_ws: tuple[dict[str, str], Path]) -> None:
    assert "not valid JSON" in _deny(env_ws, b'{"toolName": "bash", ')
    assert "not valid JSON" in _deny(env_ws, b"")
    assert "JSON object" in _deny(env_ws, b"[]")
    assert "not UTF-8" in _deny(env_ws, b'{"toolName": "\xfe"}')


def test_missing_fields(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    full = payload("bash", {"command": "git status"}, ws)
    assert "toolName" in _deny(env_ws, {k: v for k, v in full.items() if k != "toolName"})
    assert "cwd" in _deny(env_ws, {k: v for k, v in full.items() if k != "cwd"})
    assert "command" in _deny(env_ws, payload("bash", {"description": "x"}, ws))
    assert "path" in _deny(env_ws, payload("create", {"file_text": "x"}, ws))
    assert "input" in _deny(env_ws, payload("write_bash", {"sessionId": "1"}, ws))


def test_wrong_types(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "command" in _deny(env_ws, payload("bash", {"command": ["rm", "-rf", "/"]}, ws))
    assert "toolName" in _deny(env_ws, {**payload("bash", {"command": "ls"}, ws), "toolName": ["bash"]})
    assert "cwd" in _deny(env_ws, {**payload("bash", {"command": "ls"}, ws), "cwd": "."})
    assert "timestamp" in _deny(env_ws, {**payload("bash", {"command": "ls"}, ws), "timestamp": "yesterday"})
    assert "file_text" in _deny(env_ws, payload("create", {"path": str(ws / "a"), "file_text": 3}, ws))
    assert "str_replace_editor toolArgs.command" in _deny(
        env_ws, payload("str_replace_editor", {"command": "delete", "path": "/a"}, ws)
    )


def test_vs_code_format_is_refused_with_a_fix(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    vscode = {
        "hook_event_name": "PreToolUse",
        "session_id": "s",
        "timestamp": "2026-01-01T00:00:00Z",
        "cwd": str(ws),
        "tool_name": "bash",
        "tool_input": {"command": "ls"},
    }
    assert "ringfence init --agent copilot" in _deny(env_ws, vscode)


def test_unknown_tool(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "unknown tool 'teleport'" in _deny(env_ws, payload("teleport", {"to": "prod"}, ws))
    assert "unknown tool 'report_progress'" in _deny(env_ws, payload("report_progress", {"commitMessage": "x"}, ws))


def test_huge_payload(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "limit" in _deny(env_ws, payload("bash", {"command": "echo " + "a" * (5 << 20)}, ws))


def test_broken_config_denies(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text("on_error: maybe\n")
    assert "on_error" in _deny(env_ws, payload("bash", {"command": "git status"}, ws))


# -- in-process details ---------------------------------------------------------------------------


def test_parse_maps_every_tool(tmp_path: Path) -> None:
    ws = str(tmp_path)
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "bash": ({"command": "ls"}, "shell"),
        "powershell": ({"command": "Get-ChildItem"}, "shell"),
        "write_bash": ({"sessionId": "1", "input": "y\n"}, "shell"),
        "read_bash": ({"sessionId": "1", "delay": 5}, "other"),
        "stop_bash": ({"shellId": "1"}, "other"),
        "view": ({"path": "/a"}, "file_read"),
        "show_file": ({"path": "/a"}, "file_read"),
        "create": ({"path": "/a", "file_text": "x"}, "file_write"),
        "edit": ({"path": "/a", "old_str": "x", "new_str": "y"}, "file_write"),
        "str_replace": ({"path": "/a", "old_str": "x", "new_str": "y"}, "file_write"),
        "insert": ({"path": "/a", "insert_line": 1, "new_str": "y"}, "file_write"),
        "undo_edit": ({"path": "/a"}, "file_write"),
        "str_replace_editor": ({"command": "create", "path": "/a", "file_text": "x"}, "file_write"),
        "glob": ({"pattern": "**/*.py"}, "file_read"),
        "grep": ({"pattern": "TODO", "path": "src", "output_mode": "content"}, "file_read"),
        "web_fetch": ({"url": "https://example.com"}, "other"),
        "task": ({"description": "x", "prompt": "y"}, "other"),
        "github-mcp-server-list_issues": ({"owner": "o", "repo": "r"}, "mcp_call"),
    }
    for tool, (args, kind) in cases.items():
        action, _ = copilot.parse(json.dumps(payload(tool, args, ws)).encode(), env={})
        assert action.kind.value == kind, tool
    view, _ = copilot.parse(
        json.dumps(payload("str_replace_editor", {"command": "view", "path": "/etc/passwd"}, ws)).encode(), env={}
    )
    assert view.kind is ActionKind.FILE_READ and view.payload["path"] == "/etc/passwd"
    glob, _ = copilot.parse(json.dumps(payload("glob", {"pattern": "~/.ssh/*"}, ws)).encode(), env={})
    assert glob.payload["paths"] == [ws, "~/.ssh/*"]
    mcp, _ = copilot.parse(json.dumps(payload("github-mcp-server-list_issues", {}, ws)).encode(), env={})
    assert (mcp.payload["server"], mcp.payload["tool"]) == ("github-mcp-server", "list_issues")
    with pytest.raises(PayloadError, match="toolArgs"):
        copilot.parse(json.dumps(payload("bash", "", ws)).encode(), env={})


def test_require_approval_is_never_ask(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    raw = json.dumps(payload("bash", {"command": "git reset --hard"}, ws)).encode()
    out = json.loads(answer("copilot", raw, {}, lambda cwd: Gate()))
    assert out["permissionDecision"] == "deny" and "blocked until approved" in out["permissionDecisionReason"]


def test_contract_deny_line_is_an_answer() -> None:
    doc = json.loads(deny_line("copilot", 'ringfence: \u00e9 "x"'))
    assert doc == {"permissionDecision": "deny", "permissionDecisionReason": 'ringfence: \u00e9 "x"'}
    assert is_answer("copilot", doc)
    assert not is_answer("copilot", {"permissionDecision": "ask"})  # approvable without a person
    assert not is_answer("copilot", {"behavior": "deny"})
