"""Notifications leave through the outbox: queued with the request, posted by a sweep."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ringfence.control.notify import channel_from_mapping, verify_webhook
from ringfence.control.outbox import MAX_ATTEMPTS, run_once
from ringfence.model import Outcome
from tests.control.harness import Harness, harness

SECRET = "s3cret-for-tests"


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def h(state_location: str, tmp_path: Path, receiver: Receiver) -> Harness:
    channel = channel_from_mapping("ops", {"kind": "webhook", "url": receiver.url, "secret": SECRET})
    return harness(
        state_location,
        tmp_path,
        channels={"ops": channel},
        notify=("ops",),
        escalate_to=("ops",),
        escalate_after=600.0,
    )


def test_a_new_request_is_posted_signed_by_the_next_sweep(h: Harness, receiver: Receiver) -> None:
    held = h.decide("vercel deploy --prod")
    assert held.outcome is Outcome.REQUIRE_APPROVAL
    assert receiver.requests == []  # the decision path never touches the network
    report = run_once(h.store, h.settings)
    assert report.delivered == [f"ops:requested:{held.request_id}"]
    headers, body = receiver.requests[0]
    verify_webhook(SECRET, headers, body, now=h.clock())
    doc = json.loads(body)
    assert doc["event"] == "requested" and doc["request"]["id"] == held.request_id
    assert doc["request"]["requirement"] == "2 approvals from release-managers"
    assert run_once(h.store, h.settings).quiet  # delivered once


def test_failed_posts_are_retried_with_backoff_then_given_up(h: Harness, receiver: Receiver) -> None:
    h.decide("vercel deploy --prod")
    receiver.script = [500] * MAX_ATTEMPTS
    first = run_once(h.store, h.settings, rng=lambda lo, hi: hi)
    assert len(first.retrying) == 1 and "HTTP 500" in first.retrying[0]
    assert run_once(h.store, h.settings).quiet  # not due yet: backing off
    for _ in range(MAX_ATTEMPTS - 1):
        h.clock.advance(3600)
        last = run_once(h.store, h.settings, rng=lambda lo, hi: hi)
    assert len(last.failed) == 1
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_permanent_error_is_not_retried(h: Harness, receiver: Receiver) -> None:
    h.decide("vercel deploy --prod")
    receiver.script = [404]
    assert len(run_once(h.store, h.settings).failed) == 1
    h.clock.advance(3600)
    run_once(h.store, h.settings)
    assert len(receiver.requests) == 1


def test_escalation_then_expiry(h: Harness, receiver: Receiver) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    run_once(h.store, h.settings)
    h.clock.advance(601)
    report = run_once(h.store, h.settings)
    assert report.escalated == [rid] and report.delivered == [f"ops:escalated:{rid}"]
    assert json.loads(receiver.requests[-1][1])["request"]["escalation"] is True
    h.clock.advance(3000)
    assert run_once(h.store, h.settings).expired == [rid]


def test_settling_a_request_notifies_too(h: Harness, receiver: Receiver) -> None:
    rid = h.decide("vercel deploy --prod").request_id
    assert rid
    h.approve_all(rid, "alice", "bob")
    report = run_once(h.store, h.settings)
    assert f"ops:approved:{rid}" in report.delivered


def test_sweep_command_sends_what_is_queued(tmp_path: Path, receiver: Receiver) -> None:
    from tests.control.flow import cli, create_keys, deploy, release_config, request_id, write_config
    from tests.helpers import isolated_env, make_workspace

    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    keys = create_keys(env, ws, "alice", "bob")
    config = release_config(keys)
    config["channels"] = {"ops": {"kind": "webhook", "url": receiver.url, "secret": SECRET}}
    config["approvals"] = {"notify": ["ops"]}
    write_config(env, config)
    rid = request_id(deploy(env, ws))
    swept = cli(env, ws, "approvals", "sweep")
    assert swept.returncode == 0, swept.stderr
    assert f"ops:requested:{rid}" in swept.stdout
    assert json.loads(receiver.requests[0][1])["request"]["id"] == rid
    assert "nothing to do" in cli(env, ws, "approvals", "sweep").stdout
