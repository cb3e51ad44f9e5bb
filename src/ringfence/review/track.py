"""The agent's track record and the change's provenance, as review evidence.

**Track record** (from the ledger the gate writes): the agent's gate decisions — how many,
how many denied, how many held and approved — and its reviewed changes (``review``
entries) and how many of those were later reverted. A change counts as reverted when a
commit in the reviewed history says ``This reverts commit <sha>`` and ``<sha>`` is a
change the ledger recorded a review of for this agent, or carries this agent's
agent-change attestation in ``refs/notes/ringfence``.

**Provenance**: the head commit's attestation, verified against the verify policy when
one is configured (the policy is read at the base revision when it lives in the
repository, so the change cannot relax it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.ledger.store import MerkleLedger
from ringfence.provenance import gitrepo
from ringfence.provenance.errors import GitError
from ringfence.review.diff import Diff, blob
from ringfence.review.findings import Finding, Severity

_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,64})")
MIN_DECISIONS = 10  # fewer, and the denial rate says nothing yet
CLEAN_REVIEWS = 3  # reviewed changes needed for a clean record to earn points


@dataclass
class Record:
    agent: str
    decisions: int = 0
    denials: int = 0
    held: int = 0
    approved: int = 0
    reviews: int = 0
    reverted: list[str] = field(default_factory=list)

    @property
    def denial_rate(self) -> float:
        return self.denials / self.decisions if self.decisions else 0.0

    @property
    def clean(self) -> bool:
        return (
            self.decisions >= MIN_DECISIONS
            and self.denial_rate <= 0.05
            and not self.reverted
            and self.reviews >= CLEAN_REVIEWS
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "decisions": self.decisions,
            "denials": self.denials,
            "denial_rate": round(self.denial_rate, 4),
            "held": self.held,
            "approved": self.approved,
            "reviews": self.reviews,
            "reverted": list(self.reverted),
        }


def reverted_commits(repo: Path, head: str, limit: int = 5000) -> set[str]:
    """Commit ids (full or abbreviated, as written) that commits up to ``head`` revert."""
    text = gitrepo.git(repo, "log", f"-{limit}", "--format=%B%x00", "--grep=This reverts commit", head).decode(
        "utf-8", "replace"
    )
    return {m.group(1) for m in _REVERTS.finditer(text)}


def _attested_by(repo: Path, commit: str, agent: str) -> bool:
    from ringfence.errors import ProvenanceError
    from ringfence.provenance import dsse

    try:
        lines = gitrepo.read_notes(repo, commit)
    except ProvenanceError:
        return False
    for line in lines:
        try:
            pred = dsse.parse(line).statement().get("predicate") or {}
        except ProvenanceError:
            continue
        if isinstance(pred, dict) and (pred.get("agent") or {}).get("id") == agent:
            return True
    return False


def record(ledger: MerkleLedger | None, agent: str, repo: Path, head: str) -> Record:
    rec = Record(agent)
    reviewed: set[str] = set()
    if ledger is not None:
        for e in ledger.search(principal_id=agent):
            kind = e.get("kind", "decision")
            if kind == "decision":
                rec.decisions += 1
                outcome = e.get("decision")
                rec.denials += outcome == "deny"
                rec.held += outcome == "require_approval"
                rec.approved += outcome == "allow" and e.get("control") == "grant"
            elif kind == "review" and isinstance(e.get("head"), str):
                reviewed.add(str(e["head"]))
    rec.reviews = len(reviewed)
    for sha in sorted(reverted_commits(repo, head)):
        try:
            full = gitrepo.resolve(repo, sha)
        except GitError:
            continue
        if full in reviewed or _attested_by(repo, full, agent):
            rec.reverted.append(full)
    return rec


def track_findings(rec: Record) -> list[Finding]:
    out: list[Finding] = []
    if rec.decisions < MIN_DECISIONS:
        out.append(
            Finding(
                "track.new",
                Severity.INFO,
                f"{rec.agent} has {rec.decisions} recorded gate decision(s): too few for a track record",
            )
        )
    elif rec.denial_rate > 0.20:
        out.append(
            Finding(
                "track.denials",
                Severity.MEDIUM,
                f"{rec.agent}'s actions were denied {rec.denials} of {rec.decisions} times ({rec.denial_rate:.0%})",
            )
        )
    elif rec.denial_rate > 0.05:
        out.append(
            Finding(
                "track.denials",
                Severity.LOW,
                f"{rec.agent}'s actions were denied {rec.denials} of {rec.decisions} times ({rec.denial_rate:.0%})",
            )
        )
    for sha in rec.reverted:
        out.append(
            Finding("track.reverted", Severity.MEDIUM, f"an earlier change by {rec.agent} was reverted", sha[:12])
        )
    return out


# --- provenance ------------------------------------------------------------------------------


@dataclass
class Provenance:
    status: str  # valid | invalid | missing | unchecked
    agent: str | None = None
    detail: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def provenance(diff: Diff, policy: Path | None, *, from_base: bool) -> tuple[Provenance, list[Finding]]:
    """The head commit's attestation: missing, present but unchecked, invalid or valid."""
    from ringfence.errors import ProvenanceError
    from ringfence.provenance import store, verify, verify_policy

    lines = gitrepo.read_notes(diff.repo, diff.head)
    envelopes, problems = store.parse_lines(lines, f"{gitrepo.NOTES_REF} on {diff.head[:12]}")
    agent = None
    for env in envelopes:
        try:
            pred = env.statement().get("predicate") or {}
        except ProvenanceError:
            continue
        if isinstance(pred, dict) and isinstance(pred.get("agent"), dict) and pred["agent"].get("id"):
            agent = str(pred["agent"]["id"])
    if not envelopes:
        message = "the head commit has no provenance attestation (refs/notes/ringfence): its origin is unproven"
        return Provenance("missing", None, problems), [Finding("provenance.missing", Severity.MEDIUM, message)]
    if policy is None:
        message = "the head commit carries an attestation, but no verify policy is configured to check it"
        return Provenance("unchecked", agent), [Finding("provenance.unchecked", Severity.MEDIUM, message)]
    try:
        if from_base:
            rel = str(policy.relative_to(diff.repo))
            text = blob(diff.repo, diff.base, rel)
            if text is None:
                raise ProvenanceError(f"{rel} does not exist at the base revision {diff.base[:12]}")
            vp = verify_policy.load(policy, text)
        else:
            vp = verify_policy.load(policy)
        target, _, _ = verify.commit_target(diff.repo, diff.head)
        result = verify.verify_envelopes(target, envelopes, vp, problems=problems)
    except ProvenanceError as exc:
        return Provenance("invalid", agent, [str(exc)]), [
            Finding("provenance.invalid", Severity.HIGH, f"the attestation could not be verified: {exc}")
        ]
    if result.ok:
        return Provenance("valid", agent), []
    failures = result.failures()
    shown = "; ".join(failures[:2]) + (f" (+{len(failures) - 2} more)" if len(failures) > 2 else "")
    return Provenance("invalid", agent, failures), [
        Finding("provenance.invalid", Severity.HIGH, f"the attestation does not verify: {shown}")
    ]
