"""Wiring ringfence into Copilot CLI's hook files: plans, round trips, the CLI and the doctor."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ringfence.cli import main
from ringfence.commands.doctor import diagnose
from ringfence.wiring import copilot
from ringfence.wiring.base import wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import SettingsFileError, apply

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


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith("RINGFENCE_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("RINGFENCE_DAEMON", "0")
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    yield project


def write(path: Path, doc: object, indent: int = 2) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=indent) + "\n"
    path.write_text(text)
    return text


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
    assert main(["init", "--agent", "copilot", "--project-dir", str(isolated), "--dry-run"]) == 0
    assert not (isolated / ".github").exists()
    assert "hook copilot" in capsys.readouterr().out
    assert main(["init", "--agent", "copilot", "--project-dir", str(isolated)]) == 0
    text = ours(isolated).read_text()
    assert main(["uninstall", "--agent", "copilot", "--project-dir", str(isolated), "--dry-run"]) == 0
    assert ours(isolated).read_text() == text


def test_cli_round_trip_and_doctor(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    team = write(isolated / ".github" / "hooks" / "team.json", RICH)
    assert main(["init", "--agent", "copilot", "--project-dir", str(isolated)]) == 0
    assert [h.command for h in copilot.read_hooks(ours(isolated))] == [hook_command("copilot")]
    assert main(["init", "--agent", "copilot", "--project-dir", str(isolated)]) == 0
    assert "already wired" in capsys.readouterr().out
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert report.ok, [(c.name, c.detail) for c in report.failures]
    assert report.title == "Copilot CLI"
    assert main(["uninstall", "--agent", "copilot", "--project-dir", str(isolated)]) == 0
    assert not ours(isolated).exists()
    assert (isolated / ".github" / "hooks" / "team.json").read_text() == team
    assert sorted(os.listdir(isolated / ".github" / "hooks")) == ["team.json"]


def test_cli_user_scope(isolated: Path) -> None:
    assert main(["init", "--agent", "copilot", "--scope", "user", "--project-dir", str(isolated)]) == 0
    user = isolated.parent / "home" / ".copilot" / "hooks" / "ringfence.json"
    assert copilot.read_hooks(user) and not (isolated / ".github").exists()
    report = diagnose(["user"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert report.ok, [(c.name, c.detail) for c in report.failures]


def test_doctor_detects_missing_wiring(isolated: Path) -> None:
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert not report.check("settings file").ok and not report.check("hook wired").ok
    write(isolated / ".github" / "hooks" / "team.json", RICH)
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert report.check("settings file").ok and not report.check("hook wired").ok


def test_doctor_finds_a_hook_in_another_file_and_its_matcher(isolated: Path) -> None:
    hook = {"type": "command", "bash": hook_command("copilot"), "matcher": "bash"}
    write(isolated / ".github" / "hooks" / "guard.json", {"version": 1, "hooks": {"preToolUse": [hook]}})
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert report.check("hook wired").ok and "guard.json" in report.check("hook wired").detail
    covered = report.check("tools covered")
    assert not covered.ok and "edit ✗" in covered.detail
    assert report.check("dangerous denied").ok and report.check("safe allowed").ok


def test_doctor_detects_a_removed_hook_and_a_wrong_version(isolated: Path) -> None:
    path = ours(isolated)
    apply(copilot.plan_install(path, hook_command("copilot")))
    doc = json.loads(path.read_text())
    write(path, {**doc, "version": 2})
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert not report.check("tools covered").ok and "does not read this file" in report.check("hook wired").detail
    write(path, {"version": 1, "hooks": {"preToolUse": []}})
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert not report.check("hook wired").ok


def test_doctor_detects_a_missing_program(isolated: Path) -> None:
    apply(copilot.plan_install(ours(isolated), "/nonexistent/ringfence hook copilot"))
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert not report.check("command executable").ok
    assert not report.check("dangerous denied").ok


def test_doctor_detects_an_invalid_file(isolated: Path) -> None:
    path = isolated / ".github" / "hooks" / "broken.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1,,}')
    report = diagnose(["project"], isolated, home=isolated.parent / "home", runtime="copilot", remote=False)
    assert not report.check("settings file").ok and "invalid JSON" in report.check("settings file").detail
