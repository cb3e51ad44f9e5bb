"""`ringfence hook opencode`: the payload ringfence's OpenCode plugin sends, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ringfence.adapters import opencode
from ringfence.adapters.contracts import deny_line, is_answer
from ringfence.model import ActionKind
from tests.adapters.hooks import AR, one_line, placed, run_hook
from tests.adapters.runtimes import opencode as shapes


def run(data: bytes, env_ws: tuple[dict[str, str], Path]) -> tuple[str, str]:
    env, ws = env_ws
    return shapes.answer(one_line(run_hook("opencode", data, env, ws)))


def decide(env_ws: tuple[dict[str, str], Path], payload: dict[str, Any]) -> tuple[str, str]:
    return run(json.dumps(payload).encode(), env_ws)


GOLDEN: dict[str, tuple[str, dict[str, Any], str]] = {
    "bash_allow": ("bash", {"command": "git status", "description": "Shows status"}, "allow"),
    "bash_deny_rm_root": ("bash", {"command": "sudo sh -c 'rm -rf /'"}, "deny"),
    "bash_workdir": ("bash", {"command": "rm -rf .git", "workdir": "."}, "deny"),
    "write_allow": ("write", {"filePath": "{ws}/src/app.py", "content": "print(1)\n"}, "allow"),
    "write_deny_env": ("write", {"filePath": "{ws}/.env", "content": "TOKEN=x\n"}, "deny"),
    "edit_allow": ("edit", {"filePath": "{ws}/src/app.py", "oldString": "a", "newString": "b"}, "allow"),
    "multiedit_deny_env": (
        "multiedit",
        {"filePath": "{ws}/.env", "edits": [{"oldString": "a", "newString": "b"}]},
        "deny",
    ),
    "patch_deny_env": (
        "patch",
        {"patchText": "*** Begin Patch\n*** Update File: .env\n@@\n-A=1\n+A=2\n*** End Patch\n"},
        "deny",
    ),
    "apply_patch_allow": (
        "apply_patch",
        {"patchText": "*** Begin Patch\n*** Add File: src/new.py\n+x = 1\n*** End Patch\n"},
        "allow",
    ),
    "edit_deny_own_plugin": (
        "edit",
        {"filePath": "{ws}/.opencode/plugins/ringfence.js", "oldString": "a", "newString": "b"},
        "deny",
    ),
    "bash_deny_plugin_removal": ("bash", {"command": "rm -f .opencode/plugins/ringfence.js"}, "deny"),
    "read_allow": ("read", {"filePath": "{ws}/README.md"}, "allow"),
    "read_deny_ssh_key": ("read", {"filePath": "{home}/.ssh/id_ed25519"}, "deny"),
    "glob_allow": ("glob", {"pattern": "**/*.py"}, "allow"),
    "grep_allow": ("grep", {"pattern": "TODO", "path": "{ws}/src"}, "allow"),
    "list_allow": ("list", {"path": "{ws}"}, "allow"),
    "todowrite_allow": ("todowrite", {"todos": []}, "allow"),
    "webfetch_allow": ("webfetch", {"url": "https://example.com", "format": "text"}, "allow"),
    "mcp_select_allow": ("postgres_query", {"sql": "SELECT 1"}, "allow"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(env_ws: tuple[dict[str, str], Path], name: str) -> None:
    env, ws = env_ws
    tool, args, expected = GOLDEN[name]
    payload = {**shapes.shell("", str(ws)), "tool": tool, "args": placed(args, env, ws)}
    decision, reason = decide(env_ws, payload)
    assert decision == expected, reason


def test_require_approval_is_a_deny_naming_the_request(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    decision, reason = decide(env_ws, shapes.shell("git reset --hard HEAD~1", str(ws)))
    assert decision == "deny"
    assert "blocked until approved" in reason and AR.search(reason)


def test_mcp_drop_is_held(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    decision, reason = decide(env_ws, shapes.mcp("postgres", "query", {"sql": "DROP TABLE users"}, str(ws)))
    assert decision == "deny" and AR.search(reason)


BAD = {
    "not_json": b"nope",
    "empty": b"",
    "array": b"[1]",
    "no_tool": json.dumps({"args": {}, "directory": "/tmp"}).encode(),
    "tool_not_string": json.dumps({"tool": 3, "args": {}, "directory": "/tmp"}).encode(),
    "args_not_object": json.dumps({"tool": "bash", "args": "ls", "directory": "/tmp"}).encode(),
    "no_directory": json.dumps({"tool": "bash", "args": {"command": "ls"}}).encode(),
    "relative_directory": json.dumps({"tool": "bash", "args": {"command": "ls"}, "directory": "repo"}).encode(),
    "command_missing": json.dumps({"tool": "bash", "args": {}, "directory": "/tmp"}).encode(),
    "write_without_path": json.dumps({"tool": "write", "args": {"content": "x"}, "directory": "/tmp"}).encode(),
    "unknown_tool": json.dumps({"tool": "teleport", "args": {}, "directory": "/tmp"}).encode(),
    "batch": json.dumps({"tool": "batch", "args": {"tool_calls": []}, "directory": "/tmp"}).encode(),
    "patch_without_files": json.dumps({"tool": "patch", "args": {"patchText": "hi"}, "directory": "/tmp"}).encode(),
    "wrong_event": json.dumps({"hook_event_name": "tool.execute.after", "tool": "bash", "directory": "/tmp"}).encode(),
    "huge": json.dumps({"tool": "bash", "args": {"command": "x" * (5 << 20)}, "directory": "/tmp"}).encode(),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_payloads_deny_in_the_plugins_format(env_ws: tuple[dict[str, str], Path], name: str) -> None:
    decision, reason = run(BAD[name], env_ws)
    assert decision == "deny", name
    assert "fails closed" in reason


def test_fallback_deny_line_is_what_the_plugin_reads() -> None:
    doc = json.loads(deny_line("opencode", "no"))
    assert shapes.answer(json.dumps(doc)) == ("deny", "no")
    assert is_answer("opencode", doc) and not is_answer("opencode", {"decision": "ask"})


def test_parse_maps_every_tool(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    cases = [
        ("bash", {"command": "ls", "workdir": "sub"}, ActionKind.SHELL),
        ("write", {"filePath": "a", "content": ""}, ActionKind.FILE_WRITE),
        ("edit", {"filePath": "a", "oldString": "", "newString": "x"}, ActionKind.FILE_WRITE),
        ("multiedit", {"filePath": "a", "edits": []}, ActionKind.FILE_WRITE),
        ("patch", {"patchText": "*** Begin Patch\n*** Delete File: a\n*** End Patch"}, ActionKind.FILE_WRITE),
        ("read", {"filePath": "a"}, ActionKind.FILE_READ),
        ("glob", {"pattern": "*"}, ActionKind.FILE_READ),
        ("grep", {"pattern": "x"}, ActionKind.FILE_READ),
        ("list", {}, ActionKind.FILE_READ),
        ("task", {"prompt": "x", "subagent_type": "general"}, ActionKind.OTHER),
        ("github_merge_pull_request", {"pull_number": 1}, ActionKind.MCP_CALL),
    ]
    for tool, args, kind in cases:
        payload = {**shapes.shell("", cwd), "tool": tool, "args": args}
        action, principal = opencode.parse(json.dumps(payload).encode(), env={"RINGFENCE_AGENT_OWNER": "ana"})
        assert (action.kind, action.tool) == (kind, tool)
        assert principal.runtime == "opencode" and principal.session == "ses_4a1b2c3d4e5fX9yZ0aB1cD2eF3"
        assert principal.owner == "ana" and principal.attributes == {"opencode_agent": "build"}
    bash, _ = opencode.parse(json.dumps({**shapes.shell("ls", cwd), "args": cases[0][1]}).encode(), env={})
    assert bash.cwd == f"{cwd}/sub"
    mcp, _ = opencode.parse(
        json.dumps({**shapes.shell("", cwd), "tool": cases[-1][0], "args": cases[-1][1]}).encode(), env={}
    )
    assert mcp.payload["server"] == "github" and mcp.payload["tool"] == "merge_pull_request"


def _patch(*body: str) -> dict[str, str]:
    return {"patchText": "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"}


def test_a_patch_is_judged_file_by_file_as_codex_judges_it(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    args = _patch("*** Add File: a.py", "+a", "*** Update File: b.py", "*** Move to: c.py", "@@", "+c")
    action, _ = opencode.parse(json.dumps({**shapes.shell("", cwd), "tool": "apply_patch", "args": args}).encode())
    assert action.payload == {
        "edits": [{"path": "a.py", "content": "a\n"}, {"path": "c.py", "content": "c"}],
        "deletes": ["b.py"],
    }
    single = {**shapes.shell("", cwd), "tool": "patch", "args": _patch("*** Add File: a.py", "+a")}
    assert opencode.parse(json.dumps(single).encode())[0].payload == {"path": "a.py", "content": "a\n"}


def test_each_file_of_a_patch_is_judged_by_its_own_text_and_deletes_as_rm(env_ws: tuple[dict[str, str], Path]) -> None:
    """When the whole patch text stood for every file's content, SQL in a Python file
    held a harmless migration next to it, and deleting a file outside the workspace was a
    write (held) instead of the delete it is (denied, as `rm -f` of it is)."""
    _, ws = env_ws

    def patched(*body: str) -> tuple[str, str]:
        return decide(env_ws, {**shapes.shell("", str(ws)), "tool": "apply_patch", "args": _patch(*body)})

    migration = ["*** Add File: db/migrations/0003_add.sql", "+CREATE TABLE t (id int);"]
    assert patched("*** Add File: src/queries.py", '+DROP = "DROP TABLE users;"', *migration)[0] == "allow"
    drop = ["*** Add File: db/migrations/0002_drop.sql", "+DROP TABLE users;"]
    decision, reason = patched("*** Add File: src/a.py", "+x = 1", *drop)
    assert decision == "deny" and AR.search(reason), reason  # held: the migration's own text drops a table
    decision, reason = patched("*** Add File: src/a.py", "+x = 1", "*** Delete File: /etc/hosts")
    assert decision == "deny" and "fs.delete-outside-workspace" in reason and not AR.search(reason), reason
    assert decide(env_ws, shapes.shell("rm -f -- /etc/hosts", str(ws)))[0] == "deny"
    secret = "+AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    decision, reason = patched("*** Add File: src/a.py", "+x = 1", "*** Add File: .env", secret)
    assert decision == "deny" and "secrets" in reason, reason


def test_a_patch_opencode_cannot_apply_is_denied_with_the_reason(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    body = {**shapes.shell("", str(ws)), "tool": "apply_patch", "args": _patch("*** Update File: a.py")}
    decision, reason = decide(env_ws, body)
    assert decision == "deny" and "OpenCode cannot apply this patch" in reason and "has no hunk" in reason
