"""Agent tokens, password hashes and sessions of the control-plane server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ringfence.control.store import ControlStore, open_store
from ringfence.server.identity import (
    AuthError,
    check_token,
    hash_password,
    issue_token,
    password_matches,
    revoke_token,
    server_key,
    session,
    set_user,
    sign_in,
    sign_out,
)
from tests.control.harness import Clock


@pytest.fixture
def store(state_location: str) -> ControlStore:
    return open_store(state_location, clock=Clock())


def test_a_token_carries_the_agent_and_its_scopes(store: ControlStore, tmp_path: Path) -> None:
    key = server_key(tmp_path)
    token, claims = issue_token(store, key, "deploy-bot", ttl=3600, by="alice")
    checked = check_token(token, key.public, store)
    assert checked == claims and checked.agent == "deploy-bot" and checked.scopes == {"decide", "wait"}
    assert server_key(tmp_path).public == key.public  # the key persists


def test_tokens_expire_and_can_be_revoked(store: ControlStore, tmp_path: Path) -> None:
    key = server_key(tmp_path)
    token, _ = issue_token(store, key, "bot", ttl=60, by="alice")
    store.clock.advance(61)  # type: ignore[attr-defined]
    with pytest.raises(AuthError, match="expired"):
        check_token(token, key.public, store)
    token2, claims2 = issue_token(store, key, "bot", ttl=600, by="alice")
    assert revoke_token(store, claims2.id, by="alice")
    assert not revoke_token(store, claims2.id, by="alice")  # already revoked
    with pytest.raises(AuthError, match="revoked"):
        check_token(token2, key.public, store)


def test_a_forged_or_foreign_token_is_refused(store: ControlStore, tmp_path: Path) -> None:
    key = server_key(tmp_path / "a")
    other = server_key(tmp_path / "b")
    token, _ = issue_token(store, key, "bot", ttl=600, by="alice")
    with pytest.raises(AuthError, match="does not verify"):
        check_token(token, other.public, store)
    prefix, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "root-bot"  # escalate: same signature, different agent
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="does not verify"):
        check_token(f"{prefix}.{forged}.{sig}", key.public, store)
    for junk in ("", "rf1", "rf1.a.b.c", "xyz.abc.def", "rf1.!!!.###"):
        with pytest.raises(AuthError):
            check_token(junk, key.public, store)


@pytest.mark.parametrize(
    ("agent", "ttl", "scopes", "message"),
    [
        ("bad name!", 600, {"decide"}, "agent id"),
        ("bot", 10, {"decide"}, "between 1 minute and 30 days"),
        ("bot", 600, {"approve"}, "scopes must be"),
        ("bot", 600, set(), "scopes must be"),
    ],
)
def test_bad_token_requests_are_refused(
    store: ControlStore, tmp_path: Path, agent: str, ttl: float, scopes: set[str], message: str
) -> None:
    with pytest.raises(AuthError, match=message):
        issue_token(store, server_key(tmp_path), agent, ttl=ttl, scopes=frozenset(scopes), by="alice")


def test_password_hashes_are_salted_scrypt() -> None:
    a, b = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert a != b and a.startswith("scrypt$32768$8$1$")
    assert password_matches("correct horse battery", a)
    assert not password_matches("correct horse batterY", a)
    assert not password_matches("anything", "not a hash")
    with pytest.raises(AuthError, match="at least 12"):
        hash_password("short")


def test_sessions(store: ControlStore) -> None:
    set_user(store, "alice", "correct horse battery")
    with pytest.raises(AuthError, match="wrong user name or password"):
        sign_in(store, "alice", "wrong password!!")
    with pytest.raises(AuthError, match="wrong user name or password"):
        sign_in(store, "mallory", "correct horse battery")
    sid, csrf = sign_in(store, "alice", "correct horse battery")
    s = session(store, sid)
    assert s is not None and s.user == "alice" and s.csrf == csrf
    with store.reading() as tx:  # the store keeps only a digest of the session id
        assert tx.query("SELECT COUNT(*) FROM sessions WHERE id = ?", (sid,))[0][0] == 0
    store.clock.advance(13 * 3600)  # type: ignore[attr-defined]
    assert session(store, sid) is None
    sid2, _ = sign_in(store, "alice", "correct horse battery")
    sign_out(store, sid2)
    assert session(store, sid2) is None
