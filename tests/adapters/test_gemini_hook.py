"""The Gemini CLI BeforeTool contract, end to end through `ringfence hook gemini`.

Gemini CLI reads a hook's stdout as JSON on exit 0; stdout that is not JSON counts as
allow, and an exit code other than 0 and 2 is only a warning. So every answer here must
be exactly one JSON line with ``decision`` allow or deny, on exit 0 — for bad payloads
too, and even when something on the decision path prints.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ringfence.adapters import gemini
from ringfence.adapters.contracts import deny_line, is_answer
from ringfence.daemon.dispatch import answer
from ringfence.errors import PayloadError
from ringfence.gate import Gate
from ringfence.model import ActionKind
from tests.adapters.hooks import AR, approval_ids, check_golden, check_outcome, one_line, placed, redacted, run_hook
from tests.adapters.runtimes.gemini import payload
from tests.helpers import make_workspace


def run(data: bytes, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the hook as Gemini CLI does: cwd and GEMINI_PROJECT_DIR are the session's directory."""
    return run_hook("gemini", data, env, cwd, GEMINI_PROJECT_DIR=str(cwd), CLAUDE_PROJECT_DIR=str(cwd))


def gemini_answer(proc: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    """The answer as Gemini CLI reads it, insisting that it is one it acts on."""
    doc: dict[str, Any] = json.loads(one_line(proc))  # anything but exit 0 and 2 is a warning: the tool runs
    assert set(doc) == {"decision", "reason"}, doc
    assert doc["decision"] in ("allow", "deny")
    assert isinstance(doc["reason"], str) and doc["reason"]
    assert is_answer("gemini", doc)
    return doc


def _call(env_ws: tuple[dict[str, str], Path], data: bytes) -> dict[str, Any]:
    env, ws = env_ws
    return gemini_answer(run(data, env, ws))


def _deny(env_ws: tuple[dict[str, str], Path], doc: dict[str, Any] | bytes) -> str:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    out = _call(env_ws, data)
    assert out["decision"] == "deny", out
    return str(out["reason"])


CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "shell_allow": ("run_shell_command", {"command": "git status", "description": "Show status"}, "allow"),
    "shell_deny_rm_root": ("run_shell_command", {"command": "rm -rf /"}, "deny"),
    "shell_deny_wrapped_force_push": (
        "run_shell_command",
        {"command": "sudo bash -c 'git push --force origin main'", "dir_path": "src"},
        "deny",
    ),
    "shell_approval_reset_hard": ("run_shell_command", {"command": "git reset --hard HEAD~1"}, "require_approval"),
    "write_allow": ("write_file", {"file_path": "{ws}/src/app.py", "content": "print('hi')\n"}, "allow"),
    "write_deny_env": ("write_file", {"file_path": "{ws}/.env", "content": "TOKEN=abc\n"}, "deny"),
    "replace_deny_hook_config": (
        "replace",
        {"file_path": "{ws}/.gemini/settings.json", "old_string": "a", "new_string": "b", "instruction": "x"},
        "deny",
    ),
    "replace_allow": (
        "replace",
        {"file_path": "{ws}/src/app.py", "old_string": "a", "new_string": "b", "instruction": "rename"},
        "allow",
    ),
    "read_allow": ("read_file", {"file_path": "{ws}/README.md"}, "allow"),
    "read_deny_ssh_key": ("read_file", {"file_path": "{home}/.ssh/id_ed25519"}, "deny"),
    "read_many_deny_ssh_key": (
        "read_many_files",
        {"include": ["src/**/*.py", "{home}/.ssh/id_ed25519"], "exclude": []},
        "deny",
    ),
    "list_directory_allow": ("list_directory", {"dir_path": "{ws}/src"}, "allow"),
    "mcp_select_allow": ("mcp_postgres_query", {"sql": "SELECT 1"}, "allow"),
    "mcp_drop_table": ("mcp_postgres_query", {"sql": "DROP TABLE users"}, "deny"),
    "web_search_allow": ("google_web_search", {"query": "python argparse"}, "allow"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    tool, ti, expected = CASES[name]
    ti = placed(ti, env, ws)
    extra: dict[str, Any] = {}
    if tool.startswith("mcp_"):
        extra["mcp_context"] = {"server_name": "postgres", "tool_name": "query", "command": "npx", "args": ["pg"]}
    out = _call(env_ws, json.dumps(payload(tool, ti, ws, **extra)).encode())
    check_outcome(out["decision"], out["reason"], expected)  # Gemini CLI cannot ask
    check_golden("gemini", name, {"decision": out["decision"], "reason": redacted(out["reason"], env, ws)})


def test_approval_request_is_opened_and_named(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    out = _call(env_ws, json.dumps(payload("run_shell_command", {"command": "git reset --hard"}, ws)).encode())
    request = AR.search(out["reason"])
    assert request is not None
    assert approval_ids(env, ws) == [request.group(0)]


def test_mcp_without_context_is_split_by_name(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    plain = payload("mcp_postgres_query", {"sql": "DROP TABLE users"}, ws)
    context = {"server_name": "postgres", "tool_name": "query", "command": "npx", "args": ["pg"]}
    named = _call(env_ws, json.dumps(plain).encode())
    given = _call(env_ws, json.dumps({**plain, "mcp_context": context}).encode())
    assert named["decision"] == given["decision"] == "deny"
    assert "rule db." in named["reason"]
    assert AR.sub("AR", named["reason"]) == AR.sub("AR", given["reason"])


def test_configured_server_with_underscore_is_split_as_configured(
    env_ws: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    _, ws = env_ws
    (ws / ".ringfence").mkdir()
    config = "mcp:\n  servers:\n    my_db:\n      tools:\n        run: {kind: sql}\n"
    (ws / ".ringfence" / "config.yaml").write_text(config)
    action, _ = gemini.parse(json.dumps(payload("mcp_my_db_run", {"sql": "SELECT 1"}, ws)).encode(), env={})
    assert (action.payload["server"], action.payload["tool"]) == ("my_db", "run")
    action, _ = gemini.parse(json.dumps(payload("mcp_my_db_run", {"sql": "SELECT 1"}, tmp_path)).encode(), env={})
    assert (action.payload["server"], action.payload["tool"]) == ("my", "db_run")  # Gemini's own rule


# -- the principal ------------------------------------------------------------------------------


def test_principal_carries_session_and_model(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    data = json.dumps(payload("run_shell_command", {"command": "git status"}, ws)).encode()
    action, principal = gemini.parse(data, env={"GEMINI_MODEL": "gemini-2.5-pro", "RINGFENCE_AGENT_OWNER": "ann"})
    assert action.kind is ActionKind.SHELL and action.cwd == str(ws)
    assert principal.runtime == "gemini" and principal.id == "gemini"
    assert principal.session == "8a3c1e52-7f0b-4d0e-9a51-2f3f4d5e6a7b"
    assert principal.model == "gemini-2.5-pro" and principal.owner == "ann"
    gemini_answer(run(data, {**env, "GEMINI_MODEL": "gemini-2.5-flash"}, ws))
    db = Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    entry = json.loads(bytes(sqlite3.connect(db).execute("SELECT body FROM entries").fetchone()[0]).decode())
    assert entry["runtime"] == "gemini" and entry["principal_type"] == "agent"
    assert "gemini-2.5-flash" in json.dumps(entry) and "8a3c1e52" in json.dumps(entry)


# -- fail closed: every malformed input is a deny in Gemini CLI's format --------------------------


def test_not_json(env_ws: tuple[dict[str, str], Path]) -> None:
    assert "not valid JSON" in _deny(env_ws, b'{"tool_name": "run_shell_command", ')
    assert "not valid JSON" in _deny(env_ws, b"")
    assert "JSON object" in _deny(env_ws, b'"BeforeTool"')
    assert "not UTF-8" in _deny(env_ws, b'{"tool_name": "\xff"}')


def test_missing_fields(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    full = payload("run_shell_command", {"command": "git status"}, ws)
    for field, needle in (("tool_name", "tool_name"), ("tool_input", "tool_input"), ("hook_event_name", "BeforeTool")):
        assert needle in _deny(env_ws, {k: v for k, v in full.items() if k != field}), field
    assert "command" in _deny(env_ws, payload("run_shell_command", {"description": "x"}, ws))
    assert "file_path" in _deny(env_ws, payload("write_file", {"content": "x"}, ws))
    assert "content" in _deny(env_ws, payload("write_file", {"file_path": str(ws / "a")}, ws))
    assert "new_string" in _deny(env_ws, payload("replace", {"file_path": str(ws / "a"), "old_string": "a"}, ws))


def test_cwd_missing_everywhere_is_denied(tmp_path: Path) -> None:
    raw = json.dumps({k: v for k, v in payload("read_file", {"file_path": "/a"}, tmp_path).items() if k != "cwd"})
    out = json.loads(gemini.handle(raw.encode(), lambda cwd: Gate(), env={}))
    assert out["decision"] == "deny" and "cwd" in out["reason"]
    action, _ = gemini.parse(raw.encode(), env={"GEMINI_PROJECT_DIR": str(tmp_path)})
    assert action.cwd == str(tmp_path)


def test_wrong_types(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "command" in _deny(env_ws, payload("run_shell_command", {"command": ["rm", "-rf", "/"]}, ws))
    assert "tool_input" in _deny(env_ws, {**payload("run_shell_command", {}, ws), "tool_input": "rm -rf /"})
    assert "tool_name" in _deny(env_ws, {**payload("run_shell_command", {"command": "ls"}, ws), "tool_name": 7})
    assert "cwd" in _deny(env_ws, {**payload("run_shell_command", {"command": "ls"}, ws), "cwd": "relative/dir"})
    assert "dir_path" in _deny(env_ws, payload("run_shell_command", {"command": "ls", "dir_path": 3}, ws))
    assert "include" in _deny(env_ws, payload("read_many_files", {"include": "*.py"}, ws))
    assert "mcp_context" in _deny(env_ws, payload("mcp_pg_query", {"sql": "SELECT 1"}, ws, mcp_context="pg"))
    assert "server_name" in _deny(env_ws, payload("mcp_pg_query", {}, ws, mcp_context={"tool_name": "query"}))


def test_other_events_are_not_decided(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    other = {**payload("run_shell_command", {"command": "ls"}, ws), "hook_event_name": "BeforeAgent"}
    assert "BeforeAgent" in _deny(env_ws, other)
    after = {**payload("run_shell_command", {"command": "ls"}, ws), "hook_event_name": "AfterTool"}
    proc = run(json.dumps(after).encode(), env, ws)
    assert proc.returncode == 0 and proc.stdout == b"{}\n"  # the tool already ran: no opinion


def test_unknown_tool(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "unknown tool 'teleport'" in _deny(env_ws, payload("teleport", {"to": "prod"}, ws))
    assert "unknown tool 'discovered_tool_deploy'" in _deny(env_ws, payload("discovered_tool_deploy", {}, ws))
    assert "unknown tool 'run-tests__x'" in _deny(env_ws, payload("run-tests__x", {}, ws))


def test_huge_payload(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    reason = _deny(env_ws, payload("run_shell_command", {"command": "echo " + "a" * (5 << 20)}, ws))
    assert "limit" in reason


def test_broken_config_denies(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text("on_error: [allow\n")
    reason = _deny(env_ws, payload("run_shell_command", {"command": "git status"}, ws))
    assert "config.yaml:" in reason


def test_nothing_but_the_answer_reaches_stdout(env_ws: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    """A print anywhere on the decision path would turn a deny into an allow (Gemini CLI
    shows non-JSON stdout as a message and runs the tool). Inject one and check stdout."""
    env, ws = env_ws
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os, sys, warnings\n"
        "import ringfence.adapters.base as b\n"
        "_handle = b.handle\n"
        "def handle(*a, **k):\n"
        "    print('chatty library output', flush=True)\n"
        "    os.write(1, b'raw fd write\\n')\n"
        "    warnings.warn('a deprecation')\n"
        "    return _handle(*a, **k)\n"
        "b.handle = handle\n"
    )
    noisy = {**env, "PYTHONPATH": str(site), "PYTHONWARNINGS": "always"}
    proc = run(json.dumps(payload("run_shell_command", {"command": "rm -rf /"}, ws)).encode(), noisy, ws)
    assert b"chatty library output" in proc.stderr  # the injection ran
    out = gemini_answer(proc)
    assert out["decision"] == "deny"
    assert proc.stdout.startswith(b'{"decision": "deny"')


# -- in-process details ---------------------------------------------------------------------------


def test_parse_maps_every_tool(tmp_path: Path) -> None:
    ws = str(tmp_path)
    home = str(tmp_path / "home")
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "run_shell_command": ({"command": "ls", "dir_path": "src"}, "shell"),
        "write_file": ({"file_path": "/a", "content": ""}, "file_write"),
        "replace": ({"file_path": "/a", "old_string": "", "new_string": ""}, "file_write"),
        "read_file": ({"file_path": "/a"}, "file_read"),
        "read_many_files": ({"include": ["a", "b"]}, "file_read"),
        "list_directory": ({"dir_path": "/a"}, "file_read"),
        "glob": ({"pattern": "**/*.py"}, "file_read"),
        "grep_search": ({"pattern": "x"}, "file_read"),
        "search_file_content": ({"pattern": "x", "path": "src"}, "file_read"),
        "save_memory": ({"fact": "the user likes tabs"}, "file_write"),
        "web_fetch": ({"prompt": "summarise https://example.com"}, "other"),
        "google_web_search": ({"query": "x"}, "other"),
        "write_todos": ({"todos": []}, "other"),
    }
    for tool, (ti, kind) in cases.items():
        action, principal = gemini.parse(json.dumps(payload(tool, ti, ws)).encode(), env={"HOME": home})
        assert action.kind.value == kind, tool
        assert principal.session and principal.runtime == "gemini"
    raw = json.dumps(payload("run_shell_command", cases["run_shell_command"][0], ws)).encode()
    shell, _ = gemini.parse(raw, env={})
    assert shell.cwd == f"{ws}/src"  # the command runs in dir_path, resolved against the project
    memory, _ = gemini.parse(json.dumps(payload("save_memory", {"fact": "x"}, ws)).encode(), env={"HOME": home})
    assert memory.payload["path"] == f"{home}/.gemini/GEMINI.md"
    many, _ = gemini.parse(json.dumps(payload("read_many_files", {"include": ["a", "b"]}, ws)).encode(), env={})
    assert many.payload["paths"] == ["a", "b"]
    old, _ = gemini.parse(json.dumps(payload("read_file", {"absolute_path": "/etc/hosts"}, ws)).encode(), env={})
    assert old.payload["path"] == "/etc/hosts"  # the parameter's name before file_path
    glob, _ = gemini.parse(json.dumps(payload("glob", {"pattern": "/etc/ssh/*"}, ws)).encode(), env={})
    assert glob.payload["paths"] == [ws, "/etc/ssh/*"]
    with pytest.raises(PayloadError, match="unknown tool"):
        gemini.parse(json.dumps(payload("mcp_", {}, ws)).encode(), env={})


def test_require_approval_is_never_ask(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    out = json.loads(
        answer(
            "gemini",
            json.dumps(payload("run_shell_command", {"command": "git reset --hard"}, ws)).encode(),
            {},
            lambda cwd: Gate(),
        )
    )
    assert out["decision"] == "deny" and "blocked until approved" in out["reason"]


def test_contract_deny_line_is_an_answer() -> None:
    doc = json.loads(deny_line("gemini", 'ringfence: "quoted" \u2014 reason'))
    assert doc == {"decision": "deny", "reason": 'ringfence: "quoted" \u2014 reason'}
    assert is_answer("gemini", doc)
    assert not is_answer("gemini", {"decision": "ask"})
    assert not is_answer("gemini", {"decision": "block"})
