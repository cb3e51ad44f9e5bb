"""Wiring the hook into Claude Code settings: init / uninstall plans, round trips, the CLI."""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ringfence.commands import wiring as wiring_cmd
from ringfence.wiring import command as command_mod
from ringfence.wiring.claude_code import (
    DEFAULT_TIMEOUT,
    MATCHER,
    coverage,
    find_hooks,
    is_ringfence_command,
    matcher_covers,
    plan_install,
    plan_uninstall,
    read_hooks,
    settings_path,
)
from ringfence.wiring.jsonfile import Plan, SettingsFileError, apply
from tests.wiring.helpers import write

CMD = "/opt/rf/.venv/bin/ringfence hook claude-code"
CMD2 = "/home/me/new/.venv/bin/ringfence hook claude-code"
OURS = {"type": "command", "command": CMD, "timeout": DEFAULT_TIMEOUT}
OUR_GROUP = {"matcher": MATCHER, "hooks": [OURS]}

# Settings files that already hold other settings and hooks.
RICH_SETTINGS: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "permissions": {"allow": ["Bash(npm run test:*)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "bar"},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/audit-bash.sh"}]},
            {"matcher": "Write", "hooks": [{"type": "command", "command": "lint-guard", "timeout": 5}]},
        ],
        "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "prettier --write"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
    "model": "claude-sonnet",
    "x-unknown": {"nested": [1, 2.5, None, True, "ü"]},
}

FIXTURES: dict[str, dict[str, Any]] = {
    "empty": {},
    "settings_only": {"model": "opus", "permissions": {"allow": []}},
    "post_tool_use_only": {
        "hooks": {"PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "fmt"}]}]}
    },
    "other_pre_tool_use": {
        "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "x"}]}]}
    },
    "rich": RICH_SETTINGS,
}


def ordered(value: Any) -> str:
    """Key order matters: compare documents as order-preserving JSON text."""
    return json.dumps(value)


def settings(tmp_path: Path) -> Path:
    return tmp_path / ".claude" / "settings.json"


def install(path: Path, command: str = CMD) -> None:
    apply(plan_install(path, command))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".ringfence-backup-*"))


# --- identification and coverage -------------------------------------------------------


def test_is_ringfence_command() -> None:
    assert is_ringfence_command(CMD)
    assert is_ringfence_command("/usr/bin/python3 -m ringfence hook claude-code")
    assert is_ringfence_command("'/path with space/ringfence' hook claude-code")
    assert not is_ringfence_command("ringfence hook codex")
    assert not is_ringfence_command("other-tool hook claude-code")
    assert not is_ringfence_command(None)
    assert not is_ringfence_command(["ringfence", "hook", "claude-code"])


def test_matcher_semantics() -> None:
    assert all(coverage(MATCHER).values())
    for everything in (None, "", "*"):
        assert all(coverage(everything).values())
    assert coverage("Bash") == {
        "Bash": True,
        "Write": False,
        "Edit": False,
        "MultiEdit": False,
        "Read": False,
        "NotebookEdit": False,
        "mcp": False,
    }
    assert matcher_covers("Edit|Write", "Write")
    assert not matcher_covers("Edit|Write", "MultiEdit")  # plain names are exact
    assert matcher_covers("Notebook.*", "NotebookEdit")
    assert matcher_covers("mcp__.*", "mcp__github__create_issue")
    assert not matcher_covers("mcp__memory__.*", "mcp__any_server__any_tool")
    assert not matcher_covers("(unclosed", "Bash")
    assert not matcher_covers(42, "Bash")


def test_settings_paths(tmp_path: Path) -> None:
    assert settings_path("project", tmp_path) == tmp_path / ".claude" / "settings.json"
    assert settings_path("user", home=tmp_path) == tmp_path / ".claude" / "settings.json"


# --- install -------------------------------------------------------------------------------


