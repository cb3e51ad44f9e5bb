"""Telling people what a guard did, through the approvals' notification channels.

Slack channels get a short message (headline, what was measured, what was run); webhook
channels get ``{"event": "guard.<outcome>", "guard": {...}}`` as canonical JSON, signed
exactly like approval webhooks (``X-Ringfence-Signature``: HMAC-SHA256 over
``<timestamp>.<body>``), so receivers verify both the same way. Delivery is retried on
transient failures and never raises: a notification that cannot be sent is reported, and
never changes what the guard does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ringfence.control.notify import JSON_CONTENT_TYPE, Delivery, Post, deliver, webhook_headers
from ringfence.control.settings import ControlSettings
from ringfence.errors import GuardError


def channels_for(settings: ControlSettings, names: Sequence[str] | None) -> list[Any]:
    chosen = list(names) if names is not None else list(settings.notify)
    missing = [n for n in chosen if n not in settings.channels]
    if missing:
        known = ", ".join(sorted(settings.channels)) or "none"
        raise GuardError(f"notify names channel {missing[0]!r}, which is not configured under channels: ({known})")
    return [settings.channels[n] for n in chosen]


def _slack(event: str, doc: Mapping[str, Any]) -> bytes:
    lines = [f"*ringfence guard {doc.get('guard')}*: {doc.get('headline')}"]
    if doc.get("analysis"):
        lines.append(f"analysis: {doc['analysis'].get('message')}")
    if doc.get("runbook"):
        rb = doc["runbook"]
        lines.append(f"runbook {rb.get('name')} v{rb.get('version')}: {rb.get('message')}")
    text = "\n".join(lines)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return json.dumps({"text": text, "blocks": blocks}).encode()


def send(
    channels: Sequence[Any],
    event: str,
    doc: Mapping[str, Any],
    *,
    post: Post | None = None,
    now: float | None = None,
    attempts: int = 3,
) -> list[tuple[str, Delivery]]:
    out = []
    for channel in channels:
        if channel.kind == "slack":
            body, headers = _slack(event, doc), {"Content-Type": JSON_CONTENT_TYPE}
        else:
            body = json.dumps({"event": event, "guard": doc}, sort_keys=True, separators=(",", ":")).encode()
            headers = webhook_headers(channel.secret, event, body, now=now)
        out.append((channel.name, deliver(channel, body, headers, attempts=attempts, post=post)))
    return out
