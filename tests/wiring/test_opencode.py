"""Wiring ringfence into OpenCode as a plugin file: plans, refusals, the CLI and the doctor."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.wiring import opencode
from ringfence.wiring.base import wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import SettingsFileError, apply
from tests.wiring.helpers import assert_ok, doctor, init, uninstall

COMMAND = "/opt/ringfence/bin/ringfence hook opencode"


def test_paths(tmp_path: Path) -> None:
    assert opencode.settings_path("project", tmp_path) == tmp_path / ".opencode" / "plugins" / "ringfence.js"
    assert (
        opencode.settings_path("user", home=tmp_path) == tmp_path / ".config" / "opencode" / "plugins" / "ringfence.js"
    )
    assert opencode.config_dir(environ={"XDG_CONFIG_HOME": "/x/cfg"}) == Path("/x/cfg/opencode")
    assert wiring_for("opencode").read_paths(["project"], tmp_path) == [
        tmp_path / ".opencode" / "plugins" / "ringfence.js",
        tmp_path / ".opencode" / "plugin" / "ringfence.js",
    ]


def test_install_writes_the_plugin_with_the_command_baked_in(tmp_path: Path) -> None:
    path = tmp_path / ".opencode" / "plugins" / "ringfence.js"
    plan = opencode.plan_install(path, COMMAND)
    assert plan.creates and not path.exists()
    apply(plan)
    text = path.read_text()
    assert text.startswith("// ringfence:opencode-plugin sha256=")
    assert 'const RINGFENCE_COMMAND = ["/opt/ringfence/bin/ringfence"]; // ringfence:command' in text
    assert opencode.unmodified(text) and opencode.baked_argv(text) == ["/opt/ringfence/bin/ringfence"]
    [found] = wiring_for("opencode").find(path)
    assert found.command == COMMAND and all(found.covers.values())


def test_install_is_idempotent_and_updates_its_own_copy(tmp_path: Path) -> None:
    path = tmp_path / "ringfence.js"
    apply(opencode.plan_install(path, COMMAND))
    again = opencode.plan_install(path, COMMAND)
    assert not again.changed and "already wired" in again.notes[0]
    moved = opencode.plan_install(path, "/new/ringfence hook opencode")
    assert moved.changed and "/opt/ringfence/bin/ringfence → /new/ringfence" in moved.changes[0]
    apply(moved)
    assert opencode.baked_argv(path.read_text()) == ["/new/ringfence"]


def test_a_modified_plugin_is_never_overwritten_or_deleted(tmp_path: Path) -> None:
    path = tmp_path / "ringfence.js"
    apply(opencode.plan_install(path, COMMAND))
    edited = path.read_text().replace("DEFAULT_TIMEOUT_MS = 30000", "DEFAULT_TIMEOUT_MS = 1")
    path.write_text(edited)
    for plan in (lambda: opencode.plan_install(path, COMMAND), lambda: opencode.plan_uninstall(path)):
        with pytest.raises(SettingsFileError, match="was modified") as info:
            plan()
        assert "-const DEFAULT_TIMEOUT_MS = 30000;" in str(info.value)
        assert "+const DEFAULT_TIMEOUT_MS = 1;" in str(info.value)
    assert path.read_text() == edited


def test_someone_elses_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ringfence.js"
    path.write_text("export const Mine = async () => ({})\n")
    with pytest.raises(SettingsFileError, match="is not ringfence's OpenCode plugin"):
        opencode.plan_install(path, COMMAND)
    with pytest.raises(SettingsFileError, match="is not ringfence's OpenCode plugin"):
        opencode.plan_uninstall(path)


def test_the_template_copied_by_hand_counts_as_ours(tmp_path: Path) -> None:
    path = tmp_path / "ringfence.js"
    path.write_text(opencode.template())
    assert opencode.unmodified(path.read_text())
    apply(opencode.plan_install(path, COMMAND))
    assert opencode.baked_argv(path.read_text()) == ["/opt/ringfence/bin/ringfence"]


def test_uninstall_deletes_only_its_file(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "other.js").write_text("export const Other = async () => ({})\n")
    path = plugins / "ringfence.js"
    apply(opencode.plan_install(path, COMMAND))
    plan = opencode.plan_uninstall(path)
    assert plan.after is None and plan.changes == (f"delete the OpenCode plugin {path}",)
    assert apply(plan) is None
    assert sorted(p.name for p in plugins.iterdir()) == ["other.js"]
    assert not opencode.plan_uninstall(path).changed


def test_uninstall_refuses_when_the_file_changed_since_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "ringfence.js"
    apply(opencode.plan_install(path, COMMAND))
    plan = opencode.plan_uninstall(path)
    path.write_text(path.read_text() + "// later\n")
    with pytest.raises(SettingsFileError, match="changed since it was read"):
        apply(plan)
    assert path.exists()


def test_read_decision() -> None:
    assert opencode.read_decision('{"decision": "deny", "reason": "no"}') == ("deny", "deny: no")
    assert opencode.read_decision('{"decision": "ask", "reason": "?"}')[0] is None
    assert opencode.read_decision('{"decision": "allow"}')[0] is None
    assert opencode.read_decision("")[0] is None


# --- the CLI and the doctor, with the real `ringfence hook opencode` ----------------------------


def test_cli_dry_run_writes_nothing(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init("opencode", isolated, "--dry-run") == 0
    assert not (isolated / ".opencode").exists()
    out = capsys.readouterr().out
    assert "+// ringfence:opencode-plugin sha256=" in out and "dry run" in out


def test_cli_round_trip_keeps_other_plugins_and_doctor_passes(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins = isolated / ".opencode" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "notify.ts").write_text("export const Notify = async () => ({})\n")
    (isolated / ".opencode" / "opencode.json").write_text('{"$schema": "https://opencode.ai/config.json"}\n')
    assert init("opencode", isolated) == 0
    report = doctor("opencode", isolated)
    assert_ok(report)
    assert report.check("dangerous denied").detail.startswith("shell `rm -rf /` → deny")
    assert uninstall("opencode", isolated) == 0
    assert sorted(p.name for p in plugins.iterdir()) == ["notify.ts"]
    assert (isolated / ".opencode" / "opencode.json").read_text() == '{"$schema": "https://opencode.ai/config.json"}\n'
    assert "deleted" in capsys.readouterr().out


def test_cli_refuses_to_uninstall_a_modified_plugin(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init("opencode", isolated) == 0
    path = isolated / ".opencode" / "plugins" / "ringfence.js"
    path.write_text(path.read_text() + "// mine\n")
    capsys.readouterr()
    assert uninstall("opencode", isolated) == 3
    err = capsys.readouterr().err
    assert "was modified" in err and "+// mine" in err
    assert path.exists()


def test_cli_user_scope(isolated: Path) -> None:
    assert init("opencode", isolated, "--scope", "user") == 0
    assert (isolated.parent / "home" / ".config" / "opencode" / "plugins" / "ringfence.js").exists()
    report = doctor("opencode", isolated, "user")
    assert_ok(report)


def test_doctor_detects_missing_wiring(isolated: Path) -> None:
    report = doctor("opencode", isolated)
    assert not report.check("settings file").ok and not report.check("hook wired").ok


def test_doctor_detects_a_modified_plugin(isolated: Path) -> None:
    path = opencode.settings_path("project", isolated)
    apply(opencode.plan_install(path, hook_command("opencode")))
    path.write_text(path.read_text().replace('if (answer.decision !== "allow")', "if (false)"))
    report = doctor("opencode", isolated)
    check = report.check("settings file")
    assert not check.ok and "was modified" in check.detail


def test_doctor_detects_a_missing_program(isolated: Path) -> None:
    path = opencode.settings_path("project", isolated)
    apply(opencode.plan_install(path, "/nonexistent/ringfence hook opencode"))
    report = doctor("opencode", isolated)
    assert not report.check("command executable").ok
    assert not report.check("dangerous denied").ok


def test_doctor_finds_the_old_plugin_directory(isolated: Path) -> None:
    path = isolated / ".opencode" / "plugin" / "ringfence.js"
    apply(opencode.plan_install(path, hook_command("opencode")))
    report = doctor("opencode", isolated)
    assert_ok(report)
    note = opencode.plan_install(opencode.settings_path("project", isolated), hook_command("opencode")).notes
    assert any("another copy" in n for n in note)