def test_install_golden_on_rich_settings(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(path, RICH_SETTINGS)
    plan = plan_install(path, CMD)
    assert plan.changed and len(plan.changes) == 2  # PreToolUse decides; PostToolUse records prompt answers
    expected = copy.deepcopy(RICH_SETTINGS)
    expected["hooks"]["PreToolUse"].append(OUR_GROUP)
    expected["hooks"].setdefault("PostToolUse", []).append(OUR_GROUP)
    assert ordered(json.loads(plan.after or "")) == ordered(expected)
    apply(plan)
    assert ordered(load(path)) == ordered(expected)


def test_install_creates_claude_dir_and_file(tmp_path: Path) -> None:
    path = settings(tmp_path)
    plan = plan_install(path, CMD)
    assert plan.creates
    assert apply(plan) is None
    assert load(path) == {"hooks": {"PreToolUse": [OUR_GROUP], "PostToolUse": [OUR_GROUP]}}
    assert path.read_text().startswith('{\n  "hooks"')


def test_install_into_existing_empty_hooks_and_pre_tool_use(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(path, {"hooks": {"PreToolUse": []}, "model": "x"})
    install(path)
    assert ordered(load(path)) == ordered(
        {"hooks": {"PreToolUse": [OUR_GROUP], "PostToolUse": [OUR_GROUP]}, "model": "x"}
    )


def test_install_is_idempotent(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(path, RICH_SETTINGS)
    install(path)
    text = path.read_text()
    n_backups = len(backups(path))
    again = plan_install(path, CMD)
    assert not again.changed
    assert again.changes == ()
    assert apply(again) is None
    assert path.read_text() == text
    assert len(backups(path)) == n_backups


def test_install_updates_command_in_place(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(path, RICH_SETTINGS)
    install(path, CMD)
    install(path, CMD2)  # the venv moved
    data = load(path)
    groups = data["hooks"]["PreToolUse"]
    assert [h["command"] for g in groups for h in g["hooks"] if is_ringfence_command(h["command"])] == [CMD2]
    expected = copy.deepcopy(RICH_SETTINGS)
    ours = {"matcher": MATCHER, "hooks": [{**OURS, "command": CMD2}]}
    expected["hooks"]["PreToolUse"].append(ours)
    expected["hooks"].setdefault("PostToolUse", []).append(ours)
    assert ordered(data) == ordered(expected)


def test_install_updates_in_place_at_original_position_keeping_user_timeout(tmp_path: Path) -> None:
    path = settings(tmp_path)
    original = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [{"type": "command", "command": "old/ringfence hook claude-code", "timeout": 9}],
                },
                {"matcher": "Write", "hooks": [{"type": "command", "command": "other"}]},
            ]
        }
    }
    write(path, original)
    plan = plan_install(path, CMD)
    assert any("matcher" in c for c in plan.changes)
    apply(plan)
    assert load(path)["hooks"]["PreToolUse"] == [
        {"matcher": MATCHER, "hooks": [{"type": "command", "command": CMD, "timeout": 9}]},
        {"matcher": "Write", "hooks": [{"type": "command", "command": "other"}]},
    ]


def test_install_in_shared_group_leaves_matcher_and_neighbours(tmp_path: Path) -> None:
    path = settings(tmp_path)
    shared = {
        "matcher": "Bash",
        "hooks": [
            {"type": "command", "command": "audit"},
            {"type": "command", "command": "old/ringfence hook claude-code"},
        ],
    }
    write(path, {"hooks": {"PreToolUse": [shared]}})
    plan = plan_install(path, CMD)
    assert any("does not cover" in n for n in plan.notes)
    apply(plan)
    assert load(path)["hooks"]["PreToolUse"] == [
        {
            "matcher": "Bash",
            "hooks": [
                {"type": "command", "command": "audit"},
                {"type": "command", "command": CMD, "timeout": DEFAULT_TIMEOUT},
            ],
        }
    ]


