"""GitHub deployment protection rules: signed webhooks in, answers out through the outbox.

Payloads have the shape GitHub documents for ``deployment_protection_rule`` (action
``requested``); answers go to a real HTTP receiver on 127.0.0.1 standing in for the
GitHub API, which can be taken down to show the outbox retrying."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ringfence.config import load_settings
from ringfence.control.outbox import run_once
from ringfence.errors import ConfigError
from tests.pg import pg_schema
from tests.server.conftest import MakeServer, Server, server_config

SECRET = "It's a Secret to Everybody"
TOKEN = "ghs_installationtoken0123456789abcdef"
SHA = "4fb7d8f2a9c0e1b2c3d4e5f60718293a4b5c6d7e"
PATH = "/api/v1/integrations/github/deployment-protection"


@dataclass
class Receiver:
    """A stand-in for the GitHub API: records every request, answers ``status``."""

    port: int = 0
    status: int = 204
    received: list[dict[str, Any]] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append({"path": self.path, "headers": headers, "body": json.loads(body)})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


def github_server(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, database: str | None = None
) -> Server:
    monkeypatch.setenv("RF_TEST_GH_SECRET", SECRET)
    monkeypatch.setenv("RF_TEST_GH_TOKEN", TOKEN)
    github = {"webhook_secret_env": "RF_TEST_GH_SECRET", "token_env": "RF_TEST_GH_TOKEN", "api_url": receiver.url}
    return make_server(server_config(integrations={"github": github}), database=database)


def payload(
    receiver: Receiver, environment: str = "production", sender: str = "octocat", **extra: Any
) -> dict[str, Any]:
    """A ``deployment_protection_rule`` ``requested`` payload, as GitHub sends it."""
    run = extra.pop("run", 30433642)
    return {
        "action": "requested",
        "environment": environment,
        "event": "push",
        "deployment_callback_url": extra.pop(
            "callback", f"{receiver.url}/repos/acme/web/actions/runs/{run}/deployment_protection_rule"
        ),
        "deployment": {
            "url": "https://api.github.com/repos/acme/web/deployments/1",
            "id": 1,
            "node_id": "MDEwOkRlcGxveW1lbnQx",
            "task": "deploy",
            "original_environment": environment,
            "environment": environment,
            "description": None,
            "created_at": "2026-11-22T08:00:00Z",
            "updated_at": "2026-11-22T08:00:00Z",
            "statuses_url": "https://api.github.com/repos/acme/web/deployments/1/statuses",
            "repository_url": "https://api.github.com/repos/acme/web",
            "creator": {"login": sender, "id": 1, "type": "Bot" if sender.endswith("[bot]") else "User"},
            "sha": SHA,
            "ref": "main",
            "payload": {},
            "transient_environment": False,
            "production_environment": environment == "production",
        },
        "pull_requests": [],
        "repository": {"id": 1296269, "name": "web", "full_name": "acme/web", "private": True},
        "organization": {"login": "acme", "id": 9919},
        "installation": {"id": 2311213, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMg=="},
        "sender": {"login": sender, "id": 1, "type": "Bot" if sender.endswith("[bot]") else "User"},
        **extra,
    }


def send(
    server: Server, doc: Any, *, event: str = "deployment_protection_rule", secret: str | None = SECRET, **headers: str
) -> httpx.Response:
    body = json.dumps(doc).encode()
    h = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": headers.pop("delivery", "")}
    if secret is not None:
        h["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    h.update(headers)
    return server.client.post(PATH, content=body, headers={k: v for k, v in h.items() if v})


def sweep(server: Server) -> Any:
    return run_once(server.state.store, server.state.gate.settings.control)


def callbacks(server: Server) -> list[tuple[Any, ...]]:
    with server.state.store.reading() as tx:
        return tx.query("SELECT request_id, answer FROM callbacks ORDER BY created_at")


def test_an_allowed_deployment_is_approved_through_the_callback(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    r = send(server, payload(receiver, "staging"), delivery="d-1")
    assert r.status_code == 202, r.text
    assert r.json()["decision"] == "allow" and r.json()["answer"] == "approved"
    assert len(receiver.received) == 1  # sent right after the webhook was answered
    got = receiver.received[0]
    assert got["path"] == "/repos/acme/web/actions/runs/30433642/deployment_protection_rule"
    assert got["body"]["environment_name"] == "staging" and got["body"]["state"] == "approved"
    assert got["body"]["comment"].startswith("ringfence allowed the deployment to staging")
    assert got["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert got["headers"]["accept"] == "application/vnd.github+json"
    assert got["headers"]["x-github-api-version"] == "2022-11-28"
    # the decision is in the ledger, for the sender, bound to the commit
    entry = server.state.ledger.recent(1)[-1]
    assert entry["principal_id"] == "octocat" and entry["principal_type"] == "human"
    assert entry["action"]["payload"]["artifact"] == f"git:{SHA}" and entry["action"]["payload"]["run"] == "30433642"
    # a redelivery of the same delivery is ignored
    again = send(server, payload(receiver, "staging"), delivery="d-1")
    assert again.status_code == 202 and "already handled" in again.json()["ignored"]
    assert len(receiver.received) == 1


def test_a_redelivery_after_a_failure_is_handled(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    store = server.state.store
    real = store.add_callback

    def broken(*args: Any, **kw: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(store, "add_callback", broken)
    assert send(server, payload(receiver, "staging"), delivery="d-9").status_code == 500
    monkeypatch.setattr(store, "add_callback", real)
    again = send(server, payload(receiver, "staging"), delivery="d-9")
    assert again.status_code == 202 and again.json()["answer"] == "approved", again.text
    assert [x["body"]["state"] for x in receiver.received] == ["approved"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_held_production_deployment_is_answered_only_once_approved(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, backend: str
) -> None:
    if backend == "postgres":
        with pg_schema() as url:
            server = github_server(make_server, monkeypatch, receiver, database=url)
            try:
                _held_then_approved(server, receiver)
            finally:
                server.close()
    else:
        _held_then_approved(github_server(make_server, monkeypatch, receiver), receiver)


def _held_then_approved(server: Server, receiver: Receiver) -> None:
    r = send(server, payload(receiver), delivery="d-2")
    assert r.status_code == 202, r.text
    rid = r.json()["request"]
    assert r.json()["decision"] == "require_approval" and rid.startswith("AR-")
    sweep(server)
    assert receiver.received == []  # nothing is answered while the request is pending
    alice, bob = server.sign_in("alice"), server.sign_in("bob")
    assert alice.post(f"/api/v1/requests/{rid}/approve").status_code == 200
    sweep(server)
    assert receiver.received == []  # one of two approvals
    assert bob.post(f"/api/v1/requests/{rid}/approve").status_code == 200
    report = sweep(server)
    assert len(report.delivered) == 1, report
    assert [x["body"]["state"] for x in receiver.received] == ["approved"]
    assert rid in receiver.received[0]["body"]["comment"]
    request = server.state.store.get(rid)
    assert request.effective_status(server.clock()) == "used"  # the approval was spent on this run
    kinds = [e.kind for e in server.state.store.events(rid)]
    assert {"approved", "callback", "used"} <= set(kinds)
    sweep(server)
    assert len(receiver.received) == 1  # delivered once


def test_a_denied_deployment_is_rejected_and_an_expired_one_too(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    rid = send(server, payload(receiver, run=1)).json()["request"]
    assert server.sign_in("alice").post(f"/api/v1/requests/{rid}/deny").status_code == 200
    sweep(server)
    assert [(x["path"].split("/")[-2], x["body"]["state"]) for x in receiver.received] == [("1", "rejected")]
    other = send(server, payload(receiver, run=2)).json()["request"]
    server.clock.advance(2 * 3600)  # past the request's TTL
    sweep(server)
    assert [x["body"]["state"] for x in receiver.received] == ["rejected", "rejected"]
    assert server.state.store.get(other).status == "expired"


def test_a_policy_deny_is_rejected_at_once(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    server.state.store.halt(agent=None, environment="production", everyone=True, reason="incident 42", by="dave")
    r = send(server, payload(receiver, sender="dependabot[bot]"))
    assert r.status_code == 202 and r.json()["decision"] == "deny" and r.json()["answer"] == "rejected"
    assert receiver.received[0]["body"]["state"] == "rejected"
    assert "incident 42" in receiver.received[0]["body"]["comment"]
    entry = server.state.ledger.recent(1)[-1]
    assert entry["principal"]["type"] == "agent" and entry["principal"]["attributes"]["bot_kind"] == "dependency"


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=abc", "sha256=zz"],
)
def test_a_bad_signature_is_401_and_changes_nothing(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, signature: str | None
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    headers = {"X-Hub-Signature-256": signature} if signature else {}
    r = send(server, payload(receiver), secret=None, **headers)
    assert r.status_code == 401 and "X-Hub-Signature-256" in r.json()["error"]
    forged = send(server, payload(receiver), secret="not the secret")
    assert forged.status_code == 401
    assert server.state.store.requests(status="all") == [] and callbacks(server) == []
    assert server.state.ledger.size() == 0 and receiver.received == []


def test_a_callback_receiver_down_is_retried_through_the_outbox_then_delivered(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    receiver.stop()
    r = send(server, payload(receiver, "staging"))
    assert r.status_code == 202 and r.json()["answer"] == "approved"  # the webhook never waits on GitHub
    with server.state.store.reading() as tx:
        ((attempts, error),) = tx.query("SELECT attempts, last_error FROM outbox")
    assert attempts == 1 and error
    receiver.status = 503
    receiver.start()  # back on the same port, but failing
    server.clock.advance(3600)
    report = sweep(server)
    assert len(report.retrying) == 1 and "HTTP 503" in report.retrying[0]
    receiver.status = 204
    server.clock.advance(3600)
    report = sweep(server)
    assert len(report.delivered) == 1
    assert [x["body"]["state"] for x in receiver.received] == ["approved", "approved"]  # the 503 one, then this


def test_the_server_sweeps_the_outbox_by_itself(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    from ringfence.server.factory import sweep_forever, sweeps

    server = github_server(make_server, monkeypatch, receiver)
    assert sweeps(server.state) and not sweeps(make_server().state)
    receiver.stop()
    send(server, payload(receiver, "staging"))
    receiver.start()
    server.clock.advance(3600)

    async def briefly() -> None:
        task = asyncio.create_task(sweep_forever(server.state, every=0.05))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if receiver.received:
                break
        task.cancel()

    asyncio.run(briefly())
    assert [x["body"]["state"] for x in receiver.received] == ["approved"]


def test_an_answer_claimed_by_another_server_is_not_sent_twice(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    receiver.stop()
    send(server, payload(receiver, "staging"))
    receiver.start()
    server.clock.advance(3600)
    store = server.state.store
    (item,) = store.due_notifications()
    assert store.claim_notification(item, until=server.clock() + 60)  # another worker took it
    assert not store.claim_notification(item, until=server.clock() + 60)
    assert sweep(server).quiet and receiver.received == []
    server.clock.advance(61)  # that worker died mid-delivery: the claim lapses
    assert len(sweep(server).delivered) == 1 and len(receiver.received) == 1


def test_a_4xx_from_github_is_not_retried(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    receiver.status = 422
    send(server, payload(receiver, "staging"))
    server.clock.advance(3600)
    assert sweep(server).quiet and len(receiver.received) == 1


@pytest.mark.parametrize(
    "callback",
    [
        "http://169.254.169.254/repos/acme/web/actions/runs/1/deployment_protection_rule",
        "https://api.github.com.evil.example/repos/acme/web/actions/runs/1/deployment_protection_rule",
        "{base}/repos/acme/web/hooks",
        "{base}/repos/acme/web/actions/runs/1/deployment_protection_rule?x=1",
        "http://user@127.0.0.1:{port}/repos/acme/web/actions/runs/1/deployment_protection_rule",
    ],
)
def test_a_callback_outside_the_configured_api_is_refused(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, callback: str
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    url = callback.format(base=receiver.url, port=receiver.port)
    r = send(server, payload(receiver, callback=url))
    assert r.status_code == 422, r.text
    assert callbacks(server) == [] and server.state.ledger.size() == 0 and receiver.received == []


def test_ping_other_events_and_payload_errors(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    server = github_server(make_server, monkeypatch, receiver)
    assert send(server, {"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping").json() == {
        "ok": True,
        "event": "ping",
    }
    ignored = send(server, {"action": "created"}, event="deployment")
    assert ignored.status_code == 202 and "deployment" in ignored.json()["ignored"]
    other_action = send(server, {**payload(receiver), "action": "completed"})
    assert other_action.status_code == 202 and "completed" in other_action.json()["ignored"]
    no_sha = payload(receiver)
    del no_sha["deployment"]["sha"]
    r = send(server, no_sha)
    assert r.status_code == 422 and "deployment.sha" in r.json()["error"]
    assert send(server, [1, 2]).status_code == 400
    assert callbacks(server) == []


def test_not_configured_is_404(make_server: MakeServer) -> None:
    server = make_server()
    r = server.client.post(PATH, content=b"{}", headers={"X-GitHub-Event": "ping"})
    assert r.status_code == 404 and "integrations.github" in r.json()["error"]


@pytest.mark.parametrize(
    ("github", "needle"),
    [
        ({"token_env": "T"}, "webhook_secret_env is required"),
        ({"webhook_secret_env": "S"}, "token_env is required"),
        ({"webhook_secret_env": "lower", "token_env": "T"}, "must name an environment variable"),
        ({"webhook_secret_env": "S", "token_env": "T", "api_url": "ftp://x"}, "api_url"),
        ({"webhook_secret_env": "S", "token_env": "T", "extra": 1}, "unknown key(s) extra"),
    ],
)
def test_the_configuration_is_parsed_strictly(
    make_server: MakeServer, github: dict[str, Any], needle: str, tmp_path: Any
) -> None:
    server = make_server()
    import yaml

    conf = server.env["XDG_CONFIG_HOME"] + "/ringfence/config.yaml"
    with open(conf, "w") as fh:
        yaml.safe_dump(server_config(integrations={"github": github}), fh)
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        load_settings(str(server.workspace))
