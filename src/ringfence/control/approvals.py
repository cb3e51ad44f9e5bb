"""Approval semantics: what a request waits for, who may answer, and when it is settled.

The rules (the best of Teleport access requests, GitHub environments and GitLab
protected environments):

* approvers are configured humans with groups; an agent can never approve;
* ``k`` of ``n`` counts *distinct* identities from the requirement's groups, and
  ``at_least`` adds per-group minimums ("2 of release-managers, at least 1 of sre");
* the requester and the agent's owner can never approve the request;
* one denial ends the request (``approvals.deny_threshold`` raises that);
* a grant is for exactly the request's action digest, is used ``grant_uses`` times
  (once by default) and expires after ``grant_ttl``;
* every answer is a signed statement: canonical JSON of the request id, action digest,
  approver, verdict and time, signed with the approver's Ed25519 key (or, for answers
  arriving through Slack or the API, with a configured service key), so it can be
  verified offline. An answer whose signature does not verify is never counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ringfence.control.keys import SigningKey, key_id, verify
from ringfence.control.settings import ControlSettings, format_duration
from ringfence.control.store import ApprovalRecord, Request
from ringfence.errors import ApprovalError
from ringfence.model import ApprovalRequirement

STATEMENT_TYPE = "https://ringfence.dev/approval/v1"
SIGNING_CONTEXT = b"ringfence approval v1\n"
VERDICTS = ("approve", "deny")


@dataclass(frozen=True, slots=True)
class Requirement:
    """What one request waits for, fixed when the request is created."""

    k: int = 1
    groups: tuple[str, ...] = ()  # k distinct approvers from these groups (any approver if empty)
    at_least: tuple[tuple[str, int], ...] = ()
    window: str | None = None
    ttl: float = 3600.0
    gate: str = "single_approver"
    runtime_prompt: bool = False

    def describe(self) -> str:
        who = " or ".join(self.groups) if self.groups else "any approver"
        text = f"{self.k} approval{'s' if self.k != 1 else ''} from {who}"
        for group, n in self.at_least:
            text += f", at least {n} from {group}"
        if self.window:
            text += f", run inside the change window {self.window}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "groups": list(self.groups),
            "at_least": {g: n for g, n in self.at_least},
            "window": self.window,
            "ttl": self.ttl,
            "gate": self.gate,
            "runtime_prompt": self.runtime_prompt,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Requirement:
        return cls(
            k=int(doc.get("k", 1)),
            groups=tuple(doc.get("groups", ())),
            at_least=tuple((str(g), int(n)) for g, n in dict(doc.get("at_least") or {}).items()),
            window=doc.get("window"),
            ttl=float(doc.get("ttl", 3600)),
            gate=str(doc.get("gate", "single_approver")),
            runtime_prompt=bool(doc.get("runtime_prompt", False)),
        )


def requirement_for(approval: ApprovalRequirement | None, gate: str, settings: ControlSettings) -> Requirement:
    """The requirement for a verdict's approval under the tier's gate type
    (``single_approver``, ``k_of_n`` or ``scheduled_window``)."""
    base = approval or ApprovalRequirement()
    k = base.k
    if gate == "k_of_n":
        k = max(k, 2)
    window = base.window
    if gate == "scheduled_window" and window is None:
        window = settings.default_window
        if window is None:
            raise ApprovalError(
                "this tier is gated by a change window, but neither the rule nor approvals.default_window names one"
            )
    prompt = base.runtime_prompt and gate == "single_approver" and k == 1 and not base.at_least and window is None
    return Requirement(
        k=k,
        groups=tuple(base.approvers),
        at_least=tuple(base.at_least),
        window=window,
        ttl=float(base.ttl_seconds),
        gate=gate,
        runtime_prompt=prompt,
    )


def statement(request: Request, approver: str, verdict: str, at: float, via: str, comment: str) -> str:
    """The canonical JSON an approver signs (sorted keys, no spaces, UTF-8)."""
    doc = {
        "_type": STATEMENT_TYPE,
        "request": request.id,
        "action_digest": request.digest,
        "approver": approver,
        "verdict": verdict,
        "at_ms": round(at * 1000),
        "via": via,
        "comment": comment,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(
    key: SigningKey,
    request: Request,
    verdict: str,
    *,
    at: float,
    approver: str | None = None,
    via: str = "cli",
    comment: str = "",
) -> ApprovalRecord:
    """A signed answer by ``approver`` (default: the key's name) to ``request``."""
    if verdict not in VERDICTS:
        raise ApprovalError(f"an answer is approve or deny, not {verdict!r}")
    who = approver or key.name
    text = statement(request, who, verdict, at, via, comment)
    signature = key.sign(SIGNING_CONTEXT + text.encode("utf-8"))
    return ApprovalRecord(request.id, who, verdict, at, via, text, signature, key_id(key.public))


def signature_problem(record: ApprovalRecord, request: Request, settings: ControlSettings) -> str | None:
    """Why ``record`` is not a valid signed answer to ``request`` (None if it is)."""
    try:
        doc = json.loads(record.statement)
    except ValueError:
        return "its statement is not JSON"
    if not isinstance(doc, dict):
        return "its statement is not a JSON object"
    expected = {
        "_type": STATEMENT_TYPE,
        "request": request.id,
        "action_digest": request.digest,
        "approver": record.approver,
        "verdict": record.verdict,
        "via": record.via,
    }
    for field_name, value in expected.items():
        if doc.get(field_name) != value:
            return f"its statement's {field_name} is {doc.get(field_name)!r}, not {value!r}"
    if doc.get("at_ms") != round(record.at * 1000):
        return "its statement's time does not match the record"
    data = SIGNING_CONTEXT + record.statement.encode("utf-8")
    if record.via == "cli":
        approver = settings.approvers.get(record.approver)
        if approver is None or approver.key is None:
            return f"{record.approver} has no configured public key to verify it with"
        if key_id(approver.key) != record.key_id or not verify(approver.key, record.signature, data):
            return f"its signature does not verify with {record.approver}'s configured key"
        return None
    for service in settings.service_keys:
        if key_id(service) == record.key_id and verify(service, record.signature, data):
            return None
    return "its signature does not verify with any configured service key"


def ineligible(approver_id: str, request: Request, requirement: Requirement, settings: ControlSettings) -> str | None:
    """Why ``approver_id`` may not answer ``request`` (None if they may)."""
    approver = settings.approvers.get(approver_id)
    if approver is None:
        known = ", ".join(sorted(settings.approvers)) or "none are configured"
        return f"{approver_id} is not a configured approver ({known})"
    if approver_id == request.requester_id:
        return f"{approver_id} requested this action; the requester can never approve their own request"
    if request.owner and approver_id == request.owner:
        return f"{approver_id} owns the agent that asked; an agent's owner can never approve its requests"
    if request.requester_type != "agent" and approver_id == request.requester_id:
        return f"{approver_id} requested this action"
    wanted = set(requirement.groups) | {g for g, _ in requirement.at_least}
    if wanted and not (approver.groups & wanted):
        return f"{approver_id} is not in {' or '.join(sorted(wanted))}"
    return None


@dataclass(frozen=True, slots=True)
class Tally:
    approved_by: tuple[str, ...]
    denied_by: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...]  # (approver, why it does not count)
    satisfied: bool
    denied: bool
    missing: str  # what is still needed, readable ("" when satisfied)


