"""Slack: the approval message, request signing, and the Approve/Deny buttons coming back.

Outbound, :func:`block_kit_message` renders an approval request as an incoming-webhook
body with Approve and Deny buttons. Inbound, Slack posts a button click to the
interactivity URL: :func:`verify_signature` checks Slack's v0 request signature (and,
with a ``seen`` callback, that it is not a replay) before :func:`parse_interaction`
reads who clicked what. :func:`response_message` is the body posted to the click's
``response_url`` to replace the buttons with the outcome.

Everything a request contributes to a message is escaped for Slack (``&``, ``<`` and
``>``), so a command cannot mention ``@channel`` or smuggle a link into the message
an approver is reading.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ringfence.errors import ApprovalError, ControlError

APPROVE_ACTION = "ringfence_approve"
DENY_ACTION = "ringfence_deny"
OPEN_ACTION = "ringfence_open"
REQUEST_ID = re.compile(r"AR-[0-9A-Z]{4,32}")

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"

# Slack's limits on Block Kit text, in characters.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
CONTEXT_LIMIT = 2000
FALLBACK_LIMIT = 300
ELLIPSIS = "…"
_ZERO_WIDTH_SPACE = "\u200b"


class SlackSignatureError(ControlError):
    """A request claiming to come from Slack is not signed with the signing secret."""


class SlackPayloadError(ControlError):
    """An interaction payload from Slack is malformed or is not a ringfence button click."""


def escape(text: str) -> str:
    """Escape Slack's control characters ``&``, ``<`` and ``>`` (in that order)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with "…" when cut.

    Never cuts an escape sequence (``&amp;``, ``&lt;``, ``&gt;``) in half.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    amp = cut.rfind("&", max(0, len(cut) - 4))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def block_kit_message(request: Mapping[str, Any]) -> dict[str, Any]:
    """The incoming-webhook body announcing ``request`` with Approve and Deny buttons.

    Raises :class:`~ringfence.errors.ApprovalError` if the request lacks a field the
    message needs or has one of the wrong type.
    """
    request_id = _request_id(request)
    summary = _get(request, "summary", str)
    escalated = request.get("escalation") is True
    title = f"Escalated: approval still needed: {request_id}" if escalated else f"Approval needed: {request_id}"

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, HEADER_LIMIT), "emoji": True}},
        _mrkdwn_section(_code_block(summary)),
        {"type": "section", "fields": _fields(request)},
        {"type": "context", "elements": _context(request)},
        {"type": "actions", "block_id": "ringfence_actions", "elements": _buttons(request, request_id)},
    ]
    fallback = f"{title}: {escape(summary)}"
    return {"text": truncate(fallback, FALLBACK_LIMIT), "blocks": blocks}


def response_message(request_id: str, text: str) -> dict[str, Any]:
    """The ``response_url`` body replacing the approval message (and its buttons) with ``text``."""
    line = truncate(f"*{escape(request_id)}*: {escape(text)}", SECTION_LIMIT)
    return {
        "replace_original": True,
        "text": truncate(f"{escape(request_id)}: {escape(text)}", FALLBACK_LIMIT),
        "blocks": [_mrkdwn_section(line)],
    }


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    seen: Callable[[str], bool] | None = None,
    tolerance: int = 300,
) -> None:
    """Check Slack's v0 signature of a request; raise :class:`SlackSignatureError` if it fails.

    The signature is ``v0=`` + hex HMAC-SHA256 of ``v0:<timestamp>:<body>`` keyed with
    the app's signing secret. The timestamp must be within ``tolerance`` seconds of
    ``now``. ``seen`` records a verified signature and returns whether it had already
    been recorded; a repeat is a replay and is rejected.
    """
    if not secret:
        raise SlackSignatureError("the Slack signing secret is empty: configure the app's signing secret")
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise SlackSignatureError(f"{TIMESTAMP_HEADER} is not an integer: {_shown(timestamp)}")
    _check_freshness(int(timestamp), time.time() if now is None else now, tolerance)
    version, sep, _ = signature.partition("=")
    if not sep:
        raise SlackSignatureError(f"{SIGNATURE_HEADER} is malformed: expected 'v0=<hex digest>'")
    if version != "v0":
        raise SlackSignatureError(f"{SIGNATURE_HEADER} has unsupported version {_shown(version)}: expected v0")
    basestring = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "backslashreplace")):
        raise SlackSignatureError(
            f"{SIGNATURE_HEADER} does not match: the body was altered or signed with another secret"
        )
    if seen is not None and seen(signature):
        raise SlackSignatureError("replayed request: this signature was already accepted")


