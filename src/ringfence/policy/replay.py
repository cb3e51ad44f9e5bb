"""Replay: re-evaluate recorded actions under a candidate policy, before it is merged.

Every ledger entry holds the normalised action (secrets redacted, file contents reduced
to a digest), the principal, the decision and the digest of the policy that made it.
:func:`replay` evaluates each recorded action again with another gate and reports what
would change: newly denied, newly requiring approval, newly allowed. Actions whose file
contents were not recorded are analysed by path only, and the report says how many.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ringfence.model import Action, ActionKind, Outcome, Principal, PrincipalType

_SINCE = re.compile(r"^(\d+)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float | None = None) -> str:
    """``7d``, ``12h``, ``30m`` or an ISO date/time → the UTC timestamp string to compare with."""
    m = _SINCE.match(text.strip())
    if m:
        seconds = int(m.group(1)) * _UNIT[m.group(2)]
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now or time.time()) - seconds))
    if re.match(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z?)?$", text.strip()):
        value = text.strip()
        return value if "T" in value else value + "T00:00:00Z"
    raise ValueError(f"--since takes a duration like 7d, 12h or 30m, or a date like 2026-11-01 (got {text!r})")


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    ts: str
    what: str
    before: str
    after: str
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]
    reason: str


@dataclass(slots=True)
class Report:
    examined: int = 0
    unchanged: int = 0
    skipped: int = 0
    contents_missing: int = 0
    changes: list[Change] = field(default_factory=list)

    def by_direction(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {"newly denied": [], "newly require approval": [], "newly allowed": []}
        rank = {"allow": 0, "require_approval": 1, "deny": 2}
        for c in self.changes:
            if c.after == "deny":
                out["newly denied"].append(c)
            elif c.after == "require_approval" and rank[c.before] < 1:
                out["newly require approval"].append(c)
            else:
                out["newly allowed"].append(c)
        return out


def entry_action(entry: dict[str, Any]) -> tuple[Action, Principal, bool] | None:
    """The action and principal a ledger entry recorded; the flag says contents were lost."""
    raw = entry.get("action")
    if not isinstance(raw, dict):
        return None
    try:
        kind = ActionKind(str(raw.get("kind")))
    except ValueError:
        return None
    payload = dict(raw.get("payload") or {})
    missing = False
    for key in ("content", "new_string", "new_source"):
        if isinstance(payload.get(key), dict):  # recorded as a digest
            payload[key] = ""
            missing = True
    action = Action(
        kind,
        payload,
        cwd=str(raw.get("cwd") or "/"),
        tool=raw.get("tool"),
        repo=raw.get("repo"),
        environment=raw.get("environment"),
    )
    who = entry.get("principal") or {}
    try:
        ptype = PrincipalType(who.get("type", entry.get("principal_type", "agent")))
    except ValueError:
        ptype = PrincipalType.AGENT
    principal = Principal(
        ptype,
        str(who.get("id", entry.get("principal_id", "unknown"))),
        runtime=who.get("runtime"),
        session=who.get("session"),
    )
    return action, principal, missing


def replay(entries: Iterable[dict[str, Any]], gate: Any) -> Report:
    report = Report()
    for entry in entries:
        parsed = entry_action(entry)
        if parsed is None or entry.get("error"):
            report.skipped += 1
            continue
        action, principal, missing = parsed
        report.examined += 1
        report.contents_missing += int(missing)
        decision = gate.evaluate(action, principal)
        before = str(entry.get("decision"))
        if decision.outcome.value == before:
            report.unchanged += 1
            continue
        payload = action.payload
        what = str(payload.get("command") or payload.get("path") or f"{payload.get('server')}.{payload.get('tool')}")
        report.changes.append(
            Change(
                seq=int(entry.get("seq", 0)),
                ts=str(entry.get("ts", "")),
                what=" ".join(what.split())[:160],
                before=before,
                after=decision.outcome.value,
                rules_before=tuple(entry.get("rules") or ()),
                rules_after=decision.rule_ids,
                reason=decision.reason,
            )
        )
    return report


__all__ = ["Change", "Outcome", "Report", "entry_action", "parse_since", "replay"]
