"""HTTP API v1 in-process (Starlette TestClient): every endpoint's success, every way a
caller is refused, and malformed input answered with a precise 4xx."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ringfence.gate import builtin_policy
from ringfence.ledger import merkle
from ringfence.policy.layers import Layer, build
from ringfence.server.api_agents import WINDOW
from ringfence.server.identity import issue_token, revoke_token
from tests.server.conftest import DEPLOY, Human, MakeServer, Server, bearer

HUMAN_ONLY = [
    ("POST", "/api/v1/requests/{rid}/approve"),
    ("POST", "/api/v1/requests/{rid}/deny"),
    ("POST", "/api/v1/halts"),
    ("POST", "/api/v1/halts/HALT-0000000000AA/resume"),
    ("GET", "/api/v1/ledger/entries"),
    ("GET", "/api/v1/ledger/entries/0"),
    ("GET", "/api/v1/ledger/checkpoints/latest"),
    ("GET", "/api/v1/agents"),
]
AUTHENTICATED = [
    *HUMAN_ONLY,
    ("POST", "/api/v1/decide"),
    ("POST", "/api/v1/hooks/claude-code"),
    ("GET", "/api/v1/requests"),
    ("GET", "/api/v1/requests/{rid}"),
    ("GET", "/api/v1/requests/{rid}/wait"),
    ("GET", "/api/v1/halts"),
    ("GET", "/api/v1/whoami"),
    ("GET", "/api/v1/policy"),
    ("GET", "/api/v1/policy/bundle"),
    ("POST", "/api/v1/explain"),
    ("DELETE", "/api/v1/session"),
]
STATE_CHANGING_FOR_HUMANS = [
    ("POST", "/api/v1/requests/{rid}/approve", None),
    ("POST", "/api/v1/requests/{rid}/deny", None),
    ("POST", "/api/v1/halts", {"reason": "incident"}),
    ("POST", "/api/v1/halts/HALT-0000000000AA/resume", {"reason": "fixed"}),
    ("POST", "/api/v1/explain", {"command": "ls"}),
    ("DELETE", "/api/v1/session", None),
]


def error(response: Any, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    doc = response.json()
    assert set(doc) <= {"error", "retry_after"} and isinstance(doc["error"], str) and doc["error"], doc
    message: str = doc["error"]
    return message


def call(server: Server, method: str, path: str, rid: str = "AR-00000000", **kw: Any) -> Any:
    client = kw.pop("client", server.client)
    return client.request(method, path.replace("{rid}", rid), **kw)


# --- health, discovery, routing ---------------------------------------------------------


def test_health_readiness_and_the_document_need_no_credentials(server: Server) -> None:
    assert server.client.get("/healthz").json() == {"status": "ok"}
    assert server.client.get("/readyz").json() == {"status": "ready"}
    doc = server.client.get("/api/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0" and "/api/v1/agents" in doc["paths"]


def test_unknown_endpoints_and_methods_answer_json(server: Server) -> None:
    assert "no such endpoint: GET /api/v1/nope" in error(server.client.get("/api/v1/nope"), 404)
    assert "DELETE is not allowed on /api/v1/decide" in error(server.client.delete("/api/v1/decide"), 405)
    assert error(server.client.post("/api/v1/requests/AR-00000000/wait"), 405)


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
def test_no_credentials_is_401(server: Server, method: str, path: str) -> None:
    r = call(server, method, path, json={})
    assert "authenticate with 'Authorization: Bearer <token>'" in error(r, 401)
    assert r.headers["www-authenticate"] == 'Bearer realm="ringfence"'


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer", "Authorization must be 'Bearer <token>'"),
        ("Basic YWxpY2U6eA==", "Authorization must be 'Bearer <token>'"),
        ("Bearer nonsense", "not a ringfence token"),
        ("Bearer rf1.!!!.###", "does not verify"),
    ],
)
def test_malformed_or_forged_tokens_are_401(server: Server, header: str, message: str) -> None:
    r = server.client.get("/api/v1/requests", headers={"Authorization": header})
    assert message in error(r, 401)


def test_a_token_signed_by_another_server_is_401(server: Server, make_server: MakeServer) -> None:
    other = make_server()
    r = server.client.get("/api/v1/policy", headers=bearer(other.token()))
    assert "does not verify with this server's key" in error(r, 401)


def test_an_expired_token_is_401(server: Server) -> None:
    token = server.token(ttl=60)
    assert server.client.get("/api/v1/whoami", headers=bearer(token)).status_code == 200
    server.clock.advance(61)
    for method, path in [("GET", "/api/v1/whoami"), ("POST", "/api/v1/decide"), ("GET", "/api/v1/policy")]:
        assert "expired" in error(call(server, method, path, headers=bearer(token), json={}), 401)


def test_a_revoked_token_is_401_from_its_next_request(server: Server) -> None:
    token, claims = issue_token(server.state.store, server.state.key, "deploy-bot", ttl=600, by="alice")
    assert server.decide(token, "git status").status_code == 200
    assert revoke_token(server.state.store, claims.id, by="alice")
    assert "revoked" in error(server.decide(token, "git status"), 401)
    assert "revoked" in error(server.client.get("/api/v1/requests", headers=bearer(token)), 401)


def test_an_unknown_or_expired_session_is_401(server: Server, alice: Human) -> None:
    stranger = server.new_client()
    stranger.cookies.set("rf_session", "not-a-session")
    r = stranger.get("/api/v1/whoami")
    assert "sign in" in error(r, 401)
    assert alice.get("/api/v1/whoami").status_code == 200
    server.clock.advance(12 * 3600 + 1)
    assert "sign in" in error(alice.get("/api/v1/whoami"), 401)


@pytest.mark.parametrize(("method", "path"), HUMAN_ONLY)
def test_agent_tokens_never_reach_human_endpoints(server: Server, token: str, method: str, path: str) -> None:
    rid = server.held(token)
    r = call(server, method, path, rid=rid, headers=bearer(token), json={"reason": "x"})
    assert "an agent token can never" in error(r, 403)


def test_an_agent_token_can_never_approve_its_own_request(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    for verdict in ("approve", "deny"):
        r = server.client.post(f"/api/v1/requests/{rid}/{verdict}", headers=bearer(token))
        assert f"an agent token can never {verdict} a request" in error(r, 403)
    assert alice.get(f"/api/v1/requests/{rid}").json()["answers"] == []


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGING_FOR_HUMANS)
def test_a_session_without_its_csrf_token_changes_nothing(
    server: Server, token: str, alice: Human, method: str, path: str, body: Any
) -> None:
    rid = server.held(token)
    url = path.replace("{rid}", rid)
    before = server.state.ledger.size()
    for headers in ({}, {"X-CSRF-Token": "wrong"}):
        r = alice.client.request(method, url, json=body, headers=headers)
        assert "missing or wrong X-CSRF-Token" in error(r, 403)
    assert server.state.ledger.size() == before
    assert alice.get(f"/api/v1/requests/{rid}").json()["answers"] == []
    assert alice.get("/api/v1/halts").json()["halts"] == []
    assert alice.get("/api/v1/whoami").status_code == 200  # still signed in


def test_token_scopes_limit_what_an_agent_may_do(server: Server) -> None:
    decide_only = server.token(scopes=frozenset({"decide"}))
    wait_only = server.token(scopes=frozenset({"wait"}))
    rid = server.held(decide_only)
    assert "may not wait" in error(server.client.get(f"/api/v1/requests/{rid}", headers=bearer(decide_only)), 403)
    assert "may not wait" in error(server.client.get("/api/v1/requests", headers=bearer(decide_only)), 403)
    assert "may not decide" in error(server.decide(wait_only, "ls"), 403)
    for path in ("/api/v1/policy", "/api/v1/policy/bundle"):
        assert "may not decide" in error(server.client.get(path, headers=bearer(wait_only)), 403)
    r = server.client.post("/api/v1/explain", json={"command": "ls"}, headers=bearer(wait_only))
    assert "may not decide" in error(r, 403)
    assert server.client.get(f"/api/v1/requests/{rid}/wait?timeout=0", headers=bearer(wait_only)).status_code == 200


# --- sessions -----------------------------------------------------------------------------


def test_sign_in_whoami_and_sign_out(server: Server) -> None:
    server.user("alice")
    r = server.client.post("/api/v1/session", json={"user": "alice", "password": "correct horse battery staple"})
    assert r.status_code == 200 and r.json()["user"] == "alice"
    csrf = r.json()["csrf"]
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
    me = server.client.get("/api/v1/whoami").json()
    assert me == {"kind": "human", "name": "alice", "csrf": csrf, "approver": True, "groups": ["release-managers"]}
    assert "X-CSRF-Token" in error(server.client.delete("/api/v1/session"), 403)
    assert server.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).json() == {"signed_out": "alice"}
    assert error(server.client.get("/api/v1/whoami"), 401)


def test_sign_in_refusals(server: Server) -> None:
    server.user("alice")
    assert "wrong user name or password" in error(
        server.client.post("/api/v1/session", json={"user": "alice", "password": "wrong password!"}), 401
    )
    assert "wrong user name or password" in error(
        server.client.post("/api/v1/session", json={"user": "mallory", "password": "whatever it is"}), 401
    )
    for body in ({"user": "alice"}, {"user": 1, "password": "x"}, {"user": "a", "password": "b", "admin": True}):
        assert 'send {"user": "...", "password": "..."}' in error(server.client.post("/api/v1/session", json=body), 422)


def test_whoami_for_an_agent_and_signing_out_a_token(server: Server, token: str) -> None:
    me = server.client.get("/api/v1/whoami", headers=bearer(token)).json()
    assert me["kind"] == "agent" and me["name"] == "deploy-bot" and me["scopes"] == ["decide", "wait"]
    assert "ringfence token revoke" in error(server.client.delete("/api/v1/session", headers=bearer(token)), 400)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/halts", rb'{"reason": "stop\u0000now"}'),
        ("POST", "/api/v1/halts", rb'{"reason": "x", "agent": "bot\u0000"}'),
        ("POST", "/api/v1/halts", rb'{"reason": "\ud800"}'),
        ("POST", "/api/v1/requests/{rid}/approve", rb'{"comment": "ok\u0000"}'),
        ("POST", "/api/v1/explain", rb'{"command": "ls", "agent": "a\u0000"}'),
        ("POST", "/api/v1/explain", rb'{"command": "ls", "cwd": "/\udfff"}'),
        ("POST", "/api/v1/session", rb'{"user": "alice\u0000", "password": "x"}'),
        ("POST", "/api/v1/session", rb'{"\u0000": 1}'),
        ("POST", "/api/v1/session", rb'{"user": "\ud800", "password": "x"}'),
    ],
)
def test_strings_no_store_can_hold_are_refused_before_any_store_sees_them(
    server: Server, token: str, alice: Human, method: str, path: str, body: bytes
) -> None:
    """PostgreSQL text refuses U+0000 and UTF-8 cannot encode a lone surrogate: a 422 on
    every backend, never a 500."""
    rid = server.held(token)
    headers = {"X-CSRF-Token": alice.csrf, "Content-Type": "application/json"}
    r = alice.client.request(method, path.replace("{rid}", rid), content=body, headers=headers)
    assert "NUL characters" in error(r, 422) if b"u0000" in body else "surrogate pairs" in error(r, 422)
    assert alice.get("/api/v1/halts").json() == {"halts": []}
    assert alice.get(f"/api/v1/requests/{rid}").json()["answers"] == []
    good = alice.post("/api/v1/explain", json={"command": "echo 'caf\u00e9 \U0001f600'"})  # real non-ASCII is fine
    assert good.status_code == 200, good.text


# --- decide and the hook ----------------------------------------------------------------


def test_decide_allows_denies_and_holds_and_records_each(server: Server, token: str) -> None:
    allowed = server.decide(token, "git status").json()
    denied = server.decide(token, "git push --force origin main").json()
    held = server.decide(token, DEPLOY).json()
    assert (allowed["decision"], denied["decision"], held["decision"]) == ("allow", "deny", "require_approval")
    assert denied["rules"] == ["git.force-push-protected"] and held["request"].startswith("AR-")
    assert held["approval"]["k"] == 2 and held["approval"]["approvers"] == ["release-managers"]
    assert [allowed["record"], denied["record"], held["record"]] == [0, 1, 2]
    entry = server.state.ledger.entry(1)
    assert entry["principal_id"] == "deploy-bot" and entry["decision"] == "deny"


def test_the_agent_is_the_tokens_whatever_the_body_says(server: Server) -> None:
    token = server.token("bot-7")
    body = {
        "action": server.action("git status"),
        "principal": {"runtime": "claude-code", "model": "m", "session": "s"},
    }
    r = server.client.post("/api/v1/decide", json=body, headers=bearer(token))
    assert r.status_code == 200
    entry = server.state.ledger.entry(r.json()["record"])
    assert entry["principal_id"] == "bot-7" and entry["runtime"] == "claude-code"
    body["principal"] = {"id": "root"}
    assert "identity comes from its token" in error(
        server.client.post("/api/v1/decide", json=body, headers=bearer(token)), 422
    )


def test_a_human_session_cannot_ask_for_decisions(server: Server, alice: Human) -> None:
    r = alice.post("/api/v1/decide", json={"action": server.action("ls")})
    assert "decisions are asked for by agents" in error(r, 403)
    assert "decisions are asked for by agents" in error(alice.post("/api/v1/hooks/claude-code", json={}), 403)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{", 400, "not valid JSON at line 1 column 2"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"action": {}, "extra": 1}', 422, "unknown field(s) extra"),
        (b"{}", 422, "action must be an object"),
        (b'{"action": []}', 422, "action must be an object"),
        (b'{"action": {"kind": "teleport", "cwd": "/"}}', 422, "action.kind must be one of"),
        (b'{"action": {"kind": "shell", "payload": {"command": "ls"}, "cwd": "rel"}}', 422, "absolute path"),
        (b'{"action": {"kind": "shell", "payload": {}, "cwd": "/"}}', 422, "needs payload.command"),
        (b'{"action": {"kind": "file_write", "payload": {"path": 1}, "cwd": "/"}}', 422, "needs payload.path"),
        (b'{"action": {"kind": "shell", "payload": [], "cwd": "/"}}', 422, "payload must be an object"),
        (b'{"action": {"kind": "shell", "payload": {"command": "ls"}, "cwd": "/", "x": 1}}', 422, "unknown field(s) x"),
        (
            b'{"action": {"kind": "shell", "payload": {"command": "ls"}, "cwd": "/", "environment": "moon"}}',
            422,
            "environment must be development, staging or production",
        ),
        (b'{"action": {"kind": "shell", "payload": {"command": "ls"}, "cwd": "/", "tool": 5}}', 422, "tool must be"),
        (b'{"action": {"kind": "shell", "payload": {"command": "ls"}, "cwd": "/"}, "principal": 1}', 422, "principal"),
        (b'{"action": {"kind": "shell", "payload": {"command": "ls \\u0000"}, "cwd": "/"}}', 422, "NUL characters"),
        (b'{"action": {"kind": "shell", "payload": {"command": "ls \\ud800"}, "cwd": "/"}}', 422, "surrogate pairs"),
    ],
)
def test_malformed_decide_bodies_are_4xx_with_the_reason(
    server: Server, token: str, body: bytes, status: int, message: str
) -> None:
    headers = {**bearer(token), "Content-Type": "application/json"}
    assert message in error(server.client.post("/api/v1/decide", content=body, headers=headers), status)
    assert server.state.ledger.size() == 0


def test_decide_refuses_other_content_types_and_oversized_bodies(server: Server, token: str) -> None:
    r = server.client.post("/api/v1/decide", content=b"a=b", headers={**bearer(token), "Content-Type": "text/plain"})
    assert "send JSON (Content-Type: application/json), not 'text/plain'" in error(r, 415)
    big = json.dumps({"action": server.action("echo " + "x" * (1024 * 1024))}).encode()
    r = server.client.post("/api/v1/decide", content=big, headers={**bearer(token), "Content-Type": "application/json"})
    assert "the limit is 1048576" in error(r, 413)
    r = server.client.post("/api/v1/decide", content=b"{}", headers={**bearer(token), "Content-Length": "x1"})
    assert "Content-Length is not a number" in error(r, 400)


def test_the_claude_code_hook_answers_as_the_command_hook(server: Server, token: str) -> None:
    payload = {
        "session_id": "s1",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "git push --force origin main"},
        "cwd": str(server.workspace),
        "permission_mode": "default",
    }
    out = server.client.post("/api/v1/hooks/claude-code", json=payload, headers=bearer(token)).json()
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert server.state.ledger.entry(0)["principal_id"] == "deploy-bot"
    junk = server.client.post("/api/v1/hooks/claude-code", content=b"not json", headers=bearer(token))
    assert junk.status_code == 200 and junk.json()["hookSpecificOutput"]["permissionDecision"] == "deny"
    big = b"{" + b" " * (4 * 1024 * 1024) + b"}"
    assert "the limit is 4194304" in error(
        server.client.post("/api/v1/hooks/claude-code", content=big, headers=bearer(token)), 413
    )


# --- approval requests --------------------------------------------------------------------


def test_two_release_managers_approve_and_the_retry_passes_once(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    first = alice.post(f"/api/v1/requests/{rid}/approve", json={"comment": "looks right"})
    assert first.status_code == 200
    assert first.json()["status"] == "pending" and first.json()["missing"] == "1 more from release-managers"
    assert first.json()["answers"][0] | {"at": 0} == {
        "approver": "alice",
        "verdict": "approve",
        "at": 0,
        "via": "api",
        "signature_valid": True,
    }
    bob = server.sign_in("bob")
    second = bob.post(f"/api/v1/requests/{rid}/approve")  # no body at all
    assert second.status_code == 200 and second.json()["status"] == "approved"
    assert second.json()["approved_by"] == ["alice", "bob"]
    retry = server.decide(token).json()
    assert retry["decision"] == "allow" and retry["request"] == rid
    again = server.decide(token).json()
    assert again["decision"] == "require_approval" and again["request"] != rid
    kinds = [e["kind"] for e in server.state.ledger.entries()]
    assert kinds == ["decision", "approval", "approval", "decision", "decision"]
    detail = alice.get(f"/api/v1/requests/{rid}").json()
    assert detail["status"] == "used" and "requested" in [h["kind"] for h in detail["history"]]


def test_a_denial_stands_and_later_answers_conflict(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    bob = server.sign_in("bob")
    assert bob.post(f"/api/v1/requests/{rid}/deny", json={"comment": "not today"}).json()["status"] == "denied"
    assert "denied by bob and the denial stands" in error(alice.post(f"/api/v1/requests/{rid}/approve"), 409)
    assert server.decide(token).json()["decision"] == "deny"


def test_an_approver_cannot_answer_twice(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    assert alice.post(f"/api/v1/requests/{rid}/approve").status_code == 200
    assert error(alice.post(f"/api/v1/requests/{rid}/approve"), 409)


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("dave", "dave is not in release-managers"),
        ("carol", "carol owns the agent that asked"),
        ("eve", "eve is not a configured approver"),
    ],
)
def test_only_eligible_approvers_may_answer(server: Server, token: str, who: str, message: str) -> None:
    rid = server.held(token)
    human = server.sign_in(who)
    for verdict in ("approve", "deny"):
        assert message in error(human.post(f"/api/v1/requests/{rid}/{verdict}"), 403)
    assert human.get(f"/api/v1/requests/{rid}").json()["answers"] == []


def test_an_agent_sees_only_its_own_requests(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    other = server.token("bot-2")
    mine = server.client.get(f"/api/v1/requests/{rid}", headers=bearer(token))
    assert mine.status_code == 200 and mine.json()["id"] == rid
    for path in (f"/api/v1/requests/{rid}", f"/api/v1/requests/{rid}/wait?timeout=0"):
        assert f"there is no approval request {rid}" in error(server.client.get(path, headers=bearer(other)), 404)
    assert server.client.get("/api/v1/requests", headers=bearer(other)).json() == {"requests": []}
    assert [r["id"] for r in server.client.get("/api/v1/requests", headers=bearer(token)).json()["requests"]] == [rid]
    assert [r["id"] for r in alice.get("/api/v1/requests").json()["requests"]] == [rid]


def test_listing_filters_by_status_and_limit(server: Server, token: str, alice: Human) -> None:
    first = server.held(token)
    second = server.held(token, "vercel deploy --prod --force")
    bob = server.sign_in("bob")
    bob.post(f"/api/v1/requests/{first}/deny")
    assert [r["id"] for r in alice.get("/api/v1/requests").json()["requests"]] == [second]
    assert [r["id"] for r in alice.get("/api/v1/requests?status=denied").json()["requests"]] == [first]
    assert len(alice.get("/api/v1/requests?status=all").json()["requests"]) == 2
    assert len(alice.get("/api/v1/requests?status=all&limit=1").json()["requests"]) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "status must be one of pending, approved, used, denied, expired or all"),
        ("limit=0", "limit must be between 1 and 500"),
        ("limit=501", "limit must be between 1 and 500"),
        ("limit=ten", "limit must be a whole number"),
        ("limit=" + "9" * 5000, "limit must be a whole number"),
    ],
)
def test_bad_listing_queries_are_422(server: Server, alice: Human, query: str, message: str) -> None:
    assert message in error(alice.get(f"/api/v1/requests?{query}"), 422)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/requests/AR-ZZZZZZZZ", 404, "there is no approval request AR-ZZZZZZZZ"),
        ("/api/v1/requests/nonsense", 404, "is not an approval request id"),
        ("/api/v1/requests/AR-ZZZZZZZZ/wait", 404, "there is no approval request"),
        ("/api/v1/requests/%00/wait", 404, "is not an approval request id"),
    ],
)
def test_unknown_or_malformed_request_ids_are_404(
    server: Server, alice: Human, path: str, status: int, message: str
) -> None:
    assert message in error(alice.get(path), status)
    assert message in error(alice.post(path.replace("/wait", "") + "/approve"), status)


def test_answer_bodies_are_validated(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    url = f"/api/v1/requests/{rid}/approve"
    assert "send only comment" in error(alice.post(url, json={"comment": "x", "force": True}), 422)
    assert "at most 2000 characters" in error(alice.post(url, json={"comment": "x" * 2001}), 422)
    assert "at most 2000 characters" in error(alice.post(url, json={"comment": 5}), 422)
    assert "not valid JSON" in error(alice.post(url, content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert alice.get(f"/api/v1/requests/{rid}").json()["answers"] == []


def test_wait_returns_at_the_timeout_or_when_answered(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    url = f"/api/v1/requests/{rid}/wait"
    assert server.client.get(f"{url}?timeout=0", headers=bearer(token)).json() == {
        "id": rid,
        "status": "pending",
        "done": False,
    }
    alice.post(f"/api/v1/requests/{rid}/approve")
    server.sign_in("bob").post(f"/api/v1/requests/{rid}/approve")
    assert server.client.get(f"{url}?timeout=5", headers=bearer(token)).json() == {
        "id": rid,
        "status": "approved",
        "done": True,
    }
    for bad in ("-1", "61", "soon"):
        assert "timeout must be" in error(server.client.get(f"{url}?timeout={bad}", headers=bearer(token)), 422)


def test_a_pending_request_expires(server: Server, token: str, alice: Human) -> None:
    rid = server.held(token)
    server.clock.advance(3601)
    assert alice.get(f"/api/v1/requests/{rid}").json()["status"] == "expired"
    assert "expired" in error(alice.post(f"/api/v1/requests/{rid}/approve"), 409)


# --- halts ----------------------------------------------------------------------------------


def test_a_halt_stops_the_next_decision_and_an_approver_lifts_it(server: Server, token: str, alice: Human) -> None:
    r = alice.post("/api/v1/halts", json={"agent": "deploy-bot", "reason": "incident 42"})
    assert r.status_code == 201
    halt = r.json()
    assert halt["scope"] == "agent deploy-bot" and halt["by"] == "alice" and halt["lifted_at"] is None
    denied = server.decide(token, "git status").json()
    assert denied["decision"] == "deny" and "incident 42" in denied["reason"]
    assert server.decide(server.token("bot-2"), "git status").json()["decision"] == "allow"
    assert [h["id"] for h in server.client.get("/api/v1/halts", headers=bearer(token)).json()["halts"]] == [halt["id"]]
    eve = server.sign_in("eve")
    assert "needs a configured approver; eve is not one" in error(
        eve.post(f"/api/v1/halts/{halt['id']}/resume", json={"reason": "fixed"}), 403
    )
    lifted = alice.post(f"/api/v1/halts/{halt['id']}/resume", json={"reason": "fixed"}).json()
    assert lifted["lifted_by"] == "alice"
    assert server.decide(token, "git status").json()["decision"] == "allow"
    assert f"no active halt {halt['id']}" in error(
        alice.post(f"/api/v1/halts/{halt['id']}/resume", json={"reason": "again"}), 404
    )
    kinds = [e["kind"] for e in server.state.ledger.entries()]
    assert kinds.count("halt") == 1 and kinds.count("resume") == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "reason is required"),
        ({"reason": "  "}, "reason is required"),
        ({"reason": "x", "agent": ""}, "agent must be an agent id"),
        ({"reason": "x", "agent": 7}, "agent must be an agent id"),
        ({"reason": "x", "environment": "moon"}, "environment must be development, staging or production"),
        ({"reason": "x", "everyone": "yes"}, "everyone must be true or false"),
        ({"reason": "x", "until": "never"}, "unknown field(s) until"),
    ],
)
def test_bad_halts_are_422(server: Server, alice: Human, body: dict[str, Any], message: str) -> None:
    assert message in error(alice.post("/api/v1/halts", json=body), 422)
    assert alice.get("/api/v1/halts").json() == {"halts": []}


def test_bad_resumes_are_4xx(server: Server, alice: Human) -> None:
    hid = alice.post("/api/v1/halts", json={"everyone": True, "reason": "stop"}).json()["id"]
    for body in ({}, {"reason": ""}, {"reason": "x", "extra": 1}):
        assert "why it is safe to go on" in error(alice.post(f"/api/v1/halts/{hid}/resume", json=body), 422)
    assert "is not a halt id" in error(alice.post("/api/v1/halts/nope/resume", json={"reason": "x"}), 404)
    assert len(alice.get("/api/v1/halts").json()["halts"]) == 1


# --- ledger ---------------------------------------------------------------------------------


def test_ledger_entries_proofs_and_checkpoints(server: Server, token: str, alice: Human) -> None:
    for command in ("ls", "git status", "pwd"):
        server.decide(token, command)
    page = alice.get("/api/v1/ledger/entries?limit=2").json()
    assert page["size"] == 3 and [e["seq"] for e in page["entries"]] == [2, 1]
    assert [e["seq"] for e in alice.get("/api/v1/ledger/entries?after=1").json()["entries"]] == [2]
    proof = alice.get("/api/v1/ledger/entries/1").json()
    assert proof["proof_valid"] is True and proof["tree_size"] == 3 and proof["entry"]["seq"] == 1
    leaf = base64.b64decode(proof["leaf_hash"])
    path = [base64.b64decode(p) for p in proof["inclusion_proof"]]
    assert merkle.verify_inclusion(1, 3, leaf, path, base64.b64decode(proof["root"]))
    assert "no checkpoint has been signed yet" in error(alice.get("/api/v1/ledger/checkpoints/latest"), 404)
    server.state.gate.checkpoint()
    cp = alice.get("/api/v1/ledger/checkpoints/latest").json()
    assert cp["size"] == 3 and base64.b64decode(cp["root"]) == server.state.ledger.root(3)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/ledger/entries/5", 404, "the ledger has 0 entries; there is no entry 5"),
        ("/api/v1/ledger/entries/-1", 422, "seq must be a whole number"),
        ("/api/v1/ledger/entries/x", 422, "seq must be a whole number"),
        ("/api/v1/ledger/entries/%C2%B2", 422, "seq must be a whole number"),  # "²" is a digit to str.isdigit
        ("/api/v1/ledger/entries/" + "9" * 5000, 422, "seq must be a whole number"),
        ("/api/v1/ledger/entries?limit=0", 422, "limit must be between 1 and 500"),
        ("/api/v1/ledger/entries?after=-2", 422, "after must be between -1 and"),
    ],
)
def test_bad_ledger_reads_are_4xx(server: Server, alice: Human, path: str, status: int, message: str) -> None:
    assert message in error(alice.get(path), status)


# --- agents ---------------------------------------------------------------------------------


def _decision(ts: str, agent: str, outcome: str, request: str | None = None) -> dict[str, Any]:
    entry = {"ts": ts, "kind": "decision", "principal_type": "agent", "principal_id": agent, "decision": outcome}
    return entry | ({"request": request} if request else {})


def test_agents_counts_outcomes_requests_and_the_median_time_to_approval(server: Server, alice: Human) -> None:
    server.state.ledger.append_many(
        [
            _decision("2026-11-20T10:00:00Z", "bot-a", "require_approval", "AR-AAAAAAA1"),
            _decision("2026-11-20T10:00:10Z", "bot-a", "require_approval", "AR-AAAAAAA1"),  # a retry while held
            {"ts": "2026-11-20T10:00:20Z", "kind": "approval", "request": "AR-AAAAAAA1", "status": "pending"},
            {"ts": "2026-11-20T10:00:30Z", "kind": "approval", "request": "AR-AAAAAAA1", "status": "approved"},
            _decision("2026-11-20T10:00:40Z", "bot-a", "allow", "AR-AAAAAAA1"),
            _decision("2026-11-20T10:01:40Z", "bot-a", "require_approval", "AR-AAAAAAA2"),
            {"ts": "2026-11-20T10:03:10Z", "kind": "prompt_answer", "request": "AR-AAAAAAA2", "decision": "allow"},
            _decision("2026-11-20T10:05:00Z", "bot-a", "require_approval", "AR-AAAAAAA3"),  # never approved
            _decision("2026-11-20T11:00:00Z", "bot-b", "deny"),
            _decision("2026-11-20T11:00:01Z", "bot-b", "allow"),
            {"ts": "2026-11-20T12:00:00Z", "kind": "decision", "principal_type": "human", "principal_id": "alice"},
        ]
    )
    doc = alice.get("/api/v1/agents").json()
    assert doc["window"] == {
        "limit": WINDOW,
        "entries_read": 11,
        "from_seq": 0,
        "to_seq": 10,
        "ledger_size": 11,
        "complete": True,
        "note": "computed from the whole ledger (11 entries)",
    }
    assert [a["agent"] for a in doc["agents"]] == ["bot-b", "bot-a"]  # most recently seen first
    a = doc["agents"][1]
    assert a["decisions"] == {"total": 5, "allow": 1, "require_approval": 4, "deny": 0, "other": 0}
    assert a["approvals_requested"] == 3 and a["approvals_granted"] == 2
    assert a["median_seconds_to_approval"] == 60.0  # 30 s and 90 s
    assert (a["first_seen"], a["last_seen"]) == ("2026-11-20T10:00:00Z", "2026-11-20T10:05:00Z")
    b = doc["agents"][0]
    assert b["decisions"]["deny"] == 1 and b["approvals_requested"] == 0 and b["median_seconds_to_approval"] is None


def test_agents_reads_only_the_newest_window_and_says_so(server: Server, alice: Human) -> None:
    server.state.ledger.append_many([_decision(f"2026-11-20T10:00:0{i}Z", f"bot-{i % 2}", "allow") for i in range(6)])
    doc = alice.get("/api/v1/agents?window=3").json()
    assert doc["window"]["complete"] is False and doc["window"]["entries_read"] == 3
    assert (doc["window"]["from_seq"], doc["window"]["to_seq"]) == (3, 5)
    assert "newest 3 of 6 ledger entries" in doc["window"]["note"]
    assert sum(a["decisions"]["total"] for a in doc["agents"]) == 3
    empty = alice.get("/api/v1/agents").json()
    assert empty["window"]["entries_read"] == 6 and empty["window"]["complete"] is True


def test_agents_on_an_empty_ledger_and_bad_windows(server: Server, alice: Human) -> None:
    doc = alice.get("/api/v1/agents").json()
    assert doc["agents"] == [] and doc["window"]["from_seq"] is None and doc["window"]["entries_read"] == 0
    for bad in ("0", "50001", "-1", "many", "1e3"):
        assert f"between 1 and {WINDOW}" in error(alice.get(f"/api/v1/agents?window={bad}"), 422)


def test_agents_from_real_decisions(server: Server, token: str, alice: Human) -> None:
    server.decide(token, "git status")
    rid = server.held(token)
    alice.post(f"/api/v1/requests/{rid}/approve")
    server.sign_in("bob").post(f"/api/v1/requests/{rid}/approve")
    server.decide(token)
    [bot] = alice.get("/api/v1/agents").json()["agents"]
    assert bot["agent"] == "deploy-bot" and bot["decisions"]["total"] == 3
    assert bot["approvals_requested"] == 1 and bot["approvals_granted"] == 1
    assert 0 <= bot["median_seconds_to_approval"] < 5


# --- policy, bundle, explain ------------------------------------------------------------------

REPO_PACK = """pack: team
rules:
  - id: team.no-yarn
    effect: exec
    when: {program: yarn}
    decision: deny
    tier: low
    reason: This team builds with make.
