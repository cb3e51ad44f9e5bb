"""The approval dashboard: server-rendered pages for the humans behind the gate.

``/`` is the approval queue (approve or deny with a reason), ``/requests/{id}`` one
request with its history and signed answers, ``/ledger`` the tamper-evident record and
its verification, ``/halts`` the kill switch, ``/agents`` what each agent did and
``/policy`` the effective rules with a "try an action" box. Every page needs a signed-in
human; every form is a plain POST with the session's CSRF token, answered with a
redirect to a page that shows the outcome (see :mod:`ringfence.server.dashboard_web`).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ringfence.control.store import Request as ApprovalRequest
from ringfence.errors import ControlError
from ringfence.server import api, dashboard_agents, dashboard_ledger, dashboard_policy
from ringfence.server.dashboard_web import (
    HERE,
    Form,
    Human,
    local_path,
    page,
    read_form,
    redirect,
    render,
    server_state,
    signed_in,
)
from ringfence.server.http import SESSION_COOKIE, HTTPError
from ringfence.server.identity import AuthError, sign_in, sign_out
from ringfence.server.sessions import set_session_cookie
from ringfence.server.state import ServerState

STATIC = HERE / "static"
MAX_REASON = 2000
ENVIRONMENTS = ("development", "staging", "production")


# --- signing in and out -------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    human = await signed_in(request)
    target = local_path(request.query_params.get("next"))
    if human is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", None, next=target, user="", error="")


async def login(request: Request) -> Response:
    """Check the name and password, start a session (cookie) and go where the person was going."""
    state = server_state(request)
    form: dict[str, str] = {}
    try:
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise HTTPError(403, "sign in from this server's own login page")
        request.app.state.login_limiter.check(request.client.host if request.client else "?")
        form = await read_form(request)
        user, password = form.get("user", "").strip(), form.get("password", "")
        if not user or not password:
            raise HTTPError(422, "enter your user name and password")
        try:
            sid, csrf = await asyncio.to_thread(sign_in, state.store, user, password)
        except AuthError as exc:
            raise HTTPError(401, str(exc)) from None
    except HTTPError as exc:
        return render(
            request,
            "login.html",
            None,
            status=exc.status,
            next=local_path(form.get("next")),
            user=form.get("user", ""),
            error=exc.message,
        )
    human = Human(user, csrf, sid, user in state.gate.settings.control.approvers)
    response = redirect(local_path(form.get("next")), human, f"Signed in as {user}.")
    set_session_cookie(request, response, sid)
    return response


@page
async def logout(request: Request, human: Human, form: Form) -> Response:
    await asyncio.to_thread(sign_out, server_state(request).store, human.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- approval requests --------------------------------------------------------------------


def action_lines(action: Any) -> list[tuple[str, str]]:
    """The action in readable form: ``(label, monospace text)`` pairs."""
    if not isinstance(action, dict):
        return []
    raw = action.get("payload")
    payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
    lines: list[tuple[str, str]] = []
    for key, label in (("command", "command"), ("path", "path"), ("diff", "diff"), ("patch", "diff")):
        value = payload.get(key)
        if isinstance(value, str) and value:
            lines.append((label, value))
    for key in ("content", "new_string", "old_string", "new_source", "edits"):
        value = payload.get(key)
        if isinstance(value, dict) and "digest" in value:
            lines.append((key, f"{value.get('bytes', '?')} bytes, {value['digest']} (contents are not stored)"))
    rest = {
        k: v
        for k, v in payload.items()
        if k not in ("command", "path", "diff", "patch", "content", "new_string", "old_string", "new_source", "edits")
    }
    if rest:
        lines.append(("payload", json.dumps(rest, indent=2, ensure_ascii=False, sort_keys=True)))
    where = [f"{k}: {action[k]}" for k in ("kind", "tool", "cwd", "repo", "environment") if action.get(k)]
    lines.append(("where", "\n".join(where)))
    return lines


def view(r: ApprovalRequest, state: ServerState) -> dict[str, Any]:
    """:func:`api.request_json` plus what the page shows: readable action, time left, comments."""
    doc = api.request_json(r, state)
    now = state.store.clock()
    doc["lines"] = action_lines(doc.get("action"))
    doc["left"] = r.expires_at - now
    doc["grant_left"] = (r.grant_expires_at - now) if r.grant_expires_at else None
    comments = {}
    for a in state.store.approvals(r.id):
        try:
            comments[(a.approver, a.at)] = str(json.loads(a.statement).get("comment") or "")
        except ValueError:
            comments[(a.approver, a.at)] = ""
    for answer in doc["answers"]:
        answer["comment"] = comments.get((answer["approver"], answer["at"]), "")
    return doc


def _find(state: ServerState, rid: str) -> ApprovalRequest:
    return api._get_request(state, rid)


@page
async def queue(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)

    def load() -> tuple[list[dict[str, Any]], int]:
        pending = state.store.requests(status="pending", limit=200)
        return [view(r, state) for r in pending], len(state.store.active_halts())

    pending, halts = await asyncio.to_thread(load)
    return render(request, "queue.html", human, requests=pending, halts=halts, refresh=True)


@page
async def show_request(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)

    def load() -> tuple[dict[str, Any], list[Any]]:
        r = _find(state, request.path_params["rid"])
        return view(r, state), state.store.events(r.id)

    doc, events = await asyncio.to_thread(load)
    return render(request, "request.html", human, r=doc, events=events)


@page
async def answer(request: Request, human: Human, form: Form) -> Response:
    """Approve or deny with a reason; refusals (not an approver, not eligible, already
    answered) come back as a flash message on the page."""
    state = server_state(request)
    verdict = request.path_params["verdict"]
    if verdict not in ("approve", "deny"):
        raise HTTPError(404, f"no such answer {verdict!r}; approve or deny")
    rid = request.path_params["rid"]
    back = local_path(form.get("back"))
    reason = form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        return redirect(back, human, f"the reason is {len(reason)} characters; at most {MAX_REASON}", "error")
    r = await asyncio.to_thread(_find, state, rid)
    try:
        result = await asyncio.to_thread(api.answer_and_record, state, r.id, verdict, human.user, reason)
    except ControlError as exc:
        return redirect(back, human, str(exc), "error")
    if verdict == "deny":
        message = f"You denied {r.id}; the agent's action stays blocked."
    elif result.tally.satisfied:
        message = f"You approved {r.id}. It is approved: the agent can retry exactly that action now."
    else:
        message = f"You approved {r.id}. It still needs {result.tally.missing}."
    return redirect(back, human, message)


# --- the ledger ---------------------------------------------------------------------------


def _verification(request: Request) -> dashboard_ledger.VerificationCache:
    cache = getattr(request.app.state, "ledger_verification", None)
    if not isinstance(cache, dashboard_ledger.VerificationCache):
        cache = dashboard_ledger.VerificationCache()
        request.app.state.ledger_verification = cache
    return cache


def _whole(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name) or request.path_params.get(name)
    if raw is None:
        return default
    if not str(raw).isdigit() or len(str(raw)) > 18:
        raise HTTPError(422, f"{name} must be a whole number, not {str(raw)[:40]!r}")
    return int(raw)


@page
async def ledger(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)
    number = _whole(request, "page", 0)
    cache = _verification(request)
    size, entries, pages = await asyncio.to_thread(dashboard_ledger.page_of, state.ledger, number)
    verified = await asyncio.to_thread(cache.get, state.ledger, state.settings)
    rows = [dashboard_ledger.row(e) for e in entries]
    return render(request, "ledger.html", human, size=size, entries=rows, page=number, pages=pages, verified=verified)


@page
async def ledger_entry(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)
    seq = _whole(request, "seq", 0)
    proven = await asyncio.to_thread(dashboard_ledger.prove, state.ledger, seq)
    if proven is None:
        size = await asyncio.to_thread(state.ledger.size)
        raise HTTPError(404, f"the ledger has {size} entries; there is no entry {seq}")
    body = json.dumps(proven.entry, indent=2, ensure_ascii=False, sort_keys=True)
    return render(request, "ledger_entry.html", human, p=proven, body=body, e=dashboard_ledger.row(proven.entry))


# --- the kill switch ------------------------------------------------------------------------


@page
async def halts(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)

    def load() -> tuple[list[Any], list[Any]]:
        return state.store.active_halts(), [h for h in state.store.halts(limit=20) if h.lifted_at is not None]

    active, lifted = await asyncio.to_thread(load)
    return render(request, "halts.html", human, active=active, lifted=lifted, environments=ENVIRONMENTS)


@page
async def halt(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)
    reason = form.get("reason", "").strip()
    agent = form.get("agent", "").strip() or None
    env = form.get("environment", "") or None
    everyone = form.get("everyone") == "on"
    if not reason:
        return redirect("/halts", human, "a reason is required: every stopped agent is shown it", "error")
    if len(reason) > MAX_REASON or (agent is not None and len(agent) > 64):
        return redirect("/halts", human, f"the reason is at most {MAX_REASON} characters, the agent id 64", "error")
    if env is not None and env not in ENVIRONMENTS:
        return redirect("/halts", human, f"environment must be one of {', '.join(ENVIRONMENTS)}", "error")
    if everyone and agent is not None:
        return redirect("/halts", human, "halt one agent or everyone, not both", "error")
    h = await asyncio.to_thread(
        api.halt_and_record, state, agent=agent, environment=env, everyone=everyone, reason=reason, by=human.user
    )
    return redirect("/halts", human, f"Halted {h.scope()} ({h.id}): matching actions are denied until resumed.")


@page
async def resume(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)
    hid = request.path_params["hid"]
    if not human.approver:
        return redirect(
            "/halts", human, f"lifting a halt needs a configured approver; {human.user} is not one", "error"
        )
    reason = form.get("reason", "").strip()
    if not reason or len(reason) > MAX_REASON:
        return redirect("/halts", human, "say why it is safe to go on (a reason of at most 2000 characters)", "error")
    lifted = await asyncio.to_thread(api.resume_and_record, state, hid, by=human.user, reason=reason)
    if lifted is None:
        return redirect("/halts", human, f"there is no active halt {hid}: it may have been lifted already", "error")
    return redirect("/halts", human, f"Resumed {lifted.scope()} ({hid}).")


# --- agents and policy ------------------------------------------------------------------------


@page
async def agents(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)
    from ringfence.review.metrics import agent_metrics

    stats, points = await asyncio.to_thread(dashboard_agents.collect, state.ledger)
    reviews = [r for r in await asyncio.to_thread(agent_metrics, state.ledger) if r["reviewed"]]
    chart = dashboard_agents.chart(points)
    lines = {s.agent: dashboard_agents.sparkline(s.times, chart.start, chart.end) if chart else "" for s in stats}
    return render(
        request,
        "agents.html",
        human,
        stats=stats,
        chart=chart,
        lines=lines,
        window=dashboard_agents.WINDOW,
        reviews=reviews,
    )


@page
async def policy(request: Request, human: Human, form: Form) -> Response:
    state = server_state(request)
    q = request.query_params
    command = q.get("command", "")
    cwd = q.get("cwd", "").strip() or os.getcwd()
    env = q.get("environment") or None
    agent = q.get("agent", "").strip() or "agent"
    explained = None
    problem = ""
    if len(command) > dashboard_policy.MAX_COMMAND:
        problem = f"the command is {len(command)} characters; try at most {dashboard_policy.MAX_COMMAND}"
    elif not cwd.startswith("/"):
        problem = "the working directory must be an absolute path"
    elif env is not None and env not in ENVIRONMENTS:
        problem = f"environment must be one of {', '.join(ENVIRONMENTS)}"
    elif command.strip():
        explained = await asyncio.to_thread(dashboard_policy.explain, state.gate, command, cwd, env, agent)
    return render(
        request,
        "policy.html",
        human,
        rules=dashboard_policy.rules(state.gate),
        command=command,
        cwd=cwd,
        environment=env or "",
        agent=agent,
        environments=ENVIRONMENTS,
        explained=explained,
        problem=problem,
    )


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/", queue, methods=["GET"]),
    Route("/requests/{rid}", show_request, methods=["GET"]),
    Route("/requests/{rid}/{verdict}", answer, methods=["POST"]),
    Route("/ledger", ledger, methods=["GET"]),
    Route("/ledger/{seq}", ledger_entry, methods=["GET"]),
    Route("/halts", halts, methods=["GET"]),
    Route("/halts", halt, methods=["POST"]),
    Route("/halts/{hid}/resume", resume, methods=["POST"]),
    Route("/agents", agents, methods=["GET"]),
    Route("/policy", policy, methods=["GET"]),
]
