"""Notification channels: configuration, signed webhooks, rendering and delivery with retries.

Delivery is tested against a real HTTP server on 127.0.0.1 that answers from a script.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ringfence.control.notify import (
    Channel,
    ChannelConfigError,
    Delivery,
    PostResult,
    WebhookSignatureError,
    channel_from_mapping,
    deliver,
    mask_url,
    render,
    sign_webhook,
    verify_webhook,
    webhook_body,
)
from ringfence.control.slack import block_kit_message
from ringfence.errors import ApprovalError, ControlError

SECRET = "whsec-0123456789abcdef"
NOW = 1_700_000_000
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN"


def make_request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "id": "AR-7K2Q9XMB",
        "summary": "shell: kubectl rollout restart deploy/api -n prod",
        "requester": "agent:claude-code (owner alice)",
        "tier": "high",
        "rules": ["prod-deploys"],
        "effects": ["k8s.rollout"],
        "requirement": "2 approvals from release-managers, at least 1 from sre",
        "reason": "restarts every pod of the production API",
        "expires_at": NOW + 3600.0,
        "status": "pending",
        "approvals": [{"approver": "bob", "verdict": "approve"}],
    }
    request.update(overrides)
    return request


# A scripted local HTTP server.

HANG = "hang"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """Answers POSTs from ``script`` (then 200), recording each request."""

    url: str = ""
    script: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, *responses: int | tuple[int, dict[str, str], bytes] | str) -> None:
        self.script.extend(responses)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left is expected here


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            step = state.script.pop(0) if state.script else 200
            if step == HANG:
                state.release.wait(2)
                return
            status, headers, reply = (step, {}, b"") if isinstance(step, int) else step
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/services/T000/B000/XXXXSECRETTOKEN"
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=2)


class Sleeps(list[float]):
    """A fake ``sleep`` that records how long it was asked to sleep."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def upper_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the full jitter deterministic: always the upper bound."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)


def webhook(url: str) -> Channel:
    return Channel(name="audit", kind="webhook", url=url, secret=SECRET)


# Channels.


def test_a_slack_channel_from_configuration() -> None:
    channel = channel_from_mapping("ops", {"kind": "slack", "url": SLACK_URL})
    assert channel == Channel(name="ops", kind="slack", url=SLACK_URL, secret=None)


def test_values_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_HOOK_URL", "https://audit.example/hooks/ringfence")
    monkeypatch.setenv("AUDIT_HOOK_SECRET", SECRET)
    channel = channel_from_mapping(
        "audit", {"kind": "webhook", "url_env": "AUDIT_HOOK_URL", "secret_env": "AUDIT_HOOK_SECRET"}
    )
    assert channel == webhook("https://audit.example/hooks/ringfence")


def test_the_channel_error_is_a_control_error() -> None:
    assert issubclass(ChannelConfigError, ControlError)
    assert issubclass(WebhookSignatureError, ControlError)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"kind": "slack", "url": SLACK_URL, "channel": "#ops"}, r"channel 'ops': unknown key 'channel' \(allowed: "),
        ({"url": SLACK_URL}, r"channel 'ops': key 'kind' is missing"),
        ({"kind": "email", "url": SLACK_URL}, r"channel 'ops': key 'kind' must be slack or webhook, not 'email'"),
        ({"kind": "slack"}, r"channel 'ops': key 'url' \(or 'url_env'\) is missing"),
        ({"kind": "slack", "url": ""}, r"channel 'ops': key 'url' must be a non-empty string"),
        ({"kind": "slack", "url": 42}, r"channel 'ops': key 'url' must be a non-empty string"),
        ({"kind": "slack", "url": "ftp://files.example/x"}, r"channel 'ops': key 'url' must be an http\(s\) URL"),
        ({"kind": "slack", "url": "hooks.slack.com/services/T/B/X"}, r"key 'url' must be an http\(s\) URL"),
        ({"kind": "slack", "url": SLACK_URL, "url_env": "X"}, r"channel 'ops': give either 'url' or 'url_env'"),
        ({"kind": "slack", "url_env": "NOT-A-NAME"}, r"key 'url_env' must name an environment variable"),
        ({"kind": "slack", "url_env": "RINGFENCE_TEST_UNSET"}, r"environment variable RINGFENCE_TEST_UNSET"),
        ({"kind": "webhook", "url": "https://audit.example/hook"}, r"channel 'ops': a webhook channel needs 'secret'"),
        ({"kind": "webhook", "url": "https://a.example/h", "secret": ""}, r"key 'secret' must be a non-empty string"),
    ],
)
def test_an_invalid_channel_names_the_channel_and_the_key(doc: Any, message: str) -> None:
    with pytest.raises(ChannelConfigError, match=message):
        channel_from_mapping("ops", doc)


