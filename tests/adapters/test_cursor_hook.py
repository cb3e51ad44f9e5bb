"""The Cursor hooks contract, end to end through `ringfence hook cursor`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from ringfence.adapters import cursor
from ringfence.adapters.contracts import deny_line, is_answer
from ringfence.errors import PayloadError
from ringfence.model import ActionKind, Outcome
from tests.adapters.hooks import AR, one_line, run_hook
from tests.adapters.runtimes import cursor as shapes
from tests.conftest import Sandbox


def run(data: bytes, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(one_line(run_hook("cursor", data, env, cwd)))
    return doc


def decide(env_ws: tuple[dict[str, str], Path], payload: dict[str, Any]) -> tuple[str, str]:
    env, ws = env_ws
    doc = run(json.dumps(payload).encode(), env, ws)
    assert set(doc) == {"continue", "permission", "user_message", "agent_message", "userMessage", "agentMessage"}
    assert doc["continue"] is True
    return shapes.answer(json.dumps(doc))


def test_shell_allow(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert decide(env_ws, shapes.shell("git status", str(ws)))[0] == "allow"


def test_shell_deny_names_the_rule(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    permission, reason = decide(env_ws, shapes.shell("sudo bash -c 'rm -rf /'", str(ws)))
    assert permission == "deny"
    assert "fs.delete-critical" in reason


def test_shell_require_approval_asks_at_cursors_prompt(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    permission, reason = decide(env_ws, shapes.shell("git reset --hard HEAD~1", str(ws)))
    assert permission == "ask"
    assert AR.search(reason)


def test_require_approval_is_a_deny_where_runtime_prompts_are_off(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text("runtime_prompt: false\n")
    permission, reason = decide(env_ws, shapes.shell("git reset --hard HEAD~1", str(ws)))
    assert permission == "deny"
    assert "blocked until approved" in reason and AR.search(reason)


def test_pre_tool_use_never_asks(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    payload = {**shapes.write(str(ws / "src/x.py"), "", str(ws)), "tool_name": "Shell"}
    payload["tool_input"] = {"command": "git reset --hard HEAD~1"}
    permission, reason = decide(env_ws, payload)
    assert permission == "deny"
    assert "blocked until approved" in reason and AR.search(reason)


def test_empty_cwd_falls_back_to_the_workspace_root(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    payload = {**shapes.shell("rm -rf .git", str(ws)), "cwd": ""}
    permission, reason = decide(env_ws, payload)
    assert permission == "deny"
    assert ".git" in reason


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("write_allow", lambda ws, home: shapes.write(f"{ws}/src/app.py", "print(1)\n", str(ws)), "allow"),
        ("write_deny_env", lambda ws, home: shapes.write(f"{ws}/.env", "TOKEN=x\n", str(ws)), "deny"),
        ("write_deny_hooks_json", lambda ws, home: shapes.write(f"{ws}/.cursor/hooks.json", "{}", str(ws)), "deny"),
        ("shell_deny_hooks_json", lambda ws, home: shapes.shell("rm .cursor/hooks.json", str(ws)), "deny"),
        ("read_allow", lambda ws, home: shapes.read(f"{ws}/README.md", str(ws)), "allow"),
        ("read_deny_ssh_key", lambda ws, home: shapes.read(f"{home}/.ssh/id_ed25519", str(ws)), "deny"),
        ("mcp_select_allow", lambda ws, home: shapes.mcp("postgres", "query", {"sql": "SELECT 1"}, str(ws)), "allow"),
        ("mcp_drop_held", lambda ws, home: shapes.mcp("postgres", "query", {"sql": "DROP TABLE t"}, str(ws)), "deny"),
    ],
)
def test_golden_files_and_mcp(env_ws: tuple[dict[str, str], Path], name: str, make: Any, expected: str) -> None:
    env, ws = env_ws
    assert decide(env_ws, make(ws, env["HOME"]))[0] == expected, name


def test_str_replace_and_delete(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    edit = shapes.write(f"{ws}/.ssh-config", "", str(ws))
    edit["tool_name"], edit["tool_input"] = (
        "StrReplace",
        {"file_path": f"{ws}/src/a.py", "old_string": "a", "new_string": "b"},
    )
    assert decide(env_ws, edit)[0] == "allow"
    delete = dict(edit, tool_name="Delete", tool_input={"file_path": f"{ws}/.git"})
    assert decide(env_ws, delete)[0] == "deny"


def test_mcp_tool_input_may_be_an_object(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    payload = shapes.mcp("postgres", "query", {}, str(ws))
    payload["tool_input"] = {"sql": "SELECT 1"}
    assert decide(env_ws, payload)[0] == "allow"


BAD = {
    "not_json": b"{nope",
    "empty": b"",
    "array": b"[]",
    "no_event": json.dumps({"command": "ls", "cwd": "/"}).encode(),
    "unknown_event": json.dumps({"hook_event_name": "beforeSubmitPrompt", "prompt": "hi"}).encode(),
    "command_not_string": json.dumps({"hook_event_name": "beforeShellExecution", "command": 7, "cwd": "/"}).encode(),
    "relative_cwd": json.dumps({"hook_event_name": "beforeShellExecution", "command": "ls", "cwd": "src"}).encode(),
    "roots_not_list": json.dumps(
        {"hook_event_name": "beforeShellExecution", "command": "ls", "cwd": "", "workspace_roots": "/"}
    ).encode(),
    "read_without_path": json.dumps({"hook_event_name": "beforeReadFile", "workspace_roots": ["/tmp"]}).encode(),
    "mcp_input_not_json": json.dumps(
        {"hook_event_name": "beforeMCPExecution", "tool_name": "q", "tool_input": "{x", "workspace_roots": ["/tmp"]}
    ).encode(),
    "mcp_input_array": json.dumps(
        {"hook_event_name": "beforeMCPExecution", "tool_name": "q", "tool_input": [1], "workspace_roots": ["/tmp"]}
    ).encode(),
    "unknown_tool": json.dumps(
        {"hook_event_name": "preToolUse", "tool_name": "Teleport", "tool_input": {}, "cwd": "/tmp"}
    ).encode(),
    "write_without_path": json.dumps(
        {"hook_event_name": "preToolUse", "tool_name": "Write", "tool_input": {"content": "x"}, "cwd": "/tmp"}
    ).encode(),
    "huge": json.dumps(
        {"hook_event_name": "beforeShellExecution", "command": "x" * (5 * 1024 * 1024), "cwd": "/tmp"}
    ).encode(),
    "not_utf8": b'{"hook_event_name": "beforeShellExecution", "command": "\xff", "cwd": "/tmp"}',
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_payloads_deny_in_cursors_format(env_ws: tuple[dict[str, str], Path], name: str) -> None:
    env, ws = env_ws
    doc = run(BAD[name], env, ws)
    assert doc["permission"] == "deny", name
    assert doc["user_message"] == doc["userMessage"] and "fails closed" in doc["user_message"]
    assert is_answer("cursor", doc)


def test_after_events_record_and_never_block(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    after = {**shapes.shell("rm -rf /", str(ws)), "hook_event_name": "afterShellExecution", "output": "", "duration": 3}
    assert run(json.dumps(after).encode(), env, ws) == {}
    broken = {"hook_event_name": "afterMCPExecution", "tool_input": 5}
    assert run(json.dumps(broken).encode(), env, ws) == {}


def test_the_fallback_deny_line_is_what_cursor_reads() -> None:
    doc = json.loads(deny_line("cursor", 'a "quoted" reason'))
    assert shapes.answer(json.dumps(doc)) == ("deny", 'a "quoted" reason')
    assert is_answer("cursor", doc) and not is_answer("cursor", {"decision": "deny"})


def test_render_never_asks_on_events_without_a_prompt(sandbox: Sandbox) -> None:
    cwd = str(sandbox.workspace)
    for event, can_ask in [
        ("beforeShellExecution", True),
        ("beforeMCPExecution", True),
        ("beforeReadFile", False),
        ("preToolUse", False),
    ]:
        action, principal = cursor.parse(json.dumps(shapes.shell("git reset --hard", cwd)).encode(), env={})
        principal = dataclasses.replace(principal, attributes={"cursor_event": event})
        decision = sandbox.gate.evaluate(action, principal)
        assert decision.outcome is Outcome.REQUIRE_APPROVAL
        permission = json.loads(cursor.render(decision, runtime_prompt=True))["permission"]
        assert permission == ("ask" if can_ask else "deny"), event
        assert json.loads(cursor.render(decision, runtime_prompt=False))["permission"] == "deny"


def test_parse_maps_every_event_and_tool(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    cases: list[tuple[dict[str, Any], ActionKind, str]] = [
        (shapes.shell("ls", cwd), ActionKind.SHELL, "Shell"),
        (shapes.read(f"{cwd}/a", cwd), ActionKind.FILE_READ, "Read"),
        (shapes.write(f"{cwd}/a", "x", cwd), ActionKind.FILE_WRITE, "Write"),
        (
            shapes.mcp("github", "merge_pull_request", {"pull_number": 1}, cwd),
            ActionKind.MCP_CALL,
            "MCP:github:merge_pull_request",
        ),
    ]
    for tool, ti, kind in [
        ("Shell", {"command": "ls", "working_directory": "sub"}, ActionKind.SHELL),
        ("Edit", {"file_path": "a", "new_string": "x"}, ActionKind.FILE_WRITE),
        ("MultiEdit", {"file_path": "a", "edits": [{"new_string": "x"}]}, ActionKind.FILE_WRITE),
        ("EditNotebook", {"target_notebook": "n", "notebook_path": "n.ipynb", "new_string": ""}, ActionKind.FILE_WRITE),
        ("Delete", {"file_path": "a"}, ActionKind.SHELL),
        ("Read", {"target_file": "a"}, ActionKind.FILE_READ),
        ("Grep", {"pattern": "x", "path": "src"}, ActionKind.FILE_READ),
        ("Glob", {"glob_pattern": "*.py"}, ActionKind.FILE_READ),
        ("MCP:postgres:query", {"sql": "SELECT 1"}, ActionKind.MCP_CALL),
        ("Task", {"prompt": "x"}, ActionKind.OTHER),
        ("TodoWrite", {"todos": []}, ActionKind.OTHER),
    ]:
        payload = {**shapes.write(f"{cwd}/a", "", cwd), "tool_name": tool, "tool_input": ti}
        cases.append((payload, kind, tool))
    for payload, kind, tool in cases:
        action, principal = cursor.parse(json.dumps(payload).encode(), env={})
        assert (action.kind, action.tool) == (kind, tool)
        assert principal.runtime == "cursor" and principal.session == "668320d2-2fd3-4c59-9e8b-7a1d1a2b3c4d"
        assert principal.model == "claude-4-sonnet"
    shell_action, _ = cursor.parse(json.dumps(cases[4][0]).encode(), env={})
    assert shell_action.cwd == f"{cwd}/sub"
    mcp_action, _ = cursor.parse(json.dumps(cases[3][0]).encode(), env={})
    assert mcp_action.payload == {"server": "github", "tool": "merge_pull_request", "arguments": {"pull_number": 1}}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MCP:github:create_issue", ("github", "create_issue")),
        ("MCP:ctx_execute", ("", "ctx_execute")),
        ("mcp__postgres__query", ("postgres", "query")),
        ("mcp_postgres_query", ("postgres", "query")),
        ("database_query", ("", "database_query")),
    ],
)
def test_mcp_names(name: str, expected: tuple[str, str]) -> None:
    assert cursor.split_mcp_name(name) == expected


def test_mcp_name_without_tool_is_refused() -> None:
    with pytest.raises(PayloadError):
        cursor.split_mcp_name("MCP:")
