"""Answering an approval request: every check, then one atomic write.

Used by the CLI (``ringfence approvals approve|deny``) and by the server (Slack
interactions, the dashboard). A refused answer raises
:class:`~ringfence.errors.ApprovalError` saying exactly why, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringfence.control.approvals import Requirement, Tally, ineligible, settle, sign, tally
from ringfence.control.keys import SigningKey, key_id
from ringfence.control.settings import ControlSettings
from ringfence.control.store import ApprovalRecord, ControlStore, Request, Status, status_hint
from ringfence.errors import ApprovalError


@dataclass(frozen=True, slots=True)
class Answer:
    record: ApprovalRecord
    request: Request  # after the answer
    tally: Tally


def answer(
    store: ControlStore,
    settings: ControlSettings,
    request_id: str,
    verdict: str,
    key: SigningKey,
    *,
    approver: str | None = None,
    via: str = "cli",
    comment: str = "",
) -> Answer:
    """Record ``approver``'s signed ``verdict`` on ``request_id``.

    With ``via="cli"`` the key is the approver's own and must match the configured public
    key; other channels (``slack``, ``api``) sign with a configured service key on behalf
    of the approver they authenticated."""
    who = approver or key.name
    request = store.get(request_id)
    now = store.clock()
    status = request.effective_status(now)
    if status != Status.PENDING:
        raise ApprovalError(f"{request.id} is {status}, not pending; {_next_step(status, request, store)}")
    configured = settings.approvers.get(who)
    if configured is None:
        known = ", ".join(sorted(settings.approvers)) or "none are configured"
        how = f" with the public key `ringfence keys show {who}` prints" if via == "cli" else ""
        raise ApprovalError(f"{who} is not a configured approver ({known}). Add them under approvers:{how}.")
    if via == "cli":
        if configured.key is None:
            raise ApprovalError(f"approvers.{who} has no key: add the public key `ringfence keys show {who}` prints")
        if configured.key != key.public:
            raise ApprovalError(
                f"the key {key.path} ({key_id(key.public)}) is not the key configured for {who} "
                f"({key_id(configured.key)}); approvals must be signed with the configured key. Sign with the "
                f"key whose public half is in approvers.{who}.key, or, if this key is the right one, put the "
                f"public key `ringfence keys show {key.name}` prints there"
            )
    elif key.public not in settings.service_keys:
        raise ApprovalError(f"the service key {key_id(key.public)} is not listed under approvals.service_keys")
    requirement = Requirement.from_dict(request.body.get("requirement") or {})
    why = ineligible(who, request, requirement, settings)
    if why is not None:
        raise ApprovalError(f"{who} cannot answer {request.id}: {why} (it needs {requirement.describe()})")
    record = sign(key, request, verdict, at=now, approver=who, via=via, comment=comment)
    notify = (*settings.notify, *(c for c in settings.escalate_to if c not in settings.notify))
    after = store.record_approval(record, lambda r, recs: settle(r, recs, settings, now), notify=notify)
    return Answer(record, after, tally(after, store.approvals(after.id), settings))


def ledger_entry(result: Answer) -> dict[str, Any]:
    """The ledger's record of an answer: who, which request and action, the signed
    statement with its signature, and the request's status after it."""
    a = result.record
    return {
        "kind": "approval",
        "principal_type": "human",
        "principal_id": a.approver,
        "decision": a.verdict,
        "request": a.request_id,
        "action_digest": result.request.digest,
        "statement": a.statement,
        "signature": a.signature,
        "key_id": a.key_id,
        "via": a.via,
        "status": result.request.status,
    }


def _next_step(status: str, request: Request, store: ControlStore) -> str:
    if status == Status.DENIED:
        by = ", ".join(r.approver for r in store.approvals(request.id) if r.verdict == "deny") or "an approver"
        return f"it was denied by {by} and the denial stands; nothing more is needed"
    return status_hint(status)
