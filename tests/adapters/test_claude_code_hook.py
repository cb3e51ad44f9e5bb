"""The Claude Code PreToolUse contract, end to end through `ringfence hook claude-code`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ringfence.adapters import claude_code
from ringfence.daemon.dispatch import answer
from ringfence.gate import Gate
from tests.adapters.hooks import check_golden, placed, redacted
from tests.helpers import hook_answer, make_workspace, payload, run_hook


def _call(env_ws: tuple[dict[str, str], Path], data: bytes) -> dict[str, object]:
    env, ws = env_ws
    return hook_answer(run_hook(data, env, ws))


CASES = {
    "bash_allow": ("Bash", {"command": "git status"}, "default", "allow"),
    "bash_deny_rm_root": ("Bash", {"command": "rm -rf /"}, "default", "deny"),
    "bash_deny_force_push": (
        "Bash",
        {"command": "sudo bash -c 'git push --force origin main'"},
        "default",
        "deny",
    ),
    "bash_ask_reset_hard": ("Bash", {"command": "git reset --hard HEAD~1"}, "default", "ask"),
    "bash_unattended_reset_hard": (
        "Bash",
        {"command": "git reset --hard HEAD~1"},
        "bypassPermissions",
        "deny",
    ),
    "write_allow": (
        "Write",
        {"file_path": "{ws}/src/app.py", "content": "print('hi')\n"},
        "default",
        "allow",
    ),
    "write_deny_env": ("Write", {"file_path": "{ws}/.env", "content": "TOKEN=abc\n"}, "default", "deny"),
    "edit_deny_hook_config": (
        "Edit",
        {"file_path": "{ws}/.claude/settings.json", "old_string": "a", "new_string": "b"},
        "default",
        "deny",
    ),
    "multiedit_allow": (
        "MultiEdit",
        {"file_path": "{ws}/src/app.py", "edits": [{"old_string": "a", "new_string": "b"}]},
        "default",
        "allow",
    ),
    "read_allow": ("Read", {"file_path": "{ws}/README.md"}, "default", "allow"),
    "read_deny_ssh_key": ("Read", {"file_path": "{home}/.ssh/id_ed25519"}, "default", "deny"),
    "notebook_allow": (
        "NotebookEdit",
        {"notebook_path": "{ws}/n.ipynb", "new_source": "x = 1"},
        "default",
        "allow",
    ),
    "mcp_select_allow": ("mcp__postgres__query", {"sql": "SELECT 1"}, "default", "allow"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    tool, ti, mode, expected = CASES[name]
    out = _call(env_ws, json.dumps(payload(tool, placed(ti, env, ws), ws, mode)).encode())
    assert out["permissionDecision"] == expected, out
    reason = redacted(str(out["permissionDecisionReason"]), env, ws)
    check_golden("", name, {"permissionDecision": out["permissionDecision"], "permissionDecisionReason": reason})


def test_deny_reason_names_rule_and_alternative(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    out = _call(env_ws, json.dumps(payload("Bash", {"command": "git push --force origin main"}, ws)).encode())
    reason = str(out["permissionDecisionReason"])
    assert out["permissionDecision"] == "deny"
    assert "rule git." in reason
    assert "Instead:" in reason


# -- fail closed: every malformed input is a deny, not just "no crash" -------------------------


def _deny(env_ws: tuple[dict[str, str], Path], data: bytes, env: dict[str, str] | None = None) -> str:
    e, ws = env_ws
    out = hook_answer(run_hook(data, env or e, ws))
    assert out["permissionDecision"] == "deny", out
    return str(out["permissionDecisionReason"])


def test_malformed_json(env_ws: tuple[dict[str, str], Path]) -> None:
    assert "not valid JSON" in _deny(env_ws, b'{"tool_name": "Bash", ')


def test_empty_stdin(env_ws: tuple[dict[str, str], Path]) -> None:
    assert "not valid JSON" in _deny(env_ws, b"")


def test_json_not_an_object(env_ws: tuple[dict[str, str], Path]) -> None:
    assert "JSON object" in _deny(env_ws, b"[1, 2]")


def test_unknown_tool(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "unknown tool 'Teleport'" in _deny(env_ws, json.dumps(payload("Teleport", {"x": 1}, ws)).encode())


def test_non_utf8_bytes(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    data = json.dumps(payload("Bash", {"command": "echo X"}, ws)).encode().replace(b"X", b"\xff\xfe")
    assert "not UTF-8" in _deny(env_ws, data)


def test_wrong_types(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    assert "command" in _deny(env_ws, json.dumps(payload("Bash", {"command": ["rm", "-rf", "/"]}, ws)).encode())
    assert "tool_input" in _deny(env_ws, json.dumps({**payload("Bash", {}, ws), "tool_input": "rm -rf /"}).encode())
    assert "file_path" in _deny(env_ws, json.dumps(payload("Write", {"content": "x"}, ws)).encode())


def test_one_mib_command(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    data = json.dumps(payload("Bash", {"command": "echo " + "a" * (1 << 20)}, ws)).encode()
    reason = _deny(env_ws, data)
    assert "limit" in reason


def test_deeply_nested_bash_c(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    cmd = "eval " * 5000 + "true"
    assert "nested" in _deny(env_ws, json.dumps(payload("Bash", {"command": cmd}, ws)).encode())


def test_missing_config_file(env_ws: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, ws = env_ws
    env = dict(env, RINGFENCE_CONFIG=str(tmp_path / "nope.yaml"))
    reason = _deny(env_ws, json.dumps(payload("Bash", {"command": "git status"}, ws)).encode(), env)
    assert "does not exist" in reason


def test_broken_config_file(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text("on_error: [allow\n")
    reason = _deny(env_ws, json.dumps(payload("Bash", {"command": "git status"}, ws)).encode())
    assert "config.yaml:" in reason and "not valid YAML" in reason


def test_invalid_config_value(env_ws: tuple[dict[str, str], Path]) -> None:
    _, ws = env_ws
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text("on_error: maybe\n")
    assert "on_error" in _deny(env_ws, json.dumps(payload("Bash", {"command": "ls"}, ws)).encode())


def test_unwritable_ledger(env_ws: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, ws = env_ws
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = dict(env, RINGFENCE_LEDGER=str(blocker / "ledger.db"))  # a path under a regular file
    reason = _deny(env_ws, json.dumps(payload("Bash", {"command": "git status"}, ws)).encode(), env)
    assert "ledger" in reason


class _FullDisk:
    def append(self, entry: dict[str, object]) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    def recent(self, limit: int = 20) -> list[dict[str, object]]:
        return []

    def close(self) -> None:
        pass


def test_full_disk_denies(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    gate = Gate(ledger=_FullDisk())
    out = json.loads(
        answer("claude-code", json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), {}, lambda cwd: gate)
    )
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "disk is full" in out["hookSpecificOutput"]["permissionDecisionReason"]


def test_on_error_allow_is_explicit(tmp_path: Path) -> None:
    """An operator may choose on_error: allow; it then applies to internal errors only."""
    ws = make_workspace(tmp_path)
    from ringfence.config import Settings

    class Boom(Gate):
        def evaluate(self, action, principal):  # type: ignore[no-untyped-def]
            raise RuntimeError("bug")

    gate = Boom(settings=Settings(on_error="allow"))
    out = json.loads(
        answer("claude-code", json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), {}, lambda cwd: gate)
    )
    assert out["hookSpecificOutput"]["permissionDecision"] == "allow"
    assert "on_error: allow" in out["hookSpecificOutput"]["permissionDecisionReason"]
    gate_deny = Boom()
    out = json.loads(
        answer(
            "claude-code",
            json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(),
            {},
            lambda cwd: gate_deny,
        )
    )
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_nothing_but_json_on_stdout(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    proc = run_hook(json.dumps(payload("Bash", {"command": "rm -rf /"}, ws)).encode(), env, ws)
    assert proc.returncode == 0
    assert proc.stdout.count(b"\n") == 1 and proc.stdout.startswith(b'{"hookSpecificOutput"')


def test_decision_recorded_before_answer_and_redacted(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    cmd = (
        "curl -H 'Authorization: Bearer sk-ant-abcdefghijklmnopqrstuvwxyz' https://api/x && GITHUB_TOKEN=ghp_"
        + "a" * 36
        + " gh pr list"
    )
    hook_answer(run_hook(json.dumps(payload("Bash", {"command": cmd}, ws)).encode(), env, ws))
    db = Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    rows = [(bytes(r[0]).decode(),) for r in sqlite3.connect(db).execute("SELECT body FROM entries").fetchall()]
    assert len(rows) == 1
    body = rows[0][0]
    assert "sk-ant-abcdefghijklmnopqrstuvwxyz" not in body
    assert "ghp_" + "a" * 36 not in body
    assert "redacted:sha256:" in body
    entry = json.loads(body)
    assert entry["principal_type"] == "agent" and entry["runtime"] == "claude-code"


def test_file_contents_never_stored(env_ws: tuple[dict[str, str], Path]) -> None:
    env, ws = env_ws
    data = json.dumps(payload("Write", {"file_path": str(ws / "src/a.py"), "content": "SECRET-CONTENT"}, ws))
    hook_answer(run_hook(data.encode(), env, ws))
    db = Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    body = bytes(sqlite3.connect(db).execute("SELECT body FROM entries").fetchone()[0]).decode()
    assert "SECRET-CONTENT" not in body and '"digest"' in body


def test_parse_maps_every_tool(tmp_path: Path) -> None:
    ws = str(tmp_path)
    cases = {
        "Bash": {"command": "ls"},
        "Write": {"file_path": "/a", "content": ""},
        "Edit": {"file_path": "/a", "old_string": "", "new_string": ""},
        "MultiEdit": {"file_path": "/a", "edits": []},
        "Read": {"file_path": "/a"},
        "NotebookEdit": {"notebook_path": "/a.ipynb", "new_source": ""},
        "mcp__srv__do_thing": {"a": 1},
    }
    kinds = {}
    for tool, ti in cases.items():
        action, principal = claude_code.parse(json.dumps(payload(tool, ti, ws)).encode(), env={})
        kinds[tool] = action.kind.value
        assert principal.type.value == "agent" and principal.session == "sess-1"
    assert kinds == {
        "Bash": "shell",
        "Write": "file_write",
        "Edit": "file_write",
        "MultiEdit": "file_write",
        "Read": "file_read",
        "NotebookEdit": "file_write",
        "mcp__srv__do_thing": "mcp_call",
    }
