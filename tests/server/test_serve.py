"""`ringfence serve` as a process: readiness, JSON logs, metrics, graceful shutdown."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ringfence.ledger.store import open_ledger
from tests.helpers import RINGFENCE, isolated_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, *, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw.startswith(b"{") else raw.decode()
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_decides_logs_json_and_shuts_down_gracefully(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [RINGFENCE, "serve", "--port", str(port)], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        for _ in range(100):
            try:
                if call(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not become ready")
        token = subprocess.run(
            [RINGFENCE, "token", "issue", "--agent", "bot1", "--ttl", "10m"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commands = ["git status", "git push --force origin main", "ls -la"] * 10

        def decide(command: str) -> tuple[int, Any]:
            action = {"kind": "shell", "payload": {"command": command}, "cwd": str(tmp_path)}
            return call(f"{base}/api/v1/decide", token=token, body={"action": action})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(decide, commands))
        assert all(status == 200 for status, _ in answers)
        outcomes = [doc["decision"] for _, doc in answers]
        assert outcomes.count("deny") == 10 and outcomes.count("allow") == 20
        assert len({doc["record"] for _, doc in answers}) == 30  # each decision durable, distinct entries
        status, metrics = call(f"{base}/metrics")
        assert status == 200 and 'ringfence_decisions_total{agent="bot1",outcome="deny"} 10.0' in metrics
        assert call(f"{base}/api/v1/decide", body={"action": {}})[0] == 401
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    # uvicorn finishes in-flight requests and the lifespan shutdown, then exits by the signal it got
    assert server.returncode in (0, -signal.SIGTERM), err
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert logs[-1]["msg"] == "stopped" and logs[-1]["graceful"] is True
    decided = [e for e in logs if e.get("path") == "/api/v1/decide"]
    assert len(decided) == 31 and {e["status"] for e in decided} == {200, 401}
    ledger = open_ledger(Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db")
    assert ledger.size() == 30


def test_wait_long_polls_the_server_from_another_machine(tmp_path: Path) -> None:
    """A pipeline with only RINGFENCE_SERVER and a token (no access to the state files) waits remotely."""
    from tests.control.flow import cli, create_keys, release_config, write_config

    env = isolated_env(tmp_path / "server")
    ws = tmp_path / "server" / "repo"
    ws.mkdir(parents=True)
    keys = create_keys(env, ws, "alice", "bob")
    write_config(env, release_config(keys))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([RINGFENCE, "serve", "--port", str(port), "--log-level", "warning"], env=env, cwd=ws)
    try:
        for _ in range(100):
            try:
                if call(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        token = cli(env, ws, "token", "issue", "--agent", "deploy-bot").stdout.strip()
        action = {"kind": "shell", "payload": {"command": "vercel deploy --prod"}, "cwd": str(ws)}
        status, held = call(f"{base}/api/v1/decide", token=token, body={"action": action})
        assert status == 200 and held["decision"] == "require_approval"
        rid = held["request"]
        pipeline = isolated_env(tmp_path / "pipeline", RINGFENCE_SERVER=base, RINGFENCE_TOKEN=token)
        waiting = subprocess.run(
            [RINGFENCE, "wait", rid, "--timeout", "2s"], env=pipeline, cwd=tmp_path, capture_output=True, text=True
        )
        assert waiting.returncode == 4, waiting.stderr
        for who in ("alice", "bob"):
            assert cli(env, ws, "approvals", "approve", rid, "--as", who).returncode == 0
        done = subprocess.run(
            [RINGFENCE, "wait", rid, "--timeout", "10s"], env=pipeline, cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        unknown = subprocess.run(
            [RINGFENCE, "wait", "AR-00000000", "--timeout", "2s"],
            env=pipeline,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert unknown.returncode == 3 and "404" in unknown.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
