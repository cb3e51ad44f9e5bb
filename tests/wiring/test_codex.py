"""Wiring ringfence into Codex CLI's hooks.json: plans, round trips, the CLI and the doctor."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ringfence.wiring import codex
from ringfence.wiring.base import WIRINGS, wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import SettingsFileError, apply
from tests.wiring.helpers import assert_ok, doctor, init, uninstall, write

COMMAND = "/opt/ringfence/bin/ringfence hook codex"

# A hooks.json as Codex users have them: a description, other events and other PreToolUse hooks.
RICH: dict[str, Any] = {
    "description": "team hooks",
    "hooks": {
        "SessionStart": [
            {"matcher": "startup|resume", "hooks": [{"type": "command", "command": "python3 ~/.codex/hooks/ctx.py"}]}
        ],
        "PreToolUse": [
            {
                "matcher": "^Bash$",
                "hooks": [
                    {
                        "type": "command",
                        "command": "/usr/bin/python3 ~/.codex/hooks/pre_bash.py",
                        "statusMessage": "Checking Bash command",
                        "timeout": 10,
                    }
                ],
            }
        ],
        "PostToolUse": [{"matcher": "apply_patch", "hooks": [{"type": "command", "command": "cargo fmt"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "./stop.sh", "timeout": 30}]}],
    },
}


def hooks_json(project: Path) -> Path:
    return project / ".codex" / "hooks.json"


def test_registered_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_HOME", raising=False)
    assert WIRINGS["codex"] == "codex" and wiring_for("codex") is codex.WIRING
    assert codex.settings_path("project", tmp_path) == tmp_path / ".codex" / "hooks.json"
    assert codex.settings_path("user", home=tmp_path) == tmp_path / ".codex" / "hooks.json"
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "ch"))
    assert codex.settings_path("user") == tmp_path / "ch" / "hooks.json"
    paths = codex.WIRING.read_paths(["project", "user"], tmp_path / "p", tmp_path / "h")
    assert paths == [
        tmp_path / "p" / ".codex" / "hooks.json",
        tmp_path / "p" / ".codex" / "config.toml",
        tmp_path / "h" / ".codex" / "hooks.json",
        tmp_path / "h" / ".codex" / "config.toml",
    ]


def test_coverage_follows_codex_matchers() -> None:
    assert codex.coverage(codex.MATCHER) == {"Bash": True, "apply_patch": True, "mcp": True}
    assert codex.coverage("*") == {"Bash": True, "apply_patch": True, "mcp": True}
    assert codex.coverage("Bash|Edit") == {"Bash": True, "apply_patch": True, "mcp": False}  # Edit: an alias
    assert codex.coverage("^Bash$") == {"Bash": True, "apply_patch": False, "mcp": False}


@pytest.mark.parametrize("indent", [2, 4, "\t"])
def test_round_trip_on_a_rich_file_is_byte_identical(isolated: Path, indent: int | str) -> None:
    path = hooks_json(isolated)
    text = write(path, RICH, indent)
    plan = codex.plan_install(path, COMMAND)
    assert plan.changes and any("trust" in n for n in plan.notes)
    apply(plan)
    doc = json.loads(path.read_text())
    assert doc["description"] == "team hooks" and list(doc["hooks"]) == list(RICH["hooks"])
    pre = doc["hooks"]["PreToolUse"]
    assert pre[0] == RICH["hooks"]["PreToolUse"][0]
    assert pre[1] == {
        "matcher": codex.MATCHER,
        "hooks": [{"type": "command", "command": COMMAND, "timeout": codex.DEFAULT_TIMEOUT}],
    }
    assert not codex.plan_install(path, COMMAND).changes  # idempotent
    apply(codex.plan_uninstall(path))
    assert path.read_text() == text


def test_install_creates_the_file_and_uninstall_empties_it(isolated: Path) -> None:
    path = hooks_json(isolated)
    apply(codex.plan_install(path, COMMAND))
    assert json.loads(path.read_text()) == {
        "hooks": {
            "PreToolUse": [
                {"matcher": codex.MATCHER, "hooks": [{"type": "command", "command": COMMAND, "timeout": 30}]}
            ]
        }
    }
    apply(codex.plan_uninstall(path))
    assert json.loads(path.read_text()) == {}


def test_install_updates_in_place_and_collapses_duplicates(isolated: Path) -> None:
    path = hooks_json(isolated)
    old = {"type": "command", "command": "/old/ringfence hook codex", "timeout": 5}
    write(path, {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [old]}, {"hooks": [dict(old)]}]}})
    plan = codex.plan_install(path, COMMAND)
    assert any("duplicate" in c for c in plan.changes)
    apply(plan)
    pre = json.loads(path.read_text())["hooks"]["PreToolUse"]
    assert pre == [{"matcher": codex.MATCHER, "hooks": [{**old, "command": COMMAND}]}]  # timeout kept


def test_a_shared_matcher_is_left_alone_with_a_note(isolated: Path) -> None:
    path = hooks_json(isolated)
    other = {"type": "command", "command": "./audit.sh"}
    write(
        path,
        {"hooks": {"PreToolUse": [{"matcher": "^Bash$", "hooks": [other, {"type": "command", "command": COMMAND}]}]}},
    )
    plan = codex.plan_install(path, COMMAND)
    assert any("apply_patch, mcp" in n for n in plan.notes)
    apply(plan)
    assert json.loads(path.read_text())["hooks"]["PreToolUse"][0]["matcher"] == "^Bash$"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"hooks": [], "x": 1}, "accepts only 'hooks' and 'description'"),
        ({"$schema": "https://example.com/s.json", "hooks": {}}, "'$schema'"),
        ({"hooks": []}, "hooks is a JSON array"),
        ({"hooks": {"PreToolUse": {}}}, "an array of matcher groups"),
        ({"hooks": {"PreToolUse": ["x"]}}, "a matcher group"),
        ({"hooks": {"PreToolUse": [{"hooks": {}}]}}, "an array of hooks"),
    ],
)
def test_files_codex_would_refuse_change_nothing(isolated: Path, doc: object, message: str) -> None:
    path = hooks_json(isolated)
    text = write(path, doc)
    for plan in (codex.plan_install, codex.plan_uninstall):
        with pytest.raises(SettingsFileError, match=message.replace("$", r"\$")):
            plan(path, COMMAND) if plan is codex.plan_install else plan(path)  # type: ignore[call-arg]
    assert path.read_text() == text


def test_hooks_in_config_toml_are_found(isolated: Path) -> None:
    toml = isolated / ".codex" / "config.toml"
    toml.parent.mkdir()
    toml.write_text(
        'model = "gpt-5-codex"\n\n[[hooks.PreToolUse]]\nmatcher = "^Bash$"\n\n'
        f'[[hooks.PreToolUse.hooks]]\ntype = "command"\ncommand = "{COMMAND}"\n'
    )
    found = codex.WIRING.find(toml)
    assert [f.command for f in found] == [COMMAND]
    assert found[0].covers == {"Bash": True, "apply_patch": False, "mcp": False}
    toml.write_text("[hooks\n")
    with pytest.raises(SettingsFileError, match="not valid TOML"):
        codex.WIRING.find(toml)


def test_read_decision_is_what_codex_accepts() -> None:
    deny = json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "no",
            }
        }
    )
    assert codex.read_decision(deny)[0] == "deny"
    assert codex.read_decision("{}")[0] == "allow"
    assert codex.read_decision("")[0] == "allow"
    assert codex.read_decision("checking...\n")[0] == "allow"  # plain text: ignored, the tool runs
    for rejected in (
        deny.replace('"deny"', '"allow"'),
        deny.replace('"deny"', '"ask"'),
        deny.replace('"no"', '"  "'),
        '{"decision": ',
        "[1]",
    ):
        assert codex.read_decision(rejected)[0] is None, rejected


def test_cli_dry_run_writes_nothing(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init("codex", isolated, "--dry-run") == 0
    assert not (isolated / ".codex").exists()
    assert "hook codex" in capsys.readouterr().out
    path = hooks_json(isolated)
    text = write(path, RICH)
    assert init("codex", isolated, "--dry-run") == 0
    assert path.read_text() == text and sorted(os.listdir(path.parent)) == ["hooks.json"]


def test_cli_round_trip_and_doctor(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = hooks_json(isolated)
    text = write(path, RICH)
    assert init("codex", isolated) == 0
    assert [h.command for h in codex.read_hooks(path)] == [hook_command("codex")]
    assert init("codex", isolated) == 0
    assert "already wired" in capsys.readouterr().out
    report = doctor("codex", isolated)
    assert_ok(report)
    assert report.title == "Codex CLI" and "deny" in report.check("dangerous denied").detail
    assert uninstall("codex", isolated) == 0
    assert path.read_text() == text
    assert len(list(path.parent.glob("hooks.json.ringfence-backup-*"))) == 2


def test_cli_user_scope(isolated: Path) -> None:
    assert init("codex", isolated, "--scope", "user") == 0
    user = isolated.parent / "home" / ".codex" / "hooks.json"
    assert codex.read_hooks(user) and not (isolated / ".codex").exists()
    report = doctor("codex", isolated, "user")
    assert_ok(report)


def test_doctor_detects_missing_wiring(isolated: Path) -> None:
    report = doctor("codex", isolated)
    assert not report.check("settings file").ok and not report.check("hook wired").ok
    write(hooks_json(isolated), RICH)  # a hooks file without ringfence
    report = doctor("codex", isolated)
    assert report.check("settings file").ok and not report.check("hook wired").ok


def test_doctor_detects_a_removed_hook(isolated: Path) -> None:
    path = hooks_json(isolated)
    apply(codex.plan_install(path, hook_command("codex")))
    assert doctor("codex", isolated).ok
    apply(codex.plan_uninstall(path))
    assert not doctor("codex", isolated).check("hook wired").ok


def test_doctor_detects_a_narrowed_matcher(isolated: Path) -> None:
    write(
        hooks_json(isolated),
        {
            "hooks": {
                "PreToolUse": [{"matcher": "^Bash$", "hooks": [{"type": "command", "command": hook_command("codex")}]}]
            }
        },
    )
    report = doctor("codex", isolated)
    covered = report.check("tools covered")
    assert not covered.ok and "apply_patch ✗" in covered.detail and "mcp ✗" in covered.detail
    assert report.check("dangerous denied").ok and report.check("safe allowed").ok


def test_doctor_detects_a_missing_program(isolated: Path) -> None:
    apply(codex.plan_install(hooks_json(isolated), "/nonexistent/ringfence hook codex"))
    report = doctor("codex", isolated)
    assert not report.check("command executable").ok
    assert not report.check("dangerous denied").ok


def test_doctor_detects_a_hook_that_prints_text_first(isolated: Path) -> None:
    apply(codex.plan_install(hooks_json(isolated), f"echo checking; {hook_command('codex')}"))
    danger = doctor("codex", isolated).check("dangerous denied")
    assert not danger.ok and "allow" in danger.detail


def test_doctor_detects_an_invalid_file(isolated: Path) -> None:
    path = hooks_json(isolated)
    path.parent.mkdir()
    path.write_text('{"hooks": {"PreToolUse": [')
    report = doctor("codex", isolated)
    assert not report.check("settings file").ok and "invalid JSON" in report.check("settings file").detail


def test_doctor_detects_a_file_codex_ignores(isolated: Path) -> None:
    path = hooks_json(isolated)
    apply(codex.plan_install(path, hook_command("codex")))
    doc = json.loads(path.read_text())
    write(path, {"$schema": "x", **doc})
    report = doctor("codex", isolated)
    assert not report.check("settings file").ok and "accepts only" in report.check("settings file").detail
