"""Human sign-in for the API and the dashboard: a session cookie plus a CSRF token."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ringfence.server.http import SESSION_COOKIE, HTTPError, caller, json_body
from ringfence.server.identity import SESSION_TTL, AuthError, sign_in, sign_out
from ringfence.server.state import ServerState


def set_session_cookie(request: Request, response: Response, sid: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=int(SESSION_TTL),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


async def start_session(request: Request) -> Response:
    """``POST /api/v1/session {"user", "password"}``: sets the session cookie and returns
    the CSRF token to send as ``X-CSRF-Token`` with every state-changing call."""
    state: ServerState = request.app.state.rf
    ip = request.client.host if request.client else "?"
    request.app.state.login_limiter.check(ip)
    doc = await json_body(request, limit=4096)
    user, password = doc.get("user"), doc.get("password")
    if set(doc) - {"user", "password"} or not isinstance(user, str) or not isinstance(password, str):
        raise HTTPError(422, 'send {"user": "...", "password": "..."}')
    try:
        sid, csrf = await asyncio.to_thread(sign_in, state.store, user, password)
    except AuthError as exc:
        raise HTTPError(401, str(exc)) from None
    response = JSONResponse({"user": user, "csrf": csrf})
    set_session_cookie(request, response, sid)
    return response


async def end_session(request: Request) -> Response:
    state: ServerState = request.app.state.rf
    who = caller(request, state, csrf=True)
    if who.session_id is None:
        raise HTTPError(400, "there is no session to end (agent tokens are revoked with `ringfence token revoke`)")
    await asyncio.to_thread(sign_out, state.store, who.session_id)
    response = JSONResponse({"signed_out": who.name})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def whoami(request: Request) -> Response:
    state: ServerState = request.app.state.rf
    who = caller(request, state)
    doc: dict[str, object] = {"kind": who.kind, "name": who.name}
    if who.token is not None:
        doc["scopes"] = sorted(who.token.scopes)
        doc["expires_at"] = who.token.expires_at
    if who.session is not None:
        doc["csrf"] = who.session.csrf
        approver = state.gate.settings.control.approvers.get(who.name)
        doc["approver"] = approver is not None
        doc["groups"] = sorted(approver.groups) if approver else []
    return JSONResponse(doc)


ROUTES = [
    Route("/api/v1/session", start_session, methods=["POST"]),
    Route("/api/v1/session", end_session, methods=["DELETE"]),
    Route("/api/v1/whoami", whoami, methods=["GET"]),
]
