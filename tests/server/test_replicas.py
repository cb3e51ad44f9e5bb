"""Two ``ringfence serve`` processes on one PostgreSQL database behave as one service:
a request held through one is answered through the other, its grant is used once
whichever replica the retry reaches, and a halt made on one stops the next decision on
the other (control state is read per decision, never cached)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.control.flow import cli, write_config
from tests.helpers import RINGFENCE, isolated_env, make_workspace
from tests.pg import pg_schema
from tests.server.conftest import DEPLOY, PASSWORD, server_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def replica(env: dict[str, str], cwd: Path, database: str) -> Iterator[httpx.Client]:
    """A ``ringfence serve`` process on ``database``, and a client for it once it is ready."""
    port = free_port()
    process = subprocess.Popen(
        [RINGFENCE, "serve", "--port", str(port), "--database", database, "--log-level", "warning"],
        env=env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the replica did not become ready: {process.communicate(timeout=10)[1]}")
            time.sleep(0.1)
        yield client
    finally:
        client.close()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode in (0, -signal.SIGTERM), err


def sign_in(replica: httpx.Client, user: str) -> dict[str, str]:
    """Sign ``user`` in on ``replica``; the headers (cookie and CSRF token) for their calls."""
    r = replica.post("/api/v1/session", json={"user": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    replica.cookies.clear()  # each caller sends its own session explicitly
    return {"Cookie": f"rf_session={r.cookies['rf_session']}", "X-CSRF-Token": r.json()["csrf"]}


def decide(replica: httpx.Client, token: str, ws: Path, command: str = DEPLOY) -> dict[str, Any]:
    action = {"kind": "shell", "payload": {"command": command}, "cwd": str(ws)}
    r = replica.post("/api/v1/decide", json={"action": action}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def approve(replica: httpx.Client, rid: str, *humans: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for headers in humans:
        r = replica.post(f"/api/v1/requests/{rid}/approve", headers=headers)
        assert r.status_code == 200, r.text
        doc = r.json()
    return doc


def test_two_replicas_on_one_database_act_as_one_service(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)  # one XDG_STATE_HOME: both replicas load the same server key
    ws = make_workspace(tmp_path)
    write_config(env, server_config())
    with pg_schema() as url, ExitStack() as stack:
        token = cli(env, ws, "token", "issue", "--agent", "deploy-bot", "--database", url).stdout.strip()
        assert token.startswith("rf1."), token
        for user in ("alice", "bob"):
            added = subprocess.run(
                [RINGFENCE, "user", "add", user, "--password-stdin", "--database", url],
                input=PASSWORD + "\n",
                env=env,
                cwd=ws,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert added.returncode == 0, added.stderr
        a = stack.enter_context(replica(env, ws, url))
        b = stack.enter_context(replica(env, ws, url))  # started after A created the key and the schema
        agent = {"Authorization": f"Bearer {token}"}

        # a request held through A is visible to the agent and to humans on B, and answered there
        held = decide(a, token, ws)
        rid = held["request"]
        assert held["decision"] == "require_approval" and rid
        assert b.get(f"/api/v1/requests/{rid}", headers=agent).json()["status"] == "pending"
        alice, bob = sign_in(b, "alice"), sign_in(b, "bob")
        assert b.get(f"/api/v1/requests/{rid}", headers=alice).json()["requester"]["id"] == "deploy-bot"
        assert approve(b, rid, alice)["missing"] == "1 more from release-managers"
        assert approve(b, rid, bob)["status"] == "approved"
        waited = a.get(f"/api/v1/requests/{rid}/wait", params={"timeout": 5}, headers=agent).json()
        assert waited == {"id": rid, "status": "approved", "done": True}

        # the retry through A passes once; the grant is then spent on both replicas
        retry = decide(a, token, ws)
        assert retry["decision"] == "allow" and retry["request"] == rid
        for r in (a, b):
            again = decide(r, token, ws)
            assert again["decision"] == "require_approval" and again["request"] != rid

        # concurrent retries through both replicas: exactly one uses the grant
        rid2 = decide(b, token, ws)["request"]
        approve(a, rid2, sign_in(a, "alice"), sign_in(a, "bob"))
        with ThreadPoolExecutor(6) as pool:
            retries = list(pool.map(lambda r: decide(r, token, ws), [a, b, a, b, a, b]))
        assert [d["decision"] for d in retries].count("allow") == 1
        assert [d["request"] for d in retries if d["decision"] == "allow"] == [rid2]

        # a halt made on B denies the very next decision on A; lifting it on B lets A allow again
        assert decide(a, token, ws, "git status")["decision"] == "allow"
        r = b.post("/api/v1/halts", json={"agent": "deploy-bot", "reason": "incident 7"}, headers=alice)
        assert r.status_code == 201, r.text
        stopped = decide(a, token, ws, "git status")
        assert stopped["decision"] == "deny" and "incident 7" in stopped["reason"]
        assert [h["id"] for h in a.get("/api/v1/halts", headers=agent).json()["halts"]] == [r.json()["id"]]
        lifted = b.post(f"/api/v1/halts/{r.json()['id']}/resume", json={"reason": "resolved"}, headers=alice)
        assert lifted.status_code == 200, lifted.text
        assert decide(a, token, ws, "git status")["decision"] == "allow"

        # one ledger: both replicas see every entry, in one Merkle tree
        sizes = {r.get("/api/v1/ledger/entries", params={"limit": 1}, headers=alice).json()["size"] for r in (a, b)}
        assert len(sizes) == 1
        size = sizes.pop()
        proof = a.get(f"/api/v1/ledger/entries/{size - 1}", headers=alice).json()
        assert proof["proof_valid"] is True and proof["tree_size"] == size