"""
POLICY_TESTS = """tests:
  - name: yarn is denied
    action: {command: "yarn build"}
    expect: {decision: deny, rule: team.no-yarn}
"""


def test_policy_lists_every_rule_with_its_layer_and_the_digest(server: Server, token: str, alice: Human) -> None:
    doc = server.client.get("/api/v1/policy", headers=bearer(token)).json()
    assert alice.get("/api/v1/policy").json() == doc
    rules = {r["id"]: r for r in doc["rules"]}
    mine = rules["release.two-approvers-for-production"]
    assert mine["layer"] == "organisation" and mine["pack"] == "release" and mine["decision"] == "require_approval"
    assert mine["tier"] == "high" and mine["approval"]["k"] == 2 and mine["effects"] == ["deploy"]
    assert rules["git.force-push-protected"]["layer"] == "builtin"
    assert len(doc["rules"]) == len(server.state.gate.policy.rules)
    assert doc["digest"] == server.decide(token, "ls").json()["policy_digest"]
    assert doc["tiers"]["critical"] == "never" and doc["rego"] == []


def test_the_bundle_rebuilds_the_servers_policy_digest(make_server: MakeServer) -> None:
    server = make_server(
        files={".ringfence/policy/team.yaml": REPO_PACK, ".ringfence/policy/team-tests.yaml": POLICY_TESTS}
    )
    bundle = server.client.get("/api/v1/policy/bundle", headers=bearer(server.token())).json()
    assert [(p["name"], p["layer"]) for p in bundle["packs"]] == [
        ("policy.yaml", "organisation"),
        ("team.yaml", "repository"),
    ]
    assert bundle["packs"][1]["yaml"] == REPO_PACK and bundle["rego"] == []
    assert bundle["digest"] == server.state.gate.policy.digest
    assert bundle["builtin_digest"] == builtin_policy().digest
    assert not any(p["name"] in ("core.yaml", "git.yaml") for p in bundle["packs"])  # built-ins stay out
    # what an agent does offline: its built-in packs, then the bundle's files, layer by layer
    rebuilt = _rebuild(bundle, server.root / "offline")
    assert rebuilt.digest == bundle["digest"]
    assert {r.id for r in rebuilt.rules} == {r.id for r in server.state.gate.policy.rules}


def _rebuild(bundle: dict[str, Any], folder: Path) -> Any:
    layers = []
    for name in ("organisation", "repository", "user"):
        paths = []
        for i, pack in enumerate(p for p in bundle["packs"] if p["layer"] == name):
            path = folder / name / f"{i:03d}-{pack['name']}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(pack["yaml"])
            paths.append(path)
        layers.append(Layer(name, tuple(paths)))
    return build(layers, base=builtin_policy())


def test_a_bundle_is_refused_when_the_files_changed_since_the_server_loaded_them(make_server: MakeServer) -> None:
    server = make_server(files={".ringfence/policy/team.yaml": REPO_PACK})
    (server.workspace / ".ringfence" / "policy" / "team.yaml").write_text(REPO_PACK.replace("low", "medium"))
    r = server.client.get("/api/v1/policy/bundle", headers=bearer(server.token()))
    assert "no longer match the policy this server loaded" in error(r, 503)
    assert "restart the server" in r.json()["error"]


def test_the_bundle_carries_the_rego_modules_the_server_evaluates(server: Server, token: str) -> None:
    from ringfence.policy.rego import RegoModules

    module = server.root / "team.rego"
    module.write_text('package team\n\ndeny[msg] {\n  input.action.kind == "shell"\n  msg := "no"\n}\n')
    server.state.gate.rego = RegoModules.load([module])
    bundle = server.client.get("/api/v1/policy/bundle", headers=bearer(token)).json()
    assert bundle["rego"] == [{"name": "team.rego", "text": module.read_text()}]
    assert bundle["digest"] == f"{server.state.gate.policy.digest}+rego:{server.state.gate.rego.digest}"
    assert bundle["digest"] == server.decide(token, "ls").json()["policy_digest"]
    assert server.client.get("/api/v1/policy", headers=bearer(token)).json()["rego"] == ["team.rego"]


def test_explain_traces_a_command_and_records_nothing(server: Server, token: str, alice: Human) -> None:
    body = {"command": "sudo env X=1 bash -c 'git push --force origin main'"}
    doc = server.client.post("/api/v1/explain", json=body, headers=bearer(token)).json()
    assert doc["recorded"] is False and doc["cwd"] == str(server.workspace)
    assert doc["workspace"] == str(server.workspace) and doc["principal"]["id"] == "deploy-bot"
    [cmd] = doc["commands"]
    assert cmd["argv"] == ["git", "push", "--force", "origin", "main"] and cmd["via"] == ["sudo", "env", "bash -c"]
    assert doc["decision"]["decision"] == "deny" and doc["decision"]["rules"] == ["git.force-push-protected"]
    held = alice.post("/api/v1/explain", json={"command": DEPLOY, "agent": "bot-9", "environment": "production"}).json()
    assert held["decision"]["decision"] == "require_approval" and "request" not in held["decision"]
    assert held["principal"]["id"] == "bot-9" and held["environment"] == "production"
    action = {"kind": "file_write", "payload": {"path": ".env", "content": "KEY=1"}, "cwd": str(server.workspace)}
    written = alice.post("/api/v1/explain", json={"action": action}).json()
    assert written["commands"] == [] and written["decision"]["effects"]
    assert server.state.ledger.size() == 0
    assert alice.get("/api/v1/requests?status=all").json() == {"requests": []}


def test_explain_ignores_halts_but_decide_does_not(server: Server, token: str, alice: Human) -> None:
    alice.post("/api/v1/halts", json={"everyone": True, "reason": "freeze"})
    r = server.client.post("/api/v1/explain", json={"command": "ls"}, headers=bearer(token))
    assert r.json()["decision"]["decision"] == "allow"
    assert server.decide(token, "ls").json()["decision"] == "deny"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, 'send exactly one of {"command": "..."} or {"action": {...}}'),
        ({"command": "ls", "action": {}}, "send exactly one of"),
        ({"command": ""}, "command must be a non-empty string"),
        ({"command": ["ls"]}, "command must be a non-empty string"),
        ({"command": "x" * 70000}, "the limit is 65536"),
        ({"command": "ls", "cwd": "relative"}, "cwd must be an absolute path"),
        ({"command": "ls", "environment": "moon"}, "environment must be one of"),
        ({"command": "ls", "agent": ""}, "agent must be a non-empty agent id"),
        ({"command": "ls", "extra": 1}, "unknown field(s) extra"),
        ({"action": {"kind": "shell", "cwd": "/"}}, "needs payload.command"),
        ({"action": {"kind": "shell", "payload": {"command": "ls"}, "cwd": "/"}, "cwd": "/"}, "cwd and environment"),
    ],
)
def test_bad_explain_requests_are_422(server: Server, alice: Human, body: dict[str, Any], message: str) -> None:
    assert message in error(alice.post("/api/v1/explain", json=body), 422)


def test_an_agent_explains_only_as_itself(server: Server, token: str) -> None:
    r = server.client.post("/api/v1/explain", json={"command": "ls", "agent": "bot-2"}, headers=bearer(token))
    assert "this token is for deploy-bot; it cannot explain decisions for bot-2" in error(r, 403)
    r = server.client.post("/api/v1/explain", json={"command": "ls", "agent": "deploy-bot"}, headers=bearer(token))
    assert r.status_code == 200