def test_a_channel_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(ChannelConfigError, match="channel 'ops' must be a mapping with 'kind' and 'url', not list"):
        channel_from_mapping("ops", [SLACK_URL])  # type: ignore[arg-type]


def test_errors_never_show_the_secret_or_the_slack_token() -> None:
    doc = {"kind": "slack", "url": SLACK_URL.replace("https", "ftp"), "secret": "s3cr3t-value"}
    with pytest.raises(ChannelConfigError) as caught:
        channel_from_mapping("ops", doc)
    assert "XXXXSECRETTOKEN" not in str(caught.value)
    assert "ftp://hooks.slack.com/services/***" in str(caught.value)
    channel = Channel(name="audit", kind="webhook", url="https://a.example/h/tok?key=abc", secret="s3cr3t-value")
    assert repr(channel) == "Channel(name='audit', kind='webhook', url='https://a.example/h/***?***', secret=<set>)"


def test_a_channel_checks_itself_when_built_directly() -> None:
    with pytest.raises(ChannelConfigError, match="needs a secret"):
        Channel(name="audit", kind="webhook", url="https://a.example/h")
    with pytest.raises(ChannelConfigError, match="kind must be slack or webhook"):
        Channel(name="audit", kind="email", url="https://a.example/h")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (SLACK_URL, "https://hooks.slack.com/services/***"),
        ("https://user:pw@audit.example:8443/hook", "https://audit.example:8443/hook"),
        ("https://audit.example/hook?token=abc", "https://audit.example/hook?***"),
        ("http://[::1]:8080/a/b", "http://[::1]:8080/a/***"),
        ("https://audit.example", "https://audit.example"),
        ("http://host:notaport/x", "<malformed URL>"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


# Signed webhooks.


def test_the_webhook_body_is_canonical_json() -> None:
    body = webhook_body(make_request(url="https://ringfence.example/r/AR-7K2Q9XMB", extra="dropped"), "requested")
    doc = json.loads(body)
    assert body == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert doc["event"] == "requested"
    assert doc["request"]["id"] == "AR-7K2Q9XMB"
    assert doc["request"]["url"] == "https://ringfence.example/r/AR-7K2Q9XMB"
    assert "extra" not in doc["request"]
    assert webhook_body(make_request(), "requested") == webhook_body(
        dict(reversed(make_request().items())), "requested"
    )


def test_a_webhook_body_needs_a_whole_request() -> None:
    request = make_request()
    del request["status"]
    with pytest.raises(ApprovalError, match="approval request has no field 'status'"):
        webhook_body(request, "requested")
    with pytest.raises(ApprovalError, match="cannot be sent as JSON"):
        webhook_body(make_request(expires_at=float("nan")), "requested")


def test_the_signature_is_an_hmac_of_timestamp_and_body() -> None:
    body = b'{"event":"requested"}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign_webhook(SECRET, NOW, body) == f"sha256={expected}"


def signed(body: bytes, *, secret: str = SECRET, timestamp: int = NOW) -> dict[str, str]:
    return {"X-Ringfence-Timestamp": str(timestamp), "X-Ringfence-Signature": sign_webhook(secret, timestamp, body)}


def test_verify_webhook_accepts_a_good_signature_in_any_header_case() -> None:
    body = webhook_body(make_request(), "requested")
    verify_webhook(SECRET, signed(body), body, now=NOW)
    verify_webhook(SECRET, {key.upper(): value for key, value in signed(body).items()}, body, now=NOW + 300)


@pytest.mark.parametrize(
    ("headers", "body", "now", "message"),
    [
        (signed(b"{}", secret="other"), b"{}", NOW, "X-Ringfence-Signature does not match"),
        (signed(b"{}"), b"{ }", NOW, "X-Ringfence-Signature does not match"),
        (signed(b"{}"), b"{}", NOW + 301, "is stale: 301 s old"),
        (signed(b"{}"), b"{}", NOW - 301, "is from the future: 301 s ahead"),
        ({"X-Ringfence-Signature": "sha256=00"}, b"{}", NOW, "the X-Ringfence-Timestamp header is missing"),
        ({"X-Ringfence-Timestamp": str(NOW)}, b"{}", NOW, "the X-Ringfence-Signature header is missing"),
        (signed(b"{}") | {"X-Ringfence-Timestamp": "soon"}, b"{}", NOW, "is not an integer: 'soon'"),
        (signed(b"{}") | {"X-Ringfence-Signature": "md5=00"}, b"{}", NOW, "must start with 'sha256='"),
    ],
)
def test_verify_webhook_rejects(headers: dict[str, str], body: bytes, now: int, message: str) -> None:
    with pytest.raises(WebhookSignatureError, match=message):
        verify_webhook(SECRET, headers, body, now=now)


# Rendering.


def test_render_for_slack_is_the_block_kit_message() -> None:
    channel = Channel(name="ops", kind="slack", url=SLACK_URL)
    body, headers = render(channel, make_request(), "requested")
    assert json.loads(body) == block_kit_message(make_request())
    assert headers == {"Content-Type": "application/json; charset=utf-8"}


def test_render_for_a_webhook_is_signed() -> None:
    body, headers = render(webhook("https://audit.example/hook"), make_request(), "escalated", now=NOW)
    assert body == webhook_body(make_request(), "escalated")
    assert headers["X-Ringfence-Event"] == "escalated"
    assert headers["X-Ringfence-Timestamp"] == str(NOW)
    verify_webhook(SECRET, headers, body, now=NOW)


# Delivery.


def test_a_delivery_that_succeeds_first_time(server: Server) -> None:
    sleeps = Sleeps()
    channel = Channel(name="ops", kind="slack", url=server.url)
    body, headers = render(channel, make_request(), "requested")
    assert deliver(channel, body, headers, sleep=sleeps) == Delivery(ok=True, attempts=1, status=200, error=None)
    assert sleeps == []
    [received] = server.received
    assert received.path == "/services/T000/B000/XXXXSECRETTOKEN"
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert received.headers["User-Agent"].startswith("ringfence")
    assert json.loads(received.body)["blocks"][0]["text"]["text"] == "Approval needed: AR-7K2Q9XMB"


def test_a_signed_webhook_verifies_at_the_receiver(server: Server) -> None:
    channel = webhook(server.url)
    body, headers = render(channel, make_request(), "requested")
    assert deliver(channel, body, headers, sleep=Sleeps()).ok
    [received] = server.received
    verify_webhook(SECRET, received.headers, received.body)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_webhook("wrong-secret", received.headers, received.body)


def test_server_errors_are_retried_with_exponential_backoff(server: Server, upper_jitter: None) -> None:
    server.answer(500, 502, 200)
    sleeps = Sleeps()
    delivery = deliver(webhook(server.url), b"{}", {}, sleep=sleeps)
    assert delivery == Delivery(ok=True, attempts=3, status=200, error=None)
    assert sleeps == [0.5, 1.0]
    assert len(server.received) == 3


def test_the_backoff_is_full_jitter_within_the_cap(server: Server) -> None:
    server.answer(503, 503, 503, 503)
    sleeps = Sleeps()
    delivery = deliver(webhook(server.url), b"{}", {}, backoff=10.0, max_backoff=15.0, sleep=sleeps)
    assert delivery.ok and delivery.attempts == 5
    assert len(sleeps) == 4
    for sleep, cap in zip(sleeps, [10.0, 15.0, 15.0, 15.0], strict=True):
        assert 0 <= sleep <= cap


def test_retries_give_up_after_the_last_attempt(server: Server, upper_jitter: None) -> None:
    server.answer(*[(503, {}, b"upstream down")] * 5)
    sleeps = Sleeps()
    delivery = deliver(Channel(name="ops", kind="slack", url=server.url), b"{}", {}, sleep=sleeps)
    assert delivery.ok is False
    assert delivery.attempts == 5
    assert delivery.status == 503
    assert delivery.error is not None
    assert delivery.error.startswith(f"gave up on {mask_url(server.url)} after 5 attempts: HTTP 503 (upstream down)")
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # no sleep after the last attempt
    assert len(server.received) == 5


def test_a_429_honours_retry_after_capped_at_max_backoff(server: Server) -> None:
    server.answer((429, {"Retry-After": "7"}, b""), (429, {"Retry-After": "120"}, b""), 200)
    sleeps = Sleeps()
    delivery = deliver(webhook(server.url), b"{}", {}, sleep=sleeps)
    assert delivery == Delivery(ok=True, attempts=3, status=200, error=None)
    assert sleeps == [7.0, 30.0]


def test_a_429_without_a_usable_retry_after_backs_off(server: Server, upper_jitter: None) -> None:
    server.answer(429, (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, b""), 200)
    sleeps = Sleeps()
    assert deliver(webhook(server.url), b"{}", {}, sleep=sleeps).ok
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413])
def test_a_client_error_is_permanent(server: Server, status: int) -> None:
    server.answer((status, {}, b"invalid_token"))
    sleeps = Sleeps()
    delivery = deliver(Channel(name="ops", kind="slack", url=server.url), b"{}", {}, sleep=sleeps)
    assert delivery == Delivery(
        ok=False,
        attempts=1,
        status=status,
        error=f"HTTP {status} (invalid_token) from {mask_url(server.url)}: "
        "not retried, the receiver rejected the request",
    )
    assert sleeps == []
    assert len(server.received) == 1


