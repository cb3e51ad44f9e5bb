"""Secrets never reach the ledger in clear."""

from __future__ import annotations

import pytest

from ringfence.ledger.redact import fingerprint, redact_payload, redact_text

SECRETS = [
    "ghp_" + "A" * 36,
    "github_pat_" + "B" * 60,
    "xoxb-1234567890-abcdefghij",
    "AKIAIOSFODNN7EXAMPLE",
    "sk-ant-api03-" + "c" * 40,
    "sk_live_" + "d" * 24,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_token_shapes(secret: str) -> None:
    out = redact_text(f"curl -H x {secret} https://example.com")
    assert secret not in out
    assert fingerprint(secret) in out


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("API_KEY=hunter2 npm start", "hunter2"),
        ("export DATABASE_URL='postgres://u:pw@db/app'", "pw@db"),
        ("mysql -u root -psupersecret db", "supersecret"),
        ("psql postgres://admin:s3cr3t@prod-db/app", "s3cr3t"),
        ("curl -H 'Authorization: Bearer abc.def.ghi' https://x", "abc.def.ghi"),
        ("tool --password=letmein", "letmein"),
        ("tool --token tok123456", "tok123456"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----", "AAAAB3Nza"),
    ],
)
def test_assignments_options_urls(text: str, hidden: str) -> None:
    out = redact_text(text)
    assert hidden not in out
    assert "redacted:sha256:" in out


def test_ordinary_text_unchanged() -> None:
    for text in ("git push origin feature/login", "pytest -k test_token_refresh", "ls -la ~/.ssh"):
        assert redact_text(text) == text


def test_payload_contents_are_digests() -> None:
    out = redact_payload({"path": "/w/.env", "content": "TOKEN=abc", "nested": {"password": "pw", "ok": 1}})
    assert out["path"] == "/w/.env"
    assert out["content"] == {"digest": fingerprint("TOKEN=abc"), "bytes": 9}
    assert out["nested"]["password"] != "pw" and out["nested"]["ok"] == 1


def test_same_secret_same_fingerprint() -> None:
    a = redact_text("TOKEN=abcdef123")
    b = redact_text("TOKEN=abcdef123")
    c = redact_text("TOKEN=zzzzzz999")
    assert a == b != c
