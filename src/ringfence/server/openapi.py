"""The OpenAPI 3.1 document of HTTP API v1, written by hand, served at
``GET /api/v1/openapi.json``.

Agents authenticate with ``Authorization: Bearer rf1…`` (``ringfence token issue``);
humans sign in (``POST /api/v1/session``) and send the ``rf_session`` cookie, plus the
session's CSRF token as ``X-CSRF-Token`` on every call that changes state. Every error
is ``{"error": "<what is wrong>"}`` with a 4xx status (503 when the server cannot serve).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ringfence import __version__
from ringfence.adapters.contracts import RUNTIMES
from ringfence.model import ActionKind, Outcome, RiskTier

JSON = "application/json"
STATUSES = ["pending", "approved", "used", "denied", "expired"]
ENVIRONMENTS = ["development", "staging", "production"]

AGENT: list[dict[str, list[str]]] = [{"bearerToken": []}]
READER: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": []}]
HUMAN: list[dict[str, list[str]]] = [{"sessionCookie": []}]
HUMAN_WRITE: list[dict[str, list[str]]] = [{"sessionCookie": [], "csrfToken": []}]
READER_POST: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": [], "csrfToken": []}]

_ERRORS = {
    400: "The body is not valid JSON, or not a JSON object.",
    401: "No credentials, or they are invalid: an unknown, forged, expired or revoked token, or no session.",
    403: "Authenticated, but not allowed: an agent token on a human's endpoint or without the needed scope, "
    "a session without its X-CSRF-Token, or a human who may not answer this request.",
    404: "No such object.",
    409: "The object is not in a state that allows this (for example, a request that is no longer pending).",
    413: "The body is larger than the limit.",
    415: "The body is not JSON (send Content-Type: application/json).",
    422: "A parameter or field is missing or invalid; the message names it.",
    429: "Too many requests from this caller; retry_after says when to try again.",
    503: "The server cannot serve this now; the message says why.",
}
_BODY = (400, 413, 415, 422)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None, *, extra: bool = False) -> dict[str, Any]:
    """An object schema with ``required`` and ``optional`` properties."""
    schema: dict[str, Any] = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        schema["required"] = list(required)
    if not extra:
        schema["additionalProperties"] = False
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


STRING: dict[str, Any] = {"type": "string"}
NUMBER: dict[str, Any] = {"type": "number"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
TIMESTAMP: dict[str, Any] = {"type": "number", "description": "Seconds since the Unix epoch."}
LEDGER_TS: dict[str, Any] = {"type": "string", "description": "UTC, YYYY-MM-DDTHH:MM:SSZ, as recorded."}
REQUEST_ID: dict[str, Any] = {"type": "string", "pattern": "^AR-[0-9A-Z]{4,32}$", "example": "AR-7K2Q9XMB"}
OUTCOME: dict[str, Any] = {"type": "string", "enum": [o.value for o in Outcome]}
TIER: dict[str, Any] = {"type": "string", "enum": [t.value for t in RiskTier]}
ENVIRONMENT: dict[str, Any] = {"type": "string", "enum": ENVIRONMENTS}


def _schemas() -> dict[str, Any]:
    approval_requirement = obj(
        {
            "approvers": array(STRING),
            "k": INTEGER,
            "window": nullable(STRING),
            "ttl_seconds": INTEGER,
            "runtime_prompt": BOOLEAN,
        },
        {"at_least": {"type": "object", "additionalProperties": INTEGER}},
    )
    effect = obj(
        {"kind": STRING, "attrs": ANY_OBJECT, "evidence": STRING},
        {"via": array(STRING)},
    )
    rule_match = obj(
        {"rule": STRING, "decision": OUTCOME, "tier": TIER, "reason": STRING},
        {"alternative": STRING, "effect": STRING, "approval": ref("ApprovalRequirement")},
    )
    decision = obj(
        {
            "decision": OUTCOME,
            "tier": TIER,
            "reason": STRING,
            "rules": array(STRING),
            "matches": array(ref("RuleMatch")),
            "effects": array(ref("Effect")),
            "action_digest": STRING,
            "policy_digest": STRING,
        },
        {
            "exceptions": array(STRING),
            "approval": ref("ApprovalRequirement"),
            "error": STRING,
            "record": {"type": "integer", "minimum": 0, "description": "The decision's ledger sequence number."},
            "request": {**REQUEST_ID, "description": "The approval request that holds (or granted) the action."},
            "control": {"type": "string", "description": "Which control state changed the verdict (halt, grant, …)."},
        },
    )
    action = obj(
        {
            "kind": {"type": "string", "enum": [k.value for k in ActionKind]},
            "cwd": {"type": "string", "pattern": "^/", "description": "An absolute path."},
        },
        {
            "payload": {
                "type": "object",
                "description": "Kind-specific fields: command (a string) for shell; path (a string) for "
                "file_write and file_read.",
            },
            "tool": nullable(STRING),
            "repo": nullable(STRING),
            "environment": nullable(ENVIRONMENT),
        },
    )
    approval_request = obj(
        {
            "id": REQUEST_ID,
            "status": {"type": "string", "enum": STATUSES},
            "action_digest": STRING,
            "summary": STRING,
            "requester": obj({"type": STRING, "id": STRING, "owner": nullable(STRING)}),
            "environment": nullable(STRING),
            "tier": STRING,
            "created_at": TIMESTAMP,
            "expires_at": TIMESTAMP,
            "decided_at": nullable(TIMESTAMP),
            "uses_left": INTEGER,
            "grant_expires_at": nullable(TIMESTAMP),
            "requirement": {"type": "string", "description": "What the request needs, readable."},
            "rules": array(STRING),
            "effects": array({}),
            "action": nullable(ANY_OBJECT),
            "reason": nullable(STRING),
            "approved_by": array(STRING),
            "denied_by": array(STRING),
            "missing": {"type": "string", "description": "What is still needed (empty when satisfied)."},
            "answers": array(
                obj(
                    {
                        "approver": STRING,
                        "verdict": {"type": "string", "enum": ["approve", "deny"]},
                        "at": TIMESTAMP,
                        "via": STRING,
                        "signature_valid": BOOLEAN,
                    }
                )
            ),
        }
    )
    history = array(obj({"at": TIMESTAMP, "kind": STRING, "actor": nullable(STRING), "detail": ANY_OBJECT}))
    detail = obj({**approval_request["properties"], "history": history})
    halt = obj(
        {
            "id": STRING,
            "scope": {"type": "string", "description": "Who is stopped, readable."},
            "agent": nullable(STRING),
            "environment": nullable(STRING),
            "everyone": BOOLEAN,
            "reason": STRING,
            "by": STRING,
            "at": TIMESTAMP,
            "lifted_by": nullable(STRING),
            "lifted_at": nullable(TIMESTAMP),
        }
    )
    ledger_entry = {
        "type": "object",
        "required": ["seq", "ts", "kind"],
        "properties": {"seq": {"type": "integer", "minimum": 0}, "ts": LEDGER_TS, "kind": STRING},
        "description": "A ledger entry as recorded (decision, approval, halt, resume, prompt_answer, …).",
    }
    counts = obj(
        {
            "total": INTEGER,
            "allow": INTEGER,
            "require_approval": INTEGER,
            "deny": INTEGER,
            "other": {"type": "integer", "description": "Decisions with any other outcome."},
        }
    )
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "description": "What is wrong, precisely."},
                "retry_after": {"type": "number", "description": "With 429: seconds until a retry can succeed."},
            },
            "additionalProperties": False,
        },
        "Action": action,
        "PrincipalHints": obj(
            {},
            {"runtime": STRING, "model": STRING, "session": STRING},
        ),
        "DecideRequest": obj({"action": ref("Action")}, {"principal": nullable(ref("PrincipalHints"))}),
        "ApprovalRequirement": approval_requirement,
        "Effect": effect,
        "RuleMatch": rule_match,
        "Decision": decision,
        "HookOutput": {
            "description": "The answer in the runtime's own format: Claude Code and Codex "
            "(hookSpecificOutput; {} when there is nothing to say), Gemini CLI and OpenCode (decision), "
            "Cursor (permission), Copilot CLI (permissionDecision).",
            "anyOf": [
                obj(
                    {},
                    {
                        "hookSpecificOutput": obj(
                            {
                                "hookEventName": STRING,
                                "permissionDecision": {"type": "string", "enum": ["allow", "deny", "ask"]},
                                "permissionDecisionReason": STRING,
                            }
                        )
                    },
                ),
                obj({"decision": {"type": "string", "enum": ["allow", "deny"]}}, {"reason": STRING}, extra=True),
                obj(
                    {"permission": {"type": "string", "enum": ["allow", "deny", "ask"]}},
                    {
                        "continue": BOOLEAN,
                        "user_message": STRING,
                        "agent_message": STRING,
                        "userMessage": STRING,
                        "agentMessage": STRING,
                    },
                    extra=True,
                ),
                obj(
                    {"permissionDecision": {"type": "string", "enum": ["allow", "deny"]}},
                    {"permissionDecisionReason": STRING},
                    extra=True,
                ),
            ],
        },
        "ApprovalRequest": approval_request,
        "ApprovalRequestDetail": detail,
        "RequestList": obj({"requests": array(ref("ApprovalRequest"))}),
        "WaitResult": obj(
            {"id": REQUEST_ID, "status": {"type": "string", "enum": STATUSES}, "done": BOOLEAN},
        ),
        "Answer": obj({}, {"comment": {"type": "string", "maxLength": 2000}}),
        "Halt": halt,
        "HaltList": obj({"halts": array(ref("Halt"))}),
        "HaltCreate": obj(
            {"reason": {"type": "string", "minLength": 1, "description": "Shown to every stopped agent."}},
            {
                "agent": nullable({"type": "string", "minLength": 1}),
                "environment": nullable(ENVIRONMENT),
                "everyone": {"type": "boolean", "default": False, "description": "Humans and services too."},
            },
        ),
        "Resume": obj({"reason": {"type": "string", "minLength": 1}}),
        "LedgerEntry": ledger_entry,
        "LedgerEntries": obj({"size": INTEGER, "entries": array(ref("LedgerEntry"))}),
        "LedgerProof": obj(
            {
                "seq": INTEGER,
                "entry": ref("LedgerEntry"),
                "tree_size": INTEGER,
                "root": {"type": "string", "contentEncoding": "base64"},
                "leaf_hash": {"type": "string", "contentEncoding": "base64"},
                "inclusion_proof": array({"type": "string", "contentEncoding": "base64"}),
                "proof_valid": BOOLEAN,
            }
        ),
        "Checkpoint": obj(
            {
                "size": INTEGER,
                "root": {"type": "string", "contentEncoding": "base64"},
                "note": {"type": "string", "description": "The C2SP signed note."},
                "ts": STRING,
            }
        ),
        "SignIn": obj({"user": STRING, "password": STRING}),
        "SessionStarted": obj({"user": STRING, "csrf": {"type": "string", "description": "Send as X-CSRF-Token."}}),
        "SignedOut": obj({"signed_out": STRING}),
        "Whoami": obj(
            {"kind": {"type": "string", "enum": ["agent", "human"]}, "name": STRING},
            {
                "scopes": array({"type": "string", "enum": ["decide", "wait"]}),
                "expires_at": TIMESTAMP,
                "csrf": STRING,
                "approver": BOOLEAN,
                "groups": array(STRING),
            },
        ),
        "AgentActivity": obj(
            {
                "agent": STRING,
                "decisions": counts,
                "approvals_requested": {"type": "integer", "description": "Distinct requests its actions opened."},
                "approvals_granted": {"type": "integer", "description": "Of those, how many were approved."},
                "median_seconds_to_approval": {
                    "type": ["number", "null"],
                    "description": "From the first decision that held the action to its approval.",
                },
                "first_seen": nullable(LEDGER_TS),
                "last_seen": nullable(LEDGER_TS),
            }
        ),
        "Agents": obj(
            {
                "window": obj(
                    {
                        "limit": {"type": "integer", "description": "The most entries read."},
                        "entries_read": INTEGER,
                        "from_seq": nullable(INTEGER),
                        "to_seq": nullable(INTEGER),
                        "ledger_size": INTEGER,
                        "complete": {"type": "boolean", "description": "Whether the whole ledger was read."},
                        "note": STRING,
                    }
                ),
                "agents": array(ref("AgentActivity")),
            }
        ),
        "PolicyRule": obj(
            {
                "id": STRING,
                "decision": OUTCOME,
                "tier": TIER,
                "reason": STRING,
                "pack": STRING,
                "layer": {"type": "string", "enum": ["builtin", "organisation", "repository", "user", "policy"]},
                "effects": array(STRING),
                "alternative": nullable(STRING),
                "approval": nullable(ref("ApprovalRequirement")),
            }
        ),
        "Policy": obj(
            {
                "digest": {"type": "string", "description": "The policy digest every decision carries."},
                "rules": array(ref("PolicyRule")),
                "tiers": {"type": "object", "additionalProperties": STRING},
                "groups": nullable(array(STRING)),
                "rego": array(STRING),
            }
        ),
        "PolicyBundle": obj(
            {
                "digest": STRING,
                "builtin_digest": {"type": "string", "description": "The built-in packs' digest the bundle builds on."},
                "packs": array(
                    obj(
                        {
                            "name": STRING,
                            "layer": {"type": "string", "enum": ["organisation", "repository", "user"]},
                            "yaml": STRING,
                        }
                    )
                ),
                "rego": array(obj({"name": STRING, "text": STRING})),
            }
        ),
        "ExplainRequest": {
            "oneOf": [
                obj(
                    {"command": {"type": "string", "minLength": 1}},
                    {
                        "cwd": {"type": "string", "pattern": "^/", "description": "Default: the server's."},
                        "environment": nullable(ENVIRONMENT),
                        "agent": {"type": "string", "minLength": 1, "maxLength": 128},
                    },
                ),
                obj({"action": ref("Action")}, {"agent": {"type": "string", "minLength": 1, "maxLength": 128}}),
            ]
        },
        "Explanation": obj(
            {
                "recorded": {"type": "boolean", "const": False},
                "cwd": STRING,
                "workspace": nullable(STRING),
                "environment": nullable(STRING),
                "principal": ANY_OBJECT,
                "commands": array(
                    obj({"command": STRING, "argv": array(STRING), "via": array(STRING), "notes": array(STRING)})
                ),
                "analysis_stopped": nullable(STRING),
                "decision": ref("Decision"),
            }
        ),
        "Health": obj({"status": {"type": "string", "enum": ["ok"]}}),
        "Readiness": obj(
            {"status": {"type": "string", "enum": ["ready", "unavailable", "draining"]}},
            {"error": STRING},
        ),
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _op(
    summary: str,
    security: list[dict[str, list[str]]],
    ok: dict[str, Any],
    errors: tuple[int, ...],
    *,
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
    ok_status: int = 200,
    description: str = "",
) -> dict[str, Any]:
    authenticated = bool(security)
    codes = sorted({*errors, *((401,) if authenticated else ())})
    op: dict[str, Any] = {
        "summary": summary,
        "security": security,
        "responses": {
            str(ok_status): ok,
            **{str(c): _json(ref("Error"), _ERRORS[c]) for c in codes},
        },
    }
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {JSON: {"schema": body}}}
    return op


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


RID = _path("rid", REQUEST_ID, "The approval request's id.")


def _answer_op(verdict: str) -> dict[str, Any]:
    return _op(
        f"{verdict.capitalize()} an approval request",
        HUMAN_WRITE,
        _json(ref("ApprovalRequest"), "The request after the answer."),
        (*_BODY, 403, 404, 409),
        body=ref("Answer"),
        body_required=False,
        parameters=[RID],
        description="A signed-in human's answer, signed with the server's key on their behalf and recorded "
        "in the ledger. Only a configured approver in one of the groups the request needs may answer, never "
        "the requester nor the agent's owner; denial wins.",
    )


def _paths() -> dict[str, Any]:
    return {
        "/healthz": {
            "get": _op("Liveness", [], _json(ref("Health"), "The process is up."), ()),
        },
        "/readyz": {
            "get": {
                **_op("Readiness", [], _json(ref("Readiness"), "The stores answer."), ()),
                "responses": {
                    "200": _json(ref("Readiness"), "The stores answer."),
                    "503": _json(ref("Readiness"), "A store does not answer, or the server is draining."),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The Prometheus text exposition format.",
                        "content": {"text/plain": {"schema": STRING}},
                    }
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object", "required": ["openapi"]}, "OpenAPI 3.1.")},
            }
        },
        "/api/v1/session": {
            "post": _op(
                "Sign in",
                [],
                {
                    **_json(ref("SessionStarted"), "Signed in: the rf_session cookie is set."),
                    "headers": {"Set-Cookie": {"schema": STRING, "description": "rf_session=…; HttpOnly"}},
                },
                (*_BODY, 401, 429),
                body=ref("SignIn"),
            ),
            "delete": _op(
                "Sign out",
                HUMAN_WRITE,
                _json(ref("SignedOut"), "The session is ended and its cookie cleared."),
                (400, 403),
            ),
        },
        "/api/v1/whoami": {
            "get": _op("Who is calling", READER, _json(ref("Whoami"), "The caller."), ()),
        },
        "/api/v1/decide": {
            "post": _op(
                "Decide on an action",
                AGENT,
                _json(ref("Decision"), "The decision, recorded in the ledger before it is returned."),
                (*_BODY, 403, 429),
                body=ref("DecideRequest"),
                description="Analysis, policy and control state (halts, grants, budgets, windows), as the local "
                "gate. The agent is the token's; a require_approval decision names the request to wait on.",
            )
        },
        "/api/v1/hooks/{runtime}": {
            "post": _op(
                "A runtime's hook",
                AGENT,
                {
                    **_json(ref("HookOutput"), "The hook's answer, as the command hook prints it."),
                    "headers": {
                        "X-Ringfence-Policy-Digest": {
                            "schema": STRING,
                            "description": "The server's policy digest: fetch /api/v1/policy/bundle when it changes.",
                        }
                    },
                },
                (403, 404, 413, 429),
                body={"type": "object", "description": "The runtime's hook payload, e.g. Claude Code's PreToolUse."},
                description="runtime is one of claude-code, codex, gemini, cursor, copilot, opencode (404 for any "
                "other). Claude Code can call this directly as a `type: http` hook; the other runtimes reach it "
                "through `ringfence hook <runtime>` with RINGFENCE_SERVER set. Any payload is answered, in the "
                "runtime's own format: one that cannot be read is denied.",
                parameters=[
                    _path(
                        "runtime",
                        {"type": "string", "enum": list(RUNTIMES)},
                        "Whose hook contract the payload and the answer follow.",
                    )
                ],
            )
        },
        "/api/v1/integrations/slack/interactions": {
            "post": {
                "summary": "Slack interactive-message callback (Approve / Deny buttons)",
                "description": "Authenticated by Slack's v0 request signature (X-Slack-Request-Timestamp, "
                "X-Slack-Signature: HMAC-SHA256 with the app's signing secret, at most 5 minutes old, never "
                "replayed), not by a token. 404 when approvals.slack_signing_secret_env is not set. A refused "
                "answer is a 200 with an ephemeral message for the person in Slack.",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object", "properties": {"payload": STRING}, "required": ["payload"]}
                        }
                    },
                },
                "responses": {
                    "200": _json({"type": "object"}, "The message that replaces the original (or an ephemeral one)."),
                    **{str(c): _json(ref("Error"), _ERRORS[c]) for c in (400, 401, 404, 413)},
                },
            }
        },
        "/api/v1/integrations/github/deployment-protection": {
            "post": {
                "summary": "GitHub deployment protection rule webhook",
                "description": "A GitHub App's webhook. Authenticated by X-Hub-Signature-256 (HMAC-SHA256 of the body "
                "with the app's webhook secret), not by a token; 404 when integrations.github is not configured. "
                "X-GitHub-Event ping is answered 200; deployment_protection_rule with action requested is decided "
                "as a deploy of the commit to the environment for the sender, and the answer (approved or "
                "rejected) is sent to deployment_callback_url through the outbox: at once for allow or deny, when "
                "the approval request settles for a held deployment. Any other event or action, or a delivery "
                "already handled (X-GitHub-Delivery), is 202 with ignored. A callback URL outside "
                "integrations.github.api_url is refused (422).",
                "security": [],
                "parameters": [
                    {"name": n, "in": "header", "required": False, "schema": STRING, "description": d}
                    for n, d in (
                        ("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the raw body>."),
                        ("X-GitHub-Event", "ping, deployment_protection_rule, or anything else (ignored)."),
                        ("X-GitHub-Delivery", "The delivery id; a redelivery is ignored."),
                    )
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": obj(
                                {},
                                {
                                    "action": STRING,
                                    "environment": STRING,
                                    "event": STRING,
                                    "deployment_callback_url": STRING,
                                    "deployment": {"type": "object"},
                                    "sender": {"type": "object"},
                                    "repository": {"type": "object"},
                                    "installation": {"type": "object"},
                                },
                                extra=True,
                            )
                        }
                    },
                },
                "responses": {
                    "200": _json(obj({"ok": {"type": "boolean"}, "event": STRING}), "A ping was answered."),
                    "202": _json(
                        obj(
                            {},
                            {
                                "decision": {"type": "string", "enum": [o.value for o in Outcome]},
                                "reason": STRING,
                                "rules": {"type": "array", "items": STRING},
                                "request": STRING,
                                "answer": {"type": "string", "enum": ["approved", "rejected"]},
                                "callback": STRING,
                                "ignored": STRING,
                            },
                        ),
                        "Decided and the answer queued for GitHub (or ignored, saying why).",
                    ),
                    **{str(c): _json(ref("Error"), _ERRORS[c]) for c in (400, 401, 404, 413, 422)},
                },
            }
        },
        "/api/v1/requests": {
            "get": _op(
                "List approval requests",
                READER,
                _json(ref("RequestList"), "Newest first; an agent sees only its own."),
                (403, 422),
                parameters=[
                    _query(
                        "status",
                        {"type": "string", "enum": [*STATUSES, "all"], "default": "pending"},
                        "Only requests with this status.",
                    ),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "At most."),
                ],
            )
        },
        "/api/v1/requests/{rid}": {
            "get": _op(
                "Show an approval request",
                READER,
                _json(ref("ApprovalRequestDetail"), "The request with its history."),
                (403, 404),
                parameters=[RID],
            )
        },
        "/api/v1/requests/{rid}/wait": {
            "get": _op(
                "Wait for an answer (long poll)",
                READER,
                _json(ref("WaitResult"), "As soon as the request is no longer pending, or at the timeout."),
                (403, 404, 422),
                parameters=[
                    RID,
                    _query("timeout", {"type": "integer", "minimum": 0, "maximum": 60, "default": 30}, "Seconds."),
                ],
            )
        },
        "/api/v1/requests/{rid}/approve": {"post": _answer_op("approve")},
        "/api/v1/requests/{rid}/deny": {"post": _answer_op("deny")},
        "/api/v1/halts": {
            "get": _op("Active halts", READER, _json(ref("HaltList"), "The halts in force."), ()),
            "post": _op(
                "Halt agents now",
                HUMAN_WRITE,
                _json(ref("Halt"), "The halt, in force for the next decision on every replica."),
                (*_BODY, 403),
                body=ref("HaltCreate"),
                ok_status=201,
            ),
        },
        "/api/v1/halts/{hid}/resume": {
            "post": _op(
                "Lift a halt",
                HUMAN_WRITE,
                _json(ref("Halt"), "The lifted halt."),
                (*_BODY, 403, 404),
                body=ref("Resume"),
                parameters=[_path("hid", {"type": "string", "pattern": "^HALT-[0-9A-Z]{4,32}$"}, "The halt's id.")],
                description="Only a configured approver may lift a halt.",
            )
        },
        "/api/v1/ledger/entries": {
            "get": _op(
                "Newest ledger entries",
                HUMAN,
                _json(ref("LedgerEntries"), "Newest first."),
                (403, 422),
                parameters=[
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "At most."),
                    _query(
                        "after",
                        {"type": "integer", "minimum": -1, "maximum": 2**62, "default": -1},
                        "Only entries with a greater seq.",
                    ),
                ],
            )
        },
        "/api/v1/ledger/entries/{seq}": {
            "get": _op(
                "One ledger entry with its inclusion proof",
                HUMAN,
                _json(ref("LedgerProof"), "The entry, and its RFC 9162 inclusion proof in the current tree."),
                (403, 404, 422),
                parameters=[_path("seq", {"type": "integer", "minimum": 0}, "The entry's sequence number.")],
            )
        },
        "/api/v1/ledger/checkpoints/latest": {
            "get": _op("The latest signed checkpoint", HUMAN, _json(ref("Checkpoint"), "The checkpoint."), (403, 404))
        },
        "/api/v1/agents": {
            "get": _op(
                "What each agent did",
                HUMAN,
                _json(ref("Agents"), "Per-agent activity, most recently seen first."),
                (403, 422),
                parameters=[
                    _query(
                        "window",
                        {"type": "integer", "minimum": 1, "maximum": 50000, "default": 50000},
                        "How many of the newest ledger entries to read.",
                    )
                ],
                description="Computed from the newest ledger entries only (50,000 by default); the window "
                "object says which were read and whether that was the whole ledger.",
            )
        },
        "/api/v1/policy": {
            "get": _op(
                "The effective policy",
                READER,
                _json(ref("Policy"), "Every rule, in evaluation order, and the policy digest."),
                (403,),
            )
        },
        "/api/v1/policy/bundle": {
            "get": _op(
                "The policy bundle, for agents' offline fallback",
                READER,
                _json(ref("PolicyBundle"), "The server's own policy files; built-in packs are not included."),
                (403, 503),
                description="Packs are listed in the order they apply (organisation, repository, user). The "
                "digest is the one the server's decisions carry: the built-in packs' digest hashed with each "
                "pack file in order, then +rego:<digest> when Rego modules apply.",
            )
        },
        "/api/v1/explain": {
            "post": _op(
                "Explain a decision without recording it",
                READER_POST,
                _json(ref("Explanation"), "The trace: unwrapped commands, effects, matched rules, decision."),
                (*_BODY, 403, 429),
                body=ref("ExplainRequest"),
                description="Analysis and policy only: no control state is consulted, nothing is executed and "
                "nothing is recorded. A human may name the agent to judge as; an agent is always itself.",
            )
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a new dict on each call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ringfence control-plane API",
            "version": __version__,
            "description": __doc__,
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "security": READER,
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "rf1.<claims>.<signature>",
                    "description": "An agent token from `ringfence token issue` (scopes decide, wait).",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "rf_session",
                    "description": "A human's session, from POST /api/v1/session.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "The session's CSRF token (csrf in the sign-in answer, or whoami).",
                },
            },
        },
    }


_DOCUMENT = document()


async def openapi_json(request: Request) -> Response:
    return JSONResponse(_DOCUMENT)


ROUTES = [Route("/api/v1/openapi.json", openapi_json, methods=["GET"])]