@dataclass(frozen=True)
class Interaction:
    """A click on a ringfence Approve or Deny button."""

    user_id: str
    user_name: str
    team_id: str
    action: Literal["approve", "deny"]
    request_id: str
    response_url: str | None


def parse_interaction(body: bytes) -> Interaction:
    """Read the ringfence button click out of a Slack interactivity request body.

    The body is ``application/x-www-form-urlencoded`` with one field, ``payload``,
    holding a ``block_actions`` JSON document. Verify the signature first: this only
    checks the shape. Raises :class:`SlackPayloadError` naming what is missing or wrong.
    """
    payload = _payload(body)
    if payload.get("type") != "block_actions":
        raise SlackPayloadError(f"payload type is {_shown(payload.get('type'))}: expected 'block_actions'")
    user = _object(payload, "user")
    user_id = _string(user, "user.id")
    user_name = _optional_string(user, "username", "user.username") or _optional_string(user, "name", "user.name")
    if not user_name:
        raise SlackPayloadError("payload field 'user.username' (or 'user.name') is missing")
    team = payload.get("team")
    team_id = team.get("id") if isinstance(team, Mapping) else None
    if team_id is None:  # org-wide apps may get "team": null; the user still names a team
        team_id = user.get("team_id")
    if not isinstance(team_id, str) or not team_id:
        raise SlackPayloadError("payload field 'team.id' (or 'user.team_id') is missing or not a non-empty string")
    action, request_id = _ringfence_action(payload)
    response_url = _optional_string(payload, "response_url", "response_url")
    if response_url is not None and not response_url.startswith("https://"):
        raise SlackPayloadError(f"payload field 'response_url' is not an https URL: {_shown(response_url)}")
    return Interaction(user_id, user_name, team_id, action, request_id, response_url)


# Message parts.


def _code_block(text: str) -> str:
    """``text`` as a Slack code block, escaped; runs of backticks are broken so they cannot close it."""
    body = re.sub(r"`(?=`)", "`" + _ZERO_WIDTH_SPACE, escape(text))
    fence = "```"
    return fence + truncate(body, SECTION_LIMIT - 2 * len(fence)) + fence


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": truncate(f"*{label}*\n{value}", FIELD_LIMIT)}


def _fields(request: Mapping[str, Any]) -> list[dict[str, str]]:
    rules = _string_list(request, "rules")
    effects = _string_list(request, "effects")
    return [
        _field("Requester", escape(_get(request, "requester", str))),
        _field("Tier", escape(_get(request, "tier", str))),
        _field("Rules", escape(", ".join(rules)) if rules else "none"),
        _field("Effects", escape(", ".join(effects)) if effects else "none"),
        _field("Needs", escape(_get(request, "requirement", str))),
        _field("Expires", _slack_date(_get(request, "expires_at", (int, float)))),
    ]


def _context(request: Mapping[str, Any]) -> list[dict[str, str]]:
    reason = _get(request, "reason", str)
    elements = [{"type": "mrkdwn", "text": truncate(f"*Reason:* {escape(reason)}", CONTEXT_LIMIT)}]
    approvals = request.get("approvals") or []
    if not isinstance(approvals, list):
        raise ApprovalError(f"approval request field 'approvals' must be a list, not {type(approvals).__name__}")
    if approvals:
        so_far = ", ".join(_approval_text(entry) for entry in approvals)
        elements.append({"type": "mrkdwn", "text": truncate(f"*So far:* {so_far}", CONTEXT_LIMIT)})
    return elements


def _approval_text(entry: Any) -> str:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("approver"), str):
        raise ApprovalError(f"approval request has a malformed approval: {_shown(entry)}")
    verdict = "approved" if entry.get("verdict") == "approve" else "denied"
    return f"{escape(entry['approver'])} {verdict}"


def _buttons(request: Mapping[str, Any], request_id: str) -> list[dict[str, Any]]:
    buttons: list[dict[str, Any]] = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Approve"},
            "style": "primary",
            "action_id": APPROVE_ACTION,
            "value": request_id,
        },
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Deny"},
            "style": "danger",
            "action_id": DENY_ACTION,
            "value": request_id,
            "confirm": {
                "title": {"type": "plain_text", "text": "Deny this action?"},
                "text": {"type": "plain_text", "text": f"{request_id} will be denied and the agent told so."},
                "confirm": {"type": "plain_text", "text": "Deny"},
                "deny": {"type": "plain_text", "text": "Cancel"},
                "style": "danger",
            },
        },
    ]
    url = request.get("url")
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ApprovalError(f"approval request field 'url' is not an http(s) URL: {_shown(url)}")
        buttons.append(
            {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "action_id": OPEN_ACTION, "url": url}
        )
    return buttons


