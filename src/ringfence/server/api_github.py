"""GitHub deployment protection rules: ``POST /api/v1/integrations/github/deployment-protection``.

A GitHub App with a custom deployment protection rule sends a ``deployment_protection_rule``
webhook (``action: requested``) when a workflow job targets a protected environment. The
handler:

1. verifies ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app's webhook
   secret, compared in constant time) — missing or wrong: 401, nothing changes;
2. answers ``ping`` (200), ignores other events and actions (202, saying so), and
   ignores a redelivery of a delivery it already handled (``X-GitHub-Delivery``,
   remembered for a day once handled, so a redelivery after a failure is handled);
3. checks the payload and that ``deployment_callback_url`` is a deployment protection
   callback under the configured API (``integrations.github.api_url``): any other host
   is refused (422), so a forged payload cannot make the server call elsewhere;
4. decides the deployment as a ``deploy`` action — the commit ``git:<sha>`` is the
   artifact, the environment, repository and run are part of what is approved — for the
   principal who triggered it (the sender, bot-aware: ``dependabot[bot]`` is an agent);
5. owes GitHub the answer through the outbox: queued now for allow (``approved``) or deny
   (``rejected``), or when the approval request settles for a held deployment. The
   server's outbox sweep sends it (``POST`` to the callback URL with the installation
   token), retrying with backoff while GitHub is unreachable.

The webhook itself is answered at once (202 with the decision); nothing on this path
waits on GitHub.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ringfence.model import Action, ActionKind, Decision, Principal
from ringfence.server.http import HTTPError, body_bytes
from ringfence.server.state import ServerState

PATH = "/api/v1/integrations/github/deployment-protection"
MAX_BODY = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_RUN = re.compile(r"/actions/runs/(\d+)/deployment_protection_rule$")
_ENVIRONMENTS = ("development", "staging", "production")


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.rf
    return state


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<hex HMAC-SHA256 of body with secret>`` (constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))


def _str(doc: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc if isinstance(doc, str) and doc else None


def deployment_action(doc: dict[str, Any], cwd: str) -> tuple[Action, Principal, str]:
    """The deploy action, its principal and the callback URL in a ``requested`` payload.
    Raises HTTPError(422) saying which field is off."""
    from ringfence.adapters.ci import classify

    environment = _str(doc, "environment")
    callback = _str(doc, "deployment_callback_url")
    sha = _str(doc, "deployment", "sha")
    repo = _str(doc, "repository", "full_name")
    login = _str(doc, "sender", "login") or _str(doc, "deployment", "creator", "login")
    for name, value in (
        ("environment", environment),
        ("deployment_callback_url", callback),
        ("deployment.sha", sha),
        ("repository.full_name", repo),
        ("sender.login", login),
    ):
        if value is None:
            raise HTTPError(422, f"the deployment_protection_rule payload has no {name} (a string)")
    assert environment and callback and sha and repo and login
    if not _SHA.match(sha):
        raise HTTPError(422, "deployment.sha must be a full commit id (40 or 64 lowercase hex)")
    run = _RUN.search(callback)
    if run is None:
        raise HTTPError(422, "deployment_callback_url is not a workflow run's deployment_protection_rule URL")
    account = (
        _str(doc, "sender", "type") if _str(doc, "sender", "login") else _str(doc, "deployment", "creator", "type")
    )
    actor = classify(login, account_type=account)
    payload: dict[str, Any] = {
        "step": "deploy",
        "artifact": f"git:{sha}",
        "environment": environment,
        "repository": repo,
        "run": run.group(1),
    }
    ref = _str(doc, "deployment", "ref")
    attributes = {
        "ci": "github-deployment",
        "bot": "true" if actor.bot else "false",
        **({"bot_kind": actor.bot_kind} if actor.bot_kind else {}),
        "actor": login,
        "repository": repo,
        "run_id": run.group(1),
        "sha": sha,
        **({"ref": ref} if ref else {}),
        **({"event": e} if (e := _str(doc, "event")) else {}),
    }
    principal = Principal(actor.type, actor.login, runtime="github", session=run.group(1), attributes=attributes)
    env = environment if environment in _ENVIRONMENTS else None
    return (
        Action(ActionKind.DEPLOY, payload, cwd=cwd, tool="github-deployment", repo=repo, environment=env),
        principal,
        callback,
    )


async def deployment_protection(request: Request) -> Response:
    from ringfence.control.callbacks import GITHUB_DEPLOYMENT, comment, github_callback_problem
    from ringfence.server.api import decide_async

    state = _state(request)
    github = state.gate.settings.control.github
    if github is None or not github.webhook_secret:
        raise HTTPError(
            404,
            "GitHub deployment protection rules are not configured here (integrations.github, with the secret in "
            "the variable webhook_secret_env names)",
        )
    raw = await body_bytes(request, limit=MAX_BODY)
    if not signature_valid(github.webhook_secret, raw, request.headers.get("x-hub-signature-256")):
        raise HTTPError(401, "X-Hub-Signature-256 is missing or does not match the webhook secret")
    event = request.headers.get("x-github-event", "")
    if event == "ping":
        return JSONResponse({"ok": True, "event": "ping"})
    if event != "deployment_protection_rule":
        return JSONResponse({"ignored": f"event {event[:60]!r} is not handled here"}, status_code=202)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise HTTPError(400, "the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise HTTPError(400, "the body must be a JSON object")
    if doc.get("action") != "requested":
        return JSONResponse({"ignored": f"action {str(doc.get('action'))[:60]!r} is not handled"}, status_code=202)
    delivery = request.headers.get("x-github-delivery", "")
    action, principal, callback = deployment_action(doc, "/")
    problem = github_callback_problem(callback, github)
    if problem is not None:
        raise HTTPError(422, problem)
    store = state.store
    nonce = f"github-delivery:{delivery[:100]}" if delivery else None
    seen: bool = nonce is not None and await asyncio.to_thread(store.seen_nonce, nonce)
    if seen:
        return JSONResponse({"ignored": "this delivery was already handled"}, status_code=202)
    started = time.perf_counter()
    decision: Decision = await decide_async(state, action, principal)
    request.app.state.metrics.observe(decision, started)
    where = f"{action.payload['environment']} ({action.payload['artifact'][:16]}…)"
    document = {
        "environment_name": action.payload["environment"],
        "repository": action.repo,
        "approved_comment": comment(f"ringfence allowed the deployment to {where}: {decision.reason}"),
        "rejected_comment": comment(f"ringfence denied the deployment to {where}: {decision.reason}"),
    }
    out: dict[str, Any] = {
        "decision": decision.outcome.value,
        "reason": decision.reason,
        "rules": list(decision.rule_ids),
    }
    if decision.outcome.value == "require_approval" and decision.request_id:
        document["approved_comment"] = comment(f"ringfence: {decision.request_id} was approved for {where}")
        document["rejected_comment"] = comment(f"ringfence: {decision.request_id} was not approved for {where}")
        cb = await asyncio.to_thread(
            store.add_callback, GITHUB_DEPLOYMENT, callback, document, request_id=decision.request_id
        )
        out["request"] = decision.request_id
    else:
        answer = "approved" if decision.outcome.value == "allow" else "rejected"
        cb = await asyncio.to_thread(store.add_callback, GITHUB_DEPLOYMENT, callback, document, answer=answer)
        out["answer"] = answer
    out["callback"] = cb.id
    if nonce is not None:  # remembered once handled: a redelivery after a failure is handled again
        await asyncio.to_thread(_remember, store, nonce)
    return JSONResponse(out, status_code=202, background=BackgroundTask(_deliver_now, state))


def _remember(store: Any, nonce: str) -> None:
    store.remember_nonce(nonce, keep=86400.0)


def _deliver_now(state: ServerState) -> None:
    """Send what is due right after answering the webhook (the sweep retries failures)."""
    from ringfence.control.outbox import run_once

    try:
        run_once(state.store, state.gate.settings.control)
    except Exception:  # the periodic sweep tries again; never fail a request already answered
        return


ROUTES = [Route(PATH, deployment_protection, methods=["POST"])]
