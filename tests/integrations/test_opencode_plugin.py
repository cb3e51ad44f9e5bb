"""The OpenCode plugin (integrations/opencode/ringfence.js), run in Node against the real
`ringfence hook opencode`: it lets a call through only on allow and throws otherwise —
on deny, on an approval, and on every way asking ringfence can fail."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ringfence.wiring import opencode
from ringfence.wiring.command import hook_command
from tests.helpers import RINGFENCE, isolated_env, make_workspace

ROOT = Path(__file__).resolve().parents[2]
REPO_COPY = ROOT / "integrations" / "opencode" / "ringfence.js"
PACKAGED = ROOT / "src" / "ringfence" / "integrations" / "opencode" / "ringfence.js"

# Loads a plugin file as OpenCode does (every export is a plugin function) and runs its
# tool.execute.before hook once; prints what happened as JSON.
DRIVER = r"""
const [pluginPath, callJson] = process.argv.slice(2);
const call = JSON.parse(callJson);
const mod = await import(pluginPath);
const exported = Object.entries(mod);
const context = { directory: call.directory, worktree: call.directory, project: {}, client: {}, $: null };
const hooks = await exported[0][1](context);
const output = { args: call.args };
const started = Date.now();
try {
  await hooks["tool.execute.before"]({ tool: call.tool, sessionID: "ses_test", callID: "call_test" }, output);
  console.log(JSON.stringify({ thrown: false, exports: exported.map(([k]) => k), ms: Date.now() - started }));
} catch (error) {
  const ms = Date.now() - started;
  console.log(JSON.stringify({ thrown: true, isError: error instanceof Error, message: error.message, ms }));
}
"""


def node() -> str:
    """Node, which these tests need; fails under CI, skips elsewhere, when it is missing."""
    found = shutil.which("node") or ("/usr/bin/node" if os.access("/usr/bin/node", os.X_OK) else None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed; the OpenCode plugin tests must run under CI")
        pytest.skip("node is not installed")
    return found


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    env = isolated_env(tmp_path, RINGFENCE_BIN=RINGFENCE)
    ws = make_workspace(tmp_path)
    driver = tmp_path / "driver.mjs"
    driver.write_text(DRIVER)
    return env, ws, driver


def call(
    setup: tuple[dict[str, str], Path, Path],
    tool: str,
    args: dict[str, Any],
    plugin: Path = PACKAGED,
    **env_extra: str,
) -> dict[str, Any]:
    env, ws, driver = setup
    payload = json.dumps({"tool": tool, "args": args, "directory": str(ws)})
    proc = subprocess.run(
        [node(), str(driver), str(plugin), payload],
        capture_output=True,
        text=True,
        env={**env, **env_extra},
        cwd=ws,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def fake(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_allow_does_not_throw(setup: tuple[dict[str, str], Path, Path]) -> None:
    result = call(setup, "bash", {"command": "git status", "description": "status"})
    assert result["thrown"] is False
    assert result["exports"] == ["RingfencePlugin"]  # OpenCode calls every export as a plugin


def test_deny_throws_with_the_reason(setup: tuple[dict[str, str], Path, Path]) -> None:
    result = call(setup, "bash", {"command": "rm -rf /"})
    assert result["thrown"] and result["isError"]
    assert result["message"].startswith("ringfence denied this:") and "fs.delete-critical" in result["message"]


def test_require_approval_throws_naming_the_request(setup: tuple[dict[str, str], Path, Path]) -> None:
    result = call(setup, "bash", {"command": "git reset --hard HEAD~1"})
    assert result["thrown"]
    assert "blocked until approved" in result["message"]
    assert __import__("re").search(r"AR-[0-9A-Z]{8}", result["message"])


def test_file_tools_are_decided(setup: tuple[dict[str, str], Path, Path]) -> None:
    _, ws, _ = setup
    assert call(setup, "write", {"filePath": str(ws / ".env"), "content": "K=v\n"})["thrown"]
    assert not call(setup, "edit", {"filePath": str(ws / "src/a.py"), "oldString": "a", "newString": "b"})["thrown"]


def test_missing_ringfence_throws(setup: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    result = call(setup, "bash", {"command": "git status"}, RINGFENCE_BIN=str(tmp_path / "no" / "ringfence"))
    assert result["thrown"] and "could not run" in result["message"] and "fails closed" in result["message"]


def test_relative_ringfence_bin_throws(setup: tuple[dict[str, str], Path, Path]) -> None:
    result = call(setup, "bash", {"command": "git status"}, RINGFENCE_BIN="ringfence")
    assert result["thrown"] and "absolute path" in result["message"]


def test_hanging_ringfence_is_killed_at_the_timeout(setup: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    slow = fake(tmp_path, "slow", "cat >/dev/null\nexec sleep 60")
    started = time.monotonic()
    result = call(setup, "bash", {"command": "git status"}, RINGFENCE_BIN=slow, RINGFENCE_TIMEOUT_MS="400")
    assert result["thrown"] and "no answer within 400 ms" in result["message"]
    assert time.monotonic() - started < 30


def test_bad_timeout_setting_throws(setup: tuple[dict[str, str], Path, Path]) -> None:
    result = call(setup, "bash", {"command": "git status"}, RINGFENCE_TIMEOUT_MS="soon")
    assert result["thrown"] and "RINGFENCE_TIMEOUT_MS" in result["message"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('echo "hello from a shell profile"', "did not answer with JSON"),
        ("true", "did not answer with JSON"),
        ('echo \'{"decision": "maybe", "reason": "x"}\'', "not a decision"),
        ("echo '[\"allow\"]'", "not a decision"),
        ('echo \'{"decision": "allow"}\'', "not a decision"),
        ('echo \'{"decision": "allow", "reason": "ok"}\'; exit 1', "exited with 1"),
        ("echo boom >&2; exit 2", "exited with 2: boom"),
        ("kill -9 $$", "killed by SIGKILL"),
    ],
)
def test_unusable_answers_throw(
    setup: tuple[dict[str, str], Path, Path], tmp_path: Path, body: str, expected: str
) -> None:
    program = fake(tmp_path, "ringfence-fake", "cat >/dev/null\n" + body)
    result = call(setup, "bash", {"command": "git status"}, RINGFENCE_BIN=program)
    assert result["thrown"], body
    assert expected in result["message"], result["message"]


def test_the_payload_is_what_the_adapter_reads(setup: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    record = tmp_path / "seen.json"
    program = fake(
        tmp_path,
        "recorder",
        f'cat > {record}\necho "$*" > {record}.argv\necho \'{{"decision": "allow", "reason": "ok"}}\'',
    )
    _, ws, _ = setup
    assert not call(setup, "read", {"filePath": "README.md"}, RINGFENCE_BIN=program)["thrown"]
    seen = json.loads(record.read_text())
    assert seen == {
        "hook_event_name": "tool.execute.before",
        "tool": "read",
        "sessionID": "ses_test",
        "callID": "call_test",
        "args": {"filePath": "README.md"},
        "directory": str(ws),
        "worktree": str(ws),
    }
    assert Path(f"{record}.argv").read_text().strip() == "hook opencode"
    from ringfence.adapters import opencode as adapter

    action, principal = adapter.parse(record.read_bytes(), env={})
    assert action.payload == {"path": "README.md"} and principal.session == "ses_test"


def test_installed_copy_runs_the_baked_ringfence(setup: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, _ = setup
    plugin = ws / ".opencode" / "plugins" / "ringfence.js"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(opencode.render(f"{RINGFENCE} hook opencode"))
    without_bin = {k: v for k, v in env.items() if k != "RINGFENCE_BIN"}
    env.clear()
    env.update(without_bin)
    assert call(setup, "bash", {"command": "rm -rf /"}, plugin=plugin)["thrown"]
    assert not call(setup, "bash", {"command": "ls"}, plugin=plugin)["thrown"]


def test_the_repository_copy_is_the_packaged_plugin() -> None:
    assert REPO_COPY.is_symlink() and REPO_COPY.resolve() == PACKAGED.resolve()  # one copy, never two
    assert opencode.template() == PACKAGED.read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"integrations/opencode/*.js"' in pyproject


def test_hook_command_is_baked_as_argv() -> None:
    text = opencode.render(hook_command("opencode"))
    assert opencode.baked_argv(text) == opencode.command_argv(hook_command("opencode"))
    assert opencode.unmodified(text)
    assert (
        opencode.render("/usr/bin/python3 -m ringfence hook opencode").count('["/usr/bin/python3", "-m", "ringfence"]')
        == 1
    )