def _slack_date(epoch: float) -> str:
    """A Slack date token: shown in the reader's time zone, with a UTC fallback."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{{date_short_pretty}} {{time}}|{fallback}>"


# Request fields.


def _request_id(request: Mapping[str, Any]) -> str:
    request_id: str = _get(request, "id", str)
    if not REQUEST_ID.fullmatch(request_id):
        raise ApprovalError(f"approval request id {_shown(request_id)} does not match {REQUEST_ID.pattern}")
    return request_id


def _get(request: Mapping[str, Any], key: str, kind: type[Any] | tuple[type[Any], ...]) -> Any:
    if key not in request:
        raise ApprovalError(f"approval request has no field {key!r}")
    value = request[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ApprovalError(f"approval request field {key!r} has the wrong type: {type(value).__name__}")
    return value


def _string_list(request: Mapping[str, Any], key: str) -> list[str]:
    value = _get(request, key, list)
    if not all(isinstance(item, str) for item in value):
        raise ApprovalError(f"approval request field {key!r} must be a list of strings")
    return list(value)


# Signing.


def _header(headers: Mapping[str, str], name: str) -> str:
    """The value of header ``name``, looked up case-insensitively."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise SlackSignatureError(f"the {name} header is missing")


def _check_freshness(timestamp: int, now: float, tolerance: int) -> None:
    age = now - timestamp
    if age > tolerance:
        raise SlackSignatureError(
            f"{TIMESTAMP_HEADER} is stale: {age:.0f} s old, more than the {tolerance} s allowed (replay or clock skew)"
        )
    if -age > tolerance:
        raise SlackSignatureError(
            f"{TIMESTAMP_HEADER} is from the future: {-age:.0f} s ahead, more than the {tolerance} s allowed"
        )


# Interaction payloads.


def _payload(body: bytes) -> Mapping[str, Any]:
    if not body.strip():
        raise SlackPayloadError("body is empty: expected a form with a 'payload' field")
    try:
        text = body.decode("utf-8")
        fields = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise SlackPayloadError(f"body is not application/x-www-form-urlencoded: {exc}") from None
    values = fields.get("payload")
    if not values:
        raise SlackPayloadError(f"form body has no 'payload' field (fields: {sorted(fields)})")
    if len(values) > 1:
        raise SlackPayloadError(f"form body has {len(values)} 'payload' fields: expected one")
    try:
        payload = json.loads(values[0])
    except json.JSONDecodeError as exc:
        raise SlackPayloadError(f"payload is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise SlackPayloadError(f"payload is a JSON {type(payload).__name__}: expected an object")
    return payload


def _ringfence_action(payload: Mapping[str, Any]) -> tuple[Literal["approve", "deny"], str]:
    actions = payload.get("actions")
    if not isinstance(actions, list):
        raise SlackPayloadError("payload field 'actions' is missing or not a list")
    for index, action in enumerate(actions):
        if not isinstance(action, Mapping):
            raise SlackPayloadError(f"payload field 'actions[{index}]' is not an object")
        action_id = action.get("action_id")
        if action_id not in (APPROVE_ACTION, DENY_ACTION):
            continue
        value = action.get("value")
        if not isinstance(value, str):
            raise SlackPayloadError(f"payload field 'actions[{index}].value' (the request id) is missing")
        if not REQUEST_ID.fullmatch(value):
            raise SlackPayloadError(f"request id {_shown(value)} does not match {REQUEST_ID.pattern}")
        return ("approve" if action_id == APPROVE_ACTION else "deny"), value
    found = [a.get("action_id") for a in actions if isinstance(a, Mapping)]
    raise SlackPayloadError(f"payload has no {APPROVE_ACTION} or {DENY_ACTION} action (action_ids: {found})")


def _object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if not isinstance(value, Mapping):
        raise SlackPayloadError(f"payload field {key!r} is missing or not an object")
    return value


def _string(doc: Mapping[str, Any], path: str) -> str:
    value = doc.get(path.rpartition(".")[2])
    if not isinstance(value, str) or not value:
        raise SlackPayloadError(f"payload field {path!r} is missing or not a non-empty string")
    return value


def _optional_string(doc: Mapping[str, Any], key: str, path: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SlackPayloadError(f"payload field {path!r} is not a string")
    return value


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
