"""The warm daemon: same answers as in-process, started on demand, stale code refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ringfence.daemon.server import parse_request
from tests.helpers import hook_answer, isolated_env, make_workspace, payload, run_hook


def _socket(env: dict[str, str]) -> Path | None:
    socks = list(Path(env["XDG_RUNTIME_DIR"]).rglob("*.sock"))
    return socks[0] if socks else None


def _wait_for_daemon(env: dict[str, str], timeout: float = 20.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock = _socket(env)
        if sock is not None:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(str(sock))
                return sock
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.1)
    raise AssertionError("daemon did not start")


@pytest.fixture()
def daemon_env(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = isolated_env(tmp_path, RINGFENCE_DAEMON="1")
    ws = make_workspace(tmp_path)
    yield env, ws
    sock = _socket(env)
    if sock is not None:
        subprocess.run(
            [sys.executable, "-m", "ringfence.cli", "daemon", "stop"],
            env=env,
            capture_output=True,
            check=False,
        )
        rf = Path(sys.executable).parent / "ringfence"
        subprocess.run([str(rf), "daemon", "stop"], env=env, capture_output=True, check=False)


def test_started_on_demand_and_answers_the_same(daemon_env) -> None:  # type: ignore[no-untyped-def]
    env, ws = daemon_env
    cases = ["git status", "rm -rf /", "git reset --hard", "cat .env"]
    cold = [
        hook_answer(
            run_hook(json.dumps(payload("Bash", {"command": c}, ws)).encode(), dict(env, RINGFENCE_DAEMON="0"), ws)
        )["permissionDecision"]
        for c in cases
    ]
    first = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), env, ws))
    assert first["permissionDecision"] == "allow"
    _wait_for_daemon(env)
    warm = [
        hook_answer(run_hook(json.dumps(payload("Bash", {"command": c}, ws)).encode(), env, ws))["permissionDecision"]
        for c in cases
    ]
    assert warm == cold == ["allow", "deny", "ask", "deny"]


def test_daemon_records_every_decision(daemon_env) -> None:  # type: ignore[no-untyped-def]
    env, ws = daemon_env
    run_hook(json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), env, ws)
    _wait_for_daemon(env)
    for c in ("git status", "rm -rf /"):
        run_hook(json.dumps(payload("Bash", {"command": c}, ws)).encode(), env, ws)
    import sqlite3

    db = Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    decisions = [r[0] for r in sqlite3.connect(db).execute("SELECT decision FROM entries ORDER BY seq")]
    assert decisions == ["allow", "allow", "deny"]


def test_daemon_sees_config_changes(daemon_env) -> None:  # type: ignore[no-untyped-def]
    env, ws = daemon_env
    run_hook(json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), env, ws)
    _wait_for_daemon(env)
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text("on_error: [broken\n")
    out = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "ls"}, ws)).encode(), env, ws))
    assert out["permissionDecision"] == "deny" and "not valid YAML" in str(out["permissionDecisionReason"])


def test_a_broken_daemon_falls_back_in_process(tmp_path: Path) -> None:
    """A socket that answers garbage must not decide anything: the hook decides itself."""
    env = isolated_env(tmp_path, RINGFENCE_DAEMON="1")
    ws = make_workspace(tmp_path)
    from ringfence.daemon import socket_path

    old = dict(os.environ)
    os.environ.update(env)
    try:
        path = socket_path()
    finally:
        os.environ.clear()
        os.environ.update(old)
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    import threading

    def liar() -> None:
        for _ in range(2):
            try:
                conn, _ = srv.accept()
                conn.recv(65536)
                conn.sendall(b'OK\n{"hookSpecificOutput": {"permissionDecision": "allow"')  # truncated
                conn.close()
            except OSError:
                return

    t = threading.Thread(target=liar, daemon=True)
    t.start()
    out = hook_answer(run_hook(json.dumps(payload("Bash", {"command": "rm -rf /"}, ws)).encode(), env, ws))
    assert out["permissionDecision"] == "deny"
    srv.close()


def test_request_framing() -> None:
    runtime, cwd, env, body = parse_request(b'RF1\nclaude-code\n/w\nHOME=/h\nX=a=b\n\n{"a":1}')
    assert (runtime, cwd, env, body) == ("claude-code", "/w", {"HOME": "/h", "X": "a=b"}, b'{"a":1}')
    with pytest.raises(ValueError):
        parse_request(b"HTTP/1.1 GET /\n\n")


def test_a_native_crash_while_deciding_is_a_deny(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal kills a process past any `except`; the hook decides in a child so it still denies."""
    import signal

    from ringfence.daemon import client, dispatch

    def segfault(*args: object, **kwargs: object) -> str:
        import faulthandler

        faulthandler.disable()  # only the child dies; keep pytest's crash dump out of the log
        os.kill(os.getpid(), signal.SIGSEGV)
        return ""

    monkeypatch.setattr(dispatch, "answer", segfault)
    out = json.loads(client._in_process("claude-code", b"{}"))["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert "signal 11" in out["permissionDecisionReason"]


def test_in_process_answer_passes_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ringfence.daemon import client

    for k, v in isolated_env(tmp_path).items():
        monkeypatch.setenv(k, v)
    ws = make_workspace(tmp_path)
    out = json.loads(client._in_process("claude-code", json.dumps(payload("Bash", {"command": "ls"}, ws)).encode()))
    assert out["hookSpecificOutput"]["permissionDecision"] == "allow"
