"""Answers that arrive through Slack's interactive messages.

An approver presses Approve or Deny on the Block Kit message; Slack POSTs a signed
``block_actions`` payload to the control-plane server, which calls
:func:`slack_answer`. The request must carry a valid v0 signature made with the app's
signing secret, at most five minutes old, and never seen before (the signature is
remembered in the store, so a replay is refused on every replica). The Slack user must
be mapped to a configured approver (``approvers.<id>.slack``); the answer is then
checked exactly like one from the CLI and signed with the server's service key, whose
public half the configuration lists under ``approvals.service_keys``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ringfence.control.answers import Answer, answer
from ringfence.control.keys import SigningKey
from ringfence.control.settings import ControlSettings
from ringfence.control.slack import parse_interaction, response_message, verify_signature
from ringfence.control.store import ControlStore
from ringfence.errors import ApprovalError


@dataclass(frozen=True, slots=True)
class SlackAnswer:
    answer: Answer
    response_url: str | None
    response: dict[str, Any]  # replaces the original message (post it to response_url)


def slack_answer(
    store: ControlStore,
    settings: ControlSettings,
    headers: Mapping[str, str],
    body: bytes,
    *,
    signing_secret: str,
    service_key: SigningKey,
) -> SlackAnswer:
    """Verify, map and record one Slack button press. Raises a ControlError subclass
    saying what is wrong (bad signature, stale, replayed, unknown user, not eligible…)."""
    verify_signature(signing_secret, headers, body, now=store.clock(), seen=lambda sig: store.remember_nonce(sig))
    interaction = parse_interaction(body)
    approver = next((a for a in settings.approvers.values() if a.slack == interaction.user_id), None)
    if approver is None:
        raise ApprovalError(
            f"Slack user {interaction.user_id} ({interaction.user_name}) is not mapped to an approver: "
            "set approvers.<id>.slack to their Slack user id"
        )
    result = answer(
        store,
        settings,
        interaction.request_id,
        interaction.action,
        service_key,
        approver=approver.id,
        via="slack",
        comment=f"slack:{interaction.team_id}/{interaction.user_id}",
    )
    verb = "approved" if interaction.action == "approve" else "denied"
    status = result.request.status
    text = f"{approver.id} {verb} {result.request.id}: {result.request.summary} — now {status}"
    if status == "pending" and result.tally.missing:
        text += f" (needs {result.tally.missing})"
    return SlackAnswer(result, interaction.response_url, response_message(result.request.id, text))
