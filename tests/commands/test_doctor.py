"""``ringfence doctor`` against fake hook commands wired into temporary settings files."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from ringfence.commands import doctor
from ringfence.wiring.claude_code import MATCHER

# A fake `ringfence hook claude-code`: decides by the Bash command, records what it saw.
HOOK_BODY = r"""
import json, os, sys, time
mode = {mode!r}
raw = sys.stdin.read()
with open({record!r}, "a") as f:
    seen = {{"stdin": raw, "cwd": os.getcwd(), "env": os.environ.get("CLAUDE_PROJECT_DIR")}}
    f.write(json.dumps(seen) + "\n")
event = json.loads(raw)
command = event["tool_input"].get("command", "")
def answer(decision, reason="fake"):
    out = {{"hookSpecificOutput": {{"hookEventName": "PreToolUse", "permissionDecision": decision,
                                   "permissionDecisionReason": reason}}}}
    print(json.dumps(out))
if mode == "good":
    answer("deny" if "rm -rf" in command else "allow", "rule fs.delete: refusing to delete /")
elif mode == "allow_all":
    answer("allow")
elif mode == "deny_all":
    answer("deny")
elif mode == "garbage":
    print("hello from a shell profile")
elif mode == "extra_output":
    print("debug: starting")
    answer("deny" if "rm -rf" in command else "allow")
elif mode == "wrong_event":
    out = {{"hookSpecificOutput": {{"hookEventName": "PostToolUse", "permissionDecision": "deny"}}}}
    print(json.dumps(out))
elif mode == "crash":
    sys.stderr.write("Traceback: boom\n")
    sys.exit(1)
elif mode == "exit2":
    sys.stderr.write("blocked\n")
    sys.exit(2)
elif mode == "slow":
    time.sleep(30)
