"""`ringfence check` and `explain`: exit codes, JSON output, batch mode, usage errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import RINGFENCE, isolated_env, make_workspace


def rf(tmp_path: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    return subprocess.run(
        [RINGFENCE, *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        env=env,
        cwd=ws,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--", "git", "status"], 0),
        (["--", "git reset --hard"], 1),
        (["--", "rm", "-rf", "/"], 2),
        (["--tool", "Write", "--path", "src/x.py"], 0),
        (["--tool", "Read", "--path", ".env"], 2),
        (["--tool", "mcp__db__query", "--input", '{"sql": "SELECT 1"}'], 0),
        ([], 3),
        (["--tool", "Teleport", "--path", "x"], 3),
        (["--tool", "mcp__db__query", "--input", "{not json"], 3),
        (["--tool", "Write"], 3),
        (["--tool", "Write", "--path", "a", "--content-file", "/nonexistent/file"], 3),
    ],
)
def test_exit_codes(tmp_path: Path, args: list[str], code: int) -> None:
    proc = rf(tmp_path, "check", *args)
    assert proc.returncode == code, proc.stdout + proc.stderr


def test_usage_error_says_what_to_do(tmp_path: Path) -> None:
    proc = rf(tmp_path, "check")
    assert proc.returncode == 3
    assert "ringfence check -- " in proc.stderr


def test_json_output(tmp_path: Path) -> None:
    proc = rf(tmp_path, "check", "--json", "--", "sudo env X=1 bash -c 'git reset --hard'")
    doc = json.loads(proc.stdout)
    assert doc["decision"] == "require_approval"
    assert doc["tier"] in ("medium", "high")
    assert any(r.startswith("git.") for r in doc["rules"])
    assert any(e["kind"] == "git.history_discard" and e["via"] == ["sudo", "env", "bash -c"] for e in doc["effects"])
    assert doc["reason"]
    assert doc["action_digest"].startswith("sha256:")


def test_content_file(tmp_path: Path) -> None:
    sql = tmp_path / "0002_drop.sql"
    sql.write_text("DROP TABLE users;\n")
    proc = rf(
        tmp_path,
        "check",
        "--json",
        "--tool",
        "Write",
        "--path",
        "migrations/0002_drop.sql",
        "--content-file",
        str(sql),
    )
    doc = json.loads(proc.stdout)
    assert any(e["kind"] == "db.destructive" for e in doc["effects"])


def test_batch_preserves_order_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"command": "git status"}),
        json.dumps({"command": "rm -rf /"}),
        "{broken",
        json.dumps({"tool": "Read", "input": {"file_path": "/etc/hostname"}}),
        json.dumps({"tool_name": "Bash", "tool_input": {"command": "git reset --hard"}}),
        json.dumps({"command": 42}),
    ]
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    proc = rf(tmp_path, "check", "--batch", str(batch))
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6]
    assert [o["decision"] for o in out] == ["allow", "deny", "deny", "allow", "require_approval", "deny"]
    assert "error" in out[2] and "error" in out[5]
    assert proc.returncode == 3


def test_batch_from_stdin_exit_is_strongest(tmp_path: Path) -> None:
    data = (json.dumps({"command": "ls"}) + "\n" + json.dumps({"command": "git clean -fdx"}) + "\n").encode()
    proc = rf(tmp_path, "check", "--batch", "-", stdin=data)
    assert proc.returncode == 1
    assert len(proc.stdout.splitlines()) == 2


def test_batch_missing_file(tmp_path: Path) -> None:
    proc = rf(tmp_path, "check", "--batch", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 3 and "cannot read" in proc.stderr


def test_explain_shows_unwrapped_command_and_evidence(tmp_path: Path) -> None:
    proc = rf(tmp_path, "explain", "--", "sudo env X=1 bash -c 'git reset --hard'")
    assert proc.returncode == 1
    out = proc.stdout
    assert "git reset --hard" in out
    assert "sudo → env → bash -c" in out
    assert "git.history_discard" in out
    assert "APPROVAL REQUIRED" in out


def test_explain_text_is_not_execution(tmp_path: Path) -> None:
    proc = rf(tmp_path, "explain", "--", 'echo "git reset --hard"')
    assert proc.returncode == 0
    assert "ALLOW" in proc.stdout
