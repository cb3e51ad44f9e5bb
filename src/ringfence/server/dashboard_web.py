"""The dashboard's web plumbing: templates, the signed-in human, forms, CSRF, flash messages.

Pages are rendered on the server with Jinja2 (autoescape on for every template) and work
without JavaScript: a form POSTs, the server answers with a redirect (303) to a page that
shows the outcome as a flash message. The flash message travels in a short-lived cookie
whose HMAC is keyed by the session's CSRF token, so nobody else can plant one.
Every state-changing form carries the session's CSRF token as a hidden field; a POST
without the right one is refused with 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ringfence.server.http import SESSION_COOKIE, HTTPError, body_bytes
from ringfence.server.identity import session
from ringfence.server.state import ServerState

HERE = Path(__file__).parent
FLASH_COOKIE = "rf_flash"
MAX_FORM = 64 * 1024

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(seconds: float) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(seconds / 86400)} d"


_templates.filters["when"] = when
_templates.filters["span"] = span


@dataclass(frozen=True, slots=True)
class Human:
    """The signed-in person looking at the dashboard."""

    user: str
    csrf: str
    session_id: str
    approver: bool


Form = Mapping[str, str]
Handler = Callable[[Request, Human, Form], Awaitable[Response]]


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.rf
    return state


async def signed_in(request: Request) -> Human | None:
    """The human whose session cookie came with ``request``, or None."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    state = server_state(request)
    found = await asyncio.to_thread(session, state.store, sid)
    if found is None:
        return None
    approver = found.user in state.gate.settings.control.approvers
    return Human(found.user, found.csrf, sid, approver)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (what a plain HTML form sends)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await body_bytes(request, MAX_FORM)
    if ctype != "application/x-www-form-urlencoded" and (ctype or raw):
        raise HTTPError(415, f"send the form as application/x-www-form-urlencoded, not {ctype or 'untyped data'!r}")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise HTTPError(400, "the form is not valid UTF-8 form data") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)  # the first value wins
    return form


def check_csrf(form: Form, human: Human) -> None:
    sent = form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent.encode(), human.csrf.encode()):
        raise HTTPError(403, "this form is missing the right CSRF token for your session; reload the page and retry")


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (no scheme, no host), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _flash_mac(csrf: str, payload: str) -> str:
    return hmac.new(csrf.encode(), payload.encode(), hashlib.sha256).hexdigest()


def redirect(to: str, human: Human | None = None, message: str = "", kind: str = "ok") -> Response:
    """POST → redirect → GET, with an optional flash message for the next page."""
    response = RedirectResponse(to, status_code=303)
    if message and human is not None:
        doc = json.dumps({"k": kind, "m": message[:2000]}, separators=(",", ":"))
        payload = base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")
        response.set_cookie(
            FLASH_COOKIE,
            f"{payload}.{_flash_mac(human.csrf, payload)}",
            max_age=120,
            httponly=True,
            samesite="strict",
            path="/",
        )
    return response


def take_flash(request: Request, human: Human | None) -> dict[str, str] | None:
    """The flash message left for this page by the previous redirect, if it is genuine."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or human is None:
        return None
    payload, _, mac = raw.rpartition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _flash_mac(human.csrf, payload).encode()):
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("k") not in ("ok", "error"):
        return None
    return {"kind": str(doc["k"]), "message": str(doc.get("m", ""))}


def _secure(response: Response, nonce: str) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def render(request: Request, template: str, human: Human | None, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` (autoescaped) with the page chrome, the flash message and a
    per-response script nonce."""
    nonce = secrets.token_urlsafe(16)
    flash = context.pop("flash", None) or take_flash(request, human)
    body = _templates.get_template(template).render(
        human=human, flash=flash, nonce=nonce, path=request.url.path, **context
    )
    response = HTMLResponse(body, status_code=status)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    _secure(response, nonce)
    return response


def error_page(request: Request, human: Human | None, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", human, status=status, status_code=status, message=message)


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A dashboard endpoint: needs a signed-in human (else a redirect to /login); a POST
    needs the session's CSRF token; a 4xx becomes an HTML page with the message."""

    async def endpoint(request: Request) -> Response:
        human = await signed_in(request)
        if human is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?next=" + quote(target if request.method == "GET" else "/"), 303)
        try:
            form: Form = {}
            if request.method == "POST":
                form = await read_form(request)
                check_csrf(form, human)
            return await handler(request, human, form)
        except HTTPError as exc:
            return error_page(request, human, exc.status, exc.message)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
