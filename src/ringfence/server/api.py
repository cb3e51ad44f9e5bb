"""HTTP API v1: decisions, hook payloads, approval requests, the kill switch, the ledger.

Every endpoint authenticates (see :mod:`ringfence.server.http`), validates its input and
answers a malformed request with a 4xx and a precise message. Decisions have the same
semantics as the local gate: analysis, policy, control state, ledger first.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ringfence.control.answers import Answer
from ringfence.control.approvals import Requirement, ineligible, signature_problem, tally
from ringfence.control.store import Halt
from ringfence.control.store import Request as ApprovalRequest
from ringfence.errors import ApprovalError, ControlError
from ringfence.model import Action, ActionKind, Principal, PrincipalType
from ringfence.server.http import Caller, HTTPError, RateLimiter, body_bytes, caller, json_body
from ringfence.server.state import ServerState

_ACTION_FIELDS = frozenset({"kind", "payload", "cwd", "tool", "repo", "environment"})
_PRINCIPAL_FIELDS = frozenset({"runtime", "model", "session"})
_STATUSES = ("pending", "approved", "used", "denied", "expired")


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.rf
    return state


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def action_from(doc: Any) -> Action:
    """An :class:`Action` from its JSON form, validated field by field."""
    if not isinstance(doc, dict):
        raise HTTPError(422, "action must be an object with kind, payload and cwd")
    unknown = sorted(set(doc) - _ACTION_FIELDS)
    if unknown:
        raise HTTPError(
            422, f"action has unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_ACTION_FIELDS))}"
        )
    kind = doc.get("kind")
    try:
        action_kind = ActionKind(str(kind))
    except ValueError:
        raise HTTPError(
            422, f"action.kind must be one of {', '.join(k.value for k in ActionKind)}, not {kind!r}"
        ) from None
    payload = doc.get("payload", {})
    if not isinstance(payload, dict):
        raise HTTPError(422, "action.payload must be an object")
    cwd = doc.get("cwd")
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise HTTPError(422, "action.cwd must be an absolute path")
    if action_kind is ActionKind.SHELL and not isinstance(payload.get("command"), str):
        raise HTTPError(422, "a shell action needs payload.command (a string)")
    if action_kind in (ActionKind.FILE_WRITE, ActionKind.FILE_READ) and not isinstance(payload.get("path"), str):
        raise HTTPError(422, f"a {action_kind.value} action needs payload.path (a string)")
    for key in ("tool", "repo", "environment"):
        if doc.get(key) is not None and not isinstance(doc[key], str):
            raise HTTPError(422, f"action.{key} must be a string")
    if doc.get("environment") not in (None, "development", "staging", "production"):
        raise HTTPError(422, "action.environment must be development, staging or production")
    return Action(action_kind, payload, cwd, doc.get("tool"), doc.get("repo"), doc.get("environment"))


def principal_for(request_doc: dict[str, Any], agent: str) -> Principal:
    doc = request_doc.get("principal") or {}
    if not isinstance(doc, dict):
        raise HTTPError(422, "principal must be an object")
    unknown = sorted(set(doc) - _PRINCIPAL_FIELDS)
    if unknown:
        raise HTTPError(
            422,
            f"principal has unknown field(s) {', '.join(unknown)}; the agent's identity comes from its token "
            f"(known: {', '.join(sorted(_PRINCIPAL_FIELDS))})",
        )
    for key, value in doc.items():
        if not isinstance(value, str):
            raise HTTPError(422, f"principal.{key} must be a string")
    return Principal(
        PrincipalType.AGENT, agent, runtime=doc.get("runtime"), model=doc.get("model"), session=doc.get("session")
    )


def _agent(request: Request, state: ServerState) -> Caller:
    """The calling agent, if its token may ask for decisions and it is within its rate."""
    who = caller(request, state)
    if who.kind != "agent":
        raise HTTPError(403, "decisions are asked for by agents with a token (`ringfence token issue`)")
    who.need("decide")
    _limiter(request).check(who.name)
    return who


async def decide(request: Request) -> Response:
    state = _state(request)
    who = _agent(request, state)
    doc = await json_body(request)
    unknown = sorted(set(doc) - {"action", "principal"})
    if unknown:
        raise HTTPError(422, f"unknown field(s) {', '.join(unknown)}; send action and optionally principal")
    action = action_from(doc.get("action"))
    principal = principal_for(doc, who.name)
    started = time.perf_counter()
    decision = await decide_async(state, action, principal)
    request.app.state.metrics.observe(decision, started)
    return JSONResponse(decision.to_dict())


async def decide_async(state: ServerState, action: Action, principal: Principal) -> Any:
    """``Gate.decide`` without a thread hop where the control state is embedded SQLite:
    analysis, policy and control run on the event loop (well under a millisecond), and the
    ledger write is awaited on the group-commit writer, so concurrent decisions share
    one durable transaction. PostgreSQL control state (network reads) runs in a thread."""
    from ringfence.gate import ledger_entry
    from ringfence.ledger.sqlite_tree import SQLiteBackend
    from ringfence.server.batching import BatchingLedger

    gate = state.gate
    ledger = gate.ledger
    if not isinstance(ledger, BatchingLedger) or not isinstance(state.store.backend, SQLiteBackend):
        return await asyncio.to_thread(gate.decide, action, principal)
    decision = gate.prepare(action, principal)
    try:
        seq = await ledger.append_async(ledger_entry(decision))
    except Exception as exc:
        return gate.unrecorded(decision, exc)
    if (seq + 1) % gate.settings.checkpoint_every == 0:
        return await asyncio.to_thread(gate.recorded, decision, seq)  # signs a checkpoint
    return gate.recorded(decision, seq)


async def runtime_hook(request: Request) -> Response:
    """A runtime's hook payload in, the same answer out as ``ringfence hook <runtime>``
    prints (Claude Code calls this directly as its ``"type": "http"`` hook; the others
    reach it through the command hook in remote mode). The agent's identity is its
    token's, whatever the payload says."""
    from ringfence.adapters.contracts import RUNTIMES
    from ringfence.daemon.dispatch import answer

    state = _state(request)
    who = _agent(request, state)
    runtime = request.path_params["runtime"]
    if runtime not in RUNTIMES:
        raise HTTPError(404, f"no hook for runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    raw = await body_bytes(request)
    env = {"RINGFENCE_AGENT_ID": who.name}

    def gate_for(cwd: str) -> Any:
        return _Observed(state, request)

    line = await asyncio.to_thread(answer, runtime, raw, env, gate_for)
    digest = state.gate.policy.digest + (f"+rego:{state.gate.rego.digest}" if state.gate.rego is not None else "")
    return Response(line, media_type="application/json", headers={"X-Ringfence-Policy-Digest": digest})


class _Observed:
    """The server's gate, counting each decision into the metrics."""

    def __init__(self, state: ServerState, request: Request) -> None:
        self._gate = state.gate
        self._metrics = request.app.state.metrics
        self.settings = state.gate.settings

    def decide(self, action: Action, principal: Principal) -> Any:
        started = time.perf_counter()
        decision = self._gate.decide(action, principal)
        self._metrics.observe(decision, started)
        return decision

    def prompt_answered(self, action: Action, principal: Principal) -> str | None:
        return self._gate.prompt_answered(action, principal)


# --- approval requests ----------------------------------------------------------------


def request_json(r: ApprovalRequest, state: ServerState) -> dict[str, Any]:
    records = state.store.approvals(r.id)
    t = tally(r, records, state.gate.settings.control)
    now = state.store.clock()
    return {
        **r.document(now),
        "requirement": Requirement.from_dict(r.body.get("requirement") or {}).describe(),
        "rules": list(r.body.get("rules") or []),
        "effects": list(r.body.get("effects") or []),
        "action": r.body.get("action"),
        "reason": r.body.get("reason"),
        "approved_by": list(t.approved_by),
        "denied_by": list(t.denied_by),
        "missing": t.missing,
        "answers": [
            {
                "approver": a.approver,
                "verdict": a.verdict,
                "at": a.at,
                "via": a.via,
                "signature_valid": signature_problem(a, r, state.gate.settings.control) is None,
            }
            for a in records
        ],
    }


def _get_request(state: ServerState, rid: str) -> ApprovalRequest:
    if not re.fullmatch(r"AR-[0-9A-Z]{4,32}", rid):
        raise HTTPError(404, f"{rid!r} is not an approval request id (they look like AR-7K2Q9XMB)")
    try:
        return state.store.get(rid)
    except ApprovalError:
        raise HTTPError(404, f"there is no approval request {rid}") from None


def _visible(who: Any, r: ApprovalRequest) -> None:
    if who.kind == "agent":
        who.need("wait")
        if r.requester_id != who.name:
            raise HTTPError(404, f"there is no approval request {r.id}")  # an agent sees only its own


async def list_requests(request: Request) -> Response:
    state = _state(request)
    who = caller(request, state)
    status = request.query_params.get("status", "pending")
    if status not in (*_STATUSES, "all"):
        raise HTTPError(422, f"status must be one of {', '.join(_STATUSES)} or all")
    limit = _int_param(request, "limit", 50, 1, 500)
    rows = await asyncio.to_thread(state.store.requests, status=None if status == "all" else status, limit=limit)
    if who.kind == "agent":
        who.need("wait")
        rows = [r for r in rows if r.requester_id == who.name]
    return JSONResponse({"requests": [request_json(r, state) for r in rows]})


async def show_request(request: Request) -> Response:
    state = _state(request)
    who = caller(request, state)
    r = _get_request(state, request.path_params["rid"])
    _visible(who, r)
    doc = request_json(r, state)
    doc["history"] = [
        {"at": e.at, "kind": e.kind, "actor": e.actor, "detail": dict(e.detail)} for e in state.store.events(r.id)
    ]
    return JSONResponse(doc)


def answer_and_record(state: ServerState, rid: str, verdict: str, approver: str, comment: str) -> Answer:
    """A signed-in human's answer given through the server (API or dashboard), signed with
    the server's key on their behalf, then its ledger entry. Raises
    :class:`~ringfence.errors.ControlError` saying why an answer is refused."""
    from ringfence.commands._control import record
    from ringfence.control.answers import answer
    from ringfence.control.answers import ledger_entry as answer_entry

    result = answer(
        state.store,
        state.gate.settings.control,
        rid,
        verdict,
        state.key,
        approver=approver,
        via="api",
        comment=comment,
    )
    record(
        state.settings,
        answer_entry(result),
    )
    return result


async def slack_interaction(request: Request) -> Response:
    """Slack's interactive-message callback (an approver pressed Approve or Deny).

    Not authenticated with a token: Slack signs the request (v0 HMAC with the app's signing
    secret, at most 5 minutes old, never replayed). The Slack user must map to a configured
    approver, and the answer is checked like any other and signed with the server's key.
    A refused answer is shown to the person in Slack (200 with an ephemeral message)."""
    from ringfence.commands._control import record
    from ringfence.control.answers import ledger_entry as answer_entry
    from ringfence.control.interactions import slack_answer
    from ringfence.control.slack import SlackPayloadError, SlackSignatureError

    state = _state(request)
    secret = state.gate.settings.control.slack_signing_secret
    if not secret:
        raise HTTPError(404, "Slack interactions are not configured here (approvals.slack_signing_secret_env)")
    raw = await body_bytes(request, limit=64 * 1024)
    headers = {k: v for k, v in request.headers.items()}
    try:
        result = await asyncio.to_thread(
            slack_answer,
            state.store,
            state.gate.settings.control,
            headers,
            raw,
            signing_secret=secret,
            service_key=state.key,
        )
    except SlackSignatureError as exc:
        raise HTTPError(401, str(exc)) from None
    except SlackPayloadError as exc:
        raise HTTPError(400, str(exc)) from None
    except ControlError as exc:
        return JSONResponse({"response_type": "ephemeral", "replace_original": False, "text": f"Not recorded: {exc}"})
    await asyncio.to_thread(
        record,
        state.settings,
        answer_entry(result.answer),
    )
    return JSONResponse(result.response)


async def answer_request(request: Request, verdict: str) -> Response:
    state = _state(request)
    who = caller(request, state, csrf=True)
    who.need_human(f"{verdict} a request")
    doc = await json_body(request) if await _has_body(request) else {}
    unknown = sorted(set(doc) - {"comment"})
    if unknown:
        raise HTTPError(422, f"unknown field(s) {', '.join(unknown)}; send only comment")
    comment = doc.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 2000:
        raise HTTPError(422, "comment must be a string of at most 2000 characters")
    r = _get_request(state, request.path_params["rid"])
    requirement = Requirement.from_dict(r.body.get("requirement") or {})
    why = ineligible(who.name, r, requirement, state.gate.settings.control)
    if why is not None:  # not theirs to answer, whatever the request's state: 403, not 409
        raise HTTPError(403, f"{who.name} cannot answer {r.id}: {why} (it needs {requirement.describe()})")
    try:
        result = await asyncio.to_thread(answer_and_record, state, r.id, verdict, who.name, comment)
    except ControlError as exc:
        raise HTTPError(409, str(exc)) from None
    return JSONResponse(request_json(result.request, state))


async def approve_request(request: Request) -> Response:
    return await answer_request(request, "approve")


async def deny_request(request: Request) -> Response:
    return await answer_request(request, "deny")


async def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "chunked" in request.headers.get("transfer-encoding", "")


async def wait_request(request: Request) -> Response:
    """Long-poll: answers as soon as the request is no longer pending, or after ``timeout``
    seconds (at most 60) with its current state."""
    state = _state(request)
    who = caller(request, state)
    r = _get_request(state, request.path_params["rid"])
    _visible(who, r)
    timeout = _int_param(request, "timeout", 30, 0, 60)
    deadline = time.monotonic() + timeout
    while True:
        r = await asyncio.to_thread(state.store.get, r.id)
        status = r.effective_status(state.store.clock())
        if status != "pending" or time.monotonic() >= deadline:
            return JSONResponse({"id": r.id, "status": status, "done": status != "pending"})
        await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


# --- kill switch ------------------------------------------------------------------------


def _halt_json(h: Any) -> dict[str, Any]:
    return {
        "id": h.id,
        "scope": h.scope(),
        "agent": h.agent,
        "environment": h.environment,
        "everyone": h.everyone,
        "reason": h.reason,
        "by": h.by,
        "at": h.at,
        "lifted_by": h.lifted_by,
        "lifted_at": h.lifted_at,
    }


def halt_and_record(
    state: ServerState, *, agent: str | None, environment: str | None, everyone: bool, reason: str, by: str
) -> Halt:
    """Stop the matching principals now (API or dashboard), then the halt's ledger entry."""
    from ringfence.commands._control import record

    h = state.store.halt(agent=agent, environment=environment, everyone=everyone, reason=reason, by=by)
    record(
        state.settings,
        {
            "kind": "halt",
            "principal_type": "human",
            "principal_id": by,
            "decision": "halt",
            "halt": h.id,
            "scope": h.scope(),
            "reason": reason,
        },
    )
    return h


def resume_and_record(state: ServerState, hid: str, *, by: str, reason: str) -> Halt | None:
    """Lift the active halt ``hid`` and record it; None when no such halt is active."""
    from ringfence.commands._control import record

    lifted = state.store.lift([hid], by=by, reason=reason)
    if not lifted:
        return None
    record(
        state.settings,
        {
            "kind": "resume",
            "principal_type": "human",
            "principal_id": by,
            "decision": "resume",
            "halt": hid,
            "scope": lifted[0].scope(),
            "reason": reason,
        },
    )
    return lifted[0]


async def list_halts(request: Request) -> Response:
    state = _state(request)
    caller(request, state)
    active = await asyncio.to_thread(state.store.active_halts)
    return JSONResponse({"halts": [_halt_json(h) for h in active]})


async def create_halt(request: Request) -> Response:
    state = _state(request)
    who = caller(request, state, csrf=True)
    who.need_human("halt agents")
    doc = await json_body(request)
    unknown = sorted(set(doc) - {"agent", "environment", "everyone", "reason"})
    if unknown:
        raise HTTPError(422, f"unknown field(s) {', '.join(unknown)}; send agent, environment, everyone, reason")
    reason = doc.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise HTTPError(422, "reason is required: every stopped agent is shown it")
    agent = doc.get("agent")
    if agent is not None and (not isinstance(agent, str) or not agent.strip()):
        raise HTTPError(422, "agent must be an agent id")
    env = doc.get("environment")
    if env not in (None, "development", "staging", "production"):
        raise HTTPError(422, "environment must be development, staging or production")
    everyone = doc.get("everyone", False)
    if not isinstance(everyone, bool):
        raise HTTPError(422, "everyone must be true or false")
    h = await asyncio.to_thread(
        halt_and_record, state, agent=agent, environment=env, everyone=everyone, reason=reason, by=who.name
    )
    return JSONResponse(_halt_json(h), status_code=201)


async def resume_halt(request: Request) -> Response:
    state = _state(request)
    who = caller(request, state, csrf=True)
    who.need_human("lift a halt")
    if who.name not in state.gate.settings.control.approvers:
        raise HTTPError(403, f"lifting a halt needs a configured approver; {who.name} is not one")
    doc = await json_body(request)
    reason = doc.get("reason")
    if set(doc) - {"reason"} or not isinstance(reason, str) or not reason.strip():
        raise HTTPError(422, 'send {"reason": "why it is safe to go on"}')
    hid = request.path_params["hid"]
    if not re.fullmatch(r"HALT-[0-9A-Z]{4,32}", hid):
        raise HTTPError(404, f"{hid!r} is not a halt id (they look like HALT-7K2Q9XMB4D1A)")
    lifted = await asyncio.to_thread(resume_and_record, state, hid, by=who.name, reason=reason)
    if lifted is None:
        raise HTTPError(404, f"no active halt {hid}")
    return JSONResponse(_halt_json(lifted))


# --- ledger -------------------------------------------------------------------------------


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPError(422, f"{name} must be a whole number") from None
    if not lo <= value <= hi:
        raise HTTPError(422, f"{name} must be between {lo} and {hi}")
    return value


async def ledger_entries(request: Request) -> Response:
    state = _state(request)
    who = caller(request, state)
    who.need_human("read the ledger")
    limit = _int_param(request, "limit", 50, 1, 500)
    after = _int_param(request, "after", -1, -1, 2**62)
    entries = await asyncio.to_thread(state.ledger.recent, limit, after=after)
    size = await asyncio.to_thread(state.ledger.size)
    return JSONResponse({"size": size, "entries": entries})


async def ledger_entry(request: Request) -> Response:
    state = _state(request)
    who = caller(request, state)
    who.need_human("read the ledger")
    raw = request.path_params["seq"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        raise HTTPError(422, "seq must be a whole number")
    seq = int(raw)

    def load() -> dict[str, Any]:
        size = state.ledger.size()
        if seq >= size:
            raise HTTPError(404, f"the ledger has {size} entries; there is no entry {seq}")
        proof = state.ledger.inclusion_proof(seq, size)
        from ringfence.ledger import merkle

        leaf = state.ledger.leaf(seq)
        root = state.ledger.root(size)
        ok = merkle.verify_inclusion(seq, size, leaf, proof, root)
        return {
            "seq": seq,
            "entry": state.ledger.entry(seq),
            "tree_size": size,
            "root": base64.b64encode(root).decode(),
            "leaf_hash": base64.b64encode(leaf).decode(),
            "inclusion_proof": [base64.b64encode(p).decode() for p in proof],
            "proof_valid": ok,
        }

    return JSONResponse(await asyncio.to_thread(load))


async def latest_checkpoint(request: Request) -> Response:
    state = _state(request)
    caller(request, state).need_human("read the ledger")
    cp = await asyncio.to_thread(state.ledger.latest_checkpoint)
    if cp is None:
        raise HTTPError(404, "no checkpoint has been signed yet")
    return JSONResponse({"size": cp.size, "root": base64.b64encode(cp.root).decode(), "note": cp.note, "ts": cp.ts})


# --- health -------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = _state(request)
    try:
        await asyncio.to_thread(state.store.active_halts)
        await asyncio.to_thread(state.ledger.size)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
    if request.app.state.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    return JSONResponse({"status": "ready"})


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/api/v1/decide", decide, methods=["POST"]),
    Route("/api/v1/hooks/{runtime}", runtime_hook, methods=["POST"]),
    Route("/api/v1/integrations/slack/interactions", slack_interaction, methods=["POST"]),
    Route("/api/v1/requests", list_requests, methods=["GET"]),
    Route("/api/v1/requests/{rid}", show_request, methods=["GET"]),
    Route("/api/v1/requests/{rid}/wait", wait_request, methods=["GET"]),
    Route("/api/v1/requests/{rid}/approve", approve_request, methods=["POST"]),
    Route("/api/v1/requests/{rid}/deny", deny_request, methods=["POST"]),
    Route("/api/v1/halts", list_halts, methods=["GET"]),
    Route("/api/v1/halts", create_halt, methods=["POST"]),
    Route("/api/v1/halts/{hid}/resume", resume_halt, methods=["POST"]),
    Route("/api/v1/ledger/entries", ledger_entries, methods=["GET"]),
    Route("/api/v1/ledger/entries/{seq}", ledger_entry, methods=["GET"]),
    Route("/api/v1/ledger/checkpoints/latest", latest_checkpoint, methods=["GET"]),
]
