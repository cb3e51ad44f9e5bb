"""Fixtures for the server's tests: an isolated environment, the app behind a Starlette
TestClient, agent tokens and signed-in humans.

``make_server()`` builds one (more configuration, extra files); ``server`` is the
default: the two-release-managers example policy (``vercel deploy --prod`` needs two
approvals from release-managers), approvers alice, bob and carol in release-managers
(carol owns the agent deploy-bot) and dave in sre; SQLite state; a settable clock shared
by the control store and the controller.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ringfence.server.app import create_app
from ringfence.server.http import SESSION_COOKIE
from ringfence.server.identity import SCOPES, issue_token, set_user, sign_in
from ringfence.server.state import ServerState, open_state
from tests.control.flow import EXAMPLE_POLICY
from tests.control.harness import Clock
from tests.helpers import isolated_env, make_workspace

PASSWORD = "correct horse battery staple"
DEPLOY = "vercel deploy --prod"
APPROVERS: dict[str, dict[str, Any]] = {
    "alice": {"groups": ["release-managers"]},
    "bob": {"groups": ["release-managers"]},
    "carol": {"groups": ["release-managers"]},
    "dave": {"groups": ["sre"]},
}


def server_config(**extra: Any) -> dict[str, Any]:
    """The default configuration, with ``extra`` top-level keys replacing its own."""
    return {
        "agent": {"id": "deploy-bot", "owner": "carol"},
        "policy": [str(EXAMPLE_POLICY)],
        "approvers": APPROVERS,
        **extra,
    }


@dataclass
class Human:
    """A signed-in human: their own client (with the session cookie) and CSRF token.
    ``post``/``delete`` send the CSRF token unless ``csrf=False``."""

    name: str
    client: TestClient
    csrf: str

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, **kw)

    def post(self, url: str, json: Any = None, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        headers = {**({"X-CSRF-Token": self.csrf} if csrf else {}), **kw.pop("headers", {})}
        return self.client.post(url, json=json, headers=headers, **kw)

    def delete(self, url: str, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        headers = {**({"X-CSRF-Token": self.csrf} if csrf else {}), **kw.pop("headers", {})}
        return self.client.delete(url, headers=headers, **kw)


@dataclass
class Server:
    root: Path
    env: dict[str, str]
    workspace: Path
    state: ServerState
    app: Starlette
    client: TestClient  # no credentials
    clock: Clock
    _clients: list[TestClient] = field(default_factory=list, repr=False)
    _users: set[str] = field(default_factory=set, repr=False)
    _closed: bool = field(default=False, repr=False)

    def token(self, agent: str = "deploy-bot", *, ttl: float = 3600, scopes: frozenset[str] = SCOPES) -> str:
        token, _ = issue_token(self.state.store, self.state.key, agent, ttl=ttl, scopes=scopes, by="tests")
        return token

    def user(self, name: str, password: str = PASSWORD) -> None:
        set_user(self.state.store, name, password)
        self._users.add(name)

    def sign_in(self, name: str) -> Human:
        """A new session for ``name`` (creating the user once), on a client of its own."""
        if name not in self._users:
            self.user(name)
        sid, csrf = sign_in(self.state.store, name, PASSWORD)
        client = self.new_client()
        client.cookies.set(SESSION_COOKIE, sid)
        return Human(name, client, csrf)

    def new_client(self) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        self._clients.append(client)
        return client

    def action(self, command: str = DEPLOY, **fields: Any) -> dict[str, Any]:
        return {"kind": "shell", "payload": {"command": command}, "cwd": str(self.workspace), **fields}

    def decide(self, token: str, command: str = DEPLOY) -> httpx.Response:
        return self.client.post("/api/v1/decide", json={"action": self.action(command)}, headers=bearer(token))

    def held(self, token: str, command: str = DEPLOY) -> str:
        """Ask for ``command``, which must be held for approval; the request id."""
        r = self.decide(token, command)
        assert r.status_code == 200 and r.json()["decision"] == "require_approval", r.text
        rid: str = r.json()["request"]
        return rid

    def close(self) -> None:
        """Close its clients and stores (once; later calls do nothing)."""
        if self._closed:
            return
        self._closed = True
        for client in self._clients:
            client.close()
        self.state.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


MakeServer = Callable[..., Server]


@pytest.fixture
def make_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeServer]:
    """``make_server(config=None, files=None, database=None)``: a server in an isolated
    environment (HOME, XDG_* under ``tmp_path``, no RINGFENCE_* variables, the working
    directory its workspace). ``files`` maps paths relative to the workspace to their
    text (for example a repository policy under ``.ringfence/policy/``)."""
    made: list[Server] = []

    def make(
        config: dict[str, Any] | None = None, files: dict[str, str] | None = None, database: str | None = None
    ) -> Server:
        root = tmp_path / f"server{len(made)}"
        env = isolated_env(root)
        for name in list(os.environ):
            if name.startswith("RINGFENCE_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        ws = make_workspace(root)
        for rel, text in (files or {}).items():
            path = ws / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        conf = Path(env["XDG_CONFIG_HOME"]) / "ringfence" / "config.yaml"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(yaml.safe_dump(config if config is not None else server_config()))
        monkeypatch.chdir(ws)
        state = open_state(cwd=str(ws), database=database)
        clock = Clock(time.time())
        state.store.clock = clock
        if state.gate.control is not None:
            state.gate.control.clock = clock
        app = create_app(state)
        server = Server(root, env, ws, state, app, TestClient(app, raise_server_exceptions=False), clock)
        server._clients.append(server.client)
        made.append(server)
        return server

    yield make
    for s in made:
        s.close()


@pytest.fixture
def server(make_server: MakeServer) -> Server:
    return make_server()


@pytest.fixture
def token(server: Server) -> str:
    """A token for the agent deploy-bot with the scopes decide and wait."""
    return server.token("deploy-bot")


@pytest.fixture
def alice(server: Server) -> Human:
    """alice, a release manager, signed in."""
    return server.sign_in("alice")