"""


def fake_hook(tmp_path: Path, mode: str, dirname: str = "bin") -> str:
    """Write a fake hook for ``mode``; return its command line (as init would wire it)."""
    bindir = tmp_path / dirname
    bindir.mkdir(parents=True, exist_ok=True)
    body = bindir / "fake_hook.py"
    body.write_text(HOOK_BODY.format(mode=mode, record=str(tmp_path / "calls.jsonl")))
    script = bindir / "ringfence"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(body))} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"{shlex.quote(str(script))} hook claude-code"


def wire(settings_file: Path, command: str, matcher: str = MATCHER, extra: dict[str, Any] | None = None) -> None:
    data: dict[str, Any] = dict(extra or {})
    data["hooks"] = {
        "PreToolUse": [{"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": 30}]}]
    }
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps(data, indent=2))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))  # never read the real ~/.claude
    return path


def project_settings(project: Path) -> Path:
    return project / ".claude" / "settings.json"


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    record = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ringfence")
    doctor.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


# --- a working wiring ------------------------------------------------------------------------


def test_working_wiring_passes_every_check(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "good"), extra={"model": "opus"})
    report = doctor.diagnose(("project", "user"), project, home=home)
    assert [c.name for c in report.checks] == [
        "settings file",
        "hook wired",
        "tools covered",
        "command executable",
        "dangerous denied",
        "safe allowed",
    ]
    assert report.ok, report.failures
    assert report.protected == ("Bash", "Write", "Edit", "MultiEdit", "Read", "NotebookEdit", "mcp")
    assert MATCHER in report.check("hook wired").detail
    assert "refusing to delete" in report.check("dangerous denied").detail
    for name in ("dangerous denied", "safe allowed"):
        ms = report.check(name).ms
        assert ms is not None and ms > 0


def test_payloads_are_shaped_like_claude_code(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "good"))
    doctor.diagnose(("project",), project, home=home)
    seen = calls(tmp_path)
    assert len(seen) == 2
    events = [json.loads(c["stdin"]) for c in seen]
    for event in events:
        assert set(event) == {
            "session_id",
            "transcript_path",
            "cwd",
            "permission_mode",
            "hook_event_name",
            "tool_name",
            "tool_input",
            "tool_use_id",
        }
        assert event["hook_event_name"] == "PreToolUse"
        assert event["tool_name"] == "Bash"
        assert event["cwd"] == str(project)
        assert event["permission_mode"] == "default"
    assert [e["tool_input"]["command"] for e in events] == ["rm -rf /", "git status"]
    assert all(c["cwd"] == str(project) and c["env"] == str(project) for c in seen)


def test_cli_exit_0_and_table(tmp_path: Path, project: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "good"))
    assert cli(["doctor", "--project-dir", str(project)]) == 0
    out = capsys.readouterr().out
    assert "dangerous denied" in out and "safe allowed" in out and "PASS" in out
    assert "FAIL" not in out
    assert "All checks passed" in out


def test_user_scope_wiring(tmp_path: Path, project: Path, home: Path) -> None:
    wire(home / ".claude" / "settings.json", fake_hook(tmp_path, "good"))
    assert doctor.diagnose(("user",), project, home=home).ok
    assert doctor.diagnose(("project", "user"), project, home=home).ok
    assert not doctor.diagnose(("project",), project, home=home).ok


def test_local_project_settings_count(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project / ".claude" / "settings.local.json", fake_hook(tmp_path, "good"))
    assert doctor.diagnose(("project",), project, home=home).ok


def test_command_with_claude_project_dir_variable(tmp_path: Path, project: Path, home: Path) -> None:
    fake_hook(project, "good", dirname="tools")
    wire(project_settings(project), '"$CLAUDE_PROJECT_DIR"/tools/ringfence hook claude-code')
    report = doctor.diagnose(("project",), project, home=home)
    assert report.ok, report.failures
    assert report.check("command executable").detail == str(project / "tools" / "ringfence")


# --- broken wirings -------------------------------------------------------------------------


def test_missing_settings(project: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = doctor.diagnose(("project",), project, home=home)
    assert not report.check("settings file").ok
    assert not report.check("hook wired").ok
    assert report.check("settings file").fix == "run `ringfence init --agent claude-code`"
    assert cli(["doctor", "--scope", "project", "--project-dir", str(project)]) == 1
    out = capsys.readouterr().out
    assert "What to do next" in out and "ringfence init --agent claude-code" in out


def test_settings_without_ringfence_hook(project: Path, home: Path) -> None:
    wire(project_settings(project), "other-tool check")
    report = doctor.diagnose(("project", "user"), project, home=home)
    assert report.check("settings file").ok
    assert not report.check("hook wired").ok
    assert not report.check("dangerous denied").ok


def test_user_scope_fix_says_scope_user(project: Path, home: Path) -> None:
    report = doctor.diagnose(("user",), project, home=home)
    assert report.check("hook wired").fix == "run `ringfence init --agent claude-code --scope user`"


def test_invalid_settings_json(project: Path, home: Path) -> None:
    path = project_settings(project)
    path.parent.mkdir()
    path.write_text('{"hooks": {,}}')
    check = doctor.diagnose(("project",), project, home=home).check("settings file")
    assert not check.ok
    assert f"{path}:1:12" in check.detail


def test_command_missing(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), f"{tmp_path}/gone/ringfence hook claude-code")
    report = doctor.diagnose(("project",), project, home=home)
    assert report.check("hook wired").ok
    check = report.check("command executable")
    assert not check.ok and "does not exist" in check.detail
    dangerous = report.check("dangerous denied")
    assert not dangerous.ok and "exit 127" in dangerous.detail
    assert not report.ok


def test_command_printing_garbage(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "garbage"))
    report = doctor.diagnose(("project",), project, home=home)
    assert report.check("command executable").ok
    for name in ("dangerous denied", "safe allowed"):
        check = report.check(name)
        assert not check.ok and "not a single JSON document" in check.detail
        assert check.fix and "only the decision JSON" in check.fix


def test_extra_stdout_fails(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "extra_output"))
    report = doctor.diagnose(("project",), project, home=home)
    assert not report.check("dangerous denied").ok
    assert not report.check("safe allowed").ok


def test_command_allowing_the_dangerous_payload(
    tmp_path: Path, project: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "allow_all"))
    report = doctor.diagnose(("project",), project, home=home)
    dangerous = report.check("dangerous denied")
    assert not dangerous.ok and "→ allow" in dangerous.detail
    assert dangerous.fix and "ringfence explain -- rm -rf /" in dangerous.fix
    assert report.check("safe allowed").ok
    assert cli(["doctor", "--scope", "project", "--project-dir", str(project)]) == 1


def test_command_denying_the_safe_payload(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "deny_all"))
    report = doctor.diagnose(("project",), project, home=home)
    assert report.check("dangerous denied").ok
    assert not report.check("safe allowed").ok


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("crash", "exit 1 (Claude Code treats this as a hook error and lets the tool run): Traceback: boom"),
        ("exit2", "exit 2 (Claude Code blocks on exit 2"),
        ("wrong_event", "hookEventName is 'PostToolUse'"),
    ],
)
def test_contract_violations(tmp_path: Path, project: Path, home: Path, mode: str, needle: str) -> None:
    wire(project_settings(project), fake_hook(tmp_path, mode))
    check = doctor.diagnose(("project",), project, home=home).check("dangerous denied")
    assert not check.ok
    assert needle in check.detail


def test_slow_hook_is_killed_at_the_timeout(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "slow"))
    report = doctor.diagnose(("project",), project, home=home, timeout=0.5)
    check = report.check("dangerous denied")
    assert not check.ok and "killed" in check.detail
    assert check.ms is not None and check.ms < 5000


def test_partial_matcher_fails_coverage(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "good"), matcher="Bash")
    report = doctor.diagnose(("project",), project, home=home)
    coverage = report.check("tools covered")
    assert not coverage.ok
    assert "Bash ✓" in coverage.detail and "Write ✗" in coverage.detail
    assert coverage.fix and "Write" in coverage.fix
    assert report.protected == ("Bash",)
    assert report.check("dangerous denied").ok


def test_every_distinct_command_is_probed(tmp_path: Path, project: Path, home: Path) -> None:
    wire(project_settings(project), fake_hook(tmp_path, "good"))
    wire(home / ".claude" / "settings.json", f"{tmp_path}/stale/ringfence hook claude-code")
    report = doctor.diagnose(("project", "user"), project, home=home)
    names = [c.name for c in report.checks]
    assert sum(n.startswith("dangerous denied") for n in names) == 2
    assert not report.ok


def test_bad_arguments_exit_3(tmp_path: Path, home: Path) -> None:
    assert cli(["doctor", "--project-dir", str(tmp_path / "nope")]) == 3
    assert cli(["doctor", "--project-dir", str(tmp_path), "--timeout", "0"]) == 3


def test_run_hook_reports_stdout_and_env(tmp_path: Path) -> None:
    run = doctor.run_hook(
        'printf "%s" "$CLAUDE_PROJECT_DIR"; cat >/dev/null', {"a": 1}, tmp_path, 5.0, env=dict(os.environ)
    )
    assert run.exit_code == 0 and run.stdout == str(tmp_path)
