"""Building the statements ``ringfence attest`` signs.

:func:`agent_change` assembles the agent-change Statement for a base → head change: the
head commit's tree (and any artifacts) as subjects, and the predicate from the flags, the
configuration and the ledger (the agent's identity as its adapters recorded it, the
session's decisions with proofs, the approvals they used). :func:`slsa_build` assembles
SLSA provenance v1 for artifacts built in CI.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.ledger.store import MerkleLedger
from ringfence.provenance import decisions, gitrepo, predicate, slsa, statement
from ringfence.provenance.decisions import is_decision
from ringfence.provenance.errors import StatementError
from ringfence.provenance.statement import Subject

AGENT_FIELDS = ("runtime", "model", "modelVersion", "provider", "owner", "session")


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass(frozen=True)
class Change:
    repo: Path
    base: str  # full commit ids
    head: str
    uri: str | None

    @classmethod
    def resolve(cls, repo: Path, base: str, head: str) -> Change:
        top = gitrepo.toplevel(repo)
        return cls(top, gitrepo.resolve(top, base), gitrepo.resolve(top, head), gitrepo.remote_url(top))

    def subject_name(self) -> str:
        return commit_subject_name(self.uri, self.head)


def commit_subject_name(uri: str | None, commit: str) -> str:
    """``git+<remote>@<commit>``, or ``git@<commit>`` for a repository without a remote."""
    if not uri:
        return f"git@{commit}"
    return f"{uri if uri.startswith('git+') else 'git+' + uri}@{commit}"


def _commit(repo: Path, commit: str) -> dict[str, Any]:
    return {"commit": commit, "tree": gitrepo.tree_digest(repo, commit).digest_set()}


def agent_change(
    change: Change,
    *,
    agent: Mapping[str, str | None],
    task_ref: str | None,
    spec: Path | None,
    artifacts: Sequence[Path],
    ledger: MerkleLedger,
    note: str,
    size: int,
    since: str | None,
) -> dict[str, Any]:
    """The agent-change Statement for ``change``. ``note`` is a checkpoint at ``size`` signed now."""
    head = _commit(change.repo, change.head)
    subjects = [Subject(change.subject_name(), {"sha256": head["tree"]["sha256"]})]
    subjects += [statement.artifact_subject(p) for p in artifacts]
    agent_id, session = agent.get("id"), agent.get("session")
    if not agent_id and not session:
        raise StatementError(
            "say which agent produced the change: --agent ID (or agent.id in the configuration, or "
            "RINGFENCE_AGENT_ID), and/or --session SESSION"
        )
    if since is None:
        since = _iso(gitrepo.commit_time(change.repo, change.base))
    selection = decisions.Selection(agent_id or None, session or None, since)
    section = decisions.collect(ledger, note, size, selection)
    recorded = [e["entry"] for e in section["entries"]]
    decided = [e for e in recorded if is_decision(e)]
    info: dict[str, str] = {}
    if decided:  # what the adapters recorded fills what the flags leave open
        principal = decided[-1].get("principal") or {}
        agent_id = agent_id or str(decided[-1].get("principal_id"))
        for key in ("runtime", "model", "owner", "session"):
            if principal.get(key):
                info[key] = str(principal[key])
    info.update({k: str(v) for k, v in agent.items() if v and k in AGENT_FIELDS})
    task: dict[str, Any] = {}
    if task_ref:
        task["ref"] = task_ref
    if spec is not None:
        task["specDigest"] = {"sha256": statement.file_digest(spec)}
    repository: dict[str, Any] = {"base": _commit(change.repo, change.base), "head": head}
    if change.uri:
        repository["uri"] = change.uri
    stamps = {"attested": _iso(time.time())}
    if decided:
        stamps["sessionStarted"] = str(decided[0].get("ts"))
        stamps["sessionEnded"] = str(decided[-1].get("ts"))
    body = {
        "agent": {"id": str(agent_id), **info},
        "task": task,
        "repository": repository,
        "decisions": section,
        "approvals": predicate.approvals_summary(recorded),
        "timestamps": stamps,
    }
    predicate.check(body)
    return statement.build(subjects, predicate.PREDICATE_TYPE, body)


def slsa_build(
    artifacts: Sequence[Path],
    env: Mapping[str, str],
    *,
    source_uri: str | None,
    commit: str | None,
    started: float | None,
) -> dict[str, Any]:
    if not artifacts:
        raise StatementError("SLSA provenance is about artifacts: name each with --artifact FILE")
    now = time.time()
    pred = slsa.predicate(env, source_uri=source_uri, commit=commit, started=_iso(started or now), finished=_iso(now))
    return statement.build([statement.artifact_subject(p) for p in artifacts], slsa.SLSA_TYPE, pred)
