"""Slack's Approve/Deny buttons through the server's interaction endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse

import pytest

from ringfence.control.approvals import signature_problem
from ringfence.ledger.store import open_ledger
from tests.server.conftest import APPROVERS, MakeServer, Server, server_config

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/api/v1/integrations/slack/interactions"


@pytest.fixture
def slack_server(make_server: MakeServer, monkeypatch: pytest.MonkeyPatch) -> Server:
    monkeypatch.setenv("TEST_SLACK_SECRET", SECRET)
    approvers = {name: dict(spec) for name, spec in APPROVERS.items()}
    approvers["alice"]["slack"] = "U0ALICE1"
    approvers["bob"]["slack"] = "U0BOB22"
    approvers["carol"]["slack"] = "U0CAROL3"
    return make_server(
        config=server_config(approvers=approvers, approvals={"slack_signing_secret_env": "TEST_SLACK_SECRET"})
    )


def press(
    rid: str, user: str, action: str = "approve", *, secret: str = SECRET, age: int = 0
) -> tuple[bytes, dict[str, str]]:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0TEAM"},
        "team": {"id": "T0TEAM"},
        "response_url": "https://hooks.slack.com/actions/T0TEAM/1/xyz",
        "actions": [{"action_id": f"ringfence_{action}", "value": rid, "type": "button"}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()) - age)
    sig = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return body, {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_two_slack_approvals_release_the_action(slack_server: Server) -> None:
    s = slack_server
    token = s.token()
    rid = s.held(token)
    s.clock.now = time.time()
    body, headers = press(rid, "U0ALICE1")
    first = s.client.post(URL, content=body, headers=headers)
    assert first.status_code == 200 and "needs 1 more" in first.json()["text"]
    replay = s.client.post(URL, content=body, headers=headers)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]
    body, headers = press(rid, "U0BOB22")
    assert s.client.post(URL, content=body, headers=headers).json()["text"].endswith("now approved")
    assert s.decide(token).json()["decision"] == "allow"
    request = s.state.store.get(rid)
    records = s.state.store.approvals(rid)
    assert [(r.approver, r.via) for r in records] == [("alice", "slack"), ("bob", "slack")]
    assert all(signature_problem(r, request, s.state.gate.settings.control) is None for r in records)
    ledger = open_ledger(s.state.ledger.backend.where)
    assert [e["principal_id"] for e in ledger.recent(20) if e.get("kind") == "approval"] == ["bob", "alice"]


def test_refusals(slack_server: Server) -> None:
    s = slack_server
    rid = s.held(s.token())
    s.clock.now = time.time()
    wrong = s.client.post(
        URL, content=press(rid, "U0ALICE1", secret="nope")[0], headers=press(rid, "U0ALICE1", secret="nope")[1]
    )
    assert wrong.status_code == 401
    body, headers = press(rid, "U0ALICE1", age=400)
    assert s.client.post(URL, content=body, headers=headers).status_code == 401
    body, headers = press(rid, "U0CAROL3")  # carol owns the agent
    owner = s.client.post(URL, content=body, headers=headers)
    assert owner.status_code == 200 and "Not recorded" in owner.json()["text"] and "owns" in owner.json()["text"]
    body, headers = press(rid, "U0NOBODY")
    assert "not mapped to an approver" in s.client.post(URL, content=body, headers=headers).json()["text"]
    bad = s.client.post(URL, content=b"payload=%7B%7D", headers=press(rid, "U0ALICE1")[1])
    assert bad.status_code == 401  # the signature covers the body
    assert s.state.store.approvals(rid) == []


def test_not_configured_is_404(make_server: MakeServer) -> None:
    s = make_server()
    r = s.client.post(URL, content=b"payload=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 404 and "slack_signing_secret_env" in r.json()["error"]