def test_install_collapses_duplicates(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(
        path,
        {
            "hooks": {
                "PreToolUse": [
                    OUR_GROUP,
                    {"matcher": "Bash", "hooks": [{"type": "command", "command": "keep-me"}]},
                    {
                        "matcher": "Edit",
                        "hooks": [{"type": "command", "command": "x/ringfence hook claude-code"}],
                    },
                    {
                        "matcher": "Read",
                        "hooks": [
                            {"type": "command", "command": "y/ringfence hook claude-code"},
                            {"type": "command", "command": "keep-me-too"},
                        ],
                    },
                ]
            }
        },
    )
    install(path)
    hooks = read_hooks(path)
    assert [h.command for h in hooks] == [CMD]
    assert load(path)["hooks"]["PreToolUse"] == [
        OUR_GROUP,
        {"matcher": "Bash", "hooks": [{"type": "command", "command": "keep-me"}]},
        {"matcher": "Read", "hooks": [{"type": "command", "command": "keep-me-too"}]},
    ]


def test_install_preserves_four_space_indent(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(path, {"model": "x"}, indent=4)
    install(path)
    assert path.read_text().startswith('{\n    "model": "x",\n    "hooks": {\n        "PreToolUse"')


# --- wrong shapes: precise errors, nothing changed --------------------------------------


@pytest.mark.parametrize(
    ("text", "pointer", "line", "column"),
    [
        ('{\n  "hooks": []\n}\n', "hooks is a JSON array", 2, 12),
        ('{"hooks": "x"}', "hooks is a JSON string", 1, 11),
        ('{\n  "hooks": {\n    "PreToolUse": {"a": 1}\n  }\n}', "hooks.PreToolUse is a JSON object", 3, 19),
        ('{"hooks": {"PreToolUse": [1]}}', "hooks.PreToolUse[0] is a JSON number", 1, 27),
        ('{"hooks": {"PreToolUse": [{"hooks": {}}]}}', "hooks.PreToolUse[0].hooks is a JSON object", 1, 37),
    ],
)
def test_wrong_shapes_are_refused_precisely(tmp_path: Path, text: str, pointer: str, line: int, column: int) -> None:
    path = settings(tmp_path)
    path.parent.mkdir()
    path.write_text(text)
    plans: list[Callable[[], Plan]] = [lambda: plan_install(path, CMD), lambda: plan_uninstall(path)]
    for plan in plans:
        with pytest.raises(SettingsFileError) as info:
            plan()
        assert pointer in str(info.value)
        assert (info.value.line, info.value.column) == (line, column)
    assert path.read_text() == text


# --- uninstall and round trips ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_round_trip_returns_an_equal_document(tmp_path: Path, name: str) -> None:
    path = settings(tmp_path)
    original = FIXTURES[name]
    text = write(path, original)
    install(path)
    assert [h.command for h in read_hooks(path)] == [CMD]
    plan = plan_uninstall(path)
    assert plan.changed
    backup = apply(plan)
    assert backup is not None
    assert ordered(load(path)) == ordered(original)
    assert path.read_text() == text  # same style too
    assert len(backups(path)) == 2


def test_round_trip_from_no_file(tmp_path: Path) -> None:
    path = settings(tmp_path)
    install(path)
    apply(plan_uninstall(path))
    assert load(path) == {}


def test_uninstall_keeps_shared_group(tmp_path: Path) -> None:
    path = settings(tmp_path)
    group = {
        "matcher": "Bash",
        "hooks": [{"type": "command", "command": "audit"}, {"type": "command", "command": CMD}],
    }
    write(path, {"hooks": {"PreToolUse": [group], "Stop": []}})
    apply(plan_uninstall(path))
    assert ordered(load(path)) == ordered(
        {
            "hooks": {
                "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit"}]}],
                "Stop": [],
            }
        }
    )


def test_uninstall_removes_every_ringfence_hook(tmp_path: Path) -> None:
    path = settings(tmp_path)
    write(
        path,
        {
            "hooks": {
                "PreToolUse": [
                    OUR_GROUP,
                    {"matcher": "Bash", "hooks": [{"type": "command", "command": CMD2}]},
                ]
            }
        },
    )
    plan = plan_uninstall(path)
    assert len([c for c in plan.changes if c.startswith("remove the PreToolUse hook")]) == 2
    apply(plan)
    assert load(path) == {}


def test_uninstall_without_ringfence_changes_nothing(tmp_path: Path) -> None:
    path = settings(tmp_path)
    text = write(path, RICH_SETTINGS)
    plan = plan_uninstall(path)
    assert not plan.changed and plan.after == text
    assert plan.notes
    missing = plan_uninstall(tmp_path / "nope" / "settings.json")
    assert not missing.changed and missing.before is None


def test_find_hooks_reports_matcher_and_timeout(tmp_path: Path) -> None:
    data = {"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": CMD, "timeout": 7}]}]}}
    [entry] = find_hooks(data, tmp_path / "s.json")
    assert (entry.group_index, entry.hook_index, entry.matcher, entry.timeout) == (0, 0, None, 7.0)
    assert all(entry.covers.values())


# --- hook_command -------------------------------------------------------------------------


def test_hook_command_prefers_script_next_to_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "venv dir" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "ringfence").write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "executable", str(bindir / "python"))
    cmd = command_mod.hook_command("claude-code")
    assert cmd == f"'{bindir / 'ringfence'}' hook claude-code"
    assert is_ringfence_command(cmd)


