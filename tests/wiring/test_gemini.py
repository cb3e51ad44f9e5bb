"""Wiring ringfence into Gemini CLI's settings.json: plans, round trips, the CLI and the doctor."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ringfence.wiring import gemini
from ringfence.wiring.base import wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import SettingsFileError, apply
from tests.wiring.helpers import assert_ok, doctor, init, uninstall, write

COMMAND = "/opt/ringfence/bin/ringfence hook gemini"
OURS = {"name": "ringfence", "type": "command", "command": COMMAND, "timeout": gemini.DEFAULT_TIMEOUT_MS}

# A settings file as Gemini CLI users have them: other settings, other hooks, hook switches.
RICH: dict[str, Any] = {
    "general": {"vimMode": True, "preferredEditor": "code"},
    "model": {"name": "gemini-2.5-pro"},
    "security": {"folderTrust": {"enabled": True}},
    "mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}},
    "hooksConfig": {"enabled": True, "notifications": True},
    "hooks": {
        "BeforeTool": [
            {
                "matcher": "write_file|replace",
                "hooks": [{"name": "secret-scan", "type": "command", "command": "./scan.sh", "timeout": 5000}],
            }
        ],
        "AfterTool": [{"matcher": "write_file", "hooks": [{"type": "command", "command": "prettier --write"}]}],
        "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "git log -5"}]}],
    },
    "ui": {"theme": "GitHub", "footer": {"hideCWD": False}},
}


def settings(project: Path) -> Path:
    return project / ".gemini" / "settings.json"


def test_paths(tmp_path: Path) -> None:
    assert gemini.settings_path("project", tmp_path) == tmp_path / ".gemini" / "settings.json"
    assert gemini.settings_path("user", home=tmp_path) == tmp_path / ".gemini" / "settings.json"
    assert wiring_for("gemini").read_paths(["project", "user"], tmp_path / "p", tmp_path / "h") == [
        tmp_path / "p" / ".gemini" / "settings.json",
        tmp_path / "h" / ".gemini" / "settings.json",
    ]


def test_matcher_semantics() -> None:
    assert all(gemini.coverage(gemini.MATCHER).values())
    for everything in (None, "", "*", "  "):
        assert all(gemini.coverage(everything).values())
    assert gemini.coverage("run_shell_command") == {
        "run_shell_command": True,
        "write_file": False,
        "replace": False,
        "read_file": False,
        "read_many_files": False,
        "mcp": False,
    }
    assert gemini.matcher_covers("read_.*", "read_many_files")  # searched, like RegExp.test
    assert gemini.matcher_covers(gemini.MATCHER, "github__create_issue")  # the older MCP spelling
    assert not gemini.matcher_covers(gemini.MATCHER, "web_fetch")
    assert gemini.matcher_covers("(unclosed", "(unclosed") and not gemini.matcher_covers("(unclosed", "x")
    assert not gemini.matcher_covers(7, "run_shell_command")


def test_install_on_rich_settings_and_round_trip(isolated: Path) -> None:
    path = settings(isolated)
    text = write(path, RICH)
    plan = gemini.plan_install(path, COMMAND)
    assert plan.changed and plan.changes == (f"add a BeforeTool hook for {gemini.MATCHER!r}: {COMMAND}",)
    apply(plan)
    doc = json.loads(path.read_text())
    assert list(doc) == list(RICH)  # key order kept
    assert doc["hooks"]["BeforeTool"] == [*RICH["hooks"]["BeforeTool"], {"matcher": gemini.MATCHER, "hooks": [OURS]}]
    assert {k: v for k, v in doc.items() if k != "hooks"} == {k: v for k, v in RICH.items() if k != "hooks"}
    again = gemini.plan_install(path, COMMAND)
    assert not again.changed and "already wired" in again.notes[-1]
    apply(gemini.plan_uninstall(path))
    assert path.read_text() == text  # byte for byte


@pytest.mark.parametrize("indent", [2, 4, "\t"])
def test_round_trip_keeps_the_style(isolated: Path, indent: int | str) -> None:
    path = settings(isolated)
    path.parent.mkdir(parents=True)
    text = json.dumps({"model": {"name": "x"}, "hooks": {"AfterAgent": []}}, indent=indent)  # no final newline
    path.write_text(text)
    apply(gemini.plan_install(path, COMMAND))
    apply(gemini.plan_uninstall(path))
    assert path.read_text() == text


def test_install_creates_the_file_and_uninstall_empties_it(isolated: Path) -> None:
    path = settings(isolated)
    plan = gemini.plan_install(path, COMMAND)
    assert plan.creates
    apply(plan)
    assert json.loads(path.read_text()) == {"hooks": {"BeforeTool": [{"matcher": gemini.MATCHER, "hooks": [OURS]}]}}
    apply(gemini.plan_uninstall(path))
    assert json.loads(path.read_text()) == {}


def test_install_updates_in_place_and_collapses_duplicates(isolated: Path) -> None:
    path = settings(isolated)
    write(
        path,
        {
            "hooks": {
                "BeforeTool": [
                    {
                        "matcher": "run_shell_command",
                        "hooks": [{"type": "command", "command": "old/ringfence hook gemini", "timeout": 9000}],
                    },
                    {
                        "matcher": "write_file",
                        "hooks": [
                            {"type": "command", "command": "keep-me"},
                            {"type": "command", "command": "x/ringfence hook gemini"},
                        ],
                    },
                ]
            }
        },
    )
    plan = gemini.plan_install(path, COMMAND)
    assert any("update the hook command" in c for c in plan.changes)
    assert any("duplicate" in c for c in plan.changes)
    apply(plan)
    assert json.loads(path.read_text())["hooks"]["BeforeTool"] == [
        {
            "matcher": gemini.MATCHER,
            "hooks": [{"type": "command", "command": COMMAND, "timeout": 9000, "name": "ringfence"}],
        },
        {"matcher": "write_file", "hooks": [{"type": "command", "command": "keep-me"}]},
    ]
    assert [h.command for h in gemini.read_hooks(path)] == [COMMAND]


def test_a_shared_matcher_is_left_alone_with_a_note(isolated: Path) -> None:
    path = settings(isolated)
    write(
        path,
        {
            "hooks": {
                "BeforeTool": [
                    {"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "audit"}, OURS]}
                ]
            }
        },
    )
    plan = gemini.plan_install(path, COMMAND)
    assert not plan.changed
    assert any("does not cover write_file" in n for n in plan.notes)


def test_disabled_hooks_are_reported(isolated: Path) -> None:
    path = settings(isolated)
    write(path, {"hooks": {"disabled": ["ringfence"]}})
    plan = gemini.plan_install(path, COMMAND)
    assert any("will not run: listed in hooks.disabled" in n for n in plan.notes)
    apply(plan)
    [found] = wiring_for("gemini").find(path)
    assert "does not run" in found.where and not any(found.covers.values())
    write(
        path,
        {"hooksConfig": {"enabled": False}, "hooks": {"BeforeTool": [{"matcher": gemini.MATCHER, "hooks": [OURS]}]}},
    )
    [found] = wiring_for("gemini").find(path)
    assert "hooksConfig.enabled is false" in found.where


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ('{"hooks": []}', "hooks is a JSON array"),
        ('{"hooks": {"BeforeTool": {}}}', "hooks.BeforeTool is a JSON object"),
        ('{"hooks": {"BeforeTool": ["x"]}}', "hooks.BeforeTool[0] is a JSON string"),
        ('{"hooks": {"BeforeTool": [{"matcher": "x"}]}}', "hooks.BeforeTool[0].hooks is a JSON null"),
        ('{"model": 1,}', "invalid JSON"),
    ],
)
def test_wrong_shapes_change_nothing(isolated: Path, text: str, pointer: str) -> None:
    path = settings(isolated)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    for plan in (lambda: gemini.plan_install(path, COMMAND), lambda: gemini.plan_uninstall(path)):
        with pytest.raises(SettingsFileError, match=pointer.replace("[", r"\[").replace("]", r"\]")):
            plan()
    assert path.read_text() == text


def test_read_decision() -> None:
    read = gemini.read_decision
    assert read('{"decision": "deny", "reason": "no"}') == ("deny", "deny: no")
    assert read('{"decision": "block"}')[0] == "deny"
    assert read('{"decision": "allow", "reason": "ok"}')[0] == "allow"
    assert read('{"decision": "ask"}')[0] == "allow"  # Gemini CLI does not block on ask
    assert read("")[0] is None and read("Denied!")[0] is None and read("[1]")[0] is None
    assert "lets the tool run" in read("Denied!")[1]


# --- the CLI and the doctor, end to end -------------------------------------------------------


def test_cli_dry_run_writes_nothing(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init("gemini", isolated, "--dry-run") == 0
    assert not (isolated / ".gemini").exists()
    assert "hook gemini" in capsys.readouterr().out
    path = settings(isolated)
    text = write(path, RICH)
    assert init("gemini", isolated, "--dry-run") == 0
    assert path.read_text() == text and sorted(os.listdir(path.parent)) == ["settings.json"]


def test_cli_round_trip_and_doctor(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = settings(isolated)
    text = write(path, RICH)
    assert init("gemini", isolated) == 0
    assert [h.command for h in gemini.read_hooks(path)] == [hook_command("gemini")]
    assert init("gemini", isolated) == 0
    assert "already wired" in capsys.readouterr().out
    report = doctor("gemini", isolated)
    assert_ok(report)
    assert report.title == "Gemini CLI" and "deny" in report.check("dangerous denied").detail
    assert uninstall("gemini", isolated) == 0
    assert path.read_text() == text
    assert len(list(path.parent.glob("settings.json.ringfence-backup-*"))) == 2


def test_cli_user_scope(isolated: Path) -> None:
    assert init("gemini", isolated, "--scope", "user") == 0
    user = isolated.parent / "home" / ".gemini" / "settings.json"
    assert gemini.read_hooks(user) and not (isolated / ".gemini").exists()
    report = doctor("gemini", isolated, "user")
    assert_ok(report)


def test_doctor_detects_missing_wiring(isolated: Path) -> None:
    report = doctor("gemini", isolated)
    assert not report.check("settings file").ok and not report.check("hook wired").ok
    write(settings(isolated), RICH)  # a settings file without ringfence
    report = doctor("gemini", isolated)
    assert report.check("settings file").ok and not report.check("hook wired").ok


def test_doctor_detects_a_narrowed_matcher(isolated: Path) -> None:
    path = settings(isolated)
    write(
        path,
        {
            "hooks": {
                "BeforeTool": [{"matcher": "run_shell_command", "hooks": [{**OURS, "command": hook_command("gemini")}]}]
            }
        },
    )
    report = doctor("gemini", isolated)
    covered = report.check("tools covered")
    assert not covered.ok and "write_file ✗" in covered.detail and "mcp ✗" in covered.detail
    assert report.check("dangerous denied").ok and report.check("safe allowed").ok


def test_doctor_detects_a_missing_program(isolated: Path) -> None:
    apply(gemini.plan_install(settings(isolated), "/nonexistent/ringfence hook gemini"))
    report = doctor("gemini", isolated)
    assert not report.check("command executable").ok
    assert not report.check("dangerous denied").ok


def test_doctor_detects_a_hook_that_prints_text(isolated: Path) -> None:
    apply(gemini.plan_install(settings(isolated), f"echo checking; {hook_command('gemini')}"))
    report = doctor("gemini", isolated)
    danger = report.check("dangerous denied")
    assert not danger.ok and "not JSON" in danger.detail


def test_doctor_detects_an_invalid_file(isolated: Path) -> None:
    path = settings(isolated)
    path.parent.mkdir()
    path.write_text('{"hooks": {"BeforeTool": [')
    report = doctor("gemini", isolated)
    assert not report.check("settings file").ok and "invalid JSON" in report.check("settings file").detail


def test_doctor_detects_a_disabled_hook(isolated: Path) -> None:
    path = settings(isolated)
    apply(gemini.plan_install(path, hook_command("gemini")))
    doc = json.loads(path.read_text())
    doc["hooksConfig"] = {"disabled": ["ringfence"]}
    write(path, doc)
    report = doctor("gemini", isolated)
    assert not report.check("tools covered").ok
    assert "does not run" in report.check("hook wired").detail
