"""HTTP plumbing shared by the API and the dashboard: errors, bodies, callers, rate limits."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ringfence.server.identity import AuthError, Session, TokenClaims, check_token, session
from ringfence.server.state import ServerState

MAX_BODY = 4 * 1024 * 1024  # the largest hook payload a runtime sends
SESSION_COOKIE = "rf_session"


class HTTPError(Exception):
    """An answer with a 4xx status and a precise message (never a stack trace)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(exc: HTTPError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="ringfence"'} if exc.status == 401 else None
    return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status, headers=headers)


async def body_bytes(request: Request, limit: int = MAX_BODY) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise HTTPError(400, "Content-Length is not a number")
        if int(length) > limit:
            raise HTTPError(413, f"the body is {length} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, f"the body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, limit: int = 1024 * 1024) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if ctype and not ctype.split(";")[0].strip().endswith("json"):
        raise HTTPError(415, f"send JSON (Content-Type: application/json), not {ctype!r}")
    raw = await body_bytes(request, limit)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise HTTPError(400, f"the body is not valid JSON{where}") from None
    if not isinstance(doc, dict):
        raise HTTPError(400, "the body must be a JSON object")
    problem = _bad_string(doc) if b"\\u" in raw else None  # only escapes can carry either
    if problem:
        raise HTTPError(422, problem)
    return doc


def _bad_string(doc: Any) -> str | None:
    """Why a string (key or value) in ``doc`` cannot be stored or answered: a NUL character
    (PostgreSQL text refuses it) or a lone surrogate (not encodable as UTF-8)."""
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return "strings in the body must not contain NUL characters (\\u0000)"
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return "strings in the body must be valid Unicode: \\ud800-\\udfff escapes only as surrogate pairs"
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: an agent with a token, or a signed-in human."""

    kind: str  # "agent" | "human"
    name: str
    token: TokenClaims | None = None
    session: Session | None = None
    session_id: str | None = None

    def need(self, scope: str) -> None:
        if self.kind == "agent" and (self.token is None or scope not in self.token.scopes):
            raise HTTPError(
                403,
                f"this token may not {scope}; its scopes are "
                f"{', '.join(sorted(self.token.scopes if self.token else ()))}",
            )

    def need_human(self, what: str) -> None:
        if self.kind != "human":
            raise HTTPError(403, f"an agent token can never {what}; a human signs in to the dashboard to do it")


def caller(request: Request, state: ServerState, *, csrf: bool = False) -> Caller:
    """Authenticate the request: ``Authorization: Bearer rf1…`` or the session cookie.
    With ``csrf``, a session-authenticated request must echo its CSRF token
    (``X-CSRF-Token`` header)."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise HTTPError(401, "Authorization must be 'Bearer <token>'")
        try:
            claims = check_token(value.strip(), state.key.public, state.store)
        except AuthError as exc:
            raise HTTPError(401, str(exc)) from None
        return Caller("agent", claims.agent, token=claims)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        s = session(state.store, sid)
        if s is not None:
            if csrf and request.headers.get("x-csrf-token") != s.csrf:
                raise HTTPError(403, "missing or wrong X-CSRF-Token for this session")
            return Caller("human", s.user, session=s, session_id=sid)
    raise HTTPError(401, "authenticate with 'Authorization: Bearer <token>' (agents) or sign in (humans)")


class RateLimiter:
    """Token buckets per key, in memory (per replica)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                retry = (1 - tokens) / self.rate
                self._buckets[key] = (tokens, now)
                raise HTTPError(429, f"too many requests; retry in {retry:.1f} s", retry_after=round(retry, 1))
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
