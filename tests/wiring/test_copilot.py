"""Wiring ringfence into Copilot CLI's hook files: plans, round trips, the CLI and the doctor."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ringfence.wiring import copilot
from ringfence.wiring.base import wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import SettingsFileError, apply
from tests.wiring.helpers import assert_ok, doctor, init, uninstall, write

COMMAND = "/opt/ringfence/bin/ringfence hook copilot"
OURS = {"type": "command", "bash": COMMAND, "timeoutSec": copilot.DEFAULT_TIMEOUT_SEC}

# A hook file a team already keeps: other events, other preToolUse hooks, comments.
RICH: dict[str, Any] = {
    "version": 1,
    "hooks": {
        "sessionStart": [{"type": "command", "bash": "./scripts/start.sh", "powershell": "./scripts/start.ps1"}],
        "preToolUse": [
            {
                "type": "command",
                "bash": "./scripts/audit.sh",
                "powershell": "./scripts/audit.ps1",
                "cwd": "scripts",
                "env": {"LOG": "1"},
                "timeoutSec": 10,
                "comment": "audit log",
            }
        ],
        "postToolUse": [{"type": "command", "bash": "./scripts/after.sh"}],
    },
}


def ours(project: Path) -> Path:
    return project / ".github" / "hooks" / "ringfence.json"


def test_paths(tmp_path: Path) -> None:
    assert copilot.settings_path("project", tmp_path) == tmp_path / ".github" / "hooks" / "ringfence.json"
    assert copilot.settings_path("user", home=tmp_path) == tmp_path / ".copilot" / "hooks" / "ringfence.json"
    other = write(tmp_path / "p" / ".github" / "hooks" / "audit.json", RICH) and tmp_path / "p" / ".github" / "hooks"
    assert wiring_for("copilot").read_paths(["project", "user"], tmp_path / "p", tmp_path / "h") == [
        other / "ringfence.json",
        other / "audit.json",
        tmp_path / "h" / ".copilot" / "hooks" / "ringfence.json",
    ]


def test_matcher_semantics() -> None:
    assert all(copilot.coverage(None).values())
    assert copilot.coverage("bash|powershell") == {
        "bash": True,
        "powershell": True,
        "create": False,
        "edit": False,
        "view": False,
        "mcp": False,
    }
    assert not copilot.matcher_covers("bas", "bash")  # anchored at both ends
    assert not copilot.matcher_covers("(", "bash") and not copilot.matcher_covers(3, "bash")


def test_install_creates_our_file_and_uninstall_deletes_it(isolated: Path) -> None:
    path = ours(isolated)
    plan = copilot.plan_install(path, COMMAND)
    assert plan.creates
    apply(plan)
    assert path.read_text() == json.dumps({"version": 1, "hooks": {"preToolUse": [OURS]}}, indent=2) + "\n"
    assert not copilot.plan_install(path, COMMAND).changed  # idempotent
    plan = copilot.plan_uninstall(path)
    assert plan.after is None and "delete ringfence.json" in plan.changes[-1]
    apply(plan)
    assert not path.exists() and os.listdir(path.parent) == []


def test_round_trip_on_a_shared_file_is_byte_identical(isolated: Path) -> None:
    path = ours(isolated)
    text = write(path, RICH, indent=4)
    apply(copilot.plan_install(path, COMMAND))
    doc = json.loads(path.read_text())
    assert doc["hooks"]["preToolUse"] == [*RICH["hooks"]["preToolUse"], OURS]
    assert list(doc["hooks"]) == list(RICH["hooks"])
    again = copilot.plan_install(path, COMMAND)
    assert not again.changed
    apply(copilot.plan_uninstall(path))
    assert path.read_text() == text


def test_install_updates_in_place(isolated: Path) -> None:
    path = ours(isolated)
    old = {"type": "command", "bash": "/old/venv/bin/ringfence hook copilot", "timeoutSec": 5, "matcher": "bash"}
    write(path, {"version": 1, "hooks": {"preToolUse": [old, {"type": "command", "bash": "x/ringfence hook copilot"}]}})
    plan = copilot.plan_install(path, COMMAND)
    assert any("update the hook command" in c for c in plan.changes)
    assert any("remove the hook's matcher" in c for c in plan.changes)
    assert any("duplicate" in c for c in plan.changes)
    apply(plan)
    assert json.loads(path.read_text()) == {
        "version": 1,
        "hooks": {"preToolUse": [{"type": "command", "bash": COMMAND, "timeoutSec": 5}]},
    }


def test_a_file_without_version_gets_one_and_another_version_is_refused(isolated: Path) -> None:
    path = ours(isolated)
    write(path, {"hooks": {}})
    plan = copilot.plan_install(path, COMMAND)
    assert plan.changes[0] == "set the file's version to 1"
    assert next(iter(json.loads(plan.after or ""))) == "version"
    text = write(path, {"version": 2, "hooks": {}})
    with pytest.raises(SettingsFileError, match="version is 2"):
        copilot.plan_install(path, COMMAND)
    assert path.read_text() == text


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ('{"version": 1, "hooks": []}', "hooks is a JSON array"),
        ('{"version": 1, "hooks": {"preToolUse": {}}}', "hooks.preToolUse is a JSON object"),
        ('{"version": 1, "hooks": {"preToolUse": ["./x.sh"]}}', "hooks.preToolUse\\[0\\] is a JSON string"),
        ('{"version": 1, "hooks": {', "invalid JSON"),
    ],
)
def test_wrong_shapes_change_nothing(isolated: Path, text: str, pointer: str) -> None:
    path = ours(isolated)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    for plan in (lambda: copilot.plan_install(path, COMMAND), lambda: copilot.plan_uninstall(path)):
        with pytest.raises(SettingsFileError, match=pointer):
            plan()
    assert path.read_text() == text


def test_read_decision() -> None:
    read = copilot.read_decision
    assert read('{"permissionDecision": "deny", "permissionDecisionReason": "no"}') == ("deny", "deny: no")
    assert read('{"permissionDecision": "allow"}') == ("allow", "allow")
    assert read('{"permissionDecision": "ask"}')[0] is None  # approvable without a person
    assert read("{}")[0] is None and read("")[0] is None and read("nope")[0] is None


# --- the CLI and the doctor, end to end -------------------------------------------------------


def test_cli_dry_run_writes_nothing(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init("copilot", isolated, "--dry-run") == 0
    assert not (isolated / ".github").exists()
    assert "hook copilot" in capsys.readouterr().out
    assert init("copilot", isolated) == 0
    text = ours(isolated).read_text()
    assert uninstall("copilot", isolated, "--dry-run") == 0
    assert ours(isolated).read_text() == text


def test_cli_round_trip_and_doctor(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    team = write(isolated / ".github" / "hooks" / "team.json", RICH)
    assert init("copilot", isolated) == 0
    assert [h.command for h in copilot.read_hooks(ours(isolated))] == [hook_command("copilot")]
    assert init("copilot", isolated) == 0
    assert "already wired" in capsys.readouterr().out
    report = doctor("copilot", isolated)
    assert_ok(report)
    assert report.title == "Copilot CLI"
    assert uninstall("copilot", isolated) == 0
    assert not ours(isolated).exists()
    assert (isolated / ".github" / "hooks" / "team.json").read_text() == team
    assert sorted(os.listdir(isolated / ".github" / "hooks")) == ["team.json"]


def test_cli_user_scope(isolated: Path) -> None:
    assert init("copilot", isolated, "--scope", "user") == 0
    user = isolated.parent / "home" / ".copilot" / "hooks" / "ringfence.json"
    assert copilot.read_hooks(user) and not (isolated / ".github").exists()
    report = doctor("copilot", isolated, "user")
    assert_ok(report)


def test_doctor_detects_missing_wiring(isolated: Path) -> None:
    report = doctor("copilot", isolated)
    assert not report.check("settings file").ok and not report.check("hook wired").ok
    write(isolated / ".github" / "hooks" / "team.json", RICH)
    report = doctor("copilot", isolated)
    assert report.check("settings file").ok and not report.check("hook wired").ok


def test_doctor_finds_a_hook_in_another_file_and_its_matcher(isolated: Path) -> None:
    hook = {"type": "command", "bash": hook_command("copilot"), "matcher": "bash"}
    write(isolated / ".github" / "hooks" / "guard.json", {"version": 1, "hooks": {"preToolUse": [hook]}})
    report = doctor("copilot", isolated)
    assert report.check("hook wired").ok and "guard.json" in report.check("hook wired").detail
    covered = report.check("tools covered")
    assert not covered.ok and "edit ✗" in covered.detail
    assert report.check("dangerous denied").ok and report.check("safe allowed").ok


def test_doctor_detects_a_removed_hook_and_a_wrong_version(isolated: Path) -> None:
    path = ours(isolated)
    apply(copilot.plan_install(path, hook_command("copilot")))
    doc = json.loads(path.read_text())
    write(path, {**doc, "version": 2})
    report = doctor("copilot", isolated)
    assert not report.check("tools covered").ok and "does not read this file" in report.check("hook wired").detail
    write(path, {"version": 1, "hooks": {"preToolUse": []}})
    report = doctor("copilot", isolated)
    assert not report.check("hook wired").ok


def test_doctor_detects_a_missing_program(isolated: Path) -> None:
    apply(copilot.plan_install(ours(isolated), "/nonexistent/ringfence hook copilot"))
    report = doctor("copilot", isolated)
    assert not report.check("command executable").ok
    assert not report.check("dangerous denied").ok


def test_doctor_detects_an_invalid_file(isolated: Path) -> None:
    path = isolated / ".github" / "hooks" / "broken.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1,,}')
    report = doctor("copilot", isolated)
    assert not report.check("settings file").ok and "invalid JSON" in report.check("settings file").detail