def tally(
    request: Request, records: Sequence[ApprovalRecord], settings: ControlSettings, *, deny_threshold: int | None = None
) -> Tally:
    """Count the valid, eligible answers to ``request``."""
    requirement = Requirement.from_dict(request.body.get("requirement") or {})
    approved: list[str] = []
    denied: list[str] = []
    ignored: list[tuple[str, str]] = []
    for record in records:
        why = ineligible(record.approver, request, requirement, settings) or signature_problem(
            record, request, settings
        )
        if why is not None:
            ignored.append((record.approver, why))
        elif record.verdict == "approve":
            approved.append(record.approver)
        else:
            denied.append(record.approver)
    threshold = deny_threshold if deny_threshold is not None else settings.deny_threshold
    members = {a: settings.approvers[a].groups for a in approved}
    in_groups = [a for a in approved if not requirement.groups or members[a] & set(requirement.groups)]
    gaps: list[str] = []
    if len(in_groups) < requirement.k:
        who = " or ".join(requirement.groups) if requirement.groups else "any approver"
        gaps.append(f"{requirement.k - len(in_groups)} more from {who}")
    for group, n in requirement.at_least:
        have = sum(1 for a in approved if group in members[a])
        if have < n:
            gaps.append(f"{n - have} more from {group}")
    return Tally(
        tuple(approved),
        tuple(denied),
        tuple(ignored),
        satisfied=not gaps,
        denied=len(denied) >= threshold,
        missing=", ".join(gaps),
    )


def settle(
    request: Request, records: Sequence[ApprovalRecord], settings: ControlSettings, now: float
) -> tuple[str, int, float | None] | None:
    """The new status of ``request`` after ``records``: ``(status, grant uses, grant
    expiry)``, or None while it still waits. Denial wins."""
    t = tally(request, records, settings)
    if t.denied:
        return ("denied", 0, None)
    if t.satisfied:
        return ("approved", settings.grant_uses, grant_expiry(request, settings, now))
    return None


def grant_expiry(request: Request, settings: ControlSettings, now: float) -> float:
    """When a grant given at ``now`` expires: ``grant_ttl`` from now, or, for an action
    held for a change window, ``grant_ttl`` after the window next opens (approved on
    Friday evening, it runs on Monday morning)."""
    requirement = Requirement.from_dict(request.body.get("requirement") or {})
    start = now
    if requirement.window is not None:
        from datetime import UTC, datetime

        opens = settings.window(requirement.window).next_open(datetime.fromtimestamp(now, UTC))
        if opens is not None:
            start = max(now, opens.timestamp())
    return start + settings.grant_ttl


def possible_approvers(request: Request, settings: ControlSettings) -> list[str]:
    """The configured approvers who could answer ``request``."""
    requirement = Requirement.from_dict(request.body.get("requirement") or {})
    return [a for a in sorted(settings.approvers) if ineligible(a, request, requirement, settings) is None]


def unsatisfiable(request: Request, settings: ControlSettings) -> str | None:
    """Why no set of configured approvers could ever satisfy ``request`` (None if one could)."""
    requirement = Requirement.from_dict(request.body.get("requirement") or {})
    able = possible_approvers(request, settings)
    groups = {a: settings.approvers[a].groups for a in able}
    counted = [a for a in able if not requirement.groups or groups[a] & set(requirement.groups)]
    if len(counted) < requirement.k:
        who = " or ".join(requirement.groups) if requirement.groups else "approvers"
        return (
            f"only {len(counted)} configured approver(s) can approve it ({who}; the requester and the agent's "
            f"owner excluded) but it needs {requirement.k}: add them under approvers:"
        )
    for group, n in requirement.at_least:
        if sum(1 for a in able if group in groups[a]) < n:
            return f"fewer than {n} configured approver(s) in {group} can approve it: add them under approvers:"
    return None


def grant_summary(settings: ControlSettings) -> str:
    uses = "once" if settings.grant_uses == 1 else f"{settings.grant_uses} times"
    return f"the approved action may run {uses} within {format_duration(settings.grant_ttl)}"
