"""``POST /api/v1/hooks/{runtime}``: every runtime's payload in, its own answer format out,
decided by the server's gate as the agent of the token (what the command hook relays in
remote mode)."""

from __future__ import annotations

import json

import pytest

from tests.adapters.runtimes import RUNTIMES, runtime_module
from tests.server.conftest import DEPLOY, Server, bearer


def _post(server: Server, token: str, runtime: str, body: bytes) -> tuple[str, str]:
    response = server.client.post(f"/api/v1/hooks/{runtime}", content=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    return runtime_module(runtime).answer(response.text)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_runtime_gets_its_own_format(server: Server, token: str, runtime: str) -> None:
    module = runtime_module(runtime)
    cwd = str(server.workspace)
    denied = _post(server, token, runtime, json.dumps(module.shell("git push --force origin main", cwd)).encode())
    assert denied[0] == "deny" and "git.force-push-protected" in denied[1]
    allowed = _post(server, token, runtime, json.dumps(module.shell("git status", cwd)).encode())
    assert allowed[0] == "allow"
    held = _post(server, token, runtime, json.dumps(module.shell(DEPLOY, cwd)).encode())
    assert held[0] in ("deny", "ask") and "AR-" in held[1]  # two release managers must approve
    junk = _post(server, token, runtime, b"not json")
    assert junk[0] == "deny" and "not valid JSON" in junk[1]
    entry = server.state.ledger.entry(0)
    assert entry["principal_id"] == "deploy-bot"  # the token's agent, whatever the payload says
    assert entry["runtime"] == runtime


def test_an_unknown_runtime_is_404(server: Server, token: str) -> None:
    response = server.client.post("/api/v1/hooks/windsurf", content=b"{}", headers=bearer(token))
    assert response.status_code == 404 and "claude-code" in response.json()["error"]
