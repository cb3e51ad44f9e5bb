"""Who is calling the server: agent tokens, human accounts and their sessions.

**Agent tokens** are ``rf1.<claims>.<signature>``: base64url JSON claims (``jti``,
``sub`` = agent id, ``scp`` = scopes, ``iat``, ``exp``) signed with the server's
Ed25519 key. The server checks the signature and expiry without the database, then that
the token id is known and not revoked (``ringfence token revoke``). Scopes are
``decide`` (ask for decisions, hook endpoints) and ``wait`` (read and wait on its own
approval requests); a token can never approve, halt or resume.

**Human accounts** have scrypt password hashes (n=2^15, r=8, p=1, 16-byte salt).
Signing in creates a session: the cookie holds a random id, the store holds only its
SHA-256, with a per-session CSRF token that every form and state-changing API call must
echo. Sessions expire after 12 hours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ringfence.control.keys import SigningKey, create_key, load_key, verify
from ringfence.control.store import ControlStore
from ringfence.errors import ControlError

SCOPES = frozenset({"decide", "wait"})
SESSION_TTL = 12 * 3600.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class AuthError(ControlError):
    """The caller is not who they claim, or may not do what they ask."""


def server_key(state: Path) -> SigningKey:
    """The server's Ed25519 key (``<state>/keys/server.key``), created on first use. It signs
    agent tokens and the answers given through the dashboard, the API and Slack."""
    folder = state / "keys"
    try:
        return load_key("server", directory=folder)
    except ControlError:
        create_key("server", directory=folder)
        return load_key("server", directory=folder)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    id: str
    agent: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float


def issue_token(
    store: ControlStore, key: SigningKey, agent: str, *, ttl: float, scopes: frozenset[str] = SCOPES, by: str
) -> tuple[str, TokenClaims]:
    if not _NAME.match(agent):
        raise AuthError(f"agent id {agent!r} must be letters, digits, . _ @ -")
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise AuthError(f"scopes must be some of {', '.join(sorted(SCOPES))}, not {', '.join(sorted(unknown))}")
    if not 60 <= ttl <= 30 * 86400:
        raise AuthError("a token lives between 1 minute and 30 days; agents get short-lived tokens")
    now = store.clock()
    claims = TokenClaims("tok-" + secrets.token_hex(8), agent, frozenset(scopes), now, now + ttl)
    doc = {
        "jti": claims.id,
        "sub": agent,
        "scp": sorted(scopes),
        "iat": int(now),
        "exp": int(claims.expires_at),
    }
    body = _b64(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    signature = _b64(base64.b64decode(key.sign(b"rf1." + body.encode())))
    with store.writing() as tx:
        tx.execute(
            "INSERT INTO tokens (id, agent, scopes, issued_by, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (claims.id, agent, ",".join(sorted(scopes)), by, now, claims.expires_at),
        )
    return f"rf1.{body}.{signature}", claims


_VERIFIED: dict[tuple[str, bytes], TokenClaims] = {}  # signature checks are pure: remember them
_VERIFIED_MAX = 10_000


def check_token(text: str, public: bytes, store: ControlStore) -> TokenClaims:
    """The claims of a valid, unexpired, unrevoked token; :class:`AuthError` otherwise.

    The signature check is remembered per token; expiry and revocation are checked on
    every call, so a revoked token is refused from its next request."""
    claims = _VERIFIED.get((text, public))
    if claims is None:
        claims = _verified_claims(text, public)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(text, public)] = claims
    now = store.clock()
    if now >= claims.expires_at:
        raise AuthError("the token has expired; issue a new one with `ringfence token issue`")

    def load() -> list[tuple[object, ...]]:
        with store.reading() as tx:
            return tx.query("SELECT revoked_at FROM tokens WHERE id = ?", (claims.id,))

    rows = store.cached(f"token:{claims.id}", load)  # re-read whenever the state changed
    if not rows:
        raise AuthError("the token is unknown to this server's state (issued against another database?)")
    if rows[0][0] is not None:
        raise AuthError("the token was revoked")
    return claims


def _verified_claims(text: str, public: bytes) -> TokenClaims:
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != "rf1":
        raise AuthError("not a ringfence token (expected rf1.<claims>.<signature>)")
    try:
        signature = base64.b64encode(_unb64(parts[2])).decode("ascii")
        raw = _unb64(parts[1])
    except ValueError:
        raise AuthError("the token is not valid base64url") from None
    if not verify(public, signature, b"rf1." + parts[1].encode()):
        raise AuthError("the token's signature does not verify with this server's key")
    try:
        doc = json.loads(raw)
        claims = TokenClaims(
            str(doc["jti"]), str(doc["sub"]), frozenset(doc["scp"]), float(doc["iat"]), float(doc["exp"])
        )
    except (ValueError, KeyError, TypeError):
        raise AuthError("the token's claims are malformed") from None
    return claims


def revoke_token(store: ControlStore, token_id: str, *, by: str) -> bool:
    with store.writing() as tx:
        rows = tx.query(
            "UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
            (store.clock(), by, token_id),
        )
    return bool(rows)


def list_tokens(store: ControlStore) -> list[tuple[str, str, str, float, float, float | None]]:
    with store.reading() as tx:
        rows = tx.query(
            "SELECT id, agent, scopes, issued_at, expires_at, revoked_at FROM tokens ORDER BY issued_at DESC"
        )
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


# --- human accounts -----------------------------------------------------------------


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise AuthError("a password needs at least 12 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024, dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def set_user(store: ControlStore, name: str, password: str) -> None:
    if not _NAME.match(name):
        raise AuthError(f"user name {name!r} must be letters, digits, . _ @ - (use the approver id)")
    hashed = hash_password(password)
    with store.writing() as tx:
        tx.execute("DELETE FROM users WHERE name = ?", (name,))
        tx.execute(
            "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)", (name, hashed, store.clock())
        )


_DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def sign_in(store: ControlStore, name: str, password: str) -> tuple[str, str]:
    """A new session for a valid name and password: ``(session id, csrf token)``."""
    with store.reading() as tx:
        rows = tx.query("SELECT password_hash, disabled_at FROM users WHERE name = ?", (name,))
    stored = rows[0][0] if rows else _DUMMY_HASH  # same work whether or not the user exists
    ok = password_matches(password, stored)
    if not rows or not ok or rows[0][1] is not None:
        raise AuthError("wrong user name or password")
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = store.clock()
    with store.writing() as tx:
        tx.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
        tx.execute(
            "INSERT INTO sessions (id, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_session_key(sid), name, csrf, now, now + SESSION_TTL),
        )
    return sid, csrf


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    expires_at: float


def session(store: ControlStore, sid: str) -> Session | None:
    with store.reading() as tx:
        rows = tx.query(
            "SELECT username, csrf, expires_at FROM sessions WHERE id = ? AND expires_at > ?",
            (_session_key(sid), store.clock()),
        )
    return Session(rows[0][0], rows[0][1], rows[0][2]) if rows else None


def sign_out(store: ControlStore, sid: str) -> None:
    with store.writing() as tx:
        tx.execute("DELETE FROM sessions WHERE id = ?", (_session_key(sid),))


def _session_key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()
