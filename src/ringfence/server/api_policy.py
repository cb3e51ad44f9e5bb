"""HTTP API v1, policy: the effective rules, the policy bundle for agents' offline
fallback, and ``explain`` (the whole trace of one action, nothing recorded).

Agents with the ``decide`` scope and signed-in humans may read all three. ``explain``
is a POST (it takes a body), so a session must echo its CSRF token like any other POST.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ringfence.gate import Gate, builtin_policy
from ringfence.model import Action, ActionKind, Principal, PrincipalType
from ringfence.policy.layers import layers_for
from ringfence.policy.load import Policy, parse_document
from ringfence.server.api import action_from
from ringfence.server.http import Caller, HTTPError, RateLimiter, caller, json_body
from ringfence.server.state import ServerState

MAX_COMMAND = 64 * 1024
ENVIRONMENTS = ("development", "staging", "production")
DEFAULT_AGENT = "agent"  # the principal id a human's explain is judged as, unless they name one


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.rf
    return state


def _reader(request: Request, *, csrf: bool = False) -> Caller:
    """A signed-in human, or an agent whose token has the ``decide`` scope."""
    who = caller(request, _state(request), csrf=csrf)
    who.need("decide")
    return who


def policy_digest(gate: Gate) -> str:
    """The digest decisions of ``gate`` carry: the policy's, and its Rego modules' if any."""
    digest = gate.policy.digest
    return f"{digest}+rego:{gate.rego.digest}" if gate.rego is not None else digest


# --- GET /api/v1/policy ---------------------------------------------------------------------


def policy_json(gate: Gate) -> dict[str, Any]:
    policy = gate.policy
    return {
        "digest": policy_digest(gate),
        "rules": [
            {
                "id": r.id,
                "decision": r.outcome.value,
                "tier": r.tier.value,
                "reason": r.reason,
                "pack": r.pack,
                "layer": r.layer or "builtin",
                "effects": sorted(r.effects),
                "alternative": r.alternative,
                "approval": r.approval.to_dict() if r.approval is not None else None,
            }
            for r in policy.rules
        ],
        "tiers": {tier.value: gate_type.value for tier, gate_type in policy.tiers.items()},
        "groups": sorted(policy.groups) if policy.groups is not None else None,
        "rego": [p.name for p in gate.rego.paths] if gate.rego is not None else [],
    }


async def show_policy(request: Request) -> Response:
    _reader(request)
    return JSONResponse(policy_json(_state(request).gate))


# --- GET /api/v1/policy/bundle --------------------------------------------------------------


def bundle(state: ServerState, cwd: str) -> dict[str, Any]:
    """The server's own policy files (organisation, repository and user layers, in the
    order they apply) and Rego modules, with the digest the server's decisions carry.

    Built-in packs are left out (the client has them; ``builtin_digest`` says which). The
    files are read once and their digest recomputed from exactly the bytes sent, so a
    bundle never pairs files with a digest they do not have: when a file changed since
    the server loaded its policy, the bundle is refused until the server is restarted."""
    builtin = builtin_policy()
    packs: list[dict[str, str]] = []
    sources: list[bytes] = []
    any_file = False
    for layer in layers_for(state.settings, cwd):
        for path in layer.paths:
            any_file = True
            data = _read(path)
            if parse_document(data, str(path)).is_tests:
                continue  # policy tests sit next to packs but are not policy
            sources.append(data)
            packs.append({"name": path.name, "layer": layer.name, "yaml": _text(path, data)})
    digest = Policy.from_rules((), [builtin.digest.encode(), *sources]).digest if any_file else builtin.digest
    rego: list[dict[str, str]] = []
    gate = state.gate
    if gate.rego is not None:
        from ringfence.policy.rego import RegoModules

        paths = gate.rego.paths
        rego = [{"name": p.name, "text": _text(p, _read(p))} for p in paths]
        reloaded = RegoModules.load(paths).digest
        if reloaded != gate.rego.digest:
            raise HTTPError(503, _changed("Rego modules", reloaded, gate.rego.digest))
        digest = f"{digest}+rego:{reloaded}"
    if digest != policy_digest(gate):
        raise HTTPError(503, _changed(f"policy files under {cwd}", digest, policy_digest(gate)))
    return {"digest": digest, "builtin_digest": builtin.digest, "packs": packs, "rego": rego}


def _changed(what: str, now: str, loaded: str) -> str:
    return (
        f"the {what} no longer match the policy this server loaded ({now} now, {loaded} loaded); "
        "restart the server to load them"
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise HTTPError(503, f"cannot read the policy file {path}: {exc.strerror}") from None


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(503, f"the policy file {path} is not UTF-8 text") from None


async def policy_bundle(request: Request) -> Response:
    _reader(request)
    doc = await asyncio.to_thread(bundle, _state(request), os.getcwd())
    return JSONResponse(doc)


# --- POST /api/v1/explain ---------------------------------------------------------------------


def explain(gate: Gate, action: Action, principal: Principal) -> dict[str, Any]:
    """What ``ringfence explain`` shows, as JSON: the commands a shell line would run
    after unwrapping, then the decision from analysis and policy alone (no control
    state, nothing recorded, nothing executed)."""
    from ringfence.analyze import trace_action
    from ringfence.analyze.notes import command_notes
    from ringfence.errors import AnalysisLimit

    ctx = gate.context(action)
    commands: list[dict[str, Any]] = []
    stopped: str | None = None
    if action.kind is ActionKind.SHELL:
        try:
            for cmd in trace_action(action, ctx).commands:
                notes = command_notes(cmd, action.cwd)
                commands.append({"command": cmd.evidence, "argv": list(cmd.argv), "via": list(cmd.via), "notes": notes})
        except AnalysisLimit as exc:
            stopped = str(exc)
        except Exception as exc:  # the decision below fails closed on the same input
            stopped = f"analysis failed: {exc}"
    decision = gate.evaluate(action, principal)
    return {
        "recorded": False,
        "cwd": action.cwd,
        "workspace": ctx.workspace,
        "environment": ctx.environment,
        "principal": decision.principal.to_dict(),
        "commands": commands,
        "analysis_stopped": stopped,
        "decision": decision.to_dict(),
    }


def _explain_request(doc: dict[str, Any], who: Caller) -> tuple[Action, Principal]:
    unknown = sorted(set(doc) - {"command", "cwd", "environment", "action", "agent"})
    if unknown:
        raise HTTPError(
            422, f"unknown field(s) {', '.join(unknown)}; send command (with cwd, environment) or action, and agent"
        )
    has_command, has_action = "command" in doc, "action" in doc
    if has_command == has_action:
        raise HTTPError(422, 'send exactly one of {"command": "..."} or {"action": {...}}')
    agent = doc.get("agent")
    if agent is not None and (not isinstance(agent, str) or not agent.strip() or len(agent) > 128):
        raise HTTPError(422, "agent must be a non-empty agent id of at most 128 characters")
    if who.kind == "agent":
        if agent is not None and agent != who.name:
            raise HTTPError(403, f"this token is for {who.name}; it cannot explain decisions for {agent}")
        agent = who.name
    principal = Principal(PrincipalType.AGENT, agent or DEFAULT_AGENT)
    if has_action:
        if "cwd" in doc or "environment" in doc:
            raise HTTPError(422, "cwd and environment go inside action")
        return action_from(doc["action"]), principal
    command = doc["command"]
    if not isinstance(command, str) or not command.strip():
        raise HTTPError(422, "command must be a non-empty string")
    if len(command) > MAX_COMMAND:
        raise HTTPError(422, f"command is {len(command)} characters; the limit is {MAX_COMMAND}")
    cwd = doc.get("cwd", os.getcwd())
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise HTTPError(422, "cwd must be an absolute path")
    environment = doc.get("environment")
    if environment is not None and environment not in ENVIRONMENTS:
        raise HTTPError(422, f"environment must be one of {', '.join(ENVIRONMENTS)}")
    return Action(ActionKind.SHELL, {"command": command}, cwd, tool="Bash", environment=environment), principal


async def explain_action(request: Request) -> Response:
    state = _state(request)
    who = _reader(request, csrf=True)
    limiter: RateLimiter = request.app.state.limiter
    limiter.check(who.name)
    doc = await json_body(request)
    action, principal = _explain_request(doc, who)
    return JSONResponse(await asyncio.to_thread(explain, state.gate, action, principal))


ROUTES = [
    Route("/api/v1/policy", show_policy, methods=["GET"]),
    Route("/api/v1/policy/bundle", policy_bundle, methods=["GET"]),
    Route("/api/v1/explain", explain_action, methods=["POST"]),
]
