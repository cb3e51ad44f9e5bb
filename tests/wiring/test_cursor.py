"""Wiring ringfence into Cursor's hooks.json: plans, round trips, the CLI and the doctor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringfence.wiring import cursor
from ringfence.wiring.base import wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import SettingsFileError, apply
from tests.wiring.helpers import assert_ok, doctor, init, uninstall, write

COMMAND = "/opt/ringfence/bin/ringfence hook cursor"

RICH = {
    "$schema": "https://unpkg.com/cursor-hooks@latest/schema/hooks.schema.json",
    "version": 1,
    "hooks": {
        "afterFileEdit": [{"command": "./hooks/format.sh"}],
        "beforeShellExecution": [{"command": "./hooks/audit.sh", "timeout": 5}],
        "beforeSubmitPrompt": [{"command": "./hooks/redact.sh", "failClosed": False}],
        "stop": [{"command": "./hooks/notify.sh", "loop_limit": 3}],
    },
    "x-team": {"owner": "platform"},
}


def test_paths(tmp_path: Path) -> None:
    assert cursor.settings_path("project", tmp_path) == tmp_path / ".cursor" / "hooks.json"
    assert cursor.settings_path("user", home=tmp_path) == tmp_path / ".cursor" / "hooks.json"
    wiring = wiring_for("cursor")
    assert wiring.read_paths(["project", "user"], tmp_path / "p", tmp_path / "h") == [
        tmp_path / "p" / ".cursor" / "hooks.json",
        tmp_path / "h" / ".cursor" / "hooks.json",
    ]


def test_install_wires_every_pre_action_event_fail_closed(tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "hooks.json"
    plan = cursor.plan_install(path, COMMAND)
    assert plan.creates and path.parent.exists() is False
    apply(plan)
    doc = json.loads(path.read_text())
    assert doc["version"] == 1
    for event in cursor.DECIDE_EVENTS:
        [entry] = doc["hooks"][event]
        assert entry["command"] == COMMAND and entry["failClosed"] is True and entry["timeout"] == 30
    assert doc["hooks"]["preToolUse"][0]["matcher"] == cursor.WRITE_MATCHER
    assert "matcher" not in doc["hooks"]["beforeShellExecution"][0]
    for event in cursor.RECORD_EVENTS:
        assert doc["hooks"][event] == [{"command": COMMAND, "timeout": 30}]
    covered = {label for found in wiring_for("cursor").find(path) for label, ok in found.covers.items() if ok}
    assert covered == set(cursor.PROTECTED)


def test_install_keeps_other_hooks_and_appends_after_them(tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    write(path, RICH)
    apply(cursor.plan_install(path, COMMAND))
    doc = json.loads(path.read_text())
    assert list(doc) == list(RICH)
    assert doc["hooks"]["beforeShellExecution"][0] == {"command": "./hooks/audit.sh", "timeout": 5}
    assert doc["hooks"]["beforeShellExecution"][1]["command"] == COMMAND
    assert doc["hooks"]["stop"] == RICH["hooks"]["stop"]  # type: ignore[index]
    assert doc["x-team"] == {"owner": "platform"}


@pytest.mark.parametrize("indent", [2, 4])
def test_round_trip_is_byte_identical(tmp_path: Path, indent: int) -> None:
    path = tmp_path / "hooks.json"
    original = write(path, RICH, indent)
    apply(cursor.plan_install(path, COMMAND))
    assert path.read_text() != original
    plan = cursor.plan_uninstall(path)
    assert len(plan.changes) >= len(cursor.EVENTS)
    apply(plan)
    assert path.read_text() == original


def test_install_is_idempotent_and_repairs_in_place(tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    apply(cursor.plan_install(path, COMMAND))
    again = cursor.plan_install(path, COMMAND)
    assert not again.changed and "already wired" in again.notes[0]
    doc = json.loads(path.read_text())
    doc["hooks"]["beforeReadFile"][0]["failClosed"] = False
    doc["hooks"]["beforeReadFile"][0]["timeout"] = 9
    doc["hooks"]["preToolUse"][0]["matcher"] = "Write"
    doc["hooks"]["beforeMCPExecution"].append({"command": "/old/ringfence hook cursor"})
    write(path, doc)
    plan = cursor.plan_install(path, "/new/ringfence hook cursor")
    apply(plan)
    doc = json.loads(path.read_text())
    assert doc["hooks"]["beforeReadFile"] == [
        {"command": "/new/ringfence hook cursor", "timeout": 9, "failClosed": True}
    ]
    assert doc["hooks"]["preToolUse"][0]["matcher"] == cursor.WRITE_MATCHER
    assert len(doc["hooks"]["beforeMCPExecution"]) == 1
    assert any("duplicate" in change for change in plan.changes)


def test_uninstall_without_ringfence_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    write(path, RICH)
    plan = cursor.plan_uninstall(path)
    assert not plan.changed and "nothing to change" in plan.notes[0]


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"version": 1, "hooks": []}, "hooks"),
        ({"version": 1, "hooks": {"beforeShellExecution": {"command": "x"}}}, "hooks.beforeShellExecution"),
        ({"version": 1, "hooks": {"preToolUse": ["x"]}}, "hooks.preToolUse[0]"),
    ],
)
def test_wrong_shapes_are_refused(tmp_path: Path, doc: object, pointer: str) -> None:
    path = tmp_path / "hooks.json"
    before = write(path, doc)
    with pytest.raises(SettingsFileError, match=pointer.replace("[", r"\[").replace("]", r"\]")):
        cursor.plan_install(path, COMMAND)
    assert path.read_text() == before


def test_read_decision() -> None:
    assert cursor.read_decision('{"permission": "deny", "user_message": "no"}') == ("deny", "deny: no")
    assert cursor.read_decision('{"permission": "ask", "userMessage": "hm"}') == ("ask", "ask: hm")
    assert cursor.read_decision("")[0] is None
    assert cursor.read_decision("hello")[0] is None
    assert cursor.read_decision('{"decision": "deny"}')[0] is None


# --- the CLI and the doctor, with the real `ringfence hook cursor` ----------------------------


def test_cli_dry_run_writes_nothing(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init("cursor", isolated, "--dry-run") == 0
    assert not (isolated / ".cursor").exists()
    out = capsys.readouterr().out
    assert "beforeShellExecution" in out and "dry run" in out


def test_cli_round_trip_and_doctor(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated / ".cursor" / "hooks.json"
    original = write(path, RICH)
    assert init("cursor", isolated) == 0
    assert hook_command("cursor") in path.read_text()
    report = doctor("cursor", isolated)
    assert_ok(report)
    assert report.check("dangerous denied").detail.startswith("shell `rm -rf /` → deny")
    assert set(report.protected) == set(cursor.PROTECTED)
    assert uninstall("cursor", isolated) == 0
    assert path.read_text() == original
    capsys.readouterr()


def test_cli_user_scope(isolated: Path) -> None:
    assert init("cursor", isolated, "--scope", "user") == 0
    user = isolated.parent / "home" / ".cursor" / "hooks.json"
    assert user.exists() and not (isolated / ".cursor").exists()
    report = doctor("cursor", isolated, "user")
    assert_ok(report)


def test_doctor_detects_missing_wiring(isolated: Path) -> None:
    report = doctor("cursor", isolated)
    assert not report.ok
    assert not report.check("settings file").ok and not report.check("hook wired").ok


def test_doctor_detects_a_removed_event(isolated: Path) -> None:
    path = isolated / ".cursor" / "hooks.json"
    apply(cursor.plan_install(path, hook_command("cursor")))
    doc = json.loads(path.read_text())
    del doc["hooks"]["beforeReadFile"]
    write(path, doc)
    report = doctor("cursor", isolated)
    covered = report.check("tools covered")
    assert not covered.ok and "Read ✗" in covered.detail
    assert report.check("dangerous denied").ok


def test_doctor_detects_a_missing_program(isolated: Path) -> None:
    path = isolated / ".cursor" / "hooks.json"
    apply(cursor.plan_install(path, "/nonexistent/ringfence hook cursor"))
    report = doctor("cursor", isolated)
    assert not report.check("command executable").ok
    assert not report.check("dangerous denied").ok


def test_doctor_detects_an_invalid_file(isolated: Path) -> None:
    path = isolated / ".cursor" / "hooks.json"
    path.parent.mkdir()
    path.write_text('{"version": 1, "hooks": {')
    report = doctor("cursor", isolated)
    assert not report.check("settings file").ok and "invalid JSON" in report.check("settings file").detail


def test_doctor_flags_a_hook_without_fail_closed(isolated: Path) -> None:
    path = isolated / ".cursor" / "hooks.json"
    apply(cursor.plan_install(path, hook_command("cursor")))
    doc = json.loads(path.read_text())
    del doc["hooks"]["beforeShellExecution"][0]["failClosed"]
    write(path, doc)
    [found] = [f for f in wiring_for("cursor").find(path) if f.where.startswith("beforeShellExecution")]
    assert "no failClosed" in found.where