def test_hook_command_falls_back_to_path_then_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    monkeypatch.setattr("shutil.which", lambda name: "/usr/local/bin/ringfence")
    assert command_mod.hook_command("claude-code") == "/usr/local/bin/ringfence hook claude-code"
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert command_mod.hook_command("claude-code") == f"{tmp_path / 'python3'} -m ringfence hook claude-code"


def test_hook_command_default_is_this_venv() -> None:
    cmd = command_mod.hook_command("claude-code")
    assert cmd == f"{Path(sys.executable).parent / 'ringfence'} hook claude-code"


# --- the CLI ------------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ringfence")
    wiring_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


def test_cli_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["init", "--agent", "claude-code", "--project-dir", str(tmp_path), "--dry-run"]) == 0
    assert os.listdir(tmp_path) == []  # not even .claude/
    out = capsys.readouterr().out
    assert "--- /dev/null" in out and "+++ " in out and "hook claude-code" in out
    assert "dry run" in out


def test_cli_dry_run_on_existing_file_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = settings(tmp_path)
    text = write(path, RICH_SETTINGS)
    assert cli(["init", "--agent", "claude-code", "--project-dir", str(tmp_path), "--dry-run"]) == 0
    assert path.read_text() == text and backups(path) == []
    out = capsys.readouterr().out
    assert re.search(r'^\+\s+"matcher": "Bash\|Write', out, re.M)
    install(path)
    text = path.read_text()
    n = len(backups(path))
    assert cli(["uninstall", "--agent", "claude-code", "--project-dir", str(tmp_path), "--dry-run"]) == 0
    assert path.read_text() == text and len(backups(path)) == n
    assert re.search(r'^-\s+"command": ".*ringfence hook claude-code"', capsys.readouterr().out, re.M)


def test_cli_init_uninstall_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = settings(tmp_path)
    text = write(path, RICH_SETTINGS)
    assert cli(["init", "--agent", "claude-code", "--project-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "backed up" in out and "ringfence doctor" in out
    [hook] = read_hooks(path)
    assert hook.command == command_mod.hook_command("claude-code")
    [backup] = backups(path)
    assert backup.read_text() == text
    assert cli(["init", "--agent", "claude-code", "--project-dir", str(tmp_path)]) == 0
    assert "already wired" in capsys.readouterr().out
    assert len(backups(path)) == 1
    assert cli(["uninstall", "--agent", "claude-code", "--project-dir", str(tmp_path)]) == 0
    assert path.read_text() == text
    assert len(backups(path)) == 2


def test_cli_user_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "project"
    project.mkdir()
    assert cli(["init", "--agent", "claude-code", "--scope", "user", "--project-dir", str(project)]) == 0
    user_file = tmp_path / "home" / ".claude" / "settings.json"
    assert len(read_hooks(user_file)) == 1
    assert not (project / ".claude").exists()
    assert cli(["uninstall", "--agent", "claude-code", "--scope", "user"]) == 0
    assert load(user_file) == {}


def test_cli_invalid_json_exits_3_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = settings(tmp_path)
    path.parent.mkdir()
    path.write_text('{\n  "model": "x",\n}\n')
    for command in ("init", "uninstall"):
        assert cli([command, "--agent", "claude-code", "--project-dir", str(tmp_path)]) == 3
        err = capsys.readouterr().err
        assert f"{path}:3:1" in err.replace("\n", "") and "invalid JSON" in err
    assert path.read_text() == '{\n  "model": "x",\n}\n'
    assert os.listdir(path.parent) == ["settings.json"]


def test_cli_wrong_hooks_type_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = settings(tmp_path)
    path.parent.mkdir()
    path.write_text('{"hooks": []}')
    assert cli(["init", "--agent", "claude-code", "--project-dir", str(tmp_path)]) == 3
    assert "hooks is a JSON array" in capsys.readouterr().err
    assert path.read_text() == '{"hooks": []}'


def test_cli_missing_project_dir_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["init", "--agent", "claude-code", "--project-dir", str(tmp_path / "nope")]) == 3
    assert "not a directory" in capsys.readouterr().err


def test_cli_agent_is_required_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["init"]) == 3
    assert "say what to wire: --agent" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["init", "--agent", "no-such-runtime"])
