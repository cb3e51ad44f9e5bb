"""Approve and Deny buttons pressed in Slack: verified, mapped to approvers, signed by the service key."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pytest

from ringfence.control.approvals import signature_problem
from ringfence.control.interactions import slack_answer
from ringfence.control.keys import create_key, load_key
from ringfence.control.slack import SlackSignatureError
from ringfence.errors import ApprovalError
from tests.control.harness import Harness, harness

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def h(state_location: str, tmp_path: Path) -> Harness:
    _, public = create_key("ringfence-server", directory=tmp_path / "service")
    hh = harness(state_location, tmp_path, service_keys=(public,))
    hh.keys["service"] = load_key("ringfence-server", directory=tmp_path / "service")
    return hh


def press(h: Harness, rid: str, user: str, action: str = "approve", *, secret: str = SIGNING_SECRET, age: int = 0):
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0TEAM"},
        "team": {"id": "T0TEAM"},
        "response_url": "https://hooks.slack.com/actions/T0TEAM/1/xyz",
        "actions": [{"action_id": f"ringfence_{action}", "value": rid, "type": "button"}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(h.clock()) - age)
    sig = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
    return headers, body


def call(h: Harness, headers: dict[str, str], body: bytes):
    return slack_answer(
        h.store, h.settings, headers, body, signing_secret=SIGNING_SECRET, service_key=h.keys["service"]
    )


def test_buttons_approve_and_the_answer_verifies_offline(h: Harness) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    assert rid
    first = call(h, *press(h, rid, "U0ALICE1"))
    assert first.answer.request.status == "pending" and "needs 1 more" in first.response["text"]
    second = call(h, *press(h, rid, "U0BOB22"))
    assert second.answer.request.status == "approved"
    records = h.store.approvals(rid)
    assert [(r.approver, r.via) for r in records] == [("alice", "slack"), ("bob", "slack")]
    assert all(signature_problem(r, h.store.get(rid), h.settings) is None for r in records)
    # without the service key configured, the same records no longer verify
    bare = replace(h.settings, service_keys=())
    assert signature_problem(records[0], h.store.get(rid), bare) is not None


def test_replay_is_refused_and_changes_nothing(h: Harness) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    assert rid
    headers, body = press(h, rid, "U0ALICE1")
    call(h, headers, body)
    with pytest.raises(SlackSignatureError, match="replay"):
        call(h, headers, body)
    assert len(h.store.approvals(rid)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"secret": "wrong-secret"}, "does not match"), ({"age": 301}, "old")],
)
def test_bad_signatures_are_refused(h: Harness, kwargs: dict[str, object], message: str) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    assert rid
    with pytest.raises(SlackSignatureError, match=message):
        call(h, *press(h, rid, "U0ALICE1", **kwargs))  # type: ignore[arg-type]
    assert h.store.approvals(rid) == []


def test_unmapped_slack_user_is_refused(h: Harness) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    assert rid
    with pytest.raises(ApprovalError, match="not mapped to an approver"):
        call(h, *press(h, rid, "U0STRANGER"))


def test_slack_deny_ends_the_request(h: Harness) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    assert rid
    assert call(h, *press(h, rid, "U0BOB22", "deny")).answer.request.status == "denied"
