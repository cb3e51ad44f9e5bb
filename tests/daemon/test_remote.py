"""Remote mode: ``ringfence hook`` asks ``ringfence serve``; when the server cannot be
reached it decides with the policy bundle last fetched from it, and fails closed for
everything that needs the server (approvals, a rejected token, an unknown policy)."""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.daemon import offline, remote
from ringfence.errors import PolicyError
from ringfence.ledger.store import open_ledger
from tests.control.flow import EXAMPLE_POLICY, cli, create_keys, request_id, write_config
from tests.helpers import RINGFENCE, hook_answer, isolated_env, payload, run_hook
from tests.server.test_serve import call, free_port

ACME_POLICY = """\
pack: acme
description: ACME pushes go through the release bot.
rules:
  - id: acme.no-plain-push
    effect: git.push
    decision: deny
    tier: high
    reason: ACME pushes go through the release bot, never from an agent.
"""
PUSH = "git push origin feature-x"  # the built-in packs allow it; the server's acme pack denies it
DEPLOY = "vercel deploy --prod"  # require_approval on the server


@dataclass
class Served:
    """A ``ringfence serve`` process in its own isolated environment."""

    env: dict[str, str]
    ws: Path
    base: str
    proc: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, agent: str) -> tuple[str, str]:
        """A new token for ``agent`` and its id."""
        issued = cli(self.env, self.ws, "token", "issue", "--agent", agent, "--ttl", "1h")
        assert issued.returncode == 0, issued.stderr
        m = re.search(r"\btok-[0-9a-f]+", issued.stderr)
        assert m, issued.stderr
        return issued.stdout.strip(), m.group(0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


def serve(root: Path, config: dict[str, Any]) -> Served:
    env = isolated_env(root)
    ws = root / "repo"
    ws.mkdir(parents=True, exist_ok=True)
    acme = root / "acme.yaml"
    acme.write_text(ACME_POLICY)
    config = {**config, "policy": [*config.get("policy", []), str(acme)]}
    write_config(env, config)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([RINGFENCE, "serve", "--port", str(port), "--log-level", "warning"], env=env, cwd=ws)
    for _ in range(150):
        try:
            if call(f"{base}/readyz")[0] == 200:
                return Served(env, ws, base, proc)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not become ready")


def agent(root: Path, server: str, token: str, **extra: str) -> dict[str, str]:
    """An agent machine: its own home and state, only the server's URL and a token."""
    return isolated_env(root, RINGFENCE_SERVER=server, RINGFENCE_TOKEN=token, **extra)


def ask(env: dict[str, str], command: str, cwd: Path, mode: str = "default") -> dict[str, Any]:
    return hook_answer(run_hook(json.dumps(payload("Bash", {"command": command}, cwd, mode)).encode(), env, cwd))


def local_ledger(env: dict[str, str]) -> Path:
    return Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"


def cache(env: dict[str, str]) -> Path:
    return Path(env["XDG_STATE_HOME"]) / "ringfence" / "remote-policy"


def wait_for(path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The release example (vercel deploy --prod needs alice and bob) plus the acme pack."""
    root = tmp_path_factory.mktemp("served")
    env = isolated_env(root)
    keys = create_keys(env, root, "alice", "bob")
    config = {
        "policy": [str(EXAMPLE_POLICY)],
        "approvers": {name: {"groups": ["release-managers"], "key": key} for name, key in keys.items()},
    }
    s = serve(root, config)
    try:
        yield s
    finally:
        s.stop()


def test_allow_deny_and_held_round_trip_through_the_server(served: Served, tmp_path: Path) -> None:
    token, _ = served.token("deploy-bot")
    env = agent(tmp_path, served.base, token)
    assert ask(env, "git status", tmp_path)["permissionDecision"] == "allow"
    forced = ask(env, "git push --force origin main", tmp_path)
    assert forced["permissionDecision"] == "deny" and "git.force-push-protected" in forced["permissionDecisionReason"]
    pushed = ask(env, PUSH, tmp_path)
    assert pushed["permissionDecision"] == "deny" and "acme.no-plain-push" in pushed["permissionDecisionReason"]
    held = ask(env, DEPLOY, tmp_path)
    assert held["permissionDecision"] == "deny" and "blocked until approved" in held["permissionDecisionReason"]
    rid = request_id(held)
    for who in ("alice", "bob"):
        approved = cli(served.env, served.ws, "approvals", "approve", rid, "--as", who)
        assert approved.returncode == 0, approved.stderr
    granted = ask(env, DEPLOY, tmp_path)
    assert granted["permissionDecision"] == "allow", granted
    # PostToolUse: the server answers {} and the hook passes it on
    after = dict(payload("Bash", {"command": DEPLOY}, tmp_path), hook_event_name="PostToolUse")
    proc = run_hook(json.dumps(after).encode(), env, tmp_path)
    assert proc.returncode == 0 and proc.stdout.decode().strip() == "{}"
    # decided and recorded on the server, as the token's agent; nothing decided here
    assert not local_ledger(env).exists()
    entries = open_ledger(local_ledger(served.env)).recent(50)
    mine = [e for e in entries if e["principal_id"] == "deploy-bot" and e["kind"] == "decision"]
    assert {e["decision"] for e in mine} >= {"allow", "deny", "require_approval"}


def test_a_rejected_token_is_denied_and_never_decided_locally(served: Served, tmp_path: Path) -> None:
    token, token_id = served.token("bot-revoked")
    env = agent(tmp_path, served.base, token)
    assert ask(env, "git status", tmp_path)["permissionDecision"] == "allow"
    assert cli(served.env, served.ws, "token", "revoke", token_id).returncode == 0
    answer = ask(env, "git status", tmp_path)
    reason = answer["permissionDecisionReason"]
    assert answer["permissionDecision"] == "deny"
    assert "rejected this agent's token (401: the token was revoked)" in reason
    assert "`ringfence token issue --agent <id>`" in reason and "RINGFENCE_TOKEN" in reason
    forged = agent(tmp_path / "forged", served.base, token[:-4] + "AAAA")
    assert "signature does not verify" in ask(forged, "git status", tmp_path)["permissionDecisionReason"]
    assert not local_ledger(env).exists()  # no local decision: a revoked agent does not go on offline


def test_doctor_reports_the_server_the_token_and_the_offline_policy(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringfence.commands.doctor import remote_checks

    token, _ = served.token("bot-doctor")
    env = agent(tmp_path, served.base, token)
    monkeypatch.setenv("XDG_STATE_HOME", env["XDG_STATE_HOME"])
    checks = {c.name: c for c in remote_checks(env)}
    assert checks["remote server"].ok and checks["remote server"].detail == f"{served.base}: ready"
    assert checks["remote token"].ok and checks["remote token"].detail.startswith("agent bot-doctor, scopes decide")
    assert checks["offline policy"].ok and "2 pack(s)" in checks["offline policy"].detail
    bad = {c.name: c for c in remote_checks({**env, "RINGFENCE_TOKEN": "rf1.bogus.token"})}
    assert not bad["remote token"].ok and "rejected (401" in bad["remote token"].detail
    down = {c.name: c for c in remote_checks({**env, "RINGFENCE_SERVER": f"http://127.0.0.1:{free_port()}"})}
    assert not down["remote server"].ok and "unreachable (connection refused)" in down["remote server"].detail
    assert "remote token" not in down
    assert not down["offline policy"].ok and "no policy has been fetched" in down["offline policy"].detail


def test_server_stopped_the_hook_decides_with_the_cached_bundle(tmp_path: Path) -> None:
    s = serve(tmp_path / "server", {})
    try:
        token, _ = s.token("bot1")
        env = agent(tmp_path / "agent", s.base, token)
        cwd = tmp_path / "agent"
        assert ask(env, "git status", cwd)["permissionDecision"] == "allow"
        wait_for(cache(env) / "digest")  # fetched by a detached child after the answer
        rejected_token, rejected_id = s.token("bot2")
        rejected = agent(tmp_path / "agent2", s.base, rejected_token)
        assert cli(s.env, s.ws, "token", "revoke", rejected_id).returncode == 0
        assert ask(rejected, "git status", cwd)["permissionDecision"] == "deny"
    finally:
        s.stop()
    record = json.loads((cache(env) / "bundle.json").read_text())
    assert record["server"] == s.base and [p["name"] for p in record["bundle"]["packs"]] == ["acme.yaml"]
    assert {f.stat().st_mode & 0o777 for f in cache(env).iterdir() if f.is_file()} == {0o600}

    pushed = ask(env, PUSH, cwd)
    reason = pushed["permissionDecisionReason"]
    assert pushed["permissionDecision"] == "deny" and "acme.no-plain-push" in reason
    assert f"the ringfence server at {s.base} is unreachable (connection refused)" in reason
    assert "decided locally with its last known policy sha256:" in reason
    allowed = ask(env, "git status", cwd)
    assert (
        allowed["permissionDecision"] == "allow"
        and "unreachable (connection refused)" in allowed["permissionDecisionReason"]
    )
    held = ask(env, DEPLOY, cwd)
    reason = held["permissionDecisionReason"]
    assert held["permissionDecision"] == "deny" and "deploy.production" in reason
    assert f"needs an approval and the ringfence server at {s.base} is unreachable (connection refused)" in reason
    assert "approvals and the kill switch live there, so ringfence fails closed" in reason
    # the revoked agent stays denied while the server is away
    again = ask(rejected, "git status", cwd)["permissionDecisionReason"]
    assert "rejected this agent's token when it last answered (401: the token was revoked)" in again
    # every offline decision is in the agent's own ledger, as the token's agent
    entries = open_ledger(local_ledger(env)).recent(10)
    assert [(e["decision"], e["principal_id"], e["control"]) for e in reversed(entries)] == [
        ("deny", "bot1", "offline"),
        ("allow", "bot1", "offline"),
        ("deny", "bot1", "offline"),
    ]
    # `ringfence check` uses the same cached policy and says so
    checked = cli(env, cwd, "check", "--", PUSH)
    assert checked.returncode == 2, checked.stderr
    assert "acme.no-plain-push" in checked.stdout and "fetching it now failed: connection refused" in checked.stderr


# --- a fake server: garbage, 500, silence ---------------------------------------------------


class Fake:
    """A stand-in server whose hook endpoint answers as ``mode`` says; its bundle holds
    the acme pack. Counts the bundle fetches."""

    GOOD = json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "allow",
                "permissionDecisionReason": "ok",
            }
        }
    ).encode()

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.mode = "ok"
        self.digest = "sha256:fake-1"
        self.fetches = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if fake.mode == "hang":
                    time.sleep(3)
                status, body = {
                    "ok": (200, Fake.GOOD),
                    "500": (500, b'{"error": "database is down"}'),
                    "garbage": (200, b"<html>proxy login</html>"),
                    "shape": (200, b'{"hookSpecificOutput": {"permissionDecision": "yes"}}'),
                    "422": (422, b'{"error": "hook payload is not valid JSON"}'),
                    "hang": (200, Fake.GOOD),
                }[fake.mode]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Ringfence-Policy-Digest", fake.digest)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                assert self.path == "/api/v1/policy/bundle"
                fake.fetches += 1
                doc = {"digest": fake.digest, "packs": [{"name": "acme.yaml", "yaml": ACME_POLICY}], "rego": []}
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")  # exercise the chunked reader
                self.end_headers()
                data = json.dumps(doc).encode()
                for i in range(0, len(data), 100):
                    part = data[i : i + 100]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

            protocol_version = "HTTP/1.1"

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.base = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def fake() -> Iterator[Fake]:
    f = Fake()
    try:
        yield f
    finally:
        f.httpd.shutdown()
        f.httpd.server_close()


def test_garbage_500_and_silence_fall_back_while_other_refusals_deny(fake: Fake, tmp_path: Path) -> None:
    env = agent(tmp_path, fake.base, "rf1.e30.c2ln", RINGFENCE_SERVER_TIMEOUT="1")
    assert ask(env, PUSH, tmp_path)["permissionDecisionReason"] == "ok"  # the server's answer, as it is
    wait_for(cache(env) / "digest")
    cases = {
        "500": "unreachable (it answered 500 Internal Server Error)",
        "garbage": "unreachable (its answer is not a hook decision: '<html>proxy login</html>')",
        "shape": "unreachable (its answer is not a hook decision:",
        "hang": "unreachable (no answer within 1 s)",
    }
    for mode, why in cases.items():
        fake.mode = mode
        answer = ask(env, PUSH, tmp_path)
        assert answer["permissionDecision"] == "deny", (mode, answer)
        assert why in answer["permissionDecisionReason"] and "acme.no-plain-push" in answer["permissionDecisionReason"]
    fake.mode = "422"  # the server answered and refused: no local decision
    refused = ask(env, PUSH, tmp_path)["permissionDecisionReason"]
    assert refused.startswith(f"ringfence: the server at {fake.base} refused this call (422: hook payload is not")
    assert len(open_ledger(local_ledger(env)).recent(10)) == 4


def test_the_bundle_is_fetched_only_for_a_new_digest_and_at_most_every_five_minutes(fake: Fake, tmp_path: Path) -> None:
    env = agent(tmp_path, fake.base, "rf1.e30.c2ln")
    assert ask(env, "git status", tmp_path)["permissionDecision"] == "allow"
    wait_for(cache(env) / "digest")
    assert fake.fetches == 1
    ask(env, "git status", tmp_path)  # same digest: nothing to fetch
    fake.digest = "sha256:fake-2"
    ask(env, "git status", tmp_path)  # new digest, but a fetch was tried under 5 minutes ago
    time.sleep(0.5)
    assert fake.fetches == 1
    checked = cache(env) / "checked"
    old = time.time() - offline.REFRESH_EVERY - 1
    os.utime(checked, (old, old))
    ask(env, "git status", tmp_path)
    deadline = time.monotonic() + 15
    while (cache(env) / "digest").read_text() != f"{fake.base}\nsha256:fake-2\n":
        assert time.monotonic() < deadline, "the new bundle was not fetched"
        time.sleep(0.05)
    assert fake.fetches == 2


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (cert.pem, key.pem)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ringfence test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https_servers_are_verified(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    fake = Fake(tls=context)
    try:
        trusted = agent(tmp_path / "trusted", fake.base, "rf1.e30.c2ln", RINGFENCE_SERVER_CA=str(cert))
        assert ask(trusted, "git status", tmp_path)["permissionDecisionReason"] == "ok"
        untrusted = agent(tmp_path / "untrusted", fake.base, "rf1.e30.c2ln")
        reason = ask(untrusted, "git status", tmp_path)["permissionDecisionReason"]
        assert "unreachable (TLS certificate verification failed: self-signed certificate)" in reason
    finally:
        fake.httpd.shutdown()
        fake.httpd.server_close()


def test_misconfiguration_denies_with_what_to_fix(tmp_path: Path) -> None:
    no_token = agent(tmp_path, "http://127.0.0.1:9", "")
    assert "RINGFENCE_TOKEN is not" in ask(no_token, "git status", tmp_path)["permissionDecisionReason"]
    bad_url = agent(tmp_path, "ftp://example", "rf1.a.b")
    reason = ask(bad_url, "git status", tmp_path)["permissionDecisionReason"]
    assert "RINGFENCE_SERVER must be an http:// or https:// URL, not 'ftp://example'" in reason
    bad_timeout = agent(tmp_path, "http://127.0.0.1:9", "rf1.a.b", RINGFENCE_SERVER_TIMEOUT="soon")
    assert (
        "RINGFENCE_SERVER_TIMEOUT must be a number of seconds"
        in ask(bad_timeout, "ls", tmp_path)["permissionDecisionReason"]
    )
    never = agent(tmp_path, f"http://127.0.0.1:{free_port()}", "rf1.a.b")
    reason = ask(never, "git status", tmp_path)["permissionDecisionReason"]
    assert "unreachable (connection refused), and no policy has been fetched from it yet" in reason


# --- the pieces, in-process -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("http://127.0.0.1:8470", (False, "127.0.0.1", 8470, "", "127.0.0.1:8470")),
        ("https://rf.example.com/", (True, "rf.example.com", 443, "", "rf.example.com")),
        ("https://rf.example.com:8443/ringfence", (True, "rf.example.com", 8443, "/ringfence", "rf.example.com:8443")),
        ("http://[::1]:9000", (False, "::1", 9000, "", "[::1]:9000")),
    ],
)
def test_server_urls_parse(url: str, parts: tuple[Any, ...]) -> None:
    s = remote.Server(url)
    assert (s.tls, s.host, s.port, s.prefix, s.host_header()) == parts


@pytest.mark.parametrize("url", ["localhost:8470", "http://", "http://host:0", "http://u:p@host", "http://h:x"])
def test_bad_server_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="RINGFENCE_SERVER"):
        remote.Server(url)


def test_only_a_hook_decision_is_passed_on() -> None:
    pre = b'{"hook_event_name": "PreToolUse"}'
    post = b'{"hook_event_name": "PostToolUse"}'
    assert remote.valid_answer(Fake.GOOD, pre) == Fake.GOOD.decode()
    for body in (b"", b"{}", b"[1]", b'{"hookSpecificOutput": {}}', Fake.GOOD + b"{}", b"{'a': 1}", b"NaN"):
        assert remote.valid_answer(body, pre) is None, body
    assert remote.valid_answer(b"{}", post) == "{}"
    line = remote.deny_line('quote " and \\ and é\n')
    assert json.loads(line)["hookSpecificOutput"]["permissionDecisionReason"] == 'quote " and \\ and é\n'


def test_bundles_are_checked_field_by_field() -> None:
    assert offline.check_bundle({"digest": "d", "packs": [{"name": "a", "yaml": "x", "extra": 1}]}) == {
        "digest": "d",
        "packs": [{"name": "a", "yaml": "x"}],
        "rego": [],
    }
    for bad, message in [
        ([], "must be an object with a digest"),
        ({"digest": "d", "packs": {}}, "packs must be a list"),
        ({"digest": "d", "packs": [{"name": "a"}]}, r"packs\[0\] must have name and yaml"),
        ({"digest": "d", "rego": [{"name": "a", "text": 1}]}, r"rego\[0\] must have name and text"),
    ]:
        with pytest.raises(ValueError, match=message):
            offline.check_bundle(bad)


def test_a_bundle_that_does_not_compile_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    broken = {"digest": "d", "packs": [{"name": "x.yaml", "yaml": yaml.safe_dump({"pack": "x", "rules": [{}]})}]}
    with pytest.raises(PolicyError, match=r"000-x\.yaml"):
        offline.offline_policy(offline.check_bundle(broken))