def test_a_redirect_is_not_followed(server: Server) -> None:
    server.answer((302, {"Location": "http://127.0.0.1:9/elsewhere"}, b""))
    delivery = deliver(webhook(server.url), b"{}", {}, sleep=Sleeps())
    assert (delivery.ok, delivery.attempts, delivery.status) == (False, 1, 302)
    assert delivery.error is not None and "redirects are not followed" in delivery.error


def test_errors_never_show_the_url_token(server: Server) -> None:
    server.answer((500, {}, b"boom " + server.url.encode()), (404, {}, b"no_service"))
    delivery = deliver(Channel(name="ops", kind="slack", url=server.url), b"{}", {}, sleep=Sleeps())
    assert delivery.error is not None
    assert "XXXXSECRETTOKEN" not in delivery.error
    assert "/services/***" in delivery.error


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_receiver_fails_after_all_attempts_quickly(upper_jitter: None) -> None:
    channel = webhook(f"http://127.0.0.1:{unused_port()}/hook/token")
    sleeps = Sleeps()
    started = time.monotonic()
    delivery = deliver(channel, b"{}", {}, attempts=3, sleep=sleeps, timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert (delivery.ok, delivery.attempts, delivery.status) == (False, 3, None)
    assert delivery.error is not None
    assert delivery.error.startswith(f"gave up on http://127.0.0.1:{channel.url.split(':')[2].split('/')[0]}/hook/***")
    assert "connection failed" in delivery.error and "refused" in delivery.error.lower()
    assert sleeps == [0.5, 1.0]


def test_a_receiver_that_hangs_times_out_and_is_retried(server: Server) -> None:
    server.answer(HANG, HANG)
    sleeps = Sleeps()
    delivery = deliver(webhook(server.url), b"{}", {}, attempts=2, timeout=0.05, sleep=sleeps)
    assert (delivery.ok, delivery.attempts, delivery.status) == (False, 2, None)
    assert delivery.error is not None and delivery.error.endswith("timed out after 0.05 s")
    assert len(sleeps) == 1


def test_a_timeout_then_success(server: Server) -> None:
    server.answer(HANG, 204)
    delivery = deliver(webhook(server.url), b"{}", {}, timeout=0.05, sleep=Sleeps())
    assert delivery == Delivery(ok=True, attempts=2, status=204, error=None)


def test_an_injected_post_may_return_a_bare_status() -> None:
    statuses = iter([503, 201])
    calls: list[tuple[str, bytes, float]] = []

    def post(url: str, body: bytes, headers: Any, timeout: float) -> int:
        calls.append((url, body, timeout))
        return next(statuses)

    delivery = deliver(webhook("https://a.example/h"), b"{}", {}, post=post, sleep=Sleeps(), timeout=2.0)
    assert delivery == Delivery(ok=True, attempts=2, status=201, error=None)
    assert calls == [("https://a.example/h", b"{}", 2.0)] * 2


def test_an_injected_post_may_report_retry_after() -> None:
    results = iter([PostResult(429, retry_after=3.0), PostResult(200)])
    sleeps = Sleeps()
    assert deliver(webhook("https://a.example/h"), b"{}", {}, post=lambda *_: next(results), sleep=sleeps).ok
    assert sleeps == [3.0]


def test_deliver_never_raises() -> None:
    def post(url: str, body: bytes, headers: Any, timeout: float) -> int:
        raise ValueError(f"cannot handle {url} with secret {SECRET}")

    channel = webhook("https://a.example/hooks/tok")
    delivery = deliver(channel, b"{}", {}, post=post, sleep=Sleeps())
    assert delivery == Delivery(
        ok=False,
        attempts=1,
        status=None,
        error="cannot send to https://a.example/hooks/***: ValueError: cannot handle https://a.example/hooks/*** "
        "with secret ***",
    )
    assert deliver(channel, b"{}", {}, attempts=0) == Delivery(
        ok=False, attempts=0, status=None, error="attempts must be at least 1, got 0"
    )
